package evbuffer

import (
	"math"
	"unsafe"

	"goevent/core/chain"
)

// Drain discards up to n bytes from the front (evbuffer_drain). Draining
// everything frees every chain (unless a reader pinned the last one).
func (b *Buffer) Drain(n uintptr) int {
	oldLen := b.totalLen
	if oldLen == 0 {
		return 0
	}
	if b.frozenStart() {
		return -1
	}
	if n >= oldLen && !b.hasPinnedR() {
		n = oldLen
		freeChains(b.first)
		b.zeroChains()
	} else {
		if n >= oldLen {
			n = oldLen
		}
		b.totalLen -= n
		remaining := n
		c := b.first
		var rel releaser
		for c != nil && remaining >= c.Off {
			next := c.Next
			remaining -= c.Off
			if c == *b.lastWithData || &c.Next == b.lastWithData {
				b.lastWithData = &b.first
			}
			if c.PinnedRead() {
				c.Misalign += c.Off
				c.Off = 0
				break
			}
			freeChain(c, &rel)
			c = next
		}
		rel.flush()
		b.first = c
		if c == nil {
			b.last = nil
		} else {
			c.Misalign += remaining
			c.Off -= remaining
		}
	}
	b.nDelForCB += n
	b.invokeCallbacks()
	return 0
}

// Remove copies up to len(dst) bytes from the front into dst and drains them
// (evbuffer_remove). Returns the number of bytes, or -1.
func (b *Buffer) Remove(dst []byte) int {
	n := b.CopyOutFrom(nil, dst)
	if n > 0 && b.Drain(uintptr(n)) < 0 {
		n = -1
	}
	return n
}

// CopyOut copies up to len(dst) bytes from the front into dst without
// draining (evbuffer_copyout).
func (b *Buffer) CopyOut(dst []byte) int { return b.CopyOutFrom(nil, dst) }

// CopyOutFrom copies up to len(dst) bytes starting at pos (nil: the front)
// into dst (evbuffer_copyout_from). Returns the number copied, or -1 (front
// frozen, or an invalid position).
func (b *Buffer) CopyOutFrom(pos *Ptr, dst []byte) int {
	datlen := uintptr(len(dst))
	var c *chain.Chain
	var inChain uintptr
	if pos != nil {
		if pos.Pos < 0 {
			// A "not found" position: libevent dereferences NULL.
			warn("evbuffer_copyout_from: invalid position")
			return -1
		}
		if datlen > uintptr(math.MaxInt64-pos.Pos) {
			return -1
		}
		c, inChain = pos.Chain, pos.PosInChain
		if uintptr(pos.Pos) >= b.totalLen {
			datlen = 0
		} else if datlen+uintptr(pos.Pos) > b.totalLen {
			datlen = b.totalLen - uintptr(pos.Pos)
		}
	} else {
		c = b.first
		if datlen > b.totalLen {
			datlen = b.totalLen
		}
	}
	if datlen == 0 {
		return 0
	}
	if b.frozenStart() {
		return -1
	}
	want := datlen
	out := dst[:datlen]
	for len(out) > 0 && c != nil {
		data := chainBytes(c)
		if inChain > uintptr(len(data)) {
			break
		}
		n := copy(out, data[inChain:])
		out = out[n:]
		c = c.Next
		inChain = 0
	}
	if len(out) > 0 {
		warn("evbuffer_copyout_from: position does not match the buffer")
		return -1
	}
	return int(want)
}

// Pullup makes the first size bytes (all if size < 0) contiguous and
// returns a pointer to them (evbuffer_pullup), or nil if the buffer holds
// fewer bytes or size is 0. The pointer is valid until the buffer is next
// changed at the front.
//
// Like libevent, it copies into the first chain when that chain has room,
// and otherwise into a new chain sized for exactly size bytes; chains fully
// copied are freed, a partly copied one is trimmed.
func (b *Buffer) Pullup(size int64) unsafe.Pointer {
	c := b.first
	if size < 0 {
		size = int64(b.totalLen)
	}
	if size == 0 || uintptr(size) > b.totalLen {
		return nil
	}
	want := uintptr(size)
	if c.Off >= want {
		return chainDataPtr(c)
	}
	remaining := want - c.Off
	for t := c.Next; t != nil; t = t.Next {
		if t.Pinned() {
			return nil
		}
		if t.Off >= remaining {
			break
		}
		remaining -= t.Off
	}
	var tmp *chain.Chain
	var dst unsafe.Pointer
	switch {
	case c.Pinned():
		if c.SpaceLen() < want-c.Off {
			return nil
		}
		dst, tmp = c.SpacePtr(), c
		want -= c.Off
		tmp.Off = uintptr(size)
		c = c.Next
	case c.BufferLen-c.Misalign >= want:
		dst, tmp = unsafe.Add(c.Buffer, c.Misalign+c.Off), c
		want -= c.Off
		tmp.Off = uintptr(size)
		c = c.Next
	default:
		if tmp = chain.New(want); tmp == nil {
			warn("evbuffer_pullup: out of memory")
			return nil
		}
		dst = tmp.Buffer
		tmp.Off = want
		b.first = tmp
	}
	lastWithData := *b.lastWithData
	removedLast, removedLastLink := false, false
	var rel releaser
	for c != nil && want >= c.Off {
		next := c.Next
		if c.Buffer != nil && c.Off > 0 {
			copy(unsafe.Slice((*byte)(dst), c.Off), chainBytes(c))
			want -= c.Off
			dst = unsafe.Add(dst, c.Off)
		}
		if c == lastWithData {
			removedLast = true
		}
		if &c.Next == b.lastWithData {
			removedLastLink = true
		}
		freeChain(c, &rel)
		c = next
	}
	rel.flush()
	if c != nil {
		if want > 0 {
			copy(unsafe.Slice((*byte)(dst), want), chainBytes(c))
		}
		c.Misalign += want
		c.Off -= want
	} else {
		b.last = tmp
	}
	tmp.Next = c
	if removedLast {
		b.lastWithData = &b.first
	} else if removedLastLink {
		if b.first.Next != nil && b.first.Next.Off != 0 {
			b.lastWithData = &b.first.Next
		} else {
			b.lastWithData = &b.first
		}
	}
	return chainDataPtr(tmp)
}

// chainBytes is a chain's data; for sendfile chains it comes from the file
// segment, mapped or read on first use.
func chainBytes(c *chain.Chain) []byte {
	if c.Flags&chain.Sendfile != 0 {
		return sendfileBytes(c)
	}
	return c.Data()
}

func chainDataPtr(c *chain.Chain) unsafe.Pointer {
	if c.Flags&chain.Sendfile != 0 {
		if d := sendfileBytes(c); len(d) > 0 {
			return unsafe.Pointer(&d[0])
		}
	}
	return c.DataPtr()
}
