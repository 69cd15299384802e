"""Packed columns: how the numbers of a history chunk are laid out in its BLOB.

A column of integers is stored as one fixed-width little-endian array of its
values, of their differences, or of the differences of those (whichever fits
the narrowest type), after the one or two starting values as varints. Sensor
readings change little from one sample to the next and come at steady
intervals, so timestamps usually pack into zero or one byte and values into one
or two. Decoding is `array.frombytes` plus `itertools.accumulate`: C speed, which
is what makes a year chart instant in pure Python.

A column of floats is stored as integers times 10^-k when every value
round-trips exactly through that decimal form (17.8, 21.34, 0/1 for switches:
nearly all sensor data), else as raw 64-bit floats. Either way the floats read
back are bit-for-bit the ones written.

Column header byte: bits 0-2 item width (0 = all zero, 1/2/3/4 = 1/2/4/8 bytes),
bits 3-4 transform (0 values, 1 differences, 2 differences of differences),
bit 5 set for a raw float64 column. A decimal float column has one more byte, k.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from itertools import accumulate, repeat
from operator import eq, mul, sub, truediv

_TYPECODES = ("", "b", "h", "i", "q")
_SIZES = (0, 1, 2, 4, 8)
_LIMITS = (0, 1 << 7, 1 << 15, 1 << 31, 1 << 63)
_VALUES, _DIFF, _DIFF2 = 0, 1, 2
_FLOAT64 = 0x20
_BIG_ENDIAN = sys.byteorder == "big"
MAX_SCALE = 9
# Scaled integers stay below 2^53 so that their second differences fit 64 bits.
_MAX_SCALED = 1 << 53


class CorruptChunk(ValueError):
    """A chunk BLOB that does not decode (truncated or written by a newer format)."""


def write_varint(out: bytearray, value: int) -> None:
    """Append a zigzag varint (any sign) to `out`."""
    z = (value << 1) if value >= 0 else ((-value) << 1) - 1
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Return the zigzag varint at `pos` and the position after it."""
    shift = z = 0
    try:
        while True:
            byte = buf[pos]
            pos += 1
            z |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
    except IndexError:
        raise CorruptChunk("truncated varint") from None
    return (z >> 1) if not z & 1 else -((z + 1) >> 1), pos


def _width(items: Sequence[int]) -> int:
    if not items:
        return 0
    lo, hi = min(items), max(items)
    for code in range(5):
        limit = _LIMITS[code]
        if -limit <= lo and hi < max(limit, 1):
            return code
    raise OverflowError("integer column item does not fit 64 bits")


def encode_ints(values: Sequence[int], out: bytearray) -> None:
    """Append the column of integers `values` to `out`."""
    n = len(values)
    candidates: list[tuple[int, tuple[int, ...], Sequence[int]]] = [(_VALUES, (), values)]
    if n >= 1:
        diffs = list(map(sub, values[1:], values[:-1]))
        candidates.append((_DIFF, (values[0],), diffs))
        if n >= 2:
            candidates.append((_DIFF2, (values[0], diffs[0]), list(map(sub, diffs[1:], diffs[:-1]))))
    best: tuple[int, int, int, tuple[int, ...], Sequence[int]] | None = None
    for transform, initials, items in candidates:
        code = _width(items)
        cost = _SIZES[code] * len(items) + 3 * len(initials)
        if best is None or cost < best[0]:
            best = (cost, transform, code, initials, items)
    assert best is not None
    _, transform, code, initials, items = best
    out.append(code | (transform << 3))
    for value in initials:
        write_varint(out, value)
    if code:
        arr = array(_TYPECODES[code], items)
        if _BIG_ENDIAN:
            arr.byteswap()
        out += arr.tobytes()


def decode_ints(buf: bytes, pos: int, count: int) -> tuple[list[int], int]:
    """Return `count` integers of the column at `pos` and the position after it."""
    try:
        header = buf[pos]
    except IndexError:
        raise CorruptChunk("truncated column") from None
    pos += 1
    code, transform = header & 7, (header >> 3) & 3
    if code > 4 or transform > _DIFF2 or header & _FLOAT64:
        raise CorruptChunk(f"unknown integer column header {header:#x}")
    initials: list[int] = []
    for _ in range(transform):
        value, pos = read_varint(buf, pos)
        initials.append(value)
    m = count - len(initials)
    if m < 0:
        if count == 0:
            return [], pos
        raise CorruptChunk("column shorter than its header says")
    items: Sequence[int]
    if code:
        end = pos + m * _SIZES[code]
        if end > len(buf):
            raise CorruptChunk("truncated column")
        arr = array(_TYPECODES[code])
        arr.frombytes(buf[pos:end])
        if _BIG_ENDIAN:
            arr.byteswap()
        items, pos = arr, end
    else:
        items = list(repeat(0, m))
    if transform == _VALUES:
        return list(items), pos
    if transform == _DIFF:
        return list(accumulate(items, initial=initials[0])), pos
    diffs = accumulate(items, initial=initials[1])
    return list(accumulate(diffs, initial=initials[0])), pos


def decimal_scale(values: Sequence[float]) -> int | None:
    """Return the smallest k such that every value is exactly `n / 10**k` for an integer n, or None."""
    if not values:
        return 0
    # Guess k from a few values in Python, then check all of them at C speed (map, not a loop).
    k = 0
    for v in values[:8]:
        while k <= MAX_SCALE and not _fits(v, 10**k):
            k += 1
    while k <= MAX_SCALE:
        if _all_fit(values, 10**k):
            return k
        k += 1
    return None


def _fits(v: float, p: int) -> bool:
    scaled = v * p
    return abs(scaled) < _MAX_SCALED and round(scaled) / p == v


def _all_fit(values: Sequence[float], p: int) -> bool:
    scaled = list(map(mul, values, repeat(p)))
    if max(map(abs, scaled)) >= _MAX_SCALED:
        return False
    return all(map(eq, map(truediv, map(round, scaled), repeat(p)), values))


def encode_floats(values: Sequence[float], out: bytearray) -> None:
    """Append the column of finite floats `values` to `out`."""
    k = decimal_scale(values)
    if k is None:
        out.append(_FLOAT64)
        arr = array("d", values)
        if _BIG_ENDIAN:
            arr.byteswap()
        out += arr.tobytes()
        return
    # The scale byte marks a decimal column; the integers follow as an integer column.
    out.append(k)
    encode_ints(list(map(round, map(mul, values, repeat(10**k)))), out)


def decode_floats(buf: bytes, pos: int, count: int) -> tuple[list[float], int]:
    """Return `count` floats of the column at `pos` and the position after it."""
    try:
        first = buf[pos]
    except IndexError:
        raise CorruptChunk("truncated column") from None
    if first == _FLOAT64:
        end = pos + 1 + 8 * count
        if end > len(buf):
            raise CorruptChunk("truncated float column")
        arr = array("d")
        arr.frombytes(buf[pos + 1 : end])
        if _BIG_ENDIAN:
            arr.byteswap()
        return arr.tolist(), end
    if first > MAX_SCALE:
        raise CorruptChunk(f"unknown float column header {first:#x}")
    ints, pos = decode_ints(buf, pos + 1, count)
    if not first:
        return list(map(float, ints)), pos
    # int / int is correctly rounded: the same operation the encoder checked. map() over
    # the bound method runs at C speed, a list comprehension does not.
    return list(map((10**first).__rtruediv__, ints)), pos
