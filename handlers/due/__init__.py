"""Due work from the outbox, as Slack shows it: one renderer module per feature, and `outbound`, which sends it."""
