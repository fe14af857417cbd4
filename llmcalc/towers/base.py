"""Building blocks shared by the tower formulas: linear and convolution layers, norms, ViT layers.

All are ``torch.nn`` parameter counts (``Linear``: ``in x out (+ out)``; ``Conv{1,2,3}d``:
``in x out x prod(kernel) (+ out)``; ``LayerNorm``: weight and bias; RMSNorm: weight).
"""

from __future__ import annotations

from llmcalc.spec import Tower, TowerRole


def linear(in_features: int, out_features: int, *, bias: bool = True) -> int:
    """``torch.nn.Linear``: ``in x out`` weights, ``out`` biases when ``bias``."""
    return in_features * out_features + (out_features if bias else 0)


def conv(in_channels: int, out_channels: int, kernel: int, *, bias: bool = True) -> int:
    """``torch.nn.Conv{1,2,3}d``: ``in x out x kernel`` (``kernel`` = product of its sizes) (+ ``out``)."""
    return in_channels * out_channels * kernel + (out_channels if bias else 0)


def norm(dim: int, *, bias: bool = True) -> int:
    """A LayerNorm (weight and bias, ``bias=True``) or an RMSNorm (weight only, ``bias=False``)."""
    return dim * (2 if bias else 1)


def vit_attention(dim: int, *, bias: bool = True, k_bias: bool | None = None, inner: int | None = None) -> int:
    """Multi-head self-attention of a ViT layer: q, k, v of ``dim x inner`` and out of ``inner x dim``.

    Vaswani et al. 2017, section 3.2.2; fused ``qkv`` projections (Qwen-VL, GLM-4V) hold the same
    numbers. ``k_bias`` overrides the key bias (Whisper's ``k_proj`` has none).
    """
    inner = inner or dim
    kb = bias if k_bias is None else k_bias
    return 2 * linear(dim, inner, bias=bias) + linear(dim, inner, bias=kb) + linear(inner, dim, bias=bias)


def vit_mlp(dim: int, intermediate: int, *, gated: bool = False, bias: bool = True) -> int:
    """A ViT feed-forward block: ``fc1``/``fc2`` (plain) or gate/up/down (gated, SwiGLU)."""
    ups = 2 if gated else 1
    return ups * linear(dim, intermediate, bias=bias) + linear(intermediate, dim, bias=bias)


def tower(
    role: TowerRole, kind: str, parts: list[tuple[str, int]], *, hidden_size: int = 0, num_layers: int = 0
) -> Tower:
    """A :class:`Tower` of the non-zero ``parts``, in order, with equal names merged."""
    merged: dict[str, int] = {}
    for name, value in parts:
        if value:
            merged[name] = merged.get(name, 0) + value
    return Tower(role=role, kind=kind, components=tuple(merged.items()), hidden_size=hidden_size, num_layers=num_layers)


def encoder_stack(layers: int, *, attention: int, mlp: int, norms: int, extra: int = 0) -> list[tuple[str, int]]:
    """``layers`` identical encoder layers as ``attention``, ``mlp`` and ``norms`` components.

    ``extra`` is per-layer parameters outside those blocks (layer-scale vectors, scalar gates),
    counted with the norms under ``layer_scale``.
    """
    return [
        ("attention", layers * attention),
        ("mlp", layers * mlp),
        ("norms", layers * norms),
        ("layer_scale", layers * extra),
    ]
