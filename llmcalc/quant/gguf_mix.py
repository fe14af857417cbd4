"""GGUF file types: the ggml type llama.cpp's ``llama-quantize`` gives each tensor."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from llmcalc.errors import QuantError
from llmcalc.quant.catalogue import WeightFormat, get_format
from llmcalc.quant.ggml_types import GGML_TYPES, GGUF_FILE_TYPES
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Tensor, gguf_tensors

_LOW_IQ = frozenset({"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"})
#: File types whose main type llama-quantize refuses to produce without an importance matrix.
NEEDS_IMATRIX = frozenset({"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS", "Q2_K_S"})
#: Shape fallback (``tensor_type_fallback``) when ``ne[0]`` is not a multiple of the type's block.
_FALLBACK = {
    **dict.fromkeys(("IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ4_XS"), "IQ4_NL"),
    **dict.fromkeys(("Q2_0", "Q2_K", "Q3_K", "TQ1_0", "TQ2_0"), "Q4_0"),
    "Q4_K": "Q5_0",
    "Q5_K": "Q5_1",
    "Q6_K": "Q8_0",
}
#: Model types whose 80-layer versions llama.cpp tags ``LLM_TYPE_70B`` (``llama-model.cpp``).
_ARCH_70B = frozenset({"llama", "mistral", "mixtral", "qwen2"})


@dataclass(frozen=True)
class _Facts:
    """What llama.cpp's rules read from the model's hyperparameters."""

    n_layer: int
    n_gqa: int
    n_expert: int
    falcon: bool
    is_70b: bool
    tied: bool


def _facts(spec: ModelSpec, *, tied: bool) -> _Facts:
    attn = spec.first_attention
    moe = next((g.moe for s in spec.stacks for g in s.groups if g.moe is not None), None)
    n_layer = spec.num_hidden_layers
    is_70b = (
        spec.model_type in _ARCH_70B
        and n_layer == 80
        and attn is not None
        and (spec.model_type == "qwen2" or attn.num_heads != attn.num_kv_heads)
    )
    return _Facts(
        n_layer=n_layer,
        n_gqa=attn.gqa_group if attn is not None else 1,
        n_expert=moe.num_experts if moe else 0,
        falcon=spec.model_type == "falcon",
        is_70b=is_70b,
        tied=tied,
    )


def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's layer pick for extra bits: the first and last eighth, and every third between.

    ``i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2`` with integer division (src/llama-quant.cpp).
    For n = 32: layers 0-3, 6, 9, ..., 27 and 28-31, half the layers.
    """
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _block_layer(name: str) -> int:
    """The N of a leading ``blk.N.``, -1 otherwise, as llama.cpp's tensor-order comparator parses it."""
    if name.startswith("blk."):
        end = name.find(".", 4)
        if end > 4 and name[4:end].isdigit():
            return int(name[4:end])
    return -1


def _kept_type(tensor: Tensor, default: str) -> str | None:
    """The type of a tensor llama-quantize does not quantize, or ``None`` when it is eligible.

    The converter writes 1-D tensors, norms, biases, MoE routers, position and token-type tables,
    state-space and short convolutions and RWKV's small time-mix matrices as F32 (the F32 list of
    ``ModelBase.prepare_tensors``, conversion/base.py) and ``tensor_allows_quantization``
    (src/llama-quant.cpp) leaves them so; the other tensors it excludes by name (T5's ``attn_rel_b``,
    Gemma 3n's ``altup``/``laurel``/``per_layer_model_proj``, MiniMax's indexer projections) keep
    the 16-bit type they were converted in.
    """
    name = tensor.name
    if tensor.n_dims < 2 or not name.endswith("weight") or "_norm.weight" in name:
        return "F32"
    if any(s in name for s in _F32_BY_NAME):
        return "F32"
    if any(s in name for s in _SIXTEEN_BIT_BY_NAME):
        return "BF16" if default == "BF16" else "F16"
    return None


