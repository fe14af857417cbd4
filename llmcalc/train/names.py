"""PyTorch module names of each model family, as Hugging Face transformers 5.24 builds them.

PEFT matches ``target_modules`` against these names (``peft/tuners/tuners_utils.py``,
``check_target_module_exists``: a module whose full name equals a target or ends in ``.target``),
so LoRA counts need them. This file is data only: one :class:`ModuleNames` per family, read by
:mod:`llmcalc.train.modules`. Paths are relative: ``layers`` is the prefix of the layer list (the
layer index follows it), the other entries are paths inside one layer (``""`` parts are dropped).

Checked against ``model.named_modules()`` of the meta-device models built from every preset's
config (``benchmarks/peft_counts.py``). MoE experts: transformers 5.x stores a layer's routed
experts as fused 3-D ``nn.Parameter`` s (``experts.gate_up_proj`` ``(E, 2I, H)`` and
``experts.down_proj``), not ``nn.Linear`` modules, so PEFT's ``target_modules`` (and
``all-linear``) never reach them; PEFT 0.17+ reaches them with ``target_parameters``
(``lora.ParamWrapper``). Routers are a bare weight ``Parameter`` in most families (not Linear,
so not in ``all-linear``) but an ``nn.Linear`` in Llama 4 and DBRX.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ExpertLayout = Literal["fused3d", "dbrx2d"]
RouterKind = Literal["param", "linear"]


@dataclass(frozen=True, slots=True)
class ModuleNames:
    """Where one family keeps each weight; defaults are Llama's (``modeling_llama.py``)."""

    embed: str = "model.embed_tokens"
    pos_embed: str = ""
    type_embed: str = ""
    layers: str = "model.layers"
    encoder_layers: str = ""
    attn: str = "self_attn"
    q: str = "q_proj"
    k: str = "k_proj"
    v: str = "v_proj"
    o: str = "o_proj"
    #: the fused q/k/v projection when the family has one (GPT-2 ``c_attn``, NeoX ``query_key_value``)
    qkv: str = ""
    #: GPT-2's ``Conv1D`` (weight stored ``(in, out)``); PEFT wraps it like a Linear
    conv1d: bool = False
    cross_attn: str = ""
    #: T5: the MLP sits in ``layer.1`` (encoder) or ``layer.2`` (decoder, after cross-attention)
    sublayer_mlp: bool = False
    mlp: str = "mlp"
    gate: str = "gate_proj"
    up: str = "up_proj"
    down: str = "down_proj"
    #: fused gate+up projection (Phi-3 ``gate_up_proj``)
    gate_up: str = ""
    #: the up projection's name when the MLP is not gated, where it differs (T5 ``wi``)
    plain_up: str = ""
    #: the MoE block's prefix inside a layer and its parts
    moe: str = "mlp"
    router: str = "gate"
    router_kind: RouterKind = "param"
    #: the router's bias parameter is named ``bias`` (gpt-oss), so PEFT's ``bias="all"`` trains it;
    #: elsewhere a router "bias" is a differently named parameter (Ernie's e_score_correction_bias)
    router_bias_named_bias: bool = False
    experts: str = "experts"
    expert_layout: ExpertLayout = "fused3d"
    shared: str = "shared_experts"
    #: the shared expert is a child of the layer, not of the MoE block (Granite's ``shared_mlp``)
    shared_in_layer: bool = False
    shared_gate: str = "shared_expert_gate"
    #: MLA (DeepSeek-V2/V3, ``modeling_deepseek_v3.py``)
    q_a: str = "q_a_proj"
    q_b: str = "q_b_proj"
    kv_a: str = "kv_a_proj_with_mqa"
    kv_b: str = "kv_b_proj"
    #: a non-attention token mixer's attribute in a layer (Mamba's ``mixer``)
    mixer: str = "mixer"
    #: Zamba2 (``modeling_zamba2.py``): a layer that runs a shared transformer block
    #: (``LayerGroup.shared_attention``) keeps its mixer at ``hybrid_mixer``, its own H x H Linear at
    #: ``hybrid_linear`` and the block (``attn``, ``mlp`` and adapter lists inside) at ``shared_block``
    hybrid_mixer: str = ""
    hybrid_linear: str = ""
    shared_block: str = ""
    lm_head: str = "lm_head"
    pooler: str = "pooler.dense"
    project_in: str = ""
    project_out: str = ""
    #: where a multimodal class keeps this language model (``model.layers`` becomes
    #: ``model.language_model.layers``); "" when the paths above are already the full ones
    text_root: str = "model.language_model"
    #: the head's path in that class when it is not ``lm_head`` (Llama 4 keeps a whole
    #: ``Llama4ForCausalLM`` at ``language_model``: ``language_model.lm_head``)
    text_lm_head: str = ""
    #: several spec layers per checkpoint layer (LongCat-Flash): the stack is ``len(sublayers)``
    #: runs of equal length, run ``s`` holding sublayer ``s`` of every checkpoint layer in order, and
    #: ``sublayers[s]`` gives its attention's and MLP's paths in place of ``attn`` and ``mlp``;
    #: empty: spec layer ``k`` is checkpoint layer ``k``
    sublayers: tuple[tuple[str, str], ...] = ()


