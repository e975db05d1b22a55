"""Text columns: detection, scikit-learn vectorisation saved as data, and the Classifier on text tables."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from logitlab import Classifier
from logitlab.data.text import TextColumn, TextTablePreprocessor, detect_text_columns
from logitlab.errors import ConfigError
from logitlab.options import TEXT_VECTORIZER

TOPICS = {
    "sports": "ball goal team match score player win league coach season".split(),
    "tech": "code python cpu software data model chip server memory cloud".split(),
    "food": "bread cheese recipe oven salad soup pasta spice dinner bake".split(),
}
FILLER = "the a of and in to is was for on with".split()


def _table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    rows, tags = [], []
    for _ in range(n):
        labels = [k for k in TOPICS if rng.random() < 0.4] or ["food"]
        words = [rng.choice(TOPICS[k]) for k in labels for _ in range(4)] + list(rng.choice(FILLER, 6))
        rng.shuffle(words)
        rows.append(" ".join(words))
        tags.append(labels)
    return pd.DataFrame(
        {
            "body": rows,
            "title": [" ".join(r.split()[:4]) + " news" for r in rows],
            "price": rng.normal(size=n),
            "city": rng.choice(["New York", "Paris", "Rome"], n),
        }
    ), tags


def test_free_text_is_told_from_categories_and_the_reason_noted():
    frame, _ = _table()
    notes = []
    assert detect_text_columns(frame, notes) == ["body", "title"]  # city: 1-2 tokens, 1% distinct
    assert "tokens per value" in notes[0] and "distinct" in notes[0]
    short = pd.DataFrame({"level": ["high school degree", "master of science", "high school degree"] * 20})
    assert detect_text_columns(short) == []  # three tokens, but 5% distinct: a category


def _fresh(texts, analyzer, ngrams, max_features):
    return TfidfVectorizer(
        analyzer=analyzer, ngram_range=tuple(ngrams), min_df=TEXT_VECTORIZER["min_df"], max_features=max_features,
        sublinear_tf=True, strip_accents="unicode",
    ).fit(texts)  # fmt: skip


def test_features_after_save_and_load_equal_the_fitted_and_a_fresh_sklearn_vectorizer():
    frame, _ = _table()
    train, test = frame["body"][:160], frame["body"][160:]
    chars = {"char_ngrams": [2, 5]}  # the default has none; both blocks are checked here
    col = TextColumn.fit("body", train, settings=chars)
    again = TextColumn.from_dict(json.loads(json.dumps(col.to_dict())))  # as saved in model.json
    fitted, reloaded = col.transform(test), again.transform(test)
    np.testing.assert_allclose(reloaded.toarray(), fitted.toarray(), rtol=0, atol=1e-7)
    word = _fresh(train, "word", TEXT_VECTORIZER["word_ngrams"], TEXT_VECTORIZER["max_word_features"])
    char = _fresh(train, "char_wb", chars["char_ngrams"], TEXT_VECTORIZER["max_char_features"])
    expected = sparse.hstack([word.transform(test), char.transform(test)]).toarray()
    np.testing.assert_allclose(fitted.toarray(), expected, rtol=0, atol=1e-7)
    assert col.word_terms == list(word.get_feature_names_out())


def test_the_vocabulary_comes_from_the_training_rows_only():
    train = pd.Series(["red apple pie", "red apple tart", "green pear pie"] * 3)
    col = TextColumn.fit("t", train, settings={"char_ngrams": None})
    assert "apple" in col.word_terms and "zebra" not in col.word_terms
    assert col.transform(pd.Series(["zebra zebra"])).nnz == 0  # unseen words add nothing


def test_a_table_with_two_text_columns_numbers_and_categories_trains_saves_and_reloads(tmp_path):
    frame, tags = _table()
    clf = Classifier(epochs=4, device="cpu", seed=0).fit(frame, tags)
    pre = clf.data_state_.preprocessor
    assert isinstance(pre, TextTablePreprocessor) and pre.text_columns == ["body", "title"]
    assert pre.table.columns == ["price", "city"] and clf.model_spec_["name"] == "sparse"
    assert any("read as free text" in n for n in clf.decisions_["notes"])
    assert clf.score(frame, tags) > 0.5  # subset accuracy of 3 separable topics
    labels, confidence = clf.predict_with_confidence(frame.iloc[:5])
    assert labels.shape == (5, 3) and confidence.shape == (5, 3)
    clf.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    again = Classifier.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(frame), clf.predict_proba(frame), atol=1e-7)


def test_text_columns_can_be_forced_or_switched_off():
    frame, tags = _table(n=120)
    forced = Classifier(epochs=1, device="cpu", text_columns=["title"]).fit(frame, tags)
    assert forced.data_state_.preprocessor.text_columns == ["title"]  # body is now a category (or dropped)
    off = Classifier(epochs=1, device="cpu", text_columns=[]).fit(frame, tags)
    assert off.model_spec_["name"] == "mlp" and off.data_state_.preprocessor.kind == "tabular"
    with pytest.raises(ConfigError, match="'nope' not in the table") as info:
        Classifier(epochs=1, device="cpu", text_columns=["nope"]).fit(frame, tags)
    assert info.value.param == "text_columns"
    with pytest.raises(ConfigError, match="text_columns"):
        Classifier(text_columns=3).fit(frame, tags)


def test_the_training_rows_vectorised_once_equal_a_fresh_transform_of_every_row():
    """fit_text_features reuses the fit's own pass over the training texts; the rows match ``transform``."""
    import numpy as np
    import pandas as pd

    from logitlab.data.row_names import TABLE_ROWS
    from logitlab.data.tabular import fit_text_features

    rng = np.random.default_rng(0)
    words = np.array(["plot", "axis", "tensor", "grad", "frame", "merge", "index", "model", "loss", "line"])
    X = pd.DataFrame(
        {"text": [" ".join(rng.choice(words, size=6)) for _ in range(120)], "n": np.arange(120) % 5}
    )
    order = rng.permutation(120)
    train, val, test = np.sort(order[:80]), np.sort(order[80:100]), np.sort(order[100:])
    pre, rows = fit_text_features(X, ["text"], (train, val, test), 50, TABLE_ROWS, [], "robust")
    np.testing.assert_allclose(rows.matrix.toarray(), pre.transform(X).toarray(), rtol=0, atol=1e-12)
