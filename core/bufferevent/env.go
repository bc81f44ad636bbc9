// Package bufferevent is libevent 2.1.12's bufferevent: an fd (or, for later
// kinds, a peer or a filter) with an input and an output evbuffer,
// watermarks, read/write/event callbacks, deferred callbacks, timeouts and
// reference-counted freeing.
//
// One shared core (BEV) implements everything that does not depend on where
// the bytes come from: watermarks, callback scheduling and deferral,
// enable/disable and suspension, timeouts, reference counts and the deferred
// free. The kind-specific part sits behind Ops, the counterpart of libevent's
// struct bufferevent_ops (enable, disable, unlink, destruct, adjust timeouts,
// flush, ctrl), so that pair and filter bufferevents reuse the core the way
// libevent's do. The socket kind is in socket.go.
//
// Memory. What C holds as a struct bufferevent * is a Header in off-heap
// memory, laid out as libevent's bufferevent_struct.h (392 bytes), followed by
// a private area the C library also reads (the lock, reference count,
// suspensions, what C's handlers need), followed by the rest of the state
// (BEV). Programs read bev->input, bev->output, bev->enabled and the
// watermarks directly, so those fields always hold the live values; ev_read
// and ev_write are real struct events of the loop. Nothing of a bufferevent
// lives on the Go heap: functions are named by kind and registered in the
// same order by every copy of the engine, state is in the bufferevent's own
// memory, so a fresh copy of the engine (loaded in a child after fork) works
// on bufferevents the previous copy made.
//
// This package talks to the event loop and to evbuffers only through the
// small Loop and Buf interfaces in this file: the C ABI layer plugs in
// core/loop and core/evbuffer, and the unit tests plug in a poll(2) loop and
// plain byte-slice buffers, which keeps the core testable on its own.
package bufferevent

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
	"goevent/core/mem"
)

// Loop is what a bufferevent needs from the event loop. Events and the
// deferred callback live inside the bufferevent's header; base is the C
// struct event_base *; nil means the current global base (event_init's),
// as in libevent.
type Loop interface {
	// RegisterCallback makes f usable as an event callback and returns the
	// value to store as the callback (loop.RegisterGoCallback). Called once
	// per function at package init time.
	RegisterCallback(f loop.GoCallback) unsafe.Pointer
	// Assign is event_assign.
	Assign(ev *loop.Event, base unsafe.Pointer, fd int, events int16, fn, arg unsafe.Pointer) int
	// Add is event_add; tv nil means no timeout.
	Add(ev *loop.Event, tv *loop.Timeval) int
	// Del is event_del.
	Del(ev *loop.Event) int
	// Pending is event_pending without the timeval.
	Pending(ev *loop.Event, what int16) bool
	// RemoveTimer is event_remove_timer.
	RemoveTimer(ev *loop.Event) int
	// PrioritySet is event_priority_set.
	PrioritySet(ev *loop.Event, pri int) int
	// BaseSet is event_base_set.
	BaseSet(base unsafe.Pointer, ev *loop.Event) int
	// NPriorities is event_base_get_npriorities (base nil: current base).
	NPriorities(base unsafe.Pointer) int
	// RegisterDeferred makes f runnable by deferred callbacks and returns
	// its kind (called once per function, in the same order every time).
	RegisterDeferred(f func(arg unsafe.Pointer)) uint32
	// NewDeferred makes a deferred callback (libevent's
	// event_deferred_cb_init_): the function of kind runs with arg once
	// from the loop, at priority pri, each time the callback is scheduled.
	// The result names it (off-heap memory, or a token of the loop's);
	// Deferred turns it into the interface.
	NewDeferred(pri int, kind uint32, arg unsafe.Pointer) unsafe.Pointer
	Deferred(p unsafe.Pointer) Deferred
	// Finalize deletes ev and also (when not nil), and runs fn(fd,
	// EV_FINALIZE, arg) from ev's loop once no callback of theirs can be
	// running (event_finalize); if the base is freed first, its free runs
	// fn. ev always has a base.
	Finalize(ev, also *loop.Event, fn, arg unsafe.Pointer)
}

