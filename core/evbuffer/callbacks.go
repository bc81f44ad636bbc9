package evbuffer

import (
	"structs"
	"sync"
	"unsafe"

	"goevent/core/mem"
)

// CBInfo is struct evbuffer_cb_info: what changed since callbacks last ran.
type CBInfo struct {
	_ structs.HostLayout
	// OrigSize is the length before the changes being reported.
	OrigSize uintptr
	NAdded   uintptr
	NDeleted uintptr
}

// CBEntry is one registered callback (struct evbuffer_cb_entry *, handed to
// C as an opaque handle). It lives off-heap: a C callback is a function
// pointer, a Go callback a kind (RegisterGoCallback) and an argument.
type CBEntry struct {
	_     structs.HostLayout
	next  *CBEntry
	prev  **CBEntry      // the link pointing at this entry
	fn    unsafe.Pointer // a C function (nil for a Go callback)
	arg   unsafe.Pointer
	flags uint32
	kind  uint32 // a Go callback's GoCallbackKind
}

// Callback flags. The low 16 bits belong to the user (evbuffer_cb_set_flags
// cannot touch the others).
const (
	CBEnabled uint32 = 1 // EVBUFFER_CB_ENABLED
	// CBNoDefer makes a callback run at once even on a buffer whose
	// callbacks are deferred (libevent's internal EVBUFFER_CB_NODEFER, which
	// bufferevents use).
	CBNoDefer       uint32 = 2
	cbInternalFlags uint32 = 0xffff0000
	cbObsolete      uint32 = 0x00040000 // fn is an evbuffer_cb (evbuffer_setcb)
	cbGo            uint32 = 0x00080000 // kind names a Go function, arg its argument
	cbRemoved       uint32 = 0x00100000 // removed while callbacks were running
	cbIdle          uint32 = 0x00200000 // the callback idleFlags speaks for
)

// GoCallback is a callback implemented in Go (a bufferevent's watchers).
type GoCallback func(b *Buffer, info CBInfo, arg unsafe.Pointer)

// GoCallbackKind names a function registered with RegisterGoCallback.
type GoCallbackKind uintptr

// goCallbacks holds the registered functions, indexed by kind. An entry
// names its function by kind and its state by pointer (no Go closure), so
// that a fresh copy of the engine, registering the same functions in the
// same order, runs the callbacks of buffers the previous copy made.
var (
	goCallbacksMu sync.Mutex
	goCallbacks   = []GoCallback{nil}
)

// RegisterGoCallback makes f available to AddGoCallback. Register each
// function once, in the same order in every copy of the engine.
func RegisterGoCallback(f GoCallback) GoCallbackKind {
	goCallbacksMu.Lock()
	defer goCallbacksMu.Unlock()
	goCallbacks = append(goCallbacks, f)
	return GoCallbackKind(len(goCallbacks) - 1)
}

func lookupGo(kind uintptr) GoCallback {
	goCallbacksMu.Lock()
	defer goCallbacksMu.Unlock()
	if kind < uintptr(len(goCallbacks)) {
		return goCallbacks[kind]
	}
	return nil
}

func (e *CBEntry) release() { mem.Free(unsafe.Pointer(e)) }

// Flags reports the entry's user-visible flags.
func (e *CBEntry) Flags() uint32 { return e.flags &^ cbInternalFlags }

// CBEntryFromPointer converts a struct evbuffer_cb_entry * handed over by C.
func CBEntryFromPointer(p unsafe.Pointer) *CBEntry { return (*CBEntry)(p) }

func (b *Buffer) pushCallback(e *CBEntry) {
	e.next = b.callbacks
	if e.next != nil {
		e.next.prev = &e.next
	}
	b.callbacks = e
	e.prev = &b.callbacks
	b.updateSlow()
}

func newEntry() *CBEntry {
	return (*CBEntry)(mem.AllocZeroed(unsafe.Sizeof(CBEntry{})))
}

// AddCB registers a C evbuffer_cb_func (evbuffer_add_cb). Callbacks run
// newest first, as in libevent. It returns nil if memory is exhausted.
func (b *Buffer) AddCB(fn, arg unsafe.Pointer) *CBEntry {
	e := newEntry()
	if e == nil {
		return nil
	}
	e.fn, e.arg, e.flags = fn, arg, CBEnabled
	b.pushCallback(e)
	return e
}

