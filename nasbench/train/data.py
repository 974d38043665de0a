"""Training datasets with fixed, seeded train/val/test splits: Fashion-MNIST (idx files), CIFAR-10 (python
batches), scikit-learn's digits (for tests), and one sequence set, the primate DNA splice junctions (StatLog DNA,
as ``DNA.rda`` in the R package mlbench: 3,186 sequences of 60 bases, 3 classes), read one-hot as (N, 4, 60).

Everything that decides which examples a network sees — source, split sizes, split seed, resolution, normalization —
is recorded in :attr:`Splits.info`, a JSON-able dict that goes into a store's ``protocol``. numpy only: no torch.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import os
import pickle
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.errors import DatasetError, RecipeError

log = logging.getLogger(__name__)

DATASETS = ("fashion_mnist", "cifar10", "digits", "dna_splice")
#: datasets of 1-D sequences (N, C, L); the others are images (N, C, H, W)
SEQUENCES = ("dna_splice",)
FASHION_MNIST_ENV = "NASBENCH_FASHION_MNIST"
CIFAR10_ENV = "NASBENCH_CIFAR10"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DNA_ENV = "NASBENCH_DNA"
DEBIAN_MLBENCH_DNA = Path("/usr/lib/R/site-library/mlbench/data/DNA.rda")
_DNA_HOWTO = (
    "It is the file DNA.rda of the R package mlbench: `apt-get install r-cran-mlbench` puts it at "
    f"{DEBIAN_MLBENCH_DNA}; without R, `apt-get download r-cran-mlbench && dpkg -x r-cran-mlbench_*.deb DIR` "
    f"unpacks it under DIR{DEBIAN_MLBENCH_DNA}. Pass the file (or its folder) with --data-dir or ${DNA_ENV}."
)
#: StatLog DNA codes each of the 60 bases with 3 indicator bits: A = 100, C = 010, G = 001, T = 000
DNA_LENGTH = 60
DNA_CLASSES = ("ei", "ie", "n")  # exon/intron boundary, intron/exon boundary, neither
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# The published MD5 of each upstream .gz file (Fashion-MNIST README; the same values torchvision checks).
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
_FMNIST_PARTS = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
_FMNIST_HOWTO = (
    "Get the files with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu, installs into "
    f"{DEBIAN_FASHION_MNIST}), or put the four idx files (optionally .gz) from "
    "https://github.com/zalandoresearch/fashion-mnist in a folder and pass it with --data-dir or "
    f"${FASHION_MNIST_ENV}, or download them (internet needed) with --download."
)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nasbench" / "fashion-mnist"


@dataclass(frozen=True)
class Splits:
    """Normalized float32 inputs (images (N, C, H, W) or sequences (N, C, L)) and int64 labels of each split,
    plus the record of how they were made (``info``)."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    num_classes: int
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def resolution(self) -> int:
        """Image side in pixels, or sequence length."""
        return int(self.train_x.shape[2])

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One example's shape: (C, H, W) or (C, L)."""
        return tuple(int(d) for d in self.train_x.shape[1:])