// Deferred is a deferred callback of the loop.
type Deferred interface {
	// Schedule queues the callback on base (nil: the current base);
	// false if it was queued already.
	Schedule(base unsafe.Pointer) bool
	// Cancel unqueues it if queued.
	Cancel(base unsafe.Pointer)
	SetPriority(pri int)
	// Free releases it; it must not be queued. FreeInto releases it
	// through batch, with its owner's other blocks (the batch travels by
	// value so that it stays on the caller's stack).
	Free()
	FreeInto(batch mem.Batch) mem.Batch
	// CallbackPtr is its struct event_callback in the loop's queues (nil
	// for loops that have none); SetCallback makes a C loop that runs the
	// queue call fn(cb, arg) for it instead of the Go function (the loop
	// written in Go still runs the Go function).
	CallbackPtr() unsafe.Pointer
	SetCallback(fn, arg unsafe.Pointer)
}

// Buf is what a bufferevent needs from an evbuffer.
type Buf interface {
	// Pointer is the struct evbuffer * stored in the header.
	Pointer() unsafe.Pointer
	Len() int
	Freeze(start bool)
	Unfreeze(start bool)
	// ReadFd is evbuffer_read: at most howmuch bytes (howmuch < 0: the
	// buffer's own default) read from fd into the buffer; n < 0 with an
	// errno on failure, 0 at EOF.
	ReadFd(fd, howmuch int) (n int, err unix.Errno)
	// WriteFd is evbuffer_write_atmost, except that it must never raise
	// SIGPIPE in the process (the peer closing is reported as EPIPE).
	// notSock: fd is known not to be a socket (a pipe), so the write
	// need not try a socket's way first.
	WriteFd(fd, atmost int, notSock bool) (n int, err unix.Errno)
	// SetMaxRead is evbuffer_set_max_read (n from 0 to math.MaxInt32),
	// or, for n < 0, restores the cap new buffers get.
	SetMaxRead(n int)
	// Watch registers the function of kind (Env.RegisterWatch) to run with
	// arg after every change of the buffer, with the length before the
	// change and the bytes added and removed. As in libevent, it runs from
	// the loop when the program made the buffer's callbacks deferred
	// (evbuffer_defer_callbacks), unless noDefer (the read high-watermark
	// watcher, libevent's one NODEFER callback). The result names the
	// registration (nil when out of memory).
	Watch(kind WatchKind, arg unsafe.Pointer, noDefer bool) unsafe.Pointer
	// SetWatchEnabled turns a registration from Watch on or off.
	SetWatchEnabled(w unsafe.Pointer, on bool)
	// SetDrainsToFd sets EVBUFFER_FLAG_DRAINS_TO_FD.
	SetDrainsToFd()
	// EnableLocking makes the buffer use lock (shared with its bufferevent).
	EnableLocking(lock unsafe.Pointer)
	// SetParent records the owning bufferevent (its header), which the
	// buffer keeps alive while a deferred callback run of its is queued.
	SetParent(bev uintptr)
	// Free is evbuffer_free; FreeInto frees the buffer's blocks through
	// batch, with its owner's other blocks (by value, as for Deferred).
	Free()
	FreeInto(batch mem.Batch) mem.Batch
}

// WatchAtBuf is a Buf that can register a watcher in memory its owner
// allocated (Env.WatchSize bytes from core/mem), which the buffer then
// owns; the watcher is deferred with the buffer's callbacks (Watch with
// noDefer false).
type WatchAtBuf interface {
	WatchAt(p unsafe.Pointer, kind WatchKind, arg unsafe.Pointer) unsafe.Pointer
}

// WatchKind names a function registered with Env.RegisterWatch.
type WatchKind uint32

// WatchFunc is a buffer watcher: arg is what Watch was given.
type WatchFunc func(arg unsafe.Pointer, origLen, added, deleted int)

