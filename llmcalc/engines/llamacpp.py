"""llama.cpp: where its tensors live, the ``--fit`` margin and the compute buffers, as data.

**Placement** (``src/llama-model.cpp``, ``llama_model::load_tensors``): the input layer
(``token_embd``) is always assigned to the CPU (``dev_input = { cpu_dev, ... }``, "there is very
little benefit to offloading the input layer"), whatever ``-ngl`` says. With ``-ngl N`` the last ``N``
of the ``n_layer + 1`` layers (the repeating layers, then the output layer) go to the GPUs:
``i_gpu_start = max(n_layer + 1 - N, 0)``, ``act_gpu_layers = min(N, n_layer + 1)``; layer ``il`` goes to
the device ``upper_bound(splits, (il - i_gpu_start) / act_gpu_layers)``, where ``splits`` are the
cumulative shares of ``--tensor-split``, by default of each device's free memory. A tied output
reads the token embedding's data through a duplicated tensor placed with the output layer
(``TENSOR_DUPLICATED``, ``src/llama-model-loader.cpp``), so a GPU-resident output costs its bytes
on the GPU while ``token_embd`` stays in RAM.

**MoE offload** (``common/arg.cpp``, ``--n-cpu-moe N`` / ``--cpu-moe``): buffer-type overrides that keep
``blk.{i}.ffn_(up|down|gate|gate_up)_exps`` of the first ``N`` layers (or all) in system RAM.

**KV cache**: on the device of its layer, or all of it in RAM with ``--no-kv-offload`` (``-nkvo``).

**--fit** (``common/common.h``, ``fit_params_target``; ``common/fit.cpp``): fits unset parameters to free
device memory leaving a margin of 1,024 MiB per device; minimum context ``fit_params_min_ctx`` 4,096.

**Compute buffers** (``ggml_backend_sched_reserve`` in ``src/llama-context.cpp``, graph of ``n_ubatch``
tokens): the largest of the fp32 logits (``n_ubatch x n_vocab x 4``), the attention scores without
flash attention (``n_ubatch x n_ctx x n_head x 4``; flash attention never builds them) and one
layer's working set (``n_ubatch x values x 4``), plus the KQ mask input (``n_ctx x n_ubatch`` F32 and,
with flash attention, an F16 copy; ``build_attn_inp_kq_mask`` in ``src/llama-graph.cpp``); ``n_ubatch``
512, ``n_batch`` 2,048
(``common/common.h``). Flash attention is ``auto`` (on where the backend supports it).
"""

from __future__ import annotations

from fractions import Fraction

from llmcalc.units import MIB

SUPPORTED_FAMILIES: tuple[str, ...] = ("gguf", "ggml", "float")

FIT_MARGIN_BYTES = 1024 * MIB
FIT_MIN_CONTEXT = 4096
N_UBATCH = 512
N_BATCH = 2048

#: GGUF name parts of the routed-expert tensors --n-cpu-moe moves to RAM
EXPERT_TENSOR_PARTS = ("ffn_up_exps", "ffn_down_exps", "ffn_gate_exps", "ffn_gate_up_exps")

#: measured compute buffer / formula, low and high: 0.737-1.237 over 119 settings of 7 tiny random-weight
#: models (llama, qwen3, gemma3, phi3, gpt_neox, qwen3_moe, mixtral; n_ctx 512-8192, n_ubatch 128/512,
#: flash attention on and off) and up to 1.77 for DeepSeek's MLA (the absorbed query is not counted),
#: llama.cpp 0c1e57098 on the CPU backend (tests/data/gguf_llamacpp_measured.json,
#: benchmarks/measure_gguf_llamacpp.py). The CUDA backend's graph is the same; its buffers were not measured.
ACTIVATION_RANGE = (Fraction(73, 100), Fraction(9, 5))

#: CUDA context + cuBLAS workspace per device (llama.cpp's CUDA backend): taken as 384 MiB; range 274-636
#: MiB, the CUDA context measurements of llmcalc.engines.hf
CUDA_CONTEXT_BYTES = (274 * MIB, 384 * MIB, 636 * MIB)


def layer_devices(n_layer: int, n_gpu_layers: int, splits: list[float]) -> list[int]:
    """Device of each of the ``n_layer + 1`` layers (the last is the output layer); -1 is the CPU.

    ``splits`` are the devices' shares (free memory or ``--tensor-split``), as
    ``llama_model::load_tensors`` normalises them into cumulative fractions.
    """
    total = sum(splits)
    cumulative: list[float] = []
    acc = 0.0
    for s in splits:
        acc += s
        cumulative.append(acc / total)
    i_gpu_start = max(n_layer + 1 - n_gpu_layers, 0)
    act = min(n_gpu_layers, n_layer + 1) if splits else 0
    out = []
    for il in range(n_layer + 1):
        if il < i_gpu_start or il - i_gpu_start >= act:
            out.append(-1)
            continue
        x = (il - i_gpu_start) / act
        out.append(next((i for i, c in enumerate(cumulative) if c > x), len(cumulative) - 1))
    return out
