"""The base class of every wrapper that owns (or borrows) a C object."""

from __future__ import annotations

from typing import Any

from ._errors import ClosedError


class Handle:
    """A C pointer plus the rules for using it after it is freed.

    ``_ptr`` is ``None`` once the object is closed; ``_handle()`` is the
    only way methods get at the pointer, so use-after-free surfaces as
    :class:`ClosedError` instead of a crash.
    """

    _ptr: int | None = None
    _kind = "object"

    def _handle(self) -> int:
        ptr = self._ptr
        if ptr is None:
            raise ClosedError(f"{self._kind} is closed")
        return ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing useful to do in __del__
            pass

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else f"at {self._ptr:#x}"
        return f"<goevent.{type(self).__name__} {state}>"
