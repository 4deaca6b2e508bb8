"""Bill runs: the run resource, its control (start, cancel, fail) and the coordinator."""
