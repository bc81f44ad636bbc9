//go:build !race

package loop

import "unsafe"

// See sharedLock.
func raceAcquire(unsafe.Pointer) {}
func raceRelease(unsafe.Pointer) {}
