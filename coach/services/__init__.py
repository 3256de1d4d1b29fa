"""Use cases orchestrating domain and store (start, submit, retry, report). No web framework."""
