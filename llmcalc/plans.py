"""Plans: where each tensor lives when a model does not fit as a whole, and the settings that say so.

**llama.cpp** (rules and sources in :mod:`llmcalc.engines.llamacpp`): ``-ngl N`` puts the last ``N`` of
the ``n_layer + 1`` layers (the output layer counts) on the GPUs, split by layer in proportion to each
device's free memory or ``--tensor-split``; ``--n-cpu-moe K`` keeps the routed experts of layers
``0 .. K-1`` in system RAM (``--cpu-moe``: all); the token embedding is always in RAM; the KV cache
of a layer lives with the layer, or all in RAM with ``--no-kv-offload``. :func:`llama_cpp_plan`
prices one setting; :func:`solve_llama_cpp` finds the most that fits, as ``--fit`` does
(``common/fit.cpp``: 1,024 MiB left free per device): everything on the GPUs if it fits, else the
fewest layers' experts in RAM, else (with every expert in RAM) the most layers on the GPUs. Unlike
``--fit``, the context is never reduced: it is the one you asked for.

**vLLM**: tensor parallelism gives every rank the same shard, so it needs identical GPUs (on a mixed
set the smallest device sets the limit, which :func:`vllm_plan` says); ``--cpu-offload-gb X`` keeps
up to ``X`` GiB of each GPU's weights in pinned system RAM (:mod:`llmcalc.engines.vllm`).

Per-layer bytes: a GGUF file type's tensors are priced with their own ggml types
(:func:`llmcalc.quant.gguf_tensor_types`); any other format spreads its bytes over the tensors in
proportion to their elements (an approximation, said in the notes). Compute buffers are the
activation estimate of :mod:`llmcalc.memory` on each device; they are estimates, the rest is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from llmcalc.engines import llamacpp
from llmcalc.errors import UsageError
from llmcalc.fit import largest_where, smallest_where
from llmcalc.kvcache import KV_DTYPE_BYTES, kv_values_per_token, normalise_kv_dtype
from llmcalc.memory import EngineSettings, activation_estimate, engine_settings
from llmcalc.spec import ModelSpec
from llmcalc.units import GIB

if TYPE_CHECKING:
    from llmcalc.gpus import GPU
    from llmcalc.quant import WeightsResult
    from llmcalc.tensors import Tensor

CPU = "cpu"


@dataclass(frozen=True, slots=True)
class DeviceUse:
    """What one device (a GPU, or ``cpu`` for system RAM) holds under a plan, in bytes."""

    device: str
    layers: int
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    overhead_bytes: int
    extra_bytes: int
    total_bytes: int
    #: the device's usable memory (None for system RAM, which is not checked)
    usable_bytes: int | None
    fits: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """A placement of one model on a set of devices, with the engine settings that realise it.

    ``settings`` are the engine's own flag names and values (``n_gpu_layers``, ``n_cpu_moe``,
    ``tensor_split``, ``kv_offload``, ``cpu_offload_gb``, ...), what :mod:`llmcalc.emit` turns into a
    command line and ``--json`` prints.
    """

    engine: str
    model: str
    context_tokens: int
    batch_size: int
    kv_dtype: str
    devices: tuple[DeviceUse, ...]
    ram: DeviceUse
    fits: bool
    settings: tuple[tuple[str, object], ...]
    notes: tuple[str, ...] = ()

    def setting(self, key: str) -> object:
        return dict(self.settings).get(key)


@dataclass(frozen=True, slots=True)
class Extras:
    """Memory beside the model: a draft model, MTP heads, LoRA slots, a vision/audio projector file.

    Each is ``(label, bytes)``; llama.cpp keeps them on the first GPU (the main GPU), vLLM on every GPU.
    """

    items: tuple[tuple[str, int], ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(b for _, b in self.items)


def _tensor_bytes(spec: ModelSpec, weights: WeightsResult) -> list[tuple[Tensor, int]]:
    """Every tensor with its bytes in ``weights``' format (exact for GGUF file types)."""
    from llmcalc.quant import GGML_TYPES, GGUF_FILE_TYPES, gguf_tensor_types
    from llmcalc.tensors import weight_tensors

    key = weights.format.lower()
    if key in GGUF_FILE_TYPES:
        hit = _PRICED.get((id(spec), key))
        if hit is not None and hit[0] is spec:
            return hit[1]
        priced = [(t, GGML_TYPES[ty].tensor_bytes(t)) for t, ty in gguf_tensor_types(spec, key)]
        if len(_PRICED) > 32:
            _PRICED.clear()
        _PRICED[(id(spec), key)] = (spec, priced)
        return priced
    tensors = weight_tensors(spec)
    params = sum(t.n_elements for t in tensors) or 1
    # vision/audio towers are priced apart (the mmproj file, :func:`mmproj_bytes`), not spread here
    towers = sum(tb.bytes for tb in weights.by_type if tb.type_name.endswith(" (towers)"))
    text = weights.total_bytes - towers
    return [(t, t.n_elements * text // params) for t in tensors]


_PRICED: dict[tuple[int, str], tuple[ModelSpec, list[tuple[Tensor, int]]]] = {}


@dataclass(frozen=True, slots=True)
class _Layout:
    """A model cut into what llama.cpp places: input, per-layer dense and expert bytes, output, per-layer KV."""

    n_layer: int
    input_bytes: int
    output_bytes: int
    tied_output_bytes: int
    layer_bytes: tuple[int, ...]
    expert_bytes: tuple[int, ...]
    kv_bytes: tuple[Fraction, ...]
    #: per-tensor bytes are exact (a GGUF file type) rather than spread in proportion
    exact: bool


def _layout(spec: ModelSpec, weights: WeightsResult, *, context_tokens: int, batch_size: int, kv_dtype: str,
            settings: EngineSettings) -> _Layout:
    """The layout of one model, format, context, batch and KV dtype (cached: the solvers price it often)."""
    key = (id(spec), id(weights), context_tokens, batch_size, kv_dtype, settings)
    hit = _LAYOUTS.get(key)
    if hit is not None and hit[0] is spec and hit[1] is weights:
        return hit[2]
    lay = _make_layout(spec, weights, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                       settings=settings)
    if len(_LAYOUTS) > 64:
        _LAYOUTS.clear()
    _LAYOUTS[key] = (spec, weights, lay)
    return lay


_LAYOUTS: dict[tuple[object, ...], tuple[ModelSpec, WeightsResult, _Layout]] = {}


def _make_layout(spec: ModelSpec, weights: WeightsResult, *, context_tokens: int, batch_size: int, kv_dtype: str,
                 settings: EngineSettings) -> _Layout:
    n_layer = spec.num_hidden_layers
    dense = [0] * n_layer
    experts = [0] * n_layer
    input_bytes = output_bytes = 0
    priced = _tensor_bytes(spec, weights)
    for t, nbytes in priced:
        if t.layer is None or t.layer >= n_layer:
            if t.name.startswith(("token_embd", "position_embd", "token_types")):
                input_bytes += nbytes
            else:
                output_bytes += nbytes
        elif any(part in t.name for part in llamacpp.EXPERT_TENSOR_PARTS):
            experts[t.layer] += nbytes
        else:
            dense[t.layer] += nbytes
    tied = 0
    if spec.lm_head == "tied":  # the output layer reads a duplicated token_embd (TENSOR_DUPLICATED)
        tied = next((b for t, b in priced if t.name.startswith("token_embd")), 0)
    per_value = KV_DTYPE_BYTES[normalise_kv_dtype(kv_dtype)]
    cache = settings.cache
    kv: list[Fraction] = []
    stack = spec.main_stack
    for g in stack.groups:
        if g.attention is None:
            kv += [Fraction(0)] * g.count
            continue
        tokens = cache.cached_tokens(context_tokens, g.attention.sliding_window)
        per_layer = kv_values_per_token(g.attention, engine="llama.cpp") * tokens * batch_size * per_value
        kv += [per_layer] * g.count
    kv = (kv + [Fraction(0)] * n_layer)[:n_layer]
    from llmcalc.quant import GGUF_FILE_TYPES

    return _Layout(n_layer, input_bytes, output_bytes, tied, tuple(dense), tuple(experts), tuple(kv),
                   weights.format.lower() in GGUF_FILE_TYPES)


def llama_cpp_plan(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    gpus: Sequence[GPU],
    context_tokens: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    n_gpu_layers: int | None = None,
    n_cpu_moe: int = 0,
    kv_offload: bool = True,
    tensor_split: Sequence[float] | None = None,
    settings: EngineSettings | None = None,
    extras: Extras = Extras(),
    margin_bytes: int = 0,
) -> Plan:
    """Bytes on each GPU and in system RAM for one llama.cpp setting (module docstring for the rules).

    ``n_gpu_layers`` None is every layer (``-ngl 999``); ``n_cpu_moe`` at ``n_layer`` is ``--cpu-moe``.
    A device fits when its total is at most its usable memory less ``margin_bytes`` (``--fit`` keeps
    :data:`llmcalc.engines.llamacpp.FIT_MARGIN_BYTES`).
    """
    settings = settings or engine_settings("llama.cpp")
    lay = _layout(spec, weights, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                  settings=settings)
    return _place(spec, lay, gpus, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                  n_gpu_layers=n_gpu_layers, n_cpu_moe=n_cpu_moe, kv_offload=kv_offload,
                  tensor_split=tensor_split, settings=settings, extras=extras, margin_bytes=margin_bytes)


def _place(spec: ModelSpec, lay: _Layout, gpus: Sequence[GPU], *, context_tokens: int, batch_size: int,
           kv_dtype: str, n_gpu_layers: int | None, n_cpu_moe: int, kv_offload: bool,
           tensor_split: Sequence[float] | None, settings: EngineSettings, extras: Extras,
           margin_bytes: int) -> Plan:
    n_layer = lay.n_layer
    ngl = n_layer + 1 if n_gpu_layers is None else max(0, min(n_gpu_layers, n_layer + 1))
    n_cpu_moe = max(0, min(n_cpu_moe, n_layer))
    if tensor_split is not None and len(tensor_split) != len(gpus):
        raise UsageError(f"--tensor-split gives {len(tensor_split)} shares for {len(gpus)} GPUs")
    shares = list(tensor_split) if tensor_split is not None else [float(g.usable_memory_bytes) for g in gpus]
    where = llamacpp.layer_devices(n_layer, ngl, shares) if gpus else [-1] * (n_layer + 1)
    n = len(gpus)
    weights = [0] * n
    kv = [Fraction(0)] * n
    layers = [0] * n
    ram_weights = lay.input_bytes
    ram_kv = Fraction(0)
    ram_layers = 0
    for il in range(n_layer):
        d = where[il]
        expert_on_cpu = il < n_cpu_moe
        if d < 0:
            ram_weights += lay.layer_bytes[il] + lay.expert_bytes[il]
            ram_kv += lay.kv_bytes[il]
            ram_layers += 1
            continue
        layers[d] += 1
        weights[d] += lay.layer_bytes[il] + (0 if expert_on_cpu else lay.expert_bytes[il])
        ram_weights += lay.expert_bytes[il] if expert_on_cpu else 0
        if kv_offload:
            kv[d] += lay.kv_bytes[il]
        else:
            ram_kv += lay.kv_bytes[il]
    out_dev = where[n_layer]
    if out_dev < 0:
        ram_weights += lay.output_bytes
    else:
        weights[out_dev] += lay.output_bytes + lay.tied_output_bytes
    act = activation_estimate(spec, context_tokens=context_tokens, batch_size=batch_size, settings=settings)
    body = max(act.hidden_bytes, act.scores_bytes)
    mask = act.mask_bytes
    uses = []
    for i, gpu in enumerate(gpus):
        used = layers[i] > 0 or out_dev == i
        compute = max(body, act.logits_bytes if out_dev == i else 0) + mask if used else 0
        over = settings.cuda_context_bytes if used or i == 0 else 0
        extra = extras.total_bytes if i == 0 else 0
        kv_i = math.ceil(kv[i])
        total = weights[i] + kv_i + compute + over + extra
        usable = gpu.usable_memory_bytes
        uses.append(DeviceUse(f"{gpu.name} #{i}", layers[i], weights[i], kv_i, compute, over, extra, total,
                              usable, total + margin_bytes <= usable))
    cpu_work = ram_layers > 0 or n_cpu_moe > 0 or not kv_offload or not gpus
    ram_compute = max(body, act.logits_bytes if out_dev < 0 else 0) + mask if cpu_work else 0
    ram_kv_bytes = math.ceil(ram_kv)
    ram = DeviceUse(CPU, ram_layers, ram_weights, ram_kv_bytes, ram_compute, 0, 0,
                    ram_weights + ram_kv_bytes + ram_compute, None, True)
    values: list[tuple[str, object]] = [("n_gpu_layers", ngl), ("n_cpu_moe", n_cpu_moe),
                                        ("cpu_moe", spec.is_moe and n_cpu_moe >= n_layer),
                                        ("kv_offload", kv_offload), ("ctx_size", context_tokens),
                                        ("parallel", batch_size), ("cache_type_k", kv_dtype),
                                        ("cache_type_v", kv_dtype), ("flash_attn", settings.flash_attention)]
    if len(gpus) > 1:
        total_share = sum(shares) or 1.0
        values.append(("tensor_split", tuple(round(s / total_share * 100) for s in shares)))
    notes = ["the token embedding stays in system RAM (llama.cpp never offloads the input layer)"]
    if spec.lm_head == "tied" and out_dev >= 0:
        notes.append("tied output: the output layer's GPU holds a copy of the token embedding")
    if kv_dtype not in ("f16", "bf16", "f32") and not settings.flash_attention:
        notes.append(f"llama.cpp needs flash attention for a quantized V cache ({kv_dtype}); drop --no-flash-attention")
    if not lay.exact:
        notes.append("not a GGUF file type: its bytes are spread over the tensors in proportion to their elements")
    return Plan("llama.cpp", spec.name, context_tokens, batch_size, kv_dtype, tuple(uses), ram,
                all(u.fits for u in uses), tuple(values), tuple(notes))


def solve_llama_cpp(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    gpus: Sequence[GPU],
    context_tokens: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    kv_offload: bool = True,
    tensor_split: Sequence[float] | None = None,
    settings: EngineSettings | None = None,
    extras: Extras = Extras(),
    margin_bytes: int = llamacpp.FIT_MARGIN_BYTES,
) -> Plan:
    """The most that fits on ``gpus``, as ``--fit`` searches it (module docstring), leaving ``margin_bytes``.

    Each step is a binary search over a quantity the VRAM grows with (experts kept on the GPUs, layers
    offloaded), so a 100-layer model is priced about 15 times, not 100.
    """
    settings = settings or engine_settings("llama.cpp")
    lay = _layout(spec, weights, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                  settings=settings)
    n_layer = lay.n_layer

    def plan(ngl: int, cpu_moe: int) -> Plan:
        return _place(spec, lay, gpus, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                      n_gpu_layers=ngl, n_cpu_moe=cpu_moe, kv_offload=kv_offload, tensor_split=tensor_split,
                      settings=settings, extras=extras, margin_bytes=margin_bytes)

    full = plan(n_layer + 1, 0)
    if full.fits or not gpus:
        return full
    if spec.is_moe:
        k = smallest_where(lambda k: plan(n_layer + 1, k).fits, 1, n_layer)
        if k is not None:
            return plan(n_layer + 1, k)
    cpu_moe = n_layer if spec.is_moe else 0
    ngl = largest_where(lambda g: plan(g, cpu_moe).fits, 0, n_layer + 1) or 0
    return plan(ngl, cpu_moe)


def vllm_plan(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    gpus: Sequence[GPU],
    context_tokens: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    settings: EngineSettings | None = None,
    extras: Extras = Extras(),
    cpu_offload_gb: int | None = None,
) -> Plan:
    """vLLM on ``len(gpus)``-way tensor parallelism, with ``--cpu-offload-gb`` given or, when None, the least that fits.

    Per GPU: :func:`llmcalc.fit.per_gpu` of the estimate, less the offloaded GiB of weights, plus the
    extras; the KV cache row is what the context x batch needs (vLLM gives the KV cache everything
    left, ``--kv-cache-memory-bytes`` pins it). On a mixed set every rank still holds the same shard,
    so the smallest device sets the limit.
    """
    from llmcalc.fit import check_fit
    from llmcalc.memory import estimate_memory

    if not gpus:
        raise UsageError("a vLLM plan needs --gpu")
    settings = settings or engine_settings("vllm")
    n = len(gpus)
    smallest = min(gpus, key=lambda g: g.usable_memory_bytes)
    notes = []
    if len({g.name for g in gpus}) > 1:
        notes.append(f"vLLM tensor parallelism needs identical GPUs: every rank holds the same shard, so the "
                     f"smallest ({smallest.name}) sets the limit on each of the {n}")
    est = estimate_memory(spec, weights=weights, context_tokens=context_tokens, batch_size=batch_size,
                          kv_dtype=kv_dtype, settings=settings)
    fit = check_fit(spec, est, smallest, n, settings)
    share = fit.per_gpu
    need = share.total_bytes + extras.total_bytes - fit.usable_bytes_per_gpu
    if cpu_offload_gb is None:
        cpu_offload_gb = max(0, -(-need // GIB)) if need > 0 else 0
    offload = min(cpu_offload_gb * GIB, share.weights_bytes)
    uses = []
    for i, gpu in enumerate(gpus):
        usable = fit.usable_bytes_per_gpu
        total = share.total_bytes - offload + extras.total_bytes
        uses.append(DeviceUse(f"{gpu.name} #{i}", spec.num_hidden_layers, share.weights_bytes - offload,
                              share.kv_cache_bytes, share.activation_bytes, share.overhead_bytes,
                              extras.total_bytes, total, usable, total <= usable))
    ram = DeviceUse(CPU, 0, offload * n, 0, 0, 0, 0, offload * n, None, True)
    if cpu_offload_gb and offload < cpu_offload_gb * GIB:
        notes.append("--cpu-offload-gb exceeds each GPU's weights; all of them are offloaded")
    if cpu_offload_gb:
        notes.append("offloaded weights are streamed over PCIe on every forward pass: expect much slower decoding")
    values: list[tuple[str, object]] = [
        ("max_model_len", context_tokens), ("tensor_parallel_size", n),
        ("gpu_memory_utilization", settings.gpu_memory_utilization), ("max_num_seqs", settings.max_num_seqs),
        ("max_num_batched_tokens", settings.max_num_batched_tokens), ("kv_cache_dtype", kv_dtype),
        ("cpu_offload_gb", cpu_offload_gb), ("kv_cache_memory_bytes", share.kv_cache_bytes),
    ]
    return Plan("vllm", spec.name, context_tokens, batch_size, kv_dtype, tuple(uses), ram,
                all(u.fits for u in uses), tuple(values), tuple(notes))


def lora_linears(spec: ModelSpec) -> list[tuple[int, int]]:
    """``(in, out)`` of the linear layers vLLM wraps with LoRA: attention q/k/v/o and dense MLPs.

    Routed experts are left out (vLLM's fused-MoE LoRA is opt-in per model); the head and embeddings
    too (``lm_head`` LoRA needs ``--lora-extra-vocab-size`` / a model that declares it).
    """
    from llmcalc.tensors import weight_tensors

    out = []
    for t in weight_tensors(spec):
        if t.n_dims != 2 or not t.name.endswith(".weight") or t.layer is None:
            continue
        if t.role in ("attention", "dense_mlp", "shared_experts") and "norm" not in t.name:
            if any(p in t.name for p in ("_a.", "_a_mqa.", "_b.")):  # MLA low-rank pieces are replicated
                continue
            out.append((t.shape[0], t.shape[1]))
    return out


def lora_slot_bytes(spec: ModelSpec, *, rank: int, count: int, dtype_bytes: int = 2) -> int:
    """vLLM's preallocated LoRA slots (``max_loras`` x ``max_lora_rank``): :func:`llmcalc.engines.vllm.lora_bytes`."""
    from llmcalc.engines.vllm import lora_bytes

    return lora_bytes(lora_linears(spec), max_loras=count, max_lora_rank=rank, dtype_bytes=dtype_bytes)


def mtp_bytes(spec: ModelSpec, weights: WeightsResult) -> int:
    """Weights of DeepSeek-style multi-token-prediction heads, at the weights' average bytes per parameter.

    Each module is one more decoder layer (the last layer's shape) plus ``eh_proj`` (``2H x H``) and
    three norms (``enorm``, ``hnorm``, the shared head's norm); embedding and head are shared
    (DeepSeek-V3 report, arXiv 2412.19437, section 2.2).
    """
    if not spec.mtp_layers:
        return 0
    from llmcalc.tensors import weight_tensors

    last = spec.num_hidden_layers - 1
    layer = sum(t.n_elements for t in weight_tensors(spec) if t.layer == last)
    h = spec.hidden_size
    params = spec.mtp_layers * (layer + 2 * h * h + 3 * h)
    return -(-params * weights.total_bytes // max(weights.params, 1))


def mmproj_bytes(spec: ModelSpec) -> int:
    """llama.cpp's ``mmproj`` file of a multimodal model: its vision/audio towers and projector in F16."""
    return sum(t.params for t in spec.towers) * 2


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What the user asked of a plan; None for a setting means "find the most that fits".

    ``n_gpu_layers`` / ``n_cpu_moe`` given (or ``cpu_moe``) price that llama.cpp setting; with neither,
    :func:`solve_llama_cpp` chooses. ``cpu_offload_gb`` None lets :func:`vllm_plan` choose. ``draft``
    is a draft model's ``(name, spec, weights)`` for speculative decoding; ``mtp`` adds the model's own
    multi-token-prediction heads; ``lora_rank`` x ``lora_count`` adapters are served beside the base.
    """

    n_gpu_layers: int | None = None
    n_cpu_moe: int | None = None
    cpu_moe: bool = False
    kv_offload: bool = True
    tensor_split: tuple[float, ...] | None = None
    cpu_offload_gb: int | None = None
    lora_rank: int = 0
    lora_count: int = 0
    draft: tuple[str, ModelSpec, WeightsResult] | None = None
    mtp: bool = False


def extras_for(spec: ModelSpec, weights: WeightsResult, options: PlanOptions, *, engine: str, context_tokens: int,
               batch_size: int, kv_dtype: str, num_gpus: int) -> Extras:
    """The draft model, MTP heads, LoRA and mmproj bytes per GPU (whole on llama.cpp's main GPU; split on vLLM)."""
    from llmcalc.kvcache import kv_cache

    items: list[tuple[str, int]] = []
    split = num_gpus if engine == "vllm" else 1
    if options.draft is not None:
        name, dspec, dweights = options.draft
        dkv = kv_cache(dspec, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                       engine=engine).total_bytes
        items.append((f"draft model {name} (weights + KV cache)", -(-(dweights.total_bytes + dkv) // split)))
    if options.mtp:
        if not spec.mtp_layers:
            raise UsageError(f"--mtp: {spec.name} has no multi-token-prediction heads (num_nextn_predict_layers)")
        items.append((f"{spec.mtp_layers} MTP head(s)", -(-mtp_bytes(spec, weights) // split)))
    if options.lora_count:
        if options.lora_rank < 1:
            raise UsageError("--lora-count needs --lora-rank R (the adapters' largest rank)")
        lora = lora_slot_bytes(spec, rank=options.lora_rank, count=options.lora_count)
        items.append((f"LoRA: {options.lora_count} x rank {options.lora_rank}", -(-lora // split)))
    if engine == "llama.cpp" and spec.towers:
        items.append(("mmproj (vision/audio towers, F16)", mmproj_bytes(spec)))
    return Extras(tuple(items))


def plan_for(spec: ModelSpec, *, weights: WeightsResult, gpus: Sequence[GPU], context_tokens: int,
             batch_size: int, kv_dtype: str, settings: EngineSettings, options: PlanOptions) -> Plan:
    """The plan ``options`` ask for on ``settings.engine`` (llama.cpp or vLLM; transformers has no offload plan)."""
    engine = settings.engine
    if engine not in ("llama.cpp", "vllm"):
        raise UsageError("offload plans are for --engine llama.cpp or vllm (transformers' device_map is not modelled)")
    extras = extras_for(spec, weights, options, engine=engine, context_tokens=context_tokens,
                        batch_size=batch_size, kv_dtype=kv_dtype, num_gpus=max(len(gpus), 1))
    if engine == "vllm":
        return vllm_plan(spec, weights=weights, gpus=gpus, context_tokens=context_tokens, batch_size=batch_size,
                         kv_dtype=kv_dtype, settings=settings, extras=extras, cpu_offload_gb=options.cpu_offload_gb)
    fixed = options.n_gpu_layers is not None or options.n_cpu_moe is not None or options.cpu_moe
    if (options.cpu_moe or options.n_cpu_moe) and not spec.is_moe:
        raise UsageError(f"--n-cpu-moe / --cpu-moe: {spec.name} has no experts")
    common = dict(weights=weights, gpus=gpus, context_tokens=context_tokens, batch_size=batch_size,
                  kv_dtype=kv_dtype, kv_offload=options.kv_offload, tensor_split=options.tensor_split,
                  settings=settings, extras=extras)
    if fixed:
        n_cpu_moe = spec.num_hidden_layers if options.cpu_moe else (options.n_cpu_moe or 0)
        return llama_cpp_plan(spec, n_gpu_layers=options.n_gpu_layers, n_cpu_moe=n_cpu_moe, **common)  # type: ignore[arg-type]
    return solve_llama_cpp(spec, **common)  # type: ignore[arg-type]
