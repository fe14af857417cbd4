"""Google Gemma 3n, the text model (``gemma3n_text``): per-layer embeddings, AltUp, Laurel, KV sharing.

Reference: transformers ``models/gemma3n/modeling_gemma3n.py`` (``Gemma3nTextModel``,
``Gemma3nTextDecoderLayer``, ``Gemma3nTextAltUp``, ``Gemma3nTextLaurelBlock``) with the defaults of
``Gemma3nTextConfig`` (5.24); AltUp: Baykal et al., NeurIPS 2023; Laurel: Menghani et al., arXiv
2411.07501. The multimodal ``gemma3n`` config wraps this one in ``text_config``; its reader calls
:func:`gemma3n_text` with a :class:`Fields` over that mapping.

Per layer (``L`` layers, width ``H``, ``n`` = ``altup_num_inputs``, ``r`` = ``laurel_rank``,
``p`` = ``hidden_size_per_layer_input``): Gemma attention with q/k RMSNorms of ``head_dim`` (the
v norm has no scale) and biases by ``attention_bias``; a GeGLU MLP of ``intermediate_size[i]``
(one width or one per layer); four norms (sandwich); AltUp (``correct_output_scale`` ``H``,
``correction_coefs`` ``n x n``, ``prediction_coefs`` ``n x n^2``, ``modality_router`` ``H x n``,
``router_norm`` ``H``); Laurel (``H x r``, ``r x H``, a norm ``H``); the per-layer input gate
``H x p``, projection ``p x H`` and norm ``H``. Model-wide: the token embedding, the per-layer
embedding table ``vocab_size_per_layer_input x L p``, its projection ``H x L p`` and norm ``p``,
and ``2 (n - 1)`` AltUp projections of ``H x H``. The last ``num_kv_shared_layers`` layers reuse an
earlier layer's keys and values (no k/v projections, no cache). Activation sparsity (the first 10
layers' top-k GELU gate) has no parameters. Counted as transformers builds it, which is what the
released checkpoints hold (the "E2B"/"E4B" names count parameters without the per-layer table).
The extras that are ``nn.Linear`` / ``nn.Embedding`` modules carry their module names there
(``altup.modality_router``, ``laurel.linear_left``, ``embed_tokens_per_layer``, ...), for LoRA.
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.importers.hf.common import decoder_spec, layer_windows, rope, with_defaults
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import MLP, Attention, ExtraWeight, LayerGroup, ModelSpec, Norm

#: Gemma3nTextConfig defaults (configuration_gemma3n.py).
DEFAULTS = {
    "vocab_size": 262_400,
    "hidden_size": 2048,
    "intermediate_size": 16_384,
    "num_hidden_layers": 35,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "head_dim": 256,
    "sliding_window": 512,
    "vocab_size_per_layer_input": 262_144,
    "hidden_size_per_layer_input": 256,
    "altup_num_inputs": 4,
    "num_kv_shared_layers": 15,
    "laurel_rank": 64,
    "max_position_embeddings": 32_768,
}


def _intermediate(f: Fields, n_layers: int) -> list[int]:
    raw = f.data.get("intermediate_size")
    if isinstance(raw, list):
        if len(raw) != n_layers or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw):
            f.errors.append(
                f"field 'intermediate_size' must be one positive integer or {n_layers} of them, got {raw!r}"
            )
            return [1] * n_layers
        return raw
    return [f.integer("intermediate_size")] * n_layers


def gemma3n_text(f: Fields, name: str, mt: str) -> ModelSpec:
    """Gemma 3n's language model (``Gemma3nForCausalLM``), exact as transformers builds it."""
    f = with_defaults(f, **DEFAULTS)
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    n_layers = f.integer("num_hidden_layers")
    vocab = f.integer("vocab_size")
    kv_heads = f.integer("num_key_value_heads")
    head_dim = f.integer("head_dim")
    bias = f.boolean("attention_bias", default=False)
    inter = _intermediate(f, n_layers)
    n_alt = f.integer("altup_num_inputs")
    rank = f.integer("laurel_rank")
    per_layer = f.integer("hidden_size_per_layer_input")
    per_layer_vocab = f.integer("vocab_size_per_layer_input")
    shared = f.integer("num_kv_shared_layers", minimum=0)
    default_types = ["full_attention" if (i + 1) % 5 == 0 else "sliding_attention" for i in range(n_layers)]
    windows = layer_windows(f, n_layers, default_types)
    positional = rope(f, max_pos=f.opt_int("max_position_embeddings"))
    if shared > n_layers:
        f.errors.append(f"field 'num_kv_shared_layers' ({shared}) exceeds num_hidden_layers ({n_layers})")
    f.check()
    first_shared = n_layers - shared if shared else n_layers
    layer_extras = (
        ExtraWeight("altup_correct_scale.weight", "altup", (hidden,)),
        ExtraWeight("altup_correct_coef.weight", "altup", (n_alt, n_alt), "altup.correction_coefs"),
        ExtraWeight("altup_predict_coef.weight", "altup", (n_alt, n_alt * n_alt), "altup.prediction_coefs"),
        ExtraWeight("altup_router.weight", "altup", (hidden, n_alt), "altup.modality_router"),
        ExtraWeight("altup_router_norm.weight", "altup", (hidden,)),
        ExtraWeight("laurel_l.weight", "laurel", (hidden, rank), "laurel.linear_left"),
        ExtraWeight("laurel_r.weight", "laurel", (rank, hidden), "laurel.linear_right"),
        ExtraWeight("laurel_post_norm.weight", "laurel", (hidden,)),
        ExtraWeight("inp_gate.weight", "per_layer_inputs", (hidden, per_layer), "per_layer_input_gate"),
        ExtraWeight("proj.weight", "per_layer_inputs", (per_layer, hidden), "per_layer_projection"),
        ExtraWeight("post_norm.weight", "per_layer_inputs", (hidden,)),
    )

    def layer(i: int) -> LayerGroup:
        attention = Attention(
            num_heads=heads,
            num_kv_heads=kv_heads,
            head_dim=head_dim,
            v_head_dim=head_dim,
            qkv_bias=bias,
            o_bias=bias,
            qk_norm="head",
            sliding_window=windows[i],
            kv_shared=i >= first_shared,
        )
        return LayerGroup(1, attention, mlp=MLP(inter[i]), norm_placement="sandwich", extras=layer_extras)

    spec = decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=layer,
        positional=positional,
        norm=Norm("rmsnorm"),
        tie_default=True,
    )
    model_extras = [
        ExtraWeight("per_layer_token_embd.weight", "per_layer_embedding", (n_layers * per_layer, per_layer_vocab),
                    "embed_tokens_per_layer", "embedding"),
        ExtraWeight("per_layer_model_proj.weight", "per_layer_inputs", (hidden, n_layers * per_layer),
                    "per_layer_model_projection"),
        ExtraWeight("per_layer_proj_norm.weight", "per_layer_inputs", (per_layer,)),
    ]
    for j in range(1, n_alt):
        model_extras.append(ExtraWeight(f"altup_proj.{j - 1}.weight", "altup", (hidden, hidden),
                                        f"altup_projections.{j - 1}"))
        model_extras.append(ExtraWeight(f"altup_unembd_proj.{j - 1}.weight", "altup", (hidden, hidden),
                                        f"altup_unembed_projections.{j - 1}"))
    return replace(spec, extras=tuple(model_extras))
