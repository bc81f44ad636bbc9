package bufferevent

import "unsafe"

// Filters: a bufferevent layered on another one (libevent's
// bufferevent_filter.c). Bytes the underlying bufferevent reads go through
// the input filter into the filter's input; bytes written to the filter's
// output go through the output filter into the underlying's output. The
// filter learns about the underlying's progress through the underlying's
// own read, write and event callbacks, which it takes over, exactly as
// libevent does: so watermarks of both layers apply, and the underlying can
// be any kind (socket, pair, another filter).

// Filter results (enum bufferevent_filter_result).
const (
	FilterOK       = 0
	FilterNeedMore = 1
	FilterError    = 2
)

// nullFilter moves data without copying bytes (be_null_filter).
func nullFilter(src, dst Buf, limit int) int {
	if moveSome(src, dst, limit) >= 0 {
		return FilterOK
	}
	return FilterError
}

// filterOps is the filter kind.
type filterOps struct{}

// filterState is a filter's part of a bufferevent. The filters are the
// program's bufferevent_filter_cb functions (called through
// Env.CallFilter; nil is the null filter, which moves data unchanged), the
// context and its destructor its own too.
type filterState struct {
	underlying *BEV
	inWatch    unsafe.Pointer // re-reads the underlying when the user drains under the mark
	outWatch   unsafe.Pointer // runs the output filter when the user writes
	input      unsafe.Pointer
	output     unsafe.Pointer
	freeCtx    unsafe.Pointer
	ctx        unsafe.Pointer
}

func (filterOps) Kind() string { return "filter" }

func filterOf(b *BEV) *filterState {
	if b == nil || b.h.Kind != kindFilter {
		return nil
	}
	return b.filtPart()
}

// runFilter runs fn (nil: the null filter) from src to dst.
func (f *filterState) runFilter(fn unsafe.Pointer, src, dst Buf, limit, mode int) int {
	if fn == nil {
		return nullFilter(src, dst, limit)
	}
	return env.CallFilter(fn, src, dst, limit, mode, f.ctx)
}

// The values stored as the underlying's callbacks while a filter sits on
// it. They are slots of the loop's Go callback table (never Go memory, and
// never real C functions); installLayerCallbacks routes calls through them
// to the filter instead of into C.
var fnFiltRead, fnFiltWrite, fnFiltEvent unsafe.Pointer

func nopCallback(int32, int16, unsafe.Pointer) {}

// installLayerCallbacks runs from Setup: it registers the kinds' loop
// callbacks and makes the callback path recognise the filter's hooks.
func installLayerCallbacks() {
	fnFiltRead = env.Loop.RegisterCallback(nopCallback)
	fnFiltWrite = env.Loop.RegisterCallback(nopCallback)
	fnFiltEvent = env.Loop.RegisterCallback(nopCallback)
	fnRefill = env.Loop.RegisterCallback(refillCB)
	fnGroupRefill = env.Loop.RegisterCallback(groupRefillCB)
	e := *env
	userData, userEvent := e.CallData, e.CallEvent
	e.CallData = func(fn, bev, arg unsafe.Pointer) {
		switch fn {
		case fnFiltRead:
			filterReadCB(arg)
		case fnFiltWrite:
			filterWriteCB(arg)
		default:
			userData(fn, bev, arg)
		}
	}
	e.CallEvent = func(fn, bev unsafe.Pointer, what int16, arg unsafe.Pointer, errno int32) {
		if fn == fnFiltEvent {
			filterEventCB(what, arg, errno)
			return
		}
		userEvent(fn, bev, what, arg, errno)
	}
	env = &e
}

// SetCInputFilter records that the filter's input filter is the C function
// fn with context ctx, which capi then calls itself when the underlying
// reads (see capi/bufferevent_cb.c); fn is the same function the Go path
// calls through Env.CallFilter, or libevent's null filter, which the Go
// path runs as nullFilter.
func (b *BEV) SetCInputFilter(fn, ctx unsafe.Pointer) {
	if filterOf(b) == nil || fn == nil {
		return
	}
	b.Lock()
	b.h.FiltIn, b.h.FiltCtx = fn, ctx
	b.h.Flags |= FlagFilterC
	b.Unlock()
}

