//! Raw declarations of libevent 2.1's core C ABI, as goevent implements it,
//! and the linking against `libevent_core` (`links = "event_core"`).
//!
//! These mirror `include/event2/*.h`: all of `buffer.h` (plus the
//! `buffer_compat.h` entry points still exported), `bufferevent.h` and
//! `listener.h`, and the parts of `event.h` the safe crate uses. Names and
//! types follow C so that a reader can check each line against the header.
//! There is no safe code here: every function is `unsafe` to call, and the
//! safe API is the `goevent` crate.
//!
//! The build script links `libevent_core` from `GOEVENT_LIB_DIR`, else the
//! repository's `build/lib`, else pkg-config's `libevent_core` (see
//! `build.rs`); any library with libevent 2.1.12's ABI works.
//!
//! Types are those of x86-64 Linux (glibc), the only target goevent builds
//! for: `ev_ssize_t` is `isize`, `ev_off_t` is `i64`, `time_t` and
//! `suseconds_t` are `c_long`.
//!
//! ```
//! use goevent_sys as sys;
//! use std::ffi::CStr;
//!
//! // SAFETY: returns a static NUL-terminated string.
//! let version = unsafe { CStr::from_ptr(sys::event_get_version()) };
//! assert_eq!(version.to_str().unwrap(), "2.1.12-stable");
//!
//! unsafe {
//!     let buf = sys::evbuffer_new();
//!     assert!(!buf.is_null());
//!     assert_eq!(sys::evbuffer_add(buf, b"hello".as_ptr().cast(), 5), 0);
//!     assert_eq!(sys::evbuffer_get_length(buf), 5);
//!     sys::evbuffer_free(buf);
//! }
//! ```

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_long, c_short, c_uint, c_void};
use std::marker::{PhantomData, PhantomPinned};

/// `evutil_socket_t`: a file descriptor on Unix.
pub type evutil_socket_t = c_int;
pub type ev_ssize_t = isize;
pub type ev_off_t = i64;
pub type ev_uint32_t = u32;
pub type ev_uint64_t = u64;

macro_rules! opaque {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            // Neither Send, Sync nor Unpin: only the library touches these.
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque!(
    /// `struct evbuffer`.
    evbuffer,
    /// `struct evbuffer_cb_entry`: a registered buffer callback.
    evbuffer_cb_entry,
    /// `struct evbuffer_file_segment`.
    evbuffer_file_segment,
    /// `struct event_base`.
    event_base,
    /// `struct event`. Its 128-byte layout is public in C
    /// (`event_struct.h`); these bindings only use heap events from
    /// `event_new`, so it is opaque here.
    event,
    /// `struct bufferevent`.
    bufferevent,
    /// `struct evconnlistener`.
    evconnlistener,
    /// `struct ev_token_bucket_cfg`: rates and bursts for rate limiting.
    ev_token_bucket_cfg,
    /// `struct bufferevent_rate_limit_group`.
    bufferevent_rate_limit_group,
    /// `struct evdns_base` (goevent has no evdns; pass null).
    evdns_base,
    /// `struct sockaddr` (any family; see `sa_family` at offset 0).
    sockaddr,
);

/// `struct timeval`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct timeval {
    pub tv_sec: c_long,
    pub tv_usec: c_long,
}

/// The library's private cursor inside `struct evbuffer_ptr`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct evbuffer_ptr_internal {
    pub chain: *mut c_void,
    pub pos_in_chain: usize,
}

/// `struct evbuffer_ptr`: a position in a buffer, valid until it changes.
/// `pos` is -1 when a search found nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct evbuffer_ptr {
    pub pos: ev_ssize_t,
    pub internal_: evbuffer_ptr_internal,
}

impl Default for evbuffer_ptr {
    fn default() -> Self {
        evbuffer_ptr {
            pos: 0,
            internal_: evbuffer_ptr_internal {
                chain: std::ptr::null_mut(),
                pos_in_chain: 0,
            },
        }
    }
}

/// `struct evbuffer_iovec` (the same layout as `struct iovec`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct evbuffer_iovec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

impl Default for evbuffer_iovec {
    fn default() -> Self {
        evbuffer_iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }
    }
}

/// `struct evbuffer_cb_info`: what changed since a buffer callback last ran.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct evbuffer_cb_info {
    pub orig_size: usize,
    pub n_added: usize,
    pub n_deleted: usize,
}

