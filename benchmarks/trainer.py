"""Trainer throughput: samples/s of one epoch on a tabular MLP, logitlab vs a hand-written loop, Lightning, skorch.

Same data (100k rows x 30 features, binary target), same model (MLP 30-256-256-1), same loss
(BCEWithLogitsLoss), optimizer (AdamW, lr 1e-3) and batch (256), all in one process, one after the
other, each repeat on a freshly built model. A repeat times one full ``fit`` call (1 epoch), so
per-run setup counts too. Reported: median samples/s over the repeats, and the ratio to the hand loop.

Run: OMP_NUM_THREADS=1 python -m benchmarks.trainer [--rows 100000] [--repeats 5] [--epochs 1]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from torch import nn

FEATURES, BATCH, LR = 30, 256, 1e-3


def make_data(rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(rows, FEATURES, generator=g)
    w = torch.randn(FEATURES, 1, generator=g)
    y = ((x @ w + 0.5 * torch.randn(rows, 1, generator=g)) > 0).float()
    return x, y


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(FEATURES, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1)
    )


def run_hand(x: torch.Tensor, y: torch.Tensor, epochs: int, fused: bool | None = None) -> None:
    """The loop a careful user writes: permutation indexing, AdamW, zero_grad(set_to_none)."""
    model, loss_fn = make_model(), nn.BCEWithLogitsLoss()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, fused=fused)
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = perm[i : i + BATCH]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def run_hand_fused(x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    """The same loop with PyTorch's fused AdamW kernel (what logitlab's Trainer uses)."""
    run_hand(x, y, epochs, fused=True)


def run_logitlab(x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    from logitlab.train import TrainConfig, Trainer

    cfg = TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, device="cpu", progress=False)
    Trainer(make_model(), nn.BCEWithLogitsLoss(), cfg).fit((x, y))


class _Rows(torch.utils.data.Dataset):
    """Index a whole batch at once (``dataset[list_of_indices]``): the batched path a tuned user writes."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(idx)
        return self.x[index], self.y[index]


def run_lightning(x: torch.Tensor, y: torch.Tensor, epochs: int, batched: bool = False) -> None:
    import lightning as L
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net, self.loss_fn = make_model(), nn.BCEWithLogitsLoss()

        def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            xb, yb = batch
            return self.loss_fn(self.net(xb), yb)

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.AdamW(self.parameters(), lr=LR)

    if batched:
        sampler = BatchSampler(RandomSampler(range(len(x))), BATCH, drop_last=False)
        loader = DataLoader(_Rows(x, y), sampler=sampler, batch_size=None)
    else:
        loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)  # the documented way
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        trainer = L.Trainer(
            max_epochs=epochs,
            accelerator="cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(Module(), loader)


def run_lightning_batched(x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    run_lightning(x, y, epochs, batched=True)


def run_skorch(x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    from skorch import NeuralNetBinaryClassifier

    class Squeeze(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = make_model()

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return self.net(X).squeeze(-1)

    net = NeuralNetBinaryClassifier(
        Squeeze,
        optimizer=torch.optim.AdamW,
        lr=LR,
        batch_size=BATCH,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
        device="cpu",
    )
    net.fit(x.numpy(), y.squeeze(1).numpy())


RUNNERS: dict[str, Callable[[torch.Tensor, torch.Tensor, int], None]] = {
    "hand-written loop": run_hand,
    "hand-written loop, fused AdamW": run_hand_fused,
    "logitlab Trainer": run_logitlab,
    "PyTorch Lightning": run_lightning,
    "PyTorch Lightning, batched loader": run_lightning_batched,
    "skorch": run_skorch,
}


def measure(rows: int, repeats: int, epochs: int) -> dict[str, list[float]]:
    x, y = make_data(rows)
    times: dict[str, list[float]] = {name: [] for name in RUNNERS}
    for run in RUNNERS.values():  # warm-up: imports, first-call allocations
        run(x[: BATCH * 4], y[: BATCH * 4], 1)
    for _ in range(repeats):  # interleaved, so slow drifts of the machine hit every runner alike
        for name, run in RUNNERS.items():
            t0 = time.perf_counter()
            run(x, y, epochs)
            times[name].append(rows * epochs / (time.perf_counter() - t0))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # Lightning's start-up notes
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    load = os.getloadavg()[0]
    times = measure(args.rows, args.repeats, args.epochs)
    hand = statistics.median(times["hand-written loop"])
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, torch threads {torch.get_num_threads()}, "
        f"torch {torch.__version__}; load average at start {load:.2f}"
    )
    print(
        f"Data: {args.rows} rows x {FEATURES} features, batch {BATCH}, MLP {FEATURES}-256-256-1, AdamW, "
        f"{args.epochs} epoch(s) per fit, {args.repeats} repeats (interleaved)\n"
    )
    print("| runner | median samples/s | min | max | vs hand-written |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name} | {med:,.0f} | {min(values):,.0f} | {max(values):,.0f} | {med / hand:.2f}x |")


if __name__ == "__main__":
    main()
