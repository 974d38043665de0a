"""Build a benchmark store by training architectures x seeds; resumable, parallel, optionally on Ray.

Resumability: every finished training is appended, by the driver process only, as one JSON line to
``<out>.work/journal.jsonl`` and fsync'd before anything else happens. A rerun of the same build reads the
journal, drops a torn last line (a kill -9 during the write), and trains only what is missing; the store is
written (atomically) from the journal, keeping the first entry of each (arch, seed). So a build killed at any
moment and run again ends with every result exactly once. ``<out>.work/plan.json`` pins dataset and recipe: a
rerun with another recipe is refused rather than mixing unlike results. The architecture list and seeds may
grow between runs (a stratified order's prefix is a sample, so asking for more extends the same sample).

Completeness: an architecture enters the store only when all its seeds are done, so every stored mean is over
the same seeds. Jobs run arch-major (all seeds of one arch, then the next), so a time budget leaves at most a
few architectures incomplete; their finished seeds stay in the journal for the next run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__, owned
from nasbench.atomic import atomic_write_text
from nasbench.errors import NasbenchError, RecipeError, StoreError
from nasbench.spaces.nb201 import NB201Space
from nasbench.store import StoreData, write_store
from nasbench.store.format import check_replaceable
from nasbench.train.recipe import Recipe

log = logging.getLogger(__name__)

BACKENDS = ("local", "ray")
WORK_KIND = "build"  # the kind of the work folder in its ownership marker
Arch = tuple[int, ...]
Job = tuple[Arch, int]


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides what a build trains and how."""

    out: Path
    dataset: str
    recipe: Recipe
    archs: tuple[Arch, ...]
    seeds: tuple[int, ...]
    data_dir: str | None = None
    download: bool = False
    selection: dict[str, Any] = field(default_factory=dict)
    workers: int = 1
    backend: str = "local"
    device: str = "cpu"
    threads_per_worker: int = 1
    time_budget_s: float | None = None
    ray_address: str | None = None
    gpus_per_task: float = 1.0
    overwrite: bool = False

    @property
    def work_dir(self) -> Path:
        return self.out.with_name(self.out.name + ".work")


@dataclass(frozen=True)
class BuildSummary:
    out: Path | None
    trained_now: int
    journaled: int
    stored_archs: int
    planned_archs: int
    complete: bool
    elapsed_s: float


# ---- the job a worker runs ------------------------------------------------------------------------------------


def _init_worker(threads: int) -> None:
    import torch

    from nasbench.workers import watch_parent

    watch_parent()
    torch.set_num_threads(threads)


def run_job(
    dataset: str,
    data_dir: str | None,
    recipe_dict: dict[str, Any],
    arch: Sequence[int],
    seed: int,
    device: str,
    threads: int,
) -> dict[str, Any]:
    """Train one (arch, seed); returns a JSON-able journal entry. Top-level, so it pickles to any worker."""
    from nasbench.train.data import load_splits
    from nasbench.train.trainer import train

    recipe = Recipe.from_dict(recipe_dict)
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    splits = load_splits(
        dataset,
        path=data_dir,
        resolution=recipe.resolution,
        train_size=recipe.train_size,
        val_size=recipe.val_size,
        test_size=recipe.test_size,
        split_seed=recipe.split_seed,
    )
    cpu = time.process_time()
    result = train(arch, recipe, splits, seed=seed, device=device, threads=threads)
    entry = result.to_json()
    entry["cpu_s"] = time.process_time() - cpu
    entry["pid"] = os.getpid()
    return entry


# ---- journal ----------------------------------------------------------------------------------------------------


