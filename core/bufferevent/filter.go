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

// FilterFunc is a bufferevent_filter_cb: move (transformed) data from src to
// dst, writing at most limit bytes when limit >= 0, in flush mode mode.
// The C layer wraps the user's function pointer in one; nil is the null
// filter, which moves data unchanged.
type FilterFunc func(src, dst Buf, limit int, mode int) int

// nullFilter moves data without copying bytes (be_null_filter).
func nullFilter(src, dst Buf, limit int, _ int) int {
	if moveSome(src, dst, limit) >= 0 {
		return FilterOK
	}
	return FilterError
}

type filterOps struct {
	self       *BEV
	underlying *BEV
	inWatch    Watch // re-reads the underlying when the user drains under the mark
	outWatch   Watch // runs the output filter when the user writes
	input      FilterFunc
	output     FilterFunc
	freeCtx    func()
}

func (*filterOps) Kind() string { return "filter" }

func filterOf(b *BEV) *filterOps {
	if b == nil {
		return nil
	}
	f, _ := b.ops.(*filterOps)
	return f
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
// reads (see capi/bufferevent_sock.c); the Go path keeps using the
// FilterFunc given to NewFilter.
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
	if f.underlying.in.Len() > 0 && f.readFull(FlushNormal) {
		f.inWatch.SetEnabled(true)
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

// NewFilter is bufferevent_filter_new. freeCtx (may be nil) runs when the
// filter is destroyed.
func NewFilter(u *BEV, input, output FilterFunc, options int, freeCtx func()) *BEV {
	if u == nil {
		return nil
	}
	if _, ok := u.in.(ChainMover); !ok && (input == nil || output == nil) {
		warn("bufferevent_filter_new: evbuffers cannot move chains")
		return nil
	}
	if input == nil {
		input = nullFilter
	}
	if output == nil {
		output = nullFilter
	}
	f := &filterOps{underlying: u, input: input, output: output, freeCtx: freeCtx}
	b := newCommon(u.h.EvBase, f, options&^OptThreadsafe)
	if b == nil {
		return nil
	}
	f.self = b
	if options&OptThreadsafe != 0 && env.AllocLock != nil {
		// libevent gives a thread-safe filter a lock of its own (its
		// attempt to share the underlying's runs before the underlying
		// is known) and, like libevent, carries on without one when
		// threading is off.
		if lk := env.AllocLock(); lk != nil {
			b.h.Lock = lk
			b.ownLock = true
			b.in.EnableLocking(lk)
			b.out.EnableLocking(lk)
		}
	}
	f.inWatch = b.in.Watch(func(_, _, _ int) { f.inbufChanged() }, false)
	f.outWatch = b.out.Watch(func(_, added, _ int) {
		if added > 0 {
			b.IncrefAndLock()
			f.processOutput(FlushNormal)
			b.DecrefAndUnlock()
		}
	}, false)
	if f.inWatch == nil || f.outWatch == nil {
		// Out of memory, before anything touched the underlying.
		b.discard()
		return nil
	}
	f.inWatch.SetEnabled(false)
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

// underlyingWriteFull: in normal mode the output filter stops at the
// underlying's write high watermark.
func (f *filterOps) underlyingWriteFull(mode int) bool {
	u := f.underlying
	return mode == FlushNormal && u.h.WmWrite.High != 0 &&
		uintptr(u.out.Len()) >= u.h.WmWrite.High
}

// readFull: in normal mode the input filter stops at our read high mark.
func (f *filterOps) readFull(mode int) bool {
	b := f.self
	return mode == FlushNormal && b.h.WmRead.High != 0 &&
		uintptr(b.in.Len()) >= b.h.WmRead.High
}

// processInput runs the input filter while it makes progress and there is
// room; processed reports whether any call returned BEV_OK.
func (f *filterOps) processInput(mode int) (res int, processed bool) {
	b, u := f.self, f.underlying
	if mode == FlushNormal && (b.h.Enabled&EvRead == 0 || f.readFull(mode)) {
		return FilterOK, false
	}
	for {
		limit := -1
		if mode == FlushNormal && b.h.WmRead.High != 0 {
			limit = int(b.h.WmRead.High) - b.in.Len()
		}
		res = f.input(u.in, b.in, limit, mode)
		if res == FilterOK {
			processed = true
		}
		if res != FilterOK || b.h.Enabled&EvRead == 0 || u.in.Len() == 0 || f.readFull(mode) {
			break
		}
	}
	if processed {
		b.resetReadTimeout()
	}
	return res, processed
}

// processOutput runs the output filter while it makes progress, the user
// keeps writing and the underlying has room; the write callback runs after
// each productive round, and may add more.
func (f *filterOps) processOutput(mode int) (res int, processed bool) {
	b, u := f.self, f.underlying
	res = FilterOK
	if mode == FlushNormal && (b.h.Enabled&EvWrite == 0 || f.underlyingWriteFull(mode) ||
		b.out.Len() == 0) {
		return res, false
	}
	// What the filter drains must not re-enter this function.
	f.outWatch.SetEnabled(false)
	for again := true; again; {
		again = false
		round := false
		for {
			limit := -1
			if mode == FlushNormal && u.h.WmWrite.High != 0 {
				limit = int(u.h.WmWrite.High) - u.out.Len()
			}
			res = f.output(b.out, u.out, limit, mode)
			if res == FilterOK {
				round, processed = true, true
			}
			if res != FilterOK || b.h.Enabled&EvWrite == 0 || b.out.Len() == 0 ||
				f.underlyingWriteFull(mode) {
				break
			}
		}
		if round {
			b.TriggerNolock(EvWrite, 0)
			again = res == FilterOK && b.h.Enabled&EvWrite != 0 && b.out.Len() > 0 &&
				!f.underlyingWriteFull(mode)
		}
	}
	f.outWatch.SetEnabled(true)
	if processed {
		b.resetWriteTimeout()
	}
	return res, processed
}

// readNolock is what the underlying's read callback does for the filter.
func (f *filterOps) readNolock() {
	b := f.self
	// Another thread may have dropped the last reference already.
	if b.h.Refcnt <= 0 {
		return
	}
	// libevent 2.1.12 never records an EOF from below, so input is always
	// filtered in normal mode here.
	if _, processed := f.processInput(FlushNormal); processed {
		b.TriggerNolock(EvRead, 0)
		if f.underlying.in.Len() > 0 && f.readFull(FlushNormal) {
			// Data is stuck below our high mark: look again once the
			// user drains our input.
			f.inWatch.SetEnabled(true)
		}
	}
}

func (f *filterOps) inbufChanged() {
	b := f.self
	b.Lock()
	if !f.readFull(FlushNormal) {
		f.inWatch.SetEnabled(false)
		if f.underlying.in.Len() > 0 {
			f.readNolock()
		}
	}
	b.Unlock()
}

func filterReadCB(arg unsafe.Pointer) {
	b := FromPointer(arg)
	f := filterOf(b)
	if f == nil {
		return
	}
	b.Lock()
	f.readNolock()
	b.Unlock()
}

func filterWriteCB(arg unsafe.Pointer) {
	b := FromPointer(arg)
	f := filterOf(b)
	if f == nil {
		return
	}
	b.Lock()
	if b.h.Refcnt > 0 {
		f.processOutput(FlushNormal)
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

func (f *filterOps) Enable(b *BEV, what int16) int {
	if what&EvWrite != 0 {
		b.resetWriteTimeout()
	}
	if what&EvRead != 0 {
		b.resetReadTimeout()
		f.underlying.UnsuspendRead(SuspendFilt)
	}
	return 0
}

func (f *filterOps) Disable(b *BEV, what int16) int {
	if what&EvWrite != 0 {
		env.Loop.Del(&b.h.EvWrite)
	}
	if what&EvRead != 0 {
		env.Loop.Del(&b.h.EvRead)
		f.underlying.SuspendRead(SuspendFilt)
	}
	return 0
}

// Unlink frees the underlying under BEV_OPT_CLOSE_ON_FREE, or else gives
// it back its freedom (no more hooks, reading no longer held off).
func (f *filterOps) Unlink(b *BEV) {
	u := f.underlying
	if b.options&OptCloseOnFree != 0 {
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
func (f *filterOps) Destruct(*BEV) {
	if f.freeCtx != nil {
		f.freeCtx()
	}
	if u := f.underlying; u != nil {
		u.Decref()
	}
}

func (*filterOps) AdjTimeouts(b *BEV) int { return b.AdjGenericTimeouts() }

// Flush pushes both filters in the given mode and then flushes the
// underlying; it reports 1 if a filter made progress.
func (f *filterOps) Flush(b *BEV, iotype int16, mode int) int {
	b.IncrefAndLock()
	processed := false
	if iotype&EvRead != 0 {
		_, p := f.processInput(mode)
		processed = processed || p
	}
	if iotype&EvWrite != 0 {
		_, p := f.processOutput(mode)
		processed = processed || p
	}
	f.underlying.Flush(iotype, mode)
	b.DecrefAndUnlock()
	if processed {
		return 1
	}
	return 0
}

func (f *filterOps) Ctrl(b *BEV, op int, d *CtrlData) int {
	switch op {
	case CtrlGetUnderlying:
		d.Ptr = f.underlying.Pointer()
		return 0
	case CtrlSetFD, CtrlGetFD:
		return f.underlying.ops.Ctrl(f.underlying, op, d)
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
