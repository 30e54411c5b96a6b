"""The process's machinery: importing TensorFlow safely, seeding, background jobs and threads,
freeing traced graphs and TensorFlow's kernel cache, telling which process owns a run, and a
lock round AST conversions for threads that parse side by side.
Imports nothing else of core.
"""
