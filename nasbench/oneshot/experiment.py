"""Weight-sharing methods in a comparison: train each for real on the benchmark's own data and recipe, score the
cell it returns with the benchmark, and write the runs where ``nasbench report`` ranks them beside the others.

A results directory made here holds the same ``experiment.json`` / ``runs.jsonl`` as ``nasbench compare``: each
one-shot run is a :class:`Trajectory` with a single evaluation (the returned cell) whose cost is the measured
search time (device recorded in ``experiment.json["oneshot"]``) and whose incumbent score is the benchmark's
score of that cell (the table; a surrogate-backed :class:`HybridBenchmark` for cells the table lacks). Baseline
strategies (random search, regularized evolution, ...) then run on the simulated clock up to the largest one-shot
cost, so their incumbent can be read at any one-shot method's own cost (``oneshot.md`` does: each method's row
shows every baseline's mean score at that method's mean cost; the time curves of ``nasbench report`` show it all).
``oneshot.jsonl`` keeps the details of every one-shot run: the cell, its architecture parameters or controller
figures, the per-epoch history, and the supernet's own ranking of a sample of cells (Kendall tau of shared-weight
val accuracy vs the benchmark's).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from nasbench import owned
from nasbench.atomic import atomic_write_text, sha256_file
from nasbench.benchmark import TabularBenchmark
from nasbench.errors import DatasetError, MissingCapability, MissingResult, RecipeError
from nasbench.oneshot import make_method, parse_method
from nasbench.runner.experiment import (
    CONFIG_FILE,
    KIND,
    OUTPUT_NAMES,
    RUNS_FILE,
    Experiment,
    ResultsError,
    StrategySpec,
    read_runs,
)
from nasbench.runner.simulate import Budget, Protocol, Trajectory, run_search
from nasbench.spaces.base import Enumerable
from nasbench.train.registry import require_network

log = logging.getLogger(__name__)

DETAILS_FILE = "oneshot.jsonl"
SUMMARY_FILE = "oneshot.md"
DEFAULT_BASELINES = ("random_search", "regularized_evolution")


@dataclass(frozen=True)
class OneShotConfig:
    """What a one-shot comparison runs. ``methods`` are specs like ``darts`` or ``darts:order=2:epochs=3``;
    ``epochs``, ``channels``, ``cells_per_stage`` and ``batch_size`` (None = the method's default / the store's
    recipe) apply to every method unless its spec sets them."""

    methods: tuple[str, ...] = ("enas", "darts", "gdas", "rsws")
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "cpu"
    epochs: int | None = None
    channels: int | None = None
    cells_per_stage: int | None = None
    batch_size: int | None = None
    time_budget_s: float | None = None
    baselines: tuple[str, ...] = DEFAULT_BASELINES
    baseline_seeds: tuple[int, ...] | None = None  # None: the same seeds
    rank_sample: int = 50
    use_surrogate: bool = True
    data_dir: str | None = None
    download: bool = False
    protocol: Protocol = field(default_factory=Protocol)


def store_splits(bench: TabularBenchmark, *, data_dir: str | None = None, download: bool = False) -> Any:
    """The train/val/test splits the store was built on, rebuilt from its protocol (recipe + data record) and
    checked against that record, so a one-shot method sees exactly the images the table's networks saw."""
    from nasbench.train.data import SEQUENCES, load_splits
    from nasbench.train.recipe import Recipe

    if bench.dataset in SEQUENCES:
        raise MissingCapability(
            f"the store was built on {bench.dataset}, sequences; the weight-sharing supernet is built for images "
            "only (nasbench build and validate train sequence networks)"
        )
    protocol = bench.protocol if isinstance(bench.protocol, dict) else {}
    if not isinstance(protocol.get("recipe"), dict):
        raise RecipeError(
            f"the store {bench.name or bench.dataset} records no training recipe (an imported table?); weight-sharing "
            "methods need a store made by `nasbench build`, whose protocol says how to rebuild its dataset"
        )
    recipe = Recipe.from_dict(protocol["recipe"])
    try:
        splits = load_splits(
            bench.dataset,
            path=data_dir,
            resolution=recipe.resolution,
            train_size=recipe.train_size,
            val_size=recipe.val_size,
            test_size=recipe.test_size,
            split_seed=recipe.split_seed,
            download=download,
        )
    except DatasetError as exc:
        raise DatasetError(
            f"the store was built on {bench.dataset}, whose files are needed to train a supernet: {exc}"
        ) from None
    recorded = protocol.get("data")
    if isinstance(recorded, dict):
        keys = ("train_size", "val_size", "test_size", "resolution", "split_seed", "normalize_mean", "normalize_std")
        differ = {k: (recorded.get(k), splits.info.get(k)) for k in keys if recorded.get(k) != splits.info.get(k)}
        if differ:
            raise DatasetError(
                f"the {bench.dataset} files found are not those the store was built on (store vs found: {differ}); "
                "point --data-dir at the original files"
            )
    return splits, recipe


