package main

// bufferevent_ratelim.go: the Go half of event2/bufferevent.h's rate
// limiting. The token-bucket configuration is plain C data made and freed
// in bufferevent_ratelim.c; everything that touches a bufferevent or a
// group is one call into these goev_* exports.

/*
#include "engine.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/bufferevent"
	"goevent/core/loop"
)

// GettimeofdayCached gives core/bufferevent event_base_gettimeofday_cached,
// the clock libevent's token buckets tick on.
func (loopAdapter) GettimeofdayCached(base unsafe.Pointer) loop.Timeval {
	if b := loop.FromPtr(resolveBase(base)); b != nil {
		return b.GettimeofdayCached()
	}
	var tv unix.Timeval
	_ = unix.Gettimeofday(&tv)
	return loop.Timeval{Sec: tv.Sec, Usec: tv.Usec}
}

func cfgArg(p unsafe.Pointer) *bufferevent.TokenBucketCfg {
	return (*bufferevent.TokenBucketCfg)(p)
}

func group(p unsafe.Pointer) *bufferevent.Group { return bufferevent.GroupFromPointer(p) }

//export goev_bufferevent_set_rate_limit
func goev_bufferevent_set_rate_limit(p, cfg unsafe.Pointer) C.int {
	return C.int(bev(p).SetRateLimit(cfgArg(cfg)))
}

//export goev_bufferevent_get_token_bucket_cfg
func goev_bufferevent_get_token_bucket_cfg(p unsafe.Pointer) unsafe.Pointer {
	return unsafe.Pointer(bev(p).TokenBucketCfg())
}

// goev_bufferevent_limit answers the four per-bufferevent questions: which
// 0 read limit, 1 write limit, 2 max to read, 3 max to write.
//
//export goev_bufferevent_limit
func goev_bufferevent_limit(p unsafe.Pointer, which C.int) C.ssize_t {
	b := bev(p)
	switch which {
	case 0:
		return C.ssize_t(b.ReadLimit())
	case 1:
		return C.ssize_t(b.WriteLimit())
	case 2:
		return C.ssize_t(b.MaxToRead())
	}
	return C.ssize_t(b.MaxToWrite())
}

//export goev_bufferevent_decrement_limit
func goev_bufferevent_decrement_limit(p unsafe.Pointer, decr C.ssize_t, write C.int) C.int {
	return C.int(bev(p).DecrementLimit(int64(decr), write != 0))
}

//export goev_bufferevent_rate_limit_group_new
func goev_bufferevent_rate_limit_group_new(base, cfg unsafe.Pointer) unsafe.Pointer {
	g := bufferevent.NewGroup(base, cfgArg(cfg))
	if g == nil {
		return nil
	}
	return g.Pointer()
}

//export goev_bufferevent_rate_limit_group_set_cfg
func goev_bufferevent_rate_limit_group_set_cfg(g, cfg unsafe.Pointer) C.int {
	return C.int(group(g).SetCfg(cfgArg(cfg)))
}

//export goev_bufferevent_rate_limit_group_set_min_share
func goev_bufferevent_rate_limit_group_set_min_share(g unsafe.Pointer, share C.size_t) C.int {
	return C.int(group(g).SetMinShare(uint64(share)))
}

//export goev_bufferevent_rate_limit_group_free
func goev_bufferevent_rate_limit_group_free(g unsafe.Pointer) { group(g).Free() }

//export goev_bufferevent_add_to_rate_limit_group
func goev_bufferevent_add_to_rate_limit_group(p, g unsafe.Pointer) C.int {
	return C.int(bev(p).AddToGroup(group(g)))
}

//export goev_bufferevent_remove_from_rate_limit_group
func goev_bufferevent_remove_from_rate_limit_group(p unsafe.Pointer) C.int {
	return C.int(bev(p).RemoveFromGroup())
}

//export goev_bufferevent_rate_limit_group_get_limit
func goev_bufferevent_rate_limit_group_get_limit(g unsafe.Pointer, write C.int) C.ssize_t {
	r, w := group(g).Limits()
	if write != 0 {
		return C.ssize_t(w)
	}
	return C.ssize_t(r)
}

//export goev_bufferevent_rate_limit_group_decrement
func goev_bufferevent_rate_limit_group_decrement(g unsafe.Pointer, decr C.ssize_t, write C.int) C.int {
	return C.int(group(g).Decrement(int64(decr), write != 0))
}

//export goev_bufferevent_rate_limit_group_get_totals
func goev_bufferevent_rate_limit_group_get_totals(g unsafe.Pointer, rd, wr *C.uint64_t) {
	r, w := group(g).Totals()
	if rd != nil {
		*rd = C.uint64_t(r)
	}
	if wr != nil {
		*wr = C.uint64_t(w)
	}
}

//export goev_bufferevent_rate_limit_group_reset_totals
func goev_bufferevent_rate_limit_group_reset_totals(g unsafe.Pointer) { group(g).ResetTotals() }
