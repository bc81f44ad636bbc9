"""BufferEvent and Listener: loopback echo, pairs, watermarks, events."""

from __future__ import annotations

import errno
import random
import socket
import unittest

from goevent import BEV, EV, LEV, BEVOpt, BufferEvent, EventBase, GoeventError, Listener

from .support import nonblocking_pair, run_loop, unused_port


class EchoServer:
    """Echoes every connection's input back; closes on EOF or error."""

    def __init__(self, base: EventBase, address: tuple = ("127.0.0.1", 0)) -> None:
        self.base = base
        self.accepted: list[tuple] = []
        self.closed_with: list[BEV] = []
        self.listener = Listener(base, self.accept, address)

    def accept(self, fd: int, peer: tuple) -> None:
        self.accepted.append(peer)
        bev = BufferEvent(self.base, fd)
        bev.set_callbacks(read=self.echo, event=self.event)
        bev.enable(EV.READ | EV.WRITE)

    @staticmethod
    def echo(bev: BufferEvent) -> None:
        bev.output.add_buffer(bev.input)

    def event(self, bev: BufferEvent, what: BEV) -> None:
        if what & (BEV.EOF | BEV.ERROR):
            self.closed_with.append(what)
            bev.close()


class LoopbackTest(unittest.TestCase):
    def echo_round_trip(self, host: str, size: int) -> None:
        data = random.Random(size).randbytes(size)
        received = bytearray()
        events: list[BEV] = []
        with EventBase() as base:
            server = EchoServer(base, (host, 0))
            address = server.listener.address
            self.assertEqual(address[0], host)
            self.assertNotEqual(address[1], 0)

            def on_event(bev: BufferEvent, what: BEV) -> None:
                events.append(what)
                if what & BEV.CONNECTED:
                    bev.write(data)

            def on_read(bev: BufferEvent) -> None:
                received.extend(bev.read())
                if len(received) >= size:
                    bev.close()  # the server sees EOF and closes its side
                    base.call_later(0.05, base.loopexit)

            client = BufferEvent(base)
            client.set_callbacks(read=on_read, event=on_event)
            client.connect(address[:2])
            client.enable(EV.READ | EV.WRITE)
            run_loop(self, base)
            self.assertEqual(len(server.accepted), 1)
            self.assertEqual(server.closed_with, [BEV.EOF | BEV.READING])
        self.assertEqual(events, [BEV.CONNECTED])
        self.assertEqual(len(received), size)
        self.assertTrue(received == data)

    def test_echo_ipv4(self) -> None:
        self.echo_round_trip("127.0.0.1", 1 << 20)

    def test_echo_ipv6(self) -> None:
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            socket.socket(socket.AF_INET6).close()
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        self.echo_round_trip("::1", 64 << 10)

    def test_connect_refused_reports_errno(self) -> None:
        events: list[BEV] = []
        with EventBase() as base:
            client = BufferEvent(base)

            def on_event(bev: BufferEvent, what: BEV) -> None:
                events.append(what)
                base.loopexit()

            client.set_callbacks(event=on_event)
            client.connect(("127.0.0.1", unused_port()))
            run_loop(self, base)
            self.assertEqual(len(events), 1)
            self.assertTrue(events[0] & BEV.ERROR)
            self.assertEqual(client.socket_error, errno.ECONNREFUSED)

    def test_from_socket_and_fd(self) -> None:
        a, b = socket.socketpair()
        with b, EventBase() as base:
            bev = BufferEvent.from_socket(base, a)
            self.assertEqual(a.fileno(), -1)  # detached: now owned by bev
            fd = bev.fd
            self.assertGreaterEqual(fd, 0)
            bev.write(b"through the bufferevent")
            bev.set_callbacks(write=lambda bev: base.loopexit())
            bev.enable(EV.WRITE)
            run_loop(self, base)
            self.assertEqual(b.recv(100), b"through the bufferevent")
            bev.close()
            # libevent 2.1 finishes freeing (and closes the fd) from the
            # loop, so let it run once.
            base.loop(nonblock=True)
            b.settimeout(1)
            self.assertEqual(b.recv(10), b"")  # closed on free


class PairTest(unittest.TestCase):
    def test_ping_pong(self) -> None:
        log: list[tuple[str, bytes]] = []
        with EventBase() as base:
            left, right = BufferEvent.pair(base)

            def right_read(bev: BufferEvent) -> None:
                msg = bev.read()
                log.append(("right", msg))
                bev.write(msg.upper())

            def left_read(bev: BufferEvent) -> None:
                log.append(("left", bev.read()))
                base.loopexit()

            left.set_callbacks(read=left_read)
            right.set_callbacks(read=right_read)
            left.enable(EV.READ | EV.WRITE)
            right.enable(EV.READ | EV.WRITE)
            left.write(b"ping")
            run_loop(self, base)
        self.assertEqual(log, [("right", b"ping"), ("left", b"PING")])

    def test_deferred_callbacks(self) -> None:
        got: list[bytes] = []
        with EventBase() as base:
            left, right = BufferEvent.pair(base, BEVOpt.DEFER_CALLBACKS)
            right.set_callbacks(read=lambda bev: got.append(bev.read()))
            left.enable(EV.WRITE)
            right.enable(EV.READ)
            left.write(b"later")
            self.assertEqual(got, [])  # deferred: nothing ran inside write()
            base.loop(nonblock=True)
        self.assertEqual(got, [b"later"])


