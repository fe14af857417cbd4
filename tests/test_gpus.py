"""The GPU catalogue: lookups, exact figures, user files, validation, and ``llmcalc gpus``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli
from llmcalc.errors import ConfigError, GPUError
from llmcalc.gpus import GPUS_ENV, GPUSet, get_gpu, load_catalogue, normalise, parse_gpu_set

GIB = 2**30

REQUIRED_GPUS = [
    "h100-sxm", "h100-pcie", "h200-sxm", "b200", "a100-40gb-sxm", "a100-80gb-sxm", "l40s", "l4", "a10g",
    "rtx-3090", "rtx-4090", "rtx-5090", "mi300x", "m4-max-128gb", "m3-ultra-512gb",
]

MY_CARD = """\
gpus:
  my-card:
    name: My Card 48GB
    aliases: [mycard]
    vendor: acme
    memory_gb: 48
    memory_bandwidth_gb_s: 960.5
    bf16_dense_tflops: 181.25
    source: measured on my desk
"""


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GPUS_ENV, raising=False)


def write(tmp_path: Path, text: str, name: str = "my.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("h100", "h100-sxm"),
        ("H100", "h100-sxm"),
        ("H100_SXM", "h100-sxm"),
        ("h100 sxm", "h100-sxm"),
        ("h100sxm", "h100-sxm"),
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("h200", "h200-sxm"),
        ("A100-80GB", "a100-80gb-sxm"),
        ("4090", "rtx-4090"),
        ("RTX 4090", "rtx-4090"),
        ("MI300X", "mi300x"),
        ("m4 max", "m4-max-128gb"),
        ("M3-Max-36GB", "m3-max-36gb"),
    ],
    ids=lambda v: v.replace(" ", "·"),
)
def test_lookup_ignores_case_and_separators(query: str, name: str) -> None:
    """Names and aliases match whatever their case and whether words are joined by space, '_' or '-'."""
    assert get_gpu(query).name == name


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("h10", "unknown GPU 'h10'; did you mean h100, a10, h100-nvl? (`llmcalc gpus` lists them)"),
        ("b100", "unknown GPU 'b100'; did you mean v100, h100, b200? (`llmcalc gpus` lists them)"),
        ("xyz", "unknown GPU 'xyz' (`llmcalc gpus` lists them)"),
    ],
    ids=["close", "several", "none-close"],
)
def test_unknown_gpu_suggests_close_names(query: str, message: str) -> None:
    """An unknown name is a GPUError (a LookupError) that offers at most three close names."""
    with pytest.raises(GPUError) as info:
        get_gpu(query)
    assert str(info.value) == message
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize("name", REQUIRED_GPUS)
def test_required_gpus_are_catalogued(name: str) -> None:
    """The catalogue holds the accelerators people size models for, each with a source."""
    gpu = load_catalogue()[name]
    assert gpu.source.startswith("https://")
    assert gpu.memory_bytes > 0 and gpu.memory_bandwidth_bytes_s > 0


def test_library_does_not_import_click_or_rich() -> None:
    """Loading the catalogue needs neither the CLI nor the renderer."""
    code = "import sys, llmcalc.gpus as g; g.load_catalogue(); print(sorted({'click', 'rich'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_builtin_aliases_are_unique_and_not_redundant() -> None:
    """No alias of a built-in entry repeats its name or another alias once normalised."""
    for gpu in load_catalogue().values():
        keys = [normalise(label) for label in (gpu.name, *gpu.aliases)]
        assert len(keys) == len(set(keys)), gpu.name


# ---------------------------------------------------------------------------------------------- figures


@pytest.mark.parametrize(
    ("name", "memory_bytes", "bandwidth", "bf16", "fp8", "smi_bytes"),
    [
        ("h100-sxm", 80 * GIB, 3_350 * 10**9, 989 * 10**12, 1_979 * 10**12, 81_559 * 2**20),
        ("h100-pcie", 80 * GIB, 2_000 * 10**9, 756 * 10**12, 1_513 * 10**12, 81_559 * 2**20),
        ("h200-sxm", 141 * GIB, 4_800 * 10**9, 989 * 10**12, 1_979 * 10**12, 143_771 * 2**20),
        ("a100-40gb-sxm", 40 * GIB, 1_555 * 10**9, 312 * 10**12, None, 40 * GIB),
        ("l40s", 48 * GIB, 864 * 10**9, 362_050_000_000_000, 733 * 10**12, 46_068 * 2**20),
        ("mi250x", 128 * GIB, 3_276_800_000_000, 383 * 10**12, None, None),
        ("a10g", 24 * GIB, 600 * 10**9, None, None, 23_028 * 2**20),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_figures_are_exact_integers(name: str, memory_bytes: int, bandwidth: int, bf16: int | None,
                                    fp8: int | None, smi_bytes: int | None) -> None:
    """GiB are 2^30 bytes, GB/s 10^9 B/s, TFLOPS 10^12 FLOP/s; decimals in the file convert exactly."""
    gpu = get_gpu(name)
    assert (gpu.memory_bytes, gpu.memory_bandwidth_bytes_s, gpu.bf16_dense_flops, gpu.fp8_dense_flops,
            gpu.nvidia_smi_total_bytes) == (memory_bytes, bandwidth, bf16, fp8, smi_bytes)
    assert gpu.usable_memory_bytes == gpu.memory_bytes
    assert not gpu.unified_memory


@pytest.mark.parametrize(
    ("name", "memory_gib", "fraction", "usable_bytes"),
    [
        ("m4-max-128gb", 128, "3/4", 96 * GIB),
        ("m3-max-36gb", 36, "2/3", 24 * GIB),
        ("m4-pro-24gb", 24, "2/3", 16 * GIB),
        ("m3-ultra-512gb", 512, "3/4", 384 * GIB),
    ],
    ids=lambda v: v if isinstance(v, str) and "/" not in v else None,
)
def test_apple_usable_memory_is_the_default_gpu_share(name: str, memory_gib: int, fraction: str,
                                                       usable_bytes: int) -> None:
    """On unified memory the usable part is the default GPU share of RAM, with its source recorded."""
    gpu = get_gpu(name)
    assert gpu.unified_memory
    assert (gpu.memory_bytes, gpu.usable_fraction, gpu.usable_memory_bytes) == (memory_gib * GIB, fraction,
                                                                                usable_bytes)
    assert gpu.usable_fraction_source is not None and gpu.usable_fraction_source.startswith("https://")


def test_gpu_set_multiplies_memory() -> None:
    """A GPU set's memory is the per-device memory times the count."""
    pair = GPUSet(get_gpu("h100"), 2)
    assert pair.total_memory_bytes == 160 * GIB
    assert parse_gpu_set("8 x H100").total_memory_bytes == 640 * GIB
    assert parse_gpu_set("m4-max").total_usable_memory_bytes == 96 * GIB