LLAMA = ModuleNames()
FAMILIES: dict[str, ModuleNames] = {
    "llama": LLAMA,
    "phi3": ModuleNames(qkv="qkv_proj", gate_up="gate_up_proj"),
    # modeling_phi4_multimodal.py: Phi-3's names, the text model at the top (model.layers), the towers
    # and projectors in model.embed_tokens_extend
    "phi4_multimodal": ModuleNames(qkv="qkv_proj", gate_up="gate_up_proj", text_root=""),
    "starcoder2": ModuleNames(up="c_fc", down="c_proj"),
    "phi": ModuleNames(o="dense", up="fc1", down="fc2"),
    "gpt2": ModuleNames(embed="transformer.wte", pos_embed="transformer.wpe", layers="transformer.h", attn="attn",
                        qkv="c_attn", o="c_proj", up="c_fc", down="c_proj", conv1d=True),
    "gpt_bigcode": ModuleNames(embed="transformer.wte", pos_embed="transformer.wpe", layers="transformer.h",
                               attn="attn", qkv="c_attn", o="c_proj", up="c_fc", down="c_proj"),
    "gpt_neox": ModuleNames(embed="gpt_neox.embed_in", layers="gpt_neox.layers", attn="attention",
                            qkv="query_key_value", o="dense", up="dense_h_to_4h", down="dense_4h_to_h"),
    "bloom": ModuleNames(embed="transformer.word_embeddings", layers="transformer.h", attn="self_attention",
                         qkv="query_key_value", o="dense", up="dense_h_to_4h", down="dense_4h_to_h"),
    "falcon": ModuleNames(embed="transformer.word_embeddings", layers="transformer.h", attn="self_attention",
                          qkv="query_key_value", o="dense", up="dense_h_to_4h", down="dense_4h_to_h"),
    "gptj": ModuleNames(embed="transformer.wte", layers="transformer.h", attn="attn", o="out_proj",
                        up="fc_in", down="fc_out"),
    "opt": ModuleNames(embed="model.decoder.embed_tokens", pos_embed="model.decoder.embed_positions",
                       layers="model.decoder.layers", o="out_proj", mlp="", up="fc1", down="fc2",
                       project_in="model.decoder.project_in", project_out="model.decoder.project_out"),
    "bert": ModuleNames(embed="embeddings.word_embeddings", pos_embed="embeddings.position_embeddings",
                        type_embed="embeddings.token_type_embeddings", layers="encoder.layer",
                        encoder_layers="encoder.layer", attn="attention", q="self.query", k="self.key",
                        v="self.value", o="output.dense", mlp="", up="intermediate.dense", down="output.dense",
                        lm_head=""),
    "t5": ModuleNames(embed="shared", layers="decoder.block", encoder_layers="encoder.block",
                      attn="layer.0.SelfAttention", q="q", k="k", v="v", o="o", sublayer_mlp=True,
                      cross_attn="layer.1.EncDecAttention", mlp="DenseReluDense", gate="wi_0", up="wi_1",
                      plain_up="wi", down="wo"),
    "dbrx": ModuleNames(embed="transformer.wte", layers="transformer.blocks", attn="norm_attn_norm.attn",
                        qkv="Wqkv", o="out_proj", moe="ffn", router="router.layer", router_kind="linear",
                        experts="experts.mlp", expert_layout="dbrx2d"),
    "llama4": ModuleNames(mlp="feed_forward", moe="feed_forward", router="router", router_kind="linear",
                          shared="shared_expert", text_root="language_model.model",
                          text_lm_head="language_model.lm_head"),
    "gpt_oss": ModuleNames(router="router", router_bias_named_bias=True),
    "qwen2_moe": ModuleNames(shared="shared_expert"),
    "jamba": ModuleNames(mlp="feed_forward", moe="feed_forward", router="router", mixer="mamba"),
    "qwen3_next": ModuleNames(shared="shared_expert", mixer="linear_attn"),
    "kimi_linear": ModuleNames(mixer="self_attn"),
    "nemotron_h": ModuleNames(embed="model.embeddings", attn="mixer", mlp="mixer", moe="mixer", mixer="mixer"),
    # modeling_glm.py / modeling_glm4.py: one fused gate_up_proj
    "glm": ModuleNames(gate_up="gate_up_proj"),
    # modeling_phimoe.py: the router is an nn.Linear
    "phimoe": ModuleNames(router="router", router_kind="linear"),
    # modeling_granitemoe*.py: block_sparse_moe, and a shared_mlp (fused input_linear) beside it that is
    # also the dense MLP of GraniteMoeHybrid layers without experts; the Mamba mixer is ``mamba``
    "granitemoe": ModuleNames(mlp="shared_mlp", moe="block_sparse_moe", shared="shared_mlp", shared_in_layer=True,
                              gate_up="input_linear", down="output_linear", mixer="mamba"),
    # modeling_bamba.py / modeling_falcon_h1.py
    "bamba": ModuleNames(mlp="feed_forward", mixer="mamba"),
    "zamba2": ModuleNames(mlp="feed_forward", gate_up="gate_up_proj", mixer="mamba", hybrid_mixer="mamba_decoder.mamba",
                          hybrid_linear="linear", shared_block="shared_transformer"),
    # modeling_recurrent_gemma.py: attention and the RG-LRU block are both ``temporal_block``
    "recurrent_gemma": ModuleNames(attn="temporal_block", mixer="temporal_block", mlp="mlp_block"),
    "lfm2_moe": ModuleNames(o="out_proj", mlp="feed_forward", moe="feed_forward", gate="w1", up="w3", down="w2",
                            mixer="conv"),
    "lfm2": ModuleNames(o="out_proj", mlp="feed_forward", gate="w1", up="w3", down="w2", mixer="conv"),
    # modeling_idefics3.py / modeling_smolvlm.py: Llama's names, the language model at model.text_model
    "idefics3": ModuleNames(text_root="model.text_model"),
    # modeling_longcat_flash.py: a LongcatFlashDecoderLayer holds self_attn[0], self_attn[1], mlps[0],
    # mlps[1] and the MoE block (mlp, router.classifier a Linear); llmcalc's stack (importers/hf/longcat.py)
    # is L layers of attention + MoE, then L of attention + MLP, then L of MLP alone
    "longcat_flash": ModuleNames(router="router.classifier", router_kind="linear",
                                 sublayers=(("self_attn.0", "mlp"), ("self_attn.1", "mlps.0"), ("", "mlps.1"))),
    "whisper": ModuleNames(embed="model.decoder.embed_tokens", pos_embed="model.decoder.embed_positions",
                           layers="model.decoder.layers", o="out_proj", cross_attn="encoder_attn", mlp="",
                           up="fc1", down="fc2", lm_head="proj_out", text_root=""),
}

