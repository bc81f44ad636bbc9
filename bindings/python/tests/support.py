"""Helpers shared by the test modules."""

from __future__ import annotations

import socket
import unittest

from goevent import EventBase


def run_loop(case: unittest.TestCase, base: EventBase, timeout: float = 5.0) -> None:
    """Run ``base`` until something calls loopexit/loopbreak; fail the test
    instead of hanging if that takes longer than ``timeout`` seconds."""
    expired = []

    def expire() -> None:
        expired.append(True)
        base.loopbreak()

    guard = base.timer(timeout, expire)
    try:
        base.loop()
    finally:
        guard.close()
    if expired:
        case.fail(f"event loop still running after {timeout} s")


def nonblocking_pair() -> tuple[socket.socket, socket.socket]:
    """A connected AF_UNIX stream pair, both ends nonblocking."""
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def unused_port() -> int:
    """A loopback TCP port that nothing listens on (for refused connects)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
