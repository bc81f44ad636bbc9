"""``BufferEvent`` (``struct bufferevent``) and ``Listener``
(``struct evconnlistener``)."""

from __future__ import annotations

import ctypes
import enum
import socket
import struct
import weakref
from ctypes import c_void_p
from typing import Any, Callable, cast

from . import _callback
from ._errors import clear_errno, failure
from ._handle import Handle
from ._lib import (
    BEV_DATA_CB,
    BEV_EVENT_CB,
    LISTENER_CB,
    LISTENER_ERR_CB,
    Timeval,
    lib,
    null_callback,
)
from .buffer import Buffer, BytesLike, _as_bytes
from .loop import EV, EventBase

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


class BufferEvent(Handle):
    """A socket (or one end of a pair) with an input and an output buffer.

    Callbacks: ``read(bev)`` when input reaches the read low watermark,
    ``write(bev)`` when output drains to the write low watermark,
    ``event(bev, what)`` for :class:`BEV` conditions. After an error,
    ``bev.socket_error`` holds the errno.

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

    def _setup(self, base: EventBase) -> None:
        self._base = base
        self._on_read: ReadCallback | None = None
        self._on_write: ReadCallback | None = None
        self._on_event: EventCallback | None = None
        self._input: Buffer | None = None
        self._output: Buffer | None = None
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

    def close(self) -> None:
        """Free the bufferevent (closing the socket if it owns it).

        Its borrowed buffers become unusable. Safe inside its callbacks.
        """
        ptr = self._ptr
        if ptr is None:
            return
        for buf in (self._input, self._output):
            if buf is not None:
                buf._detach()
        self._ptr = None
        lib.bufferevent_free(ptr)
        _callback.retire(*self._thunks)
        self._on_read = self._on_write = self._on_event = None
        self._base._disown(self)


class Listener(Handle):
    """A listening socket that accepts connections from the event loop.

    ``callback(fd, address)`` receives each accepted nonblocking socket;
    the callback owns ``fd`` (hand it to a :class:`BufferEvent`, or close
    it). The base keeps the listener alive until it is closed.
    """

    _kind = "Listener"

    def __init__(
        self,
        base: EventBase,
        callback: Callable[[int, Address], None],
        address: Address = ("127.0.0.1", 0),
        *,
        backlog: int = -1,
        flags: LEV = LEV.CLOSE_ON_FREE | LEV.REUSEABLE,
    ) -> None:
        self._base = base
        self._callback: Callable[[int, Address], None] | None = callback
        self._on_error: Callable[["Listener", int], None] | None = None
        ref = weakref.ref(self)

        def on_accept(_lev: int, fd: int, sa: int, salen: int, _arg: int) -> None:
            lis = ref()
            if lis is not None and lis._callback is not None:
                lis._callback(fd, _address(sa, salen))

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
        sa = _sockaddr(address)
        bptr = base._handle()
        clear_errno()
        ptr = lib.evconnlistener_new_bind(
            bptr, self._thunks[0], None, int(flags), backlog, sa, len(sa)
        )
        if not ptr:
            raise failure("evconnlistener_new_bind")
        self._ptr = ptr
        base._adopt(self)

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
