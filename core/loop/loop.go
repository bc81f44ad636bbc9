package loop

import (
	"errors"
	"math"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/mem"
)

// ErrReentrant is returned when a base's loop is started from inside itself
// (or concurrently from another thread).
var ErrReentrant = errors.New("event_base_loop: reentrant invocation; only one event_base_loop can run on each event_base at once")

// Loop is event_base_loop. It returns 1 when it stopped because no events
// were left, 0 when it stopped for any other reason, and -1 (with the error)
// when the backend failed.
func (b *Base) Loop(flags int) (int, error) {
	b.lock()
	if b.running {
		b.unlock()
		logf(LogWarn, "event_base_loop: reentrant invocation.  Only one event_base_loop can run on each event_base at once.")
		return -1, ErrReentrant
	}
	b.running = true
	if b.lockable {
		// Other threads must be able to tell this one apart (they wait
		// for running callbacks; this thread must not). A thread that
		// called in from C is already locked; a goroutine must be.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b.ownerTid = unix.Gettid()
	}
	b.clearTimeCache()
	if b.sigAdded && b.nSignalsAdded > 0 {
		b.evsigSetBase()
	}
	b.gotTerm, b.gotBreak = false, false
	retval := 0
	var err error
	for {
		b.gotContinue = false
		b.nDeferreds = 0
		if b.gotTerm || b.gotBreak {
			break
		}
		var tv *Timeval
		if b.countActive == 0 && flags&LoopNonblock == 0 {
			tv = b.timeoutNext()
		} else {
			tv = &Timeval{}
		}
		if flags&LoopNoExitOnEmpty == 0 && !b.haveEvents() && b.countActive == 0 {
			retval = 1
			break
		}
		b.makeLaterActive()
		b.clearTimeCache()
		if err = b.be.dispatch(b, tv); err != nil {
			retval = -1
			break
		}
		b.updateTimeCache()
		b.timeoutProcess()
		if b.countActive != 0 {
			n := b.processActive()
			if flags&LoopOnce != 0 && b.countActive == 0 && n != 0 {
				break
			}
		} else if flags&LoopNonblock != 0 {
			break
		}
	}
	b.clearTimeCache()
	b.running = false
	b.unlock()
	return retval, err
}

// processActive runs the callbacks of the highest-priority non-empty queue
// (plus any queues above it holding only internal callbacks). Returns the
// number of non-internal callbacks run, or -1 if the loop was broken.
func (b *Base) processActive() int {
	var endtime *Timeval
	if b.maxDispatch.Sec >= 0 {
		b.updateTimeCache()
		t := tvAdd(b.maxDispatch, b.gettime())
		endtime = &t
	}
	c := 0
	for i := range b.active {
		if b.active[i].head == nil {
			continue
		}
		b.runningPriority = i
		if i < b.limitAfterPrio {
			c = b.processQueue(&b.active[i], math.MaxInt32, nil)
		} else {
			c = b.processQueue(&b.active[i], b.maxCallbacks, endtime)
		}
		if c != 0 {
			// Stop after a queue that ran real callbacks (or a
			// break): lower priorities wait for the next pass.
			break
		}
	}
	b.runningPriority = -1
	return c
}

