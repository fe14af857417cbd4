"""Weight tensors: GGUF names, ne[0]-first shapes, layer indices, and counts that match params.py."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import llmcalc
from llmcalc.params import TOWER_COMPONENTS, count_params
from llmcalc.spec import MLP, Attention, LayerGroup, ModelSpec, MoE, Norm, Positional, Stack
from llmcalc.tensors import Tensor, weight_tensors

REFERENCE_CONFIGS = Path("/work/shared/reference/configs")


def _reference_specs() -> list[tuple[str, ModelSpec]]:
    specs = [(f"preset:{p.name}", p.spec) for p in llmcalc.load_all_presets()]
    if REFERENCE_CONFIGS.is_dir():
        for path in sorted(REFERENCE_CONFIGS.glob("*.json")):
            data = json.loads(path.read_text())
            specs.append((path.stem, llmcalc.spec_from_hf_config(data, source=str(path), name=path.stem)))
    return specs


SPECS = _reference_specs()


def tiny(**changes: object) -> ModelSpec:
    """Two Llama-style layers: hidden 8, 2 query heads and 1 KV head of 4, gated MLP of 16, vocab 10."""
    attn = Attention(num_heads=2, num_kv_heads=1, head_dim=4, v_head_dim=4)
    fields: dict[str, object] = {
        "name": "tiny",
        "model_type": "llama",
        "vocab_size": 10,
        "hidden_size": 8,
        "stacks": (Stack("decoder", (LayerGroup(2, attn, mlp=MLP(16)),)),),
        "positional": Positional("rotary"),
    }
    fields.update(changes)
    return ModelSpec(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("label", "spec"), SPECS, ids=[label for label, _ in SPECS])
def test_tensors_add_up_to_the_parameter_count(label: str, spec: ModelSpec) -> None:
    """Every preset and reference config: tensor elements sum to count_params, role by role."""
    tensors = weight_tensors(spec)
    counts = count_params(spec)
    by_role: Counter[str] = Counter()
    for t in tensors:
        by_role[t.role] += t.n_elements
    # The language model's tensors: a multimodal checkpoint's towers live in llama.cpp's mmproj file.
    assert sum(by_role.values()) == counts.language_params
    towers = set(TOWER_COMPONENTS.values())
    assert dict(by_role) == {c.name: c.params for c in counts.components if c.name not in towers}
    assert len({t.name for t in tensors}) == len(tensors), "tensor names are unique"


def test_tiny_model_tensor_list() -> None:
    """A hand-written two-layer model gives exactly these names and ne[0]-first shapes."""
    expected = [
        ("token_embd.weight", None, (8, 10)),
        *[
            (f"blk.{i}.{name}", i, shape)
            for i in range(2)
            for name, shape in (
                ("attn_norm.weight", (8,)),
                ("attn_q.weight", (8, 8)),
                ("attn_k.weight", (8, 4)),
                ("attn_v.weight", (8, 4)),
                ("attn_output.weight", (8, 8)),
                ("ffn_norm.weight", (8,)),
                ("ffn_gate.weight", (8, 16)),
                ("ffn_up.weight", (8, 16)),
                ("ffn_down.weight", (16, 8)),
            )
        ],
        ("output_norm.weight", None, (8,)),
        ("output.weight", None, (8, 10)),
    ]
    assert [(t.name, t.layer, t.shape) for t in weight_tensors(tiny())] == expected


def test_tied_head_is_not_listed() -> None:
    """A tied output head shares token_embd and adds no tensor."""
    names = [t.name for t in weight_tensors(tiny(lm_head="tied"))]
    assert "output.weight" not in names
    assert names[0] == "token_embd.weight"


def test_biases_and_norm_biases() -> None:
    """Biases are 1-D ``.bias`` tensors; a LayerNorm with bias has weight and bias."""
    attn = Attention(num_heads=2, num_kv_heads=2, head_dim=4, v_head_dim=4, qkv_bias=True, o_bias=True)
    spec = tiny(
        stacks=(Stack("decoder", (LayerGroup(1, attn, mlp=MLP(16, gated=False, bias=True)),)),),
        norm=Norm("layernorm", bias=True),
    )
    shapes = {t.name: t.shape for t in weight_tensors(spec)}
    assert shapes["blk.0.attn_q.bias"] == (8,)
    assert shapes["blk.0.attn_output.bias"] == (8,)
    assert shapes["blk.0.ffn_up.bias"] == (16,)
    assert shapes["blk.0.ffn_down.bias"] == (8,)
    assert shapes["blk.0.attn_norm.bias"] == (8,)
    assert "blk.0.ffn_gate.weight" not in shapes
    assert sum(t.n_elements for t in weight_tensors(spec)) == count_params(spec).total_params


def test_moe_experts_are_3d_and_layers_are_numbered_group_by_group() -> None:
    """Routed experts are (ne0, ne1, experts); a dense group then an MoE group gives layers 0, 1, 2."""
    attn = Attention(num_heads=2, num_kv_heads=1, head_dim=4, v_head_dim=4)
    moe = MoE(num_experts=4, experts_per_token=2, expert=MLP(6), shared_expert=MLP(12), shared_expert_gate=True)
    spec = tiny(stacks=(Stack("decoder", (LayerGroup(1, attn, mlp=MLP(16)), LayerGroup(2, attn, moe=moe))),))
    tensors = {t.name: t for t in weight_tensors(spec)}
    assert tensors["blk.1.ffn_gate_exps.weight"].shape == (8, 6, 4)
    assert tensors["blk.1.ffn_up_exps.weight"].shape == (8, 6, 4)
    assert tensors["blk.2.ffn_down_exps.weight"].shape == (6, 8, 4)
    assert tensors["blk.2.ffn_gate_inp.weight"] == Tensor("blk.2.ffn_gate_inp.weight", 2, (8, 4), "router")
    assert tensors["blk.1.ffn_down_shexp.weight"].shape == (12, 8)
    assert tensors["blk.1.ffn_gate_inp_shexp.weight"].shape == (8,)
    assert "blk.0.ffn_down.weight" in tensors and "blk.0.ffn_gate_exps.weight" not in tensors
    assert sorted({t.layer for t in tensors.values() if t.layer is not None}) == [0, 1, 2]
    assert sum(t.n_elements for t in tensors.values()) == count_params(spec).total_params


def test_encoder_decoder_stacks_are_prefixed() -> None:
    """A T5-style model: enc./dec. prefixes, cross-attention, relative bias in layer 0, both final norms."""
    attn = Attention(num_heads=2, num_kv_heads=2, head_dim=4, v_head_dim=4)
    enc = Stack("encoder", (LayerGroup(2, attn, mlp=MLP(16)),), relative_attention_buckets=32)
    dec = Stack("decoder", (LayerGroup(2, attn, mlp=MLP(16), cross_attention=attn),), relative_attention_buckets=32)
    spec = tiny(stacks=(enc, dec), positional=Positional("relative"))
    names = {t.name: t for t in weight_tensors(spec)}
    assert names["enc.blk.0.attn_rel_b.weight"].shape == (2, 32)
    assert "dec.blk.1.cross_attn_v.weight" in names
    assert "dec.blk.1.cross_attn_norm.weight" in names
    assert "enc.output_norm.weight" in names and "dec.output_norm.weight" in names
    assert not any(n.startswith("blk.") for n in names)
    assert sum(t.n_elements for t in names.values()) == count_params(spec).total_params


def test_bert_style_tables() -> None:
    """Learned positions, token types, embedding norm and pooler are listed and counted."""
    attn = Attention(num_heads=2, num_kv_heads=2, head_dim=4, v_head_dim=4, qkv_bias=True, o_bias=True)
    spec = tiny(
        stacks=(
            Stack(
                "encoder",
                (LayerGroup(1, attn, mlp=MLP(16, gated=False, bias=True), norm_placement="post"),),
                final_norm=False,
            ),
        ),
        positional=Positional("learned", max_position_embeddings=12),
        norm=Norm("layernorm", bias=True),
        lm_head="none",
        token_type_vocab_size=2,
        embedding_norm=True,
        pooler=True,
    )
    shapes = {t.name: t.shape for t in weight_tensors(spec)}
    assert shapes["position_embd.weight"] == (8, 12)
    assert shapes["token_types.weight"] == (8, 2)
    assert shapes["token_embd_norm.bias"] == (8,)
    assert shapes["pooler.weight"] == (8, 8)
    assert "blk.0.post_ffw_norm.weight" in shapes
    assert sum(t.n_elements for t in weight_tensors(spec)) == count_params(spec).total_params
