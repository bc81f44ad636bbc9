package evbuffer

import (
	"goevent/core/chain"
)

// Limits of libevent's expansion heuristics.
const (
	maxToCopyInExpand = 4096
)

// expandSingleChain makes sure one chain at the end has room for datlen
// contiguous bytes and returns it (or nil when memory is exhausted). In
// order of preference: the chain already has the room; it is cheap to
// realign; the next (empty) chain has it; the last data chain is small
// enough to be copied into a bigger one; a new chain is appended.
func (b *Buffer) expandSingleChain(datlen uintptr) *chain.Chain {
	link := b.lastWithData
	if *link != nil && (*link).SpaceLen() == 0 {
		link = &(*link).Next
	}
	c := *link
	if c == nil || c.Flags&(chain.Immutable|chain.PinnedAny) != 0 {
		return b.insertNewChain(datlen)
	}
	if c.SpaceLen() >= datlen {
		return c
	}
	if c.Off == 0 {
		return b.insertNewChain(datlen)
	}
	if c.ShouldRealign(datlen) {
		c.Align()
		return c
	}
	if c.SpaceLen() < c.BufferLen/8 || c.Off > maxToCopyInExpand ||
		datlen >= chain.Max-c.Off {
		// Resizing would copy too much or waste little: use the next
		// chain if it has the room, else append.
		if c.Next != nil && c.Next.SpaceLen() >= datlen {
			return c.Next
		}
		return b.insertNewChain(datlen)
	}
	// Replace c with a bigger copy.
	tmp := chain.New(c.Off + datlen)
	if tmp == nil {
		return nil
	}
	copy(tmp.Space(), c.Data())
	tmp.Off = c.Off
	*link = tmp
	if b.last == c {
		b.last = tmp
	}
	tmp.Next = c.Next
	freeChain(c, nil)
	return tmp
}

// expandFast makes room for datlen bytes spread over at most n chains at
// the end, without moving any data: empty chains are reused (realigned),
// and if the first n chains with room are not enough, either one chain is
// appended or the empty ones are replaced by a single big one.
func (b *Buffer) expandFast(datlen uintptr, n int) int {
	c := b.last
	if c == nil || c.Flags&chain.Immutable != 0 {
		if c = chain.New(datlen); c == nil {
			return -1
		}
		b.insertChain(c)
		return 0
	}
	used := 0
	var avail uintptr
	for c = *b.lastWithData; c != nil; c = c.Next {
		if c.Off != 0 {
			if space := c.SpaceLen(); space != 0 {
				avail += space
				used++
			}
		} else {
			c.Misalign = 0
			avail += c.BufferLen
			used++
		}
		if avail >= datlen {
			return 0
		}
		if used == n {
			break
		}
	}
	if used < n {
		// Ran out of chains before using n of them: add one more.
		tmp := chain.New(datlen - avail)
		if tmp == nil {
			return -1
		}
		b.last.Next = tmp
		b.last = tmp
		return 0
	}
	// n chains are not enough: drop every empty chain and append one
	// chain big enough on its own (with the room of the last data chain).
	removeAll := false
	c = *b.lastWithData
	if c.Off == 0 {
		removeAll = true
		avail = 0
	} else {
		avail = c.SpaceLen()
		c = c.Next
	}
	freeChains(c)
	tmp := chain.New(datlen - avail)
	if tmp == nil {
		if removeAll {
			b.zeroChains()
		} else {
			b.last = *b.lastWithData
			b.last.Next = nil
		}
		return -1
	}
	if removeAll {
		b.first, b.last = tmp, tmp
		b.lastWithData = &b.first
	} else {
		(*b.lastWithData).Next = tmp
		b.last = tmp
	}
	return 0
}

// Expand makes sure datlen bytes can be appended contiguously without
// further allocation (evbuffer_expand).
func (b *Buffer) Expand(datlen uintptr) int {
	if b.expandSingleChain(datlen) == nil {
		return -1
	}
	return 0
}

