"""Every error path, matched by phrase, and make_loss's name/option checks."""

from __future__ import annotations

import pytest
import torch

import logitlab.losses as L
from logitlab.errors import ConfigError, TargetError


def test_make_loss_maps_names_per_task():
    assert isinstance(L.make_loss("binary"), L.BCEWithLogitsLoss)
    assert isinstance(L.make_loss("multiclass"), L.CrossEntropyLoss)
    assert isinstance(L.make_loss("multilabel", "focal"), L.SigmoidFocalLoss)
    assert isinstance(L.make_loss("multiclass", "focal"), L.SoftmaxFocalLoss)
    assert isinstance(L.make_loss("multilabel", "asl"), L.AsymmetricLoss)
    assert isinstance(L.make_loss("multiclass", "cross_entropy"), L.CrossEntropyLoss)
    assert isinstance(L.make_loss("binary", "bce_dice"), L.BCEDiceLoss)
    assert isinstance(L.make_loss("multiclass", "poly1", epsilon=2.0), L.Poly1CrossEntropyLoss)
    la = L.make_loss("multiclass", "logit_adjusted", prior=torch.tensor([3.0, 1.0]))
    assert isinstance(la, L.LogitAdjustedCrossEntropyLoss)
    for name in L.LOSS_NAMES:
        for task in ("binary", "multiclass"):
            try:
                loss = L.make_loss(
                    task, name, **({"prior": torch.ones(2)} if name == "logit_adjusted" else {})
                )
            except ConfigError as err:
                assert err.code == "loss-task-mismatch"
            else:
                assert loss.family == ("softmax" if task == "multiclass" else "sigmoid")


def test_make_loss_rejects_what_does_not_fit():
    with pytest.raises(ConfigError, match="does not fit a multilabel task"):
        L.make_loss("multilabel", "ce")
    with pytest.raises(ConfigError, match="does not fit a multiclass task"):
        L.make_loss("multiclass", "asymmetric")
    with pytest.raises(ConfigError, match="softmax losses take class weights as weight="):
        L.make_loss("multiclass", "ce", pos_weight=torch.ones(3))
    with pytest.raises(ConfigError, match="accepted options: gamma, alpha, pos_weight"):
        L.make_loss("binary", "focal", gama=2.0)
    with pytest.raises(ConfigError, match="to be one of auto, bce"):
        L.make_loss("binary", "hinge")
    with pytest.raises(ConfigError, match="argument `task`"):
        L.make_loss("regression")


@pytest.mark.parametrize(
    ("build", "phrase"),
    [
        (lambda: L.SigmoidFocalLoss(gamma=-1.0), "`gamma` to be >= 0"),
        (lambda: L.SigmoidFocalLoss(alpha=1.5), r"`alpha` to be in \[0.0, 1.0\]"),
        (lambda: L.BCEWithLogitsLoss(label_smoothing=1.0), r"`label_smoothing` to be in \[0.0, 1.0\)"),
        (lambda: L.CrossEntropyLoss(label_smoothing=-0.1), "`label_smoothing`"),
        (lambda: L.AsymmetricLoss(clip=1.0), r"`clip` to be in \[0.0, 1.0\)"),
        (lambda: L.AsymmetricLoss(gamma_neg=-2.0), "`gamma_neg` to be >= 0"),
        (lambda: L.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, float("inf")])), "finite positive"),
        (lambda: L.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 0.0])), "finite positive"),
        (lambda: L.BCEWithLogitsLoss(pos_weight=torch.ones(2, 2)), "1-D tensor"),
        (lambda: L.CrossEntropyLoss(weight=torch.tensor([-1.0, 1.0])), "finite positive"),
        (lambda: L.BCEWithLogitsLoss(reduction="avg"), "`reduction` to be one of 'none', 'mean' or 'sum'"),
        (lambda: L.BCEDiceLoss(reduction="none"), "'mean' or 'sum' for BCE\\+Dice"),
        (lambda: L.BCEDiceLoss(dice_weight=-1), "`dice_weight` to be >= 0"),
        (lambda: L.DiceLoss(smooth=-1), "`smooth` to be >= 0"),
        (lambda: L.LogitAdjustedCrossEntropyLoss(prior=torch.ones(2), tau=-1), "`tau` to be >= 0"),
        (lambda: L.Poly1CrossEntropyLoss(epsilon=-2), "`epsilon` to be >= -1"),
    ],
)
def test_option_errors(build, phrase):
    with pytest.raises(ConfigError, match=phrase) as info:
        build()
    assert "Fix:" in str(info.value)


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (lambda: L.bce_with_logits(torch.zeros(4, 1), torch.zeros(4)), "shaped like the logits"),
        (
            lambda: L.sigmoid_focal_loss(torch.zeros(4), torch.zeros(4, dtype=torch.long)),
            "Expected float targets",
        ),
        (lambda: L.asymmetric_loss(torch.zeros(4, 2), torch.zeros(4, 3)), "shaped like the logits"),
        (lambda: L.soft_dice_loss(torch.zeros(3), [0.0, 1.0, 1.0]), "as tensors"),
        (
            lambda: L.cross_entropy(torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.long)),
            "int64 class indices",
        ),
        (
            lambda: L.cross_entropy(torch.zeros(4, 3), torch.zeros(4, dtype=torch.int32)),
            "int64 class indices",
        ),
        (lambda: L.cross_entropy(torch.zeros(4), torch.zeros(4, dtype=torch.long)), "logits \\[N, C\\]"),
        (
            lambda: L.poly1_cross_entropy(torch.zeros(4, 3), torch.zeros(4, 2)),
            "class probabilities shaped like",
        ),
        (
            lambda: L.bce_with_logits(torch.zeros(4, 2), torch.zeros(4, 2), weight=torch.ones(8, 2)),
            "broadcastable",
        ),
    ],
)
def test_target_errors_point_at_prepare_targets(call, phrase):
    with pytest.raises(TargetError, match=phrase) as info:
        call()
    assert (
        "prepare_targets" in str(info.value) or "per-sample" in str(info.value) or "logit" in str(info.value)
    )


