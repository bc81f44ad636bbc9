package evbuffer

import (
	"bytes"
	"math/rand"
	"testing"
	"unsafe"

	"goevent/core/mem"
)

func TestPtrSet(t *testing.T) {
	leakCheck(t)
	b := chained(t, "abc", "de")
	defer b.Free()
	cs := chains(b)
	var p Ptr
	for pos, want := range []struct {
		c   int
		pic uintptr
	}{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}} {
		if b.PtrSet(&p, uintptr(pos), PtrSet) != 0 || p.Pos != int64(pos) ||
			p.Chain != cs[want.c] || p.PosInChain != want.pic {
			t.Fatalf("set %d: %+v", pos, p)
		}
	}
	// The end itself is a valid position, with no chain.
	if b.PtrSet(&p, 5, PtrSet) != 0 || p.Pos != 5 || p.Chain != nil || p.PosInChain != 0 {
		t.Fatalf("set end: %+v", p)
	}
	if b.PtrSet(&p, 6, PtrSet) != -1 || p.Pos != -1 || p.Chain != nil {
		t.Fatalf("set past the end: %+v", p)
	}
	// Adding moves from where the pointer is, across chains.
	b.PtrSet(&p, 1, PtrSet)
	if b.PtrSet(&p, 3, PtrAdd) != 0 || p.Pos != 4 || p.Chain != cs[1] || p.PosInChain != 1 {
		t.Fatalf("add: %+v", p)
	}
	if b.PtrSet(&p, 1, PtrAdd) != 0 || p.Chain != nil || p.Pos != 5 {
		t.Fatalf("add to the end: %+v", p)
	}
	if b.PtrSet(&p, 0, PtrAdd) != 0 || p.Pos != 5 {
		t.Fatalf("add 0 at the end: %+v", p)
	}
	if b.PtrSet(&p, 1, PtrAdd) != -1 || p.Pos != -1 {
		t.Fatalf("add past the end: %+v", p)
	}
	if b.PtrSet(&p, 1, PtrAdd) != -1 {
		t.Fatal("adding to a not-found pointer must fail")
	}
	b.PtrSet(&p, 2, PtrSet)
	if b.PtrSet(&p, ^uintptr(0), PtrAdd) != -1 || p.Pos != 2 {
		t.Fatalf("an overflowing add fails and leaves the pointer: %+v", p)
	}
}

func TestSearch(t *testing.T) {
	leakCheck(t)
	b := chained(t, "xab", "cdab", "cx", "abc")
	defer b.Free()
	cs := chains(b)
	r := b.Search([]byte("abc"), nil)
	if r.Pos != 1 || r.Chain != cs[0] || r.PosInChain != 1 {
		t.Fatalf("search across chains: %+v", r)
	}
	start := r
	b.PtrSet(&start, 1, PtrAdd)
	r = b.Search([]byte("abc"), &start)
	if r.Pos != 5 || r.Chain != cs[1] || r.PosInChain != 2 {
		t.Fatalf("second match: %+v", r)
	}
	b.PtrSet(&start, 1, PtrAdd)
	b.PtrSet(&start, 4, PtrAdd) // after the second match
	r = b.Search([]byte("abc"), &start)
	if r.Pos != 9 || r.Chain != cs[3] || r.PosInChain != 0 {
		t.Fatalf("third match: %+v", r)
	}
	if r = b.Search([]byte("abd"), nil); r.Pos != -1 || r.Chain != nil {
		t.Fatalf("no match: %+v", r)
	}
	if r = b.Search([]byte("abcz"), nil); r.Pos != -1 {
		t.Fatalf("match running off the end: %+v", r)
	}
	// An empty pattern "matches" at the start.
	if r = b.Search(nil, nil); r.Pos != 0 || r.Chain != cs[0] {
		t.Fatalf("empty pattern: %+v", r)
	}
	// A range end: matches must end at or before it.
	var end Ptr
	b.PtrSet(&end, 8, PtrSet)
	if r = b.SearchRange([]byte("abc"), nil, &end); r.Pos != 1 {
		t.Fatalf("range 8: %+v", r)
	}
	b.PtrSet(&end, 3, PtrSet)
	if r = b.SearchRange([]byte("abc"), nil, &end); r.Pos != -1 {
		t.Fatalf("range 3 (match would end at 4): %+v", r)
	}
	b.PtrSet(&end, 4, PtrSet)
	if r = b.SearchRange([]byte("abc"), nil, &end); r.Pos != 1 {
		t.Fatalf("range 4: %+v", r)
	}
	if p := b.Find([]byte("cxa")); p == nil || string(unsafe.Slice((*byte)(p), 3)) != "cxa" {
		t.Fatal("Find")
	}
	mustExtents(t, b, 10, 2) // Find pulled up everything up to the match end
	if b.Find([]byte("zz")) != nil || b.Find(nil) != nil {
		t.Fatal("Find of a missing or empty pattern is nil")
	}
}

