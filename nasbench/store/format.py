"""The benchmark store: one HDF5 file per (search space, dataset, training protocol).

Layout (schema version 1)::

    attrs     schema_version (int), space, dataset (str), protocol, provenance (JSON objects),
              seeds (JSON list: int seeds, or a single null = "mean over seeds the source did not name"),
              epochs (int array, strictly increasing; epoch e = after e completed epochs), iso_shared (bool)
    /archs            (N, E) int8     op indices, unique, sorted lexicographically
    /metrics/<name>   (N, S, T) float32   train/val/test acc (fractions) and loss, train_time_s (cumulative)
    /static/<name>    (N,) float32    params, flops, ...

Missing results are NaN, never filled. ``iso_shared`` means only one cell per isomorphism class was trained and
stands for its whole class; readers then look up the canonical form of a queried cell.

Writers build the whole content in memory, write it to a temporary file beside the target and rename it, so a
killed writer never leaves a half-written store.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.errors import StoreError
from nasbench.spaces import get_space

SCHEMA_VERSION = 1
ACCURACY_METRICS = ("train_acc", "val_acc", "test_acc")
LOSS_METRICS = ("train_loss", "val_loss", "test_loss")
METRICS = ACCURACY_METRICS + LOSS_METRICS + ("train_time_s",)
STATIC = ("params", "flops")
_REQUIRED_ATTRS = ("schema_version", "space", "dataset", "protocol", "provenance", "seeds", "epochs")


@dataclass
class StoreData:
    """The whole content of a store, in memory. Constructors of stores (importers, the builder) fill one and
    hand it to :func:`write_store`; :func:`read_store` returns one, validated."""

    space: str
    dataset: str
    protocol: dict[str, Any]
    seeds: tuple[int | None, ...]
    epochs: tuple[int, ...]
    archs: np.ndarray  # (N, E) int8
    metrics: dict[str, np.ndarray]  # name -> (N, S, T) float32
    static: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (N,) float32
    provenance: dict[str, Any] = field(default_factory=dict)
    iso_shared: bool = False

    def validate(self) -> StoreData:
        """Check every invariant of the schema; raise :class:`StoreError` naming the first violation."""
        try:
            space = get_space(self.space)
        except Exception as exc:
            raise StoreError(str(exc)) from None
        archs = np.asarray(self.archs)
        if archs.ndim != 2 or archs.shape[1] != space.num_edges:
            raise StoreError(f"/archs must have shape (N, {space.num_edges}) for {self.space}, got {archs.shape}")
        if archs.size and (archs.min() < 0 or archs.max() >= space.num_ops):
            raise StoreError(f"/archs holds op indices outside 0..{space.num_ops - 1}")
        ids = space.indices(archs) if len(archs) else np.zeros(0, dtype=np.int64)
        if np.any(np.diff(ids) <= 0):
            raise StoreError("/archs must be unique and sorted lexicographically")
        if len(set(self.seeds)) != len(self.seeds) or not self.seeds:
            raise StoreError(f"seeds must be a non-empty list of distinct seeds, got {list(self.seeds)}")
        if None in self.seeds and len(self.seeds) != 1:
            raise StoreError("a null seed (mean over unnamed seeds) must be the store's only seed")
        if not self.epochs or any(b <= a for a, b in zip(self.epochs, self.epochs[1:], strict=False)):
            raise StoreError(f"epochs must be a non-empty, strictly increasing list, got {list(self.epochs)}")
        if min(self.epochs) < 0:
            raise StoreError(f"epochs count completed epochs and cannot be negative, got {list(self.epochs)}")
        if not self.metrics:
            raise StoreError("a store must hold at least one metric")
        expected = (len(archs), len(self.seeds), len(self.epochs))
        for name, values in self.metrics.items():
            if name not in METRICS:
                raise StoreError(f"unknown metric /metrics/{name}; a store may hold: {', '.join(METRICS)}")
            if values.shape != expected:
                raise StoreError(
                    f"/metrics/{name} has shape {values.shape}, expected (archs, seeds, epochs) = {expected}"
                )
            if name in ACCURACY_METRICS:
                finite = values[np.isfinite(values)]
                if finite.size and (finite.min() < 0 or finite.max() > 1):
                    raise StoreError(
                        f"/metrics/{name} must be a fraction in [0, 1], found {finite.min():g}..{finite.max():g} "
                        "(percentages must be divided by 100 on import)"
                    )
        for name, values in self.static.items():
            if values.shape != (len(archs),):
                raise StoreError(f"/static/{name} has shape {values.shape}, expected ({len(archs)},)")
        return self


def write_store(path: str | os.PathLike[str], data: StoreData, *, overwrite: bool = False) -> Path:
    """Validate ``data`` and write it to ``path`` atomically (temporary file in the same folder, then rename)."""

    data.validate()
    path = Path(path)
    if path.exists() and not overwrite:
        raise StoreError(f"{path} already exists; pass overwrite=True (--overwrite) to replace it")
    try:
        _write(path, data)
    except OSError as exc:  # disk full, no permission, a folder in the way: one clear line for the user
        raise StoreError(f"cannot write {path}: {exc}") from exc
    return path


def _write(path: Path, data: StoreData) -> None:
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["space"] = data.space
        f.attrs["dataset"] = data.dataset
        f.attrs["protocol"] = json.dumps(data.protocol, sort_keys=True)
        f.attrs["provenance"] = json.dumps(data.provenance, sort_keys=True)
        f.attrs["seeds"] = json.dumps(list(data.seeds))
        f.attrs["epochs"] = np.asarray(data.epochs, dtype=np.int64)
        f.attrs["iso_shared"] = bool(data.iso_shared)
        f.create_dataset("archs", data=np.asarray(data.archs, dtype=np.int8))
        for group, arrays in (("metrics", data.metrics), ("static", data.static)):
            g = f.create_group(group)
            for name, values in sorted(arrays.items()):
                g.create_dataset(name, data=np.asarray(values, dtype=np.float32), compression="gzip", shuffle=True)


def read_store(path: str | os.PathLike[str]) -> StoreData:
    """Read and validate a whole store into memory; any defect raises :class:`StoreError` saying what it is."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no store at {path}: the file does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        kind = "truncated or damaged" if h5py.is_hdf5(path) else "not an HDF5 file"
        raise StoreError(f"cannot open {path} as a benchmark store: {kind} ({exc})") from None
    try:
        with f:
            return _read_open_file(f, path)
    except StoreError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:  # h5py raises these for damaged content
        raise StoreError(f"{path} is damaged: {exc}") from None


