"""Speed estimates: decode and prefill tokens/s, time to first token, time per output token.

An estimate, not a measurement. The model is a roofline with a few named, fitted constants
(``llmcalc/data/speed_constants.yaml``, each with the public measurements it was fitted on):

**Decode** (one step makes one token for each of ``B`` sequences)::

    bytes   = touched weights + B x (KV cache at the current context + recurrent state)
    t_mem   = bytes_on_device / min(BW, BW x e_bw x (BW / 1 TB/s)^-a x f_bw[format])
              + bytes_offloaded / host_bandwidth                  (PCIe or system RAM)
    t_flops = B x FLOPs_per_token / (P16 x e_decode_flops[engine/backend])
    t_step  = max(t_mem, t_flops) + layers x t_layer[engine/backend] (+ per-GPU hop / all-reduce)

- *touched weights*: every stored weight a step reads: all parameters but the input embedding
  (one row is read; a tied embedding is read in full as the head) and, in MoE layers, only the
  experts the batch touches, ``E (1 - (1 - k/E)^B)`` of ``E`` (each of ``B`` tokens picks ``k``
  experts, independently and uniformly: the expectation, Mixtral-style top-k routing). Bytes per
  parameter are the format's average (``8 x bytes / params`` of the weights given).
- the KV cache read per sequence is :func:`llmcalc.kvcache.kv_cache` at the context; SSM and
  linear-attention layers (``LayerGroup.mixer``) read and write their state (:mod:`llmcalc.mixers`).
- ``FLOPs_per_token = 2 x (active parameters - input embedding) + 4 x d_attn x context`` per
  attention layer (Kaplan et al. 2020, arXiv 2001.08361, section 2.1, Table 1).
- ``f_bw[format]``: dequantization makes 4-bit block formats reach a smaller share of peak
  bandwidth than 16-bit and 8-bit ones in llama.cpp's published runs.
- ``t_layer``: kernel launch and synchronisation cost per layer per step, which is why small models
  on fast GPUs run far below ``bandwidth / bytes``.

**Prefill** (``n`` prompt tokens in micro-batches of ``n_ubatch``)::

    t = n x FLOPs_per_token(avg context n/2) / (P16 x e_prefill[engine/backend] x f_prefill[format])
        + n x layers x hidden x t_token_layer_hidden[engine/backend]
        + ceil(n / n_ubatch) x (weights read once per micro-batch) / (BW x e_bw x f_bw)

TTFT is the prefill time of the prompt (no queueing); TPOT the decode step time at the context the
prompt reaches plus half the generated tokens. Throughput at concurrency ``N`` (vLLM-style
continuous batching) is ``N / t_step`` with ``N`` capped by the KV cache that fits, and the step
becomes compute-bound once ``t_flops > t_mem``.

Multi-GPU: llama.cpp's default layer split runs the GPUs one after another for one token (each
holds ``1/N`` of the layers: the same time as one GPU with all the bytes, plus a hop per extra
GPU); vLLM's tensor parallelism divides bytes and FLOPs by ``N`` and adds two all-reduces per layer.

Not modelled: speculative decoding, prompt caching, CPU-only inference, batch-dependent kernels,
thermal limits, and the engine's scheduling delays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcalc.errors import UsageError
from llmcalc.importers.files import read_yaml

if TYPE_CHECKING:
    from llmcalc.gpus import GPU
    from llmcalc.spec import ModelSpec

CONSTANTS_FILE = Path(__file__).parent / "data" / "speed_constants.yaml"

#: Engines and backends the constants cover.
ENGINES = ("llama.cpp", "vllm", "mlx", "hf")
BACKENDS = ("cuda", "metal", "rocm", "vulkan")

#: Reference points of the efficiency power laws (:meth:`Profile.effective_bandwidth`, ``effective_flops``).
BW_REF = 10**12
FLOPS_REF = 10**14

#: Default backend by GPU vendor.
VENDOR_BACKEND = {"nvidia": "cuda", "apple": "metal", "amd": "rocm", "intel": "vulkan"}


@dataclass(frozen=True, slots=True)
class Profile:
    """The fitted constants of one engine on one backend (see the module docstring for symbols)."""

    key: str
    bw_efficiency: float
    layer_overhead_s: float
    decode_flops_efficiency: float
    prefill_efficiency: float
    prefill_token_layer_hidden_s: float
    gpu_hop_s: float
    allreduce_s: float
    fitted_on: str
    bw_exponent: float = 0.0
    prefill_exponent: float = 0.0

    def effective_bandwidth(self, bandwidth_bytes_s: int) -> float:
        """``BW x e_bw x (BW / 1 TB/s)^-a``: the share of peak falls as peak bandwidth rises (fitted ``a``)."""
        return float(bandwidth_bytes_s * self.bw_efficiency * (bandwidth_bytes_s / BW_REF) ** -self.bw_exponent)

    def effective_flops(self, flops: int) -> float:
        """``P x e_prefill x (P / 100 TFLOPS)^-b``: the share of peak falls as peak throughput rises."""
        return float(flops * self.prefill_efficiency * (flops / FLOPS_REF) ** -self.prefill_exponent)


@dataclass(frozen=True, slots=True)
class Constants:
    """Every constant of the speed model, as read from ``speed_constants.yaml``."""

    profiles: dict[str, Profile]
    format_bw_factor: dict[str, float]
    format_prefill_factor: dict[str, float]
    host_bandwidth_bytes_s: int
    error_band: tuple[float, float]
    n_ubatch: int


@lru_cache(maxsize=1)
def load_constants(path: str | None = None) -> Constants:
    """The constants of the speed model (``llmcalc/data/speed_constants.yaml``)."""
    data: Any = read_yaml(path or CONSTANTS_FILE)
    profiles = {}
    for key, p in data["profiles"].items():
        profiles[key] = Profile(
            key=key,
            bw_efficiency=float(p["bw_efficiency"]),
            layer_overhead_s=float(p["layer_overhead_us"]) * 1e-6,
            decode_flops_efficiency=float(p["decode_flops_efficiency"]),
            prefill_efficiency=float(p["prefill_efficiency"]),
            prefill_token_layer_hidden_s=float(p["prefill_token_layer_hidden_ps"]) * 1e-12,
            gpu_hop_s=float(p.get("gpu_hop_us", 0)) * 1e-6,
            allreduce_s=float(p.get("allreduce_us", 0)) * 1e-6,
            fitted_on=str(p["fitted_on"]),
            bw_exponent=float(p.get("bw_exponent", 0)),
            prefill_exponent=float(p.get("prefill_exponent", 0)),
        )
    return Constants(
        profiles=profiles,
        format_bw_factor={k: float(v) for k, v in data["format_bw_factor"].items()},
        format_prefill_factor={k: float(v) for k, v in data["format_prefill_factor"].items()},
        host_bandwidth_bytes_s=int(float(data["host_bandwidth_gb_s"]) * 10**9),
        error_band=(float(data["error_band"][0]), float(data["error_band"][1])),
        n_ubatch=int(data["n_ubatch"]),
    )


def format_class(fmt: str) -> str:
    """The class of a weight format for the format factors: float, int8, legacy-4, k-quant, i-quant, other-4."""
    f = fmt.strip().lower().replace("-", "_")
    if f.startswith(("bf16", "fp16", "f16", "fp32", "f32", "gguf_f16", "gguf_bf16", "gguf_f32")) or "bpw" in f and (
            f.startswith(("16", "32"))):
        return "float"
    if f.startswith(("q8", "fp8", "int8", "8")) or f in ("mxfp8",):
        return "int8"
    if f.startswith(("q4_0", "q4_1", "q5_0", "q5_1")):
        return "legacy"
    if f.startswith("iq") or f.startswith("tq"):
        return "iquant"
    if f.startswith(("q2_k", "q3_k", "q4_k", "q5_k", "q6_k")):
        return "kquant"
    return "other"


def resolve_profile(engine: str, backend: str, constants: Constants | None = None) -> Profile:
    """The constants for an engine on a backend; an error names the combinations known."""
    c = constants or load_constants()
    key = f"{engine}/{backend}"
    if key not in c.profiles:
        raise UsageError(f"no speed constants for engine {engine!r} on backend {backend!r} "
                         f"(known: {', '.join(sorted(c.profiles))})")
    return c.profiles[key]


def default_backend(gpu: GPU) -> str:
    """The backend a GPU's vendor implies: nvidia cuda, apple metal, amd rocm, intel vulkan."""
    return VENDOR_BACKEND.get(gpu.vendor.lower(), "vulkan")


