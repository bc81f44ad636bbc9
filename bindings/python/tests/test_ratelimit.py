"""Rate limits: a bufferevent's own token bucket, groups and their totals,
and the single read/write caps."""

from __future__ import annotations

import errno
import socket
import time
import unittest

from goevent import (
    EV,
    RATE_LIMIT_MAX,
    BufferEvent,
    EventBase,
    GoeventError,
    RateLimitGroup,
    TokenBucket,
    Totals,
)

from .support import run_loop

TICK = 0.05


class RateLimitTest(unittest.TestCase):
    def setUp(self) -> None:
        self.base = EventBase()

    def tearDown(self) -> None:
        self.base.close()

    def socket_pair(self) -> tuple[BufferEvent, BufferEvent]:
        a, b = socket.socketpair()
        return (
            BufferEvent.from_socket(self.base, a),
            BufferEvent.from_socket(self.base, b),
        )

    def receive(self, bev: BufferEvent, total: int, chunks: list[int]) -> None:
        """Read into ``chunks`` (sizes); stop the loop after ``total``."""

        def on_read(b: BufferEvent) -> None:
            chunks.append(len(b.read()))
            if sum(chunks) >= total:
                self.base.loopexit()

        bev.set_callbacks(read=on_read)
        bev.enable(EV.READ)

    def test_own_bucket_meters_reads(self) -> None:
        writer, reader = self.socket_pair()
        self.assertEqual(reader.read_limit, RATE_LIMIT_MAX)
        self.assertEqual(reader.max_to_read, 16384)  # the single-read cap
        bucket = TokenBucket(1000, 1000, RATE_LIMIT_MAX, RATE_LIMIT_MAX, tick=TICK)
        reader.set_rate_limit(bucket)
        self.assertIs(reader.rate_limit, bucket)
        self.assertEqual(reader.read_limit, 1000)  # starts with one tick's worth
        self.assertEqual(reader.write_limit, RATE_LIMIT_MAX)
        self.assertEqual(reader.max_to_read, 1000)
        reader.decrement_read_limit(300)
        self.assertEqual((reader.read_limit, reader.max_to_read), (700, 700))
        reader.decrement_read_limit(-300)
        self.assertEqual(reader.read_limit, 1000)

        chunks: list[int] = []
        limits: list[int] = []

        def on_read(bev: BufferEvent) -> None:
            limits.append(bev.read_limit)
            chunks.append(len(bev.read()))
            if sum(chunks) >= 6000:
                self.base.loopexit()

        reader.set_callbacks(read=on_read)
        reader.enable(EV.READ)
        start = time.monotonic()
        writer.write(bytes(6000))
        run_loop(self, self.base)
        elapsed = time.monotonic() - start
        # Burst == rate: no read can take more than one tick's tokens, and
        # each takes all of them.
        self.assertEqual(chunks, [1000] * 6)
        self.assertEqual(limits, [0] * 6)
        # Five refills were needed; the first may come at once.
        self.assertGreaterEqual(elapsed, 4 * TICK * 0.9)

        reader.set_rate_limit(None)
        self.assertIsNone(reader.rate_limit)
        self.assertEqual(reader.read_limit, RATE_LIMIT_MAX)

    def test_own_bucket_meters_writes(self) -> None:
        writer, reader = self.socket_pair()
        writer.set_rate_limit(TokenBucket(RATE_LIMIT_MAX, RATE_LIMIT_MAX, 2000, 2000, TICK))
        self.assertEqual((writer.write_limit, writer.max_to_write), (2000, 2000))
        chunks: list[int] = []
        self.receive(reader, 8000, chunks)
        start = time.monotonic()
        writer.write(bytes(8000))
        run_loop(self, self.base)
        elapsed = time.monotonic() - start
        self.assertEqual(sum(chunks), 8000)
        self.assertLessEqual(max(chunks), 2000 * 2)  # two writes may merge
        self.assertGreaterEqual(elapsed, 3 * TICK * 0.9)

    def test_group_shares_its_budget_and_counts_totals(self) -> None:
        a, b = self.socket_pair()
        c, d = self.socket_pair()
        group = RateLimitGroup(self.base, TokenBucket(4000, 4000, 4000, 4000, TICK))
        self.assertEqual((group.read_limit, group.write_limit), (4000, 4000))
        self.assertEqual(group.totals, Totals(0, 0))
        group.add(b)
        group.add(d)
        self.assertIs(b.rate_limit_group, group)
        self.assertEqual(group.members, [b, d])
        # Two members wanting to read: half each.
        self.assertEqual((b.max_to_read, d.max_to_read), (2000, 2000))
        # An own bucket tighter than the share wins.
        b.set_rate_limit(TokenBucket(1000, 1000, 1000, 1000, TICK))
        self.assertEqual(b.max_to_read, 1000)
        b.set_rate_limit(None)
        group.decrement_read(500)
        self.assertEqual(group.read_limit, 3500)
        group.decrement_read(-500)
        group.decrement_write(100)
        self.assertEqual((group.read_limit, group.write_limit), (4000, 3900))

        got_b: list[int] = []
        got_d: list[int] = []

        def reader(got: list[int]):  # type: ignore[no-untyped-def]
            def on_read(bev: BufferEvent) -> None:
                got.append(len(bev.read()))
                if sum(got_b) >= 10000 and sum(got_d) >= 10000:
                    self.base.loopexit()

            return on_read

        b.set_callbacks(read=reader(got_b))
        d.set_callbacks(read=reader(got_d))
        b.enable(EV.READ)
        d.enable(EV.READ)
        start = time.monotonic()
        a.write(bytes(10000))
        c.write(bytes(10000))
        run_loop(self, self.base)
        elapsed = time.monotonic() - start
        self.assertEqual((sum(got_b), sum(got_d)), (10000, 10000))
        # Only the readers are members: 20000 read, nothing written.
        self.assertEqual(group.totals, Totals(20000, 0))
        self.assertGreaterEqual(elapsed, 3 * TICK * 0.9)
        self.assertLessEqual(max(got_b + got_d), 4000)
        group.reset_totals()
        self.assertEqual(group.totals, Totals(0, 0))

        b.close()
        self.assertEqual(group.members, [d])
        group.remove(d)
        self.assertIsNone(d.rate_limit_group)
        self.assertEqual(d.max_to_read, 16384)
        group.add(d)
        group.close()  # members leave first
        self.assertIsNone(d.rate_limit_group)
        self.assertEqual(d.max_to_read, 16384)

    def test_moving_between_groups(self) -> None:
        _, b = self.socket_pair()
        first = RateLimitGroup(self.base, TokenBucket(1000, 1000, 1000, 1000))
        second = RateLimitGroup(self.base, TokenBucket(3000, 3000, 3000, 3000))
        first.add(b)
        self.assertEqual(b.max_to_read, 1000)
        second.add(b)
        self.assertEqual((first.members, second.members), ([], [b]))
        self.assertEqual(b.max_to_read, 3000)
        second.set_bucket(TokenBucket(500, 500, 500, 500))
        second.set_min_share(10)
        self.assertEqual(b.max_to_read, 500)  # tokens clamped to the new burst
        # base.close() in tearDown frees both groups with a member left.

    def test_single_read_and_write_caps(self) -> None:
        writer, reader = self.socket_pair()
        self.assertEqual((reader.max_single_read, writer.max_single_write), (16384, 16384))
        reader.max_single_read = 4096
        writer.max_single_write = 1024
        self.assertEqual((reader.max_single_read, reader.max_to_read), (4096, 4096))
        self.assertEqual(writer.max_to_write, 1024)
        chunks: list[int] = []
        self.receive(reader, 20000, chunks)
        writer.write(bytes(20000))
        run_loop(self, self.base)
        self.assertEqual(sum(chunks), 20000)
        self.assertLessEqual(max(chunks), 4096)
        reader.max_single_read = 0  # back to the default
        self.assertEqual(reader.max_single_read, 16384)

    def test_bucket_lifetime_and_arguments(self) -> None:
        _, b = self.socket_pair()
        bucket = TokenBucket(10, 10, 10, 10)
        self.assertEqual(bucket.tick, 1.0)
        b.set_rate_limit(bucket)
        with self.assertRaises(GoeventError) as ctx:
            bucket.close()
        self.assertEqual(ctx.exception.errno, errno.EBUSY)
        b.close()
        bucket.close()
        self.assertTrue(bucket.closed)
        for args in ((0, 1, 1, 1), (1, 1, 1, RATE_LIMIT_MAX + 1)):
            with self.assertRaises(ValueError):
                TokenBucket(*args)
        with self.assertRaises(ValueError):
            TokenBucket(1, 1, 1, 1, tick=0)


if __name__ == "__main__":
    unittest.main()
