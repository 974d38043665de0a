"""Search spaces by name. numpy only: importing a space never imports torch.

A space is one module (see :mod:`nasbench.spaces.base` for the protocol); register it in :data:`SPACES` as
``name -> "module:Class"``. Classes load on first use.
"""

from __future__ import annotations

import functools
import importlib

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, DiscreteSpace, Enumerable, EnumerableSpace, SearchSpace
from nasbench.spaces.nb201 import NB201Space

SPACES: dict[str, str] = {
    "nb201": "nasbench.spaces.nb201:NB201Space",
    "nb101": "nasbench.spaces.nb101:NB101Space",
    "nb_macro": "nasbench.spaces.nb_macro:NBMacroSpace",
    "tnb_micro": "nasbench.spaces.transnas:TNBMicroSpace",
    "tnb_macro": "nasbench.spaces.transnas:TNBMacroSpace",
    "nbgraph": "nasbench.spaces.nbgraph:NBGraphSpace",
    "nbgraph_proteins": "nasbench.spaces.nbgraph:NBGraphProteinsSpace",
    "fcnet": "nasbench.spaces.fcnet:FCNetSpace",
}


def get_space(name: str) -> SearchSpace:
    """The search space registered as ``name`` (one shared, stateless instance per name)."""
    if not isinstance(name, str) or name not in SPACES:
        raise InvalidArchitecture(f"unknown search space {name!r}; known: {', '.join(SPACES)}")
    return _load(name)


@functools.cache
def _load(name: str) -> SearchSpace:
    module, _, attr = SPACES[name].partition(":")
    return getattr(importlib.import_module(module), attr)()


__all__ = [
    "SPACES",
    "Arch",
    "DiscreteSpace",
    "Enumerable",
    "EnumerableSpace",
    "NB201Space",
    "SearchSpace",
    "get_space",
]
