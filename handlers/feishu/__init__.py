"""The Feishu (Lark) adapter."""
