"""``EventBase`` (``struct event_base``) and ``Event`` (``struct event``)."""

from __future__ import annotations

import enum
import weakref
from ctypes import byref
from typing import Any, Callable

from . import _callback
from ._errors import GoeventError, clear_errno, failure
from ._handle import Handle
from ._lib import EVENT_CB, Timeval, lib, pthreads

_EVLOOP_ONCE = 0x01
_EVLOOP_NONBLOCK = 0x02


class EV(enum.IntFlag):
    """Event conditions (``EV_*``)."""

    TIMEOUT = 0x01
    READ = 0x02
    WRITE = 0x04
    SIGNAL = 0x08
    PERSIST = 0x10
    ET = 0x20
    CLOSED = 0x80


_threads_on = False


def use_pthreads() -> None:
    """Give the library pthread locks (``evthread_use_pthreads`` from
    libevent_pthreads, loaded from beside the core library).

    Call it once, before creating any :class:`EventBase`. Afterwards bases
    can be woken from other threads (``loopbreak``, ``loopexit``, adding
    events), and objects created with ``BEVOpt.THREADSAFE`` /
    ``LEV.THREADSAFE`` lock themselves, so another thread may for example
    write to a thread-safe :class:`~goevent.BufferEvent` while the loop
    runs. The Python wrappers add no locking of their own.
    """
    global _threads_on
    if _threads_on:
        return
    if pthreads().evthread_use_pthreads() < 0:
        raise GoeventError("evthread_use_pthreads failed")
    _threads_on = True


def _timeval(seconds: float | None) -> Any:
    return None if seconds is None else byref(Timeval.from_seconds(seconds))


class EventBase(Handle):
    """An event loop.

    The base keeps every :class:`Event`, :class:`~goevent.BufferEvent` and
    :class:`~goevent.Listener` made on it alive until that object is closed,
    so callbacks keep firing without the caller holding a reference.
    Closing the base closes them all first, so any close order is safe.

    A base and everything on it belong to one thread at a time.
    """

    _kind = "EventBase"

    def __init__(self) -> None:
        self._children: dict[int, Handle] = {}
        self._running = False
        self._free_after_loop: int | None = None
        self._runs_buffer_callbacks = False  # see Buffer.defer_callbacks
        ptr = lib.event_base_new()
        if not ptr:
            raise failure("event_base_new")
        self._ptr = ptr

    def _adopt(self, child: Handle) -> None:
        self._children[id(child)] = child

    def _disown(self, child: Handle) -> None:
        self._children.pop(id(child), None)

    def _break(self) -> None:
        """Stop the running loop (used when a callback is interrupted)."""
        if self._ptr is not None:
            lib.event_base_loopbreak(self._ptr)

    def close(self) -> None:
        """Close every object on this base, then free the base.

        Allowed inside a callback: the loop stops after the current
        callback and the base is freed when :meth:`loop` returns.
        """
        ptr = self._ptr
        if ptr is None:
            return
        for child in list(self._children.values()):
            child.close()
        self._ptr = None
        if self._running:
            lib.event_base_loopbreak(ptr)
            self._free_after_loop = ptr
        else:
            self._free(ptr)

    def _free(self, ptr: int) -> None:
        if self._runs_buffer_callbacks:
            # A buffer freed while a deferred callback of its was pending
            # is only released by that callback (event_base_free would
            # drop it, leaking the buffer and whatever it references):
            # one pass lets it run. Everything on the base is closed, so
            # nothing of the program's runs.
            lib.event_base_loop(ptr, _EVLOOP_NONBLOCK)
        lib.event_base_free(ptr)

    @property
    def method(self) -> str:
        """The kernel mechanism in use, e.g. ``"epoll"``."""
        return lib.event_base_get_method(self._handle()).decode()

    # -- running ---------------------------------------------------------

    def loop(self, *, once: bool = False, nonblock: bool = False) -> bool:
        """Run the loop until it is told to stop or has nothing to wait for.

        ``once`` returns after one round of callbacks (waiting for it
        unless ``nonblock``). Returns True when the loop stopped because
        no events were pending or active, False otherwise. A
        ``KeyboardInterrupt`` (or other ``BaseException``) raised in a
        callback stops the loop and is re-raised here.
        """
        ptr = self._handle()
        if self._running:
            raise GoeventError("EventBase.loop() is already running")
        _callback.release_borrowed_views()
        flags = (_EVLOOP_ONCE if once else 0) | (_EVLOOP_NONBLOCK if nonblock else 0)
        self._running = True
        clear_errno()
        try:
            rc = lib.event_base_loop(ptr, flags)
        finally:
            self._running = False
            _callback.idle()
            deferred, self._free_after_loop = self._free_after_loop, None
            if deferred is not None:
                self._free(deferred)
        _callback.reraise_pending()
        if rc < 0:
            raise failure("event_base_loop")
        return rc == 1

    dispatch = loop

    def loopexit(self, delay: float | None = None) -> None:
        """Stop the loop after ``delay`` seconds (after the current round
        of callbacks if ``None``)."""
        if lib.event_base_loopexit(self._handle(), _timeval(delay)) < 0:
            raise failure("event_base_loopexit", use_errno=False)

    def loopbreak(self) -> None:
        """Stop the loop after the callback currently running."""
        if lib.event_base_loopbreak(self._handle()) < 0:
            raise failure("event_base_loopbreak", use_errno=False)

    def reinit(self) -> None:
        """event_reinit: call in a child after ``os.fork()`` before using a
        base made in the parent; the child then carries on with it and
        with everything made on it."""
        if lib.event_reinit(self._handle()) < 0:
            raise failure("event_reinit")

    @property
    def got_exit(self) -> bool:
        """Whether the last loop ended through :meth:`loopexit`."""
        return bool(lib.event_base_got_exit(self._handle()))

    @property
    def got_break(self) -> bool:
        """Whether the last loop ended through :meth:`loopbreak`."""
        return bool(lib.event_base_got_break(self._handle()))

    # -- conveniences ----------------------------------------------------

    def timer(
        self, delay: float, callback: Callable[[], None], *, persist: bool = False
    ) -> "Event":
        """An added timer calling ``callback()`` after ``delay`` seconds
        (every ``delay`` seconds if ``persist``). Close it when done."""
        ev = Event(self, -1, EV.PERSIST if persist else EV(0), lambda _w: callback())
        ev.add(delay)
        return ev

    def call_later(self, delay: float, callback: Callable[[], None]) -> "Event":
        """Call ``callback()`` once after ``delay`` seconds; the event
        closes itself after firing."""

        def fire(_what: EV) -> None:
            try:
                callback()
            finally:
                ev.close()

        ev = Event(self, -1, EV(0), fire)
        ev.add(delay)
        return ev

    def io(
        self,
        fd: Any,
        events: EV,
        callback: Callable[[EV], None],
        timeout: float | None = None,
    ) -> "Event":
        """An added event on ``fd`` (an int or has ``fileno()``)."""
        ev = Event(self, fd, events, callback)
        ev.add(timeout)
        return ev


