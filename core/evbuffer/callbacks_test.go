package evbuffer

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"goevent/core/mem"
)

// cbRecorder fakes the C side of callbacks: "function pointers" are
// off-heap identities, and every call is logged as text.
type cbRecorder struct {
	fns []unsafe.Pointer
	log []string
}

func newRecorder(t *testing.T, n int) *cbRecorder {
	r := &cbRecorder{}
	for i := 0; i < n; i++ {
		r.fns = append(r.fns, mem.Alloc(1))
	}
	t.Cleanup(func() {
		for _, f := range r.fns {
			mem.Free(f)
		}
	})
	return r
}

func (r *cbRecorder) id(fn unsafe.Pointer) int {
	for i, f := range r.fns {
		if f == fn {
			return i
		}
	}
	return -1
}

func (r *cbRecorder) hooks() hooks {
	return hooks{
		cb: func(fn unsafe.Pointer, b *Buffer, info CBInfo, arg unsafe.Pointer) {
			r.log = append(r.log, fmt.Sprintf("cb%d len=%d orig=%d +%d -%d", r.id(fn), b.Len(), info.OrigSize, info.NAdded, info.NDeleted))
		},
		obsolete: func(fn unsafe.Pointer, b *Buffer, o, n uintptr, arg unsafe.Pointer) {
			r.log = append(r.log, fmt.Sprintf("old%d %d->%d", r.id(fn), o, n))
		},
	}
}

func (r *cbRecorder) take() string {
	s := strings.Join(r.log, "; ")
	r.log = nil
	return s
}

func expectLog(t *testing.T, r *cbRecorder, want string) {
	t.Helper()
	if got := r.take(); got != want {
		t.Fatalf("callbacks:\n  got  %q\n  want %q", got, want)
	}
}

func TestCallbacksReportChanges(t *testing.T) {
	leakCheck(t)
	r := newRecorder(t, 3)
	defer setHooks(r.hooks())()
	b := New()
	defer b.Free()
	if b.slow != 0 {
		t.Fatal("a buffer without callbacks takes the fast paths")
	}
	e0 := b.AddCB(r.fns[0], nil)
	e1 := b.AddCB(r.fns[1], nil)
	if b.slow == 0 {
		t.Fatal("callbacks must disable the fast paths")
	}
	b.Add([]byte("hello"))
	// Newest first, as libevent's list.
	expectLog(t, r, "cb1 len=5 orig=0 +5 -0; cb0 len=5 orig=0 +5 -0")
	b.Drain(2)
	expectLog(t, r, "cb1 len=3 orig=5 +0 -2; cb0 len=3 orig=5 +0 -2")
	b.Drain(0)
	expectLog(t, r, "") // nothing changed: nobody is told
	b.CBClearFlags(e1, CBEnabled)
	if e1.Flags() != 0 {
		t.Fatal("flags after clear")
	}
	b.Add([]byte("abc"))
	expectLog(t, r, "cb0 len=6 orig=3 +3 -0")
	b.CBSetFlags(e1, CBEnabled|0xffff0000) // internal bits are not the user's
	if e1.Flags() != CBEnabled {
		t.Fatalf("flags %#x", e1.Flags())
	}
	b.Add([]byte("x")) // the suspended change is not reported later
	expectLog(t, r, "cb1 len=7 orig=6 +1 -0; cb0 len=7 orig=6 +1 -0")
	if b.RemoveCB(r.fns[2], nil) != -1 || b.RemoveCB(r.fns[1], unsafe.Pointer(e0)) != -1 {
		t.Fatal("RemoveCB matches function and argument")
	}
	if b.RemoveCB(r.fns[1], nil) != 0 {
		t.Fatal("RemoveCB")
	}
	b.Add([]byte("y"))
	expectLog(t, r, "cb0 len=8 orig=7 +1 -0")
	b.RemoveCBEntry(e0)
	if b.slow != 0 {
		t.Fatal("no callbacks left: fast paths again")
	}
	b.Add([]byte("z"))
	expectLog(t, r, "")
	checkInvariants(t, b)
}

func TestCallbacksAcrossBuffers(t *testing.T) {
	leakCheck(t)
	r := newRecorder(t, 2)
	defer setHooks(r.hooks())()
	a, b := newFrom("12345"), newFrom("ab")
	defer a.Free()
	defer b.Free()
	a.AddCB(r.fns[0], nil)
	b.AddCB(r.fns[1], nil)
	b.AddBuffer(a)
	expectLog(t, r, "cb0 len=0 orig=5 +0 -5; cb1 len=7 orig=2 +5 -0")
	b.RemoveBuffer(a, 3)
	// remove_buffer runs the destination's callbacks (inside its add)
	// before the source's.
	expectLog(t, r, "cb0 len=3 orig=0 +3 -0; cb1 len=4 orig=7 +0 -3")
	b.AddBufferReference(a)
	expectLog(t, r, "cb1 len=7 orig=4 +3 -0")
	b.PrependBuffer(a)
	expectLog(t, r, "cb0 len=0 orig=3 +0 -3; cb1 len=10 orig=7 +3 -0")
}

