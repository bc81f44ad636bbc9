"""Locating the shared library and declaring the C prototypes used.

Lookup order:

1. ``GOEVENT_LIBRARY``: a path to any library with libevent 2.1's ABI (e.g.
   the system's libevent_core). When set it is final.
2. The copy bundled in this package (``goevent/_libs/``), present when the
   package was installed from a wheel.
3. The repository's build tree (``<repo>/build/lib``), when this package is
   the one in ``<repo>/bindings/python``.
4. The system's ``libevent_core`` (``ctypes.util.find_library``).

Functions are bound on first use. A library that lacks a symbol still
loads; calling the missing function raises :class:`GoeventError` with
``errno.ENOSYS`` naming the symbol.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_short,
    c_size_t,
    c_ssize_t,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any

from ._errors import GoeventError

SONAME = "libevent_core-2.1.so.7"


class Timeval(Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]

    @classmethod
    def from_seconds(cls, seconds: float) -> "Timeval":
        if seconds < 0:
            raise ValueError("timeout must not be negative")
        whole = int(seconds)
        return cls(whole, int(round((seconds - whole) * 1_000_000)))


class EvbufferPtr(Structure):
    """struct evbuffer_ptr: a position plus the library's private cursor."""

    _fields_ = [
        ("pos", c_ssize_t),
        ("chain", c_void_p),
        ("pos_in_chain", c_size_t),
    ]


class Iovec(Structure):
    _fields_ = [("iov_base", c_void_p), ("iov_len", c_size_t)]


class CbInfo(Structure):
    _fields_ = [
        ("orig_size", c_size_t),
        ("n_added", c_size_t),
        ("n_deleted", c_size_t),
    ]


# Callback types (see the typedefs in event2/*.h).
EVENT_CB = CFUNCTYPE(None, c_int, c_short, c_void_p)
EVBUFFER_CB = CFUNCTYPE(None, c_void_p, POINTER(CbInfo), c_void_p)
BEV_DATA_CB = CFUNCTYPE(None, c_void_p, c_void_p)
# These two read errno on entry (use_errno copies it for ctypes.get_errno).
BEV_EVENT_CB = CFUNCTYPE(None, c_void_p, c_short, c_void_p, use_errno=True)
LISTENER_ERR_CB = CFUNCTYPE(None, c_void_p, c_void_p, use_errno=True)
LISTENER_CB = CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_int, c_void_p)
# evbuffer_ref_cleanup_cb(const void *data, size_t len, void *extra)
REF_CLEANUP_CB = CFUNCTYPE(None, c_void_p, c_size_t, c_void_p)
# bufferevent_filter_cb(src, dst, dst_limit, mode, ctx) -> enum result
FILTER_CB = CFUNCTYPE(c_int, c_void_p, c_void_p, c_ssize_t, c_int, c_void_p)
# The filter's free_context(ctx).
FREE_CB = CFUNCTYPE(None, c_void_p)


def null_callback(cftype: Any) -> Any:
    """A NULL function pointer of type ``cftype``: ctypes refuses ``None``
    where a callback type is declared."""
    return cftype()


_P = c_void_p
_TV = POINTER(Timeval)
_EP = POINTER(EvbufferPtr)

