from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="fitting needs the alliance[train] extra")

from pathlib import Path

from alliance.nlp import training  # noqa: E402
from alliance.nlp.base import NotFittedError, clone  # noqa: E402
from alliance.nlp.data import load_annomi_csv  # noqa: E402
from alliance.nlp.estimators import (  # noqa: E402
    ClientTalkClassifier,
    QuestionTypeClassifier,
    TherapistBehaviourClassifier,
)
from alliance.nlp.features import UtteranceFeaturizer  # noqa: E402
from alliance.nlp.model import (
    TranscriptModel,  # noqa: E402
    default_artifact,
    reliability,
)


@pytest.fixture(scope="module")
def records(request):
    return load_annomi_csv(Path(__file__).parent / "fixtures" / "tiny_annomi.csv")


def xy(records, speaker, field):
    rows = [r for r in records if r.speaker == speaker and getattr(r, field)]
    return [(r.text, r.prev, r.next) for r in rows], [getattr(r, field) for r in rows]


@pytest.mark.slow
def test_fit_returns_self_and_learns_underscored_state(records):
    X, y = xy(records, "therapist", "behaviour")
    clf = TherapistBehaviourClassifier(C=10.0, random_state=3)
    assert not any(k.endswith("_") for k in vars(clf))  # __init__ only stores parameters
    assert clf.fit(X, y) is clf
    assert set(clf.classes_) == {"reflection", "question", "therapist_input", "other"}
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.predict(X).shape == (len(X),)
    # the training data is tiny and separable: it should mostly be learned
    assert np.mean(clf.predict(X) == np.array(y)) > 0.8


def test_get_params_set_params_and_clone():
    clf = ClientTalkClassifier(
        featurizer=UtteranceFeaturizer(use_chars=False), C=2.0, random_state=7
    )
    params = clf.get_params()
    assert params["C"] == 2.0 and params["random_state"] == 7
    assert params["featurizer__use_chars"] is False
    clf.set_params(C=0.5, featurizer__min_df=3)
    assert clf.C == 0.5 and clf.featurizer.min_df == 3
    twin = clone(clf)
    assert twin.get_params(deep=False)["C"] == 0.5 and twin.featurizer is not clf.featurizer
    with pytest.raises(ValueError):
        clf.set_params(nonsense=1)


def test_unfitted_and_bad_labels_raise(records):
    with pytest.raises(NotFittedError):
        QuestionTypeClassifier().predict(["Do you?"])
    with pytest.raises(ValueError, match="unknown label"):
        QuestionTypeClassifier().fit(["a?", "b?"], ["open", "maybe"])


def test_previous_turn_is_used_as_context(records):
    X, y = xy(records, "client", "talk_type")
    clf = ClientTalkClassifier(random_state=0).fit(X, y)
    a = clf.predict_proba([("Yeah.", "What worries you about drinking?", "")])
    b = clf.predict_proba([("Yeah.", "", "")])
    assert not np.allclose(a, b)


@pytest.mark.slow
def test_random_state_makes_fits_reproducible(records):
    X, y = xy(records, "therapist", "behaviour")
    a = TherapistBehaviourClassifier(random_state=0).fit(X, y).predict_proba(X)
    b = TherapistBehaviourClassifier(random_state=0).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b)


@pytest.mark.slow
def test_transcript_model_round_trips_through_the_artifact(records, tmp_path):
    model = training.default_model().fit(training.contexts(records), training.labels(records))
    path = model.save(tmp_path, "0.0.1-test", {"note": "tiny"})
    loaded = TranscriptModel.load(path)
    assert loaded.version_ == "0.0.1-test" and loaded.metadata_["note"] == "tiny"
    X = training.contexts(records)
    for head in model.heads_:
        np.testing.assert_allclose(
            model.predict_proba(X, head), loaded.predict_proba(X, head), atol=1e-5
        )


def test_grouped_folds_never_split_a_video(records):
    groups = [r.group for r in records]
    folds = training.grouped_folds(groups, 2, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(records)))
    for test in folds:
        inside = {groups[i] for i in test}
        outside = {groups[i] for i in range(len(records)) if i not in set(test.tolist())}
        assert not inside & outside
    assert [f.tolist() for f in training.grouped_folds(groups, 2, seed=0)] == [
        f.tolist() for f in folds
    ]


@pytest.mark.slow
def test_reliability_reads_the_cross_validation_stored_with_the_artifact(records, tmp_path):
    shipped = default_artifact()
    version = shipped.stem[len("model-") :]
    rows = reliability(version)
    heads = {r["head"]: r for r in rows}
    assert {"behaviour", "talk_type", "question_type", "reflection_type"} <= set(heads)
    meta = TranscriptModel.load(shipped).metadata_["cv"]["heads"]["talk_type"]
    assert heads["talk_type"]["macro_f1"] == pytest.approx(meta["macro_f1_mean"])
    assert dict(heads["talk_type"]["classes"])["sustain"] == pytest.approx(
        meta["per_class_f1_mean"]["sustain"]
    )
    assert heads["behaviour"]["folds"] == 5
    # An artifact saved without cross-validation, an unknown version or a path trick: nothing.
    model = training.default_model(0).fit(training.contexts(records), training.labels(records))
    model.save(tmp_path, "0.0.1")
    assert reliability("0.0.1", tmp_path) == []
    assert reliability("9.9.9") == [] and reliability("../x") == [] and reliability("") == []
