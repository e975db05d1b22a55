"""``model="hf:PATH"``: a tiny randomly initialised BERT and a WordLevel tokenizer made here (nothing downloaded).

References: transformers' own tokenizer and ``AutoModelForSequenceClassification`` forward for the logits,
torch's ``binary_cross_entropy_with_logits`` / ``cross_entropy`` with independently counted weights for
the loss, the majority-class rate for learning.
"""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from logitlab import Classifier  # noqa: E402
from logitlab.cli import main  # noqa: E402
from logitlab.errors import ConfigError, ModelFileError  # noqa: E402

GROUPS = {
    "pos": "good great fine nice".split(),
    "neg": "bad awful poor sad".split(),
    "odd": "weird strange odd curious".split(),
}
FILL = "the a movie film is was very".split()
MAX_LEN = 24
FAST = {
    "device": "cpu",
    "batch_size": 32,
    "lr": 3e-3,
    "model_options": {"max_length": MAX_LEN},
    "random_state": 0,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A saved tiny BERT (no classification head: a 'base' checkpoint) and its fast tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    words = [w for g in GROUPS.values() for w in g] + FILL
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )
    path = tmp_path_factory.mktemp("tiny-bert")
    fast.save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    transformers.utils.logging.disable_progress_bar()
    BertModel(config).save_pretrained(path)
    return path


def _texts(labels, seed):
    """Texts of two words of each label's group among filler words (varied lengths)."""
    rng = np.random.default_rng(seed)
    out = []
    for labs in labels:
        words = [str(w) for g in labs for w in rng.choice(GROUPS[g], 2)]
        words += [str(w) for w in rng.choice(FILL, int(rng.integers(1, 6)))]
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


