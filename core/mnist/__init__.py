"""The digits: MNIST from wherever it can be had, and a drawing on the canvas made into an
MNIST-like digit and read by a model. Imports only core.runtime.
"""
