"""Filter bufferevents with Python callables as the filters."""

from __future__ import annotations

import os
import random
import sys
import unittest

from goevent import (
    BEV,
    EV,
    BEVOpt,
    Buffer,
    BufferEvent,
    EventBase,
    FilterResult,
    Flush,
    GoeventError,
    Listener,
)

from .support import nonblocking_pair, run_loop

filters_module = sys.modules["goevent.bufferevent"]


def spin(base: EventBase, seconds: float = 0.05) -> None:
    """Run the loop for a short while (pairs deliver from the loop)."""
    base.call_later(seconds, base.loopexit)
    base.loop()


def xor(data: bytes) -> bytes:
    return bytes(b ^ 0x5A for b in data)


class FilterTest(unittest.TestCase):
    def setUp(self) -> None:
        self.base = EventBase()
        self.log: list[object] = []
        self.live_filters = len(filters_module._filters)

    def tearDown(self) -> None:
        self.base.close()
        # Every filter's callables were let go through free_context.
        self.assertEqual(len(filters_module._filters), self.live_filters)

    def reader(self, name: str):  # type: ignore[no-untyped-def]
        def on_read(bev: BufferEvent) -> None:
            self.log.append((name, bev.read()))

        return on_read

    def on_event(self, name: str):  # type: ignore[no-untyped-def]
        return lambda bev, what: self.log.append((name, what))

    def test_input_filter_waits_for_whole_lines(self) -> None:
        def lines_upper(
            src: Buffer, dst: Buffer, limit: int | None, mode: Flush
        ) -> FilterResult:
            self.log.append(("filter", len(src), limit, mode))
            if src.search(b"\n") < 0:
                return FilterResult.NEED_MORE
            end = src.search(b"\n") + 1
            dst.add(src.remove(end).upper())
            return FilterResult.OK

        a, b = BufferEvent.pair(self.base)
        f = BufferEvent.filter(b, input=lines_upper)
        self.assertIs(f.underlying, b)
        f.set_callbacks(read=self.reader("read"), event=self.on_event("event"))
        f.enable(EV.READ | EV.WRITE)
        a.write(b"hel")
        spin(self.base)
        a.write(b"lo\nwor")
        spin(self.base)
        f.set_watermark(EV.READ, 0, 4)  # the filter now gets a limit
        a.write(b"ld\n")
        spin(self.base)
        self.assertEqual(
            self.log,
            [
                ("filter", 3, None, Flush.NORMAL),
                ("filter", 9, None, Flush.NORMAL),
                # after OK the filter runs again until it needs more
                ("filter", 3, None, Flush.NORMAL),
                ("read", b"HELLO\n"),
                ("filter", 6, 4, Flush.NORMAL),
                ("read", b"WORLD\n"),
            ],
        )

    def test_output_filter_frames_and_flushes(self) -> None:
        def frame(src: Buffer, dst: Buffer, limit: int | None, mode: Flush) -> FilterResult:
            self.log.append(("filter", len(src), limit, mode))
            dst.add(b"[" + src.remove(len(src)) + b"]")
            return FilterResult.OK

        m, n = BufferEvent.pair(self.base)
        o = BufferEvent.filter(m, output=frame)
        n.set_callbacks(read=self.reader("peer"))
        n.enable(EV.READ)
        o.enable(EV.WRITE)
        o.write(b"one")
        self.log.append("written")
        spin(self.base)
        m.set_watermark(EV.WRITE, 0, 2)  # the underlying's high mark limits
        o.write(b"two")
        spin(self.base)
        self.assertTrue(o.flush(EV.WRITE, Flush.FINISHED))
        spin(self.base)
        self.assertEqual(
            self.log,
            [
                # the output filter runs inside the write, the peer later
                ("filter", 3, None, Flush.NORMAL),
                "written",
                ("peer", b"[one]"),
                ("filter", 3, 2, Flush.NORMAL),
                ("peer", b"[two]"),
                # a flush calls the filter even with nothing buffered
                ("filter", 0, None, Flush.FINISHED),
                ("peer", b"[]"),
            ],
        )

    def test_error_result_and_exceptions_stop_the_data(self) -> None:
        def refuse(src: Buffer, dst: Buffer, limit: int | None, mode: Flush) -> FilterResult:
            self.log.append(("refuse", len(src)))
            return FilterResult.ERROR

        def broken(src: Buffer, dst: Buffer, limit: int | None, mode: Flush) -> FilterResult:
            self.log.append(("broken", len(src)))
            dst.add(b"half-written")
            raise RuntimeError("filter failure for the test")

        def sloppy(src: Buffer, dst: Buffer, limit: int | None, mode: Flush) -> FilterResult:
            self.log.append(("sloppy", len(src)))
            return None  # type: ignore[return-value]

        pairs = []
        for name, fn in (("refuse", refuse), ("broken", broken), ("sloppy", sloppy)):
            a, b = BufferEvent.pair(self.base)
            f = BufferEvent.filter(b, input=fn)
            f.set_callbacks(read=self.reader(name + " read"), event=self.on_event(name))
            f.enable(EV.READ)
            pairs.append((a, f))
        with self.assertLogs("goevent", "ERROR") as logs:
            for a, _ in pairs:
                a.write(b"xyz")
            spin(self.base)
        self.assertIn("filter failure for the test", logs.output[0])
        self.assertIn("FilterResult.ERROR", logs.output[0])
        self.assertIn("must return a FilterResult, not None", logs.output[1])
        # libevent 2.1 reports no event for a failed filter, and no read
        # either (not even of what the failing one wrote): the data stops.
        self.assertEqual(self.log, [("refuse", 3), ("broken", 3), ("sloppy", 3)])

    def test_interrupt_in_a_filter_stops_the_loop(self) -> None:
        def interrupted(src: Buffer, dst: Buffer, limit: int | None, mode: Flush) -> FilterResult:
            raise KeyboardInterrupt

        a, b = BufferEvent.pair(self.base)
        f = BufferEvent.filter(b, input=interrupted)
        f.enable(EV.READ)
        a.write(b"x")
        guard = self.base.call_later(5, self.base.loopbreak)
        with self.assertRaises(KeyboardInterrupt):
            self.base.loop()
        guard.close()

    def test_filters_both_ways_over_a_socket(self) -> None:
        """A client that XORs what it sends and what it receives, talking to
        a plain echo server: the bytes come back as they were."""
        size = 256 << 10
        data = random.Random(7).randbytes(size)
        received = bytearray()
        seen_on_wire = bytearray()

        def scramble(src: Buffer, dst: Buffer, limit: int | None, mode: Flush) -> FilterResult:
            n = len(src) if limit is None else min(len(src), limit)
            if n == 0:
                return FilterResult.NEED_MORE
            dst.add(xor(src.remove(n)))
            return FilterResult.OK

        def accept(fd: int, _peer: tuple) -> None:
            server = BufferEvent(self.base, fd)

            def echo(bev: BufferEvent) -> None:
                chunk = bev.read()
                seen_on_wire.extend(chunk)
                bev.write(chunk)

            def drained(bev: BufferEvent) -> None:
                if len(seen_on_wire) >= size:
                    bev.close()  # the client sees EOF through its filter

            server.set_callbacks(read=echo, write=drained)
            server.enable(EV.READ | EV.WRITE)

        listener = Listener(self.base, accept)
        sock = BufferEvent(self.base)
        client = BufferEvent.filter(sock, input=scramble, output=scramble)

        def on_read(bev: BufferEvent) -> None:
            received.extend(bev.read())

        def on_event(bev: BufferEvent, what: BEV) -> None:
            self.log.append(what)
            if what & BEV.CONNECTED:
                bev.write(data)
            if what & BEV.EOF:
                self.base.loopexit()

        client.set_callbacks(read=on_read, event=on_event)
        client.enable(EV.READ | EV.WRITE)
        sock.connect(listener.address[:2])
        run_loop(self, self.base)
        self.assertEqual(self.log, [BEV.CONNECTED, BEV.EOF | BEV.READING])
        self.assertEqual(len(seen_on_wire), size)
        self.assertTrue(seen_on_wire == xor(data), "the wire carried filtered bytes")
        self.assertEqual(len(received), size)
        self.assertTrue(received == data)

    def test_close_on_free_closes_both_either_way(self) -> None:
        for close_filter in (True, False):
            ours, theirs = nonblocking_pair()
            under = BufferEvent(self.base, ours.detach())
            fd = under.fd
            f = BufferEvent.filter(under)  # CLOSE_ON_FREE by default
            with self.assertRaises(GoeventError):
                under.set_callbacks(read=lambda bev: None)
            (f if close_filter else under).close()
            self.assertTrue(f.closed and under.closed)
            spin(self.base, 0.01)  # libevent may finish freeing from the loop
            with self.assertRaises(OSError):
                os.fstat(fd)
            theirs.close()

    def test_without_close_on_free_the_underlying_stays_usable(self) -> None:
        a, b = BufferEvent.pair(self.base)
        f = BufferEvent.filter(b, options=BEVOpt(0))
        f.set_callbacks(read=self.reader("filter"))
        f.enable(EV.READ)
        a.write(b"through the filter")
        spin(self.base)
        f.close()
        self.assertFalse(b.closed)
        b.set_callbacks(read=self.reader("direct"))
        b.enable(EV.READ)
        a.write(b"straight")
        spin(self.base)
        self.assertEqual(
            self.log, [("filter", b"through the filter"), ("direct", b"straight")]
        )


if __name__ == "__main__":
    unittest.main()
