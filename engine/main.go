// Command engine is goevent's Go engine: built with -buildmode=c-shared it
// becomes libgoevent_engine-2.1.so.7, which libevent_core (plain C, in
// capi/) loads with dlopen the first time a program calls a function that
// needs Go, and reaches through a table of function pointers.
//
// Layout of this package: every libevent function whose work is done in Go
// has a C entry point in capi/ (named after libevent's header: buffer.c for
// buffer.h, event.c for event.h, ...) that checks arguments, takes locks and
// runs the common cases, then calls an exported Go function named
// goev_<something> in the .go file of the same name here. attach.c fills
// the table the C library calls those through (capi/engine_api.h); the
// engine's only dynamic symbol is goevent_engine_attach (engine.map).
//
// The Go runtime's container-aware GOMAXPROCS keeps two cgroup files open
// for the life of the process. In a C program those descriptors are
// observable: every fd the program opens after loading goevent would be
// numbered two higher than under libevent (and programs do print, compare
// and index arrays by fd numbers). goevent's own threads need no cgroup
// tuning, so that feature is off.

//go:debug containermaxprocs=0

package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -I${SRCDIR}/../capi -std=gnu99 -O2 -Wall -Wextra
#cgo CFLAGS: -Werror=incompatible-pointer-types
#cgo LDFLAGS: -lpthread
#cgo noescape ge_malloc_many
#cgo nocallback ge_malloc_many
#cgo noescape ge_free_many
#cgo nocallback ge_free_many
#include "engine.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"goevent/core/loop"
	"goevent/core/mem"
)

// goev_engine_start finishes this copy's start once the C library has
// attached it: it plugs the C side into the core packages (nothing of it
// may run in package init, which runs before the attach) and makes the
// runtime open its own descriptors now, while the C library holds the low
// descriptor numbers (see capi/engine.c), instead of at an unknown moment
// of a long run: the runtime opens an epoll instance and an eventfd for its
// poller the first time anything sets a timer, which in this library would
// be when the garbage collector's scavenger first sleeps.
//
//export goev_engine_start
func goev_engine_start() {
	// One heap for the C fast paths and the Go core: both allocate and free
	// chains, so they must agree on the allocator (and honour
	// event_set_mem_functions).
	mem.SetAllocator(
		func(n uintptr) unsafe.Pointer { return C.ge_malloc(C.size_t(n)) },
		func(p unsafe.Pointer) { C.ge_free(p) },
	)
	// Objects of several blocks are made and freed with one crossing;
	// the arrays stay on this goroutine's stack: noescape and nocallback
	// above (both are needed for that) hold, since these functions call
	// only the allocator and, when it fails, the log callback, which
	// libevent forbids to call back into the library.
	mem.SetBatchAllocator(
		func(n int, sizes [mem.BatchMax]uintptr) (out [mem.BatchMax]unsafe.Pointer, ok bool) {
			ok = C.ge_malloc_many((*C.size_t)(unsafe.Pointer(&sizes[0])), &out[0], C.int(n)) == 0
			return out, ok
		},
		func(n int, ps [mem.BatchMax]unsafe.Pointer) { C.ge_free_many(&ps[0], C.int(n)) },
	)
	// The Go callback slots events name are in the C library, which every
	// copy of the engine in this process shares; the setup functions below
	// register their functions in the same order in every copy, so an
	// event, buffer or deferred callback made by one copy means the same
	// function to the next.
	loop.Init(C.ge_gocb_slots_addr())
	setupMaxRead()
	setupLoop()
	setupBuffers()
	setupBufferevents()
	setupListeners()
	time.AfterFunc(time.Hour, func() {}).Stop()
}

func main() {}
