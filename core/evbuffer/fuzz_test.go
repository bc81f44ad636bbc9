package evbuffer

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"goevent/core/mem"
)

// FuzzOps decodes its input into a sequence of operations on two buffers
// and applies each to the buffer and to a plain []byte model, checking every
// result, the full contents and the head's bookkeeping after each step, and
// that no off-heap memory is left behind.
func FuzzOps(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		live := mem.Live()
		runOps(t, in)
		if got := mem.Live(); got != live {
			t.Fatalf("leak: %d blocks live, %d before", got, live)
		}
	})
}

// fuzzSeeds are hand-picked op sequences: one per operation family, plus
// mixes that cross chain boundaries.
func fuzzSeeds() [][]byte {
	return [][]byte{
		{0, 200, 1, 0, 30, 2, 2, 5, 0, 3, 10, 0},
		{0, 255, 3, 0, 255, 7, 5, 0, 7, 3, 40, 0, 10, 1, 2, 3},
		{0, 250, 9, 0, 250, 9, 8, 0, 200, 12, 0, 5, 1},
		{14, 40, 14, 3, 0, 90, 1, 11, 0, 11, 1, 11, 2, 11, 3, 11, 4},
		{0, 100, 4, 9, 1, 200, 2, 9, 3, 255, 1, 13, 50, 0, 8, 0, 255},
		{19, 0, 0, 100, 6, 0, 19, 1, 2, 50, 0, 15, 2, 0},
		{20, 0, 0, 60, 1, 20, 1, 4, 20, 0, 2, 10, 20, 2, 20, 3, 5, 1, 3, 0},
		{16, 3, 0, 120, 16, 0, 5, 16, 1, 7, 16, 2, 0, 16, 4, 1},
		{18, 3, 4, 7, 9, 0, 3, 10, 5, 17, 9, 17, 0, 12, 7, 2},
		{0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 7, 255, 3, 0, 255},
	}
}

type fuzzReader struct {
	in  []byte
	pos int
}

func (r *fuzzReader) next() int {
	if r.pos >= len(r.in) {
		return 0
	}
	r.pos++
	return int(r.in[r.pos-1])
}

func (r *fuzzReader) done() bool { return r.pos >= len(r.in) }

// size turns one byte into a length with a spread that hits chain sizes.
func (r *fuzzReader) size() int {
	v := r.next()
	switch {
	case v < 100:
		return v
	case v < 200:
		return (v - 100) * 23
	default:
		return 960 + (v-200)*40
	}
}

var fuzzAlpha = []byte("ab\r\n\x00cab\nb")

func fuzzData(seed, n int) []byte {
	p := make([]byte, n)
	x := uint32(seed*2654435761 + 7)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = fuzzAlpha[x%uint32(len(fuzzAlpha))]
	}
	return p
}

type fuzzBuf struct {
	b     *Buffer
	model []byte
}

func fuzzIndexEOL(m []byte) int {
	for i, c := range m {
		if c == '\r' || c == '\n' {
			return i
		}
	}
	return -1
}

// modelEOL is where the line starting at s ends and how long its end marker
// is, per style; -1 if there is none.
func modelEOL(m []byte, s, style int) (int, int) {
	rest := m[s:]
	switch style {
	case EOLAny:
		i := fuzzIndexEOL(rest)
		if i < 0 {
			return -1, 0
		}
		n := 0
		for i+n < len(rest) && (rest[i+n] == '\r' || rest[i+n] == '\n') {
			n++
		}
		return s + i, n
	case EOLCRLF:
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return -1, 0
		}
		if i > 0 && rest[i-1] == '\r' {
			return s + i - 1, 2
		}
		return s + i, 1
	case EOLCRLFStrict:
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			return -1, 0
		}
		return s + i, 2
	case EOLLF, EOLNUL:
		c := byte('\n')
		if style == EOLNUL {
			c = 0
		}
		i := bytes.IndexByte(rest, c)
		if i < 0 {
			return -1, 0
		}
		return s + i, 1
	}
	return -1, 0
}

