"""llmcalc benchmarks: start-up time and sweep throughput, each as a ratio to a baseline run alongside it.

Run from the repository root with the interpreter llmcalc is installed in::

    .venv/bin/python benchmarks/bench.py            # both benchmarks
    .venv/bin/python benchmarks/bench.py --runs 30  # more start-up runs
    .venv/bin/python benchmarks/bench.py startup    # one of them

Standard library only (``time.perf_counter``, ``subprocess``, ``statistics``); nothing is asserted,
figures are printed. The targets they are compared with come from the performance issue:

- **start-up**: ``llmcalc params mixtral`` within 1.3x, and ``llmcalc params`` (every preset) within
  2x, of a bare ``python -c "import click, rich.console, rich.table, yaml"``. The three commands run
  interleaved (bare, one preset, all presets, bare, ...) so machine load hits them alike; each figure
  is the median of ``--runs`` runs after ``--warmup`` unmeasured ones. The warm-up also lets Python
  write its bytecode cache, as an installed package has; ``PYTHONDONTWRITEBYTECODE`` is removed from
  the children's environment for that reason (with it every run would recompile llmcalc's source
  while the third-party packages load precompiled bytecode).
- **solvers**: ``--max-context``, ``--max-batch``, ``--best-quant`` and the offload solver
  (``--offload``) through :func:`llmcalc.report.memory_report`, for one model (target < 50 ms) and
  every preset (target < 0.6 s), each the first call in a fresh process and shown as a ratio to the
  start-up floor (the bare import above) measured in the same run.
- **sweep**: grid points per second through :func:`llmcalc.sweep.sweep`, against a plain loop over
  the public single-point functions (``weights_for_format``, ``estimate_memory``, ``check_fit``,
  ``gpus_needed``) for the same points, on one core. The target is 200,000 points/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = [sys.executable, "-c", "import click, rich.console, rich.table, yaml"]
#: The installed console script beside this interpreter, as a user runs it; else ``python -m llmcalc``.
_SCRIPT = Path(sys.executable).with_name("llmcalc")
LLMCALC = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "llmcalc"]
COMMANDS = {
    "bare import (click, rich, yaml)": BARE,
    "llmcalc params mixtral": [*LLMCALC, "params", "mixtral"],
    "llmcalc params (all presets)": [*LLMCALC, "params"],
}
TARGETS = {"llmcalc params mixtral": 1.3, "llmcalc params (all presets)": 2.0}


def _run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def bench_startup(runs: int, warmup: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "120"
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for i in range(warmup + runs):
        for name, argv in COMMANDS.items():
            elapsed = _run_once(argv, env)
            if i >= warmup:
                times[name].append(elapsed)
    base = statistics.median(times[next(iter(COMMANDS))])
    print(f"Start-up: median of {runs} interleaved runs each; {' '.join(LLMCALC)}, Python {sys.version.split()[0]}")
    print(f"  {'command':<34} {'median':>9} {'min':>9} {'ratio':>7}  target")
    for name, samples in times.items():
        median = statistics.median(samples)
        target = TARGETS.get(name)
        verdict = "" if target is None else f"<= {target}x  {'met' if median / base <= target else 'NOT met'}"
        print(f"  {name:<34} {median * 1000:7.1f}ms {min(samples) * 1000:7.1f}ms {median / base:6.2f}x  {verdict}")


def _grid():  # type: ignore[no-untyped-def]
    """73,728 points: 8 models (dense, MoE, windows, MLA) x 6 formats x 16 contexts x 12 batches x 8 GPU sets."""
    from llmcalc.sweep import Grid

    return Grid(
        models=("llama-2-7b", "mixtral", "gemma-2-27b", "deepseek-v3", "gpt-oss-120b", "qwen2.5-72b", "qwen3-30b-a3b",
                "llama-2-70b"),
        formats=("bf16", "fp8", "nf4", "q8_0", "q4_k_m", "4.5"),
        contexts=tuple(2**k for k in range(10, 18)) + tuple(3 * 2**k for k in range(9, 17)),
        batches=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256),
        gpus=(("h100", 1), ("h100", 2), ("h100", 4), ("h100", 8), ("a100-40gb", 4), ("rtx-4090", 1), ("h200", 2),
              ("mi300x", 8)),
        engine="vllm",
        kv_dtype="fp8",
    )


def _plain_loop(grid, limit: int) -> int:  # type: ignore[no-untyped-def]
    """The same points through the public single-point functions, as a script would write it.

    Models, GPUs and weights are resolved once (a script would hoist them too); each point then calls
    ``estimate_memory``, ``check_fit`` and ``gpus_needed``.
    """
    from llmcalc.fit import check_fit, gpus_needed
    from llmcalc.gpus import get_gpu
    from llmcalc.loading import load_model
    from llmcalc.memory import engine_settings, estimate_memory
    from llmcalc.quant import get_format, weights_for_bpw, weights_for_format
    from llmcalc.sweep import is_bits_per_weight

    settings = engine_settings(grid.engine)
    gpus = [(get_gpu(name), count) for name, count in grid.gpus]
    done = 0
    for model in grid.models:
        spec = load_model(model).spec
        for fmt in grid.formats:
            if is_bits_per_weight(fmt):
                weights = weights_for_bpw(spec, fmt)
            else:
                weights = weights_for_format(spec, get_format(fmt))
            for ctx in grid.contexts:
                for batch in grid.batches:
                    est = estimate_memory(spec, weights=weights, context_tokens=ctx, batch_size=batch,
                                          kv_dtype=grid.kv_dtype, settings=settings)
                    for gpu, count in gpus:
                        check_fit(spec, est, gpu, count, settings)
                        gpus_needed(spec, est, gpu, settings)
                        done += 1
                        if done >= limit:
                            return done
    return done


def bench_sweep(repeat: int, loop_points: int) -> None:
    """Points per second of sweep() over the whole grid, set-up included, and of the plain loop."""
    from llmcalc.sweep import sweep

    grid = _grid()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        n = sum(1 for _ in sweep(grid))  # loading the models and pricing the formats included
        best = min(best, time.perf_counter() - start)
    sweep_rate = n / best
    loop_best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        m = _plain_loop(grid, loop_points or n)
        loop_best = min(loop_best, time.perf_counter() - start)
    loop_rate = m / loop_best
    scope = "the same points" if m == n else f"its first {m:,} points"
    print(f"Sweep: {n:,}-point grid, best of {repeat} runs each, one core; the plain loop on {scope}")
    print(f"  {'method':<40} {'points/s':>10} {'ratio':>7}  target")
    print(f"  {'plain loop: estimate_memory, check_fit...':<40} {loop_rate:10,.0f} {1:6.2f}x")
    verdict = "met" if sweep_rate >= 200_000 else "NOT met"
    print(f"  {'llmcalc.sweep.sweep()':<40} {sweep_rate:10,.0f} {sweep_rate / loop_rate:6.1f}x  "
          f">= 200,000 points/s  {verdict}")


#: Solver cases: (label, memory_report keyword arguments as source text). Each is timed in a fresh child
#: process, one model (llama-3.1-8b) and every preset, against the start-up floor of the same run.
SOLVER_CASES = {
    "--max-context (bf16, 1 x h100)": "dict(gpu=get_gpu('h100'), solve_context=True)",
    "--max-batch (bf16, 1 x h100)": "dict(gpu=get_gpu('h100'), solve_batch=True)",
    "--best-quant (1 x h100)": "dict(gpu=get_gpu('h100'), solve_quant=True, quality_order=QUALITY_ORDER)",
    "--offload (Q4_K_M, 1 x rtx-4090)": "dict(quant='q4_k_m', gpu=get_gpu('rtx-4090'), engine='llama.cpp', "
                                        "plan_options=PlanOptions())",
    "  same without --offload": "dict(quant='q4_k_m', gpu=get_gpu('rtx-4090'), engine='llama.cpp')",
}
_SOLVER_CHILD = """
import sys, time
from llmcalc.gpus import get_gpu
from llmcalc.importers.presets import all_preset_paths, load_preset_file
from llmcalc.loading import LoadedModel, load_model
from llmcalc.plans import PlanOptions
from llmcalc.quant import QUALITY_ORDER
from llmcalc.report import memory_report
kwargs = eval(sys.argv[2])
if sys.argv[1] == "one":
    models = [load_model("llama-3.1-8b")]
