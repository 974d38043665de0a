"""Typed errors of nasbench.

Every error a user can cause derives from :class:`NasbenchError`, so the CLI can print it as one line and exit
non-zero, and library users can catch one base class. Each also derives from the closest built-in exception, so
``except ValueError`` keeps working for callers who expect it.
"""

from __future__ import annotations


class NasbenchError(Exception):
    """Base class of every error nasbench raises on purpose."""


class InvalidArchitecture(NasbenchError, ValueError):
    """An architecture that is not a member of the search space (bad string, op, edge count, ...)."""


class UnknownMetric(NasbenchError, ValueError):
    """A metric name the store or surrogate does not hold."""


class InvalidQuery(NasbenchError, ValueError):
    """A query that cannot be answered as asked, e.g. no epoch given for a store with several epochs."""


class MissingResult(NasbenchError, LookupError):
    """A well-formed query whose answer the benchmark does not have (absent arch, epoch or seed)."""


class StoreError(NasbenchError, OSError):
    """A benchmark store that cannot be read or written: not HDF5, truncated, wrong schema, bad shapes."""


class UnsafePickle(StoreError):
    """A pickle that references a global outside the allow-list of the importer."""


class ImportSpecError(NasbenchError, ValueError):
    """A column/metric mapping for the table importer that is malformed or does not match the table."""


class DatasetError(NasbenchError, OSError):
    """A training dataset that cannot be found or read (missing or damaged files, a failed download)."""


class RecipeError(NasbenchError, ValueError):
    """A training recipe with a bad setting, or one unlike the recipe a store was built with."""


class TrainingError(NasbenchError, RuntimeError):
    """A training that cannot run as asked, e.g. out of memory on the device."""


class MissingCapability(NasbenchError, TypeError):
    """A search space that lacks a capability a method needs (enumeration, a graph view, "simpler than", ...)."""


class UnsafePath(NasbenchError, OSError):
    """A path nasbench refuses to write into, replace or clear, because it may hold what nasbench did not write."""


class FolderInUse(NasbenchError, OSError):
    """An output folder another live nasbench process is working on."""


class MissingExtra(NasbenchError, ImportError):
    """An optional library a strategy needs is not installed (the message names the extra to install)."""


class StoreMismatch(NasbenchError, ValueError):
    """A store that is not the one a results directory was computed on (another file, space or dataset)."""
