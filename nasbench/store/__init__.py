"""Benchmark stores (HDF5): schema, atomic writer, validating reader, importers. Never imports torch."""

from nasbench.store.format import METRICS, SCHEMA_VERSION, StoreData, default_direction, read_store, write_store

__all__ = ["METRICS", "SCHEMA_VERSION", "StoreData", "default_direction", "read_store", "write_store"]
