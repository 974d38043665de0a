"""A benchmark for any search space, made up from the space's decisions: every valid arch has an answer.

The conformance checks need a benchmark for spaces whose real table is absent, too large to list (NB101) or not
imported yet; a third party needs one for a space they have just written. :class:`SyntheticBenchmark` answers
without enumeration: each value is a smooth function of the arch's one-hot encoding with per-decision weights
drawn from ``seed``, so strategies that learn from scores have something to learn.

Multi-objective and constrained protocols need a complete table with static costs (they are known before training
for every arch): :func:`synthetic_table` is one, for an enumerable space (NB201's 15,625 cells by default), with
the synthetic benchmark's metrics and two deterministic costs that trade off against accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.benchmark import Result
from nasbench.errors import InvalidQuery, MissingResult, UnknownMetric
from nasbench.spaces import get_space
from nasbench.spaces.base import Arch, SearchSpace

METRICS = ("val_acc", "test_acc", "val_loss", "train_time_s")
DIRECTIONS = {"val_acc": "max", "test_acc": "max", "val_loss": "min", "train_time_s": "min"}
#: Epochs over which accuracy rises to ~63 % of its way from chance to its final value (learning-curve time scale).
TAU = 3.0
CHANCE = 0.1
NOISE_ACC = 0.005  # standard deviation of a training seed's accuracy offset
NOISE_TIME = 0.02  # standard deviation of the log of a training seed's time factor
SECONDS_PER_EPOCH = 20.0


class SyntheticBenchmark:
    """The :class:`~nasbench.benchmark.Benchmark` protocol for ``space``, with ``val_acc`` / ``test_acc``
    (fractions, correlated, rising with epoch), ``val_loss`` and cumulative ``train_time_s``.

    Each training seed adds a small offset that is a pure function of (``seed``, training seed, arch), so a value
    does not depend on which other seeds, epochs or archs were asked for. Answers are cached per arch; the object
    pickles without its cache. ``source`` is ``"surrogate"``: the numbers come from a model, not from training.

        bench = SyntheticBenchmark(MySpace(), epochs=(1, 3, 9), seeds=(0, 1))
        bench.query(arch, epoch=9, seed=0).val_acc
    """

    metrics: tuple[str, ...] = METRICS

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        epochs: Sequence[int] = (1, 3, 9),
        seeds: Sequence[int] = (0, 1),
        seed: int = 0,
    ) -> None:
        self.space = get_space(space) if isinstance(space, str) else space
        self.epochs = tuple(epochs)
        self.seeds = tuple(seeds)
        self.seed = seed
        if (
            not self.epochs
            or any(type(e) is not int or e < 1 for e in self.epochs)
            or list(self.epochs) != sorted(set(self.epochs))
        ):
            raise InvalidQuery(f"epochs must be strictly increasing positive ints, got {self.epochs!r}")
        if (
            not self.seeds
            or any(type(s) is not int or s < 0 for s in self.seeds)
            or len(set(self.seeds)) != len(self.seeds)
        ):
            raise InvalidQuery(f"seeds must be distinct non-negative ints, got {self.seeds!r}")
        if type(seed) is not int or seed < 0:
            raise InvalidQuery(f"seed must be a non-negative int, got {seed!r}")
        self.directions: Mapping[str, str] = dict(DIRECTIONS)
        self.defaults: dict[str, Any] = {}
        self._make_weights()

    def _make_weights(self) -> None:
        choices = self.space.choices
        rng = np.random.default_rng(self.seed)
        width = int(sum(choices))
        scale = 1.0 / math.sqrt(max(len(choices), 1))  # the quality z is about N(0, 1) whatever the width
        w_val = rng.normal(size=width)
        w_test = 0.8 * w_val + 0.6 * rng.normal(size=width)  # correlation ~0.8 with val
        w_time = rng.normal(size=width)
        # Python lists and floats: an arch's few dozen numbers cost less than numpy's per-call overhead.
        self._weights = [(a * scale, b * scale, c * scale) for a, b, c in zip(w_val, w_test, w_time, strict=True)]
        self._offsets = [int(sum(choices[:d])) for d in range(len(choices))]
        # rises with epoch, and a value does not depend on the other epochs held
        self._curve = [1.0 - math.exp(-e / TAU) for e in self.epochs]
        self._epoch_pos = {e: i for i, e in enumerate(self.epochs)}
        self._seed_pos = {s: i for i, s in enumerate(self.seeds)}
        self._cache: dict[Arch, tuple[np.ndarray, np.ndarray]] = {}

    # ---- pickling (without the cache) ---------------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.space, self.epochs, self.seeds, self.seed))

    # ---- values -------------------------------------------------------------------------------------------

    def _values(self, arch: object) -> tuple[np.ndarray, np.ndarray]:
        """((S, T, M) per-seed values, (T, M) mean over seeds) of ``arch``, computed once per arch."""
        plain = type(arch) is tuple and all(type(v) is int for v in arch)  # (True, 0.0, ...) would hash alike
        hit = self._cache.get(arch) if plain else None  # type: ignore[call-overload]
        if hit is None:
            valid = self.space.validate(arch)
            hit = self._cache.get(valid)
            if hit is None:
                hit = self._cache[valid] = self._compute(valid)
        return hit

    def _compute(self, arch: Arch) -> tuple[np.ndarray, np.ndarray]:
        picked = [self._weights[o + v] for o, v in zip(self._offsets, arch, strict=True)]
        z_val, z_test, z_time = (math.fsum(w[k] for w in picked) for k in range(3))
        final_val, final_test = 0.55 + 0.4 * _sigmoid(1.5 * z_val), 0.55 + 0.4 * _sigmoid(1.5 * z_test)
        per_epoch_s = SECONDS_PER_EPOCH * math.exp(0.3 * z_time)
        key = _hash(self.seed, *arch)
        rows = []
        for train_seed in self.seeds:
            n_val, n_test, n_time = _normals(_hash(key, train_seed))
            time_s = per_epoch_s * math.exp(NOISE_TIME * n_time)
            seed_rows = []
            for epoch, c in zip(self.epochs, self._curve, strict=True):
                val = min(max(CHANCE + (final_val - CHANCE) * c + NOISE_ACC * n_val, 0.0), 1.0)
                test = min(max(CHANCE + (final_test - CHANCE) * c + NOISE_ACC * n_test, 0.0), 1.0)
                seed_rows.append((val, test, -math.log(max(val, 1e-6)), time_s * epoch))
            rows.append(seed_rows)
        out = np.asarray(rows, dtype=np.float64)
        out.setflags(write=False)
        mean = out.mean(axis=0)
        mean.setflags(write=False)
        return out, mean

    # ---- the Benchmark protocol ---------------------------------------------------------------------------

    def _epoch_index(self, epoch: int | None) -> int:
        if epoch is None:
            if len(self.epochs) == 1:
                return 0
            raise InvalidQuery(f"epoch is required: this benchmark holds epochs {list(self.epochs)}")
        try:
            return self._epoch_pos[epoch]
        except (KeyError, TypeError):
            raise MissingResult(f"epoch {epoch!r} is not in this benchmark; available: {list(self.epochs)}") from None

    def _seed_index(self, seed: int) -> int:
        try:
            return self._seed_pos[seed]
        except (KeyError, TypeError):
            raise MissingResult(f"seed {seed!r} is not in this benchmark; available: {list(self.seeds)}") from None

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        """Every metric of ``arch`` after ``epoch`` epochs, for training ``seed`` or the mean over seeds (None)."""
        full, mean = self._values(arch)
        t = self._epoch_index(epoch)
        row = mean[t] if seed is None else full[self._seed_index(seed), t]
        return Result(dict(zip(METRICS, row.tolist(), strict=True)), self.epochs[t], seed, "surrogate")

    def query_many(
        self,
        archs: Sequence[Arch] | np.ndarray,
        *,
        epoch: int | None = None,
        seed: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """``{metric: array(len(archs))}``, the values :meth:`query` gives one arch at a time."""
        t = self._epoch_index(epoch)
        s = None if seed is None else self._seed_index(seed)
        names = METRICS if metrics is None else tuple(metrics)
        unknown = [m for m in names if m not in METRICS]
        if unknown:
            raise UnknownMetric(f"unknown metric(s) {unknown}; this benchmark holds: {', '.join(METRICS)}")
        rows = archs.tolist() if isinstance(archs, np.ndarray) else archs
        block = np.empty((len(rows), len(METRICS)), dtype=np.float64)
        for i, arch in enumerate(rows):
            full, mean = self._values(tuple(arch) if isinstance(arch, list) else arch)
            block[i] = mean[t] if s is None else full[s, t]
        return {m: block[:, METRICS.index(m)].copy() for m in names}

    def __repr__(self) -> str:
        return (
            f"SyntheticBenchmark({self.space.name}, epochs={list(self.epochs)}, seeds={list(self.seeds)}, "
            f"seed={self.seed})"
        )


#: The static costs of :func:`synthetic_table` (an edge device's latency and energy, as HW-NAS-Bench names them).
STATICS = ("latency_ms", "energy_mj")


def synthetic_table(
    space: SearchSpace | str = "nb201",
    *,
    epochs: Sequence[int] = (1, 3, 9),
    seeds: Sequence[int] = (0, 1),
    seed: int = 0,
) -> Any:
    """A :class:`~nasbench.benchmark.TabularBenchmark` of every arch of an enumerable ``space``: the values of
    ``SyntheticBenchmark(space, epochs=epochs, seeds=seeds, seed=seed)`` and the static costs :data:`STATICS`,
    smooth functions of the arch that grow with its final validation accuracy (correlation ~0.7), so the
    objectives conflict as accuracy and latency do on real devices. Checks strategies under objectives and
    constraints::

        check_strategy("nsga2", synthetic_table(), protocol=Protocol(objectives=("latency_ms",)))
    """
    from nasbench.benchmark import TabularBenchmark
    from nasbench.spaces.base import Enumerable
    from nasbench.store.format import StoreData

    bench = SyntheticBenchmark(space, epochs=epochs, seeds=seeds, seed=seed)
    if not isinstance(bench.space, Enumerable):
        raise InvalidQuery(f"a synthetic table lists every arch: {bench.space.name} is not enumerable")
    archs = np.asarray(bench.space.all_archs(), dtype=np.int64).reshape(-1, len(bench.space.choices))
    archs = archs[np.lexsort(archs.T[::-1])]
    values = np.stack([bench._values(a)[0] for a in (tuple(r) for r in archs.tolist())])  # (N, S, T, M)
    metrics = {m: values[..., i].astype(np.float32) for i, m in enumerate(METRICS)}
    # per-decision weights of each cost: part the validation quality's, part their own
    rng = np.random.default_rng([seed, 13])
    quality = np.array([w[0] for w in bench._weights])
    index = archs + np.asarray(bench._offsets)
    static = {}
    for k, name in enumerate(STATICS):
        weights = 0.7 * quality + 0.7 * rng.normal(size=len(quality)) / math.sqrt(max(len(bench.space.choices), 1))
        static[name] = ((1.0 + k) * np.exp(weights[index].sum(axis=1))).astype(np.float32)
    data = StoreData(
        space=bench.space.name, dataset="synthetic", protocol={"recipe": "nasbench.testing.synthetic_table"},
        seeds=tuple(seeds), epochs=tuple(epochs), archs=archs.astype(np.int8), metrics=metrics, static=static,
        provenance={"maker": "nasbench.testing.synthetic_table", "seed": seed}, directions=dict(DIRECTIONS),
    )  # fmt: skip
    return TabularBenchmark(data.validate(), name=f"synthetic-table({bench.space.name}, seed={seed})")


def _rebuild(
    cls: type[SyntheticBenchmark], space: SearchSpace, epochs: tuple[int, ...], seeds: tuple[int, ...], seed: int
) -> SyntheticBenchmark:
    return cls(space, epochs=epochs, seeds=seeds, seed=seed)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a 64-bit integer hash with good avalanche."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _hash(*values: int) -> int:
    state = 0
    for v in values:
        state = _mix(state ^ v)
    return state


def _normals(key: int) -> tuple[float, float, float]:
    """Three standard normals that are a pure function of ``key`` (Box-Muller on hashed bits)."""
    u = [((_mix(key + k) >> 11) + 0.5) * 2.0**-53 for k in range(4)]  # in (0, 1)
    r1, r2 = math.sqrt(-2.0 * math.log(u[0])), math.sqrt(-2.0 * math.log(u[2]))
    return r1 * math.cos(2 * math.pi * u[1]), r1 * math.sin(2 * math.pi * u[1]), r2 * math.cos(2 * math.pi * u[3])
