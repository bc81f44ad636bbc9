"""Freeing in any order, freeing from inside callbacks, use after free."""

from __future__ import annotations

import gc
import itertools
import socket
import unittest
import weakref

from goevent import (
    BEV,
    EV,
    Buffer,
    BufferEvent,
    ClosedError,
    Event,
    EventBase,
    Listener,
)

from .support import nonblocking_pair, run_loop


def make_objects(base: EventBase) -> dict[str, object]:
    """One of each kind of object on ``base``, all live and registered."""
    a, b = nonblocking_pair()
    b.close()
    bev = BufferEvent(base, a.detach())
    bev.set_callbacks(read=lambda bev: None, event=lambda bev, what: None)
    bev.enable(EV.READ)
    event = base.timer(60, lambda: None)
    listener = Listener(base, lambda fd, peer: None)
    return {"event": event, "bev": bev, "listener": listener, "input": bev.input}


class FreeOrderTest(unittest.TestCase):
    def test_every_close_order(self) -> None:
        names = ["base", "event", "bev", "listener", "input"]
        for order in itertools.permutations(names):
            with self.subTest(order=order):
                base = EventBase()
                objs: dict[str, object] = {"base": base, **make_objects(base)}
                for name in order:
                    objs[name].close()  # type: ignore[attr-defined]
                    # Everything still open keeps working.
                    base.loop(nonblock=True) if not base.closed else None
                for name, obj in objs.items():
                    if name != "input":
                        self.assertTrue(obj.closed, name)  # type: ignore[attr-defined]

    def test_base_close_closes_children(self) -> None:
        base = EventBase()
        objs = make_objects(base)
        buf = objs["input"]
        assert isinstance(buf, Buffer)
        base.close()
        for name in ("event", "bev", "listener"):
            self.assertTrue(objs[name].closed, name)  # type: ignore[attr-defined]
        self.assertTrue(buf.closed)
        with self.assertRaises(ClosedError):
            objs["event"].add(1)  # type: ignore[attr-defined]
        with self.assertRaises(ClosedError):
            objs["bev"].write(b"x")  # type: ignore[attr-defined]
        with self.assertRaises(ClosedError):
            objs["listener"].address  # type: ignore[attr-defined]
        with self.assertRaises(ClosedError):
            base.loop()
        with self.assertRaises(ClosedError):
            Event(base, -1, EV(0), lambda what: None)

    def test_borrowed_buffer_outliving_its_bufferevent(self) -> None:
        with EventBase() as base:
            bev = BufferEvent(base)
            out = bev.output
            self.assertTrue(out.borrowed)
            out.close()  # a no-op: the bufferevent owns it
            out.add(b"queued")
            view = out.pullup()
            self.assertEqual(len(bev.output), 6)
            bev.close()
            with self.assertRaisesRegex(ClosedError, "closed BufferEvent"):
                len(out)
            with self.assertRaises(ClosedError):
                out.add(b"more")
            with self.assertRaises(ValueError):
                bytes(view)
            with self.assertRaises(ClosedError):
                bev.input

    def test_owned_buffer_moved_into_output_then_freed(self) -> None:
        with EventBase() as base, Buffer(b"payload") as buf:
            bev = BufferEvent(base)
            bev.output.add_buffer(buf)
            self.assertEqual(len(buf), 0)
            bev.close()
            buf.add(b"still mine")
            self.assertEqual(bytes(buf), b"still mine")


