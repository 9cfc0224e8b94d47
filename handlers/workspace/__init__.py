"""The workspace as Slack tells it: who is who (names, timezones, languages) and who may see which channel."""
