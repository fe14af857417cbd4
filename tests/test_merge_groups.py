"""merge_groups with a layer key gives the same groups, in the same order, as building every layer."""

from __future__ import annotations

import pytest

from llmcalc.importers.hf.common import merge_groups
from llmcalc.spec import MLP, Attention, LayerGroup, MoE


def _layer(window: int | None, moe: MoE | None) -> LayerGroup:
    attention = Attention(num_heads=8, num_kv_heads=2, head_dim=64, v_head_dim=64, sliding_window=window)
    return LayerGroup(count=1, attention=attention, mlp=None if moe else MLP(256), moe=moe)


MOE = MoE(num_experts=8, experts_per_token=2, expert=MLP(128))
#: per layer: (sliding window, MoE or None); the last pattern has two keys for one layer (equal MoE objects)
PATTERNS = {
    "uniform": [(None, None)] * 6,
    "alternating windows": [(4096, None), (None, None)] * 5,
    "dense first": [(None, None)] * 3 + [(None, MOE)] * 9,
    "interleaved": [(512, MOE), (None, None), (512, None), (None, MOE), (512, MOE)],
    "equal keys": [(None, MOE), (None, MoE(num_experts=8, experts_per_token=2, expert=MLP(128))), (None, None)],
}


@pytest.mark.parametrize("pattern", PATTERNS.values(), ids=PATTERNS.keys())
def test_keyed_merge_equals_per_layer_merge(pattern: list[tuple[int | None, MoE | None]]) -> None:
    """Groups, counts and order are those of building and comparing every layer."""
    def make(i: int) -> LayerGroup:
        return _layer(*pattern[i])

    plain = merge_groups(len(pattern), make)
    keyed = merge_groups(len(pattern), make, key=lambda i: pattern[i])
    assert keyed == plain
    assert sum(g.count for g in keyed) == len(pattern)


def test_keyed_merge_builds_one_layer_per_key() -> None:
    """With a key, ``make`` runs once per distinct key, not once per layer."""
    pattern = PATTERNS["alternating windows"]
    calls: list[int] = []

    def make(i: int) -> LayerGroup:
        calls.append(i)
        return _layer(*pattern[i])

    groups = merge_groups(len(pattern), make, key=lambda i: pattern[i])
    assert calls == [0, 1]
    assert [g.count for g in groups] == [5, 5]
