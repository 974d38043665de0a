"""--overwrite removes only what nasbench wrote, and never a folder that may hold the user's data."""

from __future__ import annotations

import json
import os

import pytest

from nasbench.cli import main
from nasbench.errors import UnsafePath
from nasbench.owned import MARKER
from nasbench.runner.experiment import read_runs
from tests.conftest import make_store_data

COMPARE = ["--seeds", "2", "--budget", "10", "--strategies", "random_search", "--processes", "1", "--no-report"]


def _compare(store, out, *extra):
    return main(["compare", str(store), "--out", str(out), *COMPARE, *extra])


def test_overwrite_keeps_the_users_files_and_replaces_only_the_experiment(full_store, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["compare", str(full_store), "--out", str(out), "--seeds", "2", "--budget", "10",
                 "--strategies", "random_search", "--processes", "1"]) == 0  # fmt: skip
    (out / "notes.txt").write_text("mine")
    (out / "plots").mkdir()
    (out / "plots" / "my.png").write_bytes(b"png")
    assert _compare(full_store, out, "--first-seed", "5") == 2  # another experiment, no --overwrite: refused
    assert "its seeds differ" in capsys.readouterr().err
    assert _compare(full_store, out, "--first-seed", "5", "--overwrite") == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "plots" / "my.png").read_bytes() == b"png"
    assert not (out / "report.md").exists()  # the old report went with the old experiment
    assert sorted(t.seed for t in read_runs(out)) == [5, 6]


def test_overwrite_of_the_current_directory_is_refused(full_store, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _compare(full_store, ".") == 0  # an empty current directory may hold results
    (tmp_path / "thesis.tex").write_text("years of work")
    assert _compare(full_store, ".", "--first-seed", "3", "--overwrite") == 2
    assert "current directory" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").exists() and len(read_runs(tmp_path)) == 2


def test_overwrite_of_the_home_directory_is_refused(full_store, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    assert _compare(full_store, home) == 0
    monkeypatch.setenv("HOME", str(home))
    assert _compare(full_store, home, "--first-seed", "3", "--overwrite") == 2
    assert "home directory" in capsys.readouterr().err
    assert len(read_runs(home)) == 2


def test_a_folder_holding_the_store_is_never_cleared(tmp_path, capsys):
    out = tmp_path / "results"
    store = out / "mine.h5"
    from nasbench.store import write_store

    write_store(store, make_store_data(n_archs=15625, epochs=(1, 2)))
    assert _compare(store, out, "--overwrite") == 2  # not made by nasbench
    assert "did not make it" in capsys.readouterr().err
    other = tmp_path / "other"
    assert _compare(store, other) == 0
    moved = other / "mine.h5"
    os.replace(store, moved)
    assert _compare(moved, other, "--first-seed", "9", "--overwrite") == 2
    assert "an input of this command" in capsys.readouterr().err and moved.exists()


def test_a_symlinked_or_foreign_output_folder_is_refused(full_store, tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    assert _compare(full_store, link, "--overwrite") == 2
    assert "symlink" in capsys.readouterr().err
    (real / "data.csv").write_text("1,2")
    assert _compare(full_store, real, "--overwrite") == 2
    assert os.listdir(real) == ["data.csv"]


def test_a_forged_marker_cannot_point_outside_its_folder(full_store, tmp_path):
    out = tmp_path / "results"
    assert _compare(full_store, out) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    mark = json.loads((out / MARKER).read_text())
    (out / MARKER).write_text(json.dumps({**mark, "files": [*mark["files"], "../victim.txt"]}))
    with pytest.raises(UnsafePath, match="not an entry of the folder"):
        from nasbench.owned import clear

        clear(out)
    assert victim.read_text() == "keep"


def test_import_overwrite_replaces_only_a_store(tmp_path, capsys):
    source = tmp_path / "table.csv"
    source.write_text("arch,v\n|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.5\n")
    for victim in (source, tmp_path / "notes.txt"):
        victim.touch()
        before = victim.read_bytes()
        code = main(
            [
                "import",
                "table",
                str(source),
                "--out",
                str(victim),
                "--dataset",
                "x",
                "--map",
                "v=val_acc@1",
                "--overwrite",
            ]
        )
        assert code == 2 and "not a nasbench store" in capsys.readouterr().err
        assert victim.read_bytes() == before
    folder = tmp_path / "folder"
    folder.mkdir()
    assert (
        main(
            [
                "import",
                "table",
                str(source),
                "--out",
                str(folder),
                "--dataset",
                "x",
                "--map",
                "v=val_acc@1",
                "--overwrite",
            ]
        )
        == 2
    )
    assert folder.is_dir()


def test_surrogate_fit_overwrite_replaces_only_a_saved_surrogate(small_store, tmp_path, capsys):
    fit = ["surrogate", "fit", str(small_store), "--metric", "val_acc", "--epoch", "4", "--model", "ridge"]
    out = tmp_path / "sur"
    assert main([*fit, "--out", str(out)]) == 0
    assert main([*fit, "--out", str(out), "--overwrite"]) == 0  # its own folder: replaced
    (out / "mine.txt").write_text("x")
    assert main([*fit, "--out", str(out), "--overwrite"]) == 2
    assert "did not write (mine.txt)" in capsys.readouterr().err
    user = tmp_path / "user"
    user.mkdir()
    (user / "a").write_text("a")
    assert main([*fit, "--out", str(user), "--overwrite"]) == 2
    assert (user / "a").read_text() == "a"
