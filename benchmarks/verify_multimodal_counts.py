"""Count synthetic multimodal and speech checkpoints with Hugging Face transformers, for llmcalc's tests.

Builds small variations of every multimodal family llmcalc reads (the full ``*ForConditionalGeneration``
class, on the meta device, so nothing is allocated) and records, per config, the unique parameters
split as ``shared/reference/configs-2-params.json`` splits them:

- ``vision_params``: the vision encoder module (``vision_tower``, ``visual``, ``vision_model``) less
  what the projector takes from it;
- ``projector_params``: ``multi_modal_projector``, Idefics3/SmolVLM's ``connector``, the Qwen-VL
  ``visual.merger`` and ``visual.deepstack_merger_list``, GLM-4V's ``visual.downsample`` and
  ``visual.merger``, LLaVA-NeXT's ``image_newline``, Phi-4-multimodal's ``img_projection_*`` and
  ``*_proj_for_speech`` / ``*_proj_for_vision_speech``, Gemma 3n's ``embed_vision`` and ``embed_audio``;
- ``audio_params``: ``audio_tower``, Whisper's ``model.encoder``, Phi-4-multimodal's
  ``audio_embed.encoder``; vision also takes Phi-4-multimodal's ``image_embed`` (its SigLIP tower and
  separator vectors);
- ``language_params``: the rest; ``embed``: the input embedding; ``lm_head``: the output head when
  not tied; ``pos_embed``: learned ``embed_positions`` tables (Whisper's encoder and decoder).

Run with the measurement venv (not a project dependency)::

    /work/mvenv/bin/python benchmarks/verify_multimodal_counts.py --write tests/data/multimodal_counts.json

Without ``--write`` it prints each family's comparison with llmcalc (import from the working tree).
Gemma 3n's vision tower is a timm model (``TimmWrapperModel``): its rows need timm (1.0.31 here) and
torchvision importable beside transformers, else they are skipped (and a plain ``--write`` drops
them); ``--only gemma3n --merge --write FILE`` re-measures those rows alone and keeps the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

CLASSES = {
    "gemma3": "Gemma3ForConditionalGeneration",
    "llava": "LlavaForConditionalGeneration",
    "llava_next": "LlavaNextForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
    "qwen3_vl_moe": "Qwen3VLMoeForConditionalGeneration",
    "mllama": "MllamaForConditionalGeneration",
    "mistral3": "Mistral3ForConditionalGeneration",
    "llama4": "Llama4ForConditionalGeneration",
    "internvl": "InternVLForConditionalGeneration",
    "smolvlm": "SmolVLMForConditionalGeneration",
    "idefics3": "Idefics3ForConditionalGeneration",
    "glm4v": "Glm4vForConditionalGeneration",
    "glm4v_moe": "Glm4vMoeForConditionalGeneration",
    "qwen2_audio": "Qwen2AudioForConditionalGeneration",
    "whisper": "WhisperForConditionalGeneration",
    "phi4_multimodal": "Phi4MultimodalForCausalLM",
    "gemma3n": "Gemma3nForConditionalGeneration",  # its vision tower needs timm (and torchvision)
}

PROJECTOR_KEYS = (
    "multi_modal_projector.",
    "model.connector.",
    "visual.merger.",
    "visual.deepstack_merger_list.",
    "visual.downsample.",
    "image_newline",
    "image_embed.img_projection",
    "proj_for_speech.",
    "proj_for_vision_speech.",
    "model.embed_vision.",
    "model.embed_audio.",
)
VISION_KEYS = ("vision_tower.", "visual.", "vision_model.", "image_embed.")
AUDIO_KEYS = ("audio_tower.", "audio_embed.encoder.")


def _llama_text(**kw: Any) -> dict[str, Any]:
    base = {
        "model_type": "llama",
        "vocab_size": 1000,
        "hidden_size": 64,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    }
    return {**base, **kw}


def configs() -> list[tuple[str, dict[str, Any]]]:
    """Synthetic configs, a few per family, varying the fields each formula reads."""
    siglip = {
        "model_type": "siglip_vision_model",
        "hidden_size": 48,
        "intermediate_size": 80,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "image_size": 64,
        "patch_size": 16,
    }
    clip = {
        "model_type": "clip_vision_model",
        "hidden_size": 48,
        "intermediate_size": 72,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "image_size": 56,
        "patch_size": 14,
        "projection_dim": 32,
    }
    qwen_text = {
        "vocab_size": 900,
        "hidden_size": 64,
        "intermediate_size": 112,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    }
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "gemma3-a",
            {
                "model_type": "gemma3",
                "mm_tokens_per_image": 16,
                "text_config": {
                    "model_type": "gemma3_text",
                    "vocab_size": 1200,
                    "hidden_size": 64,
                    "intermediate_size": 128,
                    "num_hidden_layers": 7,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 1,
                    "head_dim": 32,
                },
                "vision_config": {**siglip, "vision_use_head": False},
            },
        ),
        (
            "gemma3-head-untied",
            {
                "model_type": "gemma3",
                "tie_word_embeddings": False,
                "text_config": {
                    "model_type": "gemma3_text",
                    "vocab_size": 700,
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 2,
                    "head_dim": 16,
                },
                "vision_config": {**siglip, "vision_use_head": True, "image_size": 48},
            },
        ),
        ("llava-a", {"model_type": "llava", "text_config": _llama_text(), "vision_config": clip}),
        (
            "llava-multilayer-nobias",
            {
                "model_type": "llava",
                "vision_feature_layer": [-2, -5],
                "multimodal_projector_bias": False,
                "text_config": _llama_text(tie_word_embeddings=True, hidden_size=32),
                "vision_config": {**clip, "num_hidden_layers": 6},
            },
        ),
        (
            "llava-qwen2-text",
            {"model_type": "llava", "text_config": {"model_type": "qwen2", **qwen_text}, "vision_config": siglip},
        ),
        (
            "llava_next-a",
            {
                "model_type": "llava_next",
                "text_config": _llama_text(),
                "vision_config": clip,
                "image_grid_pinpoints": [[56, 56], [56, 112]],
            },
        ),
        (
            "qwen2_vl-a",
            {
                "model_type": "qwen2_vl",
                "text_config": {"model_type": "qwen2_vl_text", **qwen_text},
                "vision_config": {
                    "embed_dim": 32,
                    "depth": 2,
                    "num_heads": 4,
                    "mlp_ratio": 3,
                    "hidden_size": 64,
                    "patch_size": 7,
                    "spatial_merge_size": 2,
                },
            },
        ),
        (
            "qwen2_vl-flat-tied",
            {
                "model_type": "qwen2_vl",
                **qwen_text,
                "tie_word_embeddings": True,
                "vision_config": {
                    "embed_dim": 48,
                    "depth": 1,
                    "num_heads": 4,
                    "mlp_ratio": 2,
                    "hidden_size": 64,
                    "temporal_patch_size": 1,
                },
            },
        ),
        (
            "qwen2_5_vl-a",
            {
                "model_type": "qwen2_5_vl",
                "text_config": {"model_type": "qwen2_5_vl_text", **qwen_text},
                "vision_config": {
                    "hidden_size": 40,
                    "depth": 3,
                    "num_heads": 4,
                    "intermediate_size": 60,
                    "out_hidden_size": 64,
                    "fullatt_block_indexes": [1],
                    "spatial_merge_size": 3,
                },
            },
        ),
        (
            "qwen2_5_vl-flat",
            {
                "model_type": "qwen2_5_vl",
                **qwen_text,
                "vocab_size": 640,
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 2,
                    "num_heads": 2,
                    "intermediate_size": 48,
                    "out_hidden_size": 64,
                },
            },
        ),
        (
            "qwen3_vl-a",
            {
                "model_type": "qwen3_vl",
                "text_config": {"model_type": "qwen3_vl_text", **qwen_text, "head_dim": 24},
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 4,
                    "num_heads": 2,
                    "intermediate_size": 56,
                    "out_hidden_size": 64,
                    "num_position_embeddings": 64,
                    "deepstack_visual_indexes": [1, 2],
                },
            },
        ),
        (
            "qwen3_vl-tied",
            {
                "model_type": "qwen3_vl",
                "tie_word_embeddings": True,
                "text_config": {"model_type": "qwen3_vl_text", **qwen_text, "head_dim": 16},
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 2,
                    "num_heads": 2,
                    "intermediate_size": 40,
                    "out_hidden_size": 64,
                    "num_position_embeddings": 36,
                    "deepstack_visual_indexes": [0],
                    "patch_size": 8,
                },
            },
        ),
        (
            "qwen3_vl_moe-a",
            {
                "model_type": "qwen3_vl_moe",
                "text_config": {
                    "model_type": "qwen3_vl_moe_text",
                    **qwen_text,
                    "head_dim": 16,
                    "num_experts": 6,
                    "num_experts_per_tok": 2,
                    "moe_intermediate_size": 24,
                    "decoder_sparse_step": 1,
                },
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 3,
                    "num_heads": 2,
                    "intermediate_size": 40,
                    "out_hidden_size": 64,
                    "num_position_embeddings": 16,
                    "deepstack_visual_indexes": [0, 1, 2],
                },
            },
        ),
        (
            "mllama-a",
            {
                "model_type": "mllama",
                "text_config": {
                    "vocab_size": 500,
                    "hidden_size": 64,
                    "intermediate_size": 96,
                    "num_hidden_layers": 5,
                    "num_attention_heads": 4,
                    "num_key_value_heads": 2,
                    "cross_attention_layers": [1, 3],
                    "pad_token_id": 0,
                },
                "vision_config": {
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 3,
                    "num_global_layers": 2,
                    "attention_heads": 4,
                    "image_size": 56,
                    "patch_size": 14,
                    "vision_output_dim": 96,
                    "intermediate_layers_indices": [0, 2],
                },
            },
        ),
        (
            "mllama-ratios",
            {
                "model_type": "mllama",
                "text_config": {
                    "vocab_size": 300,
                    "hidden_size": 32,
                    "intermediate_size": 40,
                    "num_hidden_layers": 3,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 1,
                    "cross_attention_layers": [0],
                    "pad_token_id": 0,
                },
                "vision_config": {
                    "hidden_size": 16,
                    "intermediate_size": 24,
                    "num_hidden_layers": 2,
                    "num_global_layers": 1,
                    "attention_heads": 2,
                    "image_size": 28,
                    "patch_size": 14,
                    "vision_output_dim": 48,
                    "max_num_tiles": 2,
                    "supported_aspect_ratios": [[1, 1], [1, 2], [2, 1]],
                    "intermediate_layers_indices": [0],
                },
            },
        ),
        (
            "mistral3-a",
            {
                "model_type": "mistral3",
                "text_config": {
                    "model_type": "mistral",
                    "vocab_size": 800,
                    "hidden_size": 64,
                    "intermediate_size": 96,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 4,
                    "num_key_value_heads": 2,
                    "head_dim": 24,
                },
                "vision_config": {
                    "model_type": "pixtral",
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "patch_size": 8,
                    "image_size": 64,
                    "head_dim": 16,
                },
            },
        ),
        (
            "mistral3-bias-untied",
            {
                "model_type": "mistral3",
                "multimodal_projector_bias": True,
                "tie_word_embeddings": False,
                "spatial_merge_size": 3,
                "vision_feature_layer": [-1, -2],
                "text_config": {
                    "model_type": "ministral3",
                    "vocab_size": 600,
                    "hidden_size": 48,
                    "intermediate_size": 64,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 4,
                    "num_key_value_heads": 1,
                    "head_dim": 16,
                },
                "vision_config": {
                    "model_type": "pixtral",
                    "hidden_size": 32,
                    "intermediate_size": 40,
                    "num_hidden_layers": 3,
                    "num_attention_heads": 2,
                    "patch_size": 4,
                    "head_dim": 16,
                },
            },
        ),
        (
            "llama4-a",
            {
                "model_type": "llama4",
                "text_config": {
                    "vocab_size": 700,
                    "hidden_size": 64,
                    "intermediate_size": 48,
                    "intermediate_size_mlp": 96,
                    "num_hidden_layers": 4,
                    "num_attention_heads": 4,
                    "num_key_value_heads": 2,
                    "head_dim": 16,
                    "num_local_experts": 4,
                    "num_experts_per_tok": 1,
                    "interleave_moe_layer_step": 2,
                    "attention_chunk_size": 128,
                },
                "vision_config": {
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "image_size": 56,
                    "patch_size": 14,
                    "vision_output_dim": 40,
                    "projector_input_dim": 40,
                    "projector_output_dim": 40,
                    "pixel_shuffle_ratio": 0.5,
                },
            },
        ),
        (
            "internvl-a",
            {
                "model_type": "internvl",
                "text_config": {"model_type": "qwen2", **qwen_text},
                "vision_config": {
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "image_size": [56, 56],
                    "patch_size": [14, 14],
                },
            },
        ),
        (
            "internvl-rms-qknorm",
            {
                "model_type": "internvl",
                "tie_word_embeddings": False,
                "text_config": _llama_text(),
                "vision_config": {
                    "hidden_size": 32,
                    "intermediate_size": 40,
                    "num_hidden_layers": 3,
                    "num_attention_heads": 2,
                    "image_size": [42, 56],
                    "patch_size": [14, 14],
                    "norm_type": "rms_norm",
                    "use_qk_norm": True,
                    "attention_bias": True,
                    "use_mean_pooling": False,
                    "use_mask_token": True,
                },
            },
        ),
        (
            "smolvlm-a",
            {
                "model_type": "smolvlm",
                "scale_factor": 2,
                "text_config": _llama_text(),
                "vision_config": {
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "image_size": 64,
                    "patch_size": 16,
                },
            },
        ),
        (
            "idefics3-a",
            {
                "model_type": "idefics3",
                "scale_factor": 3,
                "text_config": _llama_text(),
                "vision_config": {
                    "hidden_size": 24,
                    "intermediate_size": 40,
                    "num_hidden_layers": 3,
                    "num_attention_heads": 2,
                    "image_size": 42,
                    "patch_size": 14,
                },
            },
        ),
        (
            "glm4v-a",
            {
                "model_type": "glm4v",
                "text_config": {
                    "vocab_size": 800,
                    "hidden_size": 64,
                    "intermediate_size": 96,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 4,
                    "num_key_value_heads": 2,
                },
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 2,
                    "num_heads": 2,
                    "intermediate_size": 72,
                    "out_hidden_size": 48,
                    "image_size": 56,
                    "patch_size": 14,
                    "attention_bias": True,
                },
            },
        ),
        (
            "glm4v_moe-a",
            {
                "model_type": "glm4v_moe",
                "text_config": {
                    "vocab_size": 800,
                    "hidden_size": 64,
                    "intermediate_size": 96,
                    "num_hidden_layers": 3,
                    "num_attention_heads": 4,
                    "num_key_value_heads": 2,
                    "head_dim": 16,
                    "n_routed_experts": 4,
                    "num_experts_per_tok": 2,
                    "moe_intermediate_size": 24,
                    "n_shared_experts": 2,
                    "first_k_dense_replace": 1,
                },
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 2,
                    "num_heads": 2,
                    "intermediate_size": 40,
                    "out_hidden_size": 64,
                    "image_size": 28,
                    "patch_size": 14,
                },
            },
        ),
        (
            "qwen2_audio-a",
            {
                "model_type": "qwen2_audio",
                "text_config": {"model_type": "qwen2", **qwen_text},
                "audio_config": {
                    "model_type": "qwen2_audio_encoder",
                    "d_model": 32,
                    "encoder_layers": 2,
                    "encoder_attention_heads": 2,
                    "encoder_ffn_dim": 48,
                    "num_mel_bins": 16,
                    "max_source_positions": 50,
                },
            },
        ),
        (
            "whisper-a",
            {
                "model_type": "whisper",
                "vocab_size": 600,
                "d_model": 32,
                "encoder_layers": 2,
                "decoder_layers": 3,
                "encoder_attention_heads": 2,
                "decoder_attention_heads": 4,
                "encoder_ffn_dim": 48,
                "decoder_ffn_dim": 64,
                "num_mel_bins": 20,
                "max_source_positions": 60,
                "max_target_positions": 40,
                "pad_token_id": 0,
            },
        ),
        (
            "whisper-untied",
            {
                "model_type": "whisper",
                "vocab_size": 500,
                "d_model": 48,
                "encoder_layers": 1,
                "decoder_layers": 1,
                "encoder_attention_heads": 4,
                "decoder_attention_heads": 4,
                "encoder_ffn_dim": 64,
                "decoder_ffn_dim": 40,
                "num_mel_bins": 8,
                "max_source_positions": 30,
                "max_target_positions": 24,
                "tie_word_embeddings": False,
                "pad_token_id": 0,
            },
        ),
        (
            "phi4_multimodal-a",
            {
                "model_type": "phi4_multimodal",
                "vocab_size": 700,
                "hidden_size": 64,
                "intermediate_size": 96,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "pad_token_id": 0,
                "vision_config": {
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "image_size": 56,
                    "patch_size": 14,
                    "crop_size": 56,
                },
                "audio_config": {
                    "hidden_size": 32,
                    "intermediate_size": 40,
                    "num_blocks": 2,
                    "num_attention_heads": 2,
                    "input_size": 20,
                    "time_reduction": 8,
                    "nemo_conv_channels": 16,
                    "ext_pw_out_channel": 24,
                    "depthwise_separable_out_channel": 32,
                    "kernel_size": 3,
                    "bias_max_distance": 50,
                },
            },
        ),
        (
            "phi4_multimodal-b",
            {
                "model_type": "phi4_multimodal",
                "vocab_size": 500,
                "hidden_size": 48,
                "intermediate_size": 64,
                "num_hidden_layers": 1,
                "num_attention_heads": 4,
                "num_key_value_heads": 4,
                "pad_token_id": 0,
                "tie_word_embeddings": True,
                "vision_config": {
                    "hidden_size": 24,
                    "intermediate_size": 40,
                    "num_hidden_layers": 1,
                    "num_attention_heads": 2,
                    "image_size": 42,
                    "patch_size": 14,
                    "crop_size": 42,
                },
                "audio_config": {
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_blocks": 3,
                    "num_attention_heads": 4,
                    "input_size": 16,
                    "time_reduction": 4,
                    "nemo_conv_channels": 8,
                    "ext_pw_out_channel": 32,
                    "depthwise_separable_out_channel": 32,
                    "depthwise_multiplier": 2,
                    "kernel_size": 5,
                    "bias_max_distance": 20,
                    "bias_symmetric": True,
                    "downsample_rate": 2,
                },
            },
        ),
    ]
    # head_dim where the text model ignores it (Qwen2-VL, Qwen2.5-VL, GLM-4V) or reads it (Qwen3-VL-MoE).
    hd = {**qwen_text, "head_dim": 8}
    out += [
        (
            "qwen2_vl-head_dim",
            {
                "model_type": "qwen2_vl",
                "text_config": {"model_type": "qwen2_vl_text", **hd},
                "vision_config": {"embed_dim": 32, "depth": 1, "num_heads": 4, "hidden_size": 64},
            },
        ),
        (
            "qwen2_5_vl-flat-head_dim",
            {
                "model_type": "qwen2_5_vl",
                **hd,
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 1,
                    "num_heads": 2,
                    "intermediate_size": 48,
                    "out_hidden_size": 64,
                },
            },
        ),
        (
            "glm4v-head_dim",
            {
                "model_type": "glm4v",
                "text_config": {**hd, "pad_token_id": 0},
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 1,
                    "num_heads": 2,
                    "intermediate_size": 40,
                    "out_hidden_size": 48,
                    "image_size": 28,
                    "patch_size": 14,
                },
            },
        ),
        (
            "qwen3_vl_moe-head_dim-sparse-step",
            {
                "model_type": "qwen3_vl_moe",
                "vision_config": {
                    "hidden_size": 32,
                    "depth": 2,
                    "num_heads": 2,
                    "intermediate_size": 40,
                    "out_hidden_size": 64,
                    "num_position_embeddings": 16,
                    "deepstack_visual_indexes": [],
                },
                "text_config": {
                    **hd,
                    "num_experts": 4,
                    "num_experts_per_tok": 1,
                    "moe_intermediate_size": 16,
                    "decoder_sparse_step": 2,
                    "mlp_only_layers": [0],
                },
            },
        ),
        (
            "internvl-qwen3-text",
            {
                "model_type": "internvl",
                "downsample_ratio": 0.25,
                "text_config": {"model_type": "qwen3", **qwen_text, "head_dim": 24},
                "vision_config": {
                    "hidden_size": 16,
                    "intermediate_size": 24,
                    "num_hidden_layers": 1,
                    "num_attention_heads": 2,
                    "image_size": [56, 56],
                    "patch_size": [14, 14],
                },
            },
        ),
        (
            "llava_next-siglip-mistral",
            {
                "model_type": "llava_next",
                "image_grid_pinpoints": [[64, 64]],
                "text_config": {"model_type": "mistral", **qwen_text, "head_dim": 8},
                "vision_config": {**siglip, "vision_use_head": False},
            },
        ),
    ]
    # Head tying: which of the top-level and text_config tie_word_embeddings each class honours.
    tv = {"hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1, "num_attention_heads": 2}
    out += [
        (
            "llava_next-text-tied",
            {
                "model_type": "llava_next",
                "text_config": _llama_text(tie_word_embeddings=True),
                "vision_config": {**clip, "num_hidden_layers": 1},
            },
        ),
        (
            "qwen2_audio-text-tied",
            {
                "model_type": "qwen2_audio",
                "text_config": {"model_type": "qwen2", **qwen_text, "tie_word_embeddings": True},
                "audio_config": {
                    "d_model": 16,
                    "encoder_layers": 1,
                    "encoder_attention_heads": 2,
                    "encoder_ffn_dim": 24,
                    "num_mel_bins": 8,
                    "max_source_positions": 10,
                },
            },
        ),
        (
            "internvl-top-untied",
            {
                "model_type": "internvl",
                "tie_word_embeddings": False,
                "text_config": {"model_type": "qwen2", **qwen_text, "tie_word_embeddings": True},
                "vision_config": {**tv, "image_size": [28, 28], "patch_size": [14, 14]},
            },
        ),
        (
            "gemma3-text-untied",
            {
                "model_type": "gemma3",
                "text_config": {
                    "model_type": "gemma3_text",
                    "vocab_size": 300,
                    "hidden_size": 32,
                    "intermediate_size": 48,
                    "num_hidden_layers": 1,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 1,
                    "head_dim": 16,
                    "tie_word_embeddings": False,
                },
                "vision_config": {**siglip, "num_hidden_layers": 1},
            },
        ),
        (
            "llama4-top-tied",
            {
                "model_type": "llama4",
                "tie_word_embeddings": True,
                "text_config": {
                    "vocab_size": 300,
                    "hidden_size": 32,
                    "intermediate_size": 24,
                    "intermediate_size_mlp": 48,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 1,
                    "head_dim": 16,
                    "num_local_experts": 2,
                    "num_experts_per_tok": 1,
                    "pad_token_id": 0,
                },
                "vision_config": {
                    **tv,
                    "image_size": 28,
                    "patch_size": 14,
                    "vision_output_dim": 24,
                    "projector_input_dim": 24,
                    "projector_output_dim": 24,
                },
            },
        ),
        (
            "smolvlm-text-tied",
            {
                "model_type": "smolvlm",
                "text_config": _llama_text(tie_word_embeddings=True),
                "vision_config": {**tv, "image_size": 32, "patch_size": 16},
            },
        ),
        (
            "mllama-top-tied",
            {
                "model_type": "mllama",
                "tie_word_embeddings": True,
                "text_config": {
                    "vocab_size": 300,
                    "hidden_size": 32,
                    "intermediate_size": 40,
                    "num_hidden_layers": 2,
                    "num_attention_heads": 2,
                    "num_key_value_heads": 1,
                    "cross_attention_layers": [1],
                    "pad_token_id": 0,
                },
                "vision_config": {
                    "hidden_size": 16,
                    "intermediate_size": 24,
                    "num_hidden_layers": 1,
                    "num_global_layers": 1,
                    "attention_heads": 2,
                    "image_size": 28,
                    "patch_size": 14,
                    "vision_output_dim": 32,
                    "intermediate_layers_indices": [0],
                },
            },
        ),
    ]
    # Each family with an empty vision/audio config: the towers take their config classes' defaults.
    small = {
        "vocab_size": 300,
        "hidden_size": 32,
        "intermediate_size": 48,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "pad_token_id": 0,
    }
    for family in (
        "gemma3",
        "llava",
        "llava_next",
        "qwen2_vl",
        "qwen2_5_vl",
        "qwen3_vl",
        "mistral3",
        "internvl",
        "smolvlm",
        "idefics3",
        "glm4v",
        "llama4",
        "mllama",
    ):
        text = {**small, "head_dim": 16} if family in ("gemma3", "mistral3", "llama4", "qwen3_vl") else dict(small)
        if family == "mllama":
            text["cross_attention_layers"] = [0]
        out.append((f"{family}-defaults", {"model_type": family, "text_config": text, "vision_config": {}}))
    out.append(
        (
            "qwen3_vl_moe-defaults",
            {
                "model_type": "qwen3_vl_moe",
                "vision_config": {},
                "text_config": {**small, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 16},
            },
        )
    )
    out.append(
        (
            "glm4v_moe-defaults",
            {
                "model_type": "glm4v_moe",
                "vision_config": {},
                "text_config": {**small, "n_routed_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 16},
            },
        )
    )
    out.append(("qwen2_audio-defaults", {"model_type": "qwen2_audio", "text_config": dict(small), "audio_config": {}}))
    out.append(("phi4_multimodal-defaults", {"model_type": "phi4_multimodal", **small}))
    out.append(("whisper-defaults", {"model_type": "whisper", "vocab_size": 51866, "pad_token_id": 0}))
    return out + gemma3n_configs()


def gemma3n_configs() -> list[tuple[str, dict[str, Any]]]:
    """Gemma 3n: a small text model; MobileNetV5 narrowed and varied through timm's ``model_args``
    (its block list is fixed by the architecture name); USM audio towers with uneven heads,
    kernels and strides; head tying; and the defaults (the E4B-like reference of the config class)."""
    text = {
        "model_type": "gemma3n_text",
        "vocab_size": 512,
        "vocab_size_per_layer_input": 384,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 5,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 32,
        "hidden_size_per_layer_input": 16,
        "altup_num_inputs": 3,
        "laurel_rank": 8,
        "num_kv_shared_layers": 2,
        "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention",
                        "sliding_attention"],
    }  # fmt: skip
    audio = {
        "hidden_size": 64,
        "conf_num_hidden_layers": 2,
        "conf_num_attention_heads": 4,
        "input_feat_size": 32,
        "sscp_conv_channel_size": [16, 8],
        "vocab_size": 24,
    }
    return [
        (
            "gemma3n-a",
            {
                "model_type": "gemma3n",
                "vision_soft_tokens_per_image": 64,
                "text_config": text,
                "vision_config": {"hidden_size": 96, "vocab_size": 32, "model_args": {"channel_multiplier": 0.25}},
                "audio_config": audio,
            },
        ),
        (
            "gemma3n-varied-untied",
            {
                "model_type": "gemma3n",
                "tie_word_embeddings": False,
                "text_config": {**text, "intermediate_size": [96, 128, 64, 128, 96], "altup_num_inputs": 2},
                "vision_config": {
                    "hidden_size": 48,
                    "model_args": {
                        "channel_multiplier": 0.5,
                        "in_chans": 1,
                        "stem_bias": False,
                        "stem_size": 40,
                        "msfa_indices": [-3, -1],
                        "group_size": 8,
                    },
                },
                "audio_config": {
                    **audio,
                    "hidden_size": 60,
                    "conf_num_attention_heads": 8,
                    "conf_conv_kernel_size": 7,
                    "input_feat_size": 40,
                    "sscp_conv_channel_size": [12, 6],
                    "sscp_conv_kernel_size": [[3, 5], [5, 3]],
                    "sscp_conv_stride_size": [[2, 1], [1, 2]],
                },
            },
        ),
        (
            "gemma3n-fixstem-text-untied",
            {
                "model_type": "gemma3n",
                "text_config": {**text, "tie_word_embeddings": False, "num_kv_shared_layers": 0},
                "vision_config": {
                    "hidden_size": 32,
                    "vocab_size": 8,
                    "model_args": {"channel_multiplier": 0.375, "fix_stem": False, "msfa_indices": [0, 2, 4],
                                   "group_size": 0, "layer_scale_init_value": None},
                },  # fmt: skip
                "audio_config": {**audio, "conf_num_hidden_layers": 3, "sscp_conv_channel_size": [8, 16]},
            },
        ),
        ("gemma3n-towers-default", {"model_type": "gemma3n", "text_config": text, "vision_config": {},
                                    "audio_config": {}}),  # fmt: skip
        ("gemma3n-defaults", {"model_type": "gemma3n"}),
    ]


def measure(config: dict[str, Any]) -> dict[str, int]:
    """transformers' counts for one config (the full conditional-generation class on the meta device)."""
    import torch
    import transformers
    from transformers import AutoConfig

    cfg = AutoConfig.for_model(**config)
    cls = getattr(transformers, CLASSES[config["model_type"]])
    with torch.device("meta"):
        model = cls(cfg)
    parts = {"vision_params": 0, "audio_params": 0, "projector_params": 0, "language_params": 0, "pos_embed": 0}
    whisper = config["model_type"] == "whisper"
    for name, p in model.named_parameters():
        n = p.numel()
        if "embed_positions" in name:
            parts["pos_embed"] += n
        if any(k in name for k in PROJECTOR_KEYS):
            parts["projector_params"] += n
        elif any(k in name for k in VISION_KEYS):
            parts["vision_params"] += n
        elif any(k in name for k in AUDIO_KEYS) or (whisper and name.startswith("model.encoder.")):
            parts["audio_params"] += n
        else:
            parts["language_params"] += n
    total = sum(p.numel() for p in model.parameters())
    embed = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    lm_head = 0 if out is None or out.weight is embed else out.weight.numel()
    return {"total": total, "embed": embed.numel(), "lm_head": lm_head, **parts}


