package bufferevent

import (
	"math"
	"unsafe"

	"goevent/core/loop"
	"goevent/core/mem"
)

// Ops is the kind-specific half of a bufferevent (libevent's struct
// bufferevent_ops). Every method runs with the bufferevent locked.
type Ops interface {
	// Kind names the implementation ("socket", "pair", "filter").
	Kind() string
	// Enable starts reading and/or writing (what is EvRead|EvWrite); the
	// core has already updated the enabled flags and skipped suspended
	// directions.
	Enable(b *BEV, what int16) int
	// Disable stops reading and/or writing.
	Disable(b *BEV, what int16) int
	// Unlink cuts ties to other objects when the last reference goes
	// (before finalization); may do nothing.
	Unlink(b *BEV)
	// Destruct releases the kind's resources (closes the fd under
	// BEV_OPT_CLOSE_ON_FREE), from the loop's finalizer.
	Destruct(b *BEV)
	// AdjTimeouts re-applies timeout_read/timeout_write after they changed.
	AdjTimeouts(b *BEV) int
	// Flush is bufferevent_flush; -1 when unsupported.
	Flush(b *BEV, iotype int16, mode int) int
	// Ctrl is bufferevent's ctrl hook; -1 when op is unsupported.
	Ctrl(b *BEV, op int, d *CtrlData) int
}

// BEV is the rest of one bufferevent's state, in the same off-heap block as
// its Header, right after it (FromPointer). It holds no Go pointer: kinds,
// watchers and the deferred callback are named by kind and pointer, so that
// a fresh copy of the engine can carry on with it. Its fields are guarded by
// the bufferevent's lock (when it has one) or by the event loop's thread.
type BEV struct {
	h *Header

	connectionRefused bool
	ownLock           bool
	finalizing        bool
	dnsError          int32

	deferred unsafe.Pointer // the deferred callback (Env.Loop.NewDeferred)
	wmWatch  unsafe.Pointer // input high-watermark watcher, nil until a high mark is set

	// Kind-specific state, one kind's at a time (sockPart, pairPart,
	// filtPart).
	kind [kindStateWords]uint64

	// rlim is the rate-limiting state (ratelim.go, off-heap), nil until
	// a limit or a group is set.
	rlim *rateLimit
}

// Header returns the C-visible struct bufferevent.
func (b *BEV) Header() *Header { return b.h }

// Pointer is the struct bufferevent * handed to C.
func (b *BEV) Pointer() unsafe.Pointer { return unsafe.Pointer(b.h) }

// in and out are the bufferevent's buffers.
func (b *BEV) in() Buf  { return env.Buf(b.h.Input) }
func (b *BEV) out() Buf { return env.Buf(b.h.Output) }

// Input and Output are the bufferevent's buffers.
func (b *BEV) Input() Buf  { return b.in() }
func (b *BEV) Output() Buf { return b.out() }

// ops returns the kind's implementation.
func (b *BEV) ops() Ops {
	switch b.h.Kind {
	case kindSocket:
		return socketOps{}
	case kindPair:
		return pairOps{}
	default:
		return filterOps{}
	}
}

// ctrl is the kind's Ctrl called on its concrete type, so that d may stay
// on the caller's stack (through the interface it would escape).
func (b *BEV) ctrl(op int, d *CtrlData) int {
	switch b.h.Kind {
	case kindSocket:
		return socketOps{}.Ctrl(b, op, d)
	case kindPair:
		return pairOps{}.Ctrl(b, op, d)
	default:
		return filterOps{}.Ctrl(b, op, d)
	}
}

// Ops returns the kind-specific implementation.
func (b *BEV) Ops() Ops { return b.ops() }

// options returns the BEV_OPT_* flags the bufferevent was made with.
func (b *BEV) options() int { return int(b.h.Options) }

// Options returns the BEV_OPT_* flags the bufferevent was made with.
func (b *BEV) Options() int { return b.options() }

// kindStateWords is the room for the largest kind's state.
const kindStateWords = 7

// The largest kind state must fit (a negative array length otherwise).
var _ [kindStateWords*8 - unsafe.Sizeof(filterState{})]byte
var _ [kindStateWords*8 - unsafe.Sizeof(pairState{})]byte

