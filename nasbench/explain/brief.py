"""The short "Why the winner wins" section of a comparison's report: a summary of ``explain/explain.json`` when
``nasbench explain DIR`` has written one; else, where it is cheap (a complete table of a space small enough to
list: well under a second for NB201), the exact importances and the winner's contributions computed on the spot;
else the command that makes the explanation."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasbench.errors import NasbenchError
from nasbench.runner.simulate import Trajectory

EXPLAIN_DIR = "explain"
#: The report computes the landscape itself only for complete tables up to this many architectures.
CHEAP_UP_TO = 20_000


def why_section(config: dict[str, Any], runs: Sequence[Trajectory], winner: str, out: Path) -> list[str]:
    """Markdown lines of the section (a heading and a few lines); never raises for a store it cannot read."""
    lines = ["## Why the winner wins", ""]
    finals = Counter(t.incumbent[-1] for t in runs if t.strategy == winner and t.incumbent)
    if not finals:
        return [*lines, f"{winner} has no final incumbent to explain.", ""]
    arch, count = finals.most_common(1)[0]
    runs_of = sum(1 for t in runs if t.strategy == winner)
    head = f"{winner}'s most frequent final incumbent (in {count} of {runs_of} runs) is `{arch}`."
    saved = out / EXPLAIN_DIR / "explain.json"
    if saved.is_file():
        try:
            return [*lines, head, "", *_from_saved(json.loads(saved.read_text())), ""]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged or older file: say how to remake it instead
    command = f"`nasbench explain {out}` writes the full explanation (figures, neighbours, what each strategy learned)"
    try:
        computed = _computed(config, arch)
    except NasbenchError:
        computed = None
    if computed is None:
        reason = "it is computed here only when exact and cheap: a complete table of a small space, at hand"
        return [*lines, head, "", f"Not computed with the report ({reason}): {command}.", ""]
    return [*lines, head, "", *computed, "", f"{command}.", ""]


def _shares(main: float, pairs: float, higher: float | None) -> str:
    text = f"main effects explain {100 * main:.1f} % of the variance, pairs {100 * pairs:.1f} %"
    return text + (f", higher orders {100 * higher:.1f} %" if higher is not None else "")


def _scale(metric: str) -> tuple[float, str]:
    return (100.0, "pp") if metric.endswith("_acc") else (1.0, metric)


def _from_saved(saved: dict[str, Any]) -> list[str]:
    land = saved["landscape"]
    scale, unit = _scale(land["metric"])
    main = [r for r in land["importance"] if r["order"] == 1][:3]
    shares = land["shares"]
    lines = [
        f"- {'Exact' if land['exact'] else 'Estimated'} landscape of `{land['metric']}`@{land['epoch']}: "
        f"{_shares(shares['main'], shares['pairs'], shares.get('higher'))}; the most important decisions are "
        + ", ".join(f"{r['term']} ({100 * r['fraction']:.1f} %)" for r in main)
        + "."
    ]
    win = saved.get("winner")
    if win:
        top = sorted(win["contributions"], key=lambda r: -abs(r["contribution"] or 0))[:3]
        lines.append(
            f"- `{win['arch']}` scores {scale * win['value']:.2f} against {scale * win['baseline_value']:.2f} "
            f"({win['baseline']}); its largest contributions: "
            + ", ".join(f"{r['choice']} on {r['decision']} ({scale * r['contribution']:+.2f} {unit})" for r in top)
            + "."
        )
    lines.append("- The full explanation: [explain/explain.md](explain/explain.md).")
    return lines


def _computed(config: dict[str, Any], arch: str) -> list[str] | None:
    """Exact importances and contributions, or None where that is not cheap (a partial table, a large space)."""
    from nasbench.benchmark import TabularBenchmark
    from nasbench.spaces.base import Enumerable

    bench = config.get("benchmark") or {}
    store = Path(str(bench.get("store", "")))
    if bench.get("kind") == "hybrid" or not store.is_file():
        return None
    table = TabularBenchmark.open(store)
    space = table.space
    if not isinstance(space, Enumerable) or space.size > CHEAP_UP_TO or len(table) < space.size:
        return None  # (an iso-shared table holds one row per class; it is explained by `nasbench explain`)
    from nasbench.explain.landscape import landscape
    from nasbench.explain.winner import explain_arch

    protocol = config.get("protocol") or {}
    land = landscape(table, protocol.get("score_metric"), protocol.get("score_epoch"), source="auto", repeats=0)
    if not land.exact:
        return None
    win = explain_arch(land, arch, with_neighbours=False)
    scale, unit = _scale(land.metric)
    main = land.importance[land.importance["order"] == 1].head(3)
    top = win.contributions.reindex(win.contributions["contribution"].abs().sort_values(ascending=False).index)
    return [
        f"- Exact landscape of `{land.metric}`@{land.epoch} ({land.design}): "
        f"{_shares(land.shares['main'], land.shares['pairs'], land.shares.get('higher'))}; the most important "
        "decisions are " + ", ".join(f"{r.term} ({100 * r.fraction:.1f} %)" for r in main.itertuples()) + ".",
        f"- It scores {scale * win.value:.2f} against the mean {scale * win.baseline_value:.2f}; its largest "
        "exact Shapley contributions: "
        + ", ".join(
            f"{r.choice} on {r.decision} ({scale * r.contribution:+.2f} {unit})"
            for r in top.head(3).itertuples()
            if math.isfinite(r.contribution)
        )
        + ".",
    ]
