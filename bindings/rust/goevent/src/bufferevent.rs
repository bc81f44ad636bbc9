//! [`BufferEvent`] (`struct bufferevent`) and [`Listener`]
//! (`struct evconnlistener`).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_short, c_void};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};
use std::time::Duration;

use crate::buffer::EvBufferRef;
use crate::callback::{Handler, State};
use crate::error::{check, check_plain, clear_errno, Error, Result};
use crate::event::{timeval, EventBase, Events};
use crate::filter::{FilterBuilder, FilterCtx, Flush};
use crate::flags::flags;
use crate::net::{self, RawAddr};
use crate::ratelimit::{RateLimit, RateLimitGroup};
use goevent_sys as sys;

flags! {
    /// What a bufferevent's event callback reports (`BEV_EVENT_*`).
    pub struct BevEvents(c_short) {
        const READING = sys::BEV_EVENT_READING;
        const WRITING = sys::BEV_EVENT_WRITING;
        const EOF = sys::BEV_EVENT_EOF;
        const ERROR = sys::BEV_EVENT_ERROR;
        const TIMEOUT = sys::BEV_EVENT_TIMEOUT;
        const CONNECTED = sys::BEV_EVENT_CONNECTED;
    }
}

flags! {
    /// Options for new bufferevents (`BEV_OPT_*`). Socket bufferevents made
    /// here always own their socket (`BEV_OPT_CLOSE_ON_FREE`).
    pub struct BevOptions(c_int) {
        const CLOSE_ON_FREE = sys::BEV_OPT_CLOSE_ON_FREE;
        const THREADSAFE = sys::BEV_OPT_THREADSAFE;
        /// Run callbacks from the loop, never inside the call that caused
        /// them.
        const DEFER_CALLBACKS = sys::BEV_OPT_DEFER_CALLBACKS;
        const UNLOCK_CALLBACKS = sys::BEV_OPT_UNLOCK_CALLBACKS;
    }
}

/// One report to a bufferevent's event callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BevEvent {
    pub what: BevEvents,
    /// The socket error when `what` contains `ERROR` (errno at the time).
    pub errno: Option<i32>,
}

/// Control of a bufferevent: what [`BufferEvent`] derefs to and what its
/// callbacks receive.
///
/// Methods returning `Result` fail with [`Error::Closed`] if the owning
/// [`BufferEvent`] was dropped while the callback runs; the others panic
/// then (the panic stops the loop and resumes from `dispatch`).
pub struct BufferEventRef {
    ptr: NonNull<sys::bufferevent>,
    freed: NonNull<Cell<bool>>,
}

const FREED: &str = "BufferEvent used after it was dropped";

impl BufferEventRef {
    fn raw(&self) -> Result<*mut sys::bufferevent> {
        // SAFETY: the flag lives in the State, which outlives every handle.
        if unsafe { self.freed.as_ref() }.get() {
            Err(Error::Closed)
        } else {
            Ok(self.ptr.as_ptr())
        }
    }

    fn live(&self) -> *mut sys::bufferevent {
        self.raw().expect(FREED)
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut sys::bufferevent {
        self.ptr.as_ptr()
    }

    /// The input buffer (data received).
    pub fn input(&mut self) -> &mut EvBufferRef {
        // SAFETY: the buffer lives as long as the bufferevent, which the
        // library keeps alive at least until the current callback returns
        // even if the owner drops it meanwhile.
        unsafe { EvBufferRef::from_ptr(sys::bufferevent_get_input(self.live())) }
    }

    /// The output buffer (data queued for sending).
    pub fn output(&mut self) -> &mut EvBufferRef {
        unsafe { EvBufferRef::from_ptr(sys::bufferevent_get_output(self.live())) }
    }

    /// Both buffers at once, `(input, output)`: they are distinct objects.
    pub fn buffers(&mut self) -> (&mut EvBufferRef, &mut EvBufferRef) {
        let bev = self.live();
        unsafe {
            (
                EvBufferRef::from_ptr(sys::bufferevent_get_input(bev)),
                EvBufferRef::from_ptr(sys::bufferevent_get_output(bev)),
            )
        }
    }

    /// Start connecting a socket bufferevent to `addr`; the event callback
    /// (of a filter on top, if there is one) then reports `CONNECTED` or
    /// `ERROR`. Creates the socket if there is none.
    pub fn connect(&mut self, addr: SocketAddr) -> Result<()> {
        let bev = self.raw()?;
        let raw = RawAddr::new(addr);
        clear_errno();
        let rc = unsafe { sys::bufferevent_socket_connect(bev, raw.as_ptr(), raw.len()) };
        check(rc, "bufferevent_socket_connect")
    }

    /// Queue a copy of `data` for sending.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        let bev = self.raw()?;
        let rc = unsafe { sys::bufferevent_write(bev, data.as_ptr().cast(), data.len()) };
        check_plain(rc, "bufferevent_write")
    }

