"""Measure activation bytes saved for backward and forward FLOPs of small random-weight models (CPU).

Run with the measurement venv (torch, transformers), not the project's::

    /work/mvenv/bin/python benchmarks/measure_train_torch.py

writes ``tests/data/train_activations_measured.json`` and ``tests/data/train_flops_measured.json``.

For each model (a preset's config.json values, some with fewer layers or experts so that a CPU
runs them in seconds; the overrides are recorded), in bf16 with dropout off and in train mode:

- **saved for backward**: one forward pass with labels (loss included) inside
  ``torch.autograd.graph.saved_tensors_hooks``; the pack hook records the untyped storage of every
  saved tensor, and the figure is the sum of the *distinct* storages' bytes, parameters' storages
  left out (they are weights, not activations). ``eager`` and ``sdpa`` attention, without and with
  gradient checkpointing (``gradient_checkpointing_enable`` with ``use_reentrant=True``, so that the
  checkpointed layer inputs are saved through ``save_for_backward`` and seen by the hook; the
  non-reentrant default holds the same inputs in its frames, invisibly to the hook).
- **forward FLOPs**: ``torch.utils.flop_counter.FlopCounterMode`` over the same forward pass; it
  counts matmuls (``mm``/``bmm``/``addmm``/``baddbmm``) and SDPA kernels, 2 FLOPs per multiply-add,
  and does not count elementwise ops, norms, softmax or the loss.
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


def build(cfg_dict: dict[str, object], attention: str) -> torch.nn.Module:
    cfg = transformers.AutoConfig.for_model(**cfg_dict)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation=attention, dtype=torch.bfloat16)
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


def main() -> None:
    acts: list[dict[str, object]] = []
    flops: list[dict[str, object]] = []
    for name, preset, overrides in MODELS:
        cfg = config_of(preset, overrides)
        ids = torch.randint(0, int(cfg.get("vocab_size", 32000)), (BATCH, SEQ))  # type: ignore[call-overload]
        for attention in ("eager", "sdpa"):
            model = build(cfg, attention)
            for checkpointing in (False, True):
                if checkpointing:
                    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
                measured = saved_bytes(model, ids)
                acts.append({"model": name, "preset": preset, "overrides": overrides, "attention": attention,
                             "recompute": "full" if checkpointing else "none", "micro_batch": BATCH, "seq": SEQ,
                             "saved_bytes": measured})
                print(f"{name:22} {attention:6} gc={checkpointing!s:5} {measured:>14,} B", flush=True)
            if attention == "sdpa":
                model.gradient_checkpointing_disable()
                counter = FlopCounterMode(display=False)
                with counter, torch.no_grad():
                    model(input_ids=ids)
                total = counter.get_total_flops()
                flops.append({"model": name, "preset": preset, "overrides": overrides, "attention": attention,
                              "micro_batch": BATCH, "seq": SEQ, "forward_flops": total,
                              "forward_flops_per_token": total // (BATCH * SEQ)})
                print(f"{name:22} forward FLOPs/token {total // (BATCH * SEQ):,}", flush=True)
            del model
    meta = {"command": "/work/mvenv/bin/python benchmarks/measure_train_torch.py",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
            "dtype": "bfloat16", "device": "cpu"}
    (ROOT / "tests" / "data" / "train_activations_measured.json").write_text(
        json.dumps({**meta, "rows": acts}, indent=1) + "\n")
    (ROOT / "tests" / "data" / "train_flops_measured.json").write_text(
        json.dumps({**meta, "rows": flops}, indent=1) + "\n")


if __name__ == "__main__":
    main()
