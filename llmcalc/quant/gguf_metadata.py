"""The model KV pairs llama.cpp's converter writes into a GGUF file: general.* and ``{arch}.*``.

Rules transcribed from llama.cpp 0c1e57098, per converter class (keyed by ``general.architecture``):

- every text model: ``TextModel.set_gguf_parameters`` (conversion/base.py ~1434-1546): block_count;
  context_length, embedding_length, feed_forward_length, attention.head_count, head_count_kv when
  the config has one of their keys (``find_hparam``); causal_attention when ``is_causal`` is false;
  rope.scaling.* for linear/yarn/longrope ``rope_parameters``; rope.freq_base when a rope_theta is
  set, rope.freq_base_swa for a ``sliding_attention`` one; layer_norm_rms_epsilon /
  layer_norm_epsilon by the eps key present; expert_count, expert_used_count, expert_group_count
  (``n_group``), expert_group_used_count (``topk_group``), expert_gating_func; key_length and
  value_length whenever the config has a ``head_dim``; general.file_type;
- ``llama`` (``LlamaModel``, conversion/llama.py ~164-173): vocab_size and rope.dimension_count;
- ``qwen2moe``/``qwen3moe`` (``Qwen2MoeModel``, conversion/qwen.py ~81-89):
  expert_feed_forward_length, expert_shared_feed_forward_length;
- ``gemma3`` (``Gemma3Model``, conversion/gemma.py ~141-158): key/value_length (default 256),
  attention.sliding_window unless ``sliding_window_pattern`` is 1;
- ``phi3`` (``Phi3MiniModel``, conversion/phi.py ~148-173, no base call): its own list, with
  rope.scaling.original_context_length, rope.dimension_count and sliding_window (0 when unset);
- ``gptneox`` (``GPTNeoXModel``, conversion/gptneox.py ~21-31, no base call): context, embedding,
  block, feed-forward, rope.dimension_count (``rotary_pct`` or, with the measurement's local patch,
  ``rope_parameters.partial_rotary_factor``, times the head size), head_count, use_parallel_residual,
  attention.layer_norm_epsilon, and no general.file_type (llama-quantize adds it, src/llama-quant.cpp
  ~1026);
- ``deepseek2`` (``DeepseekV2Model``, conversion/deepseek.py ~319-386): head_count_kv 1,
  leading_dense_block_count, vocab_size, q_lora_rank, kv_lora_rank, key_length
  ``kv_lora + rope``, value_length ``kv_lora``, key/value_length_mla, expert_feed_forward_length,
  expert_shared_count, expert_weights_scale, expert_weights_norm, rope.dimension_count;
- general.*: architecture, type ``model``, name, size_label, quantization_version
  (``Metadata.set_gguf_meta_model``, gguf-py/gguf/metadata.py; ``ModelBase.prepare_metadata``).

``config`` is the Hugging Face config as transformers 5 writes it (``AutoConfig.to_dict()`` is what
the converter reads, ``ModelBase.load_hparams``); without one the keys the spec implies are used.
Other converter classes get the base rules: an estimate. The name, size label and other general.*
strings a folder name or model card adds (basename, finetune, organization, license) are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcalc.spec import ModelSpec

U32 = F32 = 4
BOOL = 1


def _string(text: str) -> int:
    return 8 + len(text.encode("utf-8"))


def _find(config: Mapping[str, Any], *keys: str) -> Any:
    """``find_hparam``: the value of the first key present (and not None)."""
    return next((config[k] for k in keys if config.get(k) is not None), None)


def _rope_parameters(config: Mapping[str, Any]) -> dict[str, Any]:
    """``TextModel.__init__``'s ``rope_parameters`` (base.py ~1359-1377), global values mirrored in."""
    rope = dict(config.get("rope_parameters") or config.get("rope_scaling") or {})
    if "full_attention" not in rope and "sliding_attention" not in rope:
        local = _find(config, "local_rope_theta", "rope_local_theta", "rope_theta_local", "swa_rope_theta",
                      "rope_local_base_freq")
        if local is not None:
            rope["sliding_attention"] = {"rope_theta": local}
        theta = _find(config, "global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta",
                      "rotary_emb_base")
        if "rope_theta" not in rope and theta is not None:
            rope["rope_theta"] = theta
        if "rope_type" not in rope and rope.get("type") is not None:
            rope["rope_type"] = rope["type"]
        orig = config.get("original_max_position_embeddings")
        if "original_max_position_embeddings" not in rope and orig is not None:
            rope["original_max_position_embeddings"] = orig
    return rope