# --- work per token --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelWork:
    """What a model's forward pass costs, independent of hardware (from its spec).

    ``touched_params(batch)`` needs ``dense_params`` (read every step), ``expert_params`` (one
    routed expert of one layer), ``moe_layers``, ``num_experts`` and ``experts_per_token``.
    """

    params: int
    dense_params: int
    expert_params: int
    moe_layers: int
    num_experts: int
    experts_per_token: int
    active_flop_params: int
    attention_width_layers: int
    layers: int
    hidden: int
    kv_bytes_per_token: int
    state_bytes: int

    def touched_params(self, batch_size: int) -> int:
        """Parameters one decode step of ``batch_size`` sequences reads: ``E (1 - (1 - k/E)^B)`` experts."""
        if not self.moe_layers:
            return self.dense_params
        e, k = self.num_experts, self.experts_per_token
        touched = e * (1 - (1 - k / e) ** batch_size)
        return self.dense_params + round(self.moe_layers * self.expert_params * touched)

    def flops_per_token(self, context_tokens: int) -> int:
        """``2 x active non-embedding params + 4 x d_attn x context`` summed over attention layers."""
        return 2 * self.active_flop_params + 4 * self.attention_width_layers * context_tokens


def model_work(spec: ModelSpec, *, kv_dtype: str = "f16", engine: str = "llama.cpp") -> ModelWork:
    """The hardware-independent work of ``spec`` (see :class:`ModelWork`)."""
    from llmcalc.kvcache import kv_bytes_per_token, normalise_engine
    from llmcalc.mixers import base as mixers
    from llmcalc.params import count_params, moe_stats, token_embedding_params

    counts = count_params(spec)
    embed = token_embedding_params(spec) if spec.lm_head != "tied" else 0
    stats = moe_stats(spec)
    routed = stats.routed_expert_params if stats else 0
    stack = spec.decoder or spec.main_stack
    width = 0
    state = 0
    for g in stack.groups:
        if g.attention is not None:
            width += g.count * g.attention.num_heads * g.attention.head_dim
        if g.mixer is not None:
            state += g.count * mixers.state_values(g.mixer) * 2
    eng = normalise_engine(engine) if engine in ("hf", "vllm", "llama.cpp") else "llama.cpp"
    return ModelWork(
        params=counts.total_params,
        dense_params=counts.total_params - embed - routed,
        expert_params=stats.params_per_expert if stats else 0,
        moe_layers=stats.moe_layers if stats else 0,
        num_experts=stats.num_experts if stats else 0,
        experts_per_token=stats.experts_per_token if stats else 0,
        active_flop_params=counts.active_params - token_embedding_params(spec),
        attention_width_layers=width,
        layers=stack.num_layers,
        hidden=spec.hidden_size,
        kv_bytes_per_token=kv_bytes_per_token(spec, kv_dtype=kv_dtype, engine=eng),
        state_bytes=state,
    )


