"""Fingerprints of data: what a resumed run or fit checks that its data did not change under it.

``fingerprint`` (a file's bytes), ``data_fingerprint`` (a file, folder or glob as ``logitlab train`` names
it) and ``array_fingerprint`` (the ``X`` and ``y`` given to ``Classifier.fit``): the one place they are made.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["array_fingerprint", "data_fingerprint", "fingerprint"]

_CHUNK = 1 << 20


def fingerprint(spec: str | os.PathLike[str]) -> str | None:
    """``sha256:<hex>`` of a data file's bytes; ``None`` for a folder, a glob or a built-in set."""
    path = Path(spec)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def data_fingerprint(spec: str | os.PathLike[str]) -> str | None:
    """What a resumed run checks its data against (a run's data must not change under it).

    A file: its :func:`fingerprint`. A glob or a folder: ``files:<hex>``, the SHA-256 of its files' names,
    sizes and modification times (a streamed table is not read an extra time). ``None`` for a built-in
    set or a spec that names nothing (loading it fails later, with its own message).
    """
    import glob

    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.is_file():
        return fingerprint(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    elif set("*?[") & set(text):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    else:
        return None
    listing = [(str(p), st.st_size, st.st_mtime_ns) for p in files for st in [p.stat()]]
    return "files:" + hashlib.sha256(json.dumps(listing).encode()).hexdigest()


def array_fingerprint(value: Any) -> str | None:
    """What ``Classifier.fit(..., resume=True)`` checks ``X`` or ``y`` against: ``sha256:<hex>`` of its values.

    An array, tensor or list: its dtype, shape and bytes; scipy sparse: as CSR, its shape, ``data``,
    ``indices`` and ``indptr``; a DataFrame or Series: its column names, dtypes and values; a path: its
    :func:`data_fingerprint`. ``None`` for a :class:`~logitlab.data.DatasetBundle` or another object that is
    not an array (not checked).
    """
    if isinstance(value, (str, os.PathLike)):
        return data_fingerprint(value)
    digest = hashlib.sha256()
    if not _feed(digest, value):
        return None
    return f"sha256:{digest.hexdigest()}"


def _feed(digest: Any, value: Any) -> bool:
    import pandas as pd
    import scipy.sparse as sp

    if value is None:
        digest.update(b"none")
    elif sp.issparse(value):
        csr = sp.csr_matrix(value)
        digest.update(json.dumps(["sparse", list(csr.shape)]).encode())
        return all(_feed(digest, part) for part in (csr.data, csr.indices, csr.indptr))
    elif isinstance(value, pd.DataFrame):
        digest.update(json.dumps(["frame", [str(c) for c in value.columns]]).encode())
        return all(_feed(digest, value.iloc[:, i]) for i in range(value.shape[1]))
    elif isinstance(value, pd.Series):
        digest.update(json.dumps(["series", str(value.dtype)]).encode())
        return _feed(digest, value.to_numpy())
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return _feed(digest, value.detach().cpu().numpy())
    elif hasattr(value, "train") and hasattr(value, "val"):  # a DatasetBundle
        return False
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):  # ragged label lists
            arr = np.asarray(json.dumps(value, default=repr))
        if arr.dtype == object and arr.ndim == 0:  # not an array (a lazy dataset): not checked
            return False
        if arr.dtype == object:
            digest.update(json.dumps(["object", list(arr.shape), arr.tolist()], default=repr).encode())
        else:
            digest.update(json.dumps([arr.dtype.str, list(arr.shape)]).encode())
            digest.update(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)
    return True
