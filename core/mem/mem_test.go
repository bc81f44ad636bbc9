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

// AllocMany and Batch without a batch allocator: one call per block, live
// counts kept, and a batch larger than BatchMax flushes on its own.
func TestAllocManyAndBatchFallback(t *testing.T) {
	before := Live()
	out, ok := AllocMany(100, 0, 2000)
	if !ok || out[0] == nil || out[1] == nil || out[2] == nil || out[3] != nil {
		t.Fatalf("AllocMany = %v, %v", out, ok)
	}
	if Live() != before+3 {
		t.Fatalf("live %d, want %d", Live(), before+3)
	}
	var b Batch
	for _, p := range out[:3] {
		b.Add(p)
	}
	b.Add(nil)
	for i := 0; i < BatchMax+2; i++ {
		b.Add(Alloc(32))
	}
	// 13 blocks queued: the first BatchMax went when the batch filled.
	if Live() != before+13-BatchMax {
		t.Fatalf("live %d after overflow, want %d", Live(), before+13-BatchMax)
	}
	b.Flush()
	b.Flush()
	if Live() != before {
		t.Fatalf("live %d after flush, want %d", Live(), before)
	}
}

// With a batch allocator installed, several blocks cost one call each way,
// and a failed AllocMany leaves nothing allocated.
func TestBatchAllocatorCalls(t *testing.T) {
	var allocs, frees, freed int
	fail := false
	SetBatchAllocator(
		func(n int, sizes [BatchMax]uintptr) (out [BatchMax]unsafe.Pointer, ok bool) {
			allocs++
			if fail {
				return out, false
			}
			for i := 0; i < n; i++ {
				out[i] = arenaAlloc(sizes[i])
			}
			return out, true
		},
		func(n int, ps [BatchMax]unsafe.Pointer) {
			frees++
			for _, p := range ps[:n] {
				arenaFree(p)
				freed++
			}
		})
	defer SetBatchAllocator(nil, nil)
	before := Live()
	out, ok := AllocMany(64, 64, 128, 8)
	if !ok || allocs != 1 || Live() != before+4 {
		t.Fatalf("ok %v, %d calls, live %d (want 1 call, %d live)", ok, allocs, Live(), before+4)
	}
	var b Batch
	for _, p := range out[:4] {
		b.Add(p)
	}
	b.Flush()
	if frees != 1 || freed != 4 || Live() != before {
		t.Fatalf("%d free calls for %d blocks, live %d (want 1, 4, %d)", frees, freed, Live(), before)
	}
	fail = true
	if _, ok := AllocMany(8, 8); ok || Live() != before {
		t.Fatalf("failed AllocMany: ok %v, live %d (want false, %d)", ok, Live(), before)
	}
}
