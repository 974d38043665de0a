"""Import the official NATS-Bench "simple" directory of the topology space (= NAS-Bench-201).

The directory (``NATS-tss-v1_0-3ffb9-simple/``) holds ``meta.pickle.pbz2`` and one ``NNNNNN.pickle.pbz2`` per
architecture, bz2-compressed pickles. Pickles can run arbitrary code, so they are read by :mod:`safe_pickle`:
only the few globals these files use (ordered dicts, numpy scalars of plain numeric dtypes), anything else is
:class:`UnsafePickle`; decompressed size and the epochs a record claims are bounded.

Mapping into the store (one store per dataset and ``hp``, the training length: 12 or 200 epochs):

- epoch ``e`` of the store is the official per-epoch key ``e - 1`` (the official keys count from 0);
- ``train_acc``/``train_loss`` from ``train_acc1es``/``train_losses``; ``train_time_s`` is the cumulative sum of
  the per-epoch ``train_times``;
- ``val_*`` from the ``x-valid`` evaluation; ``test_*`` from ``x-test`` when the dataset has it (cifar100,
  ImageNet16-120; ``test_split="ori-test"`` takes the whole original test set instead, the only one with per-epoch
  values at hp 200), else from ``ori-test`` (cifar10-valid, cifar10). cifar10 has no validation split: NaN;
  an epoch the file does not hold is NaN;
- ``params_m``, ``flops_m`` (millions, as published) and ``latency_s`` as static figures.
"""

from __future__ import annotations

import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, cast

import numpy as np

from nasbench import __version__
from nasbench.errors import InvalidArchitecture, StoreError
from nasbench.spaces import NB201Space, get_space
from nasbench.store import safe_pickle
from nasbench.store.format import StoreData
from nasbench.store.untrusted import read_bounded

log = logging.getLogger(__name__)

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
HPS = ("12", "200")
_ARCH_FILE = re.compile(r"^(\d{6})\.pickle\.pbz2$")


#: The globals of the NATS-Bench files: ordered dicts, and numpy scalars of plain numeric dtypes (checked).
_ALLOWED: dict[tuple[str, str], object] = {
    ("collections", "OrderedDict"): OrderedDict,
    **{key: value for key, value in safe_pickle.NUMPY_GLOBALS.items() if key[1] in ("dtype", "scalar")},
}
#: Bounds on what one file may claim: the official files decompress to at most 1.4 MB, and train 200 epochs.
MAX_COMPRESSED = 16 << 20
MAX_DECOMPRESSED = 64 << 20
MAX_EPOCHS = 10_000


def load_pickle_bz2(path: str | os.PathLike[str], *, max_bytes: int = MAX_DECOMPRESSED) -> Any:
    """The plain object of one bz2-compressed NATS-Bench pickle, read without trusting it (see safe_pickle)."""
    path = Path(path)
    try:
        data = safe_pickle.bunzip2_bounded(read_bounded(path, MAX_COMPRESSED, "NATS-Bench file"), max_bytes)
        return safe_pickle.load(data, _ALLOWED, "a NATS-Bench file")
    except StoreError as exc:  # UnsafePickle included
        raise type(exc)(f"{path}: {exc}") from None


def arch_files(directory: Path) -> Iterator[tuple[int, Path]]:
    for entry in sorted(directory.iterdir()):
        match = _ARCH_FILE.match(entry.name)
        if match:
            yield int(match[1]), entry


_NAMES = ("train_acc", "val_acc", "test_acc", "train_loss", "val_loss", "test_loss", "train_time_s")
TEST_SPLITS = ("x-test", "ori-test")
# Below this many files a process pool costs more than it saves.
_POOL_MIN_FILES = 64


