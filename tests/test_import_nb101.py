"""NAS-Bench-101 importers: the official records pickle, the official tfrecord layout and the NAS-Bench-Suite-Zero
JSON, on the real reference files, plus every malformed or hostile input."""

from __future__ import annotations

import base64
import json
import os
import pickle
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from nasbench.errors import StoreError, UnsafePickle
from nasbench.spaces.nb101 import NB101Space
from nasbench.store import read_store, write_store
from nasbench.store.import_nb101 import (
    decode_model_metrics,
    load_records_pickle,
    read_official_records,
    read_tfrecord,
    read_zc_json,
)
from nasbench.store.tfrecord import crc32c, crc32c_python, masked_crc32c

SPACE = NB101Space()
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "nas-bench-101"
RECORDS = REFERENCE / "nb101_30_official_records.pkl"
ZC_JSON = REFERENCE / "zc_nasbench101.json"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference data absent: {path} (it lives in ../shared/reference beside the project)")
    return path


@pytest.fixture(scope="module")
def records() -> dict:
    return load_records_pickle(require(RECORDS))


def row_of(data, arch) -> int:
    rows = [tuple(r) for r in np.asarray(data.archs).tolist()]
    return rows.index(SPACE.canonical(arch))


# ---- a writer of the official tfrecord layout (independent of the reader) ------------------------------------


def varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field_double(number: int, value: float) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<d", value)


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def evaluation(epoch: float, time_s: float, train: float, val: float, test: float, path: str = "") -> bytes:
    body = b"".join(field_double(n, v) for n, v in enumerate((epoch, time_s, train, val, test), start=1))
    return body + (field_bytes(6, path.encode()) if path else b"")


def model_metrics(points: list[bytes], params: int, total_time: float = 1.0) -> bytes:
    body = b"".join(field_bytes(1, p) for p in points)
    return body + varint(2 << 3 | 0) + varint(params) + field_double(3, total_time)


def frame(payload: bytes) -> bytes:
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc32c(length)) + payload + struct.pack("<I", masked_crc32c(payload))


def official_rows(records: dict, budgets: tuple[int, ...] = (108,)) -> list[bytes]:
    """The JSON rows the official tfrecord holds for these records, 3 repeats per budget (a budget b other than
    108 reuses the 108 figures, scaled so that the points are told apart)."""
    rows = []
    for module_hash, (fixed, computed) in records.items():
        bits = "".join(str(int(v)) for v in fixed["module_adjacency"].ravel())
        for budget in budgets:
            scale = budget / 108
            for r in computed[108]:
                points = [
                    evaluation(0.0, 0.0, 0.1, 0.1, 0.1),
                    evaluation(
                        budget / 2,
                        r["halfway_training_time"] * scale,
                        r["halfway_train_accuracy"] * scale,
                        r["halfway_validation_accuracy"] * scale,
                        r["halfway_test_accuracy"] * scale,
                    ),
                    evaluation(
                        float(budget),
                        r["final_training_time"] * scale,
                        r["final_train_accuracy"] * scale,
                        r["final_validation_accuracy"] * scale,
                        r["final_test_accuracy"] * scale,
                        path=f"/model_dir/model.ckpt-{budget}",
                    ),
                ]
                blob = base64.b64encode(model_metrics(points, fixed["trainable_parameters"])).decode()
                row = [module_hash, budget, bits, ",".join(fixed["module_operations"]), blob]
                rows.append(json.dumps(row).encode())
    return rows


def write_tfrecord(path: Path, payloads: list[bytes]) -> Path:
    path.write_bytes(b"".join(frame(p) for p in payloads))
    return path


# ---- the official records pickle ---------------------------------------------------------------------------