def test_loss_modules_refuse_weights_and_labels_with_the_doctors_words():
    from logitlab.doctor import diagnose
    from logitlab.targets import prepare_targets

    logits, targets = torch.randn(5, 4), torch.ones(5, 4)
    with pytest.raises(TargetError) as info:
        L.BCEWithLogitsLoss(pos_weight=torch.ones(3))(logits, targets)
    finding = diagnose(logits, targets, torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3))).get(
        info.value.code
    )
    assert info.value.code == "pos-weight-wrong-length" and (finding.message, finding.fix) == (
        info.value.message,
        info.value.fix,
    )
    with pytest.raises(TargetError, match="4 entries") as info:
        L.CrossEntropyLoss(weight=torch.ones(4))(torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 1]))
    assert info.value.code == "weight-wrong-shape"
    labels = torch.tensor([0, 1, 2, 3, 1])
    with pytest.raises(TargetError) as prepared:
        prepare_targets(labels, "multiclass", outputs=torch.zeros(5, 3))
    for loss in (
        L.CrossEntropyLoss(),
        L.Poly1CrossEntropyLoss(),
        L.SoftmaxFocalLoss(),
        L.make_loss("multiclass"),
    ):
        with pytest.raises(TargetError) as info:
            loss(torch.randn(5, 3), labels)
        assert info.value.code == "class-index-out-of-range"
        assert (info.value.message, info.value.fix) == (prepared.value.message, prepared.value.fix)
    with pytest.raises(TargetError, match="ignore_index=-1"):
        L.cross_entropy(torch.randn(3, 2), torch.tensor([-1, 0, 1]))


def test_loss_shape_errors_name_the_cause():
    cases = [
        (
            lambda: L.bce_with_logits(torch.zeros(6, 3), torch.tensor([0.0, 1, 2, 0, 1, 2])),
            "class-indices-for-bce",
        ),
        (lambda: L.bce_with_logits(torch.zeros(4, 3), torch.zeros(12)), "flattened-targets"),
        (lambda: L.bce_with_logits(torch.zeros(8, 1), torch.zeros(8)), "broadcast-trap"),
        (
            lambda: L.cross_entropy(torch.zeros(8, 3), torch.zeros(4, dtype=torch.long)),
            "reshape-folded-batch",
        ),
        (
            lambda: L.bce_with_logits(torch.zeros(4, 5), torch.zeros(4, 5), weight=torch.ones(4)),
            "weight-wrong-shape",
        ),
    ]
    for call, code in cases:
        with pytest.raises(TargetError) as info:
            call()
        assert info.value.code == code, str(info.value)


def test_make_loss_names_the_family_of_the_loss_it_refuses():
    with pytest.raises(ConfigError, match="'bce' is a BCE \\(sigmoid\\)-family loss") as info:
        L.make_loss("multiclass", "bce")
    assert "softmax-family" not in str(info.value)
    with pytest.raises(ConfigError, match="'ce' is a cross-entropy \\(softmax\\)-family loss"):
        L.make_loss("binary", "ce")