# name: (restype, argtypes)
_PROTOTYPES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "event_get_version": (c_char_p, ()),
    # buffer.h
    "evbuffer_new": (_P, ()),
    "evbuffer_free": (None, (_P,)),
    "evbuffer_get_length": (c_size_t, (_P,)),
    "evbuffer_expand": (c_int, (_P, c_size_t)),
    "evbuffer_add": (c_int, (_P, _P, c_size_t)),
    "evbuffer_prepend": (c_int, (_P, _P, c_size_t)),
    "evbuffer_remove": (c_int, (_P, _P, c_size_t)),
    "evbuffer_copyout": (c_ssize_t, (_P, _P, c_size_t)),
    "evbuffer_drain": (c_int, (_P, c_size_t)),
    "evbuffer_add_buffer": (c_int, (_P, _P)),
    "evbuffer_remove_buffer": (c_int, (_P, _P, c_size_t)),
    "evbuffer_readln": (_P, (_P, POINTER(c_size_t), c_int)),
    "evbuffer_ptr_set": (c_int, (_P, _EP, c_size_t, c_int)),
    "evbuffer_search": (EvbufferPtr, (_P, _P, c_size_t, _EP)),
    "evbuffer_search_range": (EvbufferPtr, (_P, _P, c_size_t, _EP, _EP)),
    "evbuffer_peek": (c_int, (_P, c_ssize_t, _EP, POINTER(Iovec), c_int)),
    "evbuffer_pullup": (_P, (_P, c_ssize_t)),
    "evbuffer_read": (c_int, (_P, c_int, c_int)),
    "evbuffer_write_atmost": (c_int, (_P, c_int, c_ssize_t)),
    "evbuffer_add_cb": (_P, (_P, EVBUFFER_CB, _P)),
    "evbuffer_remove_cb_entry": (c_int, (_P, _P)),
    "evbuffer_cb_set_flags": (c_int, (_P, _P, c_uint32)),
    "evbuffer_cb_clear_flags": (c_int, (_P, _P, c_uint32)),
    "evbuffer_defer_callbacks": (c_int, (_P, _P)),
    "evbuffer_add_reference": (c_int, (_P, _P, c_size_t, REF_CLEANUP_CB, _P)),
    "evbuffer_freeze": (c_int, (_P, c_int)),
    "evbuffer_unfreeze": (c_int, (_P, c_int)),
    # event.h
    "event_base_new": (_P, ()),
    "event_base_free": (None, (_P,)),
    "event_base_get_method": (c_char_p, (_P,)),
    "event_base_loop": (c_int, (_P, c_int)),
    "event_base_loopexit": (c_int, (_P, _TV)),
    "event_base_loopbreak": (c_int, (_P,)),
    "event_reinit": (c_int, (_P,)),
    "event_base_got_exit": (c_int, (_P,)),
    "event_base_got_break": (c_int, (_P,)),
    "event_new": (_P, (_P, c_int, c_short, EVENT_CB, _P)),
    "event_free": (None, (_P,)),
    "event_add": (c_int, (_P, _TV)),
    "event_del": (c_int, (_P,)),
    "event_pending": (c_int, (_P, c_short, _TV)),
    "event_active": (None, (_P, c_int, c_short)),
    # bufferevent.h
    "bufferevent_socket_new": (_P, (_P, c_int, c_int)),
    "bufferevent_socket_connect": (c_int, (_P, _P, c_int)),
    "bufferevent_pair_new": (c_int, (_P, c_int, POINTER(_P))),
    "bufferevent_free": (None, (_P,)),
    "bufferevent_setcb": (None, (_P, BEV_DATA_CB, BEV_DATA_CB, BEV_EVENT_CB, _P)),
    "bufferevent_enable": (c_int, (_P, c_short)),
    "bufferevent_disable": (c_int, (_P, c_short)),
    "bufferevent_get_enabled": (c_short, (_P,)),
    "bufferevent_get_input": (_P, (_P,)),
    "bufferevent_get_output": (_P, (_P,)),
    "bufferevent_write": (c_int, (_P, _P, c_size_t)),
    "bufferevent_read": (c_size_t, (_P, _P, c_size_t)),
    "bufferevent_setwatermark": (None, (_P, c_short, c_size_t, c_size_t)),
    "bufferevent_set_timeouts": (c_int, (_P, _TV, _TV)),
    "bufferevent_getfd": (c_int, (_P,)),
    "bufferevent_flush": (c_int, (_P, c_short, c_int)),
    "bufferevent_get_underlying": (_P, (_P,)),
    "bufferevent_filter_new": (_P, (_P, FILTER_CB, FILTER_CB, c_int, FREE_CB, _P)),
    # rate limits (bufferevent.h)
    "ev_token_bucket_cfg_new": (_P, (c_size_t, c_size_t, c_size_t, c_size_t, _TV)),
    "ev_token_bucket_cfg_free": (None, (_P,)),
    "bufferevent_set_rate_limit": (c_int, (_P, _P)),
    "bufferevent_rate_limit_group_new": (_P, (_P, _P)),
    "bufferevent_rate_limit_group_set_cfg": (c_int, (_P, _P)),
    "bufferevent_rate_limit_group_set_min_share": (c_int, (_P, c_size_t)),
    "bufferevent_rate_limit_group_free": (None, (_P,)),
    "bufferevent_add_to_rate_limit_group": (c_int, (_P, _P)),
    "bufferevent_remove_from_rate_limit_group": (c_int, (_P,)),
    "bufferevent_set_max_single_read": (c_int, (_P, c_size_t)),
    "bufferevent_set_max_single_write": (c_int, (_P, c_size_t)),
    "bufferevent_get_max_single_read": (c_ssize_t, (_P,)),
    "bufferevent_get_max_single_write": (c_ssize_t, (_P,)),
    "bufferevent_get_read_limit": (c_ssize_t, (_P,)),
    "bufferevent_get_write_limit": (c_ssize_t, (_P,)),
    "bufferevent_get_max_to_read": (c_ssize_t, (_P,)),
    "bufferevent_get_max_to_write": (c_ssize_t, (_P,)),
    "bufferevent_rate_limit_group_get_read_limit": (c_ssize_t, (_P,)),
    "bufferevent_rate_limit_group_get_write_limit": (c_ssize_t, (_P,)),
    "bufferevent_decrement_read_limit": (c_int, (_P, c_ssize_t)),
    "bufferevent_decrement_write_limit": (c_int, (_P, c_ssize_t)),
    "bufferevent_rate_limit_group_decrement_read": (c_int, (_P, c_ssize_t)),
    "bufferevent_rate_limit_group_decrement_write": (c_int, (_P, c_ssize_t)),
    "bufferevent_rate_limit_group_get_totals": (
        None,
        (_P, POINTER(c_uint64), POINTER(c_uint64)),
    ),
    "bufferevent_rate_limit_group_reset_totals": (None, (_P,)),
    # listener.h
    "evconnlistener_new": (_P, (_P, LISTENER_CB, _P, c_uint, c_int, c_int)),
    "evconnlistener_new_bind": (_P, (_P, LISTENER_CB, _P, c_uint, c_int, _P, c_int)),
    "evconnlistener_set_cb": (None, (_P, LISTENER_CB, _P)),
    "evconnlistener_free": (None, (_P,)),
    "evconnlistener_get_fd": (c_int, (_P,)),
    "evconnlistener_enable": (c_int, (_P,)),
    "evconnlistener_disable": (c_int, (_P,)),
    "evconnlistener_set_error_cb": (None, (_P, LISTENER_ERR_CB)),
}


PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = PACKAGE_DIR / "_libs"


def _build_tree() -> Path | None:
    """``<repo>/build/lib`` if this package sits in a goevent checkout."""
    python_dir = PACKAGE_DIR.parent
    if python_dir.name != "python" or python_dir.parent.name != "bindings":
        return None
    repo = python_dir.parent.parent
    if not (repo / "include" / "event2" / "event.h").is_file():
        return None
    return repo / "build" / "lib"


def candidates() -> list[tuple[str, str]]:
    """``(origin, path)`` pairs in the order they are tried."""
    env = os.environ.get("GOEVENT_LIBRARY")
    if env:
        # An explicit choice is final: falling back silently would test the
        # wrong library.
        return [("GOEVENT_LIBRARY", env)]
    found = []
    bundled = BUNDLE_DIR / SONAME
    if bundled.is_file():
        found.append(("bundled", str(bundled)))
    tree = _build_tree()
    if tree is not None and (tree / SONAME).is_file():
        found.append(("build tree", str(tree / SONAME)))
    system = ctypes.util.find_library("event_core")
    if system:
        found.append(("system", system))
    return found


class _Library:
    """The loaded library; attributes are its prototyped functions."""

    def __init__(self) -> None:
        tried = []
        for origin, path in candidates():
            try:
                self._cdll = ctypes.CDLL(path, use_errno=True)
            except OSError as exc:
                tried.append(f"{path}: {exc}")
                continue
            self.origin = origin
            self.path = _loaded_from(self._cdll, path)
            break
        else:
            detail = "; ".join(tried) or "no candidate found"
            raise ImportError(
                "goevent: cannot load libevent_core "
                f"(set GOEVENT_LIBRARY or run `make lib`): {detail}"
            )

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not yet bound (see the setattr below).
        try:
            restype, argtypes = _PROTOTYPES[name]
        except KeyError:
            raise AttributeError(name) from None
        try:
            fn = getattr(self._cdll, name)
        except AttributeError:
            raise GoeventError(
                errno.ENOSYS, f"{name} is not provided by {self.path}"
            ) from None
        fn.restype = restype
        fn.argtypes = argtypes
        setattr(self, name, fn)
        return fn

    def has(self, name: str) -> bool:
        """Whether the library exports ``name``."""
        return hasattr(self._cdll, name)


