"""Kimi Delta Attention (KDA), Kimi Linear's linear-attention layer (the ``linear_attention`` component).

Kimi Team 2025, "Kimi Linear: An Expressive, Efficient Attention Architecture", arXiv 2510.26692,
section 3 (gated delta rule with a channel-wise forget gate); transformers
``models/kimi_linear/modeling_kimi_linear.py`` (``KimiLinearDeltaAttention``,
``KimiLinearForgetGate``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.mixers.base import StateTensor, Weight
from llmcalc.mixers.mamba import _conv, _linear


@dataclass(frozen=True, slots=True)
class KimiDeltaAttention:
    """One KDA mixer: ``h`` heads of ``d``, ``D = h d``, conv width ``k``::

        q, k, v  H x D each          conv1d  3D x k (no bias)
        f_a  H x d,  f_b  d x D,  dt_bias  D,  A_log  h      (forget gate)
        b  H x h                     g_a  H x d,  g_b  d x D   (output gate)
        o_norm  d (gated RMSNorm)    o  D x H

    State per sequence (transformers, measured): the conv window ``3D x k`` in the model dtype and
    the recurrent matrix ``h x d x d`` in float32.
    """

    num_heads: int
    head_dim: int
    d_conv: int

    @property
    def component(self) -> str:
        return "linear_attention"

    @property
    def conv_channels(self) -> int:
        return 3 * self.num_heads * self.head_dim

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        h, d = self.num_heads, self.head_dim
        qkv = h * d
        return (
            *_linear("attn_q", "q_proj", hidden, qkv, bias=False),
            *_linear("attn_k", "k_proj", hidden, qkv, bias=False),
            *_linear("attn_v", "v_proj", hidden, qkv, bias=False),
            *_conv("ssm_conv1d", "conv1d", self.conv_channels, self.d_conv, bias=False),
            *_linear("ssm_f_a", "f_a_proj", hidden, d, bias=False),
            *_linear("ssm_f_b", "f_b_proj", d, qkv, bias=False),
            Weight("ssm_dt.bias", (qkv,), "vector"),
            Weight("ssm_a", (h,), "vector"),
            *_linear("ssm_beta", "b_proj", hidden, h, bias=False),
            *_linear("ssm_g_a", "g_a_proj", hidden, d, bias=False),
            *_linear("ssm_g_b", "g_b_proj", d, qkv, bias=False),
            Weight("ssm_norm.weight", (d,), "vector", "o_norm"),
            *_linear("attn_output", "o_proj", qkv, hidden, bias=False),
        )

    def state(self) -> tuple[StateTensor, ...]:
        return (
            StateTensor("conv", self.conv_channels * self.d_conv, "model", conv_width=self.d_conv),
            StateTensor("recurrent", self.num_heads * self.head_dim * self.head_dim, "fp32"),
        )
