"""Building blocks shared by the tower formulas: linear and convolution layers, norms, ViT layers.

All are ``torch.nn`` parameter counts (``Linear``: ``in x out (+ out)``; ``Conv{1,2,3}d``:
``in x out x prod(kernel) (+ out)``; ``LayerNorm``: weight and bias; RMSNorm: weight).
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.spec import Tower, TowerModule, TowerRole


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


# --- leaf modules, as transformers names them (for LoRA targets: llmcalc.train.modules) ----------


def lin(path: str, n_in: int, n_out: int, *, bias: bool = True, count: int = 1) -> TowerModule:
    """An ``nn.Linear(n_in, n_out)`` at ``path`` (``{i}`` for the layer index), ``count`` times."""
    return TowerModule(path, "linear", n_in, n_out, bias, count)


def conv_module(path: str, in_channels: int, out_channels: int, kernel: int, *, bias: bool) -> TowerModule:
    """An ``nn.Conv{1,2,3}d`` at ``path`` of ``kernel`` elements (the product of its sizes)."""
    return TowerModule(path, "conv", in_channels * kernel, out_channels, bias)


def embedding_module(path: str, rows: int, dim: int) -> TowerModule:
    """An ``nn.Embedding(rows, dim)`` at ``path``."""
    return TowerModule(path, "embedding", rows, dim)


def module_biases(modules: list[TowerModule]) -> int:
    """Bias elements of ``modules`` (each biased module has ``out_features`` of them per instance)."""
    return sum(m.count * m.out_features for m in modules if m.bias)


def with_modules(t: Tower, modules: list[TowerModule], *, other_biases: int = 0) -> Tower:
    """``t`` with its leaf modules and its ``bias``-named parameters: the modules' biases plus
    ``other_biases`` (LayerNorm biases, ``in_proj_bias`` and the like)."""
    return replace(t, modules=tuple(modules), bias_params=module_biases(modules) + other_biases)


def at(t: Tower, root: str) -> Tower:
    """``t`` kept at module path ``root`` of its checkpoint class (``model.vision_tower``)."""
    return replace(t, root=root)


def vit_modules(
    layers: str,
    dim: int,
    intermediate: int,
    count: int,
    *,
    attn: str = "self_attn",
    names: tuple[str, str, str, str] | tuple[str, str] = ("q_proj", "k_proj", "v_proj", "out_proj"),
    mlp: str = "mlp",
    mlp_names: tuple[str, ...] = ("fc1", "fc2"),
    bias: bool = True,
    mlp_bias: bool | None = None,
) -> list[TowerModule]:
    """The Linear modules of ``count`` ViT layers at ``layers.{i}``: q/k/v/out (``names``: four, or
    two for a fused ``qkv`` and the output) and the MLP (``fc1``/``fc2`` or gate/up/down)."""
    base = f"{layers}.{{i}}"
    out = []
    if len(names) == 4:
        out += [lin(f"{base}.{attn}.{n}", dim, dim, bias=bias, count=count) for n in names[:3]]
    else:
        out.append(lin(f"{base}.{attn}.{names[0]}", dim, 3 * dim, bias=bias, count=count))
    out.append(lin(f"{base}.{attn}.{names[-1]}", dim, dim, bias=bias, count=count))
    mb = bias if mlp_bias is None else mlp_bias
    *ups, down = mlp_names
    out += [lin(f"{base}.{mlp}.{n}", dim, intermediate, bias=mb, count=count) for n in ups]
    out.append(lin(f"{base}.{mlp}.{down}", intermediate, dim, bias=mb, count=count))
    return out
