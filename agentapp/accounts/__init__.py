"""A person's own data: how much is stored, all of it as one JSON document, and its erasure."""
