"""Import NAS-Bench-Graph (Qin et al., NeurIPS 2022 Datasets and Benchmarks; Apache-2.0): one store per data set.

The source is the ``.bench`` files of the PyPI package ``nas-bench-graph`` (the extra ``nasbench[graph]``; the
files lie in its ``light/`` folder) or a folder holding ``<dataset>.bench`` files. Each file is a pickle of a dict
``{key: {"valid_perf", "perf", "latency", "para"}}``, one entry per class of equivalent architectures, keyed by the
benchmark's ``Arch.valid_hash``. Pickles can run code, so they are read with :mod:`nasbench.store.safe_pickle`:
only numpy's plain dtype and scalar builders are allowed, nothing else.

| file field | metric / static | stored as |
|---|---|---|
| ``valid_perf`` | ``val_acc`` (``val_roc_auc`` for proteins) | fraction, maximised |
| ``perf`` | ``test_acc`` (``test_roc_auc`` for proteins) | fraction, maximised |
| ``latency`` | ``/static/latency_s`` | seconds per inference |
| ``para`` | ``/static/params_m`` | millions of parameters |

The files hold one figure per architecture, after training with the data set's fixed hyperparameters (the
paper's per-data-set recipe); there are no per-epoch values in these
files, so a store has the single epoch 1, which stands for "after training" (not for one epoch of training).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__
from nasbench.atomic import sha256_file
from nasbench.errors import InvalidArchitecture, StoreError
from nasbench.spaces.nbgraph import NBGraphProteinsSpace, NBGraphSpace
from nasbench.store import safe_pickle
from nasbench.store.format import StoreData
from nasbench.store.untrusted import installed_folder, installed_version, pick, read_bounded, show

PACKAGE = "nas-bench-graph"
MODULE = "nas_bench_graph"
INSTALL = "pip install 'nasbench[graph]'"
LICENCE = "Apache-2.0 (NAS-Bench-Graph, THUMNLab)"
CITATION = (
    "Qin et al., NAS-Bench-Graph: Benchmarking Graph Neural Architecture Search, NeurIPS 2022 Datasets and "
    "Benchmarks (https://github.com/THUMNLab/NAS-Bench-Graph)"
)
MAX_BYTES = 64 << 20  # the published files are about 2 MB
_FIELDS = ("valid_perf", "perf", "latency", "para")


@dataclass(frozen=True)
class Dataset:
    """One data set of the benchmark: its task and the figure its files hold."""

    title: str
    figure: str  # "acc" or "roc_auc"


DATASETS: dict[str, Dataset] = {
    "cora": Dataset("Cora (Planetoid citation graph, node classification)", "acc"),
    "citeseer": Dataset("CiteSeer (Planetoid citation graph, node classification)", "acc"),
    "pubmed": Dataset("PubMed (Planetoid citation graph, node classification)", "acc"),
    "cs": Dataset("Coauthor-CS (co-authorship graph, node classification)", "acc"),
    "physics": Dataset("Coauthor-Physics (co-authorship graph, node classification)", "acc"),
    "photo": Dataset("Amazon-Photo (co-purchase graph, node classification)", "acc"),
    "computers": Dataset("Amazon-Computers (co-purchase graph, node classification)", "acc"),
    "arxiv": Dataset("ogbn-arxiv (citation graph, node classification)", "acc"),
    "proteins": Dataset("ogbn-proteins (protein association graph, multi-label node classification)", "roc_auc"),
}

#: What a ``.bench`` file may reference: numpy's plain dtype and scalar builders, nothing else.
ALLOWED = {key: value for key, value in safe_pickle.NUMPY_GLOBALS.items() if key[1] in ("scalar", "dtype")}


def package_dir() -> Path:
    """The installed package's ``light/`` folder of ``.bench`` files, or :class:`MissingExtra`."""
    otherwise = "or give the folder that holds the .bench files"
    return installed_folder(MODULE, PACKAGE, INSTALL, "NAS-Bench-Graph's files", otherwise) / "light"


def check_datasets(names: list[str] | None) -> list[str]:
    """The data sets asked for (default all nine), or :class:`ImportSpecError` listing the known ones."""
    return pick(names, list(DATASETS), "NAS-Bench-Graph data set")


def read_graph(dataset: str, source: str | os.PathLike[str] | None = None, *, max_bytes: int = MAX_BYTES) -> StoreData:
    """The validated store content of one data set, from ``source`` (a ``.bench`` file or a folder of them;
    default: the installed package ``nas-bench-graph``)."""
    (dataset,) = check_datasets([dataset])
    from_package = source is None
    path = Path(package_dir() if source is None else source)
    if path.is_dir():
        path = path / f"{dataset}.bench"
        if not path.is_file():
            present = sorted(p.stem for p in path.parent.glob("*.bench") if p.stem in DATASETS)
            raise StoreError(
                f"{path} does not exist; that folder holds NAS-Bench-Graph files for: {', '.join(present) or 'none'} "
                f"(known data sets: {', '.join(DATASETS)})"
            )
    data = read_bounded(path, max_bytes, "NAS-Bench-Graph file")
    try:
        raw = safe_pickle.load(data, ALLOWED, f"a NAS-Bench-Graph file ({path.name})")
    except StoreError as exc:
        if type(exc) is not StoreError:
            raise
        raise StoreError(f"{path}: {exc}") from None
    return _store(dataset, path, raw, from_package)


