"""Measure the context tokens tiling processors give an image, by running transformers' own processors.

For each family whose processor cuts an image into tiles (LLaVA-NeXT, Idefics3, SmolVLM, InternVL,
Llama 4) and a few settings of its vision tower, the script builds the processor's classes with
their default arguments except the tile size, which is the tower's ``image_size`` as the config
class resolves it (LLaVA-NeXT's ``image_grid_pinpoints`` too); runs the image processor on a random
image of each size of a grid (Llama 4's needs torchvision, so its own canvas-selection functions are
run on the image size instead: ``find_supported_resolutions``, ``get_best_fit``); lets the
processor write the prompt text that replaces the image placeholder (``replace_image_token`` or
``get_image_prompt_string``); and counts its tokens. Every special token is one token; a run of
newlines is one token (the released Llama 3 and SmolLM2 tokenizers encode ``\\n`` and ``\\n\\n`` as
one token each; Idefics3's ``_get_num_multimodal_tokens`` counts the same way when ``\\n\\n`` is one).

Writes ``tests/data/image_tokens_measured.json`` (``tests/test_media_tiling.py`` checks llmcalc
against every row). Needs torch, transformers 5.24 and Pillow; /work/mvenv has no Pillow, so run it
with a venv that adds Pillow to it::

    python3 -m venv /work/ivenv && /work/ivenv/bin/pip install pillow
    echo /work/mvenv/lib/python3.11/site-packages > /work/ivenv/lib/python3.11/site-packages/mvenv.pth
    /work/ivenv/bin/python benchmarks/measure_image_tokens.py [--write]

Without ``--write`` it prints llmcalc's count beside each measured one (llmcalc from the working tree).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "image_tokens_measured.json"

#: (width, height) in pixels
SIZES = [
    (224, 224), (336, 336), (448, 448), (640, 480), (1024, 768), (768, 1024), (1280, 720),
    (1920, 1080), (4000, 3000), (100, 2000), (2000, 100), (30, 30), (1000, 1000), (513, 2049),
]  # fmt: skip

TEXT = {"vocab_size": 500, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}  # fmt: skip
LLAMA4_TEXT = {**TEXT, "intermediate_size_mlp": 48, "head_dim": 16, "num_local_experts": 2,
               "num_experts_per_tok": 1, "interleave_moe_layer_step": 1}  # fmt: skip

#: (family, setting, config): configs of the tower settings measured (tiny text models; only the
#: image-token settings matter). Named after the releases whose settings they carry.
SETTINGS: list[tuple[str, str, dict[str, Any]]] = [
    ("llava_next", "llava-v1.6 (CLIP-L/14 336, default pinpoints)", {"model_type": "llava_next", "text_config": TEXT}),
    ("llava_next", "SigLIP 384/14, six pinpoints", {
        "model_type": "llava_next", "text_config": TEXT,
        "vision_config": {"model_type": "siglip_vision_model", "image_size": 384, "patch_size": 14},
        "image_grid_pinpoints": [[384, 768], [768, 384], [768, 768], [1152, 384], [384, 1152], [1152, 1152]],
    }),
    ("llava_next", "CLIP-L/14 336, full features", {
        "model_type": "llava_next", "text_config": TEXT, "vision_feature_select_strategy": "full",
        "vision_config": {"image_size": 336, "patch_size": 14},
    }),
    ("idefics3", "Idefics3-8B (364/14, scale 2)", {
        "model_type": "idefics3", "text_config": TEXT, "scale_factor": 2,
        "vision_config": {"image_size": 364, "patch_size": 14},
    }),
    ("idefics3", "SmolVLM-Instruct (384/14, scale 3)", {
        "model_type": "idefics3", "text_config": TEXT, "scale_factor": 3,
        "vision_config": {"image_size": 384, "patch_size": 14},
    }),
    ("smolvlm", "SmolVLM-256M (512/16, scale 4)", {
        "model_type": "smolvlm", "text_config": TEXT, "scale_factor": 4,
        "vision_config": {"image_size": 512, "patch_size": 16},
    }),
    ("smolvlm", "SmolVLM2-2.2B (384/14, scale 3)", {
        "model_type": "smolvlm", "text_config": TEXT, "scale_factor": 3,
        "vision_config": {"image_size": 384, "patch_size": 14},
    }),
    ("internvl", "InternVL3 (448/14, 256 per tile)", {
        "model_type": "internvl", "text_config": {"model_type": "qwen2", **TEXT}, "vision_config": {},
    }),
    ("internvl", "224/14, 64 per tile", {
        "model_type": "internvl", "text_config": {"model_type": "qwen2", **TEXT}, "image_seq_length": 64,
        "vision_config": {"image_size": [224, 224], "patch_size": [14, 14]},
    }),
    ("llama4", "Llama 4 Scout/Maverick (336/14)", {
        "model_type": "llama4", "text_config": LLAMA4_TEXT,
        "vision_config": {"image_size": 336, "patch_size": 14, "pixel_shuffle_ratio": 0.5},
    }),
    ("llama4", "Llama4VisionConfig defaults (448/14)", {
        "model_type": "llama4", "text_config": LLAMA4_TEXT, "vision_config": {},
    }),
]  # fmt: skip

TOKEN = re.compile(
    r"<\|[a-z_]+\|>|<fake_token_around_image>|<global-img>|<row_\d+_col_\d+>|<image>|<img>|</img>|<IMG_CONTEXT>|\n+"
)


def count_tokens(text: str) -> int:
    """Tokens of a processor's image prompt: one per special token, one per run of (at most two) newlines."""
    pieces = TOKEN.findall(text)
    assert "".join(pieces) == text, "unexpected text in an image prompt"
    assert all(len(p) <= 2 for p in pieces if p.startswith("\n")), "a run of more than two newlines"
    return len(pieces)


