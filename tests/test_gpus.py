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
from llmcalc.units import format_bytes

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
        ("h10", "unknown GPU 'h10'; did you mean h100, h20, a10? (`llmcalc gpus` lists them)"),
        ("b100", "unknown GPU 'b100'; did you mean v100, h100, gb10? (`llmcalc gpus` lists them)"),
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
    assert gpu.usable_memory_bytes == (gpu.cuda_total_bytes or gpu.nvidia_smi_total_bytes or gpu.memory_bytes)
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


@pytest.mark.parametrize(
    ("name", "basis", "usable_bytes"),
    [
        ("h100-sxm", "cuda_total", int(79.11 * GIB)),
        ("a100-80gb-sxm", "cuda_total", int(79.25 * GIB)),
        ("h100-pcie", "nvidia_smi_total", 81_559 * 2**20),
        ("a40", "capacity", 48 * GIB),
        ("m1-max-32c", "wired_limit", 48 * GIB),
    ],
    ids=lambda v: v if isinstance(v, str) and "_" not in v else None,
)
def test_usable_memory_has_one_definition(name: str, basis: str, usable_bytes: int) -> None:
    """Usable memory is CUDA's reported total, else nvidia-smi's, else the capacity; the wired limit on Apple."""
    gpu = get_gpu(name)
    assert (gpu.usable_memory_basis, gpu.usable_memory_bytes) == (basis, usable_bytes)


@pytest.mark.parametrize(("memory_gib", "usable_gib"), [(16, 16 * 2 // 3), (36, 24), (48, 36), (192, 144)])
def test_default_wired_limit_rule(tmp_path: Path, memory_gib: int, usable_gib: int) -> None:
    """A unified-memory entry without a fraction gets macOS's default: 2/3 up to 36 GiB, 3/4 above."""
    text = f"gpus:\n  mac:\n    name: Mac\n    memory_gib: {memory_gib}\n    unified_memory: true\n"
    gpu = get_gpu("mac", [write(tmp_path, text)])
    assert gpu.usable_memory_bytes == (memory_gib * GIB * 2 // 3 if memory_gib <= 36 else memory_gib * GIB * 3 // 4)
    assert gpu.usable_memory_bytes // GIB == usable_gib


def test_wired_limit_mb_overrides_the_default(tmp_path: Path) -> None:
    """wired_limit_mb (sysctl iogpu.wired_limit_mb, MiB) replaces the default GPU share."""
    text = "gpus:\n  mac:\n    name: Mac\n    memory_gib: 128\n    unified_memory: true\n    wired_limit_mb: 120000\n"
    gpu = get_gpu("mac", [write(tmp_path, text)])
    assert (gpu.usable_memory_bytes, gpu.usable_memory_basis) == (120_000 * 2**20, "wired_limit_mb")


def test_minimal_user_entry_needs_name_and_memory(tmp_path: Path) -> None:
    """Name and memory suffice; bandwidth and throughput are None, vendor 'unknown', source the file."""
    path = write(tmp_path, "gpus:\n  tiny:\n    name: Tiny\n    memory_gb: 8\n")
    gpu = get_gpu("tiny", [path])
    assert (gpu.memory_bytes, gpu.memory_bandwidth_bytes_s, gpu.bf16_dense_flops, gpu.vendor, gpu.source) == (
        8 * 10**9, None, None, "unknown", str(path))


CORE_BINS = ["m1-7c", "m1-8c", "m1-pro-14c", "m1-pro-16c", "m1-max-24c", "m1-max-32c", "m1-ultra-48c", "m1-ultra-64c",
             "m2-8c", "m2-10c", "m2-pro-16c", "m2-pro-19c", "m2-max-30c", "m2-max-38c", "m2-ultra-60c", "m2-ultra-76c",
             "m3-8c", "m3-10c", "m3-pro-14c", "m3-pro-18c", "m3-max-30c", "m3-max-40c", "m3-ultra-60c", "m3-ultra-80c",
             "m4-8c", "m4-10c", "m4-pro-16c", "m4-pro-20c", "m4-max-32c", "m4-max-40c"]
ADDED = ["rtx-3060", "rtx-3070", "rtx-3080", "rtx-4060-ti-16gb", "rtx-4070", "rtx-4080", "rtx-5080", "a40", "l40",
         "rtx-a6000", "rtx-6000-ada", "h20", "gh200", "mi210", "mi250x", "mi355x", "rx-7900-xtx", "rx-9070-xt",
         "ryzen-ai-max-395", "dgx-spark", "arc-a770", "arc-b580"]


@pytest.mark.parametrize("name", CORE_BINS + ADDED)
def test_catalogue_has_speed_figures(name: str) -> None:
    """Every added part has bandwidth and a dense 16-bit rate; Apple bins record their GPU core count."""
    gpu = load_catalogue()[name]
    assert gpu.memory_bandwidth_bytes_s and gpu.dense_16bit_flops and gpu.source.startswith("https://")
    if gpu.vendor == "apple":
        assert gpu.gpu_cores == int(name.rsplit("-", 1)[1][:-1])


def test_every_entry_but_a10g_has_bandwidth_and_16bit_rate() -> None:
    """The whole built-in catalogue carries bandwidth and dense FP16/BF16 (AWS publishes none for A10G)."""
    missing = [n for n, g in load_catalogue().items() if not (g.memory_bandwidth_bytes_s and g.dense_16bit_flops)]
    assert missing == ["a10g"]


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
        pytest.param(MY_CARD.replace("    name: My Card 48GB\n", "").replace("960.5", "fast")
                     + "    fp8_dense_tflops: .nan\n",
                     "{path}: gpus.my-card: missing key 'name'; gpus.my-card.memory_bandwidth_gb_s must be a "
                     "positive number or null; gpus.my-card.fp8_dense_tflops must be a positive number or null",
                     id="every-problem-at-once"),
        pytest.param(MY_CARD + "    wired_limit_mb: 1000\n",
                     "{path}: gpus.my-card.wired_limit_mb applies only with unified_memory: true",
                     id="wired-limit-without-unified"),
        pytest.param(MY_CARD + "    cuda_total_gib: 40\n",
                     "{path}: gpus.my-card.cuda_total_source must say where the CUDA total comes from",
                     id="cuda-total-without-source"),
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
    usable = format_bytes(get_gpu("h100-sxm").usable_memory_bytes, label=False)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "h100-sxm", "80.0", usable, "3,350", "989", "1,979", "nvidia"]
    apple = next(line for line in out.splitlines() if " m4-max-128gb " in line)
    assert [cell.strip() for cell in apple.strip("│ ").split("│")][1:3] == ["128.0", "96.00"]


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
    data = json.loads(out)["gpus"]
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


@pytest.mark.parametrize("name", ["h100-sxm", "rtx-4090", "m4-max-128gb", "a40"])
def test_gpus_json_and_memory_fit_agree_on_usable_memory(name: str) -> None:
    """`gpus --json` usable_memory_bytes is the figure `memory --gpu` judges fits against (engine hf, share 1)."""
    code, out, _ = run("gpus", "--json")
    assert code == 0
    usable = {d["name"]: d["usable_memory_bytes"] for d in json.loads(out)["gpus"]}[name]
    code, out, _ = run("memory", "llama-3.2-1b", "--gpu", name, "--engine", "hf", "--json")
    assert code == 0
    assert json.loads(out)["formats"][0]["fit"]["usable_bytes_per_gpu"] == usable
