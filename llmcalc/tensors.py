"""A spec's weight tensors, named and shaped as a GGUF file would hold them.

:func:`weight_tensors` expands a :class:`~llmcalc.spec.ModelSpec` into one :class:`Tensor` per
stored weight or bias, so that formats which treat tensors differently (llama.cpp's per-tensor
quantization mixes, GPTQ's "linear layers only") can be priced tensor by tensor.

Conventions (GGUF's, ``gguf-py/gguf/constants.py`` ``TENSOR_NAMES``):

- Names: ``token_embd.weight``, ``position_embd.weight``, ``token_types.weight``,
  ``output_norm.weight``, ``output.weight``; per layer ``blk.{i}.attn_q.weight``, ``attn_k``,
  ``attn_v``, ``attn_output``, ``attn_norm``, ``ffn_norm``, ``ffn_gate``, ``ffn_up``, ``ffn_down``,
  MoE ``ffn_gate_inp`` (router) and ``ffn_{gate,up,down}_exps`` (all experts of a layer in one 3-D
  tensor), shared experts ``ffn_{gate,up,down}_shexp``, MLA ``attn_q_a``, ``attn_q_a_norm``,
  ``attn_q_b``, ``attn_kv_a_mqa``, ``attn_kv_a_norm``, ``attn_kv_b``. Biases end in ``.bias``.
  The model types whose checkpoints and GGUF files hold one fused projection
  (:data:`FUSED_QKV_MODEL_TYPES`: GPT-NeoX, BLOOM, Falcon, Phi-3, GPT-2, GPT-BigCode, DBRX) get one
  ``attn_qkv`` tensor of ``(hidden, q + k + v)`` instead of three, and Phi-3's fused gate/up
  projection is one ``ffn_up`` of ``(hidden, 2 x intermediate)``: llama.cpp's converter keeps them so
  (``GPTNeoXModel``, ``BloomModel``, ``FalconModel``, ``Phi3MiniModel``, ``GPT2Model``,
  ``StarCoderModel``, ``DbrxModel`` in convert_hf_to_gguf.py / conversion/*.py map
  ``query_key_value``/``qkv_proj``/``c_attn``/``Wqkv`` to ``MODEL_TENSOR.ATTN_QKV``, per
  gguf-py/gguf/tensor_mapping.py). Encoder-decoder models
  prefix their stacks with ``enc.`` and ``dec.`` (``enc.blk.0.attn_q.weight``,
  ``dec.output_norm.weight``) as llama.cpp's T5 support does. A few tensors llama.cpp has no name
  for get a plain one: ``proj_in``/``proj_out`` (OPT-350m) and ``pooler`` (BERT).
- Shapes list ``ne[0]`` first, as GGUF does: ``ne[0]`` is the row length, the *input* dimension of
  a linear weight, so a PyTorch ``Linear(in, out)`` weight ``[out, in]`` is ``(in, out)`` here, and
  the routed experts are ``(hidden, expert_ffn, experts)`` for gate/up and
  ``(expert_ffn, hidden, experts)`` for down. Quantization blocks run along ``ne[0]``.
- ``role`` is the :mod:`llmcalc.params` component the tensor belongs to (``attention``,
  ``dense_mlp``, ``routed_experts``, ``norms``, ``lm_head`` ...), so the tensors of a role add up to
  that component's count. q/k norms, MLA's latent norms and attention sinks belong to
  ``attention``, as in :func:`llmcalc.params.attention_params`.
- ``layer`` is the index of the layer within its stack, ``None`` for tensors outside the layers.
  :class:`~llmcalc.spec.LayerGroup` merges identical layers and so does not keep their order:
  indices are assigned group by group, in the order the groups are listed. For a model whose
  layers are all alike (every dense model llmcalc knows) that is the true order; for a model that
  mixes layer kinds (DeepSeek-V3's 3 dense then 58 MoE layers, Llama 4's interleaved dense and MoE
  layers, Gemma's sliding and global layers) the index of a given layer may differ from the
  checkpoint's. Only rules that depend on the layer index (llama.cpp's ``use_more_bits``) see it.

Invariant (tested for every preset and reference config): the tensors' elements add up to
:func:`llmcalc.params.count_params`'s total. A tied output head is not listed (the token
embedding serves as both). Non-learned buffers, such as llama.cpp's ``rope_freqs`` table, are not
parameters and are not listed here (see :func:`llmcalc.quant.gguf_extra_tensors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import prod

from llmcalc.spec import MLP, Attention, Indexer, LayerGroup, ModelSpec, MoE, Norm, Stack

#: Model types stored with one fused q/k/v projection, in the checkpoint and in llama.cpp's GGUF.
FUSED_QKV_MODEL_TYPES = frozenset({"gpt_neox", "bloom", "falcon", "phi3", "gpt2", "gpt_bigcode", "dbrx"})
#: Model types whose gated MLP stores gate and up as one ``ffn_up`` (Phi-3's ``gate_up_proj``).
FUSED_GATE_UP_MODEL_TYPES = frozenset({"phi3"})

#: Norm tensor names per layer for each placement (see :data:`llmcalc.spec.NORMS_PER_LAYER`).
_NORM_NAMES: dict[str, tuple[str, ...]] = {
    "pre": ("attn_norm", "ffn_norm"),
    "post": ("post_attention_norm", "post_ffw_norm"),
    "sandwich": ("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"),
    "parallel": ("attn_norm", "ffn_norm"),
    "parallel-shared": ("attn_norm",),
    "single": ("attn_norm",),
    "none": (),
}


@dataclass(frozen=True)
class Tensor:
    """One stored weight or bias: GGUF-style name, layer index (or ``None``), shape ``ne[0]`` first."""

    name: str
    layer: int | None
    shape: tuple[int, ...]
    role: str

    @property
    def n_elements(self) -> int:
        """Elements in the tensor: the product of its dimensions."""
        return prod(self.shape)

    @property
    def n_dims(self) -> int:
        return len(self.shape)


def _linear(out: list[Tensor], name: str, layer: int | None, role: str, n_in: int, n_out: int, *, bias: bool) -> None:
    """``name.weight`` of shape ``(in, out)`` and, with ``bias``, ``name.bias`` of ``(out,)``."""
    out.append(Tensor(f"{name}.weight", layer, (n_in, n_out), role))
    if bias:
        out.append(Tensor(f"{name}.bias", layer, (n_out,), role))


def _norm(out: list[Tensor], name: str, layer: int | None, role: str, norm: Norm, dim: int) -> None:
    """A norm's weight (and bias) over ``dim`` channels; nothing for a parameter-free norm."""
    if norm.kind == "none":
        return
    out.append(Tensor(f"{name}.weight", layer, (dim,), role))
    if norm.bias:
        out.append(Tensor(f"{name}.bias", layer, (dim,), role))


