"""The NAS-Bench-Macro space (Su et al., "Prioritized Architecture Sampling with Monto-Carlo Tree Search", CVPR
2021): a MobileNetV2-like network of 8 searchable layers, each one of 3 blocks, 3**8 = 6,561 networks.

An arch is the tuple of the 8 layer choices; the official string is the 8 digits, e.g. ``"22212220"``:
``0`` identity, ``1`` MB3_K3 (MobileNetV2 block, expansion 3, kernel 3), ``2`` MB6_K5 (expansion 6, kernel 5).
The layers form 3 stages of 2, 3 and 3 layers (official ``stages=[2, 3, 3]``). The first layer of each stage halves
the resolution and doubles the channels, so its "identity" is a strided 1x1 convolution, a real layer; every other
identity is a no-op.

Isomorphism: moving a no-op identity within its stage does not change the network, so the official training code
(``get_real_arch`` in NAS-Bench-Macro's ``train_benchmark.py``) trained one network per class, with the first layer
of each stage in place and the stage's other identities moved to its end, and copied that result to every string of
the class. The published file shows it: its 6,561 entries hold 3,969 distinct records, one per class, identical
within each class. :meth:`NBMacroSpace.canonical` is that official representative, so a store holds one row per
class (``iso_shared``). (The reference README's note that such strings are different networks is contradicted by the
file and by the official code.)
"""

from __future__ import annotations

import functools

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, EnumerableSpace, onehot

#: Official block names by index (NAS-Bench-Macro README; the training code calls them id, ir_3x3_t3, ir_5x5_t6).
BLOCKS: tuple[str, ...] = ("Identity", "MB3_K3", "MB6_K5")
IDENTITY = 0
#: Layers per stage; the first layer of each stage has stride 2 and doubles the channels.
STAGES: tuple[int, ...] = (2, 3, 3)
NUM_LAYERS = sum(STAGES)
_STAGE_STARTS = tuple(sum(STAGES[:s]) for s in range(len(STAGES)))
_EXAMPLE = "22212220"


def _decision_names() -> tuple[str, ...]:
    names = []
    for stage, (start, length) in enumerate(zip(_STAGE_STARTS, STAGES, strict=True), start=1):
        for offset in range(length):
            where = "stride 2, channels x2" if offset == 0 else "stride 1"
            names.append(f"layer {start + offset + 1} (stage {stage}, {where})")
    return tuple(names)


class NBMacroSpace(EnumerableSpace):
    """NAS-Bench-Macro: 6,561 strings, 3,969 distinct networks (see the module docstring for the isomorphism).

    Progressive: complexity is the number of non-identity layers; the simplest network is the all-identity one
    (stem, the three strided 1x1 convolutions and the head: a real, trained member of the space, 45.4 % on
    CIFAR-10), and :meth:`grow` adds one MobileNetV2 block.
    """

    name = "nb_macro"
    choices = (len(BLOCKS),) * NUM_LAYERS
    decisions = _decision_names()
    options = (BLOCKS,) * NUM_LAYERS
    encodings = ("onehot", "canonical_onehot")
    stages = STAGES

    # ---- strings ------------------------------------------------------------------------------------------

    def to_str(self, arch: Arch) -> str:
        return "".join(str(v) for v in self.validate(arch))

    def from_str(self, text: str) -> Arch:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"expected an nb_macro string such as {_EXAMPLE!r}, got {type(text).__name__}")
        digits = text.strip()
        if len(digits) != NUM_LAYERS or any(c not in "012" for c in digits):
            raise InvalidArchitecture(
                f"an nb_macro string is {NUM_LAYERS} digits, one per layer, each 0 ({BLOCKS[0]}), 1 ({BLOCKS[1]}) "
                f"or 2 ({BLOCKS[2]}), e.g. {_EXAMPLE!r}; got {text!r}"
            )
        return tuple(int(c) for c in digits)

    # ---- isomorphism --------------------------------------------------------------------------------------

    def canonical(self, arch: Arch) -> Arch:
        """The official representative (``get_real_arch``): in each stage the first layer stays, the other
        non-identity layers keep their order and the stage's no-op identities move to its end."""
        return _canonical(self.validate(arch))

    # ---- "simpler than" (Progressive) ---------------------------------------------------------------------

    def complexity(self, arch: Arch) -> int:
        """The number of layers that are not identity."""
        return sum(v != IDENTITY for v in self.validate(arch))

    def simplest(self) -> list[Arch]:
        """The all-identity network, the only member of complexity 0."""
        return [(IDENTITY,) * NUM_LAYERS]

    def grow(self, arch: Arch) -> list[Arch]:
        """The distinct networks with one identity layer of ``arch`` replaced by a block, as canonical archs
        (several strings of one network would cost a search several evaluations of it). Empty when no layer is
        identity."""
        arch = self.validate(arch)
        children = (
            _canonical((*arch[:d], block, *arch[d + 1 :]))
            for d in range(NUM_LAYERS)
            if arch[d] == IDENTITY
            for block in range(1, len(BLOCKS))
        )
        return list(dict.fromkeys(children))

    # ---- encodings ----------------------------------------------------------------------------------------

    def _encode(self, arr: np.ndarray, kind: str) -> np.ndarray:
        """``canonical_onehot`` (24): the one-hot of the canonical arch, equal for strings of one network."""
        canon = np.asarray([_canonical(tuple(row)) for row in arr.tolist()], dtype=np.int64).reshape(arr.shape)
        return onehot(canon, self.choices)


@functools.lru_cache(maxsize=8192)
def _canonical(arch: Arch) -> Arch:
    out: list[int] = []
    for start, length in zip(_STAGE_STARTS, STAGES, strict=True):
        rest = arch[start + 1 : start + length]
        blocks = [v for v in rest if v != IDENTITY]
        out += [arch[start], *blocks, *([IDENTITY] * (len(rest) - len(blocks)))]
    return tuple(out)
