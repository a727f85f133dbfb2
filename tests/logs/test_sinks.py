"""Sinks against real receivers on 127.0.0.1; retries, the spool, and a receiver that is down."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from tests.logs.receivers import free_port, http_receiver, smtp_receiver, tcp_syslog, udp_syslog
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.logs.sinks.base import Message
from shareguard.logs.sinks.factory import make_sink
from shareguard.logs.sinks.spool import Deliverer
from shareguard.logs.sinks.syslog import format_5424
from shareguard.logs.sinks.webhook import SIGNATURE_HEADER, WebhookSink

EXAMPLE_LOG = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "logs" / "cloudtrail.json"
MSG = Message(
    "INC-1", "high", "CloudTrail logging stopped by arn:aws:iam::1:user/x", {"id": "INC-1", "actor": "x"}, "report\n"
)


def _wait(cond: object, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if callable(cond) and cond():
            return
        time.sleep(0.02)
    raise AssertionError("receiver got nothing")


def test_webhook_body_is_hmac_signed() -> None:
    with http_receiver() as (url, log):
        WebhookSink(url + "/hook", b"s3cret").send(MSG)
    path, headers, body = log.requests[0]
    assert path == "/hook"
    assert headers[SIGNATURE_HEADER.lower()] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert json.loads(body)["incident"]["id"] == "INC-1"


def test_syslog_is_rfc5424() -> None:
    frame = format_5424(MSG, hostname="h")
    head = frame.split(b" ", 7)
    assert head[0] == b"<107>1" and head[2] == b"h" and head[3] == b"shareguard" and head[5] == b"INCIDENT"
    assert b'[shareguard@32473 incident="INC-1" severity="high"]' in frame


def test_retry_with_backoff_then_delivered(tmp_path: Path) -> None:
    sleeps: list[float] = []
    with http_receiver([500, 503]) as (url, log):
        d = Deliverer([make_sink("webhook+" + url)], tmp_path / "spool", sleep=sleeps.append)
        done = d.deliver([MSG])
    assert done.delivered and not done.failed
    assert len(log.requests) == 3 and sleeps == [0.5, 1.0]
    assert not list((tmp_path / "spool").rglob("*.json"))


def test_a_sink_that_is_down_keeps_the_alert_until_it_is_back(tmp_path: Path) -> None:
    port = free_port()
    spool = tmp_path / "spool"
    sink = f"http://127.0.0.1:{port}/hook"
    done = Deliverer([make_sink(sink)], spool, attempts=2, sleep=lambda s: None).deliver([MSG])
    assert done.failed and not done.delivered
    assert len(list(spool.rglob("*.json"))) == 1
    # a later run (a restart) delivers what was spooled, once the receiver listens again
    with http_receiver(port=port) as (_, log):
        later = Deliverer([make_sink(sink)], spool, sleep=lambda s: None).flush()
    assert [m for _, m in later.delivered] == ["INC-1"]
    assert [json.loads(b)["incident"]["id"] for _, _, b in log.requests] == ["INC-1"]
    assert not list(spool.rglob("*.json"))


def test_spooled_messages_are_delivered_once_the_receiver_listens(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    with http_receiver([500, 500]) as (url, log):
        first = Deliverer([make_sink(url)], spool, attempts=2, sleep=lambda s: None)
        assert first.deliver([MSG]).failed  # the receiver answers errors: kept
        again = Deliverer([make_sink(url)], spool, sleep=lambda s: None)
        assert [m for _, m in again.flush().delivered] == ["INC-1"]
    assert len(log.requests) == 3
    assert not list(spool.rglob("*.json"))


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_attack_sequence_is_one_incident_delivered_to_every_sink(tmp_path: Path, proto: str) -> None:
    syslog = udp_syslog if proto == "udp" else tcp_syslog
    with (
        http_receiver() as (url, hook),
        http_receiver() as (slack_url, slack),
        syslog() as (sport, lines),
        smtp_receiver() as (
            mport,
            mails,
        ),
    ):
        out = tmp_path / "alerts.jsonl"
        scheme = "syslog" if proto == "udp" else "syslog+tcp"
        args = [
            "logs",
            str(EXAMPLE_LOG),
            "--format",
            "json",
            "-q",
            "--spool",
            str(tmp_path / "spool"),
            "--handoff",
            str(tmp_path / "handoff"),
        ]
        for spec in (
            f"webhook+{url}/h",
            f"slack+{slack_url}/s",
            f"{scheme}://127.0.0.1:{sport}",
            f"smtp://127.0.0.1:{mport}?to=sec@example.com",
            f"file://{out}",
        ):
            args += ["--sink", spec]
        result = CliRunner().invoke(build_app(["logs"]), args)
        assert result.exit_code == 0, result.output
        _wait(lambda: lines and mails)
    report = json.loads(result.stdout)
    incidents = report["metadata"]["logs"]["incidents"]
    assert len(incidents) == 1
    inc = incidents[0]["id"]
    assert [json.loads(b)["incident"]["id"] for _, _, b in hook.requests] == [inc]
    assert (
        inc in json.loads(slack.requests[0][2])["text"] or "logging stopped" in json.loads(slack.requests[0][2])["text"]
    )
    assert inc.encode() in lines[0]
    assert inc in mails[0]["Subject"] and mails[0]["To"] == "sec@example.com"
    assert [json.loads(x)["incident"]["id"] for x in out.read_text().splitlines()] == [inc]
    assert (tmp_path / "handoff" / f"{inc}.txt").read_text().startswith(f"Security incident report {inc}")
    assert "AKIA" not in json.dumps(report)
