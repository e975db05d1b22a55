"""Run under torchrun (or plainly, as one process): train a small model and save what the test compares.

Usage: python -m torch.distributed.run --standalone --nproc_per_node 2 _ddp_script.py OUT_DIR [NAN_ROW]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from logitlab.train import TrainConfig, Trainer

ROWS, FEATURES, CLASSES = 192, 6, 3


def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(ROWS + 50, FEATURES, generator=g)
    y = (x[:, :CLASSES] + 0.3 * torch.randn(ROWS + 50, CLASSES, generator=g)).argmax(1)
    return x[:ROWS], y[:ROWS], x[ROWS:], y[ROWS:]  # 50 validation rows: an uneven split over 2 ranks


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    return {"acc": float((logits.argmax(1) == targets).double().mean()), "rows": float(len(targets))}


def run(out: Path, nan_row: int | None = None) -> Trainer:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(FEATURES, 16), nn.Tanh(), nn.Linear(16, CLASSES))
    cfg = TrainConfig(
        optimizer="adamw",
        lr=0.02,
        epochs=3,
        batch_size=16,  # global: 8 rows per rank on 2 ranks; 192 rows = 12 full batches
        accumulation_steps=2,  # exercises no_sync on the first micro-step
        warmup_steps=3,
        grad_clip=1.0,
        progress=False,
        device="cpu",
        dist_timeout_s=60,
    )
    x, y, xv, yv = data()
    if nan_row is not None:  # unshuffled: global batch 0 is rows 0-15, rank 0 takes 0-7 and rank 1 takes 8-15
        x[nan_row] = float("nan")
        cfg = cfg.replace(shuffle=False, accumulation_steps=1)
    seen = [0]  # training rows this process forwarded: each rank must take only its share

    def count(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        seen[0] += len(args[0]) if module.training else 0

    model.register_forward_pre_hook(count)
    trainer = Trainer(model, nn.CrossEntropyLoss(), cfg, metrics_fn=accuracy)
    trainer.fit((x, y), (xv, yv))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rows_rank{trainer.dist.rank}.json").write_text(json.dumps(seen[0]))
    logits = trainer.predict(xv)  # after fit: every rank predicts all rows
    if trainer.is_main_process:
        save_file(
            {k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "weights.safetensors")
        )
        save_file({"logits": logits}, str(out / "logits.safetensors"))
        (out / "history.json").write_text(json.dumps(list(trainer.history)))
    return trainer


if __name__ == "__main__":
    run(Path(sys.argv[1]), nan_row=int(sys.argv[2]) if len(sys.argv) > 2 else None)
