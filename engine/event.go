package main

/*
#include <sys/time.h>
#include <time.h>
#include <event2/event_struct.h>
#include "engine.h"

// Trampolines: how the Go loop reaches user code, one Go->C crossing per
// callback. (On a base without a lock, event.c's queue runner calls plain C
// callbacks itself and needs none.)
static inline void ge_call_event_cb(void *fn, int fd, short what, void *arg)
{
	((event_callback_fn)fn)(fd, what, arg);
}
static inline void ge_call_finalize_cb(void *fn, void *ev, void *arg)
{
	((event_finalize_callback_fn)fn)((struct event *)ev, arg);
}
static inline int ge_call_foreach_cb(void *fn, void *base, void *ev, void *arg)
{
	return ((event_base_foreach_event_cb)fn)((const struct event_base *)base,
	    (const struct event *)ev, arg);
}
static inline struct timeval ge_mono_tv(int precise)
{
	struct timespec ts;
	struct timeval tv;
	if (clock_gettime(precise ? CLOCK_MONOTONIC : CLOCK_MONOTONIC_COARSE, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	tv.tv_sec = ts.tv_sec;
	tv.tv_usec = ts.tv_nsec / 1000;
	return tv;
}
static inline struct timeval ge_wall_tv(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv;
}
*/
import "C"

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/evbuffer"
	"goevent/core/loop"
)

func setupLoop() {
	loop.SetSignalState(C.ge_evsig_state_addr())
	loop.SetInvoker(loop.Invoker{
		Event: func(fn unsafe.Pointer, fd int32, what int16, arg unsafe.Pointer) {
			C.ge_call_event_cb(fn, C.int(fd), C.short(what), arg)
		},
		Finalize: func(fn unsafe.Pointer, ev *loop.Event, arg unsafe.Pointer) {
			C.ge_call_finalize_cb(fn, unsafe.Pointer(ev), arg)
		},
	})
	lo, hi := loop.GoCallbackRange()
	C.ge_gocb_set_range(C.uintptr_t(lo), C.uintptr_t(hi))
	loop.SetQueueRunner(func(hdr unsafe.Pointer, pri, maxToProcess int) int {
		return int(C.ge_run_queue(hdr, C.int(pri), C.int(maxToProcess)))
	})
	loop.SetClocks(
		func(precise bool) loop.Timeval {
			p := C.int(0)
			if precise {
				p = 1
			}
			tv := C.ge_mono_tv(p)
			return loop.Timeval{Sec: int64(tv.tv_sec), Usec: int64(tv.tv_usec)}
		},
		func() loop.Timeval {
			tv := C.ge_wall_tv()
			return loop.Timeval{Sec: int64(tv.tv_sec), Usec: int64(tv.tv_usec)}
		},
	)
	loop.SetSignalHooks(loop.SignalHooks{
		Install: func(sig int) (uintptr, error) {
			var saved C.uintptr_t
			if e := C.ge_sig_install(C.int(sig), &saved); e != 0 {
				return 0, unix.Errno(e)
			}
			return uintptr(saved), nil
		},
		Restore: func(sig int, saved uintptr) error {
			if e := C.ge_sig_restore(C.int(sig), C.uintptr_t(saved)); e != 0 {
				return unix.Errno(e)
			}
			return nil
		},
		SetTarget: func(fd int) { C.ge_sig_set_target(C.int(fd)) },
		Discard:   func(saved uintptr) { C.ge_sig_discard(C.uintptr_t(saved)) },
	})
	// Deferred evbuffer callbacks (evbuffer_defer_callbacks) run from the
	// loop. core/evbuffer knows nothing of the loop; this is the join.
	evbuffer.ScheduleDeferred = scheduleBufferCallbacks
	evbuffer.FreeDeferred = func(p unsafe.Pointer) { (*loop.Deferred)(p).Free() }
	bufDeferredKind = loop.RegisterDeferred(runBufferDeferred)
	loop.SetDeferredDrop(bufDeferredKind, dropBufferDeferred)
	loop.SetLogger(func(severity int, msg string) {
		cs := C.CString(msg)
		C.ge_log_str(C.int(severity), cs)
		C.free(unsafe.Pointer(cs))
	})
}

// cGetenv reads the C environment, which the program may have changed
// since the Go runtime copied it at load time.
func cGetenv(name string) (string, bool) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	v := C.getenv(cs)
	if v == nil {
		return "", false
	}
	return C.GoString(v), true
}

