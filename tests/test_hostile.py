"""Hostile input: every entry point ends in a documented error, in bounded time, never a traceback.

Two halves: regression cases for the classes a hostile-input run found (hostile numbers, nesting,
sizes, files), and property-based tests (hypothesis) that throw generated config mappings, JSON and
YAML documents and binary headers at the importers and assert that nothing but an
:class:`~llmcalc.LLMCalcError` escapes.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llmcalc import LLMCalcError, count_params, spec_from_hf_config
from llmcalc.errors import ConfigError, FileFormatError, SpecError
from llmcalc.importers.files import read_json, read_yaml
from llmcalc.importers.hf import SUPPORTED_MODEL_TYPES
from llmcalc.tensors import weight_tensors
from tests.helpers_files import TINY_LLAMA

hypothesis = pytest.importorskip("hypothesis", reason="the property-based tests need hypothesis (the test extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: CI runs the same examples every time (derandomize), so a run is reproducible; set
#: LLMCALC_HYPOTHESIS_RANDOM=1 to explore new ones locally. The per-example deadline is generous (the
#: machine may be busy); a hang or a 10^7-layer walk is far over it.
_RANDOM = os.environ.get("LLMCALC_HYPOTHESIS_RANDOM") == "1"
SETTINGS = settings(max_examples=300 if _RANDOM else 80, deadline=3000, derandomize=not _RANDOM, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _config(**changes: Any) -> dict[str, Any]:
    return {**TINY_LLAMA, **changes}


# --- hostile numbers and sizes in config.json ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_hidden_layers": 10**7}, "more than any model has"),
        ({"num_hidden_layers": 10**18}, "more than any model has"),
        ({"num_hidden_layers": 2**63}, "more than any model has"),
        ({"hidden_size": 10**5000}, "digits"),
        ({"vocab_size": -(10**40)}, "must be positive"),
        ({"rope_theta": float("nan")}, "finite number"),
        ({"rope_theta": float("inf")}, "finite number"),
        ({"intermediate_size": "²"}, "must be an integer"),
        ({"num_attention_heads": 1.5}, "must be an integer"),
    ],
    ids=["1e7-layers", "1e18-layers", "2^63-layers", "5000-digit", "huge-negative", "nan", "inf", "superscript",
         "float-heads"],
)
def test_hostile_numbers_in_a_config(changes: dict[str, Any], message: str) -> None:
    """Out-of-range numbers are a SpecError naming the field, raised at once."""
    started = time.monotonic()
    with pytest.raises(SpecError, match=message) as err:
        spec_from_hf_config(_config(**changes), source="cfg")
    assert time.monotonic() - started < 1
    assert len(str(err.value)) < 400


def test_partial_rotary_factor_nan_is_an_error() -> None:
    """NaN in a fraction field is refused, not carried into int() (a traceback before)."""
    cfg = {"model_type": "stablelm", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 128, "partial_rotary_factor": float("nan")}
    with pytest.raises(SpecError, match="finite number"):
        spec_from_hf_config(cfg, source="cfg")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": ' + "9" * 5000 + "}", "5,000 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=["5000-digits", "deep-nesting"],
)
def test_hostile_json_files(tmp_path: Path, text: str, message: str) -> None:
    """Hostile JSON is a ConfigError naming the file."""
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        read_json(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "9" * 5000, "digits"),
        ("a: " + "[" * 5000 + "]" * 5000, "nest"),
    ],
    ids=["5000-digits", "deep-nesting"],
)
def test_hostile_yaml_values(tmp_path: Path, text: str, message: str) -> None:
    """Hostile YAML numbers and nesting are ConfigErrors naming the file."""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_yaml(path)


def test_billion_laughs_yaml_is_refused_quickly(tmp_path: Path) -> None:
    """Aliases that would expand to 10^9 values are refused before anything walks them."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="expands to more than"):
        read_yaml(path)
    assert time.monotonic() - started < 5


# --- hostile files ---------------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_not_read_whole() -> None:
    """A device is refused without reading it (MemoryError after 2.9 GiB before)."""
    with pytest.raises(ConfigError, match="not a regular file"):
        read_json("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_does_not_block(tmp_path: Path) -> None:
    """A FIFO with no writer is refused at once instead of blocking forever."""
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ConfigError, match="not a regular file"):
        read_json(fifo)
    assert time.monotonic() - started < 2