def load_splits(
    name: str,
    *,
    path: str | os.PathLike[str] | None = None,
    resolution: int | None = None,
    train_size: int | None = None,
    val_size: int | None = None,
    test_size: int | None = None,
    split_seed: int = 0,
    download: bool = False,
) -> Splits:
    """Load dataset ``name`` and split it reproducibly.

    Validation images are taken from the official training set (never from the test set): a permutation drawn
    with ``split_seed`` puts the first ``val_size`` in val and the next ``train_size`` in train. ``test_size``
    takes a seeded subset of the official test set (digits, which has no official split, is split 60/20/20).
    ``resolution`` resamples images to that square size by exact area averaging (sequences are never resampled).
    Sizes of ``None`` mean: all that is left (train), the dataset default (val: 10,000 for Fashion-MNIST, 5,000 for
    CIFAR-10), all (test). DNA splice has no official split: 1,000 sequences are drawn first for test, and val
    defaults to 1,000 more.
    Results are cached per process, so workers that train many networks read the files once.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    for label, value in (("resolution", resolution), ("train_size", train_size), ("test_size", test_size)):
        if value is not None and value < 1:
            raise DatasetError(f"{label} must be a positive integer or omitted, got {value}")
    if val_size is not None and val_size < 1:
        raise DatasetError(f"val_size must be a positive integer or omitted, got {val_size}")
    if name in SEQUENCES and resolution is not None:
        raise DatasetError(f"{name} holds sequences, which are never resampled: leave resolution unset (null)")
    resolved = _resolve_path(name, path, download)
    return _load_cached(name, resolved, resolution, train_size, val_size, test_size, int(split_seed))


def _resolve_path(name: str, path: str | os.PathLike[str] | None, download: bool) -> str | None:
    if name == "digits":
        return None
    if name == "dna_splice":
        return str(_find_dna(path))
    if name == "cifar10":
        candidates = [Path(path)] if path is not None else []
        if os.environ.get(CIFAR10_ENV):
            candidates.append(Path(os.environ[CIFAR10_ENV]))
        for c in candidates:
            for d in (c, c / "cifar-10-batches-py"):
                if (d / "data_batch_1").is_file() and (d / "test_batch").is_file():
                    return str(d)
        looked = ", ".join(str(c) for c in candidates) or "nowhere (no path given)"
        raise DatasetError(
            f"CIFAR-10 python batches (data_batch_1..5, test_batch) not found; looked in: {looked}. Download "
            "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and pass the "
            f"cifar-10-batches-py folder with --data-dir or ${CIFAR10_ENV}."
        )
    candidates = []
    if path is not None:
        candidates.append(Path(path))
    if os.environ.get(FASHION_MNIST_ENV):
        candidates.append(Path(os.environ[FASHION_MNIST_ENV]))
    candidates += [DEBIAN_FASHION_MNIST, default_cache_dir()]
    for c in candidates:
        if all(_idx_file(c, stem) is not None for stem in _FMNIST_PARTS.values()):
            return str(c)
    if download:
        return str(download_fashion_mnist(default_cache_dir() if path is None else Path(path)))
    looked = ", ".join(str(c) for c in candidates)
    raise DatasetError(f"Fashion-MNIST idx files not found; looked in: {looked}. {_FMNIST_HOWTO}")


def check_augmentation(dataset: str, augmentation: str) -> None:
    """Raise :class:`RecipeError` for an image augmentation (crop, flip) on a dataset of sequences."""
    if dataset in SEQUENCES and augmentation != "none":
        raise RecipeError(
            f"{dataset} holds sequences; augmentation {augmentation!r} crops and flips images: use augmentation none "
            "(as the dna-fast recipe does)"
        )


def _find_dna(path: str | os.PathLike[str] | None) -> Path:
    candidates = [Path(p) for p in (path, os.environ.get(DNA_ENV)) if p] + [DEBIAN_MLBENCH_DNA]
    for c in candidates:
        for f in (c, c / "DNA.rda", c / DEBIAN_MLBENCH_DNA.relative_to("/")):
            if f.is_file():
                return f
    looked = ", ".join(str(c) for c in candidates)
    raise DatasetError(f"DNA.rda not found; looked in: {looked}. {_DNA_HOWTO}")


def read_dna(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One-hot sequences (N, 4, 60) uint8 (channels A, C, G, T) and labels (N,) over ``DNA_CLASSES`` of mlbench's
    DNA.rda. The file is parsed by ``rdata`` (a reader of R's format, no code runs) and then checked to be exactly
    the StatLog table: 180 indicator columns of 0/1, at most one bit set per base, a Class of ei/ie/n."""
    try:
        import rdata
    except ImportError:
        raise DatasetError("reading DNA.rda needs the package rdata: pip install 'nasbench[sequences]'") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unknown encoding. Assumed ASCII." for every factor
            objects = rdata.read_rda(path)
    except Exception as exc:  # rdata raises many kinds on a damaged file; all mean "not an R data file"
        raise DatasetError(f"{path} is not a readable R data file: {type(exc).__name__}: {exc}. {_DNA_HOWTO}") from None
    frame = objects.get("DNA") if isinstance(objects, dict) else None
    columns = [f"V{i}" for i in range(1, 3 * DNA_LENGTH + 1)]
    if frame is None or not hasattr(frame, "columns") or list(frame.columns) != [*columns, "Class"]:
        raise DatasetError(
            f"{path} does not hold mlbench's DNA table (a data frame DNA of columns V1..V180 and Class). {_DNA_HOWTO}"
        )
    try:
        bits = frame[columns].astype(str).to_numpy()
        if not np.isin(bits, ("0", "1")).all():
            raise ValueError("an indicator column holds a value other than 0 and 1")
        bits = (bits == "1").astype(np.uint8).reshape(len(frame), DNA_LENGTH, 3)
        if (bits.sum(axis=2) > 1).any():
            raise ValueError("a base has more than one indicator bit set")
        classes = frame["Class"].astype(str).to_numpy()
        unknown = sorted(set(classes) - set(DNA_CLASSES))
        if unknown:
            raise ValueError(f"unknown classes {unknown}; allowed: {', '.join(DNA_CLASSES)}")
    except ValueError as exc:
        raise DatasetError(f"{path} is not mlbench's DNA table: {exc}") from None
    onehot = np.concatenate([bits, 1 - bits.sum(axis=2, keepdims=True)], axis=2)  # the fourth base, T, is 000
    labels = np.searchsorted(np.asarray(DNA_CLASSES), classes).astype(np.int64)
    return np.ascontiguousarray(onehot.transpose(0, 2, 1), dtype=np.uint8), labels


