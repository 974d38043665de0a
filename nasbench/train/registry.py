"""Which search spaces nasbench can train for real: one torch network per space. No torch import here, so a
space without a network is refused with a clear error before torch loads."""

from __future__ import annotations

from nasbench.errors import MissingCapability

#: space name -> "module:Class" of its torch network
NETWORKS: dict[str, str] = {"nb201": "nasbench.train.network:NB201Network"}


def require_network(space: str, who: str) -> None:
    """Raise :class:`MissingCapability` unless nasbench has a torch network for ``space``."""
    if space not in NETWORKS:
        raise MissingCapability(
            f"{who} trains networks for real, and nasbench has a torch network only for the space(s) "
            f"{', '.join(NETWORKS)}; this store's space is {space!r}"
        )
