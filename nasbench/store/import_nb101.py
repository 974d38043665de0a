"""Import NAS-Bench-101 results: the official API's in-memory records (a pickle), the official ``.tfrecord`` files
(read without TensorFlow) and the NAS-Bench-Suite-Zero JSON of zero-cost proxies.

Every importer returns a :class:`StoreData` of the ``nb101`` space with ``iso_shared=True``: one row per trained
isomorphism class, its arch the space's canonical form (readers look up ``space.canonical(arch)``).

Mapping of the official data (pickle and tfrecord alike): the official runs have a training length ("epoch
budget": 4, 12, 36, 108 in the full data, 108 only in the smaller file) and 3 repeats each, evaluated at the start,
halfway and end of training. Store epoch ``e`` holds the *final* point of the ``e``-epoch budget (``e`` in 4, 12,
36, 108), or the *halfway* point of the ``2e``-epoch budget (``e`` in 2, 6, 18, 54): exactly what the official
``query(spec, epochs=b, stop_halfway=...)`` returns. Each budget has its own cosine learning-rate schedule, so the
points of different budgets come from different runs. The start-of-training point (epoch 0) is dropped. Store
seed ``i`` is the official repeat ``i``. Metrics: ``train_acc``, ``val_acc``, ``test_acc`` (fractions) and
``train_time_s`` (training time up to that point); static ``params_m`` (trainable parameters / 1e6).
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__
from nasbench.atomic import sha256_file
from nasbench.errors import InvalidArchitecture, StoreError
from nasbench.spaces.nb101 import NB101Space
from nasbench.store import safe_pickle
from nasbench.store.format import StoreData
from nasbench.store.tfrecord import proto_fields, tfrecords
from nasbench.store.untrusted import FINITE, finite, load_json, read_bounded, show

LICENCE = "Apache-2.0"
CITATION = (
    "C. Ying, A. Klein, E. Real, E. Christiansen, K. Murphy, F. Hutter. NAS-Bench-101: Towards Reproducible Neural "
    "Architecture Search. ICML 2019."
)
CITATION_ZC = (
    "A. Krishnakumar, C. White, A. Zela, R. Tu, M. Safari, F. Hutter. NAS-Bench-Suite-Zero: Accelerating Research "
    "on Zero Cost Proxies. NeurIPS 2022 Datasets and Benchmarks."
)
#: The official training recipe (nasbench/lib/config.py and model_builder.py of the official code).
PROTOCOL = {
    "source": "NAS-Bench-101 (official exhaustive evaluation)",
    "dataset_splits": "CIFAR-10: train 40,000, validation 10,000 (held out of the training set), test 10,000",
    "recipe": (
        "RMSProp (momentum 0.9, epsilon 1.0), lr 0.2 (0.1 x 2 TPU shards) cosine-decayed by step, L2 weight decay "
        "1e-4, batch 256, augmentation pad 4 + random crop + random horizontal flip; stem conv 128 channels, "
        "3 stacks of 3 cells, downsampling by max pooling between stacks"
    ),
    "train_acc": "accuracy on a fixed 10,000 images of the training set",
    "budgets": "epoch budgets 4, 12, 36, 108 (full data) or 108 (smaller file), 3 repeats each",
}
METRIC_NAMES = ("train_time_s", "train_acc", "val_acc", "test_acc")
DIRECTIONS = {"train_time_s": "min", "train_acc": "max", "val_acc": "max", "test_acc": "max"}
_POINT_KEYS = ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")  # same order
_HASH = re.compile(r"^[0-9a-f]{32}$")
_EPOCH_NOTE = (
    "epoch e holds the final point of the e-epoch budget (e in 4, 12, 36, 108) or the halfway point of the "
    "2e-epoch budget (e in 2, 6, 18, 54), as the official query(epochs, stop_halfway) returns them; each budget "
    "is its own run with its own cosine schedule; the start-of-training evaluation is dropped"
)
_SEED_NOTE = "seed i is the official repeat i (the official data does not name its training seeds)"


def _provenance(path: Path, fmt: str, **notes: Any) -> dict[str, Any]:
    return {
        "source": path.name,
        "source_sha256": sha256_file(path),
        "format": fmt,
        "licence": LICENCE,
        "citation": CITATION,
        "importer": __name__,
        "nasbench_version": __version__,
        **notes,
    }


# ---- runs gathered per module hash (shared by the pickle and the tfrecord readers) -----------------------------


#: Bounds of the official layout: 3 repeats per (module, budget); budgets 4, 12, 36, 108 (bounded generously, so
#: that other training lengths still import, but a crafted file cannot grow the epoch axis without end).
MAX_REPEATS = 3
MAX_BUDGET = 10_000
MAX_BUDGETS = 16


def _check_budget(budget: object, where: str) -> int:
    if type(budget) is not int or not 0 < budget <= MAX_BUDGET:
        raise StoreError(
            f"{where}: epoch budgets are positive ints up to {MAX_BUDGET:,} (the official ones are 4, 12, 36, 108), "
            f"got {show(budget)}"
        )
    return budget


class _Runs:
    """Official results by module hash: the fixed facts (adjacency bits, ops, parameters) and, per epoch budget
    and repeat, the halfway and final points (METRIC_NAMES order). Points are collected in lists and turned into
    one array at the end; repeats per (module, budget) and distinct budgets are bounded as they arrive."""

    def __init__(self, max_repeats: int = MAX_REPEATS) -> None:
        if type(max_repeats) is not int or max_repeats < 1:
            raise StoreError(f"max_repeats is a positive int (the official data has 3), got {max_repeats!r}")
        self.max_repeats = max_repeats
        self.rows: dict[str, int] = {}
        self.fixed: list[tuple[str, tuple[str, ...], float]] = []
        self.where: list[str] = []
        self.budgets: list[int] = []
        self.points: dict[tuple[int, int], list[tuple[tuple[float, ...] | None, tuple[float, ...]]]] = {}

    def add(
        self,
        module_hash: str,
        bits: str,
        ops: tuple[str, ...],
        params: float,
        budget: int,
        halfway: tuple[float, ...] | None,
        final: tuple[float, ...],
        where: str,
    ) -> None:
        _check_budget(budget, where)
        row = self.rows.get(module_hash)
        if row is None:
            row = self.rows[module_hash] = len(self.fixed)
            self.fixed.append((bits, ops, params))
            self.where.append(where)
        elif self.fixed[row][:2] != (bits, ops):
            raise StoreError(f"{where}: module {module_hash} has another adjacency or ops than at {self.where[row]}")
        if budget not in self.budgets:
            if len(self.budgets) == MAX_BUDGETS:
                raise StoreError(
                    f"{where}: epoch budget {budget} would be distinct budget {MAX_BUDGETS + 1}; a NAS-Bench-101 "
                    f"file has at most {MAX_BUDGETS} (the official data: 4, 12, 36, 108), found "
                    f"{sorted(self.budgets)}"
                )
            self.budgets.append(budget)
        repeats = self.points.setdefault((row, self.budgets.index(budget)), [])
        if len(repeats) == self.max_repeats:
            raise StoreError(
                f"{where}: module {module_hash} has more than {self.max_repeats} repeats of epoch budget {budget}; "
                f"at most {self.max_repeats} are read (the official data has 3; raise max_repeats)"
            )
        repeats.append((halfway, final))

    def _values(self) -> np.ndarray:
        """(modules, repeats, budgets, points: 0 halfway 1 final, metrics) of everything added, NaN where absent."""
        seeds = max(len(repeats) for repeats in self.points.values())
        values = np.full((len(self.fixed), seeds, len(self.budgets), 2, len(METRIC_NAMES)), np.nan, np.float32)
        for (row, b), repeats in self.points.items():
            for repeat, (halfway, final) in enumerate(repeats):
                if halfway is not None:
                    values[row, repeat, b, 0] = halfway
                values[row, repeat, b, 1] = final
        return values

    def store(self, source: str, check_hashes: bool) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[int, ...], dict]:
        """(canonical archs sorted, metrics (N, S, T) by name, epochs, static) of everything added."""
        space = NB101Space()
        if not self.fixed:
            raise StoreError(f"{source} holds no NAS-Bench-101 records")
        n = len(self.fixed)
        hashes = list(self.rows)
        archs = np.empty((n, len(space.choices)), dtype=np.int64)
        for row, (bits, ops, _) in enumerate(self.fixed):
            k = math.isqrt(len(bits))
            matrix = np.frombuffer(bits.encode("ascii"), dtype=np.uint8).reshape(k, k) - ord("0")
            try:
                arch = space.from_spec(matrix, list(ops))
            except InvalidArchitecture as exc:
                raise StoreError(
                    f"{self.where[row]}: module {hashes[row]} is not a NAS-Bench-101 cell: {exc}"
                ) from None
            if check_hashes and space.hash(arch) != hashes[row]:
                raise StoreError(
                    f"{self.where[row]}: module hash {hashes[row]} does not match its adjacency and ops, whose "
                    f"official hash is {space.hash(arch)}"
                )
            archs[row] = arch
        canon = space.canonical_many(archs)
        order = np.lexsort(canon.T[::-1])
        canon = canon[order]
        same = np.flatnonzero((np.diff(canon, axis=0) == 0).all(axis=1))
        if same.size:
            a, b = order[same[0]], order[same[0] + 1]
            raise StoreError(f"{source}: modules {hashes[a]} and {hashes[b]} are isomorphic cells under two hashes")

        all_values = self._values()
        slots: dict[int, tuple[int, int]] = {}  # store epoch -> (budget index, point: 0 halfway, 1 final)
        present = np.isfinite(all_values).any(axis=(0, 1, 4))  # (budgets, points)
        for b, budget in enumerate(self.budgets):
            for point, epoch in ((1, budget), (0, budget // 2)):
                if not present[b, point]:
                    continue
                if point == 0 and budget % 2:
                    raise StoreError(f"{source}: an odd epoch budget ({budget}) has no whole halfway epoch")
                if epoch in slots:
                    raise StoreError(
                        f"{source}: epoch {epoch} is both a final and a halfway point; budgets "
                        f"{sorted(self.budgets)} cannot share one epoch axis"
                    )
                slots[epoch] = (b, point)
        epochs = tuple(sorted(slots))
        values = all_values[order]  # (N, S, budgets, points, metrics)
        picked = np.stack([values[:, :, slots[e][0], slots[e][1]] for e in epochs], axis=2)  # (N, S, T, metrics)
        metrics = {name: picked[..., m].astype(np.float32) for m, name in enumerate(METRIC_NAMES)}
        params = np.asarray([self.fixed[i][2] for i in order], dtype=np.float64) / 1e6
        return canon, metrics, epochs, {"params_m": params.astype(np.float32)}


def _store_data(runs: _Runs, path: Path, fmt: str, check_hashes: bool, **notes: Any) -> StoreData:
    archs, metrics, epochs, static = runs.store(str(path), check_hashes)
    seeds = tuple(range(metrics["val_acc"].shape[1]))
    final = max(runs.budgets)
    return StoreData(
        space="nb101",
        dataset="cifar10",
        protocol=dict(PROTOCOL),
        seeds=seeds,
        epochs=epochs,
        archs=archs,
        metrics=metrics,
        static=static,
        provenance=_provenance(
            path,
            fmt,
            cells=len(archs),
            budgets=sorted(runs.budgets),
            epochs_note=_EPOCH_NOTE,
            seeds_note=_SEED_NOTE,
            hashes_checked=check_hashes,
            **notes,
        ),
        iso_shared=True,
        directions=dict(DIRECTIONS),
        defaults={
            "search_metric": "val_acc",
            "score_metric": "test_acc",
            "search_epoch": final,
            "score_epoch": final,
            "noise": "sample",
        },
    )


# ---- the official API's in-memory records, pickled ---------------------------------------------------------


#: Exactly the globals of the official in-memory layout as pickled (pickletools: these three; numpy >= 2 writes
#: numpy._core for numpy.core).
_ALLOWED: dict[tuple[str, str], object] = {
    key: value for key, value in safe_pickle.NUMPY_GLOBALS.items() if key[1] != "scalar"
}


def load_records_pickle(
    path: str | os.PathLike[str], *, max_bytes: int = 1 << 30, max_nodes: int = safe_pickle.MAX_NODES
) -> Any:
    """The object of a pickle of the official in-memory layout, read with the restricted unpickler (no file over
    ``max_bytes`` is read, no object graph of over ``max_nodes`` references is walked)."""
    path = Path(path)
    data = read_bounded(path, max_bytes)
    try:
        return safe_pickle.load(data, _ALLOWED, "a NAS-Bench-101 records pickle", max_nodes=max_nodes)
    except StoreError as exc:  # UnsafePickle included
        raise type(exc)(f"{path}: {exc}") from None


def read_official_records(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = 1 << 30,
    max_nodes: int = safe_pickle.MAX_NODES,
    max_repeats: int = MAX_REPEATS,
) -> StoreData:
    """Read a pickle of the official API's in-memory layout: ``{module_hash: (fixed_statistics,
    computed_statistics)}`` with ``fixed = {module_adjacency, module_operations, trainable_parameters}`` and
    ``computed = {epoch_budget: [repeat: {halfway_*, final_*}]}``. Every record's hash is checked against the
    space's hash of its adjacency and ops; more than ``max_repeats`` repeats of one budget, or more than
    16 distinct budgets, are refused."""
    path = Path(path)
    content = load_records_pickle(path, max_bytes=max_bytes, max_nodes=max_nodes)
    if not isinstance(content, dict):
        raise StoreError(f"{path}: expected a dict {{module_hash: (fixed, computed)}}, got {type(content).__name__}")
    runs = _Runs(max_repeats)
    records = 0
    for module_hash, entry in content.items():
        where = f"{path.name}: record {show(module_hash)}"
        if not (isinstance(module_hash, str) and _HASH.match(module_hash)):
            raise StoreError(f"{where}: keys are official module hashes (32 lowercase hex digits)")
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise StoreError(f"{where}: a record is a pair (fixed_statistics, computed_statistics)")
        fixed, computed = entry
        bits, ops, params = _fixed_statistics(fixed, where)
        if not isinstance(computed, dict) or not computed:
            raise StoreError(f"{where}: computed_statistics is a non-empty dict {{epoch budget: [repeats]}}")
        for budget, repeats in computed.items():
            _check_budget(budget, where)
            if not isinstance(repeats, list):
                raise StoreError(f"{where}: the repeats of budget {budget} are a list of dicts")
            for r, point in enumerate(repeats):
                halfway, final = _computed_point(point, f"{where}, budget {budget}, repeat {r}")
                runs.add(module_hash, bits, ops, params, budget, halfway, final, where)
                records += 1
    return _store_data(runs, path, "official NAS-Bench-101 API records (pickle)", True, records=records)


def _fixed_statistics(fixed: object, where: str) -> tuple[str, tuple[str, ...], float]:
    if not isinstance(fixed, dict):
        raise StoreError(f"{where}: fixed_statistics is a dict")
    matrix = fixed.get("module_adjacency")
    ops = fixed.get("module_operations")
    params = fixed.get("trainable_parameters")
    if not isinstance(matrix, np.ndarray) or matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise StoreError(f"{where}: module_adjacency is a square numpy array")
    if matrix.shape[0] > 7 or not ((matrix == 0) | (matrix == 1)).all():
        raise StoreError(f"{where}: module_adjacency is a 0/1 matrix of at most 7 nodes, got {matrix.tolist()}")
    if not (isinstance(ops, list) and all(isinstance(op, str) for op in ops)):
        raise StoreError(f"{where}: module_operations is a list of op names")
    if isinstance(params, bool) or not isinstance(params, (int, float)) or not 0 <= params < 1e12:
        raise StoreError(f"{where}: trainable_parameters is a non-negative number below 1e12, got {show(params)}")
    return "".join(str(int(v)) for v in matrix.ravel()), tuple(ops), float(params)


def _computed_point(point: object, where: str) -> tuple[tuple[float, ...] | None, tuple[float, ...]]:
    if not isinstance(point, dict):
        raise StoreError(f"{where}: a repeat is a dict of halfway_* and final_* figures")
    final = _figures(point, "final", where)
    if final is None:
        raise StoreError(f"{where}: missing final_{'/final_'.join(_POINT_KEYS)}")
    return _figures(point, "halfway", where), final


def _figures(point: dict, prefix: str, where: str) -> tuple[float, ...] | None:
    keys = [f"{prefix}_{k}" for k in _POINT_KEYS]
    if not any(k in point for k in keys):
        return None
    values = []
    for key in keys:
        value = finite(point.get(key))
        if value is None:
            raise StoreError(f"{where}: {key} is {FINITE}, got {show(point.get(key))}")
        values.append(value)
    return _checked_point(values, where)


def _checked_point(values: list[float], where: str) -> tuple[float, ...]:
    time_s, *accs = values
    if time_s < 0 or not all(0.0 <= a <= 1.0 for a in accs):
        raise StoreError(f"{where}: training time must be >= 0 s and accuracies fractions in [0, 1], got {values}")
    return (time_s, *accs)


# ---- the official tfrecord files ---------------------------------------------------------------------------


# ModelMetrics (nasbench/lib/model_metrics.proto): 1 repeated EvaluationData evaluation_data, 2 int32
# trainable_parameters, 3 double total_time. EvaluationData: 1 current_epoch, 2 training_time, 3 train_accuracy,
# 4 validation_accuracy, 5 test_accuracy (doubles), 6 string checkpoint_path.
_EVAL_DOUBLES = {1: "current_epoch", 2: "training_time", 3: "train_accuracy", 4: "validation_accuracy",
                 5: "test_accuracy"}  # fmt: skip
_MAX_EVALUATIONS = 64


def decode_model_metrics(buf: bytes) -> dict[str, Any]:
    """The official ModelMetrics message: ``{"trainable_parameters", "total_time", "evaluation_data": [dict]}``;
    unknown fields are skipped as protobuf does, a known field of the wrong wire type raises ValueError."""
    out: dict[str, Any] = {"trainable_parameters": 0, "total_time": 0.0, "evaluation_data": []}
    for field, wire, value in proto_fields(buf):
        if field == 1:
            _expect(wire, 2, "evaluation_data")
            if len(out["evaluation_data"]) >= _MAX_EVALUATIONS:
                raise ValueError(f"more than {_MAX_EVALUATIONS} evaluation_data entries")
            out["evaluation_data"].append(_decode_evaluation(value))  # type: ignore[arg-type]
        elif field == 2:
            _expect(wire, 0, "trainable_parameters")
            assert isinstance(value, int)  # proto_fields decodes a varint (wire type 0, checked above) to an int
            out["trainable_parameters"] = value - (1 << 64) if value >= 1 << 63 else value  # int32 sign-extends
        elif field == 3:
            _expect(wire, 1, "total_time")
            out["total_time"] = struct.unpack("<d", value)[0]  # type: ignore[arg-type]
    return out


# The usual encoding of an EvaluationData: the 5 doubles in field order, each after its one-byte tag.
_FIVE_DOUBLES = struct.Struct("<BdBdBdBdBd")
_FIVE_TAGS = (0x09, 0x11, 0x19, 0x21, 0x29)


def _decode_evaluation(buf: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {name: 0.0 for name in _EVAL_DOUBLES.values()}
    out["checkpoint_path"] = ""
    rest = buf
    if len(buf) >= _FIVE_DOUBLES.size:  # fast path for the usual layout; anything else takes the general one
        fields = _FIVE_DOUBLES.unpack_from(buf)
        if fields[::2] == _FIVE_TAGS:
            out.update(zip(_EVAL_DOUBLES.values(), fields[1::2], strict=True))
            rest = buf[_FIVE_DOUBLES.size :]
    for field, wire, value in proto_fields(rest):
        if field in _EVAL_DOUBLES:
            _expect(wire, 1, _EVAL_DOUBLES[field])
            out[_EVAL_DOUBLES[field]] = struct.unpack("<d", value)[0]  # type: ignore[arg-type]
        elif field == 6:
            _expect(wire, 2, "checkpoint_path")
            out["checkpoint_path"] = value.decode("utf-8")  # type: ignore[union-attr]
    return out


def _expect(wire: int, expected: int, name: str) -> None:
    if wire != expected:
        raise ValueError(f"{name} has wire type {wire}, the schema has {expected}")


def read_tfrecord(
    path: str | os.PathLike[str],
    *,
    check_hashes: bool = True,
    max_record_bytes: int = 1 << 20,
    max_repeats: int = MAX_REPEATS,
) -> StoreData:
    """Read an official NAS-Bench-101 ``.tfrecord`` (``nasbench_full`` or ``nasbench_only108``) without
    TensorFlow. Each record is the JSON list ``[module_hash, epochs, adjacency bits, comma-separated ops, base64
    ModelMetrics]``; records of one hash and budget are its repeats; a record's evaluation_data are the start,
    halfway and final points (the start is dropped, see the module notes). ``check_hashes`` recomputes every
    module's official hash from its adjacency and ops (about 0.1 ms a module). More than ``max_repeats`` records
    of one hash and budget, or more than 16 distinct budgets (positive, at most 10,000), are refused."""
    path = Path(path)
    runs = _Runs(max_repeats)
    records = 0
    for number, payload in tfrecords(path, max_record_bytes=max_record_bytes):
        where = f"{path.name}: record {number}"
        module_hash, budget, bits, ops, metrics = _parse_row(payload, where)
        try:
            decoded = decode_model_metrics(metrics)
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            raise StoreError(f"{where}: malformed ModelMetrics protobuf: {exc}") from None
        points = decoded["evaluation_data"]
        if len(points) != 3:
            raise StoreError(
                f"{where}: the official layout has 3 evaluation points (start, halfway, end), got {len(points)}"
            )
        halfway, final = (_evaluation_point(p, where) for p in points[1:])
        params = decoded["trainable_parameters"]
        if params < 0:
            raise StoreError(f"{where}: trainable_parameters is negative ({params})")
        runs.add(module_hash, bits, ops, float(params), budget, halfway, final, where)
        records += 1
    if not records:
        raise StoreError(f"{path} holds no records")
    return _store_data(runs, path, "official NAS-Bench-101 tfrecord", check_hashes, records=records)


def _evaluation_point(point: dict[str, Any], where: str) -> tuple[float, ...]:
    values = [float(point[k]) for k in _POINT_KEYS]
    if not all(math.isfinite(v) for v in values):
        raise StoreError(f"{where}: an evaluation point holds a non-finite figure: {values}")
    return _checked_point(values, where)


def _parse_row(payload: bytes, where: str) -> tuple[str, int, str, tuple[str, ...], bytes]:
    row = load_json(payload, where, "the row")
    shape = "[module_hash, epochs, adjacency bits, comma-separated ops, base64 ModelMetrics]"
    if not (isinstance(row, list) and len(row) == 5):
        raise StoreError(f"{where}: a row is the JSON list {shape}, got {type(row).__name__}")
    module_hash, budget, bits, ops, metrics = row
    if not (isinstance(module_hash, str) and _HASH.match(module_hash)):
        raise StoreError(f"{where}: module_hash is 32 lowercase hex digits, got {show(module_hash)}")
    if type(budget) is not int or not 0 < budget <= MAX_BUDGET:
        raise StoreError(
            f"{where}: epochs is a positive int up to {MAX_BUDGET:,} (an epoch budget), got {show(budget)}"
        )
    if not (isinstance(bits, str) and 4 <= len(bits) <= 49 and math.isqrt(len(bits)) ** 2 == len(bits)):
        raise StoreError(f"{where}: the adjacency is a k*k string of 0/1 (2 <= k <= 7), got {show(bits)}")
    if set(bits) - {"0", "1"}:
        raise StoreError(f"{where}: the adjacency holds only 0 and 1, got {show(bits)}")
    if not (isinstance(ops, str) and len(ops) <= 200):
        raise StoreError(f"{where}: the ops are one comma-separated string, got {show(ops)}")
    if not (isinstance(metrics, str) and len(metrics) <= len(payload)):
        raise StoreError(f"{where}: the metrics are a base64 string")
    try:
        raw = base64.b64decode(metrics, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StoreError(f"{where}: the metrics are not valid base64: {exc}") from None
    return module_hash, budget, bits, tuple(ops.split(",")), raw


# ---- NAS-Bench-Suite-Zero JSON ----------------------------------------------------------------------------

_ZC_OPS = {0: "input", 1: "output", 2: "conv3x3-bn-relu", 3: "conv1x1-bn-relu", 4: "maxpool3x3"}
_ZC_KEY = re.compile(r"^\(\s*\d{1,3}(?:\s*,\s*\d{1,3}){55}\s*,?\s*\)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ZC_FIXED = ("val_accuracy", "flops", "params")


def read_zc_json(path: str | os.PathLike[str], *, dataset: str = "cifar10", max_bytes: int = 256 << 20) -> StoreData:
    """Read the NAS-Bench-Suite-Zero JSON of NAS-Bench-101 (``{"nasbench101": {dataset: {cell: figures}}}``).

    A cell key is a tuple of 56 ints: the 7x7 adjacency row-major (unpruned), then 7 op codes (0 input, 1 output,
    2 conv3x3-bn-relu, 3 conv1x1-bn-relu, 4 maxpool3x3). Cells are pruned and canonicalised; cells that become
    isomorphic are merged into one row holding the mean of their figures (the export sampled one official repeat
    per cell, so duplicates disagree; provenance counts them). ``val_acc`` (fraction, epoch 108) from
    ``val_accuracy`` (%), static ``flops_m``/``params_m`` (the file's units: millions) and every zero-cost proxy
    score as ``zc_<name>``.
    """
    path = Path(path)
    content = load_json(read_bounded(path, max_bytes), str(path), "the file")
    cells = content.get("nasbench101") if isinstance(content, dict) else None
    if not isinstance(cells, dict) or not isinstance(cells.get(dataset), dict):
        found = sorted(cells) if isinstance(cells, dict) else []
        raise StoreError(
            f'{path}: expected {{"nasbench101": {{"{dataset}": {{cell: figures}}}}}}'
            + (f"; datasets there: {found}" if found else "")
        )
    cells = cells[dataset]
    if not cells:
        raise StoreError(f"{path} holds no cells for {dataset}")
    space = NB101Space()
    names: list[str] | None = None
    archs, rows = [], []
    for key, figures in cells.items():
        where = f"{path.name}: cell {key}"
        arch = _zc_arch(space, key, where)
        if not isinstance(figures, dict):
            raise StoreError(f"{where}: figures are a dict of numbers")
        if names is None:
            names = sorted(figures)
            missing = [n for n in _ZC_FIXED if n not in figures]
            bad = [n for n in names if n not in _ZC_FIXED and not _NAME.match(n)]
            if missing or bad:
                raise StoreError(f"{where}: needs {', '.join(_ZC_FIXED)} and snake_case proxy names; "
                                 f"missing {missing}, bad names {bad}")  # fmt: skip
        if sorted(figures) != names:
            raise StoreError(f"{where}: has figures {sorted(figures)}, the first cell has {names}")
        row_values = []
        for name in names:
            value = finite(figures[name])
            if value is None:
                raise StoreError(f"{where}: {name} is {FINITE}, got {show(figures[name])}")
            row_values.append(value)
        archs.append(arch)
        rows.append(row_values)
    assert names is not None
    column = {name: i for i, name in enumerate(names)}
    values = np.asarray(rows, dtype=np.float64)
    acc = values[:, column["val_accuracy"]]
    if acc.min() < 0 or acc.max() > 100:
        raise StoreError(f"{path}: val_accuracy is a percentage, found {acc.min():g}..{acc.max():g}")

    canon = space.canonical_many(archs)
    classes, inverse, counts = np.unique(canon, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    merged = np.zeros((len(classes), len(names)))
    np.add.at(merged, inverse, values)
    merged /= counts[:, None]
    spread = np.zeros((len(classes), len(names)))
    np.maximum.at(spread, inverse, np.abs(values - merged[inverse]))
    disagree = {name: int((spread[:, i] > 1e-9).sum()) for name, i in column.items()}
    order = np.lexsort(classes.T[::-1])  # the store's row order (np.unique's already is; made explicit)
    classes, merged, counts, spread = classes[order], merged[order], counts[order], spread[order]

    val = merged[:, column["val_accuracy"]] / 100.0
    static = {"flops_m": merged[:, column["flops"]], "params_m": merged[:, column["params"]]}
    static.update({f"zc_{n}": merged[:, i] for n, i in column.items() if n not in _ZC_FIXED})
    provenance = _provenance(
        path,
        "NAS-Bench-Suite-Zero zero-cost proxy JSON (NASLib)",
        citation=f"{CITATION} Zero-cost proxies: {CITATION_ZC}",
        cells=len(archs),
        classes=len(classes),
        merged_classes=int((counts > 1).sum()),
        disagreeing_classes=disagree,
        max_val_acc_spread=float(spread[:, column["val_accuracy"]].max() / 100.0),
        merge_note=(
            "cells of one isomorphism class are merged into their mean: val_accuracy of an export cell is one "
            "sampled official repeat, and proxies, FLOPs and params were computed per (unpruned, relabeled) cell"
        ),
        epochs_note="epoch 108 is the official final budget; val_acc is the final validation accuracy",
        seeds_note="null seed: each row is one sampled official repeat or the mean of several (unnamed)",
        units=(
            "flops_m in millions of FLOPs, params_m in millions of parameters, as in the file; both are the export's "
            "figures for its own (NASLib) network: params_m equals the official trainable-parameter count of the "
            "cell for about a third of the cells only"
        ),
    )
    return StoreData(
        space="nb101",
        dataset=dataset,
        protocol=dict(PROTOCOL),
        seeds=(None,),
        epochs=(108,),
        archs=classes,
        metrics={"val_acc": val.astype(np.float32).reshape(-1, 1, 1)},
        static={name: np.asarray(v, dtype=np.float32) for name, v in static.items()},
        provenance=provenance,
        iso_shared=True,
        directions={"val_acc": "max"},
        defaults={
            "search_metric": "val_acc",
            "score_metric": "val_acc",
            "search_epoch": 108,
            "score_epoch": 108,
            "noise": "mean",
        },
    )


def _zc_arch(space: NB101Space, key: object, where: str) -> tuple[int, ...]:
    if not (isinstance(key, str) and _ZC_KEY.match(key)):
        raise StoreError(f"{where}: a cell key is a tuple of 56 ints (49 adjacency bits 0/1, 7 op codes 0..4)")
    ints = [int(v) for v in key.strip("() ").rstrip(",").split(",")]
    codes = ints[49:]
    if codes[0] != 0 or codes[-1] != 1 or any(c not in (2, 3, 4) for c in codes[1:-1]):
        raise StoreError(
            f"{where}: op codes are 0 (input) first, 1 (output) last and 2/3/4 (conv3x3, conv1x1, maxpool) "
            f"between, got {codes}"
        )
    try:
        return space.from_spec(np.asarray(ints[:49]).reshape(7, 7), [_ZC_OPS[c] for c in codes])
    except InvalidArchitecture as exc:
        raise StoreError(f"{where}: not a NAS-Bench-101 cell: {exc}") from None
