"""Gemma 3n's vision tower: timm's MobileNetV5 encoder (``mobilenetv5_300m_enc``).

The architecture is not in the config: ``Gemma3nVisionConfig.architecture`` names a timm model and
transformers' ``TimmWrapperModel`` builds it with ``timm.create_model(architecture, num_classes=0,
**model_args)``. Its block list is therefore data here, :data:`ARCHITECTURES`, transcribed from timm
1.0 ``timm/models/mobilenetv5.py`` (``_gen_mobilenet_v5``, the ``arch_def`` of every variant other
than ``mobilenetv5_base``) in timm's own block-string notation (``_efficientnet_builder.py``
``_decode_block_str``: type, ``r`` repeats, ``k`` kernel, ``a`` start depthwise kernel, ``s``
stride, ``e`` expansion, ``c`` output channels, ``h`` heads, ``d`` key/value width, ``v`` key/value
stride). The parameters are computed from that table by the block formulas below (MobileNetV4:
Qin et al. 2024, arXiv 2404.10518, section 3, the Universal Inverted Bottleneck and Mobile MQA).

Modules, as timm builds them (every convolution without bias except the stem's; every norm is
``RmsNorm2d``, a weight of one per channel; layer scales of one per output channel)::

    conv_stem   Conv2d(in_chans, S, 3, bias=stem_bias), norm S
    er          EdgeResidual (FusedMBConv): Conv2d(i, m, k) (groups g), norm m, Conv2d(m, o, 1), norm o
    uir         Universal Inverted Residual: [depthwise Conv2d(i, i, a), norm i] (a > 0),
                Conv2d(i, m, 1), norm m, [depthwise Conv2d(m, m, k), norm m] (k > 0),
                Conv2d(m, o, 1), norm o, layer scale o
    mqa         Mobile multi-query attention: norm i, query Conv2d(i, h d, 1), key and value
                [depthwise Conv2d(i, i, k), norm i] (v > 1) and Conv2d(i, d, 1), output
                Conv2d(h d, o, 1), layer scale o
    msfa        the multi-scale fusion adapter over the features at msfa_indices (the stem and each
                stage end; the last two by default): Conv2d(F, 2F', 1), norm, Conv2d(2F', 2048, 1),
                norm, then a norm of 2048 (no layer scale)

with ``m = make_divisible(i e)`` (multiples of 8), channels rounded by ``channel_multiplier`` the
way ``round_channels`` does. ``model_args`` may set ``channel_multiplier``, ``group_size``,
``in_chans``, ``stem_size``, ``stem_bias``, ``fix_stem`` and ``msfa_indices``; of the rest, llmcalc
accepts the keys that hold no parameters (:data:`PARAMETER_FREE_ARGS`; a ``layer_scale_init_value``
of ``None`` is one: ``timm.create_model`` drops ``None`` arguments, so the layer scales stay).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from llmcalc.errors import SpecError
from llmcalc.spec import Tower
from llmcalc.towers.base import tower


def _stage(*blocks: tuple[str, int]) -> tuple[str, ...]:
    return tuple(b for block, n in blocks for b in [block] * n)


#: timm's ``arch_def`` per architecture name, one tuple of block strings per stage (see module docstring).
ARCHITECTURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "mobilenetv5_300m_enc": (
        # stage 0
        _stage(("er_r1_k3_s2_e4_c128", 1), ("er_r1_k3_s1_e4_c128", 2)),
        # stage 1
        _stage(
            ("uir_r1_a3_k5_s2_e6_c256", 1),
            ("uir_r1_a5_k0_s1_e4_c256", 1),
            ("uir_r1_a3_k0_s1_e4_c256", 1),
            ("uir_r1_a5_k0_s1_e4_c256", 1),
            ("uir_r1_a3_k0_s1_e4_c256", 1),
        ),
        # stage 2: a strided UIR, 7 UIRs, one plain UIR, then 14 (MQA, UIR) pairs
        _stage(
            ("uir_r1_a5_k5_s2_e6_c640", 1),
            ("uir_r1_a5_k0_s1_e4_c640", 7),
            ("uir_r1_a0_k0_s1_e1_c640", 1),
        )
        + _stage(("mqa_r1_k3_h12_v2_s1_d64_c640", 1), ("uir_r1_a0_k0_s1_e2_c640", 1)) * 14,
        # stage 3: a strided UIR, then 19 (MQA, UIR) pairs
        _stage(("uir_r1_a5_k5_s2_e6_c1280", 1))
        + _stage(("mqa_r1_k3_h16_s1_d96_c1280", 1), ("uir_r1_a0_k0_s1_e2_c1280", 1)) * 19,
    ),
}

#: The adapter's output width (``MobileNetV5Encoder.num_features``, fixed in timm).
MSFA_OUT = 2048
#: ``model_args`` keys that change no parameter count (timm reads them; llmcalc accepts them).
PARAMETER_FREE_ARGS = frozenset(
    {"pad_type", "msfa_output_resolution", "drop_rate", "drop_path_rate", "layer_scale_init_value"}
)
#: ``model_args`` keys the formula reads.
MODEL_ARGS = frozenset(
    {"channel_multiplier", "group_size", "in_chans", "stem_size", "stem_bias", "fix_stem",
     "msfa_indices"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Block:
    """One decoded block string (``_decode_block_str``)."""

    kind: str
    out_channels: int
    stride: int
    kernel: int = 0
    start_kernel: int = 0
    expansion: float = 1.0
    heads: int = 0
    kv_dim: int = 0
    kv_stride: int = 1


def decode(block: str) -> Block:
    """A timm block string (``uir_r1_a3_k5_s2_e6_c256``) as a :class:`Block` (one repeat)."""
    kind, *ops = block.split("_")
    opts = {m.group(1): m.group(2) for op in ops if (m := re.fullmatch(r"([a-z]+)(\d.*)", op))}
    if kind not in ("er", "uir", "mqa") or int(opts.get("r", "1")) != 1:
        raise ValueError(f"unsupported MobileNetV5 block {block!r}")
    return Block(
        kind=kind,
        out_channels=int(opts["c"]),
        stride=int(opts["s"]),
        kernel=int(opts.get("k", "0")),
        start_kernel=int(opts.get("a", "0")),
        expansion=float(opts.get("e", "1")),
        heads=int(opts.get("h", "0")),
        kv_dim=int(opts.get("d", "0")),
        kv_stride=int(opts.get("v", "1")),
    )


def make_divisible(value: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """timm ``layers/helpers.py`` ``make_divisible``: the nearest multiple of ``divisor`` (at least
    ``divisor``), one step up if rounding lost more than 10 %."""
    out = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return out + divisor if out < round_limit * value else out


def round_channels(channels: int, multiplier: float) -> int:
    """timm ``round_channels``: ``channels x multiplier`` made divisible by 8 (unchanged at 0)."""
    return make_divisible(channels * multiplier) if multiplier else channels


def _conv(c_in: int, c_out: int, kernel: int, groups: int = 1, *, bias: bool = False) -> int:
    """A ``Conv2d(c_in, c_out, kernel x kernel, groups)``: ``c_out x c_in / groups x kernel^2`` (+ ``c_out``)."""
    return c_out * (c_in // groups) * kernel * kernel + (c_out if bias else 0)


def _groups(group_size: int, channels: int) -> int:
    """timm ``num_groups``: 1 without a group size, else ``channels / group_size`` (timm asserts it divides)."""
    if group_size and channels % group_size:
        raise SpecError(f"model_args group_size {group_size} does not divide a block's {channels} channels "
                        "(timm num_groups requires it)")
    return channels // group_size if group_size else 1


def block_params(b: Block, c_in: int, c_out: int, *, group_size: int | None) -> int:
    """Parameters of one block from ``c_in`` to ``c_out`` channels (module docstring)."""
    scale = c_out  # LayerScale2d of UIR and MQA blocks
    if b.kind == "er":
        mid = make_divisible(c_in * b.expansion)
        return _conv(c_in, mid, b.kernel, _groups(group_size or 0, mid)) + mid + _conv(mid, c_out, 1) + c_out
    if b.kind == "uir":
        gs = 1 if group_size is None else group_size
        mid = make_divisible(c_in * b.expansion)
        total = _conv(c_in, mid, 1) + mid + _conv(mid, c_out, 1) + c_out + scale
        if b.start_kernel:
            total += _conv(c_in, c_in, b.start_kernel, _groups(gs, c_in)) + c_in
        if b.kernel:
            total += _conv(mid, mid, b.kernel, _groups(gs, mid)) + mid
        return total
    # mqa: norm, query, key, value (each with a strided depthwise conv and norm when v > 1), output
    down = (_conv(c_in, c_in, b.kernel, c_in) + c_in) if b.kv_stride > 1 else 0
    qkv = _conv(c_in, b.heads * b.kv_dim, 1) + 2 * (down + _conv(c_in, b.kv_dim, 1))
    return c_in + qkv + _conv(b.heads * b.kv_dim, c_out, 1) + scale


def mobilenetv5(
    *,
    architecture: str = "mobilenetv5_300m_enc",
    channel_multiplier: float = 1.0,
    group_size: int | None = None,
    in_chans: int = 3,
    stem_size: int = 64,
    stem_bias: bool = True,
    fix_stem: bool | None = None,
    msfa_indices: Sequence[int] = (-2, -1),
) -> Tower:
    """The MobileNetV5 encoder ``architecture`` with timm's ``model_args`` (module docstring).

    Components: ``stem``, ``stage_{n}`` per stage, ``msfa``; ``num_layers`` counts the blocks.
    No leaf modules are listed (timm's are all ``Conv2d``, most of them grouped, and no LoRA target
    name of llmcalc's reaches them); ``bias_params`` is the stem convolution's bias.
    """
    stages = ARCHITECTURES[architecture]
    if not (channel_multiplier < 1.0 if fix_stem is None else fix_stem):
        stem_size = round_channels(stem_size, channel_multiplier)
    parts = [("stem", _conv(in_chans, stem_size, 3, bias=stem_bias) + stem_size)]
    features = [stem_size]  # the stem's features (the first block is strided), then each stage end
    c_in = stem_size
    for n, stage in enumerate(stages):
        total = 0
        for s in stage:
            b = decode(s)
            c_out = round_channels(b.out_channels, channel_multiplier)
            total += block_params(b, c_in, c_out, group_size=group_size)
            c_in = c_out
        features.append(c_in)
        parts.append((f"stage_{n}", total))
    fused = sum(features[i + len(features) if i < 0 else i] for i in msfa_indices)
    mid = make_divisible(fused * 2.0)
    parts.append(("msfa", _conv(fused, mid, 1) + mid + _conv(mid, MSFA_OUT, 1) + MSFA_OUT + MSFA_OUT))
    t = tower("vision", "mobilenetv5", parts, hidden_size=MSFA_OUT, num_layers=sum(len(s) for s in stages))
    # every module is a Conv2d (most grouped, which TowerModule does not hold): none listed, so no
    # LoRA target reaches the tower; its one bias is the stem's (what PEFT's bias="all" trains)
    return replace(t, bias_params=stem_size if stem_bias else 0)
