"""Llama 4's vision encoder (Scout, Maverick).

A ViT with a class token, a learned position table, 2-D rotary attention and a pixel-shuffle MLP
adapter (Meta's Llama 4 release; reference: transformers ``models/llama4/modeling_llama4.py``,
``Llama4VisionModel``, ``Llama4UnfoldConvolution``, ``Llama4VisionPixelShuffleMLP``). The adapter
sits inside ``vision_model`` and is counted with the tower; ``multi_modal_projector`` is the
projector.
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import (
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


def llama4_vision(
    *,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    patch_size: int,
    image_size: int,
    projector_input_dim: int,
    projector_output_dim: int,
    num_channels: int = 3,
) -> Tower:
    """Llama 4's vision tower::

    patch_embedding       Linear(C P^2, H), no bias (an unfold convolution)
    class_embedding       H
    positional_embedding  ((S / P)^2 + 1) x H
    layernorm_pre/post    2 x 2 H
    per layer             LN, q/k/v/o with bias 4(H^2 + H), LN, fc1/fc2 (bias)
    vision_adapter        fc1 Linear(I, D_in), fc2 Linear(D_out, D_out), no bias

    Modules as ``Llama4VisionModel`` names them: ``patch_embedding.linear``,
    ``model.layers.{i}.self_attn.{q,k,v,o}_proj``, ``model.layers.{i}.mlp.fc1``/``fc2`` and
    ``vision_adapter.mlp.fc1``/``fc2`` (the class token and position table are bare Parameters).
    """
    h = hidden_size
    positions = (image_size // patch_size) ** 2 + 1
    parts = [
        ("patch_embedding", linear(num_channels * patch_size * patch_size, h, bias=False)),
        ("class_embedding", h),
        ("position_embedding", positions * h),
        ("norms", 2 * norm(h)),
        *encoder_stack(num_layers, attention=vit_attention(h), mlp=vit_mlp(h, intermediate_size), norms=2 * norm(h)),
        (
            "adapter",
            linear(intermediate_size, projector_input_dim, bias=False)
            + linear(projector_output_dim, projector_output_dim, bias=False),
        ),
    ]
    modules = [
        lin("patch_embedding.linear", num_channels * patch_size * patch_size, h, bias=False),
        *vit_modules("model.layers", h, intermediate_size, num_layers, names=("q_proj", "k_proj", "v_proj", "o_proj")),
        lin("vision_adapter.mlp.fc1", intermediate_size, projector_input_dim, bias=False),
        lin("vision_adapter.mlp.fc2", projector_output_dim, projector_output_dim, bias=False),
    ]
    layer_norm_biases = 2 * h * num_layers + 2 * h  # two per layer, layernorm_pre/post
    t = tower("vision", "llama4_vision", parts, hidden_size=h, num_layers=num_layers)
    return with_modules(t, modules, other_biases=layer_norm_biases)
