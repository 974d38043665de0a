"""``nasbench explain``'s two forms as functions: a store (its landscape and one architecture explained) and a
results directory (the same for the comparison's score, its winner's most frequent final incumbent, and what each
strategy learned). Everything is computed, and every input checked, before the output folder is touched."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nasbench import owned
from nasbench.errors import InvalidQuery
from nasbench.explain import render
from nasbench.explain.landscape import Landscape, landscape, table_of
from nasbench.explain.learned import Learned, comparison_store, learned
from nasbench.explain.winner import ArchExplanation, explain_arch
from nasbench.runner.experiment import read_config

#: The folder `nasbench explain RESULTS_DIR` writes into by default (and `nasbench report` links to).
RESULTS_SUBDIR = "explain"


@dataclass
class Explanation:
    landscape: Landscape
    winner: ArchExplanation
    learned: Learned | None
    files: list[Path]


def default_out(target: str | os.PathLike[str]) -> Path:
    """``RESULTS_DIR/explain`` for a results directory; ``STORE-explain/`` in the current directory for a store
    (not beside it: a store often lies in a folder that is not the user's to fill, such as ``data/``)."""
    path = Path(target)
    if path.is_dir():
        return path / RESULTS_SUBDIR
    return Path(f"{path.stem}-explain")


def explain_store(
    store: str | os.PathLike[str],
    arch: object = None,
    *,
    out: str | os.PathLike[str] | None = None,
    metric: str | None = None,
    epoch: int | None = None,
    baseline: str = "mean",
    repeats: int | None = None,
    seed: int = 0,
    plots: bool = True,
    command: str = "",
) -> Explanation:
    table = table_of(store)
    if arch is not None:
        table.space.validate(arch)  # an architecture of another space fails before the landscape is computed
    land = landscape(table, metric, epoch, repeats=repeats, seed=seed)
    winner = explain_arch(land, arch, baseline=baseline, seed=seed)
    folder = Path(out) if out is not None else default_out(store)
    title = f"Why architectures win: {land.metric}@{land.epoch} on {table.space.name} / {table.dataset}"
    files = render.write(folder, land, winner, plots=plots, inputs=[store], title=title, command=command)
    return Explanation(land, winner, None, files)


def explain_results(
    results_dir: str | os.PathLike[str],
    arch: object = None,
    *,
    store: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    baseline: str = "mean",
    repeats: int | None = None,
    seed: int = 0,
    within: float | None = None,
    plots: bool = True,
    command: str = "",
) -> Explanation:
    results = Path(results_dir)
    config = read_config(results)
    table = comparison_store(results, config, store)
    if arch is not None:
        table.space.validate(arch)
    protocol = config.get("protocol") or {}
    land = landscape(table, protocol.get("score_metric"), protocol.get("score_epoch"), repeats=repeats, seed=seed)
    learn = learned(results, land=land, within=within)
    winner = explain_arch(land, learn.winner_arch if arch is None else arch, baseline=baseline, seed=seed)
    folder = Path(out) if out is not None else default_out(results)
    if folder.resolve() == results.resolve():
        raise InvalidQuery(f"--out {folder} is the results directory itself; give a folder of its own")
    bench = config.get("benchmark") or {}
    title = f"Why the winner wins: {bench.get('space', '?')} / {bench.get('dataset', '?')}, {results.name}"
    files = render.write(folder, land, winner, learn, plots=plots, inputs=[table.name], title=title, command=command)
    if folder.resolve().parent == results.resolve():
        owned.record(results, folder.name)  # the comparison's --overwrite then clears it too
    return Explanation(land, winner, learn, files)