def test_oversized_file_reads_a_bounded_prefix(tmp_path: Path) -> None:
    """A file larger than the cap is refused after reading at most the cap (sparse 2 GiB file)."""
    path = tmp_path / "config.json"
    with path.open("wb") as fh:
        fh.truncate(2 * 1024**3)
    with pytest.raises(ConfigError, match="too large"):
        read_json(path)


# --- property-based: configs, documents, binary headers --------------------------------------------

_FIELDS = sorted({*TINY_LLAMA, "num_key_value_heads", "head_dim", "rope_scaling", "layer_types", "sliding_window",
                  "num_local_experts", "num_experts_per_tok", "tie_word_embeddings", "attention_bias",
                  "partial_rotary_factor", "rope_theta", "max_position_embeddings", "n_layer", "n_embd", "n_head"})

_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=0, max_value=70).map(lambda e: 10**e),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                       max_leaves=12)


@st.composite
def configs(draw: Any) -> dict[str, Any]:
    """A real-looking config with a few fields replaced by hostile values."""
    data: dict[str, Any] = dict(TINY_LLAMA)
    data["model_type"] = draw(st.sampled_from([*SUPPORTED_MODEL_TYPES, "no-such-type", ""]))
    for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=5, unique=True)):
        data[key] = draw(_values)
    return data


@SETTINGS
@given(configs())
def test_any_config_is_a_spec_or_an_llmcalc_error(data: dict[str, Any]) -> None:
    """spec_from_hf_config either builds a spec that counts and lists its tensors, or raises LLMCalcError."""
    try:
        spec = spec_from_hf_config(data, source="generated")
    except LLMCalcError as exc:
        assert "\n" not in str(exc)
        return
    counts = count_params(spec)
    assert counts.total_params >= 0
    assert sum(t.n_elements for t in weight_tensors(spec)) == counts.language_params


def _recorded_variations() -> list[dict[str, Any]]:
    """The synthetic variations of every family (the count tables in tests/data), real-looking configs."""
    data = Path(__file__).parent / "data"
    out = [v["config"] for v in json.loads((data / "text_counts.json").read_text())["variations"]]
    out += [r["config"] for r in json.loads((data / "hybrid_counts.json").read_text())["rows"]]
    out += [c["config"] for c in json.loads((data / "multimodal_counts.json").read_text())["configs"]]
    return out


_VARIATIONS = _recorded_variations()
_plausible = st.one_of(st.sampled_from([0, 1, 2, 3, 7, 64, 255, 1000, 4096, 65536, 0.5, 7.0, -1, None, [], [[1]], {}]),
                       _values)


def _paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in data.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += _paths(value, (*prefix, key))
    return out


@st.composite
def mutated_variations(draw: Any) -> dict[str, Any]:
    """A recorded variation of some family with one field, at any depth, replaced by a hostile value."""
    import copy

    data = copy.deepcopy(draw(st.sampled_from(_VARIATIONS)))
    path = draw(st.sampled_from(_paths(data)))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = draw(_plausible)
    return data


@SETTINGS
@given(mutated_variations())
def test_any_family_config_with_a_bad_field_is_a_spec_or_an_llmcalc_error(data: dict[str, Any]) -> None:
    """Every family's builder, towers and image-token rules: a spec that counts, lists its tensors and prices an
    image and a KV cache, or an LLMCalcError (a fuzzer of these found divisions by zero in tiling rules)."""
    from llmcalc.kvcache import kv_cache
    from llmcalc.media import media_tokens

    try:
        spec = spec_from_hf_config(data, source="generated")
        counts = count_params(spec)
        assert sum(t.n_elements for t in weight_tensors(spec)) == counts.language_params
        if any(t.image_tokens is not None for t in spec.towers):
            media_tokens(spec, image_sizes=[(1024, 768), (30, 3000)])
        kv_cache(spec, context_tokens=1024, batch_size=2, engine="hf")
    except LLMCalcError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_as_json_or_yaml(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    """Random bytes read as JSON or YAML give data or a ConfigError, nothing else."""
    folder = tmp_path_factory.mktemp("docs")
    for name, reader in (("c.json", read_json), ("p.yaml", read_yaml)):
        path = folder / name
        path.write_bytes(raw)
        with contextlib.suppress(ConfigError):
            reader(path)


@SETTINGS
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=2**64 - 1))
def test_any_bytes_as_safetensors(tmp_path_factory: pytest.TempPathFactory, raw: bytes, length: int) -> None:
    """A safetensors file of random bytes (and a random header length) is a FileFormatError at worst."""
    from llmcalc.importers.safetensors import read_header

    path = tmp_path_factory.mktemp("st") / "m.safetensors"
    for data in (raw, struct.pack("<Q", length) + raw, struct.pack("<Q", len(raw)) + raw):
        path.write_bytes(data)
        with contextlib.suppress(FileFormatError):
            read_header(path)


