"""The platform under the app: the database engines (`pg`, `embedded_pg`) and their plumbing
(connections, SQL helpers, text PostgreSQL can store), and the HTTP plumbing in front of the views
(the body guard, middleware, static files, the person's local time). Nothing here knows the agent."""
