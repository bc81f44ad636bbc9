package evbuffer

import (
	"structs"
	"unsafe"

	"goevent/core/chain"
)

// IOVec is struct evbuffer_iovec (struct iovec on Linux).
type IOVec struct {
	_    structs.HostLayout
	Base unsafe.Pointer
	Len  uintptr
}

// Bytes is the extent as a slice; ok is false for a nil base with a nonzero
// length (which libevent would dereference and crash on) and for lengths no
// memory could hold.
func (v IOVec) Bytes() (b []byte, ok bool) {
	if v.Base == nil || v.Len > 1<<46 {
		return nil, v.Len == 0
	}
	return unsafe.Slice((*byte)(v.Base), v.Len), true
}

const maxSize = ^uintptr(0)

// Add appends data (evbuffer_add). The bytes go into the free space of the
// last chain with data when they fit (realigning it if that is cheap);
// otherwise that space is filled and the rest goes to a new chain twice the
// size of the last one (up to 4096) or as big as needed.
func (b *Buffer) Add(data []byte) int {
	if b.frozenEnd() {
		return -1
	}
	datlen := uintptr(len(data))
	if datlen > maxSize-b.totalLen {
		return -1
	}
	c := *b.lastWithData
	if c == nil {
		// No chains at all: one chain sized for the data.
		if c = chain.New(datlen); c == nil {
			return -1
		}
		b.insertChain(c)
	}
	var remain uintptr
	if c.Flags&chain.Immutable == 0 {
		remain = c.BufferLen - c.Misalign - c.Off
		if remain >= datlen {
			b.appendTo(c, data)
			b.invokeCallbacks()
			return 0
		}
		if !c.Pinned() && c.ShouldRealign(datlen) {
			c.Align()
			b.appendTo(c, data)
			b.invokeCallbacks()
			return 0
		}
	}
	size := c.BufferLen
	if size <= chain.MaxAutoSize/2 {
		size <<= 1
	}
	if datlen > size {
		size = datlen
	}
	tmp := chain.New(size)
	if tmp == nil {
		return -1
	}
	if remain > 0 {
		b.appendTo(c, data[:remain])
		data = data[remain:]
	}
	copy(unsafe.Slice((*byte)(tmp.Buffer), tmp.BufferLen), data)
	tmp.Off = uintptr(len(data))
	b.insertChain(tmp)
	b.nAddForCB += uintptr(len(data))
	b.invokeCallbacks()
	return 0
}

// appendTo copies data into c's free space, which must be large enough.
func (b *Buffer) appendTo(c *chain.Chain, data []byte) {
	if len(data) == 0 {
		return
	}
	copy(unsafe.Slice((*byte)(c.SpacePtr()), len(data)), data)
	n := uintptr(len(data))
	c.Off += n
	b.totalLen += n
	b.nAddForCB += n
}

// Prepend puts data in front of the buffer (evbuffer_prepend), using the
// room before the first chain's data when there is some.
func (b *Buffer) Prepend(data []byte) int {
	datlen := uintptr(len(data))
	if datlen == 0 {
		return 0
	}
	if b.frozenStart() {
		return -1
	}
	if datlen > maxSize-b.totalLen {
		return -1
	}
	c := b.first
	if c == nil {
		if c = chain.New(datlen); c == nil {
			return -1
		}
		b.insertChain(c)
	}
	if c.Flags&chain.Immutable == 0 {
		// An empty chain's room is all "in front".
		if c.Off == 0 {
			c.Misalign = c.BufferLen
		}
		if c.Misalign >= datlen {
			copy(unsafe.Slice((*byte)(unsafe.Add(c.Buffer, c.Misalign-datlen)), datlen), data)
			c.Off += datlen
			c.Misalign -= datlen
			b.totalLen += datlen
			b.nAddForCB += datlen
			b.invokeCallbacks()
			return 0
		}
		if m := c.Misalign; m > 0 {
			// Fill the room with the tail of data; the head goes to a
			// new chain below.
			copy(unsafe.Slice((*byte)(c.Buffer), m), data[datlen-m:])
			c.Off += m
			b.totalLen += m
			b.nAddForCB += m
			datlen -= m
			data = data[:datlen]
			c.Misalign = 0
		}
	}
	tmp := chain.New(datlen)
	if tmp == nil {
		return -1
	}
	b.first = tmp
	if b.lastWithData == &b.first && c.Off != 0 {
		b.lastWithData = &tmp.Next
	}
	tmp.Next = c
	tmp.Off = datlen
	tmp.Misalign = tmp.BufferLen - datlen
	copy(unsafe.Slice((*byte)(unsafe.Add(tmp.Buffer, tmp.Misalign)), datlen), data)
	b.totalLen += datlen
	b.nAddForCB += datlen
	b.invokeCallbacks()
	return 0
}

