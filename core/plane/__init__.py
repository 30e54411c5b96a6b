"""The 2-D playground (XOR and other problems, TensorFlow Playground style): its set-up, data,
features, network, fast trainer and background job. Imports only core.runtime.
"""