func (b *BEV) sockPart() *sockState   { return (*sockState)(unsafe.Pointer(&b.kind)) }
func (b *BEV) pairPart() *pairState   { return (*pairState)(unsafe.Pointer(&b.kind)) }
func (b *BEV) filtPart() *filterState { return (*filterState)(unsafe.Pointer(&b.kind)) }

// def is the deferred callback.
func (b *BEV) def() Deferred { return env.Loop.Deferred(b.deferred) }

// ---- locking ------------------------------------------------------------

// Lock and Unlock are BEV_LOCK/BEV_UNLOCK: they do nothing without a lock.
func (b *BEV) Lock() {
	if lk := b.h.Lock; lk != nil {
		env.Lock(lk)
	}
}

func (b *BEV) Unlock() {
	if lk := b.h.Lock; lk != nil {
		env.Unlock(lk)
	}
}

// IncrefAndLock takes the lock and a reference (bufferevent_lock, and what
// every loop-driven entry point does first).
func (b *BEV) IncrefAndLock() {
	b.Lock()
	b.h.Refcnt++
}

// Incref adds a reference; the caller holds the lock.
func (b *BEV) Incref() { b.h.Refcnt++ }

// DecrefAndUnlock drops a reference and the lock. The last reference starts
// the free: the kind unlinks, every callback of the bufferevent is
// cancelled, and the memory goes from the loop's finalizer, as libevent
// does (so a bufferevent freed inside its own callback stays valid until
// that callback has returned). Reports whether this was the last reference.
func (b *BEV) DecrefAndUnlock() bool {
	if b.h.Refcnt <= 0 {
		warn("bufferevent: reference count underflow")
		b.Unlock()
		return false
	}
	b.h.Refcnt--
	if b.h.Refcnt > 0 {
		b.Unlock()
		return false
	}
	b.lastRefAndUnlock()
	return true
}

// LastRef starts the free of a bufferevent whose reference count C has
// just dropped to zero (capi's I/O handlers keep the count themselves).
func (b *BEV) LastRef() {
	b.Lock()
	b.lastRefAndUnlock()
}

func (b *BEV) lastRefAndUnlock() {
	b.ops().Unlink(b)
	b.finalizing = true
	b.h.Flags |= FlagFinalizing
	b.def().Cancel(b.loopBase())
	if b.h.EvRead.Base == nil {
		// Never attached to any loop: no callback of it can be running.
		b.Unlock()
		finalizeCB(-1, loop.EvFinalize, unsafe.Pointer(b.h))
		return
	}
	fn := fnFinalize
	if b.h.Kind == kindSocket && env.SockFinalizeFn != nil {
		fn = env.SockFinalizeFn
	}
	env.Loop.Finalize(&b.h.EvRead, &b.h.EvWrite, fn, unsafe.Pointer(b.h))
	b.Unlock()
}

// Finalize is the finalizer for a bufferevent whose Env.SockFinalizeFn
// hands it back (whatever that C finalizer does not do itself).
func Finalize(h unsafe.Pointer) { finalizeCB(-1, loop.EvFinalize, h) }

// finalizeCB is the loop's finalizer: the bufferevent is gone from every
// queue, so its resources can go.
func finalizeCB(_ int32, _ int16, arg unsafe.Pointer) {
	b := FromPointer(arg)
	if b == nil {
		return
	}
	var batch mem.Batch
	b.Lock()
	b.ops().Destruct(b)
	b.rlimRelease()
	b.freeParts(&batch)
	b.Unlock()
	b.freeBlock(&batch)
}

// freeParts frees the buffers and the deferred callback newCommon made,
// through batch (one call of the allocator for all of a bufferevent's
// blocks, see mem.Batch).
func (b *BEV) freeParts(batch *mem.Batch) {
	*batch = b.in().FreeInto(*batch)
	*batch = b.out().FreeInto(*batch)
	*batch = b.def().FreeInto(*batch)
}

// freeBlock frees the bufferevent's block and, if it made one, its lock,
// and flushes batch; nothing of b may be used afterwards.
func (b *BEV) freeBlock(batch *mem.Batch) {
	lk, own := b.h.Lock, b.ownLock
	b.h.Magic = 0
	live.Add(-1)
	batch.Add(unsafe.Pointer(b.h))
	batch.Flush()
	if own && env.FreeLock != nil {
		env.FreeLock(lk)
	}
}