// preservePinned detaches src's read-pinned tail chains before src's chains
// are handed to another buffer; restorePinned puts them back. Data in the
// first pinned chain is copied out so that it moves with the rest.
func (src *Buffer) preservePinned() (pinned, last *chain.Chain, ok bool) {
	if !src.hasPinnedR() {
		return nil, nil, true
	}
	link := src.lastWithData
	if !(*link).PinnedRead() {
		link = &(*link).Next
	}
	c := *link
	pinned, last = c, src.last
	if c.Off != 0 {
		tmp := chain.New(c.Off)
		if tmp == nil {
			return nil, nil, false
		}
		copy(unsafe.Slice((*byte)(tmp.Buffer), c.Off), c.Data())
		tmp.Off = c.Off
		*src.lastWithData = tmp
		src.last = tmp
		c.Misalign += c.Off
		c.Off = 0
	} else {
		src.last = *src.lastWithData
		*link = nil
	}
	return pinned, last, true
}

func (src *Buffer) restorePinned(pinned, last *chain.Chain) {
	if pinned == nil {
		src.zeroChains()
		return
	}
	src.first = pinned
	src.last = last
	src.lastWithData = &src.first
	src.totalLen = 0
}

// takeChains makes src's chains b's (b has no data; its empty chains
// were freed).
func (b *Buffer) takeChains(src *Buffer) {
	b.first = src.first
	if src.lastWithData == &src.first {
		b.lastWithData = &b.first
	} else {
		b.lastWithData = src.lastWithData
	}
	b.last = src.last
	b.totalLen = src.totalLen
}

// appendChains links src's chains after b's data.
func (b *Buffer) appendChains(src *Buffer) {
	chp := b.freeTrailingEmpty()
	*chp = src.first
	if src.lastWithData == &src.first {
		b.lastWithData = chp
	} else {
		b.lastWithData = src.lastWithData
	}
	b.last = src.last
	b.totalLen += src.totalLen
}

// prependChains links src's chains before b's.
func (b *Buffer) prependChains(src *Buffer) {
	src.last.Next = b.first
	b.first = src.first
	b.totalLen += src.totalLen
	if *b.lastWithData == nil {
		if src.lastWithData == &src.first {
			b.lastWithData = &b.first
		} else {
			b.lastWithData = src.lastWithData
		}
	} else if b.lastWithData == &b.first {
		b.lastWithData = &src.last.Next
	}
}

// AddBuffer moves all of in's data to the end of b without copying
// (evbuffer_add_buffer): the chains themselves change hands.
func (b *Buffer) AddBuffer(in *Buffer) int { return b.takeAll(in, false) }

// PrependBuffer moves all of in's data to the front of b without copying
// (evbuffer_prepend_buffer).
func (b *Buffer) PrependBuffer(in *Buffer) int { return b.takeAll(in, true) }

// takeAll moves in's chains to b's front or end; the end of b that changes
// and in's front must not be frozen. in's callbacks run before b's, as in
// libevent.
func (b *Buffer) takeAll(in *Buffer, front bool) int {
	inTotal, outTotal := in.totalLen, b.totalLen
	if inTotal == 0 || b == in {
		return 0
	}
	bFrozen := b.frozenEnd()
	if front {
		bFrozen = b.frozenStart()
	}
	if bFrozen || in.frozenStart() {
		return -1
	}
	pinned, last, ok := in.preservePinned()
	if !ok {
		return -1
	}
	switch {
	case outTotal == 0:
		freeChains(b.first)
		b.takeChains(in)
	case front:
		b.prependChains(in)
	default:
		b.appendChains(in)
	}
	in.restorePinned(pinned, last)
	in.nDelForCB += inTotal
	b.nAddForCB += inTotal
	in.invokeCallbacks()
	b.invokeCallbacks()
	return 0
}

// RemoveBuffer moves up to datlen bytes from the front of b to the end of
// dst (evbuffer_remove_buffer): whole chains are moved, only the last
// partial chain's bytes are copied. Returns the number of bytes moved.
func (b *Buffer) RemoveBuffer(dst *Buffer, datlen uintptr) int {
	if datlen == 0 || dst == b {
		return 0
	}
	if dst.frozenEnd() || b.frozenStart() {
		return -1
	}
	if datlen >= b.totalLen {
		datlen = b.totalLen
		dst.AddBuffer(b)
		return int(datlen)
	}
	c, prev := b.first, b.first
	var nread uintptr
	for c.Off <= datlen {
		nread += c.Off
		datlen -= c.Off
		prev = c
		if b.lastWithData == &c.Next {
			b.lastWithData = &b.first
		}
		c = c.Next
	}
	if c != b.first {
		chp := dst.freeTrailingEmpty()
		if dst.first == nil {
			dst.first = b.first
		} else {
			*chp = b.first
		}
		dst.last = prev
		prev.Next = nil
		b.first = c
		dst.advanceLastWithData()
		dst.totalLen += nread
		dst.nAddForCB += nread
	}
	// The rest comes out of the middle of c: copy it. dst's callbacks run
	// inside this Add, as in libevent.
	dst.Add(chainBytes(c)[:datlen])
	c.Misalign += datlen
	c.Off -= datlen
	nread += datlen
	b.totalLen -= nread
	b.nDelForCB += nread
	if nread != 0 {
		dst.invokeCallbacks()
		b.invokeCallbacks()
	}
	return int(nread)
}

