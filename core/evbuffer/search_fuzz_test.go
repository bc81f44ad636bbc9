package evbuffer

import (
	"bytes"
	"testing"
	"unsafe"

	"goevent/core/mem"
)

// FuzzSearchReadln builds a buffer whose chains break where the input says
// (plain chains and references, empty ones included), then checks positions
// (PtrSet, PtrAdd), Search, SearchRange, SearchEOL, Peek from a position
// and ReadLn in every style against a plain []byte model, and that nothing
// is left allocated.
func FuzzSearchReadln(f *testing.F) {
	f.Add([]byte("ab\r\ncd\nef\x00gh\r\r\n\nxyz"), []byte{3, 0, 5, 1, 7}, []byte("\r\n"), uint16(1), uint16(9), uint16(2), uint8(0))
	f.Add([]byte("aaaaaaaaab"), []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []byte("aab"), uint16(0), uint16(10), uint16(3), uint8(1))
	f.Add([]byte("line one\nline two\r\nthree"), []byte{4, 130, 2}, []byte("two"), uint16(5), uint16(20), uint16(7), uint8(3))
	f.Add([]byte("\r\n\r\n"), []byte{1, 1, 1, 1}, []byte(""), uint16(2), uint16(4), uint16(0), uint8(2))
	f.Add([]byte("x\x00y\x00"), []byte{2, 2}, []byte{0}, uint16(0), uint16(100), uint16(1), uint8(4))
	f.Fuzz(func(t *testing.T, data, cuts, needle []byte, from, to, add uint16, style uint8) {
		if len(data) > 4096 || len(needle) > 64 {
			return
		}
		live := mem.Live()
		b, model := buildCut(t, data, cuts)
		checkSearch(t, b, model, needle, int(from), int(to), int(add), int(style%5))
		b.Free()
		if got := mem.Live(); got != live {
			t.Fatalf("leak: %d blocks live, %d before", got, live)
		}
	})
}

// buildCut makes a buffer of data cut into chains: each cut byte is the next
// piece's length (bit 7 set: as a reference chain, else added).
func buildCut(t *testing.T, data, cuts []byte) (*Buffer, []byte) {
	b := New()
	rest := data
	for i := 0; len(rest) > 0 || i < len(cuts); i++ {
		n, ref := len(rest), false
		if i < len(cuts) {
			n, ref = int(cuts[i]&0x7f), cuts[i]&0x80 != 0
		}
		n = min(n, len(rest))
		piece := rest[:n]
		rest = rest[n:]
		if ref {
			m := mem.Alloc(uintptr(n) + 1)
			copy(unsafe.Slice((*byte)(m), n), piece)
			if b.AddReference(m, uintptr(n), freeRefMemory, m) != 0 {
				t.Fatal("AddReference failed")
			}
		} else if b.Add(piece) != 0 {
			t.Fatal("Add failed")
		}
		if i >= len(cuts) {
			break
		}
	}
	return b, append([]byte(nil), data...)
}

// checkPtr: p names model position pos (the byte there, or the end).
func checkPtr(t *testing.T, what string, p *Ptr, model []byte, pos int) {
	t.Helper()
	if p.Pos != int64(pos) {
		t.Fatalf("%s: Pos %d, want %d", what, p.Pos, pos)
	}
	if pos == len(model) {
		if p.Chain != nil {
			t.Fatalf("%s: at the end, Chain must be nil", what)
		}
		return
	}
	if p.Chain == nil {
		t.Fatalf("%s: Chain nil at %d of %d", what, pos, len(model))
	}
	d := chainBytes(p.Chain)
	if p.PosInChain >= uintptr(len(d)) || d[p.PosInChain] != model[pos] {
		t.Fatalf("%s: PosInChain %d of a %d-byte chain does not hold byte %d", what,
			p.PosInChain, len(d), pos)
	}
}

