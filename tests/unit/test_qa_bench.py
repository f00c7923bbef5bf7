"""The benchmark's measurement helpers and report (the load itself runs in `make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qa.bench import (
    CUSTOMERS,
    LoadResult,
    _think_range,
    check_parse_reply,
    check_rest_reply,
    cpu_now,
    drive,
    machine,
    percentile,
    render_report,
    rest_body,
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
    assert "person's pace" not in report  # no paced phase in this run
    paced = LoadResult("quickconnect_paced", 2, 1, latencies_ms=[40.0, 60.0], seconds=3.0)
    with_paced = {
        **data,
        "paced_think_s": [1.0, 3.0],
        "phases": {**data["phases"], "quickconnect_paced": paced.summary()},
    }
    report = render_report(with_paced)
    assert "| QuickConnect at a person's pace | 2 | 0 |" in report
    assert "pausing 1 to 3 s" in report
    assert "(for information, not a target) at a person's pace: p95 59.0 ms" in report
    assert "MISS: p95 turn latency = 385.0 ms" in report  # still judged without think time
    report = render_report({**data, "backend": "postgres"})
    assert (
        "stores: PostgreSQL for the account database and the tracker store, Redis locks" in report
    )


class _EchoBot(BaseHTTPRequestHandler):
    """A REST-channel look-alike that answers every message at once, noting when it came."""

    arrivals: list[tuple[str, float]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.arrivals.append((body["sender"], time.monotonic()))
        reply = json.dumps([{"text": f"you said {body['message']}"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def echo_bot() -> Iterator[str]:
    _EchoBot.arrivals = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoBot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    finally:
        server.shutdown()
        server.server_close()


def _gaps(sender_prefix: str) -> list[float]:
    """Seconds between one conversation's consecutive messages, over all conversations."""
    by_sender: dict[str, list[float]] = {}
    for sender, at in _EchoBot.arrivals:
        if sender.startswith(sender_prefix):
            by_sender.setdefault(sender, []).append(at)
    return [b - a for times in by_sender.values() for a, b in zip(times, times[1:], strict=False)]


def test_paced_customers_pause_between_a_reply_and_their_next_message(echo_bot: str) -> None:
    script = [("hi", "you said hi"), ("yes", "you said yes"), ("thanks", None)]
    result = drive(
        "paced", echo_bot, [script, script], rounds=1, body=rest_body, check=check_rest_reply,
        warmup_rounds=0, think_s=(0.3, 0.4),
    )  # fmt: skip
    assert result.requests == 6 and result.errors == []
    gaps = _gaps("bench-0-")
    assert len(gaps) == 4 and all(0.3 <= gap < 0.9 for gap in gaps)
    # latency is timed from send to reply: the pauses are not in it
    assert max(result.latencies_ms) < 300
    assert result.seconds >= 0.6  # two pauses per conversation

    _EchoBot.arrivals = []
    flat = drive(
        "flat", echo_bot, [script, script], rounds=1, body=rest_body, check=check_rest_reply,
        warmup_rounds=0,
    )  # fmt: skip
    assert flat.requests == 6 and flat.errors == []
    assert all(gap < 0.3 for gap in _gaps("bench-0-"))


def test_think_range_is_parsed_and_checked() -> None:
    assert _think_range("1,3") == (1.0, 3.0)
    assert _think_range("0.5,0.5") == (0.5, 0.5)
    for bad in ("3,1", "1", "a,b", "-1,2"):
        with pytest.raises(Exception, match="LOW"):
            _think_range(bad)
