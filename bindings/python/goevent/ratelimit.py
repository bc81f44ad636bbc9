"""Rate limits: ``TokenBucket`` (``struct ev_token_bucket_cfg``) and
``RateLimitGroup`` (``struct bufferevent_rate_limit_group``).

A token bucket refills by ``rate`` bytes every tick up to ``burst`` bytes;
each byte read or written takes a token, and a bufferevent whose bucket is
empty waits for the next tick. Limits apply to socket bufferevents (and the
filters above them through their socket). A bufferevent has its own bucket
(:meth:`BufferEvent.set_rate_limit <goevent.BufferEvent.set_rate_limit>`)
and/or shares a group's; the tighter limit wins.
"""

from __future__ import annotations

import errno
from ctypes import byref, c_uint64
from typing import TYPE_CHECKING, NamedTuple

from ._errors import GoeventError, failure
from ._handle import Handle
from ._lib import Timeval, lib

if TYPE_CHECKING:
    from .bufferevent import BufferEvent
    from .loop import EventBase

#: ``EV_RATE_LIMIT_MAX``: the largest rate or burst, and what the limit
#: queries report for a bufferevent with no limit.
RATE_LIMIT_MAX = (1 << 63) - 1


class TokenBucket(Handle):
    """Rates and bursts for reading and writing (``ev_token_bucket_cfg``).

    ``read_rate``/``write_rate`` bytes are added every ``tick`` seconds
    (default 1), up to ``read_burst``/``write_burst``. One bucket may serve
    any number of bufferevents; each bufferevent keeps its own token count.
    A bucket in use by an open bufferevent stays alive (``close()``
    refuses); afterwards it is freed when closed or collected.
    """

    _kind = "TokenBucket"

    def __init__(
        self,
        read_rate: int,
        read_burst: int,
        write_rate: int,
        write_burst: int,
        tick: float | None = None,
    ) -> None:
        for name, value in (
            ("read_rate", read_rate),
            ("read_burst", read_burst),
            ("write_rate", write_rate),
            ("write_burst", write_burst),
        ):
            if not 0 < value <= RATE_LIMIT_MAX:
                raise ValueError(f"{name} must be in 1..{RATE_LIMIT_MAX}")
        if tick is not None and tick <= 0:
            raise ValueError("tick must be positive")
        self.read_rate = read_rate
        self.read_burst = read_burst
        self.write_rate = write_rate
        self.write_burst = write_burst
        self.tick = 1.0 if tick is None else tick
        self._users: dict[int, BufferEvent] = {}
        tv = None if tick is None else byref(Timeval.from_seconds(tick))
        ptr = lib.ev_token_bucket_cfg_new(
            read_rate, read_burst, write_rate, write_burst, tv
        )
        if not ptr:
            raise failure("ev_token_bucket_cfg_new", use_errno=False)
        self._ptr = ptr

    def close(self) -> None:
        """Free the configuration; refused while a bufferevent uses it."""
        ptr = self._ptr
        if ptr is None:
            return
        if self._users:
            raise GoeventError(
                errno.EBUSY,
                f"TokenBucket is in use by {len(self._users)} bufferevent(s)",
            )
        self._ptr = None
        lib.ev_token_bucket_cfg_free(ptr)

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<goevent.TokenBucket closed>"
        return (
            f"<goevent.TokenBucket read {self.read_rate}/{self.read_burst}, "
            f"write {self.write_rate}/{self.write_burst}, tick {self.tick} s>"
        )


class Totals(NamedTuple):
    """Bytes a group's members moved since creation or the last reset."""

    read: int
    written: int


