from __future__ import annotations

import json
import math
import socket

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from logitlab.errors import ConfigError, ModelFileError
from logitlab.models import MODEL_NAMES, build_model, head_of, model_spec


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("logitlab.models tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_returns_logits_and_rebuilds_from_json(name, no_network):
    shape = (30,) if name in ("mlp", "sparse") else (1, 8, 8)
    torch.manual_seed(0)
    net = build_model(name, input_shape=shape, n_outputs=3).eval()
    out = net(torch.randn(2, *shape))
    assert out.shape == (2, 3) and out.dtype == torch.float32
    spec = json.loads(json.dumps(net.model_spec))
    again = build_model(**spec)
    assert again.model_spec == net.model_spec
    assert [p.shape for p in again.parameters()] == [p.shape for p in net.parameters()]


def test_cnn_and_backbone_on_rgb_32():
    x = torch.randn(2, 3, 32, 32)
    assert build_model("cnn", input_shape=(3, 32, 32), n_outputs=1).eval()(x).shape == (2, 1)
    net = build_model("resnet18", input_shape=(3, 32, 32), n_outputs=5, small_input=False).eval()
    assert net(x).shape == (2, 5) and net.conv1.stride == (2, 2)


def test_mlp_structure_and_prior():
    net = build_model("mlp", input_shape=(1, 8, 8), n_outputs=1, hidden=[16], dropout=0.1, embedding="none")
    kinds = [type(m).__name__ for m in net.body]
    assert kinds == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout"]
    w = net.body[1].weight
    assert w.shape == (16, 64)
    assert abs(w.std().item() - math.sqrt(2 / 64)) < 0.05  # Kaiming normal, fan_in
    multi = build_model("cnn", input_shape=(1, 8, 8), n_outputs=3, prior=[0.5, 0.3, 0.2], task="multiclass")
    torch.testing.assert_close(head_of(multi).bias, torch.log(torch.tensor([0.5, 0.3, 0.2])))
    with pytest.raises(ConfigError, match="needs `task`"):
        build_model("mlp", input_shape=(4,), n_outputs=2, prior=[0.1, 0.2])


def test_unknown_names_and_options():
    with pytest.raises(ConfigError, match="the models are: auto, mlp, linear, cnn, resnet18"):
        build_model("vgg", input_shape=(3, 8, 8), n_outputs=2)
    with pytest.raises(
        ConfigError, match=r"Unknown option\(s\) hiddn for model 'mlp'; its options are: hidden"
    ):
        build_model("mlp", input_shape=(4,), n_outputs=2, hiddn=[3])
    with pytest.raises(ConfigError, match=r"needs image input_shape \(C, H, W\)"):
        model_spec("cnn", input_shape=(30,), n_outputs=1)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_weights_path_roundtrip(tmp_path, suffix):
    torch.manual_seed(1)
    net = build_model("cnn", input_shape=(1, 8, 8), n_outputs=4, channels=[8, 16]).eval()
    path = tmp_path / f"w{suffix}"
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path)) if suffix == ".safetensors" else torch.save(state, path)
    again = build_model("cnn", input_shape=(1, 8, 8), n_outputs=4, channels=[8, 16], weights_path=path).eval()
    x = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(again(x), net(x), rtol=0, atol=0)
    with pytest.raises(ModelFileError, match="do not fit this model"):
        build_model("cnn", input_shape=(1, 8, 8), n_outputs=4, channels=[8, 32], weights_path=path)


def test_pretrained_imagenet_style_file_adapts_head_and_stem(tmp_path, no_network):
    torch.manual_seed(2)
    ref = torchvision.models.resnet18(weights=None)  # stands in for a downloaded ImageNet file
    path = tmp_path / "resnet18.pth"
    torch.save(ref.state_dict(), path)
    net = build_model("resnet18", input_shape=(1, 64, 64), n_outputs=2, weights_path=path)
    torch.testing.assert_close(net.conv1.weight, ref.conv1.weight.sum(1, keepdim=True))
    torch.testing.assert_close(net.layer4[1].conv2.weight, ref.layer4[1].conv2.weight)
    assert net.fc.weight.shape == (2, 512)
    assert any("skipped fc.weight" in n for n in net.weight_notes)
    with pytest.raises(ModelFileError, match="does not exist"):
        build_model("resnet18", input_shape=(3, 64, 64), n_outputs=2, weights_path=tmp_path / "nope.pt")
