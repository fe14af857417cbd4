"""Find a model in the local Hugging Face cache, offline.

The cache layout is huggingface_hub's (``file_download.py``, "cache structure"):
``<cache>/models--<org>--<name>/refs/<revision>`` holds a commit hash, and
``snapshots/<commit>/`` holds the files (symlinks into ``blobs/``). The cache folder is
``HF_HUB_CACHE``, else ``HUGGINGFACE_HUB_CACHE`` (the older name), else ``HF_HOME/hub``, else
``XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub`` (huggingface_hub
``constants.py``). Nothing here touches the network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from llmcalc.errors import PresetError

#: A Hub repository id: ``org/name`` (letters, digits, ``-``, ``_``, ``.``).
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")


def is_repo_id(ref: str) -> bool:
    """True for ``org/name``: exactly one ``/`` and Hub-legal characters."""
    return bool(REPO_ID.match(ref)) and ".." not in ref


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder the environment selects (see the module docstring)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def find_snapshot(repo_id: str, *, revision: str = "main", cache_dir: Path | None = None) -> Path | None:
    """The snapshot folder of ``repo_id`` that holds a config.json, or ``None``.

    Uses ``refs/<revision>`` when present; otherwise (a cache copied without refs) the most
    recently modified snapshot with a config.json.
    """
    cache = cache_dir or hub_cache_dir()
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / revision
    if ref.is_file():
        commit = ref.read_text(encoding="utf-8", errors="replace").strip()
        candidate = snapshots / commit
        if commit and (candidate / "config.json").is_file():
            return candidate
    found = [d for d in snapshots.iterdir() if (d / "config.json").is_file()]
    if not found:
        return None
    return max(found, key=lambda d: (d / "config.json").stat().st_mtime)


def resolve_repo(repo_id: str) -> Path:
    """The cached snapshot folder of ``repo_id``; a :class:`PresetError` says how to get it if absent."""
    cache = hub_cache_dir()
    snapshot = find_snapshot(repo_id, cache_dir=cache)
    if snapshot is None:
        raise PresetError(
            f"{repo_id}: not in the local Hugging Face cache (HF_HUB_CACHE={cache}); download config.json "
            f"and the *.safetensors headers with `huggingface-cli download {repo_id} config.json` or pass a path"
        )
    return snapshot
