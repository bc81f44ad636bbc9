"""``BufferEvent`` (``struct bufferevent``) and ``Listener``
(``struct evconnlistener``)."""

from __future__ import annotations

import ctypes
import enum
import errno
import itertools
import os
import socket
import struct
import weakref
from ctypes import c_void_p
from typing import Any, Callable, cast

from . import _callback
from ._errors import GoeventError, clear_errno, failure
from ._handle import Handle
from ._lib import (
    BEV_DATA_CB,
    BEV_EVENT_CB,
    FILTER_CB,
    FREE_CB,
    LISTENER_CB,
    LISTENER_ERR_CB,
    Timeval,
    lib,
    null_callback,
)
from .buffer import Buffer, BytesLike, _as_bytes
from .loop import EV, EventBase
from .ratelimit import RateLimitGroup, TokenBucket

Address = tuple[Any, ...]


class BEV(enum.IntFlag):
    """What a bufferevent's event callback reports (``BEV_EVENT_*``)."""

    READING = 0x01
    WRITING = 0x02
    EOF = 0x10
    ERROR = 0x20
    TIMEOUT = 0x40
    CONNECTED = 0x80


class BEVOpt(enum.IntFlag):
    """Options for new bufferevents (``BEV_OPT_*``)."""

    CLOSE_ON_FREE = 0x01
    THREADSAFE = 0x02
    DEFER_CALLBACKS = 0x04
    UNLOCK_CALLBACKS = 0x08


class FilterResult(enum.IntEnum):
    """What a filter returns (``enum bufferevent_filter_result``)."""

    OK = 0  # BEV_OK: wrote something to dst
    NEED_MORE = 1  # BEV_NEED_MORE: needs more input before writing anything
    ERROR = 2  # BEV_ERROR: failed; the bufferevent reports an error


class Flush(enum.IntEnum):
    """How hard to push data through (``enum bufferevent_flush_mode``)."""

    NORMAL = 0  # ordinary traffic
    FLUSH = 1  # write out everything buffered
    FINISHED = 2  # as FLUSH, and no more data will follow


class LEV(enum.IntFlag):
    """Options for new listeners (``LEV_OPT_*``)."""

    LEAVE_SOCKETS_BLOCKING = 1 << 0
    CLOSE_ON_FREE = 1 << 1
    CLOSE_ON_EXEC = 1 << 2
    REUSEABLE = 1 << 3
    THREADSAFE = 1 << 4
    DISABLED = 1 << 5
    DEFERRED_ACCEPT = 1 << 6
    REUSEABLE_PORT = 1 << 7
    BIND_IPV6ONLY = 1 << 8


def _sockaddr(address: Address) -> bytes:
    """Encode ``(host, port)`` as a C ``struct sockaddr_in``/``_in6``."""
    host, port = address[0], address[1]
    family, _, _, _, sa = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    if family == socket.AF_INET:
        return (
            struct.pack("=H", family)
            + struct.pack("!H", sa[1])
            + socket.inet_pton(family, sa[0])
            + bytes(8)
        )
    if family == socket.AF_INET6:
        ip6, port6, flow, scope = cast(tuple[str, int, int, int], sa)
        return (
            struct.pack("=H", family)
            + struct.pack("!HI", port6, flow)
            + socket.inet_pton(family, ip6.split("%")[0])
            + struct.pack("=I", scope)
        )
    raise ValueError(f"unsupported address family for {address!r}")


def _address(ptr: int, length: int) -> Address:
    """Decode a C ``struct sockaddr`` into a Python address tuple."""
    raw = ctypes.string_at(ptr, length)
    (family,) = struct.unpack_from("=H", raw)
    if family == socket.AF_INET:
        (port,) = struct.unpack_from("!H", raw, 2)
        return (socket.inet_ntop(family, raw[4:8]), port)
    if family == socket.AF_INET6:
        port, flow = struct.unpack_from("!HI", raw, 2)
        (scope,) = struct.unpack_from("=I", raw, 24)
        return (socket.inet_ntop(family, raw[8:24]), port, flow, scope)
    return (family, raw)


