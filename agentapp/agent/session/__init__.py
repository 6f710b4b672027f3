"""A conversation thread: its history, the tools over it, its summary, its title, its id."""
