"""Buffer: byte-queue operations, views, fd I/O, callbacks, errors."""

from __future__ import annotations

import errno
import os
import random
import socket
import unittest

from goevent import EOL, Buffer, CallbackInfo, ClosedError, GoeventError

from .support import nonblocking_pair


class BasicsTest(unittest.TestCase):
    def test_add_len_bytes(self) -> None:
        with Buffer() as buf:
            self.assertEqual(len(buf), 0)
            self.assertEqual(bytes(buf), b"")
            buf.add(b"hello ")
            buf.add(bytearray(b"wor"))
            buf.add(memoryview(b"xxld")[2:])
            self.assertEqual(len(buf), 11)
            self.assertEqual(bytes(buf), b"hello world")

    def test_initial_data_and_prepend(self) -> None:
        with Buffer(b"world") as buf:
            buf.prepend(b"hello, ")
            self.assertEqual(bytes(buf), b"hello, world")

    def test_remove_drain_copyout(self) -> None:
        with Buffer(b"0123456789") as buf:
            self.assertEqual(buf.copyout(4), b"0123")
            self.assertEqual(len(buf), 10)  # copyout leaves the data
            self.assertEqual(buf.remove(3), b"012")
            buf.drain(2)
            self.assertEqual(bytes(buf), b"56789")
            self.assertEqual(buf.remove(100), b"56789")
            self.assertEqual(buf.remove(1), b"")
            buf.drain(10)  # draining an empty buffer is not an error
            self.assertEqual(len(buf), 0)
            with self.assertRaises(ValueError):
                buf.drain(-1)

    def test_large_round_trip(self) -> None:
        data = random.Random(1).randbytes(1 << 20)
        with Buffer() as buf:
            for i in range(0, len(data), 1000):
                buf.add(data[i:i + 1000])
            self.assertEqual(len(buf), len(data))
            out = b"".join(buf.remove(4096) for _ in range(len(data) // 4096 + 1))
            self.assertEqual(out, data)

    def test_add_buffer_moves_data(self) -> None:
        with Buffer(b"head-") as dst, Buffer(b"0123456789") as src:
            dst.add_buffer(src, 4)
            self.assertEqual(bytes(dst), b"head-0123")
            self.assertEqual(bytes(src), b"456789")
            dst.add_buffer(src)
            self.assertEqual(bytes(dst), b"head-0123456789")
            self.assertEqual(len(src), 0)


class ReadlnTest(unittest.TestCase):
    def lines(self, data: bytes, style: EOL) -> tuple[list[bytes], bytes]:
        with Buffer(data) as buf:
            out = []
            while (line := buf.readln(style)) is not None:
                out.append(line)
            return out, bytes(buf)

    def test_styles(self) -> None:
        cases = [
            (EOL.ANY, b"a\r\n\r\nb\nc\rd\n\n", [b"a", b"b", b"c", b"d"], b""),
            (EOL.CRLF, b"a\r\nb\nc\r\nrest", [b"a", b"b", b"c"], b"rest"),
            (EOL.CRLF_STRICT, b"a\nb\r\nc\n", [b"a\nb"], b"c\n"),
            (EOL.LF, b"a\r\nb\nc", [b"a\r", b"b"], b"c"),
            (EOL.NUL, b"a\0\0b\0c", [b"a", b"", b"b"], b"c"),
        ]
        for style, data, lines, rest in cases:
            with self.subTest(style=style):
                self.assertEqual(self.lines(data, style), (lines, rest))

    def test_default_is_crlf_and_incomplete_line_stays(self) -> None:
        with Buffer(b"GET / HTTP/1.1\r\nHost: x") as buf:
            self.assertEqual(buf.readln(), b"GET / HTTP/1.1")
            self.assertIsNone(buf.readln())
            self.assertEqual(bytes(buf), b"Host: x")
            buf.add(b"\r\n")
            self.assertEqual(buf.readln(), b"Host: x")
            self.assertEqual(len(buf), 0)


class SearchTest(unittest.TestCase):
    def test_simple(self) -> None:
        with Buffer(b"one two three two") as buf:
            self.assertEqual(buf.search(b"two"), 4)
            self.assertEqual(buf.search(b"two", 5), 14)
            self.assertEqual(buf.search(b"two", 5, 16), -1)
            self.assertEqual(buf.search(b"four"), -1)
            self.assertEqual(buf.search(b"three", -5), -1)
            self.assertEqual(buf.search(b"o", -3), 16)

    def test_matches_bytes_find(self) -> None:
        rng = random.Random(5)
        data = bytes(rng.choice(b"abc") for _ in range(3000))
        with Buffer() as buf:
            # Many small adds, so that matches straddle the library's chunks.
            for i in range(0, len(data), 7):
                buf.add(data[i:i + 7])
            for _ in range(300):
                needle = bytes(rng.choice(b"abc") for _ in range(rng.randint(1, 6)))
                start = rng.randint(0, len(data))
                end = rng.choice([None, rng.randint(start, len(data))])
                with self.subTest(needle=needle, start=start, end=end):
                    self.assertEqual(
                        buf.search(needle, start, end), data.find(needle, start, end)
                    )


class ViewTest(unittest.TestCase):
    def test_pullup_is_contiguous_and_read_only(self) -> None:
        with Buffer() as buf:
            for part in (b"abc", b"def", b"ghi"):
                buf.add(part)
            view = buf.pullup(5)
            self.assertEqual(bytes(view), b"abcde")
            self.assertTrue(view.readonly)
            self.assertEqual(view[0], ord("a"))
            self.assertEqual(bytes(buf.pullup()), b"abcdefghi")
            with self.assertRaises(ValueError):
                buf.pullup(100)
            self.assertEqual(bytes(buf.pullup(0)), b"")

    def test_views_revoked_on_change(self) -> None:
        buf = Buffer(b"abcdef")
        changes = [
            lambda: buf.drain(1),
            lambda: buf.add(b"x"),
            lambda: buf.prepend(b"y"),
            lambda: buf.remove(1),
            lambda: buf.readln(),
            lambda: buf.pullup(2),
            buf.close,
        ]
        for change in changes:
            with self.subTest(change=change):
                if buf.closed:
                    break
                view = buf.pullup()
                bytes(view)
                change()
                with self.assertRaises(ValueError):
                    bytes(view)

    def test_peek(self) -> None:
        with Buffer() as buf:
            parts = [bytes([i]) * 3000 for i in range(1, 5)]
            for part in parts:
                buf.add(part)
            views = buf.peek()
            self.assertEqual(b"".join(bytes(v) for v in views), b"".join(parts))
            self.assertTrue(all(v.readonly for v in views))
            first = buf.peek(10)
            self.assertEqual(b"".join(bytes(v) for v in first), parts[0][:10])
            self.assertEqual(len(buf), 12000)  # peeking leaves the data
            self.assertEqual(bytes(views[0][:3]), parts[0][:3])
            buf.drain(1)
            with self.assertRaises(ValueError):
                bytes(views[0])

    def test_empty_peek(self) -> None:
        with Buffer() as buf:
            self.assertEqual(buf.peek(), [])


class FdTest(unittest.TestCase):
    def test_write_to_and_read_from(self) -> None:
        a, b = nonblocking_pair()
        with a, b, Buffer(b"x" * 1000 + b"tail") as out, Buffer() as inp:
            self.assertEqual(out.write_to(a), 1004)
            self.assertEqual(len(out), 0)
            self.assertEqual(inp.read_from(b.fileno()), 1004)
            self.assertEqual(bytes(inp)[-4:], b"tail")
            with self.assertRaises(GoeventError) as ctx:
                inp.read_from(b)  # nothing more to read
            self.assertEqual(ctx.exception.errno, errno.EAGAIN)
            a.shutdown(socket.SHUT_WR)
            self.assertEqual(inp.read_from(b), 0)  # end of file

    def test_write_to_bad_fd_carries_errno(self) -> None:
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with Buffer(b"data") as buf:
            with self.assertRaises(GoeventError) as ctx:
                buf.write_to(w)
            self.assertEqual(ctx.exception.errno, errno.EBADF)
            self.assertIsInstance(ctx.exception, OSError)
            self.assertEqual(len(buf), 4)  # nothing drained on failure

    def test_write_to_atmost(self) -> None:
        a, b = nonblocking_pair()
        with a, b, Buffer(b"0123456789") as buf:
            self.assertEqual(buf.write_to(a, 4), 4)
            self.assertEqual(b.recv(100), b"0123")
            self.assertEqual(bytes(buf), b"456789")


class CallbackTest(unittest.TestCase):
    def test_change_callback(self) -> None:
        seen: list[CallbackInfo] = []
        with Buffer() as buf:
            token = buf.add_callback(seen.append)
            buf.add(b"12345")
            buf.drain(2)
            self.assertEqual(
                seen, [CallbackInfo(0, 5, 0), CallbackInfo(5, 0, 2)]
            )
            buf.remove_callback(token)
            buf.add(b"more")
            self.assertEqual(len(seen), 2)
            with self.assertRaises(KeyError):
                buf.remove_callback(token)

    def test_raising_callback_is_logged(self) -> None:
        def broken(_info: CallbackInfo) -> None:
            raise RuntimeError("callback failure for the test")

        with Buffer() as buf:
            buf.add_callback(broken)
            with self.assertLogs("goevent", "ERROR") as logs:
                buf.add(b"abc")
                buf.add(b"def")
            self.assertEqual(len(logs.records), 2)
            self.assertIn("callback failure for the test", logs.output[0])
            self.assertEqual(bytes(buf), b"abcdef")  # the change still happened

    def test_base_exception_reaches_caller(self) -> None:
        class Stop(BaseException):
            pass

        def stop(_info: CallbackInfo) -> None:
            raise Stop

        with Buffer() as buf:
            buf.add_callback(stop)
            with self.assertRaises(Stop):
                buf.add(b"abc")
            self.assertEqual(bytes(buf), b"abc")


class LifetimeTest(unittest.TestCase):
    def test_use_after_close(self) -> None:
        buf = Buffer(b"abc")
        with buf:
            pass
        self.assertTrue(buf.closed)
        buf.close()  # idempotent
        for use in (len, bytes, lambda b: b.add(b"x"), lambda b: b.search(b"a")):
            with self.assertRaises(ClosedError):
                use(buf)
        with self.assertRaises(ValueError):  # ClosedError is a ValueError too
            len(buf)

    def test_collected_with_callback(self) -> None:
        import gc
        import weakref

        buf = Buffer(b"abc")
        buf.add_callback(lambda info: None)
        ref = weakref.ref(buf)
        del buf
        gc.collect()
        self.assertIsNone(ref())


if __name__ == "__main__":
    unittest.main()
