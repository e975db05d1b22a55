"""Loss benchmark: fused vs compiled vs torchvision vs composite vs torch native, forward+backward.

Run: python -m benchmarks.losses [--device cpu|cuda] [--repeats 7] [--write]
(--write replaces the "## Losses" section of benchmarks/RESULTS.md with this run's table.)

Each case builds logits ``x`` (requires_grad) and 0/1 targets once, then times
``loss(x, t).backward()`` (mean reduction). Effective bandwidth counts the minimal traffic of a
fused pass (read logits and targets, write the gradient: 12 bytes/element) over the median time,
as a fraction of the measured copy bandwidth.

The "compiled" cases (``compile=True``) run one forward+backward when built, so compiling is out of
both the timing and the memory figure; that first call's extra time over a warm call is reported
apart as the one-off compile cost, with a fresh inductor cache (``TORCHINDUCTOR_CACHE_DIR`` is pointed
at a new temporary folder unless set), after importing ``torch._dynamo``/inductor and compiling a trivial
kernel (the once-per-process part, timed apart too).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks._util import copy_bandwidth, peak_extra_bytes, time_it

__all__ = ["CASES", "main", "make_case"]

SHAPES = ((4096, 2048), (16384, 1000))
CASES = (
    "focal fused",
    "focal compiled",
    "focal torchvision",
    "focal composite",
    "bce+pos_weight fused",
    "bce+pos_weight compiled",
    "bce+pos_weight torch native",
    "asl fused",
    "asl compiled",
    "asl composite",
)
FIRST_CALL_S: dict[tuple[str, tuple[int, int]], float] = {}  # compiled cases: seconds of the warm-up call


def _loss(case: str, pw: torch.Tensor) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    import logitlab.losses as L

    if case == "focal torchvision":
        from torchvision.ops import sigmoid_focal_loss

        return lambda x, t: sigmoid_focal_loss(x, t, alpha=0.25, gamma=2.0, reduction="mean")
    table: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
        "focal fused": lambda x, t: L.sigmoid_focal_loss(x, t, gamma=2.0, alpha=0.25),
        "focal compiled": lambda x, t: L.sigmoid_focal_loss(x, t, gamma=2.0, alpha=0.25, compile=True),
        "focal composite": lambda x, t: L.sigmoid_focal_loss(x, t, gamma=2.0, alpha=0.25, fused=False),
        "bce+pos_weight fused": lambda x, t: L.bce_with_logits(x, t, pos_weight=pw),
        "bce+pos_weight compiled": lambda x, t: L.bce_with_logits(x, t, pos_weight=pw, compile=True),
        "bce+pos_weight torch native": lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw),
        "asl fused": lambda x, t: L.asymmetric_loss(x, t),
        "asl compiled": lambda x, t: L.asymmetric_loss(x, t, compile=True),
        "asl composite": lambda x, t: L.asymmetric_loss(x, t, fused=False),
    }
    return table[case]


def make_case(case: str, shape: tuple[int, int], device: str) -> Callable[[], None]:
    """A closure running one forward+backward of ``case`` on fixed inputs of ``shape``."""
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(shape, generator=g) * 3).to(device).requires_grad_()
    t = (torch.rand(shape, generator=g) > 0.9).float().to(device)
    pw = (torch.rand(shape[1], generator=g) * 5 + 0.5).to(device)
    loss = _loss(case, pw)

    def run() -> None:
        x.grad = None
        loss(x, t).backward()

    if case.endswith(" compiled"):  # compile now: out of the timing and the memory figure
        start = time.perf_counter()
        run()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        FIRST_CALL_S[(case, shape)] = time.perf_counter() - start
        x.grad = None
    return run


def _compiler_setup_s() -> float:
    """Seconds to import torch._dynamo/inductor and compile a trivial kernel: paid once per process."""
    start = time.perf_counter()
    torch.compile(lambda a: a + 1, dynamic=True)(torch.ones(4))
    return time.perf_counter() - start


def _machine(device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__})"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} (torch threads {torch.get_num_threads()}), "
        f"torch {torch.__version__}"
    )


def run(device: str, repeats: int) -> str:
    """Run every case on every shape; return the markdown table."""
    bw = copy_bandwidth(device=device)
    lines = [
        f"Copy bandwidth (preallocated, read+write): {bw / 1e9:.1f} GB/s",
        "",
        "| shape | case | median ms | min ms | max ms | peak extra MiB | eff. bandwidth / copy | speed-up vs ref "
        "| speed-up vs fused |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    compile_lines = [
        f"importing torch._dynamo/inductor and compiling a trivial kernel (once per process, before the "
        f"cases): {_compiler_setup_s():.1f} s"
    ]
    refs = {
        "focal": "focal torchvision",
        "bce+pos_weight": "bce+pos_weight torch native",
        "asl": "asl composite",
    }
    for shape in SHAPES:
        results = {}
        for case in CASES:
            t = time_it(make_case(case, shape, device), device=device, repeats=repeats)
            mem = peak_extra_bytes("benchmarks.losses", case, shape, device)
            results[case] = (t, mem)
            print(
                f"{shape} {case}: {t['median'] * 1e3:.1f} ms, {mem / 2**20:.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
        n = shape[0] * shape[1]
        for case, (t, mem) in results.items():
            family = case.split(" ")[0]
            ref = results[refs[family]][0]["median"]
            fused = results[f"{family} fused"][0]["median"]
            eff = 12 * n / t["median"] / bw
            lines.append(
                f"| {shape[0]}x{shape[1]} | {case} | {t['median'] * 1e3:.1f} | {t['min'] * 1e3:.1f} | "
                f"{t['max'] * 1e3:.1f} | {mem / 2**20:.0f} | {eff:.2f} | {ref / t['median']:.2f}x | "
                f"{fused / t['median']:.2f}x |"
            )
            if (case, shape) in FIRST_CALL_S:
                first = FIRST_CALL_S[(case, shape)]
                what = "compiles the loss and gradient kernels" if shape == SHAPES[0] else "no recompile"
                compile_lines.append(
                    f"{case} {shape[0]}x{shape[1]}: first forward+backward {first:.2f} s, "
                    f"{max(first - t['median'], 0.0):.2f} s over a warm call ({what})"
                )
    return (
        "\n".join(lines)
        + "\n\nOne-off compile cost (fresh inductor cache):\n\n"
        + "\n".join(f"- {line}" for line in compile_lines)
    )


def _write(section: str, device: str) -> None:
    path = Path(__file__).with_name("RESULTS.md")
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(f"## Losses ({device})") + r"\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the section (and write it with ``--write``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    p.add_argument("--note", default="", help="a line on the conditions (e.g. shared machine under load)")
    args = p.parse_args(argv)
    fresh_cache = None if "TORCHINDUCTOR_CACHE_DIR" in os.environ else tempfile.mkdtemp(prefix="ll-inductor-")
    if fresh_cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = fresh_cache
    try:
        table = run(args.device, args.repeats)
    finally:
        if fresh_cache:
            shutil.rmtree(fresh_cache, ignore_errors=True)
    cmd = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} python -m benchmarks.losses --device {args.device}"
    section = (
        f"## Losses ({args.device})\n\nMachine: {_machine(args.device)}  \nCommand: `{cmd}`  \n"
        f"Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC  \n"
        + (f"Conditions: {args.note}  \n" if args.note else "")
        + "Time: forward+backward, mean reduction, median of repeats after 2 warm-ups (compiled: after compiling). "
        "Peak extra memory: see benchmarks/_util.py (CPU: RSS high-water rise in a fresh process; CUDA: "
        "max_memory_allocated rise).\n\n" + table + "\n"
    )
    print(section)
    if args.write:
        _write(section, args.device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