// errnoOf extracts the system error a failure carries (0 if none).
func errnoOf(err error) C.int {
	var e unix.Errno
	if errors.As(err, &e) {
		return C.int(e)
	}
	return 0
}

func ev(p *C.struct_event) *loop.Event { return (*loop.Event)(unsafe.Pointer(p)) }

func tvp(p *C.struct_timeval) *loop.Timeval { return (*loop.Timeval)(unsafe.Pointer(p)) }

// base resolves a struct event_base *, logging when it names no live base.
func base(fn string, p unsafe.Pointer) *loop.Base {
	b := loop.FromPtr(p)
	if b == nil {
		cs := C.CString(fn + ": not a live event_base")
		C.ge_log_str(C.GE_LOG_WARN, cs)
		C.free(unsafe.Pointer(cs))
	}
	return b
}

//export goev_event_base_new
func goev_event_base_new(flags, require, avoidMask C.int, maxSec, maxUsec C.long,
	maxCallbacks, limitPrio, lockable C.int, errOut *C.int) unsafe.Pointer {
	cfg := loop.Config{
		Flags:           int(flags),
		RequireFeatures: int(require),
		MaxCallbacks:    int(maxCallbacks),
		LimitAfterPrio:  int(limitPrio),
		UseLock:         lockable != 0,
		Getenv:          cGetenv,
	}
	for i, name := range loop.Methods() {
		if avoidMask&(1<<i) != 0 {
			cfg.AvoidMethods = append(cfg.AvoidMethods, name)
		}
	}
	if maxSec >= 0 {
		cfg.MaxDispatch = &loop.Timeval{Sec: int64(maxSec), Usec: int64(maxUsec)}
	}
	b, err := loop.NewBase(cfg)
	if err != nil {
		*errOut = errnoOf(err)
		return nil
	}
	return b.Ptr()
}

//export goev_event_base_free
func goev_event_base_free(p unsafe.Pointer, runFinalizers C.int) {
	if b := base("event_base_free", p); b != nil {
		b.Free(runFinalizers != 0)
	}
}

//export goev_event_reinit
func goev_event_reinit(p unsafe.Pointer, prepared C.int) C.int {
	b := base("event_reinit", p)
	if b == nil {
		if prepared >= 0 {
			_ = unix.Close(int(prepared))
		}
		return -1
	}
	if b.ReinitPrepared(int(prepared)) != nil {
		return -1
	}
	return 0
}

//export goev_event_base_priority_init
func goev_event_base_priority_init(p unsafe.Pointer, n C.int) C.int {
	b := base("event_base_priority_init", p)
	if b == nil {
		return -1
	}
	return C.int(b.PriorityInit(int(n)))
}

//export goev_event_base_get_num_events
func goev_event_base_get_num_events(p unsafe.Pointer, which C.int) C.int {
	b := base("event_base_get_num_events", p)
	if b == nil {
		return -1
	}
	return C.int(b.NumEvents(int(which)))
}

//export goev_event_base_get_max_events
func goev_event_base_get_max_events(p unsafe.Pointer, which, clear C.int) C.int {
	b := base("event_base_get_max_events", p)
	if b == nil {
		return -1
	}
	return C.int(b.MaxEvents(int(which), clear != 0))
}

//export goev_event_gettime_monotonic
func goev_event_gettime_monotonic(p unsafe.Pointer, tv *C.struct_timeval) C.int {
	b := base("event_gettime_monotonic", p)
	if b == nil {
		return -1
	}
	*tvp(tv) = b.MonotonicTime()
	return 0
}

//export goev_event_base_gettimeofday_cached
func goev_event_base_gettimeofday_cached(p unsafe.Pointer, tv *C.struct_timeval) C.int {
	b := base("event_base_gettimeofday_cached", p)
	if b == nil {
		return -1
	}
	*tvp(tv) = b.GettimeofdayCached()
	return 0
}

//export goev_event_base_update_cache_time
func goev_event_base_update_cache_time(p unsafe.Pointer) {
	if b := base("event_base_update_cache_time", p); b != nil {
		b.UpdateCacheTime()
	}
}

