"""Taking a set-up away: the runnable Keras script of a network or of the 2-D playground, and
share links that restore it. Imports any package below it, never core.charts.
"""
