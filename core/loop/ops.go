package loop

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/mem"
)

// ErrNoBase is returned for an event that has no event_base set.
var ErrNoBase = errors.New("event has no event_base set")

// Assign is event_assign for a base known to Go. (The C ABI layer assigns
// in C, without a crossing; both write the same fields.)
func Assign(ev *Event, b *Base, fd int32, events int16, fn, arg unsafe.Pointer) error {
	if events&EvSignal != 0 && events&(EvRead|EvWrite|EvClosed) != 0 {
		logf(LogWarn, "event_assign: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED")
		return errors.New("event_assign: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED")
	}
	if b != nil {
		b.lock()
		b.assignLocked(ev, fd, events, fn, arg)
		b.unlock()
		return nil
	}
	assignFields(ev, nil, 0, fd, events, fn, arg)
	return nil
}

func (b *Base) assignLocked(ev *Event, fd int32, events int16, fn, arg unsafe.Pointer) {
	assignFields(ev, b.Ptr(), b.npri(), fd, events, fn, arg)
}

func assignFields(ev *Event, base unsafe.Pointer, npri int, fd int32, events int16, fn, arg unsafe.Pointer) {
	ev.Base = base
	ev.Cb.Fn = fn
	ev.Cb.Arg = arg
	ev.Fd = fd
	ev.Events = events
	ev.Res = 0
	ev.Cb.Flags = ListInit
	*ev.ncalls() = 0
	*ev.sigRun() = sigRun{}
	switch {
	case events&EvSignal != 0:
		ev.Cb.Closure = ClosureEventSignal
	case events&EvPersist != 0:
		ev.ioTimeout = Timeval{}
		ev.Cb.Closure = ClosureEventPersist
	default:
		ev.Cb.Closure = ClosureEvent
	}
	ev.setHeapIdx(-1)
	if base != nil {
		ev.Cb.Pri = uint8(npri / 2)
	}
}

func baseOf(ev *Event) (*Base, error) {
	b := FromPtr(ev.Base)
	if b == nil {
		if ev.Base == nil {
			logf(LogWarn, "event: event has no event_base set.")
		} else {
			logf(LogWarn, "event: event_base %p is not a live event_base", ev.Base)
		}
		return nil, ErrNoBase
	}
	return b, nil
}

// Add is event_add. tv is relative; nil means no timeout. The error, if any,
// wraps the system error (errno) that made the backend refuse the event.
func Add(ev *Event, tv *Timeval) error {
	b, err := baseOf(ev)
	if err != nil {
		return err
	}
	b.lock()
	_, err = b.addLocked(ev, tv, false)
	b.unlock()
	return err
}

// AddAbs is Add with an absolute monotonic deadline (internal users such as
// bufferevents' persistent timers).
func AddAbs(ev *Event, tv *Timeval) error {
	b, err := baseOf(ev)
	if err != nil {
		return err
	}
	b.lock()
	_, err = b.addLocked(ev, tv, true)
	b.unlock()
	return err
}

var errFinalizing = errors.New("event_add: event is being finalized")

