"""Weight-sharing NAS over an NB201 supernet: ENAS, DARTS (first and second order), GDAS and random search with
weight sharing, each trained for real and scored by a benchmark (:mod:`nasbench.oneshot.compare`).

Importing this package does not import torch; the method modules do.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from nasbench.errors import TrainingError

METHODS: dict[str, str] = {
    "enas": "nasbench.oneshot.enas:ENAS",
    "darts": "nasbench.oneshot.darts:DARTS",
    "gdas": "nasbench.oneshot.gdas:GDAS",
    "rsws": "nasbench.oneshot.rsws:RSWS",
}


def method_class(name: str) -> type:
    try:
        module, cls = METHODS[name].split(":")
    except KeyError:
        raise TrainingError(f"unknown weight-sharing method {name!r}; known: {', '.join(METHODS)}") from None
    return getattr(importlib.import_module(module), cls)


def make_method(name: str, **params: Any) -> Any:
    """A configured method; unknown hyperparameters are a clear error."""
    cls = method_class(name)
    import dataclasses

    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise TrainingError(f"{name} has no hyperparameter(s) {', '.join(unknown)}; it has: {', '.join(sorted(known))}")
    return cls(**params)


def parse_method(text: str) -> tuple[str, dict[str, Any]]:
    """``name`` or ``name:key=value:...`` (values parsed as JSON when they can be), as ``nasbench compare``."""
    name, *items = text.strip().split(":")
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise TrainingError(f"method option {item!r} in {text!r} must look like key=value")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    method_class(name)
    return name, params
