"""The capacity search's steps (qa/capacity.py): up while levels pass, then bisect."""

from __future__ import annotations

from qa.bench import check_rest_reply
from qa.capacity import TARGET_P95_MS, LevelResult, next_target


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
    assert check_rest_reply([{"text": "Shall I go ahead?"}], "shall i go ahead") is None
    assert check_rest_reply([], None) is not None
    assert "expected" in (check_rest_reply([{"text": "Sorry?"}], "Done") or "")


def _phase(capacity: int, rss: float) -> dict[str, object]:
    level = {
        "target": capacity,
        "arrivals_per_s": 1.0,
        "mean_active": float(capacity),
        "messages": 100,
        "messages_per_s": 10.0,
        "p50_ms": 50.0,
        "p95_ms": 250.0,
        "p99_ms": 280.0,
        "errors": 0,
        "first_errors": [],
        "passed": True,
        "cpu_ms_per_message": {"rasa_server": 25.0, "machine": 30.0},
        "cores_busy": {"rasa_server": 0.3, "machine": 0.4},
    }
    return {
        "capacity": capacity,
        "conversations_per_core": capacity / 2,
        "levels": [level],
        "at_capacity": level,
        "peak_rss_mb": {"rasa_server": rss},
        "conversations": 10,
        "conversations_finished": 10,
        "database_checked": 10,
        "database_problems": [],
        "start_seconds": 1.0,
        "stopped_early": "",
    }


def test_merged_reports_judge_the_targets_across_runs(tmp_path) -> None:  # noqa: ANN001
    """A phase run again on its own is reported with the others (`--merge`)."""
    import json

    from qa.capacity import merge_reports

    machine = {
        "cores": 2,
        "ram_gb": 23.5,
        "cpu": "test",
        "load_average_at_start": [0.1],
        "speed_probe_ms": 30.0,
        "python": "3.11",
        "rasa": "3.6.21",
    }
    settings = {"think_s": [3.0, 10.0], "warmup_s": 36.0, "measure_s": 45.0}
    first = {
        "started_utc": "a",
        "argv": [],
        "machine": machine,
        "settings": settings,
        "phases": {
            "quickconnect-postgres": _phase(100, 1150.0),
            "rasa-init-postgres": _phase(80, 1100.0),
        },
    }
    second = {**first, "started_utc": "b", "phases": {"quickconnect-replicas": _phase(95, 1250.0)}}
    files = []
    for name, run in (("one.json", first), ("two.json", second)):
        (tmp_path / name).write_text(json.dumps(run))
        files.append(tmp_path / name)
    assert merge_reports(files, tmp_path / "out") == 0
    merged = json.loads((tmp_path / "out" / "capacity.json").read_text())
    assert set(merged["phases"]) == {
        "quickconnect-postgres",
        "rasa-init-postgres",
        "quickconnect-replicas",
    }
    ratios = merged["ratios"]
    assert ratios["QuickConnect / rasa init, postgres"].startswith("100 / 80 = 1.25 (PASS")
    assert ratios["two replicas / one, PostgreSQL + Redis"].startswith("95 / 100 = 0.95 (PASS")
    assert "MISS" in ratios["RSS quickconnect-replicas rasa_server"]
    assert "| quickconnect-replicas | 95 |" in (tmp_path / "out" / "report.md").read_text()
