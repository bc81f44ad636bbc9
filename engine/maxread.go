package main

// maxread.go: GOEVENT_MAX_READ, the operator's way to raise the read cap of
// an unmodified program's evbuffers and bufferevents (what
// evbuffer_set_max_read and bufferevent_set_max_single_read set one by
// one), and with it a bufferevent's default single write (what
// bufferevent_set_max_single_write sets), so that what is read in one go
// can leave in one go. Read once, when the engine starts, with libc's getenv: a program
// may set it itself before its first call that needs the engine.

/*
#include "engine.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"goevent/core/bufferevent"
	"goevent/core/evbuffer"
)

func setupMaxRead() {
	v, ok := cGetenv("GOEVENT_MAX_READ")
	if !ok {
		return
	}
	n, ok := evbuffer.ParseMaxRead(v)
	if !ok {
		// A typo must not go unnoticed, nor change anything.
		msg := C.CString(fmt.Sprintf("GOEVENT_MAX_READ=%q is not a byte count from 1 to 2147483647; "+
			"reads keep the default of %d bytes", v, evbuffer.MaxReadDefault))
		C.ge_log_str(C.GE_LOG_WARN, msg)
		C.free(unsafe.Pointer(msg))
		return
	}
	evbuffer.SetDefaultMaxRead(n)
	bufferevent.SetMaxSingleReadDefault(n)
	bufferevent.SetMaxSingleWriteDefault(n)
}
