"""Linear-attention, recurrent and convolution hybrids: Qwen3-Next, Kimi Linear, MiniMax-Text-01,
LFM2 (and LFM2-MoE), RecurrentGemma.

Reference: transformers 5.24 ``models/<model_type>/modeling_<model_type>.py`` with the defaults of
``configuration_<model_type>.py``. Layer patterns:

- Qwen3-Next: ``layer_types``, else full attention every ``full_attention_interval`` (4) layers;
  MoE where ``i`` is not in ``mlp_only_layers`` and ``(i + 1) % decoder_sparse_step == 0``.
  Full attention has q/k head norms and an output gate (q doubled).
- Kimi Linear: ``layer_types``, else ``linear_attn_config``'s 1-based ``full_attn_layers`` /
  ``kda_layers``, else full attention where ``i > 0 and i % 4 == 0``; dense MLP in the first
  ``first_k_dense_replace`` (1) layers (or ``mlp_layer_types``). Full attention is MLA.
- MiniMax: ``layer_types``, else full attention on even layers (transformers ignores the original
  checkpoint's ``attn_type_list``); every layer an MoE.
- LFM2: ``layer_types``, else full attention at ``full_attn_idxs`` (default all); ``tie_embedding``
  and ``block_ff_dim`` override ``tie_word_embeddings`` / ``intermediate_size``; the final norm is
  ``embedding_norm``. LFM2-MoE: dense MLPs in the first ``num_dense_layers`` layers.
- RecurrentGemma: ``block_types`` repeated to the depth (``recurrent`` -> RG-LRU block, else
  local attention of ``attention_window_size``); MLPs of ``intermediate_size / 2`` with biases.
"""

from __future__ import annotations

from collections.abc import Mapping

from llmcalc.importers.hf.common import decoder_spec, rope, simple_moe
from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.hybrid import attention
from llmcalc.importers.hf.ssm import layer_kinds, never_tied
from llmcalc.mixers.deltanet import GatedDeltaNet
from llmcalc.mixers.kda import KimiDeltaAttention
from llmcalc.mixers.lightning import LightningAttention
from llmcalc.mixers.rglru import RGLRU
from llmcalc.mixers.shortconv import ShortConv
from llmcalc.spec import MLA, MLP, Attention, LayerGroup, ModelSpec, MoE, Norm, Positional


def _positional(f: Fields, default: int) -> Positional:
    return rope(f, max_pos=f.integer("max_position_embeddings", default=default))


def qwen3_next(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=2048)
    n = f.integer("num_hidden_layers", default=48)
    base = attention(f, hidden, heads_default=16, kv_default=2, head_dim_default=256)
    attn = Attention(base.num_heads, base.num_kv_heads, base.head_dim, base.head_dim, qkv_bias=base.qkv_bias,
                     o_bias=base.o_bias, qk_norm="head", output_gate=True)
    interval = f.integer("full_attention_interval", default=4)
    kinds = layer_kinds(f, "layer_types", n, ["linear_attention" if (i + 1) % interval else "full_attention"
                                              for i in range(n)])
    mixer = GatedDeltaNet(
        num_k_heads=f.integer("linear_num_key_heads", default=16),
        num_v_heads=f.integer("linear_num_value_heads", default=32),
        head_k_dim=f.integer("linear_key_head_dim", default=128),
        head_v_dim=f.integer("linear_value_head_dim", default=128),
        d_conv=f.integer("linear_conv_kernel_dim", default=4),
    )
    experts = f.integer("num_experts", default=512, minimum=0)
    step = f.integer("decoder_sparse_step", default=1)
    dense_only = set(f.int_list("mlp_only_layers"))
    dense = MLP(f.integer("intermediate_size", default=5632))
    moe = None
    if experts:
        shared = MLP(f.integer("shared_expert_intermediate_size", default=512))
        moe = MoE(experts, f.integer("num_experts_per_tok", default=10),
                  MLP(f.integer("moe_intermediate_size", default=512)), shared_expert=shared, shared_expert_gate=True)
    f.check()

    def layer(i: int) -> LayerGroup:
        sparse = moe is not None and i not in dense_only and (i + 1) % step == 0
        full = kinds[i] == "full_attention"
        return LayerGroup(1, attn if full else None, mixer=None if full else mixer,
                          mlp=None if sparse else dense, moe=moe if sparse else None)

    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=151936),
                        n_layers=n, make_layer=layer, positional=_positional(f, 32768), norm=Norm("rmsnorm"),
                        tie_default=False)


