"""Write a comparison's report next to its results: ``report.md`` (Markdown with tables and the PNG figures
beside it), ``report.html`` (the same, one self-contained page), ``summary.json`` (the same numbers for machines)
and the figures. Every file is written atomically."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import owned
from nasbench.analysis.fronts import Fronts, attainment
from nasbench.analysis.html import render_html
from nasbench.analysis.summary import ALPHA, Analysis, analyze, direction_of, format_p
from nasbench.atomic import atomic_write_text
from nasbench.runner.experiment import ResultsError, load_results

log = logging.getLogger(__name__)

REPORT_FILE = "report.md"
HTML_FILE = "report.html"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ReportFiles:
    report: Path
    summary: Path
    figures: dict[str, Path]  # key -> PNG


def load_analysis(out_dir: str | os.PathLike[str], alpha: float = ALPHA) -> Analysis:
    """Analyze a results directory; a directory without any finished run is an error."""
    config, runs = load_results(out_dir)
    if not runs:
        raise ResultsError(f"{out_dir} holds no finished runs yet; run `nasbench compare` first (or let it finish)")
    return analyze(config, runs, alpha)


def write_report(
    out_dir: str | os.PathLike[str], *, plots: bool = True, fmt: str = "md", alpha: float = ALPHA
) -> tuple[Analysis, ReportFiles]:
    """Analyze ``out_dir`` and write its report, summary and (unless ``plots`` is False) figures into it."""
    if fmt != "md":
        raise ResultsError(f"unknown report format {fmt!r}; known: md")
    from nasbench.explain.brief import why_section

    out = Path(out_dir)
    config, runs = load_results(out)
    if not runs:
        raise ResultsError(f"{out} holds no finished runs yet; run `nasbench compare` first (or let it finish)")
    analysis = analyze(config, runs, alpha)
    figures = draw_figures(analysis, out) if plots else {}
    report = out / REPORT_FILE
    summary = out / SUMMARY_FILE
    # a multi-objective winner is a set of archs, not one: its explanation is not the single-arch kind
    multi = analysis.fronts is not None and analysis.fronts.multi
    why = why_section(config, runs, analysis.table[0].label, out) if analysis.table and not multi else []
    text = render_markdown(analysis, figures, alpha, answered=answered_by(analysis.config, out), why=why)
    atomic_write_text(report, text)
    title = text.splitlines()[0].lstrip("# ") if text else "Strategy comparison"
    atomic_write_text(out / HTML_FILE, render_html(text, out, title))
    atomic_write_text(summary, json.dumps(summary_dict(analysis, figures, alpha), indent=2, allow_nan=False) + "\n")
    owned.record(out, REPORT_FILE, HTML_FILE, SUMMARY_FILE, *(path.name for path in figures.values()))
    log.info("wrote %s, %s and %d figures", report, summary, len(figures))
    return analysis, ReportFiles(report, summary, figures)


def answered_by(config: dict[str, Any], out: Path) -> str:
    """What answered the runs' queries: the table alone, or the table and a surrogate (with each one's share of
    the evaluations, when the store is still where the comparison read it)."""
    bench = config.get("benchmark") or {}
    if bench.get("kind") != "hybrid":
        return "the table: every evaluation is a measured result"
    store = Path(str(bench.get("store", "")))
    if not store.is_file():
        return "the table, and a surrogate for the cells it lacks (the store is not at hand to count which)"
    from nasbench.benchmark import TabularBenchmark
    from nasbench.errors import MissingResult
    from nasbench.runner.experiment import read_runs

    table = TabularBenchmark.open(store)
    known: dict[str, bool] = {}
    counts = [0, 0]  # from the table, from the surrogate
    for run in read_runs(out):
        for arch in run.arch:
            if arch not in known:
                try:
                    table.rows([table.space.from_str(arch)])
                    known[arch] = True
                except MissingResult:
                    known[arch] = False
            counts[0 if known[arch] else 1] += 1
    total = sum(counts) or 1
    return (
        f"the table for {100 * counts[0] / total:.1f} % of the evaluations (measured results), a surrogate fitted "
        f"on it for the other {100 * counts[1] / total:.1f} % (predictions, `OUT/surrogate`)"
    )


def _time_label(config: dict[str, Any]) -> str:
    return "simulated time (s)" if config.get("time_unit") == "s" else "simulated time (evaluations)"


def _score_label(analysis: Analysis) -> str:
    sc = analysis.score
    return f"incumbent {sc.metric} ({sc.unit}, {sc.better})" if sc.percent else f"incumbent {sc.metric} ({sc.better})"


def _regret_label(analysis: Analysis) -> str:
    sc = analysis.score
    return "regret (percentage points, log)" if sc.percent else f"regret ({sc.metric}, log)"


def _regret_definition(analysis: Analysis) -> str:
    return "optimum - score" if analysis.score.direction == "max" else "score - optimum"


def draw_figures(analysis: Analysis, out: Path) -> dict[str, Path]:
    from nasbench.analysis import plots

    palette = plots.colors(analysis.labels)
    figs: dict[str, Path] = {}
    opt = analysis.optimum
    sc = analysis.score
    common: dict[str, Any] = {"scale": sc.scale, "direction": sc.direction, "palette": palette}
    bench = analysis.config.get("benchmark") or {}
    on = f" on {bench.get('space', '?')} / {bench.get('dataset', '?')}" if bench else ""
    figs["score_vs_evaluations"] = plots.plot_curves(
        analysis.eval_curves,
        out / "score_vs_evaluations.png",
        xlabel="evaluations",
        ylabel=_score_label(analysis),
        title=f"Incumbent score{on} (mean ± s.e. over seeds)",
        optimum=opt,
        **common,
    )
    regret_title = f"Regret = {_regret_definition(analysis).replace('score', 'incumbent score')}"
    if opt is not None:
        figs["regret_vs_evaluations"] = plots.plot_curves(
            analysis.eval_curves,
            out / "regret_vs_evaluations.png",
            xlabel="evaluations",
            ylabel=_regret_label(analysis),
            title=f"{regret_title}{on} (mean ± s.e.)",
            offset=opt,
            logy=True,
            **common,
        )
    if analysis.time_curves is not None:
        name = "regret_vs_time" if opt is not None else "score_vs_time"
        figs[name] = plots.plot_curves(
            analysis.time_curves,
            out / f"{name}.png",
            xlabel=_time_label(analysis.config) + ", log",
            ylabel=_regret_label(analysis) if opt is not None else _score_label(analysis),
            title=("Regret" if opt is not None else "Incumbent score") + f"{on} over simulated time (mean ± s.e.)",
            offset=opt,
            logx=True,
            logy=opt is not None,
            **common,
        )
    fronts = analysis.fronts
    if fronts is not None and len(fronts.names) == 2:
        figs["pareto_fronts"] = _draw_fronts(fronts, out, palette, on)
    if analysis.rank_curves:
        figs["rank_vs_evaluations"] = plots.plot_ranks(
            analysis.rank_curves, out / "rank_vs_evaluations.png", xlabel="evaluations", palette=palette
        )
    if analysis.friedman is not None and analysis.critical_difference is not None:
        figs["cd_diagram"] = plots.plot_cd_diagram(
            analysis.labels,
            list(analysis.friedman.avg_ranks),
            analysis.critical_difference,
            analysis.cliques,
            out / "cd_diagram.png",
            title=f"Final ranks{on} over {analysis.friedman.n} seeds; Nemenyi CD at alpha={ALPHA}",
        )
    return figs


def _draw_fronts(fronts: Fronts, out: Path, palette: dict[str, Any], on: str) -> Path:
    from nasbench.analysis import plots

    every = [f for runs in fronts.final.values() for f in runs.values() if len(f)]
    costs = np.concatenate([f[:, 1] for f in every] + ([fronts.true_front[:, 1]] if len(fronts.true_front) else []))
    grid = np.linspace(costs.min(), costs.max(), 300) if len(costs) else np.zeros(1)
    surfaces = {
        label: tuple(attainment(list(runs.values()), grid, level, fronts.directions) for level in (0.75, 0.5, 0.25))
        for label, runs in fronts.final.items()
    }
    scale = 100.0 if fronts.names[0].endswith("_acc") else 1.0
    cost, score = fronts.names[1], fronts.names[0]
    return plots.plot_fronts(
        fronts.true_front,
        {label: runs[fronts.median_seed[label]] for label, runs in fronts.final.items()},
        surfaces,  # type: ignore[arg-type]
        grid,
        out / "pareto_fronts.png",
        xlabel=f"{cost} ({'lower' if fronts.directions[1] == 'min' else 'higher'} is better)",
        ylabel=f"{score}{' (%)' if scale == 100.0 else ''}",
        scale=scale,
        title=f"Final incumbent sets{on}: {score} against {cost}",
        palette=palette,
    )


# ---------------------------------------------------------------- text


def _num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def table_header(analysis: Analysis) -> list[str]:
    """Column names; the score columns name their unit ("%" for an accuracy, else the metric)."""
    sc = analysis.score
    scores = [f"mean ± std ({sc.unit})", f"median ({sc.unit})", f"regret ({sc.diff_unit})"]
    return ["#", "strategy", "runs", *scores, "evals", "overhead (ms/eval)"]


def table_rows(analysis: Analysis) -> list[list[str]]:
    sc = analysis.score
    return [
        [
            str(r.place),
            r.label,
            str(r.runs),
            f"{sc.fmt(r.mean)} ± {sc.fmt(r.std)}",
            sc.fmt(r.median),
            sc.fmt(r.regret),
            _num(r.evaluations, 1),
            _num(r.overhead_ms_per_eval, 3),
        ]
        for r in analysis.table
    ]


def _extra_columns(analysis: Analysis) -> tuple[list[str], list[list[str]]]:
    return ["avg rank", "wall (s/run)"], [[_num(r.avg_rank), _num(r.wall_s, 3)] for r in analysis.table]


def format_table(analysis: Analysis) -> str:
    """The final table as aligned plain text (for a terminal)."""
    extra_head, extra = _extra_columns(analysis)
    head = table_header(analysis) + extra_head
    rows = [a + b for a, b in zip(table_rows(analysis), extra, strict=True)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    left = {1}  # the strategy column reads better left-aligned

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _md_table(head: list[str], rows: list[list[str]], align_left: set[int] | None = None) -> str:
    align_left = align_left or {1}
    sep = [":---" if i in align_left else "---:" for i in range(len(head))]
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def _setup_lines(analysis: Analysis) -> list[str]:
    c = analysis.config
    bench = c.get("benchmark") or {}
    proto = c.get("protocol") or {}
    budget = c.get("budget") or {}
    parts = []
    if budget.get("evaluations") is not None:
        parts.append(f"{budget['evaluations']} evaluations")
    if budget.get("time_s") is not None:
        parts.append(f"{budget['time_s']:g} s of simulated time")
    sc = analysis.score
    search_metric = proto.get("search_metric")
    search_better = "higher" if direction_of(c, str(search_metric)) == "max" else "lower"
    lines = [
        f"- benchmark: space `{bench.get('space', '?')}`, dataset `{bench.get('dataset', '?')}`, store "
        f"`{bench.get('store', '?')}` (sha256 `{str(bench.get('sha256', '?'))[:12]}…`)",
        f"- protocol: strategies see `{search_metric}` ({search_better} is better) at epoch "
        f"{proto.get('search_epoch')}; the incumbent (best seen so far) is scored by `{sc.metric}` ({sc.better}) "
        f"at epoch {proto.get('score_epoch')}; noise `{proto.get('noise')}`",
        f"- budget: {' or '.join(parts) or '?'} per run; {c.get('workers', 1)} worker(s); strategy overhead "
        f"{'charged to' if c.get('charge_overhead') else 'not charged to'} the simulated clock",
        f"- seeds: {len(c.get('seeds', []))} asked, {len(analysis.paired_seeds)} finished by every strategy "
        "(paired: used for ranks and tests)",
    ]
    opt = c.get("optimum")
    if analysis.optimum is not None:
        # The space's official string; results written before strings were recorded hold a table index.
        name = opt.get("arch") if isinstance(opt, dict) else None
        arch = f" (`{name}`)" if name is not None and name != "" else ""
        lines.append(
            f"- optimum of the benchmark: {sc.fmt(sc.scale * analysis.optimum)} {sc.unit}{arch}; "
            f"regret = {_regret_definition(analysis)}"
        )
    strategies = [
        f"`{s['label']}`" + (f" ({json.dumps(s['params'])})" if s.get("params") else "") for s in c["strategies"]
    ]
    lines.append(f"- strategies: {', '.join(strategies)}")
    lines.append(f"- nasbench {c.get('nasbench_version', '?')}")
    return lines


def _rank_section(analysis: Analysis) -> list[str]:
    if not analysis.rank_curves:
        return ["Not computed: " + (analysis.notes[-1] if analysis.notes else "nothing to rank") + "."]
    cps = analysis.rank_checkpoints
    head = ["#", "strategy", *(f"@{c} evals" for c in cps)]
    rows = []
    for r in sorted(analysis.table, key=lambda r: (r.avg_rank, r.label)):
        curve = analysis.rank_curves[r.label]
        at = {int(g): i for i, g in enumerate(curve.grid)}
        rows.append([str(r.place), r.label, *(_num(float(curve.mean[at[c]])) for c in cps)])
    return [
        f"Strategies ranked within each of the {len(analysis.paired_seeds)} paired seeds (1 = best, ties share "
        "their average rank), then averaged. Ordered by final rank; # is the place in the final table.",
        "",
        _md_table(head, rows),
    ]


def _significance_section(analysis: Analysis, alpha: float) -> list[str]:
    fr = analysis.friedman
    if fr is None:
        return ["Not tested: " + "; ".join(analysis.notes or ["fewer than 2 strategies"]) + "."]
    labels = analysis.tested_labels
    verdict = "differ" if fr.pvalue < alpha else "are not shown to differ"
    out = [
        f"**Friedman test** (final scores, {fr.n} seeds × {fr.k} strategies): χ² = {fr.statistic:.2f}, "
        f"p = {format_p(fr.pvalue)} — at α = {alpha} the strategies {verdict}.",
        "",
        f"**Nemenyi critical difference** (α = {alpha}): CD = {analysis.critical_difference:.3f} in average rank. ",
    ]
    order = sorted(range(len(labels)), key=lambda j: fr.avg_ranks[j])
    groups = [", ".join(labels[order[i]] for i in range(s, e + 1)) for s, e in analysis.cliques]
    out[-1] += (
        "Groups not told apart: " + "; ".join(f"{{{g}}}" for g in groups) + "."
        if groups
        else "Every pair of strategies is told apart."
    )
    sc = analysis.score
    rows = []
    for p in sorted(analysis.pairs, key=lambda p: (p.p_holm, p.a, p.b)):
        a, b = labels[p.a], labels[p.b]
        if p.mean_lead < 0:  # name the better one first
            a, b = b, a
            won, lost = p.losses, p.wins
        else:
            won, lost = p.wins, p.losses
        rows.append(
            [
                f"{a} vs {b}",
                str(p.n),
                sc.fmt(sc.scale * abs(p.mean_lead), 1),
                f"{won}/{p.ties}/{lost}",
                format_p(p.pvalue),
                format_p(p.p_holm),
                "yes" if p.p_holm < alpha else "no",
            ]
        )
    out += [
        "",
        f"**Pairwise Wilcoxon signed-rank tests** (two-sided, zero differences dropped), p-values Holm-adjusted "
        f"over the {len(analysis.pairs)} pairs; the better strategy by mean is named first.",
        "",
        _md_table(
            [
                "pair",
                "seeds",
                f"mean lead ({sc.diff_unit})",
                "wins/ties/losses",
                "p",
                "Holm p",
                f"significant (α={alpha})",
            ],
            rows,
            {0},
        ),
    ]
    return out


def _objectives_section(analysis: Analysis) -> list[str]:
    fronts = analysis.fronts
    assert fronts is not None
    described = analysis.config.get("objectives") or {}
    constraints = described.get("constraints") or []
    free = (
        "Costs are known before training (static figures of the store) and, as in the hardware-aware NAS "
        "literature, free to read: they cost no simulated time, and strategies may read them for any arch."
    )
    lines = ["## Objectives and constraints", ""]
    if fronts.multi:
        objectives = ", ".join(
            f"`{o}`" for o in (fronts.names[0] + ":" + fronts.directions[0], *described["objectives"])
        )
        opt = described.get("optimum_hypervolume")
        lines += [
            f"Objectives: {objectives}. A run's incumbent is its set of feasible evaluated archs that no other "
            "dominates by validation score and costs; it is scored by the **hypervolume** of that set's test-side "
            "points (score metric and costs), each objective normalised to [0, 1] by its range over the table "
            "(0 its best value, 1 its worst), against the reference point 1 in every objective (the table's worst "
            f"values): {_num(opt, 4) if opt is not None else 'n/a'} for the table's true front of "
            f"{described.get('true_front_size', '?')} archs, which is the optimum above. {free}",
            "",
        ]
    else:
        lines += [f"A constrained single-objective comparison: the incumbent is the best feasible arch. {free}", ""]
    if constraints:
        lines += [
            f"Constraints: {', '.join(f'`{c}`' for c in constraints)}. Strategies are told an infeasible trial as "
            "such (its score reported below every feasible score of the table, the lower the larger the violation).",
            "",
        ]
    head = ["strategy", "feasible evaluations (%)"]
    if fronts.multi:
        head += ["final set size", "IGD to the true front (mean ± std)"]
    rows = []
    for r in analysis.table:
        row = [r.label, _num(100 * fronts.feasible_share.get(r.label, math.nan), 1)]
        if fronts.multi:
            mean, std = fronts.igd.get(r.label, (math.nan, math.nan))
            row += [_num(fronts.size.get(r.label, math.nan), 1), f"{_num(mean, 4)} ± {_num(std, 4)}"]
        rows.append(row)
    lines += [_md_table(head, rows, {0}), ""]
    if fronts.multi:
        lines += [
            "IGD: the mean distance from each point of the true front to the nearest point of a run's final set, "
            "each objective divided by its range over the table (0: the true front found).",
            "",
        ]
        if len(fronts.names) != 2:
            lines += ["No front figure: fronts are drawn for two objectives.", ""]
    return lines


def render_markdown(
    analysis: Analysis,
    figures: dict[str, Path],
    alpha: float = ALPHA,
    *,
    answered: str | None = None,
    why: list[str] | None = None,
) -> str:
    name = Path(str(analysis.config.get("benchmark", {}).get("dataset", ""))).name

    def fig(key: str, caption: str) -> list[str]:
        return [f"![{caption}]({figures[key].name})", ""] if key in figures else []

    extra_head, extra = _extra_columns(analysis)
    sc = analysis.score
    search_metric = (analysis.config.get("protocol") or {}).get("search_metric", "validation")
    regret_unit = "percentage points" if sc.percent else f"units of `{sc.metric}`"
    lines = [
        f"# Strategy comparison{f' on {name}' if name else ''}",
        "",
        f"**Conclusion:** {analysis.conclusion}",
        "",
        "## Setup",
        "",
        *_setup_lines(analysis),
        *([f"- answered by: {answered}"] if answered else []),
        "",
        "## Final incumbent score",
        "",
        f"`{sc.metric}` of each run's final incumbent (the architecture with the best `{search_metric}` it saw), "
        f"mean ± sample standard deviation over seeds, ranked by mean, best first ({sc.better}). Regret "
        f"({_regret_definition(analysis)}) is in {regret_unit}; overhead is the real time the strategy itself spent "
        "per evaluation.",
        "",
        _md_table(
            table_header(analysis) + extra_head, [a + b for a, b in zip(table_rows(analysis), extra, strict=True)]
        ),
        "",
        "## Curves",
        "",
        "Mean ± standard error over seeds of each run's incumbent, a step function read on a common grid "
        "(over simulated time, a strategy's curve starts once every one of its runs has a first result).",
        "",
        *fig("score_vs_evaluations", "incumbent score vs evaluations"),
        *fig("regret_vs_evaluations", "regret vs evaluations"),
        *fig("regret_vs_time", "regret vs simulated time"),
        *fig("score_vs_time", "incumbent score vs simulated time"),
    ]
    if not figures:
        lines += ["Figures not drawn (`--no-plots`).", ""]
    elif analysis.time_curves is None:
        lines += ["No time plot: with one worker and no training times, simulated time is the evaluation count.", ""]
    if analysis.fronts is not None:
        lines += _objectives_section(analysis)
        lines += fig("pareto_fronts", "final incumbent sets and attainment surfaces")
    lines += ["## Average rank over time", "", *_rank_section(analysis), "", *fig("rank_vs_evaluations", "rank")]
    lines += ["## Significance", "", *_significance_section(analysis, alpha), ""]
    lines += fig("cd_diagram", "critical difference diagram")
    lines += why or []
    if analysis.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in analysis.notes), ""]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- json


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> null, numpy scalars -> Python numbers."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def summary_dict(analysis: Analysis, figures: dict[str, Path], alpha: float = ALPHA) -> dict[str, Any]:
    c = analysis.config
    labels = analysis.tested_labels
    fr = analysis.friedman
    sc = analysis.score
    out: dict[str, Any] = {
        "conclusion": analysis.conclusion,
        "experiment": {
            k: c.get(k) for k in ("benchmark", "protocol", "directions", "budget", "workers", "optimum", "time_unit")
        },
        # Units of "table" (mean, std, median: unit; regret: diff_unit) and of "wilcoxon_holm" mean_lead.
        "score": {"metric": sc.metric, "direction": sc.direction, "unit": sc.unit, "diff_unit": sc.diff_unit},
        "seeds": {"asked": len(c.get("seeds", [])), "paired": len(analysis.paired_seeds)},
        "table": [asdict(r) for r in analysis.table],
        "ranks": {
            "evaluations": analysis.rank_checkpoints,
            "by_strategy": {
                label: [float(curve.mean[list(curve.grid.astype(int)).index(cp)]) for cp in analysis.rank_checkpoints]
                for label, curve in analysis.rank_curves.items()
            },
        },
        "alpha": alpha,
        "friedman": None
        if fr is None
        else {
            "statistic": fr.statistic,
            "pvalue": fr.pvalue,
            "seeds": fr.n,
            "strategies": labels,
            "avg_ranks": list(fr.avg_ranks),
        },
        "nemenyi": None
        if analysis.critical_difference is None
        else {
            "critical_difference": analysis.critical_difference,
            "groups": [
                [labels[j] for j in sorted(range(len(labels)), key=lambda j: fr.avg_ranks[j])[s : e + 1]]
                for s, e in analysis.cliques
            ]
            if fr is not None
            else [],
        },
        "wilcoxon_holm": [
            {
                "a": labels[p.a],
                "b": labels[p.b],
                "seeds": p.n,
                "mean_lead": sc.scale * p.mean_lead,  # positive: a is better
                "wins": p.wins,
                "ties": p.ties,
                "losses": p.losses,
                "statistic": p.statistic,
                "pvalue": p.pvalue,
                "p_holm": p.p_holm,
                "significant": bool(p.p_holm < alpha),
            }
            for p in analysis.pairs
        ],
        "figures": {k: v.name for k, v in figures.items()},
        "notes": analysis.notes,
    }
    return _clean(out)
