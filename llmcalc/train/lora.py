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
from llmcalc.train.names import (
    PEFT_DEFAULT_TARGETS,
    PEFT_MAMBA_INCOMPATIBLE,
    PEFT_MAMBA_TYPES,
    PEFT_MOE_CONVERSION,
    PEFT_MOE_FUSED,
    PEFT_MOE_MAPPING,
)

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


def _hits(module: Module, targets: Sequence[str] | set[str]) -> int:
    """Instances of ``module`` whose name equals a target or ends in ``.target`` (PEFT's rule)."""
    path = module.path
    if any(path == t or path.endswith("." + t) for t in targets):
        return module.count  # a target without a layer index matches the module in every layer
    concrete = [t for t in targets if any(ch.isdigit() for ch in t)]
    if not concrete or "{i}" not in path:
        return 0
    return sum(any(name == t or name.endswith("." + t) for t in concrete) for name in module.names())


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


def _expand(spec: ModelSpec, targets: Sequence[str]) -> list[str]:
    """``default`` replaced by PEFT's per-model-type targets."""
    names: list[str] = []
    for t in targets:
        if t == "default":
            default = PEFT_DEFAULT_TARGETS.get(spec.model_type)
            if default is None:
                raise UsageError(f"PEFT has no default target modules for model_type '{spec.model_type}'; "
                                 "pass --targets")
            if spec.model_type in PEFT_MOE_CONVERSION:
                raise UsageError(f"PEFT 0.21 refuses its default targets for model_type '{spec.model_type}' "
                                 "(its MoE conversion empties them); pass --targets")
            names.extend(default)
        else:
            names.append(t)
    return names


def _converted(inventory: tuple[Module, ...], names: list[str], pattern: str) -> tuple[list[str], set[str], str]:
    """PEFT's ``_convert_peft_config_moe``: the remaining module targets, the parameter targets, and the
    parameter whose rank (and alpha) doubles ("" when none)."""
    plain: list[str] = []
    params: set[str] = set()
    for n in names:
        if n == "all-linear":  # resolved to leaf names, plus the v4 expert and router names
            plain += sorted({m.leaf for m in inventory if _in_set(m, n)})
            plain += [old for old, _ in PEFT_MOE_MAPPING[pattern]]
        elif n == "experts":
            params |= {name for m in inventory if m.role == "experts" for name in m.names()}
        elif n in TARGET_SETS:
            plain += [name for m in inventory if m.kind != "param" and _in_set(m, n) for name in m.names()]
        else:
            plain.append(n)
    remaining: list[str] = []
    present: set[str] = set()
    for t in plain:
        new = next(((old, new) for old, new in PEFT_MOE_MAPPING[pattern] if t == old or t.endswith("." + old)), None)
        if new is None:
            remaining.append(t)
        else:
            params.add(new[1])
            present.add(new[0])
    fused, olds = PEFT_MOE_FUSED[pattern]
    got = present & set(olds)
    if 0 < len(got) < len(olds):
        raise UsageError(f"--targets {', '.join(sorted(got))}: PEFT 0.21 needs {', '.join(olds)} together "
                         f"(fused into {fused} in transformers 5)")
    return remaining, params, fused if len(got) == len(olds) else ""


