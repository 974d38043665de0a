"""Per-decision contributions to one architecture's score: exact Shapley values over the decisions of a design,
and TreeSHAP from an XGBoost model where no design can be listed.

Exact Shapley (a design of values over the whole space, or a table's cells): the players are the decisions, and a
coalition ``S`` is worth

- ``baseline="mean"``: ``v(S) = mean(y | x_S = a_S)`` over the design, so ``v({}) = mean(y)``;
- ``baseline="median"``: ``v(S) = y(a_S, b_rest)``, the value of ``a`` with the decisions off ``S`` set to those of
  the baseline architecture ``b`` (the design's median cell), so ``v({}) = y(b)``; this needs every such mixed
  architecture in the design (a full factorial).

Either way the contributions add up to ``y(a) - v({})`` exactly (Shapley's efficiency). ``v`` is computed for all
``2**width`` coalitions at once: each cell's pattern of agreement with ``a`` is a bitmask, and a superset-sum
transform gives every coalition's sum and count of matching cells in ``width * 2**width`` steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nasbench.errors import InvalidQuery

#: Exact Shapley enumerates 2**width coalitions; wider spaces (NB101: 26 decisions) use TreeSHAP.
MAX_EXACT_WIDTH = 16


def coalition_values_mean(archs: np.ndarray, y: np.ndarray, arch: np.ndarray) -> np.ndarray:
    """``v(S) = mean(y | x_S = a_S)`` for every coalition bitmask ``S`` (bit ``d`` = decision ``d``)."""
    width = archs.shape[1]
    agree = (np.asarray(archs, dtype=np.int64) == np.asarray(arch, dtype=np.int64)[None, :]).astype(np.int64)
    pattern = agree @ (1 << np.arange(width, dtype=np.int64))
    size = 1 << width
    sums = np.bincount(pattern, weights=np.asarray(y, dtype=np.float64), minlength=size)
    counts = np.bincount(pattern, minlength=size).astype(np.float64)
    masks = np.arange(size)
    for d in range(width):  # superset sums: a cell agreeing on T counts for every coalition inside T
        without = (masks & (1 << d)) == 0
        sums[without] += sums[masks[without] | (1 << d)]
        counts[without] += counts[masks[without] | (1 << d)]
    return sums / counts  # every coalition has at least the cell `arch` itself


def coalition_values_baseline(
    archs: np.ndarray, y: np.ndarray, arch: np.ndarray, base: np.ndarray, choices: tuple[int, ...]
) -> np.ndarray:
    """``v(S) = y(a on S, b elsewhere)`` for every coalition bitmask; every mixed architecture must be a cell."""
    width = len(choices)
    radix = np.ones(width, dtype=np.int64)
    for d in range(width - 2, -1, -1):
        radix[d] = radix[d + 1] * int(choices[d + 1])
    keys = np.asarray(archs, dtype=np.int64) @ radix
    order = np.argsort(keys)
    masks = np.arange(1 << width)
    take = ((masks[:, None] >> np.arange(width)[None, :]) & 1).astype(bool)
    mixed = np.where(take, np.asarray(arch)[None, :], np.asarray(base)[None, :]).astype(np.int64) @ radix
    pos = np.searchsorted(keys, mixed, sorter=order)
    pos = np.minimum(pos, len(keys) - 1)
    found = keys[order[pos]] == mixed
    if not found.all():
        raise InvalidQuery(
            "baseline 'median' mixes the architecture with the median one decision by decision, and some mixtures "
            "are not in this design (it is not a full factorial); use baseline='mean'"
        )
    return np.asarray(y, dtype=np.float64)[order[pos]]


def shapley_from_values(values: np.ndarray, width: int) -> np.ndarray:
    """Shapley value of each decision from ``v`` over all coalition bitmasks."""
    masks = np.arange(1 << width)
    sizes = np.array([bin(m).count("1") for m in range(1 << width)])
    weight = np.array([math.factorial(s) * math.factorial(width - s - 1) for s in range(width)], dtype=np.float64)
    weight /= math.factorial(width)
    phi = np.zeros(width)
    for d in range(width):
        without = masks[(masks & (1 << d)) == 0]
        phi[d] = float(np.sum(weight[sizes[without]] * (values[without | (1 << d)] - values[without])))
    return phi


def exact_shapley(
    archs: np.ndarray,
    y: np.ndarray,
    arch: tuple[int, ...],
    choices: tuple[int, ...],
    base: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, float, float]:
    """(contributions per decision, baseline value ``v({})``, value ``y(arch)``) over a design; ``base``: the
    baseline architecture (None: the design's mean)."""
    width = len(choices)
    if width > MAX_EXACT_WIDTH:
        raise InvalidQuery(f"exact Shapley values enumerate 2**{width} coalitions; use TreeSHAP for this space")
    a = np.asarray(arch, dtype=np.int64)
    if base is None:
        values = coalition_values_mean(archs, y, a)
    else:
        values = coalition_values_baseline(archs, y, a, np.asarray(base, dtype=np.int64), choices)
    return shapley_from_values(values, width), float(values[0]), float(values[-1])


def tree_shap(model: Any, features: np.ndarray, choices: tuple[int, ...]) -> tuple[np.ndarray, float, float]:
    """(contributions per decision, bias, raw prediction) of an XGBoost regressor fitted on the one-hot encoding
    (each column belongs to one decision), by XGBoost's own TreeSHAP (``pred_contribs``): the columns of each
    decision are summed; the bias is the model's expected output over its training cells."""
    import xgboost as xgb

    contribs = model.get_booster().predict(xgb.DMatrix(np.asarray(features, dtype=np.float32)), pred_contribs=True)
    row = np.asarray(contribs[0], dtype=np.float64)
    offsets = np.concatenate([[0], np.cumsum(choices)])
    if len(row) != offsets[-1] + 1:
        raise InvalidQuery("TreeSHAP per decision needs a model fitted on the one-hot encoding")
    phi = np.array([row[offsets[d] : offsets[d + 1]].sum() for d in range(len(choices))])
    bias = float(row[-1])
    return phi, bias, float(phi.sum() + bias)
