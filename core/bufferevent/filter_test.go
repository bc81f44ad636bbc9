package bufferevent

import (
	"bytes"
	"testing"
	"time"
)

// upper is an output filter that copies src to dst in upper case, at most
// limit bytes when limit >= 0.
func upper(src, dst Buf, limit, _ int) int {
	s, d := src.(*fakeBuf), dst.(*fakeBuf)
	n := len(s.data)
	if limit >= 0 && n > limit {
		n = limit
	}
	d.add(bytes.ToUpper(s.data[:n]))
	s.drain(n)
	return FilterOK
}

// fours emits only whole groups of four bytes in normal mode, everything
// when flushing, and asks for more when it has nothing to emit.
func fours(src, dst Buf, limit, mode int) int {
	s, d := src.(*fakeBuf), dst.(*fakeBuf)
	n := len(s.data)
	if mode == FlushNormal {
		n -= n % 4
	}
	if limit >= 0 && n > limit {
		n = limit
	}
	if n == 0 {
		return FilterNeedMore
	}
	d.add(s.data[:n])
	s.drain(n)
	return FilterOK
}

func TestFilterNeedMoreAndTransform(t *testing.T) {
	a, b := NewPair(nil, 0)
	f := NewFilter(a, regFilter(fours), regFilter(upper), 0, nil, nil)
	if f == nil {
		t.Fatal("NewFilter failed")
	}
	if f.Underlying() != a.Pointer() || a.Underlying() != nil {
		t.Fatal("get_underlying")
	}
	var atF, atB []byte
	fReads := 0
	setcb(f, func() { fReads++; atF = append(atF, take(f)...) }, nil, nil)
	setcb(b, func() { atB = append(atB, take(b)...) }, nil, nil)
	f.Enable(EvRead)
	b.Enable(EvRead)
	write(f, []byte("abc"))
	fl.dispatch(time.Second)
	if string(atB) != "ABC" {
		t.Fatalf("b got %q through the output filter", atB)
	}
	write(b, []byte("12"))
	fl.dispatch(time.Second)
	if fReads != 0 || len(atF) != 0 || a.in().Len() != 2 {
		t.Fatalf("the input filter emitted early: reads %d got %q below %d", fReads, atF, a.in().Len())
	}
	write(b, []byte("345"))
	fl.dispatch(time.Second)
	if string(atF) != "1234" || a.in().Len() != 1 {
		t.Fatalf("f got %q with %d left below, want 1234 and 1", atF, a.in().Len())
	}
	// Flushing the input hands over the partial group.
	if r := f.Flush(EvRead, FlushFlush); r != 1 {
		t.Fatalf("flush returned %d, want 1 (progress)", r)
	}
	// A flush runs no read callback (libevent's filter does not either).
	fl.dispatch(time.Second)
	if atF = append(atF, take(f)...); string(atF) != "12345" {
		t.Fatalf("after flush f got %q", atF)
	}
	f.Free()
	b.Free()
	fl.dispatch(time.Second)
	// Without CLOSE_ON_FREE the underlying survives, unhooked.
	if Live() != 1 || a.h.ReadCB != nil || a.h.ReadSuspended&SuspendFilt != 0 {
		t.Fatalf("live %d, readcb %v, suspended %#x", Live(), a.h.ReadCB, a.h.ReadSuspended)
	}
	a.Free()
	checkNoLeaks(t)
}

func TestFilterStackedFlushAndClose(t *testing.T) {
	a, b := NewPair(nil, 0)
	freed := 0
	f1 := NewFilter(a, nil, regFilter(fours), OptCloseOnFree, regFree(func() { freed++ }), nil)
	f2 := NewFilter(f1, nil, regFilter(upper), OptCloseOnFree, regFree(func() { freed++ }), nil)
	var atB, atF2 []byte
	var bEvents, f2Events []int16
	setcb(b, func() { atB = append(atB, take(b)...) }, nil, func(w int16) { bEvents = append(bEvents, w) })
	setcb(f2, func() { atF2 = append(atF2, take(f2)...) }, nil, func(w int16) { f2Events = append(f2Events, w) })
	b.Enable(EvRead)
	f2.Enable(EvRead)
	write(f2, []byte("stacked"))
	fl.dispatch(time.Second)
	// f2 upper-cases, f1 passes whole groups of four.
	if string(atB) != "STAC" {
		t.Fatalf("b got %q, want STAC", atB)
	}
	// BEV_FINISHED reaches through both filters to the pair: the rest
	// comes out and b hears that the writer finished.
	if r := f2.Flush(EvWrite, FlushFinished); r != 1 {
		t.Fatalf("flush returned %d", r)
	}
	fl.dispatch(time.Second)
	if string(atB) != "STACKED" || len(bEvents) != 1 || bEvents[0] != EventEOF|EventReading {
		t.Fatalf("b got %q, events %v", atB, bEvents)
	}
	// Input passes up through both null input filters; EOF from below
	// reaches the top.
	write(b, []byte("up"))
	b.Flush(EvWrite, FlushFinished)
	fl.dispatch(time.Second)
	if string(atF2) != "up" || len(f2Events) != 1 || f2Events[0] != EventEOF|EventReading {
		t.Fatalf("f2 got %q, events %v", atF2, f2Events)
	}
	// CLOSE_ON_FREE all the way down: one free takes f2, f1 and a.
	f2.Free()
	fl.dispatch(time.Second)
	if freed != 2 || Live() != 1 {
		t.Fatalf("freed contexts %d, live %d (want 2 and 1)", freed, Live())
	}
	b.Free()
	checkNoLeaks(t)
}

func TestFilterWatermarks(t *testing.T) {
	// Deferred callbacks: with immediate ones a read callback that leaves
	// data under the mark while more waits below stalls in libevent, and
	// so here.
	a, b := NewPair(nil, 0)
	f := NewFilter(a, nil, nil, OptDeferCallbacks, nil, nil)
	f.SetWatermark(EvRead, 0, 10)
	var got []byte
	over := 0
	setcb(f, func() {
		if f.in().Len() > 10 {
			over++
		}
		// Take a little from a full buffer (the rest must keep
		// coming), all of a partial one.
		ib := fbuf(f.h.Input)
		n := ib.Len()
		if n >= 10 {
			n = 3
		}
		got = append(got, ib.data[:n]...)
		ib.drain(n)
	}, nil, nil)
	f.Enable(EvRead)
	src := pattern(1000)
	write(b, src)
	b.Enable(EvWrite)
	fl.dispatch(2 * time.Second)
	// What the last callback left behind is still there.
	got = append(got, take(f)...)
	if !bytes.Equal(got, src) || over != 0 {
		t.Fatalf("got %d of %d bytes (equal %v), %d reads over the mark", len(got), len(src),
			bytes.Equal(got, src), over)
	}
	// The underlying's write high watermark bounds what the output
	// filter hands down at once.
	a.SetWatermark(EvWrite, 0, 16)
	b.Disable(EvRead)
	write(f, pattern(100))
	if a.out().Len() > 16 {
		t.Fatalf("output filter overfilled the underlying: %d bytes", a.out().Len())
	}
	f.Free()
	a.Free()
	b.Free()
	checkNoLeaks(t)
}
