"""The causes of shape, label and weight mistakes, each worded once.

The doctor's findings, the losses' boundary errors and ``prepare_targets`` name a mistake with the same
code, message and fix. Each function here reads only shapes (free: no value leaves the device) or
numbers the caller already holds, and returns a :class:`Cause`, or None when nothing is wrong. The
checks are ordered so that the most specific cause wins, and every fix applies to the shapes at hand.

Examples:
    >>> sigmoid_shape_cause((32, 1), (32,)).code
    'broadcast-trap'
    >>> softmax_shape_cause((8, 4), (32,), kind="int").code
    'flattened-targets'
    >>> print(label_range_cause(-1, 2, 3).fix)
    if -1 marks unlabelled rows, pass ignore_index=-1 (nn.CrossEntropyLoss(ignore_index=-1)) or drop those rows; otherwise remap the labels to 0..C-1 (sklearn.preprocessing.LabelEncoder).
"""

from __future__ import annotations

from .base import Cause, TargetKind
from .shapes import batchless_one_hot_cause, label_index_lists_cause, sigmoid_shape_cause, softmax_shape_cause
from .values import class_weight_cause, element_weight_cause, label_range_cause, pos_weight_cause

__all__ = [
    "Cause",
    "TargetKind",
    "batchless_one_hot_cause",
    "class_weight_cause",
    "element_weight_cause",
    "label_index_lists_cause",
    "label_range_cause",
    "pos_weight_cause",
    "sigmoid_shape_cause",
    "softmax_shape_cause",
]
