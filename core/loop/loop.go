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
	if b.hdr.Running {
		b.unlock()
		logf(LogWarn, "event_base_loop: reentrant invocation.  Only one event_base_loop can run on each event_base at once.")
		return -1, ErrReentrant
	}
	b.hdr.Running = true
	if b.lockable {
		// Other threads must be able to tell this one apart (they wait
		// for running callbacks; this thread must not). A thread that
		// called in from C is already locked; a goroutine must be.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b.hdr.OwnerTid = int32(unix.Gettid())
	}
	b.clearTimeCache()
	if b.sigAdded && b.nSignalsAdded > 0 {
		b.evsigSetBase()
	}
	b.hdr.GotTerm, b.hdr.GotBreak = false, false
	retval := 0
	var err error
	for {
		b.hdr.GotContinue = false
		b.hdr.NDeferreds = 0
		if b.hdr.GotTerm || b.hdr.GotBreak {
			break
		}
		var tv *Timeval
		if b.hdr.CountActive == 0 && flags&LoopNonblock == 0 {
			tv = b.timeoutNext()
		} else {
			tv = &Timeval{}
		}
		if flags&LoopNoExitOnEmpty == 0 && !b.haveEvents() && b.hdr.CountActive == 0 {
			retval = 1
			break
		}
		b.makeLaterActive()
		b.clearTimeCache()
		if err = b.be().dispatch(b, tv); err != nil {
			retval = -1
			break
		}
		b.updateTimeCache()
		b.timeoutProcess()
		if b.hdr.CountActive != 0 {
			n := b.processActive()
			if flags&LoopOnce != 0 && b.hdr.CountActive == 0 && n != 0 {
				break
			}
		} else if flags&LoopNonblock != 0 {
			break
		}
	}
	b.clearTimeCache()
	b.hdr.Running = false
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
	for i := 0; i < b.npri(); i++ {
		if b.queues()[i].head == nil {
			continue
		}
		b.hdr.RunningPriority = i
		maxToProcess, until := math.MaxInt32, (*Timeval)(nil)
		if i >= b.limitAfterPrio {
			maxToProcess, until = b.maxCallbacks, endtime
		}
		if queueRunner != nil && !b.lockable && until == nil {
			c = queueRunner(b.Ptr(), i, maxToProcess)
		} else {
			c = b.processQueue(i, maxToProcess, until)
		}
		if c != 0 {
			// Stop after a queue that ran real callbacks (or a
			// break): lower priorities wait for the next pass.
			break
		}
	}
	b.hdr.RunningPriority = -1
	return c
}

func (b *Base) processQueue(pri int, maxToProcess int, endtime *Timeval) int {
	count := 0
	// The queue is looked up afresh each time: a callback may call
	// event_base_priority_init once the queues are empty, which replaces
	// them.
	for {
		qs := b.queues()
		if pri >= len(qs) || qs[pri].head == nil {
			break
		}
		cb := qs[pri].head
		if b.runOne(cb) {
			count++
		}
		if b.hdr.GotBreak {
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
		if b.hdr.GotContinue {
			break
		}
	}
	return count
}

// runOne takes cb, the head of an active queue, off its queue (deleting a
// non-persistent event, as libevent does before running it) and runs it.
// It reports whether cb counts towards the callbacks run (internal ones do
// not). The base is locked on entry and on return.
func (b *Base) runOne(cb *Callback) bool {
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
	counted := cb.Flags&ListInternal == 0
	b.hdr.Current = cb
	b.hdr.CurrentWaiters = 0

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
		b.hdr.Current = nil
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
		b.hdr.Current = nil
		d := (*Deferred)(unsafe.Pointer(cb))
		b.unlock()
		d.run()
	default:
		logf(LogErr, "event_process_active: unknown closure %d", cb.Closure)
		b.unlock()
	}

	b.lock()
	b.hdr.Current = nil
	if b.hdr.CurrentWaiters != 0 {
		b.hdr.CurrentWaiters = 0
		b.wakeCurrentWaiters()
	}
	return counted
}