// bevSize is what one bufferevent's block holds: the header, then BEV.
var bevSize = HeaderSize + unsafe.Sizeof(BEV{})

// ---- construction -------------------------------------------------------

// newCommon is bufferevent_init_common_: buffers, references, options,
// lock and the deferred callback. The caller assigns ev_read/ev_write.
func newCommon(base unsafe.Pointer, kind uint32, options int) *BEV {
	b, _ := newCommonWatch(base, kind, options, false)
	return b
}

// newCommonWatch is newCommon that, with watch, also hands back memory for
// one buffer watcher (Env.WatchSize bytes, allocated with the rest; nil
// when the Env cannot place watchers: then Buf.Watch allocates its own).
// The caller must register it (WatchAtBuf) or the bufferevent would leak
// it.
func newCommonWatch(base unsafe.Pointer, kind uint32, options int, watch bool) (*BEV, unsafe.Pointer) {
	if options&(OptDeferCallbacks|OptUnlockCallbacks) == OptUnlockCallbacks {
		warn("UNLOCK_CALLBACKS requires DEFER_CALLBACKS")
		return nil, nil
	}
	pri := env.Loop.NPriorities(base) / 2
	p, in, out, def, spare := allocParts(pri, watch)
	if p == nil {
		return nil, nil
	}
	live.Add(1)
	clear(unsafe.Slice((*byte)(p), bevSize))
	h := (*Header)(p)
	b := (*BEV)(unsafe.Add(p, HeaderSize))
	b.h = h
	b.deferred = def
	h.Kind = kind
	h.Refcnt = 1
	h.MaxRead, h.MaxWrite = maxSingleReadDefault, maxSingleWriteDefault
	h.Input = in.Pointer()
	h.Output = out.Pointer()
	h.EvBase = base
	// Writing is enabled from the start: data written to a new
	// bufferevent goes out without an explicit enable, as in libevent.
	h.Enabled = EvWrite
	h.Options = int32(options)
	if options&OptThreadsafe != 0 {
		// Without evthread lock callbacks there is no lock to give, and
		// libevent refuses to make a thread-safe bufferevent then.
		var lk unsafe.Pointer
		if env.AllocLock != nil {
			lk = env.AllocLock()
		}
		if lk == nil {
			if spare != nil {
				mem.Free(spare)
			}
			b.discard()
			return nil, nil
		}
		h.Lock = lk
		b.ownLock = true
		in.EnableLocking(lk)
		out.EnableLocking(lk)
	}
	if env.DeferredFn != nil {
		b.def().SetCallback(env.DeferredFn, p)
	}
	h.DeferredCb = b.def().CallbackPtr()
	in.SetParent(uintptr(p))
	out.SetParent(uintptr(p))
	h.Magic = bevMagic
	return b, spare
}

// allocParts allocates a bufferevent's block, its two buffers and its
// deferred callback (priority pri), and with watch room for one buffer
// watcher when the Env can place one (spare): all of them or none (p nil).
// With the Env's in-place constructors the blocks come from one call of
// the allocator (one crossing into C instead of one per block, see
// mem.AllocMany).
func allocParts(pri int, watch bool) (p unsafe.Pointer, in, out Buf, def, spare unsafe.Pointer) {
	if env.NewBufAt != nil && env.NewDeferredAt != nil {
		var blocks [mem.BatchMax]unsafe.Pointer
		var ok bool
		if watch && env.WatchSize != 0 {
			blocks, ok = mem.AllocMany(bevSize, env.BufSize, env.BufSize, env.DeferredSize, env.WatchSize)
		} else {
			blocks, ok = mem.AllocMany(bevSize, env.BufSize, env.BufSize, env.DeferredSize)
		}
		if !ok {
			return nil, nil, nil, nil, nil
		}
		return blocks[0], env.NewBufAt(blocks[1]), env.NewBufAt(blocks[2]),
			env.NewDeferredAt(blocks[3], pri, deferredKind, blocks[0]), blocks[4]
	}
	if p = env.AllocHeader(bevSize); p == nil {
		return nil, nil, nil, nil, nil
	}
	in, out = env.NewBuf(), env.NewBuf()
	if in != nil && out != nil {
		def = env.Loop.NewDeferred(pri, deferredKind, p)
	}
	if def == nil {
		if in != nil {
			in.Free()
		}
		if out != nil {
			out.Free()
		}
		env.FreeHeader(p)
		return nil, nil, nil, nil, nil
	}
	return p, in, out, def, nil
}