// addLocked is event_add_nolock_.
func (b *Base) addLocked(ev *Event, tv *Timeval, abs bool) (int, error) {
	if ev.Cb.Flags&ListFinalizing != 0 {
		return -1, errFinalizing
	}
	if b.lockable && b.hdr.Current == ev.callback() && ev.Events&EvSignal != 0 && !b.inThread() {
		b.waitCurrent()
	}
	// Room in the heap first, so that running out of memory changes
	// nothing (libevent's min_heap_reserve at the same point).
	if tv != nil && ev.Cb.Flags&ListTimeout == 0 && !b.heapReserve() {
		return -1, fmt.Errorf("event_add: timer heap: %w", unix.ENOMEM)
	}
	res := 0
	notify := false
	var err error
	if ev.Events&(EvRead|EvWrite|EvClosed|EvSignal) != 0 &&
		ev.Cb.Flags&(ListInserted|ListActive|ListActiveLater) == 0 {
		if ev.Events&(EvRead|EvWrite|EvClosed) != 0 {
			res, err = b.ioAdd(ev.Fd, ev)
		} else {
			res, err = b.sigAdd(int(ev.Fd), ev)
		}
		if res != -1 {
			b.queueInsertInserted(ev)
		}
		if res == 1 {
			notify = true
			res = 0
		}
	}
	if res != -1 && tv != nil {
		if ev.Cb.Closure == ClosureEventPersist && !abs {
			ev.ioTimeout = *tv
		}
		if ev.Cb.Flags&ListTimeout != 0 {
			b.queueRemoveTimeout(ev)
		}
		// An event made active by its timeout loses that activation
		// when its timeout is rescheduled.
		if ev.Cb.Flags&ListActive != 0 && ev.Res&EvTimeout != 0 {
			if ev.Events&EvSignal != 0 {
				abortSignalRun(ev)
			}
			b.queueRemoveActive(ev.callback())
		}
		now := b.gettime()
		common := b.isCommon(*tv)
		switch {
		case abs:
			ev.Timeout = *tv
		case common:
			t := *tv
			t.Usec &= usecMask
			ev.Timeout = tvAdd(now, t)
			ev.Timeout.Usec |= tv.Usec &^ usecMask
		default:
			ev.Timeout = tvAdd(now, *tv)
		}
		b.queueInsertTimeout(ev)
		if common {
			c := b.commonFor(ev.Timeout)
			if c.events.head == ev {
				b.commonSchedule(c, ev)
			}
		} else {
			if ev.heapIdx() == 0 {
				notify = true
			} else if top := b.heapTop(); top != nil && tvLess(top.Timeout, now) {
				notify = true
			}
		}
	}
	if res != -1 && notify && b.needNotify() {
		b.notify()
	}
	return res, err
}

func abortSignalRun(ev *Event) {
	if *ev.ncalls() != 0 && ev.sigRun().attached != 0 {
		ev.sigRun().aborted = 1
	}
}

// Del is event_del (mode DelAutoBlock), event_del_block and
// event_del_noblock.
func Del(ev *Event, mode int) error {
	b, err := baseOf(ev)
	if err != nil {
		return err
	}
	b.lock()
	_, err = b.delLocked(ev, mode)
	b.unlock()
	return err
}

// delLocked is event_del_nolock_.
func (b *Base) delLocked(ev *Event, mode int) (int, error) {
	if ev.Base == nil {
		return -1, ErrNoBase
	}
	if mode != DelEvenIfFinalizing && ev.Cb.Flags&ListFinalizing != 0 {
		return 0, nil
	}
	if ev.Events&EvSignal != 0 {
		abortSignalRun(ev)
	}
	res := 0
	notify := false
	var err error
	if ev.Cb.Flags&ListTimeout != 0 {
		b.queueRemoveTimeout(ev)
	}
	if ev.Cb.Flags&ListActive != 0 {
		b.queueRemoveActive(ev.callback())
	} else if ev.Cb.Flags&ListActiveLater != 0 {
		b.queueRemoveActiveLater(ev.callback())
	}
	if ev.Cb.Flags&ListInserted != 0 {
		b.queueRemoveInserted(ev)
		if ev.Events&(EvRead|EvWrite|EvClosed) != 0 {
			res, err = b.ioDel(ev.Fd, ev)
		} else {
			res, err = b.sigDel(int(ev.Fd), ev)
		}
		if res == 1 {
			notify = true
			res = 0
		}
		if !b.haveEvents() && b.hdr.CountActive == 0 {
			notify = true
		}
	}
	if res != -1 && notify && b.needNotify() {
		b.notify()
	}
	if mode != DelNoBlock && b.lockable && b.hdr.Current == ev.callback() && !b.inThread() &&
		(mode == DelBlock || ev.Events&EvFinalize == 0) {
		b.waitCurrent()
	}
	return res, err
}

// RemoveTimer is event_remove_timer.
func RemoveTimer(ev *Event) error {
	b, err := baseOf(ev)
	if err != nil {
		return err
	}
	b.lock()
	if ev.Cb.Flags&ListTimeout != 0 {
		b.queueRemoveTimeout(ev)
		ev.ioTimeout = Timeval{}
	}
	b.unlock()
	return nil
}

