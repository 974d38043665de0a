"""Joining device costs (HW-NAS-Bench) and other per-architecture columns into a store."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.cli import main
from nasbench.errors import ImportSpecError
from nasbench.store import read_store
from nasbench.store.join import join_table
from tests.conftest import REFERENCE, require

HW = REFERENCE / "hw-nas-bench" / "hw_cifar10.csv"
CELL_0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
CELL_1 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_hw_nas_bench_costs_join_the_nb201_table_by_string_or_index(nb201_store, tmp_path, capsys):
    maps = ["--map", "edgegpu_latency=edgegpu_latency_ms", "--map", "raspi4_latency=raspi4_latency_ms"]
    by_arch, by_index = tmp_path / "a.h5", tmp_path / "i.h5"
    assert main(["join", str(nb201_store), str(require(HW)), "--out", str(by_arch), *maps]) == 0
    assert "15,625 architectures" in capsys.readouterr().out
    assert main(["join", str(nb201_store), str(HW), "--out", str(by_index), "--key", "index", *maps]) == 0
    bench = TabularBenchmark.open(by_arch)
    latency = bench.static("edgegpu_latency_ms")
    assert np.isfinite(latency).all()
    assert np.array_equal(latency, TabularBenchmark.open(by_index).static("edgegpu_latency_ms"))
    for arch, expected in ((CELL_0, (5.80742, 10.482)), (CELL_1, (6.54769, 54.7774))):  # the file's rows 0 and 1
        row = bench.rows([bench.space.from_str(arch)])[0]
        assert (latency[row], bench.static("raspi4_latency_ms")[row]) == pytest.approx(expected, rel=1e-6)
    assert read_store(by_arch).provenance["joined"][0]["file"] == "hw_cifar10.csv"


def test_a_table_of_another_space_or_with_repeats_is_refused(small_store, tmp_path):
    data = read_store(small_store)
    other = tmp_path / "macro.csv"
    other.write_text("arch,lat\n64-41414-1_02_333,1.0\n")  # a TransNAS micro cell
    with pytest.raises(ImportSpecError, match=r"macro.csv, line 2: not a nb201 architecture"):
        join_table(data, other, key="arch", columns={"lat": "lat_ms"})
    twice = tmp_path / "twice.csv"
    twice.write_text(f"arch,lat\n{CELL_0},1.0\n{CELL_0},2.0\n")
    with pytest.raises(ImportSpecError, match="appears 2 times"):
        join_table(data, twice, key="arch", columns={"lat": "lat_ms"})
    with pytest.raises(ImportSpecError, match="already has /static/params_m"):
        join_table(data, twice, key="arch", columns={"lat": "params_m"})


def test_the_licence_and_citation_of_the_data_go_into_the_provenance(small_store, tmp_path):
    data = read_store(small_store)
    first = TabularBenchmark(data).space.to_str(tuple(int(v) for v in data.archs[0]))
    table = tmp_path / "costs.csv"
    table.write_text(f"arch,lat\n{first},3.5\n")
    out = tmp_path / "joined.h5"
    argv = ["join", str(small_store), str(table), "--out", str(out), "--map", "lat=lat_ms", "--licence", "MIT",
            "--citation", "Someone et al., 2021"]  # fmt: skip
    assert main(argv) == 0
    assert read_store(out).provenance["joined"][-1] | {"sha256": None} == {
        "file": "costs.csv", "sha256": None, "key": "arch", "columns": {"lat": "lat_ms"}, "licence": "MIT",
        "citation": "Someone et al., 2021",
    }  # fmt: skip
    imported = tmp_path / "imported.h5"
    table.write_text(f"arch,acc\n{first},0.5\n")
    argv = ["import", "table", str(table), "--out", str(imported), "--map", "acc=val_acc@1", "--licence", "CC-BY-4.0"]
    assert main(argv) == 0
    provenance = read_store(imported).provenance
    assert provenance["licence"] == "CC-BY-4.0" and "citation" not in provenance


def test_architectures_the_table_lacks_get_nan_and_are_counted(small_store, tmp_path):
    data = read_store(small_store)
    space = TabularBenchmark(data).space
    first = space.to_str(tuple(int(v) for v in data.archs[0]))
    partial = tmp_path / "one.csv"
    partial.write_text(f"arch,lat\n{first},3.5\n")
    joined, uncovered = join_table(data, partial, key="arch", columns={"lat": "lat_ms"})
    assert uncovered == len(data.archs) - 1
    assert joined.static["lat_ms"][0] == 3.5 and np.isnan(joined.static["lat_ms"][1:]).all()
