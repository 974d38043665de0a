"""What data/ ships: every store opens, says where it came from and under what licence, is listed in
data/README.md, and is a benchmark of the shipped suites, which are valid as shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasbench.runner.suite import Suite, check
from nasbench.store import read_store

DATA = Path(__file__).resolve().parents[1] / "data"
STORES = sorted(DATA.rglob("*.h5"))
TRAINED = {"nb201-fmnist.h5", "nb201-dna.h5"}  # by nasbench build; the rest by nasbench's importers


def test_data_stays_under_30_mb():
    assert sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file()) < 30e6


@pytest.mark.parametrize("path", STORES, ids=lambda p: str(p.relative_to(DATA)))
def test_each_store_names_its_origin_and_is_listed_with_attribution(path):
    data = read_store(path)
    if path.name in TRAINED:
        assert data.protocol["recipe"]["name"] and data.protocol["data"]["dataset"]
    else:
        assert data.provenance.get("licence") and data.provenance.get("citation"), data.provenance
        assert data.provenance.get("sha256") or data.provenance.get("source_sha256")
        for joined in data.provenance.get("joined", []):
            assert joined.get("licence") and joined.get("citation")
    listed = (DATA / "README.md").read_text()
    name = str(path.relative_to(DATA))
    assert f"`{name}`" in listed or f"`{name.split('-')[0]}-*.h5`" in listed, f"{name} is not in data/README.md"


def test_the_shipped_suites_cover_every_store_and_pass_their_checks():
    suite = Suite.read(DATA / "suite.toml")
    check(suite)  # every store opens, every protocol resolves, every strategy runs on every space
    assert {Path(e.experiment.store).resolve() for e in suite.entries} == {p.resolve() for p in STORES}
    hardware = Suite.read(DATA / "suite-hw.toml")
    check(hardware)  # and each objective is a cost the store holds
    assert all(e.experiment.protocol.objectives for e in hardware.entries)