// Active is event_active.
func Active(ev *Event, res int, ncalls int16) {
	b, err := baseOf(ev)
	if err != nil {
		return
	}
	b.lock()
	b.activeLocked(ev, res, ncalls)
	b.unlock()
}

// activeLocked is event_active_nolock_.
func (b *Base) activeLocked(ev *Event, res int, ncalls int16) {
	if ev.Cb.Flags&ListFinalizing != 0 {
		return
	}
	switch ev.Cb.Flags & (ListActive | ListActiveLater) {
	case ListActive:
		ev.Res |= int16(res)
		return
	case ListActiveLater:
		ev.Res |= int16(res)
	case 0:
		ev.Res = int16(res)
	default:
		logf(LogErr, "event_active: %p is on both active queues", ev)
		return
	}
	if int(ev.Cb.Pri) < b.hdr.RunningPriority {
		b.hdr.GotContinue = true
	}
	if ev.Events&EvSignal != 0 {
		if b.lockable && b.hdr.Current == ev.callback() && !b.inThread() {
			b.waitCurrent()
		}
		*ev.ncalls() = ncalls
		*ev.sigRun() = sigRun{}
	}
	b.activateCallbackLocked(ev.callback())
}

// ActiveLater is event_active_later_: activate ev at the next loop
// iteration rather than in the current pass over the active queues.
func ActiveLater(ev *Event, res int) {
	b, err := baseOf(ev)
	if err != nil {
		return
	}
	b.lock()
	if ev.Cb.Flags&(ListActive|ListActiveLater) != 0 {
		ev.Res |= int16(res)
	} else {
		ev.Res = int16(res)
		b.activateCallbackLaterLocked(ev.callback())
	}
	b.unlock()
}

// activateCallbackLocked is event_callback_activate_nolock_: 1 if it was
// newly activated.
func (b *Base) activateCallbackLocked(cb *Callback) int {
	r := 1
	if cb.Flags&ListFinalizing != 0 {
		return 0
	}
	switch cb.Flags & (ListActive | ListActiveLater) {
	case ListActiveLater:
		b.queueRemoveActiveLater(cb)
		r = 0
	case ListActive:
		return 0
	}
	b.queueInsertActive(cb)
	if b.needNotify() {
		b.notify()
	}
	return r
}

func (b *Base) activateCallbackLaterLocked(cb *Callback) int {
	if cb.Flags&(ListActive|ListActiveLater) != 0 {
		return 0
	}
	b.queueInsertActiveLater(cb)
	if b.needNotify() {
		b.notify()
	}
	return 1
}

// cancelCallbackLocked is event_callback_cancel_nolock_.
func (b *Base) cancelCallbackLocked(cb *Callback, evenIfFinalizing bool) {
	if cb.Flags&ListFinalizing != 0 && !evenIfFinalizing {
		return
	}
	if cb.Flags&ListInit != 0 {
		mode := DelAutoBlock
		if evenIfFinalizing {
			mode = DelEvenIfFinalizing
		}
		_, _ = b.delLocked(eventOf(cb), mode)
		return
	}
	switch cb.Flags & (ListActive | ListActiveLater) {
	case ListActive:
		b.queueRemoveActive(cb)
	case ListActiveLater:
		b.queueRemoveActiveLater(cb)
	}
}

// Pending is event_pending: which of `events` the event is pending or active
// on, and (if asked and a timeout is pending) its deadline in wall-clock
// time.
func Pending(ev *Event, events int16, wantTv bool) (int, Timeval) {
	b, err := baseOf(ev)
	if err != nil {
		return 0, Timeval{}
	}
	b.lock()
	defer b.unlock()
	flags := int16(0)
	if ev.Cb.Flags&ListInserted != 0 {
		flags |= ev.Events & (EvRead | EvWrite | EvClosed | EvSignal)
	}
	if ev.Cb.Flags&(ListActive|ListActiveLater) != 0 {
		flags |= ev.Res
	}
	if ev.Cb.Flags&ListTimeout != 0 {
		flags |= EvTimeout
	}
	events &= EvTimeout | EvRead | EvWrite | EvClosed | EvSignal
	var tv Timeval
	if wantTv && flags&events&EvTimeout != 0 {
		t := ev.Timeout
		t.Usec &= usecMask
		tv = tvAdd(b.hdr.ClockDiff, t)
	}
	return int(flags & events), tv
}

