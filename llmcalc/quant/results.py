"""Results (bytes per type), the uniform bits-per-weight pricing and the linear-layer formats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmcalc.params import count_params
from llmcalc.quant.bits import Bits, bits_to_bytes
from llmcalc.quant.catalogue import WeightFormat
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Tensor, weight_tensors


@dataclass(frozen=True)
class TypeBytes:
    """Parameters stored in one type and the bytes they take."""

    type_name: str
    params: int
    bytes: int


@dataclass(frozen=True)
class WeightsResult:
    """A model's weights in one format.

    ``total_bytes`` is the sum of ``by_type`` plus ``extra_bytes``: stored values that are not
    parameters (GPTQ's ``g_idx``, llama.cpp's ``rope_freqs`` table). ``bits_per_weight`` is
    ``8 x total_bytes / params`` over the model's parameters. ``approximate`` is set when the figure
    rests on an assumption that ``notes`` states.
    """

    format: str
    params: int
    total_bytes: int
    bits_per_weight: float
    approximate: bool
    notes: tuple[str, ...]
    by_type: tuple[TypeBytes, ...]
    extra_bytes: int = 0
    #: GGUF file types only: the whole file (header, metadata, tensor infos, padding and tensor
    #: data), :func:`llmcalc.quant.gguf_layout.gguf_file_size`; ``None`` for other formats.
    file_bytes: int | None = None
    file_bytes_estimated: bool = False


def make_result(
    name: str,
    parts: Iterable[TypeBytes],
    *,
    extra: int = 0,
    approximate: bool = False,
    notes: Iterable[str] = (),
    file_bytes: int | None = None,
    file_bytes_estimated: bool = False,
) -> WeightsResult:
    by_type = tuple(sorted((p for p in parts if p.params), key=lambda p: -p.bytes))
    params = sum(p.params for p in by_type)
    total = sum(p.bytes for p in by_type) + extra
    return WeightsResult(
        format=name,
        params=params,
        total_bytes=total,
        bits_per_weight=8 * total / params if params else 0.0,
        approximate=approximate,
        notes=tuple(notes),
        by_type=by_type,
        extra_bytes=extra,
        file_bytes=file_bytes,
        file_bytes_estimated=file_bytes_estimated,
    )


def weights_for_bpw(spec: ModelSpec, bits_per_weight: Bits) -> WeightsResult:
    """Every parameter at ``bits_per_weight``: ``ceil(P x b / 8)`` bytes (:func:`bits_to_bytes`).

    Uniform on purpose: embeddings, norms and the head are priced like the rest, which is what a
    single "bits per weight" figure means.
    """
    from llmcalc.validate import require_spec

    require_spec(spec)
    params = count_params(spec).total_params
    label = f"{bits_per_weight} bpw"
    return make_result(
        label,
        [TypeBytes(label, params, bits_to_bytes(params, bits_per_weight))],
        notes=[f"every parameter at {bits_per_weight} bits"],
    )


def sixteen_bit_type(spec: ModelSpec) -> str:
    """``bf16`` for a bfloat16 checkpoint, else ``fp16``: what unquantized tensors are kept in."""
    return "bf16" if spec.torch_dtype == "bfloat16" else "fp16"


def is_block_linear(tensor: Tensor) -> bool:
    """A weight matrix inside a transformer layer, other than an MoE router or T5's position bias.

    These are the modules GPTQ, AWQ, bitsandbytes and FP8 exports quantize (``nn.Linear`` in the
    decoder layers; routers are kept in 16 bits by AutoAWQ's and GPTQModel's MoE definitions).
    """
    return (
        tensor.layer is not None
        and tensor.n_dims >= 2
        and tensor.name.endswith(".weight")
        and "ffn_gate_inp" not in tensor.name
        and tensor.role != "relative_position_bias"
    )


def linear_layers(spec: ModelSpec, fmt: WeightFormat) -> WeightsResult:
    """Linear layers at ``fmt.bits_per_weight``; the rest at 16 bits; GPTQ adds 4 bytes per input row.

    ``bytes = ceil(P_linear x b / 8) + 2 x P_rest (+ 4 x sum(ne0) for GPTQ's int32 g_idx)``. Group
    scales assume each row is a whole number of groups (true of the models llmcalc ships).
    """
    tensors = weight_tensors(spec)
    if fmt.kind == "routed experts":  # catalogue.EXPERTS: gpt-oss's MXFP4 experts, the rest 16-bit
        linear = [t for t in tensors if t.role == "routed_experts" and t.name.endswith(".weight")]
    else:
        linear = [t for t in tensors if is_block_linear(t)]
    n_linear = sum(t.n_elements for t in linear)
    n_rest = sum(t.n_elements for t in tensors) - n_linear
    dtype = sixteen_bit_type(spec)
    notes = [
        f"{fmt.label} on the linear layers of the transformer blocks; embeddings, output head, norms, "
        f"biases and routers stay {dtype} (the tools' default)"
        if fmt.kind != "routed experts" else
        f"MXFP4 on the routed experts' weight matrices only; attention, router, embeddings, head, norms and "
        f"biases stay {dtype} (gpt-oss's released layout)"
    ]
    extra = 0
    if fmt.family == "gptq":
        extra = 4 * sum(t.n_elements // t.shape[1] for t in linear)
        notes.append(f"includes GPTQ's int32 g_idx, one per input channel of each layer ({extra:,} bytes)")
    if fmt.name == "mxfp4" and spec.is_moe:
        notes.append(
            "gpt-oss's released checkpoint stores only the routed experts in MXFP4 (the rest bf16); "
            "mxfp4_moe is the GGUF counterpart"
        )
    if fmt.approximate:
        notes.append(fmt.description)
    parts = [
        TypeBytes(fmt.name, n_linear, bits_to_bytes(n_linear, fmt.bits_per_weight)),
        TypeBytes(dtype, n_rest, 2 * n_rest),
    ]
    return make_result(fmt.name, parts, extra=extra, approximate=fmt.approximate, notes=notes)

