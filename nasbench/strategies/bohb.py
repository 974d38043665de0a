"""BOHB (Falkner, Klein, Hutter; ICML 2018): Hyperband whose new archs come from a TPE-style density model.

The brackets, rungs and promotions are Hyperband's (:mod:`nasbench.strategies.hyperband`); a bracket's fresh
archs are drawn one at a time, when a worker needs one, so each draw sees every result told so far. A draw is
uniform with probability ``random_fraction``, and always until some epoch has a model; otherwise it comes from
the model of the highest epoch that has one: results at that epoch are split into the best ``top_n_percent``
("good", density l) and the rest ("bad", g), each side at least ``min_points_in_model`` archs (default number of
decisions + 1, and a side needs more points than decisions), and of ``num_samples`` archs drawn from l (with
bandwidths widened ``bandwidth_factor`` times) the one maximising l/g among those the space accepts is proposed.
Defaults are the paper's.

Densities are products of Aitchison-Aitken kernels over the decisions (the paper's kernel for categorical
values): a point gives weight 1 - h to its own value of a decision with c choices and h / (c - 1) to each other.
Adaptation: the paper's code takes h from the normal reference rule applied to value indices, which for 5
unordered values (NB201's ops) is nearly always above the uniform value (c - 1) / c, so the model is flat and
samples are uniform; here the rule is applied to the spread of the one-hot vector (std = sqrt(1 - sum p_k^2)),
h = 1.06 std n^(-1/(4+d)), clipped to [``min_bandwidth``, (c - 1) / c] per decision (a single-choice decision gets
h = 0). ``bandwidth_factor`` widens h for sampling (the paper's code widens only continuous parameters; with none
here, it is applied to the categorical h, as the paper describes).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nasbench.spaces.base import Arch
from nasbench.strategies._common import is_valid, shifted
from nasbench.strategies.base import Feedback, Proposal, Trial
from nasbench.strategies.hyperband import Hyperband, _Bracket


class _LazyBracket(_Bracket):
    """A bracket whose ``unsampled`` fresh archs are supplied one at a time (by :meth:`BOHB.ask`)."""

    def __init__(self, rungs: list[int], eta: float, unsampled: int) -> None:
        super().__init__([], rungs, eta)
        self.unsampled = unsampled

    def tell(self, trial: Trial, score: float) -> None:
        self.pending -= 1
        self.results.append((score, len(self.results), trial))
        if not self.pending and not self.to_launch and not self.unsampled:
            self._promote()


def max_bandwidth(levels: np.ndarray) -> np.ndarray:
    """The uniform kernel's bandwidth (c - 1) / c of each column with c values (0 for a single value)."""
    return (levels - 1) / levels


class _KDE:
    """Product of Aitchison-Aitken kernels over categorical columns of ``data`` (n, d); column j takes
    ``levels[j]`` values."""

    def __init__(self, data: np.ndarray, levels: np.ndarray, min_bandwidth: float) -> None:
        self.data = data
        self.levels = levels
        n, d = data.shape
        freq = np.stack([(data == v).mean(axis=0) for v in range(int(levels.max()))])  # (most levels, d)
        spread = np.sqrt(np.maximum(1.0 - (freq**2).sum(axis=0), 0.0))
        self.bw = np.clip(1.06 * spread * n ** (-1.0 / (4 + d)), min_bandwidth, max_bandwidth(levels))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        match = x[:, None, :] == self.data[None, :, :]  # (m, n, d)
        kernel = np.where(match, 1.0 - self.bw, self.bw / np.maximum(self.levels - 1, 1))
        return kernel.prod(axis=2).mean(axis=1)


