"""The trainer on a StreamingTable: every row once per epoch, mid-epoch checkpoints, resume equals uninterrupted.

The reference for a resumed run is the uninterrupted run of the same configuration: the same rows
in the same order (recorded by a forward hook from the row id each row carries) and the same weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from logitlab.errors import ConfigError
from logitlab.train import Callback, StepInfo, Trainer, load_checkpoint

from . import _stream_script as s


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return s.write_data(tmp_path_factory.mktemp("stream"))


class CrashAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: Trainer, batch: StepInfo) -> None:
        if batch.step == self.step:
            raise RuntimeError("simulated crash")


def run(
    data: Path,
    run_dir: Path | None,
    callbacks: tuple[Callback, ...] = (),
    seen: list[list[int]] | None = None,
    **changes: object,
) -> tuple[nn.Module, list[list[int]], Trainer]:
    net, seen = s.model(), [] if seen is None else seen
    s.record(net, None, seen)
    trainer = Trainer(
        net, nn.CrossEntropyLoss(), s.config(**changes), run_dir=run_dir, callbacks=list(callbacks)
    )
    trainer.fit(s.table(data))
    return net, seen, trainer


def test_every_row_once_per_epoch_and_a_new_order_each_epoch(data: Path) -> None:
    _, seen, trainer = run(data, None, epochs=2)
    steps = len(seen) // 2
    assert steps == trainer.steps_per_epoch == s.ROWS // 32
    epochs = [np.concatenate(seen[:steps]), np.concatenate(seen[steps:])]
    for ids in epochs:
        assert np.array_equal(np.sort(ids), np.arange(s.ROWS))
    assert not np.array_equal(epochs[0], epochs[1])
    assert np.isfinite(trainer.history[-1]["train_loss"])


def test_mid_epoch_crash_then_resume_equals_uninterrupted(data: Path, tmp_path: Path) -> None:
    ref_net, ref_ids, ref = run(data, tmp_path / "ref")
    crashed: list[list[int]] = []
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(data, tmp_path / "run", (CrashAt(40),), crashed)  # epoch 1, its 11th step
    meta = load_checkpoint(tmp_path / "run").meta
    assert meta["position"]["batches"] == 5 and meta["global_step"] == 35  # mid-epoch: 35 = 5 x 7
    torch.randn(100)  # disturb the global RNG: the checkpoint restores it
    net, resumed_ids, trainer = run(data, tmp_path / "run")
    assert crashed[:35] + resumed_ids == ref_ids  # same rows, same order as the run that never stopped
    for name, value in ref_net.state_dict().items():
        assert torch.equal(net.state_dict()[name], value), name
    assert [h["train_loss"] for h in trainer.history] == pytest.approx(
        [h["train_loss"] for h in ref.history], rel=1e-12
    )


def test_mid_epoch_checkpoints_resume_in_memory_tensors_too(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 5, generator=g), torch.randint(0, 2, (200,), generator=g)

    def fit(run_dir: Path, callbacks: list[Callback]) -> nn.Module:
        net = s.model()
        cfg = s.config(num_workers=0, checkpoint_every_steps=3, epochs=2)
        Trainer(net, nn.CrossEntropyLoss(), cfg, run_dir=run_dir, callbacks=callbacks).fit((x, y))
        return net

    ref = fit(tmp_path / "ref", [])
    with pytest.raises(RuntimeError):
        fit(tmp_path / "run", [CrashAt(11)])
    assert load_checkpoint(tmp_path / "run").meta["position"]["batches"] == 2  # 9 steps: epoch 1, batch 2
    resumed = fit(tmp_path / "run", [])
    for name, value in ref.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], value), name


def test_a_plain_iterable_dataset_or_balanced_sampling_is_refused(data: Path) -> None:
    class Rows(torch.utils.data.IterableDataset):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield torch.zeros(2, 5), torch.zeros(2, dtype=torch.long)

    cfg = s.config(checkpoint_every_steps=0, resume=None, epochs=1)
    with pytest.raises(ConfigError, match="shards itself"):
        Trainer(s.model(), nn.CrossEntropyLoss(), cfg).fit(Rows())
    with pytest.raises(ConfigError, match="streaming table has none"):
        Trainer(s.model(), nn.CrossEntropyLoss(), cfg.replace(balanced=True)).fit(s.table(data))
