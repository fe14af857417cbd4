"""How many layers of each kind a model has: its layer pattern, counted.

Keys follow ``shared/reference/configs-2-params.json``'s ``layer_pattern_counts``: a layer counts
under its token mixer (``attention``, ``mamba``, ``linear_attention``, ``recurrent``, ``conv``), and
a layer with no token mixer (Nemotron-H's MLP and MoE blocks) under its feed-forward kind
(``mlp``, ``moe``); Llama 3.2 Vision's cross-attention-only layers are ``cross_attention``. A
parallel hybrid layer (Falcon-H1) counts under both of its mixers.
"""

from __future__ import annotations

from llmcalc.spec import ModelSpec

#: Pattern key of each mixer component.
MIXER_KEYS = {"state_space": "mamba", "linear_attention": "linear_attention", "recurrent": "recurrent",
              "short_conv": "conv"}


def layer_pattern_counts(spec: ModelSpec) -> dict[str, int]:
    """Layers of the main stack by kind, e.g. ``{"attention": 4, "mamba": 28}`` for Jamba 1.5 Mini."""
    counts: dict[str, int] = {}
    for g in spec.main_stack.groups:
        keys = []
        if g.attention is not None:
            keys.append("attention")
        elif g.cross_attention is not None:  # Llama 3.2 Vision's cross-attention-only layers
            keys.append("cross_attention")
        if g.mixer is not None:
            keys.append(MIXER_KEYS.get(g.mixer.component, g.mixer.component))
        if not keys:
            keys.append("moe" if g.moe is not None else "mlp")
        for key in keys:
            counts[key] = counts.get(key, 0) + g.count
    return counts