    /// Move all of `buf` into the output.
    pub fn write_buffer(&mut self, buf: &mut EvBufferRef) -> Result<()> {
        let bev = self.raw()?;
        let rc = unsafe { sys::bufferevent_write_buffer(bev, buf.as_ptr()) };
        check_plain(rc, "bufferevent_write_buffer")
    }

    /// Take up to `out.len()` bytes from the input.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        unsafe { sys::bufferevent_read(self.live(), out.as_mut_ptr().cast(), out.len()) }
    }

    /// Take everything from the input.
    pub fn read_to_vec(&mut self) -> Vec<u8> {
        let mut out = vec![0; self.input().len()];
        let n = self.read(&mut out);
        out.truncate(n);
        out
    }

    pub fn enable(&mut self, what: Events) -> Result<()> {
        let bev = self.raw()?;
        check_plain(
            unsafe { sys::bufferevent_enable(bev, what.bits()) },
            "bufferevent_enable",
        )
    }

    pub fn disable(&mut self, what: Events) -> Result<()> {
        let bev = self.raw()?;
        check_plain(
            unsafe { sys::bufferevent_disable(bev, what.bits()) },
            "bufferevent_disable",
        )
    }

    /// `READ` and/or `WRITE`.
    pub fn enabled(&self) -> Events {
        Events::from_bits(unsafe { sys::bufferevent_get_enabled(self.live()) })
    }

    /// Watermarks for `READ` and/or `WRITE`. Reading pauses while the input
    /// holds `high` bytes or more (0: no limit); the read callback waits for
    /// `low` bytes; the write callback runs once the output drains to `low`.
    pub fn set_watermark(&mut self, what: Events, low: usize, high: usize) {
        unsafe { sys::bufferevent_setwatermark(self.live(), what.bits(), low, high) }
    }

    /// Report `TIMEOUT` after this long without reading / writing progress.
    pub fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>) -> Result<()> {
        let bev = self.raw()?;
        let (r, w) = (read.map(timeval), write.map(timeval));
        let rp = r.as_ref().map_or(ptr::null(), |t| t as *const _);
        let wp = w.as_ref().map_or(ptr::null(), |t| t as *const _);
        check_plain(
            unsafe { sys::bufferevent_set_timeouts(bev, rp, wp) },
            "bufferevent_set_timeouts",
        )
    }

    /// The socket, if any.
    pub fn fd(&self) -> Option<RawFd> {
        let fd = unsafe { sys::bufferevent_getfd(self.live()) };
        (fd >= 0).then_some(fd)
    }

    /// Push buffered bytes through a filter or pair now
    /// (`bufferevent_flush`, `what` = `READ` and/or `WRITE`). `Ok(true)` if
    /// anything moved. Sockets have nothing to flush.
    pub fn flush(&mut self, what: Events, mode: Flush) -> Result<bool> {
        let bev = self.raw()?;
        let rc = unsafe { sys::bufferevent_flush(bev, what.bits(), mode as c_int) };
        crate::callback::resume_parked();
        check_plain(rc, "bufferevent_flush")?;
        Ok(rc > 0)
    }

    /// Tokens left in this bufferevent's own read bucket
    /// ([`RATE_LIMIT_MAX`](crate::RATE_LIMIT_MAX) without one; may be
    /// negative).
    pub fn read_limit(&self) -> isize {
        unsafe { sys::bufferevent_get_read_limit(self.live()) }
    }

    /// Tokens left in this bufferevent's own write bucket.
    pub fn write_limit(&self) -> isize {
        unsafe { sys::bufferevent_get_write_limit(self.live()) }
    }

    /// The most the next read may take, every limit considered.
    pub fn max_to_read(&self) -> isize {
        unsafe { sys::bufferevent_get_max_to_read(self.live()) }
    }

    /// The most the next write may send, every limit considered.
    pub fn max_to_write(&self) -> isize {
        unsafe { sys::bufferevent_get_max_to_write(self.live()) }
    }

    /// Take `bytes` tokens from the own read bucket (give them back if
    /// negative), e.g. for traffic outside the bufferevent.
    pub fn decrement_read_limit(&mut self, bytes: isize) -> Result<()> {
        let bev = self.raw()?;
        check_plain(
            unsafe { sys::bufferevent_decrement_read_limit(bev, bytes) },
            "bufferevent_decrement_read_limit",
        )
    }

    /// As [`decrement_read_limit`](Self::decrement_read_limit) for writing.
    pub fn decrement_write_limit(&mut self, bytes: isize) -> Result<()> {
        let bev = self.raw()?;
        check_plain(
            unsafe { sys::bufferevent_decrement_write_limit(bev, bytes) },
            "bufferevent_decrement_write_limit",
        )
    }

    /// The most one read from the socket takes.
    pub fn max_single_read(&self) -> isize {
        unsafe { sys::bufferevent_get_max_single_read(self.live()) }
    }

    /// The most one write to the socket sends.
    pub fn max_single_write(&self) -> isize {
        unsafe { sys::bufferevent_get_max_single_write(self.live()) }
    }

    /// Cap single reads at `bytes` (0: the library's default).
    pub fn set_max_single_read(&mut self, bytes: usize) -> Result<()> {
        let bev = self.raw()?;
        check_plain(
            unsafe { sys::bufferevent_set_max_single_read(bev, bytes) },
            "bufferevent_set_max_single_read",
        )
    }

    /// Cap single writes at `bytes` (0: the library's default).
    pub fn set_max_single_write(&mut self, bytes: usize) -> Result<()> {
        let bev = self.raw()?;
        check_plain(
            unsafe { sys::bufferevent_set_max_single_write(bev, bytes) },
            "bufferevent_set_max_single_write",
        )
    }
}

