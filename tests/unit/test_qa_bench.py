"""The benchmark's measurement helpers and report (the load itself runs in `make bench`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from qa.bench import (
    CUSTOMERS,
    LoadResult,
    check_parse_reply,
    check_rest_reply,
    cpu_now,
    machine,
    percentile,
    render_report,
    tree_cpu_seconds,
    tree_rss_mb,
)


def test_percentiles_interpolate() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_every_simulated_customer_has_its_own_account_and_a_plan_change() -> None:
    assert len({c.account for c in CUSTOMERS}) == len(CUSTOMERS) == 10
    for customer in CUSTOMERS:
        texts = [text for text, _ in customer.turns()]
        assert customer.account in texts and "yes" in texts
        assert ("yes", "Done") in customer.turns()


def test_reply_checks() -> None:
    assert check_rest_reply([{"text": "Done: your plan"}], "done") is None
    assert "expected 'Done'" in str(check_rest_reply([{"text": "Sorry"}], "Done"))
    assert "no bot message" in str(check_rest_reply([], None))
    assert check_parse_reply({"intent": {"name": "greet"}}, None) is None
    assert check_parse_reply({"error": "x"}, None) is not None


def test_memory_of_this_process_tree_is_measured() -> None:
    assert tree_rss_mb(os.getpid()) > 10
    assert tree_rss_mb(2**22 + 12345) == 0.0  # a process that does not exist


def test_cpu_time_of_a_process_tree_counts_its_children() -> None:
    """A child that spins for about 0.5 s of CPU shows in its parent's tree, and the machine's."""
    spin = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", spin + "\ntime.sleep(30)"])
    try:
        before = cpu_now({"me": os.getpid()})
        deadline = time.monotonic() + 20
        while tree_cpu_seconds(child.pid) < 0.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        after = cpu_now({"me": os.getpid()})
    finally:
        child.kill()
        child.wait()
    assert after["me"] - before["me"] >= 0.4  # the child's spin, counted in this tree
    assert after["machine"] - before["machine"] >= 0.4
    assert tree_cpu_seconds(2**22 + 12345) == 0.0  # a process that does not exist


def test_summary_and_report() -> None:
    result = LoadResult("quickconnect", 2, 1, latencies_ms=[100.0, 200.0, 300.0, 400.0])
    result.seconds = 2.0
    result.peak_rss_mb = {"rasa_server": 1300.0, "action_server": 140.0}
    result.cpu_seconds = {"rasa_server": 0.1, "machine": 0.3}
    summary = result.summary()
    assert summary["messages_per_second"] == 2.0 and summary["errors"] == 0
    assert summary["cpu_ms_per_message"] == {"rasa_server": 25.0, "machine": 75.0}
    assert summary["cores_busy"] == {"rasa_server": 0.05, "machine": 0.15}
    base = LoadResult("rasa_init_baseline", 2, 1, latencies_ms=[50.0] * 4, seconds=1.0)
    data = {
        "started_utc": "2026-01-01 00:00 UTC",
        "argv": ["--smoke"],
        "machine": machine(),
        "customers": 2,
        "rounds": 1,
        "turns_per_conversation": 6,
        "phases": {"quickconnect": summary, "rasa_init_baseline": base.summary()},
        "throughput_ratio": 0.5,
        "full_train_seconds": None,
    }
    report = render_report(data)
    assert "| QuickConnect (REST, actions, DB) | 4 | 0 |" in report
    assert "rasa_server 25.0 ms (0.05 cores), machine 75.0 ms (0.15 cores)" in report
    assert "MISS: throughput ratio QuickConnect / rasa init = 0.50" in report
    assert f"{os.cpu_count()} cores" in report
    probe = data["machine"]["speed_probe_ms"]
    assert probe > 0 and f"single-core speed probe {probe} ms" in report
    assert "stores: SQLite files" in report  # no `backend` recorded: the embedded default
    report = render_report({**data, "backend": "postgres"})
    assert (
        "stores: PostgreSQL for the account database and the tracker store, Redis locks" in report
    )
