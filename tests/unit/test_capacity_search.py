"""The capacity search's steps (qa/capacity.py): up while levels pass, then bisect."""

from __future__ import annotations

from qa.capacity import TARGET_P95_MS, LevelResult, next_target, reply_problem


def _search(capacity: int, start: int = 24, factor: float = 1.6) -> tuple[int, list[int]]:
    """Run the search against a server that passes exactly the targets <= `capacity`."""
    best, lowest_fail, target, tried = 0, None, start, []
    while target is not None and len(tried) < 20:
        tried.append(target)
        if target <= capacity:
            best = max(best, target)
        else:
            lowest_fail = target if lowest_fail is None else min(lowest_fail, target)
        target = next_target(target, best, lowest_fail, factor, 0.12)
    return best, tried


def test_the_search_climbs_then_bisects_to_within_the_resolution() -> None:
    best, tried = _search(100)
    assert tried[:4] == [24, 39, 63, 101]  # x1.6 until the first failure
    assert best <= 100 and best >= 100 * 0.88
    assert len(tried) <= 8


def test_the_search_halves_when_even_the_first_level_fails() -> None:
    best, tried = _search(5)
    assert tried[:3] == [24, 12, 6]
    assert best == 5 or best >= 5 * 0.88


def test_the_search_stops_when_nothing_passes() -> None:
    best, tried = _search(0, start=4)
    assert best == 0 and tried[-1] == 1


def test_a_level_passes_only_with_messages_no_errors_and_p95_within_target() -> None:
    level = LevelResult(target=10, arrival_rate=0.3, window=(0.0, 45.0), messages=50)
    level.p95_ms = TARGET_P95_MS
    assert level.passed
    level.p95_ms = TARGET_P95_MS + 1
    assert not level.passed
    level.p95_ms, level.errors = 100.0, ["cap-1 turn 3 'Porto': HTTP 500"]
    assert not level.passed
    assert not LevelResult(target=10, arrival_rate=0.3, window=(0.0, 45.0)).passed


def test_a_reply_needs_bot_messages_and_the_expected_text() -> None:
    assert reply_problem([{"text": "Shall I go ahead?"}], "shall i go ahead") is None
    assert reply_problem([], None) is not None
    assert "expected" in (reply_problem([{"text": "Sorry?"}], "Done") or "")
