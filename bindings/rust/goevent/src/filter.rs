//! Filter bufferevents: closures that transform the bytes between a
//! bufferevent and the one it sits on (`bufferevent_filter_new`).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use goevent_sys as sys;

use crate::buffer::EvBufferRef;
use crate::bufferevent::{BevOptions, BufferEvent};
use crate::callback;
use crate::error::{Error, Result};

/// What a filter returns (`enum bufferevent_filter_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum FilterResult {
    /// `BEV_OK`: wrote something to `dst`.
    Ok = sys::BEV_OK,
    /// `BEV_NEED_MORE`: needs more input before it can write anything.
    NeedMore = sys::BEV_NEED_MORE,
    /// `BEV_ERROR`: failed. libevent 2.1 then stops passing data (it
    /// reports no event).
    Error = sys::BEV_ERROR,
}

/// How hard a filter is asked to push data (`enum bufferevent_flush_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Flush {
    /// `BEV_NORMAL`: ordinary traffic; the filter may hold bytes back.
    Normal = sys::BEV_NORMAL,
    /// `BEV_FLUSH`: write out everything buffered.
    Flush = sys::BEV_FLUSH,
    /// `BEV_FINISHED`: as `Flush`, and no more data will follow.
    Finished = sys::BEV_FINISHED,
}

impl Flush {
    fn from_raw(mode: c_int) -> Flush {
        match mode {
            sys::BEV_FLUSH => Flush::Flush,
            sys::BEV_FINISHED => Flush::Finished,
            _ => Flush::Normal,
        }
    }
}

/// A filter: `f(src, dst, limit, mode)` moves (transformed) bytes from `src`
/// to `dst`, at most `limit` bytes when that is `Some`.
pub type FilterFn<'b> =
    dyn FnMut(&mut EvBufferRef, &mut EvBufferRef, Option<usize>, Flush) -> FilterResult + 'b;

/// The filter closures, behind the context pointer the library holds.
///
/// Its memory is freed by the library's `free_context` call, which comes
/// once nothing can call the filters any more (perhaps later than the
/// owner's drop: libevent finishes freeing from the loop). The closures
/// themselves are dropped when the owner is (they may borrow for `'b`
/// only), or right after the call that is running then.
pub(crate) struct FilterCtx<'b> {
    base: *mut sys::event_base,
    running: Cell<u32>,
    closed: Cell<bool>,
    free_pending: Cell<bool>,
    input: RefCell<Option<Box<FilterFn<'b>>>>,
    output: RefCell<Option<Box<FilterFn<'b>>>>,
}

impl<'b> FilterCtx<'b> {
    fn alloc(
        base: *mut sys::event_base,
        input: Option<Box<FilterFn<'b>>>,
        output: Option<Box<FilterFn<'b>>>,
    ) -> NonNull<Self> {
        NonNull::from(Box::leak(Box::new(FilterCtx {
            base,
            running: Cell::new(0),
            closed: Cell::new(false),
            free_pending: Cell::new(false),
            input: RefCell::new(input),
            output: RefCell::new(output),
        })))
    }

    /// The owner is going: drop the closures (now, or after the running
    /// call). Call before `bufferevent_free`, which may free the context.
    ///
    /// # Safety
    /// `this` is live (the library has not called `free_context`).
    pub(crate) unsafe fn close(this: NonNull<Self>) {
        let ctx = this.as_ref();
        ctx.closed.set(true);
        ctx.drop_closures();
    }

    fn drop_closures(&self) {
        for slot in [&self.input, &self.output] {
            // Borrowed means running: run_filter drops it on the way out.
            if let Ok(mut f) = slot.try_borrow_mut() {
                f.take();
            }
        }
    }
}

/// `free_context`: the library is done with the context.
unsafe extern "C" fn free_ctx(arg: *mut c_void) {
    let Some(this) = NonNull::new(arg.cast::<FilterCtx<'_>>()) else {
        return;
    };
    if this.as_ref().running.get() > 0 {
        this.as_ref().free_pending.set(true); // run_filter frees it
    } else {
        // The closures went with the owner (`close`), so this drops no
        // borrowed data whatever `'b` was.
        drop(Box::from_raw(this.as_ptr()));
    }
}

unsafe fn run_filter(
    arg: *mut c_void,
    output: bool,
    src: *mut sys::evbuffer,
    dst: *mut sys::evbuffer,
    limit: sys::ev_ssize_t,
    mode: c_int,
) -> c_int {
    let Some(this) = NonNull::new(arg.cast::<FilterCtx<'_>>()) else {
        return sys::BEV_ERROR;
    };
    let ctx = this.as_ref();
    if ctx.closed.get() {
        return sys::BEV_ERROR;
    }
    let slot = if output { &ctx.output } else { &ctx.input };
    // Already running further up the stack: a closure is not re-entered.
    let Ok(mut f) = slot.try_borrow_mut() else {
        return sys::BEV_ERROR;
    };
    let Some(filter) = f.as_mut() else {
        return sys::BEV_ERROR;
    };
    ctx.running.set(ctx.running.get() + 1);
    let limit = usize::try_from(limit).ok();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        filter(
            EvBufferRef::from_ptr(src),
            EvBufferRef::from_ptr(dst),
            limit,
            Flush::from_raw(mode),
        )
    }));
    drop(f);
    ctx.running.set(ctx.running.get() - 1);
    let base = ctx.base;
    if ctx.running.get() == 0 {
        if ctx.closed.get() {
            ctx.drop_closures();
        }
        if ctx.free_pending.get() {
            drop(Box::from_raw(this.as_ptr()));
        }
    }
    match result {
        Ok(r) => r as c_int,
        Err(payload) => {
            callback::park(payload, base);
            sys::BEV_ERROR
        }
    }
}

