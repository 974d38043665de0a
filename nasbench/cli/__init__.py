"""The ``nasbench`` command. Each capability registers its subcommands from its own module (listed in
``COMMAND_MODULES``); this module only parses, dispatches and turns user errors into one line and exit code 2."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from nasbench import __version__
from nasbench.cli import progress
from nasbench.errors import NasbenchError

# Each module defines register(subparsers); a subcommand's handler is set with parser.set_defaults(run=...).
COMMAND_MODULES = (
    "nasbench.cli.store_commands",
    "nasbench.cli.compare_commands",
    "nasbench.cli.suite_commands",
    "nasbench.cli.report_commands",
    "nasbench.cli.surrogate_commands",
    "nasbench.cli.train_commands",
    "nasbench.cli.oneshot_commands",
    "nasbench.cli.explain_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nasbench",
        description="Evaluate neural architecture search honestly and fast: benchmark stores, queries, "
        "strategy comparisons.",
    )
    parser.add_argument("--version", action="version", version=f"nasbench {__version__}")
    _add_verbosity(parser, argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in _parsers_below(parser):  # `nasbench compare ... -v` works as `nasbench -v compare ...`
        _add_verbosity(command, argparse.SUPPRESS)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", default=default, help="log progress details")
    group.add_argument("-q", "--quiet", action="store_true", default=default, help="errors only: no progress bars")


def _parsers_below(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:  # argparse keeps its subparsers here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_parsers_below(sub)]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbose, args.quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    progress.silenced = args.quiet
    level = logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    try:
        return int(args.run(args) or 0)
    except NasbenchError as exc:
        print(f"nasbench {args.command}: error: {_cut(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nasbench {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`nasbench strategies | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _cut(message: str, limit: int = 600) -> str:
    """One readable line: a message quoting a huge input is cut in the middle."""
    message = " ".join(message.split("\n"))
    if len(message) <= limit:
        return message
    return f"{message[: limit - 200]} ...[{len(message) - limit:,} characters cut]... {message[-200:]}"


if __name__ == "__main__":
    sys.exit(main())