// AddBufferReference appends in's data to b without copying or taking it
// from in (evbuffer_add_buffer_reference): b gets read-only chains sharing
// in's storage, which become immutable in in and stay alive (with in) until
// b drops them. Fails for file and multicast chains.
func (b *Buffer) AddBufferReference(in *Buffer) int {
	inTotal, outTotal := in.totalLen, b.totalLen
	if inTotal == 0 {
		return 0
	}
	if b.frozenEnd() || b == in {
		return -1
	}
	for c := in.first; c != nil; c = c.Next {
		if c.Flags&(chain.FileSegment|chain.Sendfile|chain.Multicast) != 0 {
			return -1
		}
	}
	if outTotal == 0 {
		// libevent frees the empty chains here but keeps pointing at
		// them (and then crashes); forget them properly.
		freeChains(b.first)
		b.zeroChains()
	}
	for c := in.first; c != nil; c = c.Next {
		if c.Off == 0 || c.Flags&chain.Dangling != 0 {
			continue
		}
		tmp := chain.New(unsafe.Sizeof(multicastExtra{}))
		if tmp == nil {
			warn("evbuffer_add_buffer_reference: out of memory")
			break
		}
		m := (*multicastExtra)(tmp.Extra())
		in.refcnt++
		m.source = in
		c.Refcnt++
		m.parent = c
		c.Flags |= chain.Immutable
		tmp.BufferLen = c.BufferLen
		tmp.Misalign = c.Misalign
		tmp.Off = c.Off
		tmp.Flags |= chain.Multicast | chain.Immutable
		tmp.Buffer = c.Buffer
		b.insertChain(tmp)
	}
	b.nAddForCB += inTotal
	b.invokeCallbacks()
	return 0
}

// AddReference appends n bytes of caller memory at data without copying
// (evbuffer_add_reference). cleanup (an evbuffer_ref_cleanup_cb, may be nil)
// is called with data, n and extra once the buffer no longer needs the
// memory; not at all if the call fails.
func (b *Buffer) AddReference(data unsafe.Pointer, n uintptr, cleanup, extra unsafe.Pointer) int {
	c := chain.New(unsafe.Sizeof(refExtra{}))
	if c == nil {
		return -1
	}
	c.Flags |= chain.Reference | chain.Immutable
	c.Buffer = data
	c.BufferLen = n
	c.Off = n
	r := (*refExtra)(c.Extra())
	r.cleanup, r.extra = cleanup, extra
	if b.frozenEnd() {
		c.Release()
		return -1
	}
	b.insertChain(c)
	b.nAddForCB += n
	b.invokeCallbacks()
	return 0
}

// AddIovec appends the extents in order (evbuffer_add_iovec), after making
// room for all of them in at most two chains. Returns the bytes added.
func (b *Buffer) AddIovec(vecs []IOVec) uintptr {
	var total uintptr
	for _, v := range vecs {
		total += v.Len
	}
	if b.expandFast(total, 2) < 0 {
		return 0
	}
	var res uintptr
	for _, v := range vecs {
		p, ok := v.Bytes()
		if !ok || b.Add(p) < 0 {
			break
		}
		res += v.Len
	}
	return res
}

// AddFormatted appends text that the caller formatted (evbuffer_add_printf:
// the C side runs vsnprintf and passes the result; n < 0 reports a format
// error). The chain work is libevent's: make at least 64 bytes of room in
// one chain, and if the text does not fit there, room for all of it plus the
// terminating NUL; so the resulting layout is the same.
func (b *Buffer) AddFormatted(text []byte, n int) int {
	if b.frozenEnd() {
		return -1
	}
	c := b.expandSingleChain(64)
	if c == nil || n < 0 {
		return -1
	}
	sz := uintptr(n)
	if sz >= c.SpaceLen() {
		if c = b.expandSingleChain(sz + 1); c == nil {
			return -1
		}
	}
	copy(unsafe.Slice((*byte)(c.SpacePtr()), sz), text[:sz])
	c.Off += sz
	b.totalLen += sz
	b.nAddForCB += sz
	b.advanceLastWithData()
	b.invokeCallbacks()
	return n
}
