"""Predicted vs measured speed on the public calibration rows, and the fit of the speed constants.

    python benchmarks/speed_calibration.py            # every row, predicted vs measured, error summary
    python benchmarks/speed_calibration.py --fit      # fit the constants on the train split, print them

Rows: ``llmcalc/data/speed_measurements.json`` (each with its source and table row). The split is by
device: the rows of a third of the GPUs (by a CRC-32 of the name) are held out, so a held-out figure is always for
hardware the fit never saw. Rows marked ``superseded`` (an old build's duplicates) are reported
on their own line and not fitted. Errors are ``predicted / measured - 1``. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import zlib
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmcalc.gpus import get_gpu  # noqa: E402
from llmcalc.loading import load_model  # noqa: E402
from llmcalc.quant import weights_for_format  # noqa: E402
from llmcalc.speed import Constants, estimate_speed, hardware, load_constants, model_work  # noqa: E402

DATA = ROOT / "llmcalc" / "data" / "speed_measurements.json"


def load_rows() -> list[dict]:
    return json.loads(DATA.read_text())["rows"]


def held_out(rows: list[dict]) -> set[str]:
    """The held-out GPUs: a third of them, chosen by a hash of the name (stable when rows are added)."""
    return {r["gpu"] for r in rows if zlib.crc32(r["gpu"].encode()) % 3 == 0}


class Cache:
    def __init__(self) -> None:
        self.work: dict = {}
        self.weights: dict = {}

    def get(self, model: str, fmt: str):
        if model not in self.work:
            self.work[model] = load_model(model).spec
        spec = self.work[model]
        key = (model, fmt)
        if key not in self.weights:
            w = weights_for_format(spec, fmt)
            self.weights[key] = (model_work(spec), w.total_bytes, w.params)
        return self.weights[key]


def predict(row: dict, c: Constants, cache: Cache) -> float | None:
    work, wbytes, wparams = cache.get(row["model"], row["format"])
    hw = hardware(get_gpu(row["gpu"]), row["gpu_count"], c)
    est = estimate_speed(work, weights_bytes=wbytes, weights_params=wparams, fmt=row["format"], hw=hw,
                         engine=row["engine"], backend=row["backend"], context_tokens=0,
                         prompt_tokens=row["prompt_tokens"] if row["metric"] == "prefill" else 0,
                         gen_tokens=row["gen_tokens"], constants=c)
    return est.decode_tokens_per_s if row["metric"] == "decode" else est.prefill_tokens_per_s


def errors(rows: list[dict], c: Constants, cache: Cache) -> list[float]:
    out = []
    for r in rows:
        p = predict(r, c, cache)
        if p is not None:
            out.append(p / r["tokens_per_s"] - 1)
    return out


def summary(errs: list[float], band: float) -> str:
    if not errs:
        return "no rows"
    med = statistics.median(abs(e) for e in errs)
    within = sum(abs(e) <= band for e in errs) / len(errs)
    bias = statistics.median(errs)
    return f"n={len(errs):3d}  median |error| {med:5.1%}  within {band:.0%}: {within:5.1%}  median error {bias:+.1%}"


# --- fitting -----------------------------------------------------------------------------------------

DECODE_PARAMS = [("profiles", "llama.cpp/cuda", "bw_efficiency"), ("profiles", "llama.cpp/cuda", "layer_overhead_s"),
                 ("profiles", "llama.cpp/metal", "bw_efficiency"), ("profiles", "llama.cpp/metal", "layer_overhead_s"),
                 ("format_bw_factor", "kquant", None), ("format_bw_factor", "legacy", None),
                 ("profiles", "llama.cpp/cuda", "gpu_hop_s"), ("profiles", "llama.cpp/cuda", "bw_exponent"),
                 ("profiles", "llama.cpp/metal", "bw_exponent")]
PREFILL_PARAMS = [("profiles", "llama.cpp/cuda", "prefill_efficiency"),
                  ("profiles", "llama.cpp/cuda", "prefill_token_layer_hidden_s"),
                  ("profiles", "llama.cpp/metal", "prefill_efficiency"),
                  ("profiles", "llama.cpp/metal", "prefill_token_layer_hidden_s"),
                  ("format_prefill_factor", "kquant", None), ("format_prefill_factor", "legacy", None),
                  ("profiles", "llama.cpp/cuda", "prefill_exponent"),
                  ("profiles", "llama.cpp/metal", "prefill_exponent")]


def get(c: Constants, p: tuple) -> float:
    table, key, attr = p
    obj = getattr(c, table)[key]
    return float(getattr(obj, attr) if attr else obj)


def put(c: Constants, p: tuple, value: float) -> Constants:
    table, key, attr = p
    d = dict(getattr(c, table))
    d[key] = replace(d[key], **{attr: value}) if attr else value
    return replace(c, **{table: d})


#: Scale of the robust (Cauchy) loss on log error: rows off by much more than ~30% count less, so that
#: one bad published row (the A100 SXM F16 pp512 of 603.76 t/s, a tenth of the PCIe card's) cannot steer a fit.
LOSS_SCALE = 0.3


def loss(c: Constants, rows: list[dict], cache: Cache) -> float:
    return sum(math.log1p((math.log1p(e) / LOSS_SCALE) ** 2) for e in errors(rows, c, cache))


def nelder_mead(f, x0: list[float], iters: int = 400) -> list[float]:
    n = len(x0)
    pts = [list(x0)] + [[x + (0.3 if i == j else 0) for j, x in enumerate(x0)] for i in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = sorted(range(n + 1), key=lambda i: vals[i])
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        centroid = [sum(p[j] for p in pts[:-1]) / n for j in range(n)]
        worst = pts[-1]
        refl = [c + (c - w) for c, w in zip(centroid, worst, strict=True)]
        fr = f(refl)
        if fr < vals[0]:
            exp = [c + 2 * (c - w) for c, w in zip(centroid, worst, strict=True)]
            fe = f(exp)
            pts[-1], vals[-1] = (exp, fe) if fe < fr else (refl, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = refl, fr
        else:
            con = [c + 0.5 * (w - c) for c, w in zip(centroid, worst, strict=True)]
            fc = f(con)
            if fc < vals[-1]:
                pts[-1], vals[-1] = con, fc
            else:
                best = pts[0]
                pts = [best] + [[b + 0.5 * (x - b) for b, x in zip(best, p, strict=True)] for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    return pts[min(range(n + 1), key=lambda i: vals[i])]


def fit(c: Constants, rows: list[dict], params: list[tuple], cache: Cache) -> Constants:
    def build(x: list[float]) -> Constants:
        out = c
        for p, v in zip(params, x, strict=True):
            out = put(out, p, math.exp(v))
        return out

    x0 = [math.log(max(get(c, p), 1e-9)) for p in params]
    best = nelder_mead(lambda x: loss(build(x), rows, cache), x0)
    return build(best)


YAML_KEYS = {"layer_overhead_s": ("layer_overhead_us", 1e6), "gpu_hop_s": ("gpu_hop_us", 1e6),
             "prefill_token_layer_hidden_s": ("prefill_token_layer_hidden_ps", 1e12)}
COPIES = {"llama.cpp/cuda": ("llama.cpp/rocm", "llama.cpp/vulkan"), "llama.cpp/metal": ("mlx/metal",)}


def write_constants(c: Constants, path: Path) -> None:
    """Put the fitted values into the constants file in place (comments kept); copies follow their source."""
    import re

    lines = path.read_text().split("\n")
    values: dict[tuple[str, str], float] = {}
    for p in DECODE_PARAMS + PREFILL_PARAMS:
        table, key, attr = p
        if table == "profiles":
            name, scale = YAML_KEYS.get(attr, (attr, 1.0))
            for profile in (key, *COPIES.get(key, ())):
                values[(profile, name)] = get(c, p) * scale
        else:
            values[(table, key)] = get(c, p)
    section = profile = None
    for i, line in enumerate(lines):
        if m := re.match(r"^([a-z_]+):", line):
            section, profile = m.group(1), None
        elif m := re.match(r"^  ([a-z.]+/[a-z]+):\s*$", line):
            profile = m.group(1)
        elif m := re.match(r"^(\s+)([a-z_0-9]+): ([0-9.e+-]+)(.*)$", line):
            key = (profile, m.group(2)) if profile else (section, m.group(2))
            if key in values:
                lines[i] = f"{m.group(1)}{m.group(2)}: {values[key]:.4g}{m.group(4)}"
    path.write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true", help="fit the constants on the train split and print them")
    ap.add_argument("--rows", action="store_true", help="print every row")
    ap.add_argument("--write", action="store_true", help="with --fit: write the fitted values into the constants file")
    args = ap.parse_args()
    rows = load_rows()
    cache = Cache()
    c = load_constants()
    test_gpus = held_out(rows)
    old = [r for r in rows if r.get("superseded")]
    rows = [r for r in rows if not r.get("superseded")]
    train = [r for r in rows if r["gpu"] not in test_gpus]
    test = [r for r in rows if r["gpu"] in test_gpus]
    if args.fit:
        c = fit(c, [r for r in train if r["metric"] == "decode"], DECODE_PARAMS, cache)
        c = fit(c, [r for r in train if r["metric"] == "prefill"], PREFILL_PARAMS, cache)
        for p in DECODE_PARAMS + PREFILL_PARAMS:
            v = get(c, p)
            unit = " (us)" if p[2] in ("layer_overhead_s", "gpu_hop_s") else (
                " (ps)" if p[2] == "prefill_token_layer_hidden_s" else "")
            scale = 1e6 if unit == " (us)" else (1e12 if unit == " (ps)" else 1)
            print(f"{p[0]}.{p[1]}{'.' + p[2] if p[2] else ''}{unit}: {v * scale:.4g}")
        if args.write:
            from llmcalc.speed import CONSTANTS_FILE

            write_constants(c, CONSTANTS_FILE)
    if args.rows:
        rows_shown = rows + old
        print(f"{'id':7} {'gpu':16} {'n':>2} {'model':14} {'format':8} {'metric':7} {'measured':>9} "
              f"{'predicted':>9} error")
        for r in rows_shown:
            p = predict(r, c, cache)
            split = "old" if r.get("superseded") else "test" if r["gpu"] in test_gpus else "train"
            err = f"{p / r['tokens_per_s'] - 1:+.1%}" if p else "-"
            print(f"{r['id']:7} {r['gpu']:16} {r['gpu_count']:>2} {r['model']:14} {r['format']:8} {r['metric']:7} "
                  f"{r['tokens_per_s']:9.1f} {p or 0:9.1f} {err:>7} {split}")
    print(f"Held-out GPUs: {', '.join(sorted(test_gpus))}")
    for metric, band in (("decode", 0.25), ("prefill", 0.35)):
        for name, part in (("train", train), ("held-out", test), ("all", rows), ("old build", old)):
            sel = [r for r in part if r["metric"] == metric]
            print(f"{metric:7} {name:8} {summary(errors(sel, c, cache), band)}")


if __name__ == "__main__":
    main()
