"""Raw pickle files (protocols 0-5), legacy `torch.save` streams and plain joblib files: one walk.

A pickle behind a short header (a cache file's hash line, a binary length) is walked from where it
starts (`sniff.pickle_offset`): its library skips the header and unpickles the rest."""

from __future__ import annotations

from typing import BinaryIO

from shareguard.models.formats.env import Env
from shareguard.models.formats.joblib import joblib_hooks
from shareguard.models.formats.pickle_walker import probe_pickle, walk_stream
from shareguard.models.formats.sniff import SNIFF_HEAD, pickle_offset
from shareguard.models.formats.stream import ChunkedReader
from shareguard.models.pickle_findings import report_walk
from shareguard.models.sink import Where


def scan(
    env: Env,
    where: Where,
    fh: BinaryIO,
    size: int | None,
    name: str,
    *,
    expect_trailing: bool = False,
    guessed: bool = False,
) -> bool:
    """Walk every pickle in `fh`. When the content was only guessed to be a pickle (by its name)
    and not one opcode made sense, nothing is reported and False is returned."""
    try:
        start = fh.tell()
    except (OSError, ValueError):
        start = 0
    limit = None if size is None else start + size
    reader = ChunkedReader(fh, start=start, limit=limit)
    head = reader.peek(SNIFF_HEAD)
    if not probe_pickle(head):
        skip = pickle_offset(head)
        if skip is not None:
            reader.skip(skip)
    res = walk_stream(reader, build_hooks=joblib_hooks())
    if guessed and res.pickles == 0 and not res.globals and not res.anomalies:
        return False
    report_walk(env.sink, where, res, expect_trailing=expect_trailing)
    return True