func checkSearch(t *testing.T, b *Buffer, m []byte, needle []byte, from, to, add, style int) {
	n := len(m)
	from = from % (n + 2)
	to = to % (n + 2)

	// Positions.
	var p Ptr
	r := b.PtrSet(&p, uintptr(from), PtrSet)
	if from > n {
		if r != -1 || p.Pos != -1 {
			t.Fatalf("PtrSet(%d) past the end of %d: %d, Pos %d", from, n, r, p.Pos)
		}
		return
	}
	if r != 0 {
		t.Fatalf("PtrSet(%d) of %d bytes failed", from, n)
	}
	checkPtr(t, "PtrSet", &p, m, from)
	q := p
	if r := b.PtrSet(&q, uintptr(add), PtrAdd); from+add > n {
		if r != -1 {
			t.Fatalf("PtrAdd(%d+%d) past the end of %d succeeded", from, add, n)
		}
	} else {
		if r != 0 {
			t.Fatalf("PtrAdd(%d+%d) of %d bytes failed", from, add, n)
		}
		checkPtr(t, "PtrAdd", &q, m, from+add)
	}

	// Search and SearchRange.
	want := -1
	if i := bytes.Index(m[from:], needle); i >= 0 {
		want = from + i
	}
	got := b.Search(needle, &p)
	if len(needle) == 0 {
		want = from
	}
	if int(got.Pos) != want {
		t.Fatalf("Search(%q) from %d: %d, want %d", needle, from, got.Pos, want)
	}
	if want >= 0 {
		checkPtr(t, "Search result", &got, m, want)
	}
	if to <= n && len(needle) > 0 {
		var e Ptr
		b.PtrSet(&e, uintptr(to), PtrSet)
		wr := want
		if wr >= 0 && wr+len(needle) > to {
			wr = -1
		}
		gr := b.SearchRange(needle, &p, &e)
		if int(gr.Pos) != wr {
			t.Fatalf("SearchRange(%q) %d..%d: %d, want %d", needle, from, to, gr.Pos, wr)
		}
	}

	// SearchEOL from the position.
	eol, eolLen := modelEOL(m, from, style)
	ge, gl := b.SearchEOL(&p, style)
	if int(ge.Pos) != eol || (eol >= 0 && int(gl) != eolLen) {
		t.Fatalf("SearchEOL style %d from %d: %d/%d, want %d/%d", style, from, ge.Pos, gl, eol, eolLen)
	}
	if eol >= 0 {
		checkPtr(t, "SearchEOL result", &ge, m, eol)
	}

	// Peek from the position: the extents are the bytes that follow.
	vecs := make([]IOVec, 64)
	length := int64(to) - int64(from)
	k := b.Peek(length, &p, vecs)
	var seen []byte
	for i := 0; i < k && i < len(vecs); i++ {
		seen = append(seen, unsafe.Slice((*byte)(vecs[i].Base), vecs[i].Len)...)
	}
	if !bytes.HasPrefix(m[from:], seen) {
		t.Fatalf("Peek from %d: extents are not the bytes there", from)
	}
	if k <= len(vecs) && length >= 0 && len(seen) < min(int(length), n-from) {
		t.Fatalf("Peek(%d) from %d: %d extents cover %d bytes", length, from, k, len(seen))
	}

	// ReadLn from the front in the style: the line, then the rest.
	eol, eolLen = modelEOL(m, 0, style)
	line, ok := b.ReadLine(style)
	if ok != (eol >= 0) {
		t.Fatalf("ReadLine style %d: ok %v, want a line at %d", style, ok, eol)
	}
	if ok {
		if !bytes.Equal(line, m[:eol]) {
			t.Fatalf("ReadLine style %d: %q, want %q", style, line, m[:eol])
		}
		if rest := contents(b); !bytes.Equal(rest, m[eol+eolLen:]) {
			t.Fatalf("after ReadLine: %q, want %q", rest, m[eol+eolLen:])
		}
	}
}
