"""EventBase and Event: timers, IO readiness, loop control, failing callbacks."""

from __future__ import annotations

import time
import unittest

import goevent
from goevent import EV, Event, EventBase, GoeventError

from .support import nonblocking_pair, run_loop


class BaseTest(unittest.TestCase):
    def test_version_and_method(self) -> None:
        self.assertTrue(goevent.version().startswith("2.1.12"))
        with EventBase() as base:
            self.assertIn(base.method, {"epoll", "poll", "select", "io_uring"})

    def test_empty_loop_returns_true(self) -> None:
        with EventBase() as base:
            self.assertTrue(base.loop())
            self.assertTrue(base.loop(nonblock=True))


class TimerTest(unittest.TestCase):
    def test_fire_in_deadline_order(self) -> None:
        order: list[int] = []
        with EventBase() as base:
            # Measured from before the timers are added: a delay between an
            # add and the clock reading would shorten what is measured. The
            # lower bounds allow for the library's coarse monotonic clock
            # (libevent's too), by which a deadline may pass a step early.
            started = time.monotonic()
            for delay, tag in ((0.03, 3), (0.01, 1), (0.02, 2)):
                base.timer(delay, lambda tag=tag: order.append(tag))
            self.assertTrue(base.loop())  # ends once no timer is pending
            elapsed = time.monotonic() - started
        self.assertEqual(order, [1, 2, 3])
        self.assertGreaterEqual(elapsed, 0.027)
        self.assertLess(elapsed, 2.0)

    def test_persistent_timer_until_closed(self) -> None:
        ticks: list[float] = []
        with EventBase() as base:

            def tick() -> None:
                ticks.append(time.monotonic())
                if len(ticks) == 5:
                    ev.close()

            started = time.monotonic()
            ev = base.timer(0.005, tick, persist=True)
            self.assertTrue(base.loop())
        self.assertEqual(len(ticks), 5)
        # Each period is counted from the previous deadline, not from when
        # the callback ran, so only the total is bounded below.
        self.assertGreaterEqual(ticks[-1] - started, 0.023)

    def test_pending_delete_and_readd(self) -> None:
        fired: list[EV] = []
        with EventBase() as base:
            ev = Event(base, -1, EV(0), fired.append)
            self.assertEqual(ev.pending(), EV(0))
            ev.add(10)
            self.assertEqual(ev.pending(), EV.TIMEOUT)
            ev.delete()
            self.assertEqual(ev.pending(), EV(0))
            self.assertTrue(base.loop())
            self.assertEqual(fired, [])
            ev.add(0)
            self.assertTrue(base.loop())
            self.assertEqual(fired, [EV.TIMEOUT])

    def test_activate(self) -> None:
        fired: list[EV] = []
        with EventBase() as base:
            ev = Event(base, -1, EV(0), fired.append)
            ev.activate(EV.READ | EV.TIMEOUT)
            base.loop()
        self.assertEqual(fired, [EV.READ | EV.TIMEOUT])

    def test_call_later_closes_itself(self) -> None:
        hits: list[int] = []
        with EventBase() as base:
            ev = base.call_later(0.001, lambda: hits.append(1))
            self.assertTrue(base.loop())
            self.assertEqual(hits, [1])
            self.assertTrue(ev.closed)
            self.assertEqual(base._children, {})


