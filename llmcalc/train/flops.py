"""Training compute: FLOPs per token counted from the spec, tokens, wall time and GPU-hours.

Forward FLOPs per token are counted matmul by matmul (a multiply-add is 2 FLOPs): every linear
weight a token passes through (``2 x in x out``: attention projections, the MLP, the routed experts a
token is sent to and the shared experts, the router, a mixer's linear weights, the lm_head), and
attention's two sequence-dependent matmuls, ``Q K^T`` and ``A V``: ``2 n_h d_h s_k + 2 n_h d_v s_k``
per token, where ``s_k`` is the number of keys each query is multiplied with. Eager and SDPA
attention multiply the whole ``s x s`` square (the causal mask is applied afterwards), so
``s_k = s`` (``torch.utils.flop_counter`` counts the same); FlashAttention skips the masked half,
``s_k = (s + 1) / 2`` on average (and at most the sliding window). Not counted: norms,
activations, softmax, rotary, residual adds, the embedding lookup, a state-space scan (elementwise,
a few FLOPs per value, far below the matmuls).

Training per token (Kaplan et al. 2020, arXiv 2001.08361, section 2.1): backward costs twice the
forward (gradients of the inputs and of the weights), so ``3 x forward``; full recompute adds one
more forward, selective recompute (Korthikanti et al. 2022, arXiv 2205.05198, section 5) re-runs
the attention score matmuls. With LoRA/QLoRA the frozen weights need no weight gradient, so their
backward is one forward's worth (``2 x forward`` plus the adapters' own ``6 x 2 r (in + out)``).
Compared with ``6 N`` (Kaplan, non-embedding N) and ``6 N + 12 L h s`` (Kaplan's ``2 N + 2 n_layer
n_ctx d_attn`` forward with both attention matmuls, times 3; Hoffmann et al. 2022, appendix F).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import UsageError
from llmcalc.params import count_params
from llmcalc.spec import Attention, ModelSpec
from llmcalc.train.modules import module_inventory

#: Tokens per parameter of a compute-optimal run (Hoffmann et al. 2022, arXiv 2203.15556, Table 3:
#: about 20 for every model size they fit).
CHINCHILLA_TOKENS_PER_PARAM = 20
#: The model FLOPs utilisation assumed when none is given (a common figure for large dense runs:
#: PaLM reports 46%, Megatron-LM 41-52% on A100; llmcalc uses 40%).
DEFAULT_MFU = Fraction(2, 5)


@dataclass(frozen=True, slots=True)
class ForwardFlops:
    """Forward FLOPs per token at ``seq_tokens``, by part; ``total_flops`` is their sum."""

    seq_tokens: int
    linear_flops: int
    attention_flops: int
    lm_head_flops: int
    total_flops: int


@dataclass(frozen=True, slots=True)
class TrainingFlops:
    """Training FLOPs per token and for a token budget, with wall time at an MFU (an estimate)."""

    forward_flops_per_token: int
    training_flops_per_token: int
    six_n_flops_per_token: int
    six_n_attention_flops_per_token: int
    tokens: int
    chinchilla_tokens: int
    total_training_flops: int
    mfu: float
    peak_flops_per_gpu: int | None
    gpus: int
    wall_seconds: int | None
    gpu_hours: int | None


def _keys(attn: Attention, seq: int, attention: str) -> Fraction:
    """Keys each query is multiplied with (see the module docstring)."""
    if attention != "flash":
        return Fraction(seq)
    window = attn.sliding_window
    if window is not None and window < seq:
        # query i sees min(i, window) keys: the first `window` queries a triangle, then `window` each
        return Fraction(window * (window + 1) // 2 + (seq - window) * window, seq)
    return Fraction(seq + 1, 2)


def forward_flops(spec: ModelSpec, *, seq_tokens: int, attention: str = "sdpa") -> ForwardFlops:
    """Forward FLOPs per token of ``spec`` at ``seq_tokens`` (module docstring: what counts).

    The decoder is counted for a decoder or decoder-only model; an encoder-decoder counts both
    stacks with the same sequence length (cross-attention keys = encoder length = ``seq_tokens``).
    """
    if seq_tokens < 1:
        raise UsageError(f"--seq must be at least 1, got {seq_tokens}")
    linear = lm_head = 0
    for m in module_inventory(spec):
        if m.kind == "embedding":
            continue
        per = 2 * m.in_features * m.out_features
        if m.role == "experts":
            moe = next(g.moe for s in spec.stacks for g in s.groups if g.moe is not None)
            share = Fraction(moe.experts_per_token, moe.num_experts)
            linear += int(m.count * per * m.experts * share)
            continue
        if m.role == "router" and m.kind == "param":
            linear += m.count * per
            continue
        if m.role == "lm_head":
            lm_head += per
            continue
        linear += m.count * per
    attn_flops = Fraction(0)
    for stack in spec.stacks:
        for g in stack.groups:
            for a in (g.attention, g.cross_attention):
                if a is None:
                    continue
                keys = _keys(a, seq_tokens, attention) if a is g.attention else Fraction(seq_tokens)
                attn_flops += g.count * 2 * a.num_heads * (a.head_dim + a.v_head_dim) * keys
    attention_flops = int(attn_flops)
    return ForwardFlops(seq_tokens, linear, attention_flops, lm_head, linear + attention_flops + lm_head)


def training_flops(
    spec: ModelSpec,
    *,
    seq_tokens: int,
    attention: str = "sdpa",
    recompute: str = "none",
    method: str = "full",
    adapter_params: int = 0,
    tokens: int | None = None,
    mfu: float | Fraction = DEFAULT_MFU,
    peak_flops_per_gpu: int | None = None,
    gpus: int = 1,
) -> TrainingFlops:
    """Training FLOPs per token and for ``tokens`` (default: Chinchilla's 20 per parameter).

    Wall time is ``total / (gpus x peak x mfu)``, an estimate: MFU is an input, not a prediction.
    """
    if not 0 < mfu <= 1:
        raise UsageError(f"--mfu must be in (0, 1], got {mfu}")
    fwd = forward_flops(spec, seq_tokens=seq_tokens, attention=attention)
    if method == "full":
        per_token = 3 * fwd.total_flops
    else:  # frozen base: input gradients only; adapters: forward + both gradients
        per_token = 2 * fwd.total_flops + 6 * adapter_params
    if recompute == "full":
        per_token += fwd.total_flops
    elif recompute == "selective":
        per_token += fwd.attention_flops
    counts = count_params(spec)
    n = counts.non_embedding_params
    layers = spec.num_hidden_layers
    six_n = 6 * n
    six_n_attn = six_n + 12 * layers * spec.hidden_size * seq_tokens
    chinchilla = CHINCHILLA_TOKENS_PER_PARAM * counts.total_params
    budget = tokens if tokens is not None else chinchilla
    total = per_token * budget
    wall = hours = None
    if peak_flops_per_gpu:
        seconds = Fraction(total) / (gpus * peak_flops_per_gpu * Fraction(mfu))
        wall = int(seconds)
        hours = int(seconds * gpus / 3600)
    return TrainingFlops(fwd.total_flops, per_token, six_n, six_n_attn, budget, chinchilla, total, float(mfu),
                         peak_flops_per_gpu, gpus, wall, hours)


__all__ = ["CHINCHILLA_TOKENS_PER_PARAM", "DEFAULT_MFU", "ForwardFlops", "TrainingFlops", "forward_flops",
           "training_flops"]
