"""Training a network on a background thread: the prepared data, the job and its registry, the
live monitor and callback, steering a run while it trains, and the networks built ahead of
Train. Imports core.inside,
core.nets, core.mnist and core.runtime.
"""