type DataFn<'b> = dyn FnMut(&mut BufferEventRef) + 'b;
type EventFn<'b> = dyn FnMut(&mut BufferEventRef, BevEvent) + 'b;

struct BevData<'b> {
    bev: Cell<*mut sys::bufferevent>,
    read: Handler<DataFn<'b>, ()>,
    write: Handler<DataFn<'b>, ()>,
    event: Handler<EventFn<'b>, BevEvent>,
    limit: RefCell<Option<RateLimit>>,
    group: Cell<Option<&'b RateLimitGroup<'b>>>,
}

/// A socket (or one end of an in-memory pair, or a filter on top of another
/// bufferevent) with an input and an output buffer, driven by the event
/// loop.
///
/// Callbacks are closures borrowing anything that outlives `'b`. Dropping
/// the `BufferEvent` frees it, also from inside one of its own callbacks.
/// Not `Send`/`Sync`: it belongs to its base's thread.
///
/// ```
/// use goevent::{BevEvents, BevOptions, BufferEvent, EventBase, Events, Listener};
/// use std::cell::RefCell;
///
/// let base = EventBase::new()?;
/// let conns = RefCell::new(Vec::new());
/// // An echo server...
/// let listener = Listener::bind(&base, "127.0.0.1:0".parse().unwrap(), |sock, _peer| {
///     let mut bev = BufferEvent::socket(&base, Some(sock), BevOptions::empty()).unwrap();
///     bev.on_read(|b| {
///         let (input, output) = b.buffers();
///         output.add_buffer(input).unwrap();
///     });
///     bev.enable(Events::READ | Events::WRITE).unwrap();
///     conns.borrow_mut().push(bev);
/// })?;
/// // ...and a client.
/// let echoed = RefCell::new(Vec::new());
/// let mut client = BufferEvent::socket(&base, None, BevOptions::empty())?;
/// client.on_event(|b, ev| {
///     if ev.what.contains(BevEvents::CONNECTED) {
///         b.write(b"ping").unwrap();
///     }
/// });
/// client.on_read(|b| {
///     echoed.borrow_mut().extend(b.read_to_vec());
///     base.loopbreak().unwrap();
/// });
/// client.connect(listener.local_addr()?)?;
/// client.enable(Events::READ | Events::WRITE)?;
/// base.dispatch()?;
/// assert_eq!(*echoed.borrow(), b"ping");
/// # Ok::<(), goevent::Error>(())
/// ```
pub struct BufferEvent<'b> {
    handle: BufferEventRef,
    state: NonNull<State<BevData<'b>>>,
    /// For a filter: its closures' context, closed on drop.
    filter: Option<NonNull<FilterCtx<'b>>>,
    /// For a filter: the bufferevent under it, freed after it.
    underlying: Option<Box<BufferEvent<'b>>>,
    _base: PhantomData<&'b EventBase>,
}