#: Tensors the converter writes in F32 and llama-quantize does not touch (by name).
_F32_BY_NAME = (
    "ffn_gate_inp",
    "position_embd",
    "token_types",
    "ssm_conv1d",
    "shortconv.conv.weight",
    "ffn_gate_tid2eid",
    *(f"time_mix_{x}.weight" for x in ("first", "w0", "w1", "w2", "v0", "v1", "v2", "a0", "a1", "a2", "g1", "g2")),
    "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight",
)
#: Tensors llama-quantize leaves in the type they were converted in (by name).
_SIXTEEN_BIT_BY_NAME = (
    "attn_rel_b",
    "altup",
    "laurel",
    "per_layer_model_proj",
    "indexer.k_proj.weight",
    "indexer.q_proj.weight",
)


class _Counters:
    """llama-quantize's running counters (``quantize_state_impl``)."""

    def __init__(self, n_attention_wv: int) -> None:
        self.n_attention_wv = n_attention_wv
        self.i_attention_wv = 0
        self.i_ffn_down = self.i_ffn_gate = self.i_ffn_up = 0


def category(name: str) -> str:
    """``tensor_get_category`` (src/llama-quant.cpp): the rule family of a tensor, by name.

    Checked in llama.cpp's order, by substring: ``output`` and ``token_embd`` by exact name, then
    ``attn_qkv``, ``attn_kv_b``, ``attn_v``, ``attn_k``, ``attn_q``, ``attn_output``, ``ffn_up``,
    ``ffn_gate``, ``ffn_down``; anything else (``attn_k_b``, ``attn_v_b``, norms ...) is ``other``.
    """
    if name == "output.weight":
        return "output"
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return "token_embd"
    for part, cat in (
        ("attn_qkv.weight", "attn_qkv"),
        ("attn_kv_b.weight", "attn_kv_b"),
        ("attn_v.weight", "attn_v"),
        ("attn_k.weight", "attn_k"),
        ("attn_q.weight", "attn_q"),
        ("attn_output.weight", "attn_output"),
        ("ffn_up", "ffn_up"),
        ("ffn_gate", "ffn_gate"),
        ("ffn_down", "ffn_down"),
    ):
        if part in name:
            return cat
    return "other"


#: ``category_is_attn_v``: the categories that take the value-projection rules.
_ATTN_V_LIKE = frozenset({"attn_v", "attn_qkv", "attn_kv_b"})


