"""``check_search_space``: does a space keep every promise of the :class:`~nasbench.spaces.base.SearchSpace`
protocol (and of the optional capabilities it claims) that the store, the runner and the strategies rely on?"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, Enumerable, GraphView, Progressive, SearchSpace, onehot
from nasbench.testing._report import Reporter

#: Archs whose neighbourhoods and growth are checked (each has up to sum(choices) neighbours).
NEIGHBORHOODS = 40


def check_search_space(space: SearchSpace, *, n: int = 200, seed: int = 0) -> None:
    """Raise AssertionError (naming the space, the check and the arch) unless ``space`` conforms: attributes,
    sampling, mutation, neighbourhoods, strings, validation of every accepted form, refusal of bad input,
    canonical forms, encodings, and the Enumerable / GraphView / Progressive capabilities it claims.

        from nasbench.testing import check_search_space
        def test_my_space():
            check_search_space(MySpace())
    """
    r = Reporter(f"check_search_space({getattr(space, 'name', type(space).__name__)!r})")
    _check_attributes(r, space)
    archs = _check_sampling(r, space, n, seed)
    pool = _check_moves(r, space, archs, seed)
    _check_validate_forms(r, space, archs)
    _check_in_range_tuples(r, space, n, seed)
    _check_refusals(r, space, archs[0])
    _check_canonical(r, space, pool)
    _check_encodings(r, space, pool)
    if isinstance(space, Enumerable):
        _check_enumerable(r, space, archs)
    if isinstance(space, GraphView):
        _check_graphs(r, space, pool)
    if isinstance(space, Progressive):
        _check_progressive(r, space, archs[:NEIGHBORHOODS])


def _check_attributes(r: Reporter, space: SearchSpace) -> None:
    r.expect(isinstance(space, SearchSpace), "protocol", "lacks attributes or methods of the SearchSpace protocol")
    r.expect(isinstance(space.name, str) and bool(space.name), "name", f"must be a non-empty str, got {space.name!r}")
    choices = space.choices
    r.expect(
        isinstance(choices, tuple) and len(choices) > 0 and all(type(c) is int and c >= 1 for c in choices),
        "choices", f"must be a non-empty tuple of ints >= 1, got {choices!r}",
    )  # fmt: skip
    r.expect(
        len(space.decisions) == len(choices) and all(isinstance(d, str) for d in space.decisions),
        "decisions", f"needs one name (str) per decision: {len(space.decisions)} names for {len(choices)} decisions",
    )  # fmt: skip
    r.expect(len(space.options) == len(choices), "options", f"{len(space.options)} entries, {len(choices)} decisions")
    for d, (names, n) in enumerate(zip(space.options, choices, strict=True)):
        r.expect(
            len(names) == n and all(isinstance(o, str) for o in names),
            "options", f"decision {d} ({space.decisions[d]}) has {n} choices but options names {len(names)}: {names!r}",
        )  # fmt: skip
    r.expect("onehot" in space.encodings, "encodings", f"must include 'onehot', got {space.encodings!r}")


def _is_member(space: SearchSpace, arch: object) -> str | None:
    """Why ``arch`` is not a plain, in-range, valid arch that ``validate`` returns unchanged (None: it is)."""
    if type(arch) is not tuple or len(arch) != len(space.choices):
        return f"not a tuple of {len(space.choices)} values: {type(arch).__name__} {arch!r}"
    if not all(type(v) is int for v in arch):
        return f"holds values that are not plain ints: {[type(v).__name__ for v in arch]}"
    if not all(0 <= v < n for v, n in zip(arch, space.choices, strict=True)):
        return f"a value is out of range of choices {space.choices}"
    try:
        valid = space.validate(arch)
    except InvalidArchitecture as exc:
        return f"validate refuses it: {exc}"
    return None if valid == arch else f"validate changed it to {valid!r}"


def _member(r: Reporter, space: SearchSpace, arch: object, check: str, what: str) -> None:
    reason = _is_member(space, arch)
    if reason is not None:
        r.fail(check, f"{what} is not a valid arch: {reason}", arch)


def _check_sampling(r: Reporter, space: SearchSpace, n: int, seed: int) -> list[Arch]:
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(max(n, 2))]
    for arch in archs:
        _member(r, space, arch, "sample", "a sample")
    rng = np.random.default_rng(seed)
    again = [space.sample(rng) for _ in range(len(archs))]
    r.expect(again == archs, "sample", f"differs between two Generators seeded {seed}: not a function of the rng alone")
    return archs


def _check_moves(r: Reporter, space: SearchSpace, archs: list[Arch], seed: int) -> list[Arch]:
    """Mutations and neighbourhoods; returns every arch met (samples, children, neighbours) for later checks."""
    pool = list(archs)
    rng = np.random.default_rng(seed + 1)
    children = [space.mutate(a, rng) for a in archs]
    rng = np.random.default_rng(seed + 1)
    r.expect(children == [space.mutate(a, rng) for a in archs], "mutate", "not deterministic under the same rng")
    for parent, child in zip(archs, children, strict=True):
        _member(r, space, child, "mutate", f"the child of {parent!r}")
        r.expect(child != parent, "mutate", "returned its parent unchanged", parent)
    pool += children
    for arch in archs[:NEIGHBORHOODS]:
        near = space.neighbors(arch)
        r.expect(isinstance(near, list), "neighbors", f"must return a list, got {type(near).__name__}", arch)
        r.expect(len(set(near)) == len(near), "neighbors", "holds duplicates", arch)
        r.expect(near == space.neighbors(arch), "neighbors", "differs between two calls", arch)
        for other in near:
            _member(r, space, other, "neighbors", f"neighbour {other!r}")
            changed = sum(a != b for a, b in zip(arch, other, strict=True))
            r.expect(changed == 1, "neighbors", f"{other!r} differs in {changed} decisions, not exactly one", arch)
        pool += near[:3]
    return pool


def _check_validate_forms(r: Reporter, space: SearchSpace, archs: list[Arch]) -> None:
    table = np.asarray(archs, dtype=np.int64)
    for i, arch in enumerate(archs):
        text = space.to_str(arch)
        r.expect(isinstance(text, str), "to_str", f"must return a str, got {type(text).__name__}", arch)
        forms = {
            "from_str(to_str(arch))": (space.from_str, text),
            "validate(to_str(arch))": (space.validate, text),
            "validate(numpy row)": (space.validate, table[i]),
            "validate(numpy int32 array)": (space.validate, np.asarray(arch, dtype=np.int32)),
        }
        for form, (call, given) in forms.items():
            try:
                got = call(given)
            except InvalidArchitecture as exc:
                r.fail("validate", f"{form} raised InvalidArchitecture: {exc}", arch)
            r.expect(got == arch and type(got) is tuple, "validate", f"{form} gave {got!r}", arch)
            r.expect(all(type(v) is int for v in got), "validate", f"{form} holds values that are not plain ints", arch)


def _check_in_range_tuples(r: Reporter, space: SearchSpace, n: int, seed: int) -> None:
    """Any in-range tuple is either a member (returned unchanged) or refused with InvalidArchitecture."""
    rng = np.random.default_rng(seed + 2)
    for row in rng.integers(0, np.asarray(space.choices), size=(n, len(space.choices))).tolist():
        arch = tuple(row)
        try:
            got = space.validate(arch)
        except InvalidArchitecture:
            continue
        except Exception as exc:
            r.fail("validate", f"an in-range tuple raised {type(exc).__name__} ({exc}), not InvalidArchitecture", arch)
        r.expect(got == arch, "validate", f"an in-range member came back changed, as {got!r}", arch)


def _bad_inputs(space: SearchSpace, arch: Arch) -> dict[str, object]:
    width = len(space.choices)
    return {
        "one decision too many": (*arch, 0),
        "one decision too few": arch[:-1],
        "an empty tuple": (),
        f"decision 0 = {space.choices[0]} (out of range)": (space.choices[0], *arch[1:]),
        "decision 0 = -1": (-1, *arch[1:]),
        "a bool value": (bool(arch[0] % 2) if space.choices[0] > 1 else True, *arch[1:]),
        "a float value": (float(arch[0]), *arch[1:]),
        "None": None,
        "a garbage string": "this is not an architecture",
        "an empty string": "",
        "a valid string with trailing garbage": space.to_str(arch) + "#!",
        "a 2-d array": np.zeros((2, width), dtype=np.int64),
    }


def _check_refusals(r: Reporter, space: SearchSpace, arch: Arch) -> None:
    for what, bad in _bad_inputs(space, arch).items():
        r.raises(InvalidArchitecture, functools.partial(space.validate, bad), "invalid input", f"validate({what})")
    out_of_range = (space.choices[0], *arch[1:])
    calls = {
        "from_str(123)": lambda: space.from_str(123),  # type: ignore[arg-type]
        "from_str(garbage)": lambda: space.from_str("this is not an architecture"),
        "to_str(out of range)": lambda: space.to_str(out_of_range),
        "mutate(out of range)": lambda: space.mutate(out_of_range, np.random.default_rng(0)),
        "neighbors(out of range)": lambda: space.neighbors(out_of_range),
        "canonical(out of range)": lambda: space.canonical(out_of_range),
        "encode([out of range])": lambda: space.encode([out_of_range]),
    }
    for what, call in calls.items():
        r.raises(InvalidArchitecture, call, "invalid input", what, out_of_range)


def _check_canonical(r: Reporter, space: SearchSpace, pool: list[Arch]) -> None:
    strings: dict[Arch, str] = {}
    for arch in pool:
        canon = space.canonical(arch)
        _member(r, space, canon, "canonical", "the canonical form")
        r.expect(space.canonical(canon) == canon, "canonical", f"not idempotent: canonical({canon!r}) differs", arch)
        text = space.to_str(canon)
        r.expect(
            strings.setdefault(canon, text) == text, "canonical", f"one canonical form, two strings: {text!r}", arch
        )


def _check_encodings(r: Reporter, space: SearchSpace, pool: list[Arch]) -> None:
    archs = pool[:100]
    repeated = archs + archs[::-1][:10]
    for kind in space.encodings:
        x = space.encode(repeated, kind)
        check = f"encode({kind!r})"
        r.expect(isinstance(x, np.ndarray), check, f"must return an ndarray, got {type(x).__name__}")
        r.expect(x.dtype == np.float32, check, f"must be float32, got {x.dtype}")
        r.expect(
            x.ndim == 2 and x.shape[0] == len(repeated) and x.shape[1] >= 1,
            check, f"shape {x.shape} for {len(repeated)} archs; expected (n, d) with d >= 1",
        )  # fmt: skip
        r.expect(bool(np.isfinite(x).all()), check, "holds NaN or inf")
        for i, arch in enumerate(archs[::-1][:10]):
            j = len(archs) - 1 - i
            r.expect(np.array_equal(x[len(archs) + i], x[j]), check, "two rows of one arch differ", arch)
        single = space.encode([archs[0]], kind)
        r.expect(np.array_equal(single[0], x[0]), check, "a row depends on the other archs of the batch", archs[0])
    expected = onehot(np.asarray(archs, dtype=np.int64), space.choices)
    r.expect(
        np.array_equal(space.encode(archs, "onehot"), expected),
        "encode('onehot')", f"is not each decision's value one-hot, concatenated (width {sum(space.choices)})",
    )  # fmt: skip


def _check_enumerable(r: Reporter, space: Enumerable, samples: list[Arch]) -> None:
    everything = space.all_archs()
    r.expect(space.size == len(everything), "enumerable", f"size {space.size} but all_archs has {len(everything)}")
    r.expect(len(set(everything)) == len(everything), "enumerable", "all_archs holds duplicates")
    known = set(everything)
    for arch in samples:
        r.expect(arch in known, "enumerable", "a sample is not in all_archs", arch)
    for i, arch in enumerate(everything):
        _member(r, space, arch, "enumerable", f"all_archs()[{i}]")  # type: ignore[arg-type]
        index, back = space.index(arch), space.from_index(i)
        r.expect(index == i, "enumerable", f"index gives {index}, not {i}", arch)
        r.expect(back == arch, "enumerable", f"from_index({i}) gives {back!r}", arch)
    for bad in (-1, space.size):
        r.raises(InvalidArchitecture, functools.partial(space.from_index, bad), "enumerable", f"from_index({bad})")


def _check_graphs(r: Reporter, space: GraphView, archs: Sequence[Arch]) -> None:
    archs = list(archs[:100])
    adj, types = space.graphs(archs)
    kinds = space.num_node_types
    r.expect(type(kinds) is int and kinds >= 1, "graphs", f"num_node_types must be an int >= 1, got {kinds!r}")
    r.expect(
        isinstance(adj, np.ndarray) and adj.dtype == np.float32 and adj.ndim == 3 and adj.shape[0] == len(archs)
        and adj.shape[1] == adj.shape[2],
        "graphs", f"adjacency must be (b, n, n) float32, got {getattr(adj, 'shape', None)} {getattr(adj, 'dtype', '')}",
    )  # fmt: skip
    nodes = adj.shape[1]
    r.expect(
        isinstance(types, np.ndarray) and types.dtype == np.int64 and types.shape == (len(archs), nodes),
        "graphs", f"node types must be ({len(archs)}, {nodes}) int64, got {getattr(types, 'shape', None)} "
        f"{getattr(types, 'dtype', '')}",
    )  # fmt: skip
    r.expect(bool(np.isin(adj, (0.0, 1.0)).all()), "graphs", "adjacency holds values other than 0 and 1")
    reach = adj.astype(bool)
    power = reach.copy()
    for _ in range(nodes):
        power = np.einsum("bij,bjk->bik", power, reach).astype(bool)
    for k, arch in enumerate(archs):
        row_types = types[k]
        r.expect(
            bool(((row_types >= -1) & (row_types < kinds)).all()),
            "graphs", f"node types {row_types.tolist()} outside -1..{kinds - 1}", arch,
        )  # fmt: skip
        absent = row_types == -1
        r.expect(not (reach[k][absent].any() or reach[k][:, absent].any()), "graphs", "an absent node has edges", arch)
        r.expect(not power[k].any(), "graphs", "the graph has a cycle (not a DAG)", arch)
    one_adj, one_types = space.graphs(archs[:1])
    r.expect(
        np.array_equal(one_adj[0], adj[0]) and np.array_equal(one_types[0], types[0]),
        "graphs", "an arch's graph depends on the other archs of the batch", archs[0],
    )  # fmt: skip


def _check_progressive(r: Reporter, space: Progressive, archs: list[Arch]) -> None:
    simplest = space.simplest()
    r.expect(isinstance(simplest, list) and len(simplest) > 0, "progressive", "simplest() must be a non-empty list")
    r.expect(len(set(simplest)) == len(simplest), "progressive", "simplest() holds duplicates")
    for arch in simplest:
        _member(r, space, arch, "progressive", "an arch of simplest()")  # type: ignore[arg-type]
    for arch in [*simplest, *archs]:
        level = space.complexity(arch)
        r.expect(type(level) is int and level >= 0, "progressive", f"complexity must be an int >= 0: {level!r}", arch)
        grown = space.grow(arch)
        r.expect(isinstance(grown, list), "progressive", f"grow must return a list, got {type(grown).__name__}", arch)
        r.expect(len(set(grown)) == len(grown), "progressive", "grow holds duplicates", arch)
        r.expect(arch not in grown, "progressive", "grow returned the arch itself", arch)
        for child in grown:
            _member(r, space, child, "progressive", f"grown {child!r}")  # type: ignore[arg-type]
            r.expect(
                space.complexity(child) >= level,
                "progressive", f"grown {child!r} has complexity {space.complexity(child)} < {level}", arch,
            )  # fmt: skip
