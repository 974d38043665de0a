"""Benchmarks share the fixtures of the test suite (stores made by code, the NB201 reference)."""

from tests.conftest import *  # noqa: F403