def _reference_logits(clf, folder, texts):
    """transformers' own tokenizer and the fine-tuned network's own forward (padding to the longest row)."""
    tok = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    batch = tok(texts, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
    net = clf.model_.net
    assert isinstance(net, transformers.BertForSequenceClassification)
    with torch.no_grad():
        return net(**batch).logits


def test_binary_learns_and_logits_are_the_networks_own(folder):
    y = ["yes" if i % 3 == 0 else "no" for i in range(150)]
    X = _texts([["pos"] if v == "yes" else ["neg"] for v in y], seed=0)
    clf = Classifier(model=f"hf:{folder}", epochs=30, **FAST).fit(X, y)
    y_test = ["yes" if i % 3 == 0 else "no" for i in range(90)]
    X_test = _texts([["pos"] if v == "yes" else ["neg"] for v in y_test], seed=1)
    majority = max(np.mean(np.asarray(y_test) == "no"), np.mean(np.asarray(y_test) == "yes"))
    assert clf.score(X_test, y_test) >= majority + 0.25
    assert clf.model_.net.config.problem_type == "multi_label_classification"
    assert clf.model_.net.config.num_labels == 1
    ref = _reference_logits(clf, folder, X_test)
    torch.testing.assert_close(clf.predict_logits(X_test), ref, atol=1e-5, rtol=1e-5)
    assert clf.decisions_["cv"]["folds"] == 1 and "pretrained transformer" in clf.decisions_["cv"]["reason"]
    assert any("newly initialised" in n and "classifier.weight" in n for n in clf.decisions_["notes"])


def test_multilabel_learns_and_round_trips(folder, tmp_path):
    rng = np.random.default_rng(2)
    labels = [[g for g in GROUPS if rng.random() < 0.5] or ["odd"] for _ in range(160)]
    frame = pd.DataFrame({"review": _texts(labels, seed=3)})
    clf = Classifier(model=f"hf:{folder}", epochs=30, **FAST).fit(frame, labels)
    assert clf.task_ == "multilabel" and clf.model_.net.config.num_labels == 3
    test_labels = [[g for g in GROUPS if rng.random() < 0.5] or ["odd"] for _ in range(80)]
    test = pd.DataFrame({"review": _texts(test_labels, seed=4)})
    truth = np.array([[g in labs for g in clf.classes_] for labs in test_labels], dtype=int)
    majority = np.maximum(truth.mean(0), 1 - truth.mean(0))  # per-label accuracy of the constant guess
    assert (clf.predict(test) == truth).mean(0).min() >= majority.max() + 0.1
    torch.testing.assert_close(clf.predict_logits(test), _reference_logits(clf, folder, list(test["review"])),
                               atol=1e-5, rtol=1e-5)  # fmt: skip
    saved = clf.save(tmp_path / "m")
    assert sorted(p.name for p in saved.iterdir()) == ["model.json", "model.safetensors", "tokenizer.json"]
    again = Classifier.load(saved)
    np.testing.assert_array_equal(again.predict_proba(test), clf.predict_proba(test))
    np.testing.assert_array_equal(again.predict(test), clf.predict(test))
    assert again.thresholds_.to_dict() == clf.thresholds_.to_dict()


def test_multiclass_learns_with_single_label_head(folder):
    y = [list(GROUPS)[i % 3] for i in range(150)]
    X = _texts([[v] for v in y], seed=5)
    clf = Classifier(model=f"hf:{folder}", epochs=30, **FAST).fit(X, y)
    assert clf.model_.net.config.problem_type == "single_label_classification"
    y_test = [list(GROUPS)[i % 3] for i in range(90)]
    assert clf.score(_texts([[v] for v in y_test], seed=6), y_test) >= 1 / 3 + 0.4
    assert np.allclose(clf.predict_proba(["good film"]).sum(1), 1.0)


def test_lr_auto_fine_tunes_at_5e_5_after_a_linear_warmup(folder, monkeypatch):
    """The rate of each AdamW step, read from the optimiser: 5e-5 * (s + 1) / (W + 1) for W = 6 % of the steps."""
    from logitlab.train import eager_optim
    from logitlab.workflows import decision_lines

    seen = []
    step = eager_optim.AdamW.step  # torch's AdamW, as build_optimizer creates it

    def recording(self, *args, **kwargs):
        seen.append(float(self.param_groups[0]["lr"]))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(eager_optim.AdamW, "step", recording)
    y = ["yes" if i % 3 == 0 else "no" for i in range(80)]
    X = _texts([["pos"] if v == "yes" else ["neg"] for v in y], seed=10)
    options = {k: v for k, v in FAST.items() if k != "lr"}
    clf = Classifier(model=f"hf:{folder}", epochs=3, **{**options, "batch_size": 4}).fit(X, y)
    warmup = int(0.06 * len(seen))  # epochs=3: every planned step is taken
    assert len(seen) % 3 == 0 and warmup >= 2  # three epochs of ~17 steps
    np.testing.assert_allclose(seen[: warmup + 1], [5e-5 * (s + 1) / (warmup + 1) for s in range(warmup + 1)])
    assert max(seen) == pytest.approx(5e-5) and seen[warmup] == pytest.approx(5e-5)
    assert clf.decisions_["lr"]["lr"] == 5e-5 and clf.decisions_["lr"]["warmup_ratio"] == 0.06
    assert "warmup" in clf.decisions_["lr"]["reason"] and not any(
        "is high" in n for n in clf.decisions_["notes"]
    )
    assert any(line.startswith("learning rate: lr='auto': 5e-05") for line in decision_lines(clf))
    seen.clear()
    given = Classifier(model=f"hf:{folder}", epochs=1, **{**FAST, "batch_size": 16}).fit(X, y)  # lr=3e-3
    assert seen[0] == pytest.approx(3e-3)  # a number: no warmup
    assert given.decisions_["lr"]["warmup_ratio"] == 0.0
    assert any("lr=0.003 is high" in n for n in given.decisions_["notes"])


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_the_loss_is_torchs_with_the_counted_weights(folder, task):
    n = 60
    y = [("yes" if i % 4 == 0 else "no") for i in range(n)] if task == "binary" else [
        ["pos", "neg", "neg", "odd", "odd", "odd"][i % 6] for i in range(n)]  # fmt: skip
    X = _texts([["pos"] if v in ("yes", "pos") else ["neg"] for v in y], seed=7)
    clf = Classifier(model=f"hf:{folder}", **FAST)
    setup = clf.training_setup(X, y)
    train_y = setup.plan.members[0][0].y
    logits = setup.model(setup.plan.members[0][0].x[:16].float())
    got = setup.loss_fn(logits, train_y[:16])
    if task == "binary":
        pos = float(train_y.sum())
        pos_weight = torch.tensor([(len(train_y) - pos) / pos])  # balanced: negatives / positives
        ref = F.binary_cross_entropy_with_logits(logits, train_y[:16], pos_weight=pos_weight)
    else:
        counts = torch.bincount(train_y, minlength=3).double()
        weight = (len(train_y) / (3 * counts)).float()  # scikit-learn's "balanced"
        ref = F.cross_entropy(logits, train_y[:16], weight=weight)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_bad_paths_and_options_are_refused(folder, tmp_path):
    with pytest.raises(ConfigError, match="Hub id") as err:
        Classifier(model="hf:bert-base-uncased").check_params()
    assert err.value.code == "hf-path-not-found" and "local-dir" in err.value.fix
    with pytest.raises(ConfigError, match="not a folder") as err:
        Classifier(model=f"hf:{tmp_path / 'nowhere'}").check_params()
    assert err.value.param == "model"
    with pytest.raises(ConfigError, match="no config.json") as err:
        Classifier(model=f"hf:{tmp_path}").check_params()
    assert err.value.code == "hf-not-a-model-dir"
    with pytest.raises(ConfigError, match="cross-fitting") as err:
        Classifier(model=f"hf:{folder}", cv=5).check_params()
    assert err.value.code == "cv-unsupported"
    with pytest.raises(ConfigError, match="ensemble"):
        Classifier(model=f"hf:{folder}", ensemble=3).check_params()
    with pytest.raises(ConfigError, match="max_length"):
        Classifier(model=f"hf:{folder}", model_options={"max_length": 1}).check_params()
    from logitlab.models.hf import hf_max_length

    assert (
        hf_max_length(f"hf:{folder}", None) == 62
    )  # the default 128, capped at the model's 64 positions - 2
    assert hf_max_length(f"hf:{folder}", {"max_length": 20}) == 20
    with pytest.raises(ConfigError, match="64 positions"):  # asked for; left out, it is capped
        Classifier(model=f"hf:{folder}", device="cpu", model_options={"max_length": 100}).fit(
            _texts([["pos"], ["neg"]] * 10, 0), [1, 0] * 10
        )
    from logitlab.data import from_arrays
    from logitlab.data.hf_bundle import tokenize_bundle

    with pytest.raises(ConfigError, match="streaming table or image data") as err:
        tokenize_bundle(from_arrays(np.zeros((20, 2)), [0, 1] * 10), folder, MAX_LEN)
    assert err.value.code == "hf-unsupported"
    two = pd.DataFrame({"a": _texts([["pos"]] * 20, 0), "b": _texts([["neg"]] * 20, 1)})
    with pytest.raises(ConfigError, match="one text column") as err:
        Classifier(model=f"hf:{folder}", device="cpu").fit(two, [1, 0] * 10)
    assert err.value.code == "hf-text-column"


@pytest.fixture(scope="module")
def saved(folder, tmp_path_factory):
    y = [i % 2 for i in range(60)]
    clf = Classifier(model=f"hf:{folder}", epochs=2, **FAST).fit(
        _texts([["pos"] if v else ["neg"] for v in y], 8), y
    )
    return clf.save(tmp_path_factory.mktemp("saved") / "m")


def _copy(saved, tmp_path):
    out = tmp_path / "m"
    out.mkdir(parents=True)
    for p in saved.iterdir():
        (out / p.name).write_bytes(p.read_bytes())
    return out


def test_an_edited_tokenizer_or_config_is_refused(saved, tmp_path):
    m = _copy(saved, tmp_path)
    (m / "tokenizer.json").write_text((m / "tokenizer.json").read_text().replace('"good"', '"gooood"'))
    with pytest.raises(ModelFileError, match="tokenizer.json does not match"):
        Classifier.load(m)
    for field, value, said in [
        ("tokenizer_file", "../tokenizer.json", "tokenizer_file"),
        ("max_length", 10_000, "max_length"),
    ]:
        m = _copy(saved, tmp_path / field)
        meta = json.loads((m / "model.json").read_text())
        meta["preprocessing"]["preprocessor"][field] = value
        (m / "model.json").write_text(json.dumps(meta))
        with pytest.raises(ModelFileError, match=said):
            Classifier.load(m)
    m = _copy(saved, tmp_path / "remote")
    meta = json.loads((m / "model.json").read_text())
    meta["model_spec"]["config"]["auto_map"] = {"AutoModelForSequenceClassification": "evil.Model"}
    (m / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="remote code"):
        Classifier.load(m)
    m = _copy(saved, tmp_path / "wide")
    meta = json.loads((m / "model.json").read_text())
    meta["model_spec"]["config"]["hidden_size"] = 4096
    (m / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="model_spec.config"):
        Classifier.load(m)


def test_ddp_is_refused(folder, monkeypatch):
    from types import SimpleNamespace

    import logitlab.train.distributed as distributed

    monkeypatch.setattr(distributed, "detect", lambda: SimpleNamespace(world_size=2))
    with pytest.raises(ConfigError, match="DDP") as err:
        Classifier(model=f"hf:{folder}", device="cpu").fit(_texts([["pos"], ["neg"]] * 10, 0), [1, 0] * 10)
    assert err.value.code == "hf-unsupported"


def test_onnx_export_is_refused(saved, tmp_path):
    with pytest.raises(ConfigError, match="Hugging Face tokenizer") as err:
        Classifier.load(saved).export_onnx(tmp_path / "m.onnx")
    assert err.value.code == "onnx-unsupported"


@pytest.mark.slow  # four commands in-process (about 7 s on a loaded 2-core machine)
def test_cli_train_evaluate_predict_export(folder, tmp_path, capsys):
    y = ["yes" if i % 2 else "no" for i in range(80)]
    texts = _texts([["pos"] if v == "yes" else ["neg"] for v in y], seed=9)
    pd.DataFrame({"id": range(80), "body": texts, "label": y}).to_csv(tmp_path / "d.csv", index=False)
    run = str(tmp_path / "run")
    code = main(["train", str(tmp_path / "d.csv"), "--target", "label", "--id-column", "id", "--model",
                 f"hf:{folder}", "--model-option", f"max_length={MAX_LEN}", "--epochs", "3", "--lr", "0.003",
                 "--device", "cpu", "--out", run])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads((tmp_path / "run" / "model.json").read_text())["model_spec"]["name"] == "hf"
    assert main(["evaluate", run, str(tmp_path / "d.csv")]) == 0
    assert main(["predict", run, str(tmp_path / "d.csv"), "--out", str(tmp_path / "p.csv")]) == 0
    pred = pd.read_csv(tmp_path / "p.csv")
    assert len(pred) == 80
    capsys.readouterr()
    assert main(["doctor", str(tmp_path / "d.csv"), "--target", "label", "--model", f"hf:{folder}"]) == 0
    assert "untrained hf" in capsys.readouterr().out  # the batch checked is the token ids the model reads
    assert main(["export", run, "--out", str(tmp_path / "onnx")]) == 2
    assert "Hugging Face tokenizer" in capsys.readouterr().err


def test_a_bpe_roberta_reads_what_its_own_tokenizer_gives_and_its_position_limit(tmp_path):
    """Byte-level BPE and RoBERTa's positions (they start after the pad id): another model type, same contract."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    tok.train_from_iterator(_texts([[g] for g in GROUPS for _ in range(20)], 0), trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                            unk_token="<unk>").save_pretrained(tmp_path)  # fmt: skip
    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=tok.get_vocab_size(), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=34, pad_token_id=1)  # fmt: skip
    RobertaModel(config).save_pretrained(tmp_path)
    y = [list(GROUPS)[i % 3] for i in range(90)]
    X = _texts([[v] for v in y], seed=1)
    clf = Classifier(model=f"hf:{tmp_path}", epochs=1, device="cpu", val_size=0.3).fit(X, y)
    assert clf.model_spec_["max_length"] == 32  # 34 positions less RoBERTa's offset of 2
    ref_tok = transformers.AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    batch = ref_tok(X, padding=True, truncation=True, max_length=32, return_tensors="pt")
    with torch.no_grad():
        ref = clf.model_.net(**batch).logits
    torch.testing.assert_close(clf.predict_logits(X), ref, atol=1e-5, rtol=1e-5)
    with pytest.raises(ConfigError, match="cannot read max_length=33"):
        Classifier(model=f"hf:{tmp_path}", epochs=1, device="cpu", model_options={"max_length": 33}).fit(X, y)
