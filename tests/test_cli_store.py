"""``nasbench info / query / import``: helpful --help, parseable --json, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nasbench.cli import main
from nasbench.spaces import get_space
from nasbench.store import read_store
from tests.conftest import NATS_TSS, NB201_CSV, NB201_IMPORT_MAPS, make_store_data, require

SPACE = get_space("nb201")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, *argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], lines[0]
    return lines[0]


def test_help_of_every_command():
    for argv in (["--help"], ["info", "--help"], ["query", "--help"], ["import", "table", "--help"]):
        out = subprocess.run([sys.executable, "-m", "nasbench", *argv], capture_output=True, text=True, check=True)
        assert "usage: nasbench" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "nasbench", "import", "nats", "--help"], capture_output=True, text=True, check=True
    )
    assert "--dataset" in out.stdout and "--test-split" in out.stdout


def test_info_and_json(capsys, small_store):
    code, out, _ = run(capsys, "info", small_store)
    assert code == 0 and "dataset   synthetic" in out and "20 of 15,625" in out and "best val_acc@4" in out
    code, out, _ = run(capsys, "info", small_store, "--json")
    info = json.loads(out)
    assert info["archs"] == 20 and info["epochs"] == [1, 2, 3, 4] and info["seeds"] == [0, 1]
    assert info["metrics"] == ["train_acc", "val_acc", "test_acc", "val_loss", "train_time_s"]


def test_query_text_and_json(capsys, small_store):
    data = make_store_data()
    arch = tuple(int(x) for x in data.archs[2])
    code, out, _ = run(capsys, "query", small_store, SPACE.to_str(arch), ",".join(map(str, arch)), "--epoch", 4)
    assert code == 0 and out.count(SPACE.to_str(arch)) == 2 and "val_acc" in out and "test_loss" not in out
    code, out, _ = run(capsys, "query", small_store, ",".join(map(str, arch)), "--epoch", 3, "--seed", 1, "--json")
    record = json.loads(out)
    assert record["decisions"] == list(arch) and record["seed"] == 1 and record["epoch"] == 3
    assert record["val_acc"] == pytest.approx(float(data.metrics["val_acc"][2, 1, 2]))
    assert "test_loss" not in record  # the store holds no test_loss: nothing is made up


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--epoch", "1"], "unknown op 'conv'"),
        (["1,2,3", "--epoch", "1"], "has 6 edges, got 3"),
        (["1,2,3,4,0,9", "--epoch", "1"], "op indices are integers 0..4"),
        (["VALID"], "epoch is required"),
        (["VALID", "--epoch", "7"], "epoch 7 is not in this store; available: [1, 2, 3, 4]"),
        (["VALID", "--epoch", "2", "--seed", "5"], "seed 5 is not in this store; available: [0, 1]"),
        (["0,0,0,0,0,0", "--epoch", "2"], "is not in this store"),
    ],
)
def test_query_mistakes_are_one_line(capsys, small_store, extra, fragment):
    valid = ",".join(str(int(x)) for x in make_store_data().archs[0])
    assert_user_error(capsys, "query", small_store, *[valid if e == "VALID" else e for e in extra], fragment=fragment)


def test_bad_store_files_are_one_line(capsys, tmp_path):
    assert_user_error(capsys, "info", tmp_path / "none.h5", fragment="does not exist")
    text = tmp_path / "x.h5"
    text.write_text("hello")
    assert_user_error(capsys, "query", text, "0,0,0,0,0,0", fragment="not an HDF5 file")


def test_argparse_mistakes_exit_2_without_traceback():
    for argv in (["query"], ["frobnicate"], ["query", "s.h5", "a", "--epoch", "x"], ["import", "table", "t.csv"]):
        out = subprocess.run([sys.executable, "-m", "nasbench", *argv], capture_output=True, text=True)
        assert out.returncode == 2 and "Traceback" not in out.stderr and "usage:" in out.stderr


def test_import_table_then_query(capsys, tmp_path):
    csv = require(NB201_CSV)
    out = tmp_path / "nb201.h5"
    maps = [x for m in NB201_IMPORT_MAPS for x in ("--map", m)]
    code, stdout, _ = run(capsys, "import", "table", csv, "--out", out, "--percent", "--dataset", "cifar10", *maps)
    assert code == 0 and "15625 archs" in stdout
    code, stdout, _ = run(capsys, "query", out, BEST, "--epoch", "200", "--json")
    assert json.loads(stdout)["test_acc"] == pytest.approx(0.943733, abs=1e-7)
    assert_user_error(capsys, "import", "table", csv, "--out", out, *maps, "--percent", fragment="already exists")
    assert_user_error(capsys, "query", out, BEST, fragment="epoch is required: this store holds epochs [12, 200]")


def test_import_table_mistakes(capsys, tmp_path):
    csv = require(NB201_CSV)
    out = tmp_path / "o.h5"
    cases = [
        (["--map", "val_acc_12ep=val_acc@12"], "looks like percentages"),
        (["--map", "val_acc_12ep=val_acc@12", "--percent", "--map", "nope=test_acc@200"], "no column(s) ['nope']"),
        (["--map", "val_acc_12ep=accuracy@12"], "unknown metric 'accuracy'"),
        (["--map", "val_acc_12ep"], "must look like COLUMN=METRIC@EPOCH"),
        (["--map", "val_acc_12ep=val_acc@12", "--protocol", "{bad"], "--protocol must be a JSON object"),
        (["--spec", tmp_path / "absent.json"], "cannot read import spec"),
    ]
    for extra, fragment in cases:
        assert_user_error(capsys, "import", "table", csv, "--out", out, *extra, fragment=fragment)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_import_nats(capsys, tmp_path):
    out = tmp_path / "nats.h5"
    code, stdout, _ = run(capsys, "import", "nats", require(NATS_TSS), "--out", out, "--dataset", "cifar100")
    assert code == 0 and "seeds [777, 888, 999]" in stdout
    assert read_store(out).dataset == "cifar100"
    code, stdout, _ = run(capsys, "info", out, "--json")
    assert json.loads(stdout)["epochs"][-1] == 200
    assert_user_error(capsys, "import", "nats", tmp_path, "--out", tmp_path / "x.h5", fragment="no meta.pickle.pbz2")
    assert_user_error(
        capsys, "import", "nats", NATS_TSS, "--out", tmp_path / "x.h5", "--hp", "90", fragment="unknown NATS-Bench hp"
    )
    assert not (tmp_path / "x.h5").exists()