class WatermarkTest(unittest.TestCase):
    def test_read_low_watermark_holds_callback(self) -> None:
        peer, mine = nonblocking_pair()
        sizes: list[int] = []
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())
            bev.set_watermark(EV.READ, 10)
            bev.set_callbacks(read=lambda bev: sizes.append(len(bev.input)))
            bev.enable(EV.READ)
            peer.send(b"12345")
            base.loop(nonblock=True)
            base.loop(nonblock=True)
            self.assertEqual(sizes, [])  # 5 < 10: no callback yet
            self.assertEqual(len(bev.input), 5)
            peer.send(b"67890")
            base.loopexit(0.05)
            base.loop()
        self.assertEqual(sizes, [10])

    def test_read_high_watermark_stops_reading(self) -> None:
        peer, mine = nonblocking_pair()
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())
            bev.set_watermark(EV.READ, 0, 1000)
            seen: list[int] = []
            bev.set_callbacks(read=lambda bev: seen.append(len(bev.input)))
            bev.enable(EV.READ)
            peer.send(b"z" * 5000)
            base.loopexit(0.05)
            base.loop()
            self.assertTrue(seen)
            self.assertLessEqual(max(seen), 1000)
            self.assertEqual(len(bev.input), 1000)  # stopped at the mark
            bev.input.drain(1000)  # room again: reading resumes
            base.loopexit(0.05)
            base.loop()
            self.assertEqual(len(bev.input), 1000)
            bev.input.drain(1000)
            base.loopexit(0.05)
            base.loop()
            total = len(bev.input)
        self.assertEqual(total, 1000)

    def test_write_low_watermark(self) -> None:
        peer, mine = nonblocking_pair()
        lengths: list[int] = []
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())
            bev.set_watermark(EV.WRITE, 100)

            def drained(bev: BufferEvent) -> None:
                lengths.append(len(bev.output))
                base.loopexit()

            bev.set_callbacks(write=drained)
            bev.enable(EV.WRITE)
            bev.write(b"w" * 50000)  # more than the socket takes at once
            run_loop(self, base)
            sent = bytearray()
            while True:
                try:
                    sent.extend(peer.recv(1 << 16))
                except BlockingIOError:
                    break
        self.assertEqual(len(lengths), 1)
        self.assertLessEqual(lengths[0], 100)
        self.assertGreaterEqual(len(sent), 50000 - 100)


class EventCallbackTest(unittest.TestCase):
    def test_eof(self) -> None:
        peer, mine = nonblocking_pair()
        events: list[BEV] = []
        with EventBase() as base:
            bev = BufferEvent(base, mine.detach())
            bev.set_callbacks(event=lambda bev, what: events.append(what))
            bev.enable(EV.READ)
            peer.close()
            base.loopexit(1)
            base.loop()
        self.assertEqual(events, [BEV.EOF | BEV.READING])

    def test_read_timeout(self) -> None:
        peer, mine = nonblocking_pair()
        events: list[BEV] = []
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())
            bev.set_timeouts(read=0.02)

            def on_event(bev: BufferEvent, what: BEV) -> None:
                events.append(what)
                base.loopexit()

            bev.set_callbacks(event=on_event)
            bev.enable(EV.READ)
            run_loop(self, base)
            self.assertFalse(bev.enabled & EV.READ)  # a timeout disables
        self.assertEqual(events, [BEV.TIMEOUT | BEV.READING])

    def test_enable_disable(self) -> None:
        with EventBase() as base:
            bev = BufferEvent(base)
            self.assertEqual(bev.enabled, EV.WRITE)  # libevent's default
            bev.enable(EV.READ)
            self.assertEqual(bev.enabled, EV.READ | EV.WRITE)
            bev.disable(EV.WRITE)
            self.assertEqual(bev.enabled, EV.READ)

    def test_raising_read_callback_is_logged(self) -> None:
        peer, mine = nonblocking_pair()
        calls: list[bytes] = []
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())

            def on_read(bev: BufferEvent) -> None:
                calls.append(bev.read())
                if len(calls) == 1:
                    raise RuntimeError("read failure for the test")
                base.loopexit()

            bev.set_callbacks(read=on_read)
            bev.enable(EV.READ)
            with self.assertLogs("goevent", "ERROR") as logs:
                peer.send(b"first")
                base.call_later(0.02, lambda: peer.send(b"second"))
                run_loop(self, base)
        self.assertEqual(calls, [b"first", b"second"])
        self.assertIn("read failure for the test", "\n".join(logs.output))


class ListenerTest(unittest.TestCase):
    def test_accepts_and_reports_peer(self) -> None:
        peers: list[tuple] = []
        with EventBase() as base:

            def accept(fd: int, peer: tuple) -> None:
                peers.append(peer)
                socket.socket(fileno=fd).close()
                base.loopexit()

            lis = Listener(base, accept)
            with socket.create_connection(lis.address) as client:
                run_loop(self, base)
                self.assertEqual(peers, [client.getsockname()])

    def test_disable_and_bind_error(self) -> None:
        with EventBase() as base:
            lis = Listener(base, lambda fd, peer: None)
            lis.disable()
            lis.enable()
            with self.assertRaises(GoeventError) as ctx:
                Listener(base, lambda fd, peer: None, lis.address, flags=LEV(0))
            self.assertEqual(ctx.exception.errno, errno.EADDRINUSE)


if __name__ == "__main__":
    unittest.main()
