"""Utterance classifiers as scikit-learn-style estimators with numpy-only prediction.

``fit`` uses scikit-learn's ``LogisticRegression`` (the ``alliance[train]`` extra); prediction is
a sparse dot product and a softmax in numpy, so the runtime install needs neither scikit-learn nor
scipy.  Learned state: ``classes_``, ``coef_`` (n_features, n_classes), ``intercept_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import CSR, BaseEstimator, clone
from .data import INPUT_TYPES, QUESTION_TYPES, REFLECTION_TYPES, TALK_TYPES, THERAPIST_BEHAVIOURS
from .evaluation import macro_f1
from .features import UtteranceFeaturizer


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _as_matrix(X: Any) -> CSR | np.ndarray:
    if isinstance(X, CSR):
        return X
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError("expected a 2-D feature matrix")
    return arr


class LinearClassifier(BaseEstimator):
    """Multinomial logistic regression (L2) on a sparse or dense feature matrix."""

    def __init__(
        self,
        C: float = 1.0,
        class_weight: str | dict[str, float] | None = "balanced",
        max_iter: int = 3000,
        random_state: int | None = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Sequence[str]) -> LinearClassifier:
        # scikit-learn is the optional train extra; predicting needs only numpy.
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

        X = _as_matrix(X)
        targets = np.asarray([str(v) for v in y])
        if X.shape[0] != len(targets):
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(targets)} labels")
        classes = np.unique(targets)
        if len(classes) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        Xs = X.to_scipy() if isinstance(X, CSR) else X
        model = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        model.fit(Xs, targets)
        self.classes_ = np.asarray(model.classes_)
        coef, intercept = model.coef_, model.intercept_
        if len(self.classes_) == 2:  # binary LR has one row: expand to two logits for softmax
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.coef_ = np.ascontiguousarray(coef.T)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        self._check_fitted("coef_")
        X = _as_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, the model expects {self.n_features_in_}"
            )
        scores = X.dot(self.coef_) if isinstance(X, CSR) else X @ self.coef_
        return scores + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        return softmax(self.decision_function(X))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def to_state(self, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self._check_fitted("coef_")
        meta = {"params": self.get_params(deep=False), "classes": [str(c) for c in self.classes_]}
        return meta, {
            f"{prefix}.coef": self.coef_.astype(np.float32),
            f"{prefix}.intercept": self.intercept_,
        }

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: Any, prefix: str) -> LinearClassifier:
        obj = cls(**meta["params"])
        obj.classes_ = np.asarray(meta["classes"])
        obj.coef_ = np.ascontiguousarray(np.asarray(arrays[f"{prefix}.coef"], dtype=np.float64))
        obj.intercept_ = np.asarray(arrays[f"{prefix}.intercept"], dtype=np.float64)
        obj.n_features_in_ = obj.coef_.shape[0]
        return obj


class UtteranceClassifier(BaseEstimator):
    """Featurizer + linear classifier for one task; ``X`` items are ``(text, previous, next)``.

    ``X`` may also hold plain strings or dicts with ``text``/``prev``/``next`` keys.  The previous
    turn is the context the utterance answers (MI coding depends on it: a reflection only makes
    sense against what the client just said).
    """

    labels: tuple[str, ...] = ()

    def __init__(
        self,
        featurizer: UtteranceFeaturizer | None = None,
        C: float = 4.0,
        class_weight: str | None = "balanced",
        random_state: int | None = 0,
    ) -> None:
        self.featurizer = featurizer
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Sequence[Any], y: Sequence[str]) -> UtteranceClassifier:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} items but y has {len(y)} labels")
        unknown = sorted({str(v) for v in y} - set(self.labels)) if self.labels else []
        if unknown:
            raise ValueError(
                f"unknown label(s) {unknown} for {type(self).__name__}; expected {self.labels}"
            )
        featurizer = (
            clone(self.featurizer) if self.featurizer is not None else UtteranceFeaturizer()
        )
        self.featurizer_ = featurizer.fit(X)
        self.classifier_ = LinearClassifier(
            C=self.C, class_weight=self.class_weight, random_state=self.random_state
        ).fit(self.featurizer_.transform(X), y)
        self.classes_ = self.classifier_.classes_
        return self

    def predict_proba(self, X: Sequence[Any]) -> np.ndarray:
        self._check_fitted("classifier_")
        return self.classifier_.predict_proba(self.featurizer_.transform(X))

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Sequence[Any], y: Sequence[str]) -> float:
        """Macro-F1 (the figure the project reports), not accuracy."""

        return macro_f1(list(y), list(self.predict(X)), labels=list(self.classes_))


class TherapistBehaviourClassifier(UtteranceClassifier):
    """reflection / question / therapist_input / other (AnnoMI main therapist behaviour)."""

    labels = THERAPIST_BEHAVIOURS


class ReflectionTypeClassifier(UtteranceClassifier):
    """simple / complex reflection (MITI 4.2.1 definitions)."""

    labels = REFLECTION_TYPES


class QuestionTypeClassifier(UtteranceClassifier):
    """open / closed question."""

    labels = QUESTION_TYPES


class InputTypeClassifier(UtteranceClassifier):
    """information / advice / negotiation / options (AnnoMI therapist input subtype)."""

    labels = INPUT_TYPES


class ClientTalkClassifier(UtteranceClassifier):
    """change / neutral / sustain talk (AnnoMI client talk type)."""

    labels = TALK_TYPES
