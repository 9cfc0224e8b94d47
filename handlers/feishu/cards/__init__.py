"""Pure builders of the Feishu interactive cards (JSON 2.0) coordbot shows."""
