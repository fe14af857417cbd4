"""The local Hugging Face cache: org/name resolves offline; HF_HUB_CACHE and HF_HOME are honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcalc import PresetError, load_model
from llmcalc.importers.hf_cache import find_snapshot, hub_cache_dir, is_repo_id
from tests.helpers_files import TINY_LLAMA, TINY_LLAMA_PARAMS, llama_tensors, write_config, write_safetensors

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_cache(cache: Path, repo: str = "tiny-org/tiny-llama", *, weights: bool = True, ref: bool = True) -> Path:
    """A cache laid out as huggingface_hub writes it: blobs, snapshots/<commit> symlinks, refs/main."""
    root = cache / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / COMMIT
    blobs = root / "blobs"
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (blobs / "config-blob").write_text(json.dumps(TINY_LLAMA))
    (snapshot / "config.json").symlink_to(blobs / "config-blob")
    if weights:
        write_safetensors(blobs / "weights-blob", llama_tensors())
        (snapshot / "model.safetensors").symlink_to(blobs / "weights-blob")
    if ref:
        (root / "refs").mkdir()
        (root / "refs" / "main").write_text(COMMIT)
    return snapshot


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    cache.mkdir()
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)
    return cache


def test_org_name_from_cache(cache: Path) -> None:
    """org/name loads config.json and the safetensors headers from the cached snapshot."""
    snapshot = make_cache(cache)
    loaded = load_model("tiny-org/tiny-llama")
    assert loaded.kind == "hf-cache"
    assert loaded.source == str(snapshot)
    assert loaded.spec.name == "tiny-org/tiny-llama"
    assert loaded.counted_params == TINY_LLAMA_PARAMS
    assert loaded.weights is not None and loaded.weights.total_bytes == 2 * TINY_LLAMA_PARAMS
    assert "local Hugging Face cache" in loaded.notes[0]


def test_config_only_in_cache(cache: Path) -> None:
    """A cached config.json without weights counts analytically, with a note."""
    make_cache(cache, weights=False)
    loaded = load_model("tiny-org/tiny-llama")
    assert loaded.weights is None and loaded.counted_params is None
    assert any("no *.safetensors files" in n for n in loaded.notes)


def test_snapshot_without_refs(cache: Path) -> None:
    """A cache copied without refs/ still finds the snapshot that has a config.json."""
    snapshot = make_cache(cache, ref=False)
    assert find_snapshot("tiny-org/tiny-llama") == snapshot


def test_hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without HF_HUB_CACHE, HF_HOME/hub is the cache."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert hub_cache_dir() == tmp_path / "hf" / "hub"
    make_cache(tmp_path / "hf" / "hub")
    assert load_model("tiny-org/tiny-llama").counted_params == TINY_LLAMA_PARAMS


def test_missing_repo_says_how_to_get_it(cache: Path) -> None:
    """A repo not in the cache: the error names the cache and the download command."""
    with pytest.raises(PresetError) as err:
        load_model("someorg/missing-model")
    assert str(err.value) == (
        f"someorg/missing-model: not in the local Hugging Face cache ({cache}, from HF_HUB_CACHE); get its "
        "config with `hf download someorg/missing-model config.json`, pass a folder, or drop --offline / "
        "HF_HUB_OFFLINE to read it from the Hub"
    )


def test_presets_still_resolve(cache: Path) -> None:
    """A name without a slash is still a preset."""
    assert load_model("mixtral").kind == "preset"


def test_existing_path_wins(cache: Path, tmp_path: Path) -> None:
    """An org/name that is also a folder on disk is read from disk."""
    make_cache(cache)
    folder = tmp_path / "tiny-org" / "tiny-llama"
    write_config(folder, TINY_LLAMA)
    assert load_model("tiny-org/tiny-llama").kind == "config"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("meta-llama/Llama-3.1-8B", True), ("org/name/extra", False), ("mixtral", False), ("../x", False),
     ("org/", False)],
    ids=["repo", "two-slashes", "preset", "relative", "empty-name"],
)
def test_is_repo_id(ref: str, expected: bool) -> None:
    """Only org/name with Hub-legal characters goes to the cache."""
    assert is_repo_id(ref) is expected
