//! Safe Rust bindings for goevent: libevent 2.1's core (buffers, event loop,
//! bufferevents, filters, rate limits, listeners) behind libevent's own C
//! ABI.
//!
//! The raw declarations and the linking are the `goevent-sys` crate
//! (re-exported as [`sys`]); it links `libevent_core` from `GOEVENT_LIB_DIR`
//! (default: the repository's `build/lib`). Any library with libevent
//! 2.1.12's ABI works, including the system's.
//!
//! * [`EvBuffer`] / [`EvBufferRef`]: byte queues (`struct evbuffer`).
//! * [`EventBase`], [`Event`]: the loop, timers and fd readiness.
//! * [`BufferEvent`]: sockets, in-memory pairs, and filters with closures
//!   as the filters ([`BufferEvent::filter`], [`FilterResult`], [`Flush`]).
//! * [`RateLimit`], [`RateLimitGroup`]: token-bucket rate limits for one
//!   bufferevent or a group, with the group's [`Totals`].
//! * [`Listener`]: accepting sockets.
//!
//! Ownership follows C: each owning type frees its object on drop, and the
//! objects registered on a base borrow it, so the base is freed last (and a
//! rate-limit group outlives its members). Callbacks and filters are
//! closures, boxed and freed with their object (never while they run). A
//! panic in a callback or filter stops the loop and resumes from
//! [`EventBase::dispatch`]. Errors are [`Error`]s carrying the errno of a
//! failed system call.
//!
//! Threads: no locking is set up (`evthread_use_pthreads` is not called),
//! so a base and all its objects belong to one thread. Each type says what
//! it is: [`EventBase`] and [`EvBuffer`] are `Send` so they can be handed
//! to that thread; [`RateLimit`] is `Send` and `Sync` (immutable settings);
//! everything registered on a base is neither.
//!
//! ```
//! use goevent::{Event, EventBase};
//! use std::cell::Cell;
//! use std::time::Duration;
//!
//! let base = EventBase::new()?;
//! let ticks = Cell::new(0);
//! let mut timer = Event::timer(&base, true, |_| {
//!     ticks.set(ticks.get() + 1);
//!     if ticks.get() == 3 {
//!         base.loopbreak().unwrap();
//!     }
//! })?;
//! timer.add(Some(Duration::from_millis(10)))?;
//! base.dispatch()?;
//! assert_eq!(ticks.get(), 3);
//! # Ok::<(), goevent::Error>(())
//! ```

mod buffer;
mod bufferevent;
mod callback;
mod error;
mod event;
mod filter;
mod flags;
mod net;
mod ratelimit;
/// The raw C declarations (the `goevent-sys` crate), for what the safe API
/// does not cover; the `as_ptr` methods give the pointers they need.
pub use goevent_sys as sys;

pub use buffer::{Eol, EvBuffer, EvBufferRef};
pub use bufferevent::{BevEvent, BevEvents, BevOptions, BufferEvent, BufferEventRef, Listener};
pub use error::{Error, Result};
pub use event::{version, Event, EventBase, EventRef, Events, Exit, LoopFlags};
pub use filter::{FilterBuilder, FilterFn, FilterResult, Flush};
pub use ratelimit::{RateLimit, RateLimitGroup, Totals, RATE_LIMIT_MAX};