impl<'b> BufferEvent<'b> {
    /// A socket bufferevent owning `fd` (a nonblocking socket), or with no
    /// socket yet if `None` (see [`connect`](BufferEventRef::connect)).
    pub fn socket(base: &'b EventBase, fd: Option<OwnedFd>, options: BevOptions) -> Result<Self> {
        let raw = fd.map_or(-1, IntoRawFd::into_raw_fd);
        let opts = options | BevOptions::CLOSE_ON_FREE;
        let bev = unsafe { sys::bufferevent_socket_new(base.as_ptr(), raw, opts.bits()) };
        match NonNull::new(bev) {
            Some(bev) => Ok(Self::wrap(base.as_ptr(), bev)),
            None => {
                if raw >= 0 {
                    // SAFETY: ownership came back to us unused.
                    drop(unsafe { OwnedFd::from_raw_fd(raw) });
                }
                Err(Error::plain("bufferevent_socket_new"))
            }
        }
    }

    /// Two bufferevents connected to each other in memory. libevent 2.1
    /// always defers a pair's callbacks to the loop.
    pub fn pair(base: &'b EventBase, options: BevOptions) -> Result<(Self, Self)> {
        let mut ends = [ptr::null_mut(); 2];
        let rc =
            unsafe { sys::bufferevent_pair_new(base.as_ptr(), options.bits(), ends.as_mut_ptr()) };
        check_plain(rc, "bufferevent_pair_new")?;
        match (NonNull::new(ends[0]), NonNull::new(ends[1])) {
            (Some(a), Some(b)) => Ok((Self::wrap(base.as_ptr(), a), Self::wrap(base.as_ptr(), b))),
            _ => Err(Error::plain("bufferevent_pair_new")),
        }
    }

