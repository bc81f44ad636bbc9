// Package mem hands out memory that lives outside the Go heap.
//
// Chains, buffer heads and callback entries are memory that C code may hold
// pointers into (evbuffer_peek, evbuffer_pullup, evbuffer_reserve_space, the
// struct evbuffer * handle itself). cgo forbids C from keeping pointers into
// the Go heap, and the garbage collector would not see references stored in C
// memory anyway, so everything C can see comes from here.
//
// The process-wide allocator is pluggable: the C ABI layer installs libc's
// malloc (or the functions given to event_set_mem_functions) so that the C
// glue's fast paths and the Go core share one heap; plain `go test` uses the
// built-in allocator over anonymous mmap regions, which also counts live
// blocks so that tests can prove nothing leaks.
package mem

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AllocFunc returns n bytes of off-heap memory, or nil when none is left.
// The memory need not be zeroed.
type AllocFunc func(n uintptr) unsafe.Pointer

// FreeFunc releases memory returned by the matching AllocFunc.
type FreeFunc func(p unsafe.Pointer)

var (
	allocFn AllocFunc = arenaAlloc
	freeFn  FreeFunc  = arenaFree
	live    atomic.Int64
)

// SetAllocator replaces the allocator. It must be called before the first
// allocation (the C ABI layer does it from its init), since memory is always
// freed by the allocator in force when it is freed.
func SetAllocator(a AllocFunc, f FreeFunc) {
	allocFn, freeFn = a, f
}

// BatchMax is how many blocks one batch call allocates or frees.
const BatchMax = 8

// FreeManyFunc releases ps[:n], blocks of the matching AllocFunc, in one
// call. The array travels by value so that a Batch on the caller's stack
// stays there (a call through a function value makes the compiler assume
// that any pointer it is given escapes).
type FreeManyFunc func(n int, ps [BatchMax]unsafe.Pointer)

// AllocManyFunc allocates sizes[i] bytes for each i < n in one call: all
// of them (ok) or none.
type AllocManyFunc func(n int, sizes [BatchMax]uintptr) (out [BatchMax]unsafe.Pointer, ok bool)

var (
	freeManyFn  FreeManyFunc
	allocManyFn AllocManyFunc
)

// SetBatchAllocator installs functions that allocate and free several
// blocks in one call of the allocator. With a C allocator each call from Go
// is a crossing into C (about 30 ns, more than malloc itself), so objects
// made of several blocks (a bufferevent: its block, two buffers, a deferred
// callback) cost one crossing instead of one per block. Nil functions fall
// back to one call per block.
func SetBatchAllocator(a AllocManyFunc, f FreeManyFunc) {
	allocManyFn, freeManyFn = a, f
}

// AllocMany returns sizes[i] bytes of off-heap memory (not zeroed) for
// each i (at most BatchMax), or ok false, having allocated nothing, if any
// of them could not be had.
func AllocMany(sizes ...uintptr) (out [BatchMax]unsafe.Pointer, ok bool) {
	n := len(sizes)
	if n > BatchMax {
		panic("mem.AllocMany: too many blocks")
	}
	var sz [BatchMax]uintptr
	for i, v := range sizes {
		if v == 0 {
			v = 1
		}
		sz[i] = v
	}
	if allocManyFn != nil {
		if out, ok = allocManyFn(n, sz); ok {
			live.Add(int64(n))
		}
		return out, ok
	}
	for i := 0; i < n; i++ {
		if out[i] = Alloc(sz[i]); out[i] == nil {
			for _, p := range out[:i] {
				Free(p)
			}
			return [BatchMax]unsafe.Pointer{}, false
		}
	}
	return out, true
}

// Batch gathers blocks to be freed together (Flush), so that an object made
// of several blocks is released with one call of the allocator.
type Batch struct {
	n int
	p [BatchMax]unsafe.Pointer
}

