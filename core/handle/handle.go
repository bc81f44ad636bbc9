// Package handle maps small integers to Go values.
//
// C code may not hold pointers into the Go heap, so objects that C refers to
// (a bufferevent, a listener, a Go callback on an evbuffer) keep their Go
// state in a Table and store only the integer handle in their off-heap
// memory. Handles are reused after Delete; 0 is never handed out, so a
// zeroed header never names a live object.
package handle

import "sync"

// Table is a concurrency-safe handle table. The zero value is ready to use.
type Table[T any] struct {
	mu   sync.RWMutex
	tab  []T // index 0 unused
	free []uint64
}

// Put stores v and returns its handle.
func (t *Table[T]) Put(v T) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.free); n > 0 {
		h := t.free[n-1]
		t.free = t.free[:n-1]
		t.tab[h] = v
		return h
	}
	if len(t.tab) == 0 {
		var zero T
		t.tab = append(t.tab, zero)
	}
	t.tab = append(t.tab, v)
	return uint64(len(t.tab) - 1)
}

// Get returns the value stored under h, or the zero value when h names
// nothing.
func (t *Table[T]) Get(h uint64) T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var v T
	if h != 0 && h < uint64(len(t.tab)) {
		v = t.tab[h]
	}
	return v
}

// Delete frees h for reuse. Deleting a handle that names nothing is a no-op.
func (t *Table[T]) Delete(h uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h == 0 || h >= uint64(len(t.tab)) {
		return
	}
	var zero T
	t.tab[h] = zero
	t.free = append(t.free, h)
}

// Len reports how many handles are in use.
func (t *Table[T]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(t.tab) == 0 {
		return 0
	}
	return len(t.tab) - 1 - len(t.free)
}