func TestCallbackRemovesItselfAndOthers(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	var order []string
	var e1, e2, e3 *CBEntry
	e1 = addGoFunc(b, func(b *Buffer, info CBInfo) { order = append(order, "1") })
	e2 = addGoFunc(b, func(b *Buffer, info CBInfo) {
		order = append(order, "2")
		b.RemoveCBEntry(e2) // itself
		b.RemoveCBEntry(e1) // one not yet run
	})
	e3 = addGoFunc(b, func(b *Buffer, info CBInfo) { order = append(order, "3") })
	b.Add([]byte("x"))
	if strings.Join(order, "") != "32" {
		t.Fatalf("order %v", order)
	}
	order = nil
	b.Add([]byte("y"))
	if strings.Join(order, "") != "3" {
		t.Fatalf("after removal: %v", order)
	}
	b.RemoveCBEntry(e3)
	checkInvariants(t, b)
}

func TestCallbackChangingItsBuffer(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	var seen []CBInfo
	addGoFunc(b, func(b *Buffer, info CBInfo) {
		seen = append(seen, info)
		if b.Len() > 3 {
			b.Drain(uintptr(b.Len()))
		}
	})
	b.Add([]byte("hello"))
	if len(seen) != 2 || seen[0] != (CBInfo{NAdded: 5}) || seen[1] != (CBInfo{OrigSize: 5, NDeleted: 5}) {
		t.Fatalf("nested reports %+v", seen)
	}
	mustContain(t, b, "")
}

func TestObsoleteSetCB(t *testing.T) {
	leakCheck(t)
	r := newRecorder(t, 2)
	defer setHooks(r.hooks())()
	b := newFrom("abc")
	defer b.Free()
	b.AddCB(r.fns[0], nil)
	addGoFunc(b, func(*Buffer, CBInfo) { r.log = append(r.log, "go") })
	if b.SetCB(r.fns[1], nil) != 0 {
		t.Fatal("SetCB")
	}
	b.Add([]byte("de"))
	// evbuffer_setcb replaced every callback, new and old style alike.
	expectLog(t, r, "old1 3->5")
	b.Drain(4)
	expectLog(t, r, "old1 5->1")
	b.SetCB(nil, nil)
	if b.callbacks != nil || b.slow != 0 {
		t.Fatal("SetCB(nil) removes every callback")
	}
	b.Add([]byte("x"))
	expectLog(t, r, "")
}

func TestGoCallbackKindAndArg(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	var got []unsafe.Pointer
	kind := RegisterGoCallback(func(_ *Buffer, _ CBInfo, arg unsafe.Pointer) { got = append(got, arg) })
	arg := unsafe.Pointer(&testGoArgs[0])
	e := b.AddGoCallback(kind, arg)
	if GoCallbackKind(e.kind) != kind || e.arg != arg {
		t.Fatalf("entry names kind %d arg %p, want %d %p", e.kind, e.arg, kind, arg)
	}
	b.Add([]byte("x"))
	if len(got) != 1 || got[0] != arg {
		t.Fatalf("callback got %v, want one call with %p", got, arg)
	}
}

func TestDeferredCallbacks(t *testing.T) {
	leakCheck(t)
	r := newRecorder(t, 1)
	var queued []*Buffer
	h := r.hooks()
	h.schedule = func(base uintptr, b *Buffer) {
		if base != 0x1234 {
			t.Errorf("scheduled on base %#x", base)
		}
		queued = append(queued, b)
	}
	defer setHooks(h)()
	b := New()
	b.DeferCallbacks(0x1234)
	b.AddCB(r.fns[0], nil)
	nd := addGoFunc(b, func(b *Buffer, info CBInfo) {
		r.log = append(r.log, fmt.Sprintf("nodefer orig=%d +%d -%d", info.OrigSize, info.NAdded, info.NDeleted))
	})
	b.CBSetFlags(nd, CBNoDefer)
	b.Add([]byte("12345"))
	b.Add([]byte("678"))
	b.Drain(2)
	// No-defer callbacks run at once but see the running totals, which
	// are kept for the deferred run.
	expectLog(t, r, "nodefer orig=0 +5 -0; nodefer orig=0 +8 -0; nodefer orig=0 +8 -2")
	if len(queued) != 1 {
		t.Fatalf("scheduled %d times, want once", len(queued))
	}
	if b.refcnt != 2 {
		t.Fatalf("the queued run must hold a reference (refcnt %d)", b.refcnt)
	}
	queued[0].RunDeferredCallbacks()
	expectLog(t, r, "cb0 len=6 orig=0 +8 -2")
	if b.refcnt != 1 {
		t.Fatal("the run drops its reference")
	}
	// After the run, changes schedule again.
	b.Add([]byte("x"))
	if len(queued) != 2 {
		t.Fatal("not rescheduled")
	}
	// Freed while queued: the buffer lives until the run, whose callbacks
	// still see the change (as in libevent), then goes.
	b.Free()
	queued[1].RunDeferredCallbacks()
	expectLog(t, r, "nodefer orig=6 +1 -0; cb0 len=7 orig=6 +1 -0")
}