def _local_address(fd: int) -> Address:
    sock = socket.socket(fileno=fd)
    try:
        return sock.getsockname()
    finally:
        sock.detach()  # the fd is not ours to close


ReadCallback = Callable[["BufferEvent"], None]
EventCallback = Callable[["BufferEvent", BEV], None]
#: ``filter(src, dst, limit, mode)``: move (transformed) bytes from ``src``
#: to ``dst``, at most ``limit`` bytes unless it is None.
FilterCallback = Callable[[Buffer, Buffer, "int | None", Flush], FilterResult]

# The thunks of live filters, by the key handed to bufferevent_filter_new as
# its context: kept until the library calls free_context, which it does
# only once nothing can call the filters any more.
_filters: dict[int, tuple[Any, ...]] = {}
_filter_keys = itertools.count(1)


def _free_filter(key: int | None) -> None:
    thunks = _filters.pop(key or 0, None)
    if thunks is not None:
        _callback.retire(*thunks)


_FREE_FILTER = _callback.thunk(FREE_CB, "filter cleanup", _free_filter)


def _filter_thunk(
    fn: FilterCallback, label: str, owner: "BufferEvent", interrupt: Callable[[], None]
) -> Any:
    def handler(src: int, dst: int, limit: int, mode: int, _ctx: int) -> int:
        # Wrappers for this call only: detached (their views revoked, any
        # callbacks added through them removed) when it returns.
        s = Buffer._borrow(src, owner)
        d = Buffer._borrow(dst, owner)
        try:
            result = fn(s, d, None if limit < 0 else limit, Flush(mode))
        finally:
            s._detach()
            d._detach()
        if not isinstance(result, FilterResult):
            raise TypeError(f"a filter must return a FilterResult, not {result!r}")
        return int(result)

    return _callback.thunk(
        FILTER_CB, label, handler, interrupt, failed=FilterResult.ERROR
    )


