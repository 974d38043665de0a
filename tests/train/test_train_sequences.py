"""Sequences: DNA splice junctions read from mlbench's DNA.rda, the NB201 network in 1-D, a build and a validation
on them. The tests write a small DNA.rda of their own (the real one is 3,186 sequences; its facts are checked
where the file is installed)."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("torch")
rdata = pytest.importorskip("rdata")

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from nasbench.errors import DatasetError, RecipeError  # noqa: E402
from nasbench.spaces.nb201 import NB201Space  # noqa: E402
from nasbench.store import read_store  # noqa: E402
from nasbench.train.builder import BuildConfig, build  # noqa: E402
from nasbench.train.data import DEBIAN_MLBENCH_DNA, DNA_ENV, load_splits, read_dna  # noqa: E402
from nasbench.train.network import NB201Network, count_flops, count_params, params_of_every_cell  # noqa: E402
from nasbench.train.recipe import DNA_FAST  # noqa: E402
from nasbench.train.trainer import train  # noqa: E402
from nasbench.train.validate import validate  # noqa: E402

TINY = DNA_FAST.replace(epochs=2, channels=2, val_size=200)
RESNET = NB201Space().from_str("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")


def write_dna(path, n=1500, seed=0, *, bits=None, classes=None):
    """A DNA.rda shaped like mlbench's: V1..V180 factors of 0/1 (3 bits per base) and a Class factor. The class
    is the base at the centre (A -> ei, C -> ie, else n), so a network can learn it."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 4, (n, 60))
    if bits is None:
        bits = np.zeros((n, 60, 3), dtype=int)
        for b in range(3):
            bits[..., b] = bases == b
        bits = bits.reshape(n, 180).astype(str)
    if classes is None:
        classes = np.array(["ei", "ie", "n", "n"])[bases[:, 30]]
    columns = {f"V{i + 1}": pd.Categorical(bits[:, i], categories=sorted(set(bits[:, i]))) for i in range(180)}
    columns["Class"] = pd.Categorical(classes)
    rdata.write_rda(path, {"DNA": pd.DataFrame(columns)})
    return path, bases


@pytest.fixture(scope="module")
def dna(tmp_path_factory):
    path, bases = write_dna(tmp_path_factory.mktemp("dna") / "DNA.rda")
    return path, bases


def test_dna_is_read_one_hot_in_the_order_of_its_bases(dna):
    path, bases = dna
    x, y = read_dna(path)
    assert x.shape == (1500, 4, 60) and x.dtype == np.uint8
    assert (x.sum(axis=1) == 1).all()  # exactly one base per position, T coded as 000
    assert (x.argmax(axis=1) == bases).all()
    assert (y == np.array([0, 1, 2, 2])[bases[:, 30]]).all()


def test_dna_splits_hold_1000_test_sequences_first_and_are_recorded(dna):
    path, _ = dna
    s = load_splits("dna_splice", path=path, val_size=200)
    assert s.input_shape == (4, 60) and s.num_classes == 3
    assert (len(s.train_x), len(s.val_x), len(s.test_x)) == (300, 200, 1000)
    assert np.allclose(s.train_x.mean(axis=(0, 2)), 0, atol=1e-5)
    assert s.info["dataset"] == "dna_splice" and s.info["source"] == "DNA.rda"
    assert s.info["split"].startswith("test is 1,000 sequences drawn first")
    again = load_splits("dna_splice", path=path.parent, val_size=200)  # the folder works too
    assert np.array_equal(again.val_x, s.val_x)
    with pytest.raises(DatasetError, match="never resampled"):
        load_splits("dna_splice", path=path, resolution=30)


def test_a_file_that_is_not_the_dna_table_is_a_dataset_error(tmp_path, monkeypatch):
    garbage = tmp_path / "garbage" / "DNA.rda"
    garbage.parent.mkdir()
    garbage.write_bytes(b"RDX3\n\x00\x01not really")
    with pytest.raises(DatasetError, match="not a readable R data file"):
        read_dna(garbage)
    other = tmp_path / "other.rda"
    rdata.write_rda(other, {"iris": pd.DataFrame({"a": [1.0, 2.0]})})
    with pytest.raises(DatasetError, match="does not hold mlbench's DNA table"):
        read_dna(other)
    n = 10
    twos = np.full((n, 180), "0", dtype=object)
    twos[0, 5] = "2"
    with pytest.raises(DatasetError, match="other than 0 and 1"):
        read_dna(write_dna(tmp_path / "twos.rda", n, bits=twos)[0])
    double = np.full((n, 180), "0", dtype=object)
    double[0, :2] = "1"
    with pytest.raises(DatasetError, match="more than one indicator bit"):
        read_dna(write_dna(tmp_path / "double.rda", n, bits=double)[0])
    with pytest.raises(DatasetError, match="unknown classes"):
        read_dna(write_dna(tmp_path / "classes.rda", n, classes=np.array(["ei"] * 9 + ["xx"]))[0])
    monkeypatch.delenv(DNA_ENV, raising=False)
    if not DEBIAN_MLBENCH_DNA.is_file():
        with pytest.raises(DatasetError, match="apt-get install r-cran-mlbench"):
            load_splits("dna_splice", path=tmp_path / "nowhere")


