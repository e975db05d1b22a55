"""The optimizers without the first-use import of torch._dynamo update exactly as torch's do."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from logitlab.train import eager_optim
from logitlab.train.lazy_adamw import LazyAdamW


def _run(make, steps: int = 4, *, sparse: bool = False) -> tuple[list[torch.Tensor], dict]:
    torch.manual_seed(0)
    table = torch.nn.Parameter(torch.randn(6, 3))
    head = torch.nn.Linear(3, 2)
    params = [table, *head.parameters()]
    opt = make(
        [{"params": [table, head.weight], "weight_decay": 0.1}, {"params": [head.bias], "weight_decay": 0.0}]
    )
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        ids = torch.randint(0, 6, (5,), generator=gen)
        z = head(torch.nn.functional.embedding_bag(ids, table, torch.tensor([0, 2]), sparse=sparse))
        loss = (z - torch.randn(z.shape, generator=gen)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in params], opt.state_dict()


@pytest.mark.parametrize(
    ("ours", "theirs", "sparse"),
    [
        (
            lambda g: eager_optim.AdamW(g, lr=0.05, fused=True),
            lambda g: torch.optim.AdamW(g, lr=0.05, fused=True),
            False,
        ),
        (lambda g: eager_optim.AdamW(g, lr=0.05), lambda g: torch.optim.AdamW(g, lr=0.05), False),
        (
            lambda g: eager_optim.SGD(g, lr=0.1, momentum=0.9),
            lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9),
            False,
        ),
        (lambda g: eager_optim.LazyAdamW(g, lr=0.05), lambda g: LazyAdamW(g, lr=0.05), True),
    ],
)
def test_same_updates_and_state_as_torch(ours, theirs, sparse):
    (a, state_a), (b, state_b) = _run(ours, sparse=sparse), _run(theirs, sparse=sparse)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert state_a["param_groups"] == state_b["param_groups"]
    for key, value in state_b["state"].items():
        for name, tensor in value.items():
            torch.testing.assert_close(state_a["state"][key][name], tensor, rtol=0, atol=0)
    copies = [torch.nn.Parameter(p.clone()) for p in a]
    again = ours([{"params": copies[:2], "weight_decay": 0.1}, {"params": copies[2:], "weight_decay": 0.0}])
    again.load_state_dict(state_a)  # a checkpoint restores into the same class
    assert again.state_dict()["param_groups"] == state_a["param_groups"]


def test_lbfgs_matches_torch():
    def fit(cls):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.zeros(3))
        x, y = torch.randn(20, 3), torch.randn(20)
        opt = cls([w], max_iter=20, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (x @ w - y).pow(2).mean()
            loss.backward()
            return loss

        opt.step(closure)
        return w.detach()

    torch.testing.assert_close(fit(eager_optim.LBFGS), fit(torch.optim.LBFGS), rtol=0, atol=0)


@pytest.mark.slow
def test_fit_imports_neither_dynamo_nor_sklearn():
    """A fit (multi-label and binary tables, sparse input) is not charged the seconds of torch._dynamo or sklearn."""
    code = (
        "import sys, numpy as np\n"
        "from scipy import sparse\n"
        "from logitlab import Classifier\n"
        "rng = np.random.default_rng(0)\n"
        "y = (rng.random((300, 3)) < 0.4).astype(int)\n"
        "X = rng.normal(size=(300, 4))\n"
        "Classifier(epochs=1, device='cpu').fit(X, y)\n"
        "Classifier(epochs=1, device='cpu').fit(X, (X[:, 0] > 0).astype(int))\n"  # binary, cross-fitted
        "Classifier(epochs=1, device='cpu').fit(sparse.random(300, 50, density=0.1, format='csr', random_state=0), y)\n"
        "print('loaded:', *[m for m in ('torch._dynamo', 'sklearn') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "loaded:"
