"""SigLIP vision towers: Gemma 3's encoder and the Idefics3 / SmolVLM vision transformer.

SigLIP (Zhai et al. 2023, arXiv 2303.15343) is a ViT (Dosovitskiy et al. 2021, arXiv 2010.11929,
section 3.1) trained with a sigmoid loss. Reference: transformers ``models/siglip/modeling_siglip.py``
(``SiglipVisionTransformer``: ``embeddings``, ``encoder``, ``post_layernorm``, optional ``head``)
and ``models/idefics3/modeling_idefics3.py`` / ``models/smolvlm/modeling_smolvlm.py``
(``*VisionTransformer``: the same without the head).
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
    vit_attention,
    vit_mlp,
    vit_modules,
    with_modules,
)


def siglip_vision(
    *,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    patch_size: int,
    image_size: tuple[int, int],
    num_channels: int = 3,
    use_head: bool = False,
    kind: str = "siglip",
) -> Tower:
    """A SigLIP vision tower, component by component::

        patch_embedding   Conv2d(C, H, P) with bias           C P^2 H + H
        position_embedding (img_h / P)(img_w / P) x H
        per layer         LN, q/k/v/out (bias), LN, fc1/fc2 (bias)   4(H^2 + H) + 2 H I + I + H + 4 H
        post_layernorm    2 H
        head (optional)   probe H, in_proj 3H^2 + 3H, out_proj H^2 + H, LN 2H, MLP 2 H I + I + H

    ``use_head`` is ``vision_use_head`` (SigLIP's attention-pooling head; Gemma 3 has none).
    Excludes nothing: every parameter of ``SiglipVisionTransformer`` is here. Its modules are named
    as there (``embeddings.patch_embedding``, ``encoder.layers.{i}.self_attn.q_proj``, ...; the
    head's ``nn.MultiheadAttention`` keeps a Linear ``out_proj``).
    """
    h = hidden_size
    positions = (image_size[0] // patch_size) * (image_size[1] // patch_size)
    parts = [
        ("patch_embedding", conv(num_channels, h, patch_size * patch_size)),
        ("position_embedding", positions * h),
        *encoder_stack(num_layers, attention=vit_attention(h), mlp=vit_mlp(h, intermediate_size), norms=2 * norm(h)),
        ("norms", norm(h)),
    ]
    if use_head:
        head = h + linear(h, 3 * h) + linear(h, h) + norm(h) + vit_mlp(h, intermediate_size)
        parts.append(("pooling_head", head))
    modules = [
        conv_module("embeddings.patch_embedding", num_channels, h, patch_size * patch_size, bias=True),
        embedding_module("embeddings.position_embedding", positions, h),
        *vit_modules("encoder.layers", h, intermediate_size, num_layers),
    ]
    layer_norm_biases = 2 * h * num_layers + h
    if use_head:
        modules += [lin("head.attention.out_proj", h, h), lin("head.mlp.fc1", h, intermediate_size),
                    lin("head.mlp.fc2", intermediate_size, h)]
        layer_norm_biases += h  # head.layernorm (the attention's in_proj_bias does not end in .bias)
    return with_modules(
        tower("vision", kind, parts, hidden_size=h, num_layers=num_layers), modules, other_biases=layer_norm_biases
    )