// Add queues p (nil is ignored); a full batch is flushed first.
func (b *Batch) Add(p unsafe.Pointer) {
	if p == nil {
		return
	}
	if b.n == BatchMax {
		b.Flush()
	}
	b.p[b.n] = p
	b.n++
}

// Flush frees every queued block.
func (b *Batch) Flush() {
	if b.n == 0 {
		return
	}
	live.Add(-int64(b.n))
	if freeManyFn != nil {
		freeManyFn(b.n, b.p)
	} else {
		for _, p := range b.p[:b.n] {
			freeFn(p)
		}
	}
	b.n = 0
}

// Alloc returns n bytes of off-heap memory, or nil if the allocator failed.
func Alloc(n uintptr) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	p := allocFn(n)
	if p != nil {
		live.Add(1)
	}
	return p
}

// AllocZeroed is Alloc followed by clearing the block.
func AllocZeroed(n uintptr) unsafe.Pointer {
	p := Alloc(n)
	if p != nil {
		clear(unsafe.Slice((*byte)(p), n))
	}
	return p
}

// Free releases p; nil is ignored.
func Free(p unsafe.Pointer) {
	if p == nil {
		return
	}
	live.Add(-1)
	freeFn(p)
}

// Live reports how many blocks allocated through this package are not yet
// freed. Blocks that the C glue allocates or frees by itself are not counted,
// so the number is exact only when all traffic goes through Go (go test).
func Live() int64 { return live.Load() }

// ---- built-in arena allocator ------------------------------------------

// Each block carries a 16-byte header holding its size class, so Free needs
// no size. Classes are powers of two from 32 bytes to 1 MiB; larger blocks get
// their own mapping.
const (
	hdrSize      = 16
	minShift     = 5
	maxShift     = 20
	numClasses   = maxShift - minShift + 1
	arenaSize    = 4 << 20
	directMarker = 0xffff
)

type sizeClass struct {
	mu   sync.Mutex
	free unsafe.Pointer // singly linked through each block's first word
}

var (
	classes  [numClasses]sizeClass
	arenaMu  sync.Mutex
	arenaCur []byte
)

func classFor(n uintptr) int {
	c := 0
	for s := uintptr(1) << minShift; s < n; s <<= 1 {
		c++
	}
	return c
}

func arenaAlloc(n uintptr) unsafe.Pointer {
	total := n + hdrSize
	if total > 1<<maxShift {
		b, err := unix.Mmap(-1, 0, int(total), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			return nil
		}
		base := unsafe.Pointer(&b[0])
		*(*uint64)(base) = directMarker
		*(*uint64)(unsafe.Add(base, 8)) = uint64(total)
		return unsafe.Add(base, hdrSize)
	}
	c := classFor(total)
	sc := &classes[c]
	sc.mu.Lock()
	blk := sc.free
	if blk != nil {
		sc.free = *(*unsafe.Pointer)(blk)
	}
	sc.mu.Unlock()
	if blk == nil {
		blk = carve(uintptr(1) << (c + minShift))
		if blk == nil {
			return nil
		}
	}
	*(*uint64)(blk) = uint64(c)
	return unsafe.Add(blk, hdrSize)
}

func carve(size uintptr) unsafe.Pointer {
	arenaMu.Lock()
	defer arenaMu.Unlock()
	if uintptr(len(arenaCur)) < size {
		b, err := unix.Mmap(-1, 0, arenaSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			return nil
		}
		arenaCur = b
	}
	p := unsafe.Pointer(&arenaCur[0])
	arenaCur = arenaCur[size:]
	return p
}

func arenaFree(p unsafe.Pointer) {
	blk := unsafe.Add(p, -hdrSize)
	c := *(*uint64)(blk)
	if c == directMarker {
		total := *(*uint64)(unsafe.Add(blk, 8))
		_ = unix.Munmap(unsafe.Slice((*byte)(blk), int(total)))
		return
	}
	sc := &classes[c]
	sc.mu.Lock()
	*(*unsafe.Pointer)(blk) = sc.free
	sc.free = blk
	sc.mu.Unlock()
}
