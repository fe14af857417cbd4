"""Record in every preset the parameter count the reference implementation gives.

Run with a Python that has torch and transformers (not a dependency of llmcalc)::

    python scripts/record_reference_counts.py [--check] [PRESET ...]

For each preset, the model class named by the config's ``architectures`` (else the auto class for
its kind) is built from the preset's ``config:`` block on the meta device (no weights, no network),
and ``sum(p.numel() for p in model.parameters())`` (tied weights once, buffers not counted) is
written to the preset as::

    reference:
      implementation: transformers 5.24.0
      class: MixtralForCausalLM
      total_params: 46702792704

``tests/test_presets.py`` then checks llmcalc's count against it from the repository alone. A
preset whose checkpoint transformers cannot build, or builds differently from the released files
(T5 v1.1 ties an lm_head the checkpoint stores), keeps a ``note`` saying so, written by hand.
The block is replaced in place, text-wise, so the rest of the file keeps its layout.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"
BLOCK = re.compile(r"\nreference:\n(?:  .*\n?)*", re.MULTILINE)

#: model_types transformers knows under another name (Kimi K2 is DeepSeek-V3's architecture; its
#: checkpoint's own code is remote code).
SAME_AS = {"kimi_k2": "deepseek_v3"}

#: The class whose parameters llmcalc's count means, where ``architectures`` names a bigger one:
#: BERT is counted as the encoder with its pooler (BertModel), not with the masked-LM head; a
#: ``llama4_text`` preset is the text model alone.
CLASS_FOR = {"bert": "BertModel", "llama4_text": "Llama4ForCausalLM"}


def build(config: dict[str, object]) -> tuple[str, int]:
    """(class name, parameter count) of the reference model for ``config``, built on the meta device."""
    import torch
    import transformers
    from transformers import AutoConfig

    cfg = dict(config)
    model_type = str(cfg.pop("model_type"))
    model_type = SAME_AS.get(model_type, model_type)
    hf_config = AutoConfig.for_model(model_type, **cfg)
    archs = cfg.get("architectures") or []
    cls = getattr(transformers, CLASS_FOR.get(model_type, str(archs[0]) if archs else ""), None)
    if cls is None:
        from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM

        for auto in (AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModel):
            try:
                cls = auto._model_mapping[type(hf_config)]  # noqa: SLF001 - the auto class's own table
                break
            except KeyError:
                continue
    if cls is None:
        raise RuntimeError(f"no transformers class for model_type {model_type}")
    with torch.device("meta"):
        model = cls(hf_config)
    return cls.__name__, sum(p.numel() for p in model.parameters())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="preset names (default: all)")
    parser.add_argument("--check", action="store_true", help="report differences, write nothing")
    args = parser.parse_args()
    import transformers

    version = f"transformers {transformers.__version__}"
    paths = [PRESETS / f"{n}.yaml" for n in args.names] if args.names else sorted(PRESETS.glob("*.yaml"))
    failed = 0
    for path in paths:
        text = path.read_text()
        data = yaml.safe_load(text)
        config = data["config"]
        if str(data["name"]).endswith("-text") and isinstance(config.get("text_config"), dict):
            # a "-text" preset is the language model of a multimodal checkpoint: build its text config
            config = {"architectures": [], **config["text_config"]}
        try:
            cls, total = build(config)
        except Exception as exc:  # report and go on: some checkpoints need a class transformers lacks
            print(f"{path.name}: not built ({type(exc).__name__}: {str(exc)[:100]})")
            failed += 1
            continue
        old = (data.get("reference") or {}).get("total_params")
        note = (data.get("reference") or {}).get("note")
        block = f"\nreference:\n  implementation: {version}\n  class: {cls}\n  total_params: {total}\n"
        if note:
            block += "  note: " + yaml.safe_dump(note, width=1000).strip().removesuffix("...").strip() + "\n"
        print(f"{path.name}: {cls} {total:,}" + (f" (was {old:,})" if old not in (None, total) else ""))
        if args.check:
            continue
        stripped = BLOCK.sub("\n", text).rstrip("\n") + "\n"
        path.write_text(stripped + block)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
