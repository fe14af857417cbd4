"""Phi-4-multimodal's audio encoder: a Conformer with NeMo-style convolution subsampling.

Conformer layers (Gulati et al. 2020, arXiv 2005.08100, section 2): a half-step feed-forward, self-
attention with a learned T5-style relative bias shared by all layers, a convolution module (GLU
point-wise conv, depthwise-separable conv, point-wise conv) and a second feed-forward, with
LayerNorms; the input is log-mel frames subsampled by strided 2-D convolutions (NeMo's
``ConvSubsampling``). Reference: transformers ``models/phi4_multimodal/modeling_phi4_multimodal.py``
(``Phi4MultimodalAudioModel``, ``Phi4MultimodalAudioNemoConvSubsampling``,
``Phi4MultimodalAudioConformerEncoderLayer``, ``Phi4MultimodalAudioConvModule``) and the defaults of
``configuration_phi4_multimodal.py``. The released checkpoint also stores the speech and vision LoRA
adapters of the language model; transformers 5.24 does not build them (they load through PEFT), and
neither does this count.
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import conv, encoder_stack, linear, norm, tower, vit_attention


def subsampled_size(size: int, time_reduction: int) -> int:
    """``nemo_final_size``: ``size`` after ``log2(time_reduction)`` stride-2 convolutions,
    ``floor((n - 1) / 2 + 1)`` each (``Phi4MultimodalAudioConfig.__post_init__``)."""
    for _ in range(max(time_reduction.bit_length() - 1, 0)):
        size = (size - 1) // 2 + 1
    return size


def phi4mm_audio(
    *,
    hidden_size: int,
    intermediate_size: int,
    num_blocks: int,
    input_size: int,
    time_reduction: int,
    nemo_conv_channels: int,
    ext_pw_out_channel: int,
    depthwise_separable_out_channel: int,
    depthwise_multiplier: int,
    kernel_size: int,
    bias_max_distance: int,
    bias_symmetric: bool,
    num_attention_heads: int,
) -> Tower:
    """The Conformer audio encoder (``H`` hidden, ``I`` intermediate, ``C`` subsampling channels,
    ``E`` = ``ext_pw_out_channel``, ``D`` = ``depthwise_separable_out_channel``, ``m`` the depthwise
    multiplier, ``K`` the kernel)::

        subsampling      Conv2d(1, C, 3) + (log2(time_reduction) - 1) x (depthwise Conv2d(C, C, 3),
                         Conv2d(C, C, 1)), all with bias; out Linear(C x F, H)    (F = nemo_final_size)
        relative bias    buckets x heads (buckets = max_distance, twice that unless symmetric)
        per block        2 x feed-forward (LN, gate_up Linear(H, 2I), down Linear(I, H), biases)
                         attention q/k/v/o with biases 4(H^2 + H)
                         conv module: LN, Conv1d(H, 2E, 1), b1 and b2 (E each), depthwise
                         Conv1d(H, H m, K, groups H), Conv1d(H m, D, 1), Conv1d(H, E, 1), all with bias
                         LayerNorms after attention and at the end
    """
    h, c = hidden_size, nemo_conv_channels
    steps = max(time_reduction.bit_length() - 1, 0)
    final = subsampled_size(input_size, time_reduction)
    subsampling = conv(1, c, 9) + max(steps - 1, 0) * (conv(1, c, 9) + conv(c, c, 1)) + linear(c * final, h)
    buckets = bias_max_distance * (1 if bias_symmetric else 2)
    ff = norm(h) + linear(h, 2 * intermediate_size) + linear(intermediate_size, h)
    e, d, m = ext_pw_out_channel, depthwise_separable_out_channel, depthwise_multiplier
    conv_module = (
        norm(h) + conv(h, 2 * e, 1) + 2 * e + (h * m * kernel_size + h * m) + conv(h * m, d, 1) + conv(h, e, 1)
    )
    parts = [
        ("subsampling", subsampling),
        ("relative_position_bias", buckets * num_attention_heads),
        *encoder_stack(num_blocks, attention=vit_attention(h), mlp=2 * ff, norms=2 * norm(h)),
        ("conv_module", num_blocks * conv_module),
    ]
    return tower("audio", "phi4mm_conformer", parts, hidden_size=h, num_layers=num_blocks)