    /// A filter over `underlying`: see [`FilterBuilder`]. The filter owns
    /// `underlying` and frees it after itself;
    /// [`underlying`](Self::underlying) reaches it meanwhile (do not set
    /// its callbacks: the filter uses them).
    pub fn filter(underlying: BufferEvent<'b>) -> FilterBuilder<'b> {
        FilterBuilder::new(underlying)
    }

    /// # Safety
    /// `bev` is a new filter bufferevent on `base` (which `'b` borrows)
    /// over `underlying`, with `ctx` as its filter context.
    pub(crate) unsafe fn wrap_filter(
        base: *mut sys::event_base,
        bev: NonNull<sys::bufferevent>,
        ctx: NonNull<FilterCtx<'b>>,
        underlying: BufferEvent<'b>,
    ) -> Self {
        let mut filter = Self::wrap(base, bev);
        filter.filter = Some(ctx);
        filter.underlying = Some(Box::new(underlying));
        filter
    }

    /// For a filter, the bufferevent it sits on.
    pub fn underlying(&mut self) -> Option<&mut BufferEventRef> {
        self.underlying.as_deref_mut().map(|u| &mut u.handle)
    }

    fn wrap(base: *mut sys::event_base, bev: NonNull<sys::bufferevent>) -> Self {
        let state = State::alloc(
            base,
            BevData {
                bev: Cell::new(bev.as_ptr()),
                read: Handler::new(),
                write: Handler::new(),
                event: Handler::new(),
                limit: RefCell::new(None),
                group: Cell::new(None),
            },
        );
        unsafe {
            sys::bufferevent_setcb(
                bev.as_ptr(),
                Some(read_trampoline),
                Some(write_trampoline),
                Some(event_trampoline),
                state.as_ptr().cast(),
            )
        };
        BufferEvent {
            handle: BufferEventRef {
                ptr: bev,
                freed: State::freed_flag(state),
            },
            state,
            filter: None,
            underlying: None,
            _base: PhantomData,
        }
    }

    fn data(&self) -> &BevData<'b> {
        // SAFETY: the state lives until drop.
        unsafe { &self.state.as_ref().data }
    }

    /// Called when the input reaches the read low watermark.
    pub fn on_read(&mut self, f: impl FnMut(&mut BufferEventRef) + 'b) {
        self.data().read.set(Some(Box::new(f)));
    }

    /// Called when the output drains to the write low watermark.
    pub fn on_write(&mut self, f: impl FnMut(&mut BufferEventRef) + 'b) {
        self.data().write.set(Some(Box::new(f)));
    }

    /// Called for connection, end of file, errors and timeouts.
    pub fn on_event(&mut self, f: impl FnMut(&mut BufferEventRef, BevEvent) + 'b) {
        self.data().event.set(Some(Box::new(f)));
    }

    /// Limit this bufferevent with its own token bucket (`None` removes the
    /// limit). It keeps a clone of `limit` while it is set.
    pub fn set_rate_limit(&mut self, limit: Option<&RateLimit>) -> Result<()> {
        let cfg = limit.map_or(ptr::null_mut(), RateLimit::as_ptr);
        let rc = unsafe { sys::bufferevent_set_rate_limit(self.as_ptr(), cfg) };
        check_plain(rc, "bufferevent_set_rate_limit")?;
        *self.data().limit.borrow_mut() = limit.cloned();
        Ok(())
    }

    /// The limit set with [`set_rate_limit`](Self::set_rate_limit).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.data().limit.borrow().clone()
    }

    /// Join `group` (leaving any other). The group is borrowed for as long
    /// as the bufferevent may be a member; dropping the bufferevent leaves.
    pub fn join_group(&mut self, group: &'b RateLimitGroup<'b>) -> Result<()> {
        let bev = self.as_ptr();
        let rc = unsafe { sys::bufferevent_add_to_rate_limit_group(bev, group.as_ptr()) };
        check_plain(rc, "bufferevent_add_to_rate_limit_group")?;
        if let Some(old) = self.data().group.replace(Some(group)) {
            old.left(bev);
        }
        group.joined(bev);
        Ok(())
    }

    /// Leave the group joined with [`join_group`](Self::join_group), if any.
    pub fn leave_group(&mut self) -> Result<()> {
        let bev = self.as_ptr();
        if let Some(group) = self.data().group.take() {
            group.left(bev);
            let rc = unsafe { sys::bufferevent_remove_from_rate_limit_group(bev) };
            check_plain(rc, "bufferevent_remove_from_rate_limit_group")?;
        }
        Ok(())
    }

    /// Whether this bufferevent is a member of `group`.
    pub fn in_group(&self, group: &RateLimitGroup<'_>) -> bool {
        self.data()
            .group
            .get()
            .is_some_and(|g| g.as_ptr() == group.as_ptr())
    }
}

