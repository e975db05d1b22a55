"""The sparse linear model fitted full-batch (L-BFGS on a torch CSR matrix) reaches scikit-learn's optimum.

The reference is scikit-learn's ``LogisticRegression`` (lbfgs, float64, tolerance 1e-10) on the same scipy
sparse matrix at ``C = 1 / (l2 * n)``: both minimise the same objective, so their coefficients agree to
float32 precision. The classifier's own default (``options.SPARSE_FULL_BATCH``'s ``C``) is checked against
``LogisticRegression(C)`` the same way, per label for multi-label data.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression

from logitlab import Classifier
from logitlab.data.sparse import torch_csr
from logitlab.models.sparse import SparseNet, sparse_linear
from logitlab.options import SPARSE_FULL_BATCH
from logitlab.train import fit_full_batch

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta:UserWarning")

EXACT = {"calibration": "none", "val_size": 0.0, "device": "cpu", "random_state": 0}


def _data(task: str, n: int = 300, f: int = 60, seed: int = 0) -> tuple[sparse.csr_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = sparse.random(n, f, density=0.15, random_state=seed, format="csr", dtype=np.float64)
    z = X @ rng.normal(size=(f, 3)) + 0.5 * rng.normal(size=(n, 3))
    if task == "binary":
        return X, (z[:, 0] > 0.3).astype(int)
    if task == "multiclass":
        return X, z.argmax(1)
    return X, (z > 0.2).astype(int)


def test_the_transposed_gradient_equals_autograd_of_the_dense_product_in_float64():
    torch.manual_seed(0)
    dense = torch.randn(9, 6, dtype=torch.float64) * (torch.rand(9, 6) < 0.4)
    dense[-2:] = 0.0  # trailing empty rows: no bag of their own in embedding_bag
    weight = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    g = torch.randn(9, 3, dtype=torch.float64)
    (sparse_linear(dense.to_sparse_csr(), weight) * g).sum().backward()
    assert weight.grad is not None
    torch.testing.assert_close(weight.grad, dense.T @ g)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_full_batch_fit_on_csr_reaches_sklearns_optimum(task):
    X, y = _data(task)
    n, l2 = X.shape[0], 3e-3
    ref = LogisticRegression(C=1 / (l2 * n), tol=1e-10, max_iter=10_000).fit(X, y)
    outputs = 1 if task == "binary" else int(y.max()) + 1
    model = SparseNet(X.shape[1], outputs)
    if task == "binary":
        loss, target = torch.nn.BCEWithLogitsLoss(), torch.tensor(y, dtype=torch.float32)[:, None]
    else:
        loss, target = torch.nn.CrossEntropyLoss(), torch.tensor(y)
    out = fit_full_batch(model, loss, torch_csr(X), target, l2=l2)
    assert out["converged"]
    w = model.first.weight.detach().double().numpy()  # [F, outputs]
    np.testing.assert_allclose(w, ref.coef_.T, atol=2e-3)  # the penalty makes the weights unique
    with torch.no_grad():
        ours = model(torch_csr(X)).double().numpy()
    if task == "binary":
        np.testing.assert_allclose(ours[:, 0], ref.decision_function(X), atol=2e-3)
    else:  # softmax logits are defined up to a constant per row
        theirs = log_softmax(ref.decision_function(X), 1)
        np.testing.assert_allclose(log_softmax(ours, 1), theirs, rtol=5e-4, atol=2e-3)


def _objective(X, y, W, b, l2, task):
    """The penalised mean log-loss in float64 (multilabel: the mean over rows and labels)."""
    z = X @ W + b
    if task == "multiclass":
        loss = -np.mean(log_softmax(z, 1)[np.arange(len(y)), y])
    else:
        t = y.reshape(len(y), -1)
        loss = np.mean(np.logaddexp(0, z) - t * z)
    return loss + 0.5 * l2 * float((W * W).sum())


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_the_classifiers_default_is_logistic_regression_at_its_c(task):
    X, y = _data(task)
    clf = Classifier(**EXACT).fit(X, y)
    assert clf.model_spec_["name"] == "sparse" and "L-BFGS" in clf.decisions_["epochs"]["solver"]
    assert "lr" not in clf.decisions_ and clf.decisions_["best_epoch"] is None
    training = clf.decisions_["training"]
    C, labels = SPARSE_FULL_BATCH["C"], (y.shape[1] if task == "multilabel" else 1)
    assert training["C"] == C and "options.SPARSE_FULL_BATCH" in training["reason"]
    # the BCE mean runs over labels too: L2 1 / (C * n * L) is LogisticRegression(C) per label
    l2 = 1 / (C * len(y) * labels)
    assert training["weight_decay"] == pytest.approx(l2)
    targets = [y[:, j] for j in range(labels)] if task == "multilabel" else [y]
    fits = [LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, t) for t in targets]
    W = np.concatenate([f.coef_ for f in fits]).T
    b = np.concatenate([f.intercept_ for f in fits])
    ours = clf.decision_function(X).reshape(len(y), -1)
    theirs = X @ W + b
    if task == "multiclass":  # softmax logits are defined up to a constant per row
        ours, theirs = log_softmax(ours, 1), log_softmax(theirs, 1)
    # solved to SPARSE_FULL_BATCH's tolerance (scikit-learn's default for lbfgs), not to 1e-10: the
    # objective agrees to 1e-4, the logits (up to 15 here, weakly penalised) to a few percent
    mine = clf.model_.first
    w, c = mine.weight.detach().double().numpy(), mine.bias.detach().double().numpy()
    best = _objective(X, y, W, b, l2, task)
    assert best - 1e-9 <= _objective(X, y, w, c, l2, task) <= best + 1e-4
    np.testing.assert_allclose(ours, theirs, rtol=5e-2, atol=0.15)


def test_a_hidden_layer_trains_by_minibatches_and_a_decay_given_is_the_l2():
    X, y = _data("binary", n=120)
    hidden = Classifier(epochs=2, device="cpu", model_options={"hidden": [8]}).fit(X, y)
    assert "solver" not in hidden.decisions_["epochs"] and hidden.decisions_["lr"]["lr"] > 0
    given = Classifier(**EXACT, weight_decay=1e-3).fit(X, y)  # a number given is the L2 itself
    assert given.decisions_["training"]["weight_decay"] == 1e-3 and "C" not in given.decisions_["training"]


def test_a_state_over_max_bytes_trains_by_minibatches_and_says_why(monkeypatch):
    from logitlab.estimator import _convex_fit

    X, y = _data("binary", n=120)
    monkeypatch.setattr(_convex_fit, "SPARSE_FULL_BATCH", {**SPARSE_FULL_BATCH, "max_bytes": 1000})
    clf = Classifier(epochs=2, device="cpu", random_state=0).fit(X, y)
    assert clf.model_spec_["name"] == "sparse" and "solver" not in clf.decisions_["epochs"]
    assert clf.decisions_["lr"]["lr"] > 0 and "C" not in clf.decisions_["training"]
    assert any("max_bytes" in n and "minibatches" in n for n in clf.decisions_["notes"])


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_after_calibration_the_model_is_refitted_on_every_row(task, monkeypatch):
    """With a validation split, the final model is LogisticRegression(C) on the training and validation rows."""
    from logitlab.estimator import _training

    X, y = _data(task)
    C, labels = SPARSE_FULL_BATCH["C"], (y.shape[1] if task == "multilabel" else 1)
    l2 = 1 / (C * len(y) * labels)
    targets = [y[:, j] for j in range(labels)] if task == "multilabel" else [y]
    fits = [LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, t) for t in targets]
    W, b = np.concatenate([f.coef_ for f in fits]).T, np.concatenate([f.intercept_ for f in fits])
    best = _objective(X, y, W, b, l2, task)

    def objective(clf):
        layer = clf.model_.first
        w, c = layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()
        return _objective(X, y, w, c, l2, task)

    clf = Classifier(device="cpu", random_state=0, val_size=0.2).fit(X, y)
    assert clf.decisions_["cv"]["folds"] == 1 and clf.decisions_["cv"]["fitted_on"] == "validation"
    assert any("fitted again on all 300 training and validation rows" in n for n in clf.decisions_["notes"])
    assert clf.decisions_["training"]["weight_decay"] == pytest.approx(l2)  # the refit's: all 300 rows
    assert best - 1e-9 <= objective(clf) <= best + 1e-4
    # the calibration and thresholds were fitted on the first fit's logits of the validation rows
    val = clf.validation_targets_.shape[0]
    assert val == 60 and not np.allclose(clf.validation_logits_.numpy(), clf.decision_function(X[-val:]))
    monkeypatch.setattr(_training, "SPARSE_FULL_BATCH", {**SPARSE_FULL_BATCH, "refit": False}, raising=False)
    from logitlab import options

    monkeypatch.setattr(options, "SPARSE_FULL_BATCH", {**SPARSE_FULL_BATCH, "refit": False})
    first = Classifier(device="cpu", random_state=0, val_size=0.2).fit(X, y)
    assert not any("fitted again" in n for n in first.decisions_["notes"])
    assert objective(first) > best + 1e-4  # fitted on 240 of the 300 rows
