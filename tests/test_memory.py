"""The heap is handed back to the system when the last stream of a burst ends."""

from __future__ import annotations

from contextlib import ExitStack

from app import memory


def _streams(n: int) -> None:
    with ExitStack() as streams:
        for _ in range(n):
            streams.enter_context(memory.stream())


def test_the_last_stream_of_a_burst_trims_the_heap_once():
    before = memory.trims()
    _streams(memory.BURST)
    assert memory.trims() == before + 1


def test_streams_one_at_a_time_never_trim():
    before = memory.trims()
    for _ in range(3 * memory.BURST):
        _streams(1)
    assert memory.trims() == before


def test_a_burst_trims_only_once_everything_it_opened_has_ended():
    before = memory.trims()
    with memory.stream():  # one stream outlives the burst around it
        _streams(memory.BURST)
        assert memory.trims() == before
    assert memory.trims() == before + 1


def test_a_failing_stream_still_counts_as_ended():
    before = memory.trims()
    try:
        with ExitStack() as streams:
            for _ in range(memory.BURST):
                streams.enter_context(memory.stream())
            raise RuntimeError("the vendor broke off")
    except RuntimeError:
        pass
    assert memory.trims() == before + 1
    _streams(1)  # the count is back to zero: a lone stream does not trim again
    assert memory.trims() == before + 1
