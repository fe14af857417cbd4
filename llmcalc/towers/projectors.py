"""Projectors: what maps a tower's features into the language model's width.

Each is the ``multi_modal_projector`` (or ``connector``) module of the checkpoint class in Hugging
Face transformers 5.24; the file named in each docstring is under ``src/transformers/models/``.
"""

from __future__ import annotations

from llmcalc.spec import Tower
from llmcalc.towers.base import embedding_module, lin, linear, norm, tower, with_modules


def _projector(kind: str, parts: list[tuple[str, int]], out: int) -> Tower:
    return tower("projector", kind, parts, hidden_size=out)


def mlp2_projector(vision_dim: int, text_dim: int, *, bias: bool = True, kind: str = "mlp2") -> Tower:
    """LLaVA's two-layer MLP (Liu et al. 2023, arXiv 2310.03744, section 3.1;
    ``llava/modeling_llava.py`` ``LlavaMultiModalProjector``): ``Linear(V, T)``, GELU,
    ``Linear(T, T)``, with biases when ``multimodal_projector_bias`` (default true). ``V`` is the
    vision width times the number of feature layers read."""
    t = _projector(
        kind, [("mlp", linear(vision_dim, text_dim, bias=bias) + linear(text_dim, text_dim, bias=bias))], text_dim
    )
    return with_modules(
        t, [lin("linear_1", vision_dim, text_dim, bias=bias), lin("linear_2", text_dim, text_dim, bias=bias)]
    )


def gemma3_projector(vision_dim: int, text_dim: int) -> Tower:
    """Gemma 3 (``gemma3/modeling_gemma3.py`` ``Gemma3MultiModalProjector``): an RMSNorm of the
    vision width (``mm_soft_emb_norm``) and a ``V x T`` matrix without bias
    (``mm_input_projection_weight``); the 4 x 4 average pooling to 256 tokens has no parameters."""
    return _projector(
        "gemma3", [("norm", norm(vision_dim, bias=False)), ("projection", vision_dim * text_dim)], text_dim
    )


def mistral3_projector(vision_dim: int, text_dim: int, *, merge: int, feature_layers: int, bias: bool) -> Tower:
    """Mistral 3 (``mistral3/modeling_mistral3.py`` ``Mistral3MultiModalProjector``): RMSNorm(V),
    a patch merger ``Linear(V m^2, V)`` without bias, then ``Linear(V F, T)`` and ``Linear(T, T)``
    with biases when ``multimodal_projector_bias`` (default false)."""
    v = vision_dim
    t = _projector(
        "mistral3",
        [
            ("norm", norm(v, bias=False)),
            ("patch_merger", linear(v * merge * merge, v, bias=False)),
            ("mlp", linear(v * feature_layers, text_dim, bias=bias) + linear(text_dim, text_dim, bias=bias)),
        ],
        text_dim,
    )
    return with_modules(t, [
        lin("patch_merger.merging_layer", v * merge * merge, v, bias=False),
        lin("linear_1", v * feature_layers, text_dim, bias=bias),
        lin("linear_2", text_dim, text_dim, bias=bias),
    ])


def internvl_projector(vision_dim: int, text_dim: int, *, downsample_ratio: float) -> Tower:
    """InternVL (``internvl/modeling_internvl.py`` ``InternVLMultiModalProjector``): pixel shuffle
    by ``r = downsample_ratio`` (no parameters), LayerNorm(V / r^2), ``Linear(V / r^2, T)``, GELU,
    ``Linear(T, T)``, all with biases (``int(1 / r)^2`` channels per merged token)."""
    wide = vision_dim * int(1 / downsample_ratio) ** 2
    t = _projector(
        "internvl", [("norm", norm(wide)), ("mlp", linear(wide, text_dim) + linear(text_dim, text_dim))], text_dim
    )
    # modules linear_1 / linear_2; the LayerNorm (layer_norm) adds its bias
    return with_modules(t, [lin("linear_1", wide, text_dim), lin("linear_2", text_dim, text_dim)], other_biases=wide)


def linear_projector(in_dim: int, out_dim: int, *, bias: bool, kind: str) -> Tower:
    """One linear map ``in -> out``: Mllama (``Linear(vision_output_dim, T)`` with bias,
    ``mllama/modeling_mllama.py``), Llama 4 (``Linear(vision_output_dim, T)`` without,
    ``llama4/modeling_llama4.py``), Qwen2-Audio (``Linear(D_audio, T)`` with bias,
    ``qwen2_audio/modeling_qwen2_audio.py``), Idefics3 / SmolVLM (``connector.modality_projection``,
    ``Linear(V s^2, T)`` without bias after a pixel shuffle by ``scale_factor`` s)."""
    t = _projector(kind, [("projection", linear(in_dim, out_dim, bias=bias))], out_dim)
    # The module itself (Mllama's ``multi_modal_projector``) or its one child; the importer's root says which.
    return with_modules(t, [lin("", in_dim, out_dim, bias=bias)])


def gemma3n_embedder(mm_dim: int, text_dim: int, *, vocab: int, kind: str) -> Tower:
    """Gemma 3n's ``embed_vision`` / ``embed_audio`` (``gemma3n/modeling_gemma3n.py``
    ``Gemma3nMultimodalEmbedder``): an ``Embedding(vocab, M)`` for the modality's hard tokens, two
    RMSNorms of ``M`` (hard and soft), ``Linear(M, T)`` without bias, and a scale-free RMSNorm.
    Modules ``embedding`` and ``embedding_projection``."""
    parts = [
        ("embedding", vocab * mm_dim),
        ("norm", 2 * norm(mm_dim, bias=False)),
        ("projection", linear(mm_dim, text_dim, bias=False)),
    ]
    t = _projector(kind, parts, text_dim)
    return with_modules(
        t, [embedding_module("embedding", vocab, mm_dim), lin("embedding_projection", mm_dim, text_dim, bias=False)]
    )
