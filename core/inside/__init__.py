"""Looking into a trained network: test results and the confusion matrix, activations,
saliency, what a unit responds to, training dynamics and the network diagram's layout.
Imports core.nets, core.mnist and core.runtime.
"""
