"""Small scikit-learn-compatible plumbing without importing scikit-learn.

The runtime install must stay small (no scikit-learn, no scipy), so the estimators implement the
parts of the scikit-learn estimator contract that the project relies on: ``get_params`` /
``set_params`` read the ``__init__`` signature, ``__init__`` only stores parameters, ``fit``
returns ``self`` and learned state ends in ``_``.  A ``CSR`` sparse matrix type replaces
``scipy.sparse`` at run time; training converts it with :meth:`CSR.to_scipy`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np


class NotFittedError(RuntimeError):
    """Raised when an estimator is used before ``fit`` (or ``from_state``)."""


class BaseEstimator:
    """``get_params``/``set_params``/``repr`` in the scikit-learn style."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            name
            for name, p in sig.parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            params[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for key, sub in value.get_params(deep=True).items():
                    params[f"{name}__{key}"] = sub
        return params

    def set_params(self, **params: Any) -> BaseEstimator:
        valid = set(self._param_names())
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit() first")


E = TypeVar("E", bound=BaseEstimator)


def clone(estimator: E) -> E:
    """A new unfitted estimator with the same parameters (nested estimators cloned too)."""
    params = estimator.get_params(deep=False)
    for key, value in params.items():
        if isinstance(value, BaseEstimator):
            params[key] = clone(value)
    return type(estimator)(**params)


@dataclass
class CSR:
    """Compressed sparse rows: just enough for featurisation and linear scoring."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.indptr) - 1, self.n_cols)

    @classmethod
    def from_rows(cls, rows: list[tuple[list[int], list[float]]], n_cols: int) -> CSR:
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        lengths = [len(idx) for idx, _ in rows]
        np.cumsum(lengths, out=indptr[1:])
        indices = np.fromiter(
            (i for idx, _ in rows for i in idx), dtype=np.int64, count=int(indptr[-1])
        )
        data = np.fromiter(
            (v for _, vals in rows for v in vals), dtype=np.float64, count=int(indptr[-1])
        )
        return cls(indptr, indices, data, n_cols)

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> CSR:
        dense = np.asarray(dense, dtype=np.float64)
        rows, cols = np.nonzero(dense)
        indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
        return cls(indptr, cols.astype(np.int64), dense[rows, cols], dense.shape[1])

    def select_rows(self, rows: np.ndarray) -> CSR:
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = (
            np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=False)])
            if len(rows)
            else np.zeros(0, np.int64)
        )
        take = take.astype(np.int64)
        return CSR(indptr, self.indices[take], self.data[take], self.n_cols)

    def hstack(self, other: CSR) -> CSR:
        if self.shape[0] != other.shape[0]:
            raise ValueError("row counts differ")
        rows = []
        for r in range(self.shape[0]):
            a, b = (
                slice(self.indptr[r], self.indptr[r + 1]),
                slice(other.indptr[r], other.indptr[r + 1]),
            )
            rows.append(
                (
                    list(self.indices[a]) + [int(i) + self.n_cols for i in other.indices[b]],
                    list(self.data[a]) + list(other.data[b]),
                )
            )
        return CSR.from_rows(rows, self.n_cols + other.n_cols)

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """``X @ weights`` for a dense (n_cols, k) matrix, in numpy only."""
        n_rows = self.shape[0]
        out = np.zeros((n_rows, weights.shape[1]))
        if len(self.indices) == 0:
            return out
        contrib = weights[self.indices] * self.data[:, None]
        _row_sum(out, contrib, self.indptr)
        return out

    def to_scipy(self) -> Any:  # training only
        # scipy comes with the optional train extra (scikit-learn); predicting needs only numpy.
        from scipy.sparse import csr_matrix  # noqa: PLC0415

        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def _row_sum(out: np.ndarray, contrib: np.ndarray, indptr: np.ndarray) -> None:
    nonempty = np.diff(indptr) > 0
    if not nonempty.any():
        return
    sums = np.add.reduceat(contrib, indptr[:-1][nonempty], axis=0)
    out[nonempty] = sums
