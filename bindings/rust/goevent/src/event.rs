//! [`EventBase`] (the loop) and [`Event`] (timers and fd readiness).

use std::cell::Cell;
use std::ffi::{c_int, c_short, c_void, CStr};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::{self, NonNull};
use std::time::Duration;

use crate::callback::{self, Handler, State};
use crate::error::{check, check_plain, clear_errno, Error, Result};
use crate::flags::flags;
use goevent_sys as sys;

flags! {
    /// Event conditions (`EV_*`).
    pub struct Events(c_short) {
        const TIMEOUT = sys::EV_TIMEOUT;
        const READ = sys::EV_READ;
        const WRITE = sys::EV_WRITE;
        const SIGNAL = sys::EV_SIGNAL;
        const PERSIST = sys::EV_PERSIST;
        const ET = sys::EV_ET;
        const CLOSED = sys::EV_CLOSED;
    }
}

flags! {
    /// Flags for [`EventBase::run`] (`EVLOOP_*`).
    pub struct LoopFlags(c_int) {
        /// Return after one round of callbacks, waiting for it if needed.
        const ONCE = sys::EVLOOP_ONCE;
        /// Do not wait: run what is ready now and return.
        const NONBLOCK = sys::EVLOOP_NONBLOCK;
        /// Keep running even with no events pending.
        const NO_EXIT_ON_EMPTY = sys::EVLOOP_NO_EXIT_ON_EMPTY;
    }
}

/// Why a loop returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Asked to stop (`loopexit`, `loopbreak`), or `ONCE`/`NONBLOCK` done.
    Stopped,
    /// Nothing was pending or active any more.
    Empty,
}

/// The library's `event_get_version()`, e.g. `"2.1.12-stable"`.
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::event_get_version()) }
        .to_str()
        .unwrap_or("")
}

pub(crate) fn timeval(d: Duration) -> sys::timeval {
    sys::timeval {
        tv_sec: d.as_secs().min(i64::MAX as u64) as _,
        tv_usec: d.subsec_micros() as _,
    }
}

/// An event loop (`struct event_base`).
///
/// Events, bufferevents and listeners borrow their base (`'b`), so the
/// compiler ensures the base is freed last. Methods take `&self` so that
/// callbacks can hold the base to stop the loop or create objects.
///
/// `EventBase` is `Send` (a base may move to the thread that will run it)
/// but not `Sync`: without a thread library (`evthread_use_pthreads`,
/// which these bindings do not set up) the library does no locking, so a
/// base and everything on it must be used from one thread at a time. The
/// borrows above mean it can only move while nothing is registered on it.
///
/// ```
/// use goevent::{EventBase, Exit, LoopFlags};
/// use std::time::Duration;
///
/// let base = EventBase::new()?;
/// assert_eq!(base.method(), "epoll");
/// assert_eq!(base.dispatch()?, Exit::Empty); // nothing to wait for
/// base.loopexit(Some(Duration::from_millis(5)))?;
/// assert_eq!(base.run(LoopFlags::NO_EXIT_ON_EMPTY)?, Exit::Stopped);
/// assert!(base.got_exit());
/// # Ok::<(), goevent::Error>(())
/// ```
pub struct EventBase {
    ptr: NonNull<sys::event_base>,
}

// SAFETY: see the type's documentation.
unsafe impl Send for EventBase {}

