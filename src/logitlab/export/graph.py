"""The exported computation as torch: preprocessing, the network, calibration and decisions in one module.

Each step's math is a function on tensors; a thin module holds its constants as buffers, so
``torch.onnx.export`` records them as initialisers. The arithmetic mirrors what
:meth:`~logitlab.Classifier.outputs` does, in the same precision: array and table preprocessing in
float64 (as :class:`~logitlab.data.ArrayPreprocessor` and :class:`~logitlab.data.TabularPreprocessor`
compute it), image normalisation in float32 (as ``transforms.Normalize``), the network in float32, and the
calibration map, the probabilities and the decisions in float64 (as
:meth:`~logitlab.evaluate.Calibration.calibrated_logits` and :func:`~logitlab.evaluate.predict_labels`).
The calibration and thresholds come from the classifier's
:class:`~logitlab.evaluate.decision.DecisionRule` (:meth:`Decisions.from_rule`), and the isotonic map is
the one function :func:`~logitlab.evaluate.interpolation.piecewise_linear` in its ONNX form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from ..data import ArrayPreprocessor, ImagePreprocessor, TabularPreprocessor
from ..errors import ConfigError
from ..evaluate.interpolation import piecewise_linear

if TYPE_CHECKING:
    from ..evaluate.decision import DecisionRule

__all__ = [
    "MISSING_CODE",
    "UNKNOWN_CODE",
    "Decisions",
    "ExportPipeline",
    "affine_impute",
    "build_preprocess",
    "one_hot",
    "smooth_clip",
]

MISSING_CODE = -1
"""Categorical input code of a missing value: the graph imputes the column's training mode."""

UNKNOWN_CODE = -2
"""Categorical input code of a category not seen in training (any code outside ``[0, K)`` but -1 reads so): all-zero one-hot."""

_F64 = torch.float64


def affine_impute(x: Tensor, fill: Tensor, mean: Tensor, scale: Tensor, multiplier: float = 1.0) -> Tensor:
    """``(where(isnan(x * m), fill, x * m) - mean) / scale``, the array/table preprocessing.

    Args:
        x (Tensor[N, F] or Tensor[N, C, H, W]): raw values, NaN for missing.
        fill (Tensor): the value of a missing entry, per feature/channel (broadcastable to ``x``).
        mean (Tensor): subtracted, per feature/channel.
        scale (Tensor): divided by, per feature/channel.
        multiplier (float): applied first. Default: ``1.0``.
    """
    x = x * multiplier
    return (torch.where(torch.isnan(x), fill, x) - mean) / scale


def smooth_clip(z: Tensor) -> Tensor:
    """``z / sqrt(1 + (z / 3)^2)`` without overflow (the operations of the tables' numpy ``smooth_clip``).

    Numerator and root are divided by ``s = max(1, |z| / 3)``: any finite ``z`` maps into [-3, 3] with
    its sign, and ONNX needs only Abs, Max, Div, Mul, Add and Sqrt.
    """
    t = z / 3.0
    s = torch.clamp(torch.abs(t), min=1.0)
    return (z / s) / torch.sqrt((1.0 / s) ** 2 + (t / s) ** 2)


def one_hot(codes: Tensor, column: Tensor, position: Tensor, fill_code: Tensor) -> Tensor:
    """One-hot blocks of categorical codes: output ``f`` is 1 where ``codes[:, column[f]] == position[f]``.

    Args:
        codes (Tensor[N, K] int64): per categorical column, the category's index; :data:`MISSING_CODE`
            for missing (replaced by ``fill_code``), anything else outside the column's range for unknown.
        column (Tensor[F] int64): the categorical column of each output feature.
        position (Tensor[F] int64): its category index in that column.
        fill_code (Tensor[K] int64): the code of each column's training mode (:data:`UNKNOWN_CODE` when
            the mode is not among the kept categories).

    Returns:
        Tensor[N, F]: float64 0/1.
    """
    codes = torch.where(codes == MISSING_CODE, fill_code, codes)
    return (codes.index_select(1, column) == position).to(_F64)


def _f64(values: Any) -> Tensor:
    return torch.tensor(values, dtype=_F64)


class ArrayPreprocess(nn.Module):
    """:class:`~logitlab.data.ArrayPreprocessor` in the graph: float64 ``[N, *shape]`` -> float32."""

    fill: Tensor
    mean: Tensor
    scale: Tensor

    def __init__(self, pre: ArrayPreprocessor) -> None:
        super().__init__()
        shape = (1, -1) + (1,) * (len(pre.shape) - 1)
        self.register_buffer("fill", _f64(pre.fill).reshape(shape))
        self.register_buffer("mean", _f64(pre.mean).reshape(shape))
        self.register_buffer("scale", _f64(pre.scale).reshape(shape))
        self.multiplier = pre.multiplier

    def forward(self, x: Tensor) -> Tensor:
        """Model input ``[N, *shape]`` float32."""
        return affine_impute(x, self.fill, self.mean, self.scale, self.multiplier).float()


