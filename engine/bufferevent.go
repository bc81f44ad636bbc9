package main

// bufferevent.go: the Go half of event2/bufferevent.h,
// bufferevent_compat.h and bufferevent_struct.h for socket bufferevents.
// The public functions are in bufferevent.c: trivial ones (getters, setcb,
// read/write, which are evbuffer calls) stay in C; the rest make one call
// into these goev_bufferevent_* exports. This file also plugs core/loop and
// core/evbuffer into core/bufferevent's Loop and Buf interfaces.

/*
#include "engine.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/bufferevent"
	"goevent/core/evbuffer"
	"goevent/core/loop"
	"goevent/core/mem"
)

// EVTHREAD_LOCKTYPE_RECURSIVE: bufferevent locks are recursive.
const lockRecursive = 1

// Addresses of the C library's buffer hooks, looked up once per engine
// copy (each lookup is a call into C).
var addrBevOutAdded, addrBevInWMChanged, addrBevPairOutAdded unsafe.Pointer

func setupBufferevents() {
	addrBevOutAdded = C.ge_bev_out_added_addr()
	addrBevInWMChanged = C.ge_bev_in_wm_changed_addr()
	addrBevPairOutAdded = C.ge_bev_pair_out_added_addr()
	bufferevent.Setup(&bufferevent.Env{
		Loop:          loopAdapter{},
		NewBuf:        newEvBuf,
		Buf:           func(p unsafe.Pointer) bufferevent.Buf { return evBuf{evbuffer.FromPointer(p)} },
		RegisterWatch: registerWatch,
		CallFilter:    callFilter,
		CallFree:      callFree,
		AllocHeader:   mem.Alloc,
		FreeHeader:    mem.Free,
		BufSize:       evbuffer.Size,
		NewBufAt:      func(p unsafe.Pointer) bufferevent.Buf { return evBuf{evbuffer.NewAt(p)} },
		DeferredSize:  loop.DeferredSize,
		WatchSize:     evbuffer.CBEntrySize,
		NewDeferredAt: func(p unsafe.Pointer, pri int, kind uint32, arg unsafe.Pointer) unsafe.Pointer {
			return unsafe.Pointer(loop.NewDeferredAt(p, uint8(pri), loop.DeferredKind(kind), arg))
		},
		CallData: func(fn, bev, arg unsafe.Pointer) {
			C.ge_bev_call_data(C.uintptr_t(uintptr(fn)), C.uintptr_t(uintptr(bev)), C.uintptr_t(uintptr(arg)))
		},
		CallEvent: func(fn, bev unsafe.Pointer, what int16, arg unsafe.Pointer, e int32) {
			C.ge_bev_call_event(C.uintptr_t(uintptr(fn)), C.uintptr_t(uintptr(bev)), C.short(what),
				C.uintptr_t(uintptr(arg)), C.int(e))
		},
		Errno:          func() int32 { return int32(C.ge_errno_get()) },
		Lock:           func(l unsafe.Pointer) { C.ge_lock_acquire(l) },
		Unlock:         func(l unsafe.Pointer) { C.ge_lock_release(l) },
		AllocLock:      func() unsafe.Pointer { return C.ge_lock_alloc(lockRecursive) },
		FreeLock:       func(l unsafe.Pointer) { C.ge_lock_free(l, lockRecursive) },
		Warn:           logWarn,
		SockReadFn:     C.ge_bev_sock_readcb_addr(),
		SockWriteFn:    C.ge_bev_sock_writecb_addr(),
		DeferredFn:     C.ge_bev_deferred_run_addr(),
		SockFinalizeFn: C.ge_bev_sock_finalize_addr(),
	})
	// A buffer's queued deferred callback run keeps its bufferevent alive,
	// as in libevent.
	evbuffer.ParentIncref = func(p uintptr) {
		if b := bufferevent.FromPointer(*(*unsafe.Pointer)(unsafe.Pointer(&p))); b != nil {
			b.IncrefLocked()
		}
	}
	evbuffer.ParentDecref = func(p uintptr) {
		if b := bufferevent.FromPointer(*(*unsafe.Pointer)(unsafe.Pointer(&p))); b != nil {
			b.Decref()
		}
	}
	// The filter's hooks, which the C handlers recognise.
	rd, wr := bufferevent.FilterHooks()
	C.ge_filt_hooks_set(rd, wr)
}

func logWarn(msg string) {
	cs := C.CString(msg)
	C.ge_log_str(C.GE_LOG_WARN, cs)
	C.free(unsafe.Pointer(cs))
}

// ---- core/loop behind bufferevent.Loop ------------------------------------

type loopAdapter struct{}

func resolveBase(base unsafe.Pointer) unsafe.Pointer {
	if base == nil {
		return C.ge_bev_current_base()
	}
	return base
}

func rc(err error) int {
	if err != nil {
		return -1
	}
	return 0
}

func (loopAdapter) RegisterCallback(f loop.GoCallback) unsafe.Pointer {
	return loop.RegisterGoCallback(f)
}

func (loopAdapter) Assign(ev *loop.Event, base unsafe.Pointer, fd int, events int16, fn, arg unsafe.Pointer) int {
	return rc(loop.Assign(ev, loop.FromPtr(resolveBase(base)), int32(fd), events, fn, arg))
}

func (loopAdapter) Add(ev *loop.Event, tv *loop.Timeval) int { return rc(loop.Add(ev, tv)) }

func (loopAdapter) Del(ev *loop.Event) int {
	if ev.Base == nil {
		return 0
	}
	return rc(loop.Del(ev, loop.DelAutoBlock))
}

func (loopAdapter) Pending(ev *loop.Event, what int16) bool {
	if ev.Base == nil {
		return false
	}
	n, _ := loop.Pending(ev, what, false)
	return n != 0
}

func (loopAdapter) RemoveTimer(ev *loop.Event) int {
	if ev.Base == nil {
		return -1
	}
	return rc(loop.RemoveTimer(ev))
}

// PrioritySet is event_priority_set: refused while the event is active or
// for a priority the base does not have.
func (loopAdapter) PrioritySet(ev *loop.Event, pri int) int {
	if ev.Cb.Flags&loop.ListActive != 0 {
		return -1
	}
	b := loop.FromPtr(ev.Base)
	if b == nil || pri < 0 || pri >= b.NPriorities() {
		return -1
	}
	ev.Cb.Pri = uint8(pri)
	return 0
}

// BaseSet is event_base_set: only for an event that is not added.
func (loopAdapter) BaseSet(base unsafe.Pointer, ev *loop.Event) int {
	b := loop.FromPtr(base)
	if b == nil || ev.Cb.Flags != loop.ListInit {
		return -1
	}
	ev.Base = base
	ev.Cb.Pri = uint8(b.NPriorities() / 2)
	return 0
}

func (loopAdapter) NPriorities(base unsafe.Pointer) int {
	if b := loop.FromPtr(resolveBase(base)); b != nil {
		return b.NPriorities()
	}
	return 1
}

type deferredAdapter struct{ d *loop.Deferred }

func (loopAdapter) RegisterDeferred(f func(arg unsafe.Pointer)) uint32 {
	return uint32(loop.RegisterDeferred(f))
}

func (loopAdapter) NewDeferred(pri int, kind uint32, arg unsafe.Pointer) unsafe.Pointer {
	return unsafe.Pointer(loop.NewDeferred(uint8(pri), loop.DeferredKind(kind), arg))
}

func (loopAdapter) Deferred(p unsafe.Pointer) bufferevent.Deferred {
	return deferredAdapter{(*loop.Deferred)(p)}
}

func (d deferredAdapter) Schedule(base unsafe.Pointer) bool {
	if b := loop.FromPtr(resolveBase(base)); b != nil {
		return b.Schedule(d.d)
	}
	return false
}

func (d deferredAdapter) Cancel(base unsafe.Pointer) {
	if b := loop.FromPtr(resolveBase(base)); b != nil {
		b.Cancel(d.d)
	}
}

func (d deferredAdapter) SetPriority(pri int) { d.d.SetPriority(uint8(pri)) }

func (d deferredAdapter) CallbackPtr() unsafe.Pointer {
	if d.d == nil {
		return nil
	}
	return d.d.CallbackPtr()
}

func (d deferredAdapter) SetCallback(fn, arg unsafe.Pointer) {
	if d.d != nil {
		d.d.SetCFunc(fn, arg)
	}
}
func (d deferredAdapter) Free() { d.d.Free() }
func (d deferredAdapter) FreeInto(batch mem.Batch) mem.Batch {
	d.d.FreeInto(&batch)
	return batch
}

func (loopAdapter) Finalize(ev, also *loop.Event, fn, arg unsafe.Pointer) {
	if also != nil && also.Base != nil {
		_ = loop.FinalizeAlso(also)
	}
	_ = loop.FinalizeCallback(ev, fn)
}

// ---- core/evbuffer behind bufferevent.Buf ---------------------------------

type evBuf struct{ b *evbuffer.Buffer }

func newEvBuf() bufferevent.Buf {
	b := evbuffer.New()
	if b == nil {
		return nil
	}
	return evBuf{b}
}

func (e evBuf) Pointer() unsafe.Pointer { return e.b.Pointer() }
func (e evBuf) Len() int                { return e.b.Len() }
func (e evBuf) Freeze(start bool)       { e.b.Freeze(start) }
func (e evBuf) Unfreeze(start bool)     { e.b.Unfreeze(start) }

// ReadFd and WriteFd make their system calls from C (bufferevent_io.go).
func (e evBuf) ReadFd(fd, howmuch int) (int, unix.Errno) { return bevRead(e.b, fd, howmuch) }
func (e evBuf) WriteFd(fd, atmost int, notSock bool) (int, unix.Errno) {
	return bevWrite(e.b, fd, atmost, notSock)
}

func (e evBuf) SetMaxRead(n int) {
	if n < 0 {
		n = evbuffer.DefaultMaxRead()
	}
	e.b.SetMaxRead(n)
}

// registerWatch makes a bufferevent watcher a Go callback kind of the
// evbuffers.
func registerWatch(f bufferevent.WatchFunc) bufferevent.WatchKind {
	return bufferevent.WatchKind(evbuffer.RegisterGoCallback(
		func(_ *evbuffer.Buffer, info evbuffer.CBInfo, arg unsafe.Pointer) {
			f(arg, int(info.OrigSize), int(info.NAdded), int(info.NDeleted))
		}))
}

func (e evBuf) Watch(kind bufferevent.WatchKind, arg unsafe.Pointer, noDefer bool) unsafe.Pointer {
	ent := e.b.AddGoCallback(evbuffer.GoCallbackKind(kind), arg)
	if ent == nil {
		return nil
	}
	if noDefer {
		e.b.CBSetFlags(ent, evbuffer.CBNoDefer)
	}
	return unsafe.Pointer(ent)
}

func (e evBuf) WatchAt(p unsafe.Pointer, kind bufferevent.WatchKind, arg unsafe.Pointer) unsafe.Pointer {
	return unsafe.Pointer(e.b.AddGoCallbackAt(p, evbuffer.GoCallbackKind(kind), arg))
}

func (e evBuf) SetWatchEnabled(w unsafe.Pointer, on bool) {
	ent := evbuffer.CBEntryFromPointer(w)
	if on {
		e.b.CBSetFlags(ent, evbuffer.CBEnabled)
	} else {
		e.b.CBClearFlags(ent, evbuffer.CBEnabled)
	}
}

// IdleWhileInserted lets the C fast paths skip w while ev is inserted (see
// evbuffer.SetIdleWhileInserted).
// With a socket bufferevent's C handlers in use, the fast paths may also
// add while ev is not inserted: ge_bev_out_added does the watcher's work.
func (e evBuf) IdleWhileInserted(w unsafe.Pointer, ev *loop.Event, owner unsafe.Pointer) {
	e.b.SetIdleWhileInserted(evbuffer.CBEntryFromPointer(w), unsafe.Pointer(&ev.Cb.Flags),
		addrBevOutAdded, owner)
}

// WMWatch lets the C fast paths change a bufferevent's input and apply the
// read high watermark themselves (ge_bev_in_wm_changed).
func (e evBuf) WMWatch(w unsafe.Pointer, owner unsafe.Pointer) {
	e.b.SetIdleWhileInserted(evbuffer.CBEntryFromPointer(w), nil, addrBevInWMChanged, owner)
}

// PairWatch lets the C fast paths add to a pair end's output and move the
// data to the partner themselves (ge_bev_pair_out_added).
func (e evBuf) PairWatch(w unsafe.Pointer, owner unsafe.Pointer) {
	e.b.SetIdleWhileInserted(evbuffer.CBEntryFromPointer(w), nil, addrBevPairOutAdded, owner)
}

func (e evBuf) SetDrainsToFd()                    { e.b.SetFlags(uint64(evbuffer.FlagDrainsToFD)) }
func (e evBuf) EnableLocking(lock unsafe.Pointer) { e.b.EnableLocking(lock, false) }
func (e evBuf) SetParent(h uintptr)               { e.b.SetParent(h) }
func (e evBuf) Free()                             { e.b.Free() }

// FreeInto is Free through batch; a buffer of a bufferevent never owns its
// lock (the bufferevent does), so there is none to free here.
func (e evBuf) FreeInto(batch mem.Batch) mem.Batch {
	e.b.FreeInto(&batch)
	return batch
}

// ---- exports --------------------------------------------------------------

func bev(p unsafe.Pointer) *bufferevent.BEV { return bufferevent.FromPointer(p) }

func tvArg(p *C.struct_timeval) *loop.Timeval {
	if p == nil {
		return nil
	}
	return &loop.Timeval{Sec: int64(p.tv_sec), Usec: int64(p.tv_usec)}
}

//export goev_bufferevent_socket_new
func goev_bufferevent_socket_new(base unsafe.Pointer, fd C.int, options C.int) unsafe.Pointer {
	b := bufferevent.NewSocket(base, int(fd), int(options))
	if b == nil {
		return nil
	}
	return b.Pointer()
}

//export goev_bufferevent_socket_connect
func goev_bufferevent_socket_connect(p, sa unsafe.Pointer, salen C.int, errp *C.int) C.int {
	r, e := bev(p).Connect(sa, int(salen))
	if r < 0 && e != 0 {
		*errp = C.int(e)
	}
	return C.int(r)
}

//export goev_bufferevent_connect_hostname
func goev_bufferevent_connect_hostname(p unsafe.Pointer, result C.int, sa unsafe.Pointer, salen C.int) {
	bev(p).ConnectHostname(int(result), sa, int(salen))
}

//export goev_bufferevent_free
func goev_bufferevent_free(p unsafe.Pointer) { bev(p).Free() }

//export goev_bufferevent_enable
func goev_bufferevent_enable(p unsafe.Pointer, what C.short) C.int {
	return C.int(bev(p).Enable(int16(what)))
}

//export goev_bufferevent_disable
func goev_bufferevent_disable(p unsafe.Pointer, what C.short) C.int {
	return C.int(bev(p).Disable(int16(what)))
}

//export goev_bufferevent_set_timeouts
func goev_bufferevent_set_timeouts(p unsafe.Pointer, rd, wr *C.struct_timeval) C.int {
	return C.int(bev(p).SetTimeouts(tvArg(rd), tvArg(wr)))
}

//export goev_bufferevent_setwatermark
func goev_bufferevent_setwatermark(p unsafe.Pointer, events C.short, low, high C.size_t) {
	bev(p).SetWatermark(int16(events), uintptr(low), uintptr(high))
}

//export goev_bufferevent_trigger
func goev_bufferevent_trigger(p unsafe.Pointer, iotype C.short, options C.int) {
	bev(p).Trigger(int16(iotype), int(options))
}

//export goev_bufferevent_trigger_event
func goev_bufferevent_trigger_event(p unsafe.Pointer, what C.short, options C.int, callerErr C.int) {
	bev(p).TriggerEvent(int16(what), int(options), int32(callerErr))
}

//export goev_bufferevent_incref
func goev_bufferevent_incref(p unsafe.Pointer) { bev(p).IncrefLocked() }

//export goev_bufferevent_decref
func goev_bufferevent_decref(p unsafe.Pointer) C.int { return C.int(bev(p).Decref()) }

//export goev_bufferevent_lock
func goev_bufferevent_lock(p unsafe.Pointer) { bev(p).IncrefAndLock() }

//export goev_bufferevent_unlock
func goev_bufferevent_unlock(p unsafe.Pointer) { bev(p).DecrefAndUnlock() }

//export goev_bufferevent_flush
func goev_bufferevent_flush(p unsafe.Pointer, iotype C.short, mode C.int) C.int {
	return C.int(bev(p).Flush(int16(iotype), int(mode)))
}

//export goev_bufferevent_setfd
func goev_bufferevent_setfd(p unsafe.Pointer, fd C.int) C.int { return C.int(bev(p).SetFd(int(fd))) }

//export goev_bufferevent_getfd
func goev_bufferevent_getfd(p unsafe.Pointer) C.int { return C.int(bev(p).GetFd()) }

//export goev_bufferevent_get_underlying
func goev_bufferevent_get_underlying(p unsafe.Pointer) unsafe.Pointer { return bev(p).Underlying() }

//export goev_bufferevent_priority_set
func goev_bufferevent_priority_set(p unsafe.Pointer, pri C.int) C.int {
	return C.int(bev(p).PrioritySet(int(pri)))
}

//export goev_bufferevent_base_set
func goev_bufferevent_base_set(base, p unsafe.Pointer) C.int { return C.int(bev(p).BaseSet(base)) }

//export goev_bufferevent_max_single
func goev_bufferevent_max_single(p unsafe.Pointer, write C.int, set C.int, n C.size_t) C.ssize_t {
	b := bev(p)
	switch {
	case set != 0 && write != 0:
		return C.ssize_t(b.SetMaxSingleWrite(uint64(n)))
	case set != 0:
		return C.ssize_t(b.SetMaxSingleRead(uint64(n)))
	case write != 0:
		return C.ssize_t(b.MaxSingleWrite())
	}
	return C.ssize_t(b.MaxSingleRead())
}

//export goev_bufferevent_get_dns_error
func goev_bufferevent_get_dns_error(p unsafe.Pointer) C.int { return C.int(bev(p).DNSError()) }
