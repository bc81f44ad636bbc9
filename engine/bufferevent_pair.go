package main

// bufferevent_pair.go: the Go half of bufferevent_pair_new and
// bufferevent_pair_get_partner (event2/bufferevent.h), whose C entry points
// are in bufferevent_pair.c. It also gives the evbuffer adapter of
// bufferevent.go the chain-moving operations pairs and filters rely on.

/*
#include "engine.h"
*/
import "C"

import (
	"unsafe"

	"goevent/core/bufferevent"
	"goevent/core/evbuffer"
)

// lock2 takes the locks of two buffers in address order, as evbuffer's C
// functions do, so that two threads moving data between the same buffers
// in opposite directions cannot deadlock. Buffers without a lock (the usual
// case) cost no crossing.
func lock2(a, b *evbuffer.Buffer) func() {
	la, lb := a.LockObject(), b.LockObject()
	if la == nil && lb == nil {
		return func() {}
	}
	if uintptr(la) > uintptr(lb) {
		la, lb = lb, la
	}
	if la != nil {
		C.ge_lock_acquire(la)
	}
	if lb != nil && lb != la {
		C.ge_lock_acquire(lb)
	}
	return func() {
		if lb != nil && lb != la {
			C.ge_lock_release(lb)
		}
		if la != nil {
			C.ge_lock_release(la)
		}
	}
}

// AddBuffer is evbuffer_add_buffer(e, src): src's chains change hands.
func (e evBuf) AddBuffer(src bufferevent.Buf) int {
	s := src.(evBuf).b
	unlock := lock2(e.b, s)
	r := e.b.AddBuffer(s)
	unlock()
	return r
}

// RemoveBuffer is evbuffer_remove_buffer(e, dst, n).
func (e evBuf) RemoveBuffer(dst bufferevent.Buf, n int) int {
	d := dst.(evBuf).b
	unlock := lock2(e.b, d)
	r := e.b.RemoveBuffer(d, uintptr(n))
	unlock()
	return r
}

//export goev_bufferevent_pair_new
func goev_bufferevent_pair_new(base unsafe.Pointer, options C.int, out *unsafe.Pointer) C.int {
	b1, b2 := bufferevent.NewPair(base, int(options))
	if b1 == nil {
		return -1
	}
	s := unsafe.Slice(out, 2)
	s[0], s[1] = b1.Pointer(), b2.Pointer()
	return 0
}

//export goev_bufferevent_pair_get_partner
func goev_bufferevent_pair_get_partner(p unsafe.Pointer) unsafe.Pointer {
	if partner := bev(p).Partner(); partner != nil {
		return partner.Pointer()
	}
	return nil
}