func runOps(t *testing.T, in []byte) {
	r := &fuzzReader{in: in}
	bufs := [2]*fuzzBuf{{b: New()}, {b: New()}}
	defer func() {
		// Drain first: a buffer holding multicast references to its own
		// chains (after add_buffer_reference then add_buffer) would
		// otherwise keep itself alive, as in libevent.
		for _, fb := range bufs {
			fb.b.Unfreeze(true)
			fb.b.Drain(uintptr(fb.b.Len()))
		}
		for _, fb := range bufs {
			fb.b.Free()
		}
	}()
	// A callback on the first buffer checks that every report adds up.
	var cbErr string
	addGoFunc(bufs[0].b, func(b *Buffer, info CBInfo) {
		if info.OrigSize+info.NAdded-info.NDeleted != uintptr(b.Len()) && cbErr == "" {
			cbErr = fmt.Sprintf("callback info %+v does not add up to length %d", info, b.Len())
		}
	})
	fail := func(step int, format string, a ...any) {
		t.Helper()
		t.Fatalf("step %d: %s", step, fmt.Sprintf(format, a...))
	}
	for step := 0; !r.done() && step < 400; step++ {
		op := r.next() % 21
		which := r.next()
		x, y := bufs[which&1], bufs[1-which&1]
		xb, L := x.b, len(x.model)
		fs, fe := xb.frozenStart(), xb.frozenEnd()
		switch op {
		case 0: // add
			n := r.size()
			d := fuzzData(step, n)
			want := 0
			if fe {
				want = -1
			} else {
				x.model = append(x.model, d...)
			}
			if got := xb.Add(d); got != want {
				fail(step, "Add = %d, want %d", got, want)
			}
		case 1: // prepend
			n := r.size()
			d := fuzzData(step, n)
			want := 0
			if n > 0 && fs {
				want = -1
			} else {
				x.model = append(append([]byte{}, d...), x.model...)
			}
			if got := xb.Prepend(d); got != want {
				fail(step, "Prepend = %d, want %d", got, want)
			}
		case 2: // drain
			n := r.size()
			want := 0
			if L > 0 && fs {
				want = -1
			} else {
				x.model = x.model[min(n, L):]
			}
			if got := xb.Drain(uintptr(n)); got != want {
				fail(step, "Drain = %d, want %d", got, want)
			}
		case 3, 4: // remove, copyout
			n := r.size()
			dst := make([]byte, n)
			k := min(n, L)
			want := k
			if k > 0 && fs {
				want = -1
			}
			var got int
			if op == 3 {
				got = xb.Remove(dst)
			} else {
				got = xb.CopyOut(dst)
			}
			if got != want || (want > 0 && !bytes.Equal(dst[:k], x.model[:k])) {
				fail(step, "Remove/CopyOut = %d %q, want %d %q", got, dst[:max(got, 0)], want, x.model[:k])
			}
			if op == 3 && want > 0 {
				x.model = x.model[k:]
			}
		case 5: // add_buffer
			want := 0
			if len(y.model) > 0 && (fe || y.b.frozenStart()) {
				want = -1
			}
			if got := xb.AddBuffer(y.b); got != want {
				fail(step, "AddBuffer = %d, want %d", got, want)
			}
			if want == 0 {
				x.model = append(x.model, y.model...)
				y.model = nil
			}
		case 6: // prepend_buffer
			want := 0
			if len(y.model) > 0 && (fs || y.b.frozenStart()) {
				want = -1
			}
			if got := xb.PrependBuffer(y.b); got != want {
				fail(step, "PrependBuffer = %d, want %d", got, want)
			}
			if want == 0 && len(y.model) > 0 {
				x.model = append(append([]byte{}, y.model...), x.model...)
				y.model = nil
			}
		case 7: // remove_buffer x -> y
			n := r.size()
			want := min(n, L)
			if n > 0 && (y.b.frozenEnd() || fs) {
				want = -1
			}
			if got := xb.RemoveBuffer(y.b, uintptr(n)); got != want {
				fail(step, "RemoveBuffer = %d, want %d", got, want)
			}
			if want > 0 {
				y.model = append(y.model, x.model[:want]...)
				x.model = x.model[want:]
			}
		case 8: // pullup
			n := int64(r.size())
			if n == 0 {
				n = -1
			}
			p := xb.Pullup(n)
			k := int(n)
			if n < 0 {
				k = L
			}
			if (p != nil) != (k > 0 && k <= L) {
				fail(step, "Pullup(%d) = %v with %d bytes", n, p, L)
			}
			if p != nil && !bytes.Equal(unsafe.Slice((*byte)(p), k), x.model[:k]) {
				fail(step, "Pullup bytes differ")
			}
		case 9: // reserve + commit
			size := r.size()
			nv := 1 + r.next()%3
			keep := r.size()
			if size == 0 && nv > 1 {
				size = 1 // libevent asserts on this combination
			}
			var v [3]IOVec
			got := xb.ReserveSpace(int64(size), v[:nv])
			if fe {
				if got != -1 {
					fail(step, "ReserveSpace on frozen end = %d", got)
				}
				break
			}
			total := 0
			for i := 0; i < got; i++ {
				total += int(v[i].Len)
			}
			if got < 1 || total < size {
				fail(step, "ReserveSpace(%d, %d) = %d vectors, %d bytes", size, nv, got, total)
			}
			keep = min(keep, size)
			used := 0
			for i := 0; i < got && keep > 0; i++ {
				k := min(keep, int(v[i].Len))
				d := fuzzData(step+i, k)
				copy(unsafe.Slice((*byte)(v[i].Base), k), d)
				x.model = append(x.model, d...)
				v[i].Len = uintptr(k)
				keep -= k
				used = i + 1
			}
			if c := xb.CommitSpace(v[:used]); c != 0 {
				fail(step, "CommitSpace = %d", c)
			}
		case 10: // search from a start
			if L == 0 {
				break
			}
			st := r.next() % L
			from := r.next() % L
			pl := min(1+r.next()%4, L-from)
			pat := append([]byte{}, x.model[from:from+pl]...)
			var sp Ptr
			xb.PtrSet(&sp, uintptr(st), PtrSet)
			res := xb.Search(pat, &sp)
			want := int64(-1)
			if i := bytes.Index(x.model[st:], pat); i >= 0 {
				want = int64(st + i)
			}
			if res.Pos != want {
				fail(step, "Search(%q from %d) = %d, want %d", pat, st, res.Pos, want)
			}
			end := r.next() % (L + 1)
			var ep Ptr
			xb.PtrSet(&ep, uintptr(end), PtrSet)
			res = xb.SearchRange(pat, &sp, &ep)
			if want >= 0 && want+int64(pl) > int64(end) {
				want = -1
			}
			if res.Pos != want {
				fail(step, "SearchRange(%q, %d..%d) = %d, want %d", pat, st, end, res.Pos, want)
			}
		case 11: // readln
			style := r.next() % 5
			p, n, ok := xb.ReadLn(style)
			pos, elen := modelEOL(x.model, 0, style)
			if fs {
				pos = -1
			}
			if ok != (pos >= 0) {
				fail(step, "ReadLn(%d) ok=%v, model pos %d in %q", style, ok, pos, x.model)
			}
			if ok {
				line := unsafe.Slice((*byte)(p), n+1)
				if int(n) != pos || !bytes.Equal(line[:n], x.model[:pos]) || line[n] != 0 {
					fail(step, "ReadLn(%d) = %q, want %q", style, line, x.model[:pos])
				}
				mem.Free(p)
				x.model = x.model[pos+elen:]
			}
		case 12: // peek
			if L == 0 {
				break
			}
			st := r.next() % (L + 1)
			length := int64(r.next()) - 20
			var sp Ptr
			xb.PtrSet(&sp, uintptr(st), PtrSet)
			var v [64]IOVec
			n := xb.Peek(length, &sp, v[:])
			var got []byte
			for i := 0; i < min(n, 64); i++ {
				got = append(got, unsafe.Slice((*byte)(v[i].Base), v[i].Len)...)
			}
			if !bytes.HasPrefix(x.model[st:], got) {
				fail(step, "Peek extents are not the data")
			}
			need := L - st
			if length >= 0 {
				need = min(int(length), need)
			}
			if n < 64 && len(got) < need {
				fail(step, "Peek(%d from %d) covered %d bytes", length, st, len(got))
			}
		case 13: // expand
			n := r.size()
			if xb.Expand(uintptr(n)) != 0 || !xb.hasRoom(uintptr(n)) {
				fail(step, "Expand(%d) left no room", n)
			}
		case 14: // add_reference
			n := r.size()
			d := fuzzData(step, n)
			m := mem.Alloc(uintptr(n) + 1)
			copy(unsafe.Slice((*byte)(m), n), d)
			want := 0
			if fe {
				want = -1
				mem.Free(m) // never referenced: no cleanup will run
			} else {
				x.model = append(x.model, d...)
			}
			if got := xb.AddReference(m, uintptr(n), freeRefMemory, m); got != want {
				fail(step, "AddReference = %d, want %d", got, want)
			}
		case 15: // copyout_from
			st := r.next() % (L + 1)
			n := r.size()
			var sp Ptr
			xb.PtrSet(&sp, uintptr(st), PtrSet)
			dst := make([]byte, n)
			k := min(n, L-st)
			want := k
			if k > 0 && fs {
				want = -1
			}
			if got := xb.CopyOutFrom(&sp, dst); got != want || (want > 0 && !bytes.Equal(dst[:k], x.model[st:st+k])) {
				fail(step, "CopyOutFrom(%d, %d) = %d, want %d", st, n, got, want)
			}
		case 16: // search_eol
			style := r.next() % 5
			st := 0
			if L > 0 {
				st = r.next() % L
			}
			var sp Ptr
			xb.PtrSet(&sp, uintptr(st), PtrSet)
			res, elen := xb.SearchEOL(&sp, style)
			pos, wl := -1, 0
			if L > 0 {
				pos, wl = modelEOL(x.model, st, style)
			}
			if res.Pos != int64(pos) || int(elen) != wl {
				fail(step, "SearchEOL(%d from %d) = %d/%d, want %d/%d", style, st, res.Pos, elen, pos, wl)
			}
		case 17: // ptr_set
			a := r.size()
			b := r.next()
			var p Ptr
			rc := xb.PtrSet(&p, uintptr(a), PtrSet)
			if (rc == 0) != (a <= L) || (rc == 0 && p.Pos != int64(a)) {
				fail(step, "PtrSet(%d) = %d %+v with %d bytes", a, rc, p, L)
			}
			if rc == 0 {
				rc = xb.PtrSet(&p, uintptr(b), PtrAdd)
				if (rc == 0) != (a+b <= L) || (rc == 0 && p.Pos != int64(a+b)) || (rc != 0 && p.Pos != -1) {
					fail(step, "PtrSet(+%d) = %d %+v", b, rc, p)
				}
			}
		case 18: // add_iovec
			nv := r.next() % 4
			var v [3]IOVec
			var all []byte
			var keep [][]byte
			for i := 0; i < nv; i++ {
				d := fuzzData(step+i, r.size())
				keep = append(keep, d)
				if len(d) > 0 {
					v[i] = IOVec{Base: unsafe.Pointer(&d[0]), Len: uintptr(len(d))}
				}
				all = append(all, d...)
			}
			want := uintptr(len(all))
			if fe {
				want = 0
			} else {
				x.model = append(x.model, all...)
			}
			if got := xb.AddIovec(v[:nv]); got != want {
				fail(step, "AddIovec = %d, want %d", got, want)
			}
			_ = keep
		case 19: // add_buffer_reference (x references y)
			want := 0
			switch {
			case len(y.model) == 0:
			case fe || y.b.hasMulticastOrFile():
				want = -1
			}
			if got := xb.AddBufferReference(y.b); got != want {
				fail(step, "AddBufferReference = %d, want %d", got, want)
			}
			if want == 0 {
				x.model = append(x.model, y.model...)
			}
		case 20: // freeze / unfreeze one end
			start := r.next()&1 == 1
			if r.next()&1 == 1 {
				xb.Freeze(start)
			} else {
				xb.Unfreeze(start)
			}
		}
		for _, fb := range bufs {
			checkInvariants(t, fb.b)
			if got := contents(fb.b); !bytes.Equal(got, fb.model) {
				fail(step, "op %d: contents %q, model %q", op, got, fb.model)
			}
		}
		if cbErr != "" {
			fail(step, "%s", cbErr)
		}
	}
}

// hasRoom reports whether one chain from the last with data on can take n
// more bytes.
func (b *Buffer) hasRoom(n uintptr) bool {
	for c := *b.lastWithData; c != nil; c = c.Next {
		if c.SpaceLen() >= n {
			return true
		}
	}
	return false
}

func (b *Buffer) hasMulticastOrFile() bool {
	for c := b.first; c != nil; c = c.Next {
		if c.Flags&(0x1|0x2|0x80) != 0 {
			return true
		}
	}
	return false
}
