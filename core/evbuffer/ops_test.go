package evbuffer

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"

	"goevent/core/chain"
	"goevent/core/mem"
)

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

func TestAddGrowsChainsLikeLibevent(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	var want []byte
	add := func(n int) {
		p := pattern(n)
		if b.Add(p) != 0 {
			t.Fatalf("Add(%d) failed", n)
		}
		want = append(want, p...)
	}
	add(16)
	mustExtents(t, b, 16)
	if b.first.BufferLen != 976 || b.ContiguousSpace() != 16 {
		t.Fatalf("first chain %d bytes, contiguous %d", b.first.BufferLen, b.ContiguousSpace())
	}
	add(960) // exactly fills the 976-byte chain
	mustExtents(t, b, 976)
	add(1) // next chain: twice the last (1952 -> a 2048-byte allocation)
	mustExtents(t, b, 976, 1)
	if b.last.BufferLen != 2000 {
		t.Fatalf("second chain holds %d, want 2000", b.last.BufferLen)
	}
	add(2000) // fills the 1999 left, 1 byte in a 4096-byte allocation
	mustExtents(t, b, 976, 2000, 1)
	if b.last.BufferLen != 4048 {
		t.Fatalf("third chain holds %d, want 4048", b.last.BufferLen)
	}
	add(5000) // doubling stops at 4096: a chain as big as the rest needs
	mustExtents(t, b, 976, 2000, 4048, 953)
	if b.last.BufferLen != 8144 {
		t.Fatalf("fourth chain holds %d, want 8144", b.last.BufferLen)
	}
	mustContain(t, b, string(want))
	if b.Add(nil) != 0 {
		t.Fatal("adding nothing must succeed")
	}
}

func TestAddRealignsCheaply(t *testing.T) {
	leakCheck(t)
	b := newFrom(string(pattern(600)))
	defer b.Free()
	b.Drain(500)
	// 100 bytes at offset 500; 700 more do not fit after them, but moving
	// the 100 to the front makes room: one chain, no allocation.
	c := b.first
	b.Add(pattern(700))
	if b.first != c || b.first.Next != nil || c.Misalign != 0 {
		t.Fatalf("expected a realigned single chain, got extents %v", extents(b))
	}
	mustContain(t, b, string(pattern(600)[500:])+string(pattern(700)))
}

func TestAddEmptyBufferAllocatesForData(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	b.Add(nil) // libevent allocates an empty chain even for 0 bytes
	if b.first == nil || b.first.BufferLen != 976 || b.Len() != 0 {
		t.Fatalf("empty add: first %v len %d", b.first, b.Len())
	}
	checkInvariants(t, b)
	c := New()
	defer c.Free()
	c.Add(pattern(3000))
	if c.first.BufferLen != 4048 {
		t.Fatalf("3000 bytes into an empty buffer: chain of %d, want 4048", c.first.BufferLen)
	}
}

func TestPrepend(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	b.Prepend([]byte("abc")) // goes to the end of a fresh chain
	if b.first.Misalign != 973 {
		t.Fatalf("misalign %d, want 973", b.first.Misalign)
	}
	b.Add([]byte("xyz")) // realigns to make room
	mustContain(t, b, "abcxyz")
	mustExtents(t, b, 6)
	big := pattern(1000)
	b.Prepend(big) // no room in front: a new chain
	mustExtents(t, b, 1000, 6)
	mustContain(t, b, string(big)+"abcxyz")

	// Partial room in front: the tail goes there, the head to a new chain.
	c := newFrom(string(pattern(100)))
	defer c.Free()
	c.Drain(50)
	c.Prepend([]byte(strings.Repeat("P", 30) + strings.Repeat("Q", 50)))
	mustExtents(t, c, 30, 100)
	mustContain(t, c, strings.Repeat("P", 30)+strings.Repeat("Q", 50)+string(pattern(100)[50:]))
	if c.Prepend(nil) != 0 {
		t.Fatal("prepending nothing must succeed")
	}
}