def test_official_records_import_holds_every_figure(records):
    data = read_official_records(RECORDS)
    assert data.space == "nb101" and data.dataset == "cifar10" and data.iso_shared
    assert data.seeds == (0, 1, 2) and data.epochs == (54, 108)
    assert data.archs.shape == (30, 26)
    rows = [tuple(r) for r in np.asarray(data.archs).tolist()]
    assert rows == sorted(rows) and all(SPACE.canonical(r) == r for r in rows)
    assert set(data.metrics) == {"train_acc", "val_acc", "test_acc", "train_time_s"}
    for module_hash, (fixed, computed) in records.items():
        arch = SPACE.from_spec(fixed["module_adjacency"], fixed["module_operations"])
        row = row_of(data, arch)
        assert SPACE.hash(rows[row]) == module_hash
        assert data.static["params_m"][row] == pytest.approx(fixed["trainable_parameters"] / 1e6)
        for seed, run in enumerate(computed[108]):
            for t, point in enumerate(("halfway", "final")):
                for metric, key in (
                    ("train_time_s", "training_time"),
                    ("train_acc", "train_accuracy"),
                    ("val_acc", "validation_accuracy"),
                    ("test_acc", "test_accuracy"),
                ):
                    assert data.metrics[metric][row, seed, t] == pytest.approx(run[f"{point}_{key}"], rel=1e-6)
    assert data.directions["train_time_s"] == "min" and data.directions["val_acc"] == "max"
    assert data.defaults == {
        "search_metric": "val_acc",
        "score_metric": "test_acc",
        "search_epoch": 108,
        "score_epoch": 108,
        "noise": "sample",
    }
    prov = data.provenance
    assert prov["source"] == RECORDS.name and prov["licence"] == "Apache-2.0"
    assert "Ying" in prov["citation"] and prov["importer"] == "nasbench.store.import_nb101"
    assert prov["records"] == 90 and prov["cells"] == 30


def test_official_records_store_round_trips_through_hdf5(tmp_path):
    data = read_official_records(require(RECORDS))
    back = read_store(write_store(tmp_path / "nb101.h5", data))
    np.testing.assert_array_equal(back.archs, data.archs)
    np.testing.assert_array_equal(back.metrics["val_acc"], data.metrics["val_acc"])
    assert back.iso_shared and back.defaults == data.defaults and back.epochs == (54, 108)


def write_pickle(path: Path, obj, protocol: int = 4) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


class _System:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_pickle_with_a_foreign_global_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = write_pickle(tmp_path / "evil.pkl", {"x": _System(marker)})
    with pytest.raises(UnsafePickle, match=r"refusing to unpickle global (posix|os|nt)\.system.*may reference only"):
        read_official_records(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"a": np.array([1, "x"], dtype=object)}, r"refusing dtype 'O8' in a pickle: only plain numeric dtypes \(b1"),
        ({"a": np.zeros(3, dtype=[("f", "i4")])}, "refusing dtype 'V4'"),
        ({"a": np.array(["ab"])}, "refusing dtype 'U2'"),
        (
            {"a": np.float64(1.0)},
            r"refusing to unpickle global numpy\._?core\.multiarray\.scalar: .* may reference only",
        ),
        ({"a": range(3)}, r"refusing to unpickle global builtins\.range"),
    ],
)
def test_pickles_with_objects_outside_the_plain_layout_are_refused(tmp_path, obj, message):
    with pytest.raises(UnsafePickle, match=message):
        read_official_records(write_pickle(tmp_path / "bad.pkl", obj))


