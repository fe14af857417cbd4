"""``llmcalc train``: trainable parameters, memory per GPU, fit, FLOPs and time of a training run."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from llmcalc.cli.options import (
    Count,
    gpus_file_option,
    json_option,
    model_argument,
    presets_dir_option,
    split_list,
    units_option,
    warn,
    width_option,
)
from llmcalc.train.activations import ATTENTION_IMPLS, RECOMPUTE
from llmcalc.train.lora import BIAS_MODES, METHODS
from llmcalc.train.memory import FRAMEWORKS, OPTIMIZERS, PRECISIONS

_DECIMAL = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
SOLVE = ("micro-batch", "seq", "gpus", "recompute")


def parse_tokens(text: str) -> int:
    """``1T`` -> 10^12, ``300B`` -> 3 x 10^11, ``2.5M``, ``1e12``, ``1,000,000``: decimal, as token budgets are."""
    from fractions import Fraction

    raw = text.strip().replace(",", "").replace("_", "")
    suffix = raw[-1:].lower() if raw[-1:].isalpha() else ""
    body = raw[: len(raw) - len(suffix)]
    try:
        if suffix not in _DECIMAL:
            raise ValueError
        number = Fraction(body) if "e" not in body.lower() else Fraction(float(body))
        value = number * _DECIMAL[suffix]
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(f"'{text}' is not a token count such as 1T, 300B or 2.5M") from None
    if value.denominator != 1 or value < 1:
        raise click.BadParameter(f"'{text}' is not a whole number of tokens")
    return int(value)


@click.command()
@model_argument()
@click.option("--method", type=click.Choice(METHODS), default="full", show_default=True,
              help="Full training, LoRA, or QLoRA (LoRA on an NF4 base).")
@click.option("--rank", "-r", type=click.IntRange(1), default=8, show_default=True, help="LoRA rank r.")
@click.option("--alpha", type=click.IntRange(1), default=None, help="LoRA alpha (scaling only; default 2r).")
@click.option("--targets", multiple=True, metavar="NAMES",
              help="LoRA target modules as PEFT takes them (q_proj,v_proj; c_attn; query_key_value; qkv_proj; Wqkv) "
                   "or sets: all-linear (PEFT's: every Linear but the output head), attention, mlp, experts "
                   "(routed experts, PEFT target_parameters), router, mixer. Default: PEFT's default for the "
                   "model type, else all-linear.")
@click.option("--dora", is_flag=True, help="DoRA: add the magnitude vector of each wrapped module.")
@click.option("--modules-to-save", multiple=True, metavar="NAMES",
              help="Modules trained in full (copied), e.g. lm_head.")
@click.option("--bias", type=click.Choice(BIAS_MODES), default="none", show_default=True, help="PEFT bias mode.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adamw", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="bf16-mixed", show_default=True,
              help="bf16-mixed: bf16 weights with fp32 master weights and gradients; bf16: pure bf16; fp32.")
@click.option("--zero", type=click.IntRange(0, 3), default=0, show_default=True,
              help="ZeRO stage (FSDP: FULL_SHARD = 3, SHARD_GRAD_OP = 2).")
@click.option("--framework", type=click.Choice(FRAMEWORKS), default="deepspeed", show_default=True,
              help="Gradient convention: DeepSpeed (bf16 + fp32 gradients) or Megatron (fp32 main_grad only).")
@click.option("--offload-optimizer", is_flag=True,
              help="ZeRO-Offload: optimizer states, master weights, fp32 grads in CPU RAM.")
@click.option("--offload-params", is_flag=True, help="ZeRO-3 parameter offload to CPU RAM.")
@click.option("--gpu", "gpu", default=None, metavar="GPU", help="GPU set, e.g. h100 or 8xh100 (`llmcalc gpus`).")
@click.option("--tp", type=click.IntRange(1), default=1, show_default=True, help="Tensor-parallel degree.")
@click.option("--pp", type=click.IntRange(1), default=1, show_default=True, help="Pipeline-parallel degree.")
@click.option("--cp", type=click.IntRange(1), default=1, show_default=True, help="Context-parallel degree.")
@click.option("--ep", type=click.IntRange(1), default=1, show_default=True, help="Expert-parallel degree.")
@click.option("--sequence-parallel", "--sp", "sequence_parallel", is_flag=True, help="Megatron sequence parallelism.")
@click.option("--micro-batch", type=click.IntRange(1), default=1, show_default=True, help="Sequences per micro-batch.")
@click.option("--micro-batches", type=click.IntRange(1), default=1, show_default=True,
              help="Micro-batches per step (pipeline in-flight count).")
@click.option("--seq", type=Count(), default="2048", show_default=True, help="Sequence length in tokens (4k, 32768).")
@click.option("--attention", type=click.Choice(ATTENTION_IMPLS), default="sdpa", show_default=True)
@click.option("--recompute", type=click.Choice(RECOMPUTE), default="none", show_default=True,
              help="Activation recomputation (gradient checkpointing = full).")
@click.option("--tokens", default=None, metavar="N",
              help="Token budget (1T, 300B); default Chinchilla's 20 per parameter.")
@click.option("--mfu", type=click.FloatRange(0, 1, min_open=True), default=0.4, show_default=True,
              help="Model FLOPs utilisation assumed for the wall time.")
@click.option("--fp8", "use_fp8", is_flag=True, help="Time against the GPU's dense FP8 peak instead of BF16.")
@click.option("--solve", multiple=True, type=click.Choice(SOLVE),
              help="Also find the largest micro-batch, longest sequence, fewest GPUs or cheapest recompute that fit.")
@click.option("--grid", multiple=True, metavar="KEY=V1,V2",
              help="Sweep training settings, e.g. --grid micro_batch=1,2,4 --grid zero=2,3 (one row each).")
@json_option
@units_option
@presets_dir_option
@gpus_file_option
@width_option
def train(model: str, gpu: str | None, targets: tuple[str, ...], modules_to_save: tuple[str, ...],
          tokens: str | None, solve: tuple[str, ...], grid: tuple[str, ...], as_json: bool, units: str,
          presets_dirs: tuple[str, ...], gpus_files: tuple[str, ...], width: int | None, **flags: Any) -> None:
    """Plan training or fine-tuning MODEL: trainable parameters, memory per GPU, fit, FLOPs and time.

    Weights, gradients and optimizer states are exact for the stated conventions; activations
    and the allocator overhead are estimates (README "Training" says how they compare with
    measurements).
    """
    from llmcalc.gpus import parse_gpu_set
    from llmcalc.jsonout import dumps
    from llmcalc.loading import load_model
    from llmcalc.train.names import PEFT_DEFAULT_TARGETS
    from llmcalc.train.plan import TrainSettings, grid_settings, plan_training

    spec = load_model(model, presets_dirs=presets_dirs).spec
    for assumption in spec.assumptions:
        warn(assumption)
    names = split_list(targets, what="target") or (
        ["default"] if spec.model_type in PEFT_DEFAULT_TARGETS else ["all-linear"])
    settings = TrainSettings(targets=tuple(names), modules_to_save=tuple(split_list(modules_to_save, what="module")),
                             tokens=parse_tokens(tokens) if tokens else None, **flags)
    gpu_set = parse_gpu_set(gpu, gpus_files) if gpu else None
    if grid:
        axes = {k: split_list(v, what="value") for k, _, v in (g.partition("=") for g in grid)}
        plans = [plan_training(spec, s, gpu_set) for s in grid_settings(settings, axes)]
        if as_json:
            click.echo(dumps({"model": spec.name, "grid": list(axes), "plans": plans}))
            return
        from llmcalc.render.table import emit
        from llmcalc.render.train import grid_view

        emit(grid_view(plans, list(axes), units=units), width=width)  # type: ignore[arg-type]
        return
    plan = plan_training(spec, settings, gpu_set)
    solved = _solve(spec, settings, gpu_set, solve)
    for note in plan.trainable.notes:
        warn(note)
    if as_json:
        click.echo(dumps({**_top(plan), "solved": solved}))
        return
    from llmcalc.render.table import emit
    from llmcalc.render.train import train_view

    emit(train_view(plan, solved, units=units), width=width)  # type: ignore[arg-type]


def _top(plan: Any) -> dict[str, Any]:
    """The plan's fields, with the settings first under ``inputs``."""
    from llmcalc.jsonout import to_jsonable

    body = to_jsonable(plan)
    return {"model": body.pop("model"), "inputs": body.pop("settings"), **body}


def _solve(spec: Any, settings: Any, gpu_set: Any, solve: tuple[str, ...]) -> dict[str, Any]:
    if not solve:
        return {}
    if gpu_set is None:
        raise click.UsageError("--solve needs --gpu")
    from llmcalc.train import plan as p

    out: dict[str, Any] = {}
    for what in dict.fromkeys(solve):
        if what == "micro-batch":
            out["largest_micro_batch"] = p.largest_micro_batch(spec, settings, gpu_set)
        elif what == "seq":
            out["longest_seq_tokens"] = p.longest_sequence(spec, settings, gpu_set)
        elif what == "gpus":
            out["fewest_gpus"] = p.fewest_gpus(spec, replace(settings), gpu_set)
        else:
            out["cheapest_recompute"] = p.cheapest_recompute(spec, settings, gpu_set)
    return out