def llmcalc_counts(config: dict[str, Any], name: str) -> dict[str, int]:
    sys.path.insert(0, str(ROOT))
    from llmcalc import count_params, spec_from_hf_config

    c = count_params(spec_from_hf_config(config, source=name))
    return {
        "total": c.total_params,
        "embed": c.embedding_params,
        "lm_head": c.lm_head_params,
        "pos_embed": c.positional_params,
        "vision_params": c.vision_params,
        "audio_params": c.audio_params,
        "projector_params": c.projector_params,
        "language_params": c.language_params,
    }


IMAGE_SIZES = [(1024, 768), (768, 1024), (224, 224), (64, 64), (1920, 1080), (4000, 3000), (100, 2000), (3000, 28)]


def _functions(module_file: str, *names: str, **env: Any) -> dict[str, Any]:
    """The named top-level functions of an installed transformers file, executed on their own.

    The image-processing modules import torchvision or PIL at the top, which the measurement venv
    does not have; their resize arithmetic needs neither, so it is taken from the source as is.
    """
    import ast
    import math

    import transformers

    path = Path(transformers.__file__).parent / "models" / module_file
    tree = ast.parse(path.read_text())
    namespace: dict[str, Any] = {"math": math, **env}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            node.returns = None
            for arg in [*node.args.args, *node.args.kwonlyargs]:
                arg.annotation = None
            exec(compile(ast.Module([node], []), str(path), "exec"), namespace)  # noqa: S102 - transformers' own code
    return namespace