// QueueRunner runs active queue pri of the (lock-free) base whose header is
// hdr, with libevent's rules for one queue: stop after maxToProcess counted
// callbacks, on loopbreak (return -1) or on loopcontinue. It returns the
// number of counted callbacks run. The C ABI layer installs one written in C
// that calls C callbacks directly and hands everything else to RunBatch, so an
// event that only needs its callback called costs no crossing.
type QueueRunner func(hdr unsafe.Pointer, pri int, maxToProcess int) int

var queueRunner QueueRunner

// SetQueueRunner installs r (call before any base runs). Without one, or on
// a base with a lock, or with a dispatch deadline, the loop runs queues in
// Go.
func SetQueueRunner(r QueueRunner) { queueRunner = r }

// RunBatch is the Go half of a QueueRunner: it runs cb, the head of active
// queue pri of the base hdr names, exactly as the Go loop would, then keeps
// running the queue's new head for as long as it is one a C QueueRunner
// would hand back to Go anyway (see runsInGo), so that a run of Go
// callbacks (a bufferevent's read and write handlers, deferred callbacks)
// costs one crossing instead of one each. Between two callbacks it stops
// where processQueue would, on loopbreak, on loopcontinue or once
// maxToProcess counted callbacks have run (the first always runs), and
// leaves those checks to the caller, which must make them again; it also
// stops as soon as the head is a C function the caller can call itself. It
// returns the number of counted callbacks run.
func RunBatch(hdr, cb unsafe.Pointer, pri, maxToProcess int) int {
	b := FromPtr(hdr)
	if b == nil {
		return 0
	}
	return b.runBatch((*Callback)(cb), pri, maxToProcess)
}

func (b *Base) runBatch(c *Callback, pri, maxToProcess int) int {
	count := 0
	for {
		if b.runOne(c) {
			count++
		}
		if b.hdr.GotBreak || b.hdr.GotContinue || count >= maxToProcess {
			return count
		}
		// Looked up afresh, as in processQueue: the callback may have
		// replaced the queues.
		qs := b.queues()
		if pri >= len(qs) {
			return count
		}
		if c = qs[pri].head; c == nil || !runsInGo(c) {
			return count
		}
	}
}

