"""Training recipes: every setting that decides what a trained network's numbers mean, in one frozen record that
is written into each store it fills (``protocol["recipe"]``). No torch here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nasbench.errors import RecipeError

AUGMENTATIONS = ("none", "crop", "crop_flip")
SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class Recipe:
    """How to train one network: optimizer (SGD), schedule, epochs, batches, augmentation, network size, data.

    ``resolution`` (square, None = native) and the split sizes (None = dataset default, see
    :func:`nasbench.train.data.load_splits`) are part of the recipe because they change the results.
    The learning rate follows a cosine from ``lr`` to ``lr_min`` over all iterations (NB201 updates per step).
    """

    name: str = "custom"
    epochs: int = 8
    batch_size: int = 128
    lr: float = 0.1
    lr_min: float = 0.0
    schedule: str = "cosine"
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    augmentation: str = "none"
    crop_padding: int = 4
    channels: int = 16
    cells_per_stage: int = 5
    resolution: int | None = None
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    split_seed: int = 0
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "channels", "eval_batch_size")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RecipeError(f"recipe {name} must be a positive integer, got {value!r}")
        if not isinstance(self.cells_per_stage, int) or self.cells_per_stage < 0:
            raise RecipeError(f"recipe cells_per_stage must be an integer >= 0, got {self.cells_per_stage!r}")
        for name in ("resolution", "train_size", "val_size", "test_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise RecipeError(f"recipe {name} must be a positive integer or null, got {value!r}")
        if not self.lr > 0 or not 0 <= self.lr_min <= self.lr:
            raise RecipeError(f"recipe needs lr > 0 and 0 <= lr_min <= lr, got lr={self.lr}, lr_min={self.lr_min}")
        if not 0 <= self.momentum < 1 or self.weight_decay < 0:
            raise RecipeError(f"recipe needs 0 <= momentum < 1 and weight_decay >= 0, got {self}")
        if self.nesterov and self.momentum == 0:
            raise RecipeError("nesterov momentum needs momentum > 0")
        if self.schedule not in SCHEDULES:
            raise RecipeError(f"unknown schedule {self.schedule!r}; allowed: {', '.join(SCHEDULES)}")
        if self.augmentation not in AUGMENTATIONS:
            raise RecipeError(f"unknown augmentation {self.augmentation!r}; allowed: {', '.join(AUGMENTATIONS)}")
        if self.crop_padding < 0:
            raise RecipeError(f"crop_padding must be >= 0, got {self.crop_padding}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RecipeError(f"unknown recipe field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def replace(self, **changes: Any) -> Recipe:
        if changes:
            changes.setdefault("name", f"{self.name}+custom" if not self.name.endswith("+custom") else self.name)
        return dataclasses.replace(self, **changes)

    def differences(self, other: Recipe) -> dict[str, tuple[Any, Any]]:
        """Fields (other than the name) whose values differ: ``{field: (self's, other's)}``."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if k != "name" and a[k] != b[k]}


#: NAS-Bench-201's own recipe (the 200-epoch CIFAR-10 protocol of the paper).
NB201 = Recipe(
    name="nb201",
    epochs=200,
    batch_size=256,
    lr=0.1,
    lr_min=0.0,
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    augmentation="crop_flip",
    crop_padding=4,
    channels=16,
    cells_per_stage=5,
)

#: The cheap recipe of nasbench's shipped Fashion-MNIST store: small images, a narrow one-cell-per-stage network,
#: a few thousand training images, few epochs (a training takes seconds on one CPU core). Measured and justified
#: in benchmarks/test_training.py and the build report.
FMNIST_FAST = Recipe(
    name="fmnist-fast",
    epochs=6,
    batch_size=128,
    lr=0.1,
    lr_min=0.0,
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    augmentation="none",
    channels=8,
    cells_per_stage=1,
    resolution=16,
    train_size=3000,
    val_size=2000,
    test_size=2000,
)

#: The recipe of nasbench's own sequence benchmark: DNA splice junctions (1,186 training sequences of 60 bases,
#: 1,000 for validation, 1,000 for test), one cell per stage at width 16, 8 epochs (about 3 s per training on one
#: CPU core). Width 16 rather than 8 halves the seed noise (Kendall tau between seeds 0.75 instead of 0.57 on a
#: probe of 16 cells); 16 epochs at width 8 was noisier still (0.43).
DNA_FAST = Recipe(
    name="dna-fast",
    epochs=8,
    batch_size=64,
    lr=0.05,
    lr_min=0.0,
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    augmentation="none",
    channels=16,
    cells_per_stage=1,
)

#: A seconds-long recipe on 8x8 digits, for tests and smoke runs.
DIGITS_TINY = Recipe(
    name="digits-tiny",
    epochs=2,
    batch_size=64,
    lr=0.05,
    channels=4,
    cells_per_stage=1,
    eval_batch_size=512,
)

PRESETS: dict[str, Recipe] = {r.name: r for r in (NB201, FMNIST_FAST, DNA_FAST, DIGITS_TINY)}


def get_recipe(name: str) -> Recipe:
    try:
        return PRESETS[name]
    except KeyError:
        raise RecipeError(f"unknown recipe preset {name!r}; known: {', '.join(PRESETS)}") from None