def _text_model(config: Mapping[str, Any]) -> dict[str, int]:
    """``TextModel.set_gguf_parameters``: key suffix -> value bytes."""
    kv: dict[str, int] = {"block_count": U32}
    names: tuple[str, ...]
    for key, names in (
        ("context_length", ("max_position_embeddings", "n_ctx", "n_positions", "max_length",
                            "max_sequence_length", "model_max_length")),
        ("embedding_length", ("hidden_size", "n_embd", "dim")),
        ("feed_forward_length", ("prefix_dense_intermediate_size", "dense_intermediate_size",
                                 "intermediate_size", "n_inner", "hidden_dim")),
        ("attention.head_count", ("num_attention_heads", "n_head", "n_heads")),
        ("attention.head_count_kv", ("num_key_value_heads", "n_kv_heads")),
    ):
        if _find(config, *names) is not None:
            kv[key] = U32
    if config.get("is_causal") is False:
        kv["attention.causal"] = BOOL
    rope_all = _rope_parameters(config)
    rope = rope_all.get("full_attention", rope_all)
    rope_type, factor = rope.get("rope_type"), rope.get("factor")
    if rope_type in ("linear", "yarn") and factor is not None:
        kv["rope.scaling.type"] = _string(rope_type)
        kv["rope.scaling.factor"] = F32
        if rope_type == "yarn":
            kv["rope.scaling.original_context_length"] = U32
            for key, names in (("yarn_ext_factor", ("extrapolation_factor",)),
                               ("yarn_attn_factor", ("attention_factor", "attn_factor")),
                               ("yarn_beta_fast", ("beta_fast",)), ("yarn_beta_slow", ("beta_slow",))):
                if _find(rope, *names) is not None:
                    kv[f"rope.scaling.{key}"] = F32
    elif rope_type in ("su", "longrope"):
        kv["rope.scaling.type"] = _string("longrope")
    if "mrope_section" in rope_all:
        kv["rope.dimension_sections"] = 12 + 4 * 4
    if rope.get("rope_theta") is not None:
        kv["rope.freq_base"] = F32
    if (rope_all.get("sliding_attention") or {}).get("rope_theta") is not None:
        kv["rope.freq_base_swa"] = F32
    if _find(config, "rms_norm_eps", "norm_eps") is not None:
        kv["attention.layer_norm_rms_epsilon"] = F32
    if _find(config, "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon") is not None:
        kv["attention.layer_norm_epsilon"] = F32
    for key, names in (("expert_count", ("num_local_experts", "num_experts", "n_routed_experts")),
                       ("expert_used_count", ("num_experts_per_tok", "num_experts_per_token", "top_k_experts")),
                       ("expert_group_count", ("n_group",)), ("expert_group_used_count", ("topk_group",)),
                       ("expert_gating_func", ("score_function", "scoring_func", "score_func",
                                               "moe_router_activation", "moe_router_activation_func",
                                               "expert_selection_fn"))):
        if _find(config, *names) is not None:
            kv[key] = U32
    if config.get("head_dim") is not None:
        kv["attention.key_length"] = kv["attention.value_length"] = U32
    return kv


def _arch_kv(arch: str, config: Mapping[str, Any]) -> tuple[dict[str, int], bool]:
    """``{arch}.*`` key suffixes -> value bytes, and whether the converter writes general.file_type."""
    if arch == "gptneox":
        kv = dict.fromkeys(("context_length", "embedding_length", "block_count", "feed_forward_length",
                            "rope.dimension_count", "attention.head_count"), U32)
        kv["use_parallel_residual"] = BOOL
        kv["attention.layer_norm_epsilon"] = F32
        return kv, False
    if arch == "phi3":
        kv = dict.fromkeys(("context_length", "rope.scaling.original_context_length", "embedding_length",
                            "feed_forward_length", "block_count", "attention.head_count",
                            "attention.head_count_kv", "rope.dimension_count", "attention.sliding_window"), U32)
        kv["attention.layer_norm_rms_epsilon"] = kv["rope.freq_base"] = F32
        return kv, True
    kv = _text_model(config)
    if arch == "llama":
        kv["vocab_size"] = kv["rope.dimension_count"] = U32
    elif arch in ("qwen2moe", "qwen3moe"):
        if config.get("moe_intermediate_size") is not None:
            kv["expert_feed_forward_length"] = U32
        if config.get("shared_expert_intermediate_size") is not None:
            kv["expert_shared_feed_forward_length"] = U32
    elif arch == "gemma3":
        kv.update(dict.fromkeys(("context_length", "attention.head_count", "attention.key_length",
                                 "attention.value_length", "attention.head_count_kv"), U32))
        kv["attention.layer_norm_rms_epsilon"] = kv["rope.freq_base"] = F32
        if config.get("final_logit_softcapping"):
            kv["final_logit_softcapping"] = F32
        if config.get("sliding_window_pattern") != 1:
            kv["attention.sliding_window"] = U32
    elif arch == "deepseek2":
        kv["attention.head_count_kv"] = U32  # MLA converts to MQA: 1
        kv["attention.layer_norm_rms_epsilon"] = F32  # defaulted to 1e-6
        kv.update(dict.fromkeys(("leading_dense_block_count", "vocab_size", "attention.kv_lora_rank",
                                 "attention.key_length", "attention.value_length", "attention.key_length_mla",
                                 "attention.value_length_mla", "expert_feed_forward_length",
                                 "expert_shared_count", "rope.dimension_count"), U32))
        if config.get("q_lora_rank") is not None:
            kv["attention.q_lora_rank"] = U32
        if config.get("n_routed_experts") is not None:
            kv["expert_count"] = U32
        if config.get("routed_scaling_factor") is not None:
            kv["expert_weights_scale"] = F32
        if config.get("norm_topk_prob"):
            kv["expert_weights_norm"] = BOOL
        if _rope_parameters(config).get("mscale_all_dim") is not None:
            kv["rope.scaling.yarn_log_multiplier"] = F32
    return kv, True


