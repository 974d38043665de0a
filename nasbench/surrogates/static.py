"""The store's own per-architecture static figures (``/static``: params_m, flops_m, latencies, ...) as features.

Rule: the ``static`` feature is known exactly for the archs the store holds a row for, and only for those. An arch
without a row raises :class:`InvalidQuery` instead of getting NaN features. Why not NaN: every training arch
comes from the store and so has its static figures, so no model ever learns what a missing figure means (xgboost
would send it down an arbitrary default branch); the prediction would be silently wrong for exactly the archs a
surrogate exists for. Static figures describe the trained network (its width, depth, input size), which the
cell alone does not fix, so they cannot be computed for an arch the store lacks either. A NaN *inside* a row
(the source did not publish that figure for that arch) stays NaN: xgboost handles it natively, other models
refuse it with a clear error.

So ``static`` suits evaluation (predictions on held-out store archs) and benchmarks over stores that hold every
arch they are asked about; a surrogate benchmark over a partial store uses the space's encodings only.

Columns named ``official_*`` (``official_index``, ``official_iso_rep``) are the source's row labels, not
figures of the architecture: ``static`` leaves them out; ``static:<name>,<name>`` picks columns explicitly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import InvalidQuery, StoreError
from nasbench.spaces.base import SearchSpace, arch_keys, canonical_keys, find_keys

IDENTIFIER_PREFIX = "official_"


class StaticTable:
    """Static columns of a store, looked up by arch key (the canonical form's key where the store is iso_shared)."""

    def __init__(
        self, space: SearchSpace, names: Sequence[str], archs: np.ndarray, values: np.ndarray, *, iso_shared: bool
    ) -> None:
        self.space = space
        self.names = tuple(names)
        self.archs = np.asarray(archs, dtype=np.int64).reshape(-1, len(space.choices))
        self.values = np.asarray(values, dtype=np.float32).reshape(len(self.archs), len(self.names))
        self.iso_shared = bool(iso_shared)
        self._keys = arch_keys(space, self.archs)
        if np.any(np.diff(self._keys) <= 0):
            raise StoreError("static table rows must be unique and sorted lexicographically, as a store's /archs")

    @classmethod
    def from_bench(cls, bench: Any) -> StaticTable | None:
        """The static columns of a :class:`~nasbench.benchmark.TabularBenchmark` (None for a benchmark without
        a store behind it)."""
        data = getattr(bench, "data", None)
        if data is None:
            return None
        names = sorted(data.static)
        values = np.stack([np.asarray(data.static[n], dtype=np.float32) for n in names], axis=1) if names else None
        archs = np.asarray(bench.archs(), dtype=np.int64).reshape(-1, len(bench.space.choices))
        if values is None:
            values = np.zeros((len(archs), 0), dtype=np.float32)
        return cls(bench.space, names, archs, values, iso_shared=bench.iso_shared)

    def columns(self, spec: str) -> tuple[str, ...]:
        """The columns a ``static`` feature name asks for: ``static`` (every figure, identifiers left out) or
        ``static:a,b`` (exactly those)."""
        _, sep, picked = spec.partition(":")
        if not sep:
            names = tuple(n for n in self.names if not n.startswith(IDENTIFIER_PREFIX))
            if not names:
                held = f" (only identifiers: {', '.join(self.names)})" if self.names else ""
                raise InvalidQuery(
                    f"the 'static' feature reads the store's /static figures, and this store has none{held}; "
                    "use the space's encodings only, or pick columns with static:<name>,<name>"
                )
            return names
        names = tuple(n.strip() for n in picked.split(",") if n.strip())
        unknown = [n for n in names if n not in self.names]
        if not names or unknown:
            raise InvalidQuery(
                f"{spec!r} names static column(s) {unknown or '(none)'}; this store holds: "
                f"{', '.join(self.names) or 'no static columns'}"
            )
        return names

    def select(self, names: Sequence[str]) -> StaticTable:
        """The same rows with only ``names``, in that order (what a surrogate keeps and saves)."""
        cols = [self.names.index(n) for n in names]
        return StaticTable(self.space, names, self.archs, self.values[:, cols], iso_shared=self.iso_shared)

    def rows(self, archs: np.ndarray) -> np.ndarray:
        """Row of each arch of a validated (n, width) array, -1 where the store has none."""
        arr = np.asarray(archs, dtype=np.int64).reshape(-1, len(self.space.choices))
        keys = canonical_keys(self.space, arr) if self.iso_shared else arch_keys(self.space, arr)
        return find_keys(self._keys, keys)

    def lookup(self, archs: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """(n, len(names)) float32 figures of validated archs; :class:`InvalidQuery` for an arch without a row."""
        rows = self.rows(archs)
        absent = rows < 0
        if absent.any():
            first = tuple(int(v) for v in np.asarray(archs)[int(np.argmax(absent))])
            raise InvalidQuery(
                f"{self.space.to_str(first)} (and {int(absent.sum()) - 1} more) has no row in the store, so its "
                f"static figures ({', '.join(names)}) are unknown: the 'static' feature answers only the "
                f"{len(self.archs):,} archs the store holds; drop it from the features to predict other archs"
            )
        cols = [self.names.index(n) for n in names]
        return self.values[np.ix_(rows, np.asarray(cols, dtype=np.intp))]

    def covers(self, archs: np.ndarray) -> bool:
        """Whether every arch of a validated (n, width) array has a row."""
        return bool((self.rows(archs) >= 0).all())

    # ---- persistence ----------------------------------------------------------------------------------------

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(",".join(self.names).encode())
        h.update(np.ascontiguousarray(self.archs, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.values, dtype=np.float32).tobytes())
        h.update(b"iso" if self.iso_shared else b"-")
        return h.hexdigest()[:16]

    def save(self, path: Path) -> dict[str, Any]:
        """Write ``path`` (npz, no pickle); return the JSON metadata that :meth:`load` checks."""
        np.savez(path, names=np.asarray(self.names, dtype=str), archs=self.archs, values=self.values)
        return {"file": path.name, "columns": list(self.names), "n_archs": len(self.archs),
                "iso_shared": self.iso_shared, "hash": self.digest()}  # fmt: skip

    @classmethod
    def load(cls, folder: Path, info: dict[str, Any], space: SearchSpace) -> StaticTable:
        try:
            with np.load(folder / info["file"], allow_pickle=False) as z:
                names, archs, values = [str(n) for n in z["names"]], z["archs"], z["values"]
            out = cls(space, names, archs, values, iso_shared=bool(info["iso_shared"]))
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"{folder}: cannot read the static table ({exc})") from None
        if out.digest() != info["hash"]:
            raise StoreError(f"{folder}: {info['file']} does not match the static-table hash in meta.json")
        return out