@pytest.mark.parametrize("count", [0, -1, True], ids=["zero", "negative", "bool"])
def test_gpu_set_refuses_a_bad_count(count: int) -> None:
    """A count must be a whole number of at least one."""
    with pytest.raises(GPUError, match="a GPU count must be a whole number of at least 1"):
        GPUSet(get_gpu("h100"), count)


# ---------------------------------------------------------------------------------------------- user files


def test_user_file_adds_a_gpu(tmp_path: Path) -> None:
    """A user file adds entries; GB are 10^9 bytes and decimals convert exactly."""
    gpu = get_gpu("MyCard", [write(tmp_path, MY_CARD)])
    assert (gpu.name, gpu.memory_bytes, gpu.memory_bandwidth_bytes_s, gpu.bf16_dense_flops, gpu.fp8_dense_flops) == (
        "my-card", 48 * 10**9, 960_500_000_000, 181_250_000_000_000, None)


def test_user_file_overrides_a_builtin_entry(tmp_path: Path) -> None:
    """An entry with a built-in name replaces it, aliases and all; the rest of the catalogue stays."""
    path = write(tmp_path, MY_CARD.replace("my-card:", "h100-sxm:").replace("[mycard]", "[h100]"))
    catalogue = load_catalogue([path])
    assert catalogue["h100-sxm"].display_name == "My Card 48GB"
    assert get_gpu("h100", [path]).memory_bytes == 48 * 10**9
    assert "h200-sxm" in catalogue


