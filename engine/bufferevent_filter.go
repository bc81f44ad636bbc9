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

//export goev_bufferevent_filter_new
func goev_bufferevent_filter_new(u, in, out unsafe.Pointer, options C.int, freeCtx, ctx unsafe.Pointer) unsafe.Pointer {
	under := bev(u)
	if under == nil {
		return nil
	}
	b := bufferevent.NewFilter(under, in, out, int(options), freeCtx, ctx)
	if b == nil {
		return nil
	}
	if in == nil {
		in = C.ge_bev_null_filter_addr()
	}
	b.SetCInputFilter(in, ctx)
	return b.Pointer()
}

// callFilter calls a bufferevent_filter_cb: one Go->C crossing.
func callFilter(fn unsafe.Pointer, src, dst bufferevent.Buf, limit, mode int, ctx unsafe.Pointer) int {
	return int(C.ge_bev_filter_call(fn, src.Pointer(), dst.Pointer(), C.ssize_t(limit),
		C.int(mode), ctx))
}

// callFree calls a filter context's destructor.
func callFree(fn, ctx unsafe.Pointer) { C.ge_bev_filter_free_ctx(fn, ctx) }
