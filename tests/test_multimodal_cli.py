"""The CLI on multimodal models: towers in `params`, images and audio in `memory` and `context`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from llmcalc import count_params, load_model
from llmcalc.cli import cli
from llmcalc.media import media_tokens


def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_params_shows_towers_and_the_language_model(runner: CliRunner) -> None:
    """`params gemma-3-27b`: towers as components, the language model's own figures in the title and totals."""
    code, out, _ = _run(runner, "params", "gemma-3-27b", "--width", "140")
    assert code == 0
    assert "Gemma 3 27B: 27.4B parameters (language model 27.0B, vision tower 417M, projector 6.19M)" in out
    counts = count_params(load_model("gemma-3-27b").spec)
    for label, value in (
        ("Vision tower", counts.vision_params),
        ("Projector", counts.projector_params),
        ("Language model", counts.language_params),
    ):
        line = next(row for row in out.splitlines() if label in row)
        assert f"{value:,}" in line
    assert "Vision (siglip, 417M): 27 layers, hidden 1,152" in out


def test_params_json_carries_tower_fields(runner: CliRunner) -> None:
    """`params --json` has vision/audio/projector/language params and each tower's components."""
    code, out, _ = _run(runner, "params", "gemma-3-27b", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["vision_params"] + data["projector_params"] + data["language_params"] == data["total_params"]
    assert data["audio_params"] == 0
    assert [t["role"] for t in data["towers"]] == ["vision", "projector"]
    assert data["towers"][0]["params"] == data["vision_params"] == sum(data["towers"][0]["components"].values())
    assert data["towers"][0]["image_tokens"]["fixed"] == 256


def test_whisper_encoder_is_the_audio_tower(runner: CliRunner) -> None:
    """Whisper's encoder is reported as its audio tower, the decoder as the language model."""
    code, out, _ = _run(runner, "params", "whisper-large-v3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["audio_params"] + data["language_params"] == data["total_params"] == 1_543_490_560


def test_memory_adds_image_tokens_and_tower_weights(runner: CliRunner) -> None:
    """`memory --image` adds the image's tokens to the context; the towers' 16-bit bytes are in the weights."""
    code, out, err = _run(runner, "memory", "qwen2.5-vl-7b", "--image", "1024x768", "--context", "2048", "--json")
    assert code == 0
    data = json.loads(out)
    spec = load_model("qwen2.5-vl-7b").spec
    tokens = media_tokens(spec, image_sizes=[(1024, 768)]).image_tokens
    assert data["media"]["image_tokens"] == tokens
    assert data["inputs"]["context_tokens"] == 2048 + tokens
    counts = count_params(spec)
    assert data["tower_bytes"] == 2 * (counts.vision_params + counts.projector_params)
    assert "Media: 1 image (1024x768:" in err


def test_memory_table_shows_the_tower_line(runner: CliRunner) -> None:
    """The memory table has its own line for the towers' share of the weights."""
    code, out, _ = _run(runner, "memory", "gemma-3-4b", "--quant", "q4_k_m", "--width", "120")
    assert code == 0
    assert "of which vision/audio towers" in out
    assert "mmproj" in out


def test_context_counts_images_in_the_context_point(runner: CliRunner) -> None:
    """`context --images N` puts N fixed-cost images into the context point of the curve."""
    code, out, err = _run(runner, "context", "gemma-3-4b", "--images", "4", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["media"]["image_tokens"] == 4 * (256 + 2)
    assert "4 images" in err


def test_context_caches_mllama_cross_attention_tokens_as_memory_does(runner: CliRunner) -> None:
    """Mllama's images fill its cross-attention layers' cache: `context --images` shows the same KV cache
    at the image-extended context as `memory --images` (kvcache.kv_cache's encoder_tokens)."""
    args = ("llama-3.2-90b-vision", "--images", "1", "--engine", "hf", "--context", "4096", "--json")
    code, out, _ = _run(runner, "context", *args)
    assert code == 0
    curve = {p["context_tokens"]: p["kv_cache_bytes"] for p in json.loads(out)["series"]}
    code, out, _ = _run(runner, "memory", *args)
    assert code == 0
    memory = json.loads(out)
    assert curve[memory["inputs"]["context_tokens"]] == memory["kv_cache_bytes"]
    from llmcalc.kvcache import kv_cache

    spec = load_model("llama-3.2-90b-vision").spec
    ctx = memory["inputs"]["context_tokens"]
    cross = media_tokens(spec, images=1).cross_attention_tokens
    with_images = kv_cache(spec, context_tokens=ctx, engine="hf", encoder_tokens=cross).total_bytes
    assert memory["kv_cache_bytes"] == with_images > kv_cache(spec, context_tokens=ctx, engine="hf").total_bytes


def test_images_on_a_text_model_is_an_error(runner: CliRunner) -> None:
    """A text-only model given --images: a one-line error, exit 1."""
    code, _, err = _run(runner, "memory", "llama-3-8b", "--images", "1")
    assert code == 1
    assert err.startswith("Error: ") and "no vision tower" in err


def test_bad_image_size_is_a_usage_error(runner: CliRunner) -> None:
    """A malformed --image value exits 2 with usage."""
    code, _, err = _run(runner, "memory", "gemma-3-4b", "--image", "1024")
    assert code == 2
    assert "WIDTHxHEIGHT" in err


def test_memory_puts_mllama_images_in_the_cross_attention_cache(runner: CliRunner) -> None:
    """Llama 3.2 Vision: one <|image|> token in the context, every tile's vision tokens in the cross-attention cache."""
    code, out, _ = _run(runner, "memory", "llama-3.2-90b-vision", "--images", "2", "--context", "1000", "--json")
    assert code == 0
    data = json.loads(out)
    spec = load_model("llama-3.2-90b-vision").spec
    media = media_tokens(spec, images=2)
    assert data["inputs"]["context_tokens"] == 1000 + 2
    kv = data["formats"][0]["estimate"]["kv_cache"]
    cross_layers = sum(g.count for g in spec.main_stack.groups if g.cross_attention is not None)
    assert kv["cross_attention_bytes"] == cross_layers * 2 * 8 * 128 * 2 * media.cross_attention_tokens > 0