# --- the estimate -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hardware:
    """What the speed model needs of a device set: per-device bandwidth and 16-bit throughput."""

    name: str
    count: int
    bandwidth_bytes_s: int
    flops: int | None
    host_bandwidth_bytes_s: int


def hardware(gpu: GPU, count: int = 1, constants: Constants | None = None) -> Hardware:
    """The figures of ``count`` x ``gpu``; an entry without bandwidth cannot be estimated (says so)."""
    c = constants or load_constants()
    if not gpu.memory_bandwidth_bytes_s:
        raise UsageError(f"GPU {gpu.name} has no memory_bandwidth_gb_s; speed needs it (add it to your GPU file)")
    return Hardware(gpu.name, count, gpu.memory_bandwidth_bytes_s, gpu.dense_16bit_flops,
                    gpu.host_link_bytes_s or c.host_bandwidth_bytes_s)


@dataclass(frozen=True, slots=True)
class SpeedEstimate:
    """Decode and prefill speed of one model on one device set (estimates; see the module docstring).

    ``decode_tokens_per_s`` is one sequence's rate (``1 / tpot_s``); ``throughput_tokens_per_s`` the
    rate summed over ``concurrency`` sequences. ``*_bound`` says what limits each phase: ``memory``,
    ``compute``, ``overhead`` (per-layer launch cost larger than the transfer) or ``pcie``.
    ``kv-cache`` means the requested concurrency was capped at what fits (see ``notes``).
    ``range_low`` / ``range_high`` multiply the figures to give the spread seen in calibration.
    """

    decode_tokens_per_s: float
    prefill_tokens_per_s: float | None
    ttft_s: float | None
    tpot_s: float
    throughput_tokens_per_s: float
    concurrency: int
    decode_bound: str
    prefill_bound: str | None
    step_bytes: int
    offloaded_bytes: int
    step_flops: int
    decode_memory_s: float
    decode_compute_s: float | None
    decode_overhead_s: float
    decode_pcie_s: float
    bw_efficiency: float
    prefill_efficiency: float | None
    profile: str
    format_class: str
    range_low: float
    range_high: float
    notes: tuple[str, ...] = ()