// runsInGo reports whether running cb calls Go code in any case: it is a
// deferred callback without a C function (SetCFunc) or an event whose
// callback is a Go one. A C QueueRunner never runs such a callback itself;
// a batch of Go callbacks stops before anything else, so that C runs it.
func runsInGo(cb *Callback) bool {
	if cb.Flags&ListInit == 0 {
		return cb.Closure != ClosureCbSelf || cb.Fn == nil || goCallbackAt(cb.Fn) != nil
	}
	return goCallbackAt(cb.Fn) != nil
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
		brk := b.hdr.GotBreak
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

// Reinit is event_reinit, in libevent 2.1.12's steps, which a program
// forked after making the base calls in the child: the signal pipe and the
// wake-up eventfd, which the child would otherwise share with its parent,
// are closed (their events deleted without telling the backend, whose epoll
// instance the child shares with the parent too); an epoll base then gets a
// new epoll instance and signal pipe and every fd and signal with events is
// registered again; a poll or select base only gets a new signal pipe. A
// base that was notifiable becomes so again. Timers and active events are
// kept. Descriptors are closed and opened in libevent's order, so they get
// the numbers they would under libevent.
func (b *Base) Reinit() error { return b.ReinitPrepared(-1) }

// ReinitPrepared is Reinit with, when prepared >= 0, a new epoll instance
// in which the caller has already registered every fd the base watches
// (capi does that while a fresh engine starts after fork). It is adopted in
// place of the new instance Reinit would make, at the number that one
// would have got; a base that would not make one closes it first.
func (b *Base) ReinitPrepared(prepared int) error {
	b.lock()
	defer b.unlock()
	needReinit := b.beKind.isEpoll()
	if prepared >= 0 && (!needReinit || b.MethodIndex() != 0) {
		_ = unix.Close(prepared)
		prepared = -1
	}
	b.detached = needReinit
	hadSignal := false
	if b.sigAdded {
		_, _ = b.delLocked(b.sigEv, DelAutoBlock)
		b.sigAdded = false
		hadSignal = true
		b.syncSigSetBase()
	}
	for i := range b.sigPipe {
		if b.sigPipe[i] >= 0 {
			_ = unix.Close(b.sigPipe[i])
			b.sigPipe[i] = -1
		}
	}
	wasNotifiable := b.notifyFd >= 0
	if b.notifyFd >= 0 {
		_, _ = b.delLocked(b.notifyEv, DelAutoBlock)
		_ = unix.Close(b.notifyFd)
		b.notifyFd = -1
		b.notifyPending = false
	}
	b.detached = false

	var err error
	if needReinit {
		b.be().dealloc()
		// libevent's epoll_dealloc tears down the signal state too
		// (evsig_dealloc_): every handler the base installed is put
		// back to the disposition it replaced, so re-adding the signals
		// below saves that disposition again, and deleting a signal
		// event in the child restores what the program had.
		b.evsigDealloc()
		b.dropBackend()
		if _, err = newEpollAt(b, prepared); err != nil {
			logf(LogErr, "event_reinit: could not reinitialize event mechanism")
			return err
		}
		b.hdr.Method = int32(b.MethodIndex())
		err = b.reregister(prepared >= 0)
	} else {
		if err = b.evsigInit(); err == nil && hadSignal {
			if _, err = b.addLocked(b.sigEv, nil, false); err == nil {
				b.sigAdded = true
			}
			b.syncSigSetBase()
		}
	}
	if wasNotifiable && err == nil {
		err = b.makeNotifiableLocked()
	}
	return err
}

// reregister is libevent's evmap_reinit_: tell a fresh backend about every
// fd and signal that has events (a signal's handler is installed again,
// which also brings the signal pipe's event back).
func (b *Base) reregister(fdsDone bool) error {
	var firstErr error
	be := b.be()
	for fd := range b.io {
		if fdsDone {
			break
		}
		e := &b.io[fd]
		events := ioMask(e)
		if events == 0 {
			continue
		}
		if e.head != nil && e.head.Events&EvET != 0 {
			events |= EvET
		}
		if err := be.add(int32(fd), 0, events); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	// As libevent's evmap_reinit_: once an fd failed, signals are not
	// installed again (their dispositions stay those evsigDealloc put
	// back).
	if firstErr != nil {
		return firstErr
	}
	for sig := range b.sig {
		if b.sig[sig] == nil {
			continue
		}
		if err := b.evsigAdd(sig); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// release frees the base's memory (NewBase's failure path, and the last
// step of Free).
func (b *Base) release() {
	hdr := b.hdr
	hdr.Magic = 0
	b.heapFree()
	mem.Free(unsafe.Pointer(hdr.Active))
	// b lives in the same block as its header: gone from here on.
	mem.Free(unsafe.Pointer(hdr))
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
	for i := range b.sig {
		for b.sig[i] != nil {
			_, _ = b.delLocked(b.sig[i], DelAutoBlock)
		}
	}
	for i := range b.io {
		for e := &b.io[i]; e.head != nil; {
			_, _ = b.delLocked(e.head, DelAutoBlock)
		}
	}
	for b.hdr.HeapLen > 0 {
		_, _ = b.delLocked(b.heapArr()[0], DelAutoBlock)
		nDeleted++
	}
	for _, c := range b.common[:b.ncommon] {
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
	ncommon := b.ncommon
	b.ncommon = 0
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
	if b.beKind != beNone {
		b.evsigDealloc()
		b.be().dealloc()
		b.dropBackend()
	}
	for _, c := range commons[:ncommon] {
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
	b.heapFree()
	b.freeIoMap()
	b.unlock()
	b.release()
}

// freeQueues cancels everything on the active queues, running finalizers if
// asked; finalizers may queue more, hence the caller's loop.
func (b *Base) freeQueues(runFinalizers bool) int {
	deleted := 0
	qs := b.queues()
	for i := range qs {
		for cb := qs[i].head; cb != nil; {
			next := cb.next
			deleted += b.cancelSingle(cb, runFinalizers)
			cb = next
		}
	}
	for cb := b.hdr.Later.head; cb != nil; cb = b.hdr.Later.head {
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
		d, drop := dropOf(cb)
		b.cancelCallbackLocked(cb, true)
		result = 1
		if drop != nil {
			// The owner learns that the run will never come; it may
			// free d, so cb is not looked at again.
			b.unlock()
			drop(d, d.arg)
			b.lock()
			return result
		}
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

// ---- the C loop's calls into Go ------------------------------------------
//
// A base with hdr.CLoop set runs event_base_loop in C (capi/event.c), which
// follows Base.Loop step by step and calls these for the steps that need Go
// state. Each is a no-op for a pointer that names no live base.

// CLoopStart claims the signal pipe for the base, as Base.Loop does on
// start when signals are added.
func CLoopStart(hdr unsafe.Pointer) {
	if b := FromPtr(hdr); b != nil && b.sigAdded && b.nSignalsAdded > 0 {
		b.evsigSetBase()
	}
}

// CLoopMakeLaterActive moves callbacks activated for the next iteration
// onto the active queues.
func CLoopMakeLaterActive(hdr unsafe.Pointer) {
	if b := FromPtr(hdr); b != nil {
		b.makeLaterActive()
	}
}

// CLoopIOReadyRun activates the events of the first n entries epoll_wait
// wrote into the base's result array, then does what the C loop would do
// next up to its first crossing back: it refreshes the time cache, activates
// the due timers and, if the first callback processActive would run is a Go
// one (runsInGo), starts that queue with RunBatch. A pass whose ready events
// have Go callbacks thus costs one crossing. It returns the priority of the
// queue it started (RunningPriority is left set to it) and the number of
// counted callbacks RunBatch ran; the C loop makes processQueue's checks and
// goes on from there. It returns -1 if it ran no callback (the C loop goes
// on with processActive, the time cache and timers being done) and -2 if
// hdr names no live epoll base (it did nothing).
func CLoopIOReadyRun(hdr unsafe.Pointer, n int) (pri, count int) {
	b := FromPtr(hdr)
	if b == nil {
		return -2, 0
	}
	ep, ok := b.be().(*epollBackend)
	if !ok {
		return -2, 0
	}
	ep.activate(b, n)
	b.updateTimeCache()
	b.timeoutProcess()
	if b.hdr.CountActive == 0 {
		return -1, 0
	}
	for i, q := range b.queues() {
		if q.head == nil {
			continue
		}
		if !runsInGo(q.head) {
			return -1, 0
		}
		maxToProcess := math.MaxInt32
		if i >= b.hdr.LimitAfterPrio {
			maxToProcess = b.hdr.MaxCallbacks
		}
		b.hdr.RunningPriority = i
		return i, b.runBatch(q.head, i, maxToProcess)
	}
	return -1, 0
}

// CLoopWakeWaiters wakes the threads waiting for the callback the C loop
// just ran to return (see waitCurrent); the caller holds the base's lock.
func CLoopWakeWaiters(hdr unsafe.Pointer) {
	if b := FromPtr(hdr); b != nil {
		b.hdr.CurrentWaiters = 0
		b.wakeCurrentWaiters()
	}
}

// CLoopTimeouts activates the timers whose deadline has passed.
func CLoopTimeouts(hdr unsafe.Pointer) {
	if b := FromPtr(hdr); b != nil {
		b.timeoutProcess()
	}
}

// CLoopWaitError reports a failed epoll_wait as Base.Loop does.
func CLoopWaitError(errno int) {
	_ = epollWaitError(unix.Errno(errno))
}