// FilterHooks returns the values a filter stores as its underlying's read
// and write callbacks (Go callback slots), for capi's C handlers.
func FilterHooks() (read, write unsafe.Pointer) { return fnFiltRead, fnFiltWrite }

// FilterAfterRead finishes a read that capi's C filter path did, when the
// user's read callback left a read high watermark set: the checks that
// readNolock makes after the callback.
func (b *BEV) FilterAfterRead() {
	f := filterOf(b)
	if f == nil {
		return
	}
	b.Lock()
	b.inbufWMCheck()
	if f.underlying.in().Len() > 0 && b.filterReadFull(FlushNormal) {
		b.in().SetWatchEnabled(f.inWatch, true)
	}
	b.Unlock()
}

// CallData calls a bufferevent data callback the way the core does: a
// filter's hook on its underlying runs the filter, anything else is C.
func CallData(fn, bev, arg unsafe.Pointer) { env.CallData(fn, bev, arg) }

// CallEvent is CallData for event callbacks.
func CallEvent(fn, bev unsafe.Pointer, what int16, arg unsafe.Pointer, errno int32) {
	env.CallEvent(fn, bev, what, arg, errno)
}

// NewFilter is bufferevent_filter_new: input and output are the program's
// filter functions (nil: the null filter), freeCtx (may be nil) runs with
// ctx when the filter is destroyed.
func NewFilter(u *BEV, input, output unsafe.Pointer, options int, freeCtx, ctx unsafe.Pointer) *BEV {
	if u == nil {
		return nil
	}
	if _, ok := u.in().(ChainMover); !ok && (input == nil || output == nil) {
		warn("bufferevent_filter_new: evbuffers cannot move chains")
		return nil
	}
	b := newCommon(u.h.EvBase, kindFilter, options&^OptThreadsafe)
	if b == nil {
		return nil
	}
	f := b.filtPart()
	f.underlying, f.input, f.output, f.freeCtx, f.ctx = u, input, output, freeCtx, ctx
	in, out := b.in(), b.out()
	if options&OptThreadsafe != 0 && env.AllocLock != nil {
		// libevent gives a thread-safe filter a lock of its own (its
		// attempt to share the underlying's runs before the underlying
		// is known) and, like libevent, carries on without one when
		// threading is off.
		if lk := env.AllocLock(); lk != nil {
			b.h.Lock = lk
			b.ownLock = true
			in.EnableLocking(lk)
			out.EnableLocking(lk)
		}
	}
	f.inWatch = in.Watch(watchFiltIn, b.Pointer(), false)
	f.outWatch = out.Watch(watchFiltOut, b.Pointer(), false)
	if f.inWatch == nil || f.outWatch == nil {
		// Out of memory, before anything touched the underlying.
		b.discard()
		return nil
	}
	in.SetWatchEnabled(f.inWatch, false)
	u.Lock()
	u.h.ReadCB, u.h.WriteCB, u.h.ErrorCB, u.h.CBArg = fnFiltRead, fnFiltWrite, fnFiltEvent, b.Pointer()
	u.Unlock()
	b.InitGenericTimeouts()
	u.IncrefLocked()
	u.Enable(EvRead | EvWrite)
	// The underlying reads only while the filter does.
	u.SuspendRead(SuspendFilt)
	return b
}

// filterInWatch re-reads the underlying once the user drained the filter's
// input under its mark (arg: the filter's header).
func filterInWatch(arg unsafe.Pointer, _, _, _ int) {
	if b := FromPointer(arg); filterOf(b) != nil {
		b.filterInbufChanged()
	}
}

// filterOutWatch runs the output filter when the user writes.
func filterOutWatch(arg unsafe.Pointer, _, added, _ int) {
	b := FromPointer(arg)
	if filterOf(b) == nil || added <= 0 {
		return
	}
	b.IncrefAndLock()
	b.filterProcessOutput(FlushNormal)
	b.DecrefAndUnlock()
}