// enum evbuffer_eol_style
pub type evbuffer_eol_style = c_int;
pub const EVBUFFER_EOL_ANY: evbuffer_eol_style = 0;
pub const EVBUFFER_EOL_CRLF: evbuffer_eol_style = 1;
pub const EVBUFFER_EOL_CRLF_STRICT: evbuffer_eol_style = 2;
pub const EVBUFFER_EOL_LF: evbuffer_eol_style = 3;
pub const EVBUFFER_EOL_NUL: evbuffer_eol_style = 4;

// enum evbuffer_ptr_how
pub type evbuffer_ptr_how = c_int;
pub const EVBUFFER_PTR_SET: evbuffer_ptr_how = 0;
pub const EVBUFFER_PTR_ADD: evbuffer_ptr_how = 1;

pub const EVBUFFER_FLAG_DRAINS_TO_FD: ev_uint64_t = 1;
pub const EVBUFFER_CB_ENABLED: ev_uint32_t = 1;
pub const EVBUF_FS_CLOSE_ON_FREE: c_uint = 0x01;
pub const EVBUF_FS_DISABLE_MMAP: c_uint = 0x02;
pub const EVBUF_FS_DISABLE_SENDFILE: c_uint = 0x04;
pub const EVBUF_FS_DISABLE_LOCKING: c_uint = 0x08;

pub const EV_TIMEOUT: c_short = 0x01;
pub const EV_READ: c_short = 0x02;
pub const EV_WRITE: c_short = 0x04;
pub const EV_SIGNAL: c_short = 0x08;
pub const EV_PERSIST: c_short = 0x10;
pub const EV_ET: c_short = 0x20;
pub const EV_FINALIZE: c_short = 0x40;
pub const EV_CLOSED: c_short = 0x80;

pub const EVLOOP_ONCE: c_int = 0x01;
pub const EVLOOP_NONBLOCK: c_int = 0x02;
pub const EVLOOP_NO_EXIT_ON_EMPTY: c_int = 0x04;

pub const BEV_EVENT_READING: c_short = 0x01;
pub const BEV_EVENT_WRITING: c_short = 0x02;
pub const BEV_EVENT_EOF: c_short = 0x10;
pub const BEV_EVENT_ERROR: c_short = 0x20;
pub const BEV_EVENT_TIMEOUT: c_short = 0x40;
pub const BEV_EVENT_CONNECTED: c_short = 0x80;

pub const BEV_OPT_CLOSE_ON_FREE: c_int = 0x01;
pub const BEV_OPT_THREADSAFE: c_int = 0x02;
pub const BEV_OPT_DEFER_CALLBACKS: c_int = 0x04;
pub const BEV_OPT_UNLOCK_CALLBACKS: c_int = 0x08;

// enum bufferevent_flush_mode
pub type bufferevent_flush_mode = c_int;
pub const BEV_NORMAL: bufferevent_flush_mode = 0;
pub const BEV_FLUSH: bufferevent_flush_mode = 1;
pub const BEV_FINISHED: bufferevent_flush_mode = 2;

// enum bufferevent_trigger_options
pub const BEV_TRIG_IGNORE_WATERMARKS: c_int = 1 << 16;
pub const BEV_TRIG_DEFER_CALLBACKS: c_int = BEV_OPT_DEFER_CALLBACKS;

// enum bufferevent_filter_result
pub type bufferevent_filter_result = c_int;
pub const BEV_OK: bufferevent_filter_result = 0;
pub const BEV_NEED_MORE: bufferevent_filter_result = 1;
pub const BEV_ERROR: bufferevent_filter_result = 2;

/// `EV_RATE_LIMIT_MAX` (`EV_SSIZE_MAX`).
pub const EV_RATE_LIMIT_MAX: ev_ssize_t = isize::MAX;

pub const LEV_OPT_LEAVE_SOCKETS_BLOCKING: c_uint = 1 << 0;
pub const LEV_OPT_CLOSE_ON_FREE: c_uint = 1 << 1;
pub const LEV_OPT_CLOSE_ON_EXEC: c_uint = 1 << 2;
pub const LEV_OPT_REUSEABLE: c_uint = 1 << 3;
pub const LEV_OPT_THREADSAFE: c_uint = 1 << 4;
pub const LEV_OPT_DISABLED: c_uint = 1 << 5;
pub const LEV_OPT_DEFERRED_ACCEPT: c_uint = 1 << 6;
pub const LEV_OPT_REUSEABLE_PORT: c_uint = 1 << 7;
pub const LEV_OPT_BIND_IPV6ONLY: c_uint = 1 << 8;

