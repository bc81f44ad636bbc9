package loop

import (
	"sync"
	"unsafe"

	"goevent/core/mem"
)

// Deferred is a Go function queued on a base's active queues, libevent's
// deferred callback (event_deferred_cb_*): it runs from the loop, after the
// callback that scheduled it returns, in priority order with events. It lives
// off-heap because it is linked into the same queues as C events, and names
// its function by kind (RegisterDeferred) and its argument by pointer, so
// that a fresh copy of the engine can run a deferred callback the previous
// copy scheduled. Free releases it.
//
// Contract: Schedule, Cancel and SetPriority may be called from any thread
// for a lockable base; Free only once the Deferred is neither scheduled nor
// running.
type Deferred struct {
	cb   Callback // must stay first: the queues hold &d.cb
	kind uint32
	_    uint32
	arg  unsafe.Pointer
}

// DeferredKind names a function registered with RegisterDeferred.
type DeferredKind uint32

var (
	deferredMu    sync.Mutex
	deferredFuncs = []func(arg unsafe.Pointer){nil}
	deferredDrops = []func(d *Deferred, arg unsafe.Pointer){nil}
)

// RegisterDeferred makes f runnable by deferred callbacks and returns its
// kind. Register each function once, in the same order in every copy of the
// engine (a setup function called once), so that kinds mean the same
// function in all of them.
func RegisterDeferred(f func(arg unsafe.Pointer)) DeferredKind {
	deferredMu.Lock()
	defer deferredMu.Unlock()
	deferredFuncs = append(deferredFuncs, f)
	deferredDrops = append(deferredDrops, nil)
	return DeferredKind(len(deferredFuncs) - 1)
}

// SetDeferredDrop gives kind a function for the case where the base a
// Deferred of that kind is queued on is freed before it runs. libevent
// forgets such a callback, and its owner waits for the run forever; drop
// lets the owner give back what only that run would have released (it may
// free d). It is called without the base's lock.
func SetDeferredDrop(kind DeferredKind, drop func(d *Deferred, arg unsafe.Pointer)) {
	deferredMu.Lock()
	deferredDrops[kind] = drop
	deferredMu.Unlock()
}

// dropOf is the drop function of cb's Deferred, if cb is a queued
// Deferred's callback and its kind has one.
func dropOf(cb *Callback) (*Deferred, func(*Deferred, unsafe.Pointer)) {
	if cb.Closure != ClosureCbSelf || cb.Flags&(ListInit|ListFinalizing) != 0 {
		return nil, nil
	}
	d := (*Deferred)(unsafe.Pointer(cb))
	deferredMu.Lock()
	defer deferredMu.Unlock()
	if int(d.kind) >= len(deferredDrops) {
		return nil, nil
	}
	return d, deferredDrops[d.kind]
}

// NewDeferred returns a deferred callback running the function of kind with
// arg at priority pri, or nil if memory ran out.
func NewDeferred(pri uint8, kind DeferredKind, arg unsafe.Pointer) *Deferred {
	p := mem.Alloc(DeferredSize)
	if p == nil {
		return nil
	}
	return NewDeferredAt(p, pri, kind, arg)
}

// DeferredSize is the size of a Deferred, for owners that allocate it with
// other blocks (mem.AllocMany) and make it with NewDeferredAt.
const DeferredSize = unsafe.Sizeof(Deferred{})

// NewDeferredAt is NewDeferred in p, DeferredSize bytes from core/mem.
func NewDeferredAt(p unsafe.Pointer, pri uint8, kind DeferredKind, arg unsafe.Pointer) *Deferred {
	clear(unsafe.Slice((*byte)(p), DeferredSize))
	d := (*Deferred)(p)
	d.cb.Pri = pri
	d.cb.Closure = ClosureCbSelf
	d.kind = uint32(kind)
	d.arg = arg
	return d
}

func (d *Deferred) run() {
	deferredMu.Lock()
	var fn func(unsafe.Pointer)
	if int(d.kind) < len(deferredFuncs) {
		fn = deferredFuncs[d.kind]
	}
	deferredMu.Unlock()
	if fn != nil {
		fn(d.arg)
	}
}

// SetArg changes the argument d's function gets (only while not scheduled).
func (d *Deferred) SetArg(arg unsafe.Pointer) { d.arg = arg }

// CallbackPtr is d's struct event_callback, as the queues hold it.
func (d *Deferred) CallbackPtr() unsafe.Pointer { return unsafe.Pointer(&d.cb) }

// SetCFunc stores a C function void (*)(struct event_callback *, void *) and
// its argument in d's callback: a C loop running the queue (capi/event.c)
// calls it instead of handing d back to Go. It must do what d's Go function
// does; Go's own loop keeps calling the Go function.
func (d *Deferred) SetCFunc(fn, arg unsafe.Pointer) { d.cb.Fn, d.cb.Arg = fn, arg }

// SetPriority is event_deferred_cb_set_priority_ (only while not scheduled).
func (d *Deferred) SetPriority(pri uint8) { d.cb.Pri = pri }

// Free releases d; it must not be scheduled.
func (d *Deferred) Free() { mem.Free(unsafe.Pointer(d)) }

// FreeInto is Free through batch (released when its owner flushes it).
func (d *Deferred) FreeInto(batch *mem.Batch) { batch.Add(unsafe.Pointer(d)) }

// maxDeferredsQueued bounds how many deferred callbacks one pass of the loop
// runs; more are put off to the next iteration so that a callback storm
// cannot starve I/O (libevent's MAX_DEFERREDS_QUEUED).
const maxDeferredsQueued = 32

// Schedule is event_deferred_cb_schedule_: queue d unless it is queued
// already. Reports whether it was newly queued.
func (b *Base) Schedule(d *Deferred) bool {
	b.lock()
	defer b.unlock()
	if b.hdr.NDeferreds > maxDeferredsQueued {
		return b.activateCallbackLaterLocked(&d.cb) != 0
	}
	r := b.activateCallbackLocked(&d.cb)
	if r != 0 {
		b.hdr.NDeferreds++
	}
	return r != 0
}

// Cancel is event_deferred_cb_cancel_: unqueue d if it is queued.
func (b *Base) Cancel(d *Deferred) {
	b.lock()
	b.cancelCallbackLocked(&d.cb, false)
	b.unlock()
}
