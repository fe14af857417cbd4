"""Bits per weight as exact fractions, and the one place bits become bytes."""

from __future__ import annotations

from fractions import Fraction

from llmcalc.errors import QuantError

Bits = float | int | Fraction | str


#: The largest bits per weight accepted (float64); anything above is a typo, not a format.
MAX_BITS_PER_WEIGHT = 64


def parse_bits(bits_per_weight: Bits) -> Fraction:
    """A bits-per-weight value as an exact fraction in ``(0, 64]``, or :class:`QuantError`.

    ``Fraction(str(b))``: the decimal number as the user typed it (``4.156`` is 1039/250, not the
    nearest binary float).
    """
    problem = f"bits per weight must be a positive number up to {MAX_BITS_PER_WEIGHT}, got '{bits_per_weight}'"
    if isinstance(bits_per_weight, bool):
        raise QuantError(problem)
    try:
        bits = Fraction(str(bits_per_weight).strip())
    except (ValueError, ZeroDivisionError, OverflowError):
        raise QuantError(problem) from None
    if not 0 < bits <= MAX_BITS_PER_WEIGHT:
        raise QuantError(problem)
    return bits


def bits_to_bytes(n_elements: int, bits_per_weight: Bits) -> int:
    """Bytes to store ``n_elements`` values at ``bits_per_weight`` bits each.

    ``ceil(n x b / 8)`` with ``b`` from :func:`parse_bits`, rounded up once to a whole byte. Every
    float bits-per-weight in llmcalc becomes bytes here.
    """
    bits = parse_bits(bits_per_weight)
    if isinstance(n_elements, bool) or not isinstance(n_elements, int) or n_elements < 0:
        raise QuantError(f"element count must be a non-negative integer, got {n_elements!r}")
    return -(-n_elements * bits.numerator // (8 * bits.denominator))

