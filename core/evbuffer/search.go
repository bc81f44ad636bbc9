package evbuffer

import (
	"bytes"
	"math"
	"structs"
	"unsafe"

	"goevent/core/chain"
	"goevent/core/mem"
)

// Ptr is struct evbuffer_ptr: a position in a buffer. Pos is the offset from
// the front (-1: not found); Chain and PosInChain locate it, and are valid
// only until the buffer changes. Chain is nil at the very end.
type Ptr struct {
	_          structs.HostLayout
	Pos        int64
	Chain      *chain.Chain
	PosInChain uintptr
}

// How to move a Ptr (enum evbuffer_ptr_how).
const (
	PtrSet = 0
	PtrAdd = 1
)

// End-of-line styles (enum evbuffer_eol_style).
const (
	EOLAny        = 0 // any run of CR and LF characters
	EOLCRLF       = 1 // LF, optionally preceded by CR
	EOLCRLFStrict = 2 // exactly CR LF
	EOLLF         = 3
	EOLNUL        = 4
)

func (p *Ptr) notFound() {
	p.Pos = -1
	p.Chain = nil
	p.PosInChain = 0
}

// PtrSet moves pos to position (PtrSet) or forward by position (PtrAdd)
// (evbuffer_ptr_set). Landing exactly at the end is valid (Chain nil);
// beyond it, pos becomes "not found" and -1 is returned.
func (b *Buffer) PtrSet(pos *Ptr, position uintptr, how int) int {
	left := position
	var c *chain.Chain
	switch how {
	case PtrSet:
		c = b.first
		pos.Pos = int64(position)
		position = 0
	case PtrAdd:
		if pos.Pos < 0 || maxSize-position < uintptr(pos.Pos) {
			return -1
		}
		c = pos.Chain
		pos.Pos += int64(position)
		position = pos.PosInChain
	}
	for c != nil && position+left >= c.Off {
		left -= c.Off - position
		c = c.Next
		position = 0
	}
	switch {
	case c != nil:
		pos.Chain = c
		pos.PosInChain = position + left
	case left == 0:
		pos.Chain = nil
		pos.PosInChain = 0
	default:
		pos.notFound()
		return -1
	}
	return 0
}

// ptrSubtract moves pos back by howfar bytes.
func (b *Buffer) ptrSubtract(pos *Ptr, howfar uintptr) int {
	if pos.Pos < 0 || howfar > uintptr(pos.Pos) {
		return -1
	}
	if pos.Chain != nil && howfar <= pos.PosInChain {
		pos.PosInChain -= howfar
		pos.Pos -= int64(howfar)
		return 0
	}
	return b.PtrSet(pos, uintptr(pos.Pos)-howfar, PtrSet)
}

// ptrEqual reports whether the bytes at pos equal what.
func (b *Buffer) ptrEqual(pos *Ptr, what []byte) bool {
	n := uintptr(len(what))
	if pos.Pos < 0 || maxSize-n < uintptr(pos.Pos) || uintptr(pos.Pos)+n > b.totalLen {
		return false
	}
	c, at := pos.Chain, pos.PosInChain
	for len(what) > 0 && c != nil {
		data := chainBytes(c)
		if at > uintptr(len(data)) {
			return false
		}
		data = data[at:]
		k := min(len(data), len(what))
		if !bytes.Equal(data[:k], what[:k]) {
			return false
		}
		what = what[k:]
		at = 0
		c = c.Next
	}
	return true
}

// Search finds the first occurrence of what at or after start (nil: the
// front) (evbuffer_search).
func (b *Buffer) Search(what []byte, start *Ptr) Ptr {
	return b.SearchRange(what, start, nil)
}

