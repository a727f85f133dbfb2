"""gzip layers inflated by the system libz (through ctypes) in a worker thread, into a ring of reused buffers.

Why not the `zlib` module in that thread: its `decompress` allocates a fresh output object per call and
releases and re-takes the GIL once per output block (32 KiB, 64 KiB, 256 KiB, 1 MiB…). While the tar
walk holds the GIL those re-takes stall the inflater, which is the critical path of a cold scan;
measured on a 3 GB image, calling `inflate()` directly — one GIL release per 4 MiB of input, output
written in place into 8 MiB buffers that the parser hands back — made the layer reads ~14 % faster.
Serially both run at the same speed (it is the same libz). `zlib` stays the fallback when libz cannot
be loaded, and is used when no worker thread is wanted.

The binding is the documented zlib ABI: `inflateInit2_` receives `sizeof(z_stream)` and the library
version and refuses a mismatch, so a layout error cannot go unnoticed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shareguard.sources.image.streams import GZIP_MAGIC, DecompressError, RawReader, ViewReader

Z_OK, Z_STREAM_END, Z_BUF_ERROR = 0, 1, -5
_GZIP_ONLY = 31  # windowBits 15 + 16: gzip wrapper required, as `zlib.decompressobj(31)`
_IN = 4 << 20
"""Compressed bytes per read: each read and each inflate call re-takes the GIL, so fewer, larger steps
keep the inflater from waiting on the parser (measured: 1 MiB reads left it idle ~2 s per 3 GB image)."""
SLOT = 8 << 20
SLOTS = 12
"""Output ring: up to 96 MiB decompressed ahead of the parser (it lags in small-file regions)."""
_POLL = 0.05
"""Seconds a worker waiting for a free buffer sleeps between checks of
its stop flag: a shared ring has no sentinel a worker could tell is its own."""


HANDOFF_INTERVAL = 0.0005
"""Seconds a thread waits for the GIL before it asks the holder to let go, while layers inflate.

