package loop

import (
	"testing"
	"unsafe"

	"goevent/core/mem"
)

// A base freed with deferred callbacks still queued: a kind with a drop
// function hears of each of its queued Deferreds once (and may free them),
// other kinds are forgotten, and none runs.
func TestFreeBaseDropsQueuedDeferreds(t *testing.T) {
	before := mem.Live()
	b := newBase(t, false)
	ran, drops := 0, 0
	var dropArg unsafe.Pointer
	withDrop := RegisterDeferred(func(unsafe.Pointer) { ran++ })
	SetDeferredDrop(withDrop, func(d *Deferred, arg unsafe.Pointer) {
		drops++
		dropArg = arg
		d.Free()
	})
	plainKind := RegisterDeferred(func(unsafe.Pointer) { ran++ })
	marker := new(byte)
	d1 := NewDeferred(0, withDrop, unsafe.Pointer(marker))
	plain := NewDeferred(0, plainKind, nil)
	if !b.Schedule(d1) || !b.Schedule(plain) {
		t.Fatal("Schedule of an idle deferred returned false")
	}
	b.Free(true)
	if ran != 0 || drops != 1 || dropArg != unsafe.Pointer(marker) {
		t.Fatalf("after Free: ran %d, drops %d (arg %p); want 0, 1 (%p)", ran, drops, dropArg, marker)
	}
	plain.Free()
	if n := mem.Live() - before; n != 0 {
		t.Fatalf("%d blocks still live after the base and both deferreds went", n)
	}
}

// A Deferred whose run happened is not dropped when its base goes later.
func TestDropNotCalledAfterRun(t *testing.T) {
	b := newBase(t, false)
	ran, drops := 0, 0
	k := RegisterDeferred(func(unsafe.Pointer) { ran++ })
	SetDeferredDrop(k, func(*Deferred, unsafe.Pointer) { drops++ })
	d := NewDeferred(0, k, nil)
	b.Schedule(d)
	if _, err := b.Loop(LoopNonblock); err != nil {
		t.Fatalf("Loop: %v", err)
	}
	b.Free(true)
	d.Free()
	if ran != 1 || drops != 0 {
		t.Fatalf("ran %d, drops %d; want 1, 0", ran, drops)
	}
}
