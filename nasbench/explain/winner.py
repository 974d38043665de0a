"""One architecture explained: what each of its decisions contributes to its score against a stated baseline, and
what every single-decision change to it would cost or gain.

Contributions are exact Shapley values over the decisions of the landscape's design (the table's values on a
complete table, the surrogate's predictions on an estimated one; see :mod:`nasbench.explain.shapley`), so they add
up to the architecture's value minus the baseline's. Where the design cannot be listed (NB101), or when asked
(``method="tree_shap"``), they are XGBoost's own TreeSHAP values of a one-hot model fitted on the table's cells,
summed per decision, against the model's mean over those cells. Neighbours are read from the table wherever it has
them and predicted elsewhere; each row says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.benchmark import TabularBenchmark
from nasbench.errors import InvalidQuery
from nasbench.explain.landscape import Bench, Landscape, Target, choice_label, decision_labels, landscape
from nasbench.explain.shapley import MAX_EXACT_WIDTH, exact_shapley, tree_shap
from nasbench.spaces.base import Arch, arch_keys, canonical_keys, find_keys

BASELINES = ("mean", "median")
METHODS = ("auto", "exact", "tree_shap")


@dataclass
class ArchExplanation:
    """``contributions``: one row per decision (``decision``, ``d``, ``choice``, ``c``, ``contribution`` in the
    metric's units, and ``baseline_choice`` for a median baseline); they add up to ``value - baseline_value``.
    ``neighbours``: one row per valid single-decision change (``decision``, ``d``, ``from_choice``, ``to_choice``,
    ``c``, ``arch``, ``value``, ``delta`` = value minus this architecture's, ``gain`` = delta oriented so that
    positive is better, ``source`` "table" or "surrogate", ``same_network`` where the space holds both isomorphic)."""

    target: Target
    arch: Arch
    arch_str: str
    value: float
    measured: float
    method: str
    baseline: str
    baseline_value: float
    baseline_arch: Arch | None
    contributions: Any
    neighbours: Any  # None when not asked for
    exact: bool

    @property
    def total(self) -> float:
        return float(self.contributions["contribution"].sum())


def explain_arch(
    bench: Bench | Landscape,
    arch: object = None,
    metric: str | None = None,
    epoch: int | None = None,
    *,
    baseline: str = "mean",
    method: str = "auto",
    seed: int = 0,
    with_neighbours: bool = True,
    **landscape_args: Any,
) -> ArchExplanation:
    """Explain ``arch`` (an official string or decision tuple; None: the table's best measured architecture) on
    ``bench`` (a store path, a table, a hybrid benchmark, or a :class:`Landscape` already computed).
    ``baseline``: "mean" (the design's average) or "median" (the design's median architecture, exact Shapley on
    a full factorial only). ``with_neighbours=False`` skips the counterfactual neighbours (``neighbours`` is
    then None)."""
    if baseline not in BASELINES:
        raise InvalidQuery(f"baseline is one of {', '.join(BASELINES)}, got {baseline!r}")
    if method not in METHODS:
        raise InvalidQuery(f"method is one of {', '.join(METHODS)}, got {method!r}")
    land = bench if isinstance(bench, Landscape) else landscape(bench, metric, epoch, seed=seed, **landscape_args)
    table = land.table
    assert table is not None
    space = land.space
    target = land.target
    if arch is None:
        arch = table.best(target.metric, epoch=target.epoch)[0]
    a = space.validate(arch)
    measured = float(_measured(table, target, np.asarray([a]))[0])
    row = _design_row(land, table, a)
    width = len(space.choices)
    if method == "auto":
        method = "exact" if row >= 0 and width <= MAX_EXACT_WIDTH else "tree_shap"
    if method == "exact":
        if row < 0:
            raise InvalidQuery(
                f"{space.to_str(a)} is not a cell of this landscape's design ({land.design}); explain it with "
                "method='tree_shap'"
            )
        base = _median_arch(land) if baseline == "median" else None
        phi, base_value, value = exact_shapley(
            land.archs, land.values, tuple(int(v) for v in land.archs[row]), tuple(space.choices), base
        )
        how = "exact Shapley values over decisions, " + ("on the table" if land.exact else "on the predictions")
    else:
        if baseline == "median":
            raise InvalidQuery("TreeSHAP explains against the model's mean over its cells; use baseline='mean'")
        phi, base_value, value = _tree_shap(table, target, a, seed)
        base = None
        how = "TreeSHAP (XGBoost pred_contribs) of a one-hot model fitted on the table's cells"
    labels = decision_labels(space)
    import pandas as pd

    contributions = pd.DataFrame(
        {
            "decision": labels,
            "d": range(width),
            "choice": [choice_label(space, d, a[d]) for d in range(width)],
            "c": list(a),
            "contribution": phi,
            **({"baseline_choice": [choice_label(space, d, base[d]) for d in range(width)]} if base else {}),
        }
    )
    return ArchExplanation(
        target=target,
        arch=a,
        arch_str=space.to_str(a),
        value=value,
        measured=measured,
        method=how,
        baseline=baseline if method == "exact" else "model mean",
        baseline_value=base_value,
        baseline_arch=base,
        contributions=contributions,
        neighbours=neighbours(land, a) if with_neighbours else None,
        exact=land.exact and method == "exact",
    )


def neighbours(land: Landscape, arch: Arch) -> Any:
    """Every valid single-decision change of ``arch`` with its value: the table's where it has one, else the
    landscape's prediction (NaN where neither exists)."""
    import pandas as pd

    space, table, target = land.space, land.table, land.target
    assert table is not None
    near = space.neighbors(arch)
    arr = np.asarray([arch, *near], dtype=np.int64).reshape(-1, len(space.choices))
    values = _measured(table, target, arr)
    source = np.where(np.isfinite(values), "table", "surrogate")
    # A predicted neighbour is compared with this architecture's prediction, a measured one with its measurement:
    # a table's best cell is partly luck (seed noise), which a prediction does not share.
    reference = np.full(len(arr), values[0])
    missing = ~np.isfinite(values)
    if land.predict is not None and (missing.any() or not np.isfinite(values[0])):
        predicted = land.predict(arr)
        values[missing] = predicted[missing]
        reference[missing | ~np.isfinite(reference)] = predicted[0]
    elif missing.any():
        source[missing] = "missing"
    labels = decision_labels(space)
    canon = canonical_keys(space, arr)
    rows = []
    for k, other in enumerate(near, start=1):
        d = next(i for i in range(len(arch)) if other[i] != arch[i])
        delta = float(values[k] - reference[k])
        rows.append(
            {
                "decision": labels[d],
                "d": d,
                "from_choice": choice_label(space, d, arch[d]),
                "to_choice": choice_label(space, d, other[d]),
                "c": other[d],
                "arch": space.to_str(other),
                "value": float(values[k]),
                "delta": delta,
                "gain": target.sign * delta if math.isfinite(delta) else math.nan,
                "source": str(source[k]),
                "same_network": bool(canon[k] == canon[0]),
            }
        )
    columns = ["decision", "d", "from_choice", "to_choice", "c", "arch", "value", "delta", "gain", "source"]
    return pd.DataFrame(rows, columns=[*columns, "same_network"])


def _measured(table: TabularBenchmark, target: Target, arr: np.ndarray) -> np.ndarray:
    """The table's mean value of each arch (its class's in an iso-shared store), NaN where the table lacks it."""
    space = table.space
    keys = canonical_keys(space, arr) if table.iso_shared else arch_keys(space, arr)
    own = arch_keys(space, np.asarray(table.archs(), dtype=np.int64).reshape(-1, len(space.choices)))
    rows = find_keys(own, keys)
    column = table.table(target.metric, epoch=target.epoch)
    return np.where(rows >= 0, column[np.maximum(rows, 0)], np.nan)


def _design_row(land: Landscape, table: TabularBenchmark, arch: Arch) -> int:
    """Row of ``arch`` in the landscape's design (its canonical form's, when the design is an iso-shared table's
    cells), -1 when it is not one."""
    row = int(land.value_rows(np.asarray([arch], dtype=np.int64))[0])
    if row < 0 and table.iso_shared:
        row = int(land.value_rows(np.asarray([table.space.canonical(arch)], dtype=np.int64))[0])
    return row


def _median_arch(land: Landscape) -> Arch:
    """The design's median cell: the lower median of its values (first in design order among ties)."""
    order = np.argsort(land.values, kind="stable")
    return tuple(int(v) for v in land.archs[order[(len(order) - 1) // 2]])


def _tree_shap(table: TabularBenchmark, target: Target, arch: Arch, seed: int) -> tuple[np.ndarray, float, float]:
    from nasbench.surrogates.surrogate import Surrogate

    space = table.space
    measured = table.table(target.metric, epoch=target.epoch)
    keep = np.isfinite(measured)
    archs = np.asarray(table.archs(), dtype=np.int64).reshape(-1, len(space.choices))[keep]
    model = Surrogate("xgboost", "onehot", space=space, seed=seed).fit(archs, measured[keep])
    return tree_shap(model.model.model_, space.encode([arch], "onehot"), tuple(space.choices))
