package main

/*
#include "goevent.h"
int ge_fd_fill(int below, int *fds, int max);
void ge_fd_release(const int *fds, int n);
*/
import "C"

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The Go runtime opens two descriptors of its own (an epoll instance and an
// eventfd for its network poller) the first time anything sets a timer,
// which in a library that never uses Go's network code means the first
// time the garbage collector's scavenger goes to sleep: at some unknown
// moment of a long run. A program would then see two descriptors appear
// that libevent never opens, and every descriptor it opens afterwards
// numbered two higher than under libevent.
//
// So goevent makes the runtime open them once, when the first event base is
// created, and at the top of the descriptor table: the table is filled from
// its lowest free number up to two below the soft limit (at most 4096) with
// placeholders, one timer is set and stopped (which makes the runtime open
// its poller), and the placeholders are closed again. The program's own
// descriptors keep libevent's numbering, its descriptor count is stable from
// then on, and the two live where programs least expect to find anything
// (tests like to use a middling number such as 1000 as "surely closed").
var runtimeFDsOnce sync.Once

// runtimeFDCeiling bounds the placement, so that a process with a huge soft
// limit does not pay for filling a huge table (4096 placeholders cost about
// a millisecond, once).
const runtimeFDCeiling = 4096

func settleRuntimeFDs() {
	runtimeFDsOnce.Do(func() {
		floor := runtimeFDCeiling - 2
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur < runtimeFDCeiling {
			floor = int(lim.Cur) - 2
		}
		if floor < 64 {
			// Too few descriptors to spare: let the runtime open its
			// poller wherever it likes, now rather than mid-run.
			time.AfterFunc(time.Hour, func() {}).Stop()
			return
		}
		fds := make([]C.int, floor)
		n := C.ge_fd_fill(C.int(floor), &fds[0], C.int(len(fds)))
		time.AfterFunc(time.Hour, func() {}).Stop()
		C.ge_fd_release(&fds[0], n)
	})
}
