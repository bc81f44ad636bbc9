"""fork() after using goevent: os.fork with event_reinit in the child, and a
multiprocessing pool whose workers are forked from a process that has used
goevent (the fork start method)."""

from __future__ import annotations

import multiprocessing
import os
import unittest

from goevent import EV, Buffer, BufferEvent, EventBase



def pair_round_trip(base: EventBase, payload: bytes) -> bytes:
    """Sends payload from one end of a bufferevent pair to the other on
    base, returning what arrived."""
    got = bytearray()
    a, b = BufferEvent.pair(base)

    def on_read(bev: BufferEvent) -> None:
        got.extend(bev.read())
        if len(got) >= len(payload):
            base.loopexit()

    b.set_callbacks(read=on_read)
    b.enable(EV.READ)
    a.write(payload)
    base.loop()
    a.close()
    b.close()
    return bytes(got)


def worker(n: int) -> tuple[int, int, bool]:
    """A pool task: a fresh base in the worker, a pair transfer of n bytes
    and an evbuffer, reported back."""
    payload = bytes(i % 251 for i in range(n))
    with EventBase() as base:
        got = pair_round_trip(base, payload)
    with Buffer(b"x" * n) as buf:
        size = len(buf)
    return os.getpid(), size, got == payload


class ForkTest(unittest.TestCase):
    def test_os_fork_child_reinits_and_carries_on(self) -> None:
        with EventBase() as base:
            # Used before the fork: the engine runs in the parent.
            self.assertEqual(pair_round_trip(base, b"parent before"), b"parent before")
            fired = []
            timer = base.timer(0.05, lambda: fired.append(os.getpid()))
            rd, wr = os.pipe()
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    os.close(rd)
                    base.reinit()
                    got = pair_round_trip(base, b"from the child")
                    base.loop()  # the timer made before the fork fires here
                    ok = got == b"from the child" and fired == [os.getpid()]
                    os.write(wr, b"ok" if ok else repr((got, fired)).encode())
                    status = 0
                finally:
                    os._exit(status)
            os.close(wr)
            report = b""
            while chunk := os.read(rd, 1024):
                report += chunk
            os.close(rd)
            _, status = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
            self.assertEqual(report, b"ok")
            # The parent goes on too.
            base.loop()
            self.assertEqual(fired, [os.getpid()])
            self.assertEqual(pair_round_trip(base, b"parent after"), b"parent after")
            timer.close()

    def test_multiprocessing_pool_with_fork(self) -> None:
        # Use goevent in this process first, so that the workers are forked
        # from a process whose engine is running.
        with EventBase() as base:
            self.assertEqual(pair_round_trip(base, b"warm"), b"warm")
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(3) as pool:
            results = pool.map(worker, [1000, 50000, 200000, 7, 4096, 65536])
        self.assertEqual([r[1] for r in results], [1000, 50000, 200000, 7, 4096, 65536])
        self.assertTrue(all(r[2] for r in results))
        self.assertTrue(all(r[0] != os.getpid() for r in results))


if __name__ == "__main__":
    unittest.main()