def kimi_linear(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=2304)
    n = f.integer("num_hidden_layers", default=27)
    heads = f.integer("num_attention_heads", default=32)
    raw = f.data.get("linear_attn_config") or {}
    lin = Fields(raw if isinstance(raw, Mapping) else {}, f"{f.source} linear_attn_config")
    mixer = KimiDeltaAttention(
        num_heads=lin.integer("num_heads", default=f.integer("linear_num_heads", default=32)),
        head_dim=lin.integer("head_dim", default=f.integer("linear_head_dim", default=128)),
        d_conv=lin.integer("short_conv_kernel_size", default=f.integer("linear_conv_kernel_dim", default=4)),
    )
    default = ["full_attention" if i and i % 4 == 0 else "linear_attention" for i in range(n)]
    full_at, kda_at = lin.int_list("full_attn_layers"), lin.int_list("kda_layers")
    if full_at and kda_at:
        default = ["linear_attention" if i + 1 in kda_at else "full_attention" if i + 1 in full_at else "?"
                   for i in range(n)]
    kinds = layer_kinds(f, "layer_types", n, default)
    if "?" in kinds:
        f.errors.append("linear_attn_config: full_attn_layers and kda_layers do not cover every layer")
    first_dense = f.integer("first_k_dense_replace", default=1, minimum=0)
    mlp_kinds = f.str_list("mlp_layer_types") or ["dense" if i < first_dense else "sparse" for i in range(n)]
    rope_dim = f.integer("qk_rope_head_dim", default=64)
    nope = f.integer("qk_nope_head_dim", default=128)
    v_dim = f.integer("v_head_dim", default=128)
    q_lora = f.opt_int("q_lora_rank")
    bias = f.boolean("attention_bias", default=False)
    mla = MLA(kv_lora_rank=f.integer("kv_lora_rank", default=512), qk_nope_head_dim=nope, qk_rope_head_dim=rope_dim,
              v_head_dim=v_dim, q_lora_rank=q_lora, hf_caches_latent=True)
    attn = Attention(heads, heads, nope + rope_dim, v_dim, qkv_bias=bias, o_bias=bias, mla=mla)
    dense = MLP(f.integer("intermediate_size", default=9216))
    moe_inter = f.integer("moe_intermediate_size", default=1024)
    n_shared = f.integer("n_shared_experts", "num_shared_experts", default=1, minimum=0)
    moe = MoE(f.integer("num_local_experts", "num_experts", default=256),
              f.integer("num_experts_per_tok", "num_experts_per_token", default=8), MLP(moe_inter),
              shared_expert=MLP(moe_inter * n_shared) if n_shared else None)
    f.errors += lin.errors
    f.check()

    def layer(i: int) -> LayerGroup:
        full = kinds[i] == "full_attention"
        sparse = mlp_kinds[i] == "sparse"
        return LayerGroup(1, attn if full else None, mixer=None if full else mixer,
                          mlp=None if sparse else dense, moe=moe if sparse else None)

    return decoder_spec(never_tied(f), name=name, model_type=mt, hidden=hidden,
                        vocab=f.integer("vocab_size", default=163840),
                        n_layers=n, make_layer=layer,
                        positional=rope(f, max_pos=f.opt_int("max_position_embeddings", "model_max_length")),
                        norm=Norm("rmsnorm"), tie_default=False)


def minimax(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=4096)
    n = f.integer("num_hidden_layers", default=32)
    attn = attention(f, hidden, heads_default=32, kv_default=8, bias_key=None)
    kinds = layer_kinds(f, "layer_types", n, ["full_attention" if (i + 1) % 2 else "linear_attention"
                                              for i in range(n)])
    mixer = LightningAttention(attn.num_heads, attn.head_dim)
    moe = simple_moe(f, "num_local_experts", "intermediate_size")
    f.check()

    def layer(i: int) -> LayerGroup:
        full = kinds[i] == "full_attention"
        return LayerGroup(1, attn if full else None, mixer=None if full else mixer, moe=moe)

    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=32000),
                        n_layers=n, make_layer=layer, positional=_positional(f, 131072), norm=Norm("rmsnorm"),
                        tie_default=False)


