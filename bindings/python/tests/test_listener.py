"""Listener: every LEV option, listeners on existing sockets, replacing
the callback, and thread-safe objects after use_pthreads()."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import textwrap
import unittest
from pathlib import Path
from typing import Any

import goevent
from goevent import LEV, EventBase, Listener

from .support import run_loop


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def sockopts(fd: int) -> dict[str, Any]:
    """The socket properties the LEV options control."""
    sock = socket.socket(fileno=fd)
    try:
        props = {
            "reuseaddr": sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
            "reuseport": sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT),
            "deferred": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0,
            "cloexec": bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC),
            "blocking": os.get_blocking(fd),
        }
        if sock.family == socket.AF_INET6:
            props["v6only"] = sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        return props
    finally:
        sock.detach()


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


PLAIN = {"reuseaddr": 0, "reuseport": 0, "deferred": False, "cloexec": False, "blocking": False}


class ListenerOptionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.base = EventBase()
        self.accepted: list[int] = []
        self.clients: list[socket.socket] = []

    def tearDown(self) -> None:
        self.base.close()
        for fd in self.accepted:
            os.close(fd)
        for c in self.clients:
            c.close()

    def accept(self, fd: int, _peer: tuple) -> None:
        self.accepted.append(fd)

    def connect_and_run(self, listener: Listener) -> None:
        """Connect a client that sends a byte (so a deferred accept wakes),
        then run the loop until the listener has accepted it."""
        client = socket.create_connection(listener.address[:2])
        client.sendall(b"x")
        self.clients.append(client)
        before = len(self.accepted)

        def check() -> None:
            if len(self.accepted) > before:
                self.base.loopexit()

        watch = self.base.timer(0.005, check, persist=True)
        try:
            run_loop(self, self.base)
        finally:
            watch.close()

    def check_option(
        self,
        flags: LEV,
        listening: dict[str, Any],
        accepted: dict[str, Any],
        host: str = "127.0.0.1",
    ) -> None:
        listener = Listener(self.base, self.accept, (host, 0), flags=flags)
        fd = listener.fd
        self.assertEqual(sockopts(fd), listening, f"listening socket, {flags!r}")
        self.connect_and_run(listener)
        got = sockopts(self.accepted[-1])
        got.pop("v6only", None)
        self.assertEqual(got, accepted, f"accepted socket, {flags!r}")
        listener.close()
        self.assertEqual(is_open(fd), not flags & LEV.CLOSE_ON_FREE)
        if is_open(fd):
            os.close(fd)

    def test_no_options(self) -> None:
        self.check_option(LEV(0), PLAIN, PLAIN)

    def test_leave_sockets_blocking(self) -> None:
        self.check_option(LEV.LEAVE_SOCKETS_BLOCKING, PLAIN, {**PLAIN, "blocking": True})

    def test_close_on_free(self) -> None:
        self.check_option(LEV.CLOSE_ON_FREE, PLAIN, PLAIN)

    def test_close_on_exec(self) -> None:
        # Both the listening socket and every accepted one.
        cloexec = {**PLAIN, "cloexec": True}
        self.check_option(LEV.CLOSE_ON_EXEC, cloexec, cloexec)

    def test_reuseable(self) -> None:
        # Accepted sockets inherit the listening socket's SO_REUSEADDR.
        reuse = {**PLAIN, "reuseaddr": 1}
        self.check_option(LEV.REUSEABLE, reuse, reuse)

    def test_reuseable_port(self) -> None:
        reuse = {**PLAIN, "reuseport": 1}
        self.check_option(LEV.REUSEABLE_PORT, reuse, reuse)
        flags = LEV.CLOSE_ON_FREE | LEV.REUSEABLE_PORT
        first = Listener(self.base, self.accept, flags=flags)
        second = Listener(self.base, self.accept, first.address, flags=flags)
        self.assertEqual(first.address, second.address)
        with self.assertRaises(OSError):
            Listener(self.base, self.accept, first.address, flags=LEV.CLOSE_ON_FREE)

    def test_deferred_accept(self) -> None:
        self.check_option(LEV.DEFERRED_ACCEPT, {**PLAIN, "deferred": True}, PLAIN)

    def test_bind_ipv6only(self) -> None:
        if not has_ipv6():
            self.skipTest("no IPv6 loopback")
        # On the wildcard address: Linux reports any socket bound to one
        # specific IPv6 address as v6-only.
        self.check_option(LEV.BIND_IPV6ONLY, {**PLAIN, "v6only": 1}, PLAIN, host="::")
        self.check_option(LEV(0), {**PLAIN, "v6only": 0}, PLAIN, host="::")

    def test_disabled_until_enabled(self) -> None:
        order: list[str] = []
        listener = Listener(
            self.base,
            lambda fd, _peer: (order.append("accepted"), self.accepted.append(fd)),
            flags=LEV.CLOSE_ON_FREE | LEV.DISABLED,
        )
        client = socket.create_connection(listener.address[:2])
        self.clients.append(client)
        self.base.call_later(0.05, lambda: order.append("waited"))
        self.base.call_later(0.06, self.base.loopexit)
        self.base.loop()
        listener.enable()
        order.append("enabled")
        self.connect_and_run(listener)  # a second client; both are accepted
        self.assertEqual(order, ["waited", "enabled", "accepted", "accepted"])
        listener.disable()
        self.connect_and_run_expecting_none(listener)

    def connect_and_run_expecting_none(self, listener: Listener) -> None:
        before = len(self.accepted)
        self.clients.append(socket.create_connection(listener.address[:2]))
        self.base.call_later(0.05, self.base.loopexit)
        self.base.loop()
        self.assertEqual(len(self.accepted), before)

    def test_existing_socket(self) -> None:
        for flags in (LEV(0), LEV.CLOSE_ON_FREE):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            fd = sock.fileno()
            listener = Listener.from_socket(self.base, self.accept, sock, backlog=0, flags=flags)
            self.assertEqual(listener.fd, fd)
            # Taken over (detached) only with CLOSE_ON_FREE.
            self.assertEqual(sock.fileno(), -1 if flags else fd)
            self.connect_and_run(listener)
            listener.close()
            self.assertEqual(is_open(fd), not flags)
            sock.close()

    def test_bound_socket_is_made_to_listen(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        listener = Listener.from_socket(self.base, self.accept, sock.detach())
        self.connect_and_run(listener)
        self.assertEqual(len(self.accepted), 1)

    def test_replacing_the_callback(self) -> None:
        order: list[str] = []

        def first(fd: int, _peer: tuple) -> None:
            order.append("first")
            self.accepted.append(fd)

        def second(fd: int, _peer: tuple) -> None:
            order.append("second")
            self.accepted.append(fd)

        listener = Listener(self.base, first)
        self.assertIs(listener.base, self.base)
        self.connect_and_run(listener)
        listener.set_callback(second)
        self.connect_and_run(listener)
        self.assertEqual(order, ["first", "second"])


THREAD_SCRIPT = textwrap.dedent(
    """
    import socket, threading
    from goevent import (EV, LEV, BEVOpt, BufferEvent, EventBase, Listener,
                         use_pthreads)

    use_pthreads()
    base = EventBase()
    ready = threading.Event()
    server = []
    got = bytearray()

    def accept(fd, peer):
        bev = BufferEvent(base, fd, BEVOpt.CLOSE_ON_FREE | BEVOpt.THREADSAFE)
        bev.set_callbacks(read=lambda b: got.extend(b.read()))
        bev.enable(EV.READ | EV.WRITE)
        server.append(bev)
        ready.set()

    listener = Listener(base, accept,
                        flags=LEV.CLOSE_ON_FREE | LEV.REUSEABLE | LEV.THREADSAFE)
    address = listener.address
    reply = bytearray()

    def worker():
        with socket.create_connection(address) as c:
            c.sendall(b"from a thread")
            ready.wait(10)
            # Written from this thread while the loop thread runs.
            server[0].write(b"reply from the worker")
            c.settimeout(10)
            while len(reply) < 21:
                reply.extend(c.recv(100))
        base.loopexit()  # wakes the loop from this thread

    t = threading.Thread(target=worker)
    t.start()
    base.loop()
    t.join()
    print("server got", bytes(got))
    print("worker got", bytes(reply))
    print("exit", base.got_exit)
    base.close()
    """
)


class ThreadsTest(unittest.TestCase):
    def test_threadsafe_objects_after_use_pthreads(self) -> None:
        # In a process of its own: use_pthreads() must precede every base.
        env = dict(os.environ)
        package_root = str(Path(goevent.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH")) if p
        )
        result = subprocess.run(
            [sys.executable, "-c", THREAD_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(
            result.stdout.splitlines(),
            [
                "server got b'from a thread'",
                "worker got b'reply from the worker'",
                "exit True",
            ],
        )


if __name__ == "__main__":
    unittest.main()