pub type evbuffer_cb_func =
    Option<unsafe extern "C" fn(*mut evbuffer, *const evbuffer_cb_info, *mut c_void)>;
/// `evbuffer_cb` from `buffer_compat.h` (old length, new length).
pub type evbuffer_cb = Option<unsafe extern "C" fn(*mut evbuffer, usize, usize, *mut c_void)>;
pub type evbuffer_ref_cleanup_cb = Option<unsafe extern "C" fn(*const c_void, usize, *mut c_void)>;
pub type evbuffer_file_segment_cleanup_cb =
    Option<unsafe extern "C" fn(*const evbuffer_file_segment, c_int, *mut c_void)>;
pub type event_callback_fn = Option<unsafe extern "C" fn(evutil_socket_t, c_short, *mut c_void)>;
pub type bufferevent_data_cb = Option<unsafe extern "C" fn(*mut bufferevent, *mut c_void)>;
pub type bufferevent_event_cb =
    Option<unsafe extern "C" fn(*mut bufferevent, c_short, *mut c_void)>;
/// Moves (transformed) data from `src` to `dst`, writing at most
/// `dst_limit` bytes when that is not negative.
pub type bufferevent_filter_cb = Option<
    unsafe extern "C" fn(
        src: *mut evbuffer,
        dst: *mut evbuffer,
        dst_limit: ev_ssize_t,
        mode: bufferevent_flush_mode,
        ctx: *mut c_void,
    ) -> bufferevent_filter_result,
>;
pub type evconnlistener_cb = Option<
    unsafe extern "C" fn(*mut evconnlistener, evutil_socket_t, *mut sockaddr, c_int, *mut c_void),
>;
pub type evconnlistener_errorcb = Option<unsafe extern "C" fn(*mut evconnlistener, *mut c_void)>;