impl Deref for BufferEvent<'_> {
    type Target = BufferEventRef;
    fn deref(&self) -> &BufferEventRef {
        &self.handle
    }
}

impl DerefMut for BufferEvent<'_> {
    fn deref_mut(&mut self) -> &mut BufferEventRef {
        &mut self.handle
    }
}

impl Drop for BufferEvent<'_> {
    fn drop(&mut self) {
        let bev = self.handle.ptr.as_ptr();
        // A group must not keep a freed member (libevent would only remove
        // it once the loop finishes freeing it).
        let _ = self.leave_group();
        // Detach the token bucket before freeing: the library may keep the
        // bufferevent (and a refill timer reading the settings) a while,
        // and the settings may be freed with our handle to them.
        if self.data().limit.borrow_mut().take().is_some() {
            unsafe { sys::bufferevent_set_rate_limit(bev, ptr::null_mut()) };
        }
        // SAFETY: we own the bufferevent, the state and the filter context.
        // The filter's closures go first: bufferevent_free may free the
        // context. bufferevent_free clears the callbacks before anything
        // else, so the library stops using the state here.
        unsafe {
            if let Some(ctx) = self.filter.take() {
                FilterCtx::close(ctx);
            }
            sys::bufferevent_free(bev);
            State::release(self.state);
        }
        // A filter's underlying bufferevent (a field) is dropped next.
    }
}

impl std::fmt::Debug for BufferEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferEvent")
            .field("ptr", &self.handle.ptr)
            .field("fd", &self.fd())
            .field("enabled", &self.enabled())
            .finish()
    }
}

/// Run `f` with the callbacks and a handle of the bufferevent at `arg`.
unsafe fn with_handle(arg: *mut c_void, f: impl FnOnce(&BevData<'_>, &mut BufferEventRef)) {
    State::<BevData<'_>>::run(arg, |state| {
        let Some(ptr) = NonNull::new(state.data.bev.get()) else {
            return;
        };
        let mut handle = BufferEventRef {
            ptr,
            freed: NonNull::from(state.freed()),
        };
        f(&state.data, &mut handle);
    });
}

unsafe extern "C" fn read_trampoline(_bev: *mut sys::bufferevent, arg: *mut c_void) {
    with_handle(arg, |data, handle| data.read.deliver((), |f, ()| f(handle)));
}

unsafe extern "C" fn write_trampoline(_bev: *mut sys::bufferevent, arg: *mut c_void) {
    with_handle(arg, |data, handle| {
        data.write.deliver((), |f, ()| f(handle))
    });
}

unsafe extern "C" fn event_trampoline(
    _bev: *mut sys::bufferevent,
    what: c_short,
    arg: *mut c_void,
) {
    // Read errno before anything can change it.
    let errno = crate::error::last_errno();
    let what = BevEvents::from_bits(what);
    let report = BevEvent {
        what,
        errno: if what.contains(BevEvents::ERROR) {
            errno
        } else {
            None
        },
    };
    with_handle(arg, |data, handle| {
        data.event.deliver(report, |f, ev| f(handle, ev))
    });
}

type AcceptFn<'a> = dyn FnMut(OwnedFd, SocketAddr) + 'a;

struct ListenerData<'a> {
    accept: Handler<AcceptFn<'a>, (OwnedFd, SocketAddr)>,
}

