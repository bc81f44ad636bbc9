//go:build !race

package loop

import "unsafe"

// See sharedLock.
func raceAcquire(unsafe.Pointer)       {}
func raceRelease(unsafe.Pointer)       {}
func raceToken(*uint32) unsafe.Pointer { return nil }