// SearchRange is Search restricted to matches that end at or before end
// (evbuffer_search_range). An empty what matches at start.
func (b *Buffer) SearchRange(what []byte, start, end *Ptr) Ptr {
	var pos Ptr
	if start != nil {
		pos = *start
	} else {
		pos.Chain = b.first
	}
	c := pos.Chain
	var lastChain *chain.Chain
	if end != nil {
		lastChain = end.Chain
	}
	if len(what) == 0 || uint64(len(what)) > math.MaxInt64 {
		return pos
	}
	first := what[0]
	k := -1 // the rare byte's offset in what, once chosen
	for c != nil {
		data := chainBytes(c)
		if pos.PosInChain > uintptr(len(data)) {
			break // a stale position
		}
		if k < 0 {
			k = rareByte(what, data[pos.PosInChain:], b.totalLen)
		}
		// A match lying wholly inside this chain: a scan for the
		// pattern's rarest byte, not one search per candidate first
		// byte, which is what makes a frequent first byte cheap.
		if i := indexRare(data[pos.PosInChain:], what, k); i >= 0 {
			pos.Pos += int64(i)
			pos.PosInChain += uintptr(i)
			if end != nil && pos.Pos+int64(len(what)) > end.Pos {
				break
			}
			return pos
		}
		// Otherwise a match can only start in the last len(what)-1 bytes
		// and run on into the following chains.
		if tail := uintptr(max(len(data)-len(what)+1, 0)); tail > pos.PosInChain {
			pos.Pos += int64(tail - pos.PosInChain)
			pos.PosInChain = tail
		}
		for pos.PosInChain < uintptr(len(data)) {
			i := bytes.IndexByte(data[pos.PosInChain:], first)
			if i < 0 {
				break
			}
			pos.Pos += int64(i)
			pos.PosInChain += uintptr(i)
			if b.ptrEqual(&pos, what) {
				if end != nil && pos.Pos+int64(len(what)) > end.Pos {
					pos.notFound()
					return pos
				}
				return pos
			}
			pos.Pos++
			pos.PosInChain++
		}
		if c == lastChain {
			break
		}
		pos.Pos += int64(uintptr(len(data)) - pos.PosInChain)
		c = c.Next
		pos.Chain = c
		pos.PosInChain = 0
	}
	pos.notFound()
	return pos
}

// rareByte picks the byte of what (at least two bytes long) that a search
// scans for: the one least frequent in a sample of the data about to be
// searched (its first 256 bytes; the earliest of equals), so that a
// pattern starting with a byte the data is full of (a letter in text, a
// header name's first letter in a stream of headers) is found by scanning
// for one that is rare there. For small buffers (total bytes in all), where
// sampling would cost more than it saves, it returns 0: the first byte, as
// libevent scans.
func rareByte(what, sample []byte, total uintptr) int {
	if len(what) < 2 || total < 4096 {
		return 0
	}
	sample = sample[:min(len(sample), 256)]
	var count [256]uint16
	for _, c := range sample {
		count[c]++
	}
	k := 0
	for i := 1; i < len(what); i++ {
		if count[what[i]] < count[what[k]] {
			k = i
		}
	}
	return k
}

// indexRare is bytes.Index(s, what) for a what whose byte at k is rare in
// s: it scans for that byte (one vectorised IndexByte per candidate) and
// compares the whole pattern around each occurrence. Should the byte turn
// out not to be rare after all, it leaves the rest to bytes.Index, whose
// own scan is for the first byte and then a brute-force vector compare.
func indexRare(s, what []byte, k int) int {
	n := len(what)
	if k == 0 || len(s) < n {
		return bytes.Index(s, what)
	}
	rare := what[k]
	last := len(s) - n + k // the rare byte of a match lies at most here
	fails := 0
	for i := k; i <= last; i++ {
		j := bytes.IndexByte(s[i:last+1], rare)
		if j < 0 {
			return -1
		}
		i += j
		if start := i - k; bytes.Equal(s[start:start+n], what) {
			return start
		}
		if fails++; fails > 16 && fails*64 > i {
			if r := bytes.Index(s[i+1-k:], what); r >= 0 {
				return r + i + 1 - k
			}
			return -1
		}
	}
	return -1
}

