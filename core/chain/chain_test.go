package chain

import (
	"testing"
	"unsafe"

	"goevent/core/mem"
)

// The header is shared with C (struct ge_chain in capi/goevent.h): these are
// the offsets written there.
func TestLayoutMatchesGoeventH(t *testing.T) {
	var c Chain
	want := []struct {
		name string
		got  uintptr
		off  uintptr
	}{
		{"next", unsafe.Offsetof(c.Next), 0},
		{"buffer_len", unsafe.Offsetof(c.BufferLen), 8},
		{"misalign", unsafe.Offsetof(c.Misalign), 16},
		{"off", unsafe.Offsetof(c.Off), 24},
		{"flags", unsafe.Offsetof(c.Flags), 32},
		{"refcnt", unsafe.Offsetof(c.Refcnt), 36},
		{"buffer", unsafe.Offsetof(c.Buffer), 40},
	}
	for _, w := range want {
		if w.got != w.off {
			t.Errorf("offset of %s = %d, goevent.h says %d", w.name, w.got, w.off)
		}
	}
	if s := unsafe.Sizeof(c); s != HeaderSize || HeaderSize != 48 {
		t.Errorf("sizeof(Chain) = %d, HeaderSize = %d, want 48", s, HeaderSize)
	}
	flags := map[string][2]uint32{
		"FILESEGMENT": {FileSegment, 0x1}, "SENDFILE": {Sendfile, 0x2},
		"REFERENCE": {Reference, 0x4}, "IMMUTABLE": {Immutable, 0x8},
		"PINNED_R": {PinnedR, 0x10}, "PINNED_W": {PinnedW, 0x20},
		"DANGLING": {Dangling, 0x40}, "MULTICAST": {Multicast, 0x80},
		"SPECIAL": {Special, 0xff},
	}
	for n, v := range flags {
		if v[0] != v[1] {
			t.Errorf("GE_CHAIN_%s = %#x here, %#x in goevent.h", n, v[0], v[1])
		}
	}
}

func TestAllocSizeFollowsLibevent(t *testing.T) {
	cases := []struct{ payload, alloc uintptr }{
		{0, 1024}, {1, 1024}, {976, 1024}, {977, 2048}, {2000, 2048},
		{2001, 4096}, {4048, 4096}, {4049, 8192}, {1 << 20, 2 << 20},
		{(1 << 20) - 48, 1 << 20},
	}
	for _, c := range cases {
		got, ok := AllocSize(c.payload)
		if !ok || got != c.alloc {
			t.Errorf("AllocSize(%d) = %d,%v want %d", c.payload, got, ok, c.alloc)
		}
	}
	if _, ok := AllocSize(Max - HeaderSize + 1); ok {
		t.Error("AllocSize accepted a payload larger than EVBUFFER_CHAIN_MAX")
	}
	if n, ok := AllocSize(Max / 2); !ok || n != Max/2+HeaderSize {
		t.Errorf("huge payloads are allocated exactly: got %d,%v", n, ok)
	}
	if New(Max) != nil {
		t.Error("New(Max) should fail")
	}
}

func TestNewSpaceDataAlign(t *testing.T) {
	before := mem.Live()
	c := New(100)
	if c == nil {
		t.Fatal("New failed")
	}
	if c.BufferLen != 976 || c.Refcnt != 1 || c.Flags != 0 || c.Next != nil || c.Off != 0 || c.Misalign != 0 {
		t.Fatalf("fresh chain = %+v", *c)
	}
	if c.Buffer != c.Extra() || uintptr(c.Buffer)-uintptr(unsafe.Pointer(c)) != HeaderSize {
		t.Fatal("storage does not follow the header")
	}
	if c.SpaceLen() != 976 || len(c.Space()) != 976 || c.Data() != nil {
		t.Fatalf("space %d data %v", c.SpaceLen(), c.Data())
	}
	n := copy(c.Space(), "hello world")
	c.Off += uintptr(n)
	c.Misalign, c.Off = 6, 5 // "world"
	if string(c.Data()) != "world" || c.SpaceLen() != 976-11 {
		t.Fatalf("data %q space %d", c.Data(), c.SpaceLen())
	}
	if !c.ShouldRealign(900) || c.ShouldRealign(972) {
		t.Fatal("ShouldRealign: room check wrong")
	}
	c.Align()
	if c.Misalign != 0 || string(c.Data()) != "world" || c.SpaceLen() != 971 {
		t.Fatalf("after Align: misalign %d data %q", c.Misalign, c.Data())
	}
	c.Flags |= Immutable
	if c.SpaceLen() != 0 || c.Space() != nil {
		t.Fatal("immutable chain reports room")
	}
	c.Flags = PinnedR
	if !c.Pinned() || !c.PinnedRead() {
		t.Fatal("pin flags")
	}
	// Half-full or more than 2048 bytes of data: do not realign.
	big := New(8000)
	big.Off = 2049
	big.Misalign = 100
	if big.ShouldRealign(10) {
		t.Fatal("realign must not move more than 2048 bytes")
	}
	big.Off = 100
	if !big.ShouldRealign(10) {
		t.Fatal("realign expected")
	}
	big.Release()
	c.Release()
	if mem.Live() != before {
		t.Fatalf("leak: live %d, want %d", mem.Live(), before)
	}
}
