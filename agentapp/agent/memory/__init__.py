"""What the agent remembers about a person: the manager, its tools, optimisation and the ranking."""