def import_nats(
    directory: str | os.PathLike[str],
    *,
    dataset: str = "cifar10-valid",
    hp: str = "200",
    test_split: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StoreData:
    """Read a NATS-Bench topology "simple" directory into :class:`StoreData` for one dataset and ``hp``.

    ``test_split`` picks the evaluation that becomes ``test_*`` for cifar100 and ImageNet16-120: ``x-test`` (the
    default, the official test half) or ``ori-test`` (the whole original test set; at hp 200 the simple files keep
    per-epoch curves only for this one, ``x-valid``/``x-test`` only after the last epoch). ``workers`` processes
    decode the files in parallel (default: all cores); each file is reduced to float32 arrays as soon as it is
    read, so the full 15,625-file directory needs about 0.3 GB per 200-epoch dataset, not the pickles' size.
    """
    directory = Path(directory)
    if dataset not in DATASETS:
        raise StoreError(f"unknown NATS-Bench dataset {dataset!r}; known: {', '.join(DATASETS)}")
    hp = str(hp)
    if hp not in HPS:
        raise StoreError(f"unknown NATS-Bench hp {hp!r}: the training length, one of {', '.join(HPS)}")
    test = _test_split_name(dataset, test_split)
    if not directory.is_dir():
        raise StoreError(f"no NATS-Bench directory at {directory}")
    if not (directory / "meta.pickle.pbz2").is_file():
        raise StoreError(f"{directory} is not a NATS-Bench simple directory: it has no meta.pickle.pbz2")
    meta = load_pickle_bz2(directory / "meta.pickle.pbz2")
    meta_archs = meta.get("meta_archs") if isinstance(meta, dict) else None
    if not isinstance(meta_archs, list):
        raise StoreError(f"{directory}/meta.pickle.pbz2 has no 'meta_archs' list")
    space = cast(NB201Space, get_space("nb201"))  # the "nb201" entry of the registry is an NB201Space
    files = list(arch_files(directory))
    if not files:
        raise StoreError(f"{directory} holds no NNNNNN.pickle.pbz2 architecture files")
    jobs = []
    arch_of: dict[int, tuple[int, ...]] = {}
    for index, path in files:
        if index >= len(meta_archs):
            raise StoreError(f"{path}: index {index} is beyond meta_archs ({len(meta_archs)} entries)")
        try:
            arch_of[index] = space.from_str(meta_archs[index])
        except (InvalidArchitecture, TypeError) as exc:
            raise StoreError(
                f"{directory} is not the topology space (NATS-tss, = NAS-Bench-201): {exc}; "
                "only the topology space can be imported"
            ) from None
        jobs.append((path, index, meta_archs[index], dataset, hp, test))

    records = list(_read_all(jobs, workers, progress))
    epochs_seen = {r.curves.shape[2] for r in records if r.seeds}
    if len(epochs_seen) > 1:
        raise StoreError(f"{directory}: runs of hp {hp} have different lengths {sorted(epochs_seen)}")
    if not epochs_seen:
        raise StoreError(f"{directory}: no results for dataset {dataset!r} at hp {hp}")
    n_epochs = epochs_seen.pop()
    seeds = sorted({s for r in records for s in r.seeds})
    order = np.argsort(space.indices([arch_of[r.official_index] for r in records]), kind="stable")

    n = len(records)
    metrics = {name: np.full((n, len(seeds), n_epochs), np.nan, dtype=np.float32) for name in _NAMES}
    static = {name: np.full(n, np.nan, dtype=np.float32) for name in ("params_m", "flops_m", "latency_s")}
    static["official_index"] = np.zeros(n, dtype=np.float32)
    archs = np.zeros((n, space.num_edges), dtype=np.int8)
    for row, i in enumerate(order.tolist()):
        rec, records[i] = records[i], None  # type: ignore[call-overload]  # free each record once copied
        archs[row] = arch_of[rec.official_index]
        static["official_index"][row] = rec.official_index
        for name, value in zip(("params_m", "flops_m", "latency_s"), rec.static, strict=True):
            static[name][row] = value
        cols = [seeds.index(s) for s in rec.seeds]
        for m, name in enumerate(_NAMES):
            metrics[name][row, cols] = rec.curves[:, m]
    return StoreData(
        space="nb201",
        dataset=dataset,
        protocol={
            "source": "NATS-Bench topology search space (NAS-Bench-201)",
            "hp": hp,
            "epochs": n_epochs,
            "val_split": "x-valid",
            "test_split": test,
            "recipe": "SGD Nesterov 0.9, lr 0.1 cosine, wd 5e-4, batch 256, C=16, N=5 (NAS-Bench-201 paper)",
        },
        seeds=tuple(seeds),
        epochs=tuple(range(1, n_epochs + 1)),
        archs=archs,
        metrics={k: v for k, v in metrics.items() if np.isfinite(v).any()},
        static=static,
        provenance={"importer": "nats", "source": directory.name, "files": len(files), "nasbench_version": __version__},
    ).validate()


class _Record(NamedTuple):
    """One architecture file reduced to arrays: curves (seeds, metrics in _NAMES order, epochs) float32."""

    official_index: int  # not `index`, which would shadow tuple.index
    seeds: tuple[int, ...]
    curves: np.ndarray
    static: tuple[float, float, float]  # params_m, flops_m, latency_s


def _read_all(
    jobs: list[tuple[Path, int, str, str, str, str]], workers: int | None, progress: Callable[[int, int], None] | None
) -> Iterator[_Record]:
    workers = workers if workers is not None else min(os.cpu_count() or 1, 16)
    if workers <= 1 or len(jobs) < _POOL_MIN_FILES:
        results: Iterator[_Record] = map(_read_arch_file, jobs)
        pool = None
    else:
        from concurrent.futures import ProcessPoolExecutor

        from nasbench.workers import watch_parent

        pool = ProcessPoolExecutor(max_workers=workers, initializer=watch_parent)
        results = pool.map(_read_arch_file, jobs, chunksize=32)
    try:
        for done, record in enumerate(results, start=1):
            if progress is not None:
                progress(done, len(jobs))
            yield record
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _read_arch_file(job: tuple[Path, int, str, str, str, str]) -> _Record:
    try:
        return _read_record(*job)
    except StoreError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:  # a malformed, harmless record
        raise StoreError(f"{job[0]} is not a NATS-Bench record: {type(exc).__name__}: {exc}") from None


def _read_record(path: Path, index: int, arch_str: str, dataset: str, hp: str, test: str) -> _Record:
    content = load_pickle_bz2(path)
    info = content.get(hp) if isinstance(content, dict) else None
    if info is None:
        available = sorted(content) if isinstance(content, dict) else []
        raise StoreError(f"{path} has no results for hp {hp!r}; it has: {available}")
    if info.get("arch_str") != arch_str or info.get("arch_index") != index:
        raise StoreError(f"{path}: arch_index/arch_str disagree with the file name and meta_archs")
    by_seed = sorted((int(seed), rec) for (ds, seed), rec in info["all_results"].items() if ds == dataset)
    if not by_seed:
        return _Record(index, (), np.zeros((0, len(_NAMES), 0), dtype=np.float32), (np.nan, np.nan, np.nan))
    lengths = {rec["epochs"] for _, rec in by_seed}
    if len(lengths) > 1:
        raise StoreError(f"{path}: runs of hp {hp} have different lengths {sorted(lengths)}")
    n_epochs = lengths.pop()
    if type(n_epochs) is not int or not 0 < n_epochs <= MAX_EPOCHS:
        raise StoreError(f"{path}: a run claims {n_epochs!r} epochs; runs last 1..{MAX_EPOCHS:,} (an int)")
    curves = np.stack([_curves(rec, n_epochs, test) for _, rec in by_seed]).astype(np.float32)
    rec = by_seed[0][1]
    latency = float(np.mean(rec["latency"])) if rec.get("latency") else np.nan
    return _Record(index, tuple(s for s, _ in by_seed), curves, (float(rec["params"]), float(rec["flop"]), latency))


def _test_split_name(dataset: str, test_split: str | None = None) -> str:
    if dataset not in ("cifar100", "ImageNet16-120"):
        if test_split not in (None, "ori-test"):
            raise StoreError(f"{dataset} has only the ori-test evaluation; test_split {test_split!r} is not available")
        return "ori-test"
    if test_split is None:
        return "x-test"
    if test_split not in TEST_SPLITS:
        raise StoreError(f"unknown test split {test_split!r}; one of {', '.join(TEST_SPLITS)}")
    return test_split


def _curves(rec: dict[str, Any], n_epochs: int, test: str) -> np.ndarray:
    """(metrics in _NAMES order, epochs) of one official run record (index e-1 = after e epochs), accuracies as
    fractions, train_time_s cumulative."""

    def series(mapping: dict[Any, Any] | None, key: Callable[[int], Any], scale: float = 1.0) -> np.ndarray:
        out = np.full(n_epochs, np.nan)
        if mapping:
            for i in range(n_epochs):
                value = mapping.get(key(i))
                if value is not None:
                    out[i] = float(value) * scale
        return out

    eval_acc, eval_loss = rec.get("eval_acc1es") or {}, rec.get("eval_losses") or {}
    curves = {
        "train_acc": series(rec.get("train_acc1es"), lambda i: i, 0.01),
        "train_loss": series(rec.get("train_losses"), lambda i: i),
        "train_time_s": np.cumsum(series(rec.get("train_times"), lambda i: i)),
        "val_acc": series(eval_acc, lambda i: f"x-valid@{i}", 0.01),
        "val_loss": series(eval_loss, lambda i: f"x-valid@{i}"),
        "test_acc": series(eval_acc, lambda i: f"{test}@{i}", 0.01),
        "test_loss": series(eval_loss, lambda i: f"{test}@{i}"),
    }
    return np.stack([curves[name] for name in _NAMES])