func TestDrain(t *testing.T) {
	leakCheck(t)
	b := chained(t, "abc", "defg", "hi")
	defer b.Free()
	if b.Drain(0) != 0 {
		t.Fatal("drain 0")
	}
	mustContain(t, b, "abcdefghi")
	b.Drain(2)
	mustContain(t, b, "cdefghi")
	b.Drain(2) // crosses into the second chain; the first is freed
	mustContain(t, b, "efghi")
	mustExtents(t, b, 3, 2)
	b.Drain(100) // more than there is: everything
	mustContain(t, b, "")
	if b.first != nil || b.last != nil {
		t.Fatal("draining everything must free every chain")
	}
	if b.Drain(5) != 0 {
		t.Fatal("draining an empty buffer succeeds")
	}
}

func TestRemoveAndCopyOut(t *testing.T) {
	leakCheck(t)
	b := chained(t, "hello ", "wor", "ld")
	defer b.Free()
	dst := make([]byte, 8)
	if n := b.CopyOut(dst); n != 8 || string(dst) != "hello wo" {
		t.Fatalf("CopyOut = %d %q", n, dst)
	}
	mustContain(t, b, "hello world")
	var p Ptr
	b.PtrSet(&p, 7, PtrSet)
	if n := b.CopyOutFrom(&p, dst); n != 4 || string(dst[:4]) != "orld" {
		t.Fatalf("CopyOutFrom(7) = %d %q", n, dst[:n])
	}
	b.PtrSet(&p, 11, PtrSet)
	if n := b.CopyOutFrom(&p, dst); n != 0 {
		t.Fatalf("CopyOutFrom(end) = %d", n)
	}
	notFound := Ptr{Pos: -1}
	if n := b.CopyOutFrom(&notFound, dst); n != -1 {
		t.Fatalf("CopyOutFrom(not found) = %d, want -1", n)
	}
	if n := b.Remove(dst[:7]); n != 7 || string(dst[:7]) != "hello w" {
		t.Fatalf("Remove = %d %q", n, dst[:7])
	}
	mustContain(t, b, "orld")
	big := make([]byte, 100)
	if n := b.Remove(big); n != 4 || string(big[:4]) != "orld" {
		t.Fatalf("Remove(all) = %d", n)
	}
	if n := b.Remove(big); n != 0 {
		t.Fatalf("Remove(empty) = %d", n)
	}
}

func TestAddBufferMovesChains(t *testing.T) {
	leakCheck(t)
	src := newFrom(string(pattern(900)), string(pattern(900)))
	dst := newFrom("head")
	defer src.Free()
	defer dst.Free()
	srcChains := chains(src)
	// Leave an empty chain at dst's end: it must be dropped, not kept
	// between the old and the new data.
	var v [2]IOVec
	if n := dst.ReserveSpace(2000, v[:]); n != 2 {
		t.Fatalf("reserve gave %d vectors", n)
	}
	mustExtents(t, dst, 4, 0)
	if dst.AddBuffer(src) != 0 {
		t.Fatal("AddBuffer failed")
	}
	got := chains(dst)
	if len(got) != 3 || got[1] != srcChains[0] || got[2] != srcChains[1] {
		t.Fatalf("chains were not moved: extents %v", extents(dst))
	}
	mustContain(t, dst, "head"+string(pattern(900))+string(pattern(900)))
	mustContain(t, src, "")
	if src.AddBuffer(src) != 0 || dst.AddBuffer(src) != 0 {
		t.Fatal("adding an empty buffer or itself is a no-op success")
	}

	// Into an empty destination the source's list is taken over whole.
	e := New()
	defer e.Free()
	e.Expand(10)
	first := dst.first
	e.AddBuffer(dst)
	if e.first != first {
		t.Fatal("empty destination did not take the chains")
	}
	checkInvariants(t, e)
}

