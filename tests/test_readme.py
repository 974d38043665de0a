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
