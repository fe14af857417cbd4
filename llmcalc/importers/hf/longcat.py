"""Meituan LongCat-Flash (``longcat_flash``): shortcut-connected MoE with zero-computation experts.

Reference: transformers ``models/longcat_flash/modeling_longcat_flash.py`` and
``configuration_longcat_flash.py`` (5.24); LongCat-Flash technical report (arXiv 2509.01322),
section 2. Each of the ``num_layers`` logical layers (``LongcatFlashDecoderLayer``) holds:

- two MLA attention sublayers (``self_attn[0]``, ``self_attn[1]``, DeepSeek-V3's MLA: q/kv LoRA
  ranks, their RMSNorms, ``o_proj``; q/kv-a and o biased by ``attention_bias``), each with its own
  pre-norm (``input_layernorm[i]``);
- two dense SwiGLU MLPs of ``ffn_hidden_size`` (``mlps[i]``), each after its own
  ``post_attention_layernorm[i]``;
- one MoE block on the shortcut (``mlp``): ``n_routed_experts`` experts of
  ``expert_ffn_hidden_size``, ``zero_expert_num`` identity experts, top ``moe_topk`` of both, and a
  router (``classifier``) of ``(E + Z) x H`` (bias when ``router_bias``; its
  ``e_score_correction_bias`` is a buffer). No shared expert.

llmcalc writes one logical layer as three layers: attention + the MoE block, attention + a dense
MLP (two norms each), and the second dense MLP alone (no norm of its own), so the spec shows
``3 x num_layers`` layers of which ``2 x num_layers`` attend (what the breakdown, the KV cache and
the tensor list need; layer order does not matter to any formula). Where transformers and the
checkpoint differ: transformers sizes the experts' fused ``gate_up_proj`` for ``E + Z`` experts
(``down_proj`` for ``E``), so it holds ``Z x 2 x expert_ffn x H`` unused weights per MoE layer that
the released checkpoint does not; llmcalc follows transformers (``params.zero_expert_params``)
and counts those weights as never active. Active parameters assume every routed slot goes to a
real expert (the most a token can use; the report's 18.6B-31.3B range comes from tokens choosing
zero experts).
"""

from __future__ import annotations

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import decoder_spec, mla_attention, mla_dims, rope, with_defaults
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import MLP, LayerGroup, ModelSpec, MoE, Norm


def longcat_flash(f: Fields, name: str, mt: str) -> ModelSpec:
    """LongCat-Flash (``LongcatFlashForCausalLM``), with the config class's defaults."""
    f = with_defaults(
        f,
        hidden_size=6144,
        num_attention_heads=64,
        ffn_hidden_size=12288,
        q_lora_rank=1536,
        kv_lora_rank=512,
        qk_nope_head_dim=128,
        qk_rope_head_dim=64,
        v_head_dim=128,
        moe_topk=12,
        n_routed_experts=512,
        zero_expert_num=256,
        expert_ffn_hidden_size=2048,
        vocab_size=131072,
    )
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    if f.has("num_layers"):
        n_layers = f.integer("num_layers")
    else:
        n_layers = f.integer("num_hidden_layers", default=56) // 2
    vocab = f.integer("vocab_size")
    dims = mla_dims(f)
    q_rank = f.integer("q_lora_rank")
    bias = f.boolean("attention_bias", default=False)
    dense = MLP(f.integer("ffn_hidden_size", "intermediate_size"))
    experts = f.integer("n_routed_experts", "num_local_experts")
    zero = f.integer("zero_expert_num", default=0, minimum=0)
    k = f.integer("moe_topk", "num_experts_per_tok")
    expert_inter = f.integer("expert_ffn_hidden_size")
    router_bias = f.boolean("router_bias", default=False)
    positional = rope(f, rotary_dim=dims[1], max_pos=f.opt_int("max_position_embeddings"))
    f.check()
    try:
        moe = MoE(
            num_experts=experts,
            experts_per_token=k,
            expert=MLP(expert_inter),
            router_bias=router_bias,
            zero_experts=zero,
        )
    except SpecError as exc:
        raise SpecError(f"{f.source}: {exc}") from None
    # hf_caches_latent: cache.update before expand_kv (measured: measure_text_cache.py)
    attention = mla_attention(dims, heads=heads, q_rank=q_rank, bias=bias, hf_caches_latent=True)

    def layer(i: int) -> LayerGroup:
        # Logical layer j is sublayers 3j (attention + the MoE shortcut), 3j + 1 (attention + the
        # first dense MLP) and 3j + 2 (the second dense MLP alone; its norm is counted in 3j + 1).
        if i % 3 == 0:
            return LayerGroup(1, attention, moe=moe)
        if i % 3 == 1:
            return LayerGroup(1, attention, mlp=dense)
        return LayerGroup(1, None, mlp=dense, norm_placement="none")

    return decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=3 * n_layers,
        make_layer=layer,
        positional=positional,
        norm=Norm("rmsnorm"),
        tie_default=False,
    )
