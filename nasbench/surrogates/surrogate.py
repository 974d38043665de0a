"""A fitted surrogate: features + model + the target it predicts (+ an optional seed-noise model), with save/load.

Saved as a folder (no pickle anywhere)::

    meta.json         format, space, features, model name and parameters, target metric/epoch/dataset,
                      training-set size and hash, library versions, noise model, a prediction check
    train.npz         the training archs and targets (numpy, allow_pickle=False)
    static.npz        only with a ``static`` feature: the store's static columns it reads, per stored arch
    model.xgb.json    XGBoost's own JSON model  | <name>.pt torch state dicts (tensors only)
                      (scikit-learn models are refitted from train.npz on load; the check proves the refit
                      reproduces the saved predictions)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import __version__, owned
from nasbench.errors import InvalidQuery, MissingResult, StoreError
from nasbench.spaces import get_space
from nasbench.spaces.base import SearchSpace
from nasbench.surrogates.features import as_rows, default_features, featurize, parse_features, static_columns
from nasbench.surrogates.models import DEFAULT_MODEL, make_model, model_class
from nasbench.surrogates.noise import NoiseModel
from nasbench.surrogates.static import StaticTable

log = logging.getLogger(__name__)

FORMAT = "nasbench-surrogate"
KIND = "surrogate"  # the kind of folder in its ownership marker
#: 2: any search space; ``static`` = the store's own columns (v1's ``static`` was NB201's analytic figures).
FORMAT_VERSION = 2
_CHECK_POINTS = 32


class SurrogateMismatch(InvalidQuery):
    """A saved surrogate that was fitted for another space, target metric or epoch than asked for."""


class Surrogate:
    """Predicts one target (a metric at an epoch) for any architecture of a space.

    >>> s = Surrogate("xgboost", space="nb201").fit(archs, y)                 # doctest: +SKIP
    >>> s.predict(["|nor_conv_3x3~0|+|...|"])                                # doctest: +SKIP

    ``features`` default to the model's required ones (the GIN: ``graph``) or the space's defaults
    (:func:`~nasbench.surrogates.features.default_features`). A ``static`` feature needs the store's ``static``
    table and then answers only archs the store holds.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        features: str | None = None,
        *,
        space: SearchSpace | str,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        static: StaticTable | None = None,
    ) -> None:
        self.model_name = model
        cls = model_class(model)
        self.space = get_space(space) if isinstance(space, str) else space
        self.space_name = self.space.name
        space_params = cls.space_params(self.space)  # MissingCapability before anything else
        required = cls.required_features
        if features is None:
            features = required or default_features(self.space)
        names = parse_features(features, self.space)
        self.features = "+".join(names)
        if required is not None and self.features != required:
            raise InvalidQuery(f"model {model} reads features {required!r}, got {self.features!r}")
        self.static: StaticTable | None = None
        wanted = static_columns(names)
        if wanted:
            if static is None:
                raise InvalidQuery(
                    f"features {self.features!r} read the store's /static columns: fit from a store "
                    "(fit_from_store, or pass static=StaticTable.from_bench(bench))"
                )
            columns = dict.fromkeys(c for name in wanted for c in static.columns(name))
            self.static = static.select(list(columns))
        self.params = {**space_params, **(params or {})}
        self.seed = int(seed)
        self.model = make_model(model, self.params, seed=self.seed)
        self.metric: str | None = None
        self.epoch: int | None = None
        self.dataset: str | None = None
        self.noise: NoiseModel | None = None
        self.n_train_ = 0
        self.n_dropped_ = 0
        self.train_hash_ = ""
        self._train: tuple[np.ndarray, np.ndarray] | None = None

    # ---- fitting --------------------------------------------------------------------------------------------

    def fit(self, archs: Sequence[object] | np.ndarray, y: Sequence[float] | np.ndarray) -> Surrogate:
        """Fit on ``archs`` and targets ``y``. NaN targets are dropped (logged with their count); too few points
        left for the model raise :class:`InvalidQuery`."""
        ops = as_rows(self.space, archs)
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(y) != len(ops):
            raise InvalidQuery(f"got {len(ops)} archs but {len(y)} targets")
        finite = np.isfinite(y)
        self.n_dropped_ = int((~finite).sum())
        if self.n_dropped_:
            log.warning("dropped %d of %d training points whose target is NaN", self.n_dropped_, len(y))
            ops, y = ops[finite], y[finite]
        need = self.model._min_samples()
        if len(y) < need:
            raise InvalidQuery(
                f"{self.model_name} needs at least {need} training points with a finite target, got {len(y)}"
                + (f" ({self.n_dropped_} NaN targets dropped)" if self.n_dropped_ else "")
            )
        try:
            self.model.fit(self.featurize(ops), y)
        except (ValueError, TypeError) as exc:  # e.g. scikit-learn's InvalidParameterError for a bad --param
            raise InvalidQuery(f"surrogate model {self.model_name!r} cannot be fitted as configured: {exc}") from None
        self.n_train_ = len(y)
        self.train_hash_ = training_hash(ops, y)
        self._train = (ops.astype(_arch_dtype(self.space)), y)
        return self

    @property
    def fitted(self) -> bool:
        return self._train is not None

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise InvalidQuery("this surrogate is not fitted yet: call fit() or load a saved one")

    # ---- predictions ----------------------------------------------------------------------------------------

    def featurize(self, archs: Sequence[object] | np.ndarray) -> np.ndarray:
        """This surrogate's feature matrix of ``archs``; NaN features raise for a model that cannot take them."""
        X = featurize(self.space, archs, self.features, self.static)
        if not self.model.allows_nan and np.isnan(X).any():
            raise InvalidQuery(
                f"{self.model_name} cannot take NaN features, and the store's static figures of some of these archs "
                "are NaN; use xgboost, or features without 'static'"
            )
        return X

    def predict(self, archs: Sequence[object] | np.ndarray) -> np.ndarray:
        """Mean prediction per arch (float64), within the range of the training targets; archs of another space
        raise InvalidArchitecture."""
        self._check_fitted()
        return self._in_range(np.asarray(self.model.predict(self.featurize(archs)), dtype=np.float64))

    def predict_dist(self, archs: Sequence[object] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the model's belief, for models with uncertainty (``model.has_dist``)."""
        self._check_fitted()
        mean, std = self.model.predict_dist(self.featurize(archs))
        return self._in_range(np.asarray(mean, dtype=np.float64)), std

    def _in_range(self, values: np.ndarray) -> np.ndarray:
        """Never beyond what was measured: boosted trees and networks extrapolate, and a search then finds the
        cells a model overrates (a 292-cell NB101 fit predicted up to 98.8 % for random cells, the best measured
        one being 94.7 %)."""
        y = self._train[1]  # type: ignore[index]
        return np.clip(values, float(y.min()), float(y.max()))

    def noise_std(self, archs: Sequence[object] | np.ndarray) -> np.ndarray:
        """Predicted seed-to-seed std per arch; zeros when the training store had a single seed."""
        rows = as_rows(self.space, archs)
        if self.noise is None:
            return np.zeros(len(rows))
        return self.noise.predict_std(self.space, rows)

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.space_name,
            "model": self.model_name,
            "features": self.features,
            "static_columns": None if self.static is None else list(self.static.names),
            "target": {"metric": self.metric, "epoch": self.epoch, "dataset": self.dataset},
            "n_train": self.n_train_,
            "n_dropped_nan": self.n_dropped_,
            "train_hash": self.train_hash_,
            "noise": None
            if self.noise is None
            else {"n_archs": self.noise.n_archs_, "rms_std": self.noise.global_std_},
        }

    def __repr__(self) -> str:
        target = f"{self.metric}@{self.epoch}" if self.metric else "unset target"
        return f"Surrogate({self.model_name}, features={self.features}, {target}, n_train={self.n_train_})"

    # ---- persistence ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the folder atomically (built beside ``path``, then renamed into place)."""
        self._check_fitted()
        assert self._train is not None
        path = Path(path)
        if path.exists() and not overwrite:
            raise StoreError(f"{path} already exists; pass overwrite=True (--overwrite) to replace it")
        if path.exists() or path.is_symlink():
            owned.replace_folder(path, KIND)  # only a surrogate folder nasbench wrote, holding nothing else
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            ops, y = self._train
            np.savez(tmp / "train.npz", archs=ops, y=y)
            static = None if self.static is None else self.static.save(tmp / "static.npz")
            state = self.model.save_state(tmp)
            probe = ops[:_CHECK_POINTS]
            meta = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                **self.describe(),
                "params": self.model.get_params(),
                "seed": self.seed,
                "model_state": state,
                "static": static,
                "noise_model": None if self.noise is None else self.noise.to_json(),
                "check": {"predictions": self.predict(probe).tolist()},
                "versions": library_versions(self.model_name),
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
            owned.write_marker(tmp, KIND, sorted(p.name for p in tmp.iterdir()))
            os.chmod(tmp, 0o755)
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        space: SearchSpace | str | None = None,
        metric: str | None = None,
        epoch: int | None = None,
    ) -> Surrogate:
        """Load a saved surrogate; if ``space``/``metric``/``epoch`` are given they must match what it was fitted
        for, else :class:`SurrogateMismatch` (a space object is also used as is: spaces not registered by name
        load too). A damaged or foreign folder raises :class:`StoreError`."""
        path = Path(path)
        try:
            meta = json.loads((path / "meta.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{path} is not a saved surrogate (cannot read meta.json: {exc})") from None
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise StoreError(
                f"{path}: format {meta.get('format')!r} v{meta.get('format_version')}; "
                f"this nasbench reads {FORMAT} v{FORMAT_VERSION}; fit it again"
            )
        target = meta["target"]
        for name, want, have in (
            ("space", space if space is None or isinstance(space, str) else space.name, meta["space"]),
            ("metric", metric, target["metric"]),
            ("epoch", epoch, target["epoch"]),
        ):
            if want is not None and want != have:
                raise SurrogateMismatch(f"{path} predicts {name} {have!r}, not the requested {want!r}")
        the_space = space if space is not None and not isinstance(space, str) else get_space(meta["space"])
        static = StaticTable.load(path, meta["static"], the_space) if meta.get("static") else None
        out = cls(
            meta["model"], meta["features"], space=the_space, params=meta["params"], seed=meta["seed"], static=static
        )
        out.metric, out.epoch, out.dataset = target["metric"], target["epoch"], target["dataset"]
        try:
            with np.load(path / "train.npz", allow_pickle=False) as z:
                ops, y = z["archs"].astype(np.int64), z["y"].astype(np.float64)
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"{path}: cannot read train.npz ({exc})") from None
        if training_hash(ops, y) != meta["train_hash"]:
            raise StoreError(f"{path}: train.npz does not match the training-set hash in meta.json")
        X = out.featurize(ops).astype(np.float64)
        out.model.load_state(path, meta["model_state"], X, y)
        out.n_train_, out.n_dropped_, out.train_hash_ = len(y), int(meta["n_dropped_nan"]), meta["train_hash"]
        out._train = (ops.astype(_arch_dtype(out.space)), y)
        if meta.get("noise_model"):
            out.noise = NoiseModel.from_json(meta["noise_model"])
        saved = np.asarray(meta["check"]["predictions"])
        now = out.predict(ops[: len(saved)])
        if not np.allclose(now, saved, rtol=1e-5, atol=1e-6):
            raise StoreError(
                f"{path}: the loaded model does not reproduce its saved predictions (max diff "
                f"{np.abs(now - saved).max():.3g}); saved with {meta['versions']}, "
                f"running {library_versions(out.model_name)}"
            )
        return out