// discard undoes newCommon for a bufferevent whose construction failed
// later (out of memory): nothing of it was handed out and none of its
// events was added, and its ops' Unlink and Destruct, which act on the
// caller's fd or underlying bufferevent, must not run: libevent's
// constructors return NULL and leave those alone.
func (b *BEV) discard() {
	var batch mem.Batch
	b.freeParts(&batch)
	b.freeBlock(&batch)
}

// ---- callbacks ----------------------------------------------------------

func (b *BEV) callRead() {
	env.CallData(b.h.ReadCB, unsafe.Pointer(b.h), b.h.CBArg)
}

func (b *BEV) callWrite() {
	env.CallData(b.h.WriteCB, unsafe.Pointer(b.h), b.h.CBArg)
}

func (b *BEV) callEvent(what int16, errno int32) {
	env.CallEvent(b.h.ErrorCB, unsafe.Pointer(b.h), what, b.h.CBArg, errno)
}

// loopBase is the base the bufferevent's callbacks run on: its own, or for
// the compat constructor (no base) the one its events were assigned to.
func (b *BEV) loopBase() unsafe.Pointer {
	if b.h.EvBase != nil {
		return b.h.EvBase
	}
	return b.h.EvRead.Base
}

func (b *BEV) scheduleDeferred() {
	if b.def().Schedule(b.loopBase()) {
		b.h.Refcnt++
	}
}

// RunReadCB is bufferevent_run_readcb_: the caller holds the lock and a
// reference.
func (b *BEV) RunReadCB(options int) {
	if b.h.ReadCB == nil {
		return
	}
	if (b.options()|options)&OptDeferCallbacks != 0 {
		b.h.ReadcbPending = true
		b.scheduleDeferred()
		return
	}
	b.callRead()
	b.inbufWMCheck()
}

// RunWriteCB is bufferevent_run_writecb_.
func (b *BEV) RunWriteCB(options int) {
	if b.h.WriteCB == nil {
		return
	}
	if (b.options()|options)&OptDeferCallbacks != 0 {
		b.h.WritecbPending = true
		b.scheduleDeferred()
		return
	}
	b.callWrite()
}

// RunEventCB is bufferevent_run_eventcb_. errno is what the callback should
// find in errno (negative: whatever is there when it is called now, or the
// calling thread's errno when the call is deferred).
func (b *BEV) RunEventCB(what int16, options int, errno int32) {
	if b.h.ErrorCB == nil {
		return
	}
	if (b.options()|options)&OptDeferCallbacks != 0 {
		// The deferred run sets errno to what it is now, as libevent
		// does, also when the caller left it to whatever is there.
		if errno < 0 && env.Errno != nil {
			errno = env.Errno()
		}
		b.h.EventcbPending |= what
		b.h.ErrnoPending = errno
		b.scheduleDeferred()
		return
	}
	b.callEvent(what, errno)
}

// TriggerNolock is bufferevent_trigger_nolock_: run the read and/or write
// callback if the watermarks allow (or are ignored).
func (b *BEV) TriggerNolock(iotype int16, options int) {
	if iotype&EvRead != 0 && (options&TrigIgnoreWatermarks != 0 ||
		uintptr(b.in().Len()) >= b.h.WmRead.Low) {
		b.RunReadCB(options)
	}
	if iotype&EvWrite != 0 && (options&TrigIgnoreWatermarks != 0 ||
		uintptr(b.out().Len()) <= b.h.WmWrite.Low) {
		b.RunWriteCB(options)
	}
}

// Trigger is bufferevent_trigger; the caller holds no lock.
func (b *BEV) Trigger(iotype int16, options int) {
	b.IncrefAndLock()
	b.TriggerNolock(iotype, options&trigAllOpts)
	b.DecrefAndUnlock()
}