// buffer.h and buffer_compat.h
extern "C" {
    pub fn evbuffer_new() -> *mut evbuffer;
    pub fn evbuffer_free(buf: *mut evbuffer);
    pub fn evbuffer_enable_locking(buf: *mut evbuffer, lock: *mut c_void) -> c_int;
    pub fn evbuffer_lock(buf: *mut evbuffer);
    pub fn evbuffer_unlock(buf: *mut evbuffer);
    pub fn evbuffer_set_flags(buf: *mut evbuffer, flags: ev_uint64_t) -> c_int;
    pub fn evbuffer_clear_flags(buf: *mut evbuffer, flags: ev_uint64_t) -> c_int;
    pub fn evbuffer_get_length(buf: *const evbuffer) -> usize;
    pub fn evbuffer_get_contiguous_space(buf: *const evbuffer) -> usize;
    pub fn evbuffer_expand(buf: *mut evbuffer, datlen: usize) -> c_int;
    pub fn evbuffer_reserve_space(
        buf: *mut evbuffer,
        size: ev_ssize_t,
        vec: *mut evbuffer_iovec,
        n_vec: c_int,
    ) -> c_int;
    pub fn evbuffer_commit_space(
        buf: *mut evbuffer,
        vec: *mut evbuffer_iovec,
        n_vecs: c_int,
    ) -> c_int;
    pub fn evbuffer_add(buf: *mut evbuffer, data: *const c_void, datlen: usize) -> c_int;
    pub fn evbuffer_remove(buf: *mut evbuffer, data: *mut c_void, datlen: usize) -> c_int;
    pub fn evbuffer_copyout(buf: *mut evbuffer, data_out: *mut c_void, datlen: usize)
        -> ev_ssize_t;
    pub fn evbuffer_copyout_from(
        buf: *mut evbuffer,
        pos: *const evbuffer_ptr,
        data_out: *mut c_void,
        datlen: usize,
    ) -> ev_ssize_t;
    pub fn evbuffer_remove_buffer(src: *mut evbuffer, dst: *mut evbuffer, datlen: usize) -> c_int;
    pub fn evbuffer_readln(
        buffer: *mut evbuffer,
        n_read_out: *mut usize,
        eol_style: evbuffer_eol_style,
    ) -> *mut c_char;
    pub fn evbuffer_add_buffer(outbuf: *mut evbuffer, inbuf: *mut evbuffer) -> c_int;
    pub fn evbuffer_add_buffer_reference(outbuf: *mut evbuffer, inbuf: *mut evbuffer) -> c_int;
    pub fn evbuffer_add_reference(
        outbuf: *mut evbuffer,
        data: *const c_void,
        datlen: usize,
        cleanupfn: evbuffer_ref_cleanup_cb,
        cleanupfn_arg: *mut c_void,
    ) -> c_int;
    pub fn evbuffer_add_file(
        outbuf: *mut evbuffer,
        fd: c_int,
        offset: ev_off_t,
        length: ev_off_t,
    ) -> c_int;
    pub fn evbuffer_file_segment_new(
        fd: c_int,
        offset: ev_off_t,
        length: ev_off_t,
        flags: c_uint,
    ) -> *mut evbuffer_file_segment;
    pub fn evbuffer_file_segment_free(seg: *mut evbuffer_file_segment);
    pub fn evbuffer_file_segment_add_cleanup_cb(
        seg: *mut evbuffer_file_segment,
        cb: evbuffer_file_segment_cleanup_cb,
        arg: *mut c_void,
    );
    pub fn evbuffer_add_file_segment(
        buf: *mut evbuffer,
        seg: *mut evbuffer_file_segment,
        offset: ev_off_t,
        length: ev_off_t,
    ) -> c_int;
    pub fn evbuffer_add_printf(buf: *mut evbuffer, fmt: *const c_char, ...) -> c_int;
    pub fn evbuffer_drain(buf: *mut evbuffer, len: usize) -> c_int;
    pub fn evbuffer_write(buffer: *mut evbuffer, fd: evutil_socket_t) -> c_int;
    pub fn evbuffer_write_atmost(
        buffer: *mut evbuffer,
        fd: evutil_socket_t,
        howmuch: ev_ssize_t,
    ) -> c_int;
    pub fn evbuffer_read(buffer: *mut evbuffer, fd: evutil_socket_t, howmuch: c_int) -> c_int;
    pub fn evbuffer_search(
        buffer: *mut evbuffer,
        what: *const c_char,
        len: usize,
        start: *const evbuffer_ptr,
    ) -> evbuffer_ptr;
    pub fn evbuffer_search_range(
        buffer: *mut evbuffer,
        what: *const c_char,
        len: usize,
        start: *const evbuffer_ptr,
        end: *const evbuffer_ptr,
    ) -> evbuffer_ptr;
    pub fn evbuffer_ptr_set(
        buffer: *mut evbuffer,
        ptr: *mut evbuffer_ptr,
        position: usize,
        how: evbuffer_ptr_how,
    ) -> c_int;
    pub fn evbuffer_search_eol(
        buffer: *mut evbuffer,
        start: *mut evbuffer_ptr,
        eol_len_out: *mut usize,
        eol_style: evbuffer_eol_style,
    ) -> evbuffer_ptr;
    pub fn evbuffer_peek(
        buffer: *mut evbuffer,
        len: ev_ssize_t,
        start_at: *mut evbuffer_ptr,
        vec_out: *mut evbuffer_iovec,
        n_vec: c_int,
    ) -> c_int;
    pub fn evbuffer_add_cb(
        buffer: *mut evbuffer,
        cb: evbuffer_cb_func,
        cbarg: *mut c_void,
    ) -> *mut evbuffer_cb_entry;
    pub fn evbuffer_remove_cb_entry(buffer: *mut evbuffer, ent: *mut evbuffer_cb_entry) -> c_int;
    pub fn evbuffer_remove_cb(
        buffer: *mut evbuffer,
        cb: evbuffer_cb_func,
        cbarg: *mut c_void,
    ) -> c_int;
    pub fn evbuffer_cb_set_flags(
        buffer: *mut evbuffer,
        cb: *mut evbuffer_cb_entry,
        flags: ev_uint32_t,
    ) -> c_int;
    pub fn evbuffer_cb_clear_flags(
        buffer: *mut evbuffer,
        cb: *mut evbuffer_cb_entry,
        flags: ev_uint32_t,
    ) -> c_int;
    pub fn evbuffer_pullup(buf: *mut evbuffer, size: ev_ssize_t) -> *mut u8;
    pub fn evbuffer_prepend(buf: *mut evbuffer, data: *const c_void, size: usize) -> c_int;
    pub fn evbuffer_prepend_buffer(dst: *mut evbuffer, src: *mut evbuffer) -> c_int;
    pub fn evbuffer_freeze(buf: *mut evbuffer, at_front: c_int) -> c_int;
    pub fn evbuffer_unfreeze(buf: *mut evbuffer, at_front: c_int) -> c_int;
    pub fn evbuffer_defer_callbacks(buffer: *mut evbuffer, base: *mut event_base) -> c_int;
    pub fn evbuffer_add_iovec(
        buffer: *mut evbuffer,
        vec: *mut evbuffer_iovec,
        n_vec: c_int,
    ) -> usize;
    pub fn evbuffer_setcb(buffer: *mut evbuffer, cb: evbuffer_cb, cbarg: *mut c_void) -> c_int;
    pub fn evbuffer_find(buffer: *mut evbuffer, what: *const u8, len: usize) -> *mut u8;
    pub fn evbuffer_readline(buffer: *mut evbuffer) -> *mut c_char;
}

