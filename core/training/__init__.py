"""Training a network on a background thread: the prepared data, the job and its registry, the
live monitor and callback, steering a run while it trains, the networks built ahead of Train,
the replay's frames and their recorder, and a run's starting state other than its seed's (a
stored run's, or pinned weights). Imports core.inside, core.nets, core.mnist and core.runtime.
"""