@SETTINGS
@given(st.binary(max_size=600))
def test_any_bytes_as_gguf(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    """A GGUF file of random bytes after a valid magic and version is a FileFormatError at worst."""
    from llmcalc.loading import load_model

    path = tmp_path_factory.mktemp("gguf") / "m.gguf"
    for data in (raw, b"GGUF" + struct.pack("<I", 3) + raw):
        path.write_bytes(data)
        with contextlib.suppress(LLMCalcError):
            load_model(path)


@st.composite
def json_configs(draw: Any) -> str:
    """config.json text with hostile values placed where a parser meets them."""
    data = draw(configs())
    return json.dumps(data, allow_nan=True)


@SETTINGS
@given(json_configs())
def test_any_config_file_loads_or_fails_cleanly(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """load_model on a generated config.json gives a model or an LLMCalcError."""
    from llmcalc.loading import load_model

    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(text)
    with contextlib.suppress(LLMCalcError):
        load_model(path)


def test_recursion_limit_unchanged() -> None:
    """The suite does not lean on a raised recursion limit to pass."""
    assert sys.getrecursionlimit() <= 10_000


# --- property-based: generated command lines ---------------------------------------------------------

_TOKENS = ["mixtral", "gpt2", "llama-3.1-8b", "deepseek-v3", "nosuchmodel", "/dev/null", "~/x", ".", "",
           "--bpw", "4", "16,8,4", "4,,8", "1e400", "1e99999999", "nan", "-1", "0", "1" + "0" * 400,
           "--context", "32k", "1M", "--batch", "2", "--gpu", "h100", "2xh100", "999xh100", "rtx4090,rtx3090",
           "--gpus", "3", "--quant", "q4_k_m", "Q4_K_M,q8_0", "fp8", "--engine", "vllm", "llama.cpp", "hf",
           "--kv-dtype", "q4_0", "fp8", "--json", "--max-context", "--max-batch", "--best-quant", "--units", "GB",
           "--exact", "--sort", "total", "\x1b[31mred", "a\nError: forged", "--models", "--contexts", "4096"]


@settings(max_examples=300 if _RANDOM else 60, deadline=20000, derandomize=not _RANDOM, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["params", "presets", "memory", "quant", "gpus", "context", "sweep", "train", "speed"]),
       st.lists(st.sampled_from(_TOKENS), max_size=6))
def test_any_command_line_exits_cleanly(command: str, args: list[str]) -> None:
    """Generated command lines exit 0, 1 or 2 with no traceback, whatever the flags and values."""
    from click.testing import CliRunner

    from llmcalc.cli import COMMANDS, cli

    if command not in COMMANDS:
        return
    result = CliRunner().invoke(cli, [command, *args], env={"COLUMNS": "80", "NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"llmcalc {command} {args!r} raised {result.exception!r}") from result.exception
    assert result.exit_code in (0, 1, 2), (command, args, result.output)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) <= 1, result.output


# --- hostile output and hostile text ---------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_device_is_one_error_line() -> None:
    """Writing the table to /dev/full is one Error line and exit 1, not a traceback."""
    import subprocess

    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "llmcalc", "params", "mixtral"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: cannot write the output: No space left on device"


def test_closed_pipe_exits_quietly() -> None:
    """A reader that goes away (| head) ends llmcalc quietly with 141, no 'Exception ignored'."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "llmcalc", "quant", "mixtral", "--width", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=60)
    assert "Traceback" not in err and "Exception ignored" not in err
    assert code in (0, 141)


def test_error_line_cannot_be_forged(tmp_path: Path) -> None:
    """Newlines and terminal escapes read from a file are escaped in the one Error line; long values cut."""
    from click.testing import CliRunner

    from llmcalc.cli import cli

    path = tmp_path / "config.json"
    path.write_text(json.dumps({**TINY_LLAMA, "hidden_size": "x\nError: forged \x1b[31m" + "y" * 300_000}))
    result = CliRunner().invoke(cli, ["params", str(path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "\x1b" not in result.output
    assert len(lines[0]) < 1000


# --- hostile names, caches and preset values -----------------------------------------------------------


def test_a_megabyte_name_is_unknown_at_once() -> None:
    """A 1 MB model name is refused without a fuzzy search (15 s before)."""
    from llmcalc import PresetError, load_model

    started = time.monotonic()
    with pytest.raises(PresetError, match="unknown model") as err:
        load_model("x" * 1_000_000)
    assert time.monotonic() - started < 1
    assert len(str(err.value)) < 300


def test_over_long_repo_names_and_odd_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over-long org/name, an unexpandable ~user cache and a huge refs/main give clean errors."""
    from llmcalc import PresetError, load_model
    from llmcalc.importers.hf_cache import find_snapshot

    monkeypatch.setenv("HF_HUB_CACHE", "~nosuchuser-llmcalc/x")
    with pytest.raises(PresetError):
        load_model("org/" + "n" * 150)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--org--big-ref"
    (repo / "snapshots" / "abc").mkdir(parents=True)
    (repo / "refs").mkdir()
    with (repo / "refs" / "main").open("wb") as fh:
        fh.truncate(2 * 1024**3)
    started = time.monotonic()
    assert find_snapshot("org/big-ref", cache_dir=tmp_path) is None
    assert time.monotonic() - started < 2


def test_published_total_null_is_a_config_error(tmp_path: Path) -> None:
    """`total_params: null` in a preset is an error naming the key (an AssertionError before)."""
    from llmcalc import load_model

    path = tmp_path / "nullish.yaml"
    path.write_text(json.dumps({"name": "nullish", "family": "x", "source": "s", "config": TINY_LLAMA,
                                "published": {"total_params": None, "source": "s"}}))
    with pytest.raises(ConfigError, match="total_params"):
        load_model("nullish", presets_dirs=[tmp_path])


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_is_read_but_refused_where_used(tmp_path: Path, constant: str) -> None:
    """Real configs hold Infinity (Nemotron-H's time_step_limit), so it parses; a field llmcalc reads
    refuses it with an error naming the field."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**TINY_LLAMA, "time_step_limit": [0.0, 1.0]}).replace("1.0]", constant + "]"))
    assert read_json(path)["time_step_limit"][0] == 0.0
    from llmcalc import load_model

    assert count_params(load_model(path).spec).total_params > 0
    path.write_text(json.dumps(TINY_LLAMA).replace('"rope_theta": 10000.0', f'"rope_theta": {constant}'))
    with pytest.raises(SpecError, match="rope_theta"):
        load_model(path)


@pytest.mark.parametrize(
    "kwargs",
    [{"gpus": ["h100", "2xh100"]}, {"models": "llama3"}, {"contexts": [4096.5]}, {"batches": [True]},
     {"gpus": [("h100", 10**30)]}, {"formats": [4]}],
    ids=["gpu-strings", "bare-model-string", "float-context", "bool-batch", "huge-gpu-count", "int-format"],
)
def test_grid_checks_what_a_script_passes(kwargs: dict[str, Any]) -> None:
    """Grid(...) from a script validates its axes at the boundary (tracebacks and 'unknown model l' before)."""
    from llmcalc.errors import UsageError
    from llmcalc.sweep import Grid

    with pytest.raises(UsageError):
        Grid(models=["llama3"], **{k: v for k, v in kwargs.items()}) if "models" not in kwargs else Grid(**kwargs)


# --- sweep -o: only regular files, never half written ---------------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [("", "needs a file name"), ("{tmp}/new/", "is a folder"), ("{tmp}", "is a directory"),
     ("{tmp}/fifo", "not a regular file"), ("/dev/null", "not a regular file"), ("{tmp}/no/x.csv", "does not exist")],
    ids=["empty", "trailing-slash", "folder", "fifo", "device", "missing-folder"],
)
def test_sweep_output_writes_only_regular_files(tmp_path: Path, target: str, message: str) -> None:
    """-o refuses what is not a regular file in an existing folder (it replaced FIFOs and devices before)."""
    from click.testing import CliRunner

    from llmcalc.cli import cli

    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
    path = target.format(tmp=tmp_path)
    result = CliRunner().invoke(cli, ["sweep", "--models", "gpt2", "--contexts", "512", "-o", path])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "new").exists()
    if hasattr(os, "mkfifo"):
        assert (tmp_path / "fifo").is_fifo()


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGTERM")
def test_sigterm_mid_sweep_leaves_no_temporary_file(tmp_path: Path) -> None:
    """SIGTERM while a sweep writes -o removes the temporary file and exits 143 (a 24 MB .tmp before)."""
    import signal
    import subprocess

    out = tmp_path / "grid.csv"
    args = [sys.executable, "-m", "llmcalc", "sweep", "--models", ",".join(["gpt2", "llama-3-8b", "mixtral"] * 8),
            "--contexts", ",".join(str(512 * i) for i in range(1, 2000)), "--batches", "1,2,4,8,16,32",
            "--formats", "bf16,fp8,4,8", "--format", "csv", "-o", str(out), "--yes"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(tmp_path.glob(".grid.csv.*.tmp")) and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err
    assert proc.returncode == 143, err.decode()[-500:]
    assert not list(tmp_path.glob(".grid.csv.*.tmp"))
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [["memory", "gpt2", "--bpw", "1e99999999"], ["memory", "gpt2", "--bpw", "1e-99999999"],
     ["sweep", "--models", "gpt2", "--gpus", "9" * 5000 + "xh100"], ["memory", "gpt2", "--gpu", "²xh100"],
     ["memory", "gpt2", "--batch", "1" + "0" * 400]],
    ids=["bpw-huge-exponent", "bpw-tiny-exponent", "gpu-count-5000-digits", "superscript-count", "batch-400-zeros"],
)
def test_hostile_numbers_on_the_command_line(args: list[str]) -> None:
    """Hostile numbers in flags are one short error line within a second (a hang or traceback before)."""
    from click.testing import CliRunner

    from llmcalc.cli import cli

    started = time.monotonic()
    result = CliRunner().invoke(cli, args)
    assert time.monotonic() - started < 5
    assert result.exit_code in (1, 2) and not isinstance(result.exception, (ValueError, OverflowError))
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and len(errors[0]) <= 700


def _api_cases() -> list[Any]:
    import llmcalc
    from llmcalc.kvcache import kv_cache
    from llmcalc.memory import estimate_memory
    from llmcalc.quant import weights_for_bpw, weights_for_format

    spec = llmcalc.load_model("gpt2").spec
    return [
        pytest.param(lambda: llmcalc.count_params("gpt2"), id="count_params-str"),
        pytest.param(lambda: llmcalc.load_model(None), id="load_model-None"),
        pytest.param(lambda: kv_cache(spec, context_tokens="4096"), id="kv_cache-str-context"),
        pytest.param(lambda: kv_cache(spec, context_tokens=4096.0), id="kv_cache-float-context"),
        pytest.param(lambda: kv_cache(spec, context_tokens=10, batch_size=10**30), id="kv_cache-huge-batch"),
        pytest.param(lambda: weights_for_format(spec, 5), id="weights_for_format-int"),
        pytest.param(lambda: weights_for_bpw("gpt2", 4), id="weights_for_bpw-str-spec"),
        pytest.param(lambda: estimate_memory(spec, weights=4, context_tokens=8), id="estimate_memory-int-weights"),
        pytest.param(lambda: estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens="8"),
                     id="estimate_memory-str-context"),
    ]


@pytest.mark.parametrize("call", _api_cases())
def test_library_entry_points_check_their_arguments(call: Any) -> None:
    """Wrong Python types handed to the API are an LLMCalcError naming the argument, not a TypeError."""
    with pytest.raises(LLMCalcError):
        call()


def test_a_spec_built_by_hand_with_a_5000_digit_size_is_a_spec_error() -> None:
    """The spec's own checks describe an integer too long to print (a ValueError from repr before)."""
    from llmcalc.spec import MLP

    with pytest.raises(SpecError, match="an integer of about 5000 digits"):
        MLP(intermediate_size=10**5000)