class _DlInfo(Structure):
    _fields_ = [
        ("dli_fname", c_char_p),
        ("dli_fbase", c_void_p),
        ("dli_sname", c_char_p),
        ("dli_saddr", c_void_p),
    ]


_libc = ctypes.CDLL(None)
_dladdr = _libc.dladdr
_dladdr.restype = c_int
_dladdr.argtypes = (c_void_p, POINTER(_DlInfo))


def _loaded_from(cdll: ctypes.CDLL, asked: str) -> str:
    """The file the dynamic linker actually mapped for ``cdll`` (it may
    differ from ``asked`` when that is a bare soname)."""
    try:
        symbol = ctypes.cast(cdll.event_get_version, c_void_p).value
    except AttributeError:
        return asked
    info = _DlInfo()
    if symbol and _dladdr(symbol, ctypes.byref(info)) and info.dli_fname:
        return os.path.abspath(os.fsdecode(info.dli_fname))
    return asked


lib = _Library()

PTHREADS_SONAME = "libevent_pthreads-2.1.so.7"
_pthreads: ctypes.CDLL | None = None


def pthreads() -> ctypes.CDLL:
    """libevent_pthreads, from the directory the core was loaded from
    (``GOEVENT_PTHREADS_LIBRARY`` overrides), loaded once."""
    global _pthreads
    if _pthreads is None:
        path = os.environ.get("GOEVENT_PTHREADS_LIBRARY")
        if not path:
            beside = Path(lib.path).with_name(PTHREADS_SONAME)
            path = str(beside) if beside.is_file() else PTHREADS_SONAME
        try:
            _pthreads = ctypes.CDLL(path, use_errno=True)
        except OSError as exc:
            raise GoeventError(
                errno.ENOENT, f"cannot load libevent_pthreads ({path}): {exc}"
            ) from None
        _pthreads.evthread_use_pthreads.restype = c_int
        _pthreads.evthread_use_pthreads.argtypes = ()
    return _pthreads

libc_free = _libc.free
libc_free.restype = None
libc_free.argtypes = (c_void_p,)

# A read-only memoryview over foreign memory that owns nothing, so releasing
# it is all it takes to cut off access (see Buffer.pullup).
_view_from_memory = ctypes.pythonapi.PyMemoryView_FromMemory
_view_from_memory.restype = ctypes.py_object
_view_from_memory.argtypes = (c_void_p, c_ssize_t, c_int)
_PYBUF_READ = 0x100


def foreign_view(address: int, size: int) -> memoryview:
    """A read-only ``memoryview`` of ``size`` bytes at ``address``."""
    return _view_from_memory(address, size, _PYBUF_READ)


def version() -> str:
    """The loaded library's ``event_get_version()``."""
    return lib.event_get_version().decode()