func TestPrependBufferMovesChains(t *testing.T) {
	leakCheck(t)
	a := newFrom("world")
	b := chained(t, "hel", "lo ")
	defer a.Free()
	defer b.Free()
	bc := chains(b)
	if a.PrependBuffer(b) != 0 {
		t.Fatal("PrependBuffer failed")
	}
	got := chains(a)
	if got[0] != bc[0] || got[1] != bc[1] {
		t.Fatal("chains were not moved")
	}
	mustContain(t, a, "hello world")
	mustContain(t, b, "")
	a.Freeze(true)
	c := newFrom("x")
	defer c.Free()
	if a.PrependBuffer(c) != -1 {
		t.Fatal("prepending into a buffer frozen at the front must fail")
	}
	a.Unfreeze(true)
}

func TestRemoveBufferMovesWholeChains(t *testing.T) {
	leakCheck(t)
	src := chained(t, "abcd", "efgh", "ijkl")
	dst := newFrom("0")
	defer src.Free()
	defer dst.Free()
	sc := chains(src)
	if n := src.RemoveBuffer(dst, 6); n != 6 {
		t.Fatalf("RemoveBuffer = %d", n)
	}
	// The whole first chain moved; the 2 bytes after it were copied into
	// a new chain (the moved one is an immutable reference).
	dc := chains(dst)
	if len(dc) != 3 || dc[1] != sc[0] {
		t.Fatalf("first chain should have moved: extents %v", extents(dst))
	}
	mustExtents(t, dst, 1, 4, 2)
	mustContain(t, dst, "0abcdef")
	mustContain(t, src, "ghijkl")
	if n := src.RemoveBuffer(dst, 100); n != 6 {
		t.Fatalf("RemoveBuffer(all) = %d", n)
	}
	mustContain(t, dst, "0abcdefghijkl")
	mustContain(t, src, "")
	if n := src.RemoveBuffer(dst, 5); n != 0 {
		t.Fatalf("RemoveBuffer from empty = %d", n)
	}
}

func TestPullup(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	if b.Pullup(-1) != nil || b.Pullup(0) != nil || b.Pullup(1) != nil {
		t.Fatal("pullup of an empty buffer is nil")
	}
	b.Add([]byte("abc"))
	first := b.first
	p := b.Pullup(2)
	if p != first.DataPtr() {
		t.Fatal("already contiguous: pointer to the first chain expected")
	}
	var refFreed int
	restore := setHooks(hooks{cleanup: func(fn, data unsafe.Pointer, n uintptr, extra unsafe.Pointer) { refFreed++ }})
	defer restore()
	ref := []byte("defgh")
	refMem := offHeap(len(ref))
	copy(refMem, ref)
	defer freeOffHeap(refMem)
	b.AddReference(unsafe.Pointer(&refMem[0]), 5, unsafe.Pointer(&refMem[0]), nil)
	// The first chain has room: the bytes are copied into it and the
	// reference is trimmed.
	p = b.Pullup(6)
	if p != first.DataPtr() || string(unsafe.Slice((*byte)(p), 6)) != "abcdef" {
		t.Fatal("pullup into the first chain's room failed")
	}
	mustExtents(t, b, 6, 2)
	if refFreed != 0 {
		t.Fatal("a partly pulled reference must stay")
	}
	p = b.Pullup(-1)
	mustExtents(t, b, 8)
	if refFreed != 1 || string(unsafe.Slice((*byte)(p), 8)) != "abcdefgh" {
		t.Fatalf("pullup(-1): freed %d refs", refFreed)
	}
	if b.Pullup(9) != nil {
		t.Fatal("pullup beyond the data is nil")
	}

	// No room in the first chain: a new chain of exactly the size.
	c := newFrom(string(pattern(976)), string(pattern(100)))
	defer c.Free()
	p = c.Pullup(1000)
	mustExtents(t, c, 1000, 76)
	if c.first.BufferLen != 1000+(2048-48-1000) {
		t.Fatalf("new chain holds %d", c.first.BufferLen)
	}
	mustContain(t, c, string(pattern(976))+string(pattern(100)))
	if !bytes.Equal(unsafe.Slice((*byte)(p), 1000), contents(c)[:1000]) {
		t.Fatal("pulled-up bytes differ")
	}
}

