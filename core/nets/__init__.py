"""The network a person builds: the layers a spec may list, the plain `ModelSpec` and the Keras
model made from it, the presets, and reading or adapting Keras model files. Imports only
core.runtime.
"""
