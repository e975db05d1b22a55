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

The same two measures for PyTorch Lightning with ``logitlab.integrations.lightning.HealthMonitorCallback()``:
the same data, model, loss and AdamW, a batched loader (one ``dataset[list_of_indices]`` per batch, as in
``benchmarks.trainer``), ``training_step`` returning ``{"loss", "logits", "targets"}`` in both runs; the loop
time is measured from ``on_train_epoch_start`` to ``on_train_epoch_end`` by a last callback, and the hook time
inside the callback's hooks (``on_fit_start``, ``on_before_backward``, ``on_before_optimizer_step``,
``on_train_batch_end``, ``on_train_epoch_end``, ``on_train_end``). Lightning does not hand a callback the loss
value it reads, so the callback reads the step's loss itself (one host read per step).

Run: OMP_NUM_THREADS=1 python -m benchmarks.monitor [--rows 100000] [--repeats 11] [--epochs 1]
"""

from __future__ import annotations

import argparse
import datetime
import logging
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
LIGHTNING_HOOKS = (
    "on_fit_start",
    "on_before_backward",
    "on_before_optimizer_step",
    "on_train_batch_end",
    "on_train_epoch_end",
    "on_train_end",
)


def _timed_monitor() -> Any:
    """A ``HealthMonitor()`` whose hooks add their wall time to ``.hook_seconds``."""
    from logitlab.doctor.monitor import HealthMonitor

    return _timed(HealthMonitor, HOOKS)


def _timed(cls: type, hooks: tuple[str, ...]) -> Any:
    """An instance of ``cls`` whose ``hooks`` add their wall time to ``.hook_seconds``."""

    class Timed(cls):  # type: ignore[valid-type,misc]
        hook_seconds = 0.0

    def wrap(name: str) -> Any:
        base = getattr(cls, name)

        def hook(self: Any, *args: Any) -> None:
            t0 = time.perf_counter()
            try:
                base(self, *args)
            finally:
                self.hook_seconds += time.perf_counter() - t0

        return hook

    for name in hooks:
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


def run_lightning(x: torch.Tensor, y: torch.Tensor, epochs: int, monitor: bool) -> tuple[float, float, float]:
    """One Lightning ``fit``: (wall seconds, seconds in the training loop, seconds in the callback's hooks)."""
    import lightning as L
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler

    from benchmarks.trainer import _Rows
    from logitlab.integrations.lightning import HealthMonitorCallback

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net, self.loss_fn = make_model(), nn.BCEWithLogitsLoss()

        def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            xb, yb = batch
            logits = self.net(xb)
            return {"loss": self.loss_fn(logits, yb), "logits": logits, "targets": yb}

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.AdamW(self.parameters(), lr=LR)

    class Clock(L.Callback):
        seconds = 0.0

        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            self.seconds += time.perf_counter() - self.t0

    sampler = BatchSampler(RandomSampler(range(len(x))), BATCH, drop_last=False)
    loader = DataLoader(_Rows(x, y), sampler=sampler, batch_size=None)
    clock = Clock()
    callbacks = [_timed(HealthMonitorCallback, LIGHTNING_HOOKS)] if monitor else []
    trainer = L.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        callbacks=[*callbacks, clock],  # the clock last: its epoch end comes after the monitor's
    )  # fmt: skip
    t0 = time.perf_counter()
    trainer.fit(Module(), loader)
    wall = time.perf_counter() - t0
    return wall, clock.seconds, (callbacks[0].hook_seconds if callbacks else 0.0)


def _paired(runner: Any, x: torch.Tensor, y: torch.Tensor, repeats: int, epochs: int) -> dict[str, Any]:
    for flag in (False, True):  # warm-up: imports, first-call allocations
        runner(x[: BATCH * 4], y[: BATCH * 4], 1, flag)
    out: dict[str, Any] = {"off": [], "on": [], "pair": [], "hooks": []}
    for i in range(repeats):
        order = (False, True) if i % 2 == 0 else (True, False)
        result = {flag: runner(x, y, epochs, flag) for flag in order}
        (_, loop_off, _), (_, loop_on, hooks) = result[False], result[True]
        out["off"].append(loop_off)
        out["on"].append(loop_on)
        out["pair"].append(loop_on / loop_off - 1)
        out["hooks"].append(hooks / (loop_on - hooks))
    return out


def measure(rows: int, repeats: int, epochs: int, lightning: bool = True) -> dict[str, Any]:
    """Paired with/without runs: ``{"logitlab": {...}, "lightning": {...}}`` (see the module docstring)."""
    x, y = make_data(rows)
    out = {"logitlab": _paired(run, x, y, repeats, epochs)}
    if lightning:
        out["lightning"] = _paired(run_lightning, x, y, repeats, epochs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--no-lightning", action="store_true", help="only logitlab's Trainer")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # Lightning's start-up notes
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    load = os.getloadavg()[0]
    res = measure(args.rows, args.repeats, args.epochs, lightning=not args.no_lightning)
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
    names = {
        "logitlab": ("logitlab Trainer", "logitlab Trainer + HealthMonitor()", "the monitor's hooks"),
        "lightning": (
            "Lightning (batched loader)",
            "Lightning + HealthMonitorCallback()",
            "the callback's hooks",
        ),
    }
    print("| trainer | median samples/s | min | max | median ms/step |")
    print("|---|---:|---:|---:|---:|")
    for runner, part in res.items():
        for key, name in zip(("off", "on"), names[runner][:2]):
            rates = [samples / s for s in part[key]]
            ms = 1e3 * statistics.median(part[key]) / steps
            print(
                f"| {name} | {statistics.median(rates):,.0f} | {min(rates):,.0f} | {max(rates):,.0f} | {ms:.3f} |"
            )
    print("\n| overhead per step | median | min | max |")
    print("|---|---:|---:|---:|")
    for runner, part in res.items():
        for key, what in (
            ("pair", "end to end (paired with/without step time - 1)"),
            ("hooks", f"in {names[runner][2]} (hook time / step time)"),
        ):
            vals = [100 * v for v in part[key]]
            print(
                f"| {names[runner][1]}: {what} | {statistics.median(vals):+.2f}% | {min(vals):+.2f}% | "
                f"{max(vals):+.2f}% |"
            )


if __name__ == "__main__":
    main()