/// A listening TCP socket that accepts connections from the event loop
/// (`evconnlistener_new_bind`, with `LEV_OPT_CLOSE_ON_FREE`,
/// `LEV_OPT_CLOSE_ON_EXEC` and `LEV_OPT_REUSEABLE`).
///
/// ```
/// use goevent::{EventBase, Listener};
/// use std::cell::RefCell;
/// use std::net::TcpStream;
///
/// let base = EventBase::new()?;
/// let peers = RefCell::new(Vec::new());
/// let listener = Listener::bind(&base, "127.0.0.1:0".parse().unwrap(), |_sock, peer| {
///     peers.borrow_mut().push(peer); // `_sock` (an OwnedFd) closes here
///     base.loopbreak().unwrap();
/// })?;
/// let client = TcpStream::connect(listener.local_addr()?).unwrap();
/// base.dispatch()?;
/// assert_eq!(*peers.borrow(), [client.local_addr().unwrap()]);
/// # Ok::<(), goevent::Error>(())
/// ```
pub struct Listener<'a> {
    ptr: NonNull<sys::evconnlistener>,
    state: NonNull<State<ListenerData<'a>>>,
    _base: PhantomData<&'a EventBase>,
}

impl<'a> Listener<'a> {
    /// Listen on `addr` (port 0 picks a free one); `f(socket, peer)` gets
    /// each accepted nonblocking socket.
    pub fn bind(
        base: &'a EventBase,
        addr: SocketAddr,
        f: impl FnMut(OwnedFd, SocketAddr) + 'a,
    ) -> Result<Self> {
        let state = State::alloc(
            base.as_ptr(),
            ListenerData {
                accept: Handler::new(),
            },
        );
        // SAFETY: not shared yet.
        unsafe { state.as_ref() }.data.accept.set(Some(Box::new(f)));
        let raw = RawAddr::new(addr);
        let flags =
            sys::LEV_OPT_CLOSE_ON_FREE | sys::LEV_OPT_CLOSE_ON_EXEC | sys::LEV_OPT_REUSEABLE;
        clear_errno();
        let lev = unsafe {
            sys::evconnlistener_new_bind(
                base.as_ptr(),
                Some(accept_trampoline),
                state.as_ptr().cast(),
                flags,
                -1,
                raw.as_ptr(),
                raw.len(),
            )
        };
        match NonNull::new(lev) {
            Some(ptr) => Ok(Listener {
                ptr,
                state,
                _base: PhantomData,
            }),
            None => {
                let err = Error::last("evconnlistener_new_bind");
                // SAFETY: never registered.
                unsafe { State::release(state) };
                Err(err)
            }
        }
    }

    /// The listening socket.
    pub fn fd(&self) -> RawFd {
        unsafe { sys::evconnlistener_get_fd(self.ptr.as_ptr()) }
    }

    /// The bound address (with the real port if 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        // SAFETY: borrowed only for the call; ManuallyDrop keeps it open.
        let sock = ManuallyDrop::new(unsafe { std::net::TcpListener::from_raw_fd(self.fd()) });
        sock.local_addr().map_err(|e| Error::Call {
            op: "getsockname",
            errno: e.raw_os_error(),
        })
    }

    pub fn enable(&mut self) -> Result<()> {
        check_plain(
            unsafe { sys::evconnlistener_enable(self.ptr.as_ptr()) },
            "evconnlistener_enable",
        )
    }

    pub fn disable(&mut self) -> Result<()> {
        check_plain(
            unsafe { sys::evconnlistener_disable(self.ptr.as_ptr()) },
            "evconnlistener_disable",
        )
    }
}

impl Drop for Listener<'_> {
    fn drop(&mut self) {
        // SAFETY: we own both.
        unsafe {
            sys::evconnlistener_free(self.ptr.as_ptr());
            State::release(self.state);
        }
    }
}

impl std::fmt::Debug for Listener<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("ptr", &self.ptr)
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}

unsafe extern "C" fn accept_trampoline(
    _lev: *mut sys::evconnlistener,
    fd: sys::evutil_socket_t,
    sa: *mut sys::sockaddr,
    socklen: c_int,
    arg: *mut c_void,
) {
    // Own the socket first, so that it is closed if nobody takes it.
    let sock = OwnedFd::from_raw_fd(fd);
    let peer = net::from_raw(sa, socklen).unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut sock = Some(sock);
    State::<ListenerData<'_>>::run(arg, |state| {
        if let Some(sock) = sock.take() {
            state.data.accept.deliver((sock, peer), |f, (s, p)| f(s, p));
        }
    });
}
