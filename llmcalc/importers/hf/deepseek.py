"""DeepSeek-V2/V3/V3.2 and Kimi K2: MLA attention, dense first-k layers, shared and routed experts;
V3.2 adds the DSA lightning indexer to every attention block.

Reference: transformers ``models/deepseek_v3/modeling_deepseek_v3.py`` and
``models/deepseek_v32/modeling_deepseek_v32.py`` (5.24).
"""

from __future__ import annotations

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import decoder_spec, mla_attention, mla_dims, rope, with_defaults
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    MLP,
    Indexer,
    LayerGroup,
    ModelSpec,
    MoE,
    Norm,
)


def deepseek(f: Fields, name: str, mt: str) -> ModelSpec:
    """DeepSeek-V2/V3 and Kimi K2: MLA attention, dense first-k layers, shared + routed experts.

    transformers 5.24's ``DeepseekV2Attention`` / ``DeepseekV3Attention`` update the cache with the
    compressed latent (``kv_nope`` of ``kv_lora_rank`` and ``k_rot`` of ``qk_rope_head_dim``) before
    ``expand_kv``, so the hf engine caches the latent, as vLLM and llama.cpp do (measured:
    benchmarks/measure_text_cache.py). Kimi K2 (``model_type: kimi_k2``) is not a transformers model:
    it runs its checkpoint's remote code, DeepSeek's original ``modeling_deepseek.py``, which caches
    the expanded per-head K and V, so it keeps the expanded figure.
    """
    return _deepseek(f, name, mt, hf_caches_latent=mt in ("deepseek_v2", "deepseek_v3"))


def deepseek_v32(f: Fields, name: str, mt: str) -> ModelSpec:
    """DeepSeek-V3.2 (``DeepseekV32ForCausalLM``): DeepSeek-V3 plus a lightning indexer per layer.

    The indexer (``DeepseekV32Indexer``) has ``index_n_heads`` (default 64) heads of
    ``index_head_dim`` (default 128) reading the MLA query latent (``q_lora_rank``, required: the
    class has no direct-query form), and keeps ``index_topk`` (default 2048) tokens. MoE layers are
    those ``mlp_layer_types`` marks ``sparse``; without it, all but the first
    ``first_k_dense_replace`` (default 3). ``moe_layer_freq`` is not read by this class.
    transformers caches the MLA latent (``kv_lora_rank + qk_rope_head_dim`` per token) and the
    indexer keys (measured: benchmarks/measure_text_cache.py).
    """
    f = with_defaults(
        f,
        intermediate_size=18432,
        moe_intermediate_size=2048,
        n_shared_experts=1,
        n_routed_experts=256,
        num_experts_per_tok=8,
        kv_lora_rank=512,
        q_lora_rank=1536,
        qk_rope_head_dim=64,
        qk_nope_head_dim=128,
        v_head_dim=128,
    )
    n = f.integer("num_hidden_layers")
    types = f.str_list("mlp_layer_types")
    if types is not None and len(types) != n:
        f.errors.append(f"field 'mlp_layer_types' has {len(types)} entries for {n} layers")
        types = None
    if types is None:
        first = min(f.integer("first_k_dense_replace", default=3, minimum=0), n)
        types = ["dense"] * first + ["sparse"] * (n - first)
    q_rank = f.integer("q_lora_rank", default=1536)
    try:
        indexer = Indexer(
            num_heads=f.integer("index_n_heads", default=64),
            head_dim=f.integer("index_head_dim", default=128),
            q_input_dim=q_rank,
            topk=f.integer("index_topk", default=2048),
        )
    except SpecError as exc:
        f.errors.append(str(exc))
        indexer = None
    sparse = [t == "sparse" for t in types]
    return _deepseek(f, name, mt, sparse_layers=sparse, indexer=indexer, q_rank_default=q_rank, hf_caches_latent=True)


def _deepseek(
    f: Fields,
    name: str,
    mt: str,
    *,
    sparse_layers: list[bool] | None = None,
    indexer: Indexer | None = None,
    q_rank_default: int | None = None,
    hf_caches_latent: bool = False,
) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    n_layers = f.integer("num_hidden_layers")
    vocab = f.integer("vocab_size")
    dims = mla_dims(f)
    q_rank = f.opt_int("q_lora_rank") or q_rank_default
    bias = f.boolean("attention_bias", default=False)
    dense = MLP(f.integer("intermediate_size"))
    n_routed = f.opt_int("n_routed_experts")
    first_dense = f.integer("first_k_dense_replace", default=0, minimum=0)
    freq = f.integer("moe_layer_freq", default=1)
    moe = None
    if n_routed:
        moe_inter = f.integer("moe_intermediate_size")
        n_shared = f.integer("n_shared_experts", default=0, minimum=0)
        k = f.integer("num_experts_per_tok")
        if not f.errors:
            try:
                moe = MoE(
                    num_experts=n_routed,
                    experts_per_token=k,
                    expert=MLP(moe_inter),
                    shared_expert=MLP(moe_inter * n_shared) if n_shared else None,
                )
            except SpecError as exc:
                f.errors.append(str(exc))
    positional = rope(f, rotary_dim=dims[1], max_pos=f.opt_int("max_position_embeddings"))
    mtp = f.integer("num_nextn_predict_layers", default=0, minimum=0)
    f.check()
    attention = mla_attention(dims, heads=heads, q_rank=q_rank, bias=bias, hf_caches_latent=hf_caches_latent,
                              indexer=indexer)

    def layer(i: int) -> LayerGroup:
        if sparse_layers is not None:
            sparse = moe is not None and sparse_layers[i]
        else:
            sparse = moe is not None and i >= first_dense and i % freq == 0
        return LayerGroup(1, attention, mlp=None if sparse else dense, moe=moe if sparse else None)

    return decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=layer,
        positional=positional,
        norm=Norm("rmsnorm"),
        tie_default=False,
        mtp_layers=mtp,
    )