// Finalize is event_finalize (free=false) and event_free_finalize
// (free=true): the event is deleted and fn runs from the loop once no
// callback of the event can be running; with free, the event's storage is
// released after fn returns.
func Finalize(ev *Event, fn unsafe.Pointer, free bool) error {
	closure := uint8(ClosureEventFinalize)
	if free {
		closure = ClosureEventFinalizeFree
	}
	return finalize(ev, fn, closure, true)
}

// FinalizeCallback is Finalize as libevent's event_callback_finalize_nolock_
// does it for a bufferevent's last reference (not event_finalize): the
// finalizer is queued as event_callback_activate_nolock_ queues, which,
// unlike event_active, does not make a pass leave the lower-priority queue
// it is running, so the callbacks already queued there still run before
// the finalizer (a socket's pending write, say, before the filter above it
// is unlinked).
func FinalizeCallback(ev *Event, fn unsafe.Pointer) error {
	return finalize(ev, fn, ClosureEventFinalize, false)
}

// finalize deletes ev and queues fn as its finalizer, as event_active does
// (endPass: a pass over a lower-priority queue stops for it) or as
// event_callback_activate_nolock_ does.
func finalize(ev *Event, fn unsafe.Pointer, closure uint8, endPass bool) error {
	b, err := baseOf(ev)
	if err != nil {
		return err
	}
	b.lock()
	_, _ = b.delLocked(ev, DelNoBlock)
	ev.Cb.Closure = closure
	ev.Cb.Fn = fn
	if endPass {
		b.activeLocked(ev, EvFinalize, 1)
	} else {
		ev.Res = EvFinalize
		b.activateCallbackLocked(ev.callback())
	}
	ev.Cb.Flags |= ListFinalizing
	b.unlock()
	return nil
}

// FinalizeAlso is what libevent's event_callback_finalize_many_ does to the
// other events of a group whose finalizer is ev's (Finalize): each is
// deleted and marked finalizing, so that nothing adds it again (a
// bufferevent's write timeout restarted by code still running after its
// free, say) before the finalizer frees the memory it lives in.
func FinalizeAlso(ev *Event) error {
	b, err := baseOf(ev)
	if err != nil {
		return err
	}
	b.lock()
	_, _ = b.delLocked(ev, DelNoBlock)
	ev.Cb.Flags |= ListFinalizing
	b.unlock()
	return nil
}

// ---- event_base_once and loop control ------------------------------------

func onceFn(fd int32, what int16, arg unsafe.Pointer) {
	o := (*onceEvent)(arg)
	call(o.cb, fd, what, o.arg)
	b := FromPtr(o.ev.Base)
	if b != nil {
		b.lock()
		b.onceUnlink(o)
		b.unlock()
	}
	mem.Free(unsafe.Pointer(o))
}

func (b *Base) onceUnlink(o *onceEvent) {
	if o.prev != nil {
		o.prev.next = o.next
	} else if b.once == o {
		b.once = o.next
	}
	if o.next != nil {
		o.next.prev = o.prev
	}
	o.next, o.prev = nil, nil
}

