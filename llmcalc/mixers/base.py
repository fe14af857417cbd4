"""The interface every non-attention token mixer implements.

A mixer is a frozen dataclass (hashable, so :class:`~llmcalc.spec.LayerGroup` can merge identical
layers) with three members:

- ``component``: the :mod:`llmcalc.params` component its weights belong to (``state_space``,
  ``linear_attention``, ``recurrent``, ``short_conv``);
- ``weights(hidden)``: one :class:`Weight` per stored tensor of one layer's mixer. Parameters are
  the sum of their elements, so the count and the tensor inventory cannot disagree;
- ``state()``: one :class:`StateTensor` per cached state tensor of one layer for one sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Literal, Protocol

WeightKind = Literal["linear", "conv", "vector", "matrix"]
StateDtype = Literal["model", "fp32"]


@dataclass(frozen=True, slots=True)
class Weight:
    """One stored tensor of a mixer.

    ``name`` is the GGUF tensor name without the ``blk.N.`` prefix (``ssm_in.weight``);
    ``shape`` lists ``ne[0]`` first (a ``Linear(in, out)`` weight is ``(in, out)``); ``kind`` says
    whether it is a ``linear`` weight (what GPTQ/AWQ quantize and PEFT's ``all-linear`` targets),
    a ``conv`` kernel, a ``vector`` (bias, norm, per-channel parameter) or another ``matrix``
    (Mamba's ``A_log``); ``module`` is the PyTorch module name (``in_proj``) PEFT matches against,
    empty for parameters that are not a module's weight.
    """

    name: str
    shape: tuple[int, ...]
    kind: WeightKind
    module: str = ""

    @property
    def n_elements(self) -> int:
        return prod(self.shape)


@dataclass(frozen=True, slots=True)
class StateTensor:
    """One per-sequence state tensor of one layer: ``values`` elements, kept in ``dtype``.

    ``dtype`` is ``model`` when engines keep it in the cache/model dtype, ``fp32`` when the
    reference implementation keeps it in float32 whatever the model dtype. Engine-specific
    policies live in :mod:`llmcalc.state`. ``conv_width`` is set on a causal-convolution window
    (``values = channels x conv_width``, the kernel width transformers keeps); engines that keep one
    column fewer (vLLM, llama.cpp) derive their size from it.
    """

    name: str
    values: int
    dtype: StateDtype = "model"
    conv_width: int = 0


class Mixer(Protocol):
    """What :mod:`llmcalc.params`, :mod:`llmcalc.tensors` and the memory code need of a mixer."""

    @property
    def component(self) -> str: ...

    def weights(self, hidden: int) -> tuple[Weight, ...]: ...

    def state(self) -> tuple[StateTensor, ...]: ...


def mixer_params(mixer: Mixer, hidden: int) -> int:
    """Parameters of one layer's mixer: the elements of its weights."""
    return sum(w.n_elements for w in mixer.weights(hidden))


def state_values(mixer: Mixer) -> int:
    """Cached state values of one layer for one sequence (all state tensors)."""
    return sum(s.values for s in mixer.state())
