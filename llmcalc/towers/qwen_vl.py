"""Qwen-VL vision transformers and their patch mergers: Qwen2-VL, Qwen2.5-VL, Qwen3-VL.

Native-resolution ViTs with 2-D rotary positions (no parameters) over ``T x P x P`` patches (a
Conv3d over ``temporal_patch_size`` frames), whose ``merger`` concatenates each
``spatial_merge_size x spatial_merge_size`` window of patch features and maps them into the language
model's width (Qwen2-VL report, arXiv 2409.12191, section 2.1; Qwen2.5-VL, arXiv 2502.13923,
section 2.1: window attention, SwiGLU and RMSNorm, which have no extra parameters beyond
the gated MLP; Qwen3-VL adds a learned position table and DeepStack mergers that feed
intermediate layers' features into the language model).

Reference: transformers ``models/qwen2_vl/modeling_qwen2_vl.py``
(``Qwen2VisionTransformerPretrainedModel``, ``PatchMerger``), ``models/qwen2_5_vl/modeling_qwen2_5_vl.py``
(``Qwen2_5_VisionTransformerPretrainedModel``, ``Qwen2_5_VLPatchMerger``),
``models/qwen3_vl/modeling_qwen3_vl.py`` (``Qwen3VLVisionModel``, ``Qwen3VLVisionPatchMerger``).
The merger and DeepStack mergers live inside the ``visual`` module but are the projector here, as in
``shared/reference/configs-2-params.json``; both towers' modules are named below ``visual``
(``blocks.{i}.attn.qkv``, ``merger.mlp.0``), so both are rooted there.
"""

from __future__ import annotations

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
    vit_mlp,
    vit_modules,
    with_modules,
)


def _merger(dim: int, merge: int, out: int, *, norm_dim: int, norm_bias: bool) -> int:
    """``norm``, then ``Linear(D m^2, D m^2)`` and ``Linear(D m^2, out)``, both with bias."""
    wide = dim * merge * merge
    return norm(norm_dim, bias=norm_bias) + linear(wide, wide) + linear(wide, out)


def _merger_modules(path: str, dim: int, merge: int, out: int, *, names: tuple[str, str],
                    count: int = 1) -> list[TowerModule]:
    """The merger's two Linears (``names`` below ``path``), ``count`` times (``{i}`` in ``path``)."""
    wide = dim * merge * merge
    return [lin(f"{path}.{names[0]}", wide, wide, count=count), lin(f"{path}.{names[1]}", wide, out, count=count)]


def _patch_embed(in_channels: int, dim: int, temporal: int, patch: int, *, bias: bool) -> TowerModule:
    """``patch_embed.proj``, the Conv3d over ``temporal x patch x patch`` pixels."""
    return conv_module("patch_embed.proj", in_channels, dim, temporal * patch * patch, bias=bias)


def qwen2_vl_vision(
    *,
    embed_dim: int,
    depth: int,
    mlp_ratio: float,
    out_hidden_size: int,
    patch_size: int,
    temporal_patch_size: int,
    spatial_merge_size: int,
    in_channels: int = 3,
) -> tuple[Tower, Tower]:
    """Qwen2-VL's vision tower and merger (projector)::

    patch_embed  Conv3d(C, E, T x P x P), no bias         C T P^2 E
    per block    LN, qkv (bias) 3E^2 + 3E, proj E^2 + E, LN, fc1/fc2 (bias) of int(E x mlp_ratio)
    merger       LN(E), Linear(E m^2, E m^2), Linear(E m^2, out)   (out = vision ``hidden_size``)
    """
    e = embed_dim
    inter = int(e * mlp_ratio)
    vision = tower(
        "vision",
        "qwen2_vl",
        [
            ("patch_embedding", conv(in_channels, e, temporal_patch_size * patch_size * patch_size, bias=False)),
            *encoder_stack(depth, attention=linear(e, 3 * e) + linear(e, e), mlp=vit_mlp(e, inter), norms=2 * norm(e)),
        ],
        hidden_size=e,
        num_layers=depth,
    )
    merger = _merger(e, spatial_merge_size, out_hidden_size, norm_dim=e, norm_bias=True)
    projector = tower("projector", "qwen2_vl_merger", [("merger", merger)], hidden_size=out_hidden_size)
    modules = [
        _patch_embed(in_channels, e, temporal_patch_size, patch_size, bias=False),
        *vit_modules("blocks", e, inter, depth, attn="attn", names=("qkv", "proj")),
    ]
    vision = with_modules(vision, modules, other_biases=2 * e * depth)  # norm1, norm2 (LayerNorm)
    merger_modules = _merger_modules("merger", e, spatial_merge_size, out_hidden_size, names=("mlp.0", "mlp.2"))
    return vision, with_modules(projector, merger_modules, other_biases=e)  # merger.ln_q (LayerNorm)


