"""What nasbench may remove: only what it wrote, in folders it made.

A folder nasbench makes for its output (a comparison's results, a saved surrogate) holds a small marker,
``.nasbench.json``, naming the kind of output and every entry nasbench wrote there. ``--overwrite`` removes
exactly those entries and nothing else. It is refused for a folder nasbench did not make (unless empty), a
symlink, the current, home or root directory, and a folder that holds one of the command's inputs.

Two processes must not work on one folder at once: :func:`lock` holds an exclusive ``flock`` on
``.nasbench.lock`` (released by the kernel when the holder dies, so a killed run leaves no stale lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_write_text
from nasbench.errors import FolderInUse, UnsafePath

MARKER = ".nasbench.json"
LOCK = ".nasbench.lock"
_OWN = (MARKER, LOCK)  # present in every folder nasbench made; never listed, never in the way


def marker(folder: Path) -> dict[str, Any] | None:
    """The folder's marker, or None when nasbench did not make the folder (or the marker is damaged)."""
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(data.get("files"), list)):
        return None
    return data


def check_clearable(path: Path, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Refuse paths that must never be cleared or replaced, whatever they hold."""
    if path.is_symlink():
        raise UnsafePath(f"{path} is a symlink; nasbench does not clear or replace through links: give the real path")
    real = path.resolve()
    for name, danger in (("the root directory", Path(real.anchor)), ("your home directory", Path.home())):
        if real == danger.resolve():
            raise UnsafePath(f"{path} is {name}; nasbench never clears it: give a folder of its own")
    if real == Path.cwd().resolve():
        raise UnsafePath(f"{path} is the current directory; nasbench never clears it: give a folder of its own")
    for item in inputs:
        source = Path(item).resolve()
        if source == real or real in source.parents:
            raise UnsafePath(f"{path} holds {item}, an input of this command; give an output folder outside it")


def claim(
    folder: Path,
    kind: str,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    adopt: tuple[str, tuple[str, ...]] | None = None,
) -> bool:
    """Make ``folder`` nasbench's output folder of ``kind``, or check it already is one; returns whether it
    already held such output. ``adopt = (proof, names)``: a folder without a marker but with the file ``proof``
    was written by an earlier nasbench; it is adopted, owning those of ``names`` that exist."""
    inputs = list(inputs)
    if folder.is_symlink():
        raise UnsafePath(f"{folder} is a symlink; give the real path of the output folder")
    if folder.exists() and not folder.is_dir():
        raise UnsafePath(f"{folder} is a file, not a folder; give a folder for the output")
    for item in inputs:
        if Path(item).resolve() == folder.resolve():
            raise UnsafePath(f"the output folder {folder} is also an input of this command; give another folder")
    mark = marker(folder) if folder.exists() else None
    if mark is not None:
        if mark["kind"] != kind:
            raise UnsafePath(f"{folder} holds nasbench's {mark['kind']}, not a {kind}; give another folder")
        return True
    if folder.exists() and any(p.name not in _OWN for p in folder.iterdir()):
        if adopt is not None and (folder / adopt[0]).is_file():
            _write_marker(folder, kind, [n for n in adopt[1] if (folder / n).exists()])
            return True
        raise UnsafePath(
            f"{folder} is not empty and nasbench did not make it; nasbench clears only folders it made, so give an "
            "empty or new folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    _write_marker(folder, kind, [])
    return False


def record(folder: Path, *names: str) -> None:
    """Note entries nasbench wrote in ``folder`` (which it made), so that ``--overwrite`` may remove them."""
    mark = marker(folder)
    if mark is None:
        return  # not a folder nasbench made (e.g. a report written into a user's folder): nothing is ever removed
    files = list(dict.fromkeys([*mark["files"], *names]))
    if files != mark["files"]:
        _write_marker(folder, mark["kind"], files)


def clear(folder: Path, *, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Remove every entry nasbench recorded in ``folder`` (subfolders by their own markers), nothing else."""
    check_clearable(folder, inputs)
    mark = marker(folder)
    if mark is None:
        raise UnsafePath(f"{folder} was not made by nasbench (it has no {MARKER}); nasbench will not clear it")
    for name in mark["files"]:
        path = folder / name
        if Path(name).name != name or name in _OWN:
            raise UnsafePath(f"{folder / MARKER} lists {name!r}, which is not an entry of the folder; not clearing")
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            clear(path)
            _remove_owned_folder(path)
    _write_marker(folder, mark["kind"], [])


def replace_folder(path: Path, kind: str, *, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Check that ``path`` (about to be replaced whole) is a folder of ``kind`` holding only what nasbench wrote."""
    check_clearable(path, inputs)
    mark = marker(path)
    if mark is None or mark["kind"] != kind:
        what = f"nasbench's {mark['kind']}" if mark else "a folder nasbench did not make"
        raise UnsafePath(f"{path} is {what}, not a saved {kind}; nasbench replaces only its own output")
    stray = sorted(p.name for p in path.iterdir() if p.name not in (*_OWN, *mark["files"]))
    if stray:
        raise UnsafePath(f"{path} holds files nasbench did not write ({', '.join(stray[:5])}); move them first")


def write_marker(folder: Path, kind: str, files: Iterable[str]) -> None:
    """Mark a folder nasbench has just written whole (e.g. a temporary one about to be renamed into place)."""
    _write_marker(folder, kind, list(files))


def _write_marker(folder: Path, kind: str, files: list[str]) -> None:
    atomic_write_text(folder / MARKER, json.dumps({"kind": kind, "files": files}, indent=1) + "\n")


def _remove_owned_folder(path: Path) -> None:
    """Remove a folder nasbench made once it holds nothing but nasbench's own marker and lock."""
    if all(p.name in _OWN for p in path.iterdir()):
        shutil.rmtree(path)
    else:
        raise UnsafePath(f"{path} holds files nasbench did not write; they were kept, and so was the folder")


@contextlib.contextmanager
def lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for this process; a second process gets :class:`FolderInUse` naming the holder's pid."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks; run one process per folder
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise FolderInUse(
                f"{folder} is in use by another nasbench process (pid {holder}); wait for it to finish, or give "
                "another folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
