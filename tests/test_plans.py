"""Offload plans on hand-computed tiny models: llama.cpp layers and experts, mixed GPUs, vLLM CPU offload."""

from __future__ import annotations

from dataclasses import replace

import pytest

import llmcalc
from llmcalc.errors import UsageError
from llmcalc.gpus import GPU, get_gpu
from llmcalc.memory import engine_settings
from llmcalc.plans import PlanOptions, llama_cpp_plan, lora_slot_bytes, plan_for, solve_llama_cpp, vllm_plan
from llmcalc.quant import weights_for_bpw
from llmcalc.spec import MLP, Attention, LayerGroup, ModelSpec, MoE, Positional, Stack
from llmcalc.units import GIB

#: the tiny models' parts at 16 bits (2 bytes a parameter):
#: token_embd 100 x 8 = 800 params -> 1,600 B; output 800 + output_norm 8 -> 1,616 B;
#: per layer attention q 64 + k 32 + v 32 + o 64 = 192, two norms 16; MoE router 8 x 4 = 32;
#: experts (gate, up, down) 3 x 8 x 16 x 4 = 1,536 params -> 3,072 B; dense MLP 3 x 8 x 16 = 384.
#: KV per layer at 256 tokens, f16: 1 head x (4 + 4) x 256 x 2 = 4,096 B.
EMBED, OUTPUT, EXPERTS, KV_LAYER = 1600, 1616, 3072, 4096
MOE_DENSE = (192 + 16 + 32) * 2  # 480 B per MoE layer outside the experts
DENSE_LAYER = (192 + 16 + 384) * 2  # 1,184 B per dense layer


def _tiny(layers: int, *, moe: bool) -> ModelSpec:
    attn = Attention(num_heads=2, num_kv_heads=1, head_dim=4, v_head_dim=4)
    if moe:
        group = LayerGroup(layers, attn, moe=MoE(num_experts=4, experts_per_token=2, expert=MLP(16)))
    else:
        group = LayerGroup(layers, attn, mlp=MLP(16))
    return ModelSpec(name="tiny", model_type="llama", vocab_size=100, hidden_size=8,
                     stacks=(Stack("decoder", (group,)),), positional=Positional("rotary", 4096))


def _gpu(name: str, usable: int) -> GPU:
    return replace(get_gpu("rtx-4090"), name=name, usable_memory_bytes=usable)


#: no CUDA context, so the hand sums are the model's own bytes plus the compute buffer
SETTINGS = engine_settings("llama.cpp", cuda_context_bytes=0)
BIG = _gpu("big", 64 * GIB)


def test_two_layer_moe_with_first_layer_experts_in_ram() -> None:
    """--n-cpu-moe 1: layer 0's experts and the token embedding in RAM, the rest and all KV on the GPU."""
    spec = _tiny(2, moe=True)
    plan = llama_cpp_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[BIG], context_tokens=256, n_cpu_moe=1,
                          settings=SETTINGS)
    gpu, ram = plan.devices[0], plan.ram
    assert gpu.weights_bytes == 2 * MOE_DENSE + EXPERTS + OUTPUT == 5648
    assert gpu.kv_cache_bytes == 2 * KV_LAYER
    assert ram.weights_bytes == EMBED + EXPERTS == 4672
    assert ram.kv_cache_bytes == 0
    assert plan.setting("n_gpu_layers") == 3 and plan.setting("n_cpu_moe") == 1


def test_cpu_moe_and_no_kv_offload() -> None:
    """--cpu-moe --no-kv-offload: every expert and every layer's KV in RAM."""
    spec = _tiny(2, moe=True)
    plan = llama_cpp_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[BIG], context_tokens=256, n_cpu_moe=2,
                          kv_offload=False, settings=SETTINGS)
    assert plan.devices[0].weights_bytes == 2 * MOE_DENSE + OUTPUT
    assert plan.devices[0].kv_cache_bytes == 0
    assert plan.ram.weights_bytes == EMBED + 2 * EXPERTS
    assert plan.ram.kv_cache_bytes == 2 * KV_LAYER
    assert plan.setting("cpu_moe") is True


def test_gpu_layers_one_is_the_output_only() -> None:
    """-ngl 1 offloads only the output layer (i_gpu_start = n_layer + 1 - 1, src/llama-model.cpp)."""
    spec = _tiny(2, moe=True)
    plan = llama_cpp_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[BIG], context_tokens=256, n_gpu_layers=1,
                          settings=SETTINGS)
    assert plan.devices[0].weights_bytes == OUTPUT and plan.devices[0].layers == 0
    assert plan.ram.weights_bytes == EMBED + 2 * (MOE_DENSE + EXPERTS)
    assert plan.ram.kv_cache_bytes == 2 * KV_LAYER


