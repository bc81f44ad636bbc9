//go:build race

package loop

import (
	"runtime"
	"sync"
	"unsafe"
)

// See sharedLock.
func raceAcquire(p unsafe.Pointer) { runtime.RaceAcquire(p) }
func raceRelease(p unsafe.Pointer) { runtime.RaceReleaseMerge(p) }

// raceTokens gives each off-heap lock word a Go-heap object the race
// detector can synchronise on.
var raceTokens sync.Map // *uint32 -> *byte

func raceToken(w *uint32) unsafe.Pointer {
	if t, ok := raceTokens.Load(w); ok {
		return unsafe.Pointer(t.(*byte))
	}
	t, _ := raceTokens.LoadOrStore(w, new(byte))
	return unsafe.Pointer(t.(*byte))
}
