"""GLM-4V / GLM-4.5V / GLM-4.1V vision encoder, its downsampling convolution and merger.

A native-resolution ViT (Conv3d patches, RMSNorm, SwiGLU, learned positions interpolated to the
image) whose features are merged by a strided convolution and a gated MLP (GLM-4.1V-Thinking
report, arXiv 2507.01006, section 2). Reference: transformers ``models/glm4v/modeling_glm4v.py``
(``Glm4vVisionModel``, ``Glm4vVisionPatchMerger``); GLM-4.5V (``glm4v_moe``) uses the same tower.
``downsample`` and ``merger`` are the projector, as in ``shared/reference/configs-2-params.json``;
both towers' modules are named below ``visual`` (``blocks.{i}.attn.qkv``, ``merger.proj``), their root.
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import (
    conv,
    conv_module,
    embedding_module,
    encoder_stack,
    lin,
    linear,
    norm,
    tower,
    vit_mlp,
    vit_modules,
    with_modules,
)


def glm4v_vision(
    *,
    hidden_size: int,
    depth: int,
    intermediate_size: int,
    out_hidden_size: int,
    patch_size: int,
    temporal_patch_size: int,
    image_size: int,
    spatial_merge_size: int,
    attention_bias: bool,
    in_channels: int = 3,
) -> tuple[Tower, Tower]:
    """GLM-4V's vision tower and projector (``O`` = ``out_hidden_size``, ``I`` = ``intermediate_size``)::

    position_embedding   (S / P)^2 x H
    patch_embed          Conv3d(C, H, T x P x P) with bias
    per block            RMSNorm, qkv (bias = attention_bias) 3 H^2, proj H^2, RMSNorm,
                         gate/up/down of O (no bias: the block MLP is O wide, not I)
    post_conv_layernorm, post_layernorm   RMSNorm H each
    downsample           Conv2d(H, O, m x m) with bias            (projector)
    merger               proj O^2, LayerNorm 2 O, gate/up/down 3 O I, no biases  (projector)
    """
    h = hidden_size
    vision = tower(
        "vision",
        "glm4v",
        [
            ("position_embedding", (image_size // patch_size) ** 2 * h),
            ("patch_embedding", conv(in_channels, h, temporal_patch_size * patch_size * patch_size)),
            *encoder_stack(
                depth,
                attention=linear(h, 3 * h, bias=attention_bias) + linear(h, h, bias=False),
                mlp=vit_mlp(h, out_hidden_size, gated=True, bias=False),
                norms=2 * norm(h, bias=False),
            ),
            ("norms", 2 * norm(h, bias=False)),
        ],
        hidden_size=h,
        num_layers=depth,
    )
    o = out_hidden_size
    projector = tower(
        "projector",
        "glm4v_merger",
        [
            ("downsample", conv(h, o, spatial_merge_size * spatial_merge_size)),
            ("merger", linear(o, o, bias=False) + norm(o) + vit_mlp(o, intermediate_size, gated=True, bias=False)),
        ],
        hidden_size=o,
    )
    modules = [
        embedding_module("embeddings.position_embedding", (image_size // patch_size) ** 2, h),
        conv_module("patch_embed.proj", in_channels, h, temporal_patch_size * patch_size * patch_size, bias=True),
        lin("blocks.{i}.attn.qkv", h, 3 * h, bias=attention_bias, count=depth),
        *vit_modules("blocks", h, o, depth, attn="attn", names=("qkv", "proj"), bias=False,
                     mlp_names=("gate_proj", "up_proj", "down_proj"))[1:],  # proj and the MLP, no biases
    ]
    merger_modules = [
        conv_module("downsample", h, o, spatial_merge_size * spatial_merge_size, bias=True),
        lin("merger.proj", o, o, bias=False),
        lin("merger.gate_proj", o, intermediate_size, bias=False),
        lin("merger.up_proj", o, intermediate_size, bias=False),
        lin("merger.down_proj", intermediate_size, o, bias=False),
    ]
    # RMSNorms in the tower (no biases); the merger's post_projection_norm is a LayerNorm(O)
    return with_modules(vision, modules), with_modules(projector, merger_modules, other_biases=o)