#: model_type -> family (model types not listed use Llama's names, and say so).
MODEL_TYPE_FAMILY: dict[str, str] = {
    "phi3": "phi3", "phi4_multimodal": "phi4_multimodal", "starcoder2": "starcoder2", "phi": "phi", "gpt2": "gpt2",
    "gpt_bigcode": "gpt_bigcode", "gpt_neox": "gpt_neox", "bloom": "bloom", "falcon": "falcon", "gptj": "gptj",
    "opt": "opt", "bert": "bert", "t5": "t5", "mt5": "t5", "dbrx": "dbrx", "llama4": "llama4",
    "llama4_text": "llama4", "gpt_oss": "gpt_oss", "qwen2_moe": "qwen2_moe", "jamba": "jamba", "lfm2": "lfm2",
    "qwen3_next": "qwen3_next", "kimi_linear": "kimi_linear", "nemotron_h": "nemotron_h", "whisper": "whisper",
    "idefics3": "idefics3", "smolvlm": "idefics3",
    "glm": "glm", "glm4": "glm", "glm4v": "glm", "phimoe": "phimoe", "granitemoe": "granitemoe",
    "granitemoehybrid": "granitemoe", "granitemoeshared": "granitemoe", "bamba": "bamba", "falcon_h1": "bamba",
    "zamba2": "zamba2",
    "recurrent_gemma": "recurrent_gemma", "lfm2_moe": "lfm2_moe", "longcat_flash": "longcat_flash",
    **dict.fromkeys(
        ("llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3_text", "gemma3",
         # Gemma 3n: its AltUp, Laurel and per-layer-input modules are the spec's extras (ExtraWeight.module)
         "gemma3n_text",
         "cohere", "cohere2", "granite", "olmo", "olmo2", "olmo3", "olmoe", "stablelm",
         "deepseek_v2", "deepseek_v3", "kimi_k2", "smollm3", "exaone4", "ministral", "ministral3",
         # multimodal checkpoints: their language models use Llama's names (below model.language_model)
         "mistral3", "llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "mllama",
         "glm4v_moe", "internvl", "gemma3n"),
        "llama"),
}

