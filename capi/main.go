// Command capi is goevent's C ABI: built with -buildmode=c-shared it becomes
// libevent_core-2.1.so.7 and exports libevent 2.1.12's public functions.
//
// Layout of this package: every public symbol is a C function in a .c file
// named after libevent's header (buffer.c for buffer.h, event.c for event.h,
// ...). The C function checks the fork guard, takes locks, handles varargs and
// runs the trivial fast paths, then calls an exported Go function named
// goev_<something> in the .go file of the same name. Go exports are hidden
// from the shared library's dynamic symbol table by libevent.map, so only
// libevent's names are visible.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -std=gnu99 -O2 -Wall -Wextra
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include "goevent.h"
*/
import "C"

import (
	"unsafe"

	"goevent/core/mem"
)

func init() {
	// One heap for the C fast paths and the Go core: both allocate and free
	// chains, so they must agree on the allocator (and honour
	// event_set_mem_functions).
	mem.SetAllocator(
		func(n uintptr) unsafe.Pointer { return C.ge_malloc(C.size_t(n)) },
		func(p unsafe.Pointer) { C.ge_free(p) },
	)
}

func main() {}
