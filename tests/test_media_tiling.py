"""Tiling processors (LLaVA-NeXT, Idefics3/SmolVLM, InternVL, Llama 4): tokens per image, against transformers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcalc import image_tiling, spec_from_hf_config
from llmcalc.errors import SpecError
from llmcalc.media import media_tokens

TABLE = json.loads((Path(__file__).parent / "data" / "image_tokens_measured.json").read_text())
ROWS: list[tuple[dict[str, Any], dict[str, Any]]] = [(s, r) for s in TABLE["settings"] for r in s["rows"]]
TEXT = {"vocab_size": 500, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}  # fmt: skip


@pytest.mark.parametrize(("setting", "row"), ROWS, ids=[f"{s['setting']}-{r['width']}x{r['height']}" for s, r in ROWS])
def test_tiled_image_tokens_equal_transformers(setting: dict[str, Any], row: dict[str, Any]) -> None:
    """Each measured image size costs exactly the tokens transformers' processor writes for it."""
    spec = spec_from_hf_config(setting["config"], source=setting["setting"])
    assert media_tokens(spec, image_sizes=[(row["width"], row["height"])]).image_tokens == row["tokens"]


def test_measured_table_covers_every_tiling_family() -> None:
    """The recorded table measures all five tiling families, each at the brief's image sizes."""
    families = {s["family"] for s in TABLE["settings"]}
    assert families == {"llava_next", "idefics3", "smolvlm", "internvl", "llama4"}
    sizes = {(r["width"], r["height"]) for s in TABLE["settings"] for r in s["rows"]}
    assert {(224, 224), (1024, 768), (768, 1024), (1920, 1080), (4000, 3000), (100, 2000)} <= sizes


@pytest.mark.parametrize(
    ("width", "height", "tokens"),
    [
        (336, 336, 576 + 24 * 24 + 24),  # 1x2 canvas (least waste), unpadded back to 24x24 features
        (672, 672, 576 + 48 * 48 + 48),  # 2x2 canvas, no padding
    ],
    ids=["336-square", "672-square"],
)
def test_llava_next_rule_by_hand(width: int, height: int, tokens: int) -> None:
    """LLaVA-NeXT: base tile plus the unpadded grid's features and one newline per feature row."""
    pins = ((336, 672), (672, 336), (672, 672), (1008, 336), (336, 1008))
    got = image_tiling.llava_next_tokens(
        width, height, tile_size=336, patch_size=14, grid_pinpoints=pins, base_tokens=576
    )
    assert got == tokens


@pytest.mark.parametrize(
    ("width", "height", "grid"),
    [(30, 30, (4, 4)), (364, 364, (4, 4)), (1456, 100, (1, 4)), (100, 1456, (4, 1))],
    ids=["tiny", "one-tile", "wide", "tall"],
)
def test_idefics3_grid_resizes_longest_edge_first(width: int, height: int, grid: tuple[int, int]) -> None:
    """Idefics3 scales the longest edge to four tiles (up or down) before splitting."""
    assert image_tiling.idefics3_grid(width, height, tile_size=364, longest_edge=1456) == grid


def test_idefics3_tokens_by_hand() -> None:
    """Idefics3: R rows of C tiles of N + 2 tokens and a newline, then the global image's N + 3."""
    n = 169
    assert image_tiling.idefics3_tokens(1000, 1000, tile_size=364, longest_edge=1456, tile_tokens=n) == (
        4 * (4 * (n + 2) + 1) + n + 3
    )
    assert image_tiling.idefics3_tokens(10, 10, tile_size=364, longest_edge=364, tile_tokens=n) == n + 3


@pytest.mark.parametrize(
    ("width", "height", "grid"),
    [(224, 224, (1, 1)), (896, 896, (2, 2)), (1344, 1344, (3, 3)), (2000, 100, (12, 1))],
    ids=["small", "four-tiles", "nine-tiles", "wide"],
)
def test_internvl_grid_ties_go_to_more_tiles_while_the_image_fills_them(
    width: int, height: int, grid: tuple[int, int]
) -> None:
    """InternVL: the nearest aspect ratio; on a tie, more tiles only while the image covers over half."""
    assert image_tiling.internvl_grid(width, height, tile_size=448, min_tiles=1, max_tiles=12) == grid


def test_internvl_thumbnail_only_with_several_tiles() -> None:
    """InternVL adds a thumbnail tile when the image is cut into more than one tile."""
    kw = {"tile_size": 448, "min_tiles": 1, "max_tiles": 12, "tile_tokens": 256}
    assert image_tiling.internvl_tokens(224, 224, **kw) == 256 + 2
    assert image_tiling.internvl_tokens(896, 896, **kw) == (4 + 1) * 256 + 2


@pytest.mark.parametrize(
    ("width", "height", "grid"),
    [(300, 300, (1, 1)), (672, 672, (2, 2)), (1008, 336, (1, 3)), (5000, 5000, (4, 4))],
    ids=["one", "two-by-two", "one-by-three", "downscaled"],
)
def test_llama4_grid_least_upscaling_then_least_area(width: int, height: int, grid: tuple[int, int]) -> None:
    """Llama 4: the canvas needing the least upscaling (else the least downscaling), then the smallest."""
    assert image_tiling.llama4_grid(width, height, tile_size=336, max_tiles=16) == grid


def test_llama4_tokens_by_hand() -> None:
    """Llama 4: start, R C tiles of P tokens plus a separator each, <|image|>, the global tile, end."""
    assert image_tiling.llama4_tokens(300, 300, tile_size=336, max_tiles=16, tile_tokens=144) == 144 + 3
    assert image_tiling.llama4_tokens(672, 672, tile_size=336, max_tiles=16, tile_tokens=144) == 4 * 145 + 147


def test_tiled_models_price_images_by_size_and_note_the_default_size() -> None:
    """A tiled model's --images N prices N default-size images and says which size it assumed."""
    spec = spec_from_hf_config({"model_type": "internvl", "text_config": TEXT, "vision_config": {}}, source="i")
    small = media_tokens(spec, image_sizes=[(224, 224)]).image_tokens
    counted = media_tokens(spec, images=2)
    assert counted.image_tokens == 2 * media_tokens(spec, image_sizes=[(1024, 1024)]).image_tokens > 2 * small
    assert any("1024x1024" in n for n in counted.notes)
    assert not any("not modelled" in n for n in counted.notes)


def test_bad_grid_pinpoints_are_refused() -> None:
    """A malformed image_grid_pinpoints is an error naming the field."""
    config = {"model_type": "llava_next", "text_config": TEXT, "image_grid_pinpoints": [[336, "x"]]}
    with pytest.raises(SpecError, match="image_grid_pinpoints"):
        spec_from_hf_config(config, source="cfg")
