"""Serving Slack: the HTTP server, the intake that stores a request before its answer, the workers that run
stored requests, the app-wide error replies, text mending, and the start-up check of the tokens."""