def config_from_spec(spec: ModelSpec) -> dict[str, Any]:
    """The config keys the converter reads, as far as ``spec`` tells them (no config.json read)."""
    groups = spec.main_stack.groups
    attn = spec.first_attention
    dense = next((g.mlp for g in groups if g.mlp is not None), None)
    moe = next((g.moe for g in groups if g.moe is not None), None)
    cfg: dict[str, Any] = {"num_hidden_layers": spec.num_hidden_layers, "hidden_size": spec.hidden_size,
                           "vocab_size": spec.vocab_size}
    if spec.positional.max_position_embeddings:
        cfg["max_position_embeddings"] = spec.positional.max_position_embeddings
    if dense is not None or moe is not None:
        cfg["intermediate_size"] = (dense or moe.expert).intermediate_size  # type: ignore[union-attr]
    if attn is not None:
        cfg["num_attention_heads"] = attn.num_heads
        cfg["num_key_value_heads"] = attn.num_kv_heads
        if attn.sliding_window:
            cfg["sliding_window"] = attn.sliding_window
        if attn.mla is not None:
            cfg.update(kv_lora_rank=attn.mla.kv_lora_rank, q_lora_rank=attn.mla.q_lora_rank,
                       qk_rope_head_dim=attn.mla.qk_rope_head_dim)
    cfg["rms_norm_eps" if spec.norm.kind == "rmsnorm" else "layer_norm_eps"] = 1e-5
    if spec.positional.rope_theta is not None:
        cfg["rope_theta"] = spec.positional.rope_theta
    if moe is not None:
        cfg.update(num_local_experts=moe.num_experts, num_experts_per_tok=moe.experts_per_token,
                   moe_intermediate_size=moe.expert.intermediate_size)
        if moe.shared_expert is not None:
            cfg["n_shared_experts"] = 1
    return cfg


def model_kv(
    spec: ModelSpec, arch: str, *, config: Mapping[str, Any] | None, name: str, size_label: str, quantized: bool
) -> dict[str, int]:
    """Every general.* and ``{arch}.*`` key the file holds -> its value bytes (module docstring).

    ``quantized``: the file was made by llama-quantize (which always sets general.file_type), not by
    the converter itself.
    """
    if config is None:
        config = config_from_spec(spec)
    elif isinstance(config.get("text_config"), Mapping):  # TextModel.__init__ moves it to the root
        config = {**config, **config["text_config"]}
    kv, file_type = _arch_kv(arch, config)
    out = {f"{arch}.{k}": v for k, v in kv.items()}
    out["general.architecture"] = _string(arch)
    out["general.type"] = _string("model")
    out["general.name"] = _string(name)
    out["general.size_label"] = _string(size_label)
    out["general.quantization_version"] = U32
    if file_type or quantized:
        out["general.file_type"] = U32
    return out


def weight_count_notation(count: int, min_digits: int = 2) -> str:
    """``model_weight_count_rounded_notation`` (gguf-py/gguf/utility.py ~21-41): ``8.0B``, ``12M``."""
    scale, suffix = next(((s, x) for s, x in ((10**12, "T"), (10**9, "B"), (10**6, "M")) if count > s),
                         (10**3, "K"))
    scaled = count / scale
    fix = max(min_digits - len(str(round(scaled)).lstrip("0")), 0)
    return f"{scaled:.{fix}f}{suffix}"


def size_label(tensors: list[tuple[str, tuple[int, ...]]]) -> str:
    """``general.size_label`` from the file's tensors (``GGUFWriter.get_total_parameter_count`` and
    ``size_label``, gguf-py): ``{experts}x{shared + one expert}`` with routed experts, else the total."""
    total = shared = expert = expert_sum = n_expert_tensors = 0
    for name, shape in tensors:
        size = 1
        for d in shape:
            size *= d
        if "_exps." in name and len(shape) >= 3:
            count = shape[-1]  # ne order: gguf-py's numpy-order shape[-3] is ne[2], the experts
            expert += size // count
            expert_sum += count
            n_expert_tensors += 1
        else:
            shared += size
        total += size
    if n_expert_tensors:
        return f"{expert_sum // n_expert_tensors}x{weight_count_notation(shared + expert)}"
    return weight_count_notation(total)


__all__ = ["config_from_spec", "model_kv", "size_label", "weight_count_notation"]