def estimate_speed(
    work: ModelWork,
    *,
    weights_bytes: int,
    weights_params: int,
    fmt: str,
    hw: Hardware,
    engine: str = "llama.cpp",
    backend: str = "cuda",
    context_tokens: int = 512,
    prompt_tokens: int = 512,
    gen_tokens: int = 128,
    concurrency: int = 1,
    offloaded_bytes: int = 0,
    constants: Constants | None = None,
) -> SpeedEstimate:
    """Decode and prefill estimates for ``work`` in ``fmt`` on ``hw`` (formulas in the module docstring).

    ``weights_bytes`` / ``weights_params`` give the format's bytes per parameter; ``offloaded_bytes``
    of the touched weights sit in system RAM and are read over ``hw.host_bandwidth_bytes_s`` (the
    input of an offload plan). ``context_tokens`` is the context before generation starts.
    """
    if concurrency < 1 or gen_tokens < 1 or prompt_tokens < 0 or context_tokens < 0:
        raise UsageError("concurrency and generated tokens must be at least 1, prompt and context at least 0")
    c = constants or load_constants()
    prof = resolve_profile(engine, backend, c)
    cls = format_class(fmt)
    f_bw = c.format_bw_factor.get(cls, c.format_bw_factor["other"])
    f_pf = c.format_prefill_factor.get(cls, c.format_prefill_factor["other"])
    bpp = weights_bytes / weights_params if weights_params else 2.0
    tp = hw.count if engine != "llama.cpp" else 1
    eff_bw = min(float(hw.bandwidth_bytes_s), prof.effective_bandwidth(hw.bandwidth_bytes_s) * f_bw)

    def step(batch: int, ctx: int) -> tuple[float, float, float | None, float, float, int, int]:
        touched = int(work.touched_params(batch) * bpp)
        off = min(offloaded_bytes, touched)
        on_device = touched - off + batch * (work.kv_bytes_per_token * ctx + work.state_bytes)
        t_mem = on_device / tp / eff_bw
        t_pcie = off / hw.host_bandwidth_bytes_s
        flops = batch * work.flops_per_token(ctx)
        t_cmp = flops / tp / (hw.flops * prof.decode_flops_efficiency) if hw.flops else None
        t_over = work.layers * prof.layer_overhead_s + (hw.count - 1) * prof.gpu_hop_s
        if tp > 1:
            t_over += 2 * work.layers * prof.allreduce_s
        t = max(t_mem, t_cmp or 0.0) + t_pcie + t_over
        return t, t_mem, t_cmp, t_over, t_pcie, on_device + off, flops

    tpot_ctx = context_tokens + prompt_tokens + gen_tokens // 2
    t1, mem1, cmp1, over1, pcie1, bytes1, flops1 = step(1, tpot_ctx)
    tn, memn, cmpn, overn, pcien, bytesn, flopsn = step(concurrency, tpot_ctx)
    parts = {"memory": memn, "compute": cmpn or 0.0, "overhead": overn, "pcie": pcien}
    decode_bound = max(parts, key=lambda k: parts[k])

    notes: list[str] = []
    prefill_tps = ttft = None
    prefill_bound = None
    if hw.flops and prompt_tokens > 0:
        n = prompt_tokens
        flops_pf = n * work.flops_per_token(context_tokens + n // 2)
        t_flops = flops_pf / tp / (prof.effective_flops(hw.flops) * f_pf)
        t_tok = n * work.layers * work.hidden * prof.prefill_token_layer_hidden_s / tp
        ubatches = math.ceil(n / c.n_ubatch)
        w_bytes = int(work.touched_params(c.n_ubatch) * bpp)
        t_w = ubatches * ((w_bytes - min(offloaded_bytes, w_bytes)) / tp / eff_bw
                          + min(offloaded_bytes, w_bytes) / hw.host_bandwidth_bytes_s)
        t_pf = t_flops + t_tok + t_w + ubatches * work.layers * prof.layer_overhead_s
        prefill_tps = n / t_pf
        ttft = t_pf
        prefill_bound = "compute" if t_flops >= max(t_tok, t_w) else ("memory" if t_w >= t_tok else "overhead")
    elif not hw.flops:
        notes.append(f"{hw.name} has no bf16_dense_tflops: prefill and TTFT need it")
    lo, hi = c.error_band
    return SpeedEstimate(
        decode_tokens_per_s=1 / tn,
        prefill_tokens_per_s=prefill_tps,
        ttft_s=ttft,
        tpot_s=tn,
        throughput_tokens_per_s=concurrency / tn,
        concurrency=concurrency,
        decode_bound=decode_bound,
        prefill_bound=prefill_bound,
        step_bytes=bytesn,
        offloaded_bytes=min(offloaded_bytes, bytesn),
        step_flops=flopsn,
        decode_memory_s=memn,
        decode_compute_s=cmpn,
        decode_overhead_s=overn,
        decode_pcie_s=pcien,
        bw_efficiency=eff_bw / hw.bandwidth_bytes_s,
        prefill_efficiency=prof.effective_flops(hw.flops) * f_pf / hw.flops if hw.flops else None,
        profile=prof.key,
        format_class=cls,
        range_low=lo,
        range_high=hi,
        notes=tuple(notes),
    )


def speed_for(
    spec: ModelSpec,
    *,
    fmt: str,
    gpu: GPU,
    num_gpus: int = 1,
    engine: str = "llama.cpp",
    backend: str | None = None,
    context_tokens: int = 0,
    prompt_tokens: int = 512,
    gen_tokens: int = 128,
    concurrency: int = 1,
    kv_dtype: str = "f16",
    offloaded_bytes: int = 0,
    offload_bandwidth_bytes_s: int | None = None,
    kv_limit: bool = True,
) -> SpeedEstimate:
    """:func:`estimate_speed` for a named format or bits per weight (``"4.5"``) on ``num_gpus`` x ``gpu``.

    ``backend`` None takes the GPU vendor's (:func:`default_backend`). ``offloaded_bytes`` (from an
    offload plan, :mod:`llmcalc.plans`) are read at ``offload_bandwidth_bytes_s``: PCIe for vLLM's
    ``--cpu-offload-gb`` (the default, ``host_link_gb_s`` of the GPU entry or 25 GB/s), system-RAM
    bandwidth for llama.cpp layers or experts the CPU computes (pass it). With ``kv_limit`` the
    concurrency is capped at the most sequences whose KV cache fits beside the weights
    (:func:`llmcalc.fit.max_batch` at the final context, the engine's memory rules) and the result says
    so (``concurrency`` is then the capped figure, ``decode_bound`` ``kv-cache`` when it binds).
    """
    from llmcalc.quant import get_format, weights_for_bpw, weights_for_format
    from llmcalc.sweep import is_bits_per_weight

    if is_bits_per_weight(fmt):
        weights = weights_for_bpw(spec, fmt.strip())
        cls_name = f"{fmt.strip()}bpw"
    else:
        f = get_format(fmt)
        weights = weights_for_format(spec, f)
        cls_name = f.name
    work = model_work(spec, kv_dtype=kv_dtype, engine=engine)
    notes: list[str] = []
    capped = concurrency
    if kv_limit and concurrency > 1 and engine in ("vllm", "llama.cpp", "hf"):
        from llmcalc.fit import max_batch
        from llmcalc.memory import engine_settings

        final = max(1, context_tokens + prompt_tokens + gen_tokens)
        fits = max_batch(spec, weights=weights, gpu=gpu, context_tokens=final, num_gpus=num_gpus,
                         kv_dtype=kv_dtype, settings=engine_settings(engine))
        if fits < concurrency:
            capped = max(1, fits)
            notes.append(f"only {fits:,} sequences of {final:,} tokens fit in memory (KV cache); "
                         f"throughput is for {capped:,}, not {concurrency:,}")
    hw = hardware(gpu, num_gpus)
    if offload_bandwidth_bytes_s:
        from dataclasses import replace as _replace

        hw = _replace(hw, host_bandwidth_bytes_s=offload_bandwidth_bytes_s)
    est = estimate_speed(work, weights_bytes=weights.total_bytes, weights_params=weights.params, fmt=cls_name,
                         hw=hw, engine=engine, backend=backend or default_backend(gpu),
                         context_tokens=context_tokens, prompt_tokens=prompt_tokens, gen_tokens=gen_tokens,
                         concurrency=capped, offloaded_bytes=offloaded_bytes)
    if not notes:
        return est
    from dataclasses import replace

    return replace(est, decode_bound="kv-cache", notes=est.notes + tuple(notes))


def decode_tps_or_none(spec: ModelSpec, *, weights_bytes: int, weights_params: int, fmt: str, gpu: GPU,
                       num_gpus: int, engine: str, context_tokens: int, batch_size: int = 1,
                       kv_dtype: str = "f16") -> float | None:
    """Single-sequence decode tokens/s at ``context_tokens`` (the ``memory`` Speed row), or None when the
    GPU has no bandwidth figure or no constants exist for the engine on the GPU's backend."""
    c = load_constants()
    key = f"{engine}/{default_backend(gpu)}"
    if not gpu.memory_bandwidth_bytes_s or key not in c.profiles:
        return None
    work = model_work(spec, kv_dtype=kv_dtype, engine=engine)
    est = estimate_speed(work, weights_bytes=weights_bytes, weights_params=weights_params, fmt=fmt,
                         hw=hardware(gpu, num_gpus, c), engine=engine, backend=default_backend(gpu),
                         context_tokens=context_tokens, prompt_tokens=0, gen_tokens=1, concurrency=batch_size,
                         constants=c)
    return est.decode_tokens_per_s


def decode_coefficients(work: ModelWork, *, bytes_per_param: float, fmt: str, gpu: GPU, count: int, engine: str,
                        batch_size: int) -> tuple[float, float, float, float, float] | None:
    """``(a_mem, k_mem, a_cmp, k_cmp, over)`` with a decode step of ``t = max(a_mem + k_mem x ctx,
    a_cmp + k_cmp x ctx) + over`` seconds: :func:`estimate_speed`'s decode step, factored so that a
    sweep evaluates it per point in a few operations. None when the GPU or engine lacks the figures."""
    c = load_constants()
    key = f"{engine}/{default_backend(gpu)}"
    if not gpu.memory_bandwidth_bytes_s or key not in c.profiles:
        return None
    prof = c.profiles[key]
    tp = count if engine != "llama.cpp" else 1
    f_bw = c.format_bw_factor.get(format_class(fmt), c.format_bw_factor["other"])
    peak = float(gpu.memory_bandwidth_bytes_s)
    bw = min(peak, prof.effective_bandwidth(gpu.memory_bandwidth_bytes_s) * f_bw) * tp
    b = batch_size
    a_mem = (int(work.touched_params(b) * bytes_per_param) + b * work.state_bytes) / bw
    k_mem = b * work.kv_bytes_per_token / bw
    flops = gpu.dense_16bit_flops
    if flops:
        p = flops * prof.decode_flops_efficiency * tp
        a_cmp, k_cmp = b * 2 * work.active_flop_params / p, b * 4 * work.attention_width_layers / p
    else:
        a_cmp = k_cmp = 0.0
    over = work.layers * prof.layer_overhead_s + (count - 1) * prof.gpu_hop_s
    if tp > 1:
        over += 2 * work.layers * prof.allreduce_s
    return a_mem, k_mem, a_cmp, k_cmp, over
