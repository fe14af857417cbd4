"""Turn ``llmcalc memory``'s plan flags into library arguments (parsing only; the rules are in llmcalc.plans)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from llmcalc.gpus import GPU
    from llmcalc.plans import PlanOptions


def gpu_list(gpu_set: Sequence[tuple[str, int]], gpus_files: Sequence[str]) -> list[GPU]:
    """A mixed set (``--gpu rtx4090,rtx3090``, ``--gpu 2xh100,1xa100-80gb``) as one GPU per device; [] otherwise."""
    if len({name.lower() for name, _ in gpu_set}) < 2:
        return []
    from llmcalc.gpus import get_gpu

    return [get_gpu(name, extra_files=gpus_files) for name, count in gpu_set for _ in range(count)]


def settings_overrides(*, gpu_memory_utilization: float | None, n_ubatch: int | None,
                       max_num_batched_tokens: int | None, max_num_seqs: int | None,
                       flash_attention: bool, mla_backend: str | None = None) -> dict[str, object]:
    """The engine settings the flags change (only those given)."""
    given = {"gpu_memory_utilization": gpu_memory_utilization, "n_ubatch": n_ubatch,
             "max_num_batched_tokens": max_num_batched_tokens, "max_num_seqs": max_num_seqs}
    out: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    if not flash_attention:
        out["flash_attention"] = False
    if mla_backend is not None:
        from llmcalc.engines.vllm import MLA_BLOCK_TOKENS

        out["mla_block_tokens"] = MLA_BLOCK_TOKENS[mla_backend]
    return out


def plan_options(*, solve: bool, n_gpu_layers: int | None, n_cpu_moe: int | None, cpu_moe: bool,
                 no_kv_offload: bool, tensor_split: str | None, cpu_offload_gb: int | None, lora_rank: int | None,
                 lora_count: int | None, draft: str | None, mtp: bool, quant: Sequence[str], bpw: Sequence[str],
                 presets_dirs: Sequence[str]) -> PlanOptions | None:
    """:class:`~llmcalc.plans.PlanOptions` when any plan flag is given, else None.

    The draft model is priced in the first ``--quant`` / ``--bpw`` format, else bf16.
    """
    asked = (solve or n_gpu_layers is not None or n_cpu_moe is not None or cpu_moe or no_kv_offload
             or tensor_split or cpu_offload_gb is not None or lora_rank or lora_count or draft or mtp)
    if not asked:
        return None
    if n_cpu_moe is not None and cpu_moe:
        raise click.UsageError("--n-cpu-moe and --cpu-moe both say where the experts go; give one")
    if bool(lora_rank) != bool(lora_count):
        raise click.UsageError("--lora-rank and --lora-count go together")
    shares = None
    if tensor_split:
        try:
            shares = tuple(float(x) for x in tensor_split.split(","))
        except ValueError:
            raise click.BadParameter(f"'{tensor_split}' is not a list of numbers like 3,1",
                                     param_hint="--tensor-split") from None
        if any(x < 0 for x in shares) or not any(shares):
            raise click.BadParameter("shares must be non-negative, and not all zero", param_hint="--tensor-split")
    draft_model = None
    if draft:
        from llmcalc.loading import load_model
        from llmcalc.quant import get_format, weights_for_bpw, weights_for_format

        dspec = load_model(draft, presets_dirs=presets_dirs).spec
        dweights = (weights_for_format(dspec, get_format(quant[0])) if quant else
                    weights_for_bpw(dspec, bpw[0]) if bpw else weights_for_format(dspec, get_format("bf16")))
        draft_model = (draft, dspec, dweights)
    from llmcalc.plans import PlanOptions

    return PlanOptions(n_gpu_layers=n_gpu_layers, n_cpu_moe=n_cpu_moe, cpu_moe=cpu_moe, kv_offload=not no_kv_offload,
                       tensor_split=shares, cpu_offload_gb=cpu_offload_gb, lora_rank=lora_rank or 0,
                       lora_count=lora_count or 0, draft=draft_model, mtp=mtp)
