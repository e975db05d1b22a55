"""logitlab: train binary, multi-label and multi-class classifiers in PyTorch the right way."""

__version__ = "0.1.0"