def _image(width: int, height: int) -> Any:
    import numpy as np

    return np.random.default_rng(width * 7919 + height).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _bare(cls: type, **attrs: Any) -> Any:
    """A processor without its tokenizer: the attributes its prompt-writing method reads."""
    obj = cls.__new__(cls)
    for key, value in attrs.items():
        setattr(obj, key, value)
    return obj


def _llama4_functions() -> dict[str, Any]:
    """``get_factors``, ``find_supported_resolutions`` and ``get_best_fit`` of Llama 4's image processor,
    executed from its source (the module imports torchvision at the top; these need only torch)."""
    import math

    import torch
    import transformers
    from transformers.image_utils import SizeDict

    path = Path(transformers.__file__).parent / "models" / "llama4" / "image_processing_llama4.py"
    namespace: dict[str, Any] = {"math": math, "torch": torch, "defaultdict": defaultdict, "SizeDict": SizeDict}
    wanted = ("get_factors", "find_supported_resolutions", "get_best_fit")
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name in wanted:
            node.decorator_list = []  # lru_cache only memoises
            node.returns = None
            for arg in [*node.args.args, *node.args.kwonlyargs]:
                arg.annotation = None
            exec(compile(ast.Module([node], []), str(path), "exec"), namespace)  # noqa: S102 - transformers' own code
    return namespace


