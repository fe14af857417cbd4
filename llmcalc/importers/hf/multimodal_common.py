"""Shared readers for multimodal builders: nested configs, text-model defaults, head tying, assembly.

See :mod:`llmcalc.importers.hf.multimodal` for the conventions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from llmcalc.errors import SpecError
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import ImageTokens, ModelSpec, Tower

#: text_config model_type -> registry model_type, for text models that are a known builder's twin.
TEXT_ALIASES = {
    "ministral3": "mistral",
    "qwen2_vl_text": "qwen2",
    "qwen2_5_vl_text": "qwen2",
    "qwen3_vl_text": "qwen3",
    "qwen3_vl_moe_text": "qwen3_moe",
    "llama4_text": "llama4_text",
    "phi4_multimodal_text": "phi3",
}


#: Size fields a text_config may leave out, with the defaults of its transformers 5.24 config class
#: (``configuration_<type>.py``; class-level field defaults only, not derived values such as
#: Llama's ``head_dim = hidden_size // num_attention_heads``, which the builders compute).
TEXT_DEFAULTS: dict[str, dict[str, Any]] = {
    "llama": {
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
    },
    "mistral": {
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
    },
    "ministral3": {
        "vocab_size": 131072,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 34,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
    },
    "qwen2": {
        "vocab_size": 151936,
        "hidden_size": 4096,
        "intermediate_size": 22016,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
    },
    "qwen3": {
        "vocab_size": 151936,
        "hidden_size": 4096,
        "intermediate_size": 22016,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "head_dim": 128,
    },
    "gemma3_text": {
        "vocab_size": 262208,
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "num_hidden_layers": 26,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
    },
    "qwen2_vl_text": {
        "vocab_size": 152064,
        "hidden_size": 8192,
        "intermediate_size": 29568,
        "num_hidden_layers": 80,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
    },
    "qwen3_vl_text": {
        "vocab_size": 151936,
        "hidden_size": 4096,
        "intermediate_size": 22016,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "head_dim": 128,
    },
    "qwen3_vl_moe_text": {
        "vocab_size": 151936,
        "hidden_size": 2048,
        "intermediate_size": 5632,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "num_experts": 60,
        "num_experts_per_tok": 4,
        "moe_intermediate_size": 1408,
    },
    "glm4v_text": {
        "vocab_size": 151552,
        "hidden_size": 4096,
        "intermediate_size": 13696,
        "num_hidden_layers": 40,
        "num_attention_heads": 32,
        "num_key_value_heads": 2,
    },
    "glm4v_moe_text": {
        "vocab_size": 151424,
        "hidden_size": 4096,
        "intermediate_size": 10944,
        "num_hidden_layers": 46,
        "num_attention_heads": 96,
        "num_key_value_heads": 8,
        "num_experts_per_tok": 8,
        "moe_intermediate_size": 1408,
        "n_routed_experts": 128,
        "n_shared_experts": 1,
        "first_k_dense_replace": 1,
        "attention_bias": True,
    },
    "llama4_text": {
        "vocab_size": 202048,
        "hidden_size": 5120,
        "intermediate_size": 8192,
        "num_hidden_layers": 48,
        "num_attention_heads": 40,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "num_experts_per_tok": 1,
        "num_local_experts": 16,
        "intermediate_size_mlp": 16384,
    },
}
TEXT_DEFAULTS["qwen2_5_vl_text"] = TEXT_DEFAULTS["qwen2_vl_text"]
#: Context and window defaults (no parameters; they size the KV cache and bound --context).
for _type, _positions in {
    "llama": 2048, "mistral": 131072, "ministral3": 262144, "qwen2": 32768, "qwen3": 32768,
    "gemma3_text": 131072, "qwen2_vl_text": 32768, "qwen3_vl_text": 128000, "qwen3_vl_moe_text": 128000,
    "glm4v_text": 32768, "glm4v_moe_text": 65536, "llama4_text": 131072,
}.items():  # fmt: skip
    TEXT_DEFAULTS[_type]["max_position_embeddings"] = _positions
TEXT_DEFAULTS["gemma3_text"]["sliding_window"] = 4096
#: Gemma3nTextConfig's defaults are applied by its own builder (importers.hf.gemma3n).
TEXT_DEFAULTS["gemma3n_text"] = {}
#: Phi4MultimodalConfig keeps its text fields at the top level.
TEXT_DEFAULTS["phi4_multimodal_text"] = {
    "vocab_size": 200064, "hidden_size": 3072, "intermediate_size": 8192, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8,
}  # fmt: skip


def with_text_defaults(data: Mapping[str, Any], text_type: str) -> dict[str, Any]:
    """``data`` over the defaults of its text config class (present keys win, ``None`` counts as absent)."""
    present = {k: v for k, v in data.items() if v is not None or k == "sliding_window"}  # null: no window
    return {**TEXT_DEFAULTS.get(text_type, {}), **present}


def sub(f: Fields, key: str, *, required: bool = False) -> Nested:
    """``f[key]`` (a nested config such as ``vision_config``) as Fields that report into ``f``."""
    raw = f.data.get(key)
    if raw is None:
        if required:
            f.errors.append(f"missing required field '{key}'")
        else:
            f.assumptions.append(f"no '{key}': the tower takes its config class's defaults, as transformers does")
        raw = {}
    elif not isinstance(raw, Mapping):
        f.errors.append(f"field '{key}' must be a mapping, got {type(raw).__name__}")
        raw = {}
    return Nested(raw, f, key, present=f.data.get(key) is not None)


class Nested(Fields):
    """Fields of a nested mapping whose problems are recorded in the parent with ``key.`` in front."""

    def __init__(self, data: Mapping[str, Any], parent: Fields, key: str, *, present: bool = True) -> None:
        super().__init__(data, parent.source)
        self._parent = parent
        self._key = key
        self.present = present  # the key was in the config (some families default an absent one differently)
        self.assumptions = parent.assumptions

    def check(self) -> None:
        self._flush()
        self._parent.check()

    def _flush(self) -> None:
        for message in self.errors:
            self._parent.errors.append(
                message.replace("field '", f"field '{self._key}.", 1).replace(
                    "missing required field '", f"missing required field '{self._key}.", 1
                )
            )
        self.errors.clear()


def size2(f: Fields, key: str, default: int | tuple[int, int]) -> tuple[int, int]:
    """An image or patch size given as one int or ``[h, w]``."""
    value = f.data.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, value
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return int(value[0]), int(value[1])
    f.errors.append(f"field '{key}' must be a positive integer or a pair of them, got {value!r}")
    return 1, 1


def feature_layers(f: Fields, key: str = "vision_feature_layer") -> int:
    """How many vision layers a projector reads: 1 for an int, the length of a list."""
    value = f.data.get(key, -1)
    return len(value) if isinstance(value, list) and value else 1


def text_spec(
    f: Fields,
    name: str,
    *,
    default_type: str,
    key: str = "text_config",
    flat: bool = False,
    ignored: tuple[str, ...] = (),
) -> tuple[ModelSpec, Fields]:
    """The language model from ``text_config`` (or, when ``flat`` and it is absent, the top level).

    ``ignored`` keys are dropped first: fields the family's text model does not read although the
    builder of its twin would (Qwen2-VL's attention is ``hidden_size / num_attention_heads`` wide
    whatever ``head_dim`` says).
    """
    from llmcalc.importers.hf import builder_for

    raw = f.data.get(key)
    if raw is None and flat:
        data: Mapping[str, Any] = f.data
        text_type = default_type
        source = f.source
    elif isinstance(raw, Mapping):
        data = raw
        text_type = raw.get("model_type") or default_type
        source = f"{f.source} ({key})"
    elif raw is None and default_type in TEXT_DEFAULTS:
        f.assumptions.append(f"no '{key}': the language model takes {default_type}'s defaults, as transformers does")
        data, text_type, source = {}, default_type, f"{f.source} ({key})"
    else:
        raise SpecError(f"{f.source}: field '{key}' must be a mapping for a {f.data.get('model_type')} config")
    if not isinstance(text_type, str):
        text_type = default_type
    data = {k: v for k, v in with_text_defaults(data, text_type).items() if k not in ignored}
    text_type = TEXT_ALIASES.get(text_type, text_type)
    t = Fields(data, source)
    t.assumptions = f.assumptions
    return builder_for(text_type)(t, name, text_type), t


def assemble(
    f: Fields,
    spec: ModelSpec,
    towers: list[Tower],
    *,
    model_type: str,
    tie: bool,
) -> ModelSpec:
    """``spec`` with its towers, the family's model_type and the checkpoint class's head tying."""
    f.check()
    return replace(
        spec,
        model_type=model_type,
        towers=tuple(towers),
        lm_head="tied" if tie else "untied",
        torch_dtype=spec.torch_dtype or _dtype(f),
        assumptions=tuple(dict.fromkeys(f.assumptions)),
    )


def _dtype(f: Fields) -> str | None:
    value = f.data.get("torch_dtype") or f.data.get("dtype")
    return value if isinstance(value, str) else None


def outer_tie(f: Fields, text: Fields, *, default: bool, text_forwards: bool) -> bool:
    """The top-level ``tie_word_embeddings`` (``default`` when absent); with ``text_forwards`` a
    true ``text_config`` value also ties (pre-v5 saves put it there)."""
    tie = f.boolean("tie_word_embeddings", default=default)
    if not tie and text_forwards and text.data is not f.data:
        tie = text.boolean("tie_word_embeddings", default=False)
    return tie


def with_image_tokens(vision: Tower, tokens: ImageTokens) -> Tower:
    return replace(vision, image_tokens=tokens)


def qwen_tokens(patch: int, merge: int, min_pixels: int, max_pixels: int) -> ImageTokens:
    """Qwen2-VL-style dynamic patching: ``patch x merge`` blocks within the pixel limits, start/end markers."""
    return ImageTokens(patch_size=patch, merge_size=merge, min_pixels=min_pixels, max_pixels=max_pixels, extra=2)
