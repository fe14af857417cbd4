"""PEFT's trainable counts on the small synthetic variations of every family (tests/data/peft_variations.json).

Run with the measurement venv (torch, transformers 5.24, peft 0.21), not the project's::

    /work/mvenv/bin/python benchmarks/peft_variations.py [ID-SUBSTRING ...]

The configs are those of tests/data/text_counts.json, hybrid_counts.json and multimodal_counts.json
(each already checked for its parameter count against transformers). Each is built on the meta
device (``AutoModelForCausalLM``, or the family's ``*ForConditionalGeneration`` for the multimodal
ones), wrapped with ``peft.get_peft_model`` for each setting of benchmarks/peft_counts.py that
llmcalc accepts for it, and counted with ``get_nb_trainable_parameters``. Where PEFT raises, the
error is recorded. The test (tests/test_train_lora_variations.py) compares llmcalc with each row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import peft  # noqa: E402
import peft_counts  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

from llmcalc.importers.hf import spec_from_hf_config  # noqa: E402

OUT = ROOT / "tests" / "data" / "peft_variations.json"
DATA = ROOT / "tests" / "data"


def configs() -> list[tuple[str, dict[str, Any]]]:
    """(id, config.json mapping) of every recorded variation."""
    out: list[tuple[str, dict[str, Any]]] = []
    for v in json.loads((DATA / "text_counts.json").read_text())["variations"]:
        out.append((v["id"], v["config"]))
    for r in json.loads((DATA / "hybrid_counts.json").read_text())["rows"]:
        out.append((r["id"], r["config"]))
    for c in json.loads((DATA / "multimodal_counts.json").read_text())["configs"]:
        out.append((c["name"], c["config"]))
    return out


def build(config: dict[str, Any]) -> torch.nn.Module:
    from verify_multimodal_counts import CLASSES

    cfg = transformers.AutoConfig.for_model(**config)
    with torch.device("meta"):
        if config["model_type"] in CLASSES:
            return getattr(transformers, CLASSES[config["model_type"]])(cfg)
        return transformers.AutoModelForCausalLM.from_config(cfg)


def main() -> None:
    wanted = sys.argv[1:]
    peft_counts.build = build  # the same PEFT call, on these configs' classes
    rows: list[dict[str, Any]] = []
    if OUT.exists() and wanted:
        rows = [r for r in json.loads(OUT.read_text())["rows"] if not any(w in r["id"] for w in wanted)]
    for ident, config in configs():
        if wanted and not any(w in ident for w in wanted):
            continue
        spec = spec_from_hf_config(config, source=ident)
        for setting, kwargs in peft_counts.SETTINGS:
            if not peft_counts.applies(spec, kwargs) or ("experts" in kwargs["targets"] and not spec.is_moe) \
                    or (setting.startswith("mamba") and not spec.has_state):
                continue
            row: dict[str, Any] = {"id": ident, "setting": setting, "settings": kwargs}
            try:
                base, trainable, total = peft_counts.peft_count(config, spec, kwargs)
            except peft_counts.Skip as why:
                print(ident, setting, "skipped:", why, flush=True)
                continue
            except Exception as exc:  # noqa: BLE001 - recorded, so a PEFT refusal is visible in the data
                row["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
                print(ident, setting, "ERROR", row["error"][:150], flush=True)
            else:
                row.update(base_params=base, trainable_params=trainable, all_params=total)
                print(f"{ident:36} {setting:34} {trainable:>10,} {total:>12,}", flush=True)
            rows.append(row)
    rows.sort(key=lambda r: (r["id"], r["setting"]))
    OUT.write_text(json.dumps({
        "command": "/work/mvenv/bin/python benchmarks/peft_variations.py",
        "versions": {"peft": peft.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
        "rows": rows,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
