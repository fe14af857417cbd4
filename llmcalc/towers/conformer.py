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

from dataclasses import replace

from llmcalc.spec import Tower, TowerModule
from llmcalc.towers.base import (
    conv,
    conv_module,
    embedding_module,
    encoder_stack,
    lin,
    linear,
    norm,
    tower,
    vit_attention,
    with_modules,
)


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

    Its modules are named as in ``Phi4MultimodalAudioConformerEncoder``: ``embed.conv.{k}`` (the
    Sequential's convolutions, activations between them), ``embed.out``,
    ``relative_attention_bias_layer.bias_values`` (an Embedding), and in ``encoders.{i}``
    ``feed_forward_in`` / ``feed_forward_out`` (gate_up_proj, down_proj), ``self_attn`` q/k/v/o_proj,
    ``conv.glu.ext_pw_conv_1d``, ``conv.dw_sep_conv_1d.dw_conv`` / ``pw_conv`` and
    ``conv.ext_pw_conv_1d``; five LayerNorms per block have biases (``glu.b1``/``b2`` are not named
    ``.bias``).
    """
    h, c = hidden_size, nemo_conv_channels
    steps = max(time_reduction.bit_length() - 1, 0)
    final = subsampled_size(input_size, time_reduction)
    subsampling = conv(1, c, 9) + max(steps - 1, 0) * (conv(1, c, 9) + conv(c, c, 1)) + linear(c * final, h)
    buckets = bias_max_distance * (1 if bias_symmetric else 2)
    ff = norm(h) + linear(h, 2 * intermediate_size) + linear(intermediate_size, h)
    e, d, m = ext_pw_out_channel, depthwise_separable_out_channel, depthwise_multiplier
    conv_block = (
        norm(h) + conv(h, 2 * e, 1) + 2 * e + (h * m * kernel_size + h * m) + conv(h * m, d, 1) + conv(h, e, 1)
    )
    parts = [
        ("subsampling", subsampling),
        ("relative_position_bias", buckets * num_attention_heads),
        *encoder_stack(num_blocks, attention=vit_attention(h), mlp=2 * ff, norms=2 * norm(h)),
        ("conv_module", num_blocks * conv_block),
    ]
    t = tower("audio", "phi4mm_conformer", parts, hidden_size=h, num_layers=num_blocks)
    n = num_blocks
    modules = [conv_module("embed.conv.0", 1, c, 9, bias=True)]
    for k in range(1, steps):  # [conv, act] + (steps - 1) x [depthwise conv, point-wise conv, act]
        modules += [conv_module(f"embed.conv.{3 * k - 1}", 1, c, 9, bias=True),
                    conv_module(f"embed.conv.{3 * k}", c, c, 1, bias=True)]
    modules += [
        lin("embed.out", c * final, h),
        embedding_module("relative_attention_bias_layer.bias_values", buckets, num_attention_heads),
        *(lin(f"encoders.{{i}}.self_attn.{x}", h, h, count=n) for x in ("q_proj", "k_proj", "v_proj", "o_proj")),
    ]
    for half in ("feed_forward_in", "feed_forward_out"):
        modules += [lin(f"encoders.{{i}}.{half}.gate_up_proj", h, 2 * intermediate_size, count=n),
                    lin(f"encoders.{{i}}.{half}.down_proj", intermediate_size, h, count=n)]
    cm = "encoders.{i}.conv"
    modules += [
        _conv1d(f"{cm}.glu.ext_pw_conv_1d", h, 2 * e, 1, n),
        _conv1d(f"{cm}.dw_sep_conv_1d.dw_conv", 1, h * m, kernel_size, n),  # groups = H: one input channel each
        _conv1d(f"{cm}.dw_sep_conv_1d.pw_conv", h * m, d, 1, n),
        _conv1d(f"{cm}.ext_pw_conv_1d", h, e, 1, n),
    ]
    return with_modules(t, modules, other_biases=5 * n * h)


def _conv1d(path: str, in_channels: int, out_channels: int, kernel: int, count: int) -> TowerModule:
    """A biased ``nn.Conv1d`` in each of ``count`` blocks (``in_channels`` per group)."""
    return replace(conv_module(path, in_channels, out_channels, kernel, bias=True), count=count)