def qwen2_5_vl_vision(
    *,
    hidden_size: int,
    depth: int,
    intermediate_size: int,
    out_hidden_size: int,
    patch_size: int,
    temporal_patch_size: int,
    spatial_merge_size: int,
    in_channels: int = 3,
) -> tuple[Tower, Tower]:
    """Qwen2.5-VL's vision tower and merger::

        patch_embed  Conv3d(C, H, T x P x P), no bias          C T P^2 H
        per block    RMSNorm, qkv (bias), proj (bias), RMSNorm, gate/up/down with bias of I
        merger       RMSNorm(H), Linear(H m^2, H m^2), Linear(H m^2, out_hidden_size)

    Window attention (``window_size``, ``fullatt_block_indexes``) changes no parameter.
    """
    h = hidden_size
    vision = tower(
        "vision",
        "qwen2_5_vl",
        [
            ("patch_embedding", conv(in_channels, h, temporal_patch_size * patch_size * patch_size, bias=False)),
            *encoder_stack(
                depth,
                attention=linear(h, 3 * h) + linear(h, h),
                mlp=vit_mlp(h, intermediate_size, gated=True),
                norms=2 * norm(h, bias=False),
            ),
        ],
        hidden_size=h,
        num_layers=depth,
    )
    merger = _merger(h, spatial_merge_size, out_hidden_size, norm_dim=h, norm_bias=False)
    projector = tower("projector", "qwen2_5_vl_merger", [("merger", merger)], hidden_size=out_hidden_size)
    modules = [
        _patch_embed(in_channels, h, temporal_patch_size, patch_size, bias=False),
        *vit_modules("blocks", h, intermediate_size, depth, attn="attn", names=("qkv", "proj"),
                     mlp_names=("gate_proj", "up_proj", "down_proj")),
    ]
    merger_modules = _merger_modules("merger", h, spatial_merge_size, out_hidden_size, names=("mlp.0", "mlp.2"))
    return with_modules(vision, modules), with_modules(projector, merger_modules)  # RMSNorms: no biases


def qwen3_vl_vision(
    *,
    hidden_size: int,
    depth: int,
    intermediate_size: int,
    out_hidden_size: int,
    patch_size: int,
    temporal_patch_size: int,
    spatial_merge_size: int,
    num_position_embeddings: int,
    deepstack_layers: int,
    in_channels: int = 3,
) -> tuple[Tower, Tower]:
    """Qwen3-VL's vision tower, merger and DeepStack mergers::

    patch_embed     Conv3d(C, H, T x P x P) with bias       C T P^2 H + H
    pos_embed       num_position_embeddings x H
    per block       LN, qkv (bias), proj (bias), LN, linear_fc1/fc2 (bias) of I
    merger          LN(H), Linear(H m^2, H m^2), Linear(H m^2, out)
    deepstack x N   LN(H m^2), Linear(H m^2, H m^2), Linear(H m^2, out)  (N = len(deepstack_visual_indexes))
    """
    h = hidden_size
    vision = tower(
        "vision",
        "qwen3_vl",
        [
            ("patch_embedding", conv(in_channels, h, temporal_patch_size * patch_size * patch_size)),
            ("position_embedding", num_position_embeddings * h),
            *encoder_stack(
                depth, attention=linear(h, 3 * h) + linear(h, h), mlp=vit_mlp(h, intermediate_size), norms=2 * norm(h)
            ),
        ],
        hidden_size=h,
        num_layers=depth,
    )
    m = spatial_merge_size
    merger = _merger(h, m, out_hidden_size, norm_dim=h, norm_bias=True)
    deepstack = deepstack_layers * _merger(h, m, out_hidden_size, norm_dim=h * m * m, norm_bias=True)
    projector = tower(
        "projector",
        "qwen3_vl_merger",
        [("merger", merger), ("deepstack_mergers", deepstack)],
        hidden_size=out_hidden_size,
    )
    modules = [
        _patch_embed(in_channels, h, temporal_patch_size, patch_size, bias=True),
        embedding_module("pos_embed", num_position_embeddings, h),
        *vit_modules("blocks", h, intermediate_size, depth, attn="attn", names=("qkv", "proj"),
                     mlp_names=("linear_fc1", "linear_fc2")),
    ]
    vision = with_modules(vision, modules, other_biases=2 * h * depth)  # norm1, norm2 (LayerNorm)
    merger_modules = _merger_modules("merger", h, m, out_hidden_size, names=("linear_fc1", "linear_fc2"))
    if deepstack_layers:
        merger_modules += _merger_modules("deepstack_merger_list.{i}", h, m, out_hidden_size,
                                          names=("linear_fc1", "linear_fc2"), count=deepstack_layers)
    # merger.norm is LayerNorm(H), each DeepStack merger's LayerNorm(H m^2)
    projector = with_modules(projector, merger_modules, other_biases=h + deepstack_layers * h * m * m)
    return vision, projector
