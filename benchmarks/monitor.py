"""Health-monitor overhead: logitlab's Trainer with and without ``HealthMonitor()`` on the tabular benchmark.

The workload of ``benchmarks.trainer`` (100k rows x 30 features, binary target, MLP 30-256-256-1,
BCEWithLogitsLoss, AdamW lr 1e-3, batch 256; its data and model are imported from there). Each repeat runs
one ``fit`` without the monitor and one with ``HealthMonitor()`` (default settings), back to back, the
order alternating between repeats, each on a freshly built model. Two measures of the overhead:

* end to end: per repeat, the with/without ratio of the optimizer-step time (the trainer's own
  ``seconds`` of each epoch / steps); reported as the median of those paired ratios (a pair shares
  the machine's state, so drifts cancel better than in a ratio of two medians);
* in the hooks: the wall time spent inside the monitor's hooks (``on_train_batch_end``,
  ``on_after_backward``, ``on_epoch_end``, ``on_fit_end``) divided by the step time of the same run.
  On the CPU every kernel the monitor launches runs inside its hook, so this is its whole cost, and
  it does not suffer from the run-to-run noise of a shared machine.

Run: OMP_NUM_THREADS=1 python -m benchmarks.monitor [--rows 100000] [--repeats 11] [--epochs 1]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
import warnings
from typing import Any

import torch
from torch import nn

from benchmarks.trainer import BATCH, FEATURES, LR, make_data, make_model

HOOKS = ("on_train_batch_end", "on_after_backward", "on_epoch_end", "on_fit_end")


def _timed_monitor() -> Any:
    """A ``HealthMonitor()`` whose hooks add their wall time to ``.hook_seconds``."""
    from logitlab.doctor.monitor import HealthMonitor

    class Timed(HealthMonitor):
        hook_seconds = 0.0

    def wrap(name: str) -> Any:
        base = getattr(HealthMonitor, name)

        def hook(self: Any, *args: Any) -> None:
            t0 = time.perf_counter()
            try:
                base(self, *args)
            finally:
                self.hook_seconds += time.perf_counter() - t0

        return hook

    for name in HOOKS:
        setattr(Timed, name, wrap(name))
    return Timed()


def run(x: torch.Tensor, y: torch.Tensor, epochs: int, monitor: bool) -> tuple[float, float, float]:
    """One ``fit``: (wall seconds, seconds in the training loop, seconds in the monitor's hooks)."""
    from logitlab.train import TrainConfig, Trainer

    # the monitor is on by default; the baseline turns it off, the other run passes a timed one instead
    cfg = TrainConfig(
        epochs=epochs, batch_size=BATCH, lr=LR, device="cpu", progress=False, health_monitor=False
    )
    callbacks = [_timed_monitor()] if monitor else []
    t0 = time.perf_counter()
    history = Trainer(make_model(), nn.BCEWithLogitsLoss(), cfg, callbacks=callbacks).fit((x, y))
    wall = time.perf_counter() - t0
    loop = sum(row["seconds"] for row in history)
    return wall, loop, (callbacks[0].hook_seconds if callbacks else 0.0)


def measure(rows: int, repeats: int, epochs: int) -> dict[str, Any]:
    x, y = make_data(rows)
    for flag in (False, True):  # warm-up: imports, first-call allocations
        run(x[: BATCH * 4], y[: BATCH * 4], 1, flag)
    out: dict[str, Any] = {"off": [], "on": [], "pair": [], "hooks": []}
    for i in range(repeats):
        order = (False, True) if i % 2 == 0 else (True, False)
        result = {flag: run(x, y, epochs, flag) for flag in order}
        (_, loop_off, _), (_, loop_on, hooks) = result[False], result[True]
        out["off"].append(loop_off)
        out["on"].append(loop_on)
        out["pair"].append(loop_on / loop_off - 1)
        out["hooks"].append(hooks / (loop_on - hooks))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    load = os.getloadavg()[0]
    res = measure(args.rows, args.repeats, args.epochs)
    steps = -(-args.rows // BATCH) * args.epochs
    samples = args.rows * args.epochs
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, torch threads {torch.get_num_threads()}, "
        f"torch {torch.__version__}; load average {load:.2f} at start, {os.getloadavg()[0]:.2f} at end; {now}"
    )
    print(
        f"Data: {args.rows} rows x {FEATURES} features, batch {BATCH} ({steps} optimizer steps per fit), "
        f"MLP {FEATURES}-256-256-1, AdamW, {args.epochs} epoch(s) per fit, {args.repeats} repeats (interleaved)\n"
    )
    print("| trainer | median samples/s | min | max | median ms/step |")
    print("|---|---:|---:|---:|---:|")
    for key, name in (("off", "logitlab Trainer"), ("on", "logitlab Trainer + HealthMonitor()")):
        rates = [samples / s for s in res[key]]
        ms = 1e3 * statistics.median(res[key]) / steps
        print(
            f"| {name} | {statistics.median(rates):,.0f} | {min(rates):,.0f} | {max(rates):,.0f} | {ms:.3f} |"
        )
    print("\n| overhead per step | median | min | max |")
    print("|---|---:|---:|---:|")
    for key, name in (
        ("pair", "end to end (paired with/without step time - 1)"),
        ("hooks", "in the monitor's hooks (hook time / step time)"),
    ):
        vals = [100 * v for v in res[key]]
        print(f"| {name} | {statistics.median(vals):+.2f}% | {min(vals):+.2f}% | {max(vals):+.2f}% |")


if __name__ == "__main__":
    main()