class BufferEvent(Handle):
    """A socket (or one end of a pair) with an input and an output buffer.

    Callbacks: ``read(bev)`` when input reaches the read low watermark,
    ``write(bev)`` when output drains to the write low watermark,
    ``event(bev, what)`` for :class:`BEV` conditions. After an error,
    ``bev.socket_error`` holds the errno.

    Kinds: a socket (``BufferEvent(base, fd)``, :meth:`from_socket`,
    :meth:`connect`), a :meth:`pair`, and a :meth:`filter` on top of
    another bufferevent. Rate limits: :meth:`set_rate_limit` and
    :class:`~goevent.RateLimitGroup`.

    The base keeps the bufferevent alive until it is closed; closing is
    safe inside its own callbacks.
    """

    _kind = "BufferEvent"

    def __init__(
        self,
        base: EventBase,
        fd: int | None = None,
        options: BEVOpt = BEVOpt.CLOSE_ON_FREE,
    ) -> None:
        """Wrap a nonblocking socket ``fd`` (owned if ``CLOSE_ON_FREE``),
        or none yet when ``fd`` is None (see :meth:`connect`)."""
        self._setup(base)
        ptr = lib.bufferevent_socket_new(
            base._handle(), -1 if fd is None else fd, int(options)
        )
        if not ptr:
            raise failure("bufferevent_socket_new", use_errno=False)
        self._attach(ptr)

    @classmethod
    def from_socket(
        cls, base: EventBase, sock: socket.socket, options: BEVOpt = BEVOpt(0)
    ) -> "BufferEvent":
        """Take over ``sock``: it is made nonblocking and detached, and the
        bufferevent closes it when freed."""
        sock.setblocking(False)
        return cls(base, sock.detach(), options | BEVOpt.CLOSE_ON_FREE)

    @classmethod
    def pair(
        cls, base: EventBase, options: BEVOpt = BEVOpt(0)
    ) -> tuple["BufferEvent", "BufferEvent"]:
        """Two bufferevents connected to each other in memory. libevent 2.1
        always defers a pair's callbacks to the loop."""
        out = (c_void_p * 2)()
        if lib.bufferevent_pair_new(base._handle(), int(options), out) < 0:
            raise failure("bufferevent_pair_new", use_errno=False)
        ends = []
        for ptr in out:
            if not ptr:
                raise failure("bufferevent_pair_new", use_errno=False)
            bev = cls.__new__(cls)
            bev._setup(base)
            bev._attach(ptr)
            ends.append(bev)
        return ends[0], ends[1]

    @classmethod
    def filter(
        cls,
        underlying: "BufferEvent",
        input: FilterCallback | None = None,
        output: FilterCallback | None = None,
        options: BEVOpt = BEVOpt.CLOSE_ON_FREE,
    ) -> "BufferEvent":
        """A bufferevent whose data passes through Python filters on its
        way to and from ``underlying`` (``bufferevent_filter_new``).

        ``input(src, dst, limit, mode)`` moves bytes from the underlying's
        input (``src``) to this bufferevent's input (``dst``);
        ``output`` moves bytes from this bufferevent's output to the
        underlying's output. ``limit`` is the most ``dst`` should receive
        (None: no limit); ``mode`` is a :class:`Flush`. A filter returns a
        :class:`FilterResult`; one that raises (or returns anything else)
        is logged on the ``goevent`` logger and counts as
        ``FilterResult.ERROR``. ``None`` passes bytes through unchanged.
        The two :class:`~goevent.Buffer` arguments are valid only during
        the call.

        The filter takes over the underlying's callbacks (do not set
        them). With ``BEVOpt.CLOSE_ON_FREE`` (the default) closing the
        filter closes the underlying too, and closing the underlying closes
        the filter; without it the underlying stays usable after the
        filter is closed.
        """
        base = underlying._base
        bev = cls.__new__(cls)
        bev._setup(base)
        key = next(_filter_keys)
        brk = base._break
        thunks = (
            _filter_thunk(input, "input filter", bev, brk) if input else None,
            _filter_thunk(output, "output filter", bev, brk) if output else None,
        )
        _filters[key] = tuple(t for t in thunks if t is not None)
        ptr = lib.bufferevent_filter_new(
            underlying._handle(),
            thunks[0] or null_callback(FILTER_CB),
            thunks[1] or null_callback(FILTER_CB),
            int(options),
            _FREE_FILTER,
            key,
        )
        if not ptr:
            _filters.pop(key, None)
            raise failure("bufferevent_filter_new", use_errno=False)
        bev._underlying = underlying
        bev._owns_underlying = bool(options & BEVOpt.CLOSE_ON_FREE)
        underlying._filtered_by = bev
        bev._attach(ptr)
        return bev

    def _setup(self, base: EventBase) -> None:
        self._base = base
        self._on_read: ReadCallback | None = None
        self._on_write: ReadCallback | None = None
        self._on_event: EventCallback | None = None
        self._input: Buffer | None = None
        self._output: Buffer | None = None
        self._underlying: BufferEvent | None = None
        self._owns_underlying = False
        self._filtered_by: BufferEvent | None = None
        self._bucket: TokenBucket | None = None
        self._group: RateLimitGroup | None = None
        self.socket_error = 0

    def _attach(self, ptr: int) -> None:
        ref = weakref.ref(self)

        def on_read(_bev: int, _arg: int) -> None:
            bev = ref()
            if bev is not None and bev._on_read is not None:
                bev._on_read(bev)

        def on_write(_bev: int, _arg: int) -> None:
            bev = ref()
            if bev is not None and bev._on_write is not None:
                bev._on_write(bev)

        def on_event(_bev: int, what: int, _arg: int) -> None:
            bev = ref()
            if bev is None:
                return
            if what & BEV.ERROR:
                bev.socket_error = ctypes.get_errno()
            if bev._on_event is not None:
                bev._on_event(bev, BEV(what))

        brk = self._base._break
        self._thunks = (
            _callback.thunk(BEV_DATA_CB, "bufferevent read", on_read, brk),
            _callback.thunk(BEV_DATA_CB, "bufferevent write", on_write, brk),
            _callback.thunk(BEV_EVENT_CB, "bufferevent event", on_event, brk),
        )
        self._ptr = ptr
        self._base._adopt(self)

    def set_callbacks(
        self,
        read: ReadCallback | None = None,
        write: ReadCallback | None = None,
        event: EventCallback | None = None,
    ) -> None:
        """Replace all three callbacks (``None`` for none)."""
        ptr = self._handle()
        if self._filtered_by is not None and not self._filtered_by.closed:
            raise GoeventError(
                errno.EBUSY, "a filter owns this bufferevent's callbacks"
            )
        self._on_read, self._on_write, self._on_event = read, write, event
        r, w, e = self._thunks
        lib.bufferevent_setcb(
            ptr,
            r if read else null_callback(BEV_DATA_CB),
            w if write else null_callback(BEV_DATA_CB),
            e if event else null_callback(BEV_EVENT_CB),
            None,
        )

    def connect(self, address: Address) -> None:
        """Start connecting to ``(host, port)``; ``event`` reports
        ``BEV.CONNECTED`` or ``BEV.ERROR``. Creates the socket if needed."""
        sa = _sockaddr(address)
        ptr = self._handle()
        clear_errno()
        if lib.bufferevent_socket_connect(ptr, sa, len(sa)) < 0:
            raise failure("bufferevent_socket_connect")

    # -- buffers ---------------------------------------------------------

    @property
    def input(self) -> Buffer:
        """The input buffer, borrowed: valid until this is closed."""
        if self._input is None:
            ptr = lib.bufferevent_get_input(self._handle())
            self._input = Buffer._borrow(ptr, self)
        self._handle()
        return self._input

    @property
    def output(self) -> Buffer:
        """The output buffer, borrowed: valid until this is closed."""
        if self._output is None:
            ptr = lib.bufferevent_get_output(self._handle())
            self._output = Buffer._borrow(ptr, self)
        self._handle()
        return self._output

    def write(self, data: BytesLike) -> None:
        """Queue a copy of ``data`` for sending."""
        raw = _as_bytes(data)
        ptr = self._handle()
        if self._output is not None:
            self._output._release_views()
        try:
            if lib.bufferevent_write(ptr, raw, len(raw)) < 0:
                raise failure("bufferevent_write", use_errno=False)
        finally:
            _callback.reraise_pending()

    def read(self, size: int = -1) -> bytes:
        """Take up to ``size`` bytes (all if negative) from the input."""
        ptr = self._handle()
        if self._input is not None:
            self._input._release_views()
        if size < 0:
            size = lib.evbuffer_get_length(lib.bufferevent_get_input(ptr))
        if size == 0:
            return b""
        out = ctypes.create_string_buffer(size)
        got = lib.bufferevent_read(ptr, out, size)
        return out.raw[:got]

    # -- control ---------------------------------------------------------

    def enable(self, events: EV = EV.READ | EV.WRITE) -> None:
        if lib.bufferevent_enable(self._handle(), int(events)) < 0:
            raise failure("bufferevent_enable", use_errno=False)

    def disable(self, events: EV = EV.READ | EV.WRITE) -> None:
        if lib.bufferevent_disable(self._handle(), int(events)) < 0:
            raise failure("bufferevent_disable", use_errno=False)

    @property
    def enabled(self) -> EV:
        return EV(lib.bufferevent_get_enabled(self._handle()))

    def set_watermark(self, events: EV, low: int, high: int = 0) -> None:
        """Set the low/high watermarks for ``EV.READ`` and/or ``EV.WRITE``.

        Reading stops while the input holds ``high`` bytes or more (0: no
        limit); the read callback waits for ``low`` bytes; the write
        callback fires once the output drains to ``low`` bytes or fewer.
        """
        lib.bufferevent_setwatermark(self._handle(), int(events), low, high)

    def set_timeouts(
        self, read: float | None = None, write: float | None = None
    ) -> None:
        """Report ``BEV.TIMEOUT`` after this many idle seconds."""
        r = None if read is None else ctypes.byref(Timeval.from_seconds(read))
        w = None if write is None else ctypes.byref(Timeval.from_seconds(write))
        if lib.bufferevent_set_timeouts(self._handle(), r, w) < 0:
            raise failure("bufferevent_set_timeouts", use_errno=False)

    @property
    def fd(self) -> int:
        """The socket, or -1."""
        return lib.bufferevent_getfd(self._handle())

    @property
    def base(self) -> EventBase:
        return self._base

    @property
    def underlying(self) -> "BufferEvent | None":
        """For a filter, the bufferevent it sits on."""
        self._handle()
        return self._underlying

    def flush(self, events: EV = EV.WRITE, mode: Flush = Flush.FLUSH) -> bool:
        """Push buffered data through a filter or pair now
        (``bufferevent_flush``); True if anything moved. Sockets have
        nothing to flush and return False."""
        rc = lib.bufferevent_flush(self._handle(), int(events), int(mode))
        _callback.reraise_pending()
        if rc < 0:
            raise failure("bufferevent_flush", use_errno=False)
        return rc > 0

    # -- rate limits -----------------------------------------------------

    def set_rate_limit(self, bucket: TokenBucket | None) -> None:
        """Limit this bufferevent with its own token bucket (``None``
        removes the limit). The bucket stays alive while it is set."""
        ptr = self._handle()
        cfg = bucket._handle() if bucket is not None else None
        if lib.bufferevent_set_rate_limit(ptr, cfg) < 0:
            raise failure("bufferevent_set_rate_limit", use_errno=False)
        self._set_bucket(bucket)

    def _set_bucket(self, bucket: TokenBucket | None) -> None:
        if self._bucket is not None:
            self._bucket._users.pop(id(self), None)
        self._bucket = bucket
        if bucket is not None:
            bucket._users[id(self)] = self

    @property
    def rate_limit(self) -> TokenBucket | None:
        """The bucket set with :meth:`set_rate_limit`, if any."""
        self._handle()
        return self._bucket

    @property
    def rate_limit_group(self) -> RateLimitGroup | None:
        self._handle()
        return self._group

    @property
    def read_limit(self) -> int:
        """Tokens left in this bufferevent's own read bucket
        (``RATE_LIMIT_MAX`` without one; may be negative)."""
        return lib.bufferevent_get_read_limit(self._handle())

    @property
    def write_limit(self) -> int:
        """Tokens left in this bufferevent's own write bucket."""
        return lib.bufferevent_get_write_limit(self._handle())

    @property
    def max_to_read(self) -> int:
        """The most the next read may take, every limit considered."""
        return lib.bufferevent_get_max_to_read(self._handle())

    @property
    def max_to_write(self) -> int:
        """The most the next write may send, every limit considered."""
        return lib.bufferevent_get_max_to_write(self._handle())

    def decrement_read_limit(self, size: int) -> None:
        """Take ``size`` tokens from the own read bucket (give them back
        if negative), e.g. for bytes moved outside the bufferevent."""
        if lib.bufferevent_decrement_read_limit(self._handle(), size) < 0:
            raise failure("bufferevent_decrement_read_limit", use_errno=False)

    def decrement_write_limit(self, size: int) -> None:
        """As :meth:`decrement_read_limit` for the write bucket."""
        if lib.bufferevent_decrement_write_limit(self._handle(), size) < 0:
            raise failure("bufferevent_decrement_write_limit", use_errno=False)

    @property
    def max_single_read(self) -> int:
        """The most one read from the socket takes (set 0: the default)."""
        return lib.bufferevent_get_max_single_read(self._handle())

    @max_single_read.setter
    def max_single_read(self, size: int) -> None:
        if lib.bufferevent_set_max_single_read(self._handle(), size) < 0:
            raise failure("bufferevent_set_max_single_read", use_errno=False)

    @property
    def max_single_write(self) -> int:
        """The most one write to the socket sends (set 0: the default)."""
        return lib.bufferevent_get_max_single_write(self._handle())

    @max_single_write.setter
    def max_single_write(self, size: int) -> None:
        if lib.bufferevent_set_max_single_write(self._handle(), size) < 0:
            raise failure("bufferevent_set_max_single_write", use_errno=False)

    # -- closing ---------------------------------------------------------

    def close(self) -> None:
        """Free the bufferevent (closing the socket if it owns it).

        Its borrowed buffers become unusable. Safe inside its callbacks.
        Closing a filter made with ``CLOSE_ON_FREE`` closes its underlying
        bufferevent; closing such an underlying closes the filter.
        """
        ptr = self._ptr
        if ptr is None:
            return
        owner = self._filtered_by
        if owner is not None and owner._owns_underlying and owner._ptr is not None:
            owner.close()  # frees this one too
            return
        inner = self._underlying if self._owns_underlying else None
        if inner is not None and inner._ptr is not None:
            # The library frees it along with this one: drop what Python
            # registered on it while it is still there.
            inner._release(free=False)
        self._release(free=True)
        if self._underlying is not None and self._underlying._filtered_by is self:
            self._underlying._filtered_by = None

    def _release(self, free: bool) -> None:
        """Python's side of closing; ``bufferevent_free`` if ``free``."""
        ptr = self._ptr
        if ptr is None:
            return
        if self._group is not None:
            self._group.remove(self)
        if self._bucket is not None:
            # Detached first: the library may keep the bufferevent (and a
            # refill timer reading the bucket) a while after the free, and
            # the bucket is freed once nothing here uses it.
            lib.bufferevent_set_rate_limit(ptr, None)
        for buf in (self._input, self._output):
            if buf is not None:
                buf._detach()
        self._ptr = None
        if free:
            lib.bufferevent_free(ptr)
        self._set_bucket(None)
        _callback.retire(*self._thunks)
        self._on_read = self._on_write = self._on_event = None
        self._base._disown(self)


