"""ENGINE "agentapp.platform.pg": Django's PostgreSQL backend with a pool that reconnects as soon as the
server is back (every PostgreSQL connection of the project, embedded or not, goes through it)."""
