//go:build race

package loop

import (
	"runtime"
	"unsafe"
)

// See sharedLock.
func raceAcquire(p unsafe.Pointer) { runtime.RaceAcquire(p) }
func raceRelease(p unsafe.Pointer) { runtime.RaceReleaseMerge(p) }