// AddGoCallback registers the Go function of kind to run with arg whenever
// the buffer changes, with the same ordering, flags and deferral rules as C
// callbacks.
func (b *Buffer) AddGoCallback(kind GoCallbackKind, arg unsafe.Pointer) *CBEntry {
	e := newEntry()
	if e == nil {
		return nil
	}
	return b.addGoCallback(e, kind, arg)
}

// CBEntrySize is the size of a callback entry, for owners that allocate
// it with other blocks (mem.AllocMany) and register it with
// AddGoCallbackAt.
const CBEntrySize = unsafe.Sizeof(CBEntry{})

// AddGoCallbackAt is AddGoCallback with the entry made in p, CBEntrySize
// bytes from core/mem, which the buffer then owns.
func (b *Buffer) AddGoCallbackAt(p unsafe.Pointer, kind GoCallbackKind, arg unsafe.Pointer) *CBEntry {
	clear(unsafe.Slice((*byte)(p), CBEntrySize))
	return b.addGoCallback((*CBEntry)(p), kind, arg)
}

func (b *Buffer) addGoCallback(e *CBEntry, kind GoCallbackKind, arg unsafe.Pointer) *CBEntry {
	e.kind = uint32(kind)
	e.arg = arg
	e.flags = CBEnabled | cbGo
	b.pushCallback(e)
	return e
}

// RemoveCBEntry unregisters e (evbuffer_remove_cb_entry); e is invalid
// afterwards.
func (b *Buffer) RemoveCBEntry(e *CBEntry) int {
	if e.flags&cbRemoved != 0 {
		return 0
	}
	if b.cbDepth > 0 {
		// Callbacks are running and may be about to visit e: keep it
		// linked but dead until the outermost run finishes.
		e.flags |= cbRemoved
		return 0
	}
	b.unlinkCallback(e)
	return 0
}

func (b *Buffer) unlinkCallback(e *CBEntry) {
	if e.flags&cbIdle != 0 {
		b.idleFlags, b.idleHook, b.idleArg = nil, nil, nil
	}
	*e.prev = e.next
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.release()
	b.updateSlow()
}

// RemoveCB unregisters the first (newest) C callback registered with fn and
// arg (evbuffer_remove_cb); -1 if there is none.
func (b *Buffer) RemoveCB(fn, arg unsafe.Pointer) int {
	for e := b.callbacks; e != nil; e = e.next {
		if e.flags&(cbGo|cbRemoved) == 0 && e.fn == fn && e.arg == arg {
			return b.RemoveCBEntry(e)
		}
	}
	return -1
}

// CBSetFlags sets user flags on e (evbuffer_cb_set_flags); clearing
// CBEnabled with CBClearFlags suspends a callback.
func (b *Buffer) CBSetFlags(e *CBEntry, flags uint32) int {
	e.flags |= flags &^ cbInternalFlags
	b.updateSlow()
	return 0
}

// CBClearFlags clears user flags on e (evbuffer_cb_clear_flags).
func (b *Buffer) CBClearFlags(e *CBEntry, flags uint32) int {
	e.flags &^= flags &^ cbInternalFlags
	b.updateSlow()
	return 0
}

func (b *Buffer) removeAllCallbacks() {
	for e := b.callbacks; e != nil; {
		next := e.next
		if b.cbDepth > 0 {
			e.flags |= cbRemoved
		} else {
			b.unlinkCallback(e)
		}
		e = next
	}
}

// SetCB is buffer_compat.h's evbuffer_setcb: it removes every callback (also
// those added with AddCB, as libevent does) and, if fn is not nil, registers
// fn as an old-style callback told the old and new lengths.
func (b *Buffer) SetCB(fn, arg unsafe.Pointer) int {
	b.removeAllCallbacks()
	if fn != nil {
		e := b.AddCB(nil, arg)
		if e == nil {
			return -1
		}
		e.fn = fn
		e.flags |= cbObsolete
	}
	return 0
}

// DeferCallbacks makes the buffer's callbacks run from the event loop of
// base instead of inside the call that changed the buffer
// (evbuffer_defer_callbacks). Counts accumulate until the deferred run;
// callbacks flagged CBNoDefer still run immediately.
func (b *Buffer) DeferCallbacks(base uintptr) int {
	b.cbQueue = base
	b.state |= stDeferred
	b.updateSlow()
	return 0
}

