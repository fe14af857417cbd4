"""LFM2's gated short convolution (the ``short_conv`` component).

Liquid AI 2025, "LFM2 Technical Report", arXiv 2511.23404, section 2 (the double-gated short-range
convolution ``y = C * conv(B * x)``); transformers ``models/lfm2/modeling_lfm2.py``
(``Lfm2ShortConv``), the same block in ``lfm2_moe``.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.mixers.base import StateTensor, Weight
from llmcalc.mixers.mamba import _conv, _linear


@dataclass(frozen=True, slots=True)
class ShortConv:
    """One short-convolution mixer over ``H`` channels with kernel ``L = conv_L_cache``::

        in_proj  H x 3H (+3H)     conv  H x L (+H)     out_proj  H x H (+H)

    with the biases when ``conv_bias``. State per sequence (transformers, measured): the conv
    window ``H x L`` in the model dtype.
    """

    channels: int
    d_conv: int
    bias: bool = False

    @property
    def component(self) -> str:
        return "short_conv"

    @property
    def conv_channels(self) -> int:
        return self.channels

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        c = self.channels
        return (
            *_linear("shortconv.in_proj", "in_proj", hidden, 3 * c, bias=self.bias),
            *_conv("shortconv.conv", "conv", c, self.d_conv, bias=self.bias),
            *_linear("shortconv.out_proj", "out_proj", c, hidden, bias=self.bias),
        )

    def state(self) -> tuple[StateTensor, ...]:
        return (StateTensor("conv", self.channels * self.d_conv, "model", conv_width=self.d_conv),)