class RateLimitGroup(Handle):
    """Bufferevents sharing one budget (``bufferevent_rate_limit_group``).

    The group copies ``bucket``'s settings, so the bucket may be closed
    afterwards. The group's tokens are divided among members that want to
    move data, at least ``min_share`` bytes each (default 64). Closing the
    group removes its members first; closing a member removes it. The base
    keeps the group alive until it is closed, and closes it with itself.
    """

    _kind = "RateLimitGroup"

    def __init__(self, base: "EventBase", bucket: TokenBucket) -> None:
        self._base = base
        self._members: dict[int, BufferEvent] = {}
        ptr = lib.bufferevent_rate_limit_group_new(base._handle(), bucket._handle())
        if not ptr:
            raise failure("bufferevent_rate_limit_group_new", use_errno=False)
        self._ptr = ptr
        base._adopt(self)

    # -- membership -----------------------------------------------------

    def add(self, bev: "BufferEvent") -> None:
        """Make ``bev`` a member (leaving any other group it is in)."""
        ptr = self._handle()
        old = bev._group
        if lib.bufferevent_add_to_rate_limit_group(bev._handle(), ptr) < 0:
            raise failure("bufferevent_add_to_rate_limit_group", use_errno=False)
        if old is not None and old is not self:
            old._members.pop(id(bev), None)
        self._members[id(bev)] = bev
        bev._group = self

    def remove(self, bev: "BufferEvent") -> None:
        """Take ``bev`` out of the group (no-op if it is not a member)."""
        if self._members.pop(id(bev), None) is None:
            return
        bev._group = None
        if bev._ptr is not None and self._ptr is not None:
            if lib.bufferevent_remove_from_rate_limit_group(bev._ptr) < 0:
                raise failure(
                    "bufferevent_remove_from_rate_limit_group", use_errno=False
                )

    @property
    def members(self) -> list["BufferEvent"]:
        return list(self._members.values())

    # -- settings -------------------------------------------------------

    def set_bucket(self, bucket: TokenBucket) -> None:
        """Replace the rates and bursts (copied from ``bucket``)."""
        ptr = self._handle()
        if lib.bufferevent_rate_limit_group_set_cfg(ptr, bucket._handle()) < 0:
            raise failure("bufferevent_rate_limit_group_set_cfg", use_errno=False)

    def set_min_share(self, size: int) -> None:
        """The fewest bytes a member is allowed to move at once (0: none)."""
        if size < 0:
            raise ValueError("min_share must not be negative")
        ptr = self._handle()
        if lib.bufferevent_rate_limit_group_set_min_share(ptr, size) < 0:
            raise failure("bufferevent_rate_limit_group_set_min_share", use_errno=False)

    # -- state ----------------------------------------------------------

    @property
    def read_limit(self) -> int:
        """Tokens left in the group's read bucket (may be negative)."""
        return lib.bufferevent_rate_limit_group_get_read_limit(self._handle())

    @property
    def write_limit(self) -> int:
        """Tokens left in the group's write bucket (may be negative)."""
        return lib.bufferevent_rate_limit_group_get_write_limit(self._handle())

    def decrement_read(self, size: int) -> None:
        """Take ``size`` read tokens (give them back if negative)."""
        ptr = self._handle()
        if lib.bufferevent_rate_limit_group_decrement_read(ptr, size) < 0:
            raise failure("bufferevent_rate_limit_group_decrement_read", use_errno=False)

    def decrement_write(self, size: int) -> None:
        """Take ``size`` write tokens (give them back if negative)."""
        ptr = self._handle()
        if lib.bufferevent_rate_limit_group_decrement_write(ptr, size) < 0:
            raise failure(
                "bufferevent_rate_limit_group_decrement_write", use_errno=False
            )

    @property
    def totals(self) -> Totals:
        """Bytes the members read and wrote since creation or the last
        :meth:`reset_totals`."""
        read, written = c_uint64(), c_uint64()
        lib.bufferevent_rate_limit_group_get_totals(
            self._handle(), byref(read), byref(written)
        )
        return Totals(read.value, written.value)

    def reset_totals(self) -> None:
        lib.bufferevent_rate_limit_group_reset_totals(self._handle())

    def close(self) -> None:
        """Remove every member, then free the group."""
        ptr = self._ptr
        if ptr is None:
            return
        for bev in list(self._members.values()):
            self.remove(bev)
        self._ptr = None
        lib.bufferevent_rate_limit_group_free(ptr)
        self._base._disown(self)