class _Scorer:
    """The benchmark's answers for any cell: the table when it covers the whole space, else (built on first need)
    a :class:`HybridBenchmark` -- the table where it has the cell, a surrogate fitted on it elsewhere."""

    def __init__(self, bench: TabularBenchmark, protocol: Protocol, use_surrogate: bool) -> None:
        self.bench = bench
        self.protocol = protocol
        self.use_surrogate = use_surrogate
        self._full: Any = None
        self._space = cast(Enumerable, bench.space)  # one-shot search needs a trainable space (NB201): enumerable
        try:
            bench.rows(np.asarray(self._space.all_archs(), dtype=np.int64))
            self.complete = True
        except MissingResult:
            self.complete = False

    def benchmark(self) -> Any:
        """A benchmark that answers every cell of the space (None: the table is partial and surrogates are off)."""
        if self.complete:
            return self.bench
        if not self.use_surrogate:
            return None
        if self._full is None:
            from nasbench.surrogates.benchmarks import HybridBenchmark, SurrogateBenchmark

            p = self.protocol
            assert p.search_epoch is not None and p.score_epoch is not None  # the protocol is resolved
            log.info("the table holds %d of %d cells: fitting surrogates for the others", len(self.bench),
                     self._space.size)  # fmt: skip
            assert p.search_metric is not None and p.score_metric is not None  # the protocol is resolved
            metrics = tuple(dict.fromkeys((p.search_metric, p.score_metric, "train_time_s")))
            surrogate = SurrogateBenchmark.from_store(
                self.bench,
                metrics=metrics,
                epochs=sorted({p.search_epoch, p.score_epoch}),
                seed=0,
            )
            self._full = HybridBenchmark(self.bench, surrogate)
        return self._full

    def __call__(self, arch: tuple[int, ...]) -> tuple[float, float, str]:
        """(search metric at the search epoch, score metric at the score epoch, source) of ``arch``."""
        p = self.protocol
        assert p.search_metric is not None and p.score_metric is not None  # the protocol is resolved
        if arch in self.bench:
            source = self.bench
        else:
            source = self.benchmark()
            if source is None:
                raise MissingResult(
                    f"{self.bench.space.to_str(arch)} is not in the table and surrogates are switched off; "
                    "drop --no-surrogate to score it with a surrogate fitted on the table"
                )
        val = getattr(source.query(arch, epoch=p.search_epoch), p.search_metric)
        score = getattr(source.query(arch, epoch=p.score_epoch), p.score_metric)
        return float(val), float(score), "table" if source is self.bench else "surrogate"


def rank_correlation(
    supernet: Any, data: Any, bench: TabularBenchmark, protocol: Protocol, *, sample: int, seed: int
) -> dict[str, Any]:
    """Kendall tau between the supernet's shared-weight val accuracy and the benchmark's val and test accuracy
    over ``sample`` cells drawn from the table (true values only, no surrogate)."""
    from scipy.stats import kendalltau

    from nasbench.oneshot.search import shared_accuracy

    archs = bench.archs()
    rng = np.random.default_rng([seed, 0x7A4])
    picks = rng.choice(len(archs), size=min(sample, len(archs)), replace=False)
    cells = [archs[int(i)] for i in np.sort(picks)]
    shared = np.array([shared_accuracy(supernet, a, data.val_x, data.val_y) for a in cells])
    assert protocol.search_metric is not None and protocol.score_metric is not None  # the protocol is resolved
    val = bench.query_many(cells, epoch=protocol.search_epoch, metrics=[protocol.search_metric])[protocol.search_metric]
    test = bench.query_many(cells, epoch=protocol.score_epoch, metrics=[protocol.score_metric])[protocol.score_metric]

    def tau(a: np.ndarray, b: np.ndarray) -> float | None:
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
            return None
        return float(kendalltau(a[ok], b[ok])[0])

    return {
        "cells": len(cells),
        "kendall_tau_val": tau(shared, val),
        "kendall_tau_test": tau(shared, test),
        "shared_val_acc_mean": float(shared.mean()) if len(shared) else None,
        "shared_best_cell": bench.space.to_str(cells[int(np.argmax(shared))]) if cells else None,
        "shared_best_cell_test": float(test[int(np.argmax(shared))]) if cells else None,
    }