def _pick(ft: str, new: str, t: Tensor, m: _Facts, c: _Counters, imatrix: bool) -> str:
    """The ggml type llama-quantize gives tensor ``t`` in file type ``ft`` of default type ``new``.

    Before the shape fallback.

    Transcribes ``llama_tensor_get_type_impl`` (src/llama-quant.cpp), branch for branch and in its
    order, by :func:`category`; :func:`gguf_tensor_types` lists what is not modelled.
    """
    cat, ne0 = category(t.name), t.shape[0]
    is_output = cat == "output" or (m.tied and cat == "token_embd")

    def layer(counter: int) -> int:
        return t.layer if (m.n_expert > 1 and t.layer is not None) else counter

    if is_output:
        if ft == "MXFP4_MOE" or m.falcon or ne0 % GGML_TYPES[new].block_elements:
            return "Q8_0"
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if ft == "MXFP4_MOE":
        return "MXFP4" if t.n_dims == 3 and t.shape[2] > 1 else "Q8_0"
    if cat == "token_embd":
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ft in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        if ft in ("TQ1_0", "TQ2_0", "Q2_0"):
            return "Q4_K"
        return new
    attn_v = cat in _ATTN_V_LIKE
    if ft in _LOW_IQ:
        if attn_v:
            c.i_attention_wv += 1
            if m.n_gqa >= 4 or m.n_expert >= 4:
                return "Q4_K"
            return "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
        if cat == "attn_k" and m.n_expert == 8:
            return "Q4_K"
        if cat == "ffn_down":
            first = c.i_ffn_down < m.n_layer // 8
            c.i_ffn_down += 1
            if first:
                return "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
            return new
        if cat == "attn_output":
            if m.n_expert == 8:
                return "Q5_K"
            if ft in ("IQ1_S", "IQ1_M"):
                return "IQ2_XXS"
            if ft in ("IQ2_S", "IQ2_M"):
                return "IQ3_S"
        return new
    if attn_v:
        i, n = c.i_attention_wv, c.n_attention_wv
        c.i_attention_wv += 1
        if ft == "Q2_K":
            new = "Q4_K" if m.n_gqa >= 4 else "Q3_K"
        elif ft == "Q2_K_S" and m.n_gqa >= 4:
            new = "Q4_K"
        elif ft == "IQ3_XXS":
            new = "Q4_K" if m.n_gqa >= 4 else ("IQ3_XXS" if imatrix else "IQ3_S")
        elif (ft in ("IQ3_XS", "IQ3_S") and m.n_gqa >= 4) or ft == "IQ3_M":
            new = "Q4_K"
        elif ft == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ft == "Q3_K_L" or (ft in ("IQ4_NL", "IQ4_XS") and m.n_gqa >= 4):
            new = "Q5_K"
        elif ft in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n):
            new = "Q6_K"
        elif ft == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if m.is_70b and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        return "Q8_0" if m.n_expert == 8 else new
    if cat == "attn_k":
        if m.n_expert == 8:
            return "Q8_0"
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if cat == "attn_q":
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if cat == "ffn_down":
        return _ffn_down(ft, new, layer(c.i_ffn_down), m, c, imatrix)
    if cat == "attn_output":
        if m.falcon:
            return "Q4_K" if ft == "Q3_K_L" else new
        if m.n_expert == 8:
            return "Q5_K" if ft in _EIGHT_EXPERT_ATTN_OUTPUT else new
        return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(ft, new)
    for part, attr in (("ffn_gate", "i_ffn_gate"), ("ffn_up", "i_ffn_up")):
        if cat == part:
            i, n = layer(getattr(c, attr)), m.n_layer
            setattr(c, attr, getattr(c, attr) + 1)
            return "IQ3_XXS" if ft == "IQ3_XS" and n // 8 <= i < 7 * n // 8 else new
    return new


#: File types whose ``attn_output`` goes to Q5_K in an 8-expert model.
_EIGHT_EXPERT_ATTN_OUTPUT = frozenset(
    {"Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S", "IQ3_M", "IQ4_XS"}
)