@pytest.mark.parametrize(
    ("shares", "expected_layers"),
    [((1.0, 1.0), (3, 1)), ((3.0, 1.0), (4, 0))],
    ids=["equal", "three-to-one"],
)
def test_mixed_pair_splits_by_layer(shares: tuple[float, float], expected_layers: tuple[int, int]) -> None:
    """4 layers + output over two GPUs: device by upper_bound(cumulative shares, i / 5)."""
    spec = _tiny(4, moe=False)
    a, b = _gpu("card-a", 8 * GIB), _gpu("card-b", 8 * GIB)
    plan = llama_cpp_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[a, b], context_tokens=256,
                          tensor_split=shares, settings=SETTINGS)
    assert tuple(d.layers for d in plan.devices) == expected_layers
    first, second = plan.devices
    if expected_layers == (3, 1):  # layers 0-2 on a; layer 3 and the output on b
        assert first.weights_bytes == 3 * DENSE_LAYER and second.weights_bytes == DENSE_LAYER + OUTPUT
        assert first.kv_cache_bytes == 3 * KV_LAYER and second.kv_cache_bytes == KV_LAYER
        assert second.compute_bytes >= first.compute_bytes  # the logits live with the output
    assert plan.ram.weights_bytes == EMBED


def test_default_split_follows_free_memory() -> None:
    """Without --tensor-split, llama.cpp splits in proportion to each device's free memory."""
    spec = _tiny(4, moe=False)
    plan = llama_cpp_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[_gpu("a", 3 * GIB), _gpu("b", GIB)],
                          context_tokens=256, settings=SETTINGS)
    assert tuple(d.layers for d in plan.devices) == (4, 0)
    assert plan.setting("tensor_split") == (75, 25)


def test_solver_moves_the_fewest_experts() -> None:
    """The solver keeps as many experts on the GPU as fit: exactly one layer's when the GPU is sized for that."""
    spec = _tiny(2, moe=True)
    weights = weights_for_bpw(spec, 16)
    one = llama_cpp_plan(spec, weights=weights, gpus=[BIG], context_tokens=256, n_cpu_moe=1, settings=SETTINGS)
    gpu = _gpu("sized", one.devices[0].total_bytes)
    plan = solve_llama_cpp(spec, weights=weights, gpus=[gpu], context_tokens=256, settings=SETTINGS, margin_bytes=0)
    assert plan.setting("n_cpu_moe") == 1 and plan.fits
    tight = _gpu("tight", one.devices[0].total_bytes - 1)
    plan = solve_llama_cpp(spec, weights=weights, gpus=[tight], context_tokens=256, settings=SETTINGS, margin_bytes=0)
    assert plan.setting("n_cpu_moe") == 2


def test_solver_keeps_the_fit_margin() -> None:
    """--fit leaves 1,024 MiB free per device (common/common.h fit_params_target)."""
    spec = _tiny(2, moe=True)
    weights = weights_for_bpw(spec, 16)
    full = llama_cpp_plan(spec, weights=weights, gpus=[BIG], context_tokens=256, settings=SETTINGS)
    gpu = _gpu("edge", full.devices[0].total_bytes + 1024 * 2**20 - 1)
    plan = solve_llama_cpp(spec, weights=weights, gpus=[gpu], context_tokens=256, settings=SETTINGS)
    assert plan.setting("n_cpu_moe") == 1


def test_solver_offloads_layers_of_a_dense_model() -> None:
    """A dense model that does not fit gets the most layers that do (-ngl)."""
    spec = _tiny(4, moe=False)
    weights = weights_for_bpw(spec, 16)
    three = llama_cpp_plan(spec, weights=weights, gpus=[BIG], context_tokens=256, n_gpu_layers=3, settings=SETTINGS)
    plan = solve_llama_cpp(spec, weights=weights, gpus=[_gpu("g", three.devices[0].total_bytes)],
                           context_tokens=256, settings=SETTINGS, margin_bytes=0)
    assert plan.setting("n_gpu_layers") == 3


