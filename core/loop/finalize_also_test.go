package loop

import (
	"testing"
	"unsafe"
)

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