def _attention(
    out: list[Tensor],
    p: str,
    layer: int,
    attn: Attention,
    hidden: int,
    norm: Norm,
    *,
    cross: bool = False,
    fused: bool = False,
) -> None:
    """One attention block, mirroring :func:`llmcalc.params.attention_params` term by term."""
    role = "attention"
    mla = attn.mla
    if mla is not None:
        q_out = attn.num_heads * attn.head_dim
        if mla.q_lora_rank is None:
            _linear(out, p + "attn_q", layer, role, hidden, q_out, bias=False)
        else:
            _linear(out, p + "attn_q_a", layer, role, hidden, mla.q_lora_rank, bias=attn.qkv_bias)
            _norm(out, p + "attn_q_a_norm", layer, role, norm, mla.q_lora_rank)
            _linear(out, p + "attn_q_b", layer, role, mla.q_lora_rank, q_out, bias=False)
        _linear(
            out, p + "attn_kv_a_mqa", layer, role, hidden, mla.kv_lora_rank + mla.qk_rope_head_dim, bias=attn.qkv_bias
        )
        _norm(out, p + "attn_kv_a_norm", layer, role, norm, mla.kv_lora_rank)
        _linear(
            out,
            p + "attn_kv_b",
            layer,
            role,
            mla.kv_lora_rank,
            attn.num_heads * (mla.qk_nope_head_dim + mla.v_head_dim),
            bias=False,
        )
        _linear(out, p + "attn_output", layer, role, attn.num_heads * attn.v_head_dim, hidden, bias=attn.o_bias)
        return

    stem = "cross_attn_" if cross else "attn_"
    q_dim = attn.num_heads * attn.head_dim
    k_dim = attn.num_kv_heads * attn.head_dim
    v_dim = attn.num_kv_heads * attn.v_head_dim
    if fused and not cross:
        _linear(out, p + "attn_qkv", layer, role, hidden, q_dim + k_dim + v_dim, bias=attn.qkv_bias)
    else:
        _linear(out, p + stem + "q", layer, role, hidden, q_dim * (2 if attn.output_gate else 1), bias=attn.qkv_bias)
        k_bias = attn.qkv_bias if attn.k_bias is None else attn.k_bias
        if not attn.kv_shared:  # Gemma 3n's KV-sharing layers reuse an earlier layer's k and v
            _linear(out, p + stem + "k", layer, role, hidden, k_dim, bias=k_bias)
            _linear(out, p + stem + "v", layer, role, hidden, v_dim, bias=attn.qkv_bias)
    _linear(
        out,
        p + ("cross_attn_o" if cross else "attn_output"),
        layer,
        role,
        attn.o_input_dim or attn.num_heads * attn.v_head_dim,
        hidden,
        bias=attn.o_bias,
    )
    qk = attn.qk_norm_type or norm
    if attn.qk_norm == "head":
        _norm(out, p + stem + "q_norm", layer, role, qk, attn.head_dim)
        if not attn.kv_shared:
            _norm(out, p + stem + "k_norm", layer, role, qk, attn.head_dim)
    elif attn.qk_norm == "all-heads":
        _norm(out, p + stem + "q_norm", layer, role, qk, q_dim)
        if not attn.kv_shared:
            _norm(out, p + stem + "k_norm", layer, role, qk, k_dim)
    if attn.sinks:
        out.append(Tensor(p + stem + "sinks.weight", layer, (attn.num_heads,), role))


