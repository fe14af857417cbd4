"""Weight formats: what a model's weights cost in bytes at a given precision or quantization.

Three kinds of format, each priced tensor by tensor from :func:`llmcalc.tensors.weight_tensors`:

- **uniform** (``kind="uniform"``): every parameter at the format's bits per weight. The float
  formats ``fp32``/``fp16``/``bf16``, a user's ``--bpw`` (:func:`weights_for_bpw`), and the raw ggml
  block types (``ggml-q4_k`` ...), which say what one block type costs, not what a GGUF file holds.
- **linear layers** (``kind="linear layers"``): the weight matrices of the transformer blocks
  (attention and MLA projections, dense MLPs, routed and shared experts) at the format's bits per
  weight; everything else (token and position embeddings, the output head, norms, biases, MoE
  routers) stays at the model's 16-bit dtype. That is what GPTQ (AutoGPTQ / GPTQModel), AWQ
  (AutoAWQ), bitsandbytes (transformers' ``BitsAndBytesConfig`` skips ``lm_head``), FP8 checkpoints
  (DeepSeek-V3, FBGEMM/compressed-tensors FP8) and MX/NVFP4 exports do by default.
- **per-tensor mix** (``kind="per-tensor mix"``): a GGUF *file type* such as ``q4_k_m``, priced as
  llama.cpp's ``llama-quantize`` builds it: a type for every tensor by the rules of
  ``llama_tensor_get_type`` in ``src/llama-quant.cpp`` (more bits for ``output.weight``, some
  ``attn_v`` and ``ffn_down`` layers; 1-D tensors, routers and position tables stay F32; a shape
  fallback when a row is not a multiple of the block), each tensor costing
  ``rows x ne0 / block_elements x block_bytes`` with the block sizes of ``ggml/src/ggml-common.h``.

Names: a GGUF file type keeps its llama-quantize name in lower case (``q4_k_m``, ``q8_0``,
``iq4_xs``, ``mxfp4_moe``); the raw ggml block type of the same name carries a ``ggml-`` prefix
(``ggml-q4_0`` is 4.5 bits everywhere; the file type ``q4_0`` also stores ``output.weight`` as Q6_K
and norms as F32). GGUF's F16 and BF16 file types are ``gguf-f16`` and ``gguf-bf16`` (norms in F32),
so that ``fp16`` and ``bf16`` keep meaning "every parameter in 16 bits". Lookups ignore case and
treat ``-``, ``_`` and spaces alike.

Bits become bytes in one place, :func:`bits_to_bytes`, with exact fractions.

The package, one module per concern (every public name is re-exported here):

- :mod:`~llmcalc.quant.bits`: bits per weight as exact fractions, and bits to bytes;
- :mod:`~llmcalc.quant.ggml_types`: ggml block types and every ``llama_ftype`` (include/llama.h);
- :mod:`~llmcalc.quant.catalogue`: the named formats, aliases, quality order and lookup;
- :mod:`~llmcalc.quant.results`: result types, uniform and linear-layer pricing;
- :mod:`~llmcalc.quant.gguf_mix`: llama-quantize's per-tensor type rules (src/llama-quant.cpp);
- :mod:`~llmcalc.quant.gguf_layout`: a whole GGUF file's bytes (header, metadata, tensor infos,
  padding), ``WeightsResult.file_bytes``;
- :mod:`~llmcalc.quant.weights`: :func:`weights_for_format`, the dispatch.
"""


from __future__ import annotations

from llmcalc.quant.bits import MAX_BITS_PER_WEIGHT, Bits, bits_to_bytes, parse_bits
from llmcalc.quant.catalogue import QUALITY_ORDER, WeightFormat, all_formats, get_format
from llmcalc.quant.ggml_types import GGML_TYPES, GGUF_FILE_TYPES, LLAMA_FTYPES, GGMLType
from llmcalc.quant.gguf_layout import GGUFFileSize, TokenizerFacts
from llmcalc.quant.gguf_mix import gguf_extra_tensors, gguf_tensor_types, use_more_bits
from llmcalc.quant.results import TypeBytes, WeightsResult, is_block_linear, sixteen_bit_type, weights_for_bpw
from llmcalc.quant.weights import gguf_file, weights_for_format

__all__ = [
    "GGML_TYPES",
    "GGUF_FILE_TYPES",
    "LLAMA_FTYPES",
    "MAX_BITS_PER_WEIGHT",
    "QUALITY_ORDER",
    "Bits",
    "GGMLType",
    "GGUFFileSize",
    "TokenizerFacts",
    "TypeBytes",
    "WeightFormat",
    "WeightsResult",
    "all_formats",
    "bits_to_bytes",
    "get_format",
    "gguf_extra_tensors",
    "gguf_file",
    "gguf_tensor_types",
    "is_block_linear",
    "parse_bits",
    "sixteen_bit_type",
    "use_more_bits",
    "weights_for_bpw",
    "weights_for_format",
]