class Event(Handle):
    """One event: a timer (``fd=-1``), or readiness of a file descriptor.

    ``callback(what)`` receives the :class:`EV` conditions that fired. The
    fd is not owned: close it yourself, after closing the event.
    """

    _kind = "Event"

    def __init__(
        self,
        base: EventBase,
        fd: Any,
        events: EV,
        callback: Callable[[EV], None],
    ) -> None:
        fileno = fd if isinstance(fd, int) else fd.fileno()
        self._base = base
        self._callback: Callable[[EV], None] | None = callback
        ref = weakref.ref(self)

        def handler(_fd: int, what: int, _arg: int) -> None:
            ev = ref()
            if ev is not None and ev._callback is not None:
                ev._callback(EV(what))

        self._thunk = _callback.thunk(EVENT_CB, "event", handler, base._break)
        ptr = lib.event_new(base._handle(), fileno, int(events), self._thunk, None)
        if not ptr:
            raise failure("event_new", use_errno=False)
        self._ptr = ptr
        base._adopt(self)

    def add(self, timeout: float | None = None) -> None:
        """Make the event pending, with an optional timeout in seconds."""
        if lib.event_add(self._handle(), _timeval(timeout)) < 0:
            raise failure("event_add")

    def delete(self) -> None:
        """Make the event non-pending; it can be added again."""
        if lib.event_del(self._handle()) < 0:
            raise failure("event_del", use_errno=False)

    def pending(
        self, events: EV = EV.TIMEOUT | EV.READ | EV.WRITE | EV.SIGNAL
    ) -> EV:
        """Which of ``events`` the event is pending or active for."""
        return EV(lib.event_pending(self._handle(), int(events), None))

    def activate(self, what: EV = EV.TIMEOUT) -> None:
        """Make the event active now, as if ``what`` had happened."""
        lib.event_active(self._handle(), int(what), 0)

    def close(self) -> None:
        """Delete and free the event. Safe inside its own callback."""
        ptr = self._ptr
        if ptr is None:
            return
        self._ptr = None
        lib.event_free(ptr)
        _callback.retire(self._thunk)
        self._thunk = None
        self._callback = None
        self._base._disown(self)
