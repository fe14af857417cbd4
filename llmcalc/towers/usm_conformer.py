"""Gemma 3n's audio encoder: a Universal Speech Model (USM) Conformer.

Zhang et al. 2023, "Google USM: Scaling Automatic Speech Recognition Beyond 100 Languages", arXiv
2303.01037 (the Conformer of Gulati et al. 2020, arXiv 2005.08100, section 2, with chunked local
attention). Reference: transformers ``models/gemma3n/modeling_gemma3n.py`` (``Gemma3nAudioEncoder``,
``Gemma3nAudioSubSampleConvProjection``, ``Gemma3nAudioSSCPConvBlock``,
``Gemma3nAudioConformerBlock`` and its feed-forward, attention, light-conv parts) with the defaults
of ``Gemma3nAudioConfig``. No bias anywhere; every norm is an RMSNorm (a weight per channel) and
the sub-sampling blocks' cumulative group norms hold one weight per channel too.
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import conv_module, lin, tower, with_modules


def _frequency_out(size: int, kernel: int, stride: int) -> int:
    """The frequency width after one sub-sampling conv: padded by 1 on each side (``(F + 2 - k) // s + 1``)."""
    return (size + 2 - kernel) // stride + 1


def usm_conformer(
    *,
    hidden_size: int,
    num_layers: int,
    num_heads: int,
    input_feat_size: int,
    conv_kernel_size: int,
    channels: tuple[int, int],
    kernels: tuple[tuple[int, int], tuple[int, int]],
    strides: tuple[tuple[int, int], tuple[int, int]],
) -> Tower:
    """The audio encoder (``H`` hidden, ``A = heads x (H // heads)`` the attention width, ``K`` the
    light-conv kernel, sub-sampling channels ``c0, c1``, kernels ``(kh, kw)``)::

        subsampling   Conv2d(1, c0, kh0 x kw0) + norm c0, Conv2d(c0, c1, kh1 x kw1) + norm c1,
                      input_proj_linear Linear(c1 x F1, H)      (F1: frequency width after both)
        per layer     2 feed-forwards: norm, Linear(H, 4H), Linear(4H, H), norm       8H^2 + 2H
                      attention: norm, q/k/v Linear(H, A), relative position pos_proj Linear(H, A),
                      per_dim_scale (H // heads), post Linear(H, H), norm
                      light conv: norm, Linear(H, 2H), depthwise Conv1d(H, H, K), norm, Linear(H, H)
                      final norm

    Modules as ``Gemma3nAudioEncoder`` names them (``subsample_conv_projection.conv_{0,1}.conv``,
    ``.input_proj_linear``; ``conformer.{i}.ffw_layer_{start,end}.ffw_layer_{1,2}``,
    ``.attention.attn.{q,k,v}_proj``, ``.attention.attn.relative_position_embedding.pos_proj``,
    ``.attention.post``, ``.lconv1d.linear_{start,end}``); the depthwise ``lconv1d.depthwise_conv1d``
    (groups = H) is not listed, as :class:`~llmcalc.spec.TowerModule` holds ungrouped convolutions.
    """
    h = hidden_size
    c0, c1 = channels
    (kh0, kw0), (kh1, kw1) = kernels
    f1 = _frequency_out(_frequency_out(input_feat_size, kw0, strides[0][1]), kw1, strides[1][1])
    subsampling = c0 * kh0 * kw0 + c0 + c1 * c0 * kh1 * kw1 + c1 + c1 * f1 * h
    head_dim = h // num_heads
    width = num_heads * head_dim
    feed_forward = 2 * (2 * h + 8 * h * h)
    attention = 4 * h * width + head_dim + h * h + 2 * h
    light_conv = 2 * h + 2 * h * h + h * conv_kernel_size + h * h
    parts = [
        ("subsampling", subsampling),
        ("attention", num_layers * attention),
        ("mlp", num_layers * feed_forward),
        ("conv_module", num_layers * light_conv),
        ("norms", num_layers * h),
    ]
    n = num_layers
    layer = "conformer.{i}"
    modules = [
        conv_module("subsample_conv_projection.conv_0.conv", 1, c0, kh0 * kw0, bias=False),
        conv_module("subsample_conv_projection.conv_1.conv", c0, c1, kh1 * kw1, bias=False),
        lin("subsample_conv_projection.input_proj_linear", c1 * f1, h, bias=False),
        *(
            lin(f"{layer}.{ffw}.{name}", a, b, bias=False, count=n)
            for ffw in ("ffw_layer_start", "ffw_layer_end")
            for name, a, b in (("ffw_layer_1", h, 4 * h), ("ffw_layer_2", 4 * h, h))
        ),
        *(lin(f"{layer}.attention.attn.{p}_proj", h, width, bias=False, count=n) for p in "qkv"),
        lin(f"{layer}.attention.attn.relative_position_embedding.pos_proj", h, width, bias=False, count=n),
        lin(f"{layer}.attention.post", h, h, bias=False, count=n),
        lin(f"{layer}.lconv1d.linear_start", h, 2 * h, bias=False, count=n),
        lin(f"{layer}.lconv1d.linear_end", h, h, bias=False, count=n),
    ]
    return with_modules(tower("audio", "gemma3n_usm", parts, hidden_size=h, num_layers=n), modules)
