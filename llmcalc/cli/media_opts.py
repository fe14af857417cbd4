"""``--image WxH``, ``--images N`` and ``--audio SECONDS``: images and audio in the context.

Shared by ``memory`` and ``context``; the token counts come from :mod:`llmcalc.media`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from llmcalc.media import MediaError, MediaTokens, media_tokens, parse_image_size
from llmcalc.spec import ModelSpec

F = TypeVar("F", bound=Callable[..., Any])


class ImageSize(click.ParamType):  # type: ignore[type-arg]
    """WIDTHxHEIGHT in pixels."""

    name = "WxH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_image_size(str(value))
        except MediaError as exc:
            self.fail(str(exc), param, ctx)


def media_options(f: F) -> F:
    """Add ``--image`` (repeatable), ``--images`` and ``--audio`` to a command."""
    f = click.option(
        "--audio",
        "audio_seconds",
        type=click.FloatRange(min=0),
        default=0.0,
        metavar="SECONDS",
        help="Seconds of audio in each sequence (Qwen2-Audio: 25 tokens per second).",
    )(f)
    f = click.option(
        "--images",
        "images",
        type=click.IntRange(min=0),
        default=0,
        metavar="N",
        help="Images in each sequence (1024x1024 where the size matters).",
    )(f)
    f = click.option(
        "--image",
        "image_sizes",
        type=ImageSize(),
        multiple=True,
        metavar="WxH",
        help="An image of this size in each sequence (repeatable): its tokens join the context.",
    )(f)
    return f


def media_request(
    spec: ModelSpec, image_sizes: Sequence[tuple[int, int]], images: int, audio_seconds: float
) -> MediaTokens | None:
    """The tokens the flags add to each sequence (``None`` when none were given)."""
    if not (image_sizes or images or audio_seconds):
        return None
    return media_tokens(spec, image_sizes=image_sizes, images=images, audio_seconds=audio_seconds)


def media_line(media: MediaTokens) -> str:
    """One line saying what the images and audio add, for stderr."""
    parts = []
    if media.images:
        sizes = "; ".join(f"{w}x{h}: {t:,}" for w, h, t in media.images)
        parts.append(
            f"{len(media.images)} image{'s' if len(media.images) > 1 else ''} ({sizes}) = {media.image_tokens:,} tokens"
        )
    if media.audio_seconds:
        parts.append(f"{media.audio_seconds:g} s of audio = {media.audio_tokens:,} tokens")
    total = f" ({media.total_tokens:,} tokens)" if media.images and media.audio_seconds else ""
    return "; ".join(parts) + f" in each sequence's context{total}"
