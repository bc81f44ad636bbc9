package main

// bufferevent_io.go: a socket bufferevent's reads and writes with their
// system calls made from C (buffer.c's ge_bev_read and ge_bev_write), one
// Go->C call each; under gVisor a system call made from Go inside a cgo
// callback costs about 85 ns more than from C, and a read is two of them
// (FIONREAD and readv). Whatever the C side cannot do (frozen ends, chains
// that are not plain, sendfile chains, fds that are not sockets) goes
// through core/evbuffer's Read and WriteAtMostNoSignal, which give the same
// results.

/*
#include "engine.h"
*/
import "C"

import (
	"math"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/bufferevent"
	"goevent/core/evbuffer"
)

// bevRead is b.Read(fd, howmuch).
func bevRead(b *evbuffer.Buffer, fd, howmuch int) (int, unix.Errno) {
	if !b.EndFrozen() {
		// Any howmuch above what one read may take (the buffer's cap,
		// at most math.MaxInt32) acts alike; keep it within C's int.
		h := min(howmuch, math.MaxInt32)
		r := C.ge_bev_read(C.uintptr_t(uintptr(b.Pointer())), C.int(fd), C.int(h))
		if r.how == C.GE_BEV_IO_DONE {
			b.ChangedOutside(int(r.n))
			return int(r.n), unix.Errno(r.err)
		}
	}
	n, err := b.Read(fd, howmuch)
	return n, unix.Errno(err)
}

// bevWrite is b.WriteAtMostNoSignal(fd, atmost); for an fd known not to
// be a socket, b.WriteAtMostNotSock.
func bevWrite(b *evbuffer.Buffer, fd, atmost int, notSock bool) (int, unix.Errno) {
	if notSock {
		n, err := b.WriteAtMostNotSock(fd, int64(atmost))
		return n, unix.Errno(err)
	}
	if !b.StartFrozen() {
		r := C.ge_bev_write(C.uintptr_t(uintptr(b.Pointer())), C.int(fd), C.int64_t(atmost))
		switch r.how {
		case C.GE_BEV_IO_DONE:
			b.ChangedOutside(int(r.n))
			return int(r.n), unix.Errno(r.err)
		case C.GE_BEV_IO_DRAIN:
			b.Drain(uintptr(r.n))
			return int(r.n), 0
		}
	}
	n, err := b.WriteAtMostNoSignal(fd, int64(atmost))
	return n, unix.Errno(err)
}

// ---- the C socket handlers' calls into Go (bufferevent_sock.c) ----------
// bev is the struct bufferevent * (C memory).

func bevAt(bev unsafe.Pointer) *bufferevent.BEV { return bufferevent.FromPointer(bev) }

//export goev_bev_sock_readcb
func goev_bev_sock_readcb(bev unsafe.Pointer, fd C.int, what C.short) {
	bufferevent.SockReadCB(int32(fd), int16(what), bev)
}

//export goev_bev_sock_writecb
func goev_bev_sock_writecb(bev unsafe.Pointer, fd C.int, what C.short) {
	bufferevent.SockWriteCB(int32(fd), int16(what), bev)
}

//export goev_bev_read_failed
func goev_bev_read_failed(bev unsafe.Pointer, n C.int, err C.int) {
	if b := bevAt(bev); b != nil {
		b.SockReadFailed(int(n), unix.Errno(err))
	}
}

//export goev_bev_write_failed
func goev_bev_write_failed(bev unsafe.Pointer, n C.int64_t, err C.int32_t) {
	if b := bevAt(bev); b != nil {
		b.SockWriteFailed(int(n), unix.Errno(err))
	}
}

//export goev_bev_last_ref
func goev_bev_last_ref(bev unsafe.Pointer) {
	if b := bevAt(bev); b != nil {
		b.LastRef()
	}
}

// goev_bev_finalize is core/bufferevent's finalizer for a socket
// bufferevent that capi's C finalizer (ge_bev_sock_finalize) leaves to Go.
//
//export goev_bev_finalize
func goev_bev_finalize(bev unsafe.Pointer) {
	bufferevent.Finalize(bev)
}

//export goev_bev_out_drain
func goev_bev_out_drain(bev unsafe.Pointer, n C.int64_t) {
	// The bytes were sent but the chains they leave are not plain:
	// drain them here, past the bufferevent's own freeze of the front.
	if b := bevAt(bev); b != nil {
		if e, ok := b.Output().(evBuf); ok {
			e.b.Unfreeze(true)
			e.b.Drain(uintptr(n))
			e.b.Freeze(true)
		}
	}
}

// goev_bev_call_layer runs a data callback that is a Go slot (a filter's
// hook on its underlying bufferevent).
//
//export goev_bev_call_layer
func goev_bev_call_layer(bev, fn, arg unsafe.Pointer) {
	bufferevent.CallData(fn, bev, arg)
}

//export goev_bev_filter_after_read
func goev_bev_filter_after_read(bev unsafe.Pointer) {
	if b := bevAt(bev); b != nil {
		b.FilterAfterRead()
	}
}

//export goev_bev_schedule_deferred
func goev_bev_schedule_deferred(bev unsafe.Pointer) {
	if b := bevAt(bev); b != nil {
		b.ScheduleDeferred()
	}
}

// goev_bev_call_layer_event runs an event callback that is a Go slot (a
// filter's hook on its underlying bufferevent).
//
//export goev_bev_call_layer_event
func goev_bev_call_layer_event(bev, fn unsafe.Pointer, what C.short, arg unsafe.Pointer, err C.int) {
	bufferevent.CallEvent(fn, bev, int16(what), arg, int32(err))
}
