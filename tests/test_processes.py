"""Processes: killing a comparison's parent leaves no worker behind; two processes never share an output folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasbench.cli import main
from nasbench.owned import lock


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_second_process_on_the_same_folder_is_refused(full_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", str(full_store), "--out", str(out), "--seeds", "1", "--budget", "5", "--processes", "1",
            "--strategies", "random_search", "--no-report"]  # fmt: skip
    assert main(args) == 0
    with lock(out):  # as if another nasbench process were running there
        assert main(args) == 2
    err = capsys.readouterr().err
    assert f"in use by another nasbench process (pid {os.getpid()})" in err
    assert main(args) == 0  # the holder is gone: the lock went with it


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_killing_the_parent_of_a_comparison_leaves_no_worker(full_store, tmp_path):
    out = tmp_path / "cmp"
    cli = "import sys; from nasbench.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", cli, "compare", str(full_store), "--out", str(out), "--seeds", "400",
           "--budget", "150", "--processes", "2", "--strategies", "local_search,regularized_evolution",
           "--no-report"]  # fmt: skip
    parent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            workers |= {c for c in _children(parent.pid) if "spawn_main" in _cmdline(c)}
            time.sleep(0.2)
        assert len(workers) >= 2, "the comparison started no worker processes"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not [w for w in workers if _alive(w)]
    finally:
        if parent.poll() is None:
            parent.kill()


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
