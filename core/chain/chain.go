// Package chain is the storage unit of an evbuffer: a 48-byte header followed
// (for ordinary chains) by the bytes it holds, in one off-heap allocation.
//
// The header is shared with C (struct ge_chain in capi/goevent.h): the C fast
// paths append to and drain from chains without entering Go, and pointers
// into chain storage are handed to C callers by evbuffer_peek,
// evbuffer_pullup and evbuffer_reserve_space. Chains are therefore allocated
// with core/mem, never on the Go heap, and hold no Go pointers.
//
// Allocation sizes follow libevent exactly (header plus payload, rounded up
// to a power of two from 1024 bytes). Programs observe them through
// evbuffer_peek extents, evbuffer_get_contiguous_space and
// evbuffer_reserve_space, so they are part of the behaviour, not a tuning
// knob.
package chain

import (
	"math"
	"structs"
	"unsafe"

	"goevent/core/mem"
)

// Chain is one link of an evbuffer's list. Same field order and size as
// struct ge_chain; the layout test pins the offsets.
//
// The live bytes are Buffer[Misalign : Misalign+Off]; the free space at the
// end is Buffer[Misalign+Off : BufferLen] unless the chain is immutable.
type Chain struct {
	_         structs.HostLayout
	Next      *Chain
	BufferLen uintptr
	// Misalign counts bytes skipped at the front of Buffer. For a sendfile
	// chain it is instead the offset of the data inside the file, as in
	// libevent.
	Misalign uintptr
	Off      uintptr
	Flags    uint32
	Refcnt   int32
	// Buffer normally points just past the header; reference, file and
	// multicast chains point it at memory they do not own.
	Buffer unsafe.Pointer
}

// Flag bits; values shared with capi/goevent.h (GE_CHAIN_*) and libevent.
const (
	FileSegment uint32 = 0x0001 // data of a file segment (extra: segment pointer)
	Sendfile    uint32 = 0x0002 // written with sendfile; Buffer is not the data
	Reference   uint32 = 0x0004 // user memory with a cleanup callback
	Immutable   uint32 = 0x0008 // nothing may be appended to it
	PinnedR     uint32 = 0x0010 // a reader holds pointers into it
	PinnedW     uint32 = 0x0020 // a writer holds pointers into it
	Dangling    uint32 = 0x0040 // freed while pinned; free on unpin
	Multicast   uint32 = 0x0080 // shares the storage of another buffer's chain
	PinnedAny          = PinnedR | PinnedW
	// Special is every flag that makes a chain more than allocator-owned
	// bytes; the C drain fast path frees only chains with none of them.
	Special uint32 = 0x00ff
)

const (
	// HeaderSize is sizeof(struct evbuffer_chain) on LP64, and of ge_chain.
	HeaderSize = 48
	// MinAlloc is the smallest chain allocation (header included).
	MinAlloc = 1024
	// MaxAutoSize caps the doubling of chain sizes in evbuffer_add.
	MaxAutoSize = 4096
	// Max is the largest payload a chain may describe (EVBUFFER_CHAIN_MAX:
	// SSIZE_MAX where off_t and size_t are both 64 bits).
	Max = uintptr(math.MaxInt64)
)

// AllocSize returns how many bytes libevent would allocate for a chain
// able to hold payload bytes: the header plus the payload, rounded up to a
// power of two starting at MinAlloc (huge requests are taken exactly). ok is
// false when no chain can be that large.
func AllocSize(payload uintptr) (n uintptr, ok bool) {
	if payload > Max-HeaderSize {
		return 0, false
	}
	need := payload + HeaderSize
	if need >= Max/2 {
		return need, true
	}
	n = MinAlloc
	for n < need {
		n <<= 1
	}
	return n, true
}

// New allocates a chain whose storage holds at least payload bytes, with
// refcount 1 and no flags. It returns nil when the size is impossible or the
// allocator fails.
func New(payload uintptr) *Chain {
	n, ok := AllocSize(payload)
	if !ok {
		return nil
	}
	p := mem.Alloc(n)
	if p == nil {
		return nil
	}
	c := (*Chain)(p)
	*c = Chain{
		BufferLen: n - HeaderSize,
		Refcnt:    1,
		Buffer:    unsafe.Add(p, HeaderSize),
	}
	return c
}

// Release returns the chain's allocation to the allocator. It runs no
// cleanup: owners that attach callbacks or references to a chain (reference,
// file and multicast chains) handle those first.
func (c *Chain) Release() { mem.Free(unsafe.Pointer(c)) }

// Extra is the storage right after the header, where reference, file and
// multicast chains keep their bookkeeping (libevent's EVBUFFER_CHAIN_EXTRA).
func (c *Chain) Extra() unsafe.Pointer { return unsafe.Add(unsafe.Pointer(c), HeaderSize) }

// SpaceLen is the writable room after the data; zero for immutable chains.
func (c *Chain) SpaceLen() uintptr {
	if c.Flags&Immutable != 0 {
		return 0
	}
	return c.BufferLen - c.Misalign - c.Off
}

// SpacePtr is where the next appended byte goes.
func (c *Chain) SpacePtr() unsafe.Pointer {
	return unsafe.Add(c.Buffer, c.Misalign+c.Off)
}

// Space is the writable room as a slice (empty for immutable chains). It
// aliases chain storage and is valid until the chain is freed.
func (c *Chain) Space() []byte {
	n := c.SpaceLen()
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(c.SpacePtr()), n)
}

// DataPtr is the address of the first live byte.
func (c *Chain) DataPtr() unsafe.Pointer { return unsafe.Add(c.Buffer, c.Misalign) }

// Data is the chain's live bytes. It aliases chain storage and is valid until
// the chain is drained or freed. Not meaningful for sendfile chains, whose
// Buffer does not hold the file's bytes; core/evbuffer reads those through
// the file segment.
func (c *Chain) Data() []byte {
	if c.Off == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(c.DataPtr()), c.Off)
}

// Pinned reports whether someone holds pointers into the chain's memory.
func (c *Chain) Pinned() bool { return c.Flags&PinnedAny != 0 }

// PinnedRead reports whether a reader holds pointers into the chain.
func (c *Chain) PinnedRead() bool { return c.Flags&PinnedR != 0 }

// Align moves the data to the start of the storage so that all the room is
// at the end. Only for mutable, unpinned chains.
func (c *Chain) Align() {
	if c.Misalign == 0 {
		return
	}
	if c.Off > 0 {
		base := unsafe.Slice((*byte)(c.Buffer), c.Misalign+c.Off)
		copy(base, base[c.Misalign:])
	}
	c.Misalign = 0
}

// ShouldRealign reports whether moving the data to the front is the cheap way
// to make room for datlen more bytes: the room must exist, the chain must be
// less than half full, and at most 2048 bytes may move (libevent's rule,
// which decides the chain layout programs observe).
func (c *Chain) ShouldRealign(datlen uintptr) bool {
	return c.BufferLen-c.Off >= datlen &&
		c.Off < c.BufferLen/2 &&
		c.Off <= maxToRealign
}

const maxToRealign = 2048