def measure(family: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The token count of every image size in :data:`SIZES` under one family's processor and config."""
    from transformers import CONFIG_MAPPING

    cfg = CONFIG_MAPPING[config["model_type"]](**{k: v for k, v in config.items() if k != "model_type"})
    vc = cfg.vision_config
    rows = []
    for width, height in SIZES:
        if family == "llava_next":
            tokens = _llava_next(cfg, vc, width, height)
        elif family in ("idefics3", "smolvlm"):
            tokens = _idefics3(family, cfg, vc, width, height)
        elif family == "internvl":
            tokens = _internvl(cfg, vc, width, height)
        else:
            tokens = _llama4(vc, width, height)
        rows.append({"width": width, "height": height, "tokens": tokens})
    return rows


def _llava_next(cfg: Any, vc: Any, width: int, height: int) -> int:
    from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil
    from transformers.models.llava_next.processing_llava_next import LlavaNextProcessor

    tile = vc.image_size
    ip = LlavaNextImageProcessorPil(
        size={"shortest_edge": tile}, crop_size={"height": tile, "width": tile},
        image_grid_pinpoints=cfg.image_grid_pinpoints,
    )  # fmt: skip
    inputs = ip(_image(width, height))
    # num_additional_image_tokens 1 (the CLS), as the released processor_config.json files set it
    proc = _bare(LlavaNextProcessor, image_processor=ip, patch_size=vc.patch_size, num_additional_image_tokens=1,
                 vision_feature_select_strategy=cfg.vision_feature_select_strategy, image_token="<image>")  # fmt: skip
    return count_tokens(proc.replace_image_token(inputs, 0))


def _idefics3(family: str, cfg: Any, vc: Any, width: int, height: int) -> int:
    tile = vc.image_size
    seq = int(((tile // vc.patch_size) ** 2) / (cfg.scale_factor**2))
    kwargs = {"size": {"longest_edge": 4 * tile}, "max_image_size": {"longest_edge": tile}}
    if family == "idefics3":
        from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil
        from transformers.models.idefics3.processing_idefics3 import Idefics3Processor

        ip = Idefics3ImageProcessorPil(**kwargs)
        inputs = ip(_image(width, height), return_row_col_info=True)
        proc = _bare(Idefics3Processor, fake_image_token="<fake_token_around_image>", image_token="<image>",
                     global_image_tag="<global-img>", image_seq_len=seq)  # fmt: skip
        text = proc.replace_image_token(inputs, 0)
    else:
        from transformers.models.smolvlm.image_processing_pil_smolvlm import SmolVLMImageProcessorPil
        from transformers.models.smolvlm.processing_smolvlm import get_image_prompt_string

        ip = SmolVLMImageProcessorPil(**kwargs)
        inputs = ip(_image(width, height), return_row_col_info=True)
        text = get_image_prompt_string(inputs["rows"][0][0], inputs["cols"][0][0], seq,
                                       fake_token_around_image="<fake_token_around_image>",
                                       image_token="<image>", global_image_token="<global-img>")  # fmt: skip
    patches, n_rows, n_cols = ip.get_number_of_image_patches(height, width)
    assert (n_rows, n_cols) == (inputs["rows"][0][0], inputs["cols"][0][0]), "get_number_of_image_patches disagrees"
    return count_tokens(text)


def _internvl(cfg: Any, vc: Any, width: int, height: int) -> int:
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil
    from transformers.models.internvl.processing_internvl import InternVLProcessor

    tile_h, tile_w = vc.image_size
    ip = GotOcr2ImageProcessorPil(size={"height": tile_h, "width": tile_w})
    # InternVLProcessor's images_kwargs turn crop_to_patches on
    inputs = ip(_image(width, height), crop_to_patches=True)
    assert inputs["num_patches"][0] == ip.get_number_of_image_patches(height, width, {"crop_to_patches": True})
    proc = _bare(InternVLProcessor, start_image_token="<img>", end_image_token="</img>", image_token="<IMG_CONTEXT>",
                 image_seq_length=cfg.image_seq_length)  # fmt: skip
    return count_tokens(proc.replace_image_token(inputs, 0))


def _llama4(vc: Any, width: int, height: int) -> int:
    import numpy as np
    import torch
    from transformers.image_utils import SizeDict
    from transformers.models.llama4.processing_llama4 import Llama4Processor

    fn = _llama4_functions()
    tile = vc.image_size
    resolutions = fn["find_supported_resolutions"](16, SizeDict(height=tile, width=tile))  # max_patches 16
    target = fn["get_best_fit"]((height, width), torch.tensor(resolutions), resize_to_max_canvas=False)
    ratio_h, ratio_w = int(target[0]) // tile, int(target[1]) // tile
    tiles = ratio_h * ratio_w + (1 if ratio_h * ratio_w > 1 else 0)  # the global tile
    inputs = {"pixel_values": [np.zeros((tiles, 3, tile, tile), dtype=np.uint8)], "aspect_ratios": [(ratio_h, ratio_w)]}
    downsample = int(round(1.0 / (vc.pixel_shuffle_ratio**2)))  # Llama4Processor.__init__
    proc = _bare(Llama4Processor, patch_size=vc.patch_size, downsample_ratio=downsample)
    return count_tokens(proc.replace_image_token(inputs, 0))


def llmcalc_tokens(config: dict[str, Any], width: int, height: int) -> int:
    sys.path.insert(0, str(ROOT))
    from llmcalc import spec_from_hf_config
    from llmcalc.media import media_tokens

    spec = spec_from_hf_config(config, source="measure")
    return media_tokens(spec, image_sizes=[(width, height)]).image_tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = parser.parse_args()
    import transformers

    settings = []
    count = mismatches = 0
    print(f"{'family':10} {'setting':48} {'image':>11} {'measured':>8} {'llmcalc':>8}")
    for family, setting, config in SETTINGS:
        rows = measure(family, config)
        for row in rows:
            mine = llmcalc_tokens(config, row["width"], row["height"])
            count += 1
            mismatches += mine != row["tokens"]
            mark = "" if mine == row["tokens"] else "  MISMATCH"
            size = f"{row['width']}x{row['height']}"
            print(f"{family:10} {setting:48} {size:>11} {row['tokens']:>8} {mine:>8}{mark}")
        settings.append({"family": family, "setting": setting, "config": config, "rows": rows})
    print(f"{count} rows, {mismatches} differ from llmcalc")
    if args.write:
        data = {
            "source": "benchmarks/measure_image_tokens.py: transformers' processors on random images of each size",
            "transformers": transformers.__version__,
            "settings": settings,
        }
        text = json.dumps(data, indent=1)
        # one image per line
        text = re.sub(r'\{\s+"width": (\d+),\s+"height": (\d+),\s+"tokens": (\d+)\s+\}',
                      r'{"width": \1, "height": \2, "tokens": \3}', text)  # fmt: skip
        OUT.write_text(text + "\n")
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
