"""The FCNet space of the HPOLib tabular benchmarks (Klein & Hutter, "Tabular Benchmarks for Joint Architecture and
Hyperparameter Optimization", 2019): a two-layer fully connected network and its training hyperparameters, every
combination trained on 4 UCI regression tasks, 62,208 configurations, 4 seeds, 100 epochs.

An arch is the index of each value, decisions in the benchmark's (alphabetical) key order; the official string is
the configuration dict as ``key=value`` pairs in that order, e.g.
``activation_fn_1=relu,activation_fn_2=tanh,batch_size=32,dropout_1=0.0,dropout_2=0.3,init_lr=0.0005,``
``lr_schedule=cosine,n_units_1=512,n_units_2=64``. Every combination is a member; no two are the same network.
"""

from __future__ import annotations

import json
from typing import Any

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, EnumerableSpace

#: The configuration space, in the key order of the benchmark's files (``json.dumps(config, sort_keys=True)``).
CONFIG: dict[str, tuple[Any, ...]] = {
    "activation_fn_1": ("relu", "tanh"),
    "activation_fn_2": ("relu", "tanh"),
    "batch_size": (8, 16, 32, 64),
    "dropout_1": (0.0, 0.3, 0.6),
    "dropout_2": (0.0, 0.3, 0.6),
    "init_lr": (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
    "lr_schedule": ("cosine", "const"),
    "n_units_1": (16, 32, 64, 128, 256, 512),
    "n_units_2": (16, 32, 64, 128, 256, 512),
}
KEYS: tuple[str, ...] = tuple(CONFIG)
_EXAMPLE = "activation_fn_1=relu,activation_fn_2=tanh,batch_size=32,dropout_1=0.0,dropout_2=0.3,init_lr=0.0005,"
_EXAMPLE += "lr_schedule=cosine,n_units_1=512,n_units_2=64"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


class FCNetSpace(EnumerableSpace):
    """FCNet: 2 * 2 * 4 * 3 * 3 * 6 * 2 * 6 * 6 = 62,208 configurations, all members, canonical form the identity."""

    name = "fcnet"
    choices = tuple(len(v) for v in CONFIG.values())
    decisions = KEYS
    options = tuple(tuple(_text(v) for v in values) for values in CONFIG.values())

    def to_str(self, arch: Arch) -> str:
        arch = self.validate(arch)
        return ",".join(f"{key}={self.options[d][arch[d]]}" for d, key in enumerate(KEYS))

    def from_str(self, text: str) -> Arch:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"expected an fcnet string such as {_EXAMPLE!r}, got {type(text).__name__}")
        pairs = [p.partition("=") for p in text.strip().split(",")]
        keys = [k.strip() for k, _, _ in pairs]
        if keys != list(KEYS) or any(not sep for _, sep, _ in pairs):
            raise InvalidArchitecture(
                f"an fcnet string is key=value pairs for {', '.join(KEYS)}, in that order, e.g. {_EXAMPLE!r}; "
                f"got {text!r}"
            )
        out = []
        for d, (_, _, value) in enumerate(pairs):
            value = value.strip()
            if value not in self.options[d]:
                raise InvalidArchitecture(
                    f"{KEYS[d]}={value!r} in {text!r}: {KEYS[d]} is one of {', '.join(self.options[d])}"
                )
            out.append(self.options[d].index(value))
        return tuple(out)

    def config(self, arch: Arch) -> dict[str, Any]:
        """The benchmark's configuration dict of ``arch``."""
        arch = self.validate(arch)
        return {key: CONFIG[key][arch[d]] for d, key in enumerate(KEYS)}

    def official_key(self, arch: Arch) -> str:
        """The arch's group name in the official HDF5 files: the config as ``json.dumps(sort_keys=True)``."""
        return json.dumps(self.config(arch), sort_keys=True)