func TestDeferredWithoutLoopRunsAtOnce(t *testing.T) {
	leakCheck(t)
	r := newRecorder(t, 1)
	defer setHooks(r.hooks())()
	b := New()
	defer b.Free()
	b.DeferCallbacks(1)
	b.AddCB(r.fns[0], nil)
	b.Add([]byte("ab"))
	expectLog(t, r, "cb0 len=2 orig=0 +2 -0")
}

// fakeLocks counts lock traffic per lock object.
type fakeLocks struct{ held, acquired, freed map[unsafe.Pointer]int }

func (f *fakeLocks) hooks(h hooks) hooks {
	f.held = map[unsafe.Pointer]int{}
	f.acquired = map[unsafe.Pointer]int{}
	f.freed = map[unsafe.Pointer]int{}
	h.lock = func(l unsafe.Pointer) { f.held[l]++; f.acquired[l]++ }
	h.unlock = func(l unsafe.Pointer) { f.held[l]-- }
	h.freeLock = func(l unsafe.Pointer) { f.freed[l]++ }
	return h
}

func TestLockingHooks(t *testing.T) {
	leakCheck(t)
	var fl fakeLocks
	var queued *Buffer
	h := fl.hooks(hooks{schedule: func(_ uintptr, b *Buffer) { queued = b }})
	defer setHooks(h)()
	lockA, lockB := mem.Alloc(1), mem.Alloc(1)
	defer mem.Free(lockA)
	defer mem.Free(lockB)

	a := newFrom("source data")
	if a.EnableLocking(lockA, true) != 0 || a.EnableLocking(lockB, false) != -1 || a.LockObject() != lockA {
		t.Fatal("EnableLocking")
	}
	a.Lock()
	a.Lock()
	a.Unlock()
	a.Unlock()
	if fl.held[lockA] != 0 || fl.acquired[lockA] != 2 {
		t.Fatal("Lock/Unlock must go through the hooks")
	}
	// A multicast chain of b keeps a alive after its free; dropping that
	// chain frees a under a's lock, and frees the lock a owns.
	b := New()
	b.EnableLocking(lockB, false)
	b.AddBufferReference(a)
	if a.Free() {
		t.Fatal("a still referenced: not gone yet")
	}
	b.Drain(100)
	if fl.held[lockA] != 0 || fl.acquired[lockA] != 3 || fl.freed[lockA] != 1 {
		t.Fatalf("source release: held %d acquired %d freed %d", fl.held[lockA], fl.acquired[lockA], fl.freed[lockA])
	}
	// The deferred run locks too.
	b.DeferCallbacks(1)
	addGoFunc(b, func(*Buffer, CBInfo) {})
	b.Add([]byte("x"))
	queued.RunDeferredCallbacks()
	if fl.held[lockB] != 0 || fl.acquired[lockB] != 1 {
		t.Fatal("RunDeferredCallbacks must take the buffer lock")
	}
	if b.Free() {
		t.Fatal("b does not own its lock")
	}
}

func TestDeferredHoldsParentAndExtraReferences(t *testing.T) {
	leakCheck(t)
	var queued *Buffer
	refs := map[uintptr]int{}
	h := hooks{schedule: func(_ uintptr, b *Buffer) { queued = b }}
	defer setHooks(h)()
	ParentIncref = func(p uintptr) { refs[p]++ }
	ParentDecref = func(p uintptr) { refs[p]-- }
	defer func() { ParentIncref, ParentDecref = nil, nil }()
	b := New()
	b.SetParent(77)
	b.DeferCallbacks(1)
	ran := 0
	addGoFunc(b, func(*Buffer, CBInfo) { ran++ })
	b.Add([]byte("x"))
	if refs[77] != 1 {
		t.Fatal("a queued run keeps the parent bufferevent alive")
	}
	b.Incref() // e.g. a bufferevent holding the buffer
	b.Free()
	queued.RunDeferredCallbacks()
	if ran != 1 || refs[77] != 0 {
		t.Fatalf("ran %d, parent refs %d", ran, refs[77])
	}
	if b.Len() != 1 {
		t.Fatal("the extra reference keeps the buffer")
	}
	if b.Decref() {
		t.Fatal("no own lock")
	}
}