class Journal:
    """Append-only JSON lines, one per finished training, fsync'd; tolerant of a torn last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[Job, dict[str, Any]] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        raw = self.path.read_bytes()
        end = raw.rfind(b"\n") + 1
        if end < len(raw):  # a kill during the last write left a partial line: cut it off before appending
            log.warning("dropping a torn last line of %s (%d bytes)", self.path, len(raw) - end)
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        for number, line in enumerate(raw[:end].splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key = (tuple(int(a) for a in entry["arch"]), int(entry["seed"]))
            except (ValueError, KeyError, TypeError) as exc:
                msg = f"{self.path} line {number} is not a journal entry ({exc}); remove that line"
                raise StoreError(msg) from None
            self.entries.setdefault(key, entry)  # first entry wins: each result exactly once

    def append(self, entry: dict[str, Any]) -> None:
        key = (tuple(int(a) for a in entry["arch"]), int(entry["seed"]))
        if key in self.entries:
            return
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.entries[key] = entry


# ---- the build ----------------------------------------------------------------------------------------------------


def build(config: BuildConfig, *, on_result: Callable[[int, int], None] | None = None) -> BuildSummary:
    """Train what the journal lacks, then write the store from the journal. ``on_result(done, total)`` is called
    after each finished training (the CLI draws a progress bar with it)."""
    start = time.perf_counter()
    _check_config(config)
    # a store written by an earlier run of this same build (its work folder is there) is replaced by the rerun
    if config.out.exists() or config.out.is_symlink():
        if config.overwrite:
            check_replaceable(config.out)
        elif not (config.work_dir / "plan.json").exists():
            raise StoreError(f"{config.out} already exists; pass --overwrite to replace it")
    data_info = _data_info(config)
    owned.claim(config.work_dir, WORK_KIND, adopt=("plan.json", ("plan.json", "journal.jsonl")))
    with owned.lock(config.work_dir):
        if config.overwrite:
            owned.clear(config.work_dir)  # --overwrite starts the build over: its journal goes too
        owned.record(config.work_dir, "plan.json", "journal.jsonl")
        _pin_plan(config, data_info)
        return _train_and_write(config, data_info, start, on_result)


def _train_and_write(
    config: BuildConfig, data_info: dict[str, Any], start: float, on_result: Callable[[int, int], None] | None
) -> BuildSummary:
    journal = Journal(config.work_dir / "journal.jsonl")
    jobs = [(a, s) for a in config.archs for s in config.seeds]  # arch-major: a cut leaves few archs incomplete
    todo = [j for j in jobs if j not in journal.entries]
    done0 = len(jobs) - len(todo)
    log.info("%d trainings planned, %d already journaled, %d to run", len(jobs), done0, len(todo))
    if on_result is not None:
        on_result(done0, len(jobs))
    deadline = None if config.time_budget_s is None else start + config.time_budget_s
    counter = {"n": 0}

    def record(entry: dict[str, Any]) -> None:
        journal.append(entry)
        counter["n"] += 1
        if on_result is not None:
            on_result(done0 + counter["n"], len(jobs))

    if todo:
        run = _run_ray if config.backend == "ray" else _run_local
        run(config, todo, record, deadline)
    summary_out, stored = _write(config, journal, data_info)
    planned = len(config.archs)
    return BuildSummary(
        out=summary_out,
        trained_now=counter["n"],
        journaled=len(journal.entries),
        stored_archs=stored,
        planned_archs=planned,
        complete=stored == planned,
        elapsed_s=time.perf_counter() - start,
    )


def _check_config(config: BuildConfig) -> None:
    if config.backend not in BACKENDS:
        raise NasbenchError(f"unknown backend {config.backend!r}; allowed: {', '.join(BACKENDS)}")
    if config.workers < 1 or config.threads_per_worker < 1:
        raise NasbenchError("--workers and threads per worker must be >= 1")
    if not config.archs or not config.seeds:
        raise NasbenchError("a build needs at least one architecture and one seed")
    if len(set(config.seeds)) != len(config.seeds):
        raise NasbenchError(f"seeds must be distinct, got {list(config.seeds)}")
    if config.time_budget_s is not None and config.time_budget_s < 0:
        raise NasbenchError(f"--time-budget must be >= 0 seconds, got {config.time_budget_s}")
    space = NB201Space()
    for arch in config.archs:
        space.validate(arch)
    from nasbench.train.data import check_augmentation

    check_augmentation(config.dataset, config.recipe.augmentation)  # before any worker starts


def _data_info(config: BuildConfig) -> dict[str, Any]:
    """Load the data once in the driver: a missing dataset fails before any worker starts, and the split record
    goes into the store's protocol."""
    from nasbench.train.data import load_splits

    r = config.recipe
    splits = load_splits(
        config.dataset,
        path=config.data_dir,
        resolution=r.resolution,
        train_size=r.train_size,
        val_size=r.val_size,
        test_size=r.test_size,
        split_seed=r.split_seed,
        download=config.download,
    )
    return splits.info


