"""The sparse-native layer against a float64 dense linear model: forward and gradients."""

import numpy as np
import pytest
import torch
from scipy import sparse

from logitlab.data.sparse import SparseRows, as_sparse, torch_csr
from logitlab.models import build_model
from logitlab.models.sparse import SparseNet, sparse_linear


def _csr(n=40, f=300, density=0.03, seed=0):
    X = sparse.random(n, f, density=density, random_state=seed, format="csr", dtype=np.float64)
    empty = sparse.csr_matrix((1, f))  # rows without a value: first, and three trailing ones
    return sparse.csr_array(sparse.vstack([empty, X, empty, empty, empty], format="csr"))


@pytest.mark.parametrize("sparse_grad", [False, True])
@pytest.mark.parametrize("out_features", [1, 7])
def test_forward_and_gradients_equal_a_float64_dense_linear_model(out_features, sparse_grad):
    X = _csr()
    rng = np.random.default_rng(1)
    W = rng.normal(size=(X.shape[1], out_features))
    b = rng.normal(size=out_features)
    G = rng.normal(size=(X.shape[0], out_features))  # upstream gradient of the outputs
    weight = torch.tensor(W, dtype=torch.float32, requires_grad=True)
    bias = torch.tensor(b, dtype=torch.float32, requires_grad=True)
    out = sparse_linear(torch_csr(X), weight, bias, sparse_grad=sparse_grad)
    (out * torch.tensor(G, dtype=torch.float32)).sum().backward()
    dense = X.toarray()
    np.testing.assert_allclose(out.detach().numpy(), dense @ W + b, rtol=1e-5, atol=1e-5)
    assert weight.grad.is_sparse == sparse_grad  # sparse: one row per stored value (duplicates summed on use)
    grad = weight.grad.to_dense() if sparse_grad else weight.grad
    np.testing.assert_allclose(grad.numpy(), dense.T @ G, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bias.grad.numpy(), G.sum(axis=0), rtol=1e-5, atol=1e-5)


def test_the_net_gives_the_same_logits_for_sparse_and_dense_rows():
    X = _csr()
    for hidden in ([], [16]):
        torch.manual_seed(0)
        net = SparseNet(X.shape[1], 3, hidden=hidden).eval()
        dense = torch.tensor(X.toarray(), dtype=torch.float32)
        torch.testing.assert_close(net(torch_csr(X)), net(dense), rtol=1e-5, atol=1e-6)


def test_auto_picks_the_sparse_model_for_sparse_rows_and_a_prior_sets_its_bias():
    net = build_model(
        "auto", input_shape=(50,), n_outputs=2, sparse_input=True, prior=[0.1, 0.5], task="multilabel"
    )
    assert net.model_spec["name"] == "sparse" and net.model_spec["hidden"] == []
    np.testing.assert_allclose(net.head.bias.detach().numpy(), [np.log(0.1 / 0.9), 0.0], atol=1e-6)
    assert build_model("auto", input_shape=(50,), n_outputs=2).model_spec["name"] == "mlp"


def test_native_rows_give_sparse_batches_of_the_selected_rows():
    X = as_sparse(_csr())
    rows = SparseRows(X, native=True).subset(np.array([5, 2, 41]))
    batch = rows.torch_batch([0, 2])
    assert batch.layout == torch.sparse_csr
    np.testing.assert_allclose(batch.to_dense().numpy(), X.toarray()[[5, 41]], rtol=1e-6)
