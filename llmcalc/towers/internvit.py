"""InternViT, the vision encoder of InternVL 2.5 / 3.

A ViT with a class token, layer scale (two learned vectors per layer), optional q/k RMSNorms and
LayerNorm or RMSNorm layers (InternVL 1.5 report, arXiv 2404.16821, section 3.2). Reference:
transformers ``models/internvl/modeling_internvl.py`` (``InternVLVisionModel``,
``InternVLVisionEmbeddings``, ``InternVLVisionLayer``, ``InternVLVisionAttention``).
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import conv, conv_module, encoder_stack, lin, linear, norm, tower, vit_mlp, with_modules


def internvit_vision(
    *,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    patch_size: tuple[int, int],
    image_size: tuple[int, int],
    attention_bias: bool,
    use_qk_norm: bool,
    rms_norm: bool,
    use_mask_token: bool,
    absolute_positions: bool,
    mean_pooling: bool,
    num_channels: int = 3,
) -> Tower:
    """InternViT's tower::

    cls_token (+ mask_token)   H (+ H)
    patch_embeddings           Conv2d(C, H, P) with bias
    position_embeddings        ((S_h / P_h)(S_w / P_w) + 1) x H  (when absolute)
    per layer                  norm, q/k/v (bias = attention_bias), projection (bias), q/k RMSNorm
                               of H (use_qk_norm), norm, fc1/fc2 (bias), lambda_1/lambda_2 2 H
    layernorm                  2 H unless use_mean_pooling

    Modules as ``InternVLVisionModel`` names them: ``embeddings.patch_embeddings.projection`` (the
    Conv2d), ``encoder.layer.{i}.attention.{q,k,v}_proj`` / ``projection_layer`` and
    ``encoder.layer.{i}.mlp.fc1`` / ``fc2``; the class token and position table are bare Parameters.
    """
    h = hidden_size
    norm_params = norm(h, bias=not rms_norm)
    attention = 3 * linear(h, h, bias=attention_bias) + linear(h, h) + (2 * h if use_qk_norm else 0)
    positions = (image_size[0] // patch_size[0]) * (image_size[1] // patch_size[1]) + 1
    parts = [
        ("class_embedding", h + (h if use_mask_token else 0)),
        ("patch_embedding", conv(num_channels, h, patch_size[0] * patch_size[1])),
        ("position_embedding", positions * h if absolute_positions else 0),
        *encoder_stack(
            num_layers, attention=attention, mlp=vit_mlp(h, intermediate_size), norms=2 * norm_params, extra=2 * h
        ),
        ("norms", 0 if mean_pooling else norm(h)),
    ]
    base = "encoder.layer.{i}"
    kernel = patch_size[0] * patch_size[1]
    modules = [
        conv_module("embeddings.patch_embeddings.projection", num_channels, h, kernel, bias=True),
        *(lin(f"{base}.attention.{n}", h, h, bias=attention_bias, count=num_layers)
          for n in ("q_proj", "k_proj", "v_proj")),
        lin(f"{base}.attention.projection_layer", h, h, count=num_layers),
        lin(f"{base}.mlp.fc1", h, intermediate_size, count=num_layers),
        lin(f"{base}.mlp.fc2", intermediate_size, h, count=num_layers),
    ]
    # LayerNorm biases (layernorm_before/after; the final layernorm without mean pooling); RMSNorms have none
    norm_biases = (0 if rms_norm else 2 * h * num_layers) + (0 if mean_pooling else h)
    return with_modules(
        tower("vision", "internvit", parts, hidden_size=h, num_layers=num_layers), modules, other_biases=norm_biases
    )