class LoopControlTest(unittest.TestCase):
    def test_loopexit_after_delay(self) -> None:
        ticks: list[int] = []
        with EventBase() as base:
            base.timer(0.002, lambda: ticks.append(1), persist=True)
            started = time.monotonic()
            base.loopexit(0.05)
            self.assertFalse(base.loop())
            self.assertGreaterEqual(time.monotonic() - started, 0.045)
            self.assertTrue(base.got_exit)
            self.assertFalse(base.got_break)
        self.assertGreater(len(ticks), 3)

    def test_loopbreak_from_callback(self) -> None:
        ticks: list[int] = []
        with EventBase() as base:

            def tick() -> None:
                ticks.append(1)
                base.loopbreak()

            base.timer(0.001, tick, persist=True)
            base.loop()
            self.assertTrue(base.got_break)
        self.assertEqual(ticks, [1])

    def test_loop_once(self) -> None:
        hits: list[int] = []
        with EventBase() as base:
            base.timer(0.001, lambda: hits.append(1), persist=True)
            base.loop(once=True)
            self.assertEqual(hits, [1])
            self.assertFalse(base.loop(nonblock=True))
            self.assertLessEqual(len(hits), 2)

    def test_reentrant_loop_refused(self) -> None:
        outcome: list[BaseException] = []
        with EventBase() as base:

            def nested() -> None:
                try:
                    base.loop()
                except GoeventError as exc:
                    outcome.append(exc)

            base.call_later(0, nested)
            base.loop()
        self.assertEqual(len(outcome), 1)


class IoTest(unittest.TestCase):
    def test_read_readiness(self) -> None:
        a, b = nonblocking_pair()
        got: list[tuple[EV, bytes]] = []
        with a, b, EventBase() as base:

            def readable(what: EV) -> None:
                got.append((what, b.recv(100)))
                base.loopexit()

            base.io(b, EV.READ, readable)
            base.call_later(0.01, lambda: a.send(b"ping"))
            run_loop(self, base)
        self.assertEqual(got, [(EV.READ, b"ping")])

    def test_write_readiness_and_persist(self) -> None:
        a, b = nonblocking_pair()
        count: list[EV] = []
        with a, b, EventBase() as base:

            def writable(what: EV) -> None:
                count.append(what)
                if len(count) == 3:
                    ev.close()

            ev = base.io(a.fileno(), EV.WRITE | EV.PERSIST, writable)
            self.assertTrue(base.loop())
        self.assertEqual(count, [EV.WRITE] * 3)

    def test_timeout_on_io_event(self) -> None:
        a, b = nonblocking_pair()
        got: list[EV] = []
        with a, b, EventBase() as base:
            started = time.monotonic()
            base.io(b, EV.READ, got.append, timeout=0.02)
            self.assertTrue(base.loop())
            self.assertGreaterEqual(time.monotonic() - started, 0.017)
        self.assertEqual(got, [EV.TIMEOUT])

    def test_eof_is_readable(self) -> None:
        a, b = nonblocking_pair()
        got: list[bytes] = []
        with b, EventBase() as base:
            base.io(b, EV.READ, lambda what: got.append(b.recv(10)))
            a.close()
            self.assertTrue(base.loop())
        self.assertEqual(got, [b""])


class FailingCallbackTest(unittest.TestCase):
    def test_exception_logged_and_loop_continues(self) -> None:
        hits: list[str] = []

        def broken() -> None:
            hits.append("broken")
            raise ValueError("timer failure for the test")

        with EventBase() as base:
            base.timer(0.001, broken)
            base.timer(0.005, lambda: hits.append("after"))
            with self.assertLogs("goevent", "ERROR") as logs:
                self.assertTrue(base.loop())
        self.assertEqual(hits, ["broken", "after"])
        self.assertIn("timer failure for the test", "\n".join(logs.output))

    def test_base_exception_stops_loop_and_propagates(self) -> None:
        class Stop(BaseException):
            pass

        ticks: list[int] = []

        def tick() -> None:
            ticks.append(1)
            if len(ticks) == 3:
                raise Stop

        with EventBase() as base:
            base.timer(0.001, tick, persist=True)
            with self.assertRaises(Stop):
                base.loop()
            self.assertEqual(ticks, [1, 1, 1])
            # The loop is usable again afterwards.
            base.loopexit(0.01)
            base.loop()
        self.assertGreater(len(ticks), 3)


if __name__ == "__main__":
    unittest.main()
