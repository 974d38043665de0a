"""The benchmark store: one HDF5 file per (search space, dataset, training protocol).

Layout (schema version 2)::

    attrs     schema_version (int), space, dataset (str), protocol, provenance, defaults (JSON objects),
              seeds (JSON list: int seeds, or a single null = "mean over seeds the source did not name"),
              epochs (int array, strictly increasing; epoch e = after e completed epochs), iso_shared (bool),
              digest ("sha256:..." over every other attribute and dataset; checked on every read)
    /archs            (N, W) int8/int16   one value per decision of the space, in range of its ``choices``,
                                          unique, sorted lexicographically
    /metrics/<name>   (N, S, T) float32   attr ``direction`` "max" | "min"; e.g. val_acc (fraction), val_l2_loss,
                                          train_time_s (cumulative)
    /static/<name>    (N,) float32    params_m, flops_m, device latencies, ...

Missing results are NaN, never filled. ``iso_shared`` means only one cell per isomorphism class was trained and
stands for its whole class; readers then look up the canonical form of a queried cell. ``defaults`` is the
store's default experiment protocol (e.g. search and score on the same metric when the source has no test split).
Schema 1 (NB201 only, the seven standard metrics, no directions or defaults) is still read.

Writers build the whole content in memory, write it to a temporary file beside the target and rename it, so a
killed writer never leaves a half-written store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.errors import InvalidArchitecture, StoreError, UnsafePath
from nasbench.spaces import get_space
from nasbench.spaces.base import (
    DiscreteSpace,
    Enumerable,
    arch_keys,
    canonical_keys,
    check_rows,
    enumerated_keys,
    find_keys,
)

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
ACCURACY_METRICS = ("train_acc", "val_acc", "test_acc")
LOSS_METRICS = ("train_loss", "val_loss", "test_loss")
#: The metrics a trained store holds, in the order listings show them; any other snake_case name is allowed too.
METRICS = ACCURACY_METRICS + LOSS_METRICS + ("train_time_s",)
DIRECTIONS = ("max", "min")
PROTOCOL_KEYS = ("search_metric", "score_metric", "search_epoch", "score_epoch", "noise")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MINIMISED_SUFFIXES = ("_loss", "_time_s", "_ms", "_mse", "_mae", "_mj", "_error")
_REQUIRED_ATTRS = ("schema_version", "space", "dataset", "protocol", "provenance", "seeds", "epochs")
DIGEST = "digest"  # attribute: content_digest() of everything else, verified on every read
_MAX_RATIO = 1100  # DEFLATE expands at most ~1032x: no dataset can hold more than this times the file's size


def default_direction(metric: str) -> str | None:
    """The direction a metric's name implies: ``*_acc`` is maximised; losses, errors, times, latencies (``_ms``)
    and energies (``_mj``) are minimised; any other name has none and must be given explicitly."""
    if metric.endswith("_acc"):
        return "max"
    if metric.endswith(_MINIMISED_SUFFIXES):
        return "min"
    return None


def metric_order(names: Any) -> tuple[str, ...]:
    """Metric names in listing order: the standard metrics first, then the rest alphabetically."""
    names = set(names)
    return tuple(m for m in METRICS if m in names) + tuple(sorted(names - set(METRICS)))


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
    directions: dict[str, str] = field(default_factory=dict)  # metric -> "max" | "min"; defaults from the name
    defaults: dict[str, Any] = field(default_factory=dict)  # the store's default protocol (PROTOCOL_KEYS)
    digest: str | None = None  # read: the digest the file was checked against (None: written before digests)

    def validate(self) -> StoreData:
        """Check every invariant of the schema; raise :class:`StoreError` naming the first violation. Fills
        ``directions`` of metrics whose name implies one."""
        try:
            space = get_space(self.space)
        except Exception as exc:
            raise StoreError(str(exc)) from None
        archs = np.asarray(self.archs)
        try:
            rows = check_rows(space, archs, what="/archs")
        except InvalidArchitecture as exc:
            raise StoreError(str(exc)) from None
        keys = arch_keys(space, rows)
        if np.any(np.diff(keys) <= 0):
            raise StoreError("/archs must be unique and sorted lexicographically")
        if isinstance(space, Enumerable) and len(keys):
            _check_members(space, rows, keys, self.iso_shared)
        if len(set(self.seeds)) != len(self.seeds) or not self.seeds:
            raise StoreError(f"seeds must be a non-empty list of distinct seeds, got {list(self.seeds)}")
        if None in self.seeds and len(self.seeds) != 1:
            raise StoreError("a null seed (mean over unnamed seeds) must be the store's only seed")
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer, type(None))) for s in self.seeds):
            raise StoreError(f"seeds must be integers (or a single null), got {list(self.seeds)[:10]}")
        if any(isinstance(e, bool) or not isinstance(e, (int, np.integer)) or not 0 < e < 2**31 for e in self.epochs):
            raise StoreError(f"epochs count completed epochs: integers in 1..2**31-1, got {list(self.epochs)[:10]}")
        if not self.epochs or any(b <= a for a, b in zip(self.epochs, self.epochs[1:], strict=False)):
            raise StoreError(f"epochs must be a non-empty, strictly increasing list, got {list(self.epochs)[:10]}")
        if not self.metrics:
            raise StoreError("a store must hold at least one metric")
        expected = (len(archs), len(self.seeds), len(self.epochs))
        for name in self.directions:
            if name not in self.metrics:
                raise StoreError(f"directions names {name!r}, which is not a metric of the store")
        for name, values in self.metrics.items():
            if not _NAME.match(name):
                raise StoreError(f"metric name {name!r} must be snake_case: a-z, 0-9 and _, starting with a letter")
            direction = self.directions.get(name) or default_direction(name)
            if direction not in DIRECTIONS:
                raise StoreError(
                    f"metric {name!r} needs a direction: directions={{{name!r}: 'max' or 'min'}} "
                    f"(got {direction!r}; only names ending in _acc, or in {', '.join(_MINIMISED_SUFFIXES)}, imply one)"
                )
            self.directions[name] = direction
            if values.shape != expected:
                raise StoreError(
                    f"/metrics/{name} has shape {values.shape}, expected (archs, seeds, epochs) = {expected}"
                )
            if np.isinf(values).any():
                raise StoreError(f"/metrics/{name} holds an infinite value; missing results are NaN")
            if name.endswith("_time_s"):
                _check_times(name, values)
            if name.endswith("_acc"):
                finite = values[np.isfinite(values)]
                if finite.size and (finite.min() < 0 or finite.max() > 1):
                    raise StoreError(
                        f"/metrics/{name} must be a fraction in [0, 1], found {finite.min():g}..{finite.max():g} "
                        "(percentages must be divided by 100 on import)"
                    )
        for name, values in self.static.items():
            if not _NAME.match(name):
                raise StoreError(f"static name {name!r} must be snake_case: a-z, 0-9 and _, starting with a letter")
            if values.shape != (len(archs),):
                raise StoreError(f"/static/{name} has shape {values.shape}, expected ({len(archs)},)")
        unknown = sorted(set(self.defaults) - set(PROTOCOL_KEYS))
        if unknown:
            raise StoreError(f"defaults has unknown key(s) {unknown}; allowed: {', '.join(PROTOCOL_KEYS)}")
        for key in ("search_metric", "score_metric"):
            if key in self.defaults and self.defaults[key] not in self.metrics:
                raise StoreError(f"defaults.{key} = {self.defaults[key]!r} is not a metric of the store")
        for key in ("search_epoch", "score_epoch"):
            if key in self.defaults and self.defaults[key] not in self.epochs:
                raise StoreError(f"defaults.{key} = {self.defaults[key]!r} is not an epoch of the store")
        return self


def _check_times(name: str, values: np.ndarray) -> None:
    """Times are never negative; ``train_time_s`` is cumulative, so it never decreases over epochs."""
    with np.errstate(invalid="ignore"):
        if (values < 0).any():
            raise StoreError(f"/metrics/{name} holds a negative time ({np.nanmin(values):g} s)")
        if name == "train_time_s" and values.shape[-1] > 1:
            known = np.where(np.isnan(values), -np.inf, values)
            most = np.maximum.accumulate(known, axis=-1)[..., :-1]  # the largest known time before each epoch
            falls = np.isfinite(values[..., 1:]) & (values[..., 1:] < most)
            if falls.any():
                row = np.argwhere(falls)[0]
                raise StoreError(
                    f"/metrics/train_time_s is cumulative but decreases for arch row {row[0]}, seed column {row[1]} "
                    f"after epoch column {row[2]}"
                )


def _check_members(space: Any, rows: np.ndarray, keys: np.ndarray, iso_shared: bool) -> None:
    """Every row is a member of the (enumerable) space, and canonical where one row stands for its class."""
    constrained = type(space).invalid_reason is not DiscreteSpace.invalid_reason  # some in-range rows are invalid
    absent = find_keys(enumerated_keys(space), keys) < 0 if constrained else np.zeros(len(keys), dtype=bool)
    if absent.any():
        row = tuple(rows[int(np.argmax(absent))].tolist())
        raise StoreError(f"/archs holds {row}, which is not a {space.name} architecture: {space.invalid_reason(row)}")
    if iso_shared:
        moved = canonical_keys(space, rows) != keys
        if moved.any():
            row = tuple(rows[int(np.argmax(moved))].tolist())
            raise StoreError(
                f"/archs holds {space.to_str(row)}, which is not the canonical form of its class, in a store where "
                f"one row stands for its class (iso_shared); its canonical form is {space.to_str(space.canonical(row))}"
            )


def write_store(path: str | os.PathLike[str], data: StoreData, *, overwrite: bool = False) -> Path:
    """Validate ``data`` and write it to ``path`` atomically (temporary file in the same folder, then rename)."""

    data.validate()
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise StoreError(f"{path} already exists; pass overwrite=True (--overwrite) to replace it")
        check_replaceable(path)
    try:
        _write(path, data)
    except OSError as exc:  # disk full, no permission, a folder in the way: one clear line for the user
        raise StoreError(f"cannot write {path}: {exc}") from exc
    return path


def check_replaceable(path: Path) -> None:
    """Refuse to replace anything but a store nasbench wrote: a folder, a link, or any other file is kept."""
    import h5py

    if path.is_symlink() or not path.is_file():
        raise UnsafePath(
            f"{path} is a {'symlink' if path.is_symlink() else 'folder'}; nasbench replaces only a store file"
        )
    try:
        with h5py.File(path, "r") as f:
            ours = "schema_version" in f.attrs and "space" in f.attrs
    except Exception:
        ours = False
    if not ours:
        raise UnsafePath(
            f"{path} exists and is not a nasbench store; nasbench replaces only stores it wrote: give another path"
        )


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
        f.attrs["defaults"] = json.dumps(data.defaults, sort_keys=True)
        dtype = np.int8 if max(get_space(data.space).choices) <= 127 else np.int16
        f.create_dataset("archs", data=np.asarray(data.archs, dtype=dtype))
        for group, arrays in (("metrics", data.metrics), ("static", data.static)):
            g = f.create_group(group)
            for name, values in sorted(arrays.items()):
                ds = g.create_dataset(name, data=np.asarray(values, dtype=np.float32), compression="gzip", shuffle=True)
                if group == "metrics":
                    ds.attrs["direction"] = data.directions[name]
        f.flush()
        f.attrs[DIGEST] = content_digest(*_read_content(f, tmp))


def read_store(path: str | os.PathLike[str]) -> StoreData:
    """Read and validate a whole store into memory; any defect raises :class:`StoreError` saying what it is."""
    import h5py

    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder; a store is one .h5 file (e.g. {path}/NAME.h5)")
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
    except (OSError, RuntimeError, MemoryError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"{path} is damaged: {type(exc).__name__}: {exc}") from None  # h5py's errors on bad content


def _read_content(f: Any, path: Path) -> tuple[dict[str, Any], dict[str, tuple[np.ndarray, dict[str, Any]]]]:
    """Every attribute and every dataset (with its attributes) of an open store; each dataset's claimed size is
    checked against the file before it is read, so a damaged header cannot make the reader allocate terabytes."""
    import h5py

    limit = _MAX_RATIO * path.stat().st_size + (1 << 20)
    attrs = {name: f.attrs[name] for name in f.attrs if name != DIGEST}
    arrays: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
    names: list[str] = []
    f.visit(names.append)
    for name in sorted(names):
        ds = f[name]
        if not isinstance(ds, h5py.Dataset):
            continue
        if ds.dtype.kind not in "biuf":
            raise StoreError(f"{path}: /{name} has dtype {ds.dtype}; a store holds only numbers")
        nbytes = int(np.prod(ds.shape, dtype=np.float64) * ds.dtype.itemsize)
        if nbytes > limit:
            raise StoreError(
                f"{path}: /{name} claims shape {ds.shape} ({nbytes:,} bytes), more than a file of "
                f"{path.stat().st_size:,} bytes can hold: the file is damaged"
            )
        arrays[name] = (ds[()], {key: ds.attrs[key] for key in ds.attrs})
    return attrs, arrays


def content_digest(attrs: dict[str, Any], arrays: dict[str, tuple[np.ndarray, dict[str, Any]]]) -> str:
    """A SHA-256 over every attribute and dataset (names, dtypes, shapes, bytes): any flipped byte changes it."""
    digest = hashlib.sha256()

    def feed(name: str, value: Any) -> None:
        value = np.asarray(value)
        raw = str(value).encode() if value.dtype.kind in "OUS" else np.ascontiguousarray(value).tobytes()
        digest.update(f"{name}|{value.dtype.str}|{value.shape}|{len(raw)}|".encode())
        digest.update(raw)

    for name in sorted(attrs):
        feed(f"@{name}", attrs[name])
    for name in sorted(arrays):
        values, ds_attrs = arrays[name]
        feed(name, values)
        for key in sorted(ds_attrs):
            feed(f"{name}@{key}", ds_attrs[key])
    return "sha256:" + digest.hexdigest()


def _read_open_file(f: Any, path: Path) -> StoreData:
    version = f.attrs.get("schema_version")
    if version is not None and int(version) not in READABLE_VERSIONS:  # before the digest: its scheme may differ
        raise StoreError(
            f"{path} has store schema version {int(version)}; this nasbench reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    attrs, arrays = _read_content(f, path)
    stored = f.attrs.get(DIGEST)
    if stored is not None and str(stored) != content_digest(attrs, arrays):
        raise StoreError(
            f"{path} is damaged: its content does not match the digest it was written with (a changed or flipped "
            "byte); re-import or rebuild it"
        )
    data = _store_data(attrs, arrays, path)
    data.digest = None if stored is None else str(stored)
    return data


def _store_data(attrs: dict[str, Any], arrays: dict[str, tuple[np.ndarray, dict[str, Any]]], path: Path) -> StoreData:
    missing = [a for a in _REQUIRED_ATTRS if a not in attrs]
    if missing:
        raise StoreError(f"{path} is not a nasbench store: missing attribute(s) {', '.join(missing)}")
    version = int(attrs["schema_version"])
    if "archs" not in arrays or not any(name.startswith("metrics/") for name in arrays):
        raise StoreError(f"{path} is missing the dataset /{'archs' if 'archs' not in arrays else 'metrics'}")

    def group(prefix: str) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
        return {name[len(prefix) :]: item for name, item in arrays.items() if name.startswith(prefix)}

    metrics, static = group("metrics/"), group("static/")
    seeds = json.loads(attrs["seeds"])
    if not isinstance(seeds, list) or any(not (s is None or type(s) is int) for s in seeds):
        raise StoreError(f"{path}: seeds must be a list of integers (or a single null), got {str(seeds)[:80]}")
    data = StoreData(
        space=str(attrs["space"]),
        dataset=str(attrs["dataset"]),
        protocol=json.loads(attrs["protocol"]),
        provenance=json.loads(attrs["provenance"]),
        seeds=tuple(seeds),
        epochs=tuple(int(e) for e in np.asarray(attrs["epochs"]).ravel()),
        iso_shared=bool(attrs.get("iso_shared", False)),
        archs=arrays["archs"][0],
        metrics={name: values for name, (values, _) in metrics.items()},
        static={name: values for name, (values, _) in static.items()},
        directions={name: str(a["direction"]) for name, (_, a) in metrics.items() if "direction" in a},
        defaults=json.loads(attrs["defaults"]) if "defaults" in attrs else {},
    )
    if version == 1 and set(data.metrics) - set(METRICS):
        raise StoreError(f"{path}: a schema-1 store holds only {', '.join(METRICS)}")
    try:
        return data.validate()
    except StoreError as exc:
        raise StoreError(f"{path}: {exc}") from None
