"""MiniMax's lightning attention, a gated linear attention (the ``linear_attention`` component).

MiniMax 2025, "MiniMax-01: Scaling Foundation Models with Lightning Attention", arXiv 2501.08313,
section 2.2.1 (``O = Norm(Q (K^T V)) * sigmoid(X W_g)`` with per-head decay); transformers
``models/minimax/modeling_minimax.py`` (``MiniMaxLightningAttention``). The decay tables
(``slope_rate``, ``query_decay``, ...) are buffers, not parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.mixers.base import StateTensor, Weight
from llmcalc.mixers.mamba import _linear


@dataclass(frozen=True, slots=True)
class LightningAttention:
    """One lightning-attention mixer with ``h`` heads of ``d`` (``D = h d``)::

        qkv_proj  H x 3D     norm  D (RMSNorm)     output_gate  H x D     out_proj  D x H

    State per sequence (transformers ``MiniMaxCache``, measured): the ``h x d x d`` key-value
    matrix, kept in the model dtype.
    """

    num_heads: int
    head_dim: int

    @property
    def component(self) -> str:
        return "linear_attention"

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        d = self.num_heads * self.head_dim
        return (
            *_linear("attn_qkv", "qkv_proj", hidden, 3 * d, bias=False),
            Weight("attn_norm_out.weight", (d,), "vector", "norm"),
            *_linear("attn_gate", "output_gate", hidden, d, bias=False),
            *_linear("attn_output", "out_proj", d, hidden, bias=False),
        )

    def state(self) -> tuple[StateTensor, ...]:
        return (StateTensor("recurrent", self.num_heads * self.head_dim * self.head_dim, "model"),)