#: PEFT's default targets when ``target_modules`` is not given
#: (``peft/utils/constants.py``, ``TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING``, PEFT 0.21).
PEFT_DEFAULT_TARGETS: dict[str, tuple[str, ...]] = {
    "t5": ("q", "v"), "mt5": ("q", "v"), "gpt2": ("c_attn",), "bloom": ("query_key_value",),
    "opt": ("q_proj", "v_proj"), "gptj": ("q_proj", "v_proj"), "gpt_neox": ("query_key_value",),
    "bert": ("query", "value"), "llama": ("q_proj", "v_proj"), "llama4": ("q_proj", "v_proj"),
    "gpt_bigcode": ("c_attn",), "mpt": ("Wqkv",), "falcon": ("query_key_value",), "codegen": ("qkv_proj",),
    "mistral": ("q_proj", "v_proj"), "mixtral": ("q_proj", "v_proj"), "stablelm": ("q_proj", "v_proj"),
    "phi": ("q_proj", "v_proj", "fc1", "fc2"), "gemma": ("q_proj", "v_proj"), "gemma2": ("q_proj", "v_proj"),
    "gemma3_text": ("q_proj", "v_proj"), "qwen2": ("q_proj", "v_proj"), "qwen3": ("q_proj", "v_proj"),
    "nemotron_h": ("q_proj", "k_proj", "v_proj", "o_proj"),
}


