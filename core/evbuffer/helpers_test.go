package evbuffer

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"goevent/core/chain"
	"goevent/core/mem"
)

type hooks struct {
	cb       func(fn unsafe.Pointer, b *Buffer, info CBInfo, arg unsafe.Pointer)
	obsolete func(fn unsafe.Pointer, b *Buffer, o, n uintptr, arg unsafe.Pointer)
	cleanup  func(fn, data unsafe.Pointer, n uintptr, extra unsafe.Pointer)
	segClean func(fn unsafe.Pointer, seg *FileSegment, flags uint32, arg unsafe.Pointer)
	schedule func(base uintptr, b *Buffer)
	lock     func(l unsafe.Pointer)
	unlock   func(l unsafe.Pointer)
	freeLock func(l unsafe.Pointer)
	warn     func(string)
}

// setHooks installs fakes for the C glue's hooks and returns a function
// restoring the previous ones.
func setHooks(h hooks) func() {
	old := hooks{CallCB, CallObsoleteCB, CallRefCleanup, CallSegmentCleanup,
		ScheduleDeferred, LockHook, UnlockHook, FreeLockHook, Warn}
	CallCB, CallObsoleteCB, CallRefCleanup, CallSegmentCleanup = h.cb, h.obsolete, h.cleanup, h.segClean
	ScheduleDeferred, LockHook, UnlockHook, FreeLockHook, Warn = h.schedule, h.lock, h.unlock, h.freeLock, h.warn
	return func() {
		CallCB, CallObsoleteCB, CallRefCleanup, CallSegmentCleanup = old.cb, old.obsolete, old.cleanup, old.segClean
		ScheduleDeferred, LockHook, UnlockHook, FreeLockHook, Warn = old.schedule, old.lock, old.unlock, old.freeLock, old.warn
	}
}

// leakCheck records mem.Live and fails the test if it differs at the end.
func leakCheck(t *testing.T) {
	t.Helper()
	start := mem.Live()
	t.Cleanup(func() {
		if got := mem.Live(); got != start {
			t.Errorf("leak: %d off-heap blocks live at the end, %d at the start", got, start)
		}
	})
}

// contents is everything in b, read through the chains without changing
// anything.
func contents(b *Buffer) []byte {
	var out []byte
	for c := b.first; c != nil; c = c.Next {
		out = append(out, chainBytes(c)...)
	}
	return out
}

// extents lists the data length of every chain (empty ones included) as
// evbuffer_peek reports them given a vector per chain.
func extents(b *Buffer) []int {
	v := make([]IOVec, len(chains(b))+1)
	n := b.Peek(-1, nil, v)
	out := make([]int, n)
	for i := range out {
		out[i] = int(v[i].Len)
	}
	return out
}

func chains(b *Buffer) []*chain.Chain {
	var out []*chain.Chain
	for c := b.first; c != nil; c = c.Next {
		out = append(out, c)
	}
	return out
}

