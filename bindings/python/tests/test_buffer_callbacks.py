"""Buffer change callbacks (cb_info, order, suspension, deferral) and
add_reference (zero-copy appends whose memory is lent until cleanup)."""

from __future__ import annotations

import array
import sys
import unittest

from goevent import Buffer, EventBase, GoeventError
from goevent.buffer import lent_count

Log = list[object]


def recorder(log: Log, name: str):  # type: ignore[no-untyped-def]
    return lambda info: log.append((name, tuple(info)))


class ChangeCallbackTest(unittest.TestCase):
    def test_cb_info_for_each_kind_of_change(self) -> None:
        log: Log = []
        with Buffer() as buf, Buffer(b"12345") as other:
            buf.add_callback(recorder(log, "buf"))
            other.add_callback(recorder(log, "other"))
            buf.add(b"hello")
            buf.drain(2)
            buf.prepend(b"P")
            buf.add_buffer(other)
            self.assertEqual(buf.remove(3), b"Pll")
            self.assertEqual(buf.readln(), None)  # no line: nothing changes
            buf.add(b"\n")
            self.assertEqual(buf.readln(), b"o12345")
        self.assertEqual(
            log,
            [
                # (orig_size, n_added, n_deleted)
                ("buf", (0, 5, 0)),
                ("buf", (5, 0, 2)),
                ("buf", (3, 1, 0)),
                ("other", (5, 0, 5)),  # the source reports first
                ("buf", (4, 5, 0)),
                ("buf", (9, 0, 3)),
                ("buf", (6, 1, 0)),
                # readln reports the line, then its ending
                ("buf", (7, 0, 6)),
                ("buf", (1, 0, 1)),
            ],
        )

    def test_latest_callback_runs_first(self) -> None:
        # libevent keeps callbacks in a list it pushes onto at the front.
        log: Log = []
        with Buffer() as buf:
            buf.add_callback(recorder(log, "first"))
            buf.add_callback(recorder(log, "second"))
            buf.add_callback(recorder(log, "third"))
            buf.add(b"x")
        self.assertEqual(
            [name for name, _ in log],  # type: ignore[misc]
            ["third", "second", "first"],
        )

    def test_suspended_callback_misses_changes(self) -> None:
        log: Log = []
        with Buffer() as buf:
            quiet = buf.add_callback(recorder(log, "a"))
            buf.add_callback(recorder(log, "b"))
            buf.add(b"12")
            buf.set_callback_enabled(quiet, False)
            buf.add(b"345")
            buf.set_callback_enabled(quiet, True)
            buf.drain(1)
            with self.assertRaises(KeyError):
                buf.set_callback_enabled(12345, True)
        self.assertEqual(
            log,
            [
                ("b", (0, 2, 0)),
                ("a", (0, 2, 0)),
                ("b", (2, 3, 0)),
                ("b", (5, 0, 1)),
                # "a" was not told about the 3 bytes added while suspended
                ("a", (5, 0, 1)),
            ],
        )

    def test_deferred_callbacks_run_from_the_loop_with_totals(self) -> None:
        log: Log = []
        with EventBase() as base:
            buf = Buffer()
            buf.add_callback(recorder(log, "deferred"))
            buf.defer_callbacks(base)
            buf.add(b"abc")
            buf.add(b"de")
            buf.drain(1)
            log.append("changed")
            base.loop(nonblock=True)
            log.append("looped")
            buf.add(b"f")
            base.loop(nonblock=True)
        # The base closed the buffer it runs callbacks for.
        self.assertTrue(buf.closed)
        self.assertEqual(
            log,
            ["changed", ("deferred", (0, 5, 1)), "looped", ("deferred", (4, 1, 0))],
        )


    def test_closing_with_a_deferred_callback_pending(self) -> None:
        log: Log = []
        lent = lent_count()
        with EventBase() as base:
            buf = Buffer()
            buf.add_callback(recorder(log, "never"))
            buf.defer_callbacks(base)
            buf.add_reference(b"pending", lambda: log.append("released"))
            buf.close()  # the pending callback holds the buffer a while
            log.append("closed")
            base.loop(nonblock=True)
            log.append("looped")
            other = Buffer()
            other.defer_callbacks(base)
            other.add_reference(b"pending too", lambda: log.append("released too"))
        # Closing the base let the second one's deferred callback finish.
        self.assertEqual(log, ["closed", "released", "looped", "released too"])
        self.assertEqual(lent_count(), lent)


