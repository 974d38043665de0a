"""Progress of a long command: a bar on a terminal; elsewhere (a log, CI) one plain line now and then, never
carriage-return frames; nothing with ``--quiet``."""

from __future__ import annotations

import sys
import time
from typing import Any

#: Seconds between progress lines when stderr is not a terminal.
LOG_EVERY_S = 30.0
#: Set by the CLI for each command (``-q``): no progress at all.
silenced = False


class Progress:
    """``update(done, total)`` as work finishes; ``close()`` at the end (also usable as a context manager)."""

    def __init__(self, desc: str, unit: str, *, quiet: bool = False) -> None:
        self.desc, self.unit = desc, unit
        self.quiet = quiet or silenced
        self.tty = sys.stderr.isatty()
        self._bar: Any = None
        self._start = time.monotonic()
        self._last_line = -LOG_EVERY_S
        self._last: tuple[int, int] | None = None

    def update(self, done: int, total: int) -> None:
        if self.quiet:
            return
        self._last = (done, total)
        if self.tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=total, initial=done, desc=self.desc, unit=self.unit, file=sys.stderr)
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()
        elif time.monotonic() - self._last_line >= LOG_EVERY_S:
            self._line()

    def _line(self) -> None:
        assert self._last is not None
        done, total = self._last
        share = f" ({100 * done / total:.0f} %)" if total else ""
        elapsed = time.monotonic() - self._start
        print(f"{self.desc}: {done}/{total} {self.unit}s{share}, {elapsed:.0f} s", file=sys.stderr, flush=True)
        self._last_line = time.monotonic()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif not self.quiet and not self.tty and self._last is not None and time.monotonic() > self._last_line:
            self._line()  # the final count

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
