package loop

import (
	"testing"

	"goevent/core/mem"
)

// A base freed with deferred callbacks still queued: those with OnDrop hear
// of it once (and may free themselves), the others are forgotten, none runs.
func TestFreeBaseDropsQueuedDeferreds(t *testing.T) {
	before := mem.Live()
	b := newBase(t, false)
	ran, drops := 0, 0
	withDrop := NewDeferred(0, func() { ran++ })
	withDrop.OnDrop(func() {
		drops++
		withDrop.Free()
	})
	plain := NewDeferred(0, func() { ran++ })
	if !b.Schedule(withDrop) || !b.Schedule(plain) {
		t.Fatal("Schedule of an idle deferred returned false")
	}
	b.Free(true)
	if ran != 0 || drops != 1 {
		t.Fatalf("after Free: ran %d, drops %d; want 0, 1", ran, drops)
	}
	plain.Free()
	if n := mem.Live() - before; n != 0 {
		t.Fatalf("%d blocks still live after the base and both deferreds went", n)
	}
}

// A Deferred whose run happened needs no drop: freeing its base later does
// not call OnDrop.
func TestOnDropNotCalledAfterRun(t *testing.T) {
	b := newBase(t, false)
	ran, drops := 0, 0
	d := NewDeferred(0, func() { ran++ })
	d.OnDrop(func() { drops++ })
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