def read_graph_all(
    datasets: list[str] | None = None, source: str | os.PathLike[str] | None = None
) -> dict[str, StoreData]:
    return {name: read_graph(name, source) for name in check_datasets(datasets)}


def _store(dataset: str, path: Path, raw: Any, from_package: bool) -> StoreData:
    space: NBGraphSpace = NBGraphProteinsSpace() if dataset == "proteins" else NBGraphSpace()
    if not isinstance(raw, dict) or not raw:
        raise StoreError(
            f"{path} is not a NAS-Bench-Graph file: expected a non-empty dict of architecture keys to "
            f"{{{', '.join(_FIELDS)}}}, got {type(raw).__name__}"
        )
    archs, values = [], []
    for key, record in raw.items():
        if type(key) is not int:
            raise StoreError(f"{path}: key {show(key)} is not an integer architecture key")
        try:
            arch = space.from_official_key(key)
        except InvalidArchitecture:
            raise StoreError(f"{path}: key {key} names no architecture of the {space.name} space") from None
        if space.canonical(arch) != arch:
            raise StoreError(
                f"{path}: key {key} ({space.to_str(arch)}) is not the benchmark's representative of its class "
                f"({space.to_str(space.canonical(arch))})"
            )
        archs.append(arch)
        values.append(_record(path, key, record))
    arr = np.asarray(archs, dtype=np.int64)
    order = np.lexsort(arr.T[::-1])
    table = np.asarray(values, dtype=np.float64)[order]
    spec = DATASETS[dataset]
    val, test = f"val_{spec.figure}", f"test_{spec.figure}"
    what = "accuracy" if spec.figure == "acc" else "ROC-AUC"
    version = installed_version(PACKAGE) if from_package else None
    return StoreData(
        space=space.name,
        dataset=dataset,
        protocol={
            "source": f"NAS-Bench-Graph, {spec.title}",
            "figure": f"{what} after training with the benchmark's fixed hyperparameters for this data set",
            "epochs": "epoch 1 stands for the end of training: the files hold no per-epoch values",
            val: f"validation {what}",
            test: f"test {what}",
            "latency_s": "inference latency in seconds, as the file records it",
            "params_m": "parameters in millions",
        },
        seeds=(None,),
        epochs=(1,),
        archs=arr[order],
        metrics={
            val: table[:, 0].reshape(-1, 1, 1).astype(np.float32),
            test: table[:, 1].reshape(-1, 1, 1).astype(np.float32),
        },
        static={"latency_s": table[:, 2].astype(np.float32), "params_m": table[:, 3].astype(np.float32)},
        provenance={
            "source": path.name,
            "sha256": sha256_file(path),
            "package": f"{PACKAGE} {version}" if version else None,
            "entries": len(raw),
            "licence": LICENCE,
            "citation": CITATION,
            "importer": __name__,
            "nasbench_version": __version__,
            "notes": (
                "One row per class of equivalent architectures (the benchmark's Arch.valid_hash: skip operations "
                "that change nothing moved, interchangeable nodes sorted); queries of any member find its class."
            ),
        },
        iso_shared=True,
        directions={val: "max", test: "max"},
        defaults={"search_metric": val, "score_metric": test},
    ).validate()


def _record(path: Path, key: int, record: object) -> tuple[float, float, float, float]:
    if not isinstance(record, dict):
        raise StoreError(f"{path}: entry {key} is {type(record).__name__}; expected a dict with {', '.join(_FIELDS)}")
    missing = [f for f in _FIELDS if f not in record]
    if missing:
        raise StoreError(f"{path}: entry {key} lacks {', '.join(missing)}; each entry has {', '.join(_FIELDS)}")
    out = []
    for name in _FIELDS:
        value = record[name]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and name in ("valid_perf", "perf"):
            ok = 0.0 <= value <= 1.0
        elif ok:
            ok = value >= 0.0
        if not ok:
            allowed = "a fraction in [0, 1]" if name in ("valid_perf", "perf") else "a finite number >= 0"
            raise StoreError(f"{path}: entry {key} has {name} {show(value)}; expected {allowed}")
        out.append(float(value))
    return out[0], out[1], out[2], out[3]


__all__ = ["DATASETS", "check_datasets", "package_dir", "read_graph", "read_graph_all"]
