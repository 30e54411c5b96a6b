"""Every run, kept: the SQLite database, the records it hands out, the store with its model
files, the recorder callback, what was changed while a run trained, and starting a recorded run. Imports core.training and below.
"""
