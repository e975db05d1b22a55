"""Pretrained Hugging Face sequence classifiers from local files: ``model="hf:PATH"``.

:func:`build_hf` builds ``transformers.AutoModelForSequenceClassification`` from the folder ``PATH``
(``local_files_only=True``, ``trust_remote_code=False``: nothing is downloaded, no code from the folder
runs), with ``num_labels`` the task's logits and ``problem_type`` the task's
(``"multi_label_classification"`` for binary and multi-label, ``"single_label_classification"`` for
multi-class: one sigmoid per logit or one softmax). The network's own loss is never used: logitlab
trains the logits with its own loss and weights. :class:`HFClassifier` takes the token ids that
:class:`~logitlab.data.hf_text.HFTextPreprocessor` makes (``-1`` where a row has no more tokens),
trims each batch to its longest row and builds the attention mask. :func:`hf_from_spec` rebuilds the
architecture from the config saved in ``model.json`` (a known ``model_type`` only, never remote code).
``transformers`` is imported only here, when an ``hf:`` model is used (extra ``hf``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ConfigError, ModelFileError
from ..extras import require_extra
from ..options import HF_OPTIONS, HF_PREFIX

__all__ = [
    "PROBLEM_TYPES",
    "HFClassifier",
    "build_hf",
    "hf_config",
    "hf_from_spec",
    "hf_max_length",
    "hf_options",
    "hf_path",
    "is_hf",
]

PROBLEM_TYPES: Mapping[str, str] = {
    "binary": "multi_label_classification",
    "multilabel": "multi_label_classification",
    "multiclass": "single_label_classification",
}
"""The ``problem_type`` each task gives the Hugging Face config (one sigmoid per logit, or a softmax)."""


def is_hf(model: Any) -> bool:
    """``model`` names a local Hugging Face model: ``"hf:PATH"``.

    Examples:
        >>> is_hf("hf:models/bert-tiny"), is_hf("mlp"), is_hf(None)
        (True, False, False)
    """
    return isinstance(model, str) and model[: len(HF_PREFIX)].lower() == HF_PREFIX


def hf_path(model: str) -> Path:
    """The folder of ``model="hf:PATH"``, which must exist and hold a Hugging Face ``config.json``.

    Raises:
        ConfigError: no path (``hf-path-missing``), a path that is not there, such as a Hub id
            (``hf-path-not-found``), or a folder without ``config.json`` (``hf-not-a-model-dir``).
    """
    raw = model[len(HF_PREFIX) :].strip()
    if not raw:
        raise ConfigError(
            f"Got model={model!r} without a folder after 'hf:'.",
            fix="pass model='hf:PATH' with the folder of a saved Hugging Face model (config.json, weights, tokenizer).",
            code="hf-path-missing",
            param="model",
        )
    path = Path(raw).expanduser()
    if not path.exists():
        hub = re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+|[A-Za-z0-9][\w.-]*", raw) is not None
        name = raw.rstrip("/").split("/")[-1]
        said = " (it looks like a Hugging Face Hub id: logitlab never downloads)" if hub else ""
        raise ConfigError(
            f"Got model={model!r}, but {raw!r} is not a folder on this machine{said}.",
            fix=f"download the model once (e.g. `hf download {raw} --local-dir models/{name}`) and pass "
            f"model='hf:models/{name}', or give the path of a folder with config.json, the weights and the tokenizer.",
            code="hf-path-not-found",
            param="model",
        )
    if not path.is_dir() or not (path / "config.json").is_file():
        raise ConfigError(
            f"Got model={model!r}, but {str(path)!r} is not a Hugging Face model folder (no config.json in it).",
            fix="pass the folder that save_pretrained wrote (config.json, model.safetensors, tokenizer.json).",
            code="hf-not-a-model-dir",
            param="model",
        )
    return path


def hf_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``model_options`` of an ``hf:`` model with the defaults of :data:`~logitlab.options.HF_OPTIONS` filled in.

    Raises:
        ConfigError: an unknown option, or ``max_length`` not an int in [2, 100000].

    Examples:
        >>> hf_options({"max_length": 64})
        {'max_length': 64}
    """
    given = dict(options or {})
    unknown = sorted(k for k in given if k not in HF_OPTIONS)
    if unknown:
        raise ConfigError(
            f"Unknown option(s) {', '.join(unknown)} for an hf: model; its options are: {', '.join(HF_OPTIONS)}.",
            fix="use model_options={'max_length': 128} (or leave it out).",
            code="unknown-model-option",
            param="model_options",
        )
    out = {**HF_OPTIONS, **given}
    n = out["max_length"]
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 100_000:
        raise ConfigError(
            f"Expected model option `max_length` to be an int in [2, 100000]; got {n!r}.",
            fix="use max_length=128 (tokens per text, special tokens included).",
            code="bad-param",
            param="model_options",
        )
    return out


