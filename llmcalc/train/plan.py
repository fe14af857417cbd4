"""A training plan: trainable parameters, memory per GPU, fit, compute and time, in one result.

:func:`plan_training` combines :mod:`llmcalc.train.lora` (what trains), :mod:`llmcalc.train.memory`
(model states), :mod:`llmcalc.train.activations` (saved for backward) and
:mod:`llmcalc.train.flops` (compute); the solvers search the one setting a user asks about
(largest micro-batch, longest sequence, fewest GPUs, cheapest recompute) by re-planning.

The allocator/fragmentation figure is an **estimate** shown apart from the exact parts: the CUDA
context and library workspaces (512 MiB, as :class:`llmcalc.memory.EngineSettings`) plus 5% of the
activations (the ``overhead_factor = 1.05`` of Megatron-LM's ``theoretical_memory_usage.py``).
A plan fits when ``total_bytes + overhead_bytes`` is at most the GPU's usable memory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from llmcalc.errors import UsageError
from llmcalc.gpus import GPUSet
from llmcalc.spec import ModelSpec
from llmcalc.train.activations import RECOMPUTE, ActivationEstimate, activation_memory
from llmcalc.train.flops import DEFAULT_MFU, TrainingFlops, training_flops
from llmcalc.train.lora import TrainableParams, trainable_params
from llmcalc.train.memory import ModelStateMemory, Parallelism, model_state_memory
from llmcalc.units import MIB

CUDA_CONTEXT_BYTES = 512 * MIB
FRAGMENTATION = Fraction(5, 100)


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """Every input of a plan (the CLI's flags), with the defaults documented in ``llmcalc train -h``."""

    method: str = "full"
    rank: int = 8
    alpha: int | None = None
    targets: tuple[str, ...] = ("all-linear",)
    dora: bool = False
    modules_to_save: tuple[str, ...] = ()
    bias: str = "none"
    optimizer: str = "adamw"
    precision: str = "bf16-mixed"
    zero: int = 0
    framework: str = "deepspeed"
    offload_optimizer: bool = False
    offload_params: bool = False
    tp: int = 1
    pp: int = 1
    cp: int = 1
    ep: int = 1
    sequence_parallel: bool = False
    micro_batch: int = 1
    micro_batches: int = 1
    seq: int = 2048
    attention: str = "flash"
    recompute: str = "none"
    tokens: int | None = None
    mfu: float = float(DEFAULT_MFU)
    use_fp8: bool = False


@dataclass(frozen=True, slots=True)
class TrainPlan:
    """The whole answer for one model, settings and GPU set; bytes per GPU (the most loaded one)."""

    model: str
    settings: TrainSettings
    gpus: int
    gpu_name: str | None
    trainable: TrainableParams
    states: ModelStateMemory
    activations: ActivationEstimate
    compute: TrainingFlops
    trainable_params: int
    weight_bytes: int
    gradient_bytes: int
    master_weight_bytes: int
    optimizer_bytes: int
    activation_bytes: int
    recompute_peak_bytes: int
    total_bytes: int
    overhead_bytes: int
    gpu_memory_bytes: int | None
    fits: bool | None
    forward_flops_per_token: int
    training_flops_per_token: int
    cpu_offload_bytes: int


def plan_training(spec: ModelSpec, settings: TrainSettings, gpu_set: GPUSet | None = None) -> TrainPlan:
    """Plan one training configuration of ``spec`` (on ``gpu_set`` when given). Pure."""
    s = settings
    gpus = gpu_set.count if gpu_set else s.tp * s.pp * s.cp
    par = Parallelism(gpus=gpus, tp=s.tp, pp=s.pp, cp=s.cp, ep=s.ep)
    trainable = trainable_params(spec, method=s.method, rank=s.rank, alpha=s.alpha, targets=s.targets, dora=s.dora,
                                 modules_to_save=s.modules_to_save, bias=s.bias)
    states = model_state_memory(spec, trainable, precision=s.precision, optimizer=s.optimizer, zero=s.zero,
                                parallel=par, framework=s.framework, offload_optimizer=s.offload_optimizer,
                                offload_params=s.offload_params)
    acts = activation_memory(spec, micro_batch=s.micro_batch, seq_tokens=s.seq, attention=s.attention,
                             recompute=s.recompute, activation_bytes=4 if s.precision == "fp32" else 2, tp=s.tp,
                             pp=s.pp, cp=s.cp, sequence_parallel=s.sequence_parallel, micro_batches=s.micro_batches)
    peak = None
    if gpu_set is not None:
        peak = gpu_set.gpu.fp8_dense_flops if s.use_fp8 else gpu_set.gpu.bf16_dense_flops
    compute = training_flops(spec, seq_tokens=s.seq, attention=s.attention, recompute=s.recompute, method=s.method,
                             adapter_params=trainable.adapter_params, tokens=s.tokens,
                             mfu=Fraction(s.mfu).limit_denominator(10**6),
                             peak_flops_per_gpu=peak, gpus=gpus)
    total = states.total_bytes + acts.total_bytes + acts.recompute_peak_bytes
    overhead = CUDA_CONTEXT_BYTES + int(FRAGMENTATION * acts.total_bytes)
    memory = gpu_set.gpu.usable_memory_bytes if gpu_set else None
    return TrainPlan(
        model=spec.name, settings=s, gpus=gpus, gpu_name=gpu_set.gpu.name if gpu_set else None,
        trainable=trainable, states=states, activations=acts, compute=compute,
        trainable_params=trainable.trainable_params, weight_bytes=states.weight_bytes + states.gathered_layer_bytes,
        gradient_bytes=states.gradient_bytes, master_weight_bytes=states.master_weight_bytes,
        optimizer_bytes=states.optimizer_bytes, activation_bytes=acts.total_bytes,
        recompute_peak_bytes=acts.recompute_peak_bytes, total_bytes=total,
        overhead_bytes=overhead, gpu_memory_bytes=memory,
        fits=None if memory is None else total + overhead <= memory,
        forward_flops_per_token=compute.forward_flops_per_token,
        training_flops_per_token=compute.training_flops_per_token, cpu_offload_bytes=states.cpu_offload_bytes,
    )


def _fits(spec: ModelSpec, settings: TrainSettings, gpu_set: GPUSet) -> bool:
    return bool(plan_training(spec, settings, gpu_set).fits)


def largest_micro_batch(spec: ModelSpec, settings: TrainSettings, gpu_set: GPUSet, *, limit: int = 4096) -> int:
    """The largest micro-batch that fits (0 if even 1 does not); memory grows with it, so bisect."""
    if not _fits(spec, replace(settings, micro_batch=1), gpu_set):
        return 0
    lo, hi = 1, 2
    while hi <= limit and _fits(spec, replace(settings, micro_batch=hi), gpu_set):
        lo, hi = hi, hi * 2
    hi = min(hi, limit + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _fits(spec, replace(settings, micro_batch=mid), gpu_set) else (lo, mid)
    return lo


def longest_sequence(spec: ModelSpec, settings: TrainSettings, gpu_set: GPUSet, *, limit: int = 1 << 24) -> int:
    """The longest sequence (tokens) that fits at the settings' micro-batch (0 if none)."""
    if not _fits(spec, replace(settings, seq=1), gpu_set):
        return 0
    lo, hi = 1, 2
    while hi <= limit and _fits(spec, replace(settings, seq=hi), gpu_set):
        lo, hi = hi, hi * 2
    hi = min(hi, limit + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _fits(spec, replace(settings, seq=mid), gpu_set) else (lo, mid)
    return lo


def fewest_gpus(spec: ModelSpec, settings: TrainSettings, gpu_set: GPUSet, *, limit: int = 4096) -> int | None:
    """The fewest GPUs of the set's kind (a multiple of ``tp x pp x cp`` and ``ep``) that fit, or None."""
    step = settings.tp * settings.pp * settings.cp
    n = step
    while n <= limit:
        try:
            if _fits(spec, settings, GPUSet(gpu_set.gpu, n)):
                return n
        except UsageError:
            pass
        n += step
    return None


def cheapest_recompute(spec: ModelSpec, settings: TrainSettings, gpu_set: GPUSet) -> str | None:
    """The first of none, selective, full (cheapest compute first) that fits, or None."""
    for recompute in RECOMPUTE:
        if _fits(spec, replace(settings, recompute=recompute), gpu_set):
            return recompute
    return None


def grid_settings(base: TrainSettings, grid: dict[str, list[str]]) -> list[TrainSettings]:
    """Every combination of ``grid`` (a TrainSettings field name -> values as typed) applied to ``base``.

    Values are converted to the field's type (``int``, ``float``, ``bool``, ``str``; a tuple field
    takes ``+``-separated names, ``q_proj+v_proj``). Raises :class:`UsageError` for an unknown key or
    a value of the wrong type.
    """
    import itertools

    fields = {f: getattr(base, f) for f in TrainSettings.__dataclass_fields__}
    axes: list[list[tuple[str, object]]] = []
    for key, values in grid.items():
        name = key.replace("-", "_")
        if name not in fields:
            raise UsageError(f"--grid {key}: not a training setting (one of {', '.join(sorted(fields))})")
        current = fields[name]
        axis: list[tuple[str, object]] = []
        for text in values:
            value: object
            try:
                if isinstance(current, bool):
                    value = {"true": True, "false": False, "1": True, "0": False}[text.lower()]
                elif isinstance(current, int) or (current is None and name in ("tokens", "alpha")):
                    value = int(text)
                elif isinstance(current, float):
                    value = float(text)
                elif isinstance(current, tuple):
                    value = tuple(text.split("+"))
                else:
                    value = text
            except (KeyError, ValueError):
                raise UsageError(f"--grid {key}={text}: not a valid value for {name}") from None
            axis.append((name, value))
        axes.append(axis)
    return [replace(base, **dict(combo)) for combo in itertools.product(*axes)]  # type: ignore[arg-type]


__all__ = ["TrainPlan", "TrainSettings", "cheapest_recompute", "fewest_gpus", "grid_settings", "largest_micro_batch",
           "longest_sequence", "plan_training"]