// TriggerEvent is bufferevent_trigger_event; errno is the caller's errno.
func (b *BEV) TriggerEvent(what int16, options int, errno int32) {
	b.IncrefAndLock()
	b.RunEventCB(what, options&trigAllOpts, errno)
	b.DecrefAndUnlock()
}

// inbufWMCheck re-runs the read callback (deferred) when it left the input
// at or above the high watermark while reading is enabled: otherwise,
// with reading suspended, nothing would ever call it again.
func (b *BEV) inbufWMCheck() {
	if b.h.WmRead.High == 0 || b.h.Enabled&EvRead == 0 {
		return
	}
	if uintptr(b.in().Len()) < b.h.WmRead.High {
		return
	}
	b.Trigger(EvRead, OptDeferCallbacks)
}

// ScheduleDeferred is scheduleDeferred for capi, which holds no lock.
func (b *BEV) ScheduleDeferred() {
	b.Lock()
	b.scheduleDeferred()
	b.Unlock()
}

// runDeferredCB is the deferred callback's function; arg is the header.
func runDeferredCB(arg unsafe.Pointer) {
	if b := FromPointer(arg); b != nil {
		b.runDeferred()
	}
}

// runDeferred runs the callbacks queued while BEV_OPT_DEFER_CALLBACKS (or a
// deferred trigger) was in effect, in libevent's order: connected first,
// then read, write, and the remaining events.
func (b *BEV) runDeferred() {
	b.Lock()
	unlocked := b.options()&OptUnlockCallbacks != 0
	call := func(f func()) {
		if unlocked {
			b.Unlock()
			f()
			b.Lock()
		} else {
			f()
		}
	}
	h := b.h
	if b.h.EventcbPending&EventConnected != 0 && h.ErrorCB != nil {
		b.h.EventcbPending &^= EventConnected
		fn, a := h.ErrorCB, h.CBArg
		call(func() { env.CallEvent(fn, unsafe.Pointer(h), EventConnected, a, -1) })
	}
	if b.h.ReadcbPending && h.ReadCB != nil {
		b.h.ReadcbPending = false
		fn, a := h.ReadCB, h.CBArg
		call(func() { env.CallData(fn, unsafe.Pointer(h), a) })
		b.inbufWMCheck()
	}
	if b.h.WritecbPending && h.WriteCB != nil {
		b.h.WritecbPending = false
		fn, a := h.WriteCB, h.CBArg
		call(func() { env.CallData(fn, unsafe.Pointer(h), a) })
	}
	if b.h.EventcbPending != 0 && h.ErrorCB != nil {
		what, e := b.h.EventcbPending, b.h.ErrnoPending
		b.h.EventcbPending, b.h.ErrnoPending = 0, 0
		fn, a := h.ErrorCB, h.CBArg
		call(func() { env.CallEvent(fn, unsafe.Pointer(h), what, a, e) })
	}
	b.DecrefAndUnlock()
}

// ---- enable, disable, suspend -----------------------------------------

// Enable is bufferevent_enable.
func (b *BEV) Enable(what int16) int {
	b.IncrefAndLock()
	impl := what
	if b.h.ReadSuspended != 0 {
		impl &^= EvRead
	}
	if b.h.WriteSuspended != 0 {
		impl &^= EvWrite
	}
	b.h.Enabled |= what
	r := 0
	if impl != 0 && b.ops().Enable(b, impl) < 0 {
		r = -1
	}
	b.DecrefAndUnlock()
	return r
}

// Disable is bufferevent_disable.
func (b *BEV) Disable(what int16) int {
	b.Lock()
	b.h.Enabled &^= what
	r := 0
	if b.ops().Disable(b, what) < 0 {
		r = -1
	}
	b.Unlock()
	return r
}

// DisableHard is bufferevent_disable_hard_: also forgets a connect in
// progress.
func (b *BEV) DisableHard(what int16) int {
	b.Lock()
	b.h.Enabled &^= what
	b.setConnecting(false)
	r := 0
	if b.ops().Disable(b, what) < 0 {
		r = -1
	}
	b.Unlock()
	return r
}

// SuspendRead holds reading off for reason without touching enabled.
func (b *BEV) SuspendRead(reason uint16) { b.suspend(EvRead, &b.h.ReadSuspended, reason) }

