package loop

import (
	"testing"
	"unsafe"

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

// The other events of a finalized group can no longer be added: a timer
// restarted after the free would otherwise stay in the heap past the free
// of the memory it lives in.
func TestFinalizeAlsoRefusesAdds(t *testing.T) {
	b := newBase(t, false)
	ev := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {})
	tv := Timeval{Sec: 20}
	if _, err := b.addLocked(ev, &tv, false); err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := FinalizeAlso(ev); err != nil {
		t.Fatalf("FinalizeAlso: %v", err)
	}
	if ev.Cb.Flags&ListTimeout != 0 || b.hdr.HeapLen != 0 {
		t.Fatal("the timer is still in the heap")
	}
	if err := Add(ev, &tv); err == nil {
		t.Fatal("adding a finalizing event succeeded")
	}
	if b.hdr.HeapLen != 0 {
		t.Fatal("the refused add put the timer in the heap")
	}
	ev.Cb.Flags &^= ListFinalizing // let the test's cleanup delete it
}