func TestDestroyLocksAndFreesOwnLock(t *testing.T) {
	leakCheck(t)
	var fl fakeLocks
	defer setHooks(fl.hooks(hooks{}))()
	lk := mem.Alloc(1)
	defer mem.Free(lk)
	b := newFrom("x")
	b.EnableLocking(lk, true)
	b.Destroy()
	if fl.acquired[lk] != 1 || fl.held[lk] != 0 || fl.freed[lk] != 1 {
		t.Fatalf("Destroy: acquired %d held %d freed %d", fl.acquired[lk], fl.held[lk], fl.freed[lk])
	}
}

// The slow bits tell the C fast paths which ends they may change: a freeze
// only stops the frozen end, and an idle watch lets them run only while it
// is the sole callback of a buffer that does not defer.
func TestSlowBits(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	want := func(s uint32) {
		t.Helper()
		checkInvariants(t, b)
		if b.slow != s {
			t.Fatalf("slow = %#x, want %#x", b.slow, s)
		}
	}
	b.Freeze(false)
	want(slowFrozenEnd)
	b.Freeze(true)
	want(slowFrozenEnd | slowFrozenStart)
	b.Unfreeze(false)
	want(slowFrozenStart)
	b.Unfreeze(true)
	want(0)

	var flags uint16
	w := addGoFunc(b, func(*Buffer, CBInfo) {})
	want(slowCallbacks)
	b.SetIdleWhileInserted(w, unsafe.Pointer(&flags), nil, nil)
	want(slowIdleWatch)
	other := addGoFunc(b, func(*Buffer, CBInfo) {})
	want(slowCallbacks)
	b.RemoveCBEntry(other)
	want(slowIdleWatch)
	b.RemoveCBEntry(w)
	want(0)
	if b.idleFlags != nil {
		t.Fatal("removing the idle watch must forget it")
	}

	// Deferred callbacks are queued even when they would do nothing.
	w = addGoFunc(b, func(*Buffer, CBInfo) {})
	b.SetIdleWhileInserted(w, unsafe.Pointer(&flags), nil, nil)
	b.DeferCallbacks(1)
	want(slowCallbacks)
	b.RemoveCBEntry(w)
	want(0)
}

// Disabled callbacks would only clear the counts, which the fast paths do:
// they do not make a buffer slow, unless it defers (the run is queued all
// the same).
func TestSlowIgnoresDisabledCallbacks(t *testing.T) {
	b := New()
	defer b.Free()
	want := func(s uint32) {
		t.Helper()
		if b.slow != s {
			t.Fatalf("slow = %#x, want %#x", b.slow, s)
		}
	}
	var flags uint16
	idle := addGoFunc(b, func(*Buffer, CBInfo) {})
	b.SetIdleWhileInserted(idle, unsafe.Pointer(&flags), nil, nil)
	w := addGoFunc(b, func(*Buffer, CBInfo) {})
	want(slowCallbacks)
	b.CBClearFlags(w, CBEnabled)
	want(slowIdleWatch)
	b.CBClearFlags(idle, CBEnabled)
	want(0)
	b.CBSetFlags(w, CBEnabled)
	want(slowCallbacks)
	b.CBClearFlags(w, CBEnabled)
	b.DeferCallbacks(1)
	want(slowCallbacks)
}

// A buffer whose callbacks are all C functions lets C run them (slow bit
// slowCCallbacks); one Go callback among them, or deferral, does not.
func TestSlowCCallbacks(t *testing.T) {
	b := New()
	defer b.Free()
	want := func(s uint32) {
		t.Helper()
		if b.slow != s {
			t.Fatalf("slow = %#x, want %#x", b.slow, s)
		}
	}
	var fn, arg byte
	c1 := b.AddCB(unsafe.Pointer(&fn), unsafe.Pointer(&arg))
	want(slowCCallbacks)
	c2 := b.AddCB(unsafe.Pointer(&fn), nil)
	b.CBClearFlags(c1, CBEnabled)
	want(slowCCallbacks)
	b.CBClearFlags(c2, CBEnabled)
	want(0)
	b.CBSetFlags(c2, CBEnabled)
	g := addGoFunc(b, func(*Buffer, CBInfo) {})
	want(slowCallbacks)
	b.RemoveCBEntry(g)
	want(slowCCallbacks)
	b.Freeze(true)
	want(slowCCallbacks | slowFrozenStart)
	b.Unfreeze(true)
	b.DeferCallbacks(1)
	want(slowCallbacks)
}