class TablePreprocess(nn.Module):
    """:class:`~logitlab.data.TabularPreprocessor` in the graph: raw numeric columns and categorical codes."""

    fill: Tensor
    mean: Tensor
    scale: Tensor
    clip: Tensor
    column: Tensor
    position: Tensor
    fill_code: Tensor

    def __init__(self, pre: TabularPreprocessor) -> None:
        super().__init__()
        quantile = [c.name for c in pre.numeric if c.scaling == "quantile"]
        if quantile:
            raise ConfigError(
                f"Numeric column(s) {', '.join(map(repr, quantile[:5]))} use quantile scaling, which has no "
                "ONNX form here; robust and standard scaling export.",
                fix="train with numeric_scaling='robust' (the default) or 'standard' to export to ONNX.",
                code="onnx-unsupported",
            )
        self.n_numeric, self.n_categorical = len(pre.numeric), len(pre.categorical)
        self.register_buffer(
            "clip", torch.tensor([c.scaling == "robust" for c in pre.numeric], dtype=torch.bool)
        )
        self.register_buffer("fill", _f64([c.fill for c in pre.numeric]))
        self.register_buffer("mean", _f64([c.mean for c in pre.numeric]))
        self.register_buffer("scale", _f64([c.scale for c in pre.numeric]))
        column = [j for j, c in enumerate(pre.categorical) for _ in c.categories]
        position = [i for c in pre.categorical for i in range(len(c.categories))]
        fill_code = [
            c.categories.index(c.fill) if c.fill in c.categories else UNKNOWN_CODE for c in pre.categorical
        ]
        self.register_buffer("column", torch.tensor(column, dtype=torch.int64))
        self.register_buffer("position", torch.tensor(position, dtype=torch.int64))
        self.register_buffer("fill_code", torch.tensor(fill_code, dtype=torch.int64))

    def forward(self, *inputs: Tensor) -> Tensor:
        """``numeric`` float64 ``[N, n_numeric]`` and/or ``categorical`` int64 ``[N, n_categorical]`` -> float32."""
        parts = []
        if self.n_numeric:
            z = affine_impute(inputs[0], self.fill, self.mean, self.scale)
            parts.append(torch.where(self.clip, smooth_clip(z), z))  # robust: smooth clip
        if self.n_categorical:
            parts.append(one_hot(inputs[-1], self.column, self.position, self.fill_code))
        return torch.cat(parts, 1).float() if len(parts) > 1 else parts[0].float()


