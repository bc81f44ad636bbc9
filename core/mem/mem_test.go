package mem

import (
	"testing"
	"unsafe"
)

func TestAllocFreeReuse(t *testing.T) {
	before := Live()
	sizes := []uintptr{1, 15, 16, 17, 976, 1024, 4096, 65536, 1 << 20, 3 << 20}
	var ps []unsafe.Pointer
	for _, n := range sizes {
		p := Alloc(n)
		if p == nil {
			t.Fatalf("Alloc(%d) = nil", n)
		}
		b := unsafe.Slice((*byte)(p), n)
		for i := range b {
			b[i] = byte(i)
		}
		ps = append(ps, p)
	}
	for i, p := range ps {
		b := unsafe.Slice((*byte)(p), sizes[i])
		for j := range b {
			if b[j] != byte(j) {
				t.Fatalf("block %d byte %d overwritten", i, j)
			}
		}
	}
	if got := Live() - before; got != int64(len(sizes)) {
		t.Fatalf("Live grew by %d, want %d", got, len(sizes))
	}
	for _, p := range ps {
		Free(p)
	}
	if Live() != before {
		t.Fatalf("Live = %d after freeing everything, want %d", Live(), before)
	}
	// A freed block of a class is handed out again.
	p := Alloc(1000)
	Free(p)
	if q := Alloc(1000); q != p {
		t.Fatalf("freed block not reused: %p then %p", p, q)
	} else {
		Free(q)
	}
}

func TestAllocZeroed(t *testing.T) {
	p := Alloc(512)
	b := unsafe.Slice((*byte)(p), 512)
	for i := range b {
		b[i] = 0xaa
	}
	Free(p)
	q := AllocZeroed(512)
	defer Free(q)
	for i, c := range unsafe.Slice((*byte)(q), 512) {
		if c != 0 {
			t.Fatalf("byte %d = %#x, want 0", i, c)
		}
	}
}