def _read_open_file(f: Any, path: Path) -> StoreData:
    missing = [a for a in _REQUIRED_ATTRS if a not in f.attrs]
    if missing:
        raise StoreError(f"{path} is not a nasbench store: missing attribute(s) {', '.join(missing)}")
    version = int(f.attrs["schema_version"])
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {version}; this nasbench reads version {SCHEMA_VERSION} only"
        )
    for name in ("archs", "metrics"):
        if name not in f:
            raise StoreError(f"{path} is missing the dataset /{name}")
    data = StoreData(
        space=str(f.attrs["space"]),
        dataset=str(f.attrs["dataset"]),
        protocol=json.loads(f.attrs["protocol"]),
        provenance=json.loads(f.attrs["provenance"]),
        seeds=tuple(json.loads(f.attrs["seeds"])),
        epochs=tuple(int(e) for e in np.asarray(f.attrs["epochs"]).ravel()),
        iso_shared=bool(f.attrs.get("iso_shared", False)),
        archs=f["archs"][()],
        metrics={name: ds[()] for name, ds in f["metrics"].items()},
        static={name: ds[()] for name, ds in f["static"].items()} if "static" in f else {},
    )
    try:
        return data.validate()
    except StoreError as exc:
        raise StoreError(f"{path}: {exc}") from None
