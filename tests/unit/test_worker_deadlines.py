"""The quix engine's waiting batches (streams.engines.deadlines), on a dict as the state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.engines.deadlines import Deadlines

SECOND = 1000


class DictKV:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.writes = 0

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.writes += 1
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        self.writes += 1
        self.data.pop(key, None)


def test_a_waiting_batch_is_due_once_its_second_has_passed() -> None:
    kv = DictKV()
    deadlines = Deadlines(kv)
    deadlines.track({"B1": True, "B2": False}, due_ms=10_500)
    assert deadlines.waiting("B1") == 10_500
    assert deadlines.waiting("B2") is None
    assert deadlines.take_due(10_500) == []  # filed in the bucket of second 11
    assert deadlines.take_due(11_000) == ["B1"]
    assert deadlines.take_due(11_000) == []


def test_a_due_batch_is_sent_again_until_it_stops_waiting() -> None:
    deadlines = Deadlines(DictKV(), resend_after_ms=30 * SECOND)
    deadlines.track({"B1": True}, due_ms=10 * SECOND)
    assert deadlines.take_due(10 * SECOND) == ["B1"]
    assert deadlines.take_due(39 * SECOND) == []
    assert deadlines.take_due(40 * SECOND) == ["B1"]  # the first event may have been lost
    deadlines.track({"B1": False}, due_ms=41 * SECOND)  # the event arrived: it stopped waiting
    assert deadlines.take_due(99 * SECOND) == []


def test_a_batch_that_stopped_waiting_is_not_due() -> None:
    deadlines = Deadlines(DictKV())
    deadlines.track({"B1": True, "B2": True}, due_ms=5 * SECOND)
    deadlines.track({"B1": False}, due_ms=6 * SECOND)
    assert deadlines.take_due(9 * SECOND) == ["B2"]


def test_waiting_again_files_the_batch_anew_with_the_later_due_time() -> None:
    deadlines = Deadlines(DictKV())
    deadlines.track({"B1": True}, due_ms=5 * SECOND)
    deadlines.track({"B1": False}, due_ms=6 * SECOND)
    deadlines.track({"B1": True}, due_ms=20 * SECOND)
    assert deadlines.take_due(10 * SECOND) == []  # its first bucket is stale
    assert deadlines.take_due(20 * SECOND) == ["B1"]


def test_still_waiting_is_not_filed_twice() -> None:
    deadlines = Deadlines(DictKV())
    deadlines.track({"B1": True}, due_ms=5 * SECOND)
    deadlines.track({"B1": True}, due_ms=9 * SECOND)
    assert deadlines.waiting("B1") == 5 * SECOND
    assert deadlines.take_due(5 * SECOND) == ["B1"]


def test_nothing_due_reads_without_writing() -> None:
    kv = DictKV()
    deadlines = Deadlines(kv)
    deadlines.track({"B1": True}, due_ms=50 * SECOND)
    before = kv.writes
    assert deadlines.take_due(10 * SECOND) == []
    assert kv.writes == before


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.booleans(), st.integers(0, 100)),
        max_size=40,
    ),
    st.integers(0, 120),
)
def test_due_are_exactly_the_batches_still_waiting_past_their_time(
    steps: list[tuple[str, bool, int]], now_s: int
) -> None:
    deadlines = Deadlines(DictKV())
    expected: dict[str, int] = {}
    for code, waiting, due_s in steps:
        deadlines.track({code: waiting}, due_ms=due_s * SECOND)
        if waiting:
            expected.setdefault(code, due_s * SECOND)
        else:
            expected.pop(code, None)
    due = deadlines.take_due(now_s * SECOND)
    assert sorted(due) == sorted(c for c, at in expected.items() if at <= now_s * SECOND)
    assert deadlines.take_due(now_s * SECOND) == []