def test_the_1d_network_counts_its_parameters_and_flops_like_the_2d_one():
    space = NB201Space()
    net = NB201Network(RESNET, channels=4, cells_per_stage=1, in_channels=4, num_classes=3, dims=1)
    assert net(torch.zeros(5, 4, 60)).shape == (5, 3)
    every = params_of_every_cell(channels=4, cells_per_stage=1, in_channels=4, num_classes=3, dims=1)
    for index in (0, 11, 284, space.index(RESNET)):
        arch = space.from_index(index)
        built = NB201Network(arch, channels=4, cells_per_stage=1, in_channels=4, num_classes=3, dims=1)
        assert every[index] == count_params(built)
    # a width-3 1-D convolution costs 3/9 of a 3x3 one per output position: the stem alone shows it
    stem_1d = NB201Network((0,) * 6, channels=4, cells_per_stage=0, in_channels=4, num_classes=3, dims=1)
    flops = count_flops(stem_1d, (4, 60))
    # stem 60x3x4x4, reduction blocks (30x3x4x8 + 30x3x8x8 + 30x4x8) and (15x3x8x16 + 15x3x16x16 + 15x8x16),
    # classifier 16 channels x 8 positions x 3 classes + 3 biases
    assert flops == 60 * 3 * 16 + 30 * (96 + 192 + 32) + 15 * (384 + 768 + 128) + 16 * 8 * 3 + 3
    with pytest.raises(ValueError, match="dims must be 1"):
        NB201Network(RESNET, dims=3)


def test_training_on_sequences_is_reproducible_and_refuses_image_augmentation(dna):
    path, _ = dna
    splits = load_splits("dna_splice", path=path, val_size=200)
    a = train(RESNET, TINY, splits, seed=3)
    b = train(RESNET, TINY, splits, seed=3)
    assert a.curves == {**b.curves, "train_time_s": a.curves["train_time_s"]}
    assert a.epochs == 2 and 0 <= a.curves["val_acc"][-1] <= 1 and a.flops > 0
    with pytest.raises(RecipeError, match="holds sequences"):
        train(RESNET, TINY.replace(augmentation="crop"), splits, seed=0)


def test_build_then_validate_on_sequences(dna, tmp_path):
    path, _ = dna
    archs = (RESNET, (3,) * 6)
    config = BuildConfig(out=tmp_path / "dna.h5", dataset="dna_splice", recipe=TINY, archs=archs, seeds=(0,),
                         data_dir=str(path))  # fmt: skip
    assert build(config).complete
    data = read_store(config.out)
    assert data.protocol["data"]["dataset"] == "dna_splice" and data.protocol["data"]["in_channels"] == 4
    assert data.protocol["recipe"]["name"] == "dna-fast+custom" and np.isfinite(data.metrics["val_acc"]).all()
    report = validate(config.out, archs, tmp_path / "v", seeds=(7, 8), data_dir=str(path), plot=False)
    assert report["finalists"] == 2 and report["recipe_matches_store"]
    with pytest.raises(RecipeError, match="holds sequences"):
        build(BuildConfig(**{**config.__dict__, "out": tmp_path / "x.h5", "recipe": TINY.replace(augmentation="crop")}))


def _installed_dna():
    for candidate in (os.environ.get(DNA_ENV), DEBIAN_MLBENCH_DNA):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


@pytest.mark.skipif(_installed_dna() is None, reason=f"mlbench's DNA.rda is not installed ({DEBIAN_MLBENCH_DNA})")
def test_the_real_dna_file_holds_statlogs_3186_sequences():
    x, y = read_dna(_installed_dna())
    assert x.shape == (3186, 4, 60)
    assert np.bincount(y).tolist() == [767, 765, 1654]  # ei, ie, n, as published
    s = load_splits("dna_splice", path=_installed_dna())
    assert (len(s.train_x), len(s.val_x), len(s.test_x)) == (1186, 1000, 1000)


def test_weight_sharing_refuses_a_sequence_store_with_a_typed_error(dna, tmp_path):
    from nasbench.benchmark import TabularBenchmark
    from nasbench.errors import MissingCapability
    from nasbench.oneshot.experiment import store_splits

    path, _ = dna
    config = BuildConfig(out=tmp_path / "dna.h5", dataset="dna_splice", recipe=TINY.replace(epochs=1),
                         archs=(RESNET,), seeds=(0,), data_dir=str(path))  # fmt: skip
    build(config)
    with pytest.raises(MissingCapability, match="supernet is built for images only"):
        store_splits(TabularBenchmark.open(config.out), data_dir=str(path))
