"""CloudTrail events exported as query results: Athena (CSV) and CloudTrail Lake (CSV, JSON).

Both query the CloudTrail table, whose columns are the event's top-level fields in lower case (Athena's
`CREATE EXTERNAL TABLE cloudtrail_logs` DDL; CloudTrail Lake's "supported SQL schema for CloudTrail event
record fields"): `eventversion`, `useridentity`, `eventtime`, `eventsource`, `eventname`, `awsregion`,
`sourceipaddress`, `useragent`, `errorcode`, `requestparameters`, `resources`, … A row is mapped back to
the event model CloudTrail delivers (`eventName`, `userIdentity.sessionContext.attributes.mfaAuthenticated`,
…) so the same rules fire on it:

- column and struct-member names are renamed through `NAMES` (unknown names are kept as they are);
- a struct, map or array cell is rendered by the query engine as text: `{type=IAMUser, arn=arn:…,
  sessioncontext={attributes={mfaauthenticated=false}}}` (Trino/Presto) or JSON; both are decoded
  (`requestparameters` is JSON text in Athena, a `map<string,string>` rendered `{k=v, …}` in Lake);
- an empty cell or `null` is a missing field; Lake's `eventtime` timestamp (`2024-05-01 10:00:00.000`) is
  written back as ISO 8601 UTC.

CloudTrail Lake's JSON results (`aws cloudtrail get-query-results`) hold
`{"QueryResultRows": [[{"eventname": "…"}, {"eventsource": "…"}], …]}`: one single-key object per column.

Budgets: a row is read through the decoder's line budget; a struct text nests at most `MAX_DEPTH` levels.
A row that is no CloudTrail event (no event name or source) is counted as unknown, like any other object.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

MAX_DEPTH = 32
"""Struct/array nesting accepted in a cell (CloudTrail's deepest struct is four levels)."""

NAMES: dict[str, str] = {
    # top-level columns (Athena DDL and CloudTrail Lake schema, lower case) → CloudTrail record fields
    "eventversion": "eventVersion",
    "useridentity": "userIdentity",
    "eventtime": "eventTime",
    "eventsource": "eventSource",
    "eventname": "eventName",
    "awsregion": "awsRegion",
    "sourceipaddress": "sourceIPAddress",
    "useragent": "userAgent",
    "errorcode": "errorCode",
    "errormessage": "errorMessage",
    "requestparameters": "requestParameters",
    "responseelements": "responseElements",
    "additionaleventdata": "additionalEventData",
    "requestid": "requestID",
    "eventid": "eventID",
    "eventtype": "eventType",
    "apiversion": "apiVersion",
    "readonly": "readOnly",
    "recipientaccountid": "recipientAccountId",
    "serviceeventdetails": "serviceEventDetails",
    "sharedeventid": "sharedEventID",
    "vpcendpointid": "vpcEndpointId",
    "vpcendpointaccountid": "vpcEndpointAccountId",
    "eventcategory": "eventCategory",
    "managementevent": "managementEvent",
    "tlsdetails": "tlsDetails",
    "sessioncredentialfromconsole": "sessionCredentialFromConsole",
    "edgedevicedetails": "edgeDeviceDetails",
    "insightdetails": "insightDetails",
    # struct members (userIdentity, resources, tlsDetails, addendum)
    "principalid": "principalId",
    "accountid": "accountId",
    "invokedby": "invokedBy",
    "accesskeyid": "accessKeyId",
    "username": "userName",
    "onbehalfof": "onBehalfOf",
    "userid": "userId",
    "identitystorearn": "identityStoreArn",
    "sessioncontext": "sessionContext",
    "mfaauthenticated": "mfaAuthenticated",
    "creationdate": "creationDate",
    "sessionissuer": "sessionIssuer",
    "webidfederationdata": "webIdFederationData",
    "federatedprovider": "federatedProvider",
    "sourceidentity": "sourceIdentity",
    "ec2roledelivery": "ec2RoleDelivery",
    "ec2issuedinvpc": "ec2IssuedInVPC",
    "identityprovider": "identityProvider",
    "tlsversion": "tlsVersion",
    "ciphersuite": "cipherSuite",
    "clientprovidedhostheader": "clientProvidedHostHeader",
    "updatedfields": "updatedFields",
    "originalrequestid": "originalRequestID",
    "originaleventid": "originalEventID",
}
"""Lower-case column / struct-member names → the record's field names. Keys inside `requestparameters`
and the other free-form maps keep their case (the query engine does not change it)."""

RENAME_UNDER: frozenset[str] = frozenset({"userIdentity", "resources", "tlsDetails", "addendum"})
"""Columns whose struct members are renamed; the free-form maps (`requestParameters`…) are not."""

_LAKE_TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$")
_KEY = re.compile(r"[A-Za-z0-9_$:.\-]{1,128}=")


class CellError(ValueError):
    """A cell whose struct text cannot be read (over the depth budget)."""


def is_csv_header(head: bytes) -> bool:
    """True when the first line of `head` is the header of a CloudTrail query result."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first = text.split(b"\n", 1)[0].lower()
    if text[:1] in (b"{", b"["):
        return False
    return b"eventname" in first and b"eventsource" in first and b"," in first


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, event or None, problem or None) for each data row of a CSV query result (the line
    where the row ends: a quoted cell may span lines)."""
    reader = csv.reader(iter(lines))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    columns = [h.strip().lstrip("\ufeff").lower() for h in header]
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"unreadable CSV row: {exc}"
            continue
        number = reader.line_num
        if not any(cells):
            continue
        try:
            yield number, row_event(zip(columns, cells, strict=False)), None
        except CellError as exc:
            yield number, None, str(exc)


def lake_rows(rows: Any) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """The same for CloudTrail Lake's JSON `QueryResultRows` (each row a list of one-key objects)."""
    if type(rows) is not list:
        yield 0, None, "QueryResultRows is not a list"
        return
    for number, row in enumerate(rows, 1):
        if type(row) is not list:
            yield number, None, "a result row is not a list of columns"
            continue
        pairs: list[tuple[str, Any]] = []
        for column in row:
            if type(column) is dict:
                pairs.extend((str(k).lower(), v) for k, v in column.items())
        try:
            yield number, row_event(pairs), None
        except CellError as exc:
            yield number, None, str(exc)


def row_event(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A CloudTrail record from (lower-case column, cell) pairs."""
    event: dict[str, Any] = {}
    for column, cell in pairs:
        name = NAMES.get(column, column)
        value = cell_value(cell)
        if value is None:
            continue
        if name in RENAME_UNDER:
            value = _rename(value, 0)
            if name == "resources" and type(value) is list:  # a resource's ARN is upper case in a record
                value = [{"ARN" if k == "arn" else k: v for k, v in r.items()} if type(r) is dict else r for r in value]
        elif name == "eventTime" and type(value) is str:
            m = _LAKE_TIME.match(value)
            if m:
                value = f"{m.group(1)}T{m.group(2)}Z"
        event[name] = value
    return event


def cell_value(cell: Any) -> Any:
    """A cell as a JSON value: JSON text or struct text decoded, `''`/`null` as None, other text as is."""
    if type(cell) is not str:
        return cell
    text = cell.strip()
    if not text or text == "null":
        return None
    if text[0] in "{[":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        try:
            value, end = _parse(text, 0, 0)
        except CellError as exc:
            if "deeper" in str(exc):
                raise
            return cell
        except (ValueError, IndexError):
            return cell
        if end == len(text):
            return value
    return cell


def _parse(text: str, i: int, depth: int) -> tuple[Any, int]:
    """A Trino/Presto rendering (`{k=v, k={…}}`, `[a, {…}]`, scalars) from `text[i:]`; (value, end)."""
    if depth > MAX_DEPTH:
        raise CellError(f"struct text nested deeper than {MAX_DEPTH} levels")
    ch = text[i]
    if ch == "{":
        obj: dict[str, Any] = {}
        i += 1
        if text[i] == "}":
            return obj, i + 1
        while True:
            eq = text.index("=", i)
            key = text[i:eq]
            value, i = _value(text, eq + 1, depth, "}")
            obj[key] = value
            if text[i] == "}":
                return obj, i + 1
            i += 2  # ", "
    if ch == "[":
        items: list[Any] = []
        i += 1
        if text[i] == "]":
            return items, i + 1
        while True:
            value, i = _value(text, i, depth, "]")
            items.append(value)
            if text[i] == "]":
                return items, i + 1
            i += 2
    raise CellError("not a struct")


def _value(text: str, i: int, depth: int, close: str) -> tuple[Any, int]:
    if text[i] in "{[":
        try:
            return _parse(text, i, depth + 1)
        except (ValueError, IndexError) as exc:
            if isinstance(exc, CellError) and "deeper" in str(exc):
                raise
    # a scalar runs to the ", " that starts the next member (`key=` in a struct) or to the closing bracket
    level = 0
    k = i
    n = len(text)
    while k < n:
        c = text[k]
        if c in "{[":
            level += 1
        elif c in "}]":
            if level == 0:
                break
            level -= 1
        elif c == "," and level == 0 and text.startswith(", ", k) and (close == "]" or _KEY.match(text, k + 2)):
            break
        k += 1
    else:
        raise CellError("unclosed struct")
    scalar = text[i:k]
    return (None if scalar == "null" else scalar), k


def _rename(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return value
    if type(value) is dict:
        return {NAMES.get(k, k) if k.islower() else k: _rename(v, depth + 1) for k, v in value.items()}
    if type(value) is list:
        return [_rename(v, depth + 1) for v in value]
    return value


def text_lines(stream: Any, limit: int) -> Iterator[str | int]:
    """The UTF-8 lines of a binary stream; an int (the line number) in place of a line over `limit` bytes
    (the caller reports it and passes an empty line on, so line numbers stay true)."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(limit)) and not rest.endswith(b"\n"):
                pass
            yield number
            continue
        yield line.decode("utf-8", "replace")
