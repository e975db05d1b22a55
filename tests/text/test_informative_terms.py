"""The most informative terms per label of a linear text model, and their place in the report."""

import numpy as np

from logitlab import Classifier
from logitlab.report import ReportContent, write_report
from logitlab.report.importance import informative_terms

from .test_text_columns import TOPICS, _table


def test_top_terms_are_each_label_s_own_words_in_weight_order():
    frame, tags = _table(n=240)
    clf = Classifier(epochs=20, lr=0.02, device="cpu", random_state=0).fit(frame[["body"]], tags)
    terms = informative_terms(clf, k=40)
    weight = clf.model_.state_dict()["first.weight"].double().numpy()  # [F, labels]
    names = clf.data_state_.preprocessor.feature_names
    assert [t["label"] for t in terms["labels"]] == list(clf.label_names_)
    for j, entry in enumerate(terms["labels"]):
        got = [name for name, _ in entry["terms"]]
        assert len(got) == 40
        # the reference: the largest weights of this label's column, read from the saved state
        assert got == [names[i] for i in np.argsort(-weight[:, j])[:40]]
        assert [w for _, w in entry["terms"]] == sorted((w for _, w in entry["terms"]), reverse=True)
        # the top word n-gram is one of the label's own topic words
        words = [n.split(":", 1)[1] for n in got if not n.split(":", 1)[1].startswith("#")]
        assert words and words[0] in TOPICS[entry["label"]]


def test_terms_are_skipped_for_tables_and_shown_in_the_report(tmp_path):
    frame, tags = _table(n=120)
    table = Classifier(epochs=2, device="cpu", random_state=0, text_columns=[]).fit(
        frame[["price", "city"]], tags
    )
    assert "skipped" in informative_terms(table)
    text = Classifier(epochs=2, device="cpu", random_state=0).fit(frame[["body"]], tags)
    page = write_report(tmp_path, ReportContent(terms=informative_terms(text, k=3))).read_text()
    assert "Most informative terms" in page and "body:" in page
    assert (
        "Most informative terms"
        not in write_report(tmp_path / "t", ReportContent(terms=informative_terms(table))).read_text()
    )