// checkInvariants verifies the head's bookkeeping against the chain list:
// the length, the last chain, the last-with-data link (at the last chain
// holding data, or at first when none does) and the slow flag.
func checkInvariants(t *testing.T, b *Buffer) {
	t.Helper()
	var total uintptr
	var last *chain.Chain
	lwdLink := &b.first
	link := &b.first
	for c := b.first; c != nil; c = c.Next {
		total += c.Off
		last = c
		if c.Off != 0 {
			lwdLink = link
		}
		link = &c.Next
	}
	if total != b.totalLen {
		t.Fatalf("total_len %d, chains hold %d", b.totalLen, total)
	}
	if last != b.last {
		t.Fatalf("last points at %p, list ends at %p", b.last, last)
	}
	if b.lastWithData != lwdLink {
		t.Fatalf("last_with_datap wrong: %p, want %p", b.lastWithData, lwdLink)
	}
	// Callbacks that would run: the enabled ones. Deferral makes any
	// registered callback count (its run is scheduled regardless).
	var enabled []*CBEntry
	anyGo := false
	for e := b.callbacks; e != nil; e = e.next {
		if e.flags&CBEnabled != 0 {
			enabled = append(enabled, e)
		}
		anyGo = anyGo || e.flags&cbGo != 0
	}
	wantSlow := uint32(0)
	switch {
	case b.callbacks == nil:
	case b.state&stDeferred != 0:
		wantSlow |= slowCallbacks
	case len(enabled) == 0:
	case len(enabled) == 1 && enabled[0].flags&cbIdle != 0:
		wantSlow |= slowIdleWatch
	case !anyGo:
		wantSlow |= slowCCallbacks
	default:
		wantSlow |= slowCallbacks
	}
	if b.state&stFreezeStart != 0 {
		wantSlow |= slowFrozenStart
	}
	if b.state&stFreezeEnd != 0 {
		wantSlow |= slowFrozenEnd
	}
	if b.slow != wantSlow {
		t.Fatalf("slow = %d, want %d", b.slow, wantSlow)
	}
}

func mustContain(t *testing.T, b *Buffer, want string) {
	t.Helper()
	checkInvariants(t, b)
	if got := contents(b); !bytes.Equal(got, []byte(want)) {
		t.Fatalf("contents %q, want %q", got, want)
	}
	if b.Len() != len(want) {
		t.Fatalf("Len %d, want %d", b.Len(), len(want))
	}
}

func mustExtents(t *testing.T, b *Buffer, want ...int) {
	t.Helper()
	got := extents(b)
	if len(got) != len(want) {
		t.Fatalf("extents %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("extents %v, want %v", got, want)
		}
	}
}

// newFrom makes a buffer holding the given pieces, one add each.
func newFrom(parts ...string) *Buffer {
	b := New()
	for _, p := range parts {
		b.Add([]byte(p))
	}
	return b
}

// chained makes a buffer whose chains hold exactly the given pieces (one
// chain each, through references to off-heap copies), for tests about
// chain boundaries. The copies are freed by the reference cleanup.
func chained(t *testing.T, parts ...string) *Buffer {
	t.Helper()
	b := New()
	for _, p := range parts {
		m := mem.Alloc(uintptr(len(p)) + 1)
		copy(unsafe.Slice((*byte)(m), len(p)), p)
		if b.AddReference(m, uintptr(len(p)), freeRefMemory, m) != 0 {
			t.Fatal("AddReference failed")
		}
	}
	return b
}

// freeRefMemory is the cleanup "function" identity that chained's
// references use (off-heap, like everything stored in chains).
var freeRefMemory = mem.Alloc(1)

func init() {
	// Tests that do not install their own cleanup hook still release
	// chained()'s copies.
	CallRefCleanup = func(fn, data unsafe.Pointer, n uintptr, extra unsafe.Pointer) {
		if fn == freeRefMemory {
			mem.Free(extra)
		}
	}
}

// Go callbacks name their function by kind and pass a pointer; the tests'
// closures are found by that pointer, an address in testGoArgs.
var (
	testGoFns  sync.Map // uintptr -> func(*Buffer, CBInfo)
	testGoArgs [1 << 12]byte
	testGoNext atomic.Uint32
	testGoKind = RegisterGoCallback(func(b *Buffer, info CBInfo, arg unsafe.Pointer) {
		if f, ok := testGoFns.Load(uintptr(arg)); ok {
			f.(func(*Buffer, CBInfo))(b, info)
		}
	})
)

// addGoFunc registers f on b as a Go callback.
func addGoFunc(b *Buffer, f func(*Buffer, CBInfo)) *CBEntry {
	arg := unsafe.Pointer(&testGoArgs[testGoNext.Add(1)%uint32(len(testGoArgs))])
	testGoFns.Store(uintptr(arg), f)
	return b.AddGoCallback(testGoKind, arg)
}
