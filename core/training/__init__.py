"""Training a network on a background thread: the prepared data, the job and its registry, the
live monitor and callback, the networks built ahead of Train, and the replay's frames and
their recorder. Imports core.inside, core.nets, core.mnist and core.runtime.
"""
