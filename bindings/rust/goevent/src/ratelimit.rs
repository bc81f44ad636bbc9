//! Rate limits: [`RateLimit`] (`struct ev_token_bucket_cfg`) for one
//! bufferevent, [`RateLimitGroup`] for a budget shared by several.
//!
//! A token bucket gains `rate` bytes every tick, up to `burst`; each byte
//! read or written takes a token, and a bufferevent with an empty bucket
//! waits for the next tick. The limits apply to socket bufferevents. With
//! both its own bucket and a group's, the tighter one wins.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use goevent_sys as sys;

use crate::error::{check_plain, Error, Result};
use crate::event::{timeval, EventBase};

/// `EV_RATE_LIMIT_MAX`: the largest rate or burst, and what the limit
/// queries report for a bufferevent without a limit.
pub const RATE_LIMIT_MAX: usize = sys::EV_RATE_LIMIT_MAX as usize;

struct Cfg(NonNull<sys::ev_token_bucket_cfg>);

// SAFETY: the configuration is never changed after creation; the library
// only reads it, from any thread.
unsafe impl Send for Cfg {}
unsafe impl Sync for Cfg {}

impl Drop for Cfg {
    fn drop(&mut self) {
        // SAFETY: the last handle is gone; every bufferevent using the
        // configuration holds one (see BufferEvent::set_rate_limit).
        unsafe { sys::ev_token_bucket_cfg_free(self.0.as_ptr()) }
    }
}

/// Token-bucket settings (`struct ev_token_bucket_cfg`): `read_rate` and
/// `write_rate` bytes are added every `tick` (one second if `None`), up to
/// `read_burst` and `write_burst`.
///
/// Cloning is cheap and shares the settings. A bufferevent keeps a clone
/// while the settings are its limit, so they outlive every user. `Send` and
/// `Sync`: the settings never change once made.
///
/// ```
/// use goevent::{BevOptions, BufferEvent, EventBase, RateLimit, RateLimitGroup};
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// let base = EventBase::new()?;
/// let cfg = RateLimit::new(1000, 1000, 4000, 4000, Some(Duration::from_millis(50)))?;
/// let group = RateLimitGroup::new(&base, &RateLimit::new(1500, 1500, 1500, 1500, None)?)?;
/// let (sock, _peer) = UnixStream::pair().unwrap();
/// sock.set_nonblocking(true).unwrap();
/// let mut bev = BufferEvent::socket(&base, Some(sock.into()), BevOptions::empty())?;
/// bev.set_rate_limit(Some(&cfg))?;
/// assert_eq!(bev.read_limit(), 1000); // one tick's worth to start with
/// bev.join_group(&group)?;
/// assert_eq!(bev.max_to_read(), 1000); // its own bucket is the tighter
/// assert_eq!(bev.max_to_write(), 1500); // the group's is
/// assert_eq!(group.totals(), goevent::Totals { read: 0, written: 0 });
/// # Ok::<(), goevent::Error>(())
/// ```
#[derive(Clone)]
pub struct RateLimit {
    cfg: Arc<Cfg>,
    read: (usize, usize),
    write: (usize, usize),
    tick: Duration,
}

impl RateLimit {
    /// Rates and bursts in bytes, each in `1..=RATE_LIMIT_MAX`; `tick` must
    /// not be zero.
    pub fn new(
        read_rate: usize,
        read_burst: usize,
        write_rate: usize,
        write_burst: usize,
        tick: Option<Duration>,
    ) -> Result<Self> {
        for value in [read_rate, read_burst, write_rate, write_burst] {
            if value == 0 || value > RATE_LIMIT_MAX {
                return Err(Error::Invalid(
                    "rates and bursts must be in 1..=RATE_LIMIT_MAX",
                ));
            }
        }
        if tick == Some(Duration::ZERO) {
            return Err(Error::Invalid("a tick must not be zero"));
        }
        let tv = tick.map(timeval);
        let tvp = tv.as_ref().map_or(ptr::null(), |t| t as *const _);
        // SAFETY: plain values; tvp is null or points at `tv`.
        let cfg = unsafe {
            sys::ev_token_bucket_cfg_new(read_rate, read_burst, write_rate, write_burst, tvp)
        };
        let cfg = NonNull::new(cfg).ok_or(Error::plain("ev_token_bucket_cfg_new"))?;
        Ok(RateLimit {
            cfg: Arc::new(Cfg(cfg)),
            read: (read_rate, read_burst),
            write: (write_rate, write_burst),
            tick: tick.unwrap_or(Duration::from_secs(1)),
        })
    }

    /// `(rate, burst)` for reading.
    pub fn read(&self) -> (usize, usize) {
        self.read
    }

    /// `(rate, burst)` for writing.
    pub fn write(&self) -> (usize, usize) {
        self.write
    }

    pub fn tick(&self) -> Duration {
        self.tick
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut sys::ev_token_bucket_cfg {
        self.cfg.0.as_ptr()
    }
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("read", &self.read)
            .field("write", &self.write)
            .field("tick", &self.tick)
            .finish()
    }
}

/// Bytes a group's members moved since it was made or last reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub read: u64,
    pub written: u64,
}