def _pin_plan(config: BuildConfig, data_info: dict[str, Any]) -> None:
    """Pin what the build trains; a rerun may resume it or add architectures, never change or drop any."""
    space = NB201Space()
    archs = [space.to_str(a) for a in config.archs]
    plan = {
        "dataset": config.dataset,
        "recipe": config.recipe.to_dict(),
        "data": data_info,
        "seeds": list(config.seeds),
        "archs": archs,
        "selection": config.selection,
    }
    path = config.work_dir / "plan.json"
    if path.exists():
        old = json.loads(path.read_text())
        old_recipe = Recipe.from_dict(old["recipe"])
        diff = old_recipe.differences(config.recipe)
        if old["dataset"] != config.dataset or diff or old.get("data") != data_info:
            raise RecipeError(
                f"{config.work_dir} holds results of another build (dataset {old['dataset']}, recipe differences "
                f"{diff or 'none'}, data {'same' if old.get('data') == data_info else 'different'}); "
                "use another --out, or --overwrite to start over"
            )
        old_archs, old_seeds = old.get("archs", archs), old.get("seeds", list(config.seeds))
        if old_archs == archs and old_seeds == list(config.seeds):
            return  # the same build: resume it
        journal = config.work_dir / "journal.jsonl"
        dropped = set(old_archs) - set(archs) or set(old_seeds) - set(config.seeds)
        if dropped and journal.is_file() and journal.stat().st_size:
            raise RecipeError(
                f"{config.work_dir} holds a build of {len(old_archs)} architectures x seeds {old_seeds} "
                f"(selection {old.get('selection')}); this one asks {len(archs)} x seeds {list(config.seeds)} "
                f"(selection {config.selection}), without {len(dropped)} of its architectures or seeds. A rerun may "
                "only add architectures or seeds: use another --out, or --overwrite to start over"
            )
    atomic_write_text(path, json.dumps(plan, indent=2, sort_keys=True))


def _pending_limit(workers: int) -> int:
    return 2 * workers  # enough to keep workers busy; few enough that a time budget stops promptly


def _run_local(
    config: BuildConfig, todo: list[Job], record: Callable[[dict[str, Any]], None], deadline: float | None
) -> None:
    args = (config.dataset, config.data_dir, config.recipe.to_dict())
    if config.workers == 1:
        for arch, seed in todo:
            if deadline is not None and time.perf_counter() >= deadline:
                log.info("time budget reached; not starting more trainings")
                return
            record(run_job(*args, arch, seed, config.device, config.threads_per_worker))
        return
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")  # no forked torch/OpenMP state; the same start on every platform
    queue = list(reversed(todo))
    with ProcessPoolExecutor(
        config.workers, mp_context=ctx, initializer=_init_worker, initargs=(config.threads_per_worker,)
    ) as pool:
        pending: set[Any] = set()
        while queue or pending:
            while queue and len(pending) < _pending_limit(config.workers):
                if deadline is not None and time.perf_counter() >= deadline:
                    log.info("time budget reached; waiting for %d running trainings", len(pending))
                    queue.clear()
                    break
                arch, seed = queue.pop()
                pending.add(pool.submit(run_job, *args, arch, seed, config.device, config.threads_per_worker))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                record(future.result())


