"""Every run, kept: the SQLite database, the records it hands out, the store with its model
files, the recorder callback, the replay frames kept, what was changed while a run trained,
starting a recorded run, and runs' lineage (continue, rewind). Imports core.training and below.
"""