// filterUnderlyingWriteFull: in normal mode the output filter stops at the
// underlying's write high watermark.
func (b *BEV) filterUnderlyingWriteFull(mode int) bool {
	u := b.filtPart().underlying
	return mode == FlushNormal && u.h.WmWrite.High != 0 &&
		uintptr(u.out().Len()) >= u.h.WmWrite.High
}

// filterReadFull: in normal mode the input filter stops at our read high
// mark.
func (b *BEV) filterReadFull(mode int) bool {
	return mode == FlushNormal && b.h.WmRead.High != 0 &&
		uintptr(b.in().Len()) >= b.h.WmRead.High
}

// filterProcessInput runs the input filter while it makes progress and there is
// room; processed reports whether any call returned BEV_OK.
func (b *BEV) filterProcessInput(mode int) (res int, processed bool) {
	f := b.filtPart()
	if mode == FlushNormal && (b.h.Enabled&EvRead == 0 || b.filterReadFull(mode)) {
		return FilterOK, false
	}
	src, dst := f.underlying.in(), b.in()
	for {
		limit := -1
		if mode == FlushNormal && b.h.WmRead.High != 0 {
			limit = int(b.h.WmRead.High) - dst.Len()
		}
		res = f.runFilter(f.input, src, dst, limit, mode)
		if res == FilterOK {
			processed = true
		}
		if res != FilterOK || b.h.Enabled&EvRead == 0 || src.Len() == 0 || b.filterReadFull(mode) {
			break
		}
	}
	if processed {
		b.resetReadTimeout()
	}
	return res, processed
}

// filterProcessOutput runs the output filter while it makes progress, the user
// keeps writing and the underlying has room; the write callback runs after
// each productive round, and may add more.
func (b *BEV) filterProcessOutput(mode int) (res int, processed bool) {
	f := b.filtPart()
	u := f.underlying
	src, dst := b.out(), u.out()
	res = FilterOK
	if mode == FlushNormal && (b.h.Enabled&EvWrite == 0 || b.filterUnderlyingWriteFull(mode) ||
		src.Len() == 0) {
		return res, false
	}
	// What the filter drains must not re-enter this function.
	src.SetWatchEnabled(f.outWatch, false)
	for again := true; again; {
		again = false
		round := false
		for {
			limit := -1
			if mode == FlushNormal && u.h.WmWrite.High != 0 {
				limit = int(u.h.WmWrite.High) - dst.Len()
			}
			res = f.runFilter(f.output, src, dst, limit, mode)
			if res == FilterOK {
				round, processed = true, true
			}
			if res != FilterOK || b.h.Enabled&EvWrite == 0 || src.Len() == 0 ||
				b.filterUnderlyingWriteFull(mode) {
				break
			}
		}
		if round {
			b.TriggerNolock(EvWrite, 0)
			again = res == FilterOK && b.h.Enabled&EvWrite != 0 && src.Len() > 0 &&
				!b.filterUnderlyingWriteFull(mode)
		}
	}
	src.SetWatchEnabled(f.outWatch, true)
	if processed {
		b.resetWriteTimeout()
	}
	return res, processed
}

// filterReadNolock is what the underlying's read callback does for the
// filter.
func (b *BEV) filterReadNolock() {
	// Another thread may have dropped the last reference already.
	if b.h.Refcnt <= 0 {
		return
	}
	// libevent 2.1.12 never records an EOF from below, so input is always
	// filtered in normal mode here.
	if _, processed := b.filterProcessInput(FlushNormal); processed {
		b.TriggerNolock(EvRead, 0)
		if b.filtPart().underlying.in().Len() > 0 && b.filterReadFull(FlushNormal) {
			// Data is stuck below our high mark: look again once the
			// user drains our input.
			b.in().SetWatchEnabled(b.filtPart().inWatch, true)
		}
	}
}

func (b *BEV) filterInbufChanged() {
	b.Lock()
	if !b.filterReadFull(FlushNormal) {
		b.in().SetWatchEnabled(b.filtPart().inWatch, false)
		if b.filtPart().underlying.in().Len() > 0 {
			b.filterReadNolock()
		}
	}
	b.Unlock()
}