def _indexer(out: list[Tensor], p: str, layer: int, indexer: Indexer, hidden: int) -> None:
    """DeepSeek-V3.2's indexer, as :func:`llmcalc.params.indexer_params` (llama.cpp's ``indexer.*`` names)."""
    role, d, n = "indexer", indexer.head_dim, indexer.num_heads
    _linear(out, p + "indexer.attn_q_b", layer, role, indexer.q_input_dim, n * d, bias=False)
    _linear(out, p + "indexer.attn_k", layer, role, hidden, d, bias=False)
    _norm(out, p + "indexer.k_norm", layer, role, Norm("layernorm", bias=True), d)
    _linear(out, p + "indexer.proj", layer, role, hidden, n, bias=False)


def _mlp(
    out: list[Tensor], p: str, suffix: str, layer: int, mlp: MLP, hidden: int, role: str, *, fused: bool = False
) -> None:
    """A feed-forward block: ``ffn_gate`` (when gated), ``ffn_up``, ``ffn_down`` (+ ``suffix``).

    ``fused``: a gated MLP whose gate and up are one ``ffn_up`` of ``2 x intermediate`` outputs.
    """
    inter = mlp.intermediate_size
    if mlp.gated and fused:
        _linear(out, f"{p}ffn_up{suffix}", layer, role, hidden, 2 * inter, bias=mlp.bias)
        _linear(out, f"{p}ffn_down{suffix}", layer, role, inter, hidden, bias=mlp.bias)
        return
    if mlp.gated:
        _linear(out, f"{p}ffn_gate{suffix}", layer, role, hidden, inter, bias=mlp.bias)
    _linear(out, f"{p}ffn_up{suffix}", layer, role, hidden, inter, bias=mlp.bias)
    _linear(out, f"{p}ffn_down{suffix}", layer, role, inter, hidden, bias=mlp.bias)
    if mlp.activation_params:  # Apertus's xIELU alpha_p, alpha_n
        out.append(Tensor(f"{p}ffn_act{suffix}.weight", layer, (mlp.activation_params,), role))


def _experts(out: list[Tensor], p: str, layer: int, moe: MoE, hidden: int) -> None:
    """Router, the routed experts as 3-D tensors ``(ne0, ne1, experts)``, then the shared expert."""
    e, inter, role = moe.num_experts, moe.expert.intermediate_size, "routed_experts"
    _linear(out, p + "ffn_gate_inp", layer, "router", hidden, e + moe.zero_experts, bias=moe.router_bias)
    names = ("ffn_gate_exps", "ffn_up_exps") if moe.expert.gated else ("ffn_up_exps",)
    model_hidden, hidden = hidden, moe.latent_size or hidden  # Nemotron-H latent experts
    # transformers sizes gate/up for LongCat-Flash's zero experts too (params.zero_expert_params).
    for name in names:
        out.append(Tensor(f"{p}{name}.weight", layer, (hidden, inter, e + moe.zero_experts), role))
        if moe.expert.bias:
            out.append(Tensor(f"{p}{name}.bias", layer, (inter, e + moe.zero_experts), role))
    out.append(Tensor(f"{p}ffn_down_exps.weight", layer, (inter, hidden, e), role))
    if moe.expert.bias:
        out.append(Tensor(f"{p}ffn_down_exps.bias", layer, (hidden, e), role))
    hidden = model_hidden
    if moe.shared_expert is not None:
        if moe.shared_expert_gate:
            out.append(Tensor(p + "ffn_gate_inp_shexp.weight", layer, (hidden,), "shared_experts"))
        _mlp(out, p, "_shexp", layer, moe.shared_expert, hidden, "shared_experts")


