package main

// bufferevent_filter.go: the Go half of bufferevent_filter_new
// (event2/bufferevent.h); the C entry point and the trampolines that call
// the user's filter and context destructor are in bufferevent_filter.c.

/*
#include "engine.h"
*/
import "C"

import (
	"unsafe"

	"goevent/core/bufferevent"
)

// cFilter wraps a bufferevent_filter_cb: each invocation is one Go->C
// crossing. nil stays nil (the core's null filter moves chains in Go).
func cFilter(fn, ctx unsafe.Pointer) bufferevent.FilterFunc {
	if fn == nil {
		return nil
	}
	return func(src, dst bufferevent.Buf, limit, mode int) int {
		return int(C.ge_bev_filter_call(fn, src.Pointer(), dst.Pointer(), C.ssize_t(limit),
			C.int(mode), ctx))
	}
}

//export goev_bufferevent_filter_new
func goev_bufferevent_filter_new(u, in, out unsafe.Pointer, options C.int, freeCtx, ctx unsafe.Pointer) unsafe.Pointer {
	under := bev(u)
	if under == nil {
		return nil
	}
	var free func()
	if freeCtx != nil {
		free = func() { C.ge_bev_filter_free_ctx(freeCtx, ctx) }
	}
	b := bufferevent.NewFilter(under, cFilter(in, ctx), cFilter(out, ctx), int(options), free)
	if b == nil {
		return nil
	}
	if in == nil {
		in = C.ge_bev_null_filter_addr()
	}
	b.SetCInputFilter(in, ctx)
	return b.Pointer()
}
