"""Unpickling files from elsewhere without running their code or trusting their contents.

Pickles can run arbitrary code, so importers unpickle with :class:`Unpickler`, which resolves only the globals
of an explicit allow-list; numpy's own builders are replaced by stand-ins that check what the file claims (plain
numeric dtypes only, data bytes that match the shape) before any array or scalar exists, so a forged structured
or object dtype never reaches numpy. :class:`Resolver` then turns the stand-ins into arrays and refuses anything
but plain containers, numbers and strings, within a bound on the number of objects. Decompression is bounded too.
"""

from __future__ import annotations

import bz2
import math
import pickle
from typing import Any, Literal

import numpy as np

from nasbench.errors import StoreError, UnsafePickle
from nasbench.store.untrusted import show


class _ArrayType:
    """Stands for ``numpy.ndarray`` inside a pickle: only the array reconstructor may use it."""

    def __new__(cls, *args: object, **kwargs: object) -> _ArrayType:
        raise UnsafePickle("numpy.ndarray may only be rebuilt through numpy.core.multiarray._reconstruct here")


_NUMERIC_DTYPES = frozenset({"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"})


class _DType:
    """``numpy.dtype(spec, align, copy)`` of a plain numeric type; its pickled state may only set the byte order."""

    def __init__(self, spec: object, align: object = False, copy: object = True) -> None:
        if spec not in _NUMERIC_DTYPES:
            raise UnsafePickle(
                f"refusing dtype {show(spec)} in a pickle: only plain numeric dtypes "
                f"({', '.join(sorted(_NUMERIC_DTYPES))})"
            )
        self.spec = str(spec)
        self.order: Literal["<", ">", "|", "="] = "="

    def __setstate__(self, state: object) -> None:
        # numpy pickles (3, byteorder, subarray, names, fields, elsize, alignment, flags); plain types have no
        # subarray, names or fields and flags 0.
        if not (
            isinstance(state, tuple)
            and len(state) == 8
            and state[0] == 3
            and state[1] in ("<", ">", "|", "=")
            and state[2:5] == (None, None, None)
            and state[7] == 0
        ):
            raise UnsafePickle(f"refusing dtype state {show(state)}: only plain numeric dtypes are read")
        self.order = state[1]

    def resolve(self) -> np.dtype:
        dtype = np.dtype(self.spec)
        return dtype.newbyteorder(self.order) if self.order in "<>" else dtype


class _ArrayBuilder:
    """What ``_reconstruct`` returns: the pickled state ``(1, shape, dtype, fortran, raw bytes)`` is checked and
    turned into an array here, so numpy's own ``__setstate__`` never sees data from the file."""

    array: np.ndarray | None = None

    def __setstate__(self, state: object) -> None:
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            raise UnsafePickle(f"refusing array state of unexpected form {type(state).__name__}")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DType) or not isinstance(raw, bytes) or not isinstance(fortran, bool):
            raise UnsafePickle("refusing an array whose data is not raw bytes of a plain numeric dtype")
        if not (isinstance(shape, tuple) and len(shape) <= 8 and all(type(d) is int and d >= 0 for d in shape)):
            raise UnsafePickle(f"refusing an array of shape {show(shape)}")
        resolved = dtype.resolve()
        if math.prod(shape) * resolved.itemsize != len(raw):
            raise UnsafePickle(f"array of shape {shape} and dtype {resolved} does not match its {len(raw)} data bytes")
        self.array = np.frombuffer(raw, dtype=resolved).reshape(shape, order="F" if fortran else "C").copy()


def _reconstruct(cls: object, shape: object, typecode: object) -> _ArrayBuilder:
    if cls is not _ArrayType or shape != (0,) or typecode != b"b":
        raise UnsafePickle("numpy.core.multiarray._reconstruct is only read for plain numpy arrays")
    return _ArrayBuilder()


#: Objects visited (every dict key and value, list and tuple item, shared ones once per reference) at most: the
#: full official data (423k modules, 4 budgets, 3 repeats) is about 10**8.
MAX_NODES = 1 << 27
_PLAIN = (str, bytes, bool, int, float, type(None))


