"""``Buffer``: a wrapper of ``struct evbuffer``."""

from __future__ import annotations

import ctypes
import enum
import functools
import itertools
import weakref
from ctypes import Structure, byref, c_int, c_size_t, c_ssize_t, c_void_p
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, TypeVar

from . import _callback
from ._errors import ClosedError, clear_errno, failure
from ._handle import Handle
from ._lib import (
    EVBUFFER_CB,
    REF_CLEANUP_CB,
    EvbufferPtr,
    Iovec,
    foreign_view,
    lib,
    libc_free,
)

if TYPE_CHECKING:
    from .loop import EventBase

BytesLike = bytes | bytearray | memoryview
F = TypeVar("F", bound=Callable[..., Any])

_PTR_SET = 0  # EVBUFFER_PTR_SET
_CB_ENABLED = 1  # EVBUFFER_CB_ENABLED


class EOL(enum.IntEnum):
    """Line endings understood by :meth:`Buffer.readln`."""

    ANY = 0  # any run of CR and LF characters
    CRLF = 1  # CRLF or a bare LF
    CRLF_STRICT = 2  # exactly CRLF
    LF = 3  # exactly LF
    NUL = 4  # a NUL byte


class CallbackInfo(NamedTuple):
    """What changed in a buffer since its callback last ran."""

    orig_size: int
    n_added: int
    n_deleted: int


def _fileno(fd: Any) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


def _as_bytes(data: BytesLike) -> bytes:
    return data if isinstance(data, bytes) else memoryview(data).tobytes()


def _mutator(method: F) -> F:
    """Revoke views before a change; surface parked interrupts after."""

    @functools.wraps(method)
    def wrapper(self: "Buffer", *args: Any, **kwargs: Any) -> Any:
        self._release_views()
        try:
            return method(self, *args, **kwargs)
        finally:
            _callback.reraise_pending()

    return wrapper  # type: ignore[return-value]


