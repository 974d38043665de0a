"""Search spaces by name. numpy only: importing a space never imports torch."""

from __future__ import annotations

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.nb201 import NB201Space

SPACES = {"nb201": NB201Space}


def get_space(name: str) -> NB201Space:
    """The search space registered as ``name``."""
    try:
        return SPACES[name]()
    except KeyError:
        raise InvalidArchitecture(f"unknown search space {name!r}; known: {', '.join(sorted(SPACES))}") from None


__all__ = ["SPACES", "NB201Space", "get_space"]
