"""My digits: the learner's own kept drawings (the 28x28 image the network saw, the canvas,
the label, the time) in a SQLite file beside the run store, and their files (an IDX pair or a
Keras-style .npz) to export and import. Imports nothing else of core.
"""
