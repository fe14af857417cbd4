"""Measure activation bytes saved for backward and forward FLOPs of small random-weight models (CPU).

Run with the measurement venv (torch, transformers), not the project's::

    /work/mvenv/bin/python benchmarks/measure_train_torch.py

writes ``tests/data/train_activations_measured.json`` and ``tests/data/train_flops_measured.json``.
With ``--reference MEGATRON_GIT_DIR`` it instead records the reference implementations' memory
figures for the same inputs in ``tests/data/train_zero_reference.json``: DeepSpeed's
``estimate_zero2_model_states_mem_needs`` / ``estimate_zero3_model_states_mem_needs`` (the functions
the ``*_all_cold`` wrappers call; DeepSpeed installed in the measurement venv) and Megatron-LM's
``megatron/training/theoretical_memory_usage.py``, read from a git checkout (``git show
HEAD:...``) and run as it is, with its one ``print_rank_0`` import stubbed.

For each model (a preset's config.json values, some with fewer layers or experts so that a CPU
runs them in seconds; the overrides are recorded), in bf16 with dropout off and in train mode:

- **saved for backward**: one forward pass with labels (loss included) inside
  ``torch.autograd.graph.saved_tensors_hooks``; the pack hook records the untyped storage of every
  saved tensor, and the figure is the sum of the *distinct* storages' bytes, parameters' storages
  left out (they are weights, not activations). ``eager`` and ``sdpa`` attention, without and with
  gradient checkpointing (``gradient_checkpointing_enable`` with ``use_reentrant=True``, so that the
  checkpointed layer inputs are saved through ``save_for_backward`` and seen by the hook; the
  non-reentrant default holds the same inputs in its frames, invisibly to the hook).
- **forward FLOPs** (``--flops-only`` redoes just these): ``torch.utils.flop_counter.FlopCounterMode``
  over one forward pass with eager attention and eager experts; it counts matmuls
  (``mm``/``bmm``/``addmm``/``baddbmm``), 2 FLOPs per multiply-add, and not elementwise ops, norms,
  softmax, the loss, nor (on CPU) the SDPA kernel or ``grouped_mm`` MoE experts, hence eager.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import transformers  # noqa: E402
import yaml  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

#: (id, preset, config overrides)
MODELS: list[tuple[str, str, dict[str, object]]] = [
    ("smollm-135m", "smollm-135m", {}),
    ("qwen2-0.5b-4l", "qwen2-0.5b", {"num_hidden_layers": 4}),
    ("gpt2", "gpt2", {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}),
    ("gemma-3-1b-4l", "gemma-3-1b", {"num_hidden_layers": 4}),
    ("olmoe-1b-7b-2l-8e", "olmoe-1b-7b", {"num_hidden_layers": 2, "num_experts": 8}),
    ("phi-3-mini-2l", "phi-3-mini-4k", {"num_hidden_layers": 2}),
]
BATCH, SEQ = 2, 512


def config_of(preset: str, overrides: dict[str, object]) -> dict[str, object]:
    data = yaml.safe_load((ROOT / "presets" / f"{preset}.yaml").read_text())["config"]
    data.update(overrides)
    for key in ("attention_dropout", "hidden_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop"):
        if key in data:
            data[key] = 0.0
    return data


def build(cfg_dict: dict[str, object], attention: str, experts: str | None = None) -> torch.nn.Module:
    cfg = transformers.AutoConfig.for_model(**cfg_dict)
    torch.manual_seed(0)
    extra = {"experts_implementation": experts} if experts else {}
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation=attention, dtype=torch.bfloat16,
                                                          **extra)
    model.train()
    return model


def saved_bytes(model: torch.nn.Module, ids: torch.Tensor) -> int:
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(input_ids=ids, labels=ids)
    del out
    return sum(storages.values())


#: (model, GPUs) for the reference comparison; every ZeRO stage and offload setting is run on each
REFERENCE_RUNS = [("llama-2-7b", 8), ("llama-3.1-70b", 8), ("llama-3.1-70b", 64), ("mixtral-8x7b", 16)]
#: Megatron settings: (tp, pp, ep, distributed optimizer, sequence parallel + selective recompute)
MEGATRON_RUNS = [(1, 1, 1, False, False), (1, 1, 1, True, False), (8, 1, 1, True, True), (4, 2, 1, True, True),
                 (1, 1, 8, True, False)]


def reference(megatron_git: str) -> None:
    import subprocess
    import types

    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    from llmcalc.importers.presets import load_preset
    from llmcalc.params import count_params
    from llmcalc.train.modules import module_inventory

    source = subprocess.run(["git", "-C", megatron_git, "show", "HEAD:megatron/training/theoretical_memory_usage.py"],
                            check=True, capture_output=True, text=True).stdout
    commit = subprocess.run(["git", "-C", megatron_git, "rev-parse", "HEAD"], check=True, capture_output=True,
                            text=True).stdout.strip()
    namespace: dict[str, object] = {"__name__": "theoretical_memory_usage"}
    exec(compile(source.replace("from .utils import is_hybrid_model, print_rank_0",
                                "print_rank_0 = print\ndef is_hybrid_model(args): return False"),  # noqa: S102
                 "theoretical_memory_usage.py", "exec"), namespace)
    deepspeed_rows = []
    megatron_rows = []
    for name, gpus in REFERENCE_RUNS:
        spec = load_preset(name).spec
        total = count_params(spec).total_params
        largest = max(m.weight_params for m in module_inventory(spec))
        nodes, per_node = max(1, gpus // 8), min(gpus, 8)
        for offload in (False, True):
            cpu2, gpu2 = estimate_zero2_model_states_mem_needs(total, per_node, nodes, cpu_offload=offload)
            deepspeed_rows.append({"model": name, "gpus": gpus, "stage": 2, "cpu_offload": offload,
                                   "total_params": total, "gpu_bytes": gpu2, "cpu_bytes": cpu2})
            for offload_params in ((False, True) if offload else (False,)):
                cpu3, gpu3, _ = estimate_zero3_model_states_mem_needs(total, largest, per_node, nodes,
                                                                       cpu_offload=offload,
                                                                       cpu_offload_params=offload_params)
                deepspeed_rows.append({"model": name, "gpus": gpus, "stage": 3, "cpu_offload": offload,
                                       "cpu_offload_params": offload_params, "total_params": total,
                                       "largest_layer_params": largest, "gpu_bytes": gpu3, "cpu_bytes": cpu3})
        attn = spec.first_attention
        group = spec.main_stack.groups[-1]
        moe = group.moe
        ffn = (group.mlp or (moe.expert if moe else None))
        for tp, pp, ep, dist, sp in MEGATRON_RUNS:
            if gpus % (tp * pp) or (ep > 1 and moe is None):
                continue
            args = types.SimpleNamespace(
                kv_channels=attn.head_dim, num_attention_heads=attn.num_heads, hidden_size=spec.hidden_size,
                group_query_attention=attn.num_kv_heads != attn.num_heads, num_query_groups=attn.num_kv_heads,
                num_experts=moe.num_experts if moe else None, swiglu=True,
                moe_shared_expert_intermediate_size=None, moe_layer_freq=1,
                moe_ffn_hidden_size=moe.expert.intermediate_size if moe else None, mtp_num_layers=None,
                normalization="RMSNorm", multi_latent_attention=False, ffn_hidden_size=ffn.intermediate_size,
                num_layers=spec.num_hidden_layers, padded_vocab_size=spec.vocab_size,
                untie_embeddings_and_output_weights=spec.lm_head == "untied",
                pipeline_model_parallel_size=pp, tensor_model_parallel_size=tp, use_distributed_optimizer=dist,
                data_parallel_size=gpus // (tp * pp), seq_length=4096, micro_batch_size=1,
                virtual_pipeline_model_parallel_size=None, sequence_parallel=sp,
                recompute_granularity="selective" if sp else None, is_hybrid_model=False, moe_latent_size=None,
                add_bias_linear=False, moe_router_topk=moe.experts_per_token if moe else 1, world_size=gpus,
                expert_model_parallel_size=ep, expert_tensor_parallel_size=1 if ep > 1 else tp)
            weights = namespace["compute_weight_and_optimizer_memory"](args)  # type: ignore[operator]
            if sp:
                acts = namespace["compute_activation_memory"](args, num_microbatches=pp)  # type: ignore[operator]
            else:
                acts = namespace["compute_activation_memory_without_sp"](args, num_microbatches=pp)  # type: ignore[operator]
            megatron_rows.append({"model": name, "gpus": gpus, "tp": tp, "pp": pp, "ep": ep,
                                  "distributed_optimizer": dist,
                                  "sequence_parallel_selective": sp, "seq": 4096, "micro_batch": 1,
                                  "micro_batches": pp, "weight_and_optimizer_bytes": int(weights),
                                  "activation_bytes": int(acts)})
    out = {"command": f"/work/mvenv/bin/python benchmarks/measure_train_torch.py --reference {megatron_git}",
           "deepspeed_version": __import__("deepspeed").__version__,
           "deepspeed_functions": "deepspeed/runtime/zero/stage_1_and_2.py estimate_zero2_model_states_mem_needs; "
                                  "deepspeed/runtime/zero/stage3.py estimate_zero3_model_states_mem_needs "
                                  "(additional_buffer_factor 1.5, zero_init True: the defaults)",
           "megatron_commit": commit, "megatron_file": "megatron/training/theoretical_memory_usage.py",
           "deepspeed": deepspeed_rows, "megatron": megatron_rows}
    (ROOT / "tests" / "data" / "train_zero_reference.json").write_text(json.dumps(out, indent=1) + "\n")


def measure_flops(cfg: dict[str, object], ids: torch.Tensor) -> int:
    """Forward FLOPs of eager attention and eager (per-expert ``mm``) experts: FlopCounterMode counts
    neither the CPU SDPA kernel (``_scaled_dot_product_flash_attention_for_cpu``) nor ``grouped_mm``."""
    model = build(cfg, "eager", experts="eager")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(input_ids=ids)
    return int(counter.get_total_flops())


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--reference":
        reference(sys.argv[2])
        return
    flops_only = sys.argv[1:] == ["--flops-only"]
    acts: list[dict[str, object]] = []
    flops: list[dict[str, object]] = []
    for name, preset, overrides in MODELS:
        cfg = config_of(preset, overrides)
        ids = torch.randint(0, int(cfg.get("vocab_size", 32000)), (BATCH, SEQ))  # type: ignore[call-overload]
        total = measure_flops(cfg, ids)
        flops.append({"model": name, "preset": preset, "overrides": overrides, "attention": "eager",
                      "micro_batch": BATCH, "seq": SEQ, "forward_flops": total,
                      "forward_flops_per_token": total // (BATCH * SEQ)})
        print(f"{name:22} forward FLOPs/token {total // (BATCH * SEQ):,}", flush=True)
        for attention in () if flops_only else ("eager", "sdpa"):
            model = build(cfg, attention)
            for checkpointing in (False, True):
                if checkpointing:
                    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
                measured = saved_bytes(model, ids)
                acts.append({"model": name, "preset": preset, "overrides": overrides, "attention": attention,
                             "recompute": "full" if checkpointing else "none", "micro_batch": BATCH, "seq": SEQ,
                             "saved_bytes": measured})
                print(f"{name:22} {attention:6} gc={checkpointing!s:5} {measured:>14,} B", flush=True)
            del model
        write(acts, flops, flops_only)


def write(acts: list[dict[str, object]], flops: list[dict[str, object]], flops_only: bool) -> None:
    """Write what has been measured so far (after each model, so a long run keeps its rows)."""
    meta = {"command": "/work/mvenv/bin/python benchmarks/measure_train_torch.py",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
            "dtype": "bfloat16", "device": "cpu"}
    if not flops_only:
        (ROOT / "tests" / "data" / "train_activations_measured.json").write_text(
            json.dumps({**meta, "rows": acts}, indent=1) + "\n")
    (ROOT / "tests" / "data" / "train_flops_measured.json").write_text(
        json.dumps({**meta, "rows": flops}, indent=1) + "\n")


if __name__ == "__main__":
    main()