//export goev_event_base_init_common_timeout
func goev_event_base_init_common_timeout(p unsafe.Pointer, d *C.struct_timeval) unsafe.Pointer {
	b := base("event_base_init_common_timeout", p)
	if b == nil {
		return nil
	}
	return unsafe.Pointer(b.InitCommonTimeout(*tvp(d)))
}

//export goev_evthread_make_base_notifiable
func goev_evthread_make_base_notifiable(p unsafe.Pointer, errOut *C.int) C.int {
	b := base("evthread_make_base_notifiable", p)
	if b == nil {
		return -1
	}
	if err := b.MakeNotifiable(); err != nil {
		*errOut = errnoOf(err)
		return -1
	}
	return 0
}

//export goev_event_base_loop
func goev_event_base_loop(p unsafe.Pointer, flags C.int, errOut *C.int) C.int {
	b := base("event_base_loop", p)
	if b == nil {
		return -1
	}
	r, err := b.Loop(int(flags))
	if err != nil {
		*errOut = errnoOf(err)
	}
	return C.int(r)
}

//export goev_event_base_loopexit
func goev_event_base_loopexit(p unsafe.Pointer, tv *C.struct_timeval) C.int {
	b := base("event_base_loopexit", p)
	if b == nil || b.LoopExit(tvp(tv)) != nil {
		return -1
	}
	return 0
}

//export goev_event_base_loopbreak
func goev_event_base_loopbreak(p unsafe.Pointer) {
	if b := base("event_base_loopbreak", p); b != nil {
		b.LoopBreak()
	}
}

//export goev_event_base_loopcontinue
func goev_event_base_loopcontinue(p unsafe.Pointer) {
	if b := base("event_base_loopcontinue", p); b != nil {
		b.LoopContinue()
	}
}

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

//export goev_event_base_got_exit
func goev_event_base_got_exit(p unsafe.Pointer) C.int {
	b := base("event_base_got_exit", p)
	if b == nil {
		return -1
	}
	return cbool(b.GotExit())
}

//export goev_event_base_got_break
func goev_event_base_got_break(p unsafe.Pointer) C.int {
	b := base("event_base_got_break", p)
	if b == nil {
		return -1
	}
	return cbool(b.GotBreak())
}

//export goev_event_base_get_running_event
func goev_event_base_get_running_event(p unsafe.Pointer) unsafe.Pointer {
	b := base("event_base_get_running_event", p)
	if b == nil {
		return nil
	}
	return unsafe.Pointer(b.RunningEvent())
}

//export goev_event_base_once
func goev_event_base_once(p unsafe.Pointer, fd C.int, events C.short, fn, arg unsafe.Pointer, tv *C.struct_timeval) C.int {
	b := base("event_base_once", p)
	if b == nil || b.Once(int32(fd), int16(events), fn, arg, tvp(tv)) != nil {
		return -1
	}
	return 0
}

//export goev_event_base_foreach_event
func goev_event_base_foreach_event(p unsafe.Pointer, fn, arg unsafe.Pointer) C.int {
	b := base("event_base_foreach_event", p)
	if b == nil {
		return -1
	}
	return C.int(b.Foreach(func(e *loop.Event) int {
		return int(C.ge_call_foreach_cb(fn, p, unsafe.Pointer(e), arg))
	}))
}

//export goev_event_base_dump_events
func goev_event_base_dump_events(p unsafe.Pointer) *C.char {
	b := base("event_base_dump_events", p)
	if b == nil {
		return nil
	}
	return C.CString(b.Dump())
}

//export goev_event_base_active_by_fd
func goev_event_base_active_by_fd(p unsafe.Pointer, fd C.int, events C.short) {
	if b := base("event_base_active_by_fd", p); b != nil {
		b.ActiveByFd(int32(fd), int16(events))
	}
}

//export goev_event_base_active_by_signal
func goev_event_base_active_by_signal(p unsafe.Pointer, sig C.int) {
	if b := base("event_base_active_by_signal", p); b != nil {
		b.ActiveBySignal(int(sig))
	}
}

//export goev_event_add
func goev_event_add(e *C.struct_event, tv *C.struct_timeval, errOut *C.int) C.int {
	if err := loop.Add(ev(e), tvp(tv)); err != nil {
		*errOut = errnoOf(err)
		return -1
	}
	return 0
}

//export goev_event_del
func goev_event_del(e *C.struct_event, mode C.int, errOut *C.int) C.int {
	if err := loop.Del(ev(e), int(mode)); err != nil {
		*errOut = errnoOf(err)
		return -1
	}
	return 0
}

