"""What a weight format costs in quality: published KL divergence and perplexity change vs 16-bit.

The figures are read from ``llmcalc/data/quality.yaml``, each with the model, dataset and table it
comes from (llama.cpp's ``tools/perplexity/README.md`` Llama-3-8B scoreboard for the GGUF types; the
AWQ paper and an AutoGPTQ table for AWQ/GPTQ on Llama-2-7B). They are measurements of one model on
one dataset, not a property of the format: a larger model usually loses less.

Ranking (:func:`quality_order`, what ``memory --best-quant`` searches in): by the published
perplexity increase ``ppl / base_ppl - 1``; 16-bit formats are the reference (0). A format with no
measurement is placed by its bits per weight on the Pareto frontier of the measured GGUF types
(linear interpolation of perplexity increase against the files' effective bits per weight, keeping
only types that beat every smaller one), and is labelled "no measurement".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from llmcalc.importers.files import read_yaml

QUALITY_FILE = Path(__file__).parent / "data" / "quality.yaml"

#: Parameters of Meta-Llama-3-8B (the scoreboard's model), to turn its file sizes into bits per weight.
LLAMA3_8B_PARAMS = 8_030_261_248


@dataclass(frozen=True, slots=True)
class QualityCost:
    """The published quality cost of one format (``measured`` False: none recorded; see ``note``)."""

    format: str
    measured: bool
    reference: bool
    kld: float | None = None
    ppl: float | None = None
    base_ppl: float | None = None
    ppl_increase: float | None = None
    model: str | None = None
    dataset: str | None = None
    source: str | None = None
    imatrix: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        """A short cell: ``KLD 0.0313, PPL +2.79% (Meta-Llama-3-8B)``, ``reference`` or ``no measurement``."""
        if self.reference:
            return "reference (16-bit)"
        if not self.measured or self.ppl_increase is None:
            return "no measurement"
        kld = f"KLD {self.kld:.4f}, " if self.kld is not None else ""
        model = (self.model or "").split(" ")[0]
        return f"{kld}PPL {self.ppl_increase:+.2%} ({model})"


@dataclass(frozen=True, slots=True)
class _Table:
    costs: dict[str, QualityCost]
    curve: tuple[tuple[float, float], ...]  # frontier (effective bits per weight, ppl increase), ascending bits


@lru_cache(maxsize=1)
def _table() -> _Table:
    data: Any = read_yaml(QUALITY_FILE)
    measurements = data["measurements"]
    costs: dict[str, QualityCost] = {}
    curve: list[tuple[float, float]] = []
    for name in data.get("reference_formats", []):
        costs[name] = QualityCost(name, measured=True, reference=True, ppl_increase=0.0, kld=0.0)
    for name, row in data["formats"].items():
        m = measurements[row["measurement"]]
        base = float(m["base_ppl"])
        ppl = float(row["ppl"])
        inc = ppl / base - 1
        reference = name in costs
        costs[name] = QualityCost(
            format=name, measured=True, reference=reference, kld=row.get("kld"), ppl=ppl, base_ppl=base,
            ppl_increase=0.0 if reference else inc, model=m["model"], dataset=m["dataset"], source=m["source"],
            imatrix=row.get("imatrix"), note=row.get("note"),
        )
        if "size_gib" in row and row["measurement"] == "llama3-8b-wt2":
            curve.append((float(row["size_gib"]) * 2**30 * 8 / LLAMA3_8B_PARAMS, 0.0 if reference else inc))
    frontier: list[tuple[float, float]] = []  # the Pareto frontier: each point beats every one with fewer bits
    for bits, inc in sorted(curve):
        if not frontier or inc < frontier[-1][1]:
            frontier.append((bits, inc))
    return _Table(costs, tuple(frontier))


def quality_cost(name: str) -> QualityCost:
    """The published cost of format ``name`` (its catalogue name), or one saying there is none."""
    found = _table().costs.get(name.strip().lower())
    if found is not None:
        return found
    return QualityCost(name, measured=False, reference=False,
                       note="no published measurement recorded in llmcalc/data/quality.yaml")


def interpolated_increase(bits_per_weight: float) -> float:
    """Perplexity increase read off the measured GGUF curve at ``bits_per_weight`` (clamped at its ends)."""
    curve = _table().curve
    if bits_per_weight <= curve[0][0]:
        return curve[0][1]
    for (b0, v0), (b1, v1) in zip(curve, curve[1:], strict=False):
        if b0 <= bits_per_weight <= b1:
            return v0 + (v1 - v0) * (bits_per_weight - b0) / (b1 - b0) if b1 > b0 else min(v0, v1)
    return curve[-1][1]


def rank_key(name: str) -> tuple[float, int]:
    """Sort key, best first: the published perplexity increase, else one interpolated from its bits."""
    cost = quality_cost(name)
    if cost.measured and cost.ppl_increase is not None:
        return (cost.ppl_increase, 0)
    from llmcalc.quant import get_format

    return (interpolated_increase(float(get_format(name).bits_per_weight)), 1)


def quality_order(formats: Iterable[str]) -> list[str]:
    """``formats`` from the smallest published quality cost to the largest (stable for ties)."""
    return sorted(formats, key=rank_key)
