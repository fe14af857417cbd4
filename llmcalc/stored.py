"""What real model files hold, and the cross-check of their tensor count against the architecture.

Kept apart from :mod:`llmcalc.loading` so that a preset lookup never defines these classes
(start-up time, ``benchmarks/bench.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcalc.loading import LoadedModel


@dataclass(frozen=True, slots=True)
class StoredWeights:
    """What real model files hold: exact bytes on disk per storage dtype and the parameters they represent.

    ``memory`` uses ``total_bytes`` as the weights' footprint unless the user asks for another format.
    """

    total_bytes: int
    params: int
    bytes_by_dtype: tuple[tuple[str, int], ...]
    notes: tuple[str, ...] = ()

    @property
    def bits_per_weight(self) -> float:
        """The files' effective bits per weight: 8 x bytes / parameters."""
        return 8 * self.total_bytes / self.params if self.params else 0.0


@dataclass(frozen=True, slots=True)
class CountCheck:
    """Parameters counted from real files beside the analytical count from the architecture.

    A difference means the config and the weights disagree (a wrong config, a vision tower the
    text config does not describe, untied copies of tied weights) and is worth a look.
    """

    counted_params: int
    analytical_params: int
    difference_params: int

    @property
    def matches(self) -> bool:
        return self.difference_params == 0


def check_counts(loaded: LoadedModel, analytical_params: int) -> CountCheck | None:
    """Compare ``loaded.counted_params`` with ``analytical_params``; ``None`` when no files were counted."""
    if loaded.counted_params is None:
        return None
    return CountCheck(
        counted_params=loaded.counted_params,
        analytical_params=analytical_params,
        difference_params=loaded.counted_params - analytical_params,
    )