// UnsuspendRead lifts reason; reading restarts if nothing else holds it.
func (b *BEV) UnsuspendRead(reason uint16) { b.unsuspend(EvRead, &b.h.ReadSuspended, reason) }

// SuspendWrite and UnsuspendWrite are the writing counterparts.
func (b *BEV) SuspendWrite(reason uint16) { b.suspend(EvWrite, &b.h.WriteSuspended, reason) }

func (b *BEV) UnsuspendWrite(reason uint16) {
	b.unsuspend(EvWrite, &b.h.WriteSuspended, reason)
}

// suspend adds reason to the direction's suspensions (susp), stopping it
// when it was running; unsuspend lifts reason and restarts the direction
// when nothing else holds it and the user enabled it (libevent's
// bufferevent_suspend_*_ and bufferevent_unsuspend_*_).
func (b *BEV) suspend(dir int16, susp *uint16, reason uint16) {
	b.Lock()
	if *susp == 0 {
		b.ops().Disable(b, dir)
	}
	*susp |= reason
	b.Unlock()
}

func (b *BEV) unsuspend(dir int16, susp *uint16, reason uint16) {
	b.Lock()
	*susp &^= reason
	if *susp == 0 && b.h.Enabled&dir != 0 {
		b.ops().Enable(b, dir)
	}
	b.Unlock()
}

// ReadSuspended and WriteSuspended report the suspension reasons.
func (b *BEV) ReadSuspended() uint16  { return b.h.ReadSuspended }
func (b *BEV) WriteSuspended() uint16 { return b.h.WriteSuspended }

// ---- watermarks ---------------------------------------------------------

// SetWatermark is bufferevent_setwatermark.
func (b *BEV) SetWatermark(events int16, low, high uintptr) {
	b.Lock()
	if events&EvWrite != 0 {
		b.h.WmWrite.Low, b.h.WmWrite.High = low, high
	}
	if events&EvRead != 0 {
		b.h.WmRead.Low, b.h.WmRead.High = low, high
		if high != 0 {
			in := b.in()
			if b.wmWatch == nil {
				b.wmWatch = in.Watch(watchInWM, unsafe.Pointer(b.h), true)
				if iw, ok := in.(IdleWatchBuf); ok && b.wmWatch != nil {
					iw.WMWatch(b.wmWatch, unsafe.Pointer(b.h))
				}
			}
			if b.wmWatch != nil {
				in.SetWatchEnabled(b.wmWatch, true)
			}
			if uintptr(in.Len()) >= high {
				b.SuspendRead(SuspendWM)
			} else {
				b.UnsuspendRead(SuspendWM)
			}
		} else {
			if b.wmWatch != nil {
				b.in().SetWatchEnabled(b.wmWatch, false)
			}
			b.UnsuspendRead(SuspendWM)
		}
	}
	b.Unlock()
}

// inWMWatch is the input's high-watermark watcher (arg: the header).
func inWMWatch(arg unsafe.Pointer, _, _, _ int) {
	if b := FromPointer(arg); b != nil {
		b.inbufWMChanged()
	}
}

// inbufWMChanged follows the input's length against the high watermark:
// reading stops at the mark and resumes as soon as the user drains below it,
// wherever the drain happens.
func (b *BEV) inbufWMChanged() {
	if uintptr(b.in().Len()) >= b.h.WmRead.High {
		b.SuspendRead(SuspendWM)
	} else {
		b.UnsuspendRead(SuspendWM)
	}
}

// ---- timeouts -----------------------------------------------------------

// SetTimeouts is bufferevent_set_timeouts (nil clears).
func (b *BEV) SetTimeouts(rd, wr *loop.Timeval) int {
	b.Lock()
	if rd != nil {
		b.h.TimeoutRead = *rd
	} else {
		b.h.TimeoutRead = loop.Timeval{}
	}
	if wr != nil {
		b.h.TimeoutWrite = *wr
	} else {
		b.h.TimeoutWrite = loop.Timeval{}
	}
	r := b.ops().AdjTimeouts(b)
	b.Unlock()
	return r
}

func tvSet(t loop.Timeval) bool { return t.Sec != 0 || t.Usec != 0 }

