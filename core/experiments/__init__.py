"""Experiments over many runs: the settings they vary, sweeps and Optuna studies, their store,
the runner and its backends (here or on Ray), and scikit-learn baselines. Imports core.runs
and below.
"""
