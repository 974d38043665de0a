"""Join per-architecture columns from another table (device latencies, energies, ...) into a store's ``/static``.

The table's ``key`` column identifies each row's architecture: by the space's official string, or, when the column
holds integers, by the official index (matched to the store's static ``official_index``, as published tables such
as HW-NAS-Bench's ``index`` number the NB201 cells). Every string
must be an architecture of the store's space, and no architecture may appear twice: a table of another space is
refused, not half-joined. Store architectures the table lacks get NaN, and the join says how many.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import sha256_file
from nasbench.errors import ImportSpecError, InvalidArchitecture
from nasbench.spaces import get_space
from nasbench.spaces.base import arch_keys, find_keys
from nasbench.store.format import StoreData
from nasbench.store.import_table import numeric_column, read_table


def join_table(
    data: StoreData,
    path: str | os.PathLike[str],
    *,
    key: str,
    columns: dict[str, str],
    licence: str | None = None,
    citation: str | None = None,
) -> tuple[StoreData, int]:
    """``data`` with each table column ``columns[col]`` added as ``/static/<name>``; returns it and the number
    of store architectures the table did not cover. ``licence`` and ``citation`` of the table go into the
    provenance entry of the join."""
    path = Path(path)
    if not columns:
        raise ImportSpecError("name at least one column to join: --map COLUMN=STATIC_NAME")
    for name in columns.values():  # the names themselves are checked by validate()
        if name in data.static:
            raise ImportSpecError(f"the store already has /static/{name}; choose another name")
    frame = read_table(path)
    absent = [c for c in (key, *columns) if c not in frame.columns]
    if absent:
        raise ImportSpecError(f"{path}: no column(s) {absent}; the table has: {list(frame.columns)}")
    space = get_space(data.space)
    rows = _store_rows(data, space, frame, key, path)
    static = dict(data.static)
    for column, name in columns.items():
        values = np.full(len(data.archs), np.nan, dtype=np.float32)
        found = rows >= 0
        values[rows[found]] = numeric_column(frame, column, path)[found]
        static[name] = values
    covered = np.zeros(len(data.archs), dtype=bool)
    covered[rows[rows >= 0]] = True
    joined = {"file": path.name, "sha256": sha256_file(path), "key": key, "columns": columns}
    joined.update({k: v for k, v in (("licence", licence), ("citation", citation)) if v})
    provenance = {**data.provenance, "joined": [*data.provenance.get("joined", []), joined]}
    return replace(data, static=static, provenance=provenance).validate(), int((~covered).sum())


def _store_rows(data: StoreData, space: Any, frame: Any, key: str, path: Path) -> np.ndarray:
    """The store row of each table row (-1: an architecture the store does not hold)."""
    if frame[key].dtype.kind in "iu":
        if "official_index" not in data.static:
            raise ImportSpecError(
                f"{path}: column {key!r} holds indices, but the store has no official_index to match them to; "
                "join on a column of official strings"
            )
        index = numeric_column(frame, key, path)
        by_index = {int(v): row for row, v in enumerate(data.static["official_index"].tolist()) if v == v}
        rows = np.array([by_index.get(int(v), -1) for v in index], dtype=np.int64)
        seen = index.astype(np.int64)
    else:
        archs = []
        for line, text in enumerate(frame[key].tolist(), start=2):
            try:
                arch = space.from_str(str(text))
            except InvalidArchitecture as exc:
                raise ImportSpecError(f"{path}, line {line}: not a {space.name} architecture: {exc}") from None
            archs.append(
                arch
            )  # exact cells: in an iso_shared store a row's costs are those of its own (canonical) cell
        width = len(space.choices)
        keys = arch_keys(space, np.asarray(archs, dtype=np.int64).reshape(-1, width))
        rows = find_keys(arch_keys(space, np.asarray(data.archs, dtype=np.int64)), keys)
        seen = keys
    unique, counts = np.unique(seen, return_counts=True)
    if (counts > 1).any():
        raise ImportSpecError(
            f"{path}: an architecture appears {int(counts.max())} times (key {unique[counts > 1][0]})"
        )
    return rows
