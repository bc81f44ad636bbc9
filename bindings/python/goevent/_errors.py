"""Exceptions raised by the goevent bindings."""

from __future__ import annotations

import ctypes
import os


class GoeventError(OSError):
    """A library call failed.

    ``errno`` is set when the failure came from a system call (a read,
    write, connect or bind); it is ``None`` when the library reported
    failure without one (for example adding to a frozen buffer).
    """


class ClosedError(GoeventError, ValueError):
    """The object, or the object owning it, has already been freed.

    It is also a ``ValueError``, like I/O on a closed Python file.
    """


def clear_errno() -> None:
    """Reset the errno that ctypes hands to the next foreign call.

    libevent only sets errno when a system call fails; clearing it first
    keeps a stale value from being reported for a non-system failure.
    """
    ctypes.set_errno(0)


def failure(what: str, *, use_errno: bool = True) -> GoeventError:
    """Build the exception for a failed call named ``what``."""
    err = ctypes.get_errno() if use_errno else 0
    if err:
        return GoeventError(err, f"{what}: {os.strerror(err)}")
    return GoeventError(f"{what} failed")