impl EventBase {
    pub fn new() -> Result<Self> {
        clear_errno();
        // SAFETY: no preconditions.
        let ptr = unsafe { sys::event_base_new() };
        NonNull::new(ptr)
            .map(|ptr| EventBase { ptr })
            .ok_or_else(|| Error::last("event_base_new"))
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut sys::event_base {
        self.ptr.as_ptr()
    }

    /// The kernel mechanism in use, e.g. `"epoll"`.
    pub fn method(&self) -> &str {
        // SAFETY: a static string owned by the library.
        unsafe { CStr::from_ptr(sys::event_base_get_method(self.as_ptr())) }
            .to_str()
            .unwrap_or("")
    }

    /// Run until stopped or until nothing is pending
    /// (`event_base_dispatch`).
    ///
    /// A panic in a callback stops the loop and resumes here.
    pub fn dispatch(&self) -> Result<Exit> {
        self.run(LoopFlags::empty())
    }

    /// Run with `flags` (`event_base_loop`).
    pub fn run(&self, flags: LoopFlags) -> Result<Exit> {
        clear_errno();
        // SAFETY: a live base; re-entry is refused by the library itself.
        let rc = unsafe { sys::event_base_loop(self.as_ptr(), flags.bits()) };
        callback::resume_parked();
        match rc {
            0 => Ok(Exit::Stopped),
            1 => Ok(Exit::Empty),
            _ => Err(Error::last("event_base_loop")),
        }
    }

    /// Stop the loop after `delay` (after the current round of callbacks
    /// if `None`).
    pub fn loopexit(&self, delay: Option<Duration>) -> Result<()> {
        let tv = delay.map(timeval);
        let tvp = tv.as_ref().map_or(ptr::null(), |t| t as *const _);
        check_plain(
            unsafe { sys::event_base_loopexit(self.as_ptr(), tvp) },
            "event_base_loopexit",
        )
    }

    /// Stop the loop after the callback now running.
    pub fn loopbreak(&self) -> Result<()> {
        check_plain(
            unsafe { sys::event_base_loopbreak(self.as_ptr()) },
            "event_base_loopbreak",
        )
    }

    /// Whether the last loop ended through [`loopexit`](Self::loopexit).
    pub fn got_exit(&self) -> bool {
        unsafe { sys::event_base_got_exit(self.as_ptr()) != 0 }
    }

    /// Whether the last loop ended through [`loopbreak`](Self::loopbreak).
    pub fn got_break(&self) -> bool {
        unsafe { sys::event_base_got_break(self.as_ptr()) != 0 }
    }
}

impl Drop for EventBase {
    fn drop(&mut self) {
        // SAFETY: nothing borrows the base any more ('b has ended).
        unsafe { sys::event_base_free(self.as_ptr()) }
    }
}

impl std::fmt::Debug for EventBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBase")
            .field("ptr", &self.ptr)
            .field("method", &self.method())
            .finish()
    }
}

/// Control of an event: what [`Event`] derefs to and what its callback
/// receives, so the callback can re-add, delete or activate it.
///
/// If the owning [`Event`] is dropped while its callback runs, this
/// handle's methods fail with [`Error::Closed`] (or report nothing
/// pending) rather than touch the freed event.
pub struct EventRef {
    ptr: NonNull<sys::event>,
    freed: NonNull<Cell<bool>>,
}

impl EventRef {
    fn raw(&self) -> Result<*mut sys::event> {
        // SAFETY: the flag lives in the State, which outlives every handle.
        if unsafe { self.freed.as_ref() }.get() {
            Err(Error::Closed)
        } else {
            Ok(self.ptr.as_ptr())
        }
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut sys::event {
        self.ptr.as_ptr()
    }

    /// Make the event pending, with an optional timeout.
    pub fn add(&mut self, timeout: Option<Duration>) -> Result<()> {
        let ev = self.raw()?;
        let tv = timeout.map(timeval);
        let tvp = tv.as_ref().map_or(ptr::null(), |t| t as *const _);
        clear_errno();
        check(unsafe { sys::event_add(ev, tvp) }, "event_add")
    }

    /// Make the event non-pending. It can be added again.
    pub fn del(&mut self) -> Result<()> {
        let ev = self.raw()?;
        check_plain(unsafe { sys::event_del(ev) }, "event_del")
    }

    /// Which of `what` the event is pending or active for.
    pub fn pending(&self, what: Events) -> Events {
        match self.raw() {
            Ok(ev) => {
                Events::from_bits(
                    unsafe { sys::event_pending(ev, what.bits(), ptr::null_mut()) } as c_short,
                )
            }
            Err(_) => Events::empty(),
        }
    }

    /// Make the event active now, as if `what` had happened.
    pub fn activate(&mut self, what: Events) -> Result<()> {
        let ev = self.raw()?;
        unsafe { sys::event_active(ev, c_int::from(what.bits()), 0) };
        Ok(())
    }
}

type EventFn<'b> = dyn FnMut(&mut EventRef, Events) + 'b;

struct EventData<'b> {
    ev: Cell<*mut sys::event>,
    cb: Handler<EventFn<'b>, Events>,
}