else:
    models = [LoadedModel(p.spec, str(p.path), "preset", p) for p in map(load_preset_file, all_preset_paths())]
get_gpu("h100")
start = time.perf_counter()
for m in models:
    memory_report(m, **kwargs)
print(time.perf_counter() - start)
"""


def bench_solvers(runs: int) -> None:
    """Each solver on one model and on every preset, first call in a fresh process (nothing cached)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    floor = statistics.median(_run_once(BARE, env) for _ in range(max(runs, 3)))
    print(f"Solvers: median of {runs} fresh processes each (the library call only, after imports); "
          f"start-up floor {floor * 1000:.1f}ms (bare import, same run)")
    print(f"  {'case':<36} {'one model':>10} {'ratio':>6} {'every preset':>13} {'ratio':>6}  target")
    for name, kwargs in SOLVER_CASES.items():
        figures = []
        for scope in ("one", "all"):
            samples = [float(subprocess.run([sys.executable, "-c", _SOLVER_CHILD, scope, kwargs], cwd=ROOT, env=env,
                                            capture_output=True, text=True, check=True).stdout)
                       for _ in range(runs)]
            figures.append(statistics.median(samples))
        one, every = figures
        met = "" if name.startswith(" ") else ("met" if one < 0.05 and every < 0.6 else "NOT met")
        target = "" if name.startswith(" ") else "< 50 ms, < 0.6 s  "
        print(f"  {name:<36} {one * 1000:8.1f}ms {one / floor:5.2f}x {every:11.3f}s {every / floor:5.2f}x  "
              f"{target}{met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", metavar="startup|sweep|solvers",
                        help="which benchmarks to run (default all)")
    parser.add_argument("--runs", type=int, default=15, help="measured start-up runs per command (default 15)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured start-up runs first (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="sweep repetitions, best kept (default 3)")
    parser.add_argument("--loop-points", type=int, default=0,
                        help="time the plain loop on the first N points only (default: the whole grid)")
    args = parser.parse_args()
    which = args.which or ["startup", "sweep", "solvers"]
    unknown = sorted(set(which) - {"startup", "sweep", "solvers"})
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose startup, sweep or solvers")
    if "startup" in which:
        bench_startup(args.runs, args.warmup)
    if "sweep" in which:
        bench_sweep(args.repeat, args.loop_points)
    if "solvers" in which:
        bench_solvers(max(1, min(args.runs, 5)))


if __name__ == "__main__":
    main()
