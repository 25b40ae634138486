"""The shipped model: one featurizer and one linear head per task, saved as ``.npz`` + ``.json``.

The artifact holds arrays (IDF weights, coefficients, the n-gram vocabulary) and JSON metadata
(version, parameters, cross-validation metrics) and no pickle, so loading it cannot run code.
It is loaded lazily on first use and cached per path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .base import CSR, BaseEstimator, clone
from .estimators import LinearClassifier
from .features import UtteranceFeaturizer

ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
ARTIFACT_FORMAT = 1

# head -> (which speaker it applies to, the behaviour a therapist turn must have, or None)
HEADS: dict[str, tuple[str, str | None]] = {
    "behaviour": ("therapist", None),
    "reflection_type": ("therapist", "reflection"),
    "question_type": ("therapist", "question"),
    "input_type": ("therapist", "therapist_input"),
    "talk_type": ("client", None),
}


class ArtifactError(ValueError):
    """The model artifact is missing, unreadable or of an unknown format."""


class TranscriptModel(BaseEstimator):
    """All utterance classifiers over one shared featurizer (fit once, score once per turn)."""

    def __init__(
        self,
        featurizer: UtteranceFeaturizer | None = None,
        C: dict[str, float] | None = None,
        class_weight: str | None = "balanced",
        random_state: int | None = 0,
    ) -> None:
        self.featurizer = featurizer
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Sequence[Any], y: Mapping[str, Sequence[str | None]]) -> TranscriptModel:
        """``X``: ``(text, previous, next)`` items; ``y``: per head, a label or None per item."""

        featurizer = (
            clone(self.featurizer) if self.featurizer is not None else UtteranceFeaturizer()
        )
        self.featurizer_ = featurizer.fit(X)
        A = self.featurizer_.transform(X)
        self.heads_: dict[str, LinearClassifier] = {}
        for head, labels in y.items():
            if head not in HEADS:
                raise ValueError(f"unknown head {head!r}")
            rows = np.array([i for i, lab in enumerate(labels) if lab is not None], dtype=np.int64)
            if len(rows) == 0 or len({labels[i] for i in rows}) < 2:
                continue
            C = (self.C or {}).get(head, 4.0)
            self.heads_[head] = LinearClassifier(
                C=C, class_weight=self.class_weight, random_state=self.random_state
            ).fit(A.select_rows(rows), [labels[i] for i in rows])
        self.version_ = "unversioned"
        self.metadata_: dict[str, Any] = {}
        return self

    def transform(self, X: Sequence[Any]) -> CSR:
        self._check_fitted("featurizer_")
        return self.featurizer_.transform(X)

    def predict_proba(self, X: Sequence[Any], head: str) -> np.ndarray:
        self._check_fitted("heads_")
        return self.heads_[head].predict_proba(self.transform(X))

    def predict_heads(
        self, features: CSR, speakers: Sequence[str]
    ) -> list[dict[str, tuple[str, float] | None]]:
        """Per row and head, ``(label, probability)`` where the head applies, else None."""
        self._check_fitted("heads_")
        n = features.shape[0]
        out: list[dict[str, tuple[str, float] | None]] = [
            {h: None for h in HEADS} for _ in range(n)
        ]
        speakers = list(speakers)
        for head in ("behaviour", "talk_type", "reflection_type", "question_type", "input_type"):
            who, needs = HEADS[head]
            if head not in self.heads_:
                continue
            rows = [
                i
                for i in range(n)
                if speakers[i] == who
                and (needs is None or (out[i]["behaviour"] or ("", 0))[0] == needs)
            ]
            if not rows:
                continue
            clf = self.heads_[head]
            proba = clf.predict_proba(features.select_rows(np.array(rows)))
            best = proba.argmax(axis=1)
            for r, i in enumerate(rows):
                out[i][head] = (str(clf.classes_[best[r]]), float(proba[r, best[r]]))
        return out

    def head_probabilities(
        self, features: CSR, speakers: Sequence[str]
    ) -> list[dict[str, dict[str, float]]]:
        """Per row, each applicable head's class probabilities.

        Unlike :meth:`predict_heads`, the subtype heads are scored on every therapist turn, so a
        session can be simulated with a turn that is only probably a reflection.
        """
        self._check_fitted("heads_")
        n = features.shape[0]
        out: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]
        speakers = list(speakers)
        for head, (who, _needs) in HEADS.items():
            if head not in self.heads_ or head == "input_type":
                continue
            rows = [i for i in range(n) if speakers[i] == who]
            if not rows:
                continue
            clf = self.heads_[head]
            proba = clf.predict_proba(features.select_rows(np.array(rows)))
            classes = [str(c) for c in clf.classes_]
            for r, i in enumerate(rows):
                out[i][head] = {
                    c: round(float(p), 4) for c, p in zip(classes, proba[r], strict=True)
                }
        return out

    # -- persistence ------------------------------------------------------------------------
    def save(
        self,
        directory: str | os.PathLike[str],
        version: str,
        metadata: dict[str, Any] | None = None,
    ) -> Path:
        """Write ``model-<version>.npz`` and ``model-<version>.json``; return the ``.npz`` path."""
        self._check_fitted("heads_")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        fmeta, farrays = self.featurizer_.to_state()
        vocab = "\n".join(fmeta.pop("vocabulary")).encode("utf-8")
        arrays: dict[str, np.ndarray] = {
            "featurizer.idf": farrays["idf"].astype(np.float32),
            "featurizer.vocabulary": np.frombuffer(vocab, dtype=np.uint8),
        }
        heads_meta = {}
        for name, clf in self.heads_.items():
            hmeta, harrays = clf.to_state(f"head.{name}")
            heads_meta[name] = hmeta
            arrays.update(harrays)
        meta = {
            "format": ARTIFACT_FORMAT,
            "version": version,
            "featurizer": fmeta,
            "heads": heads_meta,
            "params": {k: v for k, v in self.get_params(deep=False).items() if k != "featurizer"},
            **(metadata or {}),
        }
        npz = directory / f"model-{version}.npz"
        # numpy's stub declares allow_pickle: bool beside **kwds, so mypy checks every unpacked
        # array against it too; the keys here are array names, never "allow_pickle".
        np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
        (directory / f"model-{version}.json").write_text(
            json.dumps(meta, indent=1, sort_keys=True) + "\n"
        )
        return npz

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TranscriptModel:
        npz = Path(path)
        if npz.suffix == ".json":
            npz = npz.with_suffix(".npz")
        meta_path = npz.with_suffix(".json")
        if not npz.is_file() or not meta_path.is_file():
            raise ArtifactError(f"{npz}: model artifact not found (need both .npz and .json)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(npz, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{npz}: cannot read model artifact ({exc})") from None
        if meta.get("format") != ARTIFACT_FORMAT:
            raise ArtifactError(f"{npz}: unknown artifact format {meta.get('format')!r}")
        fmeta = dict(meta["featurizer"])
        fmeta["vocabulary"] = arrays["featurizer.vocabulary"].tobytes().decode("utf-8").split("\n")
        featurizer = UtteranceFeaturizer.from_state(fmeta, {"idf": arrays["featurizer.idf"]})
        params = meta.get("params", {})
        obj = cls(featurizer=None, **params)
        obj.featurizer_ = featurizer
        obj.heads_ = {
            name: LinearClassifier.from_state(hmeta, arrays, f"head.{name}")
            for name, hmeta in meta["heads"].items()
        }
        obj.version_ = meta["version"]
        obj.metadata_ = meta
        return obj


def default_artifact() -> Path:
    """The newest ``model-*.npz`` shipped in the package (by version number)."""
    candidates = sorted(
        ARTIFACT_DIR.glob("model-*.npz"), key=lambda p: _version_key(p.stem[len("model-") :])
    )
    if not candidates:
        raise ArtifactError(f"no model artifact in {ARTIFACT_DIR}; run `alliance nlp train`")
    return candidates[-1]


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else -1 for x in v.split("."))


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> TranscriptModel:
    return TranscriptModel.load(path)


def load_model(path: str | os.PathLike[str] | None = None) -> TranscriptModel:
    """Load (once per file version) the given artifact or the default shipped one."""
    p = Path(path) if path is not None else default_artifact()
    if p.suffix == ".json":
        p = p.with_suffix(".npz")
    try:
        mtime = p.stat().st_mtime
    except OSError:
        raise ArtifactError(f"{p}: model artifact not found") from None
    return _load_cached(str(p.resolve()), mtime)


RELIABILITY_HEADS = (
    ("behaviour", "Therapist behaviour (reflection, question, input, other)"),
    ("question_type", "Open or closed question"),
    ("reflection_type", "Simple or complex reflection"),
    ("input_type", "Kind of therapist input"),
    ("talk_type", "Client change, neutral or sustain talk"),
)


def reliability(
    version: str, directory: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """How well each code agreed with expert coders in the artifact's cross-validation.

    One row per head: ``{"head", "label", "macro_f1", "sd", "folds", "classes": [(class, F1)]}``,
    read from the metrics stored in ``model-<version>.json`` (written by ``alliance nlp train``).
    Empty when that version's metadata is not shipped (for example an analysis made by a model
    that has since been replaced) or holds no cross-validation.
    """
    folder = Path(directory) if directory is not None else ARTIFACT_DIR
    if not version or "/" in version or "\\" in version:
        return []
    path = folder / f"model-{version}.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    heads = (meta.get("cv") or {}).get("heads") or {}
    rows = []
    for head, label in RELIABILITY_HEADS:
        rep = heads.get(head)
        if not rep:
            continue
        rows.append(
            {
                "head": head,
                "label": label,
                "macro_f1": float(rep["macro_f1_mean"]),
                "sd": float(rep["macro_f1_sd"]),
                "folds": len(rep.get("macro_f1_folds", [])),
                "classes": [(c, float(rep["per_class_f1_mean"][c])) for c in rep["labels"]],
            }
        )
    return rows