// event.h
extern "C" {
    pub fn event_get_version() -> *const c_char;
    pub fn event_get_version_number() -> ev_uint32_t;
    pub fn event_base_new() -> *mut event_base;
    pub fn event_base_free(base: *mut event_base);
    pub fn event_base_get_method(base: *const event_base) -> *const c_char;
    pub fn event_base_dispatch(base: *mut event_base) -> c_int;
    pub fn event_base_loop(base: *mut event_base, flags: c_int) -> c_int;
    pub fn event_base_loopexit(base: *mut event_base, tv: *const timeval) -> c_int;
    pub fn event_base_loopbreak(base: *mut event_base) -> c_int;
    pub fn event_base_got_exit(base: *mut event_base) -> c_int;
    pub fn event_base_got_break(base: *mut event_base) -> c_int;
    pub fn event_new(
        base: *mut event_base,
        fd: evutil_socket_t,
        events: c_short,
        callback: event_callback_fn,
        callback_arg: *mut c_void,
    ) -> *mut event;
    pub fn event_free(ev: *mut event);
    pub fn event_add(ev: *mut event, timeout: *const timeval) -> c_int;
    pub fn event_del(ev: *mut event) -> c_int;
    pub fn event_pending(ev: *const event, events: c_short, tv: *mut timeval) -> c_int;
    pub fn event_active(ev: *mut event, res: c_int, ncalls: c_short);
    pub fn event_get_struct_event_size() -> usize;
}

