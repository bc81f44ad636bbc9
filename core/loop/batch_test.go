package loop

import (
	"fmt"
	"testing"
	"unsafe"
)

// The Go callback the RunBatch tests put on events: it records the event's
// fd and, when batchHook is set, calls it.
var (
	batchTrace trace
	batchHook  func(fd int32)
	batchGoFn  = RegisterGoCallback(func(fd int32, _ int16, _ unsafe.Pointer) {
		batchTrace.add(fmt.Sprint("go", fd))
		if batchHook != nil {
			batchHook(fd)
		}
	})
)

// batchQueue makes a lock-free base with one active queue holding, in
// order, events 1 and 2 with Go callbacks, 3 with a C one and 4 with a Go
// one.
func batchQueue(t *testing.T) *Base {
	t.Helper()
	batchTrace = trace{}
	batchHook = nil
	b := newBase(t, false)
	for fd := int32(1); fd <= 4; fd++ {
		ev := AllocEvent()
		fn := batchGoFn
		if fd == 3 {
			fn = cfn(func(fd int32, _ int16, _ unsafe.Pointer) { batchTrace.add(fmt.Sprint("c", fd)) })
		}
		if err := Assign(ev, b, fd, 0, fn, nil); err != nil {
			t.Fatalf("Assign: %v", err)
		}
		t.Cleanup(func() { FreeEvent(ev) })
		Active(ev, EvRead, 1)
	}
	// Cleanups run last first: the base lets go of the events before
	// they are freed.
	t.Cleanup(func() { b.Free(false) })
	return b
}

func runBatchHead(b *Base, max int) int {
	return RunBatch(b.Ptr(), unsafe.Pointer(b.queues()[0].head), 0, max)
}

func TestRunBatchStopsAtCCallback(t *testing.T) {
	b := batchQueue(t)
	if n := runBatchHead(b, 100); n != 2 {
		t.Fatalf("RunBatch ran %d counted callbacks, want 2", n)
	}
	expectTrace(t, batchTrace.get(), "go1", "go2")
	if head := b.queues()[0].head; head == nil || eventOf(head).Fd != 3 {
		t.Fatalf("queue head after the batch is not event 3")
	}
	// The C callback heads the queue; RunBatch runs it when handed it and
	// goes on with the Go callback after it.
	if n := runBatchHead(b, 100); n != 2 {
		t.Fatalf("second RunBatch ran %d counted callbacks, want 2", n)
	}
	expectTrace(t, batchTrace.get(), "go1", "go2", "c3", "go4")
	if b.queues()[0].head != nil || b.hdr.CountActive != 0 {
		t.Fatalf("queue not empty after both batches")
	}
}

func TestRunBatchHonoursMax(t *testing.T) {
	b := batchQueue(t)
	if n := runBatchHead(b, 1); n != 1 {
		t.Fatalf("RunBatch ran %d counted callbacks, want 1", n)
	}
	expectTrace(t, batchTrace.get(), "go1")
}

func TestRunBatchStopsOnBreakAndContinue(t *testing.T) {
	b := batchQueue(t)
	batchHook = func(int32) { b.LoopBreak() }
	if n := runBatchHead(b, 100); n != 1 || !b.hdr.GotBreak {
		t.Fatalf("RunBatch after loopbreak ran %d (GotBreak %v), want 1 and true", n, b.hdr.GotBreak)
	}
	expectTrace(t, batchTrace.get(), "go1")

	b = batchQueue(t)
	batchHook = func(int32) { b.LoopContinue() }
	if n := runBatchHead(b, 100); n != 1 || !b.hdr.GotContinue {
		t.Fatalf("RunBatch after loopcontinue ran %d (GotContinue %v), want 1 and true", n, b.hdr.GotContinue)
	}
	expectTrace(t, batchTrace.get(), "go1")
}
