package loop

import (
	"sync"
	"testing"
	"unsafe"

	"goevent/core/mem"
)

// Test callbacks stand in for C functions: each gets a unique off-heap
// address as its "function pointer", and the test invoker maps it back.
var testFns sync.Map // uintptr -> GoCallback

func init() {
	SetInvoker(Invoker{
		Event: func(fn unsafe.Pointer, fd int32, what int16, arg unsafe.Pointer) {
			f, ok := testFns.Load(uintptr(fn))
			if !ok {
				panic("test invoker: unknown callback")
			}
			f.(GoCallback)(fd, what, arg)
		},
		Finalize: func(fn unsafe.Pointer, ev *Event, arg unsafe.Pointer) {
			f, ok := testFns.Load(uintptr(fn))
			if !ok {
				panic("test invoker: unknown finalizer")
			}
			f.(GoCallback)(ev.Fd, EvFinalize, arg)
		},
	})
}

// cfn registers f as a "C" callback.
func cfn(f func(fd int32, what int16, arg unsafe.Pointer)) unsafe.Pointer {
	p := mem.Alloc(1)
	testFns.Store(uintptr(p), GoCallback(f))
	return p
}

func newBase(t *testing.T, lock bool) *Base {
	t.Helper()
	cfg := DefaultConfig()
	cfg.UseLock = lock
	b, err := NewBase(cfg)
	if err != nil {
		t.Fatalf("NewBase: %v", err)
	}
	return b
}

// newEvent allocates and assigns an event; freed at test end.
func newEvent(t *testing.T, b *Base, fd int32, events int16, f func(fd int32, what int16, arg unsafe.Pointer)) *Event {
	t.Helper()
	ev := AllocEvent()
	if err := Assign(ev, b, fd, events, cfn(f), nil); err != nil {
		t.Fatalf("Assign: %v", err)
	}
	t.Cleanup(func() {
		if FromPtr(ev.Base) != nil {
			_ = Del(ev, DelAutoBlock)
		}
		FreeEvent(ev)
	})
	return ev
}

func ms(n int64) *Timeval { return &Timeval{Sec: n / 1000, Usec: (n % 1000) * 1000} }

type trace struct {
	mu  sync.Mutex
	log []string
}

func (tr *trace) add(s string) {
	tr.mu.Lock()
	tr.log = append(tr.log, s)
	tr.mu.Unlock()
}

func (tr *trace) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.log...)
}

func expectTrace(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("trace = %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("trace = %q, want %q", got, want)
		}
	}
}

// Deferred callbacks name their function by kind and pass a pointer; the
// tests' closures are found by that pointer (a unique off-heap address).
var (
	testDeferredFns  sync.Map // uintptr -> func()
	testDeferredKind = RegisterDeferred(func(arg unsafe.Pointer) {
		if f, ok := testDeferredFns.Load(uintptr(arg)); ok {
			f.(func())()
		}
	})
)

// newDeferredFunc is a Deferred running f.
func newDeferredFunc(pri uint8, f func()) *Deferred {
	p := mem.Alloc(1)
	testDeferredFns.Store(uintptr(p), f)
	return NewDeferred(pri, testDeferredKind, p)
}