def hf_max_length(model: str, options: Mapping[str, Any] | None) -> int:
    """The ``max_length`` of ``model="hf:PATH"``: as given, else the default capped at the model's positions.

    The positions are ``max_position_embeddings`` in the folder's ``config.json`` (read as JSON), less 2:
    RoBERTa-like models start their positions after the pad id. A given ``max_length`` the network cannot
    read is refused by :func:`build_hf`.
    """
    opts = hf_options(options)
    if "max_length" in (options or {}):
        return int(opts["max_length"])
    try:
        positions = json.loads((hf_path(model) / "config.json").read_text(encoding="utf-8")).get(
            "max_position_embeddings"
        )
    except (OSError, ValueError, AttributeError):
        positions = None
    ok = isinstance(positions, int) and not isinstance(positions, bool) and positions >= 4
    return min(int(opts["max_length"]), int(positions) - 2) if ok else int(opts["max_length"])


class HFClassifier(nn.Module):
    """A Hugging Face sequence classifier on token ids: ``[N, L]`` ids (``-1``: no token) -> logits ``[N, n_outputs]``.

    Each batch is cut to its longest row (padding per batch); the positions holding ``-1`` get the pad
    token and attention mask 0. Ids may come as floats (the trainer's batches are float32; ids below
    2**24 are exact).

    Args:
        net (nn.Module): an ``AutoModelForSequenceClassification`` model.
        pad_token_id (int): the id put where a row has no token.
    """

    def __init__(self, net: nn.Module, pad_token_id: int) -> None:
        super().__init__()
        self.net = net
        self.pad_token_id = int(pad_token_id)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[N, num_labels]`` of token ids ``x`` ``[N, L]``."""
        ids = x.round().long() if x.is_floating_point() else x.long()
        mask = ids >= 0
        width = max(1, int(mask.sum(1).max())) if len(ids) else 1
        ids, mask = ids[:, :width], mask[:, :width]
        out = self.net(input_ids=ids.masked_fill(~mask, self.pad_token_id), attention_mask=mask.long())
        logits: Tensor = out.logits
        return logits


@contextlib.contextmanager
def _quiet(transformers: Any) -> Iterator[None]:
    """Keep transformers' load report and progress bars stay off the user's terminal (the notes say what matters)."""
    log = transformers.utils.logging
    level, bars = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()
    log.disable_progress_bar()
    try:
        yield
    finally:
        log.set_verbosity(level)
        if bars:
            log.enable_progress_bar()


def build_hf(
    model: str, *, n_outputs: int, task: str, options: Mapping[str, Any] | None, pad_token_id: int | None
) -> tuple[HFClassifier, list[str]]:
    """The pretrained network of ``model="hf:PATH"`` with a head of ``n_outputs`` logits, and notes on its weights.

    Args:
        model (str): ``"hf:PATH"``.
        n_outputs (int): the task's logits (``num_labels``).
        task (str): ``"binary"``, ``"multilabel"`` or ``"multiclass"`` (gives ``problem_type``).
        options (dict, optional): ``model_options`` (``max_length``).
        pad_token_id (int, optional): the tokenizer's pad token (used where the config has none).

    Returns:
        (HFClassifier, list[str]): the network (its ``model_spec`` set) and what was newly initialised.

    Raises:
        ConfigError: a bad path or option, ``max_length`` above the model's positions, or a folder
            transformers cannot build a sequence classifier from (``hf-load-failed``).
    """
    path, opts = hf_path(model), {**hf_options(options), "max_length": hf_max_length(model, options)}
    transformers = require_extra("hf", "transformers")
    with _quiet(transformers):
        try:
            net, info = transformers.AutoModelForSequenceClassification.from_pretrained(
                str(path), num_labels=int(n_outputs), problem_type=PROBLEM_TYPES[task], local_files_only=True,
                trust_remote_code=False, ignore_mismatched_sizes=True, output_loading_info=True, dtype=torch.float32,
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise ConfigError(
                f"Could not build a sequence classifier from {str(path)!r}: "
                f"{(str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]}",
                fix="pass a folder written by save_pretrained of a model type that transformers knows "
                "(remote code is never run).",
                code="hf-load-failed",
                param="model",
            ) from None
    positions = getattr(net.config, "max_position_embeddings", None)
    if isinstance(positions, int) and opts["max_length"] > positions:
        raise ConfigError(
            f"Got max_length={opts['max_length']}, but the model at {str(path)!r} has {positions} positions.",
            fix=f"pass the model option max_length={positions} (or fewer), or leave it out (capped at the positions).",
            code="bad-param",
            param="model_options",
        )
    _check_positions(net, opts["max_length"], path)
    if net.config.pad_token_id is None and pad_token_id is not None:
        net.config.pad_token_id = int(pad_token_id)  # models that pick the last token need it
    pad = net.config.pad_token_id if net.config.pad_token_id is not None else 0
    wrapped = HFClassifier(net, int(pad))
    wrapped.model_spec = {  # type: ignore[assignment]
        "name": "hf",
        "input_shape": [opts["max_length"]],
        "n_outputs": int(n_outputs),
        "max_length": opts["max_length"],
        "pad_token_id": int(pad),
        "config": hf_config(net.config),
    }
    new = sorted(
        {
            *info.get("missing_keys", ()),
            *(k[0] if isinstance(k, tuple) else k for k in info.get("mismatched_keys", ())),
        }
    )
    notes = [
        f"hf: {net.config.model_type} from {path}; newly initialised (not in the folder): {', '.join(new) or 'nothing'}"
    ]
    return wrapped, notes


def _check_positions(net: nn.Module, max_length: int, path: Path) -> None:
    """One row of ``max_length`` tokens through the network, so a text that long never fails mid-training.

    Some models use fewer positions than ``max_position_embeddings`` (RoBERTa's start after the pad id).

    Raises:
        ConfigError: the network cannot read ``max_length`` tokens.
    """
    pad = getattr(net.config, "pad_token_id", None)
    token = 1 if pad == 0 else 0
    try:
        with torch.no_grad():
            net(
                input_ids=torch.full((1, max_length), token),
                attention_mask=torch.ones(1, max_length, dtype=torch.long),
            )
    except (IndexError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"The model at {str(path)!r} cannot read max_length={max_length} tokens "
            f"({(str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]}).",
            fix="pass a smaller model option max_length (its positions, minus the special offset some models use).",
            code="bad-param",
            param="model_options",
        ) from None


def hf_config(config: Any) -> dict[str, Any]:
    """A transformers config as the JSON object ``model.json`` keeps (``_name_or_path`` left out: no local path)."""
    out: dict[str, Any] = json.loads(config.to_json_string(use_diff=False))
    out.pop("_name_or_path", None)
    return out


def hf_from_spec(spec: Mapping[str, Any], *, meta_device: bool = False) -> HFClassifier:
    """The network a saved ``hf`` spec describes, randomly initialised (the saved weights replace them).

    ``meta_device=True`` builds it without memory (its tensors' shapes only), to compare with the stored
    weights before anything is allocated.

    Raises:
        ModelFileError: a config that is not an object, names remote code (``auto_map``) or an unknown
            ``model_type``.
    """
    transformers = require_extra("hf", "transformers")
    raw = spec.get("config")
    if not isinstance(raw, dict) or not isinstance(raw.get("model_type"), str):
        raise ModelFileError(
            "model.json field `model_spec.config` is not a transformers config with a model_type.",
            fix="save the model again with Classifier.save(dir); do not edit model.json by hand.",
            code="model-json-inconsistent",
        )
    if "auto_map" in raw:
        raise ModelFileError(
            "model.json field `model_spec.config` names remote code (auto_map); a saved model never runs code.",
            fix="save the model again with Classifier.save(dir); do not edit model.json by hand.",
            code="model-json-inconsistent",
        )
    cfg = {k: v for k, v in raw.items() if k != "model_type"}
    with _quiet(transformers):
        config = transformers.AutoConfig.for_model(raw["model_type"], **cfg)
        with torch.device("meta") if meta_device else contextlib.nullcontext():
            net = transformers.AutoModelForSequenceClassification.from_config(
                config, trust_remote_code=False, dtype=torch.float32
            )
    wrapped = HFClassifier(net, int(spec["pad_token_id"]))
    wrapped.model_spec = dict(spec)  # type: ignore[assignment]
    return wrapped
