"""The durable job system: one queue, one state machine, for every kind of background work."""
