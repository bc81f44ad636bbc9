package loop

import (
	"sort"
	"testing"

	"goevent/core/mem"
)

// FuzzTimerHeap applies pushes, erasures (of any member, the top included)
// and re-pushes with a new deadline to the base's timer heap, two input
// bytes an operation, with deadlines from a small range so that ties are
// frequent. After each operation the heap must hold exactly the events
// the model says, every event must know its own index (and -1 once out),
// and no parent may be due after its children. At the end, taking the top
// until the heap is empty yields the deadlines in order, and the heap's
// memory is given back with the base.
func FuzzTimerHeap(f *testing.F) {
	f.Add([]byte{0, 5, 0, 3, 0, 5, 1, 0, 0, 1, 2, 1, 3, 0})
	f.Add([]byte{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 3, 2, 3, 2, 1, 3})
	f.Add([]byte{0, 9, 0, 8, 0, 7, 0, 6, 0, 5, 0, 4, 0, 3, 0, 2, 2, 0, 2, 7})
	// The first base of a process allocates what the package keeps for
	// good; made here, it does not count against the first input (run
	// alone, as make fuzz runs it, the first input would see it as a leak).
	if warm, err := NewBase(DefaultConfig()); err == nil {
		warm.Free(true)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 600 {
			return
		}
		live := mem.Live()
		b := newBase(t, false)
		const n = 40
		evs := make([]*Event, n)
		for i := range evs {
			evs[i] = AllocEvent()
			evs[i].setHeapIdx(-1)
		}
		inHeap := map[*Event]bool{}
		deadline := func(x byte) Timeval { return Timeval{Sec: int64(x % 8), Usec: int64(x/8) * 250000} }
		check := func(step int) {
			h := b.heapArr()
			if len(h) != len(inHeap) {
				t.Fatalf("step %d: heap holds %d events, want %d", step, len(h), len(inHeap))
			}
			for i, ev := range h {
				if !inHeap[ev] {
					t.Fatalf("step %d: an event the model removed is at %d", step, i)
				}
				if ev.heapIdx() != i {
					t.Fatalf("step %d: event at %d says it is at %d", step, i, ev.heapIdx())
				}
				if i > 0 && b.heapGreater(h[(i-1)/2], ev) {
					t.Fatalf("step %d: parent of %d is due later", step, i)
				}
			}
			for _, ev := range evs {
				if !inHeap[ev] && ev.heapIdx() != -1 {
					t.Fatalf("step %d: an event out of the heap has index %d", step, ev.heapIdx())
				}
			}
		}
		for step := 0; step+1 < len(in); step += 2 {
			ev := evs[int(in[step+1])%n]
			switch in[step] % 4 {
			case 0: // push (if not in already)
				if !inHeap[ev] {
					ev.Timeout = deadline(in[step+1] ^ in[step])
					if !b.heapReserve() {
						t.Fatal("heapReserve failed")
					}
					b.heapPush(ev)
					inHeap[ev] = true
				}
			case 1: // erase
				if inHeap[ev] {
					b.heapErase(ev)
					delete(inHeap, ev)
				}
			case 2: // take the top
				if top := b.heapTop(); top != nil {
					b.heapErase(top)
					delete(inHeap, top)
				}
			case 3: // a new deadline: out and in again
				if inHeap[ev] {
					b.heapErase(ev)
					ev.Timeout = deadline(in[step] / 4)
					b.heapPush(ev)
				}
			}
			check(step)
		}
		var want, got []Timeval
		for ev := range inHeap {
			want = append(want, ev.Timeout)
		}
		sort.Slice(want, func(i, j int) bool { return tvLess(want[i], want[j]) })
		for top := b.heapTop(); top != nil; top = b.heapTop() {
			got = append(got, top.Timeout)
			b.heapErase(top)
		}
		if len(got) != len(want) {
			t.Fatalf("drained %d timers, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("drain order: %v at %d, want %v", got[i], i, want[i])
			}
		}
		b.Free(true)
		for _, ev := range evs {
			FreeEvent(ev)
		}
		if got := mem.Live(); got != live {
			t.Fatalf("leak: %d blocks live, %d before", got, live)
		}
	})
}
