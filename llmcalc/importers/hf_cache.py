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


#: The Hub limits repository names to 96 characters (an org name is shorter still).
MAX_REPO_ID = 200


def is_repo_id(ref: str) -> bool:
    """True for ``org/name``: exactly one ``/``, Hub-legal characters, and a length the Hub allows."""
    return len(ref) <= MAX_REPO_ID and bool(REPO_ID.match(ref)) and ".." not in ref


def _expand(path: str) -> Path:
    """``~`` expanded where it can be (``~nosuchuser/x`` stays as written rather than raising)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


def cache_origin() -> str:
    """Which setting chose :func:`hub_cache_dir`: the environment variable's name, or the default."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        if os.environ.get(var):
            return var
    return "the default"


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder the environment selects (see the module docstring)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return _expand(os.environ[var])
    if os.environ.get("HF_HOME"):
        return _expand(os.environ["HF_HOME"]) / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = _expand(xdg) if xdg else _expand("~") / ".cache"
    return base / "huggingface" / "hub"


def find_snapshot(repo_id: str, *, revision: str = "main", cache_dir: Path | None = None) -> Path | None:
    """The snapshot folder of ``repo_id`` that holds a config.json, or ``None``.

    Uses ``refs/<revision>`` when present; otherwise (a cache copied without refs) the most
    recently modified snapshot with a config.json.
    """
    cache = cache_dir or hub_cache_dir()
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    try:
        if not snapshots.is_dir():
            return None
        ref = repo / "refs" / revision
        if ref.is_file():
            with ref.open("rb") as fh:  # a commit hash: 40 characters; never read a huge file whole
                commit = fh.read(256).decode("utf-8", errors="replace").strip()
            candidate = snapshots / commit if "/" not in commit and commit not in ("", ".", "..") else None
            if candidate is not None and (candidate / "config.json").is_file():
                return candidate
        found = [d for d in snapshots.iterdir() if (d / "config.json").is_file()]
        if not found:
            return None
        return max(found, key=lambda d: (d / "config.json").stat().st_mtime)
    except OSError:  # a name too long for the file system, a folder that cannot be read
        return None


def resolve_repo(repo_id: str) -> Path:
    """The cached snapshot folder of ``repo_id``; a :class:`PresetError` says how to get it if absent."""
    cache = hub_cache_dir()
    snapshot = find_snapshot(repo_id, cache_dir=cache)
    if snapshot is None:
        raise PresetError(
            f"{repo_id}: not in the local Hugging Face cache ({cache}, from {cache_origin()}); "
            f"get its config with `hf download {repo_id} config.json`, pass a folder, or drop --offline / "
            "HF_HUB_OFFLINE to read it from the Hub"
        )
    return snapshot
