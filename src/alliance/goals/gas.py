"""Goal Attainment Scaling (Kiresuk & Sherman 1968).

Each goal is rated -2 (much less than expected) .. 0 (the expected outcome) .. +2 (much more).
T = 50 + 10 * sum(w_i x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2), with rho = 0.3,
the assumed correlation between goal scores; T = 50 when every goal lands as expected and the
SD of T is 10 across clients (docs/clinical-reference.md, "Goal Attainment Scaling").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

LEVELS = (-2, -1, 0, 1, 2)
DEFAULT_RHO = 0.3  # Kiresuk & Sherman 1968


class GasError(ValueError):
    """Invalid levels, weights or rho; the message says which goal."""


def goal_weight(importance: float, difficulty: float) -> float:
    """Weight of a goal = importance x difficulty (as in Turner-Stokes 2009, who rates each 0-3).
    Both must be positive here: a zero weight would silently drop the goal from the score."""
    for name, value in (("importance", importance), ("difficulty", difficulty)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise GasError(f"{name} {value!r} must be a positive number")
    return float(importance) * float(difficulty)


def gas_t_score(
    levels: Sequence[int], weights: Sequence[float] | None = None, rho: float = DEFAULT_RHO
) -> float:
    """Kiresuk-Sherman T-score for one rating date. Unweighted when ``weights`` is None."""
    if not levels:
        raise GasError("at least one goal is needed")
    for n, x in enumerate(levels, start=1):
        if isinstance(x, bool) or not isinstance(x, int) or x not in LEVELS:
            raise GasError(f"goal {n}: level {x!r} is not one of -2, -1, 0, 1, 2")
    if weights is None:
        weights = [1.0] * len(levels)
    if len(weights) != len(levels):
        raise GasError(f"{len(levels)} levels but {len(weights)} weights")
    for n, w in enumerate(weights, start=1):
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w <= 0:
            raise GasError(f"goal {n}: weight {w!r} must be a positive number")
    if isinstance(rho, bool) or not isinstance(rho, int | float) or not 0 <= rho < 1:
        raise GasError(f"rho {rho!r} must be at least 0 and below 1")
    weighted_sum = sum(w * x for w, x in zip(weights, levels, strict=True))
    denominator = math.sqrt((1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2)
    return 50 + 10 * weighted_sum / denominator
