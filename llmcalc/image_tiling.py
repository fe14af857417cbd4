"""Image tiling: how many context tokens a processor that cuts an image into tiles gives it.

Pure functions, one per family's rule: an image's ``width x height`` in pixels and the processor's
settings in, a token count out. Each follows the Hugging Face transformers 5.24 processor and image
processor named in its docstring (``transformers/models/<type>/``), step for step, with the same
float arithmetic where a choice depends on it, so the counts are the processor's to the token
(``benchmarks/measure_image_tokens.py`` runs the processors themselves on a grid of sizes and
``tests/test_media_tiling.py`` checks every row).

The tile side is the vision tower's ``image_size`` as the model's config gives it (each tile must
be what the tower was built for, or the per-tile count would not hold); the released
``preprocessor_config.json`` files agree with it. The other settings are the processors' defaults:
LLaVA-NeXT's grid pinpoints come from the model's config (``image_grid_pinpoints``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from functools import cache

#: Idefics3/SmolVLM: ``MAX_IMAGE_SIZE`` of ``image_processing_idefics3.py`` (an absolute bound, 4k).
IDEFICS3_MAX_IMAGE_SIZE = 4096


def select_best_resolution(height: int, width: int, resolutions: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The ``(height, width)`` canvas LLaVA-NeXT picks for an image (``image_processing_utils.py``,
    ``select_best_resolution``): the most of the image's pixels kept after fitting it in, ties to
    the least wasted canvas area, the first such in ``resolutions`` order."""
    best = resolutions[0]
    most_kept, least_wasted = 0, math.inf
    for h, w in resolutions:
        scale = min(w / width, h / height)
        kept = min(int(width * scale) * int(height * scale), width * height)
        wasted = w * h - kept
        if kept > most_kept or (kept == most_kept and wasted < least_wasted):
            best, most_kept, least_wasted = (h, w), kept, wasted
    return best


