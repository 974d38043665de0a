"""What a strategy's hyperparameters are, and checking values against them before anything runs.

A strategy declares its hyperparameters by its constructor: each argument's annotation gives the type (``int``,
``float``, ``bool``, ``str``; ``| None`` allows None) and its default the default. The class adds what a signature
cannot say: ``ranges`` (interval notation, e.g. ``{"population_size": "[2, 10000]", "learning_rate": "(0, inf)"}``)
and ``options`` (allowed strings). Undeclared ranges are finite numbers, and integers in [1, 1,000,000]: counts.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError

_KINDS = {"int": int, "float": float, "bool": bool, "str": str}
_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,]+?)\s*,\s*([^,]+?)\s*([\])])\s*$")
DEFAULT_INT_RANGE = "[1, 1000000]"


class InvalidHyperparameter(NasbenchError, ValueError):
    """A hyperparameter value of the wrong type or outside its range."""


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    kind: type
    default: Any
    optional: bool = False  # None is allowed (the strategy then derives the value from the benchmark)
    interval: str | None = None  # "[lo, hi]", "(lo, hi]", ...; None: any finite value
    options: tuple[str, ...] = ()

    def describe(self) -> str:
        what = self.kind.__name__
        if self.options:
            what += " in {" + ", ".join(self.options) + "}"
        elif self.interval:
            what += " in " + self.interval
        if self.optional:
            what += " or None"
        return f"{self.name}: {what} (default {self.default!r})"

    def check(self, strategy: str, value: Any) -> Any:
        """``value`` as the strategy takes it (numpy numbers become Python ones), or InvalidHyperparameter."""
        if value is None and self.optional:
            return None
        checked = self._typed(value)
        if checked is None or not self._allowed(checked):
            raise InvalidHyperparameter(
                f"strategy {strategy!r}: {self.name}={_show(value)} is not allowed; it takes {self.describe()}"
            )
        return checked

    def _typed(self, value: Any) -> Any:
        if self.kind is bool:
            return value if isinstance(value, (bool, np.bool_)) else None
        if isinstance(value, (bool, np.bool_)):
            return None  # True is not the number 1 here
        if self.kind is int:
            return int(value) if isinstance(value, (int, np.integer)) else None
        if self.kind is float:
            return float(value) if isinstance(value, (int, float, np.integer, np.floating)) else None
        return value if isinstance(value, str) else None

    def _allowed(self, value: Any) -> bool:
        if self.kind is str:
            return not self.options or value in self.options
        if self.kind is bool:
            return True
        if not math.isfinite(value):
            return False
        if self.interval is None:
            return True
        match = _INTERVAL.match(self.interval)
        assert match, f"bad interval {self.interval!r} for {self.name}"
        left, lo, hi, right = match.group(1), float(match.group(2)), float(match.group(3)), match.group(4)
        return (lo <= value if left == "[" else lo < value) and (value <= hi if right == "]" else value < hi)


def declared(cls: type[object]) -> tuple[Hyperparameter, ...]:
    """The hyperparameters a strategy class declares (see the module docs)."""
    ranges: dict[str, str] = getattr(cls, "ranges", {})
    options: dict[str, tuple[str, ...]] = getattr(cls, "options", {})
    out = []
    for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue  # no constructor of its own (object's *args, **kwargs): no hyperparameters
        annotation = (
            param.annotation if isinstance(param.annotation, str) else getattr(param.annotation, "__name__", "")
        )
        parts = [p.strip() for p in str(annotation).split("|")]
        optional = "None" in parts
        kinds = [_KINDS[p] for p in parts if p in _KINDS]
        if len(kinds) != 1:
            raise TypeError(f"{cls.__name__}.{param.name}: annotate hyperparameters as int, float, bool or str")
        kind = kinds[0]
        interval = ranges.get(param.name, DEFAULT_INT_RANGE if kind is int else None)
        out.append(
            Hyperparameter(param.name, kind, param.default, optional, interval, tuple(options.get(param.name, ())))
        )
    return tuple(out)


def check_params(name: str, cls: type, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against the declaration: unknown names and bad values are clear errors."""
    specs = {h.name: h for h in declared(cls)}
    unknown = sorted(set(params) - set(specs))
    if unknown:
        from nasbench.strategies import UnknownStrategy

        raise UnknownStrategy(
            f"strategy {name!r} has no hyperparameter(s) {unknown}; it takes: {', '.join(specs) or 'none'}"
        )
    return {key: specs[key].check(name, value) for key, value in params.items()}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
