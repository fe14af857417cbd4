"""Trainable parameters: full training, LoRA, QLoRA and DoRA, counted the way PEFT counts them.

Reference implementation: PEFT 0.21 (``peft/tuners/lora/layer.py``, ``peft/tuners/tuners_utils.py``,
``peft/utils/other.py``), and its ``print_trainable_parameters`` (``peft_model.py``,
``get_nb_trainable_parameters``), whose ``all params`` is every parameter of the wrapped model:
the base model, the adapters and the ``modules_to_save`` copies. Per wrapped module of
``in x out`` (Hu et al. 2021, arXiv 2106.09685, section 4.1)::

    Linear / Conv1D:  r (in + out)          (+ out with DoRA's magnitude vector, Liu et al. 2024,
                                             arXiv 2402.09353, section 4; + out with lora_bias)
    Embedding(V, d):  r (V + d)             (lora_embedding_A: r x V, lora_embedding_B: d x r)
    3-D parameter (E, a, b), target_parameters:  r E (a + b)   (lora.ParamWrapper: A is a x rE, B is rE x b)
    2-D parameter (a, b): r (a + b)

Targets are matched as PEFT matches ``target_modules``: a module whose full name equals a target or
ends in ``.target``; ``all-linear`` is every ``nn.Linear``/``Conv1D`` except the output head
(``_maybe_include_all_linear_layers``: the routers that are Linear modules, Qwen-MoE's shared-expert
gate and BERT's pooler are included; fused 3-D experts are not, being Parameters). llmcalc adds
named sets: ``attention``, ``mlp`` (dense MLP and shared experts), ``experts`` (the routed experts,
as ``target_parameters``), ``router``, ``mixer`` (a non-attention token mixer's linears),
``default`` (PEFT's per-model-type default). Bias modes: ``none``; ``all`` (every parameter named
``*.bias`` trains: Linear and LayerNorm biases, gpt-oss's router bias; not the experts'
``gate_up_proj_bias``, whose name does not end in ``.bias``); ``lora_only`` (biases of the wrapped
modules). QLoRA trains the same adapters on an NF4 base; PEFT counts a ``Params4bit`` as
``2 x numel`` (its packed storage), so its totals equal LoRA's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from llmcalc.errors import UsageError
from llmcalc.params import count_params
from llmcalc.spec import ModelSpec
from llmcalc.train.modules import Module, module_inventory
from llmcalc.train.names import PEFT_DEFAULT_TARGETS

Method = Literal["full", "lora", "qlora"]
BiasMode = Literal["none", "all", "lora_only"]
METHODS = ("full", "lora", "qlora")
BIAS_MODES = ("none", "all", "lora_only")
TARGET_SETS = ("all-linear", "attention", "mlp", "experts", "router", "mixer", "default")


@dataclass(frozen=True, slots=True)
class TrainableParams:
    """What trains and what is frozen, with PEFT's ``all params`` beside the base model's total.

    ``base_params`` is the model's own count (:func:`llmcalc.params.count_params`);
    ``all_params = base_params + adapter_params + dora_magnitude_params + saved_copy_params``.
    ``trainable_params = adapter_params + dora_magnitude_params + bias_params + saved_copy_params``
    (all of ``base_params`` for full training). ``targeted_modules`` counts the wrapped modules
    (and parameters) over all layers; ``target_names`` their distinct leaf names.
    """

    method: str
    rank: int
    alpha: int
    base_params: int
    trainable_params: int
    all_params: int
    frozen_params: int
    adapter_params: int
    dora_magnitude_params: int
    bias_params: int
    saved_copy_params: int
    targeted_modules: int
    target_names: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def trainable_percent(self) -> float:
        return 100.0 * self.trainable_params / self.all_params if self.all_params else 0.0


def _matches(module: Module, target: str) -> int:
    """Instances of ``module`` whose name equals ``target`` or ends in ``.target`` (PEFT's rule)."""
    if any(ch.isdigit() for ch in target) and "{i}" in module.path:
        return sum(name == target or name.endswith("." + target) for name in module.names())
    path = module.path
    if path == target or path.endswith("." + target):
        return module.count
    return 0


def _in_set(module: Module, name: str) -> bool:
    if name == "all-linear":
        return module.kind in ("linear", "conv1d") and module.role != "lm_head"
    if name == "attention":
        return module.role == "attention" and module.kind != "param"
    if name == "mlp":
        return module.role in ("mlp", "shared_experts") and module.kind != "param"
    if name == "experts":
        return module.role == "experts"
    if name == "router":
        return module.role == "router"
    return name == "mixer" and module.role == "mixer"


def select_targets(spec: ModelSpec, targets: Sequence[str]) -> list[tuple[Module, int]]:
    """The modules ``targets`` wrap, each with how many of its instances match.

    Raises :class:`UsageError` when nothing matches (PEFT raises ``ValueError`` then too).
    """
    inventory = module_inventory(spec)
    names: list[str] = []
    for t in targets:
        if t == "default":
            default = PEFT_DEFAULT_TARGETS.get(spec.model_type)
            if default is None:
                raise UsageError(f"PEFT has no default target modules for model_type '{spec.model_type}'; "
                                 "pass --targets")
            names.extend(default)
        else:
            names.append(t)
    chosen: list[tuple[Module, int]] = []
    for module in inventory:
        if any(n in TARGET_SETS and _in_set(module, n) for n in names):
            chosen.append((module, module.count))
            continue
        if module.kind == "param":  # only reachable by name through target_parameters
            hits = max((_matches(module, n) for n in names if n not in TARGET_SETS), default=0)
        else:
            hits = max((_matches(module, n) for n in names if n not in TARGET_SETS), default=0)
        if hits:
            chosen.append((module, hits))
    if not chosen:
        raise UsageError(f"--targets {','.join(targets)}: no module of {spec.name} matches "
                         f"(model_type {spec.model_type or '?'}; sets: {', '.join(TARGET_SETS)})")
    return chosen


def adapter_params(module: Module, rank: int, *, dora: bool) -> tuple[int, int]:
    """LoRA parameters of one instance of ``module`` and its DoRA magnitude (PEFT's shapes)."""
    if module.kind == "param":
        if dora:
            raise UsageError(f"{module.path}: PEFT's ParamWrapper (target_parameters) does not support DoRA")
        return rank * module.experts * (module.in_features + module.out_features), 0
    lora = rank * (module.in_features + module.out_features)
    if module.kind == "embedding":
        return lora, (module.out_features if dora else 0)
    return lora, (module.out_features if dora else 0)


def _bias_all(spec: ModelSpec) -> int:
    """Elements of every parameter named ``*.bias``: Linear, LayerNorm and router biases."""
    total = sum(m.count * m.out_features for m in module_inventory(spec) if m.bias and m.kind != "param")
    total += sum(m.count * m.out_features for m in module_inventory(spec) if m.bias and m.role == "router"
                 and m.kind == "param")
    counts = count_params(spec)
    if spec.norm.kind == "layernorm" and spec.norm.bias:
        total += counts.component("norms") // 2
    for stack in spec.stacks:
        for g in stack.groups:
            for attn in (g.attention, g.cross_attention):
                if attn is None:
                    continue
                qk = attn.qk_norm_type or spec.norm
                if qk.kind == "layernorm" and qk.bias:
                    dims = {"head": 2 * attn.head_dim,
                            "all-heads": (attn.num_heads + attn.num_kv_heads) * attn.head_dim}.get(attn.qk_norm, 0)
                    total += g.count * dims
    return total


def trainable_params(
    spec: ModelSpec,
    *,
    method: str = "lora",
    rank: int = 8,
    alpha: int | None = None,
    targets: Sequence[str] = ("default",),
    dora: bool = False,
    modules_to_save: Sequence[str] = (),
    bias: str = "none",
) -> TrainableParams:
    """Trainable and total parameters of ``spec`` for full training or a LoRA/QLoRA/DoRA adapter.

    See the module docstring for the formulas and PEFT's matching rules. Exact for the module
    names of :mod:`llmcalc.train.names`; a ``model_type`` without a table is matched against
    Llama's names (a note says so). Towers of a multimodal model are frozen and never targeted.
    """
    if method not in METHODS:
        raise UsageError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if bias not in BIAS_MODES:
        raise UsageError(f"--bias must be one of {', '.join(BIAS_MODES)}, got {bias!r}")
    base = count_params(spec).total_params
    notes: list[str] = []
    if spec.towers:
        notes.append("the vision/audio towers and projector are counted as frozen weights (never targeted)")
    if method == "full":
        return TrainableParams("full", 0, 0, base, base, base, 0, 0, 0, 0, 0, 0, (), tuple(notes))
    if rank < 1:
        raise UsageError(f"--rank must be at least 1, got {rank}")
    from llmcalc.train.modules import known_names

    if not known_names(spec):
        notes.append(f"module names for model_type '{spec.model_type}' assumed to be Llama's")
    chosen = select_targets(spec, targets)
    adapters = magnitude = lora_bias = 0
    leaves: list[str] = []
    for module, hits in chosen:
        a, m = adapter_params(module, rank, dora=dora)
        adapters += hits * a
        magnitude += hits * m
        if module.bias and module.kind != "param":
            lora_bias += hits * module.out_features
        if module.leaf not in leaves:
            leaves.append(module.leaf)
    saved = 0
    for name in modules_to_save:
        found = [m for m in module_inventory(spec) if m.kind != "param" and m.path.endswith(name)]
        if not found:
            raise UsageError(f"--modules-to-save {name}: no module of {spec.name} has that name")
        saved += sum(m.count * (m.weight_params + (m.out_features if m.bias else 0)) for m in found)
    bias_params = {"none": 0, "all": _bias_all(spec), "lora_only": lora_bias}[bias]
    trainable = adapters + magnitude + bias_params + saved
    all_params = base + adapters + magnitude + saved
    return TrainableParams(
        method=method, rank=rank, alpha=alpha if alpha is not None else 2 * rank, base_params=base,
        trainable_params=trainable, all_params=all_params, frozen_params=all_params - trainable,
        adapter_params=adapters, dora_magnitude_params=magnitude, bias_params=bias_params,
        saved_copy_params=saved, targeted_modules=sum(h for _, h in chosen), target_names=tuple(leaves),
        notes=tuple(notes),
    )


def peft_target_lists(spec: ModelSpec, targets: Sequence[str]) -> tuple[list[str], list[str]]:
    """The concrete ``target_modules`` and ``target_parameters`` PEFT needs for the same selection.

    Used by ``benchmarks/peft_counts.py`` to give PEFT exactly the modules llmcalc counts when a
    target is one of llmcalc's sets (PEFT has only ``all-linear``).
    """
    modules: list[str] = []
    params: list[str] = []
    for module, _ in select_targets(spec, targets):
        names = module.names()
        if any(ch.isdigit() for t in targets for ch in t):
            names = [n for n in names if any(n == t or n.endswith("." + t) for t in targets)] or names
        (params if module.kind == "param" else modules).extend(names)
    return modules, params


__all__ = ["BIAS_MODES", "METHODS", "TARGET_SETS", "TrainableParams", "peft_target_lists", "select_targets",
           "trainable_params"]
