"""CloudTrail query results (Athena CSV, CloudTrail Lake CSV and JSON) decode to the events the same rules
fire on as the records CloudTrail delivers; hostile cells have a bounded, located outcome."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.logs.detect import Detector, builtin_rules
from shareguard.logs.ingest import Decoder, sniff
from shareguard.logs.tabular import MAX_DEPTH, cell_value, csv_rows

EXAMPLE_LOG = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "logs" / "cloudtrail.json"
# Athena's CloudTrail table (CREATE EXTERNAL TABLE cloudtrail_logs, AWS docs) and CloudTrail Lake's schema
COLUMNS = [
    "eventversion",
    "useridentity",
    "eventtime",
    "eventsource",
    "eventname",
    "awsregion",
    "sourceipaddress",
    "useragent",
    "errorcode",
    "errormessage",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "requestid",
    "eventid",
    "resources",
    "eventtype",
    "apiversion",
    "readonly",
    "recipientaccountid",
]


def struct_text(value: Any, *, lower: bool = True) -> str:
    """How Trino/Presto (Athena, CloudTrail Lake) render a struct (member names lower case), a map (keys as
    they are: lower=False) or an array cell."""
    if isinstance(value, dict):
        items = ", ".join(f"{k.lower() if lower else k}={struct_text(v, lower=lower)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(struct_text(v, lower=lower) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_of(record: dict[str, Any], column: str) -> Any:
    for key, value in record.items():
        if key.lower() == column:
            return value
    return None


def athena_cell(column: str, value: Any, *, lake: bool) -> str:
    if value is None:
        return ""
    if column in ("useridentity", "resources"):
        return struct_text(value)
    if isinstance(value, (dict, list)):  # JSON text in Athena, map<string,string> in Lake
        if lake and isinstance(value, dict) and _flat(value):
            return struct_text(value, lower=False)
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flat(value: dict[str, Any]) -> bool:
    return all(not isinstance(v, (dict, list)) for v in value.values())


def records() -> list[dict[str, Any]]:
    doc = json.loads(EXAMPLE_LOG.read_text())
    recs: list[dict[str, Any]] = doc["Records"]
    return recs


def as_csv(recs: list[dict[str, Any]], *, lake: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in recs:
        writer.writerow([athena_cell(c, field_of(r, c), lake=lake) for c in COLUMNS])
    return out.getvalue().encode()


def detect(name: str, data: bytes) -> tuple[list[tuple[str, str | None]], Detector]:
    detector = Detector(builtin_rules())
    detector.feed(name, io.BytesIO(data))
    result = detector.finish()
    return sorted((a.rule.id, a.event.data.get("eventName")) for a in result.alerts), detector


def test_athena_and_lake_exports_raise_the_alerts_of_the_delivered_records() -> None:
    recs = records()
    expected, _ = detect("trail.json", EXAMPLE_LOG.read_bytes())
    assert expected  # the example holds an attack
    for lake in (False, True):
        data = as_csv(recs, lake=lake)
        assert sniff(data[:4096])
        got, detector = detect("export.csv", data)
        assert got == expected
        assert detector.result.issues == []


def test_lake_json_query_results() -> None:
    recs = records()
    rows = [
        [{c: athena_cell(c, field_of(r, c), lake=True)} for c in COLUMNS if field_of(r, c) is not None] for r in recs
    ]
    data = json.dumps({"QueryStatus": "FINISHED", "QueryResultRows": rows}).encode()
    assert sniff(data[:4096])
    expected, _ = detect("trail.json", EXAMPLE_LOG.read_bytes())
    got, _ = detect("lake.json", data)
    assert got == expected


def test_struct_text_becomes_the_record_and_lake_timestamps_iso() -> None:
    data = (
        b"eventtime,eventsource,eventname,useridentity,requestparameters\n"
        b'2024-05-01 10:00:01.000,s3.amazonaws.com,GetObject,"{type=IAMUser, arn=arn:aws:iam::1:user/a, '
        b'sessioncontext={attributes={mfaauthenticated=false, creationdate=null}}}","{bucketName=b, key=x, y}"\n'
    )
    events = list(Decoder("q.csv").events(io.BytesIO(data)))
    assert len(events) == 1
    e = events[0].data
    assert e["eventTime"] == "2024-05-01T10:00:01.000Z"
    assert e["userIdentity"]["sessionContext"]["attributes"] == {"mfaAuthenticated": "false", "creationDate": None}
    assert e["requestParameters"] == {"bucketName": "b", "key": "x, y"}  # a ", " not before `key=` stays in the value


def test_bad_rows_are_located_and_the_rest_is_read() -> None:
    good = b"cloudtrail.amazonaws.com,StopLogging\n"
    deep = b'"' + b"{a=" * (MAX_DEPTH + 5) + b"x" + b"}" * (MAX_DEPTH + 5) + b'",x\n'
    giant = b"s3.amazonaws.com," + b"A" * 5000 + b"\n"
    not_event = b"s3.amazonaws.com,\n"
    data = b"eventsource,eventname\n" + good + giant + deep + not_event + good
    d = Decoder("q.csv", max_line_bytes=1024)
    events = list(d.events(io.BytesIO(data)))
    assert [e.position for e in events] == ["line 2", "line 6"]
    messages = [i.one_line() for i in d.issues]
    assert any("q.csv:line 3" in m and "budget" in m for m in messages)
    assert any("q.csv:line 4" in m and "deeper" in m for m in messages)
    assert any("1 JSON object(s) are not CloudTrail" in m for m in messages)  # the row without a name


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]=, ab"\n', max_size=200))
def test_any_cell_text_is_decoded_or_kept_never_a_crash(text: str) -> None:
    value = cell_value(text)
    assert value is None or isinstance(value, (str, dict, list, int, float, bool))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_csv_body_has_a_bounded_outcome(body: bytes) -> None:
    data = b"eventsource,eventname,useridentity\n" + body
    d = Decoder("q.csv", max_line_bytes=256)
    for event in d.events(io.BytesIO(data)):
        assert event.data.get("eventName") is not None
    rows = list(csv_rows(iter(body.decode("utf-8", "replace").splitlines(keepends=True))))
    assert all(isinstance(n, int) for n, _, _ in rows)
