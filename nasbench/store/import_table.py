"""Import a CSV or parquet table of results into a store.

Each metric column is mapped to ``METRIC@EPOCH`` (mean over unnamed seeds) or ``METRIC@EPOCH:SEED``; a column
mapped to a bare name without ``@`` is a per-architecture static figure (``params_m``, ``official_index``...).
Example, the NAS-Bench-201 export in ``../shared/reference/nb201/cifar10.csv``::

    nasbench import table cifar10.csv --out nb201-cifar10.h5 --dataset cifar10 --percent \\
        --map val_acc_12ep=val_acc@12 --map test_acc_12ep=test_acc@12 --map test_acc_200ep=test_acc@200 \\
        --map index=official_index

The same spec can live in a JSON file (``--spec``): ``{"arch_column": "arch", "percent": true, "columns":
{"val_acc_12ep": "val_acc@12", ...}, "dataset": "cifar10", "protocol": {...}}``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__
from nasbench.atomic import sha256_file
from nasbench.errors import ImportSpecError, InvalidArchitecture, StoreError
from nasbench.spaces import get_space
from nasbench.spaces.base import arch_keys
from nasbench.store.format import METRICS, StoreData

_TARGET = re.compile(r"^(?P<metric>[a-z][a-z0-9_]*)@(?P<epoch>\d+)(?::(?P<seed>-?\d+))?$")
_STATIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ColumnTarget:
    """Where one table column lands: a metric at an epoch (and seed), or a static figure (epoch None)."""

    column: str
    name: str
    epoch: int | None = None
    seed: int | None = None

    @classmethod
    def parse(cls, column: str, target: str) -> ColumnTarget:
        target = target.strip()
        match = _TARGET.match(target)
        if match:
            metric = match["metric"]
            if metric not in METRICS:
                raise ImportSpecError(
                    f"column {column!r}: unknown metric {metric!r}; metrics are: {', '.join(METRICS)}"
                )
            seed = match["seed"]
            return cls(column, metric, int(match["epoch"]), None if seed is None else int(seed))
        if "@" in target or not _STATIC_NAME.match(target):
            raise ImportSpecError(
                f"column {column!r}: target {target!r} must be METRIC@EPOCH, METRIC@EPOCH:SEED "
                "or a static figure name (lower_case)"
            )
        if target in METRICS:
            raise ImportSpecError(f"column {column!r}: metric {target!r} needs an epoch, e.g. {target}@200")
        return cls(column, target)


@dataclass
class TableSpec:
    columns: list[ColumnTarget]
    arch_column: str = "arch"
    percent: bool = False
    space: str = "nb201"
    dataset: str = "unknown"
    protocol: dict[str, Any] = field(default_factory=dict)
    directions: dict[str, str] = field(default_factory=dict)  # for metrics whose name implies none
    defaults: dict[str, Any] = field(default_factory=dict)  # the store's default protocol
    licence: str | None = None  # of the published data, recorded in the store's provenance
    citation: str | None = None

    @classmethod
    def from_mappings(cls, mappings: list[str], **kwargs: Any) -> TableSpec:
        """From ``COLUMN=TARGET`` strings as given on the command line."""
        columns = []
        for item in mappings:
            column, sep, target = item.partition("=")
            if not sep or not column.strip():
                raise ImportSpecError(
                    f"mapping {item!r} must look like COLUMN=METRIC@EPOCH (e.g. val_acc_12ep=val_acc@12)"
                )
            columns.append(ColumnTarget.parse(column.strip(), target))
        return cls(columns=columns, **kwargs)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TableSpec:
        return cls.from_dict(read_spec_file(path))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TableSpec:
        allowed = {"columns", "arch_column", "percent", "space", "dataset", "protocol", "directions", "defaults",
                   "licence", "citation"}  # fmt: skip
        unknown = set(raw) - allowed
        if unknown:
            raise ImportSpecError(f"unknown key(s) {sorted(unknown)} in import spec; allowed: {sorted(allowed)}")
        if not isinstance(raw.get("columns"), dict) or not raw["columns"]:
            raise ImportSpecError('an import spec needs "columns": {"COLUMN": "METRIC@EPOCH", ...}')
        mappings = [f"{c}={t}" for c, t in raw["columns"].items()]
        return cls.from_mappings(mappings, **{k: v for k, v in raw.items() if k != "columns"})


def read_spec_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object of an import spec file."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ImportSpecError(f"cannot read import spec {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ImportSpecError(f"import spec {path} must hold a JSON object")
    return raw


def read_table(path: str | os.PathLike[str]) -> Any:
    """Read a CSV or parquet file into a DataFrame (pandas is imported here, not at package import)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ImportSpecError(f"no table at {path}")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt", ".gz"):
        raise ImportSpecError(f"{path}: unknown table format {path.suffix!r}; use .csv or .parquet")
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        # Only an empty cell is a missing result: a literal "nan" in a published table is refused, not guessed at.
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except ImportError:
        raise
    except Exception as exc:  # pandas and pyarrow raise many types for a file that is not a table
        kind = "parquet" if suffix in (".parquet", ".pq") else "CSV"
        raise ImportSpecError(f"{path} is not a readable {kind} table: {type(exc).__name__}: {exc}") from None


