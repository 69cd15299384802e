"""Row formats: samples, buckets and log rows read back as written; keys keep series apart."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.core.rollup import Bucket
from roost.store import chunks
from roost.store.codec import CorruptChunk

times = st.lists(st.integers(0, 2**44 - 1), min_size=1, max_size=50).map(sorted)
values = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.data(), times)
def test_samples_roundtrip(data: st.DataObject, ts: list[int]) -> None:
    vs = data.draw(st.lists(values, min_size=len(ts), max_size=len(ts)))
    assert chunks.decode_samples(chunks.encode_samples(ts, vs)) == (ts, vs)


def bucket(start: int, n: int) -> Bucket:
    return Bucket(start, n, -1.5, 2.25, 3.0, 0.5, start + 1000, 1.0, start + 299_000)


def test_buckets_roundtrip_and_chart_columns() -> None:
    buckets = [bucket(1_700_000_100_000 + 300_000 * i, i + 1) for i in range(288)]
    blob = chunks.encode_buckets(buckets)
    assert chunks.decode_buckets(blob) == buckets
    chart = chunks.decode_chart(blob)
    assert chart.start == [b.start for b in buckets]
    assert chart.count == [b.count for b in buckets]
    assert len(blob) < 288 * 6  # steady starts, repeated values: a few bytes a bucket


def test_log_rows_hold_several_series() -> None:
    entries = [(1, [10, 20], [1.0, 2.0]), (7, [15], [0.5]), (9, [], [])]
    assert chunks.decode_log(chunks.encode_log(entries)) == entries[:2]


def test_keys_order_by_series_then_time() -> None:
    assert chunks.key(1, 2**44 - 1) < chunks.key(2, 0)
    assert chunks.key(3, -5) == chunks.key(3, 0)  # clamped, never into the previous series
    assert chunks.key_ts(chunks.key(5, 123_456)) == 123_456


@pytest.mark.parametrize("blob", [b"", b"\x02\x00", b"\x01\x0a\x00"])
def test_unknown_or_truncated_chunks_raise(blob: bytes) -> None:
    with pytest.raises(CorruptChunk):
        chunks.decode_samples(blob)
