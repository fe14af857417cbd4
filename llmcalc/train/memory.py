"""Model-state memory per GPU for training: weights, gradients, master weights, optimizer states.

Exact for the stated conventions (bytes per parameter times parameters on the GPU), which follow
the two reference implementations:

- DeepSpeed ZeRO (Rajbhandari et al. 2020, arXiv 1910.02054, section 5; DeepSpeed's own estimators
  ``estimate_zero2_model_states_mem_needs`` in ``deepspeed/runtime/zero/stage_1_and_2.py`` and
  ``estimate_zero3_model_states_mem_needs`` in ``stage3.py``): with ``bf16-mixed`` AdamW each
  trained parameter has a 16-bit weight (2 bytes), a 16-bit gradient (2), an fp32 gradient
  partition the optimizer steps on (4), an fp32 master weight (4) and two fp32 moments (8).
  Stage 1 shards the fp32 gradient, master and moments over the data-parallel ranks ``N_d``;
  stage 2 also the 16-bit gradients; stage 3 also the weights, and its 16-bit gradients are
  reduce-scattered straight into the fp32 partition (not kept), while the largest layer is gathered
  whole (``4 x largest layer``: its 16-bit weight and gradient). Stage 2 gives DeepSpeed's
  ``2 N + 18 N / N_d``, stage 3 its ``18 N / N_d + 4 x largest layer``.
- Megatron-LM (``megatron/training/theoretical_memory_usage.py``): gradients accumulate into fp32
  ``main_grad`` (no 16-bit gradient), 18 bytes per parameter, ``6 + 12 / N_d`` with the
  distributed optimizer (ZeRO-1), parameters of the most loaded (first) pipeline stage:
  ``(layers / p + embedding) / t`` (+ the untied head when ``p = 1``).

``bf16`` (pure): 16-bit weights and gradients, optimizer states in 16 bits (``torch.optim`` keeps
them in the parameter's dtype), no master copy. ``fp32``: 4-byte weights and gradients, fp32 states.
LoRA/QLoRA: the frozen base has only weights (16-bit, or NF4 for QLoRA's linear weights with
double quantization, Dettmers et al. 2023, arXiv 2305.14314, section 3: 4 bits + an 8-bit absmax
per 64 + an fp32 constant per 256 blocks); adapters are fp32 (PEFT's ``autocast_adapter_dtype``
default) with fp32 gradients and states. Optimizer states per trained parameter (``s`` bytes per
state): AdamW ``2 s``; 8-bit AdamW (bitsandbytes, blockwise with an fp32 absmax per 256) ``2 +
8 / 256``; SGD with momentum ``s``; Adafactor (Shazeer & Stern 2018, no first moment, HF default)
``s (rows + cols)`` per matrix and ``s`` per vector value; Muon (Jordan et al. 2024) ``s`` per
hidden-matrix value, AdamW for embeddings, head and vectors.

Tensor/pipeline/expert parallelism split parameters as Megatron does (dense ``/ t``, layers
``/ p`` on the first stage with the embedding, routed experts ``/ (e t)``); context parallelism
splits no weights, and ZeRO shards over the ``N_d x c`` data-and-context-parallel ranks.
Offload (ZeRO-Offload, Ren et al. 2021, arXiv 2101.06840): the fp32 gradients, master weights and
moments move to CPU RAM (and, with ``offload_params`` under ZeRO-3, the 16-bit weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import UsageError
from llmcalc.params import count_params
from llmcalc.spec import ModelSpec
from llmcalc.train.lora import TrainableParams
from llmcalc.train.modules import module_inventory

PRECISIONS = ("bf16", "bf16-mixed", "fp32")
OPTIMIZERS = ("adamw", "adamw-8bit", "sgd", "adafactor", "muon")
FRAMEWORKS = ("deepspeed", "megatron")


@dataclass(frozen=True, slots=True)
class Parallelism:
    """How ``gpus`` are split: ``tp x pp x cp`` model-parallel, the rest data-parallel; ``ep``
    divides the data-parallel ranks for the routed experts."""

    gpus: int = 1
    tp: int = 1
    pp: int = 1
    cp: int = 1
    ep: int = 1

    def __post_init__(self) -> None:
        for name in ("gpus", "tp", "pp", "cp", "ep"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"--{name} must be a whole number of at least 1, got {value!r}")
        model = self.tp * self.pp * self.cp
        if self.gpus % model:
            raise UsageError(f"{self.gpus} GPUs do not divide into tp x pp x cp = {model}")
        if (self.dp * self.cp) % self.ep:
            raise UsageError(f"--ep {self.ep} must divide the data x context parallel ranks ({self.dp * self.cp})")

    @property
    def dp(self) -> int:
        return self.gpus // (self.tp * self.pp * self.cp)


@dataclass(frozen=True, slots=True)
class ModelStateMemory:
    """Model-state bytes on the most loaded GPU, by part, and what offload moves to CPU RAM."""

    local_params: int
    local_trainable_params: int
    shard_ranks: int
    weight_bytes: int
    gradient_bytes: int
    master_weight_bytes: int
    optimizer_bytes: int
    gathered_layer_bytes: int
    cpu_offload_bytes: int
    total_bytes: int


def nf4_bytes(n: int) -> int:
    """Bytes of ``n`` weights in bitsandbytes NF4 with double quantization (blocks of 64, 256)."""
    blocks = -(-n // 64)
    return -(-n // 2) + blocks + 4 * -(-blocks // 256)


def _local_params(spec: ModelSpec, par: Parallelism) -> tuple[Fraction, Fraction]:
    """Parameters of the most loaded GPU (first pipeline stage), dense and routed-expert."""
    counts = count_params(spec)
    routed = counts.component("routed_experts")
    embed = counts.embedding_params + counts.positional_params + counts.component("token_type_embedding")
    head = counts.lm_head_params
    towers = counts.vision_params + counts.audio_params + counts.projector_params
    body = counts.total_params - routed - embed - head - towers
    dense = (Fraction(body, par.pp) + embed + towers + (head if par.pp == 1 else 0)) / par.tp
    experts = Fraction(routed, par.pp * par.ep * par.tp)
    return dense, experts


def _optimizer_values(spec: ModelSpec, trainable: TrainableParams, optimizer: str, state: int) -> Fraction:
    """Optimizer-state bytes for all trained parameters (before any split)."""
    n = trainable.trainable_params
    if optimizer == "adamw":
        return Fraction(2 * state * n)
    if optimizer == "adamw-8bit":
        return Fraction(2 * n) + Fraction(2 * 4 * n, 256)
    if optimizer == "sgd":
        return Fraction(state * n)
    if optimizer not in ("adafactor", "muon"):
        raise UsageError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if trainable.method == "full":
        mats = [(m.count * m.experts, m.in_features, m.out_features, m.role) for m in module_inventory(spec)
                if m.kind != "param" or m.role == "experts"]
        matrix_values = sum(c * i * o for c, i, o, _ in mats)
        vectors = n - matrix_values
        if optimizer == "adafactor":
            return Fraction(state * (sum(c * (i + o) for c, i, o, _ in mats) + vectors))
        outer = sum(c * i * o for c, i, o, role in mats if role in ("embedding", "lm_head"))
        return Fraction(state * (matrix_values - outer) + 2 * state * (outer + vectors))
    # adapters: every LoRA A/B is a matrix; DoRA magnitudes, biases and saved copies are treated as vectors
    adapters = trainable.adapter_params
    rest = n - adapters
    if optimizer == "muon":
        return Fraction(state * adapters + 2 * state * rest)
    r = trainable.rank
    # Adafactor on A (r x in) and B (out x r): r + in and out + r per module, about adapters / r values
    return Fraction(state * (Fraction(adapters, r) + 2 * r * trainable.targeted_modules + rest))


def model_state_memory(
    spec: ModelSpec,
    trainable: TrainableParams,
    *,
    precision: str = "bf16-mixed",
    optimizer: str = "adamw",
    zero: int = 0,
    parallel: Parallelism | None = None,
    framework: str = "deepspeed",
    offload_optimizer: bool = False,
    offload_params: bool = False,
) -> ModelStateMemory:
    """Weights, gradients, master weights and optimizer states on the most loaded GPU (module docstring)."""
    par = parallel or Parallelism()
    if precision not in PRECISIONS:
        raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if zero not in (0, 1, 2, 3):
        raise UsageError(f"--zero must be 0, 1, 2 or 3, got {zero!r}")
    if framework not in FRAMEWORKS:
        raise UsageError(f"--framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    if offload_params and zero != 3:
        raise UsageError("--offload-params needs --zero 3 (ZeRO-Infinity offloads parameters only at stage 3)")
    dense, experts = _local_params(spec, par)
    total = count_params(spec).total_params
    local = dense + experts
    share = local / total  # the fraction of the model this GPU holds before ZeRO
    shard = par.dp * par.cp
    # ZeRO shards dense parameters over the dp x cp ranks and routed experts over the expert-data-
    # parallel ranks, dp x cp / ep (Megatron's expert_data_parallel_size); z is the blended share
    z = (dense * Fraction(1, shard) + experts * Fraction(par.ep, shard)) / local if local else Fraction(1, shard)
    full = trainable.method == "full"
    n_train = Fraction(trainable.trainable_params) * share
    frozen = local - n_train if full else Fraction(trainable.base_params) * share

    w16 = 4 if precision == "fp32" else 2
    if full:
        weight = w16 * local
    else:
        frozen_bytes = Fraction(w16) * frozen
        if trainable.method == "qlora":
            linear = sum(m.count * m.weight_params for m in module_inventory(spec)
                         if m.kind in ("linear", "conv1d") and m.role != "lm_head")
            frozen_bytes = Fraction(w16 * (trainable.base_params - linear) + nf4_bytes(linear)) * share
        weight = frozen_bytes + 4 * n_train
    # gradients: (16-bit, fp32) bytes per trained parameter
    if not full or precision == "fp32":
        g16, g32 = 0, 4
    elif precision == "bf16":
        g16, g32 = 2, 0
    else:
        g16, g32 = (0, 4) if framework == "megatron" else (2, 4)
    master = 4 if (full and precision == "bf16-mixed") else 0
    state = 2 if (full and precision == "bf16") else 4
    opt = _optimizer_values(spec, trainable, optimizer, state) * share
    if zero >= 1:
        opt *= z
        master_b = master * n_train * z
        g32_b = g32 * n_train * (1 if framework == "megatron" and zero == 1 else z)
    else:
        master_b = master * n_train
        g32_b = g32 * n_train
    g16_b = g16 * n_train * (z if zero == 2 else 1) if zero < 3 else Fraction(0)
    gathered = Fraction(0)
    if zero == 3:
        weight *= z
        largest = max(m.weight_params for m in module_inventory(spec))
        gathered = Fraction(4 * largest, par.tp)
    cpu = Fraction(0)
    if offload_optimizer:
        cpu += (opt + master_b + g32_b) * shard
        opt = master_b = g32_b = Fraction(0)
        g16_b = Fraction(0)  # streamed to the CPU as they are produced
    if offload_params:
        cpu += weight * shard
        weight = Fraction(0)
    w, g, m, o, gl = int(weight), int(g16_b + g32_b), int(master_b), int(opt), int(gathered)
    return ModelStateMemory(local_params=int(local), local_trainable_params=int(n_train), shard_ranks=shard,
                            weight_bytes=w, gradient_bytes=g, master_weight_bytes=m, optimizer_bytes=o,
                            gathered_layer_bytes=gl, cpu_offload_bytes=int(cpu), total_bytes=w + g + m + o + gl)


__all__ = ["FRAMEWORKS", "OPTIMIZERS", "PRECISIONS", "ModelStateMemory", "Parallelism", "model_state_memory",
           "nf4_bytes"]