func freeOffHeap(p []byte) { mem.Free(unsafe.Pointer(&p[0])) }

func TestExpand(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	if b.Expand(100) != 0 || b.first == nil || b.first.SpaceLen() != 976 || b.Len() != 0 {
		t.Fatal("expand of an empty buffer makes one chain")
	}
	c := b.first
	b.Expand(976)
	if b.first != c || c.Next != nil {
		t.Fatal("enough room already: nothing must change")
	}
	b.Add([]byte("abc"))
	b.Expand(5000) // small data: the chain is replaced by a bigger copy
	if b.first == c || b.first.SpaceLen() < 5000 || b.first.Next != nil {
		t.Fatalf("expected a resized chain, extents %v", extents(b))
	}
	mustContain(t, b, "abc")
	if b.Expand(chain.Max) != -1 {
		t.Fatal("an impossible expansion must fail")
	}
}

func TestReserveCommit(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	var v [3]IOVec
	if b.ReserveSpace(100, v[:0]) != -1 {
		t.Fatal("no vectors: -1")
	}
	if n := b.ReserveSpace(100, v[:1]); n != 1 || v[0].Len != 976 {
		t.Fatalf("reserve 1 vector: %d %d", n, v[0].Len)
	}
	copy(unsafe.Slice((*byte)(v[0].Base), 3), "abc")
	v[0].Len = 3
	if b.CommitSpace(v[:1]) != 0 {
		t.Fatal("commit failed")
	}
	mustContain(t, b, "abc")

	if n := b.ReserveSpace(2000, v[:2]); n != 2 || v[0].Len != 973 || v[1].Len != 2000 {
		t.Fatalf("reserve 2 vectors: %d [%d %d]", n, v[0].Len, v[1].Len)
	}
	bad := v
	bad[1].Len = 2001
	if b.CommitSpace(bad[:2]) != -1 {
		t.Fatal("committing more than the room must fail")
	}
	bad = v
	bad[1].Base = unsafe.Add(bad[1].Base, 1)
	if b.CommitSpace(bad[:2]) != -1 {
		t.Fatal("committing a foreign pointer must fail")
	}
	mustContain(t, b, "abc")
	fill := func(v IOVec, n int, c byte) IOVec {
		s := unsafe.Slice((*byte)(v.Base), n)
		for i := range s {
			s[i] = c
		}
		v.Len = uintptr(n)
		return v
	}
	v[0] = fill(v[0], 973, 'x')
	v[1] = fill(v[1], 27, 'y')
	if b.CommitSpace(v[:2]) != 0 {
		t.Fatal("commit of 2 vectors failed")
	}
	mustExtents(t, b, 976, 27)
	mustContain(t, b, "abc"+strings.Repeat("x", 973)+strings.Repeat("y", 27))
	if b.CommitSpace(nil) != 0 {
		t.Fatal("committing nothing succeeds")
	}
	b.Freeze(false)
	if b.ReserveSpace(10, v[:1]) != -1 || b.CommitSpace(v[:1]) != -1 {
		t.Fatal("reserve/commit on a buffer frozen at the end must fail")
	}
	b.Unfreeze(false)
	e := New()
	defer e.Free()
	if e.CommitSpaceNegative() != -1 {
		t.Fatal("negative count on a buffer without chains: -1")
	}
}