class ImageNormalize(nn.Module):
    """:class:`~logitlab.data.ImagePreprocessor`'s normalisation: float32 ``[N, C, H, W]`` in [0, 1]."""

    mean: Tensor
    std: Tensor

    def __init__(self, pre: ImagePreprocessor) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(pre.mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(pre.std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        """``(x - mean) / std`` per channel."""
        return (x - self.mean) / self.std


def build_preprocess(pre: Any) -> nn.Module:
    """The graph module of a fitted logitlab preprocessor.

    Raises:
        ConfigError: ``onnx-unsupported`` for a preprocessor with no ONNX form.
    """
    table: dict[type, type[nn.Module]] = {
        ArrayPreprocessor: ArrayPreprocess,
        TabularPreprocessor: TablePreprocess,
        ImagePreprocessor: ImageNormalize,
    }
    for kind, module in table.items():
        if isinstance(pre, kind):
            return module(pre)
    if getattr(pre, "kind", None) == "hf_text":
        raise ConfigError(
            f"The text column {pre.column!r} is tokenised by a Hugging Face tokenizer and read by a pretrained "
            "transformer (model='hf:...'); logitlab does not export that pipeline to ONNX.",
            fix="serve the saved run with logitlab (Classifier.load(...).predict on the texts, or "
            "`logitlab predict`), or export the network with Hugging Face's own tools (optimum).",
            code="onnx-unsupported",
        )
    if getattr(pre, "kind", None) == "text_table":
        raise ConfigError(
            f"The text columns {', '.join(map(repr, pre.text_columns))} are tokenised by scikit-learn's "
            "TfidfVectorizer (word and character n-grams), which has no ONNX form.",
            fix="serve the saved run with logitlab (Classifier.load(...).predict on a DataFrame, or "
            "`logitlab predict`); model.json holds the vocabulary and idf weights as data.",
            code="onnx-unsupported",
        )
    raise ConfigError(
        f"The preprocessor {type(pre).__name__} has no ONNX form; the exportable ones are "
        f"{', '.join(k.__name__ for k in table)}.",
        fix="train with logitlab's own data loading (arrays, DataFrames, tables, image folders).",
        code="onnx-unsupported",
    )


class Decisions(nn.Module):
    """Calibration map, probabilities and decisions from float32 logits ``[N, n_outputs]``.

    Args:
        task (str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        params (list[dict]): the calibration's parameter dicts (``Calibration.params``).
        thresholds (list[float]): on the calibrated scale (``Thresholds.values``).
        order (list[int], optional): binary and multiclass: per class of ``classes_``, its position in
            the logit order; the probabilities and labels follow ``classes_``. Default: the logit order.
    """

    thresholds: Tensor
    order: Tensor
    position: Tensor
    bias: Tensor
    a: Tensor
    b: Tensor

    def __init__(
        self, task: str, params: list[dict[str, Any]], thresholds: list[float], order: list[int] | None = None
    ) -> None:
        super().__init__()
        self.task = task
        self.register_buffer("thresholds", _f64(thresholds))
        self.reorder = order is not None and list(order) != sorted(order)
        if self.reorder:
            assert order is not None
            self.register_buffer("order", torch.tensor(order, dtype=torch.int64))
            self.register_buffer("position", torch.argsort(torch.tensor(order, dtype=torch.int64)))
        if task == "multiclass":
            self.register_buffer("bias", _f64(params[0]["bias"]))
            self.temperature = float(params[0]["temperature"])
            return
        self.register_buffer("a", _f64([p.get("a", 1.0) for p in params]))
        self.register_buffer("b", _f64([p.get("b", 0.0) for p in params]))
        self.isotonic = [j for j, p in enumerate(params) if p["kind"] == "isotonic"]
        for j in self.isotonic:
            self.register_buffer(f"x{j}", _f64(params[j]["x"]))
            self.register_buffer(f"u{j}", _f64(params[j]["u"]))

    @classmethod
    def from_rule(cls, rule: DecisionRule, n_outputs: int) -> Decisions:
        """The graph of a :class:`~logitlab.evaluate.decision.DecisionRule` (identity map, 0.5 / argmax where it has none)."""
        params = rule.resolved_calibration(n_outputs).params
        order = None if rule.task == "multilabel" or rule.order is None else list(rule.order)
        return cls(rule.task, params, rule.resolved_thresholds(n_outputs).values, order)

    def calibrated(self, z: Tensor) -> Tensor:
        """Calibrated float64 logits of float64 logits ``z``."""
        if self.task == "multiclass":
            return (z + self.bias) / self.temperature
        u = self.a * z + self.b  # identity: 1 * z + 0 == z exactly
        if not self.isotonic:
            return u
        columns = [u[:, j] for j in range(u.shape[1])]
        for j in self.isotonic:
            columns[j] = piecewise_linear(z[:, j], getattr(self, f"x{j}"), getattr(self, f"u{j}"), count=True)
        return torch.stack(columns, 1)

    def forward(self, logits: Tensor) -> tuple[Tensor, Tensor]:
        """``probabilities`` float64 and ``labels`` int64, shaped as ``predict_proba`` / ``predict`` return them."""
        u = self.calibrated(logits.to(_F64))
        if self.task == "multiclass":
            return self._in_class_order(torch.softmax(u, dim=1), torch.argmax(u + self.thresholds, dim=1))
        p = torch.sigmoid(u)
        labels = (p >= self.thresholds).to(torch.int64)
        if self.task == "binary":
            return self._in_class_order(torch.cat([1.0 - p, p], 1), labels[:, 0])
        return p, labels

    def _in_class_order(self, proba: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """Probability columns and label indices from the logit order to the order of ``classes_``."""
        if not self.reorder:
            return proba, labels
        return torch.index_select(proba, 1, self.order), torch.index_select(self.position, 0, labels)


class ExportPipeline(nn.Module):
    """Raw inputs -> ``(logits, probabilities, labels)``: preprocessing, the network and :class:`Decisions`."""

    def __init__(
        self,
        preprocess: nn.Module,
        network: nn.Module,
        decisions: Decisions,
        n_outputs: int,
        casts: tuple[bool, ...] = (),
    ) -> None:
        super().__init__()
        self.casts = (
            casts  # per input: a float32 input cast to float64 first (export's input_dtype="float32")
        )
        self.preprocess = preprocess
        self.network = network
        self.decisions = decisions
        self.n_outputs = n_outputs

    def forward(self, *inputs: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Float32 logits ``[N, n_outputs]``, float64 probabilities and int64 labels."""
        logits = self.network(self.preprocess(*self.cast(*inputs))).float().reshape(-1, self.n_outputs)
        proba, labels = self.decisions(logits)
        return logits, proba, labels

    def cast(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        """The inputs as the preprocessing takes them: the float32 ones of a float32 contract in float64."""
        return tuple(x.to(_F64) if i < len(self.casts) and self.casts[i] else x for i, x in enumerate(inputs))