def _layer(
    out: list[Tensor], p: str, layer: int, group: LayerGroup, hidden: int, norm: Norm, model_type: str
) -> None:
    """One transformer layer: norms, attention (and cross-attention), then the MLP or MoE block."""
    names = _NORM_NAMES[group.norm_placement]
    if names:
        _norm(out, p + names[0], layer, "norms", norm, hidden)
    if group.attention is not None and not group.shared_attention:
        _attention(out, p, layer, group.attention, hidden, norm, fused=model_type in FUSED_QKV_MODEL_TYPES)
        if group.attention.indexer is not None:
            _indexer(out, p, layer, group.attention.indexer, hidden)
    if group.mixer is not None:
        role = group.mixer.component
        out.extend(Tensor(p + w.name, layer, w.shape, role) for w in group.mixer.weights(hidden))
    out.extend(Tensor(p + x.name, layer, x.shape, x.component) for x in group.extras)
    if group.cross_attention is not None:
        _norm(out, p + "cross_attn_norm", layer, "norms", norm, hidden)
        _attention(out, p, layer, group.cross_attention, hidden, norm, cross=True)
    for name in names[1:]:
        _norm(out, p + name, layer, "norms", norm, hidden)
    if group.mlp is not None:
        _mlp(out, p, "", layer, group.mlp, hidden, "dense_mlp", fused=model_type in FUSED_GATE_UP_MODEL_TYPES)
    if group.moe is not None:
        _experts(out, p, layer, group.moe, hidden)
    if group.gate_params:  # Mllama's cross-attention gates (one scalar each for attention and MLP)
        out.append(Tensor(p + "cross_attn_gates", layer, (group.gate_params,), "attention"))


def _stack(out: list[Tensor], stack: Stack, prefix: str, hidden: int, norm: Norm, model_type: str) -> None:
    """All layers of a stack, indexed group by group, then T5's relative bias and the final norm."""
    index = 0
    for group in stack.groups:
        for _ in range(group.count):
            _layer(out, f"{prefix}blk.{index}.", index, group, hidden, norm, model_type)
            index += 1
    first = stack.first_attention
    if stack.relative_attention_buckets and first is not None:
        heads = first.num_heads
        out.append(
            Tensor(
                f"{prefix}blk.0.attn_rel_b.weight",
                0,
                (heads, stack.relative_attention_buckets),
                "relative_position_bias",
            )
        )
    if stack.final_norm:
        _norm(out, prefix + "output_norm", None, "norms", norm, hidden)


