"""The chat: its pages, the SSE stream of a run, and how replies are rendered."""
