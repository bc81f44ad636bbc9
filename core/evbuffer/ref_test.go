package evbuffer

import (
	"testing"
	"unsafe"

	"goevent/core/chain"
	"goevent/core/mem"
)

// refTracker hands out off-heap memory for references and records which
// cleanups ran.
type refTracker struct {
	fn      unsafe.Pointer
	cleaned []string
	mems    []unsafe.Pointer
}

func newRefTracker(t *testing.T) *refTracker {
	r := &refTracker{fn: mem.Alloc(1)}
	restore := setHooks(hooks{cleanup: func(fn, data unsafe.Pointer, n uintptr, extra unsafe.Pointer) {
		if fn != r.fn {
			t.Errorf("cleanup called with a foreign function")
		}
		r.cleaned = append(r.cleaned, string(unsafe.Slice((*byte)(data), n)))
	}})
	t.Cleanup(func() {
		restore()
		mem.Free(r.fn)
		for _, m := range r.mems {
			mem.Free(m)
		}
	})
	return r
}

func (r *refTracker) add(t *testing.T, b *Buffer, s string) int {
	m := mem.Alloc(uintptr(len(s)) + 1)
	r.mems = append(r.mems, m)
	copy(unsafe.Slice((*byte)(m), len(s)), s)
	return b.AddReference(m, uintptr(len(s)), r.fn, nil)
}

func (r *refTracker) expect(t *testing.T, want ...string) {
	t.Helper()
	if len(r.cleaned) != len(want) {
		t.Fatalf("cleanups %q, want %q", r.cleaned, want)
	}
	for i := range want {
		if r.cleaned[i] != want[i] {
			t.Fatalf("cleanups %q, want %q", r.cleaned, want)
		}
	}
}

func TestReferenceCleanupTiming(t *testing.T) {
	leakCheck(t)
	r := newRefTracker(t)
	b := New()
	r.add(t, b, "first")
	r.add(t, b, "second")
	mustContain(t, b, "firstsecond")
	if b.last.Flags != chain.Reference|chain.Immutable || b.last.Buffer != r.mems[1] {
		t.Fatal("a reference chain points at the caller's memory")
	}
	b.Drain(3)
	r.expect(t) // partly drained: still needed
	b.Drain(2)
	r.expect(t, "first") // gone the moment its chain is freed
	b.Add([]byte("!"))   // appends after an immutable chain: a new chain
	mustExtents(t, b, 6, 1)
	c := New()
	c.AddBuffer(b) // moved, not released
	r.expect(t, "first")
	c.Free()
	r.expect(t, "first", "second")
	b.Free()

	// Not added (frozen end): no cleanup, ever.
	d := New()
	d.Freeze(false)
	if r.add(t, d, "never") != -1 {
		t.Fatal("frozen end must refuse references")
	}
	d.Free()
	r.expect(t, "first", "second")

	// An empty reference at the end is dropped when a new chain replaces
	// trailing empty chains.
	e := newFrom(string(pattern(976)))
	r.add(t, e, "")
	e.Add([]byte("x"))
	r.expect(t, "first", "second", "")
	e.Free()
}

func TestBufferReferenceSharesStorage(t *testing.T) {
	leakCheck(t)
	src := newFrom("shared bytes")
	dst := newFrom("head:")
	sc := src.first
	if dst.AddBufferReference(src) != 0 {
		t.Fatal("AddBufferReference")
	}
	mustContain(t, dst, "head:shared bytes")
	mustContain(t, src, "shared bytes") // the source keeps its data
	mc := dst.last
	if mc.Flags != chain.Multicast|chain.Immutable || mc.Buffer != sc.Buffer || sc.Flags&chain.Immutable == 0 || sc.Refcnt != 2 {
		t.Fatalf("multicast chain flags %#x, parent flags %#x refcnt %d", mc.Flags, sc.Flags, sc.Refcnt)
	}
	// The source chain became read-only: appends go to a new chain.
	src.Add([]byte("+"))
	mustExtents(t, src, 12, 1)
	// Draining the source does not touch the shared bytes dst sees.
	src.Drain(6)
	mustContain(t, dst, "head:shared bytes")
	// The source outlives its free while dst still refers to it.
	if src.Free() {
		t.Fatal("no own lock")
	}
	if src.refcnt != 1 {
		t.Fatalf("source refcnt %d after free, want 1", src.refcnt)
	}
	mustContain(t, dst, "head:shared bytes")
	dst.Drain(7) // partly: the multicast chain stays
	mustContain(t, dst, "ared bytes")
	dst.Free() // releases the multicast chain, the parent and the source
}

func TestBufferReferenceRefusals(t *testing.T) {
	leakCheck(t)
	a, b := newFrom("a"), newFrom("b")
	defer a.Free()
	defer b.Free()
	if a.AddBufferReference(a) != -1 {
		t.Fatal("a buffer cannot reference itself")
	}
	empty := New()
	defer empty.Free()
	if a.AddBufferReference(empty) != 0 {
		t.Fatal("referencing an empty buffer is a no-op success")
	}
	b.AddBufferReference(a) // b now holds a multicast chain
	c := New()
	defer c.Free()
	if c.AddBufferReference(b) != -1 {
		t.Fatal("multicast chains cannot be referenced again")
	}
	c.Freeze(false)
	if c.AddBufferReference(a) != -1 {
		t.Fatal("frozen end")
	}
	c.Unfreeze(false)
	// Into an empty destination with a leftover empty chain.
	c.Expand(10)
	if c.AddBufferReference(a) != 0 {
		t.Fatal("AddBufferReference into an empty buffer")
	}
	mustContain(t, c, "a")
}

func TestPinnedChains(t *testing.T) {
	leakCheck(t)
	b := newFrom("abc")
	c := b.first
	Pin(c, chain.PinnedR)
	// Draining everything keeps a read-pinned last chain (emptied).
	b.Drain(10)
	if b.first != c || c.Off != 0 || b.Len() != 0 {
		t.Fatal("pinned chain was freed")
	}
	b.Add([]byte("de"))
	mustContain(t, b, "de")
	// A pinned chain is not pulled into by pullup, and a freed pinned
	// chain dangles until unpinned.
	o := New()
	o.AddBuffer(b) // the pinned chain stays behind (data copied out)
	mustContain(t, o, "de")
	if b.first != c {
		t.Fatal("pinned chain must stay in its buffer")
	}
	b.Free()
	if c.Flags&chain.Dangling == 0 {
		t.Fatal("a pinned chain freed with its buffer dangles")
	}
	Unpin(c, chain.PinnedR) // frees it
	o.Free()
}