// bufferevent.h
extern "C" {
    pub fn bufferevent_socket_new(
        base: *mut event_base,
        fd: evutil_socket_t,
        options: c_int,
    ) -> *mut bufferevent;
    pub fn bufferevent_socket_connect(
        bev: *mut bufferevent,
        addr: *const sockaddr,
        socklen: c_int,
    ) -> c_int;
    pub fn bufferevent_pair_new(
        base: *mut event_base,
        options: c_int,
        pair: *mut *mut bufferevent,
    ) -> c_int;
    pub fn bufferevent_socket_connect_hostname(
        bev: *mut bufferevent,
        evdns_base: *mut evdns_base,
        family: c_int,
        hostname: *const c_char,
        port: c_int,
    ) -> c_int;
    pub fn bufferevent_socket_get_dns_error(bev: *mut bufferevent) -> c_int;
    pub fn bufferevent_pair_get_partner(bev: *mut bufferevent) -> *mut bufferevent;
    pub fn bufferevent_filter_new(
        underlying: *mut bufferevent,
        input_filter: bufferevent_filter_cb,
        output_filter: bufferevent_filter_cb,
        options: c_int,
        free_context: Option<unsafe extern "C" fn(*mut c_void)>,
        ctx: *mut c_void,
    ) -> *mut bufferevent;
    pub fn bufferevent_get_underlying(bufev: *mut bufferevent) -> *mut bufferevent;
    pub fn bufferevent_free(bufev: *mut bufferevent);
    pub fn bufferevent_base_set(base: *mut event_base, bufev: *mut bufferevent) -> c_int;
    pub fn bufferevent_get_base(bev: *mut bufferevent) -> *mut event_base;
    pub fn bufferevent_priority_set(bufev: *mut bufferevent, pri: c_int) -> c_int;
    pub fn bufferevent_get_priority(bufev: *const bufferevent) -> c_int;
    pub fn bufferevent_getcb(
        bufev: *mut bufferevent,
        readcb_ptr: *mut bufferevent_data_cb,
        writecb_ptr: *mut bufferevent_data_cb,
        eventcb_ptr: *mut bufferevent_event_cb,
        cbarg_ptr: *mut *mut c_void,
    );
    pub fn bufferevent_setfd(bufev: *mut bufferevent, fd: evutil_socket_t) -> c_int;
    pub fn bufferevent_lock(bufev: *mut bufferevent);
    pub fn bufferevent_unlock(bufev: *mut bufferevent);
    pub fn bufferevent_incref(bufev: *mut bufferevent);
    pub fn bufferevent_decref(bufev: *mut bufferevent) -> c_int;
    pub fn bufferevent_trigger(bufev: *mut bufferevent, iotype: c_short, options: c_int);
    pub fn bufferevent_trigger_event(bufev: *mut bufferevent, what: c_short, options: c_int);
    pub fn bufferevent_setcb(
        bufev: *mut bufferevent,
        readcb: bufferevent_data_cb,
        writecb: bufferevent_data_cb,
        eventcb: bufferevent_event_cb,
        cbarg: *mut c_void,
    );
    pub fn bufferevent_getfd(bufev: *mut bufferevent) -> evutil_socket_t;
    pub fn bufferevent_write(bufev: *mut bufferevent, data: *const c_void, size: usize) -> c_int;
    pub fn bufferevent_write_buffer(bufev: *mut bufferevent, buf: *mut evbuffer) -> c_int;
    pub fn bufferevent_read(bufev: *mut bufferevent, data: *mut c_void, size: usize) -> usize;
    pub fn bufferevent_read_buffer(bufev: *mut bufferevent, buf: *mut evbuffer) -> c_int;
    pub fn bufferevent_get_input(bufev: *mut bufferevent) -> *mut evbuffer;
    pub fn bufferevent_get_output(bufev: *mut bufferevent) -> *mut evbuffer;
    pub fn bufferevent_enable(bufev: *mut bufferevent, event: c_short) -> c_int;
    pub fn bufferevent_disable(bufev: *mut bufferevent, event: c_short) -> c_int;
    pub fn bufferevent_get_enabled(bufev: *mut bufferevent) -> c_short;
    pub fn bufferevent_set_timeouts(
        bufev: *mut bufferevent,
        timeout_read: *const timeval,
        timeout_write: *const timeval,
    ) -> c_int;
    pub fn bufferevent_setwatermark(
        bufev: *mut bufferevent,
        events: c_short,
        lowmark: usize,
        highmark: usize,
    );
    pub fn bufferevent_getwatermark(
        bufev: *mut bufferevent,
        events: c_short,
        lowmark: *mut usize,
        highmark: *mut usize,
    ) -> c_int;
    pub fn bufferevent_flush(
        bufev: *mut bufferevent,
        iotype: c_short,
        mode: bufferevent_flush_mode,
    ) -> c_int;
}

