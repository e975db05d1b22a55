"""Which rows of a file are a run's held-out test rows: by the file's fingerprint, else by the rows' values.

``train`` splits a table by position (a seeded, stratified split), so "the test split" of another file
means nothing by position: the same file shuffled, or with rows removed, would put training rows in
it. ``train`` therefore stores, in ``config.json``, the SHA-256 fingerprint of its data and a key of each
test row (a 64-bit hash of the row's preprocessed features and its encoded label, which no reordering
changes). ``evaluate --split test`` then scores:

* the training file itself (same fingerprint; a built-in set or a folder by its name): the very rows
  ``train`` held out, by position;
* any other file: the rows whose key is a held-out test key (a shuffled file, or one with rows
  removed, gives the test rows it still holds); rows the run trained or validated on, and rows it
  never saw, are not its test split and are left out with a note (``--split all`` scores every row);
* none of those rows, or a run without a test split (``test_size=0``), or data whose rows have no
  key (images): refused with a ``DataError`` whose fix is ``--split all``.

Examples:
    >>> import torch
    >>> keys = row_keys(torch.tensor([[0.5, 1.0], [2.0, 3.0]]), torch.tensor([[1.0], [0.0]]))
    >>> keys.dtype, len(set(keys.tolist()))
    (dtype('uint64'), 2)
    >>> bool((row_keys(torch.tensor([[2.0, 3.0]]), torch.tensor([[0.0]])) == keys[1]).all())
    True
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, ModelFileError
from ..fingerprints import array_fingerprint, fingerprint
from ..options import TEST_SIZE

if TYPE_CHECKING:
    from ..data import DatasetBundle, Inputs
    from ..estimator import Classifier

__all__ = [
    "array_fingerprint",
    "check_run_numbers",
    "fingerprint",
    "held_out_rows",
    "row_keys",
    "split_record",
]

_SHARES = (("load", "val_size"), ("load", "test_size"), ("split", "test_size"))


def check_run_numbers(config: Mapping[str, Any], source: str = "config.json") -> dict[str, Any]:
    """``config`` whose split numbers are usable: shares in [0, 1), the seed and row count whole numbers.

    ``load.val_size``, ``load.test_size`` and ``split.test_size`` must be finite numbers in [0, 1);
    ``load.seed`` an integer in [0, :data:`~logitlab.options.MAX_SEED`]; ``split.test_rows`` a count.
    A missing field keeps its default.

    Raises:
        ModelFileError: ``run-config-invalid``, naming ``source`` and the field (a string, a list, NaN, a
            5,000-digit integer or a share out of range: an edited file, never a traceback).

    Examples:
        >>> check_run_numbers({"load": {"test_size": 0.2, "seed": 3}})["load"]["seed"]
        3
    """
    from ..options import MAX_SEED

    for part, key in _SHARES:
        value = (config.get(part) or {}).get(key)
        if value is not None and not (_is_number(value) and 0.0 <= float(value) < 1.0):
            _bad(source, f"{part}.{key}", value, "a share in [0, 1) such as 0.15")
    for part, key, top in (("load", "seed", MAX_SEED), ("split", "test_rows", 2**63 - 1)):
        value = (config.get(part) or {}).get(key)
        if value is not None and not (_is_number(value, whole=True) and 0 <= value <= top):
            _bad(source, f"{part}.{key}", value, f"a whole number in [0, {top}]")
    return dict(config)


def _is_number(value: Any, *, whole: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return value.bit_length() <= 64  # a 5,000-digit integer is no share, seed or count
    return not whole and bool(np.isfinite(value))


def _bad(source: str, field: str, value: Any, expected: str) -> None:
    shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}... ({type(value).__name__})"
    raise ModelFileError(
        f"The run's {source} has `{field}` = {shown}; expected {expected}. It was edited or is not a "
        "logitlab run file.",
        fix="restore config.json (or delete it to score the model without the run's settings), or train "
        "the run again.",
        code="run-config-invalid",
    )


def row_keys(x: Any, y: Any) -> np.ndarray | None:
    """A uint64 key per row of dense features ``x`` ``[N, F]`` and targets ``y``; ``None`` for other inputs.

    SplitMix64 over the bits of each float32 feature and each target value, column by column: equal
    rows get equal keys wherever they stand, different rows collide with probability about ``2**-64``.
    """
    import torch

    from ..data.streaming.hashing import splitmix64

    if not isinstance(x, torch.Tensor) or x.layout != torch.strided or x.dim() != 2 or y is None:
        return None
    feats = x.detach().cpu().to(torch.float32).contiguous().numpy()
    target = y.detach().cpu().to(torch.float32).reshape(len(y), -1).numpy()
    columns = np.concatenate([feats, target], axis=1) + np.float32(0.0)  # -0.0 -> 0.0
    bits = columns.view(np.uint32).astype(np.uint64)
    key = np.full(len(columns), np.uint64(columns.shape[1]), dtype=np.uint64)
    for j in range(bits.shape[1]):
        key = splitmix64(key ^ bits[:, j], seed=j)
    return key


def split_record(spec: str, bundle: DatasetBundle, load: Mapping[str, Any]) -> dict[str, Any]:
    """What ``config.json`` keeps to find the run's test rows in any file later (see the module docstring)."""
    check_run_numbers({"load": load}, "the load options")
    test_size = float(load.get("test_size", TEST_SIZE) if load.get("test_size") is not None else TEST_SIZE)
    record: dict[str, Any] = {
        "fingerprint": fingerprint(spec),
        "test_size": test_size,
        "test_rows": len(bundle.test),
    }
    test_keys = row_keys(bundle.test.x, bundle.test.y) if len(bundle.test) else None
    if test_keys is None:
        return record
    seen = [row_keys(s.x, s.y) for s in (bundle.train, bundle.val) if len(s)]
    fitted = np.concatenate([k for k in seen if k is not None]) if seen else np.zeros(0, np.uint64)
    held = np.setdiff1d(test_keys, fitted)  # a row also trained on is not held out
    record["test_keys"] = base64.b64encode(np.sort(held).astype("<u8").tobytes()).decode("ascii")
    return record