def _idx_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def download_fashion_mnist(dest: Path, *, base_url: str = FASHION_MNIST_URL, md5: dict[str, str] | None = None) -> Path:
    """Download the four Fashion-MNIST .gz files into ``dest``, each checked against its published MD5 before
    it is renamed into place (a failed or corrupt download leaves nothing behind)."""
    md5 = FASHION_MNIST_MD5 if md5 is None else md5
    dest.mkdir(parents=True, exist_ok=True)
    for filename, expected in md5.items():
        target = dest / filename
        if target.is_file() and _md5(target) == expected:
            continue
        url = base_url.rstrip("/") + "/" + filename
        log.info("downloading %s", url)
        try:
            with atomic_path(target) as tmp:
                with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                got = _md5(tmp)
                if got != expected:
                    raise DatasetError(f"download of {url} is corrupt: MD5 {got}, expected {expected}")
        except OSError as exc:
            if isinstance(exc, DatasetError):
                raise
            raise DatasetError(f"cannot download {url}: {exc}. {_FMNIST_HOWTO}") from None
    return dest


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_idx(path: Path) -> np.ndarray:
    """Read one idx file (optionally gzip-compressed) of unsigned bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc} (damaged file? {_FMNIST_HOWTO})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an idx file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise DatasetError(f"{path} is truncated or damaged: header says {dims}, file holds {len(raw) - offset} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


class _CifarUnpickler(pickle.Unpickler):
    """CIFAR batches are pickles of dicts of numpy arrays and lists; refuse any other global."""

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = _CifarUnpickler(f, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, EOFError, KeyError, ValueError, TypeError, pickle.UnpicklingError) as exc:
        raise DatasetError(f"{path} is not a readable CIFAR-10 python batch: {exc}") from None
    return data, labels


def _raw(name: str, path: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, float]:
    """(train inputs uint8/float (N,C,H,W) or (N,C,L), train labels, test inputs, test labels, value max) of a
    source; test is None where the source has no official split."""
    if name == "dna_splice":
        x, y = read_dna(Path(path))  # type: ignore[arg-type]
        return x, y, None, None, 1.0
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.images[:, None, :, :].astype(np.float32), d.target.astype(np.int64), None, None, 16.0
    folder = Path(path)  # type: ignore[arg-type]
    if name == "cifar10":
        parts = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
        test_x, test_y = _read_cifar_batch(folder / "test_batch")
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), test_x, test_y, 255.0
    arrays = {key: read_idx(_idx_file(folder, stem)) for key, stem in _FMNIST_PARTS.items()}  # type: ignore[arg-type]
    for split in ("train", "test"):
        if len(arrays[f"{split}_x"]) != len(arrays[f"{split}_y"]):
            raise DatasetError(f"Fashion-MNIST {split} images and labels in {folder} differ in length")
    return (
        arrays["train_x"][:, None],
        arrays["train_y"].astype(np.int64),
        arrays["test_x"][:, None],
        arrays["test_y"].astype(np.int64),
        255.0,
    )


@functools.lru_cache(maxsize=4)
def _load_cached(
    name: str,
    path: str | None,
    resolution: int | None,
    train_size: int | None,
    val_size: int | None,
    test_size: int | None,
    split_seed: int,
) -> Splits:
    pool_x, pool_y, test_x, test_y, pixel_max = _raw(name, path)
    rng = np.random.default_rng(split_seed)
    if test_x is None:  # no official test set: digits holds out 20% for test and 20% for val, DNA 1,000 each
        order = rng.permutation(len(pool_x))
        n_test = 1000 if name == "dna_splice" else len(pool_x) // 5
        test_x, test_y = pool_x[order[:n_test]], pool_y[order[:n_test]]
        pool_x, pool_y = pool_x[order[n_test:]], pool_y[order[n_test:]]
        default_val = n_test
    else:
        assert test_y is not None  # _raw returns the test images and labels together, or neither
        default_val = {"fashion_mnist": 10_000, "cifar10": 5_000}[name]
    n_val = default_val if val_size is None else val_size
    available = len(pool_x) - n_val
    if available < 1:
        raise DatasetError(f"val_size {n_val} leaves no training images ({name} has {len(pool_x)} to split)")
    n_train = available if train_size is None else train_size
    if n_train > available:
        raise DatasetError(f"train_size {n_train} is more than the {available} images left after val_size {n_val}")
    order = rng.permutation(len(pool_x))
    val_idx, train_idx = order[:n_val], order[n_val : n_val + n_train]
    if test_size is not None:
        if test_size > len(test_x):
            raise DatasetError(f"test_size {test_size} is more than the {len(test_x)} test images of {name}")
        test_idx = np.sort(rng.permutation(len(test_x))[:test_size])
        test_x, test_y = test_x[test_idx], test_y[test_idx]
    native = int(pool_x.shape[2])
    res = native if resolution is None else resolution

    def prepare(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32) / pixel_max
        return _resample(x, res) if res != native else x

    train_x = prepare(pool_x[train_idx])
    per_channel = tuple(a for a in range(train_x.ndim) if a != 1)
    mean = train_x.mean(axis=per_channel, keepdims=True)
    std = train_x.std(axis=per_channel, keepdims=True) + 1e-8

    def normalize(x: np.ndarray) -> np.ndarray:
        out = ((x - mean) / std).astype(np.float32)
        out.setflags(write=False)
        return out

    def labels(y: np.ndarray) -> np.ndarray:
        out = np.ascontiguousarray(y, dtype=np.int64)
        out.setflags(write=False)
        return out

    num_classes = len(DNA_CLASSES) if name == "dna_splice" else 10
    split = {
        "digits": "test is 20% of digits drawn first, val from the rest",
        "dna_splice": "test is 1,000 sequences drawn first, val from the rest",
    }.get(name, "val from the official training set")
    info = {
        "dataset": name,
        "source": "sklearn.datasets.load_digits" if path is None else Path(path).name,
        "split": f"{split}, numpy default_rng(split_seed).permutation",
        "split_seed": split_seed,
        "train_size": int(n_train),
        "val_size": int(n_val),
        "test_size": len(test_x),
        "native_resolution": native,
        "resolution": int(res),
        "resample": "area average" if res != native else "none",
        "normalize_mean": [round(float(v), 6) for v in mean.ravel()],
        "normalize_std": [round(float(v), 6) for v in std.ravel()],
        "num_classes": num_classes,
        "in_channels": int(pool_x.shape[1]),
    }
    return Splits(
        train_x=normalize(train_x),
        train_y=labels(pool_y[train_idx]),
        val_x=normalize(prepare(pool_x[val_idx])),
        val_y=labels(pool_y[val_idx]),
        test_x=normalize(prepare(test_x)),
        test_y=labels(test_y),
        num_classes=num_classes,
        info=info,
    )


def _area_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) weights: output pixel i averages the input interval [i*src/dst, (i+1)*src/dst) by overlap.

    Kept by hand on purpose: torch's adaptive average pooling (``interpolate(mode="area")``) widens each window to
    whole pixels, which is not an exact area average when the sizes do not divide (28 -> 16), and PIL's BOX filter
    is exact but works one image at a time; two small matrices resample the whole batch exactly in one product."""
    edges = np.arange(dst + 1) * (src / dst)
    lo, hi = edges[:-1, None], edges[1:, None]
    pix = np.arange(src)[None, :]
    overlap = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0, None)
    return (overlap / overlap.sum(axis=1, keepdims=True)).astype(np.float32)


def _resample(x: np.ndarray, size: int) -> np.ndarray:
    a_h = _area_matrix(x.shape[2], size)
    a_w = _area_matrix(x.shape[3], size)
    return np.einsum("ih,nchw,jw->ncij", a_h, x, a_w, optimize=True).astype(np.float32)