// Once is event_base_once.
func (b *Base) Once(fd int32, events int16, fn, arg unsafe.Pointer, tv *Timeval) error {
	if events&(EvSignal|EvPersist) != 0 {
		return errors.New("event_base_once: signal and persistent events cannot be one-shot")
	}
	o := (*onceEvent)(mem.AllocZeroed(unsafe.Sizeof(onceEvent{})))
	if o == nil {
		return fmt.Errorf("event_base_once: %w", unix.ENOMEM)
	}
	o.cb = fn
	o.arg = arg
	activate := false
	b.lock()
	defer b.unlock()
	switch {
	case events&(EvTimeout|EvSignal|EvRead|EvWrite|EvClosed) == EvTimeout:
		b.assignLocked(&o.ev, -1, 0, onceCb, unsafe.Pointer(o))
		// A zero timeout means "run soon": activate directly, which keeps
		// such callbacks in the order they were scheduled.
		activate = tv == nil || !tv.isSet()
	case events&(EvRead|EvWrite|EvClosed) != 0:
		b.assignLocked(&o.ev, fd, events&(EvRead|EvWrite|EvClosed), onceCb, unsafe.Pointer(o))
	default:
		mem.Free(unsafe.Pointer(o))
		return errors.New("event_base_once: bad event combination")
	}
	if activate {
		b.activeLocked(&o.ev, EvTimeout, 1)
	} else if _, err := b.addLocked(&o.ev, tv, false); err != nil {
		mem.Free(unsafe.Pointer(o))
		return err
	}
	o.next = b.once
	if b.once != nil {
		b.once.prev = o
	}
	b.once = o
	return nil
}

func loopexitFn(fd int32, what int16, arg unsafe.Pointer) {
	if b := FromPtr(arg); b != nil {
		// libevent sets the flag without the lock; the loop reads it
		// from this same thread.
		b.lock()
		b.hdr.GotTerm = true
		b.unlock()
	}
}

// LoopExit is event_base_loopexit: stop after the given time (nil or zero:
// after this pass of callbacks). It is an ordinary one-shot event, so it
// keeps the loop from exiting for lack of events until it fires.
func (b *Base) LoopExit(tv *Timeval) error {
	return b.Once(-1, EvTimeout, loopexitCb, b.Ptr(), tv)
}

// LoopBreak is event_base_loopbreak.
func (b *Base) LoopBreak() {
	b.lock()
	b.hdr.GotBreak = true
	if b.needNotify() {
		b.notify()
	}
	b.unlock()
}

// LoopContinue is event_base_loopcontinue.
func (b *Base) LoopContinue() {
	b.lock()
	b.hdr.GotContinue = true
	if b.needNotify() {
		b.notify()
	}
	b.unlock()
}

// GotBreak is event_base_got_break.
func (b *Base) GotBreak() bool {
	b.lock()
	defer b.unlock()
	return b.hdr.GotBreak
}

// GotExit is event_base_got_exit.
func (b *Base) GotExit() bool {
	b.lock()
	defer b.unlock()
	return b.hdr.GotTerm
}

// RunningEvent is event_base_get_running_event: the event whose callback is
// running, when asked from the loop's own thread.
func (b *Base) RunningEvent() *Event {
	b.lock()
	defer b.unlock()
	if !b.inThread() || b.hdr.Current == nil || b.hdr.Current.Flags&ListInit == 0 {
		return nil
	}
	return eventOf(b.hdr.Current)
}

// ActiveByFd is event_base_active_by_fd.
func (b *Base) ActiveByFd(fd int32, events int16) {
	b.lock()
	defer b.unlock()
	if events&EvTimeout == 0 {
		b.ioActive(fd, events&(EvRead|EvWrite|EvClosed))
		return
	}
	for _, ev := range b.heapArr() {
		if ev.Fd == fd {
			b.activeLocked(ev, EvTimeout, 1)
		}
	}
	for _, c := range b.common[:b.ncommon] {
		for ev := c.events.head; ev != nil; ev = ev.tnext {
			if ev.Fd == fd {
				b.activeLocked(ev, EvTimeout, 1)
			}
		}
	}
}

// ActiveBySignal is event_base_active_by_signal.
func (b *Base) ActiveBySignal(sig int) {
	b.lock()
	b.sigActive(sig, 1)
	b.unlock()
}

// Foreach is event_base_foreach_event: fn sees every event that is added
// (fd and signal events first, by fd/signal number, then pure timers, then
// events that are only active); a nonzero return stops the walk and is
// returned. libevent calls fn under its (recursive) base lock, so fn may
// query the base; goevent's lock is not recursive, so a lockable base is
// walked from a snapshot taken under the lock and fn runs without it.
func (b *Base) Foreach(fn func(ev *Event) int) int {
	if !b.lockable {
		return b.foreachLocked(fn)
	}
	var evs []*Event
	b.lock()
	b.foreachLocked(func(ev *Event) int {
		evs = append(evs, ev)
		return 0
	})
	b.unlock()
	for _, ev := range evs {
		if r := fn(ev); r != 0 {
			return r
		}
	}
	return 0
}

