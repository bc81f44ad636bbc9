package bufferevent

import (
	"bytes"
	"hash/fnv"
	"testing"
	"time"
	"unsafe"
)

// The fake buffers move "chains" by moving their byte slices, with the same
// frozen-end rules and callback order as evbuffer_add_buffer and
// evbuffer_remove_buffer.

func (b *fakeBuf) AddBuffer(src Buf) int {
	s := src.(*fakeBuf)
	if s == b || len(s.data) == 0 {
		return 0
	}
	if b.frozenEnd || s.frozenStart {
		return -1
	}
	n, sOrig, bOrig := len(s.data), len(s.data), len(b.data)
	b.data = append(b.data, s.data...)
	s.data = nil
	s.notify(sOrig, 0, n)
	b.notify(bOrig, n, 0)
	return 0
}

func (b *fakeBuf) RemoveBuffer(dst Buf, n int) int {
	d := dst.(*fakeBuf)
	if d == b || n == 0 {
		return 0
	}
	if d.frozenEnd || b.frozenStart {
		return -1
	}
	if n > len(b.data) {
		n = len(b.data)
	}
	bOrig, dOrig := len(b.data), len(d.data)
	d.data = append(d.data, b.data[:n]...)
	b.data = b.data[n:]
	d.notify(dOrig, n, 0)
	b.notify(bOrig, 0, n)
	return n
}

// Per-bufferevent test handlers behind a few registered callbacks, so the
// tests do not use up the fake's callback slots.
var (
	onRead  = map[unsafe.Pointer]func(){}
	onWrite = map[unsafe.Pointer]func(){}
	onEvent = map[unsafe.Pointer]func(what int16){}
	cbRead  = regData(func(bev unsafe.Pointer) {
		if f := onRead[bev]; f != nil {
			f()
		}
	})
	cbWrite = regData(func(bev unsafe.Pointer) {
		if f := onWrite[bev]; f != nil {
			f()
		}
	})
	cbEvent = regEvent(func(bev unsafe.Pointer, what int16, _ int32) {
		if f := onEvent[bev]; f != nil {
			f(what)
		}
	})
)

// setcb is bufferevent_setcb with Go handlers (nil leaves a callback unset).
func setcb(b *BEV, r, w func(), e func(int16)) {
	p := b.Pointer()
	delete(onRead, p)
	delete(onWrite, p)
	delete(onEvent, p)
	b.h.ReadCB, b.h.WriteCB, b.h.ErrorCB = nil, nil, nil
	if r != nil {
		onRead[p], b.h.ReadCB = r, cbRead
	}
	if w != nil {
		onWrite[p], b.h.WriteCB = w, cbWrite
	}
	if e != nil {
		onEvent[p], b.h.ErrorCB = e, cbEvent
	}
}

// write is bufferevent_write (the output is frozen only at its start).
func write(b *BEV, p []byte) {
	if fbuf(b.h.Output).add(p) != 0 {
		panic("write to output failed")
	}
}

// take drains the whole input, as bufferevent_read would.
func take(b *BEV) []byte {
	ib := fbuf(b.h.Input)
	d := append([]byte(nil), ib.data...)
	ib.drain(len(d))
	return d
}

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*31 + i/257)
	}
	return p
}

func hash(p []byte) uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}

func checkNoLeaks(t *testing.T) {
	t.Helper()
	fl.dispatch(time.Second)
	if n := Live(); n != 0 {
		t.Fatalf("%d bufferevents left alive", n)
	}
}

func TestPairTransfer(t *testing.T) {
	a, b := NewPair(nil, 0)
	if a == nil || b == nil {
		t.Fatal("NewPair failed")
	}
	if a.options()&OptDeferCallbacks == 0 || b.options()&OptDeferCallbacks == 0 {
		t.Fatal("pairs must force BEV_OPT_DEFER_CALLBACKS")
	}
	if a.Partner() != b || b.Partner() != a {
		t.Fatal("partners do not point at each other")
	}
	src := pattern(3<<20 + 17)
	var got []byte
	reads, inline := 0, false
	writing := false
	setcb(b, func() {
		if writing {
			inline = true
		}
		reads++
		got = append(got, take(b)...)
	}, nil, nil)
	b.Enable(EvRead)
	for off := 0; off < len(src); off += 65536 {
		writing = true
		write(a, src[off:min(off+65536, len(src))])
		writing = false
		if a.out().Len() != 0 {
			t.Fatalf("data stayed in the writer's output (%d bytes)", a.out().Len())
		}
		fl.runOnce(false)
	}
	fl.dispatch(time.Second)
	if inline {
		t.Fatal("the reader's callback ran inside the writer's write")
	}
	if len(got) != len(src) || hash(got) != hash(src) {
		t.Fatalf("got %d bytes of %d, hashes equal %v", len(got), len(src), hash(got) == hash(src))
	}
	if reads == 0 {
		t.Fatal("no read callback")
	}
	a.Free()
	b.Free()
	checkNoLeaks(t)
}

