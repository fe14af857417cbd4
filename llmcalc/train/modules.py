"""A spec's PyTorch modules as PEFT sees them: names, kinds and shapes, layer by layer.

:func:`module_inventory` expands a :class:`~llmcalc.spec.ModelSpec` into one :class:`Module` per
weight-bearing leaf that LoRA could wrap (``nn.Linear``, GPT-2 ``Conv1D``, ``nn.Embedding``) and
one per targetable ``nn.Parameter`` (fused MoE experts, for PEFT's ``target_parameters``), named as
Hugging Face transformers names them (tables in :mod:`llmcalc.train.names`). Shapes come from the
spec, the same formulas as :mod:`llmcalc.params`, so the inventory cannot disagree with the count.

Each entry stands for ``count`` consecutive layers (``first_layer`` up to ``first_layer + count -
1``), indexed group by group as :mod:`llmcalc.tensors` does. A non-attention mixer contributes its
``linear`` weights (:class:`llmcalc.mixers.base.Weight` with a ``module`` name) at
``{layers}.{i}.{mixer}.{module}``; a layer's or the model's extra weights
(:class:`llmcalc.spec.ExtraWeight`) that name their ``module`` contribute it inside the layer or
beside the layer list (Gemma 3n's AltUp, Laurel and per-layer-input projections). A family whose
checkpoint layer holds several spec layers (:attr:`llmcalc.train.names.ModuleNames.sublayers`,
LongCat-Flash) names each spec layer's attention and MLP inside its checkpoint layer. A
multimodal model's language model sits at ``model.language_model`` (transformers 5's
``*ForConditionalGeneration``), and its towers add their own leaf modules
(:attr:`llmcalc.spec.Tower.modules`, role ``tower``) at the tower's root; a tower whose root is not
known is left out (its weights count as frozen, and :func:`towers_without_modules` names it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from llmcalc.spec import MLP, Attention, ExtraWeight, LayerGroup, ModelSpec, MoE
from llmcalc.train.names import ModuleNames, family_of

ModuleKind = Literal["linear", "conv1d", "conv", "embedding", "param"]
ModuleRole = Literal["attention", "mixer", "mlp", "shared_experts", "experts", "router", "embedding", "lm_head",
                     "tower", "other"]


@dataclass(frozen=True, slots=True)
class Module:
    """One leaf module (or targetable parameter) in ``count`` layers.

    ``path`` is the full module name with ``{i}`` for the layer index (no ``{i}`` outside the
    layers). ``in_features``/``out_features`` are the Linear's (for an Embedding: rows and width;
    for a parameter: its two non-expert dimensions). ``experts`` is the leading expert dimension of
    a 3-D parameter (1 otherwise). ``bias`` says whether the module has a ``.bias``.
    ``weights_of`` is the concrete name of the module whose parameters this one uses when several
    module paths share them (Zamba2's tied shared blocks): PEFT wraps each path with its own adapter,
    but a shared bias is one parameter and trains once. ``""``: the module has its own.
    """

    path: str
    kind: ModuleKind
    role: ModuleRole
    in_features: int
    out_features: int
    bias: bool = False
    count: int = 1
    first_layer: int = 0
    experts: int = 1
    weights_of: str = ""

    @property
    def leaf(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def weight_params(self) -> int:
        """Parameters of one instance's weight (without bias)."""
        return self.experts * self.in_features * self.out_features

    def names(self) -> list[str]:
        """The concrete module names of every instance."""
        if "{i}" not in self.path:
            return [self.path]
        return [self.path.replace("{i}", str(self.first_layer + j)) for j in range(self.count)]


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


class _Builder:
    def __init__(self, names: ModuleNames, hidden: int) -> None:
        self.n = names
        self.h = hidden
        self.out: list[Module] = []

    def add(self, path: str, kind: ModuleKind, role: ModuleRole, n_in: int, n_out: int, *, bias: bool = False,
            count: int = 1, first: int = 0, experts: int = 1, weights_of: str = "") -> None:
        self.out.append(Module(path, kind, role, n_in, n_out, bias, count, first, experts, weights_of))

    def linear(self, path: str, role: ModuleRole, n_in: int, n_out: int, *, bias: bool, count: int, first: int) -> None:
        kind: ModuleKind = "conv1d" if self.n.conv1d else "linear"
        self.add(path, kind, role, n_in, n_out, bias=bias, count=count, first=first)

    def attention(self, base: str, attn: Attention, prefix: str, count: int, first: int) -> None:
        h, p, n = self.h, _join(base, prefix), self.n
        q_dim, o_in = attn.num_heads * attn.head_dim, attn.num_heads * attn.v_head_dim
        mla = attn.mla
        if mla is not None:
            if mla.q_lora_rank is None:
                self.linear(_join(p, n.q), "attention", h, q_dim, bias=False, count=count, first=first)
            else:
                self.linear(_join(p, n.q_a), "attention", h, mla.q_lora_rank, bias=attn.qkv_bias, count=count,
                            first=first)
                self.linear(_join(p, n.q_b), "attention", mla.q_lora_rank, q_dim, bias=False, count=count, first=first)
            self.linear(_join(p, n.kv_a), "attention", h, mla.kv_lora_rank + mla.qk_rope_head_dim,
                        bias=attn.qkv_bias, count=count, first=first)
            self.linear(_join(p, n.kv_b), "attention", mla.kv_lora_rank,
                        attn.num_heads * (mla.qk_nope_head_dim + mla.v_head_dim), bias=False, count=count, first=first)
        else:
            k_dim = attn.num_kv_heads * attn.head_dim
            v_dim = attn.num_kv_heads * attn.v_head_dim
            q_out = q_dim * (2 if attn.output_gate else 1)  # Qwen3-Next: q also yields the output gate
            k_bias = attn.qkv_bias if attn.k_bias is None else attn.k_bias
            if n.qkv:
                self.linear(_join(p, n.qkv), "attention", h, q_out + k_dim + v_dim, bias=attn.qkv_bias, count=count,
                            first=first)
            else:
                self.linear(_join(p, n.q), "attention", h, q_out, bias=attn.qkv_bias, count=count, first=first)
                if not attn.kv_shared:
                    self.linear(_join(p, n.k), "attention", h, k_dim, bias=k_bias, count=count, first=first)
                    self.linear(_join(p, n.v), "attention", h, v_dim, bias=attn.qkv_bias, count=count, first=first)
        if attn.indexer is not None:  # DeepSeek-V3.2's indexer (DeepseekV32Indexer): wq_b, wk, weights_proj
            ix = attn.indexer
            self.linear(_join(p, "indexer.wq_b"), "attention", ix.q_input_dim, ix.num_heads * ix.head_dim, bias=False,
                        count=count, first=first)
            self.linear(_join(p, "indexer.wk"), "attention", h, ix.head_dim, bias=False, count=count, first=first)
            self.linear(_join(p, "indexer.weights_proj"), "attention", h, ix.num_heads, bias=False, count=count,
                        first=first)
        self.linear(_join(p, n.o), "attention", attn.o_input_dim or o_in, h, bias=attn.o_bias, count=count,
                    first=first)

    def mlp(self, prefix: str, mlp: MLP, role: ModuleRole, count: int, first: int) -> None:
        h, i, n = self.h, mlp.intermediate_size, self.n
        if mlp.gated and n.gate_up:
            self.linear(_join(prefix, n.gate_up), role, h, 2 * i, bias=mlp.bias, count=count, first=first)
        elif mlp.gated:
            self.linear(_join(prefix, n.gate), role, h, i, bias=mlp.bias, count=count, first=first)
            self.linear(_join(prefix, n.up), role, h, i, bias=mlp.bias, count=count, first=first)
        else:
            self.linear(_join(prefix, n.plain_up or n.up), role, h, i, bias=mlp.bias, count=count, first=first)
        self.linear(_join(prefix, n.down), role, i, h, bias=mlp.bias, count=count, first=first)

    def moe(self, base: str, moe: MoE, count: int, first: int, *, latent_bias: bool = False) -> None:
        h, n, e = self.h, self.n, moe.num_experts
        p = _join(base, n.moe)
        router = _join(p, n.router)
        # zero-computation experts (LongCat-Flash) are routed to, and transformers sizes the fused
        # gate_up_proj (or up_proj) for them too (params.zero_expert_params); down_proj the real ones only
        routed = e + moe.zero_experts
        if n.router_kind == "linear":
            self.add(router, "linear", "router", h, routed, bias=moe.router_bias, count=count, first=first)
        else:  # a bare weight Parameter (and bias): not a module PEFT can wrap
            self.add(router + ".weight", "param", "router", h, routed, bias=moe.router_bias, count=count,
                     first=first)
        inter = moe.expert.intermediate_size
        up = (2 if moe.expert.gated else 1) * inter
        if moe.latent_size:  # Nemotron-H's latent experts: fc1/fc2_latent_proj around them (modeling_nemotron_h.py)
            for leaf, n_in, n_out in (("fc1", h, moe.latent_size), ("fc2", moe.latent_size, h)):
                self.linear(_join(p, f"{leaf}_latent_proj"), "other", n_in, n_out, bias=latent_bias, count=count,
                            first=first)
        eh = moe.latent_size or h  # the experts' width
        if n.expert_layout == "dbrx2d":  # w1, v1, w2 each (E*I, H) as 2-D Parameters
            for leaf in ("w1", "v1", "w2"):
                self.add(_join(p, n.experts, leaf), "param", "experts", e * inter, eh, count=count, first=first)
        else:
            self.add(_join(p, n.experts, "gate_up_proj" if moe.expert.gated else "up_proj"), "param", "experts",
                     eh, up, count=count, first=first, experts=routed)
            self.add(_join(p, n.experts, "down_proj"), "param", "experts", inter, eh, count=count, first=first,
                     experts=e)
        if moe.shared_expert is not None:
            # the shared expert sits in the MoE block, or beside it in the layer (Granite's shared_mlp)
            shared_at = base if n.shared_in_layer else p
            self.mlp(_join(shared_at, n.shared), moe.shared_expert, "shared_experts", count, first)
            if moe.shared_expert_gate:
                self.linear(_join(p, n.shared_gate), "shared_experts", h, 1, bias=False, count=count, first=first)

    def shared_blocks(self, layers: str, extras: tuple[ExtraWeight, ...], hybrid: list[int]) -> None:
        """Zamba2's shared transformer block in each of the ``hybrid`` layers (``modeling_zamba2.py``).

        A ``Zamba2HybridLayer`` holds ``linear`` (H x H), ``mamba_decoder`` and ``shared_transformer``
        (``self_attn`` q/k/v/o over width ``2H``, ``feed_forward`` gate_up/down, and per-block adapter
        lists: ``gate_up_proj_adapter_list.{k}`` and, with ``use_shared_attention_adapter``,
        ``linear_{q,k,v}_adapter_list.{k}``, each an ``nn.Sequential`` of two Linears at the hybrid
        indices ``k`` of the block, ``nn.Identity`` elsewhere). The spec stores each block once, as
        the extras ``shared.{j}.*`` (:func:`llmcalc.importers.hf.hybrid.zamba2`); hybrid layer ``h``
        runs block ``h % blocks``. Every layer has its own module objects, so PEFT wraps each path;
        a tied copy's parameters are the first user's (``weights_of``).
        """
        blocks: dict[int, dict[str, tuple[int, ...]]] = {}
        for x in extras:
            tag, _, rest = x.name.partition(".")
            j, _, key = rest.partition(".")
            if tag == "shared" and j.isdigit():
                blocks.setdefault(int(j), {})[key] = x.shape
        n = self.n
        for h, layer in enumerate(hybrid):
            self.add(_join(f"{layers}.{{i}}", n.hybrid_linear), "linear", "other", self.h, self.h, first=layer)
            block, src = blocks[h % len(blocks)], hybrid[h % len(blocks)]
            parts: list[tuple[str, ModuleRole, tuple[int, ...], bool]] = [
                (_join(n.attn, leaf), "attention", block[f"attn_{key}.weight"], False)
                for key, leaf in (("q", n.q), ("k", n.k), ("v", n.v), ("output", n.o))]
            parts += [(_join(n.mlp, leaf), "mlp", block[f"ffn_{key}.weight"], f"ffn_{key}.bias" in block)
                      for key, leaf in (("gate_up", n.gate_up), ("down", n.down))]
            for key, shape in block.items():  # adapter.{k}.ffn_gate_up_a.weight, adapter.{k}.attn_q_b.weight, ...
                if not key.startswith("adapter."):
                    continue
                _, k, name, _ = key.split(".")
                target, ab = name.rsplit("_", 1)
                path = (f"{n.mlp}.gate_up_proj_adapter_list" if target == "ffn_gate_up"
                        else f"{n.attn}.linear_{target.removeprefix('attn_')}_adapter_list")
                parts.append((f"{path}.{k}.{'01'[ab == 'b']}", "other", shape, False))
            for path, role, shape, bias in parts:
                self.add(_join(f"{layers}.{{i}}", n.shared_block, path), "linear", role, shape[0], shape[1],
                         bias=bias, first=layer, weights_of=_join(layers, str(src), n.shared_block, path))

    def layer(self, layers: str, group: LayerGroup, first: int) -> None:
        base, n, c = f"{layers}.{{i}}", self.n, group.count
        if group.attention is not None and not group.shared_attention:  # shared: see shared_blocks
            self.attention(base, group.attention, n.attn, c, first)
        if group.cross_attention is not None:
            self.attention(base, group.cross_attention, n.cross_attn or "cross_attn", c, first)
        if group.mixer is not None:
            mixer = n.hybrid_mixer if group.shared_attention and n.hybrid_mixer else n.mixer
            for w in group.mixer.weights(self.h):
                if w.kind == "linear" and w.module and len(w.shape) == 2:
                    has_bias = any(b.module == w.module and b.kind == "vector" and b.name.endswith(".bias")
                                   for b in group.mixer.weights(self.h))
                    self.add(_join(base, mixer, w.module), "linear", "mixer", w.shape[0], w.shape[1],
                             bias=has_bias, count=c, first=first)
        mlp_prefix = n.mlp
        if n.sublayer_mlp:
            mlp_prefix = _join(f"layer.{1 + (group.cross_attention is not None)}", n.mlp)
        if group.mlp is not None:
            self.mlp(_join(base, mlp_prefix), group.mlp, "mlp", c, first)
        if group.moe is not None:
            latent_bias = any(x.name == "ffn_latent_in.bias" for x in group.extras)
            self.moe(base, group.moe, c, first, latent_bias=latent_bias)
        self.extras(base, group.extras, c, first)

    def extras(self, base: str, extras: tuple[ExtraWeight, ...], count: int, first: int) -> None:
        """The extra weights' modules (those naming one) at ``base.{module}``."""
        for x in extras:
            if not x.module:
                continue
            if x.module_kind == "embedding":  # shape (width, rows)
                self.add(_join(base, x.module), "embedding", "embedding", x.shape[1], x.shape[0], count=count,
                         first=first)
            else:
                self.linear(_join(base, x.module), _EXTRA_ROLES.get(x.component, "other"), x.shape[0], x.shape[1],
                            bias=False, count=count, first=first)


#: an extra Linear's role from its params component (AltUp, Laurel, per-layer inputs: ``other``)
_EXTRA_ROLES: dict[str, ModuleRole] = {"attention": "attention", "dense_mlp": "mlp"}


def module_inventory(spec: ModelSpec) -> tuple[Module, ...]:
    """Every LoRA-wrappable module and targetable expert parameter of ``spec``'s language model.

    Pure: a spec in, a tuple out. Names follow :data:`llmcalc.train.names.FAMILIES` for the spec's
    ``model_type`` (Llama's names when the type is not listed; :func:`known_names` says which).
    """
    names, _ = family_of(spec.model_type)
    if spec.towers and names.text_root:  # the language model inside the multimodal class
        names = replace(names, embed=_text_root(names.embed, names.text_root),
                        layers=_text_root(names.layers, names.text_root), lm_head=names.text_lm_head or names.lm_head)
    h = spec.hidden_size
    d_embed = spec.embedding_dim or h
    b = _Builder(names, h)
    b.add(names.embed, "embedding", "embedding", spec.vocab_size + spec.embedding_extra_rows, d_embed)
    if names.pos_embed and spec.positional.table_rows:
        b.add(names.pos_embed, "embedding", "embedding", spec.positional.table_rows, h)
    if names.type_embed and spec.token_type_vocab_size:
        b.add(names.type_embed, "embedding", "embedding", spec.token_type_vocab_size, h)
    if d_embed != h:
        b.add(names.project_in or "project_in", "linear", "other", d_embed, h)
        b.add(names.project_out or "project_out", "linear", "other", h, d_embed)
    for stack in spec.stacks:
        layers = names.encoder_layers if stack.role == "encoder" and names.encoder_layers else names.layers
        first = 0
        hybrid: list[int] = []  # the layers that run a shared block (Zamba2)
        for group in stack.groups:
            if group.shared_attention:
                hybrid += range(first, first + group.count)
            if names.sublayers:
                _sublayers(b, names, layers, group, first, stack.num_layers // len(names.sublayers))
            else:
                b.layer(layers, group, first)
            first += group.count
        if hybrid and names.shared_block:
            b.shared_blocks(layers, spec.extras, hybrid)
        first_attn = stack.first_attention
        if stack.relative_attention_buckets and first_attn is not None:
            b.add(_join(layers, "0", names.attn, "relative_attention_bias"), "embedding", "embedding",
                  stack.relative_attention_buckets, first_attn.num_heads)
    b.extras(names.layers.rpartition(".")[0], spec.extras, 1, 0)  # beside the layer list
    if spec.pooler:
        b.add(names.pooler, "linear", "other", h, h, bias=True)
    if spec.lm_head != "none" and names.lm_head:
        b.add(names.lm_head, "linear", "lm_head", d_embed, spec.vocab_size, bias=spec.lm_head_bias)
    for tower in spec.towers:
        if not tower.root:
            continue
        for m in tower.modules:
            b.add(_join(tower.root, m.path), m.kind, "tower", m.in_features, m.out_features, bias=m.bias,
                  count=m.count)
    return tuple(b.out)


def _sublayers(b: _Builder, names: ModuleNames, layers: str, group: LayerGroup, first: int, per_run: int) -> None:
    """``group`` (spec layers ``first ...``) where the stack is ``len(names.sublayers)`` runs of
    ``per_run`` layers, run ``s`` being sublayer ``s`` of checkpoint layers ``0 ... per_run - 1``."""
    k, left = first, group.count
    while left:
        run, layer = divmod(k, per_run)
        take = min(left, per_run - layer)
        attn, mlp = names.sublayers[run]
        b.n = replace(names, attn=attn, mlp=mlp)
        b.layer(layers, replace(group, count=take), layer)
        k, left = k + take, left - take
    b.n = names


def _text_root(path: str, root: str) -> str:
    """``model.layers`` -> ``model.language_model.layers`` (``root`` in place of ``model``)."""
    return _join(root, path.removeprefix("model."))


def towers_without_modules(spec: ModelSpec) -> tuple[str, ...]:
    """Kinds of the spec's towers whose modules llmcalc does not know (not in :func:`module_inventory`).

    A tower with a root is known, even with no modules (Gemma 3's projector is a bare Parameter).
    """
    return tuple(t.kind for t in spec.towers if not t.root)


def known_names(spec: ModelSpec) -> bool:
    """Whether the spec's ``model_type`` has its own module-name table (else Llama's is assumed)."""
    return family_of(spec.model_type)[1]


__all__ = ["Module", "known_names", "module_inventory", "towers_without_modules"]
