"""CLIP vision tower (LLaVA, LLaVA-NeXT).

CLIP (Radford et al. 2021, arXiv 2103.00020, section 2.4): a ViT with a class token and a pre-norm
before the encoder. Reference: transformers ``models/clip/modeling_clip.py``
(``CLIPVisionTransformer``: ``embeddings``, ``pre_layrnorm``, ``encoder``, ``post_layernorm``).
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


def clip_vision(
    *,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    patch_size: int,
    image_size: int,
    num_channels: int = 3,
) -> Tower:
    """A CLIP vision tower::

        class_embedding    H
        patch_embedding    Conv2d(C, H, P), no bias             C P^2 H
        position_embedding ((S / P)^2 + 1) x H                  (+1 for the class token)
        pre_layrnorm       2 H
        per layer          LN, q/k/v/out (bias), LN, fc1/fc2 (bias)
        post_layernorm     2 H

    LLaVA reads an inner layer (``vision_feature_layer``) but the checkpoint class still builds
    every layer and the post-norm, so all are counted. Modules as ``CLIPVisionTransformer`` names
    them (``embeddings.patch_embedding``, ``encoder.layers.{i}.self_attn.q_proj``, ``mlp.fc1``).
    """
    h = hidden_size
    positions = (image_size // patch_size) ** 2 + 1
    parts = [
        ("class_embedding", h),
        ("patch_embedding", conv(num_channels, h, patch_size * patch_size, bias=False)),
        ("position_embedding", positions * h),
        ("norms", norm(h)),
        *encoder_stack(num_layers, attention=vit_attention(h), mlp=vit_mlp(h, intermediate_size), norms=2 * norm(h)),
        ("norms", norm(h)),
    ]
    modules = [
        conv_module("embeddings.patch_embedding", num_channels, h, patch_size * patch_size, bias=False),
        embedding_module("embeddings.position_embedding", positions, h),
        *vit_modules("encoder.layers", h, intermediate_size, num_layers),
    ]
    layer_norm_biases = 2 * h * num_layers + 2 * h  # per layer two, pre_layrnorm and post_layernorm
    return with_modules(
        tower("vision", "clip", parts, hidden_size=h, num_layers=num_layers), modules, other_biases=layer_norm_biases
    )