def test_env_var_adds_files_and_gpus_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LLMCALC_GPUS lists files (joined with os.pathsep); --gpus-file entries apply after them."""
    env_file = write(tmp_path, MY_CARD, "env.yaml")
    other = write(tmp_path, MY_CARD.replace("my-card:", "other-card:").replace("[mycard]", "[]"), "other.yaml")
    monkeypatch.setenv(GPUS_ENV, os.pathsep.join([str(env_file), str(other)]))
    assert get_gpu("mycard").name == "my-card"
    assert get_gpu("other card").name == "other-card"
    later = write(tmp_path, MY_CARD.replace("memory_gb: 48", "memory_gib: 96"), "later.yaml")
    assert get_gpu("mycard", [later]).memory_bytes == 96 * GIB


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(MY_CARD.replace("memory_gb: 48", "memory_gib: -4"),
                     "{path}: gpus.my-card.memory_gib must be a positive number", id="negative-memory"),
        pytest.param(MY_CARD + "    colour: green\n",
                     "{path}: gpus.my-card: unknown key 'colour'", id="unknown-key"),
        pytest.param(MY_CARD.replace("    memory_gb: 48\n", ""),
                     "{path}: gpus.my-card: give exactly one of memory_gib, memory_gb", id="no-memory"),
        pytest.param(MY_CARD + "    memory_gib: 48\n",
                     "{path}: gpus.my-card: give exactly one of memory_gib, memory_gb", id="both-memories"),
        pytest.param(MY_CARD.replace("    source: measured on my desk\n", "").replace("960.5", "fast")
                     + "    fp8_dense_tflops: .nan\n",
                     "{path}: gpus.my-card: missing key 'source'; gpus.my-card.memory_bandwidth_gb_s must be a "
                     "positive number; gpus.my-card.fp8_dense_tflops must be a positive number or null",
                     id="every-problem-at-once"),
        pytest.param(MY_CARD + "    unified_memory: true\n",
                     "{path}: gpus.my-card: unified memory needs gpu_usable_fraction, the share of RAM the GPU may "
                     "use; gpus.my-card.gpu_usable_fraction_source must say where the fraction comes from",
                     id="unified-without-fraction"),
        pytest.param(MY_CARD + "    unified_memory: true\n    gpu_usable_fraction: 3/2\n"
                     "    gpu_usable_fraction_source: guess\n",
                     "{path}: gpus.my-card.gpu_usable_fraction must be a fraction in (0, 1], like 0.75 or \"3/4\"",
                     id="fraction-above-one"),
        pytest.param(MY_CARD + "    nvidia_smi_total_mib: 99999\n",
                     "{path}: gpus.my-card.nvidia_smi_total_mib is more than the memory capacity", id="smi-too-big"),
        pytest.param(MY_CARD.replace("my-card:", "My Card:"),
                     "{path}: gpus.My Card: a GPU name must be lowercase letters, digits, '.' and '-'",
                     id="bad-name"),
        pytest.param("- just a list\n",
                     "{path}: expected a mapping with the key 'gpus', mapping each GPU name to its figures",
                     id="not-a-catalogue"),
        pytest.param(MY_CARD.replace("[mycard]", "[h100]"),
                     "{path}: gpus.my-card: alias 'h100' is already used by h100-sxm (from the built-in catalogue)",
                     id="duplicate-alias"),
        pytest.param(MY_CARD.replace("my-card:", "h100:").replace("[mycard]", "[]"),
                     "{path}: gpus.h100: name 'h100' is already used by h100-sxm (from the built-in catalogue); "
                     "to replace that entry, name yours h100-sxm", id="name-is-a-builtin-alias"),
    ],
)
def test_malformed_user_file_is_reported_with_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    """Every problem in a user file is named with the file and key path, all at once."""
    path = write(tmp_path, text)
    with pytest.raises(GPUError) as info:
        load_catalogue([path])
    assert str(info.value) == message.format(path=path)


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    """A YAML syntax error is a ConfigError naming the file, line and column (the wording after that is
    PyYAML's, and differs between its C and Python parsers)."""
    path = write(tmp_path, MY_CARD.replace("aliases: [mycard]", "aliases: [mycard"))
    with pytest.raises(ConfigError) as info:
        load_catalogue([path])
    assert str(info.value).startswith(f"{path}: invalid YAML at line 5, column ")


def test_missing_user_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file named in LLMCALC_GPUS that does not exist is reported by path."""
    monkeypatch.setenv(GPUS_ENV, str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such file$"):
        load_catalogue()


# ---------------------------------------------------------------------------------------------- CLI


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_lists_the_catalogue() -> None:
    """`llmcalc gpus` prints one row per GPU, memory in GiB by default."""
    code, out, err = run("gpus", "--width", "120")
    assert code == 0, err
    assert "Memory (GiB)" in out
    row = next(line for line in out.splitlines() if " h100-sxm " in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "h100-sxm", "80.0", "-", "3,350", "989", "1,979", "nvidia"]
    apple = next(line for line in out.splitlines() if " m4-max-128gb " in line)
    assert [cell.strip() for cell in apple.strip("│ ").split("│")][1:3] == ["128.0", "96.0"]


def test_cli_decimal_units_relabel_the_memory_column() -> None:
    """--units decimal shows memory in GB (10^9 bytes) and says so in the header."""
    code, out, _ = run("gpus", "--units", "decimal", "--width", "120")
    assert code == 0
    assert "Memory (GB)" in out and "Memory (GiB)" not in out
    row = next(line for line in out.splitlines() if " h100-sxm " in line)
    assert "85.9" in row


def test_cli_json_is_the_gpu_dataclasses(tmp_path: Path) -> None:
    """--json prints a list of GPU objects with exact integers, user entries included."""
    code, out, _ = run("gpus", "--json", "--gpus-file", str(write(tmp_path, MY_CARD)))
    assert code == 0
    data = json.loads(out)
    by_name = {d["name"]: d for d in data}
    assert by_name["h100-sxm"]["memory_bytes"] == 80 * GIB
    assert by_name["h100-sxm"]["aliases"][0] == "h100"
    assert by_name["my-card"]["memory_bytes"] == 48 * 10**9


def test_cli_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    """A malformed --gpus-file is one `Error:` line on stderr and exit status 1."""
    path = write(tmp_path, MY_CARD + "    colour: green\n")
    code, out, err = run("gpus", "--gpus-file", str(path))
    assert (code, out) == (1, "")
    assert err == f"Error: {path}: gpus.my-card: unknown key 'colour'\n"


def test_cli_missing_gpus_file_is_a_usage_error(tmp_path: Path) -> None:
    """--gpus-file naming no file is a usage error (exit 2)."""
    code, _, err = run("gpus", "--gpus-file", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "does not exist" in err
