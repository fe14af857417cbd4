"""Read a model's architecture from the Hugging Face Hub, when asked and when it is not cached.

``llmcalc params Qwen/Qwen3-Next-80B-A3B-Instruct`` first looks in the local cache
(:mod:`llmcalc.importers.hf_cache`, offline). When the repository is not there, and going online is
allowed, this module asks the Hub through huggingface_hub's own client, an optional extra
(``pip install 'llmcalc-cli[hub]'``), so that authentication (``HF_TOKEN`` or the saved token),
the endpoint (``HF_ENDPOINT``), offline mode (``HF_HUB_OFFLINE``), timeouts and the cache layout
are the library's, not a copy of them:

- ``config.json`` by :func:`huggingface_hub.hf_hub_download`, which stores it in the ordinary Hub
  cache (where the next call finds it offline);
- the safetensors headers by :func:`huggingface_hub.get_safetensors_metadata`, which reads each
  file's header with HTTP range requests, never the weights (huggingface_hub ``hf_api.py``,
  ``parse_safetensors_file_metadata``: the first 100,000 bytes, then the rest of a longer header).
  The headers are counted with the same code as local files (:mod:`llmcalc.importers.safetensors`).

Nothing here is imported by ``import llmcalc`` or on the preset path; huggingface_hub is imported
only when a Hub lookup actually happens. Every failure becomes one :class:`PresetError` line: not
installed (with the install command), offline, gated (401/403: accept the licence and set
``HF_TOKEN``), not found (404), or no answer within the timeout.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmcalc.errors import PresetError

#: Seconds to wait for the Hub to answer one request (huggingface_hub's own default is 10).
DEFAULT_TIMEOUT_S = 10.0

_TRUE = {"1", "on", "yes", "true"}


def offline_requested(offline: bool | None) -> bool:
    """True when going online is forbidden: ``offline=True``, or ``HF_HUB_OFFLINE`` set in the environment."""
    if offline is not None:
        return offline
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hub_client_installed() -> bool:
    """True when huggingface_hub can be imported (the ``hub`` extra), without importing it."""
    import importlib.util
    import sys

    if "huggingface_hub" in sys.modules:
        return sys.modules["huggingface_hub"] is not None
    try:
        return importlib.util.find_spec("huggingface_hub") is not None
    except (ImportError, ValueError):
        return False


def hub_timeout() -> float:
    """The per-request timeout: ``LLMCALC_HUB_TIMEOUT`` seconds when set to a positive number, else 10."""
    raw = os.environ.get("LLMCALC_HUB_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if 0 < value <= 600 else DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class HubModel:
    """What the Hub gave for one repository: the cached config.json and the safetensors headers."""

    repo_id: str
    config_path: Path
    headers: tuple[Any, ...]  # llmcalc.importers.safetensors.SafetensorsHeader
    weight_files: tuple[str, ...]


def _client() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise PresetError(
            "reading from the Hugging Face Hub needs huggingface_hub: pip install 'llmcalc-cli[hub]' "
            "(or download the files with `hf download REPO config.json` and pass the folder)"
        ) from None
    return huggingface_hub


def _explain(repo_id: str, what: str, exc: BaseException, timeout: float) -> PresetError:
    """One line for a Hub failure, by kind (huggingface_hub ``errors.py``)."""
    from huggingface_hub import errors

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    if isinstance(exc, errors.GatedRepoError):
        return PresetError(
            f"{repo_id}: the repository is gated; accept its licence on the Hub and set HF_TOKEN "
            "(or run `hf auth login`)"
        )
    if isinstance(exc, errors.RevisionNotFoundError):
        return PresetError(f"{repo_id}: no such revision on the Hub")
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return PresetError(f"{repo_id}: the repository has no {what}")
    if isinstance(exc, errors.RepositoryNotFoundError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 401:
            return PresetError(
                f"{repo_id}: not found on the Hub, or private: if it is yours or gated, set HF_TOKEN"
            )
        return PresetError(f"{repo_id}: no such repository on the Hub ({endpoint})")
    if isinstance(exc, getattr(errors, "LocalEntryNotFoundError", ())):
        return PresetError(
            f"{repo_id}: not in the local Hugging Face cache, and the Hub ({endpoint}) cannot be reached; "
            "check the network, or pass a local folder"
        )
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return PresetError(f"{repo_id}: not in the local Hugging Face cache, and HF_HUB_OFFLINE forbids the Hub")
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return PresetError(f"{repo_id}: the Hub answered HTTP {status} for {what}")
    text = f"{type(exc).__name__}: {exc}".lower()
    if "timeout" in text or "timed out" in text:
        return PresetError(
            f"{repo_id}: the Hub ({endpoint}) did not answer within {timeout:g} s; try again, "
            "or set LLMCALC_HUB_TIMEOUT"
        )
    return PresetError(f"{repo_id}: could not reach the Hub ({endpoint}) for {what}: {type(exc).__name__}")


@contextmanager
def _quiet() -> Iterator[None]:
    """huggingface_hub logs each retry on stderr; llmcalc reports the outcome in one line instead."""
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def fetch_model(repo_id: str, *, revision: str | None = None) -> HubModel:
    """config.json and the safetensors headers of ``repo_id`` from the Hub (see the module docstring).

    Raises :class:`PresetError` with one line for every failure. A repository without safetensors
    weights gives its config alone (``headers`` empty).
    """
    hub = _client()
    from huggingface_hub import errors

    timeout = hub_timeout()
    # huggingface_hub imports its modules lazily and configures its logger as they load: load them
    # before quietening it.
    _ = hub.hf_hub_download, hub.get_safetensors_metadata
    with _quiet():
        return _fetch(hub, errors, repo_id, revision, timeout)


def _fetch(hub: Any, errors: Any, repo_id: str, revision: str | None, timeout: float) -> HubModel:
    try:
        config = hub.hf_hub_download(repo_id, "config.json", revision=revision, etag_timeout=timeout)
    except (errors.HfHubHTTPError, errors.OfflineModeIsEnabled, OSError, ValueError) as exc:
        raise _explain(repo_id, "config.json", exc, timeout) from None
    except Exception as exc:  # httpx/requests timeouts and connection errors are not OSError everywhere
        raise _explain(repo_id, "config.json", exc, timeout) from None
    try:
        meta = hub.get_safetensors_metadata(repo_id, revision=revision, timeout=timeout)
    except errors.NotASafetensorsRepoError:
        return HubModel(repo_id, Path(config), (), ())
    except errors.SafetensorsParsingError as exc:
        raise PresetError(f"{repo_id}: a safetensors header on the Hub could not be parsed: {exc}") from None
    except Exception as exc:
        raise _explain(repo_id, "safetensors headers", exc, timeout) from None
    headers = tuple(_header(repo_id, name, fm) for name, fm in sorted(meta.files_metadata.items()))
    return HubModel(repo_id, Path(config), headers, tuple(sorted(meta.files_metadata)))


def _header(repo_id: str, filename: str, file_meta: Any) -> Any:
    """A huggingface_hub ``SafetensorsFileMetadata`` as llmcalc's :class:`SafetensorsHeader`."""
    from llmcalc.importers.safetensors import SafetensorsHeader, Tensor

    tensors = []
    end = 0
    for name, info in file_meta.tensors.items():
        begin, stop = (int(x) for x in info.data_offsets)
        tensors.append(Tensor(name=name, dtype=str(info.dtype), shape=tuple(int(d) for d in info.shape),
                              begin=begin, end=stop))
        end = max(end, stop)
    metadata = tuple(sorted((str(k), str(v)) for k, v in (file_meta.metadata or {}).items()))
    return SafetensorsHeader(path=Path(f"{repo_id}/{filename}"), tensors=tuple(tensors), metadata=metadata,
                             data_start=0, file_bytes=end)
