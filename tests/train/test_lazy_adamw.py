"""LazyAdamW and the sparse-native model's sparse gradients, against torch's AdamW and a float64 Adam by hand."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import sparse
from torch import nn

from logitlab.data.batches import PairDataset
from logitlab.data.sparse import SparseRows, as_sparse, torch_csr
from logitlab.models.sparse import SparseNet
from logitlab.train import TrainConfig, Trainer
from logitlab.train._state import build_optimizer
from logitlab.train.lazy_adamw import LazyAdamW

B1, B2, EPS = 0.9, 0.999, 1e-8


def test_dense_parameters_get_torch_adamw_exactly() -> None:
    torch.manual_seed(0)
    a = [nn.Parameter(torch.randn(4, 3)), nn.Parameter(torch.randn(3))]
    b = [nn.Parameter(p.detach().clone()) for p in a]
    lazy = LazyAdamW(a, lr=0.05, weight_decay=0.1)
    ref = torch.optim.AdamW(b, lr=0.05, weight_decay=0.1, foreach=False)
    for _ in range(5):
        grads = [torch.randn_like(p) for p in a]
        for p, q, g in zip(a, b, grads):
            p.grad, q.grad = g.clone(), g.clone()
        lazy.step()
        ref.step()
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def _sparse_grad(rows: list[int], values: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    return torch.sparse_coo_tensor(
        torch.tensor([rows]), torch.tensor(values, dtype=torch.float32), shape, check_invariants=True
    )


def test_sparse_step_updates_touched_rows_as_float64_adam_and_leaves_the_others() -> None:
    """Two steps with duplicate indices (summed), lazy moments per row, bias correction by the global step."""
    rng = np.random.default_rng(0)
    W0 = rng.normal(size=(8, 3))
    w = nn.Parameter(torch.tensor(W0, dtype=torch.float32))
    lr, wd = 0.1, 0.5
    opt = LazyAdamW([w], lr=lr, weight_decay=wd)
    W, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)  # the float64 reference
    steps = [[2, 5, 2], [5, 7]]  # step 1: row 2 twice; step 2: row 5 again, row 7 new
    for t, rows in enumerate(steps, start=1):
        values = rng.normal(size=(len(rows), 3))
        w.grad = _sparse_grad(rows, values, (8, 3))
        before = w.detach().clone()
        m_before, v_before = (
            (opt.state[w]["exp_avg"].clone(), opt.state[w]["exp_avg_sq"].clone()) if t > 1 else (None, None)
        )
        opt.step()
        g = np.zeros_like(W0)
        np.add.at(g, rows, values)
        touched = sorted(set(rows))
        for r in touched:
            m[r] = B1 * m[r] + (1 - B1) * g[r]
            v[r] = B2 * v[r] + (1 - B2) * g[r] ** 2
            W[r] *= 1 - lr * wd
            W[r] -= lr * (m[r] / (1 - B1**t)) / (np.sqrt(v[r] / (1 - B2**t)) + EPS)
        np.testing.assert_allclose(w.detach().numpy()[touched], W[touched], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(opt.state[w]["exp_avg"].numpy()[touched], m[touched], rtol=1e-5, atol=1e-7)
        untouched = [r for r in range(8) if r not in touched]
        assert torch.equal(w.detach()[untouched], before[untouched])  # bitwise: no decay, no momentum
        if m_before is not None:
            assert torch.equal(opt.state[w]["exp_avg"][untouched], m_before[untouched])
            assert torch.equal(opt.state[w]["exp_avg_sq"][untouched], v_before[untouched])
    assert float(opt.state[w]["step"]) == 2


def _csr(n: int = 48, f: int = 400, seed: int = 0) -> sparse.csr_array:
    X = sparse.random(n, f // 2, density=0.05, random_state=seed, format="csr", dtype=np.float64)
    return as_sparse(
        sparse.hstack([X, sparse.csr_matrix((n, f - f // 2))], format="csr")
    )  # last half never used


def test_first_step_equals_dense_adamw_and_later_steps_differ_only_by_laziness() -> None:
    """From zero moments (and no decay) dense AdamW moves only the touched rows too; afterwards it keeps moving them."""
    X = _csr()
    y = torch.tensor(np.asarray(X.sum(axis=1)).ravel() > 0.5, dtype=torch.float32)[:, None]
    torch.manual_seed(0)
    net = SparseNet(X.shape[1], 1, hidden=[4])
    ref = copy.deepcopy(net)
    net.first.sparse_grad = True
    lazy = LazyAdamW(net.parameters(), lr=0.01, weight_decay=0.0)
    dense = torch.optim.AdamW(ref.parameters(), lr=0.01, weight_decay=0.0, foreach=False)
    halves = [np.arange(0, 24), np.arange(24, 48)]
    for step, rows in enumerate(halves):
        batch = torch_csr(X[rows])
        for model, opt in ((net, lazy), (ref, dense)):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(model(batch), y[rows]).backward()
            opt.step()
        assert net.first.weight.grad.is_sparse and not ref.first.weight.grad.is_sparse
        if step == 0:
            for a, b in zip(net.parameters(), ref.parameters()):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    first_only = np.setdiff1d(X[halves[0]].indices, X[halves[1]].indices)
    assert len(first_only) > 0
    touched_1 = torch.tensor(first_only)
    # rows touched only in step 1: dense AdamW moved them again by momentum in step 2; lazy left them
    lazy_rows, dense_rows = net.first.weight.detach()[touched_1], ref.first.weight.detach()[touched_1]
    assert not torch.allclose(lazy_rows, dense_rows)
    never = torch.arange(X.shape[1] // 2, X.shape[1])
    torch.testing.assert_close(net.first.weight.detach()[never], ref.first.weight.detach()[never])


def test_clipping_a_sparse_gradient_equals_clipping_the_dense_one() -> None:
    X = _csr()
    torch.manual_seed(0)
    net = SparseNet(X.shape[1], 3)
    ref = copy.deepcopy(net)
    net.first.sparse_grad = True
    batch = torch_csr(X)
    for model in (net, ref):
        (model(batch) ** 2).sum().backward()
    norms = [nn.utils.clip_grad_norm_(m.parameters(), 0.5) for m in (net, ref)]
    torch.testing.assert_close(norms[0], norms[1])
    assert norms[1] > 0.5
    torch.testing.assert_close(net.first.weight.grad.to_dense(), ref.first.weight.grad)


def _pairs(X: sparse.csr_array, y: np.ndarray) -> PairDataset:
    return PairDataset(SparseRows(X, native=True), torch.tensor(y, dtype=torch.float32))


def _trainer(run_dir: Path | None = None, **options: object) -> tuple[SparseNet, Trainer, PairDataset]:
    X = _csr(n=96)
    y = (np.asarray(X[:, :50].sum(axis=1)).ravel() > np.median(np.asarray(X[:, :50].sum(axis=1)))).astype(
        float
    )
    torch.manual_seed(0)
    net = SparseNet(X.shape[1], 1, hidden=[4])
    cfg = TrainConfig(
        **{"device": "cpu", "progress": False, "epochs": 3, "batch_size": 16, "lr": 0.05, **options}
    )  # type: ignore[arg-type]
    return net, Trainer(net, nn.BCEWithLogitsLoss(), cfg, run_dir=run_dir), _pairs(X, y[:, None])


def test_the_trainer_trains_the_table_lazily_with_clipping_and_accumulation() -> None:
    net, trainer, data = _trainer(grad_clip=0.1, accumulation_steps=2, weight_decay=0.1)
    before = net.first.weight.detach().clone()
    trainer.fit(data)
    assert isinstance(trainer.optimizer, LazyAdamW) and net.first.sparse_grad
    never = slice(200, 400)  # columns no row holds: no gradient, so exactly their initial weights
    assert torch.equal(net.first.weight.detach()[never], before[never])
    assert not torch.equal(net.first.weight.detach()[:200], before[:200])
    h = trainer.history
    assert h[-1]["train_loss"] < h[0]["train_loss"]


def test_accumulating_two_sparse_micro_batches_equals_one_batch_of_both() -> None:
    """Sparse gradients of micro-batches add up (autograd concatenates them; duplicates summed in the step)."""
    weights = []
    for batch, k in ((16, 1), (8, 2)):
        net, trainer, data = _trainer(batch_size=batch, accumulation_steps=k, grad_clip=0.5, weight_decay=0.1)
        trainer.fit(data)
        assert trainer.global_step == 3 * 6 and isinstance(trainer.optimizer, LazyAdamW)
        weights.append([p.detach().clone() for p in net.parameters()])
    for a, b in zip(*weights):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "precision",
    [
        "bf16",
        pytest.param(
            "fp16", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 needs a CUDA device")
        ),
    ],
)
def test_mixed_precision_trains_the_table_lazily(precision: str) -> None:
    """bf16 autocast (CPU) and fp16 with the gradient scaler (CUDA): sparse gradients, untouched rows kept."""
    device = "cuda" if precision == "fp16" else "cpu"
    net, trainer, data = _trainer(precision=precision, device=device, epochs=6)
    before = net.first.weight.detach().clone()
    trainer.fit(data)
    assert isinstance(trainer.optimizer, LazyAdamW)
    weight = net.first.weight.detach().cpu()
    assert weight.dtype == torch.float32 and torch.equal(weight[200:], before[200:])
    assert trainer.history[-1]["train_loss"] < trainer.history[0]["train_loss"]


def test_sgd_and_ddp_keep_a_dense_gradient_and_their_usual_optimizer() -> None:
    net = SparseNet(30, 2)
    cfg = TrainConfig(device="cpu", progress=False)
    assert isinstance(build_optimizer(net, cfg, torch.device("cpu"), distributed=True), torch.optim.AdamW)
    assert not net.first.sparse_grad
    sgd = TrainConfig(device="cpu", progress=False, optimizer="sgd")
    assert isinstance(build_optimizer(net, sgd, torch.device("cpu")), torch.optim.SGD)
    assert not net.first.sparse_grad
    assert isinstance(build_optimizer(net, cfg, torch.device("cpu")), LazyAdamW) and net.first.sparse_grad
    mlp = nn.Sequential(nn.Linear(3, 2))
    assert isinstance(build_optimizer(mlp, cfg, torch.device("cpu")), torch.optim.AdamW)


def test_resume_from_a_mid_run_checkpoint_is_bitwise_the_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref, ref_trainer, data = _trainer(tmp_path / "a", weight_decay=0.1)
    ref_trainer.fit(data)
    real, calls = Trainer._train_epoch, []

    def interrupted(self: Trainer, loader: object, epoch: int) -> object:
        calls.append(epoch)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, loader, epoch)

    _, trainer, data = _trainer(tmp_path / "b", weight_decay=0.1)
    monkeypatch.setattr(Trainer, "_train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(data)
    monkeypatch.undo()
    torch.randn(100)  # disturb the global RNG
    net, trainer, data = _trainer(tmp_path / "b", weight_decay=0.1, resume="auto")
    trainer.fit(data)
    assert trainer.start_epoch == 1 and isinstance(trainer.optimizer, LazyAdamW)
    for (name, a), b in zip(ref.state_dict().items(), net.state_dict().values()):
        assert torch.equal(a, b), name