func filterReadCB(arg unsafe.Pointer) {
	b := FromPointer(arg)
	if filterOf(b) == nil {
		return
	}
	b.Lock()
	b.filterReadNolock()
	b.Unlock()
}

func filterWriteCB(arg unsafe.Pointer) {
	b := FromPointer(arg)
	if filterOf(b) == nil {
		return
	}
	b.Lock()
	if b.h.Refcnt > 0 {
		b.filterProcessOutput(FlushNormal)
	}
	b.Unlock()
}

// filterEventCB passes the underlying's events up unchanged.
func filterEventCB(what int16, arg unsafe.Pointer, errno int32) {
	b := FromPointer(arg)
	if filterOf(b) == nil {
		return
	}
	b.Lock()
	if b.h.Refcnt > 0 {
		b.RunEventCB(what, 0, errno)
	}
	b.Unlock()
}

func (filterOps) Enable(b *BEV, what int16) int {
	if what&EvWrite != 0 {
		b.resetWriteTimeout()
	}
	if what&EvRead != 0 {
		b.resetReadTimeout()
		b.filtPart().underlying.UnsuspendRead(SuspendFilt)
	}
	return 0
}

func (filterOps) Disable(b *BEV, what int16) int {
	if what&EvWrite != 0 {
		env.Loop.Del(&b.h.EvWrite)
	}
	if what&EvRead != 0 {
		env.Loop.Del(&b.h.EvRead)
		b.filtPart().underlying.SuspendRead(SuspendFilt)
	}
	return 0
}

// Unlink frees the underlying under BEV_OPT_CLOSE_ON_FREE, or else gives
// it back its freedom (no more hooks, reading no longer held off).
func (filterOps) Unlink(b *BEV) {
	u := b.filtPart().underlying
	if b.options()&OptCloseOnFree != 0 {
		// Our own reference goes at finalization; this frees the user's.
		if u.h.Refcnt < 2 {
			warn("BEV_OPT_CLOSE_ON_FREE set on an bufferevent with too few references")
		} else {
			u.Free()
		}
		return
	}
	u.Lock()
	if u.h.ErrorCB == fnFiltEvent {
		u.h.ReadCB, u.h.WriteCB, u.h.ErrorCB, u.h.CBArg = nil, nil, nil, nil
	}
	u.Unlock()
	u.UnsuspendRead(SuspendFilt)
}

// Destruct runs the user's context destructor and drops the reference the
// filter held on the underlying (libevent does that last of all, after the
// memory is gone; nothing after this point touches the underlying, and the
// filter never shares its lock with it).
func (filterOps) Destruct(b *BEV) {
	f := b.filtPart()
	if f.freeCtx != nil {
		env.CallFree(f.freeCtx, f.ctx)
	}
	if u := f.underlying; u != nil {
		u.Decref()
	}
}

func (filterOps) AdjTimeouts(b *BEV) int { return b.AdjGenericTimeouts() }

// Flush pushes both filters in the given mode and then flushes the
// underlying; it reports 1 if a filter made progress.
func (filterOps) Flush(b *BEV, iotype int16, mode int) int {
	b.IncrefAndLock()
	processed := false
	if iotype&EvRead != 0 {
		_, p := b.filterProcessInput(mode)
		processed = processed || p
	}
	if iotype&EvWrite != 0 {
		_, p := b.filterProcessOutput(mode)
		processed = processed || p
	}
	b.filtPart().underlying.Flush(iotype, mode)
	b.DecrefAndUnlock()
	if processed {
		return 1
	}
	return 0
}

func (filterOps) Ctrl(b *BEV, op int, d *CtrlData) int {
	u := b.filtPart().underlying
	switch op {
	case CtrlGetUnderlying:
		d.Ptr = u.Pointer()
		return 0
	case CtrlSetFD, CtrlGetFD:
		return u.ctrl(op, d)
	}
	return -1
}

// FilterUnderlying returns the bufferevent a filter sits on (nil if b is
// not a filter).
func (b *BEV) FilterUnderlying() *BEV {
	if f := filterOf(b); f != nil {
		return f.underlying
	}
	return nil
}
