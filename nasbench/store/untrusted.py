"""Reading files from elsewhere: bounded reads, JSON whose every failure is a StoreError, figures checked without
overflow, and values quoted safely in messages. Shared by the importers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench.errors import ImportSpecError, MissingExtra, StoreError

#: Integers a figure may be: within the int64 range, so every accepted number converts to a finite float.
INT_LIMIT = 1 << 63
FINITE = "a finite number (an int within +-2**63 or a finite float, not a bool)"


def read_bounded(path: Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of ``path``, refused when it is absent or larger than ``max_bytes`` (also if it grows meanwhile)."""
    if not path.is_file():
        raise StoreError(f"no {what} at {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise StoreError(f"{path} is {size:,} bytes; this reader reads at most {max_bytes:,} (raise max_bytes)")
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise StoreError(f"{path} grew past {max_bytes:,} bytes while being read")
    return data


def load_json(
    text: bytes,
    where: str,
    what: str,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    not_json: str | None = None,
) -> Any:
    """``json.loads`` whose every failure on hostile text (bad syntax or encoding, nesting deep enough to exhaust
    the parser's recursion, an integer literal past Python's 4,300-digit limit) is a StoreError naming ``where``;
    ``not_json`` replaces "{what} is not JSON" in the message for text that does not parse."""
    not_json = not_json or f"{what} is not JSON"
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=object_pairs_hook)
    except UnicodeDecodeError as exc:
        raise StoreError(f"{where}: {not_json}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise StoreError(f"{where}: {not_json}: {exc}") from None
    except RecursionError:
        raise StoreError(
            f"{where}: {what} nests JSON arrays/objects too deeply to parse; this layout nests only a few levels"
        ) from None
    except ValueError as exc:  # an int literal of over sys.get_int_max_str_digits() digits
        raise StoreError(
            f"{where}: {what} holds a number the JSON reader refuses ({str(exc).split(';')[0]}); figures are "
            "ordinary numbers"
        ) from None


def finite(value: object) -> float | None:
    """``value`` as a float if it is a finite figure (an int within +-2**63 or a finite float, never a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if -INT_LIMIT <= value <= INT_LIMIT else None
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def show(value: object, limit: int = 80) -> str:
    """A value's repr cut to ``limit`` characters, for messages about hostile input (whose repr may be huge, or
    refused outright for an int of over 4,300 digits)."""
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def pick(names: list[str] | None, known: tuple[str, ...] | list[str], what: str) -> list[str]:
    """The ``what`` (e.g. "FCNet task") asked for, each once in the order given (None: all ``known``), or
    :class:`ImportSpecError` naming the unknown ones and listing the known."""
    if names is None:
        return list(known)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ImportSpecError(
            f"unknown {what}(s) {', '.join(map(repr, unknown)) or '(none given)'}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(names))


def installed_folder(module: str, package: str, install: str, what: str, otherwise: str) -> Path:
    """The folder of an installed data package (``module``, from PyPI's ``package``), found without running its
    code; :class:`MissingExtra` saying ``what`` comes with it, how to ``install`` it, and the ``otherwise``."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra(f"{what} come with the package {package}, which is not installed: {install} ({otherwise})")
    return Path(next(iter(spec.submodule_search_locations)))


def installed_version(package: str) -> str | None:
    """The installed version of ``package``, None when it is not installed."""
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
