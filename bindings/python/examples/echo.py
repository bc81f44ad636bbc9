#!/usr/bin/env python3
"""Echo server and client on loopback, driven by one goevent event loop.

The client streams TOTAL pseudo-random bytes to the server in CHUNK-sized
pieces, topping up its output only when the write watermark says it has
drained to LOW. The server echoes everything back; its read high watermark
caps each connection's input at HIGH bytes, and if its output backs up to
HIGH it stops reading until the write watermark reports the output drained
to LOW (on a fast loopback that seldom happens). The client checks every
echoed byte; the program exits 0 only if all TOTAL bytes came back intact
and every refill happened at the watermark.

Run from the repository root:
    python3 bindings/python/examples/echo.py
(set GOEVENT_LIBRARY=/path/to/libevent_core-2.1.so.7 to choose the library).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goevent import BEV, EV, BufferEvent, EventBase, Listener  # noqa: E402

TOTAL = 8 << 20  # bytes to round-trip
CHUNK = 64 << 10  # bytes the client queues at a time
HIGH = 256 << 10  # server: stop reading at this much pending output
LOW = 32 << 10  # server: resume reading at this much; client: refill here


class Server:
    def __init__(self, base: EventBase) -> None:
        self.base = base
        self.pauses = 0
        self.listener = Listener(base, self.accept)

    def accept(self, fd: int, _peer: tuple) -> None:
        bev = BufferEvent(self.base, fd)
        bev.set_watermark(EV.READ, 0, HIGH)
        bev.set_watermark(EV.WRITE, LOW)
        bev.set_callbacks(read=self.echo, write=self.drained, event=self.event)
        bev.enable(EV.READ | EV.WRITE)

    def echo(self, bev: BufferEvent) -> None:
        bev.output.add_buffer(bev.input)
        if len(bev.output) >= HIGH:
            bev.disable(EV.READ)  # the write callback turns it back on
            self.pauses += 1

    def drained(self, bev: BufferEvent) -> None:
        if not bev.enabled & EV.READ:
            bev.enable(EV.READ)

    def event(self, bev: BufferEvent, what: BEV) -> None:
        if what & (BEV.EOF | BEV.ERROR):
            bev.close()


class Client:
    def __init__(self, base: EventBase, address: tuple) -> None:
        self.base = base
        self.data = random.Random(7).randbytes(TOTAL)
        self.sent = 0
        self.received = 0
        self.refills = 0  # write callbacks, each at or below LOW
        self.early_refills = 0  # write callbacks above LOW: must stay 0
        self.mismatch: int | None = None
        self.error: str | None = None
        self.bev = BufferEvent(base)
        self.bev.set_watermark(EV.WRITE, LOW)
        self.bev.set_watermark(EV.READ, 0, HIGH)
        self.bev.set_callbacks(read=self.check, write=self.refill, event=self.event)
        self.bev.connect(address)
        self.bev.enable(EV.READ | EV.WRITE)

    def refill(self, bev: BufferEvent) -> None:
        self.refills += 1
        if len(bev.output) > LOW:
            self.early_refills += 1
        self.top_up(bev)

    def top_up(self, bev: BufferEvent) -> None:
        while self.sent < TOTAL and len(bev.output) < CHUNK:
            piece = self.data[self.sent:self.sent + CHUNK]
            bev.write(piece)
            self.sent += len(piece)

    def check(self, bev: BufferEvent) -> None:
        got = bev.read()
        want = self.data[self.received:self.received + len(got)]
        if got != want and self.mismatch is None:
            self.mismatch = self.received  # start of the bad piece
        self.received += len(got)
        if self.received >= TOTAL:
            self.base.loopexit()

    def event(self, bev: BufferEvent, what: BEV) -> None:
        if what & BEV.CONNECTED:
            self.top_up(bev)
        elif what & (BEV.EOF | BEV.ERROR | BEV.TIMEOUT):
            self.error = f"connection ended early: {what!r} errno={bev.socket_error}"
            self.base.loopexit()


def main() -> int:
    with EventBase() as base:
        server = Server(base)
        client = Client(base, server.listener.address)
        base.call_later(60, lambda: base.loopexit())  # never hang
        base.loop()
        ok = (
            client.error is None
            and client.mismatch is None
            and client.received == TOTAL
            and client.refills > 0
            and client.early_refills == 0
        )
        print(
            f"echo via {base.method}: sent {client.sent}, received "
            f"{client.received} of {TOTAL} bytes; client refilled at the "
            f"write watermark {client.refills} times ({client.early_refills} "
            f"early); server paused reading {server.pauses} times "
            f"-> {'OK' if ok else 'FAILED'}"
        )
        if client.error:
            print(client.error, file=sys.stderr)
        if client.mismatch is not None:
            print(f"wrong data at offset {client.mismatch}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