class _PyBuffer(Structure):
    """CPython's ``Py_buffer``: an export of an object's memory."""

    _fields_ = [
        ("buf", c_void_p),
        ("obj", c_void_p),
        ("len", c_ssize_t),
        ("itemsize", c_ssize_t),
        ("readonly", c_int),
        ("ndim", c_int),
        ("format", c_void_p),
        ("shape", c_void_p),
        ("strides", c_void_p),
        ("suboffsets", c_void_p),
        ("internal", c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.restype = c_int
_get_buffer.argtypes = (ctypes.py_object, ctypes.POINTER(_PyBuffer), c_int)
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.restype = None
_release_buffer.argtypes = (ctypes.POINTER(_PyBuffer),)
_PYBUF_SIMPLE = 0  # one contiguous block of bytes

# Memory lent to the library with Buffer.add_reference, by the key passed
# as the cleanup argument: the export (which keeps the object alive and,
# for a bytearray, unresizable) and the release callback.
_lent: dict[int, tuple[_PyBuffer, Callable[[], None] | None]] = {}
_lent_keys = itertools.count(1)


def _give_back(key: int) -> None:
    view, on_release = _lent.pop(key)
    _release_buffer(byref(view))
    if on_release is not None:
        on_release()


def _on_cleanup(_data: int, _size: int, key: int | None) -> None:
    if key in _lent:
        _give_back(key)


# One thunk for every reference, alive as long as the module.
_CLEANUP = _callback.thunk(REF_CLEANUP_CB, "reference cleanup", _on_cleanup)


def lent_count() -> int:
    """How many ``add_reference`` blocks the library still holds."""
    return len(_lent)


class Buffer(Handle):
    """A byte queue (``struct evbuffer``).

    ``Buffer()`` creates and owns one; ``close()`` (or leaving a ``with``
    block, or garbage collection) frees it. The ``input`` and ``output`` of
    a :class:`~goevent.BufferEvent` are borrowed: closing them does nothing,
    and once their bufferevent is closed every use raises
    :class:`ClosedError`.

    Not thread-safe: use a buffer from one thread at a time.
    """

    _kind = "Buffer"

    def __init__(self, data: BytesLike = b"") -> None:
        self._setup(None)
        ptr = lib.evbuffer_new()
        if not ptr:
            raise failure("evbuffer_new", use_errno=False)
        self._ptr = ptr
        if data:
            self.add(data)

    def _setup(self, owner: Handle | None) -> None:
        self._owner = owner
        self._views: list[memoryview] = []
        self._callbacks: dict[int, Any] = {}  # cb entry -> ctypes thunk
        self._defer_base: EventBase | None = None

    @classmethod
    def _borrow(cls, ptr: int, owner: Handle) -> "Buffer":
        buf = cls.__new__(cls)
        buf._setup(owner)
        buf._ptr = ptr
        return buf

    @property
    def borrowed(self) -> bool:
        """True for a bufferevent's buffer, which its bufferevent frees."""
        return self._owner is not None

    def _handle(self) -> int:
        ptr = self._ptr
        if ptr is None:
            if self._owner is not None:
                raise ClosedError("Buffer belongs to a closed BufferEvent")
            raise ClosedError("Buffer is closed")
        return ptr

    # -- life cycle ------------------------------------------------------

    def close(self) -> None:
        """Free an owned buffer. A no-op for a borrowed one."""
        ptr = self._ptr
        if ptr is None or self._owner is not None:
            return
        self._release_views()
        self._ptr = None
        if self._defer_base is not None:
            # A deferred callback may still be pending, holding the buffer
            # past evbuffer_free: it must find no callback of ours.
            for entry in self._callbacks:
                lib.evbuffer_remove_cb_entry(ptr, entry)
        lib.evbuffer_free(ptr)
        _callback.retire(*self._callbacks.values())
        self._callbacks.clear()
        if self._defer_base is not None:
            self._defer_base._disown(self)
            self._defer_base = None

    def _detach(self) -> None:
        """Forget a borrowed buffer; its owner is about to free it."""
        ptr = self._ptr
        if ptr is None:
            return
        self._release_views()
        for entry in self._callbacks:
            lib.evbuffer_remove_cb_entry(ptr, entry)
        _callback.retire(*self._callbacks.values())
        self._callbacks.clear()
        self._ptr = None

    # -- views -----------------------------------------------------------

    def _track(self, view: memoryview) -> memoryview:
        self._views.append(view)
        if self._owner is not None:
            _callback.borrowed_views.add(self)
        return view

    def _release_views(self) -> None:
        views, self._views = self._views, []
        for view in views:
            try:
                view.release()
            except BufferError:
                # Something (e.g. a nested memoryview) holds an export of
                # it; nothing more can be done from here.
                pass
        _callback.borrowed_views.discard(self)

    def pullup(self, size: int = -1) -> memoryview:
        """A read-only view of the first ``size`` bytes (all if negative).

        The bytes are made contiguous inside the buffer (which may copy
        inside the library) and the view points at them without a Python
        copy. It is valid until the buffer next changes. This wrapper
        revokes it (further access raises ``ValueError``) when it changes
        the buffer itself, when the buffer is freed, and, for a
        bufferevent's buffers, when the loop regains control (loop entry,
        or the end of the callback it was taken in). Slices taken from the
        view are not revoked: copy what must outlive it.
        """
        ptr = self._handle()
        length = lib.evbuffer_get_length(ptr)
        n = length if size < 0 else size
        if n > length:
            raise ValueError(f"pullup of {n} bytes from a {length}-byte buffer")
        self._release_views()
        if n == 0:
            return memoryview(b"")
        data = lib.evbuffer_pullup(ptr, n)
        if not data:
            raise failure("evbuffer_pullup", use_errno=False)
        return self._track(foreign_view(data, n))

    def peek(self, size: int = -1) -> list[memoryview]:
        """Read-only views of the chunks holding the first ``size`` bytes.

        Nothing is copied or moved. The views follow the validity rules of
        :meth:`pullup`, but taking them does not revoke earlier ones.
        """
        ptr = self._handle()
        count = lib.evbuffer_peek(ptr, size, None, None, 0)
        if count <= 0:
            return []
        vecs = (Iovec * count)()
        count = lib.evbuffer_peek(ptr, size, None, vecs, count)
        views = []
        left = lib.evbuffer_get_length(ptr) if size < 0 else size
        for vec in vecs[:count]:
            # The last chunk may extend past `size`: cut the view there.
            n = min(vec.iov_len, left)
            if n == 0:
                break
            views.append(self._track(foreign_view(vec.iov_base, n)))
            left -= n
        return views

    # -- reading ---------------------------------------------------------

    def __len__(self) -> int:
        return lib.evbuffer_get_length(self._handle())

    def __bytes__(self) -> bytes:
        return self.copyout()

    def copyout(self, size: int = -1) -> bytes:
        """A copy of the first ``size`` bytes (all if negative)."""
        ptr = self._handle()
        n = lib.evbuffer_get_length(ptr)
        if 0 <= size < n:
            n = size
        if n == 0:
            return b""
        out = ctypes.create_string_buffer(n)
        got = lib.evbuffer_copyout(ptr, out, n)
        if got < 0:
            raise failure("evbuffer_copyout", use_errno=False)
        return out.raw[:got]

    def search(self, what: BytesLike, start: int = 0, end: int | None = None) -> int:
        """Offset of the first ``what`` in ``[start, end)``, or -1.

        ``start`` and ``end`` behave as in :meth:`bytes.find`.
        """
        ptr = self._handle()
        needle = _as_bytes(what)
        length = lib.evbuffer_get_length(ptr)
        start, end, _ = slice(start, end).indices(length)
        if not needle:
            return start if start <= end else -1
        if end - start < len(needle):
            return -1
        begin = EvbufferPtr()
        if lib.evbuffer_ptr_set(ptr, byref(begin), start, _PTR_SET) < 0:
            return -1
        if end == length:
            found = lib.evbuffer_search(ptr, needle, len(needle), byref(begin))
        else:
            stop = EvbufferPtr()
            if lib.evbuffer_ptr_set(ptr, byref(stop), end, _PTR_SET) < 0:
                return -1
            found = lib.evbuffer_search_range(
                ptr, needle, len(needle), byref(begin), byref(stop)
            )
        return found.pos

    # -- changing --------------------------------------------------------

    @_mutator
    def add(self, data: BytesLike) -> None:
        """Append a copy of ``data``."""
        raw = _as_bytes(data)
        if lib.evbuffer_add(self._handle(), raw, len(raw)) < 0:
            raise failure("evbuffer_add", use_errno=False)

    @_mutator
    def prepend(self, data: BytesLike) -> None:
        """Insert a copy of ``data`` at the front."""
        raw = _as_bytes(data)
        if lib.evbuffer_prepend(self._handle(), raw, len(raw)) < 0:
            raise failure("evbuffer_prepend", use_errno=False)

    @_mutator
    def add_buffer(self, other: "Buffer", size: int = -1) -> None:
        """Move the first ``size`` bytes of ``other`` (all if negative) here.

        The library moves whole chunks where it can instead of copying.
        """
        ptr, src = self._handle(), other._handle()
        other._release_views()
        if size < 0:
            rc = lib.evbuffer_add_buffer(ptr, src)
        else:
            rc = 0 if lib.evbuffer_remove_buffer(src, ptr, size) >= 0 else -1
        if rc < 0:
            raise failure("evbuffer_add_buffer", use_errno=False)

    @_mutator
    def add_reference(
        self, data: Any, on_release: Callable[[], None] | None = None
    ) -> None:
        """Append ``data`` without copying it (``evbuffer_add_reference``).

        ``data`` is any object exposing one contiguous block of memory
        (``bytes``, ``bytearray``, ``memoryview``, ``array``, ``mmap``...).
        The buffer reads that memory in place, so the object is kept alive,
        and held as exported (a ``bytearray`` cannot be resized), until
        the library no longer needs it: when its bytes have been drained or
        written out, wherever they were moved, or the buffer holding them
        is freed. Then the export is released and ``on_release()`` runs.
        Change the bytes meanwhile and the buffer sees the change.
        """
        view = _PyBuffer()
        _get_buffer(data, byref(view), _PYBUF_SIMPLE)
        if view.len == 0:
            _release_buffer(byref(view))
            if on_release is not None:
                on_release()
            return
        key = next(_lent_keys)
        # Registered first: a callback run by the add may already drain
        # the bytes and trigger the cleanup.
        _lent[key] = (view, on_release)
        rc = lib.evbuffer_add_reference(
            self._handle(), view.buf, view.len, _CLEANUP, key
        )
        if rc < 0:
            # The library does not run the cleanup for a failed add.
            entry = _lent.pop(key, None)
            if entry is not None:
                _release_buffer(byref(view))
            raise failure("evbuffer_add_reference", use_errno=False)

    @_mutator
    def remove(self, size: int) -> bytes:
        """Take up to ``size`` bytes off the front and return them."""
        ptr = self._handle()
        size = min(size, lib.evbuffer_get_length(ptr))
        if size <= 0:
            return b""
        out = ctypes.create_string_buffer(size)
        got = lib.evbuffer_remove(ptr, out, size)
        if got < 0:
            raise failure("evbuffer_remove", use_errno=False)
        return out.raw[:got]

    @_mutator
    def drain(self, size: int) -> None:
        """Discard up to ``size`` bytes from the front."""
        if size < 0:
            raise ValueError("drain size must not be negative")
        if lib.evbuffer_drain(self._handle(), size) < 0:
            raise failure("evbuffer_drain", use_errno=False)

    @_mutator
    def readln(self, style: EOL = EOL.CRLF) -> bytes | None:
        """Remove and return one line without its ending, or ``None``.

        ``None`` means no complete line is buffered yet.
        """
        n_read = c_size_t()
        line = lib.evbuffer_readln(self._handle(), byref(n_read), int(style))
        if not line:
            return None
        try:
            return ctypes.string_at(line, n_read.value)
        finally:
            libc_free(line)

    @_mutator
    def expand(self, size: int) -> None:
        """Make room for ``size`` more bytes without further allocation."""
        if lib.evbuffer_expand(self._handle(), size) < 0:
            raise failure("evbuffer_expand", use_errno=False)

    @_mutator
    def read_from(self, fd: Any, size: int = -1) -> int:
        """Append up to ``size`` bytes read from ``fd`` (an int or has
        ``fileno()``); returns the count, 0 at end of file."""
        ptr = self._handle()
        clear_errno()
        got = lib.evbuffer_read(ptr, _fileno(fd), size)
        if got < 0:
            raise failure("evbuffer_read")
        return got

    @_mutator
    def write_to(self, fd: Any, size: int = -1) -> int:
        """Write up to ``size`` bytes (all if negative) to ``fd`` and drain
        them; returns the count written."""
        ptr = self._handle()
        clear_errno()
        done = lib.evbuffer_write_atmost(ptr, _fileno(fd), size)
        if done < 0:
            raise failure("evbuffer_write")
        return done

    def freeze(self, front: bool = False) -> None:
        """Refuse changes at the front (``front=True``: draining, removing,
        prepending) or at the back (adding) until :meth:`unfreeze`."""
        if lib.evbuffer_freeze(self._handle(), int(front)) < 0:
            raise failure("evbuffer_freeze", use_errno=False)

    def unfreeze(self, front: bool = False) -> None:
        if lib.evbuffer_unfreeze(self._handle(), int(front)) < 0:
            raise failure("evbuffer_unfreeze", use_errno=False)

    # -- change callbacks ------------------------------------------------

    def add_callback(self, callback: Callable[[CallbackInfo], None]) -> int:
        """Call ``callback(info)`` after every change to the buffer.

        Returns a token for :meth:`remove_callback`. The callable is kept
        alive until then or until the buffer is freed.
        """
        ptr = self._handle()
        ref = weakref.ref(self)

        def handler(_buf: int, info: Any, _arg: int) -> None:
            if ref() is not None:
                c = info.contents
                callback(CallbackInfo(c.orig_size, c.n_added, c.n_deleted))

        cfunc = _callback.thunk(EVBUFFER_CB, "buffer", handler)
        entry = lib.evbuffer_add_cb(ptr, cfunc, None)
        if not entry:
            raise failure("evbuffer_add_cb", use_errno=False)
        self._callbacks[entry] = cfunc
        return entry

    def set_callback_enabled(self, token: int, enabled: bool) -> None:
        """Suspend (``False``) or resume a callback from :meth:`add_callback`.

        While suspended it is not called; the changes made meanwhile are
        reported to it no more.
        """
        ptr = self._handle()
        if token not in self._callbacks:
            raise KeyError(token)
        if enabled:
            rc = lib.evbuffer_cb_set_flags(ptr, token, _CB_ENABLED)
        else:
            rc = lib.evbuffer_cb_clear_flags(ptr, token, _CB_ENABLED)
        if rc < 0:
            raise failure("evbuffer_cb_set_flags", use_errno=False)

    def defer_callbacks(self, base: "EventBase") -> None:
        """Run this buffer's callbacks from ``base``'s loop instead of inside
        the call that changed the buffer (``evbuffer_defer_callbacks``).

        Each deferred call reports everything that changed since the last.
        An owned buffer is then closed along with ``base``, which must
        outlive it.
        """
        ptr = self._handle()
        if lib.evbuffer_defer_callbacks(ptr, base._handle()) < 0:
            raise failure("evbuffer_defer_callbacks", use_errno=False)
        if self._owner is None:
            if self._defer_base is not None and self._defer_base is not base:
                self._defer_base._disown(self)
            self._defer_base = base
            base._adopt(self)
        base._runs_buffer_callbacks = True

    def remove_callback(self, token: int) -> None:
        """Unregister a callback added by :meth:`add_callback`."""
        ptr = self._handle()
        cfunc = self._callbacks.pop(token, None)
        if cfunc is None:
            raise KeyError(token)
        lib.evbuffer_remove_cb_entry(ptr, token)
        _callback.retire(cfunc)

    def __repr__(self) -> str:
        if self._ptr is None:
            return f"<goevent.Buffer {'detached' if self._owner else 'closed'}>"
        kind = "borrowed" if self._owner is not None else "owned"
        return f"<goevent.Buffer {kind}, {len(self)} bytes>"
