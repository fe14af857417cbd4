"""Hugging Face transformers on PyTorch: the CUDA context and the caching allocator, as data.

**CUDA context.** Creating a CUDA context takes device memory outside any tensor: 274-636 MiB
measured in PyTorch PR #86509 (CUDA 11.7, lazy vs eager module loading; lazy loading is the default
since CUDA 11.7 / PyTorch 1.13), 426 MiB reported in unsloth-zoo PR #1053. The point figure is 512 MiB,
the range 274-636 MiB.

**The caching allocator** (``c10/cuda/CUDACachingAllocator.cpp``, ``round_size`` and
``get_allocation_size``): a request is rounded up to a multiple of ``kMinBlockSize`` (512 B); a
request of at most ``kSmallSize`` (1 MiB) is carved from a 2 MiB segment (``kSmallBuffer``), one
under ``kMinLargeAlloc`` (10 MiB) from a 20 MiB segment (``kLargeBuffer``), and a larger one gets a
segment of its own rounded up to ``kRoundLarge`` (2 MiB). Memory the device loses is the segments
reserved (``torch.cuda.memory_reserved``), so a model's weights, loaded one tensor after another and
never freed, reserve :func:`reserved_bytes` of their sizes. The default settings are assumed
(no ``PYTORCH_CUDA_ALLOC_CONF`` ``expandable_segments`` or ``roundup_power2_divisions``).

**Activations** measured against llmcalc's formula (README, Caveats: five models on CPU, PyTorch 2.13,
transformers 5.24): the formula was 17-36% below the measured peak, so the measured peak is
1.20-1.57 x the formula; :data:`ACTIVATION_RANGE` is that spread, rounded out to 1.0-1.6.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from llmcalc.units import MIB

#: Weight-format families transformers loads (``quantization_config`` backends and plain dtypes).
SUPPORTED_FAMILIES: tuple[str, ...] = ("float", "integer", "bitsandbytes", "gptq", "awq", "microscaling", "nvfp4")

#: CUDA context: (low, point, high) bytes; sources in the module docstring.
CUDA_CONTEXT_BYTES = (274 * MIB, 512 * MIB, 636 * MIB)

#: CUDACachingAllocator constants (c10/cuda/CUDACachingAllocator.cpp).
MIN_BLOCK_BYTES = 512
SMALL_SIZE_BYTES = 1 * MIB
SMALL_BUFFER_BYTES = 2 * MIB
MIN_LARGE_ALLOC_BYTES = 10 * MIB
LARGE_BUFFER_BYTES = 20 * MIB
ROUND_LARGE_BYTES = 2 * MIB

#: measured activation peak / formula: low and high multipliers (README, Caveats).
ACTIVATION_RANGE = (Fraction(1), Fraction(8, 5))


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def round_size(nbytes: int) -> int:
    """``round_size``: a request rounded up to a multiple of 512 bytes (at least 512)."""
    return max(MIN_BLOCK_BYTES, _round_up(nbytes, MIN_BLOCK_BYTES))


def reserved_bytes(sizes: Iterable[int]) -> int:
    """Segments the caching allocator reserves for tensors of ``sizes`` bytes allocated in order, never freed.

    Small (<= 1 MiB) and mid-sized (< 10 MiB) requests are packed into 2 MiB and 20 MiB segments,
    next-fit (a request that does not fit the current segment's remainder opens a new one; the
    remainder stays reserved); a large request gets its own segment rounded up to 2 MiB.
    """
    total = 0
    small_left = mid_left = 0
    for n in sizes:
        size = round_size(n)
        if size <= SMALL_SIZE_BYTES:
            if size > small_left:
                total += SMALL_BUFFER_BYTES
                small_left = SMALL_BUFFER_BYTES
            small_left -= size
        elif size < MIN_LARGE_ALLOC_BYTES:
            if size > mid_left:
                total += LARGE_BUFFER_BYTES
                mid_left = LARGE_BUFFER_BYTES
            mid_left -= size
        else:
            total += _round_up(size, ROUND_LARGE_BYTES)
    return total
