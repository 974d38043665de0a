"""``nasbench info``, ``query`` and ``import``: look into stores and make them."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from nasbench.benchmark import TabularBenchmark
from nasbench.errors import NasbenchError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("info", help="describe a benchmark store", description="Describe a benchmark store.")
    p.add_argument("store", help="path to a .h5 benchmark store")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(run=run_info)

    p = subparsers.add_parser(
        "query",
        help="look up an architecture's results",
        description="Look up an architecture's results. ARCH is the official string "
        "(|nor_conv_3x3~0|+|...|) or comma-separated op indices (3,3,4,1,3,1).",
    )
    p.add_argument("store", help="path to a .h5 benchmark store")
    p.add_argument("arch", nargs="+", help="architecture(s) to look up")
    p.add_argument("--epoch", type=int, help="epoch to read (required when the store holds several)")
    p.add_argument("--seed", type=int, help="training seed (default: mean over the seeds that exist)")
    p.add_argument("--json", action="store_true", help="print one JSON object per architecture")
    p.set_defaults(run=run_query)

    p = subparsers.add_parser("import", help="import published results into a store")
    sub = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    t = sub.add_parser(
        "table",
        help="a CSV or parquet table",
        description="Import a CSV or parquet table. Map columns with --map COLUMN=METRIC@EPOCH[:SEED] "
        "(or COLUMN=STATIC_NAME for a per-architecture figure), or give a JSON --spec file.",
    )
    t.add_argument("table", help="CSV or parquet file")
    t.add_argument("--out", required=True, help="store to write (.h5)")
    t.add_argument("--map", action="append", default=[], metavar="COLUMN=TARGET", help="column mapping (repeat)")
    t.add_argument("--spec", help="JSON import spec (instead of or before --map)")
    t.add_argument("--arch-column", help="column holding the architecture string (default: arch)")
    t.add_argument("--percent", action="store_true", default=None, help="accuracies are percentages")
    t.add_argument("--space", help="search space (default: nb201)")
    t.add_argument("--dataset", help="dataset name recorded in the store")
    t.add_argument("--protocol", help="training protocol as a JSON object, recorded in the store")
    t.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    t.set_defaults(run=run_import_table)

    n = sub.add_parser(
        "nats",
        help="an official NATS-Bench topology 'simple' directory",
        description="Import an official NATS-Bench topology-space directory (NATS-tss-v1_0-3ffb9-simple/) "
        "for one dataset and training length. Pickles are read with an allow-list of globals.",
    )
    n.add_argument("directory", help="the NATS-tss-v1_0-3ffb9-simple directory")
    n.add_argument("--out", required=True, help="store to write (.h5)")
    n.add_argument(
        "--dataset", default="cifar10-valid", help="cifar10-valid (default), cifar10, cifar100, ImageNet16-120"
    )
    n.add_argument("--hp", default="200", help="training length: 200 (default) or 12 epochs")
    n.add_argument(
        "--test-split",
        choices=("x-test", "ori-test"),
        help="cifar100/ImageNet16-120 only: the evaluation stored as test_* (default x-test; ori-test is the whole "
        "original test set, the only one with per-epoch values at hp 200)",
    )
    n.add_argument("--workers", type=int, help="processes decoding the files (default: all cores)")
    n.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    n.set_defaults(run=run_import_nats)


def run_info(args: argparse.Namespace) -> int:
    bench = TabularBenchmark.open(args.store)
    data = bench.data
    info = {
        "store": args.store,
        "space": data.space,
        "dataset": data.dataset,
        "archs": len(bench),
        "space_size": bench.space.size,
        "iso_shared": data.iso_shared,
        "seeds": list(data.seeds),
        "epochs": list(data.epochs),
        "metrics": list(bench.metrics),
        "static": sorted(data.static),
        "protocol": data.protocol,
        "provenance": data.provenance,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    epochs = data.epochs
    epoch_text = f"{list(epochs)}" if len(epochs) <= 6 else f"{epochs[0]}..{epochs[-1]} ({len(epochs)} epochs)"
    seeds = "mean over unnamed seeds" if data.seeds == (None,) else ", ".join(map(str, data.seeds))
    print(f"store     {args.store}")
    shared = ", one per isomorphism class" if data.iso_shared else ""
    print(f"space     {data.space} ({len(bench)} of {bench.space.size} cells{shared})")
    print(f"dataset   {data.dataset}")
    print(f"epochs    {epoch_text}")
    print(f"seeds     {seeds}")
    print(f"metrics   {', '.join(bench.metrics)}")
    print(f"static    {', '.join(sorted(data.static)) or '-'}")
    print(f"protocol  {json.dumps(data.protocol, sort_keys=True)}")
    print(f"source    {json.dumps(data.provenance, sort_keys=True)}")
    for metric in ("val_acc", "test_acc"):
        if metric in bench.metrics:
            epoch = epochs[-1]
            try:
                arch, value = bench.best(metric, epoch=epoch)
            except NasbenchError:
                continue
            print(f"best {metric}@{epoch}: {value:.4f}  {bench.space.to_str(arch)}")
    return 0


def _parse_arch_arg(text: str) -> Any:
    if "|" in text:
        return text
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        return text  # let the space report what is wrong with it


def run_query(args: argparse.Namespace) -> int:
    bench = TabularBenchmark.open(args.store)
    for text in args.arch:
        arch = bench.space.validate(_parse_arch_arg(text))
        result = bench.query(arch, epoch=args.epoch, seed=args.seed)
        fields = {k: getattr(result, k) for k in result.__slots__}  # type: ignore[attr-defined]
        if args.json:
            clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in fields.items()}
            print(json.dumps({"arch": bench.space.to_str(arch), "ops": list(arch), **clean}))
            continue
        print(bench.space.to_str(arch))
        for key, value in fields.items():
            if isinstance(value, float):
                if math.isnan(value):
                    continue
                value = f"{value:.6g}"
            print(f"  {key:<13}{value}")
    return 0


def run_import_table(args: argparse.Namespace) -> int:
    from nasbench.errors import ImportSpecError
    from nasbench.store import write_store
    from nasbench.store.import_table import TableSpec, import_table, read_spec_file

    raw: dict[str, Any] = read_spec_file(args.spec) if args.spec else {}
    columns = dict(raw.get("columns", {}))
    for item in args.map:
        column, sep, target = item.partition("=")
        if not sep:
            raise ImportSpecError(f"--map {item!r} must look like COLUMN=METRIC@EPOCH")
        columns[column.strip()] = target
    raw["columns"] = columns
    for key in ("arch_column", "percent", "space", "dataset"):
        value = getattr(args, key)
        if value is not None:
            raw[key] = value
    if args.protocol:
        try:
            raw["protocol"] = json.loads(args.protocol)
        except json.JSONDecodeError as exc:
            raise ImportSpecError(f"--protocol must be a JSON object: {exc}") from None
    spec = TableSpec.from_dict(raw)
    data = import_table(args.table, spec)
    write_store(args.out, data, overwrite=args.overwrite)
    print(f"wrote {args.out}: {len(data.archs)} archs, epochs {list(data.epochs)}, metrics {sorted(data.metrics)}")
    return 0


def run_import_nats(args: argparse.Namespace) -> int:
    from nasbench.store import write_store
    from nasbench.store.import_nats import import_nats

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() and (done % 100 == 0 or done == total):
            print(f"\rread {done}/{total} architecture files", end="\n" if done == total else "", file=sys.stderr)

    data = import_nats(
        args.directory,
        dataset=args.dataset,
        hp=args.hp,
        test_split=args.test_split,
        workers=args.workers,
        progress=progress,
    )
    write_store(args.out, data, overwrite=args.overwrite)
    print(
        f"wrote {args.out}: {len(data.archs)} archs, {len(data.epochs)} epochs, seeds {list(data.seeds)}, "
        f"dataset {data.dataset}"
    )
    return 0
