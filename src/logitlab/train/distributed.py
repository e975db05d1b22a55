"""``torchrun`` / DDP plumbing: detect the launch, start and end the process group, reduce and gather.

logitlab does not launch processes itself: ``torchrun --nproc_per_node N script.py`` sets ``WORLD_SIZE``,
``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; :func:`detect` reads them and
:func:`init_process_group` starts gloo (CPU) or nccl (CUDA) with a timeout, so a rank that dies ends
the others instead of hanging them.

Examples:
    >>> info = detect({})
    >>> info.world_size, info.rank, info.is_main, info.enabled
    (1, 0, True, False)
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from ..errors import DistributedError, LogitlabError

__all__ = [
    "DistInfo",
    "all_reduce_mean",
    "all_reduce_sum",
    "detect",
    "gather_blocks",
    "gather_rows",
    "init_process_group",
    "peer_failure",
    "shutdown",
]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a (possibly single-process) run.

    Attributes:
        world_size (int): number of processes. rank (int): this process, ``0 .. world_size-1``.
        local_rank (int): this process on its machine (picks the GPU).
    """

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes files and prints."""
        return self.rank == 0


def detect(env: Mapping[str, str] | None = None) -> DistInfo:
    """Read the ``torchrun`` environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``); single process if absent.

    Raises:
        DistributedError: when the variables are inconsistent (e.g. ``RANK`` >= ``WORLD_SIZE``).
    """
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env:
        return DistInfo()
    try:
        world = int(env["WORLD_SIZE"])
        rank = int(env.get("RANK", "-1"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise DistributedError(
            f"Expected integer WORLD_SIZE/RANK/LOCAL_RANK; got {env.get('WORLD_SIZE')!r}/{env.get('RANK')!r}/{env.get('LOCAL_RANK')!r}.",
            fix="launch with `torchrun --nproc_per_node N ...`, which sets them.",
            code="bad-torchrun-env",
        ) from None
    if world < 1 or not 0 <= rank < world or local < 0:
        raise DistributedError(
            f"Expected 0 <= RANK < WORLD_SIZE and LOCAL_RANK >= 0; got RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local}.",
            fix="launch with `torchrun --nproc_per_node N ...` instead of setting the variables by hand.",
            code="bad-torchrun-env",
        )
    return DistInfo(world, rank, local)


def init_process_group(info: DistInfo, device: torch.device, *, timeout_s: float) -> bool:
    """Start the default process group for ``info`` (gloo on CPU, nccl on CUDA) unless one is running.

    Returns:
        bool: True when this call started the group (the caller then ends it with :func:`shutdown`).
    """
    if not info.enabled or dist.is_initialized():
        return False
    missing = [k for k in ("MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise DistributedError(
            f"Expected the torchrun rendezvous variables; {missing} not set (WORLD_SIZE={info.world_size}).",
            fix="launch with `torchrun --nproc_per_node N ...` (or `--standalone`).",
            code="bad-torchrun-env",
        )
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        dist.init_process_group(
            backend=backend,
            timeout=datetime.timedelta(seconds=timeout_s),
            world_size=info.world_size,
            rank=info.rank,
            device_id=device if device.type == "cuda" else None,
        )
    except Exception as exc:  # a rendezvous that fails is a setup error, not a bug in the caller
        raise DistributedError(
            f"Could not start the {backend} process group (rank {info.rank} of {info.world_size}): {exc}",
            fix="check that every rank was started by the same torchrun command and can reach MASTER_ADDR.",
            code="init-failed",
        ) from exc
    return True


def shutdown() -> None:
    """End the default process group if one is running (safe to call twice)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def all_reduce_sum(t: Tensor) -> Tensor:
    """Sum ``t`` over ranks in place (no-op in a single process); returns ``t``."""
    if _active():
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_reduce_mean(t: Tensor) -> Tensor:
    """Average ``t`` over ranks in place (no-op in a single process); returns ``t``."""
    if _active():
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= dist.get_world_size()
    return t


def gather_rows(t: Tensor, total: int) -> Tensor:
    """Rows sharded rank-strided (rank ``r`` holds rows ``r, r+W, ...``) -> all ``total`` rows, in order.

    Args:
        t (Tensor[n_r, ...]): this rank's rows.
        total (int): the number of rows over all ranks.

    Returns:
        Tensor[total, ...]: the same on every rank (``t`` itself in a single process).
    """
    if not _active():
        return t
    world = dist.get_world_size()
    per = -(-total // world)  # ceil: pad the short shards so all_gather sees one shape
    padded = t.new_zeros((per, *t.shape[1:]))
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(parts, padded.contiguous())
    # parts[r][j] is row j * world + r: interleave the shards back into the original order
    return torch.stack(parts, dim=1).reshape(per * world, *t.shape[1:])[:total]


def gather_blocks(t: Tensor, total: int) -> Tensor:
    """Rows sharded in contiguous blocks (rank ``r`` holds rows ``r*total//W .. (r+1)*total//W - 1``) -> all rows.

    Args:
        t (Tensor[n_r, ...]): this rank's block.
        total (int): the number of rows over all ranks.

    Returns:
        Tensor[total, ...]: the same on every rank (``t`` itself in a single process).
    """
    if not _active():
        return t
    world = dist.get_world_size()
    sizes = [(r + 1) * total // world - r * total // world for r in range(world)]
    padded = t.new_zeros((max(sizes), *t.shape[1:]))
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, sizes)])


_PEER_FAILURE_PHRASES = ("gloo", "nccl", "connection closed", "connection reset", "timed out", "timeout")


def _is_peer_failure(exc: BaseException) -> bool:
    """True for the errors a collective raises when another rank is gone (not for the user's own errors)."""
    if isinstance(exc, LogitlabError):
        return False
    if isinstance(exc, dist.DistError):
        return True
    return type(exc) is RuntimeError and any(p in str(exc).lower() for p in _PEER_FAILURE_PHRASES)


def peer_failure(
    exc: BaseException, info: DistInfo, *, epoch: int, step: int, timeout_s: float
) -> DistributedError | None:
    """The ``DistributedError`` (code ``peer-rank-failed``) to raise for ``exc``, or ``None`` if it is not one.

    Under DDP a collective that fails because another rank died, raised or stopped answering is
    reported as such, with where this rank was and the timeout; any other error (and every error in a
    single process) is the caller's to re-raise unchanged.
    """
    if not info.enabled or not _is_peer_failure(exc):
        return None
    return DistributedError(
        f"Rank {info.rank} of {info.world_size}: a collective operation failed at epoch {epoch}, step {step} "
        f"({str(exc).strip().splitlines()[0][:300]}). Another rank most likely died, raised or stopped answering.",
        fix="find the first error in the other ranks' output (torchrun prints which rank failed); "
        f"if the ranks are only slow, raise dist_timeout_s (now {timeout_s:g} s).",
        code="peer-rank-failed",
    )
