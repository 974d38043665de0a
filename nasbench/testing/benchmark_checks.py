"""``check_benchmark``: does a benchmark answer as the :class:`~nasbench.benchmark.Benchmark` protocol promises the
runner, the surrogates and the analysis (consistent batch and single queries, directions, fractions, the mean over
seeds, clear errors, pickling)?"""

from __future__ import annotations

import functools
import math
import pickle
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from nasbench.benchmark import Benchmark, Result
from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingResult
from nasbench.spaces.base import Arch
from nasbench.testing._report import Reporter

#: Relative tolerance of "seed=None is the mean over seeds" (stores hold float32).
MEAN_RTOL = 1e-5


def check_benchmark(bench: Benchmark, *, n: int = 50, seed: int = 0) -> None:
    """Raise AssertionError (naming the benchmark, the check and the arch) unless ``bench`` conforms. Archs are
    drawn from ``bench.archs()`` when it has one (a table of some archs), else from its space.

        from nasbench.testing import check_benchmark
        def test_my_benchmark():
            check_benchmark(MyBenchmark(), n=50)
    """
    r = Reporter(f"check_benchmark({bench!r})")
    r.expect(isinstance(bench, Benchmark), "protocol", "lacks attributes or methods of the Benchmark protocol")
    _check_attributes(r, bench)
    archs = _draw(bench, n, seed)
    named = [s for s in bench.seeds if s is not None]
    for epoch in _epochs(bench):
        for run_seed in [None, *named[:2]]:
            _check_queries(r, bench, archs, epoch, run_seed)
        if named and None not in bench.seeds:
            _check_mean(r, bench, archs, epoch, named)
    _check_errors(r, bench, archs[0])
    _check_pickle(r, bench, archs)


def _check_attributes(r: Reporter, bench: Benchmark) -> None:
    metrics = tuple(bench.metrics)
    r.expect(len(metrics) > 0 and len(set(metrics)) == len(metrics), "metrics", f"must be distinct names: {metrics}")
    for m in metrics:
        r.expect(bench.directions.get(m) in ("max", "min"), "directions", f"{m!r} needs 'max' or 'min'")
    epochs = tuple(bench.epochs)
    r.expect(
        len(epochs) > 0 and all(type(e) is int and e >= 1 for e in epochs) and list(epochs) == sorted(set(epochs)),
        "epochs", f"must be strictly increasing positive ints, got {epochs}",
    )  # fmt: skip
    seeds = tuple(bench.seeds)
    r.expect(
        len(seeds) > 0 and len(set(seeds)) == len(seeds) and all(s is None or type(s) is int for s in seeds),
        "seeds", f"must be distinct ints (or None for means over unnamed seeds), got {seeds}",
    )  # fmt: skip


def _draw(bench: Benchmark, n: int, seed: int) -> list[Arch]:
    rng = np.random.default_rng(seed)
    listed = getattr(bench, "archs", None)
    if callable(listed):
        held = listed()
        picks = rng.choice(len(held), size=min(n, len(held)), replace=False)
        return [tuple(held[int(i)]) for i in picks]
    return [bench.space.sample(rng) for _ in range(n)]


