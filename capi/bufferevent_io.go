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
#include <stdint.h>

// Mirrors buffer.c.
struct ge_bev_io {
	int64_t n;
	int32_t err;
	int32_t how;
};
#define GE_BEV_IO_DONE 0
#define GE_BEV_IO_FALLBACK 1
#define GE_BEV_IO_DRAIN 2

// buf is the struct evbuffer * as an integer (C memory; a pointer argument
// would cost cgo's pointer checks on every call).
struct ge_bev_io ge_bev_read(uintptr_t buf, int fd, int howmuch);
struct ge_bev_io ge_bev_write(uintptr_t buf, int fd, int64_t atmost);
*/
import "C"

import (
	"math"

	"golang.org/x/sys/unix"

	"goevent/core/evbuffer"
)

// bevRead is b.Read(fd, howmuch).
func bevRead(b *evbuffer.Buffer, fd, howmuch int) (int, unix.Errno) {
	if !b.EndFrozen() {
		// Any howmuch above what one read may take (4096) acts alike;
		// keep it within C's int.
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

// bevWrite is b.WriteAtMostNoSignal(fd, atmost).
func bevWrite(b *evbuffer.Buffer, fd, atmost int) (int, unix.Errno) {
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
