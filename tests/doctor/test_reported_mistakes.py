"""Mistakes that real users reported in public threads, rebuilt as they described them.

Each case holds the tensors as the reporter had them (sizes shrunk where only the pattern matters), the
loss they used, the code the doctor must give, a phrase of the cause its message must name, and the codes
that would tell the wrong story (the doctor's earlier answers, e.g. a label-count mismatch for class
indices). Where a logitlab loss takes the same tensors, it must refuse them with the same code and the
same wording (``boundary``). The correct setups use the same shapes, set right, and must give no warning
or error. Every case cites its source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import logitlab as ll
import logitlab.losses as L
from logitlab.doctor import CODES, HealthMonitor, diagnose
from logitlab.errors import TargetError

Setup = tuple[Tensor, Tensor, Any]


@dataclass(frozen=True)
class Case:
    """One reported mistake and what the doctor must say about it."""

    name: str
    source: str  # the public thread the reproduction follows
    make: Callable[[], Setup]  # (outputs, targets, loss_fn), built from a seeded generator
    code: str  # the finding that names the real cause
    cause: str  # a regular expression the finding's message (or fix) must match
    wrong: tuple[str, ...] = ()  # codes that would point at the wrong cause
    first: bool = True  # the cause is the first error (False where another true cause comes first)
    boundary: str | None = None  # "sigmoid"/"softmax": logitlab's loss must raise the same cause
    task: str | None = None


def lin(n: int, c: int, *, scale: float = 1.0) -> Tensor:
    """Logits from a Linear layer (an autograd graph that is not an activation), [n, c]."""
    return nn.Linear(8, c)(torch.randn(n, 8)) * scale


def seg(n: int, c: int, h: int = 8, w: int = 8) -> Tensor:
    """Per-pixel logits [n, c, h, w] from a 1x1 convolution."""
    return nn.Conv2d(3, c, 1)(torch.randn(n, 3, h, w))


def labels(n: int, c: int) -> Tensor:
    return torch.arange(n) % c


def multi_hot(n: int, c: int) -> Tensor:
    t = (torch.rand(n, c) < 0.3).float()
    t[0, :2] = 1.0  # at least one row with two labels
    return t


def log2_bce(x: Tensor, y: Tensor) -> Tensor:
    p = torch.sigmoid(x)
    return -(y * torch.log2(p) + (1 - y) * torch.log2(1 - p)).mean()


def stable_bce(x: Tensor, y: Tensor) -> Tensor:
    return -(y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)).mean()


def tag_ids(n: int, vocab: int, k: int) -> Tensor:
    """Padded tag-index lists [n, k] (0 pads), as an image-tagging data set stores them."""
    ids = torch.randint(1, vocab, (n, k))
    ids[:, k // 2 :] = 0
    return ids


def imbalanced_trained(n: int, rate: float, pos_weight: float) -> Setup:
    """Targets with a base rate ``rate`` and logits a pos_weight-trained model gives: shifted by log(w)."""
    y = (torch.rand(n, 1) < rate).float()
    y[0, 0], y[1, 0] = 1.0, 0.0
    logits = math.log(rate / (1 - rate)) + math.log(pos_weight) + 2.0 * (y - rate) + 0.3 * torch.randn(n, 1)
    return logits, y, nn.BCEWithLogitsLoss(pos_weight=torch.tensor([pos_weight]))


U = "https://github.com/"
CASES = [
    # ---- class indices given to a sigmoid/BCE loss over C >= 2 outputs ----------------------------------
    Case("bceloss-indices-two-outputs", U + "patrickloeber/pytorchTutorial/issues/30",
         lambda: (lin(4, 2), torch.tensor([0, 1, 1, 0]), nn.BCELoss()),
         "class-indices-for-bce", r"one class index per row", ("label-count-mismatch",), first=False),
    Case("unet-two-channels-bceloss", U + "PacktPublishing/Modern-Computer-Vision-with-PyTorch/issues/25",
         lambda: (torch.sigmoid(seg(4, 2)), (torch.rand(4, 8, 8) < 0.5).float(), nn.BCELoss()),
         "class-indices-for-bce", r"one class index per position", ("label-count-mismatch",)),
    Case("lstm-15-labels-ids", U + "FernandoLpz/Text-Classification-LSTMs-PyTorch/issues/9",
         lambda: (lin(64, 15), labels(64, 15), nn.BCEWithLogitsLoss()),
         "class-indices-for-bce", r"class index per row", ("label-count-mismatch", "loss-family-mismatch"),
         boundary="sigmoid"),
    Case("float-class-ids-bce", U + "FernandoLpz/Text-Classification-LSTMs-PyTorch/issues/9",
         lambda: (lin(64, 15), labels(64, 15).float(), nn.BCEWithLogitsLoss()),
         "class-indices-for-bce", r"values in \[0, 14\]", ("label-count-mismatch",), boundary="sigmoid"),
    Case("tag-index-lists", U + "YuqingWang1029/Multiple-instance-learning/issues/6",
         lambda: (torch.sigmoid(lin(32, 50)), tag_ids(32, 50, 6), F.binary_cross_entropy),
         "class-indices-for-bce", r"label indices .*multi-hot \[32, 50\]", ("label-count-mismatch",)),
    Case("unet-mask-indices-bceloss", U + "ugent-korea/pytorch-unet-segmentation/issues/9",
         lambda: (torch.sigmoid(seg(2, 2)), torch.randint(0, 2, (2, 8, 8)), nn.BCELoss()),
         "class-indices-for-bce", r"0/1 target per logit", ("label-count-mismatch", "int-targets-for-bce")),
    # ---- one sample without its batch dimension ----------------------------------------------------------
    Case("cbow-one-hot-no-batch", "https://discuss.pytorch.org/t/how-exactly-should-i-understand-the-cross-entropy-loss-function/61183",
         lambda: (lin(1, 50)[0], F.one_hot(torch.tensor(7), 50), nn.CrossEntropyLoss()),
         "missing-batch-dimension", r"one sample without its batch", ("single-logit-cross-entropy",)),
    Case("perceptron-1d-input", U + "miaoyukongkong/Programming-Notes",
         lambda: (torch.sigmoid(lin(1, 10)[0]), torch.tensor([0, 1, 1, 0]), nn.CrossEntropyLoss()),
         "missing-batch-dimension", r"without a batch dimension", ("single-logit-cross-entropy",), first=False),
    Case("segmentation-batch-of-one", U + "sinAshish/Multi-Scale-Attention/issues/16",
         lambda: (seg(1, 5), torch.randint(0, 5, (8, 8)), nn.CrossEntropyLoss()),
         "missing-batch-dimension", r"lost their batch dimension", ("batch-size-mismatch",),
         ),
    Case("unet-ce-mask-squeezed", U + "sunjesse/shape-attentive-unet/issues/8",
         lambda: (seg(1, 2), torch.randint(0, 2, (8, 8)), F.cross_entropy),
         "missing-batch-dimension", r"targets.view\(1, 8, 8\)", ("batch-size-mismatch",)),
    Case("unet-bce-channel-missing", U + "sunjesse/shape-attentive-unet/issues/8",
         lambda: (seg(1, 1), (torch.rand(1, 8, 8) < 0.5).float(), nn.BCEWithLogitsLoss()),
         "broadcast-trap", r"view_as", ("missing-batch-dimension", "label-count-mismatch"), boundary="sigmoid"),
    Case("prediction-1x1-target-1", U + "PacktPublishing/Modern-Computer-Vision-with-PyTorch/issues/73",
         lambda: (torch.sigmoid(lin(1, 1)), torch.tensor([1.0]), nn.BCELoss()),
         "broadcast-trap", r"view_as"),
    Case("mask-with-channel-for-ce", U + "zijundeng/pytorch-semantic-segmentation/issues/21",
         lambda: (seg(2, 2), torch.randint(0, 2, (2, 1, 8, 8)), nn.CrossEntropyLoss()),
         "class-targets-wrong-form", r"squeeze\(1\)"),
    # ---- [N, C] targets flattened, or a reshape that folded the batch ---------------------------------------
    Case("one-hot-label-ids-view-1", U + "deepset-ai/FARM/issues/100",
         lambda: (lin(8, 4), F.one_hot(labels(8, 4), 4).view(-1), nn.CrossEntropyLoss()),
         "flattened-targets", r"32 = 8 x 4", ("batch-size-mismatch",), boundary="softmax"),
    Case("bert-logits-view-num-labels-1", U + "huggingface/transformers/issues/618",
         lambda: (lin(8, 2).view(-1, 1), labels(8, 2), nn.CrossEntropyLoss()),
         "reshape-folded-batch", r"2x the targets' rows", ("batch-size-mismatch", "single-logit-cross-entropy")),
    Case("wideresnet-4x-batch", U + "uoguelph-mlrg/Cutout/issues/16",
         lambda: (lin(128, 10), labels(32, 10), nn.CrossEntropyLoss()),
         "reshape-folded-batch", r"4x the targets' rows", ("batch-size-mismatch",), boundary="softmax"),
    Case("six-inputs-six-times-batch", U + "pytorch/pytorch/issues/139031",
         lambda: (lin(60, 3), labels(10, 3), nn.CrossEntropyLoss()),
         "reshape-folded-batch", r"6x the targets' rows", ("batch-size-mismatch",), boundary="softmax"),
    Case("fixed-batch-size-last-batch", U + "xinge008/Cylinder3D/issues/58",
         lambda: (lin(6, 20), labels(2, 20), nn.CrossEntropyLoss()),
         "reshape-folded-batch", r"fixed batch size", ("batch-size-mismatch",), boundary="softmax"),
    # ---- predictions (argmax, rounding) passed where logits belong ------------------------------------------
    Case("argmax-in-dependency-loss", U + "Ugenteraan/Deep_Hierarchical_Classification/issues/6",
         lambda: (torch.argmax(lin(16, 5), dim=1), labels(16, 5), nn.CrossEntropyLoss()),
         "predictions-not-logits", r"not logits", ("single-logit-cross-entropy", "loss-raised")),
    Case("backprop-through-argmax", U + "pytorch/pytorch/issues/1339",
         lambda: (torch.max(lin(16, 3), 1)[1], labels(16, 3), nn.CrossEntropyLoss()),
         "predictions-not-logits", r"no gradient", ("single-logit-cross-entropy",)),
    Case("argmax-float-coordinates", U + "LZGMatrix/BOP19_CDPN_2019ICCV/issues/4",
         lambda: (torch.argmax(lin(16, 64), 1).float(), torch.rand(16) * 63, F.l1_loss),
         "predictions-not-logits", r"whole numbers", ("targets-out-of-range", "manual-loss-mismatch")),
    # ---- the same output for every input ---------------------------------------------------------------------
    Case("bert-same-logits-in-batch", U + "huggingface/transformers/issues/1574",
         lambda: (torch.tensor([[0.7105, -0.8978]]).repeat(19, 1), labels(19, 2), nn.CrossEntropyLoss()),
         "constant-outputs", r"All 19 rows"),
    Case("eval-same-logits-binary", U + "huggingface/transformers/issues/22545",
         lambda: (torch.tensor([[-0.0411, 0.1083]]).repeat(8, 1), labels(8, 2), F.cross_entropy),
         "constant-outputs", r"same answer"),
    Case("loss-stuck-0693", U + "Atomu2014/product-nets/issues/1",
         lambda: (torch.zeros(64, 1), (torch.rand(64, 1) < 0.5).float(), nn.BCEWithLogitsLoss()),
         "constant-outputs", r"chance level \(ln 2 per label", ("outputs-look-like-probabilities",)),
    Case("always-predicts-half", "https://datascience.stackexchange.com/questions/28481/reason-for-having-both-low-loss-and-same-predicted-class",
         lambda: (torch.sigmoid(lin(128, 1) * 0), labels(128, 2).float()[:, None], nn.BCELoss()),
         "constant-outputs", r"All 128 rows"),
    # ---- multi-hot rows given to cross entropy: no argmax fix that drops labels ------------------------------
    Case("multilabel-emotions-ce", U + "wenliangdai/Modality-Transferable-MER/issues/3",
         lambda: (lin(32, 6), multi_hot(32, 6), nn.CrossEntropyLoss()),
         "multi-hot-with-cross-entropy", r"exactly one class per row", ("class-targets-wrong-form",)),
    Case("plate-characters-multi-hot", U + "pytorch/pytorch/issues/1258",
         lambda: (lin(4, 253), multi_hot(4, 253).double(), nn.CrossEntropyLoss()),
         "multi-hot-with-cross-entropy", r"multi-label", ("class-targets-wrong-form",)),
    Case("overlapping-masks-long-ce", U + "usuyama/pytorch-unet/issues/9",
         lambda: (seg(2, 4), (torch.rand(2, 4, 8, 8) < 0.4).long(), F.cross_entropy),
         "multi-hot-with-cross-entropy", r"several \(or no\)|positives", ("class-targets-wrong-form",)),
    # ---- labels outside 0..C-1: the fix that fits the values ---------------------------------------------------
    Case("csv-labels-minus-one", U + "EricFillion/happy-transformer/issues/248",
         lambda: (lin(12, 2), torch.tensor([-1, 0, 1] * 4), nn.CrossEntropyLoss()),
         "class-index-out-of-range", r"ignore_index=-1", boundary="softmax"),
    Case("void-label-minus-one", U + "JindongJiang/RedNet/issues/13",
         lambda: (seg(2, 5), torch.randint(0, 6, (2, 8, 8)) - 1, nn.CrossEntropyLoss()),
         "class-index-out-of-range", r"ignore_index=-1"),
    Case("cifar-labels-1-to-10", U + "pytorch/pytorch/issues/15666",
         lambda: (lin(20, 10), labels(20, 10) + 1, nn.CrossEntropyLoss()),
         "class-index-out-of-range", r"subtract 1", boundary="softmax"),
    Case("greyscale-mask-values", U + "milesial/Pytorch-UNet/issues/291",
         lambda: (seg(2, 2), torch.randint(0, 2, (2, 8, 8)) * 255, nn.CrossEntropyLoss()),
         "class-index-out-of-range", r"raw pixel values"),
    Case("weather-classes-target-4", U + "aws/studio-lab-examples/issues/236",
         lambda: (lin(10, 4), labels(10, 5), nn.CrossEntropyLoss()),
         "class-index-out-of-range", r"return 5 logits", boundary="softmax"),
    Case("one-class-head-target-1", U + "johschmidt42/PyTorch-Object-Detection-Faster-RCNN-Tutorial/issues/7",
         lambda: (lin(16, 1), labels(16, 2), nn.CrossEntropyLoss()),
         "single-logit-cross-entropy", r"always 0", ("class-index-out-of-range",)),
    # ---- weights of the wrong length or axis ---------------------------------------------------------------------
    Case("class-weight-1x19", U + "tsunghan-wu/RandLA-Net-pytorch/issues/26",
         lambda: (lin(32, 19), labels(32, 19), nn.CrossEntropyLoss(weight=torch.ones(1, 19))),
         "weight-wrong-shape", r"1-D \[19\]"),
    Case("class-weight-2-for-3", U + "ispamm/MHyEEG/issues/3",
         lambda: (lin(8, 3), torch.tensor([2, 1, 2, 2, 1, 1, 2, 1]), nn.CrossEntropyLoss(weight=torch.tensor([1.4, 0.6]))),
         "weight-wrong-shape", r"2 entries .* 3 classes", boundary="softmax"),
    Case("class-weight-nan-3-for-2", U + "DIVA-DIA/DeepDIVA/pull/3",
         lambda: (lin(16, 2), labels(16, 2), nn.CrossEntropyLoss(weight=torch.tensor([0.4, 0.6, float("nan")]))),
         "weight-wrong-shape", r"3 entries .* 2 classes"),
    Case("class-weight-10-for-6", U + "imranulashrafi/banner/issues/2",
         lambda: (lin(30, 6), labels(30, 6), nn.CrossEntropyLoss(weight=torch.rand(10) + 0.5)),
         "weight-wrong-shape", r"10 entries", boundary="softmax"),
    Case("pos-weight-per-class", U + "pytorch/pytorch/issues/27936",
         lambda: (torch.randn(4, 10, 10), (torch.rand(4, 10, 10) < 0.5).float(),
                  nn.BCEWithLogitsLoss(pos_weight=torch.tensor([0.1, 0.9]))),
         "pos-weight-wrong-length", r"one weight per class", boundary="sigmoid"),
    Case("pos-weight-channel-first", U + "open-mmlab/mmsegmentation/issues/2723",
         lambda: (seg(2, 9, 4, 6), (torch.rand(2, 9, 4, 6) < 0.3).float(),
                  functools_partial_bce(pos_weight=torch.ones(9) * 2)),
         "pos-weight-wrong-axis", r"last axis", boundary="sigmoid"),
    Case("bce-weight-per-sample", U + "pytorch/pytorch/issues/25174",
         lambda: (lin(4, 5), multi_hot(4, 5), nn.BCEWithLogitsLoss(weight=torch.rand(4))),
         "weight-wrong-shape", r"unsqueeze\(1\)", boundary="sigmoid"),
    # ---- shapes the doctor already named right (kept so they stay right) ---------------------------------------
    Case("bce-n1-vs-n", U + "pytorch/pytorch/issues/1939",
         lambda: (lin(64, 1), (torch.rand(64) < 0.5).float(), nn.BCEWithLogitsLoss()),
         "broadcast-trap", r"\[64, 64\]", boundary="sigmoid"),
    Case("skorch-squeezed-target", U + "skorch-dev/skorch/issues/137",
         lambda: (lin(128, 1), (torch.rand(128) < 0.5).float(), nn.BCEWithLogitsLoss()),
         "broadcast-trap", r"view_as", boundary="sigmoid"),
    Case("nuswide-21-labels-12-logits", U + "jiangqy/ADSH-AAAI2018/issues/5",
         lambda: (lin(64, 12), multi_hot(64, 21), nn.BCEWithLogitsLoss()),
         "label-count-mismatch", r"21 label columns for 12 logits", boundary="sigmoid"),
    Case("bert-multilabel-5-vs-6", U + "lonePatient/Bert-Multi-Label-Text-Classification/issues/43",
         lambda: (lin(8, 6), multi_hot(8, 5), nn.BCEWithLogitsLoss()),
         "label-count-mismatch", r"5 label columns for 6 logits", boundary="sigmoid"),
    Case("ecg-10-segment-labels", U + "Vidhiwar/multimodule-ecg-classification/issues/4",
         lambda: (lin(16, 6), torch.randint(0, 6, (16, 10)), nn.CrossEntropyLoss()),
         "label-count-mismatch", r"10 target columns for 6 classes", boundary="softmax"),
    Case("patch-discriminator-one-label", U + "znxlwm/pytorch-MNIST-CelebA-cGAN-cDCGAN/issues/11",
         lambda: (torch.sigmoid(seg(16, 6, 6, 1)[..., 0]), torch.ones(16), nn.BCELoss()),
         "target-shape-mismatch", r"expand_as", ("class-indices-for-bce", "label-count-mismatch")),
    # ---- activations before a loss that applies its own ----------------------------------------------------------
    Case("logsoftmax-before-ce", U + "PacktPublishing/PyTorch-Ultimate-2023---From-Basics-to-Cutting-Edge/pull/3",
         lambda: (F.log_softmax(lin(16, 3), 1), labels(16, 3), nn.CrossEntropyLoss()),
         "log-softmax-before-cross-entropy", r"log_softmax"),
    Case("sigmoid-before-bcewithlogits", U + "PacktPublishing/PyTorch-Ultimate-2023---From-Basics-to-Cutting-Edge/pull/3",
         lambda: (torch.sigmoid(lin(16, 4)), multi_hot(16, 4), nn.BCEWithLogitsLoss()),
         "sigmoid-before-logits-loss", r"squashed twice"),
    Case("token-confidence-double-sigmoid", U + "cvg/glue-factory/issues/89",
         lambda: (torch.sigmoid(lin(32, 1)), (torch.rand(32, 1) < 0.5).float(), nn.BCEWithLogitsLoss(reduction="none")),
         "sigmoid-before-logits-loss", r"sigmoid"),
    # ---- a hand-written BCE in the wrong log base; probabilities of a weighted loss ----------------------------------
    Case("bce-log-base-2", U + "SorawitChok/Neural-Network-from-scratch-in-Cpp/pull/6",
         lambda: (lin(64, 1), (torch.rand(64, 1) < 0.5).float(), log2_bce),
         "manual-loss-log-base", r"1/ln 2 = 1\.4427", ("manual-loss-mismatch",)),
    Case("class-weights-miscalibrated", "https://datascience.stackexchange.com/questions/58631/is-there-a-way-to-re-calibrate-predicted-probabilities-after-using-class-weights",
         lambda: imbalanced_trained(2000, 0.08, 11.5),
         "uncalibrated-weighted-loss", r"mean predicted probability is 0\.[3-9]\d* against a base rate of 0\.0"),
]  # fmt: skip


def functools_partial_bce(pos_weight: Tensor) -> Any:
    import functools

    return functools.partial(F.binary_cross_entropy_with_logits, pos_weight=pos_weight)


def _report(case_make: Callable[[], Setup], task: str | None = None) -> Any:
    torch.manual_seed(0)
    outputs, targets, loss_fn = case_make()
    return diagnose(outputs, targets, loss_fn, task=task), (outputs, targets)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reported_mistake_names_its_real_cause(case: Case) -> None:
    report, _ = _report(case.make, case.task)
    finding = report.get(case.code)
    assert finding is not None, f"{case.source}\n{report}"
    assert re.search(case.cause, finding.message + " " + finding.fix), (case.cause, finding)
    assert not set(case.wrong) & set(report.codes), f"wrong cause given: {report.codes}"
    if finding.severity == "error" and case.first:
        assert report.errors[0].code == case.code, report.codes


def _weights(loss_fn: Any) -> dict[str, Any]:
    """pos_weight / weight of a torch loss module or of a functools.partial of a functional."""
    found = {k: getattr(loss_fn, k, None) for k in ("pos_weight", "weight")}
    found.update({k: v for k, v in (getattr(loss_fn, "keywords", None) or {}).items() if k in found})
    return found


BOUNDARY = [c for c in CASES if c.boundary]


@pytest.mark.parametrize("case", BOUNDARY, ids=[c.name for c in BOUNDARY])
def test_logitlab_losses_refuse_the_same_mistake_with_the_same_words(case: Case) -> None:
    report, (outputs, targets) = _report(case.make, case.task)
    finding = report.get(case.code)
    weights = _weights(case.make()[2])
    with pytest.raises(TargetError) as info:
        if case.boundary == "sigmoid":
            L.bce_with_logits(outputs.detach(), targets, **weights)
        else:
            L.cross_entropy(outputs.detach(), targets, weight=weights["weight"])
    assert info.value.code == case.code, str(info.value)
    assert info.value.message in finding.message and info.value.fix == finding.fix


def _correct() -> dict[str, tuple[str, Callable[[], Setup]]]:
    def scattered() -> Tensor:
        ids = tag_ids(32, 50, 6)
        t = torch.zeros(32, 50).scatter_(1, ids, 1.0)
        t[:, 0] = 0.0  # the padding index is not a tag
        return t

    ignore = labels(12, 2).clone()
    ignore[::3] = -1
    white = labels(24, 3).clone()
    white[::4] = 255
    return {
        "ce-two-outputs": (U + "patrickloeber/pytorchTutorial/issues/30",
                           lambda: (lin(4, 2), torch.tensor([0, 1, 1, 0]), nn.CrossEntropyLoss())),
        "segmentation-ce": (U + "PacktPublishing/Modern-Computer-Vision-with-PyTorch/issues/25",
                            lambda: (seg(4, 2), torch.randint(0, 2, (4, 8, 8)), nn.CrossEntropyLoss())),
        "segmentation-one-channel-bce": (U + "sunjesse/shape-attentive-unet/issues/8",
                                         lambda: (seg(4, 1), (torch.rand(4, 1, 8, 8) < 0.5).float(), nn.BCEWithLogitsLoss())),
        "multilabel-15": (U + "FernandoLpz/Text-Classification-LSTMs-PyTorch/issues/9",
                          lambda: (lin(64, 15), multi_hot(64, 15), nn.BCEWithLogitsLoss())),
        "tags-scattered-multi-hot": (U + "YuqingWang1029/Multiple-instance-learning/issues/6",
                                     lambda: (lin(32, 50), scattered(), L.make_loss("multilabel", "focal"))),
        "unbatched-sample-index": (U + "pytorch/pytorch/issues/1258",
                                   lambda: (lin(1, 50)[0], torch.tensor(7), nn.CrossEntropyLoss())),
        "cbow-with-batch-dimension": ("https://discuss.pytorch.org/t/how-exactly-should-i-understand-the-cross-entropy-loss-function/61183",
                                      lambda: (lin(1, 50), torch.tensor([7]), nn.CrossEntropyLoss())),
        "segmentation-batch-of-one": (U + "sinAshish/Multi-Scale-Attention/issues/16",
                                      lambda: (seg(1, 5), torch.randint(0, 5, (1, 8, 8)), nn.CrossEntropyLoss())),
        "one-hot-float-ce": (U + "IGNF/FLAIR-1/issues/9",
                             lambda: (lin(8, 4), F.one_hot(labels(8, 4), 4).float(), nn.CrossEntropyLoss())),
        "one-hot-argmax-ce": (U + "deepset-ai/FARM/issues/100",
                              lambda: (lin(8, 4), F.one_hot(labels(8, 4), 4).argmax(1), nn.CrossEntropyLoss())),
        "flatten-per-sample": (U + "uoguelph-mlrg/Cutout/issues/16",
                               lambda: (lin(32, 10), labels(32, 10), nn.CrossEntropyLoss())),
        "last-batch-own-size": (U + "xinge008/Cylinder3D/issues/58",
                                lambda: (lin(2, 20), labels(2, 20), nn.CrossEntropyLoss())),
        "multilabel-emotions-bce": (U + "wenliangdai/Modality-Transferable-MER/issues/3",
                                    lambda: (lin(32, 6), multi_hot(32, 6), nn.BCEWithLogitsLoss())),
        "ignore-index-minus-one": (U + "EricFillion/happy-transformer/issues/248",
                                   lambda: (lin(12, 2), ignore, nn.CrossEntropyLoss(ignore_index=-1))),
        "ignore-index-255-no-reduction": (U + "pytorch/pytorch/issues/15508",
                                          lambda: (lin(24, 3), white, nn.CrossEntropyLoss(ignore_index=255, reduction="none"))),
        "mask-as-class-ids": (U + "milesial/Pytorch-UNet/issues/291",
                              lambda: (seg(2, 2), torch.randint(0, 2, (2, 8, 8)), nn.CrossEntropyLoss())),
        "class-weight-19": (U + "tsunghan-wu/RandLA-Net-pytorch/issues/26",
                            lambda: (lin(38, 19), labels(38, 19), nn.CrossEntropyLoss(weight=torch.ones(19)))),
        "pos-weight-c11": (U + "open-mmlab/mmsegmentation/issues/2723",
                           lambda: (seg(2, 9, 4, 6), (torch.rand(2, 9, 4, 6) < 0.3).float(),
                                    functools_partial_bce(pos_weight=torch.full((9, 1, 1), 2.0)))),
        "bce-weight-per-sample-column": (U + "pytorch/pytorch/issues/25174",
                                         lambda: (lin(4, 5), multi_hot(4, 5), nn.BCEWithLogitsLoss(weight=torch.rand(4, 1)))),
        "bce-same-shape": (U + "pytorch/pytorch/issues/1939",
                           lambda: (lin(64, 1), (torch.rand(64, 1) < 0.5).float(), nn.BCEWithLogitsLoss())),
        "multilabel-21": (U + "jiangqy/ADSH-AAAI2018/issues/5",
                          lambda: (lin(64, 21), multi_hot(64, 21), nn.BCEWithLogitsLoss())),
        "logits-not-argmax": (U + "Ugenteraan/Deep_Hierarchical_Classification/issues/6",
                              lambda: (lin(16, 5), labels(16, 5), nn.CrossEntropyLoss())),
        "patch-discriminator-expanded": (U + "znxlwm/pytorch-MNIST-CelebA-cGAN-cDCGAN/issues/11",
                                         lambda: (seg(16, 6, 6, 1)[..., 0], torch.ones(16, 6, 6), nn.BCEWithLogitsLoss())),
        "varied-logits": (U + "huggingface/transformers/issues/1574",
                          lambda: (lin(19, 2), labels(19, 2), nn.CrossEntropyLoss())),
        "bce-natural-log": (U + "SorawitChok/Neural-Network-from-scratch-in-Cpp/pull/6",
                            lambda: (lin(64, 1), (torch.rand(64, 1) < 0.5).float(), stable_bce)),
        "weighted-loss-is-fine": ("https://datascience.stackexchange.com/questions/58631",
                                  lambda: imbalanced_trained(2000, 0.08, 11.5)),
        "class-weights-ce": (U + "ispamm/MHyEEG/issues/3",
                             lambda: (lin(8, 3), torch.tensor([2, 1, 2, 2, 1, 1, 2, 0]),
                                      nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.4, 0.6])))),
    }  # fmt: skip


CORRECT = _correct()


@pytest.mark.parametrize("name", list(CORRECT))
def test_correct_setup_of_the_same_shapes_gives_no_warning(name: str) -> None:
    source, make = CORRECT[name]
    report, _ = _report(make)
    assert [f for f in report if f.severity != "info"] == [], f"{source}\n{report}"


def test_the_corpus_is_large_enough_and_cites_its_sources() -> None:
    assert len(CASES) >= 30 and len(CORRECT) >= 20
    assert all(c.source.startswith("https://") for c in CASES)
    assert {c.code for c in CASES} <= set(CODES)


def test_monitor_names_constant_outputs_during_training() -> None:
    """The loss stuck at 0.693147 (product-nets issue 1) while the logits never move, seen from the monitor."""
    monitor = HealthMonitor(log_every=10, stats_every=2, loss_fn=nn.BCEWithLogitsLoss())
    y = (torch.rand(64, 1) < 0.5).float()
    for step in range(20):
        logits = torch.zeros(64, 1)
        monitor.observe(logits, y, F.binary_cross_entropy_with_logits(logits, y), step=step)
    finding = monitor.report().get("constant-outputs")
    assert finding is not None and "chance level (ln 2" in finding.message
    assert monitor.history[-1]["logit_spread"] == 0.0


def test_monitor_stays_quiet_on_varied_outputs() -> None:
    monitor = HealthMonitor(log_every=10, stats_every=2)
    for step in range(20):
        monitor.observe(torch.randn(32, 3), None, loss_value=1.0, step=step)
    assert "constant-outputs" not in monitor.report().codes


def test_every_library_name_in_a_fix_exists() -> None:
    """A fix that names `ll.X` or `logitlab.X` must name something that exists (calibrate lands with issue 12)."""
    pending = {"calibrate"}
    texts = []
    for case in CASES:
        report, _ = _report(case.make, case.task)
        texts += [f.message + " " + f.fix for f in report]
    names = set(re.findall(r"\bll\.([A-Za-z_]\w*)", " ".join(texts)))
    assert names, "the corpus should exercise fixes that name library functions"
    for name in sorted(names - pending):
        assert hasattr(ll, name), name
    for dotted in set(re.findall(r"\blogitlab\.([a-z_]+\.[A-Za-z_]\w*)", " ".join(texts))):
        module, attr = dotted.rsplit(".", 1)
        assert hasattr(__import__(f"logitlab.{module}", fromlist=[attr]), attr), dotted


NEW_CODES = (
    "class-indices-for-bce",
    "missing-batch-dimension",
    "flattened-targets",
    "reshape-folded-batch",
    "target-shape-mismatch",
    "predictions-not-logits",
    "constant-outputs",
    "manual-loss-log-base",
    "uncalibrated-weighted-loss",
)


def test_docs_give_every_new_code_an_example_and_a_source() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "doctor.md").read_text()
    section = doc.split("## Mistakes users reported", 1)[1].split("\n## ", 1)[0]
    for code in NEW_CODES:
        row = re.search(rf"^\| `{code}` \| `[^`]+`.*\| .*\]\(https://[^)]+\)", section, flags=re.M)
        assert row, code
        assert any(c.code == code for c in CASES), code