def _labels(config: OneShotConfig) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, method name, its spec's params) of every method, in order; duplicate labels are an error."""
    out = []
    for text in config.methods:
        name, params = parse_method(text)
        out.append((StrategySpec(name, params).label, name, params))
    labels = [label for label, _, _ in out]
    if len(set(labels)) != len(labels):
        raise ResultsError(f"methods repeat: {labels}")
    return out


def _method_params(config: OneShotConfig, params: dict[str, Any]) -> dict[str, Any]:
    merged = dict(params)
    if config.epochs is not None:
        merged.setdefault("epochs", config.epochs)
    if config.batch_size is not None:
        merged.setdefault("batch_size", config.batch_size)
    return merged


def run_oneshot_experiment(
    store: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config: OneShotConfig,
    *,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Run every (method, seed) not yet in ``out_dir``, then the baselines up to the largest one-shot cost."""
    import torch

    from nasbench.oneshot.search import SearchData, check_device

    torch.set_num_threads(1)
    out = Path(out_dir)
    bench = TabularBenchmark.open(store)
    require_network(bench.space.name, "nasbench oneshot")
    protocol = config.protocol.resolved(bench)
    dev = check_device(config.device)
    methods = _labels(config)
    if not config.seeds:
        raise ResultsError("no seeds given")
    splits, recipe = store_splits(bench, data_dir=config.data_dir, download=config.download)
    channels = config.channels or recipe.channels
    cells = config.cells_per_stage if config.cells_per_stage is not None else recipe.cells_per_stage
    baseline_seeds = config.baseline_seeds or config.seeds
    specs = [StrategySpec(name, params) for _, name, params in methods]
    base_specs = [StrategySpec.parse(text) for text in config.baselines]
    experiment = Experiment(
        store=os.fspath(store),
        strategies=tuple(specs + base_specs),
        seeds=tuple(sorted(set(config.seeds) | set(baseline_seeds))),
        protocol=protocol,
        budget=Budget(evaluations=1),  # replaced by the baselines' time budget once the one-shot costs are known
    )
    meta = {
        "device": str(dev),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "network": {"channels": channels, "cells_per_stage": cells, "resolution": splits.resolution},
        "recipe": recipe.name,
        "data": {k: splits.info[k] for k in ("dataset", "train_size", "val_size", "resolution")},
        "methods": [
            {"label": label, "name": name, "params": make_method(name, **_method_params(config, p)).get_params()}
            for label, name, p in methods
        ],
        "method_seeds": list(config.seeds),
        "baselines": [s.label for s in base_specs],
        "baseline_seeds": list(baseline_seeds),
        "time_budget_s": config.time_budget_s,
        "rank_sample": config.rank_sample,
    }
    exp_config = experiment.to_json(bench, sha256_file(store))
    exp_config["oneshot"] = meta
    owned.claim(out, KIND, inputs=[store], adopt=(CONFIG_FILE, (*OUTPUT_NAMES, DETAILS_FILE, SUMMARY_FILE)))
    with owned.lock(out):
        _prepare(out, exp_config, overwrite, store)
        done = {(t.strategy, t.seed) for t in read_runs(out)}
        data = SearchData.from_splits(splits, dev)
        scorer = _Scorer(bench, protocol, config.use_surrogate)
        for label, name, params in methods:
            for seed in config.seeds:
                if (label, seed) in done:
                    continue
                if progress:
                    progress(f"{label} seed {seed}")
                method = make_method(name, **_method_params(config, params))
                wall = time.perf_counter()
                result = method.search(
                    data, seed=seed, channels=channels, cells_per_stage=cells, time_budget_s=config.time_budget_s
                )
                val, score, source = scorer(result.arch)
                ranking = (
                    rank_correlation(method.supernet_, data, bench, protocol, sample=config.rank_sample, seed=seed)
                    if config.rank_sample > 0
                    else None
                )
                text = bench.space.to_str(result.arch)
                traj = Trajectory(
                    strategy=label, seed=seed, trial_id=[0], arch=[text], epoch=[int(protocol.search_epoch)],  # type: ignore[arg-type]
                    table_seed=[None], resume_from=[None], score=[val], cost_s=[result.search_time_s],
                    finished_s=[result.search_time_s], incumbent=[text], incumbent_score=[score], overhead_s=0.0,
                    wall_s=time.perf_counter() - wall, time_unit="s",
                )  # fmt: skip
                details = {
                    "label": label,
                    "seed": seed,
                    "arch": bench.space.to_str(result.arch),
                    "search_time_s": result.search_time_s,
                    "device": result.device,
                    "epochs": result.epochs,
                    "bench_val": val,
                    "bench_score": score,
                    "source": source,
                    "parameter_free_edges": sum(op in (0, 1, 4) for op in result.arch),
                    "ranking": ranking,
                    "history": result.history,
                    "extra": result.extra,
                }
                _append(out / DETAILS_FILE, details)
                _append(out / RUNS_FILE, traj.to_dict())
                log.info("%s seed %d: %s -> %.4f (%.1f s)", label, seed, details["arch"], score, result.search_time_s)
        _run_baselines(out, scorer, protocol, base_specs, baseline_seeds, progress)
        atomic_write_text(out / SUMMARY_FILE, render_summary(out))
        return out


def _run_baselines(
    out: Path,
    scorer: _Scorer,
    protocol: Protocol,
    specs: Sequence[StrategySpec],
    seeds: Sequence[int],
    progress: Callable[[str], None] | None,
) -> None:
    from nasbench.strategies import make_strategy

    config = json.loads((out / CONFIG_FILE).read_text())
    oneshot_labels = {m["label"] for m in config["oneshot"]["methods"]}
    costs = [t.cost_s[0] for t in read_runs(out) if t.strategy in oneshot_labels and t.cost_s]
    if not specs or not costs:
        return
    if "train_time_s" not in scorer.bench.metrics:
        log.warning("the store has no train_time_s: baselines cannot run at the one-shot cost; skipped")
        return
    bench = scorer.benchmark()  # strategies propose any cell: a partial table needs the surrogate
    if bench is None:
        log.warning("the table is partial and surrogates are off: baselines skipped")
        return
    budget_s = float(max(costs))
    if config["budget"].get("time_s") != budget_s:
        config["budget"] = {"evaluations": None, "time_s": budget_s}
        atomic_write_text(out / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
    done = {(t.strategy, t.seed) for t in read_runs(out)}
    for spec in specs:
        for seed in seeds:
            if (spec.label, seed) in done:
                continue
            if progress:
                progress(f"{spec.label} seed {seed} (simulated, {budget_s:.0f} s budget)")
            traj = run_search(
                bench,
                make_strategy(spec.name, **spec.params),
                protocol=protocol,
                budget=Budget(time_s=budget_s),
                seed=seed,
                label=spec.label,
            )
            _append(out / RUNS_FILE, traj.to_dict())


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    one = dict(config.get("oneshot", {}))
    one.pop("torch_version", None)
    return {
        "strategies": config.get("strategies"),
        "protocol": config.get("protocol"),
        "store_sha256": config.get("benchmark", {}).get("sha256"),
        "oneshot": one,
    }


def _prepare(out: Path, config: dict[str, Any], overwrite: bool, store: str | os.PathLike[str]) -> None:
    path = out / CONFIG_FILE
    if path.is_file():
        try:
            same = _identity(json.loads(path.read_text())) == _identity(json.loads(json.dumps(config)))
        except json.JSONDecodeError:
            same = False
        if same and not overwrite:
            log.info("resuming %s", out)
            return
        if not overwrite:
            raise ResultsError(f"{out} holds another experiment; pass --overwrite to replace it, or another --out")
    if overwrite:
        owned.clear(out, inputs=[store])
    atomic_write_text(path, json.dumps(config, indent=2) + "\n")
    (out / RUNS_FILE).touch()
    owned.record(out, CONFIG_FILE, RUNS_FILE, DETAILS_FILE, SUMMARY_FILE)


def _append(path: Path, record: dict[str, Any]) -> None:
    """One JSON line, flushed and fsync'd (a torn last line from a kill is dropped by the readers)."""
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
    with open(path, "a") as f:
        f.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_details(out_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    path = Path(out_dir) / DETAILS_FILE
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line
    return rows


def render_summary(out_dir: str | os.PathLike[str]) -> str:
    """Markdown: every returned cell with its benchmark score and cost, the per-method means next to the baselines
    at the same simulated cost, and the supernets' rank correlation."""
    out = Path(out_dir)
    config = json.loads((out / CONFIG_FILE).read_text())
    details = read_details(out)
    runs = read_runs(out)
    meta = config["oneshot"]
    net = meta["network"]
    lines = [
        "# Weight-sharing methods",
        "",
        f"Store `{config['benchmark']['store']}` ({config['benchmark']['dataset']}); supernet C={net['channels']}, "
        f"N={net['cells_per_stage']}, {net['resolution']}px, trained on {meta['device']} "
        f"({meta['torch_threads']} torch thread(s)). Score: {config['protocol']['score_metric']} at epoch "
        f"{config['protocol']['score_epoch']} of the benchmark.",
        "",
        "## Returned cells",
        "",
        "| method | seed | cell | param-free edges | epochs | cost (s) | bench score (%) | source | tau val "
        "| tau test |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def fmt(v: Any, digits: int = 3) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"

    for d in details:
        r = d.get("ranking") or {}
        lines.append(
            f"| {d['label']} | {d['seed']} | `{d['arch']}` | {d['parameter_free_edges']}/6 | {d['epochs']} | "
            f"{d['search_time_s']:.1f} | {100 * d['bench_score']:.2f} | {d['source']} | "
            f"{fmt(r.get('kendall_tau_val'))} | {fmt(r.get('kendall_tau_test'))} |"
        )
    from nasbench.analysis.curves import step_values

    oneshot_labels = [m["label"] for m in meta["methods"]]
    baselines = [s["label"] for s in config["strategies"] if s["label"] not in oneshot_labels]
    by_label = {s["label"]: [t for t in runs if t.strategy == s["label"]] for s in config["strategies"]}

    def at(label: str, cost: float) -> str:
        """A baseline's mean incumbent score (%) at simulated time ``cost`` ('-' before its first result)."""
        values = [step_values(t.finished_s, t.incumbent_score, np.array([cost]))[0] for t in by_label[label]]
        values = [v for v in values if np.isfinite(v)]
        if len(values) < len(by_label[label]) or not values:
            return "-"
        return f"{100 * float(np.mean(values)):.2f}"

    lines += [
        "",
        "## Mean over seeds",
        "",
        "Baselines ran on the simulated clock up to the largest one-shot cost; each one-shot row gives their mean "
        "incumbent score at that method's own mean cost (a baseline row: at its end).",
        "",
        "| strategy | runs | score mean (%) | std | cost mean (s) | evaluations | mean Kendall tau (val) | "
        + " | ".join(f"{b} at this cost (%)" for b in baselines)
        + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(baselines),
    ]
    taus: dict[str, list[float]] = {}
    for d in details:
        t = (d.get("ranking") or {}).get("kendall_tau_val")
        if t is not None:
            taus.setdefault(d["label"], []).append(t)
    for spec in config["strategies"]:
        mine = by_label[spec["label"]]
        if not mine:
            continue
        scores = np.array([t.incumbent_score[-1] if t.incumbent_score else np.nan for t in mine]) * 100
        costs = np.array([t.finished_s[-1] if t.finished_s else 0.0 for t in mine])
        evals = np.mean([len(t.arch) for t in mine])
        std = float(np.nanstd(scores, ddof=1)) if len(scores) > 1 else 0.0
        tau = taus.get(spec["label"])
        same_cost = [
            at(b, float(costs.mean())) if spec["label"] in oneshot_labels and by_label[b] else "" for b in baselines
        ]
        lines.append(
            f"| {spec['label']} | {len(mine)} | {np.nanmean(scores):.2f} | {std:.2f} | {costs.mean():.1f} | "
            f"{evals:.1f} | {fmt(float(np.mean(tau))) if tau else '-'} | "
            + " | ".join(same_cost)
            + (" |" if baselines else "")
        )
    opt = config.get("optimum")
    if opt:
        lines += ["", f"Best cell of the table: {100 * opt['score']:.2f}%."]
    return "\n".join(lines) + "\n"
