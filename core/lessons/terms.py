"""The words a lesson file may use about runs: their traits, figures and notes, with what each
means. Plain tables with no imports, so that reading the lessons folder stays quick;
core/lessons/evidence.py computes them from a run.
"""

from __future__ import annotations

# Trait -> (its kind, what it is in words). A lesson's `runs` table matches on them: `name =
# value`, or `name_at_least` / `name_at_most` for numbers.
TRAITS: dict[str, tuple[type, str]] = {
    "playground": (str, '"mnist" for a run, "xor" for the 2-D playground\'s network'),
    "dataset": (
        str,
        '"mnist", or the 2-D playground\'s dataset ("points" for the four XOR points)',
    ),
    "hidden_layers": (int, "hidden Dense layers"),
    "units": (int, "units of the first hidden layer (0 without one)"),
    "convolutional": (bool, "whether it has convolutions"),
    "dropout": (float, "its largest dropout rate (0 without dropout)"),
    "early_stopping": (bool, "whether early stopping was on"),
    "optimizer": (str, "the optimizer's name"),
    "learning_rate": (float, "the learning rate"),
    "parameters": (int, "weights and biases in all"),
    "epochs": (int, "the epochs asked for"),
    "seed": (int, "the random seed"),
    "experiment": (bool, "whether an experiment queued it"),
}

# Figure -> (what it is in words, shown as a percentage). None when the run has no such figure.
FIGURES: dict[str, tuple[str, bool]] = {
    "test_accuracy": ("test accuracy", True),
    "best_val_accuracy": ("best validation accuracy", True),
    "first_val_accuracy": ("validation accuracy after its first epoch", True),
    "last_val_accuracy": ("validation accuracy at its last epoch", True),
    "train_val_gap": ("gap between training and validation accuracy at its last epoch", True),
    "val_loss_rise": ("rise of the validation loss after its best epoch", False),
    "epochs_trained": ("epochs trained", False),
    "accuracy": ("accuracy on its training points", True),
}

NOTES = ("most_confused",)