func TestAddIovec(t *testing.T) {
	leakCheck(t)
	b := newFrom("ab")
	defer b.Free()
	p1, p2 := []byte(strings.Repeat("1", 1000)), []byte("22")
	vecs := []IOVec{
		{Base: unsafe.Pointer(&p1[0]), Len: 1000},
		{Base: nil, Len: 0},
		{Base: unsafe.Pointer(&p2[0]), Len: 2},
	}
	if n := b.AddIovec(vecs); n != 1002 {
		t.Fatalf("AddIovec = %d", n)
	}
	mustContain(t, b, "ab"+string(p1)+"22")
	// Room for all was made in two chains up front: [976 from the first,
	// the rest in one new chain].
	mustExtents(t, b, 976, 28)
	bad := []IOVec{{Base: nil, Len: 5}}
	if n := b.AddIovec(bad); n != 0 {
		t.Fatalf("nil base with a length: %d", n)
	}
}

func TestAddFormatted(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	if n := b.AddFormatted([]byte("hello 42"), 8); n != 8 {
		t.Fatalf("AddFormatted = %d", n)
	}
	mustContain(t, b, "hello 42")
	long := pattern(2000)
	c := New()
	defer c.Free()
	if n := c.AddFormatted(long, 2000); n != 2000 {
		t.Fatalf("long AddFormatted = %d", n)
	}
	// The 64-byte first try left an empty chain, replaced by one holding
	// the text and its NUL.
	mustExtents(t, c, 2000)
	if c.first.BufferLen != 4048 {
		t.Fatalf("chain holds %d, want 4048", c.first.BufferLen)
	}
	if b.AddFormatted(nil, -1) != -1 {
		t.Fatal("a format error is -1")
	}
	b.Freeze(false)
	if b.AddFormatted([]byte("x"), 1) != -1 {
		t.Fatal("frozen end: -1")
	}
	b.Unfreeze(false)
}

func TestFreezeRefusesChanges(t *testing.T) {
	leakCheck(t)
	b := newFrom("line\nrest")
	o := newFrom("other")
	defer b.Free()
	defer o.Free()
	b.Freeze(true)
	buf := make([]byte, 4)
	line, _, ok := b.ReadLn(EOLLF)
	switch {
	case b.Drain(1) != -1, b.Remove(buf) != -1, b.CopyOut(buf) != -1,
		b.Prepend([]byte("x")) != -1, ok || line != nil,
		b.RemoveBuffer(o, 2) != -1, o.AddBuffer(b) != -1:
		t.Fatal("an operation at the front of a frozen buffer succeeded")
	}
	if n, _ := b.WriteAtMost(-1, -1); n != -1 {
		t.Fatal("write from a front-frozen buffer must fail")
	}
	if b.Add([]byte("ok")) != 0 {
		t.Fatal("the end is not frozen")
	}
	b.Unfreeze(true)
	b.Freeze(false)
	var v [1]IOVec
	switch {
	case b.Add([]byte("x")) != -1, b.AddBuffer(o) != -1, o.RemoveBuffer(b, 1) != -1,
		b.ReserveSpace(1, v[:]) != -1, b.AddReference(nil, 0, nil, nil) != -1:
		t.Fatal("an operation at the end of a frozen buffer succeeded")
	}
	if n, _ := b.Read(-1, 10); n != -1 {
		t.Fatal("read into an end-frozen buffer must fail")
	}
	if b.Drain(1) != 0 || b.Prepend([]byte("L")) != 0 {
		t.Fatal("the front is not frozen")
	}
	b.Unfreeze(false)
	mustContain(t, b, "Line\nrestok")
}

func TestFlags(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	if b.SetFlags(uint64(FlagDrainsToFD)|1<<40) != 0 || b.Flags() != FlagDrainsToFD {
		t.Fatalf("flags %#x", b.Flags())
	}
	b.ClearFlags(uint64(FlagDrainsToFD))
	if b.Flags() != 0 {
		t.Fatal("clear")
	}
}