// findByte advances it to the next occurrence of ch; -1 if there is none.
func findByte(it *Ptr, ch byte) int64 {
	c, i := it.Chain, it.PosInChain
	for c != nil {
		data := chainBytes(c)
		if i <= uintptr(len(data)) {
			if j := bytes.IndexByte(data[i:], ch); j >= 0 {
				it.Chain = c
				it.PosInChain = i + uintptr(j)
				it.Pos += int64(j)
				return it.Pos
			}
		}
		it.Pos += int64(c.Off - i)
		i = 0
		c = c.Next
	}
	return -1
}

// indexEOL is the index of the first CR or LF in s, or -1. It scans in
// slices so that a CR near the front is found without first scanning the
// whole chain for LF.
func indexEOL(s []byte) int {
	const step = 256
	for base := 0; base < len(s); base += step {
		chunk := s[base:min(base+step, len(s))]
		lf := bytes.IndexByte(chunk, '\n')
		if lf >= 0 {
			chunk = chunk[:lf]
		}
		if cr := bytes.IndexByte(chunk, '\r'); cr >= 0 {
			return base + cr
		}
		if lf >= 0 {
			return base + lf
		}
	}
	return -1
}

// findEOLChar advances it to the next CR or LF; -1 if there is none.
func findEOLChar(it *Ptr) int64 {
	c, i := it.Chain, it.PosInChain
	for c != nil {
		data := chainBytes(c)
		if i <= uintptr(len(data)) {
			if j := indexEOL(data[i:]); j >= 0 {
				it.Chain = c
				it.PosInChain = i + uintptr(j)
				it.Pos += int64(j)
				return it.Pos
			}
		}
		it.Pos += int64(c.Off - i)
		i = 0
		c = c.Next
	}
	return -1
}

// skipCRLF advances it past a run of CR and LF characters and returns its
// length. At the end of the data it is left at the end of the last chain.
func skipCRLF(it *Ptr) uintptr {
	c, i := it.Chain, it.PosInChain
	if c == nil {
		return 0
	}
	var count uintptr
	for {
		data := chainBytes(c)
		for ; i < uintptr(len(data)); i++ {
			if ch := data[i]; ch != '\r' && ch != '\n' {
				it.Chain = c
				it.PosInChain = i
				it.Pos += int64(count)
				return count
			}
			count++
		}
		i = 0
		if c.Next == nil {
			it.Chain = c
			it.PosInChain = 0
			it.Pos += int64(count)
			return count
		}
		c = c.Next
	}
}

func byteAt(it *Ptr) int {
	if it.Chain == nil {
		return -1
	}
	data := chainBytes(it.Chain)
	if it.PosInChain >= uintptr(len(data)) {
		return -1
	}
	return int(data[it.PosInChain])
}

// SearchEOL finds the next end of line at or after start (nil: the front)
// in the given style (evbuffer_search_eol). It returns the position of the
// line end and its length (how many bytes a reader drains after the line);
// on failure the position is "not found" and the length 0.
func (b *Buffer) SearchEOL(start *Ptr, style int) (Ptr, uintptr) {
	var it Ptr
	if start != nil && start.Chain == nil {
		it.notFound()
		return it, 0
	}
	if start != nil {
		it = *start
	} else {
		it.Chain = b.first
	}
	var eolLen uintptr
	found := false
	switch style {
	case EOLAny:
		if findEOLChar(&it) >= 0 {
			it2 := it
			eolLen = skipCRLF(&it2)
			found = true
		}
	case EOLCRLFStrict:
		it = b.SearchRange([]byte("\r\n"), &it, nil)
		if it.Pos >= 0 {
			eolLen = 2
			found = true
		}
	case EOLCRLF:
		startPos := it.Pos
		if findByte(&it, '\n') >= 0 {
			eolLen = 1
			found = true
			// Take a CR right before the LF too, unless the LF is the
			// first byte searched.
			if it.Pos != startPos {
				it2 := it
				if b.ptrSubtract(&it2, 1) == 0 && byteAt(&it2) == '\r' {
					it = it2
					eolLen = 2
				}
			}
		}
	case EOLLF:
		if findByte(&it, '\n') >= 0 {
			eolLen = 1
			found = true
		}
	case EOLNUL:
		if findByte(&it, 0) >= 0 {
			eolLen = 1
			found = true
		}
	}
	if !found {
		it.notFound()
	}
	return it, eolLen
}