def target_metric(bench: Any, metric: str | None) -> str:
    """``metric``, or the store's default score metric (``defaults["score_metric"]``, else ``test_acc``) when
    None; a metric the store lacks raises MissingResult naming the ones it holds."""
    if metric is None:
        metric = getattr(bench, "defaults", {}).get("score_metric") or "test_acc"
    if metric not in bench.metrics:
        raise MissingResult(f"this store has no {metric!r}; it holds: {', '.join(bench.metrics)}")
    return metric


def target_epoch(bench: Any, epoch: int | None) -> int:
    """``epoch``, or the store's only epoch when None; else InvalidQuery / MissingResult saying what exists."""
    if epoch is None and len(bench.epochs) != 1:
        raise InvalidQuery(f"give the target epoch: this store holds epochs {list(bench.epochs)}")
    epoch = bench.epochs[0] if epoch is None else epoch
    if epoch not in bench.epochs:
        raise MissingResult(f"this store has no epoch {epoch}; available: {list(bench.epochs)}")
    return int(epoch)


def fit_from_store(
    bench: Any,
    metric: str | None,
    epoch: int | None,
    *,
    model: str = DEFAULT_MODEL,
    features: str | None = None,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    archs: Sequence[object] | np.ndarray | None = None,
) -> Surrogate:
    """Fit a surrogate of ``metric`` (None: the store's default score metric) at ``epoch`` on a
    :class:`~nasbench.benchmark.TabularBenchmark` (all its archs, or the given subset), for the store's own space.
    With two or more named seeds, a seed-noise model is fitted as well."""
    metric = target_metric(bench, metric)
    epoch = target_epoch(bench, epoch)
    width = len(bench.space.choices)
    if archs is None:
        train_archs = np.asarray(bench.archs(), dtype=np.int64).reshape(-1, width)
    else:
        train_archs = as_rows(bench.space, archs)
    y = bench.query_many(train_archs, epoch=epoch, metrics=[metric])[metric]
    if not np.isfinite(y).any():
        raise MissingResult(f"no finite {metric} at epoch {epoch} for the training archs")
    out = Surrogate(
        model, features, space=bench.space, params=params, seed=seed, static=StaticTable.from_bench(bench)
    ).fit(train_archs, y)
    out.metric, out.epoch, out.dataset = metric, epoch, getattr(bench, "dataset", None)
    named = [s for s in bench.seeds if s is not None]
    if len(named) >= 2:
        per_seed = np.stack(
            [bench.query_many(train_archs, epoch=epoch, seed=s, metrics=[metric])[metric] for s in named], axis=1
        )
        if (np.isfinite(per_seed).sum(axis=1) >= 2).sum() >= 3:
            out.noise = NoiseModel().fit(bench.space, train_archs, per_seed)
    return out


def _arch_dtype(space: SearchSpace) -> type:
    """The smallest integer type that holds every decision value of the space (what train.npz stores)."""
    return np.int8 if max(space.choices) <= 127 else np.int32


def training_hash(ops: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(ops, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def library_versions(model: str) -> dict[str, str]:
    names = ["numpy", "scikit-learn"]
    names += {"xgboost": ["xgboost"], "mlp_ensemble": ["torch"], "gin": ["torch"]}.get(model, [])
    out = {"nasbench": __version__}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
