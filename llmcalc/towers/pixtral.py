"""Pixtral vision encoder (Mistral Small 3.1/3.2, Devstral Small 2, Ministral 3).

A ViT with RMSNorm, a gated (SwiGLU) MLP and 2-D rotary positions, no biases (Pixtral 12B report,
arXiv 2410.07073, section 2.1). Reference: transformers ``models/pixtral/modeling_pixtral.py``
(``PixtralVisionModel``: ``patch_conv``, ``ln_pre``, ``transformer``).
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import (
    conv,
    conv_module,
    encoder_stack,
    norm,
    tower,
    vit_attention,
    vit_mlp,
    vit_modules,
    with_modules,
)


def pixtral_vision(
    *, hidden_size: int, intermediate_size: int, num_layers: int, patch_size: int, num_channels: int = 3
) -> Tower:
    """Pixtral's vision tower::

        patch_conv  Conv2d(C, H, P), no bias          C P^2 H
        ln_pre      RMSNorm H
        per layer   RMSNorm, q/k/v/o 4 H^2, RMSNorm, gate/up/down 3 H I (no biases)

    Rotary positions and the image break/end tokens have no parameters in the tower. Modules as
    ``PixtralVisionModel`` names them (``patch_conv``, ``transformer.layers.{i}.attention.q_proj``,
    ``feed_forward.gate_proj``); no parameter is named ``bias`` (RMSNorms, bias-free layers).
    """
    h = hidden_size
    parts = [
        ("patch_embedding", conv(num_channels, h, patch_size * patch_size, bias=False)),
        ("norms", norm(h, bias=False)),
        *encoder_stack(
            num_layers,
            attention=vit_attention(h, bias=False),
            mlp=vit_mlp(h, intermediate_size, gated=True, bias=False),
            norms=2 * norm(h, bias=False),
        ),
    ]
    modules = [
        conv_module("patch_conv", num_channels, h, patch_size * patch_size, bias=False),
        *vit_modules("transformer.layers", h, intermediate_size, num_layers, attn="attention",
                     names=("q_proj", "k_proj", "v_proj", "o_proj"), mlp="feed_forward",
                     mlp_names=("gate_proj", "up_proj", "down_proj"), bias=False),
    ]
    return with_modules(tower("vision", "pixtral", parts, hidden_size=h, num_layers=num_layers), modules)
