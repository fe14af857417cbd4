"""Whisper-style audio encoders: Whisper's encoder and Qwen2-Audio's audio tower.

Two 1-D convolutions over log-mel frames (the second with stride 2), a sinusoidal position table
stored as a parameter (``embed_positions``, frozen), pre-norm transformer layers whose key
projection has no bias, and a final LayerNorm (Radford et al. 2022, "Robust Speech Recognition via
Large-Scale Weak Supervision", arXiv 2212.04356, section 2.2). Reference: transformers
``models/whisper/modeling_whisper.py`` (``WhisperEncoder``, ``WhisperEncoderLayer``,
``WhisperAttention``) and ``models/qwen2_audio/modeling_qwen2_audio.py`` (``Qwen2AudioEncoder``,
the same layout).
"""

from __future__ import annotations

from llmcalc.params import TOWER_POSITIONAL_TABLE
from llmcalc.spec import Tower
from llmcalc.towers.base import (
    conv,
    conv_module,
    embedding_module,
    encoder_stack,
    lin,
    norm,
    tower,
    vit_attention,
    vit_mlp,
    with_modules,
)

#: The component name of a tower's learned sequence-position table; :func:`llmcalc.params.count_params`
#: counts it in ``positional_params`` as well (Whisper's ``encoder.embed_positions``), as
#: ``shared/reference/configs-2-params.json`` does. Vision towers' patch position tables are not.
POSITIONAL_TABLE = TOWER_POSITIONAL_TABLE


def whisper_encoder(
    *,
    d_model: int,
    ffn_dim: int,
    num_layers: int,
    num_mel_bins: int,
    max_source_positions: int,
    kind: str = "whisper_encoder",
) -> Tower:
    """A Whisper (or Qwen2-Audio) audio encoder::

    conv1            Conv1d(mels, D, 3) with bias       3 mels D + D
    conv2            Conv1d(D, D, 3, stride 2) with bias  3 D^2 + D
    embed_positions  max_source_positions x D           (frozen, still a parameter)
    per layer        LN, q/v/out with bias and k without 4 D^2 + 3 D, LN, fc1/fc2 (bias)
    layer_norm       2 D

    Modules as ``WhisperEncoder`` names them (``conv1``, ``conv2``, ``embed_positions``,
    ``layers.{i}.self_attn.{q,k,v,out}_proj``, ``layers.{i}.fc1``/``fc2``).
    """
    d = d_model
    parts = [
        ("conv_embedding", conv(num_mel_bins, d, 3) + conv(d, d, 3)),
        (POSITIONAL_TABLE, max_source_positions * d),
        *encoder_stack(
            num_layers, attention=vit_attention(d, k_bias=False), mlp=vit_mlp(d, ffn_dim), norms=2 * norm(d)
        ),
        ("norms", norm(d)),
    ]
    base = "layers.{i}"
    modules = [
        conv_module("conv1", num_mel_bins, d, 3, bias=True),
        conv_module("conv2", d, d, 3, bias=True),
        embedding_module("embed_positions", max_source_positions, d),
        *(lin(f"{base}.self_attn.{n}", d, d, bias=n != "k_proj", count=num_layers)
          for n in ("q_proj", "k_proj", "v_proj", "out_proj")),
        lin(f"{base}.fc1", d, ffn_dim, count=num_layers),
        lin(f"{base}.fc2", ffn_dim, d, count=num_layers),
    ]
    layer_norm_biases = 2 * d * num_layers + d
    return with_modules(
        tower("audio", kind, parts, hidden_size=d, num_layers=num_layers), modules, other_biases=layer_norm_biases
    )