// SetIdleWhileInserted declares that e, one of b's callbacks, does nothing
// whenever the event whose evcb_flags field (a uint16 in C memory that
// outlives e) is at evFlags is inserted: the C fast paths may then change b
// without running it (see updateSlow). Callers guarantee that only code
// holding b's lock deletes that event.
//
// hook and arg (may be nil) are a C function and its argument that do what
// e would do after an addition while the event is not inserted; with them
// the C fast paths may add to the end at any time (see Buffer.idleHook).
func (b *Buffer) SetIdleWhileInserted(e *CBEntry, evFlags, hook, arg unsafe.Pointer) {
	for x := b.callbacks; x != nil; x = x.next {
		x.flags &^= cbIdle
	}
	e.flags |= cbIdle
	b.idleFlags, b.idleHook, b.idleArg = evFlags, hook, arg
	b.updateSlow()
}

func (b *Buffer) deferring() bool {
	return b.state&stDeferred != 0 && ScheduleDeferred != nil
}

// invokeCallbacks reports accumulated changes: immediately, or by queueing
// a deferred run (plus the immediate run of no-defer callbacks).
func (b *Buffer) invokeCallbacks() {
	if b.callbacks == nil {
		b.nAddForCB, b.nDelForCB = 0, 0
		return
	}
	if b.deferring() && b.state&stScheduled == 0 {
		// The queued run holds a reference on the buffer (and on its
		// bufferevent) so that it outlives a free in between.
		b.state |= stScheduled
		b.refcnt++
		if b.parent != 0 && ParentIncref != nil {
			ParentIncref(b.parent)
		}
		ScheduleDeferred(b.cbQueue, b)
	}
	b.runCallbacks(false)
}

// RunDeferredCallbacks is the deferred run queued through ScheduleDeferred;
// the event loop calls it. It takes the buffer's lock and drops the
// reference taken when it was queued, which may free the buffer.
func (b *Buffer) RunDeferredCallbacks() {
	b.Lock()
	b.state &^= stScheduled
	parent := b.parent
	b.runCallbacks(true)
	b.decrefAndUnlock()
	if parent != 0 && ParentDecref != nil {
		ParentDecref(parent)
	}
}

func (b *Buffer) runCallbacks(runningDeferred bool) {
	mask, want := CBEnabled, CBEnabled
	clearCounts := true
	switch {
	case runningDeferred:
		mask = CBNoDefer | CBEnabled
	case b.deferring():
		// Only the no-defer callbacks now; the deferred run reports the
		// same changes again, so keep the counts.
		mask, want = CBNoDefer|CBEnabled, CBNoDefer|CBEnabled
		clearCounts = false
	}
	if b.callbacks == nil {
		b.nAddForCB, b.nDelForCB = 0, 0
		return
	}
	if b.nAddForCB == 0 && b.nDelForCB == 0 {
		return
	}
	newSize := b.totalLen
	info := CBInfo{
		OrigSize: newSize + b.nDelForCB - b.nAddForCB,
		NAdded:   b.nAddForCB,
		NDeleted: b.nDelForCB,
	}
	if clearCounts {
		b.nAddForCB, b.nDelForCB = 0, 0
	}
	b.cbDepth++
	for e := b.callbacks; e != nil; e = e.next {
		if e.flags&cbRemoved != 0 || e.flags&mask != want {
			continue
		}
		switch {
		case e.flags&cbGo != 0:
			if f := lookupGo(uintptr(e.kind)); f != nil {
				f(b, info, e.arg)
			}
		case e.fn == nil:
			// evbuffer_add_cb(buf, NULL, arg): libevent would crash here.
		case e.flags&cbObsolete != 0:
			if CallObsoleteCB != nil {
				CallObsoleteCB(e.fn, b, info.OrigSize, newSize, e.arg)
			}
		default:
			if CallCB != nil {
				CallCB(e.fn, b, info, e.arg)
			}
		}
	}
	b.cbDepth--
	if b.cbDepth == 0 {
		b.sweepRemoved()
	}
}

// SweepRemoved unlinks the callbacks removed while a list run by C was
// running (capi/buffer.c calls it once the outermost run ends).
func (b *Buffer) SweepRemoved() {
	if b.cbDepth == 0 {
		b.sweepRemoved()
	}
}

func (b *Buffer) sweepRemoved() {
	for e := b.callbacks; e != nil; {
		next := e.next
		if e.flags&cbRemoved != 0 {
			b.unlinkCallback(e)
		}
		e = next
	}
}
