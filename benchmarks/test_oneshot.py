"""CPU seconds of one supernet epoch of each weight-sharing method on the shipped store's data and network
(fmnist-fast: Fashion-MNIST at 16 px, 3,000 train / 2,000 val images, C=8, N=1, batch 64, one torch thread).

The target is "minutes per seed on one CPU core": the small configurations run in the acceptance (a few to a few
tens of epochs) must stay within a few CPU-minutes. Skips when Fashion-MNIST is not installed.
"""

from __future__ import annotations

import time

import pytest

torch = pytest.importorskip("torch")

from nasbench.errors import DatasetError  # noqa: E402
from nasbench.oneshot import make_method  # noqa: E402
from nasbench.oneshot.search import SearchData  # noqa: E402
from nasbench.train.data import load_splits  # noqa: E402
from nasbench.train.recipe import FMNIST_FAST  # noqa: E402

CASES = {
    "darts": ("darts", {}),
    "darts2": ("darts", {"order": 2}),
    "gdas": ("gdas", {}),
    "enas": ("enas", {"controller_steps": 10, "controller_aggregate": 10, "derive_samples": 20}),
    "rsws": ("rsws", {}),
}


@pytest.fixture(scope="module")
def data() -> SearchData:
    r = FMNIST_FAST
    try:
        splits = load_splits("fashion_mnist", resolution=r.resolution, train_size=r.train_size,
                             val_size=r.val_size, test_size=r.test_size, split_seed=r.split_seed)  # fmt: skip
    except DatasetError as exc:
        pytest.skip(str(exc))
    return SearchData.from_splits(splits)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_cpu_seconds_per_supernet_epoch(benchmark, data, case):
    name, params = CASES[case]
    torch.set_num_threads(1)
    cpu: dict[str, float] = {}

    def run():
        start = time.process_time()
        result = make_method(name, epochs=1, **params).search(data, seed=0, channels=8, cells_per_stage=1)
        cpu["total"] = time.process_time() - start
        cpu["epoch_wall"] = result.history[0]["time_s"]

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["cpu_s_one_epoch_search"] = round(cpu["total"], 2)
    benchmark.extra_info["wall_s_one_epoch"] = round(cpu["epoch_wall"], 2)
    # DARTS-V2 (the dearest: 3 extra forward/backward passes per step) must keep an epoch under a CPU-minute
    assert cpu["total"] < 60
