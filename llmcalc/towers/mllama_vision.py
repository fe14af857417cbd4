"""Llama 3.2 Vision (Mllama) vision encoder.

A ViT-H/14 over up to ``max_num_tiles`` image tiles with tile-aware position embeddings, a local
encoder and a gated global encoder (Llama 3 herd paper, arXiv 2407.21783, section 7.2.1).
Reference: transformers ``models/mllama/modeling_mllama.py`` (``MllamaVisionModel``,
``MllamaPrecomputedPositionEmbedding``, ``MllamaPrecomputedAspectRatioEmbedding``,
``MllamaVisionEncoderLayer``). The gated cross-attention layers that read its features sit in the
text model (``MllamaCrossAttentionDecoderLayer``) and are language-model parameters.
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import (
    conv,
    conv_module,
    embedding_module,
    encoder_stack,
    norm,
    tower,
    vit_attention,
    vit_mlp,
    vit_modules,
    with_modules,
)


def mllama_vision(
    *,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    num_global_layers: int,
    patch_size: int,
    image_size: int,
    max_num_tiles: int,
    max_aspect_ratio_id: int,
    num_channels: int = 3,
) -> Tower:
    """Mllama's vision tower (``N = (S / P)^2 + 1`` positions with the class token, ``A`` =
    ``len(supported_aspect_ratios)``, ``T = max_num_tiles``)::

        patch_embedding          Conv2d(C, H, P), no bias         C P^2 H
        class_embedding          H
        gated_positional_embed   1 gate + N H + (A + 1) T N H      (tile position table)
        pre/post tile embedding  2 x ((A + 1) T H + 1 gate)
        layernorm_pre/post       2 x 2 H
        local layers (L)         LN, q/k/v/o (no bias) 4 H^2, LN, fc1/fc2 (bias)
        global layers (G)        the same plus two scalar gates each

    Modules as ``MllamaVisionModel`` names them: ``patch_embedding``, the ``nn.Embedding`` tables
    ``gated_positional_embedding.tile_embedding`` (``A + 1`` rows of ``T N H``) and
    ``{pre,post}_tile_positional_embedding.embedding`` (``A + 1`` rows of ``T H``; the class token,
    the plain position table and the gates are bare Parameters), ``transformer.layers.{i}`` and
    ``global_transformer.layers.{i}`` with ``self_attn.{q,k,v,o}_proj`` and ``mlp.fc1``/``fc2``.
    """
    h = hidden_size
    n = (image_size // patch_size) ** 2 + 1
    rows = max_aspect_ratio_id + 1
    layer_attn = vit_attention(h, bias=False)
    layer_mlp = vit_mlp(h, intermediate_size)
    parts = [
        ("patch_embedding", conv(num_channels, h, patch_size * patch_size, bias=False)),
        ("class_embedding", h),
        ("position_embedding", 1 + n * h + rows * max_num_tiles * n * h),
        ("tile_embedding", 2 * (rows * max_num_tiles * h + 1)),
        ("norms", 2 * norm(h)),
        *encoder_stack(num_layers, attention=layer_attn, mlp=layer_mlp, norms=2 * norm(h)),
        *encoder_stack(num_global_layers, attention=layer_attn, mlp=layer_mlp, norms=2 * norm(h), extra=2),
    ]
    modules = [
        conv_module("patch_embedding", num_channels, h, patch_size * patch_size, bias=False),
        embedding_module("gated_positional_embedding.tile_embedding", rows, max_num_tiles * n * h),
        embedding_module("pre_tile_positional_embedding.embedding", rows, max_num_tiles * h),
        embedding_module("post_tile_positional_embedding.embedding", rows, max_num_tiles * h),
    ]
    qkvo = ("q_proj", "k_proj", "v_proj", "o_proj")
    for stack, count in (("transformer.layers", num_layers), ("global_transformer.layers", num_global_layers)):
        modules += vit_modules(stack, h, intermediate_size, count, names=qkvo, bias=False, mlp_bias=True)
    layer_norm_biases = 2 * h * (num_layers + num_global_layers) + 2 * h  # two per layer, layernorm_pre/post
    t = tower("vision", "mllama", parts, hidden_size=h, num_layers=num_layers + num_global_layers)
    return with_modules(t, modules, other_biases=layer_norm_biases)
