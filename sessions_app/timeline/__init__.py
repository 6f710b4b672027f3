"""The run timeline: the runs list, one run on a time axis, its contexts, a session's runs."""