def test_a_record_whose_hash_does_not_match_its_cell_is_refused(tmp_path, records):
    module_hash, entry = next(iter(records.items()))
    forged = {"0" * 32: entry}
    with pytest.raises(StoreError, match=rf"record '0{{32}}'.*does not match.*official hash is {module_hash}"):
        read_official_records(write_pickle(tmp_path / "forged.pkl", forged))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda rec: [rec], "expected a dict"),
        (lambda rec: {"nothex": next(iter(rec.values()))}, "32 lowercase hex"),
        (lambda rec: {k: (v[0],) for k, v in rec.items()}, "pair"),
        (lambda rec: {k: ({**v[0], "module_operations": "input"}, v[1]) for k, v in rec.items()}, "list of op names"),
        (lambda rec: {k: (v[0], {"108": v[1][108]}) for k, v in rec.items()}, "positive ints"),
        (lambda rec: {k: (v[0], {108: [{"final_training_time": 1.0}]}) for k, v in rec.items()}, "is a finite"),
        (
            lambda rec: {k: (v[0], {108: [{**v[1][108][0], "final_test_accuracy": 92.3}]}) for k, v in rec.items()},
            r"fractions in \[0, 1\]",
        ),
    ],
)
def test_malformed_records_are_refused_naming_what_is_wrong(tmp_path, records, mutate, message):
    with pytest.raises(StoreError, match=message):
        read_official_records(write_pickle(tmp_path / "bad.pkl", mutate(records)))


def test_the_pickle_size_is_bounded_and_garbage_is_refused(tmp_path):
    with pytest.raises(StoreError, match="reads at most 1,000"):
        read_official_records(require(RECORDS), max_bytes=1000)
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(StoreError, match="not a readable pickle"):
        read_official_records(garbage)
    with pytest.raises(StoreError, match="no file"):
        read_official_records(tmp_path / "absent.pkl")


def test_plain_numeric_arrays_of_any_numpy_round_trip(tmp_path, records):
    # the reference file was written by numpy 1 (numpy.core); the installed numpy writes numpy._core
    arrays = {
        "i8": np.arange(6, dtype=np.int64).reshape(2, 3),
        "f4": np.linspace(0, 1, 5, dtype=np.float32),
        "b1": np.array([True, False]),
        "big_endian": np.arange(3, dtype=">i4"),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int8).reshape(2, 3)),
    }
    loaded = load_records_pickle(write_pickle(tmp_path / "a.pkl", arrays))
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].dtype == array.dtype
    assert next(iter(records.values()))[0]["module_adjacency"].dtype == np.int64


# ---- the official tfrecord ---------------------------------------------------------------------------------


