"""Scores in numpy only (the ``evaluate`` command must run without scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> np.ndarray:
    """Rows are the true label, columns the predicted one, in ``labels`` order."""
    pos = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=False):
        if t in pos and p in pos:
            cm[pos[t], pos[p]] += 1
    return cm


def per_class_f1(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, float]:
    cm = confusion_matrix(y_true, y_pred, labels)
    out = {}
    for i, lab in enumerate(labels):
        tp = cm[i, i]
        fp = cm[:, i].sum() - tp
        fn = cm[i, :].sum() - tp
        out[lab] = float(2 * tp / (2 * tp + fp + fn)) if (2 * tp + fp + fn) else 0.0
    return out


def macro_f1(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> float:
    labels = list(labels) if labels is not None else sorted(set(y_true) | set(y_pred))
    scores = per_class_f1(y_true, y_pred, labels)
    return float(np.mean(list(scores.values()))) if scores else 0.0


def format_confusion(cm: np.ndarray, labels: Sequence[str]) -> str:
    """A plain-text confusion matrix (true label per row)."""
    width = max(8, *(len(lab) for lab in labels)) + 1
    head = "true \\ pred".ljust(width) + "".join(lab.rjust(width) for lab in labels)
    rows = [head] + [
        labels[i].ljust(width) + "".join(str(v).rjust(width) for v in cm[i])
        for i in range(len(labels))
    ]
    return "\n".join(rows)


def format_confusion_md(cm: np.ndarray, labels: Sequence[str]) -> str:
    head = "| true \\ predicted | " + " | ".join(labels) + " |"
    sep = "|---" * (len(labels) + 1) + "|"
    rows = [
        f"| {labels[i]} | " + " | ".join(str(int(v)) for v in cm[i]) + " |"
        for i in range(len(labels))
    ]
    return "\n".join([head, sep, *rows])