def _epochs(bench: Benchmark) -> list[int]:
    """The first, a middle and the last epoch (a 200-epoch table need not be read 200 times)."""
    e = list(bench.epochs)
    return sorted({e[0], e[len(e) // 2], e[-1]})


def _query(bench: Benchmark, arch: Arch, epoch: int, seed: int | None) -> Result | None:
    try:
        return bench.query(arch, epoch=epoch, seed=seed)
    except MissingResult:
        return None


def _check_queries(r: Reporter, bench: Benchmark, archs: list[Arch], epoch: int, seed: int | None) -> None:
    check = f"query(epoch={epoch}, seed={seed})"
    batch = bench.query_many(archs, epoch=epoch, seed=seed)
    r.expect(set(bench.metrics) <= set(batch), "query_many", f"lacks metrics {set(bench.metrics) - set(batch)}")
    for m in bench.metrics:
        values = np.asarray(batch[m])
        r.expect(values.shape == (len(archs),), "query_many", f"{m!r} has shape {values.shape}, not ({len(archs)},)")
    for i, arch in enumerate(archs):
        result = _query(bench, arch, epoch, seed)
        if result is None:  # no run of this arch: every metric of the batch must be missing too
            finite = [m for m in bench.metrics if math.isfinite(batch[m][i])]
            r.expect(not finite, check, f"MissingResult, but query_many has {finite}", arch)
            continue
        r.expect(isinstance(result, Result), check, f"must return a Result, got {type(result).__name__}", arch)
        r.expect(result.epoch == epoch and result.seed == seed, check, f"answered epoch {result.epoch}, seed "
                 f"{result.seed}", arch)  # fmt: skip
        r.expect(set(bench.metrics) <= set(result.values), check, "lacks some of bench.metrics", arch)
        for m in bench.metrics:
            one, many = result.values[m], float(batch[m][i])
            same = (math.isnan(one) and math.isnan(many)) or math.isclose(one, many, rel_tol=1e-6, abs_tol=1e-9)
            r.expect(same, check, f"{m} is {one!r} from query but {many!r} from query_many", arch)
            if m.endswith("_acc") and not math.isnan(one):
                r.expect(0.0 <= one <= 1.0, check, f"{m} = {one!r} is not a fraction in [0, 1]", arch)
        again = bench.query(bench.space.to_str(arch), epoch=epoch, seed=seed)
        r.expect(_same(again.values, result.values), check, "the official string answers differently", arch)


def _same(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    return a.keys() == b.keys() and all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


def _check_mean(r: Reporter, bench: Benchmark, archs: list[Arch], epoch: int, seeds: Sequence[int]) -> None:
    mean = bench.query_many(archs, epoch=epoch, seed=None)
    per_seed = [bench.query_many(archs, epoch=epoch, seed=s) for s in seeds]
    for m in bench.metrics:
        stacked = np.stack([np.asarray(p[m], dtype=np.float64) for p in per_seed])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an arch without any run: all-NaN column
            expected = np.nanmean(stacked, axis=0)
        got = np.asarray(mean[m], dtype=np.float64)
        close = np.isclose(got, expected, rtol=MEAN_RTOL, atol=1e-7, equal_nan=True)
        if not close.all():
            i = int(np.argmin(close))
            r.fail("seed=None", f"{m} at epoch {epoch} is {got[i]!r}, not the seeds' mean {expected[i]!r}", archs[i])


def _check_errors(r: Reporter, bench: Benchmark, arch: Arch) -> None:
    width = len(bench.space.choices)
    for what, bad in (("a too-long arch", (0,) * (width + 1)), ("a garbage string", "not an architecture")):
        r.raises(InvalidArchitecture, functools.partial(bench.query, bad, epoch=bench.epochs[-1]), "bad arch",
                 f"query({what})")  # fmt: skip
        # a bad arch (even a string) inside the list is what this checks is refused
        many = functools.partial(bench.query_many, [bad], epoch=bench.epochs[-1])  # type: ignore[list-item]
        r.raises(InvalidArchitecture, many, "bad arch", f"query_many([{what}])")
    for epoch in (0, -1, bench.epochs[-1] + 1000):
        r.raises((MissingResult, InvalidQuery), functools.partial(bench.query, arch, epoch=epoch), "bad epoch",
                 f"query(epoch={epoch})", arch)  # fmt: skip
        r.raises((MissingResult, InvalidQuery), functools.partial(bench.query_many, [arch], epoch=epoch),
                 "bad epoch", f"query_many(epoch={epoch})", arch)  # fmt: skip
    absent = max([s for s in bench.seeds if s is not None], default=0) + 1000
    r.raises((MissingResult, InvalidQuery), lambda: bench.query(arch, epoch=bench.epochs[-1], seed=absent),
             "bad seed", f"query(seed={absent})", arch)  # fmt: skip


def _check_pickle(r: Reporter, bench: Benchmark, archs: list[Arch]) -> None:
    try:
        clone = pickle.loads(pickle.dumps(bench))
    except Exception as exc:
        r.fail("pickle", f"cannot be pickled and unpickled: {type(exc).__name__}: {exc}")
    epoch = bench.epochs[-1]
    before, after = bench.query_many(archs, epoch=epoch), clone.query_many(archs, epoch=epoch)
    for m in bench.metrics:
        r.expect(
            np.array_equal(np.asarray(before[m]), np.asarray(after[m]), equal_nan=True),
            "pickle", f"{m} differs after a pickle round trip",
        )  # fmt: skip
    r.expect(clone.space == bench.space, "pickle", "the space differs after a pickle round trip")