func TestPairDisabledReaderAndWatermarks(t *testing.T) {
	a, b := NewPair(nil, 0)
	// Reading not enabled on b: nothing moves.
	write(a, []byte("hello, world"))
	if b.in().Len() != 0 || a.out().Len() != 12 {
		t.Fatalf("moved to a non-reading partner: in %d out %d", b.in().Len(), a.out().Len())
	}
	// A high watermark of 5: enabling moves exactly 5 bytes.
	b.SetWatermark(EvRead, 0, 5)
	var got []byte
	setcb(b, func() { got = append(got, take(b)...) }, nil, nil)
	b.Enable(EvRead)
	if b.in().Len() != 5 || a.out().Len() != 7 {
		t.Fatalf("watermark transfer: in %d out %d, want 5 and 7", b.in().Len(), a.out().Len())
	}
	// Draining in the read callback lets the rest through.
	fl.dispatch(time.Second)
	if string(got) != "hello, world" {
		t.Fatalf("got %q", got)
	}
	// The writer's write callback ran once its output drained.
	wrote := 0
	setcb(a, nil, func() { wrote++ }, nil)
	write(a, []byte("x"))
	fl.dispatch(time.Second)
	if wrote == 0 || string(got) != "hello, worldx" {
		t.Fatalf("write callback %d, got %q", wrote, got)
	}
	a.Free()
	b.Free()
	checkNoLeaks(t)
}

func TestPairFlushAndFree(t *testing.T) {
	a, b := NewPair(nil, 0)
	var events []int16
	setcb(b, nil, nil, func(what int16) { events = append(events, what) })
	if a.Flush(EvWrite, FlushNormal) != 0 {
		t.Fatal("BEV_NORMAL flush must succeed and do nothing")
	}
	// b does not read, but a flush moves data anyway: up to b's high
	// watermark, and once b is at the mark, everything (libevent's rule).
	b.SetWatermark(EvRead, 0, 2)
	write(a, []byte("tail"))
	if r := a.Flush(EvWrite, FlushFlush); r != 0 {
		t.Fatalf("flush returned %d", r)
	}
	if b.in().Len() != 2 {
		t.Fatalf("first flush moved %d bytes, want 2 (up to the mark)", b.in().Len())
	}
	// BEV_FINISHED also tells b that a has finished writing.
	if r := a.Flush(EvWrite, FlushFinished); r != 0 {
		t.Fatalf("flush returned %d", r)
	}
	if b.in().Len() != 4 || a.out().Len() != 0 {
		t.Fatalf("second flush: in %d out %d, want 4 and 0", b.in().Len(), a.out().Len())
	}
	fl.dispatch(time.Second)
	if len(events) != 1 || events[0] != EventEOF|EventReading {
		t.Fatalf("events %v, want one EOF|READING", events)
	}
	// Freeing one end cuts the link; libevent 2.1.12 reports nothing.
	events = nil
	a.Free()
	fl.dispatch(time.Second)
	if b.Partner() != nil {
		t.Fatal("partner still set after free")
	}
	if len(events) != 0 {
		t.Fatalf("events after partner free: %v", events)
	}
	if b.Flush(EvWrite, FlushFinished) != -1 {
		t.Fatal("flush without a partner must fail")
	}
	b.Free()
	checkNoLeaks(t)
}

func TestPairBothDirections(t *testing.T) {
	a, b := NewPair(nil, OptCloseOnFree)
	var atA, atB bytes.Buffer
	setcb(a, func() { atA.Write(take(a)) }, nil, nil)
	setcb(b, func() {
		d := take(b)
		atB.Write(d)
		write(b, bytes.ToUpper(d)) // echo back, upper case
	}, nil, nil)
	a.Enable(EvRead)
	b.Enable(EvRead)
	write(a, []byte("ping pong"))
	fl.dispatch(time.Second)
	if atB.String() != "ping pong" || atA.String() != "PING PONG" {
		t.Fatalf("b got %q, a got %q", atB.String(), atA.String())
	}
	b.Free()
	a.Free()
	checkNoLeaks(t)
}
