"""Shared fixtures: small stores made by code, and the published NB201 reference when it is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench.spaces import get_space
from nasbench.store import StoreData, write_store

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
NB201_CSV = REFERENCE / "nb201" / "cifar10.csv"
NATS_TSS = REFERENCE / "nats-sample" / "NATS-tss-v1_0-3ffb9-simple"
NATS_SSS = REFERENCE / "nats-sample" / "NATS-sss-v1_0-50262-simple"
NB201_IMPORT_MAPS = [
    "val_acc_12ep=val_acc@12",
    "test_acc_12ep=test_acc@12",
    "test_acc_200ep=test_acc@200",
    "index=official_index",
    "iso_rep=official_iso_rep",
]


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference data absent: {path} (it lives in ../shared/reference beside the project)")
    return path


def make_store_data(n_archs: int = 20, seeds=(0, 1), epochs=(1, 2, 3, 4), seed: int = 0) -> StoreData:
    """A small synthetic store: accuracy grows with epochs and with the number of conv edges; a seed adds noise."""
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(space.size, size=n_archs, replace=False))
    archs = np.array([space.from_index(int(i)) for i in ids], dtype=np.int8)
    quality = ((archs == 2) | (archs == 3)).sum(axis=1) / 6.0
    ep = np.asarray(epochs, dtype=float)
    shape = (n_archs, len(seeds), len(epochs))
    base = 0.3 + 0.6 * quality[:, None, None] * (ep / ep.max())[None, None, :]
    noise = rng.normal(0, 0.01, size=shape)
    acc = np.clip(base + noise, 0, 1).astype(np.float32)
    return StoreData(
        space="nb201",
        dataset="synthetic",
        protocol={"recipe": "synthetic test fixture"},
        seeds=tuple(seeds),
        epochs=tuple(epochs),
        archs=archs,
        metrics={
            "train_acc": np.clip(acc + 0.05, 0, 1),
            "val_acc": acc,
            "test_acc": np.clip(acc - 0.01, 0, 1).astype(np.float32),
            "val_loss": (1 - acc).astype(np.float32),
            "train_time_s": np.broadcast_to(10.0 * ep * (1 + quality[:, None, None]), shape).astype(np.float32),
        },
        static={"params_m": (0.1 + quality).astype(np.float32)},
        provenance={"maker": "tests/conftest.py"},
    )


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    return write_store(tmp_path / "small.h5", make_store_data())


@pytest.fixture(scope="session")
def nb201_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NB201 CIFAR-10 reference table imported into a store (skips when the reference is absent)."""
    from nasbench.store.import_table import TableSpec, import_table

    csv = require(NB201_CSV)
    spec = TableSpec.from_mappings(NB201_IMPORT_MAPS, percent=True, dataset="cifar10")
    return write_store(tmp_path_factory.mktemp("nb201") / "nb201-cifar10.h5", import_table(csv, spec))


@pytest.fixture(scope="session")
def full_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic store of all 15,625 NB201 cells, 2 seeds, epochs 1..9: any strategy can search it."""
    data = make_store_data(n_archs=get_space("nb201").size, seeds=(0, 1), epochs=tuple(range(1, 10)), seed=1)
    return write_store(tmp_path_factory.mktemp("full") / "full.h5", data)