// ReadLn removes one line and its end-of-line marker (evbuffer_readln). The
// line is returned NUL-terminated in memory from core/mem (the C caller frees
// it with free; Go callers with mem.Free), with its length without the NUL.
// ok is false if there is no complete line or the front is frozen.
func (b *Buffer) ReadLn(style int) (line unsafe.Pointer, n uintptr, ok bool) {
	if b.frozenStart() {
		return nil, 0, false
	}
	it, eolLen := b.SearchEOL(nil, style)
	if it.Pos < 0 {
		return nil, 0, false
	}
	n = uintptr(it.Pos)
	line = mem.Alloc(n + 1)
	if line == nil {
		warn("evbuffer_readln: out of memory")
		return nil, 0, false
	}
	out := unsafe.Slice((*byte)(line), n+1)
	b.Remove(out[:n])
	out[n] = 0
	b.Drain(eolLen)
	return line, n, true
}

// ReadLine is ReadLn for Go callers: the line (without its end-of-line
// marker) in Go memory.
func (b *Buffer) ReadLine(style int) ([]byte, bool) {
	if b.frozenStart() {
		return nil, false
	}
	it, eolLen := b.SearchEOL(nil, style)
	if it.Pos < 0 {
		return nil, false
	}
	line := make([]byte, it.Pos)
	b.Remove(line)
	b.Drain(eolLen)
	return line, true
}

// Peek describes up to length bytes (all if negative) from start (nil: the
// front) as extents of chain memory, without copying (evbuffer_peek). It
// fills at most len(vecs) vectors and returns how many the request needs,
// which may be more. The extents stay valid until the buffer changes.
func (b *Buffer) Peek(length int64, start *Ptr, vecs []IOVec) int {
	return b.PeekN(length, start, vecs, len(vecs))
}

// PeekN is Peek for the C ABI, where the vector count n may be negative
// (libevent then fills nothing and, unlike n == 0, does not count the whole
// buffer for a negative length). vecs must hold max(n, 0) entries.
func (b *Buffer) PeekN(length int64, start *Ptr, vecs []IOVec, n int) int {
	if start != nil && start.Chain == nil {
		return 0
	}
	var c *chain.Chain
	idx := 0
	var soFar int64
	if start != nil {
		c = start.Chain
		soFar = int64(c.Off) - int64(start.PosInChain)
		idx = 1
		if n > 0 {
			vecs[0] = IOVec{Base: unsafe.Add(chainDataPtr(c), start.PosInChain), Len: uintptr(soFar)}
		}
		c = c.Next
	} else {
		c = b.first
	}
	if n == 0 && length < 0 {
		// No vectors and "everything": count the extents of the rest.
		length = int64(b.totalLen)
		if start != nil {
			length -= start.Pos
		}
	}
	for c != nil {
		if length >= 0 && soFar >= length {
			break
		}
		if idx < n {
			vecs[idx] = IOVec{Base: chainDataPtr(c), Len: c.Off}
		} else if length < 0 {
			break
		}
		idx++
		soFar += int64(c.Off)
		c = c.Next
	}
	return idx
}

// Find returns a pointer to the first occurrence of what, made contiguous
// with everything before it (buffer_compat.h's evbuffer_find), or nil.
func (b *Buffer) Find(what []byte) unsafe.Pointer {
	p := b.SearchRange(what, nil, nil)
	if p.Pos < 0 {
		return nil
	}
	base := b.Pullup(p.Pos + int64(len(what)))
	if base == nil {
		return nil
	}
	return unsafe.Add(base, p.Pos)
}
