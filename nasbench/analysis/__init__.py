"""Analysis of strategy comparisons: incumbent and regret curves, average ranks over time, Friedman/Nemenyi and
Wilcoxon/Holm significance tests, PNG figures (matplotlib, imported only when drawing) and the Markdown report,
all oriented by the score metric's direction and shown in its units."""

from nasbench.analysis.curves import Curve, evaluation_grid, mean_se, run_matrix, step_values, time_grid
from nasbench.analysis.report import ReportFiles, format_table, load_analysis, write_report
from nasbench.analysis.stats import (
    FriedmanResult,
    PairTest,
    cd_cliques,
    friedman,
    holm,
    nemenyi_critical_difference,
    pairwise_wilcoxon,
    rank_rows,
    wilcoxon_pair,
)
from nasbench.analysis.summary import Analysis, Row, ScoreScale, analyze

__all__ = [
    "Analysis",
    "Curve",
    "FriedmanResult",
    "PairTest",
    "ReportFiles",
    "Row",
    "ScoreScale",
    "analyze",
    "cd_cliques",
    "evaluation_grid",
    "format_table",
    "friedman",
    "holm",
    "load_analysis",
    "mean_se",
    "nemenyi_critical_difference",
    "pairwise_wilcoxon",
    "rank_rows",
    "run_matrix",
    "step_values",
    "time_grid",
    "wilcoxon_pair",
    "write_report",
]
