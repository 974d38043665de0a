"""Surrogate models by snake_case name, imported lazily ("module:Class") so naming one costs nothing."""

from __future__ import annotations

import importlib
from typing import Any

from nasbench.errors import InvalidQuery

MODELS: dict[str, str] = {
    "xgboost": "nasbench.surrogates.models.xgb:XGBoostSurrogate",
    "random_forest": "nasbench.surrogates.models.sk:RandomForestSurrogate",
    "gp": "nasbench.surrogates.models.sk:GPSurrogate",
    "svr": "nasbench.surrogates.models.sk:SVRSurrogate",
    "knn": "nasbench.surrogates.models.sk:KNNSurrogate",
    "ridge": "nasbench.surrogates.models.sk:RidgeSurrogate",
    "mlp_ensemble": "nasbench.surrogates.models.mlp:MLPEnsembleSurrogate",
    "gin": "nasbench.surrogates.models.gin:GINSurrogate",
}
DEFAULT_MODEL = "xgboost"


def model_class(name: str) -> Any:
    try:
        module, _, cls = MODELS[name].partition(":")
    except KeyError:
        raise InvalidQuery(f"unknown surrogate model {name!r}; known: {', '.join(MODELS)}") from None
    return getattr(importlib.import_module(module), cls)


def make_model(name: str, params: dict[str, Any] | None = None, seed: int = 0) -> Any:
    """A fresh, unfitted model; ``params`` are its constructor arguments (unknown ones raise InvalidQuery)."""
    cls = model_class(name)
    params = dict(params or {})
    allowed = set(cls().get_params())
    unknown = set(params) - allowed
    if unknown:
        raise InvalidQuery(f"unknown parameter(s) {sorted(unknown)} for {name}; allowed: {', '.join(sorted(allowed))}")
    params.setdefault("seed", seed)
    return cls(**params)


__all__ = ["DEFAULT_MODEL", "MODELS", "make_model", "model_class"]
