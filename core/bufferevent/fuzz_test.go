package bufferevent

import (
	"bytes"
	"fmt"
	"testing"
	"time"
	"unsafe"
)

// FuzzPairFilter drives the shared core's state machine (enable and
// disable, watermarks, deferred callbacks, flush, trigger, frees) through a
// pair whose writing end may sit under a filter (an identity filter moving
// at most a few bytes a call, or the null filter), on the fake loop. Each
// input byte pair is one operation. After every step:
//   - the reader has received exactly a prefix of what was written, in
//     order, and nothing was lost or made up on the way: what was written
//     is what was received plus what sits in the buffers between;
//   - a read callback never ran below the reader's low watermark (unless a
//     trigger asked to ignore watermarks, or, the callbacks being
//     deferred, the input shrank or the watermark moved after the callback
//     was scheduled);
//   - enable and disable are reflected in the enabled flags.
//
// At the end everything is freed and no bufferevent stays alive.
func FuzzPairFilter(f *testing.F) {
	f.Add([]byte{0, 40, 6, 0, 0, 9, 1, 200, 6, 0, 2, 0, 6, 0})
	f.Add([]byte{7, 3, 0, 255, 3, 100, 6, 0, 1, 50, 6, 0, 4, 1, 6, 0})
	f.Add([]byte{7, 1, 5, 0, 0, 120, 6, 0, 8, 1, 6, 0, 9, 0, 6, 0, 10, 0})
	f.Add([]byte{0, 30, 3, 7, 11, 2, 6, 0, 12, 0, 0, 30, 6, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 400 {
			return
		}
		runPairFilter(t, in)
	})
}

