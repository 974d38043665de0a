"""The trainer: learns, records per-epoch curves, is bit-reproducible on CPU (fresh process too)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from nasbench.errors import RecipeError, TrainingError  # noqa: E402
from nasbench.train.data import load_splits  # noqa: E402
from nasbench.train.recipe import DIGITS_TINY, NB201, Recipe, get_recipe  # noqa: E402
from nasbench.train.trainer import CURVES, TrainResult, train  # noqa: E402

ARCH = (3, 2, 1, 0, 3, 4)


@pytest.fixture(scope="module")
def digits():
    return load_splits("digits", train_size=400)


def _metrics(result: TrainResult) -> dict:
    return {k: v for k, v in result.curves.items() if k != "train_time_s"}


def test_training_learns_and_records_every_epoch(digits):
    result = train(ARCH, DIGITS_TINY.replace(epochs=3, lr=0.1), digits, seed=0, threads=1)
    assert set(result.curves) == set(CURVES) and result.epochs == 3
    assert result.curves["val_acc"][-1] > 0.5  # chance is 0.1
    assert all(0 <= a <= 1 for k in ("train_acc", "val_acc", "test_acc") for a in result.curves[k])
    times = result.curves["train_time_s"]
    assert all(b > a > 0 for a, b in itertools.pairwise(times))
    assert result.params > 0 and result.flops > 0
    assert TrainResult.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_same_seed_same_curves_other_seed_other_curves(digits):
    recipe = DIGITS_TINY.replace(augmentation="crop_flip", crop_padding=1)
    a = train(ARCH, recipe, digits, seed=5, threads=1)
    b = train(ARCH, recipe, digits, seed=5, threads=1)
    c = train(ARCH, recipe, digits, seed=6, threads=1)
    assert _metrics(a) == _metrics(b)
    assert _metrics(a) != _metrics(c)


def test_training_leaves_the_global_torch_rng_alone(digits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(ARCH, DIGITS_TINY.replace(epochs=1), digits, seed=1, threads=1)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.slow
def test_bit_reproducible_in_a_fresh_process(digits):
    code = (
        "import json\n"
        "from nasbench.train.data import load_splits\n"
        "from nasbench.train.recipe import DIGITS_TINY\n"
        "from nasbench.train.trainer import train\n"
        f"r = train({ARCH!r}, DIGITS_TINY, load_splits('digits', train_size=400), seed=7, threads=1)\n"
        "print(json.dumps(r.curves))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    theirs = json.loads(out.stdout)
    ours = train(ARCH, DIGITS_TINY, digits, seed=7, threads=1).curves
    theirs.pop("train_time_s")
    ours = {k: v for k, v in ours.items() if k != "train_time_s"}
    assert theirs == ours


def test_recipes_validate_and_round_trip():
    assert Recipe.from_dict(NB201.to_dict()) == NB201
    assert get_recipe("nb201") is NB201
    assert NB201.epochs == 200 and NB201.batch_size == 256 and NB201.nesterov and NB201.weight_decay == 5e-4
    with pytest.raises(RecipeError, match="epochs"):
        Recipe(epochs=0)
    with pytest.raises(RecipeError, match="augmentation"):
        Recipe(augmentation="mixup")
    with pytest.raises(RecipeError, match="unknown recipe field"):
        Recipe.from_dict({"epochs": 2, "optimiser": "adam"})
    with pytest.raises(RecipeError, match="unknown recipe preset"):
        get_recipe("nope")
    assert NB201.differences(NB201.replace(epochs=12)) == {"epochs": (200, 12)}


def test_cuda_without_a_gpu_is_a_clear_error(digits):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(TrainingError, match="CUDA"):
        train(ARCH, DIGITS_TINY, digits, seed=0, device="cuda")


@pytest.mark.gpu
def test_cuda_training_with_amp_learns(digits):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    result = train(ARCH, DIGITS_TINY.replace(epochs=3), digits, seed=0, device="cuda")
    assert result.curves["val_acc"][-1] > 0.5
