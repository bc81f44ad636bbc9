//! Running Rust closures from C callbacks.
//!
//! Each object with callbacks owns a heap [`State`] whose address is the C
//! callback argument. Two rules make that safe:
//!
//! * An owner dropped while one of its callbacks runs (say through an
//!   `Rc<RefCell<Option<..>>>` the closure captured) frees the C object at
//!   once but not the `State`: it is marked freed and the trampoline frees
//!   it when the callback returns, so a closure is never freed while it
//!   runs. Handles given to callbacks check the mark and fail with
//!   [`Error::Closed`](crate::Error::Closed) instead of touching freed memory.
//! * A panic must not unwind into C. Trampolines catch it, ask the loop to
//!   stop, and `EventBase::dispatch`/`run` resumes it on the way out.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use goevent_sys as sys;

thread_local! {
    static PARKED: RefCell<Option<Box<dyn Any + Send>>> = const { RefCell::new(None) };
}

/// Re-raise a panic a callback on this thread caught, if any.
pub(crate) fn resume_parked() {
    if let Some(payload) = PARKED.with(|p| p.borrow_mut().take()) {
        panic::resume_unwind(payload);
    }
}

pub(crate) fn park(payload: Box<dyn Any + Send>, base: *mut sys::event_base) {
    PARKED.with(|p| {
        p.borrow_mut().get_or_insert(payload);
    });
    if !base.is_null() {
        // SAFETY: every State's base outlives it (the 'b borrow).
        unsafe { sys::event_base_loopbreak(base) };
    }
}

pub(crate) struct State<T> {
    depth: Cell<u32>,
    freed: Cell<bool>,
    base: *mut sys::event_base,
    pub(crate) data: T,
}

impl<T> State<T> {
    pub(crate) fn alloc(base: *mut sys::event_base, data: T) -> NonNull<Self> {
        let state = Box::new(State {
            depth: Cell::new(0),
            freed: Cell::new(false),
            base,
            data,
        });
        NonNull::from(Box::leak(state))
    }

    /// Set once the owner has freed the C object.
    pub(crate) fn freed(&self) -> &Cell<bool> {
        &self.freed
    }

    pub(crate) fn freed_flag(this: NonNull<Self>) -> NonNull<Cell<bool>> {
        // SAFETY: `this` is live; the flag lives as long as the State,
        // which outlives every handle that points at it.
        unsafe { NonNull::from(this.as_ref().freed()) }
    }

    /// The owner has freed the C object: free the State now, or when the
    /// running callback returns.
    ///
    /// # Safety
    /// `this` came from `alloc` and is released once.
    pub(crate) unsafe fn release(this: NonNull<Self>) {
        let state = this.as_ref();
        state.freed.set(true);
        if state.depth.get() == 0 {
            drop(Box::from_raw(this.as_ptr()));
        }
    }

    /// Run `f` for a C callback whose argument is `arg`.
    ///
    /// # Safety
    /// `arg` is a State pointer registered with the C object.
    pub(crate) unsafe fn run(arg: *mut std::ffi::c_void, f: impl FnOnce(&Self)) {
        let Some(this) = NonNull::new(arg.cast::<Self>()) else {
            return;
        };
        let state = this.as_ref();
        if state.freed.get() {
            return;
        }
        state.depth.set(state.depth.get() + 1);
        let result = panic::catch_unwind(AssertUnwindSafe(|| f(state)));
        state.depth.set(state.depth.get() - 1);
        let base = state.base;
        if state.depth.get() == 0 && state.freed.get() {
            drop(Box::from_raw(this.as_ptr()));
        }
        if let Err(payload) = result {
            park(payload, base);
        }
    }
}

/// One user callback `F` plus the arguments it still has to be given.
///
/// A closure cannot be re-entered, so should the library call a callback
/// again while it runs (a synchronous trigger from inside it), the call is
/// queued and delivered, in order, as soon as the running call returns.
/// The same rule lets a callback replace itself: the new closure takes
/// over after the running one returns.
pub(crate) struct Handler<F: ?Sized, A> {
    f: RefCell<Option<Box<F>>>,
    replacement: RefCell<Option<Option<Box<F>>>>,
    queued: RefCell<VecDeque<A>>,
}

impl<F: ?Sized, A> Handler<F, A> {
    pub(crate) fn new() -> Self {
        Handler {
            f: RefCell::new(None),
            replacement: RefCell::new(None),
            queued: RefCell::new(VecDeque::new()),
        }
    }

    /// Install `f`; if the current one is running, after it returns.
    pub(crate) fn set(&self, f: Option<Box<F>>) {
        match self.f.try_borrow_mut() {
            Ok(mut slot) => *slot = f,
            Err(_) => *self.replacement.borrow_mut() = Some(f),
        }
    }

    /// Deliver `arg` through `call`, now or after the running call.
    pub(crate) fn deliver(&self, arg: A, mut call: impl FnMut(&mut F, A)) {
        self.queued.borrow_mut().push_back(arg);
        let Ok(mut slot) = self.f.try_borrow_mut() else {
            return; // running further up this stack: it drains the queue
        };
        loop {
            let next = self.queued.borrow_mut().pop_front();
            let Some(arg) = next else { break };
            if let Some(f) = slot.as_deref_mut() {
                call(f, arg);
            }
            if let Some(new) = self.replacement.borrow_mut().take() {
                *slot = new;
            }
        }
    }
}
