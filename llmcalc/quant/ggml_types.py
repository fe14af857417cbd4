"""ggml tensor types (block sizes) and llama.cpp's GGUF file types (``llama_ftype``)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import QuantError
from llmcalc.tensors import Tensor


@dataclass(frozen=True)
class GGMLType:
    """A ggml tensor type: ``block_bytes`` bytes hold ``block_elements`` consecutive values of a row.

    Sizes from the block structs of llama.cpp ``ggml/src/ggml-common.h`` (``block_q4_K`` ...), as
    ``GGML_QUANT_SIZES`` in ``gguf-py/gguf/constants.py`` lists them.
    """

    name: str
    block_elements: int
    block_bytes: int
    description: str

    @property
    def bits_per_weight(self) -> Fraction:
        """``8 x block_bytes / block_elements``: Q4_K 144 bytes per 256 values = 4.5."""
        return Fraction(8 * self.block_bytes, self.block_elements)

    def tensor_bytes(self, tensor: Tensor) -> int:
        """``n_elements / block_elements x block_bytes``; a row (``ne[0]``) must be whole blocks."""
        if tensor.shape[0] % self.block_elements:
            raise QuantError(
                f"{tensor.name}: a row of {tensor.shape[0]} is not a whole number of "
                f"{self.name} blocks of {self.block_elements}"
            )
        return tensor.n_elements // self.block_elements * self.block_bytes


def _ggml(name: str, elements: int, nbytes: int, description: str) -> GGMLType:
    return GGMLType(name, elements, nbytes, description)


#: Every ggml type a GGUF file type can produce, plus Q8_K (an intermediate for dot products). The
#: newer block types (NVFP4, Q1_0, Q2_0) from ``GGML_QUANT_SIZES`` in gguf-py/gguf/constants.py.
GGML_TYPES: dict[str, GGMLType] = {
    t.name: t
    for t in (
        _ggml("F32", 1, 4, "32-bit IEEE float"),
        _ggml("F16", 1, 2, "16-bit IEEE float"),
        _ggml("BF16", 1, 2, "bfloat16"),
        _ggml("Q4_0", 32, 18, "4-bit, blocks of 32 with an fp16 scale"),
        _ggml("Q4_1", 32, 20, "4-bit, blocks of 32 with an fp16 scale and minimum"),
        _ggml("Q5_0", 32, 22, "5-bit, blocks of 32 with an fp16 scale"),
        _ggml("Q5_1", 32, 24, "5-bit, blocks of 32 with an fp16 scale and minimum"),
        _ggml("Q8_0", 32, 34, "8-bit, blocks of 32 with an fp16 scale"),
        _ggml("Q2_K", 256, 84, "2-bit k-quant, super-blocks of 256 with 4-bit sub-block scales"),
        _ggml("Q3_K", 256, 110, "3-bit k-quant, super-blocks of 256 with 6-bit sub-block scales"),
        _ggml("Q4_K", 256, 144, "4-bit k-quant, super-blocks of 256 with 6-bit scales and minimums"),
        _ggml("Q5_K", 256, 176, "5-bit k-quant, super-blocks of 256 with 6-bit scales and minimums"),
        _ggml("Q6_K", 256, 210, "6-bit k-quant, super-blocks of 256 with 8-bit sub-block scales"),
        _ggml("Q8_K", 256, 292, "8-bit k-quant, fp32 scale and block sums; an intermediate, not stored in files"),
        _ggml("IQ1_S", 256, 50, "1.56-bit i-quant (lattice codebook)"),
        _ggml("IQ1_M", 256, 56, "1.75-bit i-quant (lattice codebook)"),
        _ggml("IQ2_XXS", 256, 66, "2.06-bit i-quant (E8 lattice codebook)"),
        _ggml("IQ2_XS", 256, 74, "2.31-bit i-quant (E8 lattice codebook)"),
        _ggml("IQ2_S", 256, 82, "2.56-bit i-quant (E8 lattice codebook)"),
        _ggml("IQ3_XXS", 256, 98, "3.06-bit i-quant (lattice codebook)"),
        _ggml("IQ3_S", 256, 110, "3.44-bit i-quant (lattice codebook)"),
        _ggml("IQ4_NL", 32, 18, "4-bit non-linear (lookup table), blocks of 32"),
        _ggml("IQ4_XS", 256, 136, "4.25-bit non-linear, super-blocks of 256"),
        _ggml("TQ1_0", 256, 54, "ternary (1.69 bits), for BitNet-style models"),
        _ggml("TQ2_0", 256, 66, "ternary (2.06 bits), for BitNet-style models"),
        _ggml("MXFP4", 32, 17, "OCP MXFP4: 32 E2M1 values and an E8M0 scale"),
        _ggml("NVFP4", 64, 36, "NVFP4: 64 E2M1 values with a UE4M3 scale per 16 (4 + 32 bytes)"),
        _ggml("Q1_0", 128, 18, "1-bit, blocks of 128 with an fp16 scale (2 + 16 bytes)"),
        _ggml("Q2_0", 64, 18, "2-bit, blocks of 64 with an fp16 scale (2 + 16 bytes)"),
    )
}


@dataclass(frozen=True, slots=True)
class FileType:
    """One ``llama_ftype``: its enum name and value (``general.file_type``) and its default ggml type.

    Values from ``enum llama_ftype`` in llama.cpp ``include/llama.h``; default types from
    ``llama_ftype_get_default_type`` in ``src/llama-quant.cpp``.
    """

    name: str
    ftype_id: int
    default_type: str


def _ft(name: str, ftype_id: int, default: str) -> FileType:
    return FileType(name, ftype_id, default)


#: Every file type of today's ``enum llama_ftype`` (include/llama.h), keyed by llmcalc's format
#: name. The removed values (4-6 Q4_1_SOME_F16/Q4_2/Q4_3, 33-35 the Q4_0_N_M repacks) are left out.
#: Note IQ2_S defaults to IQ2_XS, IQ2_M to IQ2_S and IQ3_XS to IQ3_S.
LLAMA_FTYPES: dict[str, FileType] = {
    "gguf-f32": _ft("ALL_F32", 0, "F32"),
    "gguf-f16": _ft("F16", 1, "F16"),
    "q4_0": _ft("Q4_0", 2, "Q4_0"),
    "q4_1": _ft("Q4_1", 3, "Q4_1"),
    "q8_0": _ft("Q8_0", 7, "Q8_0"),
    "q5_0": _ft("Q5_0", 8, "Q5_0"),
    "q5_1": _ft("Q5_1", 9, "Q5_1"),
    "q2_k": _ft("Q2_K", 10, "Q2_K"),
    "q3_k_s": _ft("Q3_K_S", 11, "Q3_K"),
    "q3_k_m": _ft("Q3_K_M", 12, "Q3_K"),
    "q3_k_l": _ft("Q3_K_L", 13, "Q3_K"),
    "q4_k_s": _ft("Q4_K_S", 14, "Q4_K"),
    "q4_k_m": _ft("Q4_K_M", 15, "Q4_K"),
    "q5_k_s": _ft("Q5_K_S", 16, "Q5_K"),
    "q5_k_m": _ft("Q5_K_M", 17, "Q5_K"),
    "q6_k": _ft("Q6_K", 18, "Q6_K"),
    "iq2_xxs": _ft("IQ2_XXS", 19, "IQ2_XXS"),
    "iq2_xs": _ft("IQ2_XS", 20, "IQ2_XS"),
    "q2_k_s": _ft("Q2_K_S", 21, "Q2_K"),
    "iq3_xs": _ft("IQ3_XS", 22, "IQ3_S"),
    "iq3_xxs": _ft("IQ3_XXS", 23, "IQ3_XXS"),
    "iq1_s": _ft("IQ1_S", 24, "IQ1_S"),
    "iq4_nl": _ft("IQ4_NL", 25, "IQ4_NL"),
    "iq3_s": _ft("IQ3_S", 26, "IQ3_S"),
    "iq3_m": _ft("IQ3_M", 27, "IQ3_S"),
    "iq2_s": _ft("IQ2_S", 28, "IQ2_XS"),
    "iq2_m": _ft("IQ2_M", 29, "IQ2_S"),
    "iq4_xs": _ft("IQ4_XS", 30, "IQ4_XS"),
    "iq1_m": _ft("IQ1_M", 31, "IQ1_M"),
    "gguf-bf16": _ft("BF16", 32, "BF16"),
    "tq1_0": _ft("TQ1_0", 36, "TQ1_0"),
    "tq2_0": _ft("TQ2_0", 37, "TQ2_0"),
    "mxfp4_moe": _ft("MXFP4_MOE", 38, "MXFP4"),
    "gguf-nvfp4": _ft("NVFP4", 39, "NVFP4"),
    "q1_0": _ft("Q1_0", 40, "Q1_0"),
    "q2_0": _ft("Q2_0", 41, "Q2_0"),
}

#: The older view: format name -> (LLAMA_FTYPE name, default ggml type).
GGUF_FILE_TYPES: dict[str, tuple[str, str]] = {k: (f.name, f.default_type) for k, f in LLAMA_FTYPES.items()}

