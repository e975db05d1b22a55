"""Timing and memory helpers shared by the benchmarks.

* ``time_it``: median / min / max wall time of ``repeats`` calls after ``warmup`` calls (CUDA synchronised).
* ``peak_extra_bytes``: peak memory above the inputs during one call. On CUDA: ``torch.cuda.max_memory_allocated``
  minus the allocated bytes before the call. On CPU torch has no allocator statistics, so the call runs in a
  fresh subprocess; after the inputs are created we reset the RSS high-water mark (``/proc/self/clear_refs``
  = 5, Linux) and report ``VmHWM - VmRSS`` around the first forward+backward. glibc returns large (mmap'ed) blocks to the OS on free, so
  the high-water mark tracks the peak of live tensors; it also counts any one-off allocations torch makes on the
  first call (small next to these sizes), so it is an honest upper bound, rounded by the page size.
* ``copy_bandwidth``: bytes moved per second by ``dst.copy_(src)`` into preallocated memory (read + write).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

__all__ = ["copy_bandwidth", "peak_extra_bytes", "time_it"]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_it(
    fn: Callable[[], object], *, device: str = "cpu", warmup: int = 2, repeats: int = 7
) -> dict[str, float]:
    """Median, min and max seconds of ``fn()`` over ``repeats`` runs."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def copy_bandwidth(numel: int = 1 << 25, *, device: str = "cpu", repeats: int = 7) -> float:
    """Bytes per second (read + write) of a float32 copy into preallocated memory."""
    src = torch.rand(numel, device=device)
    dst = torch.empty_like(src)
    t = time_it(lambda: dst.copy_(src), device=device, repeats=repeats)
    return 2 * numel * 4 / t["median"]


def peak_extra_bytes(module: str, case: str, shape: tuple[int, int], device: str = "cpu") -> int:
    """Peak extra bytes of one forward+backward of ``case`` (see the module docstring for the method)."""
    if device.startswith("cuda"):
        mod = __import__(module, fromlist=["make_case"])
        fn = mod.make_case(case, shape, device)
        fn()  # warm kernels/caches
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated() - base)
    code = (
        "import json, torch\n"
        f"import {module} as m\n"
        f"fn = m.make_case({case!r}, {tuple(shape)!r}, 'cpu')\n"
        "def status(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key):\n"
        "            return int(line.split()[1]) * 1024\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"  # reset the RSS high-water mark (VmHWM)
        "base = status('VmRSS')\n"
        "fn()\n"
        "print(json.dumps(status('VmHWM') - base))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return int(json.loads(out.stdout.strip().splitlines()[-1]))
