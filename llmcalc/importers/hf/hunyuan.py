"""Tencent Hunyuan: dense (``hunyuan_v1_dense``) and MoE (``hunyuan_v1_moe``, Hunyuan-A13B) models.

Reference: transformers ``models/hunyuan_v1_dense/modeling_hunyuan_v1_dense.py`` and
``models/hunyuan_v1_moe/modeling_hunyuan_v1_moe.py`` (5.24). Both keep q/k RMSNorms of ``head_dim``
(``query_layernorm``, ``key_layernorm``) in every layer and bias q/k/v/o by ``attention_bias``.

transformers and the released Hunyuan-A13B checkpoint disagree: the checkpoint's config lists
``moe_intermediate_size`` and ``num_shared_expert`` (per layer), while transformers' MoE block
builds every routed expert and its one shared MLP with ``intermediate_size`` and reads neither
key. llmcalc follows transformers (what ``from_pretrained`` builds); a config whose
``moe_intermediate_size`` differs from ``intermediate_size`` gets a warning saying so.
"""

from __future__ import annotations

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import llama_like
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import MLP, ModelSpec, MoE


def hunyuan_v1_dense(f: Fields, name: str, mt: str) -> ModelSpec:
    """Hunyuan dense (``HunYuanDenseV1ForCausalLM``): Llama-shaped plus per-head q/k norms."""
    return llama_like(f, name, mt, qk_norm="head", sliding=False)


def hunyuan_v1_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    """Hunyuan MoE (``HunYuanMoEV1ForCausalLM``): every layer has ``num_experts`` routed experts
    (top ``moe_topk``) and one always-on shared MLP, all of ``intermediate_size``, and a bias-free
    router (``wg``) of ``E x H``. Per-layer lists of ``num_experts`` are refused (transformers
    sizes the experts from one number)."""
    experts = f.integer("num_experts", "num_local_experts", default=1)
    topk = f.data.get("moe_topk")
    if (isinstance(topk, list) and topk and all(isinstance(x, int) and not isinstance(x, bool) for x in topk)
            and len(set(topk)) == 1):
        k = topk[0]
    else:
        k = f.integer("moe_topk", "num_experts_per_tok", default=1)
    inter = f.integer("intermediate_size")
    moe_inter = f.data.get("moe_intermediate_size")
    if isinstance(moe_inter, list) and moe_inter:
        moe_inter = moe_inter[0]
    if isinstance(moe_inter, int) and moe_inter != inter:
        f.assumptions.append(
            f"hunyuan_v1_moe: transformers builds the experts with intermediate_size ({inter}) and ignores "
            f"moe_intermediate_size ({moe_inter}); counted as transformers builds it"
        )
    moe = None
    if not f.errors:
        try:
            moe = MoE(num_experts=experts, experts_per_token=k, expert=MLP(inter), shared_expert=MLP(inter))
        except SpecError as exc:
            f.errors.append(str(exc))
    return llama_like(f, name, mt, qk_norm="head", sliding=False, moe_at=lambda i: moe)
