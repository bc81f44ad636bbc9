"""goevent: Python bindings for libevent 2.1's core, as implemented by goevent.

Only the standard library's ctypes is used. The library is found through
``GOEVENT_LIBRARY``, then the copy bundled in an installed package, then
``<repo>/build/lib/libevent_core-2.1.so.7``, then the system's
``libevent_core`` (see ``goevent._lib``). ``python -m goevent`` says which
one it loaded.

Objects:

* :class:`Buffer` -- ``struct evbuffer``;
* :class:`EventBase` and :class:`Event` -- the loop, timers and fd events;
* :class:`BufferEvent` -- sockets, pairs and filters (Python callables as
  filters, :class:`FilterResult`, :class:`Flush`);
* :class:`Listener` -- accepting sockets, with every :class:`LEV` option;
* :class:`TokenBucket` and :class:`RateLimitGroup` -- rate limits.

Every object frees its C counterpart on ``close()``, at the end of a
``with`` block, or (for objects nothing else references) when collected.
Use after free raises :class:`ClosedError`; failed calls raise
:class:`GoeventError` (an ``OSError`` carrying ``errno`` where the failure
came from a system call). Exceptions raised by callbacks are logged on the
``goevent`` logger and do not stop the loop, except ``BaseException``s
such as ``KeyboardInterrupt``, which stop it and are re-raised by
``EventBase.loop()``.
"""

from ._errors import ClosedError, GoeventError
from ._lib import lib as _lib
from ._lib import version
from .buffer import EOL, Buffer, CallbackInfo
from .bufferevent import (
    BEV,
    LEV,
    BEVOpt,
    BufferEvent,
    FilterResult,
    Flush,
    Listener,
)
from .loop import EV, Event, EventBase, use_pthreads
from .ratelimit import RATE_LIMIT_MAX, RateLimitGroup, TokenBucket, Totals

__all__ = [
    "BEV",
    "BEVOpt",
    "Buffer",
    "BufferEvent",
    "CallbackInfo",
    "ClosedError",
    "EOL",
    "EV",
    "Event",
    "EventBase",
    "FilterResult",
    "Flush",
    "GoeventError",
    "LEV",
    "Listener",
    "RATE_LIMIT_MAX",
    "RateLimitGroup",
    "TokenBucket",
    "Totals",
    "library_origin",
    "library_path",
    "use_pthreads",
    "version",
]


def library_path() -> str:
    """The path of the shared library these bindings loaded."""
    return _lib.path


def library_origin() -> str:
    """Where that library came from: ``"GOEVENT_LIBRARY"``, ``"bundled"``,
    ``"build tree"`` or ``"system"``."""
    return _lib.origin
