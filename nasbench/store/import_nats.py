"""Import the official NATS-Bench "simple" directory of the topology space (= NAS-Bench-201).

The directory (``NATS-tss-v1_0-3ffb9-simple/``) holds ``meta.pickle.pbz2`` and one ``NNNNNN.pickle.pbz2`` per
architecture, bz2-compressed pickles. Pickles can run arbitrary code, so they are read with an unpickler that
allows only the few globals these files use and refuses anything else with :class:`UnsafePickle`.

Mapping into the store (one store per dataset and ``hp``, the training length: 12 or 200 epochs):

- epoch ``e`` of the store is the official per-epoch key ``e - 1`` (the official keys count from 0);
- ``train_acc``/``train_loss`` from ``train_acc1es``/``train_losses``; ``train_time_s`` is the cumulative sum of
  the per-epoch ``train_times``;
- ``val_*`` from the ``x-valid`` evaluation; ``test_*`` from ``x-test`` when the dataset has it (cifar100,
  ImageNet16-120), else from ``ori-test`` (cifar10-valid, cifar10). cifar10 has no validation split: NaN;
- ``params_m``, ``flops_m`` (millions, as published) and ``latency_s`` as static figures.
"""

from __future__ import annotations

import bz2
import logging
import os
import pickle
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__
from nasbench.errors import InvalidArchitecture, StoreError, UnsafePickle
from nasbench.spaces import get_space
from nasbench.store.format import StoreData

log = logging.getLogger(__name__)

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
HPS = ("12", "200")
_ARCH_FILE = re.compile(r"^(\d{6})\.pickle\.pbz2$")


def _numpy_scalar() -> Callable[..., Any]:
    core = getattr(np, "_core", None) or np.core  # numpy >= 2 moved numpy.core to numpy._core
    return core.multiarray.scalar  # type: ignore[no-any-return]


_ALLOWED: dict[tuple[str, str], Callable[[], Any]] = {
    ("collections", "OrderedDict"): lambda: __import__("collections").OrderedDict,
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of the NATS-Bench files; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]()
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED)
            raise UnsafePickle(
                f"refusing to unpickle global {module}.{name}: only these are allowed: {allowed}"
            ) from None


def load_pickle_bz2(path: str | os.PathLike[str]) -> Any:
    try:
        with bz2.open(path, "rb") as f:
            return RestrictedUnpickler(f).load()
    except UnsafePickle as exc:
        raise UnsafePickle(f"{path}: {exc}") from None
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise StoreError(f"{path} is not a readable bz2 pickle: {exc}") from None


def arch_files(directory: Path) -> Iterator[tuple[int, Path]]:
    for entry in sorted(directory.iterdir()):
        match = _ARCH_FILE.match(entry.name)
        if match:
            yield int(match[1]), entry


