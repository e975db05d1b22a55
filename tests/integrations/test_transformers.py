"""Hugging Face Trainer with logitlab's compute_loss_func, monitor and thresholds: tiny random BERT on the CPU."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
from transformers.utils import logging as hf_logging

from logitlab.errors import ConfigError, TargetError, TrainingError
from logitlab.evaluate import tune_thresholds
from logitlab.integrations.transformers import HealthMonitorCallback, make_compute_loss, tune_from_predictions
from tests.reference.losses_reference import ref_asl, ref_focal

ROWS, TOKENS, VOCAB, LABELS = 32, 8, 50, 3


class Tokens(torch.utils.data.Dataset):
    """Token ids and labels; the ``poison``-th row fetched (counting from 1) gets a NaN label."""

    def __init__(self, ids, labels, *, poison=None):
        self.ids, self.labels, self.poison, self.fetched = ids, labels, poison, 0

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        self.fetched += 1
        labels = self.labels[i]
        if self.fetched == self.poison:
            labels = labels.clone()
            labels[1] = float("nan")
        return {
            "input_ids": self.ids[i],
            "attention_mask": torch.ones(TOKENS, dtype=torch.long),
            "labels": labels,
        }


def _bert(num_labels):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=TOKENS, num_labels=num_labels, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    return BertForSequenceClassification(config)


@pytest.fixture(scope="module")
def ids():
    hf_logging.set_verbosity_error()
    return torch.randint(1, VOCAB, (ROWS, TOKENS), generator=torch.Generator().manual_seed(0))


def _train(model, dataset, loss, tmp_path, *, steps=3, accumulation=1, callbacks=()):
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=8, gradient_accumulation_steps=accumulation,
        max_steps=steps, learning_rate=1e-3, use_cpu=True, report_to=[], save_strategy="no",
        logging_strategy="no", disable_tqdm=True, seed=0,
    )  # fmt: skip
    trainer = Trainer(model, args, train_dataset=dataset, compute_loss_func=loss, callbacks=list(callbacks))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
    return trainer


def _same_weights(a, b):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=name)


def test_multilabel_pos_weight_with_accumulation_equals_hand_written_loss(ids, tmp_path):
    y = (torch.rand(ROWS, LABELS, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    pw = torch.tensor([2.0, 3.0, 1.5])

    def hand(outputs, labels, num_items_in_batch=None):  # BCE with pos_weight, over the accumulated batch
        z = outputs["logits"].float()
        return -(pw * labels * F.logsigmoid(z) + (1 - labels) * F.logsigmoid(-z)).sum() / num_items_in_batch

    base = _bert(LABELS)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    _train(ours, Tokens(ids, y), make_compute_loss("multilabel", pos_weight=pw), tmp_path, accumulation=2)
    _train(theirs, Tokens(ids, y), hand, tmp_path, accumulation=2)
    _same_weights(ours, theirs)
    assert not torch.allclose(ours.classifier.weight, base.classifier.weight)  # it did train


def test_multiclass_class_weights_equal_hand_written_loss(ids, tmp_path):
    y = torch.randint(0, LABELS, (ROWS,), generator=torch.Generator().manual_seed(2))
    w = torch.tensor([1.0, 2.0, 0.5])
    base = _bert(LABELS)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    _train(ours, Tokens(ids, y), make_compute_loss("multiclass", weight=w), tmp_path)
    _train(
        theirs,
        Tokens(ids, y),
        lambda out, labels, **_: F.cross_entropy(out["logits"], labels, weight=w),
        tmp_path,
    )
    _same_weights(ours, theirs)


@pytest.mark.parametrize(
    ("name", "options", "reference"),
    [
        ("focal", {"gamma": 2.0, "alpha": None}, lambda z, t: ref_focal(z, t, 2.0, None)),
        ("asl", {}, lambda z, t: ref_asl(z, t, 0.0, 4.0, 0.05)),
    ],
)
def test_focal_and_asl_losses_match_float64_formulas(name, options, reference):
    z, t = torch.randn(8, LABELS) * 3, (torch.rand(8, LABELS) < 0.4).float()
    loss = make_compute_loss("multilabel", name, **options)
    torch.testing.assert_close(loss({"logits": z}, t).double(), reference(z, t).mean(), rtol=1e-5, atol=1e-6)
    # with num_items_in_batch (accumulation over 3 such batches): the same mean, a third of it per batch
    torch.testing.assert_close(
        loss((z,), t, num_items_in_batch=torch.tensor(3 * t.numel())).double(), reference(z, t).mean() / 3
    )


def test_1d_targets_for_multilabel_raise_target_error_with_its_fix(ids, tmp_path):
    y = torch.randint(0, 2, (ROWS,)).float()  # the mistake: [N] targets for 3 labels
    with pytest.raises(TargetError, match=r"shaped like the logits \[8, 3\]; got targets \[8\]") as info:
        _train(_bert(LABELS), Tokens(ids, y), make_compute_loss("multilabel"), tmp_path)
    assert info.value.fix


def test_monitor_stops_on_nan_targets_before_the_update(ids, tmp_path):
    y = (torch.rand(ROWS, LABELS, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    monitor = HealthMonitorCallback(grad_every=1)
    model = _bert(LABELS)
    loss = make_compute_loss("multilabel", monitor=monitor)
    _train(model, Tokens(ids, y), loss, tmp_path, steps=2, callbacks=[monitor])  # clean: no findings
    assert monitor.report().ok and len(monitor.report()) == 0
    assert [s for s, _ in monitor.monitor.grad_norms] == [0, 1]
    monitor = HealthMonitorCallback()
    loss = make_compute_loss("multilabel", monitor=monitor)
    with pytest.raises(TrainingError, match="targets hold NaN") as info:
        poisoned = Tokens(ids, y, poison=2 * 8 + 4)  # the 20th row fetched: batch 2
        _train(model, poisoned, loss, tmp_path, steps=8, callbacks=[monitor])
    assert "Non-finite loss at step 2 (epoch 0, batch 2)" in str(info.value)
    assert info.value.code == "nonfinite-loss"
    assert "loss term: BCEWithLogitsLoss" in str(info.value)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_callback_not_fed_by_the_loss_is_a_config_error(ids, tmp_path):
    y = (torch.rand(ROWS, LABELS) < 0.3).float()
    with pytest.raises(ConfigError, match="make_compute_loss") as info:
        _train(
            _bert(LABELS),
            Tokens(ids, y),
            make_compute_loss("multilabel"),
            tmp_path,
            callbacks=[HealthMonitorCallback()],
        )
    assert info.value.code == "monitor-not-fed"


def test_thresholds_from_predict_equal_tune_thresholds_on_the_logits(ids, tmp_path):
    y = (torch.rand(ROWS, LABELS, generator=torch.Generator().manual_seed(3)) < 0.4).float()
    model = _bert(LABELS)
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_eval_batch_size=8, use_cpu=True, report_to=[]
    )
    trainer = Trainer(model, args, compute_loss_func=make_compute_loss("multilabel"))
    output = trainer.predict(Tokens(ids, y))
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    got = tune_from_predictions(output, "multilabel")
    want = tune_thresholds(logits, y, task="multilabel")
    np.testing.assert_allclose(got.values, want.values, rtol=1e-5)
    assert got.objective == want.objective == "f1"