Each `inflate()` call and each read re-takes the GIL. While the tar walk holds it, a re-take waits out
the interpreter's switch interval (5 ms by default), several hundred times per 3 GB image, which left
the inflater — the critical path of a cold scan — idle between its steps. Measured idle on the 3 GB
benchmark image, side by side: cold scan 1.20x the decompression floor with 0.5 ms against 1.35x
with the default, and 0.5 CPU-s less (`benchmarks/README.md`)."""


@contextmanager
def quick_handoff(interval: float = HANDOFF_INTERVAL) -> Iterator[None]:
    """Lower the interpreter's switch interval to `interval` (never raise it) while layers inflate.

    The switch interval is process-wide, so it is put back on exit, and only if it is still the value set
    here: a scan in another thread that began earlier and ended later, or a caller that changed it
    meanwhile, keeps what it set."""
    before = sys.getswitchinterval()
    if before <= interval:
        yield
        return
    sys.setswitchinterval(interval)
    mine = sys.getswitchinterval()  # the interpreter may round it
    try:
        yield
    finally:
        if sys.getswitchinterval() == mine:
            sys.setswitchinterval(before)


class ZStream(ctypes.Structure):
    _fields_ = [
        ("next_in", ctypes.c_void_p),
        ("avail_in", ctypes.c_uint),
        ("total_in", ctypes.c_ulong),
        ("next_out", ctypes.c_void_p),
        ("avail_out", ctypes.c_uint),
        ("total_out", ctypes.c_ulong),
        ("msg", ctypes.c_char_p),
        ("state", ctypes.c_void_p),
        ("zalloc", ctypes.c_void_p),
        ("zfree", ctypes.c_void_p),
        ("opaque", ctypes.c_void_p),
        ("data_type", ctypes.c_int),
        ("adler", ctypes.c_ulong),
        ("reserved", ctypes.c_ulong),
    ]


class Libz:
    """The few libz entry points an inflater needs."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        lib.zlibVersion.restype = ctypes.c_char_p
        lib.zlibVersion.argtypes = []
        stream = ctypes.POINTER(ZStream)
        lib.inflateInit2_.argtypes = [stream, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.inflate.argtypes = [stream, ctypes.c_int]
        lib.inflateReset.argtypes = [stream]
        lib.inflateEnd.argtypes = [stream]
        for fn in (lib.inflateInit2_, lib.inflate, lib.inflateReset, lib.inflateEnd):
            fn.restype = ctypes.c_int
        self.lib = lib
        self.version: bytes = lib.zlibVersion()

    def init(self, zs: ZStream) -> None:
        rc = self.lib.inflateInit2_(ctypes.byref(zs), _GZIP_ONLY, self.version, ctypes.sizeof(ZStream))
        if rc != Z_OK:
            raise DecompressError(f"libz refused to start an inflate stream (code {rc})")


@functools.cache
def load() -> Libz | None:
    """The system libz, or None (then the `zlib` module is used)."""
    name = ctypes.util.find_library("z")
    if not name:
        return None
    try:
        libz = Libz(ctypes.CDLL(name))
        probe = ZStream()
        libz.init(probe)
        libz.lib.inflateEnd(ctypes.byref(probe))
    except (OSError, AttributeError, DecompressError):
        return None
    return libz


class Ring:
    """The output buffers (`SLOTS` x `SLOT`) of the inflaters of one image's layers, kept from one layer to
    the next. Each is allocated by a worker when first needed, so a small layer touches one, and
    zero-filling 96 MiB is paid once per scan, not before every layer. The inflaters of the layers read
    at once (`image/scan.apply_layers`) take them from one queue: memory is the ring's whatever the number
    of layers in flight. No deadlock: each buffer taken is handed back by its own layer's parser, which
    reads on without waiting for any other layer."""

    def __init__(self) -> None:
        self.bufs: list[bytearray | None] = [None] * SLOTS
        self.free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(SLOTS):
            self.free.put(i)


class LibzReader(ViewReader):
    """`readinto` over a gzip stream (multi-member, zero padding allowed) inflated by a worker thread.

    `settle` runs in the reading thread each time it takes a buffer (see `decompressed`). `ring`: buffers
    shared with the readers of the image's other layers (default: a ring of its own).
    """

    def __init__(
        self,
        libz: Libz,
        src: RawReader,
        settle: Callable[[], None] = lambda: None,
        ring: Ring | None = None,
    ) -> None:
        self._z = libz
        self._src = src
        self._settle = settle
        ring = ring if ring is not None else Ring()
        self._bufs = ring.bufs
        self._free = ring.free
        self._held = -1
        """The buffer the worker is filling (handed back to the ring if it stops before passing it on)."""
        self._ready: queue.SimpleQueue[tuple[int, int] | BaseException | None] = queue.SimpleQueue()
        self._current = -1
        self._view = memoryview(b"")
        self._done = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="libz-inflate", daemon=True)
        self._thread.start()

    # -- worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._inflate()
            self._ready.put(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._ready.put(exc.with_traceback(None))  # its frames would keep a ring buffer exported
        finally:
            if self._held >= 0:
                self._free.put(self._held)
                self._held = -1

    def _inflate(self) -> None:
        z, zs = self._z, ZStream()
        z.init(zs)
        try:
            self._inflate_members(z, zs)
        finally:
            z.lib.inflateEnd(ctypes.byref(zs))

    def _inflate_members(self, z: Libz, zs: ZStream) -> None:
        ref = ctypes.byref(zs)
        inp = b""  # the input zlib points into: kept referenced while in use
        in_member = True
        slot, out = self._next_slot()
        if slot < 0:
            return
        zs.next_out, zs.avail_out = ctypes.addressof(out), SLOT
        while not self._stop.is_set():
            if zs.avail_in == 0:
                inp = self._src.read(_IN)
                if not inp:
                    if in_member:
                        raise DecompressError("truncated gzip stream (unexpected end of data)")
                    break
                zs.next_in, zs.avail_in = ctypes.cast(ctypes.c_char_p(inp), ctypes.c_void_p), len(inp)
            if not in_member:  # between members: another member, or zero padding to the end
                off = len(inp) - zs.avail_in
                if zs.avail_in < 2:  # two bytes tell a member from padding: join with the next read
                    rest = inp[off:]
                    while len(rest) < 2:
                        more = self._src.read(_IN)
                        if not more:
                            break
                        rest += more
                    inp, off = rest, 0
                    zs.next_in, zs.avail_in = ctypes.cast(ctypes.c_char_p(inp), ctypes.c_void_p), len(inp)
                # No copy of the rest of the input per member (next_in already points there): a
                # stream of many tiny members must stay linear.
                if inp[off : off + 2] == GZIP_MAGIC:
                    z.lib.inflateReset(ref)
                    in_member = True
                else:
                    if inp[off:].strip(b"\0"):
                        raise DecompressError("trailing garbage after the gzip stream")
                    zs.avail_in = 0
                    continue
            rc = z.lib.inflate(ref, 0)  # ctypes releases the GIL for the call
            if rc == Z_STREAM_END:
                in_member = False
            elif rc not in (Z_OK, Z_BUF_ERROR):
                detail = zs.msg.decode("utf-8", "replace") if zs.msg else f"code {rc}"
                raise DecompressError(f"corrupt gzip stream (Error {rc} while decompressing data: {detail})")
            if zs.avail_out == 0:
                self._held = -1
                self._ready.put((slot, SLOT))
                slot, out = self._next_slot()
                if slot < 0:
                    return
                zs.next_out, zs.avail_out = ctypes.addressof(out), SLOT
        used = SLOT - zs.avail_out
        if used and not self._stop.is_set():
            self._held = -1
            self._ready.put((slot, used))

    def _next_slot(self) -> tuple[int, Any]:
        while True:
            try:
                slot = self._free.get(timeout=_POLL)
            except queue.Empty:
                if self._stop.is_set():
                    return -1, None
                continue
            if self._stop.is_set():
                self._free.put(slot)
                return -1, None
            break
        self._held = slot
        buf = self._bufs[slot]
        if buf is None:
            buf = self._bufs[slot] = bytearray(SLOT)
        return slot, (ctypes.c_char * SLOT).from_buffer(buf)

    # -- reader -------------------------------------------------------------------------------
    def _next_view(self) -> bool:
        while not self._view:
            if self._done:
                return False
            if self._current >= 0:
                self._free.put(self._current)
                self._current = -1
            item = self._ready.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._settle()  # everything the worker read for this buffer is hashed before it is used
            if item is None:
                self._done = True
                return False
            self._current, n = item
            buf = self._bufs[self._current]
            assert buf is not None  # the worker filled it
            self._view = memoryview(buf)[:n]
        return True

    def close(self) -> None:
        """Stop the worker and hand back to the ring every buffer this reader still holds (the one being
        read and those inflated but not read): the next layer's reader fills them."""
        self._stop.set()
        self._thread.join()
        self._view = memoryview(b"")
        if self._current >= 0:
            self._free.put(self._current)
            self._current = -1
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                self._free.put(item[0])
