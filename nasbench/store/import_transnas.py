"""Import a TransNAS-Bench-101 results table (``micro.csv`` / ``macro.csv``) into one store per Taskonomy task.

The CSV has an ``arch`` column (official net codes, ``64-41414-a_bc_def`` for ``tnb_micro``, ``64-XXXX-basic`` for
``tnb_macro``) and one column per task holding each network's final validation figure (as logged by
NAS-Bench-Suite-Zero in NASLib). Only that one figure exists: no seeds, no curves, no test split, so each store's
default protocol searches and scores on the same metric. Each task becomes a metric whose name says what it is:

| task | metric | stored as | direction |
|---|---|---|---|
| class_scene, class_object | ``val_acc`` | validation top-1 accuracy, fraction (CSV: %) | max |
| jigsaw | ``val_acc`` | validation accuracy of the permutation class, fraction (CSV: %) | max |
| room_layout | ``val_l2_loss`` | validation L2 loss (the CSV holds its negative) | min |
| segmentsemantic | ``val_pixel_acc`` | validation pixel accuracy, fraction (CSV: %) | max |

The store's one epoch is the task's training length in the official ``configs/train_from_scratch/<task>/config.py``
(the figure is the one after the last epoch); seeds are ``(None,)``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasbench import __version__
from nasbench.atomic import sha256_file
from nasbench.errors import ImportSpecError, InvalidArchitecture, StoreError
from nasbench.spaces.base import EnumerableSpace
from nasbench.spaces.transnas import TNBMacroSpace, TNBMicroSpace
from nasbench.store.format import StoreData
from nasbench.store.untrusted import read_bounded

SPACES: dict[str, type[EnumerableSpace]] = {"tnb_micro": TNBMicroSpace, "tnb_macro": TNBMacroSpace}
CITATION = (
    "Duan et al., TransNAS-Bench-101: Improving Transferability and Generalizability of Cross-Task Neural "
    "Architecture Search, CVPR 2021 (https://github.com/yawen-d/TransNASBench)"
)
#: A result field: a plain decimal number (no nan/inf words, no digit underscores); empty means missing.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
MAX_BYTES = 256 << 20  # the published tables are under 250 kB
LICENCE = "MIT (TransNAS-Bench-101); values from the NAS-Bench-Suite-Zero logs of NASLib (Apache-2.0)"


@dataclass(frozen=True)
class Task:
    """How one CSV column becomes a metric."""

    metric: str
    epochs: int  # the official training length of the task
    figure: str
    percent: bool  # the CSV holds a percentage (stored as a fraction); otherwise a negated loss (stored positive)


TASKS: dict[str, Task] = {
    "class_scene": Task("val_acc", 25, "scene classification: validation top-1 accuracy", True),
    "class_object": Task("val_acc", 25, "object classification: validation top-1 accuracy", True),
    "jigsaw": Task("val_acc", 10, "jigsaw puzzle (self-supervised): validation accuracy", True),
    "room_layout": Task("val_l2_loss", 25, "room layout regression: validation L2 loss", False),
    "segmentsemantic": Task("val_pixel_acc", 30, "semantic segmentation: validation pixel accuracy", True),
}


def read_transnas_csv(
    path: str | os.PathLike[str], space: str = "tnb_micro", task: str = "class_scene", *, max_bytes: int = MAX_BYTES
) -> StoreData:
    """The validated store content of one task of a TransNAS-Bench-101 CSV (no file over ``max_bytes`` is read)."""
    if task not in TASKS:
        raise ImportSpecError(f"unknown TransNAS-Bench-101 task {task!r}; tasks: {', '.join(TASKS)}")
    table = _Table.read(Path(path), space, max_bytes)
    return table.store(task)


def read_transnas_tasks(
    path: str | os.PathLike[str], space: str = "tnb_micro", *, max_bytes: int = MAX_BYTES
) -> dict[str, StoreData]:
    """One validated store content per task column the CSV has, read in one pass (no file over ``max_bytes``)."""
    table = _Table.read(Path(path), space, max_bytes)
    return {task: table.store(task) for task in TASKS if task in table.columns}


@dataclass
class _Table:
    path: Path
    space: EnumerableSpace
    archs: np.ndarray  # (N, 6) sorted lexicographically
    columns: dict[str, np.ndarray]  # task -> (N,) raw CSV values, rows in the order of archs
    sha256: str

    @classmethod
    def read(cls, path: Path, space_name: str, max_bytes: int) -> _Table:
        if space_name not in SPACES:
            raise ImportSpecError(f"TransNAS-Bench-101 spaces are {', '.join(SPACES)}; got {space_name!r}")
        space = SPACES[space_name]()
        header, rows = _csv_rows(path, max_bytes)
        tasks = [t for t in TASKS if t in header]
        if "arch" not in header or not tasks:
            raise StoreError(
                f"{path} is not a TransNAS-Bench-101 table: its header is {header!r}; expected 'arch' and one or "
                f"more of {', '.join(TASKS)}"
            )
        col = {name: header.index(name) for name in ("arch", *tasks)}
        archs, values = [], []
        first_line: dict[tuple[int, ...], int] = {}
        for line, row in rows:
            if len(row) != len(header):
                raise StoreError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")
            text = row[col["arch"]]
            try:
                arch = space.from_str(text)
            except InvalidArchitecture as exc:
                raise StoreError(
                    f"{path}, line {line}: {_show(text)} is not a {space.name} architecture: {exc}"
                ) from None
            if arch in first_line:
                raise StoreError(f"{path}, line {line}: {_show(text)} already appears on line {first_line[arch]}")
            first_line[arch] = line
            archs.append(arch)
            values.append([_number(path, line, t, row[col[t]]) for t in tasks])
        if not archs:
            raise StoreError(f"{path} has a header but no rows")
        arr = np.asarray(archs, dtype=np.int64)
        order = np.lexsort(arr.T[::-1])
        table = np.asarray(values, dtype=np.float64)[order]
        columns = {t: table[:, i] for i, t in enumerate(tasks)}
        for task, raw in columns.items():
            _check_range(path, task, raw)
        return cls(path, space, arr[order], columns, sha256_file(path))

    def store(self, task: str) -> StoreData:
        if task not in self.columns:
            raise StoreError(f"{self.path} has no {task!r} column; it has {', '.join(self.columns)}")
        spec = TASKS[task]
        raw = self.columns[task]
        values = raw / 100.0 if spec.percent else -raw
        return StoreData(
            space=self.space.name,
            dataset=f"taskonomy-{task}",
            protocol={
                "source": f"TransNAS-Bench-101 {self.space.name.removeprefix('tnb_')} space, Taskonomy {task}",
                "task": task,
                "figure": spec.figure,
                "epochs": spec.epochs,
                "recipe": "SGD Nesterov momentum 0.9, lr 0.1 warm-up cosine, weight decay 5e-4 "
                "(official configs/train_from_scratch)",
                "split": "validation only: the table has no test figures",
            },
            seeds=(None,),
            epochs=(spec.epochs,),
            archs=self.archs.copy(),
            metrics={spec.metric: values.reshape(-1, 1, 1).astype(np.float32)},
            provenance={
                "source": self.path.name,
                "sha256": self.sha256,
                "column": task,
                "licence": LICENCE,
                "citation": CITATION,
                "importer": __name__,
                "nasbench_version": __version__,
                "notes": (
                    f"{spec.metric} = the CSV's {task} column "
                    + ("divided by 100 (a percentage there). " if spec.percent else "negated (it holds -loss). ")
                    + f"The final validation figure after the task's {spec.epochs} training epochs; no test split, "
                    "so the default protocol searches and scores on it."
                ),
            },
            directions={spec.metric: "max" if spec.percent else "min"},
            defaults={"search_metric": spec.metric, "score_metric": spec.metric},
        ).validate()


def _check_range(path: Path, task: str, raw: np.ndarray) -> None:
    """A percentage column must lie in 0..100 and the negated loss of room_layout at or below 0."""
    finite = raw[np.isfinite(raw)]
    if TASKS[task].percent:
        bad = (finite < 0) | (finite > 100)
        allowed = "a percentage in 0..100"
    else:
        bad = finite > 0
        allowed = "a negative loss (<= 0)"
    if bad.any():
        raise StoreError(f"{path}: column {task} holds {finite[bad][0]:g}; its values are {allowed}")


def _csv_rows(path: Path, max_bytes: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) of every non-empty row; StoreError for a file that is not CSV text or is
    larger than ``max_bytes``."""
    data = read_bounded(path, max_bytes, "TransNAS-Bench-101 table")
    rows: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        rows += [(reader.line_num, row) for row in reader if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise StoreError(f"{path} is not a CSV text file ({exc})") from None
    if not rows:
        raise StoreError(f"{path} is empty; expected a header 'arch,{','.join(TASKS)}' and one row per network")
    return [h.strip() for h in rows[0][1]], rows[1:]


def _number(path: Path, line: int, column: str, text: str) -> float:
    """A CSV field as float; empty = missing (NaN). Only plain decimals are read: ``float`` alone would also take
    ``nan``, ``inf`` and ``1_0``, and a missing result must be an empty field, never a NaN spelt out."""
    text = text.strip()
    if not text:
        return math.nan
    if not _DECIMAL.fullmatch(text):
        raise StoreError(
            f"{path}, line {line}: column {column} holds {_show(text)}, not a number; a result is a decimal number "
            "such as 91.89 or -1.09e0, or an empty field if missing"
        )
    value = float(text)
    if not math.isfinite(value):
        raise StoreError(
            f"{path}, line {line}: column {column} holds {_show(text)}; results must be finite (|x| < 1.8e308)"
        )
    return value


def _show(text: str, limit: int = 60) -> str:
    """A field's repr cut to ``limit`` characters, for messages about hostile input."""
    shown = repr(text)
    return shown if len(shown) <= limit else f"{shown[: limit - 3]}..."


__all__ = ["TASKS", "Task", "read_transnas_csv", "read_transnas_tasks"]