def _run_ray(
    config: BuildConfig, todo: list[Job], record: Callable[[dict[str, Any]], None], deadline: float | None
) -> None:
    try:
        import ray
    except ImportError:
        raise NasbenchError(
            "--backend ray needs the ray package: pip install 'nasbench[ray]' (or pip install ray)"
        ) from None
    if not ray.is_initialized():
        ray.init(address=config.ray_address, ignore_reinit_error=True, log_to_driver=False)
    gpus = ray.cluster_resources().get("GPU", 0)
    device = ("cuda" if gpus > 0 else "cpu") if config.device == "auto" else config.device
    # each task asks for (a share of) a GPU when it trains on one; several small trainings can share a GPU
    num_gpus = config.gpus_per_task if device == "cuda" else 0
    remote = ray.remote(num_cpus=config.threads_per_worker, num_gpus=num_gpus, max_retries=2)(run_job)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    limit = max(_pending_limit(config.workers), 2 * cpus)
    args = (config.dataset, config.data_dir, config.recipe.to_dict())
    queue = list(reversed(todo))
    pending: list[Any] = []
    while queue or pending:
        while queue and len(pending) < limit:
            if deadline is not None and time.perf_counter() >= deadline:
                log.info("time budget reached; waiting for %d running trainings", len(pending))
                queue.clear()
                break
            arch, seed = queue.pop()
            pending.append(remote.remote(*args, list(arch), seed, device, config.threads_per_worker))
        if not pending:
            break
        finished, pending = ray.wait(pending, num_returns=1)
        for ref in finished:
            record(ray.get(ref))


def _write(config: BuildConfig, journal: Journal, data_info: dict[str, Any]) -> tuple[Path | None, int]:
    space = NB201Space()
    seeds = config.seeds
    complete = [a for a in dict.fromkeys(config.archs) if all((a, s) in journal.entries for s in seeds)]
    if not complete:
        log.warning("no architecture has all its seeds yet; no store written (the journal keeps what is done)")
        return None, 0
    complete.sort(key=space.index)
    epochs = config.recipe.epochs
    from nasbench.train.trainer import CURVES

    metrics = {name: np.full((len(complete), len(seeds), epochs), np.nan, dtype=np.float32) for name in CURVES}
    params = np.empty(len(complete), dtype=np.float32)
    flops = np.empty(len(complete), dtype=np.float32)
    cpu_s = []
    devices: set[str] = set()
    for i, arch in enumerate(complete):
        for j, seed in enumerate(seeds):
            entry = journal.entries[(arch, seed)]
            for name in CURVES:
                values = entry["curves"][name]
                if len(values) != epochs:
                    raise StoreError(f"journal entry {arch} seed {seed} has {len(values)} epochs, expected {epochs}")
                metrics[name][i, j] = values
            cpu_s.append(float(entry.get("cpu_s", np.nan)))
            devices.add(str(entry.get("device", "cpu")))
        params[i] = entry["params"] / 1e6
        flops[i] = entry["flops"] / 1e6
    iso_shared = all(space.canonical(a) == a for a in complete)
    protocol = {
        "recipe": config.recipe.to_dict(),
        "data": data_info,
        "selection": config.selection,
        "device": sorted(devices),  # where the trainings ran (cuda runs use bf16 autocast)
        "trainer": "nasbench.train.trainer",
        "complete_seeds_only": True,
    }
    provenance = {
        "maker": "nasbench build",
        "nasbench_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "planned_archs": len(config.archs),
        "stored_archs": len(complete),
        "trainings": len(complete) * len(seeds),
        "mean_cpu_s_per_training": float(np.nanmean(cpu_s)) if cpu_s else None,
        "backend": config.backend,
        "workers": config.workers,
    }
    data = StoreData(
        space="nb201",
        dataset=config.dataset,
        protocol=protocol,
        seeds=tuple(seeds),
        epochs=tuple(range(1, epochs + 1)),
        archs=np.array(complete, dtype=np.int8),
        metrics=metrics,
        static={"params_m": params, "flops_m": flops},
        provenance=provenance,
        iso_shared=iso_shared,
    )
    write_store(config.out, data, overwrite=True)  # build() checked that replacing it is wanted and safe
    return config.out, len(complete)
