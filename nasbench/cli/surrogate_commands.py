"""``nasbench surrogate fit|eval|predict``: fit a surrogate on a store, measure it, query it."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from nasbench.cli.progress import Progress
from nasbench.errors import InvalidQuery


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "surrogate",
        help="fit, evaluate and query surrogate models",
        description="Surrogates predict results for architectures nobody trained.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    f = sub.add_parser(
        "fit",
        help="fit a surrogate on a store and save it",
        description="Fit a surrogate of one metric at one epoch on a store (all its archs, or a random subset) "
        "and save it as a folder (JSON metadata + the model's portable format).",
    )
    f.add_argument("store", help="path to a .h5 benchmark store")
    _target_args(f)
    f.add_argument("--model", default="xgboost", help="model name (default: xgboost); see --list-models")
    f.add_argument(
        "--features",
        help="features joined by '+': the space's encodings, static (the store's columns), graph "
        "(default: the space's, e.g. path+live_onehot+cell_stats on nb201; gin: graph)",
    )
    f.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="model parameter (repeat)")
    f.add_argument("--train-size", type=int, help="fit on this many random archs of the store (default: all)")
    f.add_argument("--seed", type=int, default=0, help="seed of the model and of the --train-size draw")
    f.add_argument("--out", required=True, help="folder to write the surrogate to")
    f.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    f.set_defaults(run=run_fit)

    e = sub.add_parser(
        "eval",
        help="measure surrogates over random splits and training sizes (table + plot)",
        description="Fit each model on random training sets of each size and score it on every other arch: "
        "Kendall tau, Spearman rho, R2, MAE, sparse Kendall tau, top-1%% precision (mean ± std over trials).",
    )
    e.add_argument("store", help="path to a .h5 benchmark store")
    _target_args(e)
    e.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="MODEL[:FEATURES]",
        help="a contender, e.g. xgboost or xgboost:onehot (repeat; default: xgboost)",
    )
    e.add_argument("--sizes", default="20,50,100,200,500,1000", help="training sizes, comma-separated")
    e.add_argument("--trials", type=int, default=10, help="random splits per size (default 10)")
    e.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    e.add_argument("--table", help="also write the Markdown table here")
    e.add_argument("--plot", help="write the PNG plot of Kendall tau against training size here")
    e.add_argument("--json", help="write every per-trial record as JSON here")
    e.set_defaults(run=run_eval)

    q = sub.add_parser(
        "predict",
        help="predict results of architectures with a saved surrogate",
        description="ARCH is the space's official string (nb201: |nor_conv_3x3~0|+|...|) or its "
        "comma-separated decision values.",
    )
    q.add_argument("model", help="folder written by 'nasbench surrogate fit'")
    q.add_argument("arch", nargs="+", help="architecture(s)")
    q.add_argument("--seed", type=int, help="a noisy sample for this training seed (default: the mean)")
    q.add_argument("--json", action="store_true", help="print one JSON object per architecture")
    q.set_defaults(run=run_predict)


def _target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metric", help="target metric (default: the store's score metric, else test_acc)")
    p.add_argument("--epoch", type=int, help="target epoch (required when the store holds several)")


def _params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidQuery(f"--param {item!r} must look like NAME=VALUE, e.g. n_estimators=300")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def run_fit(args: argparse.Namespace) -> int:
    import numpy as np

    from nasbench.benchmark import TabularBenchmark
    from nasbench.surrogates.surrogate import fit_from_store

    bench = TabularBenchmark.open(args.store)
    archs = None
    if args.train_size is not None:
        if not 1 <= args.train_size <= len(bench):
            raise InvalidQuery(f"--train-size must be 1..{len(bench)} (the store's archs), got {args.train_size}")
        rng = np.random.default_rng(args.seed)
        all_archs = np.asarray(bench.archs(), dtype=np.int64)
        archs = all_archs[np.sort(rng.choice(len(all_archs), size=args.train_size, replace=False))]
    surrogate = fit_from_store(
        bench,
        args.metric,
        args.epoch,
        model=args.model,
        features=args.features,
        params=_params(args.param),
        seed=args.seed,
        archs=archs,
    )
    surrogate.save(args.out, overwrite=args.overwrite)
    dropped = f" ({surrogate.n_dropped_} NaN targets dropped)" if surrogate.n_dropped_ else ""
    noise = "with a seed-noise model" if surrogate.noise is not None else "no seed-noise model (single seed)"
    print(
        f"wrote {args.out}: {surrogate.model_name} on {surrogate.features}, {surrogate.metric}@{surrogate.epoch}, "
        f"{surrogate.n_train_} archs{dropped}, {noise}"
    )
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from nasbench.benchmark import TabularBenchmark
    from nasbench.surrogates.evaluate import ModelSpec, evaluate, format_table, plot, summarize
    from nasbench.surrogates.static import StaticTable
    from nasbench.surrogates.surrogate import target_metric

    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        raise InvalidQuery(f"--sizes must be comma-separated integers, got {args.sizes!r}") from None
    if not sizes or sizes[0] < 1:
        raise InvalidQuery(f"--sizes must be positive integers, got {args.sizes!r}")
    if args.trials < 1:
        raise InvalidQuery(f"--trials must be at least 1, got {args.trials}")
    specs = [ModelSpec.parse(m) for m in (args.model or ["xgboost"])]
    bench = TabularBenchmark.open(args.store)
    static = StaticTable.from_bench(bench)
    for spec in specs:
        spec.make(space=bench.space, static=static)  # unknown model or features fail now, not after an hour
    metric = target_metric(bench, args.metric)
    total = len(specs) * len(sizes) * args.trials

    with Progress("surrogate eval", "fit") as bar:
        done = iter(range(1, total + 1))
        records = evaluate(bench, metric, args.epoch, specs, sizes, trials=args.trials, seed=args.seed,
                           progress=lambda rec: bar.update(next(done), total))  # fmt: skip
    rows = summarize(records)
    table = format_table(rows)
    print(table, end="")
    from nasbench.atomic import atomic_write_text

    if args.table:
        atomic_write_text(args.table, table)
    if args.json:
        atomic_write_text(args.json, json.dumps(records, indent=1))
    if args.plot:
        epoch = args.epoch if args.epoch is not None else bench.epochs[-1]
        plot(rows, args.plot, title=f"{bench.dataset}: {metric}@{epoch}")
        print(f"plot: {args.plot}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from nasbench.cli.store_commands import parse_arch
    from nasbench.spaces.base import arch_keys
    from nasbench.surrogates.benchmarks import clip_prediction
    from nasbench.surrogates.noise import standard_normal
    from nasbench.surrogates.surrogate import Surrogate

    surrogate = Surrogate.load(args.model)
    space = surrogate.space
    archs = [parse_arch(space, text) for text in args.arch]
    mean = surrogate.predict(archs)
    noise = surrogate.noise_std(archs)
    model_std = surrogate.predict_dist(archs)[1] if surrogate.model.has_dist else None
    value = mean
    if args.seed is not None:
        assert surrogate.metric is not None, "a surrogate that predicts has a target metric"
        value = clip_prediction(
            surrogate.metric, mean + noise * standard_normal(args.seed, arch_keys(space, np.asarray(archs)))
        )
    target = f"{surrogate.metric}@{surrogate.epoch}"
    for i, arch in enumerate(archs):
        row: dict[str, Any] = {"arch": space.to_str(arch), "decisions": list(arch), "target": target}
        row["prediction"] = float(value[i])
        row["seed"] = args.seed
        row["model_std"] = None if model_std is None else float(model_std[i])
        row["seed_std"] = float(noise[i]) if surrogate.noise is not None else None
        if args.json:
            print(json.dumps(row))
            continue
        extra = "".join(
            f"  {k} {row[k]:.4g}" for k in ("model_std", "seed_std") if row[k] is not None and math.isfinite(row[k])
        )
        print(f"{row['prediction']:.6g}  {target}{extra}  {row['arch']}")
    return 0
