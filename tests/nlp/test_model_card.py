"""The shipped model card is what ``alliance nlp train`` writes from the artifact's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import alliance.nlp
from alliance.nlp.training import _accuracy, model_card

ARTIFACTS = Path(alliance.nlp.__file__).parent / "artifacts"


def test_committed_model_card_is_generated_from_the_artifact_metadata():
    (npz,) = ARTIFACTS.glob("model-*.npz")
    meta = json.loads(npz.with_suffix(".json").read_text(encoding="utf-8"))
    committed = (ARTIFACTS / "MODEL_CARD.md").read_text(encoding="utf-8")
    # Hand edits to the card (or template edits without regenerating it) fail here:
    # regenerate with alliance.nlp.training.write_model_card(<artifact>).
    assert model_card(meta["version"], meta, npz) == committed
    for head, rep in meta["cv"]["heads"].items():
        if rep.get("target"):
            verdict = "met" if rep["macro_f1_mean"] >= rep["target"] else "NOT met"
            assert (
                f"{rep['macro_f1_mean']:.3f} ± {rep['macro_f1_sd']:.3f} | {rep['target']:.2f} | {verdict} |"
                in committed
            ), head


def test_accuracy_from_a_confusion_matrix():
    assert _accuracy({"confusion": [[3, 1], [0, 4]]}) == "88%"
    assert _accuracy({"confusion": []}) == "n/a" and _accuracy(None) == "n/a"