// addEvent is bufferevent_add_event_: a zero timeout means none.
func addEvent(ev *loop.Event, tv *loop.Timeval) int {
	if !tvSet(*tv) {
		return env.Loop.Add(ev, nil)
	}
	return env.Loop.Add(ev, tv)
}

// AdjExistingTimeouts is libevent's generic_adj_existing_timeouts_: events
// that are pending get the new timeout (or lose theirs).
func (b *BEV) AdjExistingTimeouts() int {
	r := 0
	h := b.h
	if env.Loop.Pending(&h.EvRead, EvRead) {
		if tvSet(h.TimeoutRead) {
			if addEvent(&h.EvRead, &h.TimeoutRead) < 0 {
				r = -1
			}
		} else {
			env.Loop.RemoveTimer(&h.EvRead)
		}
	}
	if env.Loop.Pending(&h.EvWrite, EvWrite) {
		if tvSet(h.TimeoutWrite) {
			if addEvent(&h.EvWrite, &h.TimeoutWrite) < 0 {
				r = -1
			}
		} else {
			env.Loop.RemoveTimer(&h.EvWrite)
		}
	}
	return r
}

// InitGenericTimeouts points ev_read/ev_write at timeout-only callbacks,
// for kinds that do not use the events for I/O (pair, filter).
func (b *BEV) InitGenericTimeouts() {
	h := b.h
	env.Loop.Assign(&h.EvRead, h.EvBase, -1, loop.EvFinalize, fnTimeoutRead, unsafe.Pointer(h))
	env.Loop.Assign(&h.EvWrite, h.EvBase, -1, loop.EvFinalize, fnTimeoutWrt, unsafe.Pointer(h))
}

// AdjGenericTimeouts is generic_adj_timeouts_ for those kinds.
func (b *BEV) AdjGenericTimeouts() int {
	h := b.h
	var r1, r2 int
	if h.Enabled&EvRead != 0 && b.h.ReadSuspended == 0 && tvSet(h.TimeoutRead) {
		r1 = env.Loop.Add(&h.EvRead, &h.TimeoutRead)
	} else {
		r1 = env.Loop.Del(&h.EvRead)
	}
	if h.Enabled&EvWrite != 0 && b.h.WriteSuspended == 0 && tvSet(h.TimeoutWrite) &&
		b.out().Len() > 0 {
		r2 = env.Loop.Add(&h.EvWrite, &h.TimeoutWrite)
	} else {
		r2 = env.Loop.Del(&h.EvWrite)
	}
	if r1 < 0 || r2 < 0 {
		return -1
	}
	return 0
}

func genericReadTimeoutCB(_ int32, _ int16, arg unsafe.Pointer) {
	b := FromPointer(arg)
	if b == nil {
		return
	}
	b.IncrefAndLock()
	b.Disable(EvRead)
	b.RunEventCB(EventTimeout|EventReading, 0, -1)
	b.DecrefAndUnlock()
}

func genericWriteTimeoutCB(_ int32, _ int16, arg unsafe.Pointer) {
	b := FromPointer(arg)
	if b == nil {
		return
	}
	b.IncrefAndLock()
	b.Disable(EvWrite)
	b.RunEventCB(EventTimeout|EventWriting, 0, -1)
	b.DecrefAndUnlock()
}

// ---- the rest of the public surface -------------------------------------

// Free is bufferevent_free: callbacks cleared, pending work cancelled, the
// caller's reference dropped.
func (b *BEV) Free() {
	b.Lock()
	b.h.ReadCB, b.h.WriteCB, b.h.ErrorCB, b.h.CBArg = nil, nil, nil, nil
	var d CtrlData
	b.ctrl(CtrlCancelAll, &d)
	b.DecrefAndUnlock()
}

// Decref is bufferevent_decref: 1 when this freed the bufferevent.
func (b *BEV) Decref() int {
	b.Lock()
	if b.DecrefAndUnlock() {
		return 1
	}
	return 0
}

// IncrefLocked is bufferevent_incref.
func (b *BEV) IncrefLocked() {
	b.Lock()
	b.h.Refcnt++
	b.Unlock()
}

// Flush is bufferevent_flush.
func (b *BEV) Flush(iotype int16, mode int) int {
	b.Lock()
	r := b.ops().Flush(b, iotype, mode)
	b.Unlock()
	return r
}