def _lfm2_ff(f: Fields, inter: int) -> int:
    """``Lfm2MLP``: ``int(2 I / 3)``, times ``block_ffn_dim_multiplier`` rounded up to ``block_multiple_of``."""
    if not f.boolean("block_auto_adjust_ff_dim", default=True):
        return inter
    inter = int(2 * inter / 3)
    explicit_null = "block_ffn_dim_multiplier" in f.data and f.data["block_ffn_dim_multiplier"] is None
    multiplier = None if explicit_null else f.number("block_ffn_dim_multiplier", default=1.0)
    if multiplier is not None:
        step = f.integer("block_multiple_of", default=256)
        inter = step * ((int(multiplier * inter) + step - 1) // step)
    return inter


def _lfm2(f: Fields, name: str, mt: str, *, moe_model: bool) -> ModelSpec:
    hidden = f.integer("hidden_size", default=2048 if moe_model else 2560)
    n = f.integer("num_hidden_layers", default=32)
    base = attention(f, hidden, heads_default=32, kv_default=8, bias_key=None)
    attn = Attention(base.num_heads, base.num_kv_heads, base.head_dim, base.head_dim, qk_norm="head")
    if moe_model:
        default = None
    else:
        full = set(f.int_list("full_attn_idxs")) if f.has("full_attn_idxs") else set(range(n))
        default = ["full_attention" if i in full else "conv" for i in range(n)]
    kinds = layer_kinds(f, "layer_types", n, default or [])
    if not kinds:
        f.errors.append("missing required field 'layer_types'")
    conv = ShortConv(hidden, f.integer("conv_L_cache", default=3), bias=f.boolean("conv_bias", default=False))
    inter = f.integer("block_ff_dim", "intermediate_size", default=7168 if moe_model else 12288)
    dense = MLP(inter if moe_model else _lfm2_ff(f, inter))
    first_dense = f.integer("num_dense_layers", default=2, minimum=0) if moe_model else n
    moe = simple_moe(f, "num_experts", "moe_intermediate_size") if moe_model else None
    tie = f.boolean("tie_embedding", default=f.boolean("tie_word_embeddings", default=True))
    f.check()

    def layer(i: int) -> LayerGroup:
        is_attn = kinds[i] == "full_attention"
        sparse = moe is not None and i >= first_dense
        return LayerGroup(1, attn if is_attn else None, mixer=None if is_attn else conv,
                          mlp=None if sparse else dense, moe=moe if sparse else None)

    data = dict(f.data)
    data["tie_word_embeddings"] = tie
    g = Fields(data, f.source)
    g.errors, g.assumptions = f.errors, f.assumptions
    return decoder_spec(g, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=65536),
                        n_layers=n, make_layer=layer, positional=_positional(f, 128000), norm=Norm("rmsnorm"),
                        tie_default=True)


def lfm2(f: Fields, name: str, mt: str) -> ModelSpec:
    return _lfm2(f, name, mt, moe_model=False)


def lfm2_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    return _lfm2(f, name, mt, moe_model=True)


def recurrent_gemma(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=2560)
    n = f.integer("num_hidden_layers", default=26)
    heads = f.integer("num_attention_heads", default=10)
    kv = f.integer("num_key_value_heads", default=heads)
    # RecurrentGemmaConfig sets head_dim = hidden // heads, but a config.json value is applied after
    head_dim = f.integer("head_dim", default=hidden // heads)
    bias = f.boolean("attention_bias", default=False)
    window = f.integer("attention_window_size", default=2048)
    attn = Attention(heads, kv, max(head_dim, 1), max(head_dim, 1), qkv_bias=bias, o_bias=True,
                     sliding_window=window)
    types = f.str_list("block_types") or ["recurrent", "recurrent", "attention"]
    kinds = (types * (n // max(len(types), 1) + 1))[:n]
    mixer = RGLRU(f.integer("lru_width", default=hidden), heads, f.integer("conv1d_width", default=4))
    mlp = MLP(f.integer("intermediate_size", default=3 * 2560) // 2, bias=True)
    f.check()

    def layer(i: int) -> LayerGroup:
        rec = kinds[i] == "recurrent"
        return LayerGroup(1, None if rec else attn, mixer=mixer if rec else None, mlp=mlp)

    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=256000),
                        n_layers=n, make_layer=layer, positional=_positional(f, 8192), norm=Norm("rmsnorm"),
                        tie_default=True)
