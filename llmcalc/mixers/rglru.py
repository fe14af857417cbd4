"""RecurrentGemma's recurrent block with the RG-LRU (the ``recurrent`` component).

De et al. 2024, "Griffin: Mixing Gated Linear Recurrences with Local Attention", arXiv 2402.19427,
section 2.4 (the recurrent block: two branches, a causal conv and the Real-Gated Linear Recurrent
Unit with block-diagonal gates); transformers ``models/recurrent_gemma/modeling_recurrent_gemma.py``
(``RecurrentGemmaRecurrentBlock``, ``RecurrentGemmaRglru``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.mixers.base import StateTensor, Weight
from llmcalc.mixers.mamba import _conv, _linear


@dataclass(frozen=True, slots=True)
class RGLRU:
    """One recurrent block of width ``W = lru_width`` with ``h`` gate blocks of ``b = W / h``, conv width ``k``::

        linear_y, linear_x  H x W (+W)     linear_out  W x H (+H)     conv_1d  W x k (+W)
        recurrent_param  W     input_gate, recurrent_gate  h x b x b (+ h x b)

    State per sequence (transformers ``_setup_cache``): the conv window ``W x (k - 1)`` in the
    model dtype and the recurrence ``W`` in float32.
    """

    lru_width: int
    num_heads: int
    d_conv: int

    @property
    def component(self) -> str:
        return "recurrent"

    @property
    def conv_channels(self) -> int:
        return self.lru_width

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        w, h = self.lru_width, self.num_heads
        b = w // h
        return (
            *_linear("rg_y", "linear_y", hidden, w, bias=True),
            *_linear("rg_x", "linear_x", hidden, w, bias=True),
            *_conv("ssm_conv1d", "conv_1d", w, self.d_conv, bias=True),
            Weight("rg_a", (w,), "vector"),
            Weight("rg_input_gate.weight", (b, b, h), "matrix"),
            Weight("rg_input_gate.bias", (b, h), "vector"),
            Weight("rg_recurrent_gate.weight", (b, b, h), "matrix"),
            Weight("rg_recurrent_gate.bias", (b, h), "vector"),
            *_linear("rg_out", "linear_out", w, hidden, bias=True),
        )

    def state(self) -> tuple[StateTensor, ...]:
        return (
            StateTensor("conv", self.lru_width * (self.d_conv - 1), "model", conv_width=self.d_conv),
            StateTensor("recurrent", self.lru_width, "fp32"),
        )