/// Bufferevents sharing one budget (`struct bufferevent_rate_limit_group`).
///
/// The group copies the [`RateLimit`] it is given. Its tokens are divided
/// among the members that want to move data, at least the minimum share
/// each (64 bytes unless [`set_min_share`](Self::set_min_share) says
/// otherwise). Members join with
/// [`BufferEvent::join_group`](crate::BufferEvent::join_group), which
/// borrows the group, so the compiler keeps the group alive while it has
/// members; a member leaves when dropped.
///
/// Neither `Send` nor `Sync`: it belongs to its base's thread.
///
/// ```
/// use goevent::{BevOptions, BufferEvent, EventBase, Events, RateLimit, RateLimitGroup};
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
///
/// let base = EventBase::new()?;
/// let group = RateLimitGroup::new(&base, &RateLimit::new(64, 64, 64, 64, None)?)?;
/// let (sock, mut peer) = UnixStream::pair().unwrap();
/// sock.set_nonblocking(true).unwrap();
/// let mut bev = BufferEvent::socket(&base, Some(sock.into()), BevOptions::empty())?;
/// bev.join_group(&group)?;
/// bev.on_read(|b| {
///     b.read_to_vec();
///     base.loopbreak().unwrap(); // the group's refill timer keeps the loop busy
/// });
/// bev.enable(Events::READ)?;
/// peer.write_all(&[7; 1000]).unwrap();
/// base.loopexit(Some(std::time::Duration::from_secs(5)))?; // a guard
/// base.dispatch()?;
/// // The group had 64 tokens: the first read took exactly that.
/// assert_eq!(group.totals().read, 64);
/// assert_eq!(group.len(), 1);
/// drop(bev);
/// assert!(group.is_empty());
/// # Ok::<(), goevent::Error>(())
/// ```
pub struct RateLimitGroup<'b> {
    ptr: NonNull<sys::bufferevent_rate_limit_group>,
    members: RefCell<Vec<*mut sys::bufferevent>>,
    _base: PhantomData<&'b EventBase>,
}

impl<'b> RateLimitGroup<'b> {
    pub fn new(base: &'b EventBase, limit: &RateLimit) -> Result<Self> {
        // SAFETY: a live base and configuration (copied by the call).
        let ptr = unsafe { sys::bufferevent_rate_limit_group_new(base.as_ptr(), limit.as_ptr()) };
        let ptr = NonNull::new(ptr).ok_or(Error::plain("bufferevent_rate_limit_group_new"))?;
        Ok(RateLimitGroup {
            ptr,
            members: RefCell::new(Vec::new()),
            _base: PhantomData,
        })
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut sys::bufferevent_rate_limit_group {
        self.ptr.as_ptr()
    }

    /// Replace the rates and bursts (copied from `limit`). Tokens beyond the
    /// new bursts are dropped.
    pub fn set_rate_limit(&self, limit: &RateLimit) -> Result<()> {
        let rc =
            unsafe { sys::bufferevent_rate_limit_group_set_cfg(self.as_ptr(), limit.as_ptr()) };
        check_plain(rc, "bufferevent_rate_limit_group_set_cfg")
    }

    /// The fewest bytes a member may move at once (0: no minimum).
    pub fn set_min_share(&self, bytes: usize) -> Result<()> {
        let rc = unsafe { sys::bufferevent_rate_limit_group_set_min_share(self.as_ptr(), bytes) };
        check_plain(rc, "bufferevent_rate_limit_group_set_min_share")
    }

    /// Tokens left in the group's read bucket (may be negative).
    pub fn read_limit(&self) -> isize {
        unsafe { sys::bufferevent_rate_limit_group_get_read_limit(self.as_ptr()) }
    }

    /// Tokens left in the group's write bucket (may be negative).
    pub fn write_limit(&self) -> isize {
        unsafe { sys::bufferevent_rate_limit_group_get_write_limit(self.as_ptr()) }
    }

    /// Take `bytes` read tokens (give them back if negative).
    pub fn decrement_read(&self, bytes: isize) -> Result<()> {
        let rc = unsafe { sys::bufferevent_rate_limit_group_decrement_read(self.as_ptr(), bytes) };
        check_plain(rc, "bufferevent_rate_limit_group_decrement_read")
    }

    /// Take `bytes` write tokens (give them back if negative).
    pub fn decrement_write(&self, bytes: isize) -> Result<()> {
        let rc = unsafe { sys::bufferevent_rate_limit_group_decrement_write(self.as_ptr(), bytes) };
        check_plain(rc, "bufferevent_rate_limit_group_decrement_write")
    }

    /// Bytes the members read and wrote since creation or the last
    /// [`reset_totals`](Self::reset_totals).
    pub fn totals(&self) -> Totals {
        let (mut read, mut written) = (0u64, 0u64);
        unsafe {
            sys::bufferevent_rate_limit_group_get_totals(self.as_ptr(), &mut read, &mut written)
        };
        Totals { read, written }
    }

    pub fn reset_totals(&self) {
        unsafe { sys::bufferevent_rate_limit_group_reset_totals(self.as_ptr()) }
    }

    /// How many bufferevents are members.
    pub fn len(&self) -> usize {
        self.members.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn joined(&self, bev: *mut sys::bufferevent) {
        self.members.borrow_mut().push(bev);
    }

    pub(crate) fn left(&self, bev: *mut sys::bufferevent) {
        self.members.borrow_mut().retain(|&m| m != bev);
    }
}

impl Drop for RateLimitGroup<'_> {
    fn drop(&mut self) {
        // Members borrow the group, so only a leaked (mem::forget)
        // bufferevent can still be one; libevent must not free a group with
        // members.
        for bev in self.members.take() {
            unsafe { sys::bufferevent_remove_from_rate_limit_group(bev) };
        }
        unsafe { sys::bufferevent_rate_limit_group_free(self.as_ptr()) }
    }
}

impl std::fmt::Debug for RateLimitGroup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitGroup")
            .field("ptr", &self.ptr)
            .field("members", &self.len())
            .field("totals", &self.totals())
            .finish()
    }
}
