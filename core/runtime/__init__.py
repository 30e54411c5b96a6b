"""The process's machinery: importing TensorFlow safely, seeding, background jobs and threads,
freeing traced graphs and TensorFlow's kernel cache, and telling which process owns a run.
Imports nothing else of core.
"""