//export goev_event_remove_timer
func goev_event_remove_timer(e *C.struct_event) C.int {
	if loop.RemoveTimer(ev(e)) != nil {
		return -1
	}
	return 0
}

//export goev_cloop_start
func goev_cloop_start(hdr unsafe.Pointer) { loop.CLoopStart(hdr) }

//export goev_cloop_make_later_active
func goev_cloop_make_later_active(hdr unsafe.Pointer) { loop.CLoopMakeLaterActive(hdr) }

//export goev_cloop_io_ready_run
func goev_cloop_io_ready_run(hdr unsafe.Pointer, n C.int, count *C.int) C.int {
	pri, c := loop.CLoopIOReadyRun(hdr, int(n))
	*count = C.int(c)
	return C.int(pri)
}

//export goev_cloop_wake_waiters
func goev_cloop_wake_waiters(hdr unsafe.Pointer) { loop.CLoopWakeWaiters(hdr) }

//export goev_cloop_timeouts
func goev_cloop_timeouts(hdr unsafe.Pointer) { loop.CLoopTimeouts(hdr) }

//export goev_cloop_wait_error
func goev_cloop_wait_error(e C.int) { loop.CLoopWaitError(int(e)) }

//export goev_loop_run_batch
func goev_loop_run_batch(hdr, cb unsafe.Pointer, pri, maxToProcess C.int) C.int {
	return C.int(loop.RunBatch(hdr, cb, int(pri), int(maxToProcess)))
}

//export goev_event_active
func goev_event_active(e *C.struct_event, res C.int, ncalls C.short) {
	loop.Active(ev(e), int(res), int16(ncalls))
}

//export goev_event_pending
func goev_event_pending(e *C.struct_event, events C.short, tv *C.struct_timeval) C.int {
	flags, t := loop.Pending(ev(e), int16(events), tv != nil)
	if tv != nil && flags&loop.EvTimeout != 0 {
		*tvp(tv) = t
	}
	return C.int(flags)
}

//export goev_event_finalize
func goev_event_finalize(e *C.struct_event, fn unsafe.Pointer, free C.int) C.int {
	if loop.Finalize(ev(e), fn, free != 0) != nil {
		return -1
	}
	return 0
}

// ---- deferred evbuffer callbacks -------------------------------------------

// Deferred evbuffer callbacks: each buffer that defers its callbacks gets
// one loop.Deferred, made the first time a run is queued and kept in the
// buffer's own memory (evbuffer's deferred slot), which runs
// RunDeferredCallbacks with the buffer as its argument. evbuffer asks for at
// most one run per buffer at a time and keeps the buffer alive until it
// happens.
var bufDeferredKind loop.DeferredKind

func runBufferDeferred(arg unsafe.Pointer) { evbuffer.FromPointer(arg).RunDeferredCallbacks() }

// dropBufferDeferred: the base was freed with the buffer's run queued. As
// in libevent the buffer keeps the reference that run held (a buffer freed
// meanwhile stays allocated for good), but the Deferred, which libevent
// keeps inside the buffer and goevent beside it, is given back.
func dropBufferDeferred(d *loop.Deferred, arg unsafe.Pointer) {
	evbuffer.FromPointer(arg).SetDeferredSlot(nil)
	d.Free()
}

// scheduleBufferCallbacks queues b's callbacks on base (0: the current
// base) in the middle priority, as libevent's evbuffer_defer_callbacks
// does. With no live base to run them, they run now rather than never.
func scheduleBufferCallbacks(base uintptr, b *evbuffer.Buffer) {
	bp := *(*unsafe.Pointer)(unsafe.Pointer(&base))
	if bp == nil {
		bp = C.ge_current_base_get()
	}
	lb := loop.FromPtr(bp)
	if lb == nil {
		b.RunDeferredCallbacks()
		return
	}
	d := (*loop.Deferred)(b.DeferredSlot())
	if d == nil {
		if d = loop.NewDeferred(0, bufDeferredKind, b.Pointer()); d == nil {
			b.RunDeferredCallbacks()
			return
		}
		b.SetDeferredSlot(unsafe.Pointer(d))
	}
	d.SetPriority(uint8(lb.NPriorities() / 2))
	lb.Schedule(d)
}
