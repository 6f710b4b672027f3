"""The embedded PostgreSQL server (the default when DATABASE_URL is unset) and its Django engine.

`server` starts and shares the server (no Django); `base` is the ENGINE
("agentapp.platform.embedded_pg"): Django's PostgreSQL backend, pointed at that server on first connection.
"""