class Resolver:
    """Replaces every array builder of an unpickled object by its array; anything but dicts, lists, tuples, sets,
    strings, numbers, None and arrays is refused. Containers are memoised by id, so an object the pickle shares
    is rebuilt once and stays shared (a tree rebuild of ``a = [a, a]`` nested n deep takes 2**n steps); the
    visits are counted against ``max_nodes``."""

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.visited = 0
        self.done: dict[int, Any] = {}  # id of an original (all stay alive under the root) -> its rebuilt object

    def __call__(self, obj: Any, depth: int = 0) -> Any:
        self.visited += 1
        if self.visited > self.max_nodes:
            raise UnsafePickle(
                f"refusing a pickle of more than {self.max_nodes:,} objects (counting shared ones per reference); "
                "raise max_nodes for a larger file"
            )
        if isinstance(obj, _PLAIN):
            return obj
        if depth > 32:
            raise UnsafePickle("refusing a pickle nested deeper than 32 levels")
        key = id(obj)
        if key in self.done:
            return self.done[key]
        if isinstance(obj, _ArrayBuilder):
            if obj.array is None:
                raise UnsafePickle("an array in the pickle has no data")
            out: Any = obj.array
        elif isinstance(obj, dict):
            out = {self(k, depth + 1): self(v, depth + 1) for k, v in obj.items()}
        elif isinstance(obj, list):
            out = [self(v, depth + 1) for v in obj]
        elif isinstance(obj, tuple):
            out = tuple(self(v, depth + 1) for v in obj)
        elif isinstance(obj, (set, frozenset)):
            out = type(obj)(self(v, depth + 1) for v in obj)
        else:
            raise UnsafePickle(
                f"refusing a {type(obj).__name__} object in the pickle: only dicts, lists, tuples, sets, strings, "
                "numbers, None and plain numeric arrays are read"
            )
        self.done[key] = out
        return out


def scalar(dtype: object, raw: object = None) -> Any:
    """``numpy.core.multiarray.scalar`` of a plain numeric dtype from exactly its bytes."""
    if not isinstance(dtype, _DType) or not isinstance(raw, bytes):
        raise UnsafePickle("refusing a numpy scalar that is not raw bytes of a plain numeric dtype")
    resolved = dtype.resolve()
    if len(raw) != resolved.itemsize:
        raise UnsafePickle(f"a numpy scalar of dtype {resolved} needs {resolved.itemsize} bytes, got {len(raw)}")
    return np.frombuffer(raw, dtype=resolved)[0].item()


#: The numpy globals a pickle of plain arrays and scalars references (numpy >= 2 writes numpy._core).
NUMPY_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): scalar,
    ("numpy._core.multiarray", "scalar"): scalar,
    ("numpy", "ndarray"): _ArrayType,
    ("numpy", "dtype"): _DType,
}


class Unpickler(pickle.Unpickler):
    """Resolves only the globals of ``allowed``; any other is :class:`UnsafePickle` naming what is allowed."""

    def __init__(self, file: Any, allowed: dict[tuple[str, str], object], what: str) -> None:
        super().__init__(file)
        self.allowed = allowed
        self.what = what

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            names = ", ".join(f"{m}.{n}" for m, n in self.allowed)
            raise UnsafePickle(
                f"refusing to unpickle global {module}.{name}: {self.what} may reference only {names}"
            ) from None


#: What a pickle that is merely malformed raises while loading (never code execution: that is refused earlier).
MALFORMED = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError)


def load(data: bytes, allowed: dict[tuple[str, str], object], what: str, *, max_nodes: int = MAX_NODES) -> Any:
    """The plain object a pickle holds (see the module docs); malformed data is a :class:`StoreError`."""
    import io

    try:
        return Resolver(max_nodes)(Unpickler(io.BytesIO(data), allowed, what).load())
    except UnsafePickle:
        raise
    except MemoryError:
        raise StoreError(f"{what} claims more memory than there is: refused") from None
    except MALFORMED as exc:
        raise StoreError(f"not a readable pickle: {type(exc).__name__}: {exc}") from None


def bunzip2_bounded(data: bytes, max_bytes: int) -> bytes:
    """Decompress one bz2 stream, refusing output past ``max_bytes`` (a small file can expand a million times)."""
    decompressor = bz2.BZ2Decompressor()
    try:
        out = decompressor.decompress(data, max_length=max_bytes + 1)
    except (OSError, ValueError) as exc:
        raise StoreError(f"not a bz2 file: {exc}") from None
    if len(out) > max_bytes:
        raise StoreError(f"decompresses to more than {max_bytes:,} bytes: refused (raise max_bytes for a larger file)")
    if not decompressor.eof:
        raise StoreError("the bz2 stream is truncated")
    return out
