"""Qwen3-Next's gated DeltaNet linear attention (the ``linear_attention`` component).

Yang, Kautz & Hatamizadeh 2024, "Gated Delta Networks: Improving Mamba2 with Delta Rule",
arXiv 2412.06464, section 3 (the gated delta rule ``S_t = S_{t-1} a_t (I - b_t k_t k_t^T) +
b_t v_t k_t^T``); transformers ``models/qwen3_next/modeling_qwen3_next.py``
(``Qwen3NextGatedDeltaNet``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.mixers.base import StateTensor, Weight
from llmcalc.mixers.mamba import _conv, _linear


@dataclass(frozen=True, slots=True)
class GatedDeltaNet:
    """One gated-DeltaNet mixer: ``n_k`` key heads of ``d_k``, ``n_v`` value heads of ``d_v``, conv width ``k``.

    With ``K = n_k d_k``, ``V = n_v d_v`` and ``conv_dim = 2K + V``::

        in_proj_qkvz  H x (2K + 2V)     in_proj_ba  H x 2 n_v     conv1d  conv_dim x k (no bias)
        dt_bias  n_v     A_log  n_v     norm  d_v (gated RMSNorm shared by heads)     out_proj  V x H

    State per sequence (transformers, measured): the conv window ``conv_dim x k`` in the model
    dtype and the delta-rule matrix ``n_v x d_k x d_v`` in float32.
    """

    num_k_heads: int
    num_v_heads: int
    head_k_dim: int
    head_v_dim: int
    d_conv: int

    @property
    def component(self) -> str:
        return "linear_attention"

    @property
    def conv_channels(self) -> int:
        return 2 * self.num_k_heads * self.head_k_dim + self.num_v_heads * self.head_v_dim

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        k, v = self.num_k_heads * self.head_k_dim, self.num_v_heads * self.head_v_dim
        return (
            *_linear("ssm_in", "in_proj_qkvz", hidden, 2 * k + 2 * v, bias=False),
            *_linear("ssm_ba", "in_proj_ba", hidden, 2 * self.num_v_heads, bias=False),
            *_conv("ssm_conv1d", "conv1d", self.conv_channels, self.d_conv, bias=False),
            Weight("ssm_dt.bias", (self.num_v_heads,), "vector"),
            Weight("ssm_a", (self.num_v_heads,), "vector"),
            Weight("ssm_norm.weight", (self.head_v_dim,), "vector", "norm"),
            *_linear("ssm_out", "out_proj", v, hidden, bias=False),
        )

    def state(self) -> tuple[StateTensor, ...]:
        return (
            StateTensor("conv", self.conv_channels * self.d_conv, "model", conv_width=self.d_conv),
            StateTensor("recurrent", self.num_v_heads * self.head_k_dim * self.head_v_dim, "fp32"),
        )