#: PEFT 0.21 rewrites the targets of some MoE model types for transformers 5's fused experts
#: (``peft/utils/transformers_weight_conversion.py``, ``_convert_peft_config_moe``, keyed by
#: transformers' ``_MODEL_TO_CONVERSION_PATTERN``): a target named like a v4 expert projection
#: becomes a ``target_parameters`` entry (so ``gate_proj`` wraps the routed experts' fused
#: ``gate_up_proj``, not the dense MLP or shared experts), ``all-linear`` gains those names, and a
#: fused ``gate_up_proj`` gets rank and alpha x 2. Mixtral itself converts; Qwen2-MoE itself does not
#: (checked on meta-device models, benchmarks/peft_counts.py).
PEFT_MOE_CONVERSION: dict[str, str] = {
    "mixtral": "mixtral", "minimax": "mixtral", "minimax_m2": "mixtral",
    **dict.fromkeys(
        ("afmoe", "beam", "cohere2_moe", "deepseek_v2", "deepseek_v3", "deepseek_v32", "dots1", "ernie4_5_moe",
         "exaone_moe", "flex_olmo", "glm4_moe", "glm4_moe_lite", "glm4v_moe", "glm_moe_dsa", "hunyuan_v1_moe",
         "longcat_flash", "mellum", "olmoe", "qwen3_moe", "qwen3_next", "qwen3_omni_moe", "qwen3_omni_moe_text",
         "qwen3_omni_moe_thinker", "sarvam_mla", "solar_open", "kimi_k2"),
        "qwen2_moe"),
}
#: v4 name -> v5 parameter, in PEFT's order (``_MOE_TARGET_MODULE_MAPPING``), and the fused pairs
PEFT_MOE_MAPPING: dict[str, tuple[tuple[str, str], ...]] = {
    "mixtral": (("gate", "gate.weight"), ("w1", "gate_up_proj"), ("w3", "gate_up_proj"), ("w2", "down_proj")),
    "qwen2_moe": (("gate", "gate.weight"), ("gate_proj", "gate_up_proj"), ("up_proj", "gate_up_proj"),
                  ("down_proj", "down_proj")),
}
PEFT_MOE_FUSED: dict[str, tuple[str, tuple[str, ...]]] = {
    "mixtral": ("gate_up_proj", ("w1", "w3")),
    "qwen2_moe": ("gate_up_proj", ("gate_proj", "up_proj")),
}


#: PEFT refuses LoRA on these leaf names in these model types (``tuners_utils.py``,
#: ``_check_lora_target_modules_mamba``): the Mamba mixer's out_proj and conv1d.
PEFT_MAMBA_TYPES = ("falcon_h1", "mamba", "mamba2", "falcon_mamba", "nemotron_h")
PEFT_MAMBA_INCOMPATIBLE = ("out_proj", "conv1d")


#: Families whose PyTorch modules llmcalc does not model (LoRA counts there may differ from PEFT's,
#: and trainable_params says so). Found by benchmarks/peft_variations.py.
UNMODELLED_MODULES: dict[str, str] = {
}


def family_of(model_type: str) -> tuple[ModuleNames, bool]:
    """The module names for ``model_type`` and whether they are known (``False``: Llama's assumed)."""
    family = MODEL_TYPE_FAMILY.get(model_type)
    if family is None:
        return LLAMA, False
    return FAMILIES[family], True


__all__ = ["FAMILIES", "MODEL_TYPE_FAMILY", "PEFT_DEFAULT_TARGETS", "PEFT_MAMBA_INCOMPATIBLE", "PEFT_MAMBA_TYPES",
           "PEFT_MOE_CONVERSION", "PEFT_MOE_FUSED", "PEFT_MOE_MAPPING", "UNMODELLED_MODULES", "ModuleNames",
           "family_of"]
