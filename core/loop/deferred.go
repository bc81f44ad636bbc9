package loop

import (
	"sync"
	"unsafe"

	"goevent/core/mem"
)

// Deferred is a Go function queued on a base's active queues, libevent's
// deferred callback (event_deferred_cb_*): it runs from the loop, after the
// callback that scheduled it returns, in priority order with events. It lives
// off-heap because it is linked into the same queues as C events; Free
// releases it.
//
// Contract: Schedule, Cancel and SetPriority may be called from any thread
// for a lockable base; Free only once the Deferred is neither scheduled nor
// running.
type Deferred struct {
	cb Callback // must stay first: the queues hold &d.cb
	id uint64   // index into deferredFuncs
}

var (
	deferredMu    sync.Mutex
	deferredFuncs = []func(){nil}
	deferredFree  []uint64
	// deferredDrops holds OnDrop's functions by the Deferred's address.
	deferredDrops = map[uintptr]func(){}
)

// NewDeferred returns a deferred callback running fn at priority pri, or nil
// if memory ran out.
func NewDeferred(pri uint8, fn func()) *Deferred {
	d := (*Deferred)(mem.AllocZeroed(unsafe.Sizeof(Deferred{})))
	if d == nil {
		return nil
	}
	d.cb.Pri = pri
	d.cb.Closure = ClosureCbSelf
	deferredMu.Lock()
	if n := len(deferredFree); n > 0 {
		d.id = deferredFree[n-1]
		deferredFree = deferredFree[:n-1]
		deferredFuncs[d.id] = fn
	} else {
		d.id = uint64(len(deferredFuncs))
		deferredFuncs = append(deferredFuncs, fn)
	}
	deferredMu.Unlock()
	return d
}

func (d *Deferred) run() {
	deferredMu.Lock()
	fn := deferredFuncs[d.id]
	deferredMu.Unlock()
	if fn != nil {
		fn()
	}
}

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
func (d *Deferred) Free() {
	deferredMu.Lock()
	deferredFuncs[d.id] = nil
	deferredFree = append(deferredFree, d.id)
	delete(deferredDrops, uintptr(unsafe.Pointer(d)))
	deferredMu.Unlock()
	mem.Free(unsafe.Pointer(d))
}

// OnDrop sets what happens when the base d is queued on is freed before d
// runs: libevent silently forgets such a callback, so whoever owns d (and
// would otherwise wait for its run forever) hears of it through fn, called
// once, without the base's lock; fn may free d. Without OnDrop nothing is
// called.
func (d *Deferred) OnDrop(fn func()) {
	deferredMu.Lock()
	deferredDrops[uintptr(unsafe.Pointer(d))] = fn
	deferredMu.Unlock()
}

// dropFor is the OnDrop function of the Deferred whose callback is cb, if
// cb is one and has one.
func dropFor(cb *Callback) func() {
	deferredMu.Lock()
	fn := deferredDrops[uintptr(unsafe.Pointer(cb))]
	deferredMu.Unlock()
	return fn
}

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
