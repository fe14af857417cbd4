"""The Hugging Face Hub, online when asked: a local server on 127.0.0.1 stands in for the Hub.

The server speaks the Hub's URL layout (``{endpoint}/{org}/{name}/resolve/{revision}/{file}``, HEAD
and ranged GET, the ``X-Repo-Commit`` / ``ETag`` / ``X-Error-Code`` headers huggingface_hub reads
in ``file_download.py`` and ``utils/_http.py``). The CLI runs in a subprocess because
huggingface_hub reads HF_ENDPOINT and its timeouts when it is imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers_files import TINY_LLAMA, TINY_LLAMA_PARAMS, llama_tensors, write_safetensors

pytest.importorskip("huggingface_hub", reason="the Hub tests need the hub extra (pip install '.[test]')")

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


class _Hub(BaseHTTPRequestHandler):
    """Answers for a few repositories: files, a gated repo (401), a missing one (404), a slow one."""

    files: dict[str, dict[str, bytes]] = {}
    delay_s = 0.0

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _route(self) -> tuple[str, str] | None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            return f"{parts[0]}/{parts[1]}", "/".join(parts[4:])
        return None

    def _error(self, status: int, code: str) -> None:
        body = json.dumps({"error": code}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        route = self._route()
        if route is None:
            self._error(404, "RepoNotFound")
            return
        repo, name = route
        if repo == "slow-org/slow":
            time.sleep(self.delay_s)
        if repo == "gated-org/gated":
            self._error(401, "GatedRepo")
            return
        if repo not in self.files:
            self._error(404, "RepoNotFound")
            return
        data = self.files[repo].get(name)
        if data is None:
            self._error(404, "EntryNotFound")
            return
        start, end = 0, len(data) - 1
        ranged = self.headers.get("Range")
        if ranged and ranged.startswith("bytes="):
            first, _, last = ranged[6:].partition("-")
            start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
        chunk = data[start:end + 1]
        self.send_response(206 if ranged else 200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
        self.send_header("Content-Length", str(len(chunk) if self.command != "HEAD" else len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(chunk)

    def _answer(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self._serve()

    do_GET = _answer
    do_HEAD = _answer


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Hub on 127.0.0.1 with one real tiny repository; yields its endpoint URL."""
    folder = tmp_path_factory.mktemp("hub")
    weights = folder / "model.safetensors"
    write_safetensors(weights, llama_tensors())
    _Hub.files = {
        "tiny-org/tiny-llama": {
            "config.json": json.dumps(TINY_LLAMA).encode(),
            "model.safetensors": weights.read_bytes(),
        },
        "tiny-org/config-only": {"config.json": json.dumps(TINY_LLAMA).encode()},
        "slow-org/slow": {"config.json": json.dumps(TINY_LLAMA).encode()},
    }
    _Hub.delay_s = 4.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run(args: list[str], endpoint: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    clean.update(HF_ENDPOINT=endpoint, HF_HUB_CACHE=str(cache), HF_HUB_DISABLE_TELEMETRY="1",
                 HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_PROGRESS_BARS="1", LLMCALC_HUB_TIMEOUT="1",
                 HF_HUB_ETAG_TIMEOUT="1", HF_HUB_DOWNLOAD_TIMEOUT="1", NO_COLOR="1", COLUMNS="120")
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "llmcalc", *args], capture_output=True, text=True,
                          env=clean, cwd=ROOT, timeout=60)


def test_hub_repo_counts_config_and_headers(hub: str, tmp_path: Path) -> None:
    """org/name not in the cache is read from the Hub: config.json plus the safetensors headers."""
    result = _run(["params", "tiny-org/tiny-llama", "--json"], hub, tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_params"] == TINY_LLAMA_PARAMS
    assert data["files"]["counted_params"] == TINY_LLAMA_PARAMS
    # config.json is now in the ordinary cache, so the same call works offline
    again = _run(["params", "tiny-org/tiny-llama", "--json"], hub, tmp_path, HF_HUB_OFFLINE="1")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["total_params"] == TINY_LLAMA_PARAMS


def test_hub_repo_without_weights_counts_the_config(hub: str, tmp_path: Path) -> None:
    """A repository with no safetensors is counted from its config.json, and says so."""
    result = _run(["params", "tiny-org/config-only", "--json"], hub, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == TINY_LLAMA_PARAMS


@pytest.mark.parametrize(
    ("repo", "env", "expected"),
    [
        ("gated-org/gated", {}, "gated; accept its licence on the Hub and set HF_TOKEN"),
        ("nobody/nothing", {}, "no such repository on the Hub"),
        ("slow-org/slow", {}, "did not answer within 1 s"),
        ("tiny-org/tiny-llama", {"HF_HUB_OFFLINE": "1"}, "not in the local Hugging Face cache"),
    ],
    ids=["gated-401", "missing-404", "slow-timeout", "offline"],
)
def test_hub_failures_are_one_line(hub: str, tmp_path: Path, repo: str, env: dict[str, str], expected: str) -> None:
    """Gated, missing, slow and offline give one Error line, exit 1, no traceback, in bounded time."""
    started = time.monotonic()
    result = _run(["params", repo], hub, tmp_path, **env)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert expected in lines[0]
    assert time.monotonic() - started < 30


def test_offline_flag_forbids_the_hub(hub: str, tmp_path: Path) -> None:
    """--offline keeps llmcalc off the network even with the Hub reachable."""
    result = _run(["params", "tiny-org/tiny-llama", "--offline"], hub, tmp_path)
    assert result.returncode == 1
    assert "not in the local Hugging Face cache" in result.stderr


def test_hub_is_not_imported_by_the_library() -> None:
    """import llmcalc and a preset lookup never import huggingface_hub."""
    code = "import sys, llmcalc; llmcalc.load_model('mixtral'); print('huggingface_hub' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_without_the_hub_extra_a_known_repo_is_its_preset(tmp_path: Path) -> None:
    """Without huggingface_hub, org/name of a known model resolves to its preset (saying so); an unknown
    one says how to install the extra."""
    code = (
        "import sys\n"
        "sys.modules['huggingface_hub'] = None  # as if the hub extra were not installed\n"
        "from llmcalc.cli import main\n"
        "sys.argv = ['llmcalc', 'params', sys.argv[1], '--json']\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_HUB_CACHE"] = str(tmp_path)
    known = subprocess.run([sys.executable, "-c", code, "Qwen/Qwen3-8B"], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=60)
    assert known.returncode == 0, known.stderr
    assert json.loads(known.stdout)["total_params"] == 8_190_735_360
    assert "qwen3-8b" in known.stderr
    unknown = subprocess.run([sys.executable, "-c", code, "nobody/nothing-at-all"], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=60)
    assert unknown.returncode == 1
    assert "pip install 'llmcalc-cli[hub]'" in unknown.stderr