class CloseInsideCallbackTest(unittest.TestCase):
    def test_event_closes_itself_repeatedly(self) -> None:
        fired: list[int] = []
        events: dict[int, Event] = {}

        def fire(i: int) -> None:
            fired.append(i)
            events.pop(i).close()  # drops the last reference too
            if i % 50 == 0:
                gc.collect()

        with EventBase() as base:
            for i in range(200):
                events[i] = Event(base, -1, EV.PERSIST, lambda what, i=i: fire(i))
                events[i].add(0)
            self.assertTrue(base.loop())  # no persistent event survived
        self.assertEqual(sorted(fired), list(range(200)))

    def test_bufferevent_closed_in_its_read_callback(self) -> None:
        peer, mine = nonblocking_pair()
        reads: list[object] = []
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())

            def on_read(bev: BufferEvent) -> None:
                reads.append(bev.read())
                bev.close()
                try:
                    bev.read()
                except ClosedError as exc:
                    reads.append(exc)

            bev.set_callbacks(read=on_read)
            bev.enable(EV.READ)
            peer.send(b"once")
            base.loopexit(0.05)
            base.loop()
            self.assertEqual(base._children, {})
            with self.assertRaises(BrokenPipeError):
                peer.send(b"twice")  # the fd was closed with the bufferevent
        self.assertEqual(reads[0], b"once")
        self.assertIsInstance(reads[1], ClosedError)
        self.assertEqual(len(reads), 2)

    def test_pair_closes_partner_in_callback(self) -> None:
        got = []
        with EventBase() as base:
            left, right = BufferEvent.pair(base)

            def on_read(bev: BufferEvent) -> None:
                got.append(bev.read())
                left.close()
                right.close()
                base.loopexit()

            right.set_callbacks(read=on_read)
            right.enable(EV.READ)
            left.enable(EV.WRITE)
            left.write(b"bye")
            base.loop(nonblock=True)
        self.assertEqual(got, [b"bye"])
        self.assertTrue(left.closed and right.closed)

    def test_listener_closed_in_its_callback(self) -> None:
        accepted = []
        with EventBase() as base:

            def accept(fd: int, peer: tuple) -> None:
                accepted.append(peer)
                socket.socket(fileno=fd).close()
                lis.close()
                base.call_later(0.02, base.loopexit)

            lis = Listener(base, accept)
            address = lis.address
            with socket.create_connection(address):
                run_loop(self, base)
            self.assertTrue(lis.closed)
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(address).close()
        self.assertEqual(len(accepted), 1)

    def test_base_closed_in_callback(self) -> None:
        ticks = []
        base = EventBase()

        def tick() -> None:
            ticks.append(1)
            base.close()

        ev = base.timer(0.001, tick, persist=True)
        other = base.timer(0.001, lambda: ticks.append(2), persist=True)
        base.loop()  # returns: the base stops once closed
        self.assertTrue(base.closed and ev.closed and other.closed)
        self.assertLessEqual(len(ticks), 2)


class ViewLifetimeTest(unittest.TestCase):
    def test_views_of_bufferevent_input_end_with_the_callback(self) -> None:
        peer, mine = nonblocking_pair()
        kept = []
        with peer, EventBase() as base:
            bev = BufferEvent(base, mine.detach())

            def on_read(bev: BufferEvent) -> None:
                view = bev.input.pullup()
                kept.append(bytes(view))  # valid in here
                kept.append(view)
                base.loopexit()

            bev.set_callbacks(read=on_read)
            bev.enable(EV.READ)
            peer.send(b"abc")
            run_loop(self, base)
            self.assertEqual(kept[0], b"abc")
            with self.assertRaises(ValueError):
                bytes(kept[1])  # revoked once the callback returned
            outside = bev.input.peek()
            self.assertEqual(b"".join(map(bytes, outside)), b"abc")
            base.loop(nonblock=True)
            with self.assertRaises(ValueError):
                bytes(outside[0])  # revoked when the loop ran again


class GarbageCollectionTest(unittest.TestCase):
    def test_unreferenced_objects_are_freed_without_close(self) -> None:
        def build() -> weakref.ref:
            base = EventBase()
            make_objects(base)
            base.timer(0.001, lambda: None)
            base.loop(nonblock=True)
            return weakref.ref(base)

        refs = [build() for _ in range(20)]
        gc.collect()
        self.assertTrue(all(r() is None for r in refs))

    def test_event_callback_sees_live_objects_after_collection(self) -> None:
        hits = []
        with EventBase() as base:
            # No reference kept by the test: the base keeps the event alive.
            base.timer(0.01, lambda: hits.append(1))
            gc.collect()
            base.loop()
        self.assertEqual(hits, [1])

    def test_bufferevent_event_after_base_closed_is_refused(self) -> None:
        base = EventBase()
        bev = BufferEvent(base)
        bev.set_callbacks(event=lambda bev, what: None)
        base.close()
        with self.assertRaises(ClosedError):
            bev.set_callbacks(event=lambda bev, what: BEV(what))


if __name__ == "__main__":
    unittest.main()