func (b *Base) processQueue(q *cbList, maxToProcess int, endtime *Timeval) int {
	count := 0
	for cb := q.head; cb != nil; cb = q.head {
		var ev *Event
		if cb.Flags&ListInit != 0 {
			ev = eventOf(cb)
			if ev.Events&EvPersist != 0 || cb.Flags&ListFinalizing != 0 {
				b.queueRemoveActive(cb)
			} else {
				_, _ = b.delLocked(ev, DelNoBlock)
			}
		} else {
			b.queueRemoveActive(cb)
		}
		if cb.Flags&ListInternal == 0 {
			count++
		}
		b.current = cb
		b.currentWaiters = 0

		switch cb.Closure {
		case ClosureEventSignal:
			b.signalClosure(ev)
		case ClosureEventPersist:
			b.persistClosure(ev)
		case ClosureEvent:
			fn, fd, res, arg := cb.Fn, ev.Fd, ev.Res, cb.Arg
			b.unlock()
			call(fn, fd, res, arg)
		case ClosureCbSelf:
			d := (*Deferred)(unsafe.Pointer(cb))
			b.unlock()
			d.run()
		case ClosureEventFinalize, ClosureEventFinalizeFree:
			closure := cb.Closure
			b.current = nil
			fn, arg := cb.Fn, cb.Arg
			b.unlock()
			if f := goCallbackAt(fn); f != nil {
				f(ev.Fd, EvFinalize, arg)
			} else {
				currentInvoker().Finalize(fn, ev, arg)
			}
			if closure == ClosureEventFinalizeFree {
				mem.Free(unsafe.Pointer(ev))
			}
		case ClosureCbFinalize:
			b.current = nil
			d := (*Deferred)(unsafe.Pointer(cb))
			b.unlock()
			d.run()
		default:
			logf(LogErr, "event_process_active: unknown closure %d", cb.Closure)
			b.unlock()
		}

		b.lock()
		b.current = nil
		if b.currentWaiters != 0 {
			b.currentWaiters = 0
			b.cond.Broadcast()
		}
		if b.gotBreak {
			return -1
		}
		if count >= maxToProcess {
			return count
		}
		if count != 0 && endtime != nil {
			b.updateTimeCache()
			if !tvLess(b.gettime(), *endtime) {
				return count
			}
		}
		if b.gotContinue {
			break
		}
	}
	return count
}

// persistClosure re-arms a persistent event's timeout before running it:
// relative to when it was due if the timeout fired, relative to now
// otherwise, and never in the past.
func (b *Base) persistClosure(ev *Event) {
	if ev.ioTimeout.isSet() {
		now := b.gettime()
		var runAt, relTo, delay Timeval
		var usecBits int64
		delay = ev.ioTimeout
		if b.isCommon(ev.Timeout) {
			usecBits = delay.Usec &^ usecMask
			delay.Usec &= usecMask
			if ev.Res&EvTimeout != 0 {
				relTo = ev.Timeout
				relTo.Usec &= usecMask
			} else {
				relTo = now
			}
		} else {
			if ev.Res&EvTimeout != 0 {
				relTo = ev.Timeout
			} else {
				relTo = now
			}
		}
		runAt = tvAdd(relTo, delay)
		if tvLess(runAt, now) {
			runAt = tvAdd(now, delay)
		}
		runAt.Usec |= usecBits
		_, _ = b.addLocked(ev, &runAt, true)
	}
	fn, fd, res, arg := ev.Cb.Fn, ev.Fd, ev.Res, ev.Cb.Arg
	b.unlock()
	call(fn, fd, res, arg)
}

// signalClosure runs a signal event's callback once per caught signal,
// stopping early if the event is deleted (or its timeout re-added) from the
// callback or the loop is broken.
func (b *Base) signalClosure(ev *Event) {
	n := *ev.ncalls()
	if n != 0 {
		*ev.sigRun() = sigRun{attached: 1}
	}
	b.unlock()
	for n > 0 {
		n--
		*ev.ncalls() = n
		if n == 0 {
			ev.sigRun().attached = 0
		}
		call(ev.Cb.Fn, ev.Fd, ev.Res, ev.Cb.Arg)
		b.lock()
		brk := b.gotBreak
		if ev.sigRun().aborted != 0 {
			*ev.sigRun() = sigRun{}
			n = 0
		}
		b.unlock()
		if brk {
			if n != 0 {
				ev.sigRun().attached = 0
			}
			return
		}
	}
}

// Reinit is event_reinit. goevent cannot continue in a forked child (the C
// layer refuses that case before it gets here); in the process that owns the
// base it rebuilds the epoll instance, which changes nothing observable.
func (b *Base) Reinit() error {
	b.lock()
	defer b.unlock()
	return b.be.reinit(b)
}

// release undoes NewBase's registration when no backend could be set up.
func (b *Base) release() {
	unregister(b.handle)
	b.hdr.Magic = 0
	mem.Free(unsafe.Pointer(b.hdr))
	b.hdr = nil
}

