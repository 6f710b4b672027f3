"""No models of its own: every read and write goes through sessions_app and memory_app."""