func (b *Base) foreachLocked(fn func(ev *Event) int) int {
	for i := range b.io {
		for ev := b.io[i].head; ev != nil; ev = ev.lnext {
			if r := fn(ev); r != 0 {
				return r
			}
		}
	}
	for _, head := range b.sig {
		for ev := head; ev != nil; ev = ev.lnext {
			if r := fn(ev); r != 0 {
				return r
			}
		}
	}
	for _, ev := range b.heapArr() {
		if ev.Cb.Flags&ListInserted != 0 {
			continue
		}
		if r := fn(ev); r != 0 {
			return r
		}
	}
	for _, c := range b.common[:b.ncommon] {
		for ev := c.events.head; ev != nil; ev = ev.tnext {
			if ev.Cb.Flags&ListInserted != 0 {
				continue
			}
			if r := fn(ev); r != 0 {
				return r
			}
		}
	}
	qs := b.queues()
	for i := range qs {
		for cb := qs[i].head; cb != nil; cb = cb.next {
			if cb.Flags&(ListInit|ListInserted|ListTimeout) != ListInit {
				continue
			}
			if r := fn(eventOf(cb)); r != 0 {
				return r
			}
		}
	}
	return 0
}

// Dump is event_base_dump_events' text.
func (b *Base) Dump() string {
	b.lock()
	defer b.unlock()
	var s []byte
	s = append(s, "Inserted events:\n"...)
	b.foreachLocked(func(e *Event) int {
		if e.Cb.Flags&(ListInserted|ListTimeout) == 0 {
			return 0
		}
		gloss := "fd "
		if e.Events&EvSignal != 0 {
			gloss = "sig"
		}
		s = fmt.Appendf(s, "  %p [%s %d]%s%s%s%s%s%s%s", unsafe.Pointer(e), gloss, e.Fd,
			flagWord(e.Events, EvRead, " Read"), flagWord(e.Events, EvWrite, " Write"),
			flagWord(e.Events, EvClosed, " EOF"), flagWord(e.Events, EvSignal, " Signal"),
			flagWord(e.Events, EvPersist, " Persist"), flagWord(e.Events, EvET, " ET"),
			flagWord(int16(e.Cb.Flags), ListInternal, " Internal"))
		if e.Cb.Flags&ListTimeout != 0 {
			tv := Timeval{Sec: e.Timeout.Sec, Usec: e.Timeout.Usec & usecMask}
			tv = tvAdd(tv, b.hdr.ClockDiff)
			s = fmt.Appendf(s, " Timeout=%d.%06d", tv.Sec, tv.Usec&usecMask)
		}
		s = append(s, '\n')
		return 0
	})
	s = append(s, "Active events:\n"...)
	b.foreachLocked(func(e *Event) int {
		if e.Cb.Flags&(ListActive|ListActiveLater) == 0 {
			return 0
		}
		gloss := "fd "
		if e.Events&EvSignal != 0 {
			gloss = "sig"
		}
		s = fmt.Appendf(s, "  %p [%s %d, priority=%d]%s%s%s%s%s active%s%s\n", unsafe.Pointer(e), gloss, e.Fd, e.Cb.Pri,
			flagWord(e.Res, EvRead, " Read"), flagWord(e.Res, EvWrite, " Write"),
			flagWord(e.Res, EvClosed, " EOF"), flagWord(e.Res, EvSignal, " Signal"),
			flagWord(e.Res, EvTimeout, " Timeout"),
			flagWord(int16(e.Cb.Flags), ListInternal, " [Internal]"),
			flagWord(int16(e.Cb.Flags), ListActiveLater, " [NextTime]"))
		return 0
	})
	return string(s)
}

func flagWord(v int16, bit int16, word string) string {
	if v&bit != 0 {
		return word
	}
	return ""
}
