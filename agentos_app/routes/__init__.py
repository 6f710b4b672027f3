"""The AgentOS routes, one Router per part, mounted on `os_api` (agentos_app.api)."""
