"""Packed columns read back exactly what was written, in few bytes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.store.codec import (
    CorruptChunk,
    decimal_scale,
    decode_floats,
    decode_ints,
    encode_floats,
    encode_ints,
)

ints = st.lists(st.integers(-(2**53), 2**53), max_size=60)
floats = st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=60)
decimals = st.lists(st.integers(-(10**7), 10**7).map(lambda n: n / 100), max_size=60)


def roundtrip_ints(values: list[int]) -> list[int]:
    out = bytearray(b"\x99")  # data before and after: columns must know their own length
    encode_ints(values, out)
    out += b"\x77"
    decoded, end = decode_ints(bytes(out), 1, len(values))
    assert out[end:] == b"\x77"
    return decoded


def roundtrip_floats(values: list[float]) -> list[float]:
    out = bytearray()
    encode_floats(values, out)
    decoded, end = decode_floats(bytes(out), 0, len(values))
    assert end == len(out)
    return decoded


@given(ints)
def test_ints_roundtrip(values: list[int]) -> None:
    assert roundtrip_ints(values) == values


@given(st.one_of(floats, decimals))
def test_floats_roundtrip_exactly(values: list[float]) -> None:
    # Float == is exact (no NaNs here); only a -0.0 may come back as 0.0.
    assert roundtrip_floats(values) == values


@pytest.mark.parametrize(
    ("values", "k"),
    [([17.8, 21.34, 0.0], 2), ([1.0, 0.0, 1.0], 0), ([0.1 + 0.2], None), ([1e300], None), ([123.456789], 6)],
)
def test_decimal_scale(values: list[float], k: int | None) -> None:
    assert decimal_scale(values) == k


def test_steady_timestamps_and_smooth_readings_pack_small() -> None:
    times = [1_700_000_000 + 60 * i for i in range(60)]  # seconds, one a minute
    out = bytearray()
    encode_ints(times, out)
    assert len(out) < 16  # steady steps: all second differences are zero
    readings = [round(20 + 0.01 * (i % 7), 2) for i in range(60)]
    out = bytearray()
    encode_floats(readings, out)
    assert len(out) <= 2 + 8 + 60  # one byte a value


def test_irrational_values_fall_back_to_float64() -> None:
    values = [math.pi * i for i in range(10)]
    out = bytearray()
    encode_floats(values, out)
    assert len(out) == 1 + 80
    assert decode_floats(bytes(out), 0, 10)[0] == values


@pytest.mark.parametrize("blob", [b"", b"\x1f", b"\x03\x00", b"\x0b\x02"])
def test_corrupt_columns_raise(blob: bytes) -> None:
    with pytest.raises(CorruptChunk):
        decode_ints(blob, 0, 5)