def llava_next_tokens(
    width: int,
    height: int,
    *,
    tile_size: int,
    patch_size: int,
    grid_pinpoints: Sequence[tuple[int, int]],
    base_tokens: int,
) -> int:
    """LLaVA-NeXT's any-resolution tokens for one image (``LlavaNextProcessor._get_number_of_features``
    and ``_get_unpadded_features``, ``llava_next/processing_llava_next.py``).

    The image is fitted into the best of ``grid_pinpoints`` (:func:`select_best_resolution`), a
    ``(H / S) x (W / S)`` grid of ``S = tile_size`` tiles, each ``n = S / patch_size`` patches a side;
    the tiles' ``(n H/S) x (n W/S)`` feature grid is unpadded back to the image's aspect ratio
    (``round(., 7)`` as there), one ``image_newline`` token ends each of its rows, and the base tile
    (the whole image at ``S``) adds ``base_tokens``: ``n^2`` (``vision_feature_select_strategy``
    ``default`` drops CLS; ``full`` keeps it, ``n^2 + 1``; the released processors set
    ``num_additional_image_tokens`` 1 so that this equals the model's features). No markers.
    """
    best_h, best_w = select_best_resolution(height, width, grid_pinpoints)
    n = tile_size // patch_size
    cur_h, cur_w = n * (best_h // tile_size), n * (best_w // tile_size)
    if width / height > cur_w / cur_h:
        new_h = int(round(height * (cur_w / width), 7))
        cur_h -= (cur_h - new_h) // 2 * 2
    else:
        new_w = int(round(width * (cur_h / height), 7))
        cur_w -= (cur_w - new_w) // 2 * 2
    return cur_h * cur_w + cur_h + base_tokens


def idefics3_grid(width: int, height: int, *, tile_size: int, longest_edge: int) -> tuple[int, int]:
    """``(rows, cols)`` of tiles Idefics3's and SmolVLM's image processors cut an image into, ``(0, 0)``
    when it stays whole (``image_processing_idefics3.py``; SmolVLM's is the same code).

    ``resize``: the longest edge is scaled to ``longest_edge`` (``size["longest_edge"]``, default
    ``4 * 364`` over ``max_image_size`` 364: four tiles; up or down; the other edge
    ``int``-truncated and made even) and kept within 4,096
    (``_resize_output_size_rescale_to_max_len``, ``_resize_output_size_scale_below_upper_bound``);
    ``resize_for_vision_encoder``: both edges rounded up to multiples of ``tile_size``
    (``max_image_size["longest_edge"]``); ``split_images``: an image larger than one tile is cut
    into ``h / S x w / S`` tiles (and a global image is added: :func:`idefics3_tokens`).
    """
    aspect = width / height
    if width >= height:
        w, h = longest_edge, int(longest_edge / aspect)
        h += h % 2
    else:
        h, w = longest_edge, int(longest_edge * aspect)
        w += w % 2
    h, w = max(h, 1), max(w, 1)
    aspect = w / h
    if w >= h and w > IDEFICS3_MAX_IMAGE_SIZE:
        w, h = IDEFICS3_MAX_IMAGE_SIZE, int(IDEFICS3_MAX_IMAGE_SIZE / aspect)
    elif h > w and h > IDEFICS3_MAX_IMAGE_SIZE:
        h, w = IDEFICS3_MAX_IMAGE_SIZE, int(IDEFICS3_MAX_IMAGE_SIZE * aspect)
    h, w = max(h, 1), max(w, 1)
    aspect = w / h
    if w >= h:
        w = math.ceil(w / tile_size) * tile_size
        h = math.ceil(int(w / aspect) / tile_size) * tile_size
    else:
        h = math.ceil(h / tile_size) * tile_size
        w = math.ceil(int(h * aspect) / tile_size) * tile_size
    if h > tile_size or w > tile_size:
        return (h - tile_size) // tile_size + 1, (w - tile_size) // tile_size + 1
    return 0, 0


def idefics3_tokens(width: int, height: int, *, tile_size: int, longest_edge: int, tile_tokens: int) -> int:
    """Idefics3's and SmolVLM's tokens for one image (``Idefics3Processor.replace_image_token``,
    ``processing_idefics3.py``; ``get_image_prompt_string``, ``smolvlm/processing_smolvlm.py``).

    Whole image: ``<fake_token_around_image><global-img>``, ``N = image_seq_len`` ``<image>`` tokens
    and a closing ``<fake_token_around_image>``: ``N + 3``. Split into ``R x C`` tiles
    (:func:`idefics3_grid`): each tile is ``<fake_token_around_image><row_r_col_c>`` and ``N``
    image tokens, each row ends with ``\\n``, then ``\\n`` and the global image as above:
    ``R (C (N + 2) + 1) + N + 3``, the last row's ``\\n\\n`` one token as the released
    (Llama 3, SmolLM2) tokenizers encode it (``_get_num_multimodal_tokens``' ``extra_split_newline`` 0).
    """
    rows, cols = idefics3_grid(width, height, tile_size=tile_size, longest_edge=longest_edge)
    return rows * (cols * (tile_tokens + 2) + 1) + tile_tokens + 3


@cache
def internvl_aspect_ratios(min_tiles: int, max_tiles: int) -> tuple[tuple[int, int], ...]:
    """``(columns, rows)`` grids of ``min_tiles`` to ``max_tiles`` tiles, by tile count, stable
    (``get_all_supported_aspect_ratios``, ``got_ocr2/image_processing_got_ocr2.py``)."""
    sides = range(1, max_tiles + 1)
    grids = [(w, h) for w in sides for h in sides if min_tiles <= w * h <= max_tiles]
    return tuple(sorted(grids, key=lambda g: g[0] * g[1]))


def internvl_grid(width: int, height: int, *, tile_size: int, min_tiles: int, max_tiles: int) -> tuple[int, int]:
    """``(columns, rows)`` of InternVL's dynamic tiling (``get_optimal_tiled_canvas``,
    ``got_ocr2/image_processing_got_ocr2.py``, the image processor ``InternVLProcessor`` uses): the grid
    whose ``columns / rows`` is nearest the image's ``width / height``; on a tie, the later (more
    tiles) grid while the image's area is over half the grid's pixel area."""
    aspect = width / height
    area = width * height
    best, best_diff = (1, 1), math.inf
    for grid in internvl_aspect_ratios(min_tiles, max_tiles):
        diff = abs(aspect - grid[0] / grid[1])
        if diff < best_diff:
            best, best_diff = grid, diff
        elif diff == best_diff and area > 0.5 * tile_size * tile_size * grid[0] * grid[1]:
            best = grid
    return best


def internvl_tokens(
    width: int, height: int, *, tile_size: int, min_tiles: int, max_tiles: int, tile_tokens: int
) -> int:
    """InternVL's tokens for one image: ``<img>``, ``image_seq_length`` (256) ``<IMG_CONTEXT>`` tokens per
    tile, ``</img>`` (``InternVLProcessor.replace_image_token``, ``internvl/processing_internvl.py``).

    Tiles: the :func:`internvl_grid` of ``S = tile_size`` tiles, plus a thumbnail of the whole image
    at ``S`` when there is more than one (``crop_image_to_patches``' ``use_thumbnail``;
    ``get_number_of_image_patches``). The processor turns ``crop_to_patches`` on; ``min_patches`` 1
    and ``max_patches`` 12 are ``GotOcr2ImageProcessor``'s defaults (and InternVL's released ones).
    """
    cols, rows = internvl_grid(width, height, tile_size=tile_size, min_tiles=min_tiles, max_tiles=max_tiles)
    tiles = cols * rows + 1 if max_tiles > 1 and cols * rows > 1 else 1
    return tile_tokens * tiles + 2


def _f32(x: float) -> float:
    """``x`` rounded to float32 (torch's default dtype for the quotient of integer tensors)."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


@cache
def llama4_resolutions(max_tiles: int, tile_size: int) -> tuple[tuple[int, int], ...]:
    """Canvases ``(height, width)`` of at most ``max_tiles`` tiles, in the processor's order
    (``find_supported_resolutions``, ``llama4/image_processing_llama4.py``): grouped by aspect ratio
    in order of first appearance, counting down from ``max_tiles`` tiles, factors ascending."""
    groups: dict[float, list[tuple[int, int]]] = {}
    for chunks in range(max_tiles, 0, -1):
        for factor in sorted(d for d in range(1, chunks + 1) if chunks % d == 0):
            groups.setdefault(factor / (chunks // factor), []).append((factor, chunks // factor))
    return tuple((h * tile_size, w * tile_size) for group in groups.values() for h, w in group)


def llama4_grid(width: int, height: int, *, tile_size: int, max_tiles: int) -> tuple[int, int]:
    """``(rows, cols)`` of tiles Llama 4's image processor cuts an image into (``get_best_fit``,
    ``llama4/image_processing_llama4.py``): each canvas's scale ``min(H / h, W / w)`` (float32, as
    torch divides there); the smallest scale of at least 1 if any (the least upscaling), else the
    largest (the least downscaling); among canvases of that scale the smallest area, the first one
    in :func:`llama4_resolutions` order on a tie (``argmin``)."""
    canvases = llama4_resolutions(max_tiles, tile_size)
    scales = [min(_f32(h / height), _f32(w / width)) for h, w in canvases]
    up = [s for s in scales if s >= 1]
    chosen = min(up) if up else max(scales)
    candidates = [c for c, s in zip(canvases, scales, strict=True) if s == chosen]
    h, w = min(candidates, key=lambda c: c[0] * c[1])
    return h // tile_size, w // tile_size


def llama4_tokens(width: int, height: int, *, tile_size: int, max_tiles: int, tile_tokens: int) -> int:
    """Llama 4's tokens for one image (``Llama4Processor._prompt_split_image``, ``llama4/processing_llama4.py``).

    ``<|image_start|>``; for an ``R x C`` grid of more than one tile (:func:`llama4_grid`; tiles of
    the tower's ``S``, 336 as ``Llama4ImageProcessor``'s ``size`` default and the releases have it;
    ``max_patches`` 16, its default) each tile's ``P`` patch
    tokens, a ``<|tile_x_separator|>`` between tiles of a row and a ``<|tile_y_separator|>`` after
    each row (``R C (P + 1)`` in all); then ``<|image|>``, the global tile's ``P`` patch tokens and
    ``<|image_end|>``. ``P = (S / patch)^2 / round(1 / pixel_shuffle_ratio^2)`` (144).
    """
    rows, cols = llama4_grid(width, height, tile_size=tile_size, max_tiles=max_tiles)
    tiles = rows * cols
    return (tiles * (tile_tokens + 1) if tiles > 1 else 0) + tile_tokens + 3
