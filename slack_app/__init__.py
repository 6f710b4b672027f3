"""Slack: the agent in Slack threads, and the linking of a Slack person to a web account."""
