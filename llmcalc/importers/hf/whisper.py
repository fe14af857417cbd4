"""Speech models: Whisper (an encoder-decoder) and Qwen2-Audio (a Whisper-style encoder before Qwen2).

Whisper's encoder is counted as its audio tower (``shared/reference/configs-2-params.json`` does the
same) and its decoder, token embedding and tied output head as the language model. Reference:
transformers ``models/whisper/modeling_whisper.py`` (``WhisperForConditionalGeneration``: ``proj_out``
tied to ``decoder.embed_tokens``) and ``models/qwen2_audio/modeling_qwen2_audio.py``, with the
defaults of their ``configuration_*.py``.
"""

from __future__ import annotations

from llmcalc.importers.hf.common import config_dtype
from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.multimodal_common import assemble, outer_tie, sub, text_spec
from llmcalc.spec import MLP, Attention, LayerGroup, ModelSpec, Norm, Positional, Stack, Tower
from llmcalc.towers import audio, projectors
from llmcalc.towers.base import at


def _encoder(f: Fields, kind: str, **defaults: int) -> Tower:
    return audio.whisper_encoder(
        d_model=f.integer("d_model", default=defaults["d_model"]),
        ffn_dim=f.integer("encoder_ffn_dim", default=defaults["ffn"]),
        num_layers=f.integer("encoder_layers", default=defaults["layers"]),
        num_mel_bins=f.integer("num_mel_bins", default=defaults["mels"]),
        max_source_positions=f.integer("max_source_positions", default=1500),
        kind=kind,
    )


def whisper(f: Fields, name: str, mt: str) -> ModelSpec:
    """Whisper (``WhisperForConditionalGeneration``).

    Decoder layers: self-attention and cross-attention (q/v/out with bias, k without), three
    LayerNorms, a plain GELU MLP with biases; a learned position table of ``max_target_positions``
    rows; a final LayerNorm. The encoder (audio tower) reads 30 s of audio as 1,500 frames.
    """
    # WhisperConfig's defaults are whisper-tiny's sizes.
    d = f.integer("d_model", default=384)
    heads = f.integer("decoder_attention_heads", default=6)
    vocab = f.integer("vocab_size", default=51865)
    layers = f.integer("decoder_layers", default=4)
    ffn = f.integer("decoder_ffn_dim", default=1536)
    max_target = f.integer("max_target_positions", default=448)
    head_dim = f.head_dim(d, heads)
    encoder = _encoder(f, "whisper_encoder", d_model=384, ffn=1536, layers=4, mels=80)
    tie = f.boolean("tie_word_embeddings", default=True)
    f.check()
    attention = Attention(
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=head_dim,
        v_head_dim=head_dim,
        qkv_bias=True,
        o_bias=True,
        k_bias=False,
    )
    layer = LayerGroup(
        count=layers, attention=attention, cross_attention=attention, mlp=MLP(ffn, gated=False, bias=True)
    )
    spec = ModelSpec(
        name=name,
        model_type=mt,
        vocab_size=vocab,
        hidden_size=d,
        stacks=(Stack(role="decoder", groups=(layer,)),),
        positional=Positional("learned", max_position_embeddings=max_target),
        norm=Norm("layernorm", bias=True),
        lm_head="tied" if tie else "untied",
        torch_dtype=config_dtype(f),
    )
    return assemble(f, spec, [at(encoder, "model.encoder")], model_type=mt, tie=tie)


def qwen2_audio(f: Fields, name: str, mt: str) -> ModelSpec:
    """Qwen2-Audio (``Qwen2AudioForConditionalGeneration``): a Whisper-large-style encoder
    (``audio_config``), ``Linear(d_model, hidden)`` with bias, and Qwen2 from ``text_config``."""
    spec, t = text_spec(f, name, default_type="qwen2")
    a = sub(f, "audio_config")
    encoder = _encoder(a, "qwen2_audio_encoder", d_model=1280, ffn=5120, layers=32, mels=128)
    projector = projectors.linear_projector(encoder.hidden_size, spec.hidden_size, bias=True, kind="qwen2_audio")
    a.check()
    # Qwen2AudioConfig has no tie_word_embeddings field: untied unless the config sets one.
    tie = outer_tie(f, t, default=False, text_forwards=False)
    # the projector's one Linear is model.multi_modal_projector.linear
    towers = [at(encoder, "model.audio_tower"), at(projector, "model.multi_modal_projector.linear")]
    return assemble(f, spec, towers, model_type=mt, tie=tie)
