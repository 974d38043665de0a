"""The NB201 supernet and the weight-sharing methods: one-hot equivalence with the standalone network, each
method's defining behaviour, determinism under a seed, and the errors users can cause."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench.errors import NasbenchError, TrainingError  # noqa: E402
from nasbench.oneshot import make_method, parse_method  # noqa: E402
from nasbench.oneshot.search import BudgetTooSmall, SearchData, check_device, shared_accuracy  # noqa: E402
from nasbench.oneshot.supernet import NB201Supernet  # noqa: E402
from nasbench.spaces.nb201 import CONV1, CONV3, NONE, POOL, SKIP, NB201Space  # noqa: E402
from nasbench.train.data import load_splits  # noqa: E402

SPACE = NB201Space()
TINY = {"epochs": 1, "batch_size": 32}
METHODS = {
    "darts": {},
    "darts2": {"order": 2},
    "gdas": {},
    "enas": {"controller_steps": 2, "controller_aggregate": 3, "derive_samples": 4},
    "rsws": {"candidates": 6, "top_k": 2, "screen_size": 32},
}


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> SearchData:
    return SearchData.from_splits(load_splits("digits", train_size=128, val_size=64))


def _supernet_with_random_state(seed: int = 0) -> NB201Supernet:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = NB201Supernet(channels=4, cells_per_stage=2, in_channels=1, num_classes=10)
        # non-trivial BN statistics and affine parameters, so eval mode really reads what was copied
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)
    return net


def _make(key: str):
    name = "darts" if key == "darts2" else key
    return make_method(name, **TINY, **METHODS[key])


CELLS = [
    (CONV3,) * 6,
    (NONE,) * 6,
    (SKIP, NONE, POOL, NONE, CONV1, NONE),
    (CONV1, CONV3, SKIP, POOL, NONE, CONV3),
    *[SPACE.sample(np.random.default_rng(i)) for i in range(12)],
]


@pytest.mark.parametrize("arch", CELLS, ids=SPACE.to_str)
def test_one_hot_supernet_computes_exactly_the_standalone_network(arch):
    supernet = _supernet_with_random_state().eval()
    network = supernet.to_network(arch).eval()
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(supernet(x, arch=arch), network(x), atol=0, rtol=0)
        # the continuous relaxation with one-hot weights is the same cell
        weights = torch.nn.functional.one_hot(torch.tensor(arch), 5).float()
        assert torch.allclose(supernet(x, weights=weights), network(x), atol=1e-6)


def test_standalone_network_holds_the_supernet_weights_of_its_path_only():
    supernet = _supernet_with_random_state()
    arch = (CONV3, CONV1, NONE, POOL, CONV3, SKIP)
    network = supernet.to_network(arch)
    n_params = sum(p.numel() for p in network.parameters())
    assert n_params < sum(p.numel() for p in supernet.parameters())
    conv3 = supernet.cells[0].edges[0].ops[CONV3 - 1][1].weight
    assert torch.equal(network.cells[0].edges[0][1].weight, conv3)


def test_forward_needs_exactly_one_way_to_choose_the_cell():
    supernet = NB201Supernet(channels=4, cells_per_stage=1, in_channels=1)
    x = torch.randn(2, 1, 8, 8)
    with pytest.raises(ValueError, match="either arch"):
        supernet(x)
    with pytest.raises(ValueError, match="shape"):
        supernet(x, weights=torch.ones(6, 4))
    with pytest.raises(NasbenchError):
        supernet(x, arch=(7, 0, 0, 0, 0, 0))


@pytest.mark.parametrize("key", sorted(METHODS))
def test_each_method_is_deterministic_under_a_seed_and_returns_a_valid_cell(key, data):
    first = _make(key).search(data, seed=3, channels=4, cells_per_stage=1)
    again = _make(key).search(data, seed=3, channels=4, cells_per_stage=1)
    assert SPACE.validate(first.arch) == first.arch
    assert first.arch == again.arch
    strip = [{k: v for k, v in h.items() if k != "time_s"} for h in first.history]
    assert strip == [{k: v for k, v in h.items() if k != "time_s"} for h in again.history]
    assert first.epochs == 1 and first.search_time_s > 0 and first.device == "cpu"


def test_darts_alphas_move_and_second_order_differs_from_first(data):
    runs = {}
    for order in (1, 2):
        method = make_method("darts", order=order, arch_lr=3e-2, **TINY)
        method.search(data, seed=0, channels=4, cells_per_stage=1)
        start = 1e-3 * torch.randn(6, 5, generator=torch.Generator().manual_seed(0 + 0x5EED))
        assert not torch.allclose(method.alphas_.detach(), start, atol=1e-4)
        runs[order] = method.alphas_.detach().clone()
    assert not torch.allclose(runs[1], runs[2])


def test_darts_returns_the_argmax_of_its_alphas(data):
    method = _make("darts")
    result = method.search(data, seed=1, channels=4, cells_per_stage=1)
    alphas = np.asarray(result.extra["alphas"])
    assert result.arch == tuple(alphas.argmax(axis=1).tolist())


def test_gdas_computes_one_op_per_edge_and_reaches_every_alpha(data):
    method = _make("gdas")
    method.search(data, seed=0, channels=4, cells_per_stage=1)
    supernet = method.supernet_
    calls: dict[tuple[int, int], int] = {}
    cells = [c for c in supernet.cells if hasattr(c, "edges")]
    handles = []
    for ci, cell in enumerate(cells):
        for e, edge in enumerate(cell.edges):
            for op in edge.ops:

                def hook(*_args, key=(ci, e)):
                    calls[key] = calls.get(key, 0) + 1

                handles.append(op.register_forward_hook(hook))
    hard, index = method.sample()
    assert hard.detach().sum(dim=1).allclose(torch.ones(6)) and ((hard.detach() == 0) | (hard.detach() == 1)).all()
    method.alphas_.grad = None
    loss = supernet(data.val_x[:8], weights=hard, index=index).logsumexp(1).mean()
    loss.backward()
    for h in handles:
        h.remove()
    for ci in range(len(cells)):
        for e in range(6):
            assert calls.get((ci, e), 0) == (0 if index[e] == NONE else 1)
    assert (method.alphas_.grad != 0).all()  # straight-through: every alpha gets a gradient


def test_gdas_anneals_tau_from_max_to_min(data):
    result = make_method("gdas", epochs=3, batch_size=64).search(data, seed=0, channels=4, cells_per_stage=1)
    assert [h["tau"] for h in result.history] == pytest.approx([10.0, 5.05, 0.1])


def test_enas_controller_learns_by_reinforce(data):
    method = _make("enas")
    result = method.search(data, seed=0, channels=4, cells_per_stage=1)
    assert 0 <= result.history[0]["reward"] <= 1.01
    assert all(p.grad is not None for p in method.controller_.parameters())
    assert method.controller_.head.weight.grad.abs().sum() > 0


def test_rsws_returns_the_best_finalist_by_shared_accuracy(data):
    method = _make("rsws")
    result = method.search(data, seed=0, channels=4, cells_per_stage=1)
    acc = shared_accuracy(method.supernet_, result.arch, data.val_x, data.val_y)
    assert acc == pytest.approx(result.extra["shared_val_acc"])


def test_shared_accuracy_leaves_bn_statistics_untouched(data):
    supernet = _supernet_with_random_state()
    before = {k: v.clone() for k, v in supernet.state_dict().items()}
    shared_accuracy(supernet, (CONV3,) * 6, data.val_x, data.val_y)
    after = supernet.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if "num_batches" not in k)


def test_a_budget_below_one_epoch_is_a_clear_error(data):
    with pytest.raises(BudgetTooSmall, match="does not fit one supernet epoch") as err:
        _make("darts").search(data, seed=0, channels=4, cells_per_stage=1, time_budget_s=1e-9)
    assert isinstance(err.value, NasbenchError)
    with pytest.raises(BudgetTooSmall):
        _make("darts").search(data, seed=0, channels=4, cells_per_stage=1, time_budget_s=0)


def test_a_budget_stops_after_the_last_epoch_that_fits(data):
    method = make_method("rsws", epochs=50, batch_size=64, candidates=2, top_k=1)
    probe = make_method("rsws", epochs=1, batch_size=64, candidates=2, top_k=1)
    one = probe.search(data, seed=0, channels=4, cells_per_stage=1).history[0]["time_s"]
    result = method.search(data, seed=0, channels=4, cells_per_stage=1, time_budget_s=max(3 * one, 0.05))
    assert 1 <= result.epochs < 50


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(TrainingError, match="no CUDA device"):
        check_device("cuda")
    with pytest.raises(TrainingError, match=r"not supported|unknown device"):
        check_device("tpu")


def test_unknown_methods_and_hyperparameters_are_clear_errors():
    with pytest.raises(TrainingError, match="known: enas, darts, gdas, rsws"):
        make_method("nope")
    with pytest.raises(TrainingError, match="no hyperparameter"):
        make_method("darts", temperature=3)
    with pytest.raises(TrainingError, match="order"):
        make_method("darts", order=3)
    with pytest.raises(TrainingError, match="key=value"):
        parse_method("darts:order")
    assert parse_method("darts:order=2:arch_lr=0.001") == ("darts", {"order": 2, "arch_lr": 0.001})
