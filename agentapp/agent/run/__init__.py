"""One run of the Agent: its settings, the turn, context assembly, the driver, cancellation, output."""
