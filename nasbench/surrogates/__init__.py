"""Surrogates: predict any architecture's results from a store, measure how well, serve surrogate and hybrid
benchmarks. Importing this package is cheap; scikit-learn, xgboost and torch load when a model is made.

- :mod:`.features`   named, combinable feature matrices from the space's encodings and the store's static
                     figures (``"path+live_onehot+cell_stats"``, ``"onehot+static"``), for any search space
- :mod:`.static`     the store's per-arch static columns as features, and the rule for archs the store lacks
- :mod:`.models`     the registry of models (xgboost, random_forest, gp, svr, knn, ridge, mlp_ensemble, gin)
- :mod:`.surrogate`  :class:`Surrogate` (features + model + target), :func:`fit_from_store`, save/load
- :mod:`.noise`      seed-to-seed noise model and reproducible standard-normal draws
- :mod:`.evaluate`   Kendall tau & co over repeated splits and training sizes; table and plot
- :mod:`.benchmarks` :class:`SurrogateBenchmark`, :class:`HybridBenchmark`
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Surrogate": "nasbench.surrogates.surrogate",
    "SurrogateMismatch": "nasbench.surrogates.surrogate",
    "fit_from_store": "nasbench.surrogates.surrogate",
    "SurrogateBenchmark": "nasbench.surrogates.benchmarks",
    "HybridBenchmark": "nasbench.surrogates.benchmarks",
    "featurize": "nasbench.surrogates.features",
    "default_features": "nasbench.surrogates.features",
    "StaticTable": "nasbench.surrogates.static",
    "MODELS": "nasbench.surrogates.models",
    "evaluate": "nasbench.surrogates.evaluate",
    "score": "nasbench.surrogates.evaluate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nasbench.surrogates' has no attribute {name!r}")


__all__ = sorted(_LAZY)
