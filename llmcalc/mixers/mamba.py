"""Mamba-1 and Mamba-2 selective state-space mixers (the ``state_space`` component).

Mamba-1: Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
arXiv 2312.00752, section 3 and Algorithm 2; transformers ``models/mamba/modeling_mamba.py``
(``MambaMixer``), also used by Jamba (``modeling_jamba.py``, ``JambaMambaMixer``) and Falcon-Mamba
(``modeling_falcon_mamba.py``). Mamba-2: Dao & Gu 2024, "Transformers are SSMs", arXiv 2405.21060,
sections 7-8 (the SSD layer with heads, groups and a gated RMSNorm); transformers
``models/mamba2/modeling_mamba2.py`` (``Mamba2Mixer``), the same block in Bamba, Granite 4.0-H,
Nemotron-H, Falcon-H1 and Zamba2.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.mixers.base import StateTensor, Weight


def _linear(name: str, module: str, n_in: int, n_out: int, *, bias: bool) -> tuple[Weight, ...]:
    """``name.weight`` ``(in, out)`` and an optional ``name.bias``, as ``torch.nn.Linear`` stores them."""
    weight = Weight(f"{name}.weight", (n_in, n_out), "linear", module)
    return (weight, Weight(f"{name}.bias", (n_out,), "vector", module)) if bias else (weight,)


def _conv(name: str, module: str, channels: int, width: int, *, bias: bool) -> tuple[Weight, ...]:
    """A depthwise causal ``Conv1d``: ``channels x 1 x width`` (+ ``channels`` bias)."""
    weight = Weight(f"{name}.weight", (width, 1, channels), "conv", module)
    return (weight, Weight(f"{name}.bias", (channels,), "vector", module)) if bias else (weight,)


@dataclass(frozen=True, slots=True)
class Mamba1:
    """One Mamba-1 mixer (S6), with ``d_inner = expand x H``, ``N = d_state``, ``k = d_conv``, ``R = dt_rank``::

        in_proj  H x 2 d_inner (+2 d_inner)     conv1d  d_inner x k (+d_inner)
        x_proj   d_inner x (R + 2N)             dt_proj R x d_inner + d_inner
        A_log    d_inner x N                    D       d_inner
        out_proj d_inner x H (+H)

    ``proj_bias`` is ``use_bias`` / ``mamba_proj_bias`` (in and out projections), ``conv_bias`` is
    ``use_conv_bias`` / ``mamba_conv_bias``. ``bc_norms`` adds Jamba's three RMSNorm weights over
    ``dt`` (R), ``B`` and ``C`` (N each; ``JambaMambaMixer``); Falcon-Mamba's equivalent norms
    have no weights and add nothing. State per sequence (transformers ``DynamicCache`` after a
    prefill, measured): the conv window ``d_inner x k`` in the model dtype and the SSM state
    ``d_inner x N`` in float32.
    """

    d_inner: int
    d_state: int
    d_conv: int
    dt_rank: int
    conv_bias: bool = True
    proj_bias: bool = False
    bc_norms: bool = False

    @property
    def component(self) -> str:
        return "state_space"

    @property
    def conv_channels(self) -> int:
        return self.d_inner

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        d, n, r = self.d_inner, self.d_state, self.dt_rank
        out = [
            *_linear("ssm_in", "in_proj", hidden, 2 * d, bias=self.proj_bias),
            *_conv("ssm_conv1d", "conv1d", d, self.d_conv, bias=self.conv_bias),
            *_linear("ssm_x", "x_proj", d, r + 2 * n, bias=False),
            *_linear("ssm_dt", "dt_proj", r, d, bias=True),
            Weight("ssm_a", (n, d), "matrix"),
            Weight("ssm_d", (d,), "vector"),
        ]
        if self.bc_norms:
            out += [
                Weight("ssm_dt_norm.weight", (r,), "vector", "dt_layernorm"),
                Weight("ssm_b_norm.weight", (n,), "vector", "b_layernorm"),
                Weight("ssm_c_norm.weight", (n,), "vector", "c_layernorm"),
            ]
        out += _linear("ssm_out", "out_proj", d, hidden, bias=self.proj_bias)
        return tuple(out)

    def state(self) -> tuple[StateTensor, ...]:
        return (
            StateTensor("conv", self.d_inner * self.d_conv, "model", conv_width=self.d_conv),
            StateTensor("ssm", self.d_inner * self.d_state, "fp32"),
        )


@dataclass(frozen=True, slots=True)
class Mamba2:
    """One Mamba-2 (SSD) mixer with ``h = n_heads`` heads of ``p = head_dim``, ``G = n_groups``, ``N = d_state``.

    With ``d_inner = h p`` and ``conv_dim = d_inner + 2 G N``::

        in_proj  H x (d_inner + conv_dim + h) (+ bias)     conv1d  conv_dim x k (+ conv_dim)
        dt_bias  h     A_log  h     D  h                     norm    d_inner (gated RMSNorm)
        out_proj d_inner x H (+ H)

    ``in_bias`` / ``out_bias`` are ``use_bias`` / ``mamba_proj_bias`` (Falcon-H1 gives out_proj
    ``projectors_bias`` instead); ``gated_norm`` is False for Falcon-H1 with ``mamba_rms_norm:
    false``. State per sequence (transformers, measured): conv ``conv_dim x k`` in the model dtype,
    SSM ``h x p x N`` in float32.
    """

    n_heads: int
    head_dim: int
    d_state: int
    n_groups: int
    d_conv: int
    conv_bias: bool = True
    in_bias: bool = False
    out_bias: bool = False
    gated_norm: bool = True

    @property
    def component(self) -> str:
        return "state_space"

    @property
    def d_inner(self) -> int:
        return self.n_heads * self.head_dim

    @property
    def conv_channels(self) -> int:
        return self.d_inner + 2 * self.n_groups * self.d_state

    def weights(self, hidden: int) -> tuple[Weight, ...]:
        d, h, conv = self.d_inner, self.n_heads, self.conv_channels
        out = [
            *_linear("ssm_in", "in_proj", hidden, d + conv + h, bias=self.in_bias),
            *_conv("ssm_conv1d", "conv1d", conv, self.d_conv, bias=self.conv_bias),
            Weight("ssm_dt.bias", (h,), "vector"),
            Weight("ssm_a", (h,), "vector"),
            Weight("ssm_d", (h,), "vector"),
        ]
        if self.gated_norm:
            out.append(Weight("ssm_norm.weight", (d,), "vector", "norm"))
        out += _linear("ssm_out", "out_proj", d, hidden, bias=self.out_bias)
        return tuple(out)

    def state(self) -> tuple[StateTensor, ...]:
        return (
            StateTensor("conv", self.conv_channels * self.d_conv, "model", conv_width=self.d_conv),
            StateTensor("ssm", self.n_heads * self.head_dim * self.d_state, "fp32"),
        )