class BOHB(Hyperband):
    """Hyperband brackets (``eta``, ``min_epoch``, ``max_epoch`` as in :class:`Hyperband`) with model-based
    sampling of each bracket's new archs."""

    name = "bohb"
    ranges: ClassVar[dict[str, str]] = {
        "eta": "(1, 1000]",
        "top_n_percent": "(0, 100)",
        "random_fraction": "[0, 1]",
        "num_samples": "[1, 100000]",
        "bandwidth_factor": "(0, 1000]",
        "min_bandwidth": "(0, 1)",
        "min_points_in_model": "[1, 100000]",
    }

    def __init__(
        self,
        eta: float = 3,
        min_epoch: int | None = None,
        max_epoch: int | None = None,
        top_n_percent: float = 15,
        random_fraction: float = 1 / 3,
        num_samples: int = 64,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
        min_points_in_model: int | None = None,
    ) -> None:
        super().__init__(eta=eta, min_epoch=min_epoch, max_epoch=max_epoch)
        self.top_n_percent = top_n_percent
        self.random_fraction = random_fraction
        self.num_samples = num_samples
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth
        self.min_points_in_model = min_points_in_model

    def _setup(self) -> None:
        super()._setup()
        if not 0 < self.top_n_percent < 100:
            raise ValueError(f"bohb: top_n_percent must be in (0, 100), got {self.top_n_percent!r}")
        if not 0 <= self.random_fraction <= 1:
            raise ValueError(f"bohb: random_fraction must be in [0, 1], got {self.random_fraction!r}")
        if not isinstance(self.num_samples, int) or self.num_samples < 1:
            raise ValueError(f"bohb: num_samples must be an integer >= 1, got {self.num_samples!r}")
        if not self.bandwidth_factor > 0:
            raise ValueError(f"bohb: bandwidth_factor must be > 0, got {self.bandwidth_factor!r}")
        if not 0 < self.min_bandwidth < 1:
            raise ValueError(f"bohb: min_bandwidth must be in (0, 1), got {self.min_bandwidth!r}")
        self._levels = np.asarray(self.space.choices, dtype=np.int64)
        dim = len(self._levels)
        if self.min_points_in_model is not None and (
            not isinstance(self.min_points_in_model, int) or self.min_points_in_model <= dim
        ):
            raise ValueError(
                f"bohb: min_points_in_model must be an integer > {dim} (the number of decisions of the "
                f"{self.space.name} space), got {self.min_points_in_model!r}"
            )
        self._min_points = self.min_points_in_model or dim + 1
        self._results: dict[int, tuple[list[Arch], list[float]]] = {}  # epoch -> archs and scores told
        self._models: dict[int, tuple[_KDE, _KDE]] = {}  # epoch -> (good, bad)

    def ask(self) -> Proposal | None:
        for bracket in self._open:
            proposal = self._bracket_ask(bracket)
            if proposal is not None:
                return self._track(proposal, bracket)
        n, first_rung = self._bracket_shape(self._opened)
        self._opened += 1
        bracket = _LazyBracket(self.rungs_[first_rung:], self.eta, n)
        self._open.append(bracket)
        return self._track(self._bracket_ask(bracket), bracket)  # type: ignore[arg-type]

    def _bracket_ask(self, bracket: _Bracket) -> Proposal | None:
        if isinstance(bracket, _LazyBracket) and not bracket.to_launch and bracket.unsampled:
            bracket.unsampled -= 1
            bracket.to_launch.append((self._sample(), None))
        return bracket.ask()

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        archs, scores = self._results.setdefault(feedback.epoch, ([], []))
        archs.append(trial.arch)
        scores.append(feedback.score)
        self._fit(feedback.epoch)

    def _fit(self, epoch: int) -> None:
        """(Re)build the good/bad densities of ``epoch`` when it has enough results (as the paper's code)."""
        archs, scores = self._results[epoch]
        n = len(scores)
        dim = len(self._levels)
        n_good = max(self._min_points, int(self.top_n_percent * n / 100))
        n_bad = max(self._min_points, int((100 - self.top_n_percent) * n / 100))
        order = np.argsort(-np.asarray(scores), kind="stable")
        data = np.asarray(archs, dtype=np.int64)
        good, bad = data[order[:n_good]], data[order[n_good : n_good + n_bad]]
        if len(good) <= dim or len(bad) <= dim:
            return
        levels = self._levels
        self._models[epoch] = (_KDE(good, levels, self.min_bandwidth), _KDE(bad, levels, self.min_bandwidth))

    def _sample(self) -> Arch:
        if not self._models or self.rng.random() < self.random_fraction:
            return self.space.sample(self.rng)
        good, bad = self._models[max(self._models)]
        centres = good.data[self.rng.integers(len(good.data), size=self.num_samples)]
        widened = np.minimum(good.bw * self.bandwidth_factor, max_bandwidth(self._levels))
        # widened Aitchison-Aitken draw: keep the centre's value with probability 1 - h, else any other value
        change = self.rng.random(centres.shape) < widened
        samples = shifted(centres, change, self._levels, self.rng)
        ratio = np.maximum(good.pdf(samples), 1e-32) / np.maximum(bad.pdf(samples), 1e-32)
        for i in np.argsort(-ratio, kind="stable"):  # the best the space accepts (all, where it has no constraint)
            arch = tuple(int(v) for v in samples[i])
            if is_valid(self.space, arch):
                return arch
        return self.space.sample(self.rng)