class Listener(Handle):
    """A listening socket that accepts connections from the event loop.

    ``callback(fd, address)`` receives each accepted socket (nonblocking
    unless ``LEV.LEAVE_SOCKETS_BLOCKING``); the callback owns ``fd`` (hand
    it to a :class:`BufferEvent`, or close it). ``flags`` takes every
    :class:`LEV` option. The base keeps the listener alive until it is
    closed.

    ``Listener(base, callback, address)`` creates, binds and listens on a
    socket (``evconnlistener_new_bind``); :meth:`from_socket` takes one the
    program made (``evconnlistener_new``).
    """

    _kind = "Listener"

    def __init__(
        self,
        base: EventBase,
        callback: Callable[[int, Address], None] | None,
        address: Address = ("127.0.0.1", 0),
        *,
        backlog: int = -1,
        flags: LEV = LEV.CLOSE_ON_FREE | LEV.REUSEABLE,
    ) -> None:
        self._prepare(base, callback)
        sa = _sockaddr(address)
        bptr = base._handle()
        clear_errno()
        ptr = lib.evconnlistener_new_bind(
            bptr, self._accept_thunk(), None, int(flags), backlog, sa, len(sa)
        )
        if not ptr:
            raise failure("evconnlistener_new_bind")
        self._ptr = ptr
        base._adopt(self)

    @classmethod
    def from_socket(
        cls,
        base: EventBase,
        callback: Callable[[int, Address], None] | None,
        sock: socket.socket | int,
        *,
        backlog: int = -1,
        flags: LEV = LEV.CLOSE_ON_FREE,
    ) -> "Listener":
        """Accept on ``sock``, a bound socket (``backlog=0``: it is already
        listening), which is made nonblocking (the library accepts until
        ``accept`` would block). With ``LEV.CLOSE_ON_FREE`` the listener
        takes the socket over (a ``socket.socket`` is detached) and closes
        it when freed; otherwise it stays the caller's."""
        lis = cls.__new__(cls)
        lis._prepare(base, callback)
        fd = sock if isinstance(sock, int) else sock.fileno()
        os.set_blocking(fd, False)
        bptr = base._handle()
        clear_errno()
        ptr = lib.evconnlistener_new(
            bptr, lis._accept_thunk(), None, int(flags), backlog, fd
        )
        if not ptr:
            raise failure("evconnlistener_new")
        if flags & LEV.CLOSE_ON_FREE and isinstance(sock, socket.socket):
            sock.detach()
        lis._ptr = ptr
        base._adopt(lis)
        return lis

    def _prepare(
        self, base: EventBase, callback: Callable[[int, Address], None] | None
    ) -> None:
        self._base = base
        self._callback: Callable[[int, Address], None] | None = callback
        self._on_error: Callable[["Listener", int], None] | None = None
        ref = weakref.ref(self)

        def on_accept(_lev: int, fd: int, sa: int, salen: int, _arg: int) -> None:
            lis = ref()
            if lis is not None and lis._callback is not None:
                lis._callback(fd, _address(sa, salen))
            else:
                socket.close(fd)  # nobody to hand it to

        def on_error(_lev: int, _arg: int) -> None:
            err = ctypes.get_errno()
            lis = ref()
            if lis is not None and lis._on_error is not None:
                lis._on_error(lis, err)

        brk = base._break
        self._thunks = (
            _callback.thunk(LISTENER_CB, "listener", on_accept, brk),
            _callback.thunk(LISTENER_ERR_CB, "listener error", on_error, brk),
        )

    def _accept_thunk(self) -> Any:
        if self._callback is None:
            return null_callback(LISTENER_CB)
        return self._thunks[0]

    def set_callback(self, callback: Callable[[int, Address], None] | None) -> None:
        """Replace the accept callback (``evconnlistener_set_cb``). With
        ``None`` the library stops handing out connections until a
        callback is set again."""
        ptr = self._handle()
        self._callback = callback
        lib.evconnlistener_set_cb(ptr, self._accept_thunk(), None)

    @property
    def base(self) -> EventBase:
        return self._base

    @property
    def fd(self) -> int:
        return lib.evconnlistener_get_fd(self._handle())

    @property
    def address(self) -> Address:
        """The bound address, e.g. ``("127.0.0.1", 40123)``."""
        return _local_address(self.fd)

    def set_error_callback(
        self, callback: Callable[["Listener", int], None] | None
    ) -> None:
        """Call ``callback(listener, errno)`` when ``accept`` fails."""
        ptr = self._handle()
        self._on_error = callback
        lib.evconnlistener_set_error_cb(
            ptr, self._thunks[1] if callback else null_callback(LISTENER_ERR_CB)
        )

    def enable(self) -> None:
        if lib.evconnlistener_enable(self._handle()) < 0:
            raise failure("evconnlistener_enable", use_errno=False)

    def disable(self) -> None:
        if lib.evconnlistener_disable(self._handle()) < 0:
            raise failure("evconnlistener_disable", use_errno=False)

    def close(self) -> None:
        """Stop accepting and free the listener. Safe in its callback."""
        ptr = self._ptr
        if ptr is None:
            return
        self._ptr = None
        lib.evconnlistener_free(ptr)
        _callback.retire(*self._thunks)
        self._callback = self._on_error = None
        self._base._disown(self)
