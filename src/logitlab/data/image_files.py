"""Image data: class subfolders, a flat folder labelled by file name, or a CSV of ``path,labels`` rows.

Class subfolders follow torchvision's ImageFolder layout; images go through torchvision transforms
(resize, to tensor, normalise).

Images are loaded into one tensor when they fit in ``max_memory_mb``; otherwise a split's ``x`` is a
lazy :class:`ImageDataset`. A file that does not decode raises :class:`~logitlab.errors.DataError`
naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import ConfigError, DataError
from .row_names import RowNamer

__all__ = [
    "DEFAULT_LABEL_PATTERN",
    "IMAGE_COLUMNS",
    "IMAGE_EXTENSIONS",
    "NORMALIZE_MODES",
    "ImageDataset",
    "ImagePreprocessor",
    "image_csv_column",
    "image_header",
    "read_image_csv",
    "scan_image_folder",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
DEFAULT_LABEL_PATTERN = r"^([A-Za-z]+)[._-]"
"""Label from a file name: the leading letters before ``.``, ``_`` or ``-`` (``cat.12.jpg`` -> ``cat``)."""
IMAGE_COLUMNS = ("path", "image", "file", "filename", "image_path", "filepath", "img")
"""Column names taken as the image path column of a CSV (case-insensitive)."""
NORMALIZE_MODES = ("dataset", "imagenet", "none")
Normalize = Literal["dataset", "imagenet", "none"]
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F", "P;L")


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def scan_image_folder(
    root: str | Path,
    *,
    label_pattern: str = DEFAULT_LABEL_PATTERN,
    require_labels: bool = True,
    allow_outside_root: bool = False,
) -> tuple[list[Path], list[str] | None, str, list[str]]:
    """List a folder's images and their labels.

    Class subfolders (``root/cat/1.png``) give the ImageFolder layout (label = folder name, files found
    recursively); otherwise the images directly in ``root`` are labelled by ``label_pattern``'s first
    group (or the group named ``label``).

    As for a CSV of image paths, nothing outside ``root`` is read: a symlinked class folder, or an
    image that resolves outside ``root`` (a symbolic link), is refused unless ``allow_outside_root``.

    Returns:
        ``(paths, labels or None, layout, notes)`` with layout ``"folders"`` or ``"filenames"``.

    Raises:
        DataError: no images, (when ``require_labels``) a file name the pattern does not match, or a
            class folder or image outside ``root`` (code ``path-outside-root``).
    """
    root = Path(root)
    paths, labels, layout, notes = _scan(root, label_pattern, require_labels)
    if not allow_outside_root:
        _refuse_outside(root, paths)
    return paths, labels, layout, notes


def _refuse_outside(root: Path, paths: list[Path]) -> None:
    root_abs = root.resolve()
    checked: set[Path] = set()
    for p in paths:
        folder = p.parent
        if folder not in checked:  # a symlinked class folder (a link inside a class folder resolves below)
            checked.add(folder)
            if folder.is_symlink() or not folder.resolve().is_relative_to(root_abs):
                _outside(folder, root_abs, "class folder")
        if p.is_symlink() and not p.resolve().is_relative_to(root_abs):
            _outside(p, root_abs, "image")


def _outside(path: Path, root_abs: Path, what: str) -> NoReturn:
    link = " (a symbolic link)" if path.is_symlink() else ""
    raise DataError(
        f"The {what} {path}{link} points outside the data root {root_abs}.",
        fix="copy the images under the folder, or pass allow_outside_root=True if you trust the links.",
        code="path-outside-root",
    )


def _scan(
    root: Path, label_pattern: str, require_labels: bool
) -> tuple[list[Path], list[str] | None, str, list[str]]:
    notes: list[str] = []
    classes = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    found = [(d.name, sorted(p for p in d.rglob("*") if _is_image(p))) for d in classes]
    found = [(name, files) for name, files in found if files]
    if found:
        others = [p.name for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
        if others:
            notes.append(f"ignored {len(others)} file(s) beside the class folders: {', '.join(others[:5])}")
        _note_skipped([p for d in classes for p in d.rglob("*") if p.is_file()], notes)
        paths = [p for _, files in found for p in files]
        labels = [name for name, files in found for _ in files]
        return paths, labels, "folders", notes
    files = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
    _note_skipped(files, notes)
    paths = [p for p in files if _is_image(p)]
    if not paths:
        raise DataError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) in {root} or its class subfolders.",
            fix="point at a folder of class subfolders (root/cat/*.png) or of files named like cat.12.jpg.",
            code="no-images",
        )
    return paths, _labels_from_names(paths, label_pattern, require_labels), "filenames", notes


def _note_skipped(files: Sequence[Path], notes: list[str]) -> None:
    skipped = [
        p.name for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS and not p.name.startswith(".")
    ]
    if skipped:
        notes.append(f"ignored {len(skipped)} non-image file(s): {', '.join(skipped[:5])}")


def _labels_from_names(paths: list[Path], pattern: str, require: bool) -> list[str] | None:
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"Argument `label_pattern` {pattern!r} is not a regular expression: {exc}."
        ) from exc
    labels: list[str] = []
    for p in paths:
        m = rx.search(p.name)
        if m is None or not (m.groupdict().get("label") or (m.groups() and m.group(1))):
            if not require:
                return None
            raise DataError(
                f"File name {p.name!r} does not match the label pattern {pattern!r} (in {p.parent}).",
                fix="rename the file (e.g. cat.12.jpg), pass label_pattern= with one group for the label, "
                "or use class subfolders.",
                code="unlabelled-image",
            )
        labels.append(m.groupdict().get("label") or m.group(1))
    return labels


def image_csv_column(columns: Sequence[str], image_column: str | None = None) -> str | None:
    """The path column of a CSV of images: ``image_column`` or the first of :data:`IMAGE_COLUMNS`."""
    if image_column is not None:
        return image_column if image_column in columns else None
    lower = {str(c).lower(): str(c) for c in columns}
    return next((lower[n] for n in IMAGE_COLUMNS if n in lower), None)


def read_image_csv(
    frame: pd.DataFrame, column: str, root: Path, *, allow_outside_root: bool = False, row_name: RowNamer
) -> list[Path]:
    """Resolve the image paths of a CSV under ``root``; rejects ``../`` escapes and missing files.

    Raises:
        DataError: a path outside ``root`` (unless ``allow_outside_root``), a missing file or an
            empty cell, naming the CSV line.
    """
    root_abs = root.resolve()
    out: list[Path] = []
    for i, raw in enumerate(frame[column].tolist()):
        if not isinstance(raw, str) or not raw.strip():
            raise DataError(
                f"Empty image path at {row_name(i)} (column {column!r}).",
                fix="give every row a path relative to the CSV's folder, or drop the row.",
                code="bad-image-path",
            )
        p = Path(raw.strip())
        full = (p if p.is_absolute() else root / p).resolve()
        if not allow_outside_root and not full.is_relative_to(root_abs):
            raise DataError(
                f"Image path {raw!r} at {row_name(i)} points outside the data root {root_abs}.",
                fix="keep the images under the CSV's folder, or pass allow_outside_root=True if you trust the file.",
                code="path-outside-root",
            )
        if not full.is_file():
            raise DataError(
                f"Image file {raw!r} at {row_name(i)} does not exist ({full}).",
                fix="fix the path (relative to the CSV's folder) or drop the row.",
                code="missing-image",
            )
        out.append(full)
    return out


@contextmanager
def _image_file(path: Path) -> Iterator[Image.Image]:
    """``Image.open(path)``; a file that does not open or decode raises :class:`DataError` naming it."""
    try:
        with Image.open(path) as im:
            yield im
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(
            f"Cannot read image {path}: {exc}",
            fix="remove or replace the file (it is corrupt or not an image).",
            code="bad-image",
        ) from exc


def _open(path: Path) -> Image.Image:
    with _image_file(path) as im:
        im.load()
        return im.copy()


def image_header(path: Path) -> tuple[tuple[int, int], str]:
    """``((H, W), PIL mode)`` of an image file, read from its header (the pixels are not decoded).

    Raises:
        DataError: the file is not an image, naming it.
    """
    with _image_file(path) as im:
        return (im.size[1], im.size[0]), im.mode


class ImagePreprocessor:
    """Open, convert (grayscale/RGB), resize and normalise image files to float32 ``[C, H, W]``.

    Args:
        size (tuple[int, int]): output ``(H, W)``.
        channels (int): 1 (grayscale) or 3 (RGB).
        mean, std (list[float]): per-channel normalisation after ``ToTensor`` (values in [0, 1]).
    """

    kind = "image"

    def __init__(
        self, size: tuple[int, int], channels: int, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        self.size = (int(size[0]), int(size[1]))
        self.channels = int(channels)
        self.mean = [float(v) for v in mean]
        self.std = [float(v) for v in std]
        from torchvision import transforms  # imported here: a table run never pays for torchvision

        self._to_tensor = transforms.Compose([transforms.Resize(self.size), transforms.ToTensor()])
        self._normalize = transforms.Normalize(self.mean, self.std)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        return (self.channels, *self.size)

    def raw(self, path: str | Path) -> Tensor:
        """The resized image in [0, 1], before normalisation, ``[C, H, W]``."""
        im = _open(Path(path)).convert("L" if self.channels == 1 else "RGB")
        out: Tensor = self._to_tensor(im)
        return out

    def load(self, path: str | Path) -> Tensor:
        """The model input for one image file, float32 ``[C, H, W]``."""
        out: Tensor = self._normalize(self.raw(path))
        return out

    def transform(self, paths: Sequence[str | Path]) -> Tensor:
        """Load and stack images, float32 ``[N, C, H, W]``."""
        if not paths:
            return torch.zeros((0, *self.output_shape))
        return torch.stack([self.load(p) for p in paths])

    @classmethod
    def fit(
        cls,
        paths: Sequence[Path],
        *,
        image_size: int | Sequence[int] | None = None,
        channels: int | None = None,
        normalize: Normalize = "dataset",
        notes: list[str] | None = None,
        max_stat_images: int = 512,
    ) -> ImagePreprocessor:
        """Choose size and channels and fit the normalisation on the training images ``paths``."""
        notes = notes if notes is not None else []
        if normalize not in NORMALIZE_MODES:
            raise ConfigError(
                f"Expected argument `normalize` to be one of {', '.join(NORMALIZE_MODES)}; got {normalize!r}.",
                fix="use normalize='dataset' (statistics of the training images).",
                code="bad-normalize",
            )
        headers = [image_header(p) for p in paths]
        size = _choose_size(image_size, [h[0] for h in headers], notes)
        if channels is None:
            channels = 1 if all(h[1] in _GRAY_MODES for h in headers) else 3
        if channels not in (1, 3):
            raise ConfigError(
                f"Expected argument `channels` to be 1 or 3; got {channels}.",
                fix="use channels=3 (RGB) or channels=1 (grayscale), or leave it out to infer it.",
                code="bad-channels",
            )
        if normalize == "none":
            return cls(size, channels, [0.0] * channels, [1.0] * channels)
        if normalize == "imagenet":
            mean, std = _IMAGENET_MEAN, _IMAGENET_STD
            if channels == 1:
                return cls(size, 1, [float(np.mean(mean))], [float(np.mean(std))])
            return cls(size, 3, mean, std)
        probe = cls(size, channels, [0.0] * channels, [1.0] * channels)
        pick = np.linspace(0, len(paths) - 1, min(len(paths), max_stat_images)).round().astype(int)
        stack = torch.stack([probe.raw(paths[i]) for i in np.unique(pick)]).double()
        mean_t = stack.mean(dim=(0, 2, 3))
        std_t = stack.std(dim=(0, 2, 3), unbiased=False).clamp_min(1e-6)
        return cls(size, channels, mean_t.tolist(), std_t.tolist())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :func:`~logitlab.data.preprocessor_from_dict` rebuilds it."""
        return {
            "type": self.kind,
            "size": list(self.size),
            "channels": self.channels,
            "mean": self.mean,
            "std": self.std,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImagePreprocessor:
        """Rebuild from :meth:`to_dict` output."""
        return cls(tuple(d["size"]), d["channels"], d["mean"], d["std"])  # type: ignore[arg-type]


def _choose_size(
    image_size: int | Sequence[int] | None, sizes: list[tuple[int, int]], notes: list[str]
) -> tuple[int, int]:
    if image_size is not None:
        hw = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if len(hw) != 2 or min(hw) < 1:
            raise ConfigError(
                f"Expected argument `image_size` to be an int or (H, W); got {image_size!r}.",
                fix="use image_size=64 or image_size=(64, 96).",
                code="bad-image-size",
            )
        return int(hw[0]), int(hw[1])
    if len(set(sizes)) == 1:
        return sizes[0]
    notes.append(f"images have {len(set(sizes))} different sizes; all resized to 128x128 (pass image_size=)")
    return (128, 128)


class ImageDataset(Dataset):
    """Lazy images: item ``i`` is ``preprocessor.load(paths[i])``, float32 ``[C, H, W]``."""

    def __init__(self, paths: Sequence[Path], preprocessor: ImagePreprocessor) -> None:
        self.paths = list(paths)
        self.preprocessor = preprocessor

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Tensor:
        return self.preprocessor.load(self.paths[i])
