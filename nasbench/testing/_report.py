"""How a conformance check says what failed: an AssertionError naming the subject, the check and the arch."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn


class Reporter:
    """Raises :class:`AssertionError` as ``<subject>: <check>: <message> [arch <arch>]`` (pytest shows it as is)."""

    def __init__(self, subject: str) -> None:
        self.subject = subject

    def fail(self, check: str, message: str, arch: object = None) -> NoReturn:
        where = "" if arch is None else f" [arch {arch!r}]"
        raise AssertionError(f"{self.subject}: {check}: {message}{where}")

    def expect(self, condition: bool, check: str, message: str, arch: object = None) -> None:
        if not condition:
            self.fail(check, message, arch)

    def raises(
        self, error: type[BaseException] | tuple[type[BaseException], ...], call: Callable[[], object], check: str,
        what: str, arch: object = None,
    ) -> None:  # fmt: skip
        """``call()`` must raise ``error``; any other outcome fails ``check``, saying what it did instead."""
        names = " or ".join(e.__name__ for e in (error if isinstance(error, tuple) else (error,)))
        try:
            value = call()
        except error:
            return
        except Exception as exc:  # a NasbenchError of the wrong kind, or a bare TypeError, is named
            self.fail(check, f"{what} raised {type(exc).__name__} ({exc}), expected {names}", arch)
        self.fail(check, f"{what} returned {value!r}, expected {names}", arch)
