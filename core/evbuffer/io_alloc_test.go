//go:build !race

// The race detector's instrumentation allocates by itself, so allocation
// counts only mean something without it.

package evbuffer

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// Read and WriteAtMost run inside the event loop for every bufferevent
// transfer: neither may allocate on the Go heap (chains are off-heap), not
// even for the FIONREAD count.
func TestReadWriteDoNotAllocate(t *testing.T) {
	leakCheck(t)
	r, w := pipe(t)
	b := New()
	defer b.Free()
	data := bytes.Repeat([]byte("0123456789abcdef"), 256)
	var sink [4096]byte
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := unix.Write(w, data); err != nil {
			t.Fatal(err)
		}
		if n, e := b.Read(r, -1); n != len(data) || e != 0 {
			t.Fatalf("Read: %d %v", n, e)
		}
		if n, e := b.WriteAtMost(w, -1); n != len(data) || e != 0 {
			t.Fatalf("WriteAtMost: %d %v", n, e)
		}
		if n, err := unix.Read(r, sink[:]); n != len(data) || err != nil {
			t.Fatalf("read back: %d %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Read+WriteAtMost: %v allocations per round, want 0", allocs)
	}
}