// Env is everything the core gets from the process around it. The C ABI
// layer fills it at init; tests fill it with fakes.
type Env struct {
	Loop Loop
	// NewBuf allocates an evbuffer (nil when out of memory); Buf turns a
	// buffer's pointer (as NewBuf's Buf.Pointer gave it) back into a Buf.
	NewBuf func() Buf
	Buf    func(p unsafe.Pointer) Buf
	// NewBufAt and NewDeferredAt, when both set, make a buffer (BufSize
	// bytes) and a deferred callback (DeferredSize bytes) in memory the
	// core allocated from core/mem, so that a bufferevent's blocks come
	// from one call of the allocator; nil: NewBuf and Loop.NewDeferred.
	BufSize       uintptr
	NewBufAt      func(p unsafe.Pointer) Buf
	DeferredSize  uintptr
	NewDeferredAt func(p unsafe.Pointer, pri int, kind uint32, arg unsafe.Pointer) unsafe.Pointer
	// WatchSize, when not 0, is the memory one buffer watcher takes; the
	// buffers then implement WatchAtBuf.
	WatchSize uintptr
	// RegisterWatch makes f usable by Buf.Watch and returns its kind
	// (called once per function, in the same order every time).
	RegisterWatch func(f WatchFunc) WatchKind
	// AllocHeader and FreeHeader manage the off-heap header memory. The
	// memory must be core/mem's: a bufferevent's block goes back with its
	// buffers' blocks in one mem.Batch.
	AllocHeader func(n uintptr) unsafe.Pointer
	FreeHeader  func(p unsafe.Pointer)
	// CallData calls void (*fn)(struct bufferevent *, void *).
	CallData func(fn, bev, arg unsafe.Pointer)
	// CallEvent calls void (*fn)(struct bufferevent *, short, void *) with
	// errno set to errno first (errno < 0: leave errno alone).
	CallEvent func(fn, bev unsafe.Pointer, what int16, arg unsafe.Pointer, errno int32)
	// Errno reads the calling thread's errno (nil: unknown, left alone).
	Errno func() int32
	// CallFilter calls a bufferevent_filter_cb; CallFree calls a filter
	// context's void (*)(void *) destructor.
	CallFilter func(fn unsafe.Pointer, src, dst Buf, limit, mode int, ctx unsafe.Pointer) int
	CallFree   func(fn, ctx unsafe.Pointer)
	// Lock and Unlock take and release a bufferevent lock (recursive);
	// AllocLock returns a new one or nil when threading is off; FreeLock
	// releases it. Nil functions mean no locking at all.
	Lock, Unlock func(lock unsafe.Pointer)
	AllocLock    func() unsafe.Pointer
	FreeLock     func(lock unsafe.Pointer)
	// SockReadFn and SockWriteFn, when set, are C functions used as the
	// socket kind's event callbacks (capi's handlers, which run the common
	// case without entering Go and call SockReadCB/SockWriteCB for the
	// rest). Nil: the Go handlers are used directly.
	SockReadFn, SockWriteFn unsafe.Pointer
	// SockFinalizeFn, when set, is a C finalizer, void (*)(struct event *,
	// void *arg), for socket bufferevents: it does what finalizeCB does
	// for the plain cases and calls Finalize for the rest.
	SockFinalizeFn unsafe.Pointer
	// DeferredFn, when set, is a C function that does what runDeferred
	// does, installed as every bufferevent's deferred callback for the C
	// loop (see Deferred.SetCallback).
	DeferredFn unsafe.Pointer
	// Warn logs one warning line.
	Warn func(msg string)
}

var env *Env

// Callback values registered with the loop, set by Setup.
var (
	fnSockRead, fnSockWrite     unsafe.Pointer
	fnTimeoutRead, fnTimeoutWrt unsafe.Pointer
	fnFinalize                  unsafe.Pointer
)

// The kinds of the deferred callback and of the buffer watchers, set by
// Setup.
var (
	deferredKind                          uint32
	watchOutSock, watchInWM, watchOutPair WatchKind
	watchFiltIn, watchFiltOut             WatchKind
)

// Setup installs the environment. It must run once before any bufferevent
// is created (the engine's start, or a test's setup), and registers the
// package's functions, always in the same order.
func Setup(e *Env) {
	env = e
	fnSockRead = e.Loop.RegisterCallback(sockReadCB)
	fnSockWrite = e.Loop.RegisterCallback(sockWriteCB)
	fnTimeoutRead = e.Loop.RegisterCallback(genericReadTimeoutCB)
	fnTimeoutWrt = e.Loop.RegisterCallback(genericWriteTimeoutCB)
	fnFinalize = e.Loop.RegisterCallback(finalizeCB)
	deferredKind = e.Loop.RegisterDeferred(runDeferredCB)
	watchOutSock = e.RegisterWatch(sockOutWatch)
	watchInWM = e.RegisterWatch(inWMWatch)
	watchOutPair = e.RegisterWatch(pairOutWatch)
	watchFiltIn = e.RegisterWatch(filterInWatch)
	watchFiltOut = e.RegisterWatch(filterOutWatch)
	installLayerCallbacks()
}

func warn(msg string) {
	if env.Warn != nil {
		env.Warn(msg)
	}
}
