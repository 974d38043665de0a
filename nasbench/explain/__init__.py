"""Why an architecture wins and what a strategy learned.

- :func:`landscape`: the functional-ANOVA decomposition of a metric over the space's decisions (exact on a
  complete table, estimated from a surrogate on a partial one), as DataFrames;
- :func:`explain_arch`: one architecture's per-decision contributions (Shapley values) and counterfactual
  neighbours;
- :func:`learned`: from a results directory, how each strategy's proposals moved over its runs, against the
  landscape's importance map;
- :mod:`.render`: Markdown, JSON and figures (``nasbench explain``).

Importing this package is cheap (numpy); pandas, xgboost and matplotlib load when a function needs them.
"""

from __future__ import annotations

from nasbench.explain.landscape import Landscape, Target, landscape
from nasbench.explain.learned import Learned, learned
from nasbench.explain.winner import ArchExplanation, explain_arch

__all__ = ["ArchExplanation", "Landscape", "Learned", "Target", "explain_arch", "landscape", "learned"]