class AddReferenceTest(unittest.TestCase):
    def setUp(self) -> None:
        self.lent_before = lent_count()

    def tearDown(self) -> None:
        self.assertEqual(lent_count(), self.lent_before, "memory still lent")

    def test_bytes_are_read_in_place_and_released_after_the_last_drain(self) -> None:
        log: Log = []
        data = bytearray(b"referenced")
        with Buffer(b"head:") as buf:
            buf.add_callback(recorder(log, "cb"))
            buf.add_reference(data, on_release=lambda: log.append("released"))
            # Exported: the bytearray cannot change size meanwhile...
            with self.assertRaises(BufferError):
                data.extend(b"!")
            # ...but its bytes can change, and the buffer sees them.
            data[0:1] = b"R"
            self.assertEqual(bytes(buf), b"head:Referenced")
            self.assertEqual(lent_count(), self.lent_before + 1)
            buf.drain(len(buf) - 4)
            log.append("all but 4 drained")
            buf.drain(4)
            log.append("all drained")
            data.extend(b"!")  # released: resizable again
        self.assertEqual(
            log,
            [
                ("cb", (5, 10, 0)),
                ("cb", (15, 0, 11)),
                "all but 4 drained",
                # the memory is given back before the callbacks run
                "released",
                ("cb", (4, 0, 4)),
                "all drained",
            ],
        )

    def test_object_kept_alive_until_cleanup_wherever_it_moved(self) -> None:
        log: Log = []
        payload = b"moved bytes, " + str(id(self)).encode()
        refs = sys.getrefcount(payload)
        with Buffer() as first, Buffer() as second:
            first.add_reference(payload, lambda: log.append("released"))
            self.assertEqual(sys.getrefcount(payload), refs + 1)
            second.add_buffer(first)
            log.append("moved")
            self.assertEqual(second.remove(5), b"moved")
            log.append("part removed")
            second.close()
            log.append("second closed")
            self.assertEqual(sys.getrefcount(payload), refs)
        self.assertEqual(log, ["moved", "part removed", "released", "second closed"])

    def test_release_when_the_buffer_is_freed(self) -> None:
        released: Log = []
        buf = Buffer()
        buf.add_reference(array.array("i", [1, 2, 3]), lambda: released.append(1))
        buf.add_reference(memoryview(b"xxABCDxx")[2:6], lambda: released.append(2))
        self.assertEqual(len(buf), 12 + 4)
        self.assertEqual(buf.copyout()[12:], b"ABCD")
        self.assertEqual(released, [])
        buf.close()
        self.assertEqual(sorted(released), [1, 2])  # type: ignore[type-var]

    def test_refused_adds_lend_nothing(self) -> None:
        released: Log = []
        with Buffer() as buf:
            with self.assertRaises(TypeError):
                buf.add_reference("text is not bytes")
            with self.assertRaises(BufferError):
                # not contiguous
                buf.add_reference(memoryview(b"abcdef")[::2])
            buf.add_reference(b"", lambda: released.append("empty"))
            self.assertEqual(len(buf), 0)
            buf.freeze()
            with self.assertRaises(GoeventError):
                buf.add_reference(b"frozen", lambda: released.append("frozen"))
            self.assertEqual(len(buf), 0)
            buf.unfreeze()
            buf.add_reference(b"thawed", lambda: released.append("thawed"))
            self.assertEqual(bytes(buf), b"thawed")
        # The empty add is given back at once; the failed one never ran
        # libevent's cleanup (the bindings released the export themselves).
        self.assertEqual(released, ["empty", "thawed"])


if __name__ == "__main__":
    unittest.main()
