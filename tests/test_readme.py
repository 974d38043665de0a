"""README.md's quick tour runs as written, on the shipped store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _quick_tour() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```python\n", text.index("## Quick tour")) + len("```python\n")
    return text[start : text.index("```\n", start)]


@pytest.mark.slow
def test_quick_tour_runs_as_written():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _quick_tour()], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    first, last = out.stdout.strip().splitlines()
    assert first.split()[-1] == "min"  # val_loss is minimised
    arch, score = last.split()
    assert arch.startswith("|") and 0.5 < float(score) <= 1.0


def _custom_strategy() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```python\n", text.index("Your own strategy in a file")) + len("```python\n")
    return text[start : text.index("```\n", start)]


@pytest.mark.slow
def test_the_readme_strategy_runs_from_its_own_file_through_compare(tmp_path):
    (tmp_path / "mymod.py").write_text(_custom_strategy())
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    cli = "import sys; sys.path.pop(0); from nasbench.cli import main; sys.exit(main())"  # as the console script
    args = ["compare", str(ROOT / "data" / "nb201-fmnist.h5"), "--out", str(tmp_path / "mine"),
            "--strategies", "mymod:Greedy:num_init=5,random_search", "--seeds", "4", "--budget", "30"]  # fmt: skip
    out = subprocess.run([sys.executable, "-c", cli, *args], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "mymod:Greedy:num_init=5" in (tmp_path / "mine" / "report.md").read_text()


def _explain_example() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```python\n", text.index("### Why an architecture wins")) + len("```python\n")
    return text[start : text.index("```\n", start)]


@pytest.mark.slow
def test_the_explain_example_runs_as_written():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _explain_example()], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "False" and "'main'" in lines[1]  # estimated, with its shares
    assert "0.0" in lines and "edge 1<-0" in out.stdout
