"""No models of its own: every read and write goes through memory_app (and apikeys for the key)."""
