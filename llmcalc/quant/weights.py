"""A model's weights in any catalogue format: the dispatch, and the GGUF pricing with its notes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from llmcalc.errors import QuantError
from llmcalc.params import count_params
from llmcalc.quant.bits import bits_to_bytes
from llmcalc.quant.catalogue import EXPERTS, LINEAR, MIX, WeightFormat, get_format
from llmcalc.quant.ggml_types import GGML_TYPES, GGUF_FILE_TYPES
from llmcalc.quant.gguf_layout import GGUFFileSize, TokenizerFacts, gguf_file_size, tensor_info_bytes
from llmcalc.quant.gguf_metadata import size_label
from llmcalc.quant.gguf_mix import (
    IMATRIX_SENSITIVE,
    MXFP4_EXPERT_MODEL_TYPES,
    NEEDS_IMATRIX,
    gguf_extra_tensors,
    gguf_type_counts,
)
from llmcalc.quant.results import TypeBytes, WeightsResult, linear_layers, make_result
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Tensor, gguf_tensors


@lru_cache(maxsize=256)
def _priced(
    spec: ModelSpec, fmt_name: str, imatrix: bool | None, stored_output_head: bool
) -> tuple[tuple[Tensor, str, int, int], ...]:
    """The file's tensors grouped by shape, role and ggml type: ``(tensor, type, count, bytes of
    one)``, from :func:`gguf_type_counts`; once per spec and settings (a report's pricing, its
    imatrix note and the file layout read the same list; specs are frozen)."""
    use_imatrix = (GGUF_FILE_TYPES[fmt_name][0] in NEEDS_IMATRIX) if imatrix is None else imatrix
    return tuple(
        (t, ty, n, GGML_TYPES[ty].tensor_bytes(t))
        for t, ty, n in gguf_type_counts(spec, fmt_name, use_imatrix, stored_output_head)
    )


@lru_cache(maxsize=64)
def _infos_bytes(spec: ModelSpec, stored_output_head: bool) -> int:
    """The tensor-info bytes of the file's tensors and extra tensors: the same in every file type."""
    tensors = (*gguf_tensors(spec, stored_output_head=stored_output_head), *gguf_extra_tensors(spec))
    return sum(tensor_info_bytes(t) for t in tensors)


def _gguf_bytes(priced: Iterable[tuple[Tensor, str, int, int]]) -> list[TypeBytes]:
    params: dict[str, int] = {}
    nbytes: dict[str, int] = {}
    for t, type_name, count, each in priced:
        params[type_name] = params.get(type_name, 0) + t.n_elements * count
        nbytes[type_name] = nbytes.get(type_name, 0) + each * count
    return [TypeBytes(k, params[k], nbytes[k]) for k in params]


#: File types the converter writes itself (``--outtype``); the rest are llama-quantize's.
_CONVERTER_FILE_TYPES = frozenset({"gguf-f32", "gguf-f16", "gguf-bf16"})


def gguf_file(
    spec: ModelSpec,
    fmt: WeightFormat | str,
    *,
    imatrix: bool | None = None,
    stored_output_head: bool = False,
    tokenizer: TokenizerFacts | None = None,
    hf_config: Mapping[str, Any] | None = None,
) -> GGUFFileSize:
    """The whole GGUF file of ``spec`` in file type ``fmt``: its tensors (with their mix types and the
    converter's extra tensors) laid out by :func:`llmcalc.quant.gguf_layout.gguf_file_size`;
    ``hf_config`` (the config.json read) decides the converter's model keys
    (:mod:`llmcalc.quant.gguf_metadata`), and general.size_label counts the file's tensors."""
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    items = [(each, count) for _, _, count, each in _priced(spec, fmt.name, imatrix, stored_output_head)]
    items += [(4 * t.n_elements, 1) for t in gguf_extra_tensors(spec)]
    tensors = (*gguf_tensors(spec, stored_output_head=stored_output_head), *gguf_extra_tensors(spec))
    return gguf_file_size(
        spec,
        items,
        tokenizer=tokenizer,
        size_label=size_label([(t.name, t.shape) for t in tensors]),
        infos_bytes=_infos_bytes(spec, stored_output_head),
        config=hf_config,
        quantized=fmt.name not in _CONVERTER_FILE_TYPES,
    )


