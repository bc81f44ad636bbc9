"""Running Python callables as C callbacks.

Three hazards are handled here, once, for every callback type:

* An exception escaping a ctypes callback cannot propagate into C. Ordinary
  exceptions are logged on the ``goevent`` logger and the loop carries on.
  ``KeyboardInterrupt``, ``SystemExit`` and other ``BaseException``s are
  parked, the loop is asked to stop, and the exception is re-raised by
  whichever Python call is unwinding back out of the library
  (``EventBase.loop``, a ``Buffer`` method, ``BufferEvent.write``, ...).
* A ctypes thunk freed while it is executing (an object closed from inside
  its own callback) would pull the code out from under the running call.
  Owners hand their thunks to :func:`retire`, which keeps them until no
  callback is running on this thread.
* Memory views over a bufferevent's buffers go stale as soon as control
  returns to the loop, which may refill or drain them. Once the outermost
  callback returns, every such view is revoked (see ``Buffer.pullup``).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Callable

log = logging.getLogger("goevent")


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.depth = 0  # callbacks currently running on this thread
        self.retired: list[Any] = []  # thunks freed while depth > 0
        self.pending: BaseException | None = None


_state = _ThreadState()

# Buffers belonging to a BufferEvent that have memory views handed out.
borrowed_views: "weakref.WeakSet[Any]" = weakref.WeakSet()


def release_borrowed_views() -> None:
    """Revoke every view into a bufferevent's buffers."""
    for buf in list(borrowed_views):
        buf._release_views()


def thunk(
    cftype: Any,
    label: str,
    handler: Callable[..., Any],
    interrupt: Callable[[], None] | None = None,
    failed: Any = None,
) -> Any:
    """Wrap ``handler`` (called with the raw C arguments) as ``cftype``.

    The handler's return value goes back to C. ``interrupt`` is called
    after parking a ``BaseException``; event loop objects pass a function
    that breaks their loop. ``failed`` is what C gets when the handler
    raised (callbacks returning a value need one).
    """

    def trampoline(*args: Any) -> Any:
        st = _state
        if st.depth == 0 and st.retired:
            # Nothing of ours is on this thread's stack any more.
            st.retired.clear()
        st.depth += 1
        try:
            return handler(*args)
        except Exception:
            if failed is None:
                log.exception("exception in goevent %s callback (ignored)", label)
            else:
                log.exception(
                    "exception in goevent %s callback (%r returned to the library)",
                    label,
                    failed,
                )
            return failed
        except BaseException as exc:  # noqa: B036 - re-raised later
            if st.pending is None:
                st.pending = exc
            if interrupt is not None:
                interrupt()
            return failed
        finally:
            st.depth -= 1
            if st.depth == 0 and borrowed_views:
                release_borrowed_views()

    return cftype(trampoline)


def retire(*thunks: Any) -> None:
    """Keep ``thunks`` alive while a callback may still be executing one."""
    if _state.depth:
        _state.retired.extend(t for t in thunks if t is not None)


def idle() -> None:
    """Called when control is back in plain Python (no callback running)."""
    if _state.depth == 0:
        _state.retired.clear()


def reraise_pending() -> None:
    """Raise the ``BaseException`` a callback parked, if any."""
    st = _state
    if st.pending is not None and st.depth == 0:
        exc, st.pending = st.pending, None
        raise exc