unsafe extern "C" fn input_trampoline(
    src: *mut sys::evbuffer,
    dst: *mut sys::evbuffer,
    limit: sys::ev_ssize_t,
    mode: c_int,
    arg: *mut c_void,
) -> c_int {
    run_filter(arg, false, src, dst, limit, mode)
}

unsafe extern "C" fn output_trampoline(
    src: *mut sys::evbuffer,
    dst: *mut sys::evbuffer,
    limit: sys::ev_ssize_t,
    mode: c_int,
    arg: *mut c_void,
) -> c_int {
    run_filter(arg, true, src, dst, limit, mode)
}

/// Builds a filter bufferevent: [`BufferEvent::filter`], then the filter
/// closures, then [`build`](Self::build).
///
/// A filter gets `(src, dst, limit, mode)`: it moves what it can from `src`
/// to `dst`, transformed, writing at most `limit` bytes when that is
/// `Some`, and says how it went with a [`FilterResult`]. A panic inside a
/// filter counts as `FilterResult::Error`, stops the loop and resumes from
/// [`EventBase::dispatch`](crate::EventBase::dispatch).
///
/// ```
/// use goevent::{BevOptions, BufferEvent, EventBase, Events, FilterResult};
/// use std::cell::RefCell;
///
/// let base = EventBase::new()?;
/// let got = RefCell::new(Vec::new());
/// let (left, mut right) = BufferEvent::pair(&base, BevOptions::empty())?;
/// // Everything written to `shout` reaches `left`'s partner upper-cased.
/// let mut shout = BufferEvent::filter(left)
///     .output(|src, dst, _limit, _mode| {
///         let bytes = src.to_vec();
///         src.drain(bytes.len()).unwrap();
///         dst.add(&bytes.to_ascii_uppercase()).unwrap();
///         FilterResult::Ok
///     })
///     .build()?;
/// right.on_read(|b| got.borrow_mut().extend(b.read_to_vec()));
/// right.enable(Events::READ)?;
/// shout.write(b"hello")?;
/// base.run(goevent::LoopFlags::NONBLOCK)?;
/// assert_eq!(*got.borrow(), b"HELLO");
/// # Ok::<(), goevent::Error>(())
/// ```
#[must_use = "nothing is created until build() is called"]
pub struct FilterBuilder<'b> {
    underlying: BufferEvent<'b>,
    input: Option<Box<FilterFn<'b>>>,
    output: Option<Box<FilterFn<'b>>>,
    options: BevOptions,
}

impl<'b> FilterBuilder<'b> {
    pub(crate) fn new(underlying: BufferEvent<'b>) -> Self {
        FilterBuilder {
            underlying,
            input: None,
            output: None,
            options: BevOptions::empty(),
        }
    }

    /// The filter for incoming bytes: from the underlying's input (`src`) to
    /// the new bufferevent's input (`dst`). Without one, bytes pass
    /// unchanged.
    pub fn input(
        mut self,
        f: impl FnMut(&mut EvBufferRef, &mut EvBufferRef, Option<usize>, Flush) -> FilterResult + 'b,
    ) -> Self {
        self.input = Some(Box::new(f));
        self
    }

    /// The filter for outgoing bytes: from the new bufferevent's output
    /// (`src`) to the underlying's output (`dst`).
    pub fn output(
        mut self,
        f: impl FnMut(&mut EvBufferRef, &mut EvBufferRef, Option<usize>, Flush) -> FilterResult + 'b,
    ) -> Self {
        self.output = Some(Box::new(f));
        self
    }

    /// Options for the new bufferevent (`DEFER_CALLBACKS`, ...). The filter
    /// always owns its underlying bufferevent, so `CLOSE_ON_FREE` changes
    /// nothing.
    pub fn options(mut self, options: BevOptions) -> Self {
        self.options = options;
        self
    }

    /// Create the filter bufferevent.
    pub fn build(self) -> Result<BufferEvent<'b>> {
        let under = self.underlying.as_ptr();
        // SAFETY: a live bufferevent.
        let base = unsafe { sys::bufferevent_get_base(under) };
        let has_input = self.input.is_some();
        let has_output = self.output.is_some();
        let ctx = FilterCtx::alloc(base, self.input, self.output);
        // The Rust side frees the underlying itself, after the filter.
        let options = self.options - BevOptions::CLOSE_ON_FREE;
        // SAFETY: the trampolines match the filter type and take `ctx`,
        // which stays valid until free_ctx.
        let bev = unsafe {
            sys::bufferevent_filter_new(
                under,
                if has_input {
                    Some(input_trampoline)
                } else {
                    None
                },
                if has_output {
                    Some(output_trampoline)
                } else {
                    None
                },
                options.bits(),
                Some(free_ctx),
                ctx.as_ptr().cast(),
            )
        };
        let Some(bev) = NonNull::new(bev) else {
            // The library keeps no reference to a context it refused.
            unsafe {
                FilterCtx::close(ctx);
                free_ctx(ctx.as_ptr().cast());
            }
            return Err(Error::plain("bufferevent_filter_new"));
        };
        // SAFETY: a new bufferevent on the underlying's base, which 'b
        // borrows.
        Ok(unsafe { BufferEvent::wrap_filter(base, bev, ctx, self.underlying) })
    }
}

impl std::fmt::Debug for FilterBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterBuilder")
            .field("underlying", &self.underlying)
            .field("input", &self.input.is_some())
            .field("output", &self.output.is_some())
            .field("options", &self.options)
            .finish()
    }
}