type eolCase struct {
	name   string
	chunks []string
	style  int
	lines  []string // successive ReadLn results
	rest   string
}

func TestReadLnStyles(t *testing.T) {
	cases := []eolCase{
		{"lf", []string{"one\ntwo\n\nx"}, EOLLF, []string{"one", "two", ""}, "x"},
		{"lf keeps cr", []string{"a\r\nb"}, EOLLF, []string{"a\r"}, "b"},
		{"crlf", []string{"a\r\nb\nc\r\r\n"}, EOLCRLF, []string{"a", "b", "c\r"}, ""},
		{"crlf split", []string{"line\r", "\nnext"}, EOLCRLF, []string{"line"}, "next"},
		{"crlf lf first", []string{"\nabc"}, EOLCRLF, []string{""}, "abc"},
		{"crlf lone cr", []string{"abc\r"}, EOLCRLF, nil, "abc\r"},
		{"strict", []string{"a\nb\r\nc"}, EOLCRLFStrict, []string{"a\nb"}, "c"},
		{"strict split", []string{"ab\r", "\ncd\r"}, EOLCRLFStrict, []string{"ab"}, "cd\r"},
		{"strict lone cr", []string{"abc\r"}, EOLCRLFStrict, nil, "abc\r"},
		{"any runs", []string{"a\r\n\r\nb\n\rc"}, EOLAny, []string{"a", "b"}, "c"},
		{"any split run", []string{"a\r", "\n\r", "b"}, EOLAny, []string{"a"}, "b"},
		{"any trailing cr", []string{"abc\r"}, EOLAny, []string{"abc"}, ""},
		{"any cr before lf", []string{"x\ry\nz"}, EOLAny, []string{"x", "y"}, "z"},
		{"nul", []string{"ab\x00cd\x00"}, EOLNUL, []string{"ab", "cd"}, ""},
		{"nul none", []string{"abc\n"}, EOLNUL, nil, "abc\n"},
		{"no eol", []string{"abc"}, EOLLF, nil, "abc"},
		{"bad style", []string{"a\nb"}, 9, nil, "a\nb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leakCheck(t)
			b := chained(t, c.chunks...)
			defer b.Free()
			for i := 0; ; i++ {
				p, n, ok := b.ReadLn(c.style)
				if !ok {
					if p != nil || n != 0 {
						t.Fatal("a failed ReadLn returns nil and 0")
					}
					if i != len(c.lines) {
						t.Fatalf("got %d lines, want %d", i, len(c.lines))
					}
					break
				}
				line := unsafe.Slice((*byte)(p), n+1)
				if i >= len(c.lines) || string(line[:n]) != c.lines[i] || line[n] != 0 {
					t.Fatalf("line %d = %q", i, line)
				}
				mem.Free(p)
			}
			mustContain(t, b, c.rest)
		})
	}
}

func TestSearchEOLFromPointer(t *testing.T) {
	leakCheck(t)
	b := chained(t, "ab\r", "\ncd\n")
	defer b.Free()
	var p Ptr
	b.PtrSet(&p, 3, PtrSet) // at the LF right after a CR in the previous chain
	r, n := b.SearchEOL(&p, EOLCRLF)
	if r.Pos != 3 || n != 1 {
		t.Fatalf("LF first from start: CR before it is not taken: %+v %d", r, n)
	}
	r, n = b.SearchEOL(nil, EOLCRLF)
	if r.Pos != 2 || n != 2 || r.Chain != chains(b)[0] || r.PosInChain != 2 {
		t.Fatalf("CRLF across chains: %+v %d", r, n)
	}
	b.PtrSet(&p, 4, PtrSet)
	if r, n = b.SearchEOL(&p, EOLAny); r.Pos != 6 || n != 1 {
		t.Fatalf("any from 4: %+v %d", r, n)
	}
	end := Ptr{Pos: 7}
	if r, n = b.SearchEOL(&end, EOLLF); r.Pos != -1 || n != 0 {
		t.Fatalf("start at the end: %+v %d", r, n)
	}
	line, ok := b.ReadLine(EOLCRLF)
	if !ok || string(line) != "ab" {
		t.Fatalf("ReadLine = %q %v", line, ok)
	}
	mustContain(t, b, "cd\n")
}