def import_table(path: str | os.PathLike[str], spec: TableSpec) -> StoreData:
    """Turn a table into validated :class:`StoreData` (write it with :func:`nasbench.store.write_store`)."""
    frame = read_table(path)
    space = get_space(spec.space)
    needed = [spec.arch_column] + [c.column for c in spec.columns]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise ImportSpecError(f"{path}: no column(s) {absent}; the table has: {list(frame.columns)}")
    if not spec.columns:
        raise ImportSpecError("map at least one column to a metric (COLUMN=METRIC@EPOCH)")

    archs = []
    for line, text in enumerate(frame[spec.arch_column].tolist(), start=2):
        try:
            archs.append(space.validate(text))
        except InvalidArchitecture as exc:
            raise ImportSpecError(f"{path}, line {line}: {exc}") from None
    ids = arch_keys(space, np.asarray(archs, dtype=np.int64).reshape(-1, len(space.choices)))
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(np.diff(ids[order]) == 0)
    if dup.size:
        first = archs[order[dup[0]]]
        raise ImportSpecError(f"{path}: architecture {space.to_str(first)} appears more than once")

    metric_cols = [c for c in spec.columns if c.epoch is not None]
    static_cols = [c for c in spec.columns if c.epoch is None]
    seeds = _seeds(metric_cols)
    epochs = tuple(sorted({c.epoch for c in metric_cols}))  # type: ignore[type-var]
    n = len(archs)
    metrics: dict[str, np.ndarray] = {}
    seen: set[tuple[str, int | None, int | None]] = set()
    for col in metric_cols:
        key = (col.name, col.epoch, col.seed)
        if key in seen:
            raise ImportSpecError(f"two columns map to {col.name}@{col.epoch} seed {col.seed}")
        seen.add(key)
        values = numeric_column(frame, col.column, path)[order]
        if col.name.endswith("_acc"):
            values = _to_fraction(values, col.column, spec.percent)
        array = metrics.setdefault(col.name, np.full((n, len(seeds), len(epochs)), np.nan, dtype=np.float32))
        array[:, seeds.index(col.seed), epochs.index(col.epoch)] = values
    static = {c.name: numeric_column(frame, c.column, path)[order].astype(np.float32) for c in static_cols}

    data = StoreData(
        space=spec.space,
        dataset=spec.dataset,
        protocol=spec.protocol,
        seeds=seeds,
        epochs=epochs,  # type: ignore[arg-type]
        archs=np.asarray(archs, dtype=np.int64).reshape(-1, len(space.choices))[order],
        metrics=metrics,
        static=static,
        directions=dict(spec.directions),
        defaults=dict(spec.defaults),
        provenance={
            "importer": "table",
            "source": Path(path).name,
            "source_sha256": sha256_file(path),
            "columns": {c.column: _target_text(c) for c in spec.columns},
            "percent": spec.percent,
            "nasbench_version": __version__,
            **{k: v for k, v in (("licence", spec.licence), ("citation", spec.citation)) if v},
        },
    )
    return validated(data, path)


def validated(data: StoreData, path: object) -> StoreData:
    """``data.validate()`` with a schema violation reported against the imported file."""
    try:
        return data.validate()
    except StoreError as exc:
        raise ImportSpecError(f"{path}: {exc}") from None


def _seeds(metric_cols: list[ColumnTarget]) -> tuple[int | None, ...]:
    named = sorted({c.seed for c in metric_cols if c.seed is not None})
    unnamed = any(c.seed is None for c in metric_cols)
    if named and unnamed:
        raise ImportSpecError(
            "mix of columns with and without a seed: give every metric column a seed (METRIC@EPOCH:SEED), "
            "or none (means over seeds)"
        )
    return tuple(named) if named else (None,)


def numeric_column(frame: Any, column: str, path: object) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ImportSpecError(
            f"{path}, line {line}: column {column!r} holds {frame[column].iloc[line - 2]!r}, not a number "
            "(leave a cell empty for a missing result)"
        )
    out = values.to_numpy(dtype=np.float64)
    infinite = np.isinf(out)
    if infinite.any():
        line = int(np.flatnonzero(infinite)[0]) + 2
        raise ImportSpecError(f"{path}, line {line}: column {column!r} holds {out[line - 2]}, not a finite number")
    return out


def _to_fraction(values: np.ndarray, column: str, percent: bool) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return values
    if percent:
        if finite.max() <= 1.0:
            raise ImportSpecError(
                f"column {column!r} already looks like fractions (max {finite.max():g}) but --percent was given"
            )
        values = values / 100.0
    elif finite.max() > 1.0:
        raise ImportSpecError(
            f"column {column!r} looks like percentages (max {finite.max():g}); pass --percent to divide by 100"
        )
    return values


def _target_text(c: ColumnTarget) -> str:
    if c.epoch is None:
        return c.name
    return f"{c.name}@{c.epoch}" + ("" if c.seed is None else f":{c.seed}")