def import_nats(
    directory: str | os.PathLike[str],
    *,
    dataset: str = "cifar10-valid",
    hp: str = "200",
    progress: Callable[[int, int], None] | None = None,
) -> StoreData:
    """Read a NATS-Bench topology "simple" directory into :class:`StoreData` for one dataset and ``hp``."""
    directory = Path(directory)
    if dataset not in DATASETS:
        raise StoreError(f"unknown NATS-Bench dataset {dataset!r}; known: {', '.join(DATASETS)}")
    hp = str(hp)
    if hp not in HPS:
        raise StoreError(f"unknown NATS-Bench hp {hp!r}: the training length, one of {', '.join(HPS)}")
    if not (directory / "meta.pickle.pbz2").is_file():
        raise StoreError(f"{directory} is not a NATS-Bench simple directory: it has no meta.pickle.pbz2")
    meta = load_pickle_bz2(directory / "meta.pickle.pbz2")
    meta_archs = meta.get("meta_archs") if isinstance(meta, dict) else None
    if not isinstance(meta_archs, list):
        raise StoreError(f"{directory}/meta.pickle.pbz2 has no 'meta_archs' list")
    space = get_space("nb201")
    files = list(arch_files(directory))
    if not files:
        raise StoreError(f"{directory} holds no NNNNNN.pickle.pbz2 architecture files")

    records: list[tuple[tuple[int, ...], int, dict[int, dict[str, Any]]]] = []  # (arch, official index, seed->rec)
    epochs_seen: set[int] = set()
    for done, (index, path) in enumerate(files, start=1):
        if index >= len(meta_archs):
            raise StoreError(f"{path}: index {index} is beyond meta_archs ({len(meta_archs)} entries)")
        try:
            arch = space.from_str(meta_archs[index])
        except InvalidArchitecture as exc:
            raise StoreError(
                f"{directory} is not the topology space (NATS-tss, = NAS-Bench-201): {exc}; "
                "only the topology space can be imported"
            ) from None
        content = load_pickle_bz2(path)
        info = content.get(hp) if isinstance(content, dict) else None
        if info is None:
            available = sorted(content) if isinstance(content, dict) else []
            raise StoreError(f"{path} has no results for hp {hp!r}; it has: {available}")
        if info.get("arch_str") != meta_archs[index] or info.get("arch_index") != index:
            raise StoreError(f"{path}: arch_index/arch_str disagree with the file name and meta_archs")
        by_seed = {int(seed): rec for (ds, seed), rec in info["all_results"].items() if ds == dataset}
        for rec in by_seed.values():
            epochs_seen.add(int(rec["epochs"]))
        records.append((arch, index, by_seed))
        if progress is not None:
            progress(done, len(files))
    if len(epochs_seen) > 1:
        raise StoreError(f"{directory}: runs of hp {hp} have different lengths {sorted(epochs_seen)}")
    if not epochs_seen:
        raise StoreError(f"{directory}: no results for dataset {dataset!r} at hp {hp}")
    n_epochs = epochs_seen.pop()
    seeds = sorted({s for _, _, by_seed in records for s in by_seed})
    records.sort(key=lambda r: space.index(r[0]))

    shape = (len(records), len(seeds), n_epochs)
    names = ("train_acc", "val_acc", "test_acc", "train_loss", "val_loss", "test_loss", "train_time_s")
    metrics = {name: np.full(shape, np.nan, dtype=np.float32) for name in names}
    static = {name: np.full(len(records), np.nan, dtype=np.float32) for name in ("params_m", "flops_m", "latency_s")}
    official_index = np.zeros(len(records), dtype=np.float32)
    for row, (_, index, by_seed) in enumerate(records):
        official_index[row] = index
        for seed, rec in by_seed.items():
            for name, curve in _curves(rec, n_epochs).items():
                metrics[name][row, seeds.index(seed)] = curve
            static["params_m"][row] = float(rec["params"])
            static["flops_m"][row] = float(rec["flop"])
            static["latency_s"][row] = float(np.mean(rec["latency"])) if rec.get("latency") else np.nan
    static["official_index"] = official_index
    return StoreData(
        space="nb201",
        dataset=dataset,
        protocol={
            "source": "NATS-Bench topology search space (NAS-Bench-201)",
            "hp": hp,
            "epochs": n_epochs,
            "val_split": "x-valid",
            "test_split": _test_split_name(dataset),
            "recipe": "SGD Nesterov 0.9, lr 0.1 cosine, wd 5e-4, batch 256, C=16, N=5 (NAS-Bench-201 paper)",
        },
        seeds=tuple(seeds),
        epochs=tuple(range(1, n_epochs + 1)),
        archs=np.asarray([r[0] for r in records], dtype=np.int8),
        metrics={k: v for k, v in metrics.items() if np.isfinite(v).any()},
        static=static,
        provenance={"importer": "nats", "source": directory.name, "files": len(files), "nasbench_version": __version__},
    ).validate()


def _test_split_name(dataset: str) -> str:
    return "x-test" if dataset in ("cifar100", "ImageNet16-120") else "ori-test"


def _curves(rec: dict[str, Any], n_epochs: int) -> dict[str, np.ndarray]:
    """Per-epoch arrays (index e-1 = after e epochs) of one official run record, accuracies as fractions."""

    def series(mapping: dict[Any, Any] | None, key: Callable[[int], Any], scale: float = 1.0) -> np.ndarray:
        out = np.full(n_epochs, np.nan)
        if mapping:
            for i in range(n_epochs):
                value = mapping.get(key(i))
                if value is not None:
                    out[i] = float(value) * scale
        return out

    test = _test_split_name(rec["name"])
    eval_acc, eval_loss = rec.get("eval_acc1es") or {}, rec.get("eval_losses") or {}
    return {
        "train_acc": series(rec.get("train_acc1es"), lambda i: i, 0.01),
        "train_loss": series(rec.get("train_losses"), lambda i: i),
        "train_time_s": np.cumsum(series(rec.get("train_times"), lambda i: i)),
        "val_acc": series(eval_acc, lambda i: f"x-valid@{i}", 0.01),
        "val_loss": series(eval_loss, lambda i: f"x-valid@{i}"),
        "test_acc": series(eval_acc, lambda i: f"{test}@{i}", 0.01),
        "test_loss": series(eval_loss, lambda i: f"{test}@{i}"),
    }
