"""The NAS-Bench-Macro and TransNAS-Bench-101 importers: the published facts come out of the stores, the protocol
(what a search sees, what scores it) is the documented one, and a wrong or damaged file is refused by name."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasbench.errors import ImportSpecError, StoreError
from nasbench.spaces import get_space
from nasbench.store import read_store, write_store
from nasbench.store.import_macro import read_macro_json
from nasbench.store.import_transnas import TASKS, read_transnas_csv, read_transnas_tasks
from tests.conftest import REFERENCE, require

MACRO_JSON = REFERENCE / "nas-bench-macro" / "nas-bench-macro_cifar10.json"
MICRO_CSV = REFERENCE / "transnas-bench-101" / "micro.csv"
MACRO_CSV = REFERENCE / "transnas-bench-101" / "macro.csv"
NB_MACRO = get_space("nb_macro")


@pytest.fixture(scope="module")
def macro():
    return read_macro_json(require(MACRO_JSON))


@pytest.fixture(scope="module")
def macro_raw():
    return json.loads(require(MACRO_JSON).read_text())


def _row(data, arch):
    return int(np.flatnonzero((data.archs == np.asarray(arch)).all(axis=1))[0])


# ---- NAS-Bench-Macro ------------------------------------------------------------------------------------------


def test_macro_store_holds_one_row_per_network_of_the_6561_strings(macro, macro_raw):
    assert len(macro_raw) == 6561 and macro.provenance["entries"] == 6561
    assert macro.iso_shared and macro.archs.shape == (3969, 8)
    assert all(NB_MACRO.canonical(tuple(a)) == tuple(a) for a in macro.archs.tolist())
    assert macro.space == "nb_macro" and macro.dataset == "cifar10"


def test_macro_every_published_string_reads_its_own_record_through_its_canonical_row(macro, macro_raw):
    rows = {tuple(a): i for i, a in enumerate(macro.archs.tolist())}
    val, test = macro.metrics["val_acc"][:, 0, 0], macro.metrics["test_acc"][:, 0, 0]
    for key, record in macro_raw.items():
        i = rows[NB_MACRO.canonical(NB_MACRO.from_str(key))]
        accs = record["test_acc"]
        assert val[i] == pytest.approx(accs[0] / 100, abs=1e-6)
        assert test[i] == pytest.approx((accs[1] + accs[2]) / 200, abs=1e-6)
        assert macro.static["params_m"][i] == pytest.approx(record["params"] / 1e6, rel=1e-6)
        assert macro.static["flops_m"][i] == pytest.approx(record["flops"] / 1e6, rel=1e-6)


def test_macro_readme_fact_best_mean_accuracy_is_93_1267_at_22212220(macro):
    mean = (macro.metrics["val_acc"] + 2 * macro.metrics["test_acc"])[:, 0, 0] / 3
    best = int(np.argmax(mean))
    assert NB_MACRO.to_str(tuple(macro.archs[best])) == "22212220"
    assert mean[best] == pytest.approx(0.931267, abs=1e-6)


def test_macro_protocol_searches_on_seed_0_and_scores_on_seeds_1_and_2(macro):
    assert macro.defaults == {"search_metric": "val_acc", "score_metric": "test_acc"}
    assert macro.directions == {"val_acc": "max", "test_acc": "max"}
    assert macro.seeds == (None,) and macro.epochs == (50,)
    assert set(macro.metrics) == {"val_acc", "test_acc"} and set(macro.static) == {"params_m", "flops_m"}
    row = _row(macro, NB_MACRO.from_str("00000000"))  # the all-identity network: 387,882 params, 7,713,280 FLOPs
    assert macro.static["params_m"][row] == pytest.approx(0.387882)
    assert macro.static["flops_m"][row] == pytest.approx(7.71328)
    prov = macro.provenance
    assert prov["source"] == MACRO_JSON.name and prov["importer"] == "nasbench.store.import_macro"
    assert "Apache-2.0" in prov["licence"] and "CVPR 2021" in prov["citation"]
    assert "seed-0" in prov["notes"] and "50 epochs" in prov["notes"]


def test_macro_store_survives_write_and_read(macro, tmp_path):
    back = read_store(write_store(tmp_path / "macro.h5", macro))
    assert back.iso_shared and back.defaults == macro.defaults and back.directions == macro.directions
    assert np.array_equal(back.archs, macro.archs)
    assert np.array_equal(back.metrics["test_acc"], macro.metrics["test_acc"], equal_nan=True)


def _record(accs, params=1000, flops=2000):
    return {"test_acc": accs, "mean_acc": sum(accs) / 3, "std": 0.0, "params": params, "flops": flops}


def test_macro_file_whose_equivalent_strings_disagree_keeps_every_string(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"00010000": _record([80, 81, 82]), "00001000": _record([70, 71, 72])}))
    data = read_macro_json(path)
    assert not data.iso_shared and data.archs.tolist() == [[0, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0]]
    assert data.metrics["val_acc"][:, 0, 0].tolist() == pytest.approx([0.70, 0.80])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a JSON file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not a JSON file"),
        (b"{}", "holds no architectures"),
        (b"[1, 2, 3]", "holds no architectures"),
        (b'{"64-41414-1_02_333": {"test_acc": [1, 2, 3], "params": 1, "flops": 1}}', "not an nb_macro architecture"),
        (b'{"22212220": {"test_acc": [93.0, 93.1], "params": 1, "flops": 1}}', "expected 3 accuracies"),
        (b'{"22212220": {"test_acc": [0.93, 0.93, 93.1], "params": 1}}', "lacks flops"),
        (b'{"22212220": {"test_acc": [93, 93, 193], "params": 1, "flops": 1}}', r"in % \(0\.\.100\)"),
        (b'{"22212220": [93, 93, 93]}', "expected an object"),
        (
            b'{"22212220": {"test_acc": [1, 2, 3], "params": 1, "flops": 1}, '
            b'"22212220": {"test_acc": [1, 2, 3], "params": 1, "flops": 1}}',
            "appears twice",
        ),
        (b'{"22212220": {"test_acc": [1, 2, 3], "params": 1' + b"0" * 400 + b', "flops": 1}}', r"below 2\*\*63"),
        (b'{"22212220": {"test_acc": [1, 2, 3], "params": ' + b"1" * 5000 + b', "flops": 1}}', "JSON reader refuses"),
        (b'{"22212220": {"test_acc": [1, 2, NaN], "params": 1, "flops": 1}}', "expected 3 accuracies"),
        (b'{"22212220": {"test_acc": [1, 2, 3], "params": Infinity, "flops": 1}}', "expected a positive count"),
        (b'{"22212220": {"test_acc": [1, 2, true], "params": 1, "flops": 1}}', "expected 3 accuracies"),
        (b"[" * 100_000, "nests JSON arrays/objects too deeply to parse"),
    ],
)
def test_macro_bad_file_is_refused_naming_it(tmp_path, content, message):
    path = tmp_path / "broken-macro.json"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message) as info:
        read_macro_json(path)
    assert "broken-macro.json" in str(info.value)


def test_macro_file_size_is_bounded(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"22212220": _record([80, 81, 82])}))
    with pytest.raises(StoreError, match=r"m\.json is \d+ bytes; this reader reads at most 10 \(raise max_bytes\)"):
        read_macro_json(path, max_bytes=10)
    assert read_macro_json(path, max_bytes=1000).archs.shape == (1, 8)


def test_macro_missing_file_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="no NAS-Bench-Macro file"):
        read_macro_json(tmp_path / "absent.json")


# ---- TransNAS-Bench-101 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def micro_tasks():
    return read_transnas_tasks(require(MICRO_CSV), "tnb_micro")


@pytest.fixture(scope="module")
def macro_tasks():
    return read_transnas_tasks(require(MACRO_CSV), "tnb_macro")


def test_transnas_readme_facts(micro_tasks, macro_tasks):
    assert set(micro_tasks) == set(macro_tasks) == set(TASKS)
    for tasks, rows, best in ((micro_tasks, 4096, 0.54936), (macro_tasks, 3256, 0.57414)):
        scene = tasks["class_scene"]
        assert scene.archs.shape == (rows, 6)
        assert float(np.nanmax(scene.metrics["val_acc"])) == pytest.approx(best, abs=1e-5)
    space = get_space("tnb_macro")
    scene = macro_tasks["class_scene"]
    assert space.to_str(tuple(scene.archs[int(np.argmax(scene.metrics["val_acc"][:, 0, 0]))])) == "64-224131-basic"


@pytest.mark.parametrize(
    ("task", "metric", "direction", "epochs"),
    [
        ("class_scene", "val_acc", "max", 25),
        ("class_object", "val_acc", "max", 25),
        ("jigsaw", "val_acc", "max", 10),
        ("room_layout", "val_l2_loss", "min", 25),
        ("segmentsemantic", "val_pixel_acc", "max", 30),
    ],
)
def test_transnas_each_task_is_one_metric_with_its_direction_searched_and_scored_alike(
    micro_tasks, task, metric, direction, epochs
):
    data = micro_tasks[task]
    assert list(data.metrics) == [metric] and data.directions == {metric: direction}
    assert data.defaults == {"search_metric": metric, "score_metric": metric}
    assert data.dataset == f"taskonomy-{task}" and data.space == "tnb_micro"
    assert data.seeds == (None,) and data.epochs == (epochs,) and data.protocol["task"] == task
    prov = data.provenance
    assert prov["source"] == "micro.csv" and prov["column"] == task and "MIT" in prov["licence"]
    assert "NASLib" in prov["licence"] and "TransNAS-Bench-101" in prov["citation"]
    assert prov["importer"] == "nasbench.store.import_transnas"


def test_transnas_room_layout_stores_the_positive_loss_and_accuracies_as_fractions(micro_tasks):
    space = get_space("tnb_micro")
    empty = _row(micro_tasks["room_layout"], space.from_str("64-41414-0_00_000"))  # CSV line 2: -1.09428, 91.8936
    assert micro_tasks["room_layout"].metrics["val_l2_loss"][empty, 0, 0] == pytest.approx(1.09428)
    assert float(micro_tasks["room_layout"].metrics["val_l2_loss"].min()) == pytest.approx(0.600999)
    assert micro_tasks["segmentsemantic"].metrics["val_pixel_acc"][empty, 0, 0] == pytest.approx(0.918936)


def test_transnas_single_task_reader_matches_the_all_tasks_reader(micro_tasks, tmp_path):
    data = read_transnas_csv(MICRO_CSV, space="tnb_micro", task="jigsaw")
    assert np.array_equal(data.archs, micro_tasks["jigsaw"].archs)
    back = read_store(write_store(tmp_path / "jigsaw.h5", data))
    assert back.defaults == data.defaults and back.directions == data.directions
    assert np.array_equal(back.metrics["val_acc"], data.metrics["val_acc"])


@pytest.mark.parametrize(
    ("path", "space", "expected"), [(MACRO_CSV, "tnb_micro", "64-41414-"), (MICRO_CSV, "tnb_macro", "64-1234-basic")]
)
def test_transnas_csv_of_the_other_space_is_refused_naming_the_row_and_the_expected_form(path, space, expected):
    with pytest.raises(StoreError) as info:
        read_transnas_csv(require(path), space=space)
    message = str(info.value)
    assert path.name in message and "line 2" in message and space in message and expected in message


HEADER = "arch,class_scene,class_object,jigsaw,room_layout,segmentsemantic\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xff\xfe\x00garbage\x00\x81", "not a CSV text file"),
        (b"name,score\nfoo,1\n", "not a TransNAS-Bench-101 table"),
        (HEADER.encode(), "no rows"),
        ((HEADER + "64-41414-0_00_000,7.4,26.5,0.05,-1.09\n").encode(), "line 2: 5 fields"),
        ((HEADER + "64-41414-0_00_000,7.4,26.5,oops,-1.09,91.9\n").encode(), "line 2: column jigsaw holds 'oops'"),
        ((HEADER + "64-41414-0_00_000,7.4,26.5,0.05,1.09,91.9\n").encode(), "room_layout holds 1.09.*<= 0"),
        ((HEADER + "64-41414-0_00_000,107.4,26.5,0.05,-1.09,91.9\n").encode(), "class_scene holds 107.4.*0..100"),
        ((HEADER + "64-41414-0_00_000,7,2,0,-1,9\n64-41414-0_00_000,7,2,0,-1,9\n").encode(), "line 3.*line 2"),
        ((HEADER + "64-41414-0_00_000,nan,26.5,0.05,-1.09,91.9\n").encode(), "'nan', not a number.*empty field"),
        ((HEADER + "64-41414-0_00_000,1_0,26.5,0.05,-1.09,91.9\n").encode(), "'1_0', not a number"),
        ((HEADER + "64-41414-0_00_000,-inf,26.5,0.05,-1.09,91.9\n").encode(), "'-inf', not a number"),
        ((HEADER + "64-41414-0_00_000,1e400,26.5,0.05,-1.09,91.9\n").encode(), "'1e400'; results must be finite"),
        ((HEADER + "64-41414-0_00_000," + "9" * 5000 + ",2,0,-1,9\n").encode(), r"'9{50,}\.\.\.; results must be"),
    ],
)
def test_transnas_bad_csv_is_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken-tnb.csv"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message) as info:
        read_transnas_csv(path, space="tnb_micro", task="class_scene")
    assert "broken-tnb.csv" in str(info.value)


def test_transnas_csv_size_is_bounded(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "64-41414-0_00_000,7.5,26.5,0.1,-1.09,91.9\n")
    for read in (read_transnas_csv, read_transnas_tasks):
        with pytest.raises(StoreError, match=r"t\.csv is \d+ bytes; this reader reads at most 64 \(raise max_bytes\)"):
            read(path, max_bytes=64)
    assert read_transnas_csv(path, max_bytes=1000).archs.shape == (1, 6)


def test_transnas_empty_field_is_missing_not_filled(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "64-41414-0_00_000,7.5,26.5,,-1.09,91.9\n64-41414-0_00_003,8.0,27.0,0.1,-1.0,92.0\n")
    data = read_transnas_csv(path, task="jigsaw")
    assert np.isnan(data.metrics["val_acc"][0, 0, 0]) and data.metrics["val_acc"][1, 0, 0] == pytest.approx(0.001)


def test_transnas_unknown_task_or_space_lists_the_allowed_ones(tmp_path):
    with pytest.raises(ImportSpecError, match="class_scene, class_object, jigsaw, room_layout, segmentsemantic"):
        read_transnas_csv(tmp_path / "x.csv", task="normal")
    with pytest.raises(ImportSpecError, match="tnb_micro, tnb_macro"):
        read_transnas_csv(tmp_path / "x.csv", space="nb201")


def test_transnas_nb201_isomorphic_cells_have_their_own_results(micro_tasks):
    """Why tnb_micro has no isomorphism reduction: cells NB201 calls isomorphic were trained apart and differ."""
    nb201, micro = get_space("nb201"), get_space("tnb_micro")
    values = np.concatenate([micro_tasks[t].metrics[spec.metric][:, 0, :] for t, spec in TASKS.items()], axis=1)
    classes: dict = {}
    for row, arch in enumerate(micro_tasks["class_scene"].archs.tolist()):
        classes.setdefault(nb201.canonical(tuple(arch)), []).append(row)
    shared = [rows for rows in classes.values() if len(rows) > 1]
    identical = [rows for rows in shared if (values[rows] == values[rows[0]]).all()]
    assert len(classes) == 1236 and len(shared) == 405 and len(identical) == 5
    assert all(micro.canonical(tuple(a)) == tuple(a) for a in micro_tasks["class_scene"].archs.tolist())
