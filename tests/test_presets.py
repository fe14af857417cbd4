"""The built-in model presets: they load, reproduce their published figures and the reference counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcalc.importers.presets import (
    INDEX_FILE,
    Preset,
    PublishedFigure,
    build_index,
    load_preset,
    load_preset_file,
)
from llmcalc.params import ParamCounts, count_params

ROOT = Path(__file__).resolve().parents[1]
PRESETS_DIR = ROOT / "presets"
PRESET_FILES = sorted(PRESETS_DIR.glob("*.yaml"))
#: Shared reference figures (transformers counts of 50 official configs); CI has shared/ beside the clone.
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"
REFERENCE_PARAMS = REFERENCE_DIR / "configs-params.json"

#: Every model_type family that must have at least one preset.
# fmt: off
REQUIRED_FAMILIES = (
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3_text",
    "phi", "phi3", "gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "bert", "t5", "deepseek_v2", "deepseek_v3",
    "kimi_k2", "olmo2", "olmoe", "dbrx", "granite", "cohere", "stablelm", "starcoder2", "gpt_bigcode", "gpt_oss",
    "llama4",
)
# fmt: on


def _load(path: Path) -> tuple[Preset, ParamCounts]:
    preset = load_preset_file(path)
    return preset, count_params(preset.spec)


def _agrees(figure: PublishedFigure, count: int, tolerance: float | None) -> bool:
    """Within the figure's rounding, or within the preset's stated relative tolerance."""
    if figure.matches(count):
        return True
    return tolerance is not None and abs(count - figure.value) <= tolerance * figure.value


def _fmt(n: int) -> str:
    return f"{n:,}"


def _reference_params() -> dict[str, dict]:
    if not REFERENCE_PARAMS.is_file():
        return {}
    return json.loads(REFERENCE_PARAMS.read_text(encoding="utf-8"))


REFERENCE = _reference_params()
NO_REFERENCE = f"shared reference figures not found at {REFERENCE_PARAMS} (shared/ is not beside this clone)"
#: Presets named like a reference config; one skipped placeholder when the reference is absent.
REFERENCE_CASES = [pytest.param(p, id=p.stem) for p in PRESET_FILES if p.stem in REFERENCE] or [
    pytest.param(None, id="no-reference", marks=pytest.mark.skip(reason=NO_REFERENCE))
]


@pytest.mark.parametrize("path", PRESET_FILES, ids=[p.stem for p in PRESET_FILES])
def test_preset_matches_published_figures(path: Path) -> None:
    """The preset loads and its counts agree with the figures its authors published."""
    preset, counts = _load(path)
    pub = preset.published
    if preset.rumour:
        # A rumour is there to be checked, not reproduced: the honest count must fall short of it.
        assert counts.total_params < pub.total_params.value, (
            f"{preset.name}: {_fmt(counts.total_params)} is not below the rumoured {pub.total_params.text}"
        )
        assert counts.active_params < counts.total_params
        shortfall = pub.total_params.value - counts.total_params
        print(
            f"{preset.name}: {_fmt(counts.total_params)} is {_fmt(shortfall)} "
            f"({shortfall / pub.total_params.value:.1%}) below the rumoured {pub.total_params.text}"
        )
        return
    assert _agrees(pub.total_params, counts.total_params, pub.tolerance), (
        f"{preset.name}: total {_fmt(counts.total_params)} vs published {pub.total_params.text}"
    )
    if pub.active_params is not None:
        # Authors publish "active" with the input embedding (Mistral, Qwen) or without it (DeepSeek,
        # OpenAI, Moonshot); the preset's note says which, and either convention is accepted.
        candidates = (counts.active_params, counts.active_params_excluding_embedding)
        assert any(_agrees(pub.active_params, c, pub.tolerance) for c in candidates), (
            f"{preset.name}: active {_fmt(counts.active_params)} "
            f"({_fmt(counts.active_params_excluding_embedding)} without the input embedding) "
            f"vs published {pub.active_params.text}"
        )
    if pub.non_embedding_params is not None:
        assert _agrees(pub.non_embedding_params, counts.non_embedding_params, pub.tolerance), (
            f"{preset.name}: non-embedding {_fmt(counts.non_embedding_params)} "
            f"vs published {pub.non_embedding_params.text}"
        )


@pytest.mark.parametrize("path", REFERENCE_CASES)
def test_preset_matches_reference_counts_exactly(path: Path) -> None:
    """A preset named like a shared reference config has exactly the transformers total and active."""
    preset, counts = _load(path)
    ref = REFERENCE[path.stem]
    assert (counts.total_params, counts.active_params) == (ref["total"], ref["active"]), (
        f"{preset.name}: llmcalc total/active {_fmt(counts.total_params)}/{_fmt(counts.active_params)}, "
        f"transformers {_fmt(ref['total'])}/{_fmt(ref['active'])}"
    )


@pytest.mark.skipif(not REFERENCE, reason=NO_REFERENCE)
def test_every_reference_config_has_a_preset() -> None:
    """Each of the shared reference models is shipped as a preset of the same name."""
    missing = sorted(set(REFERENCE) - {p.stem for p in PRESET_FILES})
    assert not missing, f"no preset for reference models: {', '.join(missing)}"


def test_index_is_current() -> None:
    """The committed presets/index.json is what build_index writes (rerun scripts/build_preset_index.py)."""
    committed = json.loads((PRESETS_DIR / INDEX_FILE).read_text(encoding="utf-8"))
    assert committed == build_index(PRESETS_DIR)


def test_preset_count_and_families() -> None:
    """There are at least 40 presets and every required model family has one."""
    assert len(PRESET_FILES) >= 40
    families = {load_preset_file(p).family for p in PRESET_FILES}
    missing = [f for f in REQUIRED_FAMILIES if f not in families]
    assert not missing, f"no preset for families: {', '.join(missing)}"


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("mixtral", "mixtral-8x7b"),
        ("llama3", "llama-3-8b"),
        ("llama3.1", "llama-3.1-8b"),
        ("llama2", "llama-2-7b"),
        ("qwen3", "qwen3-8b"),
        ("gemma2", "gemma-2-9b"),
        ("phi3", "phi-3-mini-4k"),
        ("bloom", "bloom-176b"),
        ("falcon", "falcon-7b"),
        ("bert", "bert-base-uncased"),
        ("t5", "t5-base"),
        ("gpt2", "gpt2"),
        ("deepseek-v3", "deepseek-v3"),
        ("Mixtral_8x7B", "mixtral-8x7b"),
    ],
    ids=lambda v: v,
)
def test_documented_aliases_resolve(alias: str, name: str) -> None:
    """The short names users type resolve to the documented presets."""
    assert load_preset(alias).name == name


@pytest.mark.parametrize("path", PRESET_FILES, ids=[p.stem for p in PRESET_FILES])
def test_preset_cites_its_sources(path: Path) -> None:
    """Every preset names an https source for its config and for its published figure."""
    preset = load_preset_file(path)
    assert preset.source.startswith("https://"), preset.source
    assert preset.published.source.startswith("https://"), preset.published.source
    if preset.published.tolerance is not None:
        assert preset.published.note, f"{preset.name}: a tolerance needs a note saying why"
    if preset.rumour:
        assert "rumour" in preset.display_name.lower() and preset.notes


@pytest.mark.parametrize("path", PRESET_FILES, ids=[p.stem for p in PRESET_FILES])
def test_preset_matches_its_recorded_reference_count(path: Path) -> None:
    """Every preset records the reference implementation's count, and llmcalc's total equals it.

    The figure is in the preset itself (``reference:``, written by scripts/record_reference_counts.py
    from transformers on the meta device), so this runs from the repository alone. Where llmcalc
    counts differently on purpose, the preset's ``reference.note`` says why and the difference is
    exactly an untied output head the checkpoint stores (T5 v1.1).
    """
    preset, counts = _load(path)
    ref = preset.reference
    assert ref is not None, f"{path.name}: no reference block; run scripts/record_reference_counts.py"
    assert ref.implementation.startswith("transformers ")
    if ref.note is None:
        assert counts.total_params == ref.total_params, (
            f"{preset.name}: llmcalc {_fmt(counts.total_params)}, {ref.implementation} {_fmt(ref.total_params)}"
        )
    else:
        assert counts.total_params - ref.total_params == counts.lm_head_params, ref.note
