"""The estimator's set-up contract: every parameter checked before training, verbose progress, the best
epoch kept, lazy image splits streamed, imbalance weights decided in one place (soft labels included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import logitlab as ll
from logitlab import Classifier
from logitlab.data import Split, from_arrays, load_dataset, split_indices
from logitlab.errors import ConfigError
from logitlab.options import CLASSIFIER_DEFAULTS
from logitlab.train import RestoreBestWeights, Trainer
from logitlab.weights import imbalance_weights
from tests.helpers import blobs, fast

FAST = fast(batch_size=32)


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Trainer, "fit", refuse)


def test_defaults_come_from_the_options_module():
    assert Classifier().get_params() == dict(CLASSIFIER_DEFAULTS)


@pytest.mark.parametrize("task", ["multiclass", "auto"])
def test_a_constrained_objective_with_a_multiclass_task_fails_before_training(task, no_training):
    X, y = blobs(classes=3)
    clf = Classifier(task=task, threshold_objective="precision_at_recall=0.9", **FAST)
    with pytest.raises(ConfigError, match="needs per-label thresholds") as info:
        clf.fit(X, y)
    assert info.value.code == "bad-objective"
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize(
    ("params", "phrase"),
    [
        ({"loss": "focal", "loss_options": {"gama": 2.0}}, "gama"),
        ({"loss": "no-such-loss"}, "no-such-loss"),
        ({"model_options": {"hidden": "wide"}}, "hidden"),
    ],
)
def test_loss_and_model_mistakes_fail_before_training(params, phrase, no_training):
    X, y = blobs()
    with pytest.raises(ll.LogitlabError, match=phrase):
        Classifier(**{**FAST, **params}).fit(X, y)


def test_cuda_without_a_gpu_is_a_config_error_before_reading_data():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="CUDA is not available") as info:
        Classifier(device="cuda").check_params()
    assert info.value.code == "device-unavailable" and "device='auto'" in (info.value.fix or "")


def test_verbose_prints_one_plain_line_per_epoch_off_a_terminal(capsys):
    X, y = blobs()
    Classifier(**FAST, cv=1, verbose=True).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("train_loss" in line and "val_loss" in line and "val_roc_auc" in line for line in lines)
    Classifier(**FAST, verbose=False).fit(X, y)
    assert "epoch " not in capsys.readouterr().out


def test_restore_best_weights_loads_the_best_epoch_back():
    model = torch.nn.Linear(2, 1)

    class FakeTrainer:
        pass

    trainer = FakeTrainer()
    trainer.model = model
    cb = RestoreBestWeights()
    for epoch, loss in enumerate([3.0, 1.0, 2.0, float("nan")]):
        with torch.no_grad():
            model.weight.fill_(float(epoch))
        cb.on_epoch_end(trainer, epoch, {"val_loss": loss})
    cb.on_fit_end(trainer)
    assert cb.best_epoch == 1 and cb.best == 1.0
    assert torch.equal(model.weight, torch.ones(1, 2))


def test_fit_keeps_the_epoch_of_lowest_unweighted_validation_loss():
    X, y = blobs(300)
    y[:200] = 0  # imbalanced: the weighted val_loss and the unweighted val_log_loss differ
    bundle = from_arrays(X, y, task="binary", val_size=0.3, test_size=0.0, seed=0)
    # a high learning rate makes the validation loss go up and down
    clf = Classifier(epochs=12, lr=0.05, batch_size=16, device="cpu", cv=1).fit(bundle)
    losses = [row["val_log_loss"] for row in clf.history_]
    best = int(np.argmin(losses))
    assert clf.decisions_["best_epoch"] == best + 1 == clf.history_[best]["epoch"]  # 1-based, as printed
    assert any(row["val_loss"] != pytest.approx(row["val_log_loss"]) for row in clf.history_)
    # the first stratified half of the validation split picked the epoch (the second fits the calibration)
    stop, rest, _, _ = split_indices(bundle.val.y.numpy(), "binary", val_size=0.5, test_size=0.0, seed=2)
    assert len(clf.validation_targets_) == len(rest)
    with torch.no_grad():
        z = clf.predict_logits(Split(bundle.val.x[stop], bundle.val.y[stop]))  # a Split: preprocessed already
        recomputed = torch.nn.functional.binary_cross_entropy_with_logits(z, bundle.val.y[stop].float())
    assert recomputed.item() == pytest.approx(losses[best], rel=1e-4)


def test_without_validation_the_last_epoch_is_kept():
    X, y = blobs()
    clf = Classifier(**FAST, val_size=0.0).fit(X, y)
    assert clf.decisions_["best_epoch"] is None and clf.thresholds_ is None


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, dtype=np.uint8)).save(path)


def test_a_lazy_image_split_reaches_the_trainer_as_a_dataset(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for i in range(24):
        _png(tmp_path / "bright" / f"{i}.png", int(rng.integers(170, 255)))
        _png(tmp_path / "dark" / f"{i}.png", int(rng.integers(0, 80)))
    bundle = load_dataset(tmp_path, max_memory_mb=0.0001, val_size=0.25, test_size=0.0)
    assert not bundle.train.in_memory and not bundle.val.in_memory

    def refuse(self):
        raise AssertionError("a lazy split was materialised")

    monkeypatch.setattr(Split, "materialize", refuse)
    clf = Classifier(model="cnn", epochs=2, batch_size=8, device="cpu").fit(bundle)
    assert clf.predict_logits(bundle.val).shape == (len(bundle.val), 1)
    assert clf.thresholds_ is not None  # tuned on the lazy validation split


def test_imbalance_weights_decide_the_keyword_once_and_count_soft_labels():
    hard = torch.tensor([0, 0, 0, 1, 2, 2])
    w = imbalance_weights(hard, "multiclass", num_classes=3)
    counts = np.bincount(hard.numpy(), minlength=3)
    np.testing.assert_allclose(w.values.numpy(), 6 / (3 * counts), rtol=1e-6)  # scikit-learn's "balanced"
    soft = torch.tensor([[0.8, 0.1, 0.1], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8], [0.0, 1.0, 0.0]])
    w = imbalance_weights(soft, "multiclass", num_classes=3)
    mass = soft.numpy().sum(0)
    assert w.option == "weight" and w.kind == "class_weight"
    np.testing.assert_allclose(w.values.numpy(), 4 / (3 * mass), rtol=1e-6)
    assert imbalance_weights(torch.tensor([[1.0], [0.0]]), "binary").option == "pos_weight"
    assert imbalance_weights(hard, "multiclass", "none") is None


def test_multiclass_soft_labels_keep_their_class_weights():
    X, y = blobs(240, classes=3)
    bundle = from_arrays(X, y, task="multiclass", val_size=0.2, test_size=0.0, seed=0)
    onehot = torch.nn.functional.one_hot(bundle.train.y, 3).float()
    bundle.train.y = onehot * 0.9 + 0.1 / 3  # label-smoothed soft targets
    clf = Classifier(**FAST).fit(bundle)
    weights = clf.decisions_["weights"]
    assert weights is not None and weights["kind"] == "class_weight"
    mass = bundle.train.y.numpy().sum(0)
    np.testing.assert_allclose(weights["values"], mass.sum() / (3 * mass), atol=1e-4)


# ----------------------------------------------------------------------------- random_state (scikit-learn's name)
def test_random_state_is_the_seed_and_seed_is_a_deprecated_alias():
    X, y = blobs(120)
    a = Classifier(**FAST, random_state=5).fit(X, y)
    with pytest.warns(FutureWarning, match="random_state"):
        b = Classifier(**FAST, seed=5).fit(X, y)
    c = Classifier(**FAST, random_state=6).fit(X, y)
    assert a.seed_ == b.seed_ == 5 and c.seed_ == 6
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))  # the same fit
    assert not np.array_equal(a.decision_function(X), c.decision_function(X))
    assert Classifier(random_state=3).set_params(random_state=4).get_params()["random_state"] == 4
    with pytest.raises(ConfigError, match="old name of `random_state`") as err:
        Classifier(**FAST, random_state=1, seed=2).fit(X, y)
    assert err.value.param == "seed"


def test_random_state_none_draws_a_seed_and_a_random_state_object_gives_its_next_integer(no_training):
    X, y = blobs(60)
    drawn = [Classifier(**FAST, random_state=None) for _ in range(3)]
    for clf in drawn:
        clf.training_setup(X, y)
    assert len({clf.seed_ for clf in drawn}) == 3  # a fresh seed each fit (2**31 of them)
    rs = Classifier(**FAST, random_state=np.random.RandomState(0))
    rs.training_setup(X, y)
    assert rs.seed_ == np.random.RandomState(0).randint(2**31)
    with pytest.raises(ConfigError, match="random_state") as err:
        Classifier(random_state=-1).check_params()
    assert err.value.param == "random_state"


def test_a_model_saved_with_seed_loads_with_random_state():
    from pathlib import Path

    saved = Path(__file__).parents[1] / "fixtures" / "saved_2770bf6" / "binary"
    clf = Classifier.load(saved)
    assert clf.get_params()["random_state"] == 0 and clf.get_params()["seed"] is None and clf.seed_ == 0