def _ffn_down(ft: str, new: str, i: int, m: _Facts, c: _Counters, imatrix: bool) -> str:
    """The ``FFN_DOWN`` branch of ``llama_tensor_get_type_impl``, for layer ``i`` of ``n_layer``."""
    n = m.n_layer
    c.i_ffn_down += 1
    more = use_more_bits(i, n)
    if ft == "Q2_K":
        return "Q3_K"
    if ft == "Q2_K_S":
        return "Q4_K" if i < n // 8 else new
    if ft == "IQ3_XXS" and not imatrix:
        return "Q4_K" if i < n // 8 else "Q3_K"
    if ft == "Q3_K_M":
        if i < n // 16:
            return "Q5_K"
        return ("Q4_K" if more else "Q3_K") if m.falcon else "Q4_K"
    if ft == "IQ3_M" and (i < n // 8 or (m.n_expert == 8 and more)):
        return "Q4_K"
    if ft == "Q3_K_L":
        return "Q4_K" if m.falcon else "Q5_K"
    if ft == "Q4_K_M":
        if m.falcon:
            return "Q6_K" if i < n // 16 else ("Q5_K" if more else "Q4_K")
        return "Q6_K" if more else new
    if i < n // 8 and ft in ("IQ4_NL", "IQ4_XS") and not imatrix:
        return "Q5_K"
    if ft == "Q5_K_M" and more:
        return "Q6_K"
    if ft == "Q4_K_S" and not m.falcon and i < n // 8:
        return "Q5_K"
    if ft in ("Q4_0", "Q5_0") and imatrix and i < n // 8:
        return "Q4_1" if ft == "Q4_0" else "Q5_1"
    return new


def _fallback(type_name: str, ne0: int) -> str:
    """``tensor_type_fallback``: a type whose block does not divide the row gives way to a 32-block type,
    and to F16 if even that does not fit (llama-quantize refuses some of these; F16 is the honest size)."""
    if ne0 % GGML_TYPES[type_name].block_elements == 0:
        return type_name
    smaller = _FALLBACK.get(type_name, "F16")
    return smaller if ne0 % GGML_TYPES[smaller].block_elements == 0 else "F16"


#: Model types whose released checkpoints store the routed experts in MXFP4, which llama.cpp's
#: converter copies as MXFP4 whatever the output type (``GptOssModel.repack_mxfp4`` in
#: conversion/gpt_oss.py, ``raw_dtype=MXFP4``) and llama-quantize leaves so.
MXFP4_EXPERT_MODEL_TYPES = frozenset({"gpt_oss"})


def gguf_tensor_types(
    spec: ModelSpec, fmt: WeightFormat | str, *, imatrix: bool | None = None, stored_output_head: bool = False
) -> tuple[tuple[Tensor, str], ...]:
    """Each tensor of the GGUF file with the ggml type llama-quantize gives it in file type ``fmt``.

    The tensors are :func:`llmcalc.tensors.gguf_tensors` (fused ``attn_qkv`` where the converter
    keeps it, MLA's ``attn_k_b``/``attn_v_b``, a stored output head where ``stored_output_head``).
    They are visited in llama.cpp's order (tensors outside the layers first, then by layer, by name
    within a layer) because some rules count the tensors seen so far. ``imatrix`` says whether an
    importance matrix is supplied; ``None`` assumes one only for the file types that demand it,
    which is how llama.cpp's published Llama-3.1-8B table was made. Source:
    ``llama_tensor_get_type``, ``llama_tensor_get_type_impl``, ``tensor_type_fallback`` and
    ``init_quantize_state_counters`` in src/llama-quant.cpp (tying is decided from the tensors:
    no ``output.weight`` means the token embedding takes the output rule); the order from
    ``weight_name_comparer`` in src/llama-model-loader.h. gpt-oss's routed experts stay MXFP4 in
    every file type (:data:`MXFP4_EXPERT_MODEL_TYPES`).

    Not modelled: user overrides (``--output-tensor-type``, ``--tensor-type``, ``--pure``) and
    BailingMoE3's MXFP4_MOE exception.
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    if fmt.family != "gguf":
        raise QuantError(f"{fmt.name} is not a GGUF file type")
    ft, _ = GGUF_FILE_TYPES[fmt.name]
    use_imatrix = (ft in NEEDS_IMATRIX) if imatrix is None else imatrix
    return _tensor_types(spec, fmt.name, use_imatrix, stored_output_head)


#: Categories whose type depends on llama-quantize's running counters or the layer index; the type
#: of any other eligible tensor depends only on its category, row length and expert dimension.
_COUNTED = _ATTN_V_LIKE | {"ffn_down", "ffn_gate", "ffn_up"}
#: File types whose mix depends on whether an importance matrix is supplied (the ``imatrix``
#: branches of ``llama_tensor_get_type_impl``: IQ3_XXS's attn_v and ffn_down, IQ4_NL/IQ4_XS's and
#: Q4_0/Q5_0's first ffn_down layers). For the others both answers are the same mix.
IMATRIX_SENSITIVE = frozenset({"IQ3_XXS", "IQ4_NL", "IQ4_XS", "Q4_0", "Q5_0"})


@dataclass(frozen=True, slots=True)
class _Entry:
    """A GGUF tensor with what llama-quantize's rules read from its name, decided once per name."""

    tensor: Tensor
    category: str
    #: "F32" or "16" (kept in the type it was converted in) for tensors not quantized, else None.
    kept: str | None

    @property
    def counted(self) -> bool:
        """Whether its type may depend on the tensors before it (llama-quantize's counters)."""
        return self.kept is None and self.category in _COUNTED


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What a mix reads from the spec, whatever the file type (:func:`_prepared`)."""

    entries: tuple[_Entry, ...]
    #: The counted entries in llama.cpp's order, and one entry per kind of the rest with how many.
    counted: tuple[_Entry, ...]
    uncounted: tuple[tuple[_Entry, int], ...]
    facts: _Facts
    n_attention_wv: int


def _local_name(name: str) -> str:
    """A layer tensor's name without its ``blk.N.``: the part the name-based rules read."""
    return name[name.index(".", 4) + 1 :] if name.startswith("blk.") else name


@lru_cache(maxsize=64)
def _prepared(spec: ModelSpec, stored_output_head: bool) -> _Prepared:
    """The GGUF tensors in llama.cpp's order with their rule inputs, once per spec.

    An uncounted tensor's type depends on its category, kept type, role and shape only (the inputs
    of :func:`_pick` outside the counted categories), so tensors alike in those are grouped.
    """
    ordered = sorted(
        gguf_tensors(spec, stored_output_head=stored_output_head), key=lambda t: (_block_layer(t.name), t.name)
    )
    by_name: dict[tuple[str, int], tuple[str, str | None]] = {}
    entries = []
    for t in ordered:
        key = (_local_name(t.name), t.n_dims)
        decided = by_name.get(key)
        if decided is None:
            kept = _kept_type(t, "F16")
            decided = by_name[key] = (category(t.name), None if kept is None else ("F32" if kept == "F32" else "16"))
        entries.append(_Entry(t, *decided))
    alike: dict[tuple[str, str | None, str, tuple[int, ...]], list[Any]] = {}
    for e in entries:
        if not e.counted:
            alike.setdefault((e.category, e.kept, e.tensor.role, e.tensor.shape), [e, 0])[1] += 1
    return _Prepared(
        entries=tuple(entries),
        counted=tuple(e for e in entries if e.counted),
        uncounted=tuple((e, n) for e, n in alike.values()),
        facts=_facts(spec, tied=not any(t.name == "output.weight" for t in ordered)),
        n_attention_wv=sum(e.category in _ATTN_V_LIKE for e in entries),
    )


class _Mix:
    """One file type's rules over one prepared spec: :meth:`type_of` in llama.cpp's tensor order."""

    def __init__(self, spec: ModelSpec, prepared: _Prepared, fmt_name: str, use_imatrix: bool) -> None:
        self.ft, self.default = GGUF_FILE_TYPES[fmt_name]
        self.facts, self.imatrix = prepared.facts, use_imatrix
        self.counters = _Counters(prepared.n_attention_wv)
        self.mxfp4_experts = spec.model_type in MXFP4_EXPERT_MODEL_TYPES
        self.sixteen = "BF16" if self.default == "BF16" else "F16"

    def type_of(self, e: _Entry) -> str:
        t = e.tensor
        if e.kept is not None:
            return "F32" if e.kept == "F32" else self.sixteen
        if self.mxfp4_experts and t.role == "routed_experts" and t.n_dims == 3:
            return "MXFP4"
        if self.default in ("F16", "BF16", "F32"):
            return self.default
        return _fallback(_pick(self.ft, self.default, t, self.facts, self.counters, self.imatrix), t.shape[0])


@lru_cache(maxsize=256)
def _tensor_types(
    spec: ModelSpec, fmt_name: str, use_imatrix: bool, stored_output_head: bool
) -> tuple[tuple[Tensor, str], ...]:
    """:func:`gguf_tensor_types` once per spec and settings (specs are frozen, so the cache cannot go
    stale). Uncounted tensors take the type decided for the first of their kind."""
    prepared = _prepared(spec, stored_output_head)
    mix = _Mix(spec, prepared, fmt_name, use_imatrix)
    decided: dict[tuple[str, str | None, str, tuple[int, ...]], str] = {}
    out = []
    for e in prepared.entries:
        if e.counted:
            out.append((e.tensor, mix.type_of(e)))
        else:
            key = (e.category, e.kept, e.tensor.role, e.tensor.shape)
            ty = decided.get(key)
            if ty is None:
                ty = decided[key] = mix.type_of(e)
            out.append((e.tensor, ty))
    return tuple(out)


@lru_cache(maxsize=256)
def gguf_type_counts(
    spec: ModelSpec, fmt_name: str, use_imatrix: bool, stored_output_head: bool
) -> tuple[tuple[Tensor, str, int], ...]:
    """:func:`gguf_tensor_types` grouped: ``(tensor, type, n)`` stands for ``n`` tensors of that
    tensor's shape and role given that type (the same mix; pricing needs no more).

    Only the counted tensors (value projections, FFN gate/up/down, whose rules read
    llama-quantize's counters or the layer index) are decided one by one, in llama.cpp's order;
    each other kind once. The name of the tensor standing for a group is its first member's.
    """
    prepared = _prepared(spec, stored_output_head)
    mix = _Mix(spec, prepared, fmt_name, use_imatrix)
    groups: dict[tuple[tuple[int, ...], str, str], list[Any]] = {}
    for e in prepared.counted:
        ty = mix.type_of(e)
        groups.setdefault((e.tensor.shape, e.tensor.role, ty), [e.tensor, ty, 0])[2] += 1
    for e, n in prepared.uncounted:
        ty = mix.type_of(e)
        groups.setdefault((e.tensor.shape, e.tensor.role, ty), [e.tensor, ty, 0])[2] += n
    return tuple((t, ty, n) for t, ty, n in groups.values())


#: Model types whose router keeps an ``e_score_correction_bias`` buffer (transformers' DeepseekV3TopkRouter).
_SCORE_BIAS_MODEL_TYPES = frozenset({"deepseek_v3", "kimi_k2"})


def gguf_extra_tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    """Non-parameter F32 tensors llama.cpp's converter writes into a GGUF file for this model.

    ``rope_freqs.weight`` (rotary dims / 2 values) for Llama models with ``rope_type: llama3``
    (Llama 3.1-3.3; ``LlamaModel.generate_extra_tensors`` in convert_hf_to_gguf.py), and
    ``rope_factors_long``/``rope_factors_short`` for Phi-3's ``longrope``/``su`` scaling, and
    DeepSeek-V3's router score-correction bias ``blk.N.exp_probs_b.bias`` (one value per routed
    expert in each MoE layer: the ``e_score_correction_bias`` buffer, which is not a parameter;
    ``DeepseekV2Model`` maps it by gguf-py/gguf/tensor_mapping.py ``FFN_EXP_PROBS_B``). Other
    converters' extras are not known to llmcalc.
    """
    if spec.model_type in _SCORE_BIAS_MODEL_TYPES:
        return tuple(Tensor(t.name.replace("ffn_gate_inp.weight", "exp_probs_b.bias"), t.layer, (t.shape[1],), "buffer")
                     for t in gguf_tensors(spec) if t.name.endswith(".ffn_gate_inp.weight"))
    scaling = spec.positional.rope_scaling
    if scaling is None:
        return ()
    half = (spec.positional.rotary_dim or spec.head_dim) // 2
    kind = scaling.rope_type.lower()
    if kind == "llama3" and spec.model_type == "llama":
        return (Tensor("rope_freqs.weight", None, (half,), "buffer"),)
    if kind in ("longrope", "su") and spec.model_type == "phi3":
        return (
            Tensor("rope_factors_long.weight", None, (half,), "buffer"),
            Tensor("rope_factors_short.weight", None, (half,), "buffer"),
        )
    return ()

