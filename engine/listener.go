package main

// listener.go: the Go half of event2/listener.h. listener.c checks
// arguments and makes one call into these goev_evconnlistener_* exports;
// the accept loop runs in core/listener and calls the user's callbacks
// through the trampolines in listener.c, one crossing per callback.

/*
#include "engine.h"
*/
import "C"

import (
	"unsafe"

	"goevent/core/listener"
	"goevent/core/loop"
	"goevent/core/mem"
)

func setupListeners() {
	listener.Setup(&listener.Env{
		Loop:        levLoop{},
		AllocHeader: mem.Alloc,
		FreeHeader:  mem.Free,
		CallAccept: func(fn, lev unsafe.Pointer, fd int, sa unsafe.Pointer, salen int, arg unsafe.Pointer) {
			C.ge_lev_call_accept(fn, lev, C.int(fd), sa, C.int(salen), arg)
		},
		CallError: func(fn, lev, arg unsafe.Pointer, e int32) {
			C.ge_lev_call_error(fn, lev, arg, C.int(e))
		},
		Lock:      func(l unsafe.Pointer) { C.ge_lock_acquire(l) },
		Unlock:    func(l unsafe.Pointer) { C.ge_lock_release(l) },
		AllocLock: func() unsafe.Pointer { return C.ge_lock_alloc(lockRecursive) },
		FreeLock:  func(l unsafe.Pointer) { C.ge_lock_free(l, lockRecursive) },
		Warn:      logWarn,
	})
}

// levLoop is core/loop behind listener.Loop; it shares the bufferevent
// adapter's behaviour.
type levLoop struct{}

func (levLoop) RegisterCallback(f loop.GoCallback) unsafe.Pointer {
	return loop.RegisterGoCallback(f)
}

func (levLoop) Assign(ev *loop.Event, base unsafe.Pointer, fd int, events int16, fn, arg unsafe.Pointer) int {
	return loopAdapter{}.Assign(ev, base, fd, events, fn, arg)
}

func (levLoop) Add(ev *loop.Event, tv *loop.Timeval) int { return loopAdapter{}.Add(ev, tv) }
func (levLoop) Del(ev *loop.Event) int                   { return loopAdapter{}.Del(ev) }

func lev(p unsafe.Pointer) *listener.Listener { return listener.FromPointer(p) }

//export goev_evconnlistener_new
func goev_evconnlistener_new(base, cb, arg unsafe.Pointer, flags C.uint, backlog C.int, fd C.int, errp *C.int) unsafe.Pointer {
	l, e := listener.New(base, cb, arg, int(flags), int(backlog), int(fd))
	if l == nil {
		*errp = C.int(e)
		return nil
	}
	return l.Pointer()
}

//export goev_evconnlistener_new_bind
func goev_evconnlistener_new_bind(base, cb, arg unsafe.Pointer, flags C.uint, backlog C.int, sa unsafe.Pointer, salen C.int, errp *C.int) unsafe.Pointer {
	l, e := listener.NewBind(base, cb, arg, int(flags), int(backlog), sa, int(salen))
	if l == nil {
		*errp = C.int(e)
		return nil
	}
	return l.Pointer()
}

//export goev_evconnlistener_free
func goev_evconnlistener_free(p unsafe.Pointer) { lev(p).Free() }

//export goev_evconnlistener_enable
func goev_evconnlistener_enable(p unsafe.Pointer) C.int { return C.int(lev(p).Enable()) }

//export goev_evconnlistener_disable
func goev_evconnlistener_disable(p unsafe.Pointer) C.int { return C.int(lev(p).Disable()) }

//export goev_evconnlistener_set_cb
func goev_evconnlistener_set_cb(p, cb, arg unsafe.Pointer) { lev(p).SetCB(cb, arg) }

//export goev_evconnlistener_set_error_cb
func goev_evconnlistener_set_error_cb(p, cb unsafe.Pointer) { lev(p).SetErrorCB(cb) }
