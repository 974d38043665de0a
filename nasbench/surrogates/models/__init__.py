"""Surrogate models by snake_case name, imported lazily ("module:Class") so naming one costs nothing."""

from __future__ import annotations

import importlib
import math
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
    defaults = cls().get_params()
    for key, value in params.items():
        _check_like_default(name, key, value, defaults[key])
    params.setdefault("seed", seed)
    return cls(**params)


_KIND_WORDS = {bool: "true or false", int: "an integer", float: "a finite number"}


def _check_like_default(model: str, key: str, value: Any, default: Any) -> None:
    """A parameter is of its default's type (an int where the default is one, a finite number where it is a
    float); the library checks the range itself when the model is fitted."""
    if default is None or isinstance(default, str) or value is None:
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    else:
        return
    if not ok:
        raise InvalidQuery(
            f"surrogate model {model!r}: {key}={value!r} is not allowed; it takes "
            f"{_KIND_WORDS[type(default)]} (default {default!r})"
        )


__all__ = ["DEFAULT_MODEL", "MODELS", "make_model", "model_class"]
