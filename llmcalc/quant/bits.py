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
    text = str(bits_per_weight).strip()
    shown = text if len(text) <= 40 else text[:37] + "..."
    problem = f"bits per weight must be a positive number up to {MAX_BITS_PER_WEIGHT}, got '{shown}'"
    if isinstance(bits_per_weight, bool) or len(text) > 64:
        raise QuantError(problem)
    try:
        # a huge exponent (1e99999999) would make Fraction build a 10^8-digit integer: check the
        # magnitude as a float first
        if "/" not in text and not 0 < float(text) <= MAX_BITS_PER_WEIGHT:
            raise QuantError(problem)
        bits = Fraction(text)
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

