"""``python -m goevent``: say which library was loaded and check that it works.

Prints the library's path, where it came from, its version and the loop's
backend, then runs a short self-check (a buffer, a timer, a bufferevent
pair through a filter), and names any other library of goevent's the core
loaded meanwhile (an engine library). Exits 0 if every step gave the
expected result.
"""

from __future__ import annotations

import os
import sys

from . import (
    EV,
    Buffer,
    BufferEvent,
    EventBase,
    FilterResult,
    Flush,
    library_origin,
    library_path,
    version,
)


def _upper(src: Buffer, dst: Buffer, _limit: int | None, _mode: Flush) -> FilterResult:
    dst.add(src.remove(len(src)).upper())
    return FilterResult.OK


def self_check() -> list[str]:
    """Run the checks; return a description of each failure."""
    problems = []
    with Buffer(b"line one\r\nline two\n") as buf:
        if buf.readln() != b"line one" or buf.search(b"two") != 5:
            problems.append("evbuffer: readln/search gave wrong results")

    with EventBase() as base:
        fired: list[str] = []
        received = bytearray()

        def maybe_done() -> None:
            if fired and len(received) >= 5:
                base.loopexit()

        def on_timer() -> None:
            fired.append("timer")
            maybe_done()

        def on_read(bev: BufferEvent) -> None:
            received.extend(bev.read())
            maybe_done()

        base.call_later(0.01, on_timer)
        left, right = BufferEvent.pair(base)
        upper = BufferEvent.filter(left, output=_upper)

        right.set_callbacks(read=on_read)
        right.enable(EV.READ)
        upper.enable(EV.READ | EV.WRITE)
        upper.write(b"hello")
        base.call_later(2.0, base.loopbreak)  # a guard, not expected to fire
        base.loop()
        if bytes(received) != b"HELLO":
            problems.append(f"filter over a pair: got {bytes(received)!r}, not b'HELLO'")
        if fired != ["timer"]:
            problems.append("timer: did not fire")
        method = base.method
    print(f"backend:  {method}")
    return problems


def _also_loaded() -> list[str]:
    """Other goevent/libevent files mapped into this process."""
    core = os.path.realpath(library_path())
    found: set[str] = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) < 6:
                    continue
                path = os.path.realpath(fields[5].strip())
                name = os.path.basename(path)
                if name.startswith(("libgoevent", "libevent")) and path != core:
                    found.add(path)
    except OSError:
        pass
    return sorted(found)


def main() -> int:
    print(f"library:  {library_path()} ({library_origin()})")
    print(f"version:  {version()}")
    problems = self_check()
    for path in _also_loaded():
        print(f"also:     {path}")
    for problem in problems:
        print(f"FAILED:   {problem}")
    print("self-check:", "FAILED" if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