// SetFd is bufferevent_setfd.
func (b *BEV) SetFd(fd int) int {
	b.Lock()
	d := CtrlData{Fd: fd}
	r := b.ctrl(CtrlSetFD, &d)
	b.Unlock()
	return r
}

// GetFd is bufferevent_getfd.
func (b *BEV) GetFd() int {
	b.Lock()
	d := CtrlData{Fd: -1}
	r := b.ctrl(CtrlGetFD, &d)
	b.Unlock()
	if r < 0 {
		return -1
	}
	return d.Fd
}

// Underlying is bufferevent_get_underlying.
func (b *BEV) Underlying() unsafe.Pointer {
	b.Lock()
	var d CtrlData
	r := b.ctrl(CtrlGetUnderlying, &d)
	b.Unlock()
	if r < 0 {
		return nil
	}
	return d.Ptr
}

// maxSingleReadDefault is the read cap new bufferevents get:
// MaxSingleDefault unless SetMaxSingleReadDefault raised it.
var maxSingleReadDefault int64 = MaxSingleDefault

// SetMaxSingleReadDefault raises the read cap of bufferevents created from
// now on to n when n is above MaxSingleDefault (the engine calls it once,
// at start, for GOEVENT_MAX_READ, which raises the input buffers' own cap:
// the two together let reads reach it).
func SetMaxSingleReadDefault(n int) {
	maxSingleReadDefault = max(MaxSingleDefault, int64(n))
}

// maxSingleWriteDefault is the write cap new bufferevents get:
// MaxSingleDefault unless SetMaxSingleWriteDefault raised it.
var maxSingleWriteDefault int64 = MaxSingleDefault

// SetMaxSingleWriteDefault raises the write cap of bufferevents created
// from now on to n when n is above MaxSingleDefault. GOEVENT_MAX_READ sets
// it too: a relay that reads 256 KiB at a time but writes 16 KiB per
// writable event moves no more than the 16 KiB, so the read cap alone
// bought a third of the socket's rate where both together reach most of it
// (bench rows bev_bulk_*_1GiB GOEVENT_MAX_READ=262144).
func SetMaxSingleWriteDefault(n int) {
	maxSingleWriteDefault = max(MaxSingleDefault, int64(n))
}

// SetMaxSingleRead and SetMaxSingleWrite: 0 or more than the largest
// ssize_t restores the default, as in libevent. As in libevent 2.2, the
// read cap also becomes the input buffer's own (evbuffer_set_max_read),
// which libevent 2.1.12 left at 4096 whatever was set; restoring the
// default restores the input's default too. A cap above math.MaxInt32 is
// kept, but the input's cap cannot follow it, and the call returns -1 (as
// 2.2's does; the read limit then wraps as an int, see sockReadCB).
func (b *BEV) SetMaxSingleRead(n uint64) int {
	r := 0
	b.Lock()
	switch {
	case n == 0 || n > math.MaxInt64:
		b.h.MaxRead = maxSingleReadDefault
		b.in().SetMaxRead(-1)
	case n > math.MaxInt32:
		b.h.MaxRead = int64(n)
		r = -1
	default:
		b.h.MaxRead = int64(n)
		b.in().SetMaxRead(int(n))
	}
	b.Unlock()
	return r
}

func (b *BEV) SetMaxSingleWrite(n uint64) int {
	b.Lock()
	if n == 0 || n > 1<<63-1 {
		b.h.MaxWrite = maxSingleWriteDefault
	} else {
		b.h.MaxWrite = int64(n)
	}
	b.Unlock()
	return 0
}

// MaxSingleRead and MaxSingleWrite report the caps.
func (b *BEV) MaxSingleRead() int  { return int(b.h.MaxRead) }
func (b *BEV) MaxSingleWrite() int { return int(b.h.MaxWrite) }

// readMax and writeMax are what one read or write may move: the single
// operation caps, or what the rate limits allow (ratelim.go).
func (b *BEV) readMax() int  { return b.rlimMax(false) }
func (b *BEV) writeMax() int { return b.rlimMax(true) }

// DNSError is bufferevent_socket_get_dns_error.
func (b *BEV) DNSError() int { return int(b.dnsError) }
