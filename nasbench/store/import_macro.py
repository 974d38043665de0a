"""Import NAS-Bench-Macro (``nas-bench-macro_cifar10.json``) into a store of the ``nb_macro`` space on CIFAR-10.

The file maps each 8-digit arch string to ``test_acc`` (3 runs, %), ``mean_acc``, ``std``, ``params`` and ``flops``
(counts). NAS-Bench-Macro has no validation split: each run trained on the 50,000 training images for 50 epochs
(SGD momentum 0.9, lr 0.1 cosine, weight decay 5e-4, batch 256) and reports its best CIFAR-10 test accuracy over
those epochs. The official training seeds the three runs 0, 1 and 2, in list order.

Protocol (so that the number a search sees and the number it is scored by come from independent trainings):

- ``val_acc`` = the published test accuracy of the run with seed 0: a proxy the search may see;
- ``test_acc`` = the mean of the runs with seeds 1 and 2: the score;
- seeds ``(None,)`` (figures of unnamed mixtures of runs), one epoch, 50 (the benchmark's training length);
- static ``params_m`` and ``flops_m`` (millions; ``flops`` counts the multiply-adds of conv and linear layers).

Strings of one network (see :mod:`nasbench.spaces.nb_macro`) carry one identical record in the file; the store
then holds one row per network, at its canonical arch (``iso_shared``). A file whose equivalent strings disagree
keeps every string as its own row instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__
from nasbench.atomic import sha256_file
from nasbench.errors import InvalidArchitecture, StoreError
from nasbench.spaces.base import Arch
from nasbench.spaces.nb_macro import NBMacroSpace
from nasbench.store.format import StoreData
from nasbench.store.untrusted import finite, load_json, read_bounded, show

EPOCHS = 50
_Values = tuple[float, float, float, float, float]  # acc of seeds 0, 1, 2 (%), params, flops
_FIELDS = ("test_acc", "params", "flops")
CITATION = (
    "Su et al., Prioritized Architecture Sampling with Monto-Carlo Tree Search, CVPR 2021 "
    "(NAS-Bench-Macro, https://github.com/xiusu/NAS-Bench-Macro)"
)


def read_macro_json(path: str | os.PathLike[str], *, max_bytes: int = 256 << 20) -> StoreData:
    """The validated :class:`StoreData` of a NAS-Bench-Macro JSON file (the published one is 1.2 MB; no file over
    ``max_bytes`` is read); any defect of the file raises :class:`StoreError` naming the file and, where it lies in
    one, the entry."""
    path = Path(path)
    space = NBMacroSpace()
    raw = _load(path, max_bytes)
    records: dict[Arch, _Values] = {}
    for key, record in raw.items():
        try:
            arch = space.from_str(key)
        except InvalidArchitecture as exc:
            raise StoreError(f"{path}: key {show(key)} is not an nb_macro architecture: {exc}") from None
        records[arch] = _record(path, key, record)

    classes: dict[Arch, set[_Values]] = {}
    for arch, record_values in records.items():
        classes.setdefault(space.canonical(arch), set()).add(record_values)
    shared = all(len(members) == 1 for members in classes.values())
    if shared:
        records = {arch: members.pop() for arch, members in classes.items()}
    archs = np.asarray(list(records), dtype=np.int64)
    values = np.asarray(list(records.values()), dtype=np.float64)
    order = np.lexsort(archs.T[::-1])
    archs, values = archs[order], values[order]
    runs = values[:, :3] / 100.0
    return StoreData(
        space=space.name,
        dataset="cifar10",
        protocol={
            "source": "NAS-Bench-Macro, CIFAR-10",
            "epochs": EPOCHS,
            "recipe": "SGD momentum 0.9, lr 0.1 cosine over 50 epochs, weight decay 5e-4, batch 256, 3 runs "
            "(seeds 0, 1, 2), trained on the 50k training images",
            "val_acc": "best test accuracy over the 50 epochs of the run with seed 0 (no validation split exists)",
            "test_acc": "mean over the runs with seeds 1 and 2 of their best test accuracy over the 50 epochs",
        },
        seeds=(None,),
        epochs=(EPOCHS,),
        archs=archs,
        metrics={
            "val_acc": runs[:, 0].reshape(-1, 1, 1).astype(np.float32),
            "test_acc": runs[:, 1:3].mean(axis=1).reshape(-1, 1, 1).astype(np.float32),
        },
        static={
            "params_m": (values[:, 3] / 1e6).astype(np.float32),
            "flops_m": (values[:, 4] / 1e6).astype(np.float32),
        },
        provenance={
            "source": path.name,
            "sha256": sha256_file(path),
            "entries": len(raw),
            "licence": "Apache-2.0 (NAS-Bench-Macro)",
            "citation": CITATION,
            "importer": __name__,
            "nasbench_version": __version__,
            "notes": (
                "No validation split: val_acc is the published test accuracy of the seed-0 run, test_acc the mean "
                "of the seed-1 and seed-2 runs, so search and score use independent trainings. Each figure is the "
                "best test accuracy over the run's 50 epochs, as the official train.py records it. "
                + (
                    "Equivalent strings (no-op identities moved within a stage) share one record in the file; "
                    "one row per network, at its canonical arch."
                    if shared
                    else "Equivalent strings hold different records in this file; every string is its own row."
                )
            ),
        },
        iso_shared=shared,
        directions={"val_acc": "max", "test_acc": "max"},
        defaults={"search_metric": "val_acc", "score_metric": "test_acc"},
    ).validate()


def _load(path: Path, max_bytes: int) -> dict[str, Any]:
    text = read_bounded(path, max_bytes, "NAS-Bench-Macro file")
    try:
        raw = load_json(text, str(path), "the file", object_pairs_hook=_unique_keys,
                        not_json="not a JSON file (expected nas-bench-macro_cifar10.json)")  # fmt: skip
    except _DuplicateKey as exc:
        raise StoreError(f"{path}: key {show(exc.args[0])} appears twice; each architecture must appear once") from None
    if not isinstance(raw, dict) or not raw:
        raise StoreError(
            f"{path} holds no architectures: expected a JSON object mapping 8-digit arch strings to "
            '{"test_acc": [3 values], "params": ..., "flops": ...}'
        )
    return raw


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _record(path: Path, key: str, record: object) -> _Values:
    """(acc seed 0, acc seed 1, acc seed 2, params, flops) of one entry, checked."""
    if not isinstance(record, dict):
        raise StoreError(
            f"{path}: entry {key!r} is {type(record).__name__}; expected an object with {', '.join(_FIELDS)}"
        )
    missing = [f for f in _FIELDS if f not in record]
    if missing:
        raise StoreError(f"{path}: entry {key!r} lacks {', '.join(missing)}; each entry needs {', '.join(_FIELDS)}")
    raw_accs = record["test_acc"]
    numbers = [finite(a) for a in raw_accs] if isinstance(raw_accs, list) and len(raw_accs) == 3 else []
    accs = [a for a in numbers if a is not None and 0 <= a <= 100]
    if len(accs) != 3:
        raise StoreError(f"{path}: entry {key!r} has test_acc {show(raw_accs)}; expected 3 accuracies in % (0..100)")
    counts = []
    for name in ("params", "flops"):
        count = finite(record[name])
        if count is None or count <= 0:
            raise StoreError(
                f"{path}: entry {key!r} has {name} {show(record[name])}; expected a positive count (below 2**63)"
            )
        counts.append(count)
    return (accs[0], accs[1], accs[2], counts[0], counts[1])