@lru_cache(maxsize=64)
def weight_tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    """Every stored weight and bias of ``spec``'s language model, in the order embedding, layers,
    final norm, head.

    The shapes follow the same formulas as :mod:`llmcalc.params`, so that
    ``sum(t.n_elements for t in weight_tensors(spec)) == count_params(spec).language_params`` and
    the tensors of each role add up to that component. A multimodal model's towers are not listed:
    llama.cpp keeps them in a separate ``mmproj`` file, and their parameters are in
    :attr:`llmcalc.spec.ModelSpec.towers`. Pure: a spec in, a tuple out (cached: specs are frozen,
    and memory reports, GGUF mixes and the allocator model list the same tensors).
    """
    h = spec.hidden_size
    d_embed = spec.embedding_dim or h
    rows = spec.vocab_size + spec.embedding_extra_rows
    out: list[Tensor] = [Tensor("token_embd.weight", None, (d_embed, rows), "token_embedding")]
    if spec.token_type_vocab_size:
        out.append(Tensor("token_types.weight", None, (h, spec.token_type_vocab_size), "token_type_embedding"))
    if spec.positional.table_rows:
        out.append(Tensor("position_embd.weight", None, (h, spec.positional.table_rows), "positional_embedding"))
    if spec.embedding_norm:
        _norm(out, "token_embd_norm", None, "norms", spec.norm, h)
    if d_embed != h:
        _linear(out, "proj_in", None, "embedding_projection", d_embed, h, bias=False)
    for stack in spec.stacks:
        prefix = {"encoder": "enc.", "decoder": "dec."}[stack.role] if len(spec.stacks) > 1 else ""
        _stack(out, stack, prefix, h, spec.norm, spec.model_type)
    if d_embed != h:
        _linear(out, "proj_out", None, "embedding_projection", h, d_embed, bias=False)
    if spec.pooler:
        _linear(out, "pooler", None, "pooler", h, h, bias=True)
    out.extend(Tensor(x.name, None, x.shape, x.component) for x in spec.extras)
    if spec.lm_head == "untied":
        _linear(out, "output", None, "lm_head", d_embed, spec.vocab_size, bias=spec.lm_head_bias)
    elif spec.lm_head == "tied" and spec.lm_head_bias:  # the weight is the embedding's, the bias its own
        out.append(Tensor("output.bias", None, (spec.vocab_size,), "lm_head"))
    return tuple(out)


def _split_kv_b(t: Tensor, attn: Attention) -> tuple[Tensor, Tensor]:
    """MLA's ``attn_kv_b`` as llama.cpp's converter writes it: ``attn_k_b`` and ``attn_v_b``.

    ``DeepseekV2Model.modify_tensors`` (convert_hf_to_gguf.py, conversion/deepseek.py) views
    ``kv_b_proj`` ``[H x (nope + v), r]`` as ``[H, nope + v, r]``, splits it into k ``[H, nope, r]``
    and v ``[H, v, r]``, and transposes k per head to ``[H, r, nope]``. In GGUF order (``ne[0]``
    first) that is ``attn_k_b`` ``(nope, r, H)`` and ``attn_v_b`` ``(r, v, H)``: the same elements.
    """
    mla = attn.mla
    assert mla is not None
    r, h = mla.kv_lora_rank, attn.num_heads
    stem = t.name.removesuffix("attn_kv_b.weight")
    return (
        Tensor(stem + "attn_k_b.weight", t.layer, (mla.qk_nope_head_dim, r, h), t.role),
        Tensor(stem + "attn_v_b.weight", t.layer, (r, mla.v_head_dim, h), t.role),
    )


@lru_cache(maxsize=64)
def gguf_tensors(spec: ModelSpec, *, stored_output_head: bool = False) -> tuple[Tensor, ...]:
    """The tensors of a GGUF file of ``spec`` as llama.cpp's converter writes them.

    :func:`weight_tensors` with two differences: MLA's ``attn_kv_b`` split into ``attn_k_b`` and
    ``attn_v_b`` (:func:`_split_kv_b`), and, when ``stored_output_head`` says the checkpoint stores
    an output head although its config ties it (Qwen3-0.6B's ``lm_head.weight``), that head as
    ``output.weight`` (role ``stored_output_head``: a copy, not a parameter). The converter writes
    every tensor the checkpoint holds (``ModelBase.prepare_tensors``), and llama-quantize decides
    tying from the tensors: ``has_tied_embeddings`` stays true until it sees ``output.weight``
    (``init_quantize_state_counters`` in src/llama-quant.cpp).
    """
    attn_of = {}
    index = 0
    for stack in spec.stacks[-1:] if len(spec.stacks) == 1 else ():
        for group in stack.groups:
            for _ in range(group.count):
                attn_of[index] = group.attention
                index += 1
    out: list[Tensor] = []
    for t in weight_tensors(spec):
        attn = attn_of.get(t.layer) if t.layer is not None else None
        if t.name.endswith("attn_kv_b.weight") and attn is not None and attn.mla is not None:
            out.extend(_split_kv_b(t, attn))
        else:
            out.append(t)
    if stored_output_head and spec.lm_head == "tied":
        d_embed = spec.embedding_dim or spec.hidden_size
        out.append(Tensor("output.weight", None, (d_embed, spec.vocab_size), "stored_output_head"))
    return tuple(out)


__all__ = ["FUSED_GATE_UP_MODEL_TYPES", "FUSED_QKV_MODEL_TYPES", "Tensor", "gguf_tensors", "weight_tensors"]