def media_table() -> list[dict[str, Any]]:
    """Image tokens by transformers' own resize functions for each dynamic rule (width, height)."""
    qwen = _functions("qwen2_vl/image_processing_qwen2_vl.py", "smart_resize")["smart_resize"]
    glm = _functions("glm4v/image_processing_glm4v.py", "smart_resize")["smart_resize"]
    pix = _functions(
        "pixtral/image_processing_pixtral.py",
        "get_resize_output_image_size",
        "_num_image_tokens",
        get_image_size=lambda image, fmt=None: image,
    )["get_resize_output_image_size"]
    rows = []
    for w, h in IMAGE_SIZES:
        for rule, factor, lo, hi in (("qwen2_vl", 28, 56 * 56, 28 * 28 * 1280), ("qwen3_vl", 32, 65536, 16777216)):
            if max(w, h) / min(w, h) <= 200:
                hb, wb = qwen(h, w, factor=factor, min_pixels=lo, max_pixels=hi)
                rows.append({"rule": rule, "width": w, "height": h, "tokens": (hb // factor) * (wb // factor) + 2})
        if max(w, h) / min(w, h) <= 200 and min(w, h) >= 28:
            hb, wb = glm(2, h, w, temporal_factor=2, factor=28, min_pixels=112 * 112, max_pixels=28 * 28 * 15000)
            rows.append({"rule": "glm4v", "width": w, "height": h, "tokens": (hb // 28) * (wb // 28) + 2})
        hp, wp = pix((h, w), size=(1540, 1540), patch_size=(28, 28))
        rows.append({"rule": "mistral3", "width": w, "height": h, "tokens": (hp // 28) * (wp // 28 + 1)})
    return rows


def whisper_cache() -> list[dict[str, Any]]:
    """Bytes of Whisper's EncoderDecoderCache after a prefill of T decoder tokens at batch B (float32, CPU).

    The decoder's self-attention holds T tokens; its cross-attention holds the encoder's
    ``max_source_positions`` frames, whatever T is.
    """
    import torch
    import transformers
    from transformers import AutoConfig

    config = dict(next(c for n, c in configs() if n == "whisper-a"))
    model_type = config.pop("model_type")
    model = transformers.WhisperForConditionalGeneration(AutoConfig.for_model(model_type, **config)).eval()
    rows = []
    for batch, tokens in ((1, 5), (2, 7), (3, 12)):
        feats = torch.randn(batch, config["num_mel_bins"], 2 * config["max_source_positions"])
        with torch.no_grad():
            cache = model(
                input_features=feats, decoder_input_ids=torch.ones(batch, tokens, dtype=torch.long), use_cache=True
            ).past_key_values

        def nbytes(c: Any) -> int:
            return sum(t.numel() * t.element_size() for layer in c.layers for t in (layer.keys, layer.values))

        rows.append(
            {
                "config": "whisper-a",
                "batch": batch,
                "tokens": tokens,
                "dtype": "f32",
                "self_attention_bytes": nbytes(cache.self_attention_cache),
                "cross_attention_bytes": nbytes(cache.cross_attention_cache),
            }
        )
    return rows


def mllama_cache() -> list[dict[str, Any]]:
    """Bytes of Mllama's cache after a prefill with images (float32, CPU): self-attention layers hold T
    tokens, cross-attention layers every tile slot's vision tokens, ``images x max_num_tiles x
    ((S / P)^2 + 1)``."""
    import torch
    import transformers
    from transformers import AutoConfig

    config = dict(next(c for n, c in configs() if n == "mllama-a"))
    model_type = config.pop("model_type")
    hf = AutoConfig.for_model(model_type, **config)
    model = transformers.MllamaForConditionalGeneration(hf).eval()
    vc = hf.vision_config
    cross_layers = set(hf.text_config.cross_attention_layers)
    rows = []
    for batch, tokens, images in ((1, 6, 1), (2, 9, 1), (1, 5, 2)):
        tiles = vc.max_num_tiles
        with torch.no_grad():
            out = model(
                input_ids=torch.ones(batch, tokens, dtype=torch.long),
                pixel_values=torch.randn(batch, images, tiles, 3, vc.image_size, vc.image_size),
                aspect_ratio_ids=torch.ones(batch, images, dtype=torch.long),
                aspect_ratio_mask=torch.ones(batch, images, tiles, dtype=torch.long),
                cross_attention_mask=torch.ones(batch, tokens, images, tiles, dtype=torch.long),
                use_cache=True,
            )
        self_bytes = cross_bytes = 0
        for i, layer in enumerate(out.past_key_values.layers):
            n = sum(t.numel() * t.element_size() for t in (layer.keys, layer.values) if t is not None)
            if i in cross_layers:
                cross_bytes += n
            else:
                self_bytes += n
        rows.append(
            {
                "config": "mllama-a",
                "batch": batch,
                "tokens": tokens,
                "images": images,
                "dtype": "f32",
                "self_attention_bytes": self_bytes,
                "cross_attention_bytes": cross_bytes,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the measured table (JSON) here")
    parser.add_argument("--only", help="only configs whose name starts with this")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with --write and --only: replace or add only the selected rows in the existing table",
    )
    args = parser.parse_args()
    import transformers

    rows = []
    failures = 0
    for name, config in configs():
        if args.only and not name.startswith(args.only):
            continue
        try:
            measured = measure(config)
        except Exception as exc:  # noqa: BLE001 - report and go on to the next family
            print(f"SKIP {name}: transformers could not build it: {exc}")
            continue
        rows.append({"name": name, "config": config, "transformers": measured})
        try:
            ours = llmcalc_counts(config, name)
        except Exception as exc:  # noqa: BLE001
            print(f"FAIL {name}: llmcalc: {exc}")
            failures += 1
            continue
        diff = {k: (ours[k], v) for k, v in measured.items() if ours.get(k) != v}
        failures += bool(diff)
        print(f"{'ok  ' if not diff else 'DIFF'} {name} total={measured['total']:,} {diff or ''}")
    if args.write and args.merge:
        payload = json.loads(args.write.read_text())
        fresh = {row["name"] for row in rows}
        payload["configs"] = [r for r in payload["configs"] if r["name"] not in fresh] + rows
        args.write.write_text(json.dumps(payload, indent=1) + "\n")
        print(f"merged {len(rows)} configs into {args.write}")
    elif args.write:
        payload = {
            "transformers_version": transformers.__version__,
            "script": "benchmarks/verify_multimodal_counts.py",
            "configs": rows,
            "image_tokens": media_table(),
            "whisper_cache": whisper_cache(),
            "mllama_cache": mllama_cache(),
        }
        args.write.write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {len(rows)} configs to {args.write}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