def _gguf(
    spec: ModelSpec,
    fmt: WeightFormat,
    imatrix: bool | None,
    stored_output_head: bool,
    tokenizer: TokenizerFacts | None,
    hf_config: Mapping[str, Any] | None = None,
) -> WeightsResult:
    """A GGUF file type: ``sum over tensors of rows x ne0 / block x block_bytes`` for each tensor's type.

    ``total_bytes`` counts tensor data (as llama-quantize's reported size and the README table do);
    ``file_bytes`` is the whole file (:func:`gguf_file`). The non-parameter tensors of
    :func:`gguf_extra_tensors` and a stored copy of a tied output head are in ``extra_bytes``.
    """
    ft = GGUF_FILE_TYPES[fmt.name][0]
    priced = _priced(spec, fmt.name, imatrix, stored_output_head)
    copies = [(t, ty, each) for t, ty, _, each in priced if t.role == "stored_output_head"]
    parts = _gguf_bytes(p for p in priced if p[0].role != "stored_output_head")
    extras = gguf_extra_tensors(spec)
    extra = sum(4 * t.n_elements for t in extras) + sum(each for _, _, each in copies)
    notes: list[str] = []
    approximate = False
    if extras:
        notes.append(
            f"includes llama.cpp's F32 {', '.join(t.name for t in extras)} "
            f"({sum(4 * t.n_elements for t in extras):,} bytes; not model parameters)"
        )
    for t, ty, n in copies:
        notes.append(
            f"the checkpoint stores an output head although its config ties it: {t.name} in {ty} "
            f"({n:,} bytes), and the token embedding takes the default type"
        )
    if imatrix is None:
        used = ft in NEEDS_IMATRIX
        # Only the file types with imatrix branches can differ with the other choice.
        other = mine = 0
        if ft in IMATRIX_SENSITIVE:
            other = sum(n * each for _, _, n, each in _priced(spec, fmt.name, not used, stored_output_head))
            mine = sum(n * each for _, _, n, each in priced)
        if other != mine:
            approximate = True
            notes.append(
                f"assumes {'an' if used else 'no'} importance matrix (llama-quantize's usual "
                f"choice for {ft}); {'without' if used else 'with'} one: {other - mine:+,} bytes"
            )
        elif used:
            notes.append(f"llama-quantize needs an importance matrix for {ft} (the size does not depend on it)")
    if spec.model_type in MXFP4_EXPERT_MODEL_TYPES:
        notes.append("routed experts stay MXFP4 as the checkpoint ships them (llama.cpp's converter copies them)")
    if any(len(stack.groups) > 1 for stack in spec.stacks):
        approximate = True
        notes.append(
            "layers of different kinds are numbered group by group, so the layer-dependent rules "
            "(use_more_bits) may pick other layers than llama.cpp's; a few MB either way"
        )
    if spec.architecture != "decoder":
        approximate = True
        notes.append(
            f"{spec.architecture} models use a different llama.cpp tensor layout; treat the mix as an estimate"
        )
    file = gguf_file(spec, fmt, imatrix=imatrix, stored_output_head=stored_output_head, tokenizer=tokenizer,
                     hf_config=hf_config)
    notes.append(
        f"file_bytes {file.file_bytes:,}: tensor data + {file.metadata_bytes - file.tensor_info_bytes:,} bytes "
        f"of header and metadata + {file.tensor_info_bytes:,} of tensor infos + {file.padding_bytes:,} of "
        f"{file.alignment}-byte alignment padding; tokenizer {file.tokenizer_source}"
    )
    return make_result(
        fmt.name,
        parts,
        extra=extra,
        approximate=approximate,
        notes=notes,
        file_bytes=file.file_bytes,
        file_bytes_estimated=file.estimated,
    )


def weights_for_format(
    spec: ModelSpec,
    fmt: WeightFormat | str,
    *,
    imatrix: bool | None = None,
    stored_output_head: bool = False,
    tokenizer: TokenizerFacts | None = None,
    hf_config: Mapping[str, Any] | None = None,
) -> WeightsResult:
    """``spec``'s weights in format ``fmt`` (a :class:`WeightFormat` or a name for :func:`get_format`).

    - uniform formats (float, raw ggml types): every parameter at the format's bits,
      ``ceil(P x b / 8)`` bytes;
    - linear-layer formats (FP8, INT8/INT4, NF4, GPTQ, AWQ, MXFP4, NVFP4): see :func:`is_block_linear`;
      the rest at the model's 16-bit dtype. Sources: GPTQ arXiv 2210.17323, AWQ arXiv 2306.00978,
      QLoRA arXiv 2305.14314 section 3, OCP MX spec v1.0, the NVIDIA NVFP4 blog, DeepSeek-V3
      arXiv 2412.19437;
    - GGUF file types: llama.cpp's per-tensor mix (:func:`gguf_tensor_types`), with ``imatrix`` as
      there, ``stored_output_head`` (the checkpoint stores a head its config ties) and ``tokenizer``
      (read from a tokenizer.json, for ``file_bytes``), ``hf_config`` (the config.json, for the
      converter's model keys in ``file_bytes``). Exact for dense Llama-style decoders
      (tested against llama.cpp's published table); marked approximate for encoder architectures
      and where the mix depends on an importance matrix the caller did not specify.
    """
    from llmcalc.validate import require_spec

    require_spec(spec)
    if not isinstance(fmt, (str, WeightFormat)):
        raise QuantError(f"fmt must be a format name or a WeightFormat, got {type(fmt).__name__} {str(fmt)[:40]!r}")
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    from llmcalc.towers.weights import with_towers  # vision/audio towers: 16-bit or the mmproj file

    if fmt.kind == MIX:
        return with_towers(spec, fmt, _gguf(spec, fmt, imatrix, stored_output_head, tokenizer, hf_config))
    if fmt.kind in (LINEAR, EXPERTS):
        return with_towers(spec, fmt, linear_layers(spec, fmt))
    params = count_params(spec).language_params
    notes = [f"every parameter at {fmt.bits_per_weight} bits"]
    if fmt.family == "ggml":
        name = fmt.name.removeprefix("ggml-")
        hint = f"; a GGUF file of type {name} is a per-tensor mix" if name in GGUF_FILE_TYPES else ""
        notes.append(f"a raw ggml block type applied to every tensor, norms included{hint}")
    return with_towers(spec, fmt, make_result(
        fmt.name,
        [TypeBytes(fmt.name, params, bits_to_bytes(params, fmt.bits_per_weight))],
        approximate=fmt.approximate,
        notes=notes,
    ))