// Free is event_base_free (runFinalizers) and event_base_free_nofinalize.
// Events still added are deleted (their storage belongs to their owners);
// pending finalizers run if asked.
func (b *Base) Free(runFinalizers bool) {
	b.lock()
	if b.notifyFd >= 0 {
		_, _ = b.delLocked(b.notifyEv, DelAutoBlock)
		_ = unix.Close(b.notifyFd)
		b.notifyFd = -1
	}
	nDeleted := 0
	// Every event on a signal or an fd, internal ones included.
	for _, e := range b.sig {
		for e != nil && e.head != nil {
			_, _ = b.delLocked(e.head, DelAutoBlock)
		}
	}
	for _, e := range b.io {
		for e != nil && e.head != nil {
			_, _ = b.delLocked(e.head, DelAutoBlock)
		}
	}
	for len(b.heap) > 0 {
		_, _ = b.delLocked(b.heap[0], DelAutoBlock)
		nDeleted++
	}
	for _, c := range b.common {
		_, _ = b.delLocked(&c.ev, DelAutoBlock)
		for ev := c.events.head; ev != nil; {
			next := ev.tnext
			if ev.Cb.Flags&ListInternal == 0 {
				_, _ = b.delLocked(ev, DelAutoBlock)
				nDeleted++
			}
			ev = next
		}
	}
	commons := b.common
	b.common = nil
	for {
		n := b.freeQueues(runFinalizers)
		if n == 0 {
			break
		}
		nDeleted += n
	}
	if nDeleted != 0 {
		logf(LogDebug, "event_base_free: %d events were still set in base", nDeleted)
	}
	for o := b.once; o != nil; {
		next := o.next
		mem.Free(unsafe.Pointer(o))
		o = next
	}
	b.once = nil
	if b.be != nil {
		b.evsigDealloc()
		b.be.dealloc()
	}
	for _, c := range commons {
		mem.Free(unsafe.Pointer(c))
	}
	if b.sigEv != nil {
		mem.Free(unsafe.Pointer(b.sigEv))
		b.sigEv = nil
	}
	if b.notifyEv != nil {
		mem.Free(unsafe.Pointer(b.notifyEv))
		b.notifyEv = nil
	}
	b.heap = nil
	b.io = nil
	b.unlock()
	b.release()
}

// freeQueues cancels everything on the active queues, running finalizers if
// asked; finalizers may queue more, hence the caller's loop.
func (b *Base) freeQueues(runFinalizers bool) int {
	deleted := 0
	for i := range b.active {
		for cb := b.active[i].head; cb != nil; {
			next := cb.next
			deleted += b.cancelSingle(cb, runFinalizers)
			cb = next
		}
	}
	for cb := b.later.head; cb != nil; cb = b.later.head {
		deleted += b.cancelSingle(cb, runFinalizers)
	}
	return deleted
}

func (b *Base) cancelSingle(cb *Callback, runFinalizers bool) int {
	result := 0
	if cb.Flags&ListInit != 0 {
		ev := eventOf(cb)
		if cb.Flags&ListInternal == 0 {
			_, _ = b.delLocked(ev, DelEvenIfFinalizing)
			result = 1
		}
	} else {
		b.cancelCallbackLocked(cb, true)
		result = 1
	}
	if runFinalizers && cb.Flags&ListFinalizing != 0 {
		switch cb.Closure {
		case ClosureEventFinalize, ClosureEventFinalizeFree:
			ev := eventOf(cb)
			closure := cb.Closure
			b.unlock()
			if f := goCallbackAt(cb.Fn); f != nil {
				f(ev.Fd, EvFinalize, cb.Arg)
			} else {
				currentInvoker().Finalize(cb.Fn, ev, cb.Arg)
			}
			b.lock()
			if closure == ClosureEventFinalizeFree {
				mem.Free(unsafe.Pointer(ev))
			}
		case ClosureCbFinalize:
			b.unlock()
			(*Deferred)(unsafe.Pointer(cb)).run()
			b.lock()
		}
	}
	return result
}