func TestPeek(t *testing.T) {
	leakCheck(t)
	b := chained(t, "abc", "defg", "hi")
	defer b.Free()
	var v [4]IOVec
	str := func(v IOVec) string { return string(unsafe.Slice((*byte)(v.Base), v.Len)) }
	if n := b.Peek(-1, nil, nil); n != 3 {
		t.Fatalf("count all = %d", n)
	}
	if n := b.Peek(-1, nil, v[:2]); n != 2 || str(v[0]) != "abc" || str(v[1]) != "defg" {
		t.Fatalf("two vectors = %d", n)
	}
	if n := b.Peek(5, nil, nil); n != 2 {
		t.Fatalf("extents for 5 bytes = %d", n)
	}
	if n := b.Peek(5, nil, v[:1]); n != 2 || str(v[0]) != "abc" {
		t.Fatalf("5 bytes, 1 vector: %d (the count says how many are needed)", n)
	}
	if n := b.Peek(0, nil, v[:]); n != 0 {
		t.Fatalf("0 bytes = %d", n)
	}
	var p Ptr
	b.PtrSet(&p, 4, PtrSet)
	if n := b.Peek(-1, &p, v[:]); n != 2 || str(v[0]) != "efg" || str(v[1]) != "hi" {
		t.Fatalf("from 4: %d", n)
	}
	if n := b.Peek(-1, &p, nil); n != 2 {
		t.Fatalf("count from 4 = %d", n)
	}
	if n := b.Peek(1, &p, v[:]); n != 1 {
		t.Fatalf("1 byte from 4 = %d (the partial first extent is whole)", n)
	}
	b.PtrSet(&p, 9, PtrSet)
	if n := b.Peek(-1, &p, v[:]); n != 0 {
		t.Fatalf("from the end = %d", n)
	}
	if n := b.PeekN(-1, nil, nil, -1); n != 0 {
		t.Fatalf("negative vector count, everything: %d", n)
	}
	if n := b.PeekN(7, nil, nil, -1); n != 2 {
		t.Fatalf("negative vector count, 7 bytes: %d", n)
	}
}

// indexRare finds what bytes.Index finds, whichever byte it scans for and
// however often that byte occurs (including often enough to hand over to
// bytes.Index midway).
func TestIndexRareMatchesIndex(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for iter := 0; iter < 20000; iter++ {
		alphabet := 1 + rng.Intn(6)
		s := make([]byte, rng.Intn(3000))
		for i := range s {
			s[i] = byte('a' + rng.Intn(alphabet))
		}
		what := make([]byte, 1+rng.Intn(12))
		for i := range what {
			what[i] = byte('a' + rng.Intn(alphabet+1))
		}
		if rng.Intn(2) == 0 && len(s) > len(what) {
			at := rng.Intn(len(s) - len(what) + 1)
			copy(s[at:], what)
		}
		k := rng.Intn(len(what))
		if got, want := indexRare(s, what, k), bytes.Index(s, what); got != want {
			t.Fatalf("indexRare(%q, %q, %d) = %d, bytes.Index %d", s, what, k, got, want)
		}
	}
}

// A search over many chains whose pattern starts with the data's most
// frequent byte finds the first match, also when it crosses chains.
func TestSearchFrequentFirstByte(t *testing.T) {
	leakCheck(t)
	rng := rand.New(rand.NewSource(4))
	for iter := 0; iter < 200; iter++ {
		b := New()
		var all []byte
		for n := 0; n < 40000; {
			piece := make([]byte, 1+rng.Intn(3000))
			for i := range piece {
				piece[i] = "eeeeeeeabc"[rng.Intn(10)]
			}
			b.Add(piece)
			all = append(all, piece...)
			n += len(piece)
		}
		what := []byte("eeb-c")[:2+rng.Intn(4)]
		if rng.Intn(2) == 0 {
			at := rng.Intn(len(all) - 10)
			what = append([]byte{}, all[at:at+2+rng.Intn(8)]...)
		}
		p := b.Search(what, nil)
		if want := bytes.Index(all, what); p.Pos != int64(want) {
			t.Fatalf("Search(%q) = %d, want %d", what, p.Pos, want)
		}
		b.Free()
	}
}