/// One event (`struct event` from `event_new`): a timer, or readiness of a
/// file descriptor. Dropping it deletes and frees it (`event_free`), which
/// is allowed inside its own callback.
///
/// ```
/// use goevent::{Event, EventBase, Events, LoopFlags};
/// use std::cell::Cell;
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
///
/// let base = EventBase::new()?;
/// let (mut writer, reader) = UnixStream::pair().unwrap();
/// let fired = Cell::new(Events::empty());
/// let mut ev = Event::new(&base, Some(reader.as_fd()), Events::READ, |_ev, what| {
///     fired.set(what)
/// })?;
/// ev.add(None)?;
/// writer.write_all(b"x").unwrap();
/// base.run(LoopFlags::ONCE)?;
/// assert_eq!(fired.get(), Events::READ);
/// # Ok::<(), goevent::Error>(())
/// ```
pub struct Event<'b> {
    handle: EventRef,
    state: NonNull<State<EventData<'b>>>,
    _base: PhantomData<&'b EventBase>,
}

impl<'b> Event<'b> {
    /// An event for `fd` (a timer if `None`) on the conditions `what`;
    /// `f(handle, fired)` runs when it fires. Not pending until
    /// [`add`](EventRef::add)ed.
    pub fn new(
        base: &'b EventBase,
        fd: Option<BorrowedFd<'b>>,
        what: Events,
        f: impl FnMut(&mut EventRef, Events) + 'b,
    ) -> Result<Self> {
        let state = State::alloc(
            base.as_ptr(),
            EventData {
                ev: Cell::new(ptr::null_mut()),
                cb: Handler::new(),
            },
        );
        // SAFETY: freshly allocated, not shared yet.
        let data = unsafe { &state.as_ref().data };
        data.cb.set(Some(Box::new(f)));
        let fd = fd.map_or(-1, |fd| fd.as_raw_fd());
        let ev = unsafe {
            sys::event_new(
                base.as_ptr(),
                fd,
                what.bits(),
                Some(event_trampoline),
                state.as_ptr().cast(),
            )
        };
        let Some(ev) = NonNull::new(ev) else {
            // SAFETY: never registered anywhere.
            unsafe { State::release(state) };
            return Err(Error::plain("event_new"));
        };
        data.ev.set(ev.as_ptr());
        Ok(Event {
            handle: EventRef {
                ptr: ev,
                freed: State::freed_flag(state),
            },
            state,
            _base: PhantomData,
        })
    }

    /// A timer; `persist` makes it fire every period once added.
    pub fn timer(
        base: &'b EventBase,
        persist: bool,
        mut f: impl FnMut(&mut EventRef) + 'b,
    ) -> Result<Self> {
        let what = if persist {
            Events::PERSIST
        } else {
            Events::empty()
        };
        Self::new(base, None, what, move |ev, _| f(ev))
    }
}

impl Deref for Event<'_> {
    type Target = EventRef;
    fn deref(&self) -> &EventRef {
        &self.handle
    }
}

impl DerefMut for Event<'_> {
    fn deref_mut(&mut self) -> &mut EventRef {
        &mut self.handle
    }
}

impl Drop for Event<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the event and the state; the library makes no
        // further calls with this state once the event is freed.
        unsafe {
            sys::event_free(self.handle.ptr.as_ptr());
            State::release(self.state);
        }
    }
}

impl std::fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("ptr", &self.handle.ptr)
            .field(
                "pending",
                &self.pending(Events::TIMEOUT | Events::READ | Events::WRITE),
            )
            .finish()
    }
}

unsafe extern "C" fn event_trampoline(_fd: c_int, what: c_short, arg: *mut c_void) {
    State::<EventData<'_>>::run(arg, |state| {
        let Some(ptr) = NonNull::new(state.data.ev.get()) else {
            return;
        };
        let mut handle = EventRef {
            ptr,
            freed: NonNull::from(state.freed()),
        };
        state
            .data
            .cb
            .deliver(Events::from_bits(what), |f, fired| f(&mut handle, fired));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_combine_and_print() {
        let both = Events::READ | Events::WRITE;
        assert!(both.contains(Events::READ) && !both.contains(Events::READ | Events::TIMEOUT));
        assert!(both.intersects(Events::WRITE | Events::SIGNAL));
        assert_eq!((both - Events::READ), Events::WRITE);
        assert_eq!(both.bits(), 0x06);
        assert_eq!(format!("{both:?}"), "Events(READ | WRITE)");
        assert_eq!(
            format!("{:?}", Events::from_bits(0x201)),
            "Events(TIMEOUT | 0x200)"
        );
        assert_eq!(format!("{:?}", Events::empty()), "Events()");
    }

    #[test]
    fn durations_become_timevals() {
        let tv = timeval(Duration::new(3, 250_000_999));
        assert_eq!((tv.tv_sec, tv.tv_usec), (3, 250_000));
    }
}