def test_vllm_cpu_offload_gb() -> None:
    """--cpu-offload-gb: the least whole GiB of weights per GPU that makes it fit; RAM holds it for every GPU."""


    spec = llmcalc.load_model("llama-3.1-8b").spec
    weights = weights_for_bpw(spec, 16)
    settings = engine_settings("vllm")
    roomy = vllm_plan(spec, weights=weights, gpus=[_gpu("roomy", 40 * GIB)], context_tokens=4096, settings=settings)
    need = roomy.devices[0].total_bytes - int(16 * GIB * 0.92)
    plan = vllm_plan(spec, weights=weights, gpus=[_gpu("small", 16 * GIB)] * 2, context_tokens=4096,
                     settings=settings)
    assert plan.setting("cpu_offload_gb") == 0  # two GPUs share it
    plan = vllm_plan(spec, weights=weights, gpus=[_gpu("small", 16 * GIB)], context_tokens=4096, settings=settings)
    assert plan.setting("cpu_offload_gb") == -(-need // GIB)
    assert plan.fits and plan.ram.weights_bytes == plan.setting("cpu_offload_gb") * GIB  # type: ignore[operator]


def test_vllm_mixed_set_is_limited_by_the_smallest() -> None:
    """vLLM tensor parallelism needs identical devices: the plan says so and uses the smallest."""


    spec = llmcalc.load_model("llama-3.1-8b").spec
    plan = vllm_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[get_gpu("rtx-4090"), get_gpu("rtx-3060")],
                     context_tokens=4096)
    assert "identical GPUs" in plan.notes[0]
    assert {d.usable_bytes for d in plan.devices} == {int(get_gpu("rtx-3060").usable_memory_bytes * 0.92)}


def test_lora_slots() -> None:
    """vLLM preallocates max_loras x max_lora_rank x (in + out) x 2 bytes per wrapped linear (vllm/lora/layers)."""
    spec = _tiny(2, moe=False)
    per_layer = (8 + 8) + (8 + 4) + (8 + 4) + (8 + 8) + 3 * (8 + 16)  # q, k, v, o, gate, up, down
    assert lora_slot_bytes(spec, rank=8, count=2) == 2 * 2 * 8 * per_layer * 2


def test_plan_errors() -> None:
    """Experts flags need experts; transformers has no offload plan."""
    spec = _tiny(2, moe=False)
    weights = weights_for_bpw(spec, 16)
    with pytest.raises(UsageError, match="has no experts"):
        plan_for(spec, weights=weights, gpus=[BIG], context_tokens=256, batch_size=1, kv_dtype="f16",
                 settings=SETTINGS, options=PlanOptions(cpu_moe=True))
    with pytest.raises(UsageError, match="llama.cpp or vllm"):
        plan_for(spec, weights=weights, gpus=[BIG], context_tokens=256, batch_size=1, kv_dtype="f16",
                 settings=engine_settings("hf"), options=PlanOptions())


def test_draft_model_on_the_main_gpu() -> None:
    """--draft: the draft's weights and its KV cache at the same context sit on llama.cpp's first GPU."""
    spec = _tiny(2, moe=True)
    draft = _tiny(4, moe=False)
    dweights = weights_for_bpw(draft, 16)
    options = PlanOptions(n_gpu_layers=99, draft=("tiny-draft", draft, dweights))
    plan = plan_for(spec, weights=weights_for_bpw(spec, 16), gpus=[BIG, BIG], context_tokens=256, batch_size=1,
                    kv_dtype="f16", settings=SETTINGS, options=options)
    draft_bytes = EMBED + 4 * DENSE_LAYER + OUTPUT + 4 * (4 + 4) * 256 * 2  # weights + KV of its 4 layers
    assert plan.devices[0].extra_bytes == draft_bytes
    assert plan.devices[1].extra_bytes == 0


def test_mtp_heads() -> None:
    """DeepSeek-V3's MTP module: one more (MoE) layer + eh_proj 2H x H + three norms (arXiv 2412.19437, 2.2)."""
    from llmcalc.plans import mtp_bytes
    from llmcalc.tensors import weight_tensors

    spec = llmcalc.load_model("deepseek-v3").spec
    weights = weights_for_bpw(spec, 8)
    layer = sum(t.n_elements for t in weight_tensors(spec) if t.layer == 60)
    assert mtp_bytes(spec, weights) == layer + 2 * 7168 * 7168 + 3 * 7168


def test_vllm_lora_slots_split_over_tp() -> None:
    """vLLM LoRA slots are sharded with their layers: a quarter each on four GPUs."""
    spec = llmcalc.load_model("llama-3.1-8b").spec
    options = PlanOptions(lora_rank=16, lora_count=4)
    h100 = get_gpu("h100")
    plan = plan_for(spec, weights=weights_for_bpw(spec, 16), gpus=[h100] * 4, context_tokens=4096, batch_size=1,
                    kv_dtype="f16", settings=engine_settings("vllm"), options=options)
    assert plan.devices[0].extra_bytes == -(-lora_slot_bytes(spec, rank=16, count=4) // 4)