def select_targets(spec: ModelSpec, targets: Sequence[str]) -> list[tuple[Module, int, int]]:
    """The modules ``targets`` wrap: each with how many of its instances match and its rank factor.

    Follows PEFT 0.21, including its MoE conversion (:data:`llmcalc.train.names.PEFT_MOE_CONVERSION`).
    Raises :class:`UsageError` when nothing matches (PEFT raises ``ValueError`` then too).
    """
    inventory = module_inventory(spec)
    names = _expand(spec, targets)
    chosen: list[tuple[Module, int, int]] = []
    pattern = PEFT_MOE_CONVERSION.get(spec.model_type)
    if pattern is not None:
        remaining, params, doubled = _converted(inventory, names, pattern)
        for module in inventory:
            if module.kind == "param":
                hits = _hits(module, params)
                factor = 2 if doubled and module.path.endswith("." + doubled) else 1
            else:
                hits, factor = _hits(module, remaining), 1
            if hits:
                chosen.append((module, hits, factor))
    else:
        for module in inventory:
            if any(n in TARGET_SETS and _in_set(module, n) for n in names):
                chosen.append((module, module.count, 1))
                continue
            hits = _hits(module, [n for n in names if n not in TARGET_SETS])
            if hits:
                chosen.append((module, hits, 1))
    if spec.model_type in PEFT_MAMBA_TYPES:
        bad = sorted({m.leaf for m, _, _ in chosen if m.leaf in PEFT_MAMBA_INCOMPATIBLE})
        if bad:
            raise UsageError(f"--targets {','.join(targets)}: PEFT refuses LoRA on {', '.join(bad)} in Mamba-based "
                             f"models ({spec.model_type}); name the others, e.g. --targets in_proj,x_proj,dt_proj")
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
    """Elements of every parameter named ``*.bias``: Linear, LayerNorm, mixer and (gpt-oss) router biases."""
    from llmcalc.train.names import family_of

    names, _ = family_of(spec.model_type)
    inventory = module_inventory(spec)
    own = [m for m in inventory if m.bias and m.kind != "param" and m.role not in ("mixer", "tower")]
    total = sum(m.count * m.out_features for m in own if not m.weights_of)
    total += sum({m.weights_of: m.out_features for m in own if m.weights_of}.values())  # a shared bias once
    if names.router_bias_named_bias:
        total += sum(m.count * m.out_features for m in inventory if m.bias and m.role == "router" and m.kind == "param")
    for stack in spec.stacks:
        for g in stack.groups:
            if g.mixer is not None:
                total += g.count * sum(w.n_elements for w in g.mixer.weights(spec.hidden_size)
                                       if w.name.endswith(".bias") and w.module)  # a module's bias
    total += sum(t.bias_params for t in spec.towers if t.root)
    counts = count_params(spec)
    if spec.norm.kind == "layernorm" and spec.norm.bias:
        total += counts.component("norms") // 2
    for stack in spec.stacks:
        for g in stack.groups:
            for attn in (g.attention, g.cross_attention):
                if attn is None:
                    continue
                if attn.indexer is not None:  # DeepseekV32Indexer.k_norm is a LayerNorm with a bias
                    total += g.count * attn.indexer.head_dim
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
    Llama's names (a note says so). A multimodal model's towers are matched as PEFT matches them
    (by name, and by ``all-linear``); llmcalc's own sets (``attention``, ``mlp``, ...) mean the
    language model's modules. A tower whose modules are not known is frozen (a note says so).
    """
    if method not in METHODS:
        raise UsageError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if bias not in BIAS_MODES:
        raise UsageError(f"--bias must be one of {', '.join(BIAS_MODES)}, got {bias!r}")
    base = count_params(spec).total_params
    notes: list[str] = []
    if method == "full":
        return TrainableParams("full", 0, 0, base, base, base, 0, 0, 0, 0, 0, 0, (), tuple(notes))
    if rank < 1:
        raise UsageError(f"--rank must be at least 1, got {rank}")
    from llmcalc.train.modules import known_names, towers_without_modules

    unknown = towers_without_modules(spec)
    if unknown:
        notes.append(f"module names of the {', '.join(unknown)} tower(s) are not known: counted as frozen "
                     "weights, never targeted")

    if not known_names(spec):
        notes.append(f"module names for model_type '{spec.model_type}' assumed to be Llama's")
    from llmcalc.train.names import UNMODELLED_MODULES

    if spec.model_type in UNMODELLED_MODULES:
        notes.append(f"not modelled: {UNMODELLED_MODULES[spec.model_type]}; PEFT's count may differ")
    chosen = select_targets(spec, targets)
    adapters = magnitude = lora_bias = 0
    leaves: list[str] = []
    shared_bias: dict[str, int] = {}  # a bias several wrapped paths share trains once (Module.weights_of)
    for module, hits, factor in chosen:
        a, m = adapter_params(module, rank * factor, dora=dora)
        adapters += hits * a
        magnitude += hits * m
        if module.bias and module.kind != "param" and module.weights_of:
            shared_bias[module.weights_of] = module.out_features
        elif module.bias and module.kind != "param":
            lora_bias += hits * module.out_features
        if module.leaf not in leaves:
            leaves.append(module.leaf)
    lora_bias += sum(shared_bias.values())
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
        saved_copy_params=saved, targeted_modules=sum(h for _, h, _ in chosen), target_names=tuple(leaves),
        notes=tuple(notes),
    )


def peft_target_lists(spec: ModelSpec, targets: Sequence[str]) -> tuple[list[str], list[str]]:
    """The ``target_modules`` and ``target_parameters`` PEFT needs for the same selection.

    Used by ``benchmarks/peft_counts.py`` when a target is one of llmcalc's sets (PEFT has only
    ``all-linear``): each selected module is named by its path inside the layer
    (``self_attn.q_proj``) when no unselected module's name ends the same way, else by its concrete
    names (layer indices here follow the spec's groups, which may differ from the checkpoint's).
    """
    inventory = module_inventory(spec)
    select_targets(spec, targets)  # the same errors as trainable_params
    # what the user named, before PEFT's own MoE conversion (which PEFT then applies itself)
    chosen = {i for i, m in enumerate(inventory)
              if any(n in TARGET_SETS and _in_set(m, n) and (m.kind != "param" or n in ("experts", "router"))
                     for n in targets)}
    modules: list[str] = []
    params: list[str] = []
    for i, module in enumerate(inventory):
        if i not in chosen:
            continue
        suffix = module.path.split("{i}.", 1)[-1]
        clash = any(j not in chosen and (other.path == suffix or other.path.endswith("." + suffix))
                    for j, other in enumerate(inventory))
        names = module.names() if clash else [suffix]
        out = params if module.kind == "param" else modules
        out.extend(n for n in names if n not in out)
    return modules, params


__all__ = ["BIAS_MODES", "METHODS", "TARGET_SETS", "TrainableParams", "peft_target_lists", "select_targets",
           "trainable_params"]