// bufferevent.h: rate limiting
extern "C" {
    pub fn ev_token_bucket_cfg_new(
        read_rate: usize,
        read_burst: usize,
        write_rate: usize,
        write_burst: usize,
        tick_len: *const timeval,
    ) -> *mut ev_token_bucket_cfg;
    pub fn ev_token_bucket_cfg_free(cfg: *mut ev_token_bucket_cfg);
    pub fn bufferevent_set_rate_limit(
        bev: *mut bufferevent,
        cfg: *mut ev_token_bucket_cfg,
    ) -> c_int;
    pub fn bufferevent_rate_limit_group_new(
        base: *mut event_base,
        cfg: *const ev_token_bucket_cfg,
    ) -> *mut bufferevent_rate_limit_group;
    pub fn bufferevent_rate_limit_group_set_cfg(
        group: *mut bufferevent_rate_limit_group,
        cfg: *const ev_token_bucket_cfg,
    ) -> c_int;
    pub fn bufferevent_rate_limit_group_set_min_share(
        group: *mut bufferevent_rate_limit_group,
        share: usize,
    ) -> c_int;
    pub fn bufferevent_rate_limit_group_free(group: *mut bufferevent_rate_limit_group);
    pub fn bufferevent_add_to_rate_limit_group(
        bev: *mut bufferevent,
        group: *mut bufferevent_rate_limit_group,
    ) -> c_int;
    pub fn bufferevent_remove_from_rate_limit_group(bev: *mut bufferevent) -> c_int;
    pub fn bufferevent_set_max_single_read(bev: *mut bufferevent, size: usize) -> c_int;
    pub fn bufferevent_set_max_single_write(bev: *mut bufferevent, size: usize) -> c_int;
    pub fn bufferevent_get_max_single_read(bev: *mut bufferevent) -> ev_ssize_t;
    pub fn bufferevent_get_max_single_write(bev: *mut bufferevent) -> ev_ssize_t;
    pub fn bufferevent_get_read_limit(bev: *mut bufferevent) -> ev_ssize_t;
    pub fn bufferevent_get_write_limit(bev: *mut bufferevent) -> ev_ssize_t;
    pub fn bufferevent_get_max_to_read(bev: *mut bufferevent) -> ev_ssize_t;
    pub fn bufferevent_get_max_to_write(bev: *mut bufferevent) -> ev_ssize_t;
    pub fn bufferevent_get_token_bucket_cfg(bev: *const bufferevent) -> *const ev_token_bucket_cfg;
    pub fn bufferevent_rate_limit_group_get_read_limit(
        group: *mut bufferevent_rate_limit_group,
    ) -> ev_ssize_t;
    pub fn bufferevent_rate_limit_group_get_write_limit(
        group: *mut bufferevent_rate_limit_group,
    ) -> ev_ssize_t;
    pub fn bufferevent_decrement_read_limit(bev: *mut bufferevent, decr: ev_ssize_t) -> c_int;
    pub fn bufferevent_decrement_write_limit(bev: *mut bufferevent, decr: ev_ssize_t) -> c_int;
    pub fn bufferevent_rate_limit_group_decrement_read(
        group: *mut bufferevent_rate_limit_group,
        decr: ev_ssize_t,
    ) -> c_int;
    pub fn bufferevent_rate_limit_group_decrement_write(
        group: *mut bufferevent_rate_limit_group,
        decr: ev_ssize_t,
    ) -> c_int;
    pub fn bufferevent_rate_limit_group_get_totals(
        group: *mut bufferevent_rate_limit_group,
        total_read_out: *mut ev_uint64_t,
        total_written_out: *mut ev_uint64_t,
    );
    pub fn bufferevent_rate_limit_group_reset_totals(group: *mut bufferevent_rate_limit_group);
}

// listener.h
extern "C" {
    pub fn evconnlistener_new(
        base: *mut event_base,
        cb: evconnlistener_cb,
        ptr: *mut c_void,
        flags: c_uint,
        backlog: c_int,
        fd: evutil_socket_t,
    ) -> *mut evconnlistener;
    pub fn evconnlistener_new_bind(
        base: *mut event_base,
        cb: evconnlistener_cb,
        ptr: *mut c_void,
        flags: c_uint,
        backlog: c_int,
        sa: *const sockaddr,
        socklen: c_int,
    ) -> *mut evconnlistener;
    pub fn evconnlistener_free(lev: *mut evconnlistener);
    pub fn evconnlistener_enable(lev: *mut evconnlistener) -> c_int;
    pub fn evconnlistener_disable(lev: *mut evconnlistener) -> c_int;
    pub fn evconnlistener_get_base(lev: *mut evconnlistener) -> *mut event_base;
    pub fn evconnlistener_get_fd(lev: *mut evconnlistener) -> evutil_socket_t;
    pub fn evconnlistener_set_cb(lev: *mut evconnlistener, cb: evconnlistener_cb, arg: *mut c_void);
    pub fn evconnlistener_set_error_cb(lev: *mut evconnlistener, errorcb: evconnlistener_errorcb);
}

// glibc: the calling thread's errno, cleared before calls that may set it.
extern "C" {
    pub fn __errno_location() -> *mut c_int;
    /// glibc's `free`, for strings returned by `evbuffer_readln`.
    pub fn free(p: *mut c_void);
}