def test_crc32c_matches_the_standard_check_values():
    assert crc32c_python(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c_python(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert crc32c_python(b"\xff" * 32) == 0x62A8AB43
    blob = np.random.default_rng(0).bytes(1000)
    assert crc32c(blob) == crc32c_python(blob)


def test_tfrecord_of_the_30_records_imports_to_the_same_store(tmp_path, records):
    path = write_tfrecord(tmp_path / "nasbench_only108.tfrecord", official_rows(records))
    from_tfrecord = read_tfrecord(path)
    from_pickle = read_official_records(RECORDS)
    np.testing.assert_array_equal(from_tfrecord.archs, from_pickle.archs)
    assert from_tfrecord.epochs == (54, 108) and from_tfrecord.seeds == (0, 1, 2)
    for name, values in from_pickle.metrics.items():
        np.testing.assert_array_equal(from_tfrecord.metrics[name], values)
    np.testing.assert_array_equal(from_tfrecord.static["params_m"], from_pickle.static["params_m"])
    assert {SPACE.hash(tuple(r)) for r in from_tfrecord.archs.tolist()} == set(records)
    assert from_tfrecord.provenance["records"] == 90 and from_tfrecord.provenance["budgets"] == [108]
    from_tfrecord.validate()


def test_tfrecord_with_several_budgets_keeps_final_and_halfway_points(tmp_path, records):
    path = write_tfrecord(tmp_path / "nasbench_full.tfrecord", official_rows(records, budgets=(4, 36, 108)))
    data = read_tfrecord(path)
    assert data.epochs == (2, 4, 18, 36, 54, 108)
    fixed, computed = next(iter(records.values()))
    row = row_of(data, SPACE.from_spec(fixed["module_adjacency"], fixed["module_operations"]))
    first = computed[108][0]
    val = data.metrics["val_acc"][row, 0]
    assert val[data.epochs.index(108)] == pytest.approx(first["final_validation_accuracy"])
    assert val[data.epochs.index(54)] == pytest.approx(first["halfway_validation_accuracy"])
    assert val[data.epochs.index(36)] == pytest.approx(first["final_validation_accuracy"] / 3)
    assert val[data.epochs.index(2)] == pytest.approx(first["halfway_validation_accuracy"] * 4 / 108)


def test_model_metrics_decoder_reads_the_official_fields_and_skips_unknown_ones():
    blob = model_metrics([evaluation(54.0, 10.0, 0.5, 0.4, 0.3, path="ckpt")], 1234, 99.0)
    decoded = decode_model_metrics(blob + varint(9 << 3 | 0) + varint(7))  # an unknown field 9
    assert decoded["trainable_parameters"] == 1234 and decoded["total_time"] == 99.0
    assert decoded["evaluation_data"] == [
        {
            "current_epoch": 54.0,
            "training_time": 10.0,
            "train_accuracy": 0.5,
            "validation_accuracy": 0.4,
            "test_accuracy": 0.3,
            "checkpoint_path": "ckpt",
        }
    ]


def corrupt(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :]


def test_damaged_tfrecords_are_refused_naming_file_and_record(tmp_path, records):
    good = b"".join(frame(p) for p in official_rows(records)[:3])
    first = len(frame(official_rows(records)[0]))
    cases = {
        "data crc": (corrupt(good, first + 40), r"record 1: the data's CRC does not match"),
        "length crc": (corrupt(good, first + 2), r"record 1: the length's CRC does not match"),
        "truncated": (good[:-7], r"record 2: truncated"),
        "truncated header": (good + b"\x01\x02", r"record 3: truncated header"),
    }
    for name, (blob, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.tfrecord"
        path.write_bytes(blob)
        with pytest.raises(StoreError, match=rf"{path.name}.*{message}"):
            read_tfrecord(path)


def test_a_record_claiming_a_huge_length_is_refused_before_reading_it(tmp_path):
    length = struct.pack("<Q", 1 << 40)
    path = tmp_path / "huge.tfrecord"
    path.write_bytes(length + struct.pack("<I", masked_crc32c(length)))
    with pytest.raises(StoreError, match=r"record 0 claims 1,099,511,627,776 bytes.*at most"):
        read_tfrecord(path)


def row(records, **changes) -> bytes:
    base = json.loads(official_rows(records)[0])
    for index, value in changes.items():
        base[int(index[1:])] = value
    return json.dumps(base).encode()


def test_malformed_rows_are_refused_with_what_the_layout_is(tmp_path, records):
    blob = json.loads(official_rows(records)[0])[4]
    raw = base64.b64decode(blob)
    two_points = base64.b64encode(model_metrics([evaluation(0, 0, 0, 0, 0)] * 2, 10)).decode()
    wrong_wire = base64.b64encode(raw + varint(2 << 3 | 1) + struct.pack("<d", 1.0)).decode()
    cases = [
        (b"not json", "the row is not JSON"),
        (b'{"a": 1}', "a row is the JSON list"),
        (row(records, i0="xyz"), "module_hash is 32 lowercase hex"),
        (row(records, i1=0), "epochs is a positive int"),
        (row(records, i1="108"), "epochs is a positive int"),
        (row(records, i2="0101"), "strictly upper triangular"),
        (row(records, i2="012"), r"k\*k string"),
        (row(records, i3="input,conv5x5,output"), "not a NAS-Bench-101 cell"),
        (row(records, i4="@@@"), "not valid base64"),
        (row(records, i4=base64.b64encode(raw[:-3]).decode()), "malformed ModelMetrics protobuf"),
        (row(records, i4=two_points), "3 evaluation points"),
        (row(records, i4=wrong_wire), "trainable_parameters has wire type 1, the schema has 0"),
    ]
    for number, (payload, message) in enumerate(cases):
        other_cell = official_rows(records)[3]  # a good record of another module, so the bad one is record 1
        path = write_tfrecord(tmp_path / f"bad{number}.tfrecord", [other_cell, payload])
        with pytest.raises(StoreError, match=rf"bad{number}\.tfrecord.*record 1.*{message}|{message}"):
            read_tfrecord(path)


def test_a_tfrecord_whose_hash_does_not_match_is_refused_unless_asked_not_to_check(tmp_path, records):
    path = write_tfrecord(tmp_path / "forged.tfrecord", [row(records, i0="f" * 32)])
    with pytest.raises(StoreError, match=r"module hash f{32} does not match"):
        read_tfrecord(path)
    assert read_tfrecord(path, check_hashes=False).provenance["hashes_checked"] is False


def test_an_empty_tfrecord_is_refused(tmp_path):
    (tmp_path / "empty.tfrecord").write_bytes(b"")
    with pytest.raises(StoreError, match="holds no records"):
        read_tfrecord(tmp_path / "empty.tfrecord")


# ---- NAS-Bench-Suite-Zero JSON -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zc():
    return read_zc_json(require(ZC_JSON))


def test_zc_json_merges_500_cells_into_292_isomorphism_classes(zc):
    assert zc.provenance["cells"] == 500
    assert len(zc.archs) == zc.provenance["classes"] == 292
    rows = [tuple(r) for r in np.asarray(zc.archs).tolist()]
    assert rows == sorted(rows) and all(SPACE.canonical(r) == r for r in rows)
    assert zc.seeds == (None,) and zc.epochs == (108,) and zc.iso_shared
    val = zc.metrics["val_acc"][:, 0, 0]
    assert val.min() == pytest.approx(0.7338, abs=5e-5) and val.max() == pytest.approx(0.9471, abs=5e-5)
    assert zc.defaults["search_metric"] == zc.defaults["score_metric"] == "val_acc"
    assert zc.provenance["merged_classes"] == 48
    assert "Suite-Zero" in zc.provenance["citation"] and zc.provenance["licence"] == "Apache-2.0"


def test_zc_json_figures_are_the_means_of_isomorphic_cells(zc):
    cells = json.loads(ZC_JSON.read_text())["nasbench101"]["cifar10"]
    names = {0: "input", 1: "output", 2: "conv3x3-bn-relu", 3: "conv1x1-bn-relu", 4: "maxpool3x3"}
    groups: dict[tuple[int, ...], list[dict]] = {}
    for key, figures in cells.items():
        ints = [int(v) for v in key.strip("()").split(",")]
        arch = SPACE.from_spec(np.array(ints[:49]).reshape(7, 7), [names[c] for c in ints[49:]])
        groups.setdefault(SPACE.canonical(arch), []).append(figures)
    for arch, figures in groups.items():
        row = row_of(zc, arch)
        assert zc.metrics["val_acc"][row, 0, 0] == pytest.approx(np.mean([f["val_accuracy"] for f in figures]) / 100)
        assert zc.static["zc_synflow"][row] == pytest.approx(np.mean([f["synflow"] for f in figures]), rel=1e-5)
        assert zc.static["params_m"][row] == pytest.approx(np.mean([f["params"] for f in figures]), rel=1e-5)
    expected = {f"zc_{n}" for n in ("epe_nas", "fisher", "grad_norm", "grasp", "jacov", "l2_norm", "plain", "snip")}
    assert set(zc.static) == expected | {"zc_synflow", "flops_m", "params_m"}


def official_params(matrix: np.ndarray, ops: list[str]) -> int:
    """Trainable parameters of the official NAS-Bench-101 network (stem 128, 3 stacks x 3 cells, channels
    split at the output as the official model builder does) for a pruned spec."""
    n = len(matrix)

    def vertex_channels(c_in: int, c_out: int) -> list[int]:
        channels = [c_in] + [0] * (n - 2) + [c_out]
        fan_in = int(matrix[1:, -1].sum())
        if n == 2 or not fan_in:
            return channels
        base, extra = divmod(c_out, fan_in)
        for v in range(1, n - 1):
            if matrix[v, -1]:
                channels[v], extra = base + (extra > 0), max(extra - 1, 0)
        for v in range(n - 3, 0, -1):
            if not matrix[v, -1]:
                channels[v] = max(channels[d] for d in range(v + 1, n - 1) if matrix[v, d])
        return channels

    total, c_in = 3 * 3 * 3 * 128 + 2 * 128, 128
    for stack in range(3):
        c_out = 128 * 2**stack
        for _ in range(3):
            vc = vertex_channels(c_in, c_out)
            for t in range(1, n - 1):
                total += (c_in * vc[t] + 2 * vc[t]) if matrix[0, t] else 0  # 1x1 projection of the input
                k = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}.get(ops[t], 0)
                total += (k * k * vc[t] * vc[t] + 2 * vc[t]) if k else 0
            total += (c_in * c_out + 2 * c_out) if matrix[0, -1] else 0
            c_in = c_out
    return total + 512 * 10 + 10


def test_params_units_are_millions(records, zc):
    # the counter is the official one: it reproduces every official record exactly
    for fixed, _ in records.values():
        assert official_params(fixed["module_adjacency"], fixed["module_operations"]) == fixed["trainable_parameters"]
    # zc params are millions: many classes match the official count to the last parameter (NASLib's own network
    # differs from the official one for the others, see the importer's provenance)
    exact = sum(
        abs(official_params(*SPACE.to_spec(tuple(a))) / 1e6 - p) < 1e-6
        for a, p in zip(zc.archs.tolist(), zc.static["params_m"].tolist(), strict=True)
    )
    assert exact > 50
    assert zc.static["params_m"].min() > 0.2 and zc.static["params_m"].max() < 50


def test_zc_store_round_trips_through_hdf5(tmp_path, zc):
    back = read_store(write_store(tmp_path / "zc.h5", zc))
    np.testing.assert_array_equal(back.archs, zc.archs)
    assert set(back.static) == set(zc.static) and back.defaults == zc.defaults


def zc_file(tmp_path: Path, cells: object, name: str = "zc.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(cells) if not isinstance(cells, str) else cells)
    return path


GOOD_KEY = str(tuple([0, 1, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 1] + [0] * 35 + [0, 2, 2, 2, 2, 2, 1]))
FIGURES = {"val_accuracy": 90.0, "flops": 10.0, "params": 1.0, "synflow": 3.0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ({"nasbench201": {}}, r'expected \{"nasbench101"'),
        ({"nasbench101": {"cifar100": {}}}, r"datasets there: \['cifar100'\]"),
        ({"nasbench101": {"cifar10": {"(0, 1)": FIGURES}}}, "tuple of 56 ints"),
        ({"nasbench101": {"cifar10": {GOOD_KEY.replace("0, 2, 2", "0, 5, 2"): FIGURES}}}, "op codes are 0"),
        ({"nasbench101": {"cifar10": {str(tuple([0] * 49 + [0, 2, 2, 2, 2, 2, 1])): FIGURES}}}, "input does not"),
        ({"nasbench101": {"cifar10": {GOOD_KEY: {**FIGURES, "val_accuracy": "high"}}}}, "is a finite number"),
        ({"nasbench101": {"cifar10": {GOOD_KEY: {**FIGURES, "val_accuracy": 140.0}}}}, "is a percentage"),
        ({"nasbench101": {"cifar10": {GOOD_KEY: {"synflow": 1.0}}}}, r"needs val_accuracy, flops, params"),
        ({"nasbench101": {"cifar10": {GOOD_KEY: [1, 2]}}}, "figures are a dict"),
    ],
)
def test_malformed_zc_json_is_refused_naming_what_is_wrong(tmp_path, content, message):
    with pytest.raises(StoreError, match=message):
        read_zc_json(zc_file(tmp_path, content))


def test_a_small_zc_json_imports(tmp_path):
    data = read_zc_json(zc_file(tmp_path, {"nasbench101": {"cifar10": {GOOD_KEY: FIGURES}}}))
    chain = SPACE.from_str("010001000|input,conv3x3-bn-relu,output")
    assert data.archs.tolist() == [list(SPACE.canonical(chain))]
    assert data.metrics["val_acc"].item() == pytest.approx(0.9)
    assert data.static["zc_synflow"].item() == 3.0
    data.validate()


def test_zc_json_size_is_bounded(tmp_path):
    with pytest.raises(StoreError, match="reads at most"):
        read_zc_json(zc_file(tmp_path, {"nasbench101": {"cifar10": {GOOD_KEY: FIGURES}}}), max_bytes=10)


# ---- hostile sizes and numbers -------------------------------------------------------------------------------


def nested_shared(levels: int) -> list:
    node: list = [1]
    for _ in range(levels):
        node = [node, node]
    return node


def test_shared_references_in_a_pickle_stay_shared_and_are_walked_once(tmp_path):
    loaded = load_records_pickle(write_pickle(tmp_path / "shared10.pkl", {"x": nested_shared(10)}))
    assert loaded["x"][0] is loaded["x"][1] and loaded["x"][0][0] is loaded["x"][0][1]
    path = write_pickle(tmp_path / "shared30.pkl", {"x": nested_shared(30)})  # 2**30 leaves as a tree, 166 bytes
    start = time.perf_counter()
    with pytest.raises(StoreError, match=r"shared30\.pkl: record 'x': keys are official module hashes"):
        read_official_records(path)
    assert time.perf_counter() - start < 1.0


def test_the_objects_a_pickle_may_hold_are_counted_and_capped(tmp_path):
    path = write_pickle(tmp_path / "wide.pkl", {"x": list(range(2000))})
    with pytest.raises(UnsafePickle, match=r"wide\.pkl: refusing a pickle of more than 1,000 objects.*max_nodes"):
        load_records_pickle(path, max_nodes=1000)
    assert len(load_records_pickle(path, max_nodes=3000)["x"]) == 2000
    with pytest.raises(UnsafePickle, match="more than 100 objects"):
        read_official_records(require(RECORDS), max_nodes=100)


def test_more_repeats_than_the_official_three_are_refused_unless_allowed(tmp_path, records):
    tripled = {k: (fixed, {b: reps * 3 for b, reps in computed.items()}) for k, (fixed, computed) in records.items()}
    path = write_pickle(tmp_path / "tripled.pkl", tripled)
    with pytest.raises(StoreError, match=r"tripled\.pkl: record '[0-9a-f]{32}'.*more than 3 repeats of epoch budget "
                       r"108; at most 3 are read.*max_repeats"):  # fmt: skip
        read_official_records(path)
    assert read_official_records(path, max_repeats=9).seeds == tuple(range(9))
    rows = official_rows(dict([next(iter(records.items()))]))  # one module, 3 repeats
    path = write_tfrecord(tmp_path / "repeated.tfrecord", rows + rows[:1])
    with pytest.raises(StoreError, match=r"repeated\.tfrecord: record 3: module [0-9a-f]{32} has more than 3 repeats"):
        read_tfrecord(path)
    assert read_tfrecord(path, max_repeats=4).seeds == (0, 1, 2, 3)


def test_a_file_with_one_repeat_has_one_seed(tmp_path, records):
    path = write_tfrecord(tmp_path / "one.tfrecord", official_rows(dict([next(iter(records.items()))]))[:1])
    data = read_tfrecord(path)
    assert data.seeds == (0,) and np.isfinite(data.metrics["val_acc"]).all()


def test_epoch_budgets_are_bounded_alike_on_both_paths(tmp_path, records):
    module_hash, (fixed, computed) = next(iter(records.items()))
    path = write_pickle(tmp_path / "huge_budget.pkl", {module_hash: (fixed, {2**70: computed[108]})})
    with pytest.raises(StoreError, match=r"huge_budget\.pkl: record .*budgets are positive ints up to 10,000"):
        read_official_records(path)
    base = json.loads(official_rows(records)[0])
    rows = [json.dumps([*base[:1], budget, *base[2:]]).encode() for budget in range(2, 36, 2)]  # 17 budgets
    start = time.perf_counter()
    with pytest.raises(StoreError, match=r"many\.tfrecord: record 16: epoch budget 34 would be distinct budget 17; "
                       r"a NAS-Bench-101 file has at most 16"):  # fmt: skip
        read_tfrecord(write_tfrecord(tmp_path / "many.tfrecord", rows))
    assert time.perf_counter() - start < 1.0
    many = {module_hash: (fixed, {b: computed[108] for b in range(2, 36, 2)})}
    with pytest.raises(StoreError, match="at most 16"):
        read_official_records(write_pickle(tmp_path / "many.pkl", many))


def test_huge_numbers_in_a_records_pickle_are_refused_by_name(tmp_path, records):
    module_hash, (fixed, computed) = next(iter(records.items()))
    point = {**computed[108][0], "final_training_time": 10**400}
    path = write_pickle(tmp_path / "huge.pkl", {module_hash: (fixed, {108: [point]})})
    with pytest.raises(StoreError, match=r"huge\.pkl: record .*repeat 0: final_training_time is a finite number "
                       r"\(an int within \+-2\*\*63"):  # fmt: skip
        read_official_records(path)
    path = write_pickle(tmp_path / "huge_key.pkl", {10**5000: 1})
    with pytest.raises(StoreError, match=r"huge_key\.pkl: record <int too large to show>: keys are official module"):
        read_official_records(path)


ZC_WRAP = '{"nasbench101": {"cifar10": {"%s": {"val_accuracy": 90.0, "flops": 10.0, "params": %s}}}}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (ZC_WRAP % (GOOD_KEY, "1" + "0" * 400), r"params is a finite number \(an int within \+-2\*\*63"),
        (ZC_WRAP % (GOOD_KEY, "1" * 5000), r"holds a number the JSON reader refuses \(Exceeds the limit"),
        (ZC_WRAP % (GOOD_KEY, "NaN"), "params is a finite number"),
        ("[" * 100_000, "nests JSON arrays/objects too deeply to parse"),
        (ZC_WRAP % (GOOD_KEY.replace("(0,", "(" + "0" * 5000 + ","), "1.0"), "a cell key is a tuple of 56 ints"),
    ],
)
def test_crafted_numbers_and_nesting_in_zc_json_are_store_errors(tmp_path, content, message):
    with pytest.raises(StoreError, match=rf"crafted\.json.*{message}"):
        read_zc_json(zc_file(tmp_path, content, "crafted.json"))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"[" * 100_000, "the row nests JSON arrays/objects too deeply"),
        (b"[" + b"1" * 5000 + b"]", r"the row holds a number the JSON reader refuses"),
        (json.dumps(["0" * 32, 10**400, "0", "x", ""]).encode(), r"epochs is a positive int up to 10,000.*\.\.\."),
    ],
)
def test_crafted_numbers_and_nesting_in_tfrecord_rows_are_store_errors(tmp_path, payload, message):
    with pytest.raises(StoreError, match=rf"crafted\.tfrecord: record 0: {message}"):
        read_tfrecord(write_tfrecord(tmp_path / "crafted.tfrecord", [payload]))
