"""Search strategies by snake_case name. Classes load lazily (``"module:Class"``), so naming a strategy never
imports what another needs; third-party strategies register through the entry-point group
``nasbench.strategies`` (name = "package.module:Class"), or are named by that import path directly."""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Any

from nasbench.errors import NasbenchError
from nasbench.strategies.base import Feedback, Proposal, SearchContext, Strategy, Trial
from nasbench.strategies.hyperparameters import InvalidHyperparameter, check_params

BUILTIN: dict[str, str] = {
    "random_search": "nasbench.strategies.random_search:RandomSearch",
    "regularized_evolution": "nasbench.strategies.evolution:RegularizedEvolution",
    "local_search": "nasbench.strategies.local_search:LocalSearch",
    "reinforce": "nasbench.strategies.reinforce:Reinforce",
    "successive_halving": "nasbench.strategies.hyperband:SuccessiveHalving",
    "hyperband": "nasbench.strategies.hyperband:Hyperband",
    "bananas": "nasbench.strategies.bananas:Bananas",
    "gp_bo": "nasbench.strategies.bo:GPBO",
    "smac": "nasbench.strategies.bo:SMAC",
    "bohb": "nasbench.strategies.bohb:BOHB",
    "pnas": "nasbench.strategies.pnas:PNAS",
    # multi-objective (they run single-objective too): nasbench.runner.objectives
    "nsga2": "nasbench.strategies.mo_evolution:NSGA2",
    "pareto_local_search": "nasbench.strategies.pareto_local_search:ParetoLocalSearch",
    "parego_gp": "nasbench.strategies.parego:ParEGOGP",
    "parego_smac": "nasbench.strategies.parego:ParEGOSMAC",
    "parego_bananas": "nasbench.strategies.parego:ParEGOBananas",
    "ehvi_gp": "nasbench.strategies.ehvi:EHVIGP",
    # other libraries' optimizers (optional extras, imported when a run starts)
    "optuna_tpe": "nasbench.adapters.optuna_sampler:OptunaTPE",
    "optuna_random": "nasbench.adapters.optuna_sampler:OptunaRandom",
    "optuna_nsga2": "nasbench.adapters.optuna_sampler:OptunaNSGA2",
    "optuna_gp": "nasbench.adapters.optuna_sampler:OptunaGP",
    "synetune_random": "nasbench.adapters.syne_tune_searcher:SyneTuneRandom",
    "synetune_rea": "nasbench.adapters.syne_tune_searcher:SyneTuneREA",
    "synetune_tpe": "nasbench.adapters.syne_tune_searcher:SyneTuneTPE",
}
ENTRY_POINT_GROUP = "nasbench.strategies"


class UnknownStrategy(NasbenchError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def registry() -> dict[str, str]:
    """Every known strategy name -> "module:Class", built-ins first, then installed plug-ins."""
    return {**_plugins(), **BUILTIN}


@functools.lru_cache(maxsize=1)
def _plugins() -> dict[str, str]:
    """Installed plug-ins, read once per process (reading package metadata costs milliseconds)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def strategy_class(name: str) -> type[Strategy]:
    """The class of a registered name, or of an import path ``package.module:Class`` (registered or not)."""
    known = registry()
    if name not in known and ":" in name:
        return _import_class(name)
    if name not in known:
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownStrategy(f"unknown strategy {name!r}; {hint}known: {', '.join(known)}")
    module, _, attr = known[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _import_class(path: str) -> type[Strategy]:
    module, _, attr = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0] or os.getcwd() in sys.path:
            raise UnknownStrategy(f"cannot import strategy {path!r}: {type(exc).__name__}: {exc}") from None
        sys.path.append(os.getcwd())  # `nasbench compare --strategies mymod:X` run beside mymod.py (workers inherit it)
        return _import_class(path)
    except ImportError as exc:
        raise UnknownStrategy(f"cannot import strategy {path!r}: {type(exc).__name__}: {exc}") from None
    except AttributeError:
        raise UnknownStrategy(f"cannot import strategy {path!r}: module {module!r} has no {attr!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise UnknownStrategy(f"{path!r} is not a strategy: a subclass of nasbench.strategies.Strategy is")
    return cls


def strategy_path(cls: type[Strategy]) -> str:
    """The name a strategy class goes by: its registered name, else its import path ``module:Class``."""
    path = f"{cls.__module__}:{cls.__qualname__}"
    return next((name for name, target in registry().items() if target == path), path)


def make_strategy(name: str, **params: Any) -> Strategy:
    """A configured (not yet set up) strategy; unknown hyperparameters and bad values are clear errors."""
    cls = strategy_class(name)
    return cls(**check_params(name, cls, params))


__all__ = [
    "Feedback",
    "InvalidHyperparameter",
    "Proposal",
    "SearchContext",
    "Strategy",
    "Trial",
    "UnknownStrategy",
    "make_strategy",
    "registry",
    "strategy_path",
]