def _stored_keys(record: Mapping[str, Any]) -> np.ndarray | None:
    text = record.get("test_keys")
    if not isinstance(text, str):
        return None
    return np.frombuffer(base64.b64decode(text), dtype="<u8").astype(np.uint64)


def held_out_rows(
    spec: str, inputs: Inputs, clf: Classifier, config: Mapping[str, Any]
) -> tuple[np.ndarray, list[str]]:
    """The positions of ``inputs`` (read from ``spec``) in the run's held-out test split, and a note.

    Raises:
        DataError: ``no-test-split`` (a run trained with ``test_size=0``), or ``test-rows-unknown``
            (``spec`` is not the training data and none of its rows can be matched to the test rows).
    """
    load = dict(config.get("load") or {})
    record = dict(config.get("split") or {})
    test_size = record.get("test_size", load.get("test_size"))
    if test_size is not None and float(test_size) == 0:
        raise DataError(
            f"The run was trained with test_size=0: it has no test split to score {spec} on "
            "(its headline metrics are those of the validation split).",
            fix="use split='all' to score every row of the file, or train with a test split.",
            code="no-test-split",
            param="split",
        )
    stamp = record.get("fingerprint")
    same = stamp == fingerprint(spec) if stamp is not None else str(spec) == str(config.get("data"))
    if not record or same:  # the training data (a built-in set or folder: by its name)
        return _positional(inputs, clf, load), []
    stored = _stored_keys(record)
    keys = row_keys(inputs.x, inputs.y)
    if stored is None or keys is None:
        raise DataError(
            f"{spec} is not the data the run was trained on, and its rows cannot be matched to the run's "
            "held-out test rows; scoring rows by position would mix in training rows.",
            fix="use split='all' to score every row of the file (or evaluate on the training data).",
            code="test-rows-unknown",
            param="split",
        )
    rows = np.flatnonzero(np.isin(keys, stored))
    if not len(rows):
        raise DataError(
            f"None of the {len(keys)} rows of {spec} is one of the run's {record.get('test_rows', len(stored))} "
            "held-out test rows (it is not the training file: a test split cannot be taken from it by position).",
            fix="use split='all' to score every row of the file.",
            code="test-rows-unknown",
            param="split",
        )
    note = (
        f"{spec} is not the training file: scored its {len(rows)} rows that are among the run's held-out "
        f"test rows (matched by value); {len(keys) - len(rows)} other rows left out (the 'all' split scores every row)"
    )
    return rows, [note]


def _positional(inputs: Inputs, clf: Classifier, load: Mapping[str, Any]) -> np.ndarray:
    """``train``'s own split of the training data: its sizes and seed, by position."""
    from ..data import split_indices
    from ..options import LOAD_DEFAULTS

    y = inputs.y
    if y is None or len(y) == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = {
        k: float(LOAD_DEFAULTS[k] if load.get(k) is None else load[k]) for k in ("val_size", "test_size")
    }
    seed = int(load.get("seed", clf.seed_))
    _, _, test, _ = split_indices(y.numpy(), clf.task_, seed=seed, **sizes)
    return np.asarray(test, dtype=np.int64)
