package loop

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sharedLock is a lockable base's mutex: a futex word in the base header,
// so that the C loop (capi/event.c) and Go take the same lock without a
// crossing. 0 is unlocked, 1 locked, 2 locked with possible waiters (the
// classic three-state futex mutex); capi/event.c implements the same
// protocol on the same word.
//
// The word is off the Go heap, where the race detector does not see
// atomics as synchronisation, so in race builds Lock and Unlock also
// acquire and release a Go-heap token of the lock's own (raceToken; the
// lock itself lives in off-heap memory and may hold no Go pointer).
type sharedLock struct {
	w *uint32
}

func newSharedLock(w *uint32) sharedLock { return sharedLock{w} }

// futex(2) operations (linux/futex.h): FUTEX_WAIT and FUTEX_WAKE with
// FUTEX_PRIVATE_FLAG.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

func (l sharedLock) Lock() {
	if !atomic.CompareAndSwapUint32(l.w, 0, 1) {
		for atomic.SwapUint32(l.w, 2) != 0 {
			// EAGAIN (the word changed) and EINTR just mean: try
			// again.
			_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(l.w)),
				futexWaitPrivate, 2, 0, 0, 0)
		}
	}
	raceAcquire(raceToken(l.w))
}

func (l sharedLock) Unlock() {
	raceRelease(raceToken(l.w))
	if atomic.AddUint32(l.w, ^uint32(0)) != 0 {
		atomic.StoreUint32(l.w, 0)
		_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(l.w)),
			futexWakePrivate, 1, 0, 0, 0)
	}
}

// futexWait sleeps while *w == val (or until woken, or spuriously).
func futexWait(w *uint32, val uint32) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWaitPrivate,
		uintptr(val), 0, 0, 0)
}

// futexWakeAll wakes every thread in futexWait on w.
func futexWakeAll(w *uint32) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWakePrivate,
		uintptr(1<<31-1), 0, 0, 0)
}