func runPairFilter(t *testing.T, in []byte) {
	// Finalizers other tests left queued run first, so that the count
	// compared at the end is this input's alone.
	for i := 0; i < 4; i++ {
		fl.runOnce(false)
	}
	alive := Live()
	opts := 0
	if len(in) > 0 && in[0]&1 != 0 {
		opts |= OptCloseOnFree
	}
	a, b := NewPair(nil, opts)
	if a == nil || b == nil {
		t.Fatal("NewPair failed")
	}
	var filt *BEV
	writer := a
	var written, received []byte
	// relax: the low-watermark promise does not hold for the next read
	// callback (see above).
	relax := false
	failf := func(step int, format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d: %s", step, fmt.Sprintf(format, args...))
	}
	takeN := -1 // what the read callback takes: -1 all, else up to n
	setcb(b, func() {
		l := b.in().Len()
		if low := int(b.h.WmRead.Low); l < low && !relax {
			t.Fatalf("read callback with %d bytes, low watermark %d", l, low)
		}
		relax = false
		ib := fbuf(b.h.Input)
		n := l
		if takeN >= 0 && takeN < n {
			n = takeN
		}
		received = append(received, ib.data[:n]...)
		ib.drain(n)
	}, nil, nil)
	b.Enable(EvRead)
	// Every byte written is in one of these places, or received.
	inFlight := func() int {
		n := a.out().Len() + b.in().Len()
		if filt != nil {
			n += filt.out().Len() + filt.in().Len() + a.in().Len()
		}
		return n
	}
	check := func(step int) {
		if !bytes.HasPrefix(written, received) {
			failf(step, "received bytes are not a prefix of what was written")
		}
		if len(received)+inFlight() != len(written) {
			failf(step, "written %d, received %d, in flight %d", len(written), len(received), inFlight())
		}
	}
	for step := 0; step+1 < len(in); step += 2 {
		op, arg := in[step]%13, int(in[step+1])
		switch op {
		case 0: // write
			p := pattern(arg * 37)
			p = p[:min(len(p), arg*37)]
			for i := range p {
				p[i] = byte(len(written) + i)
			}
			if fbuf(writer.h.Output).add(p) == 0 {
				written = append(written, p...)
			}
		case 1: // reader's watermarks
			low := uintptr(arg % 64)
			high := uintptr(0)
			if arg&64 != 0 {
				high = low + uintptr(arg%50)
			}
			b.SetWatermark(EvRead, low, high)
			relax = true
		case 2: // writer's watermarks
			writer.SetWatermark(EvWrite, uintptr(arg%100), 0)
		case 3: // enable / disable reading
			if arg&1 != 0 {
				b.Enable(EvRead)
				if b.h.Enabled&EvRead == 0 {
					failf(step, "enable did not set EV_READ")
				}
			} else {
				b.Disable(EvRead)
				if b.h.Enabled&EvRead != 0 {
					failf(step, "disable left EV_READ set")
				}
			}
		case 4: // enable / disable writing
			if arg&1 != 0 {
				writer.Enable(EvWrite)
			} else {
				writer.Disable(EvWrite)
			}
		case 5: // how much the read callback takes
			takeN = arg%20 - 1
		case 6: // a pass of the loop
			fl.runOnce(false)
		case 7: // a filter over a (once)
			if filt == nil && a.out().Len() == 0 {
				var out unsafe.Pointer
				if arg&1 != 0 {
					fuzzFilterLim = 1 + arg%7
					out = fuzzLimitFilter()
				}
				filt = NewFilter(a, nil, out, 0, nil, nil)
				if filt == nil {
					failf(step, "NewFilter failed")
				}
				writer = filt
				writer.Enable(EvWrite)
			}
		case 8: // flush the writer
			writer.Flush(EvWrite, arg%3)
		case 9: // trigger the reader
			o := 0
			if arg&1 != 0 {
				o |= TrigIgnoreWatermarks
				relax = true
			}
			if arg&2 != 0 {
				o |= TrigDeferCallbacks
			}
			b.Trigger(EvRead, o)
		case 10: // drain the reader's input outside any callback
			ib := fbuf(b.h.Input)
			n := min(arg, len(ib.data))
			received = append(received, ib.data[:n]...)
			ib.drain(n)
			relax = true
		case 11: // freeze and unfreeze the writer's output end
			ob := fbuf(writer.h.Output)
			if arg&1 != 0 {
				ob.Freeze(false)
			} else {
				ob.Unfreeze(false)
			}
		case 12: // flush with BEV_FINISHED from the filter, or a write-side trigger
			if filt != nil && arg&1 != 0 {
				filt.Flush(EvWrite, FlushFinished)
			} else {
				writer.Trigger(EvWrite, 0)
			}
		}
		check(step)
	}
	// Let everything through: no watermarks, reading on, all frozen ends
	// thawed; then every written byte must have arrived.
	fbuf(a.h.Output).Unfreeze(false)
	if filt != nil {
		fbuf(filt.h.Output).Unfreeze(false)
	}
	b.SetWatermark(EvRead, 0, 0)
	b.Enable(EvRead)
	writer.Enable(EvWrite)
	takeN = -1
	relax = true
	for i := 0; i < 50 && len(received) < len(written); i++ {
		if filt != nil {
			filt.Flush(EvWrite, FlushFlush)
		}
		fl.runOnce(false)
		// What a callback left behind waits for more data that will
		// not come: take it.
		ib := fbuf(b.h.Input)
		received = append(received, ib.data...)
		ib.drain(len(ib.data))
	}
	check(len(in))
	if len(received) != len(written) {
		t.Fatalf("%d of %d bytes arrived", len(received), len(written))
	}
	if filt != nil {
		filt.Free() // without BEV_OPT_CLOSE_ON_FREE: a stays
	}
	a.Free()
	b.Free()
	fl.dispatch(time.Second)
	if n := Live(); n != alive {
		t.Fatalf("%d bufferevents alive, %d before", n, alive)
	}
}

// The output filter of FuzzPairFilter moves at most fuzzFilterLim bytes a
// call. It is registered once: the fake loop has few function slots.
var (
	fuzzFilterLim int
	fuzzFilterFn  unsafe.Pointer
)

func fuzzLimitFilter() unsafe.Pointer {
	if fuzzFilterFn == nil {
		fuzzFilterFn = regFilter(func(src, dst Buf, limit, mode int) int {
			n := fuzzFilterLim
			if limit >= 0 && limit < n {
				n = limit
			}
			if moveSome(src, dst, n) < 0 {
				return FilterError
			}
			return FilterOK
		})
	}
	return fuzzFilterFn
}
