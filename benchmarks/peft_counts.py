"""Record PEFT's trainable / all parameter counts for every built-in preset (tests/data/peft_counts.json).

Run with the measurement venv (torch, transformers 5.24, peft 0.21), not the project's::

    /work/mvenv/bin/python benchmarks/peft_counts.py [PRESET ...]

Each preset's config (the YAML ``config:`` block, i.e. the official config.json) is built on the
meta device with transformers (``AutoModelForCausalLM``; ``BertModel`` for BERT, whose pooler
llmcalc counts; ``T5ForConditionalGeneration``; ``Llama4ForCausalLM`` on Llama 4's text config;
Kimi K2, whose ``kimi_k2`` type transformers does not ship, as the ``DeepseekV3ForCausalLM`` its
``architectures`` names), wrapped with ``peft.get_peft_model`` and counted with
``get_nb_trainable_parameters`` (what ``print_trainable_parameters`` prints). Where a setting names
one of llmcalc's target sets (``attention``, ``mlp``, ``experts``), PEFT is given the concrete module
names (``target_modules``) and expert parameters (``target_parameters``) that llmcalc resolves, so a
wrong module path shows up as a PEFT error or a count mismatch; ``all-linear`` and ``default`` (no
``target_modules``) are PEFT's own rules. QLoRA is not run here (bitsandbytes needs a GPU to
quantize); PEFT counts a ``Params4bit`` as 2 x its packed numel, which gives LoRA's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import peft  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import yaml  # noqa: E402

from llmcalc.importers.presets import load_all_presets  # noqa: E402
from llmcalc.train.lora import peft_target_lists, trainable_params  # noqa: E402
from llmcalc.train.names import family_of  # noqa: E402

OUT = ROOT / "tests" / "data" / "peft_counts.json"

#: (id, llmcalc keyword arguments) run on every preset where they apply.
SETTINGS: list[tuple[str, dict[str, object]]] = [
    ("default-r8", {"rank": 8, "targets": ["default"]}),
    ("qv-r8", {"rank": 8, "targets": ["q_proj", "v_proj"]}),
    ("all-linear-r16", {"rank": 16, "targets": ["all-linear"]}),
    ("attention-r8-dora", {"rank": 8, "targets": ["attention"], "dora": True}),
    ("mlp-r8-bias-all", {"rank": 8, "targets": ["mlp"], "bias": "all"}),
    ("all-linear-r4-lm_head-lora_only", {"rank": 4, "targets": ["all-linear"], "modules_to_save": ["lm_head"],
                                          "bias": "lora_only"}),
    ("attention-experts-r8", {"rank": 8, "targets": ["attention", "experts"]}),
    ("mamba-in-x-dt-r8", {"rank": 8, "targets": ["in_proj", "x_proj", "dt_proj"]}),
]


class Skip(Exception):
    """A setting PEFT cannot be given the same selection for (recorded as skipped, with the reason)."""


def interleaved(spec: object) -> bool:
    """Whether the spec's layer groups mix kinds, so group order may not be the checkpoint's layer order
    (a family whose names map spec layers to checkpoint sublayers, LongCat-Flash, is in order)."""
    if family_of(spec.model_type)[0].sublayers:  # type: ignore[attr-defined]
        return False
    kinds = {(g.attention is None, g.mixer is None, g.moe is None)
             for s in spec.stacks for g in s.groups}  # type: ignore[attr-defined]
    return len(kinds) > 1


def build(config: dict[str, object]) -> torch.nn.Module:
    cfg_dict = dict(config)
    if cfg_dict.get("model_type") == "kimi_k2":
        cfg_dict["model_type"] = "deepseek_v3"
    model_type = cfg_dict["model_type"]
    cfg = transformers.AutoConfig.for_model(**cfg_dict)
    with torch.device("meta"):
        if model_type == "t5":
            return transformers.T5ForConditionalGeneration(cfg)
        if model_type == "bert":
            return transformers.BertModel(cfg)
        arch = next(iter(cfg_dict.get("architectures") or []), "")
        if arch.endswith("ForConditionalGeneration") and hasattr(transformers, arch):
            return getattr(transformers, arch)(cfg)  # a multimodal checkpoint class, towers included
        if model_type == "llama4":
            return transformers.Llama4ForCausalLM(cfg.text_config)
        return transformers.AutoModelForCausalLM.from_config(cfg)


def applies(spec: object, kwargs: dict[str, object]) -> bool:
    try:
        trainable_params(spec, **kwargs)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def peft_count(config: dict[str, object], spec: object, kwargs: dict[str, object]) -> tuple[int, int, int]:
    targets = list(kwargs["targets"])  # type: ignore[call-overload]
    lora: dict[str, object] = {"r": kwargs["rank"], "lora_alpha": 2 * kwargs["rank"],  # type: ignore[operator]
                               "use_dora": bool(kwargs.get("dora")), "bias": kwargs.get("bias", "none"),
                               "modules_to_save": kwargs.get("modules_to_save")}
    if targets == ["default"]:
        lora["target_modules"] = None
    elif targets == ["all-linear"]:
        lora["target_modules"] = "all-linear"
    elif all(t not in ("attention", "mlp", "experts", "router", "mixer") for t in targets):
        lora["target_modules"] = targets
    else:
        modules, params = peft_target_lists(spec, targets)  # type: ignore[arg-type]
        if any(ch.isdigit() for name in modules + params for ch in name) and interleaved(spec):
            raise Skip("the set needs layer-indexed names, and llmcalc's layer groups are not in checkpoint order")
        lora["target_modules"] = modules
        if params:
            lora["target_parameters"] = params
    model = build(config)
    base = sum(p.numel() for p in model.parameters())
    wrapped = peft.get_peft_model(model, peft.LoraConfig(**lora))  # type: ignore[arg-type]
    trainable, total = wrapped.get_nb_trainable_parameters()
    return base, trainable, total


def from_log(path: Path) -> list[dict[str, object]]:
    """Rows from the printed lines of an earlier run (``preset setting trainable all seconds``) whose
    process did not reach the final write; ``base_params`` is re-measured by building each model."""
    import re

    settings = dict(SETTINGS)
    configs = {p.name: yaml.safe_load(Path(p.path).read_text())["config"] for p in load_all_presets()}
    rows: list[dict[str, object]] = []
    bases: dict[str, int] = {}
    for line in path.read_text().splitlines():
        m = re.fullmatch(r"(\S+)\s+(\S+)\s+([\d,]+)\s+([\d,]+)\s+[\d.]+s", line.strip())
        if m is None or m.group(2) not in settings or m.group(1) not in configs:
            continue
        name = m.group(1)
        if name not in bases:
            bases[name] = sum(p.numel() for p in build(configs[name]).parameters())
        rows.append({"preset": name, "setting": m.group(2), "settings": settings[m.group(2)],
                     "base_params": bases[name], "trainable_params": int(m.group(3).replace(",", "")),
                     "all_params": int(m.group(4).replace(",", ""))})
    return rows


def write(rows: list[dict[str, object]]) -> None:
    rows.sort(key=lambda r: (str(r["preset"]), str(r["setting"])))
    OUT.write_text(json.dumps({
        "command": "/work/mvenv/bin/python benchmarks/peft_counts.py",
        "versions": {"peft": peft.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__},
        "documented": {"source": "PEFT docs, LoRA quicktour / developer guide: meta-llama/Llama-2-7b-hf, r=8, "
                                 "target_modules=[q_proj, v_proj]",
                       "preset": "llama-2-7b", "trainable_params": 4194304, "all_params": 6742609920},
        "rows": rows,
    }, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", help="only these presets (the file's other rows are kept)")
    parser.add_argument("--from-log", type=Path, help="take rows from an earlier run's printed output")
    parser.add_argument("--missing", action="store_true", help="only presets the file has no row for")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    if OUT.exists() and (args.presets or args.missing or args.from_log):
        rows = [r for r in json.loads(OUT.read_text())["rows"] if r["preset"] not in args.presets]
    if args.from_log:
        logged = from_log(args.from_log)
        done = {(r["preset"], r["setting"]) for r in logged}
        write([r for r in rows if (r["preset"], r["setting"]) not in done] + logged)
        return
    have = {r["preset"] for r in rows}
    order = {name: i for i, name in enumerate(args.presets)}
    for preset in sorted(load_all_presets(), key=lambda p: order.get(p.name, -1)):
        if args.presets and preset.name not in args.presets:
            continue
        if args.missing and preset.name in have:
            continue
        from llmcalc.train.modules import towers_without_modules

        if towers_without_modules(preset.spec):  # llmcalc does not know these towers' module names
            print(preset.name, "skipped: towers without module names", flush=True)
            continue
        config = yaml.safe_load(Path(preset.path).read_text())["config"]
        for setting, kwargs in SETTINGS:
            if not applies(preset.spec, kwargs) or ("experts" in kwargs["targets"] and not preset.spec.is_moe) \
                    or (setting.startswith("mamba") and not preset.spec.has_state):
                continue
            if setting == "qv-r8" and applies(preset.spec, SETTINGS[0][1]):
                continue  # the family's default already is (or names) its q/v projections
            start = time.perf_counter()
            try:
                base, trainable, total = peft_count(config, preset.spec, kwargs)
            except Skip as why:
                print(preset.name, setting, "skipped:", why, flush=True)
                continue
            except Exception as exc:  # noqa: BLE001 - recorded, so a PEFT refusal is visible in the data
                rows.append({"preset": preset.name, "setting": setting, "settings": kwargs,
                             "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
                print(preset.name, setting, "ERROR", exc, flush=True)
                continue
            rows.append({"preset": preset.name, "setting": setting, "settings": kwargs, "base_params": base,
                         "trainable_params": trainable, "all_params": total})
            print(f"{preset.name:24} {setting:34} {trainable:>14,} {total:>18,} "
                  f"{time.perf_counter() - start:5.1f}s", flush=True)
        write(rows)  # after every preset, so a long run keeps what it measured


if __name__ == "__main__":
    main()
