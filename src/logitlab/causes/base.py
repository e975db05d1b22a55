"""The :class:`Cause` record and the shape helpers the cause functions share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import TargetError

__all__ = ["Cause", "Shape", "TargetKind", "numel", "shape_text"]

Shape = tuple[int, ...]
TargetKind = Literal["int", "float", "bool"]


@dataclass(frozen=True)
class Cause:
    """One named cause: a stable ``code``, what was seen (``message``) and a ``fix`` that applies."""

    code: str
    message: str
    fix: str

    def error(self) -> TargetError:
        """The cause as the ``TargetError`` a loss raises at its boundary."""
        return TargetError(self.message, fix=self.fix, code=self.code)


def shape_text(shape: Sequence[object]) -> str:
    """A shape written as ``[N, C]``."""
    return str(list(shape))


def numel(shape: Sequence[int]) -> int:
    """The number of elements of a tensor of this shape."""
    return math.prod(shape)
