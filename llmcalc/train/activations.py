"""Activation memory saved for backward, per micro-batch, with recompute and model parallelism.

An **estimate**, term by term. The structure is Korthikanti et al. 2022 ("Reducing Activation
Recomputation in Large Transformer Models", arXiv 2205.05198): section 4.1 counts, per layer and
per token, what the backward pass needs (``34 s b h + 5 a s^2 b`` bytes for a GPT layer in 16-bit,
with dropout masks), section 4.2 splits the tensors inside the tensor-parallel region by ``t`` and,
with sequence parallelism, the rest too; section 5 (selective recompute) drops the ``s^2`` part,
and full recompute keeps only each layer's input. Here each term is taken from the tensors that
Hugging Face transformers' implementations save (``modeling_llama.py`` and kin, checked with
``benchmarks/measure_train_torch.py``), which extends the paper to GQA (k and v at
``n_kv x d_h``), gated MLPs (gate, up, activation and product at the intermediate size), MoE
(each routed token's expert activations, ``k`` per token), SDPA/FlashAttention (``q, k, v``, the
output and an fp32 log-sum-exp per head: no ``s^2`` term) and eager attention (the fp32 softmax
and its 16-bit copy, ``6 n_h s`` bytes per token). Per token, with ``a`` bytes per activation value:

- each norm: its fp32 upcast input and normalised output (RMSNorm: ``4h + a h``; LayerNorm: ``a h``
  input) plus its output, which the next matmul saves (``a h``);
- attention: q and k after rotary (rotary's own multiplies save only cos/sin), v, and the
  attention output o_proj reads: ``a (q + k + v + o)``; eager GQA saves k and v repeated to
  ``n_h`` heads instead; a fused q/k/v projection (GPT-2's ``c_attn``) keeps its whole output
  alive under the q/k/v views, plus copies of q and v; q/k norms add their fp32 input and
  output; then the ``s^2`` part (eager: fp32 softmax and its 16-bit copy, ``6 n_h s``; GPT-2's own
  eager softmax runs in 16 bits, ``2 n_h s``) or SDPA's log-sum-exp (``4 n_h``);
- MLP: gated ``4 a I``, plain ``2 a I`` (an unfused tanh-GELU, GPT-2's ``gelu_new``, saves three
  more tensors of ``I``); MoE: per routed token-expert pair the gathered input, the expert MLP,
  the expert output before weighting (``4 a I + 2 a h``) and ~26 bytes of indices and weights,
  plus the fp32 router logits (``4 E``);
- outside the layers: the token ids (8 bytes), rotary cos/sin once (``2 a d_h``), the final norm,
  and the loss's fp32 log-softmax over the vocabulary (``4 V``; the 16-bit logits are not saved).

No dropout is assumed (every recent LLM trains with dropout 0; with dropout add 1 byte per value
masked, Korthikanti's ``2 s b h`` terms). Full recompute keeps ``a h`` per layer (its input).
Pipeline parallelism with 1F1B keeps ``min(p, micro-batches)`` micro-batches in flight on the first
stage (Korthikanti section 4.2.3), which holds ``L / p`` layers: about ``L`` layers' worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import UsageError
from llmcalc.spec import MLP, Attention, LayerGroup, ModelSpec
from llmcalc.train.names import family_of

#: model types whose MLP activation is an unfused tanh-GELU written in Python (``NewGELUActivation``,
#: ``activations.py`` in transformers), which saves three extra intermediate-sized tensors
UNFUSED_GELU = ("gpt2", "gpt_bigcode", "gptj", "phi", "codegen")
ATTENTION_IMPLS = ("eager", "sdpa", "flash")
RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True, slots=True)
class ActivationEstimate:
    """Bytes saved for backward on one GPU for one micro-batch (times the micro-batches in flight).

    ``recompute_peak_bytes`` is one layer's full activations, rebuilt while that layer's backward
    runs under selective or full recompute; it is not saved in the forward pass (not in
    ``total_bytes``) but adds to the peak (:mod:`llmcalc.train.plan` counts it).

    ``layer_bytes`` are the layers on this GPU, ``attention_score_bytes`` the ``s^2`` part of them
    (eager attention), ``outside_bytes`` the embedding, final norm and the loss's fp32
    log-softmax (``logits_bytes``), all for ``in_flight`` micro-batches.
    """

    micro_batch: int
    seq_tokens: int
    attention: str
    recompute: str
    layer_bytes: int
    attention_score_bytes: int
    outside_bytes: int
    logits_bytes: int
    in_flight: int
    total_bytes: int
    recompute_peak_bytes: int = 0


def _norm_bytes(spec: ModelSpec, a: int) -> int:
    h = spec.hidden_size
    if spec.norm.kind == "rmsnorm":
        return 4 * h + a * h + a * h
    return a * h + a * h


def _attention_bytes(attn: Attention, *, seq: int, impl: str, a: int, fused: bool, tp: int,
                     norm_fp32: bool) -> tuple[Fraction, Fraction]:
    """Per-token bytes of one attention block inside the TP region, and its ``s^2`` part."""
    q = attn.num_heads * attn.head_dim
    k = attn.num_kv_heads * attn.head_dim
    v = attn.num_kv_heads * attn.v_head_dim
    o = attn.num_heads * attn.v_head_dim
    if impl == "eager" and attn.num_kv_heads != attn.num_heads:  # repeat_kv copies
        k, v = q, attn.num_heads * attn.v_head_dim
    body = a * (q + k + v + o)
    if fused:  # q/k/v are views of the fused projection's output, which stays alive, plus a q copy
        body = a * (q + (q + k + v) + v + o)
    if attn.qk_norm in ("head", "all-heads"):  # each q/k norm: fp32 input and normalised output
        body += ((4 if norm_fp32 else 0) + a) * (q + k)
    scores = 0
    if impl == "eager":
        scores = (2 if fused else 6) * attn.num_heads * seq
    else:
        body += 4 * attn.num_heads
    return Fraction(body, tp), Fraction(scores, tp)


def _mlp_bytes(mlp: MLP, a: int, gelu: bool) -> int:
    i = mlp.intermediate_size
    return (4 if mlp.gated else 2 + (3 if gelu else 0)) * a * i


def _layer_bytes(spec: ModelSpec, g: LayerGroup, *, seq: int, impl: str, a: int, tp: int,
                 sp: bool) -> tuple[Fraction, Fraction]:
    """Per-token bytes of one layer of ``g`` (all of it), and the ``s^2`` part."""
    gelu = spec.model_type in UNFUSED_GELU
    fused = bool(family_of(spec.model_type)[0].qkv)
    norm_fp32 = spec.norm.kind == "rmsnorm"
    outside_tp = Fraction(g.norms * _norm_bytes(spec, a), tp if sp else 1)
    inside = Fraction(0)
    scores = Fraction(0)
    for attn in (g.attention, g.cross_attention):
        if attn is not None:
            body, s2 = _attention_bytes(attn, seq=seq, impl=impl, a=a, fused=fused, tp=tp, norm_fp32=norm_fp32)
            inside += body
            scores += s2
    if g.mixer is not None:  # a mixer's linear outputs, each saved once by the next op
        inside += Fraction(sum(a * w.shape[1] for w in g.mixer.weights(spec.hidden_size)
                               if w.kind == "linear" and len(w.shape) == 2), tp)
    if g.mlp is not None:
        inside += Fraction(_mlp_bytes(g.mlp, a, gelu), tp)
    if g.moe is not None:
        moe = g.moe
        h = spec.hidden_size
        per_expert_token = _mlp_bytes(moe.expert, a, gelu) + 2 * a * h
        inside += Fraction(moe.experts_per_token * (per_expert_token + 26) + 4 * moe.num_experts, tp)
        if moe.shared_expert is not None:
            inside += Fraction(_mlp_bytes(moe.shared_expert, a, gelu), tp)
    return outside_tp + inside + scores, scores


def activation_memory(
    spec: ModelSpec,
    *,
    micro_batch: int,
    seq_tokens: int,
    attention: str = "sdpa",
    recompute: str = "none",
    activation_bytes: int = 2,
    tp: int = 1,
    pp: int = 1,
    cp: int = 1,
    sequence_parallel: bool = False,
    micro_batches: int = 1,
) -> ActivationEstimate:
    """Activation bytes saved for backward on one GPU (the first pipeline stage): an estimate.

    See the module docstring for each term. ``cp`` splits the sequence (each rank holds
    ``s / cp`` tokens; attention's keys stay ``s``), ``tp`` the tensors inside the tensor-parallel
    region (and, with ``sequence_parallel``, the rest), ``pp`` the layers.
    """
    if attention not in ATTENTION_IMPLS:
        raise UsageError(f"--attention must be one of {', '.join(ATTENTION_IMPLS)}, got {attention!r}")
    if recompute not in RECOMPUTE:
        raise UsageError(f"--recompute must be one of {', '.join(RECOMPUTE)}, got {recompute!r}")
    if micro_batch < 1 or seq_tokens < 1:
        raise UsageError("--micro-batch and --seq must be at least 1")
    a = activation_bytes
    tokens = Fraction(micro_batch * seq_tokens, cp)
    layers_total = Fraction(0)
    scores_total = Fraction(0)
    n_layers = 0
    peak = Fraction(0)  # one layer's activations, rebuilt while its backward runs (recompute)
    for stack in spec.stacks:
        for g in stack.groups:
            n_layers += g.count
            if recompute != "none":
                whole, _ = _layer_bytes(spec, g, seq=seq_tokens, impl=attention, a=a, tp=tp, sp=sequence_parallel)
                peak = max(peak, whole)
            if recompute == "full":
                layers_total += g.count * Fraction(a * spec.hidden_size, tp if sequence_parallel else 1)
                continue
            per, s2 = _layer_bytes(spec, g, seq=seq_tokens, impl=attention, a=a, tp=tp, sp=sequence_parallel)
            if recompute == "selective":
                per -= s2
                s2 = Fraction(0)
            layers_total += g.count * per
            scores_total += g.count * s2
    in_flight = min(pp, micro_batches) if pp > 1 else 1
    stage = Fraction(1, pp) * in_flight
    logits = 4 * spec.vocab_size if spec.lm_head != "none" else 0
    attn0 = spec.first_attention
    rope = 2 * a * attn0.head_dim if attn0 is not None and spec.positional.kind == "rotary" else 0
    positions = 8 if spec.positional.table_rows else 0  # learned positions: the position ids
    outside = Fraction(8 + positions + rope + _norm_bytes(spec, a), 1) + Fraction(logits, tp)
    layer_bytes = int(tokens * layers_total * stage)
    score_bytes = int(tokens * scores_total * stage)
    outside_bytes = int(tokens * outside * in_flight)
    logits_bytes = int(tokens * Fraction(logits, tp) * in_flight)
    return ActivationEstimate(micro_batch, seq_tokens, attention, recompute, layer_bytes, score_bytes,
                              outside_bytes, logits_bytes, in_flight, layer_bytes + outside_bytes,
                              int(tokens * peak))


__all__ = ["ATTENTION_IMPLS", "RECOMPUTE", "ActivationEstimate", "activation_memory"]