// readSetupVecs fills vecs with the free space of the chains from the first
// one with room, until howmuch bytes are covered (exactly howmuch if exact).
// Returns the number of vectors used and the link of the first chain.
func (b *Buffer) readSetupVecs(howmuch int64, vecs []IOVec, exact bool) (int, **chain.Chain) {
	if howmuch < 0 {
		return -1, nil
	}
	link := b.lastWithData
	if *link == nil {
		return 0, link
	}
	if (*link).SpaceLen() == 0 {
		link = &(*link).Next
	}
	c := *link
	var soFar uintptr
	want := uintptr(howmuch)
	i := 0
	for ; i < len(vecs) && soFar < want && c != nil; i++ {
		avail := c.SpaceLen()
		if exact && avail > want-soFar {
			avail = want - soFar
		}
		vecs[i] = IOVec{Base: c.SpacePtr(), Len: avail}
		soFar += avail
		c = c.Next
	}
	return i, link
}

// ReserveSpace makes room for size bytes at the end and describes it in
// vecs (evbuffer_reserve_space): one vector means one contiguous extent (a
// chain may be realigned or replaced for it), more let the room spread over
// several chains. Returns how many vectors were filled, or -1. Nothing is
// added until CommitSpace; the extents stay valid until the buffer changes.
func (b *Buffer) ReserveSpace(size int64, vecs []IOVec) int {
	if b.frozenEnd() || len(vecs) < 1 {
		return -1
	}
	if len(vecs) == 1 {
		c := b.expandSingleChain(uintptr(size))
		if c == nil {
			return -1
		}
		vecs[0] = IOVec{Base: c.SpacePtr(), Len: c.SpaceLen()}
		return 1
	}
	if b.expandFast(uintptr(size), len(vecs)) < 0 {
		return -1
	}
	n, _ := b.readSetupVecs(size, vecs, false)
	return n
}

// CommitSpace adds the bytes written into extents from ReserveSpace
// (evbuffer_commit_space). The vectors must describe, in order, the free
// space of the chains ReserveSpace returned (lengths may shrink); otherwise
// nothing is committed and -1 is returned.
func (b *Buffer) CommitSpace(vecs []IOVec) int {
	if b.frozenEnd() {
		return -1
	}
	if len(vecs) == 0 {
		return 0
	}
	var added uintptr
	if len(vecs) == 1 && b.last != nil && vecs[0].Base == b.last.SpacePtr() {
		// One extent in the last chain (the common single-chain case;
		// it need not be the first chain with room).
		if vecs[0].Len > b.last.SpaceLen() {
			return -1
		}
		b.last.Off += vecs[0].Len
		added = vecs[0].Len
		if added != 0 {
			b.advanceLastWithData()
		}
		return b.finishCommit(added)
	}
	return b.commitGeneral(vecs)
}

// CommitSpaceNegative is evbuffer_commit_space with a negative vector count,
// which libevent treats as an empty commit on its general path (failing on a
// buffer without chains, reporting pending changes otherwise).
func (b *Buffer) CommitSpaceNegative() int {
	if b.frozenEnd() {
		return -1
	}
	return b.commitGeneral(nil)
}

func (b *Buffer) commitGeneral(vecs []IOVec) int {
	first := b.lastWithData
	if *first == nil {
		return -1
	}
	if (*first).SpaceLen() == 0 {
		first = &(*first).Next
	}
	// Check everything before changing anything.
	c := *first
	for i := range vecs {
		if c == nil || vecs[i].Base != c.SpacePtr() || vecs[i].Len > c.SpaceLen() {
			return -1
		}
		c = c.Next
	}
	var added uintptr
	link := first
	for i := range vecs {
		(*link).Off += vecs[i].Len
		added += vecs[i].Len
		if vecs[i].Len != 0 {
			b.lastWithData = link
		}
		link = &(*link).Next
	}
	return b.finishCommit(added)
}

func (b *Buffer) finishCommit(added uintptr) int {
	b.totalLen += added
	b.nAddForCB += added
	b.invokeCallbacks()
	return 0
}
