"""Agno's AgentOS routes (under /os/), so Agno's own clients and agent-ui work against this app."""
