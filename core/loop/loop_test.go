package loop

import (
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestEventLayout(t *testing.T) {
	var ev Event
	checks := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct event)", unsafe.Sizeof(ev), 128},
		{"sizeof(struct event_callback)", unsafe.Sizeof(ev.Cb), 40},
		{"evcb_flags", unsafe.Offsetof(ev.Cb.Flags), 16},
		{"evcb_pri", unsafe.Offsetof(ev.Cb.Pri), 18},
		{"evcb_closure", unsafe.Offsetof(ev.Cb.Closure), 19},
		{"evcb_cb_union", unsafe.Offsetof(ev.Cb.Fn), 24},
		{"evcb_arg", unsafe.Offsetof(ev.Cb.Arg), 32},
		{"ev_timeout_pos", unsafe.Offsetof(ev.tnext), 40},
		{"ev_fd", unsafe.Offsetof(ev.Fd), 56},
		{"ev_base", unsafe.Offsetof(ev.Base), 64},
		{"ev_", unsafe.Offsetof(ev.lnext), 72},
		{"ev_io_timeout", unsafe.Offsetof(ev.ioTimeout), 88},
		{"ev_events", unsafe.Offsetof(ev.Events), 104},
		{"ev_res", unsafe.Offsetof(ev.Res), 106},
		{"ev_timeout", unsafe.Offsetof(ev.Timeout), 112},
		{"sizeof(struct timeval)", unsafe.Sizeof(Timeval{}), 16},
		{"base header npriorities", unsafe.Offsetof(baseHeader{}.NPriorities), 8},
		{"base header lockable", unsafe.Offsetof(baseHeader{}.Lockable), 12},
		{"base header method", unsafe.Offsetof(baseHeader{}.Method), 16},
		{"base header features", unsafe.Offsetof(baseHeader{}.Features), 20},
		{"base header active", unsafe.Offsetof(baseHeader{}.Active), 24},
		{"base header current", unsafe.Offsetof(baseHeader{}.Current), 32},
		{"base header count_active", unsafe.Offsetof(baseHeader{}.CountActive), 40},
		{"base header event_count", unsafe.Offsetof(baseHeader{}.EventCount), 56},
		{"base header running_priority", unsafe.Offsetof(baseHeader{}.RunningPriority), 72},
		{"base header got_break", unsafe.Offsetof(baseHeader{}.GotBreak), 80},
		{"base header waiting", unsafe.Offsetof(baseHeader{}.Waiting), 83},
		{"base header heap", unsafe.Offsetof(baseHeader{}.Heap), 88},
		{"base header heap_len", unsafe.Offsetof(baseHeader{}.HeapLen), 96},
		{"base header tv_cache", unsafe.Offsetof(baseHeader{}.TvCache), 112},
		{"base header clock_diff", unsafe.Offsetof(baseHeader{}.ClockDiff), 128},
		{"base header last_clock_update", unsafe.Offsetof(baseHeader{}.LastClockUpdate), 144},
		{"base header precise", unsafe.Offsetof(baseHeader{}.Precise), 152},
		{"base header running", unsafe.Offsetof(baseHeader{}.Running), 153},
		{"base header sig_set_base", unsafe.Offsetof(baseHeader{}.SigSetBase), 156},
		{"base header epfd", unsafe.Offsetof(baseHeader{}.Epfd), 160},
		{"base header ep_events", unsafe.Offsetof(baseHeader{}.EpEvents), 168},
		{"base header virtual_count", unsafe.Offsetof(baseHeader{}.VirtualCount), 184},
		{"base header later", unsafe.Offsetof(baseHeader{}.Later), 200},
		{"base header limit_after_prio", unsafe.Offsetof(baseHeader{}.LimitAfterPrio), 224},
		{"base header io_map", unsafe.Offsetof(baseHeader{}.IoMap), 232},
		{"io entry nread", unsafe.Offsetof(ioEntry{}.nread), 8},
		{"io entry nclose", unsafe.Offsetof(ioEntry{}.nclose), 12},
		{"sizeof io entry", unsafe.Sizeof(ioEntry{}), 16},
		{"base header io_cap", unsafe.Offsetof(baseHeader{}.IoCap), 240},
		{"base header lock word", unsafe.Offsetof(baseHeader{}.LockWord), 248},
		{"base header current waiters", unsafe.Offsetof(baseHeader{}.CurrentWaiters), 252},
		{"base header owner tid", unsafe.Offsetof(baseHeader{}.OwnerTid), 256},
		{"base header owner thread", unsafe.Offsetof(baseHeader{}.OwnerThread), 264},
		{"sizeof base header", unsafe.Sizeof(baseHeader{}), 272},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// ev_ncalls (signal union) sits at 88 and ev_pncalls at 96.
	e := AllocEvent()
	defer FreeEvent(e)
	if off := uintptr(unsafe.Pointer(e.ncalls())) - uintptr(unsafe.Pointer(e)); off != 88 {
		t.Errorf("ev_ncalls at %d, want 88", off)
	}
	if off := uintptr(unsafe.Pointer(e.sigRun())) - uintptr(unsafe.Pointer(e)); off != 96 {
		t.Errorf("ev_pncalls at %d, want 96", off)
	}
}

func TestEmptyBaseReturnsOne(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	if r, err := b.Loop(0); r != 1 || err != nil {
		t.Fatalf("Loop on empty base = %d, %v; want 1", r, err)
	}
	if r, _ := b.Loop(LoopNonblock); r != 1 {
		t.Fatalf("nonblocking Loop on empty base = %d; want 1", r)
	}
	if b.Method() != "epoll" || b.Features() != FeatureET|FeatureO1|FeatureEarlyClose {
		t.Fatalf("method %q features %d", b.Method(), b.Features())
	}
}

func TestTimerOrder(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var tr trace
	for _, d := range []int64{30, 10, 50, 20, 40} {
		d := d
		ev := newEvent(t, b, -1, 0, func(fd int32, what int16, arg unsafe.Pointer) {
			tr.add(fmt.Sprintf("t%d what=%d", d, what))
		})
		if err := Add(ev, ms(d)); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.NumEvents(CountAdded); n != 5 {
		t.Fatalf("NumEvents(ADDED) = %d, want 5", n)
	}
	if r, err := b.Loop(0); r != 1 || err != nil {
		t.Fatalf("Loop = %d, %v", r, err)
	}
	expectTrace(t, tr.get(), "t10 what=1", "t20 what=1", "t30 what=1", "t40 what=1", "t50 what=1")
}

func TestEqualDeadlinesFollowHeapOrder(t *testing.T) {
	// With equal deadlines libevent's heap fires A, C, B for three timers
	// added A, B, C; programs see that order.
	b := newBase(t, false)
	defer b.Free(true)
	var tr trace
	abs := Timeval{Sec: 1}
	for _, name := range []string{"A", "B", "C"} {
		name := name
		ev := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add(name) })
		if err := AddAbs(ev, &abs); err != nil {
			t.Fatal(err)
		}
	}
	b.Loop(0)
	expectTrace(t, tr.get(), "A", "C", "B")
}

func TestPersistentTimer(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	n := 0
	var ev *Event
	ev = newEvent(t, b, -1, EvPersist, func(fd int32, what int16, arg unsafe.Pointer) {
		n++
		if what != EvTimeout {
			t.Errorf("what = %d", what)
		}
		if n == 4 {
			_ = Del(ev, DelAutoBlock)
		}
	})
	if err := Add(ev, ms(5)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if r, _ := b.Loop(0); r != 1 {
		t.Fatalf("Loop = %d", r)
	}
	if n != 4 {
		t.Fatalf("persistent timer ran %d times, want 4", n)
	}
	// Deadlines come from the coarse clock, which may lag real time by a
	// tick (up to 10 ms at HZ=100): 4 runs take at least 20 ms minus that.
	if el := time.Since(start); el < 9*time.Millisecond {
		t.Fatalf("4 runs of a 5ms timer took only %v", el)
	}
}

func TestPriorities(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	if b.PriorityInit(3) != 0 || b.NPriorities() != 3 {
		t.Fatal("PriorityInit(3) failed")
	}
	if b.PriorityInit(0) != -1 || b.PriorityInit(256) != -1 {
		t.Fatal("PriorityInit accepted an out-of-range count")
	}
	var tr trace
	evs := map[int]*Event{}
	for _, p := range []int{2, 0, 1} {
		p := p
		evs[p] = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add(fmt.Sprint("p", p)) })
		if evs[p].Cb.Pri != 1 {
			t.Fatalf("default priority = %d, want 1", evs[p].Cb.Pri)
		}
		evs[p].Cb.Pri = uint8(p)
	}
	for _, p := range []int{2, 0, 1} {
		Active(evs[p], EvTimeout, 1)
	}
	// ONCE runs until every active callback ran, a queue per pass.
	if r, _ := b.Loop(LoopOnce); r != 0 {
		t.Fatalf("Loop(ONCE) = %d", r)
	}
	expectTrace(t, tr.get(), "p0", "p1", "p2")
	if b.PriorityInit(2) != 0 {
		t.Fatal("PriorityInit with no active events failed")
	}
}

func TestLoopExitAndBreak(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var tr trace
	var a, c *Event
	a = newEvent(t, b, -1, EvPersist, func(int32, int16, unsafe.Pointer) {
		tr.add("a")
		b.LoopExit(nil)
		Active(c, EvTimeout, 1)
	})
	c = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add("c") })
	Add(a, ms(1))
	// loopexit lets the current pass finish (c runs).
	if r, _ := b.Loop(0); r != 0 {
		t.Fatalf("Loop = %d", r)
	}
	expectTrace(t, tr.get(), "a", "c")
	if !b.GotExit() || b.GotBreak() {
		t.Fatal("got_exit/got_break wrong after loopexit")
	}

	var tr2 trace
	var d, e *Event
	d = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {
		tr2.add("d")
		b.LoopBreak()
	})
	e = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr2.add("e") })
	Active(d, EvTimeout, 1)
	Active(e, EvTimeout, 1)
	if r, _ := b.Loop(0); r != 0 {
		t.Fatalf("Loop = %d", r)
	}
	// loopbreak stops right after the running callback.
	expectTrace(t, tr2.get(), "d")
	if b.GotExit() || !b.GotBreak() {
		t.Fatal("got_exit/got_break wrong after loopbreak")
	}
	if Pending(e, EvTimeout, false); e.Cb.Flags&ListActive == 0 {
		t.Fatal("e should still be active after the break")
	}
	b.Loop(LoopNonblock)
	expectTrace(t, tr2.get(), "d", "e")
	_ = a
}

func TestLoopExitTimerKeepsLoopAlive(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	b.LoopExit(ms(20))
	if n := b.NumEvents(CountAdded); n != 1 {
		t.Fatalf("loopexit timer counts as %d events, want 1", n)
	}
	start := time.Now()
	if r, _ := b.Loop(0); r != 0 {
		t.Fatalf("Loop = %d, want 0 (exit by loopexit)", r)
	}
	if time.Since(start) < 15*time.Millisecond {
		t.Fatal("loopexit(20ms) returned early")
	}
}

func TestOnceAndNonblockReturnCodes(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	fds := pipe(t)
	n := 0
	ev := newEvent(t, b, int32(fds[0]), EvRead|EvPersist, func(int32, int16, unsafe.Pointer) { n++ })
	Add(ev, nil)
	// Nothing ready: NONBLOCK returns 0 at once.
	if r, _ := b.Loop(LoopNonblock); r != 0 || n != 0 {
		t.Fatalf("Loop(NONBLOCK) = %d, n=%d", r, n)
	}
	unix.Write(fds[1], []byte("x"))
	if r, _ := b.Loop(LoopOnce); r != 0 || n != 1 {
		t.Fatalf("Loop(ONCE) = %d, n=%d", r, n)
	}
	Del(ev, DelAutoBlock)
	if r, _ := b.Loop(LoopOnce); r != 1 {
		t.Fatalf("Loop(ONCE) with no events = %d, want 1", r)
	}
	// NO_EXIT_ON_EMPTY with NONBLOCK returns 0 even without events.
	if r, _ := b.Loop(LoopNonblock | LoopNoExitOnEmpty); r != 0 {
		t.Fatalf("Loop(NONBLOCK|NO_EXIT_ON_EMPTY) = %d", r)
	}
}

func pipe(t *testing.T) [2]int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p
}

func socketpair(t *testing.T) [2]int {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p
}

func TestIOReadWrite(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	sp := socketpair(t)
	var tr trace
	var rd, wr *Event
	wr = newEvent(t, b, int32(sp[1]), EvWrite, func(fd int32, what int16, _ unsafe.Pointer) {
		tr.add(fmt.Sprintf("write what=%d", what))
		unix.Write(int(fd), []byte("hello"))
	})
	rd = newEvent(t, b, int32(sp[0]), EvRead|EvPersist, func(fd int32, what int16, _ unsafe.Pointer) {
		buf := make([]byte, 16)
		n, _ := unix.Read(int(fd), buf)
		tr.add(fmt.Sprintf("read what=%d %q", what, buf[:n]))
		Del(rd, DelAutoBlock)
	})
	Add(rd, nil)
	Add(wr, nil)
	if r, _ := b.Loop(0); r != 1 {
		t.Fatalf("Loop = %d", r)
	}
	expectTrace(t, tr.get(), "write what=4", `read what=2 "hello"`)
}

func TestEdgeTriggered(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	p := pipe(t)
	var whats []int16
	ev := newEvent(t, b, int32(p[0]), EvRead|EvPersist|EvET, func(fd int32, what int16, _ unsafe.Pointer) {
		whats = append(whats, what)
	})
	Add(ev, nil)
	unix.Write(p[1], []byte("ab"))
	b.Loop(LoopNonblock)
	// Not drained: an edge-triggered event does not fire again.
	b.Loop(LoopNonblock)
	if len(whats) != 1 || whats[0] != EvRead|EvET {
		t.Fatalf("edge-triggered results = %v, want [%d]", whats, EvRead|EvET)
	}
	unix.Write(p[1], []byte("c"))
	b.Loop(LoopNonblock)
	if len(whats) != 2 {
		t.Fatalf("new data gave %d callbacks, want 2", len(whats))
	}
}

func TestClosedEvent(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	sp := socketpair(t)
	var got int16
	ev := newEvent(t, b, int32(sp[0]), EvClosed, func(fd int32, what int16, _ unsafe.Pointer) { got = what })
	Add(ev, ms(2000))
	unix.Shutdown(sp[1], unix.SHUT_WR)
	if r, _ := b.Loop(0); r != 1 {
		t.Fatalf("Loop = %d", r)
	}
	if got != EvClosed {
		t.Fatalf("EV_CLOSED event got what=%d", got)
	}
}

func TestSignal(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var got []int16
	var sev *Event
	sev = newEvent(t, b, int32(unix.SIGUSR1), EvSignal|EvPersist, func(fd int32, what int16, _ unsafe.Pointer) {
		got = append(got, what)
		Del(sev, DelAutoBlock)
	})
	raiser := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {
		syscall.Kill(syscall.Getpid(), syscall.SIGUSR1)
	})
	if err := Add(sev, nil); err != nil {
		t.Fatal(err)
	}
	// Signal event counts as added; the internal pipe event does not.
	if n := b.NumEvents(CountAdded); n != 1 {
		t.Fatalf("NumEvents = %d, want 1", n)
	}
	Add(raiser, ms(1))
	b.LoopExit(ms(5000)) // safety net
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(got) == 0 {
			if r, _ := b.Loop(LoopOnce); r != 0 {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("signal never delivered")
	}
	if len(got) != 1 || got[0] != EvSignal {
		t.Fatalf("signal callback got %v", got)
	}
}

func TestCrossGoroutineActiveAndBreak(t *testing.T) {
	b := newBase(t, true)
	defer b.Free(true)
	p := pipe(t)
	idle := newEvent(t, b, int32(p[0]), EvRead|EvPersist, func(int32, int16, unsafe.Pointer) {})
	Add(idle, nil)
	var hits atomic.Int32
	ev := newEvent(t, b, -1, 0, func(fd int32, what int16, _ unsafe.Pointer) {
		if what == EvTimeout|EvRead {
			hits.Add(1)
		}
	})
	done := make(chan int)
	go func() {
		r, _ := b.Loop(0)
		done <- r
	}()
	time.Sleep(20 * time.Millisecond) // let the loop block in epoll_wait
	Active(ev, EvTimeout|EvRead, 1)
	deadline := time.Now().Add(5 * time.Second)
	for hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if hits.Load() != 1 {
		t.Fatal("event activated from another goroutine never ran")
	}
	start := time.Now()
	b.LoopBreak()
	select {
	case r := <-done:
		if r != 0 {
			t.Fatalf("Loop = %d", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("loopbreak from another goroutine did not wake the loop")
	}
	if time.Since(start) > time.Second {
		t.Fatal("loopbreak was slow")
	}
}

func TestCrossGoroutineAddWakesLoop(t *testing.T) {
	b := newBase(t, true)
	defer b.Free(true)
	p := pipe(t)
	idle := newEvent(t, b, int32(p[0]), EvRead, func(int32, int16, unsafe.Pointer) {})
	Add(idle, nil)
	fired := make(chan time.Time, 1)
	tm := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {
		fired <- time.Now()
		b.LoopBreak()
	})
	// The loop must have returned before the deferred Free releases the
	// base: the callback's LoopBreak and the loop's own bookkeeping after
	// it still use the base.
	done := make(chan struct{})
	go func() { b.Loop(0); close(done) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	Add(tm, ms(10))
	select {
	case at := <-fired:
		if d := at.Sub(start); d > 2*time.Second {
			t.Fatalf("timer added from another goroutine fired after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("timer added from another goroutine never fired")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("loop did not stop after loopbreak")
	}
}

func TestDeferred(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var tr trace
	var d *Deferred
	d = newDeferredFunc(0, func() { tr.add("deferred") })
	defer d.Free()
	ev := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {
		tr.add("cb start")
		if !b.Schedule(d) {
			t.Error("first Schedule reported not queued")
		}
		if b.Schedule(d) {
			t.Error("second Schedule reported newly queued")
		}
		tr.add("cb end")
	})
	Active(ev, EvTimeout, 1)
	b.Loop(0)
	expectTrace(t, tr.get(), "cb start", "cb end", "deferred")

	b.Schedule(d)
	b.Cancel(d)
	if r, _ := b.Loop(LoopNonblock); r != 1 {
		t.Fatalf("cancelled deferred still counted: Loop = %d", r)
	}
	expectTrace(t, tr.get(), "cb start", "cb end", "deferred")
}

func TestOnce(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var tr trace
	f := cfn(func(fd int32, what int16, arg unsafe.Pointer) { tr.add(fmt.Sprintf("once %d what=%d", fd, what)) })
	p := pipe(t)
	if err := b.Once(int32(p[1]), EvWrite, f, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Once(-1, EvTimeout, f, nil, ms(5)); err != nil {
		t.Fatal(err)
	}
	if err := b.Once(-1, EvTimeout, f, nil, nil); err != nil {
		t.Fatal(err)
	}
	if b.Once(-1, EvSignal, f, nil, nil) == nil || b.Once(-1, EvPersist|EvTimeout, f, nil, nil) == nil {
		t.Fatal("Once accepted a signal or persistent event")
	}
	if r, _ := b.Loop(0); r != 1 {
		t.Fatalf("Loop = %d", r)
	}
	expectTrace(t, tr.get(), "once -1 what=1", fmt.Sprintf("once %d what=4", p[1]), "once -1 what=1")
}

func TestPendingAndCounts(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	p := pipe(t)
	ev := newEvent(t, b, int32(p[0]), EvRead, func(int32, int16, unsafe.Pointer) {})
	if f, _ := Pending(ev, EvRead|EvTimeout, false); f != 0 {
		t.Fatalf("pending before add = %d", f)
	}
	Add(ev, ms(2000))
	f, tv := Pending(ev, EvRead|EvTimeout|EvWrite, true)
	if f != EvRead|EvTimeout {
		t.Fatalf("pending = %d", f)
	}
	wall := b.GettimeofdayCached()
	if d := tv.Sec - wall.Sec; d < 1 || d > 3 {
		t.Fatalf("reported deadline %v is not ~2s after %v", tv, wall)
	}
	// An fd event with a timeout is on two queues: counted twice.
	if n := b.NumEvents(CountAdded); n != 2 {
		t.Fatalf("NumEvents(ADDED) = %d, want 2", n)
	}
	count := 0
	b.Foreach(func(e *Event) int { count++; return 0 })
	if count != 1 {
		t.Fatalf("Foreach saw %d events, want 1", count)
	}
	Active(ev, EvWrite, 1)
	if f, _ := Pending(ev, EvWrite, false); f != EvWrite {
		t.Fatalf("pending(active write) = %d", f)
	}
	if n := b.NumEvents(CountActive); n != 1 {
		t.Fatalf("NumEvents(ACTIVE) = %d", n)
	}
	RemoveTimer(ev)
	if f, _ := Pending(ev, EvTimeout, false); f != 0 {
		t.Fatal("timer still pending after RemoveTimer")
	}
	Del(ev, DelAutoBlock)
	if n := b.NumEvents(CountAdded | CountActive); n != 0 {
		t.Fatalf("NumEvents after del = %d", n)
	}
	if b.MaxEvents(CountAdded, true) < 2 || b.MaxEvents(CountAdded, false) != 0 {
		t.Fatal("MaxEvents did not record or clear the peak")
	}
}

func TestCommonTimeout(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	ct := b.InitCommonTimeout(Timeval{Usec: 10000})
	if ct == nil || ct.Usec&commonMask != commonMagic {
		t.Fatalf("common timeout %v", ct)
	}
	if again := b.InitCommonTimeout(Timeval{Usec: 10000}); again != ct {
		t.Fatal("same duration gave a second common timeout")
	}
	var tr trace
	for i := 0; i < 3; i++ {
		i := i
		ev := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add(fmt.Sprint("c", i)) })
		Add(ev, ct)
	}
	late := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add("late") })
	Add(late, ms(30))
	if n := b.NumEvents(CountAdded); n != 4 {
		t.Fatalf("NumEvents = %d, want 4", n)
	}
	b.Loop(0)
	expectTrace(t, tr.get(), "c0", "c1", "c2", "late")
}

func TestFinalizeAndFree(t *testing.T) {
	b := newBase(t, false)
	var tr trace
	ev := AllocEvent()
	Assign(ev, b, -1, 0, cfn(func(int32, int16, unsafe.Pointer) { tr.add("cb") }), nil)
	Add(ev, ms(1000))
	fin := cfn(func(fd int32, what int16, _ unsafe.Pointer) { tr.add("finalized") })
	Finalize(ev, fin, true) // event storage is freed by the loop
	if Add(ev, nil) == nil {
		t.Fatal("Add on a finalizing event succeeded")
	}
	b.Loop(0)
	expectTrace(t, tr.get(), "finalized")

	// Free with an event still pending and a finalizer queued.
	ev2 := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add("never") })
	Add(ev2, ms(1000))
	ev3 := AllocEvent()
	Assign(ev3, b, -1, 0, cfn(func(int32, int16, unsafe.Pointer) {}), nil)
	Finalize(ev3, cfn(func(int32, int16, unsafe.Pointer) { tr.add("fin at free") }), true)
	b.Free(true)
	if ev2.Cb.Flags != ListInit {
		t.Fatalf("event left with flags %#x after base free", ev2.Cb.Flags)
	}
	expectTrace(t, tr.get(), "finalized", "fin at free")
	if FromPtr(ev2.Base) != nil {
		t.Fatal("freed base still resolves")
	}
}

func TestReentrantLoopFails(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var r2 int
	ev := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { r2, _ = b.Loop(0) })
	Active(ev, EvTimeout, 1)
	b.Loop(0)
	if r2 != -1 {
		t.Fatalf("nested Loop = %d, want -1", r2)
	}
}

func TestRunningEventAndContinue(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	b.PriorityInit(2)
	var tr trace
	var hi, lo, lo2 *Event
	hi = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add("hi") })
	hi.Cb.Pri = 0
	lo = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {
		if b.RunningEvent() != lo {
			t.Error("RunningEvent is not the running event")
		}
		tr.add("lo")
		Active(hi, EvTimeout, 1) // higher priority: the pass restarts
	})
	lo2 = newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) { tr.add("lo2") })
	lo.Cb.Pri, lo2.Cb.Pri = 1, 1
	Active(lo, EvTimeout, 1)
	Active(lo2, EvTimeout, 1)
	b.Loop(0)
	expectTrace(t, tr.get(), "lo", "hi", "lo2")
	if b.RunningEvent() != nil {
		t.Fatal("RunningEvent outside a callback")
	}
}

func TestActiveByFdAndSignal(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	p := pipe(t)
	var tr trace
	ev := newEvent(t, b, int32(p[0]), EvRead, func(fd int32, what int16, _ unsafe.Pointer) { tr.add(fmt.Sprint("rd ", what)) })
	Add(ev, nil)
	tm := newEvent(t, b, 7, 0, func(fd int32, what int16, _ unsafe.Pointer) { tr.add(fmt.Sprint("tm ", what)) })
	Add(tm, ms(5000))
	b.ActiveByFd(int32(p[0]), EvRead|EvWrite)
	b.ActiveByFd(7, EvTimeout)
	b.Loop(LoopNonblock)
	expectTrace(t, tr.get(), "rd 2", "tm 1")
}

func TestPollAndSelectBackends(t *testing.T) {
	for _, tc := range []struct {
		avoid    []string
		require  int
		method   string
		features int
	}{
		{[]string{"epoll"}, 0, "poll", FeatureFDs | FeatureEarlyClose},
		{[]string{"epoll", "poll"}, 0, "select", FeatureFDs},
		{nil, FeatureFDs, "poll", FeatureFDs | FeatureEarlyClose},
		{[]string{"poll"}, FeatureFDs, "select", FeatureFDs},
	} {
		cfg := DefaultConfig()
		cfg.AvoidMethods = tc.avoid
		cfg.RequireFeatures = tc.require
		b, err := NewBase(cfg)
		if err != nil {
			t.Fatalf("%v/%d: %v", tc.avoid, tc.require, err)
		}
		if b.Method() != tc.method || b.Features() != tc.features {
			t.Fatalf("%v/%d: got %s/%d, want %s/%d", tc.avoid, tc.require, b.Method(), b.Features(), tc.method, tc.features)
		}
		p := pipe(t)
		var got []int16
		rd := newEvent(t, b, int32(p[0]), EvRead|EvPersist, func(fd int32, what int16, _ unsafe.Pointer) {
			got = append(got, what)
			buf := make([]byte, 8)
			unix.Read(int(fd), buf)
		})
		Add(rd, nil)
		unix.Write(p[1], []byte("x"))
		b.Loop(LoopNonblock)
		Del(rd, DelAutoBlock)
		// Regular files are always ready; epoll refuses them, these do not.
		f, err := unix.Open(t.TempDir()+"/f", unix.O_CREAT|unix.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		fe := newEvent(t, b, int32(f), EvRead, func(fd int32, what int16, _ unsafe.Pointer) { got = append(got, what) })
		if err := Add(fe, nil); err != nil {
			t.Fatalf("%s: add regular file: %v", tc.method, err)
		}
		if r, _ := b.Loop(0); r != 1 {
			t.Fatalf("%s: Loop = %d", tc.method, r)
		}
		unix.Close(f)
		if len(got) != 2 || got[0] != EvRead || got[1] != EvRead {
			t.Fatalf("%s: callbacks got %v", tc.method, got)
		}
		b.Free(true)
	}
	cfg := DefaultConfig()
	cfg.AvoidMethods = []string{"epoll"}
	cfg.RequireFeatures = FeatureET
	if _, err := NewBase(cfg); err != ErrNoBackend {
		t.Fatalf("impossible config gave %v", err)
	}
}

func TestEnvDisablesEpoll(t *testing.T) {
	t.Setenv("EVENT_NOEPOLL", "1")
	b := newBase(t, false)
	defer b.Free(true)
	if b.Method() != "poll" {
		t.Fatalf("EVENT_NOEPOLL: method %s", b.Method())
	}
	cfg := DefaultConfig()
	cfg.Flags = FlagIgnoreEnv
	b2, err := NewBase(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Free(true)
	if b2.Method() != "epoll" {
		t.Fatalf("IGNORE_ENV: method %s", b2.Method())
	}
}

func TestDelWaitsForRunningCallback(t *testing.T) {
	b := newBase(t, true)
	defer b.Free(true)
	entered := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	ev := newEvent(t, b, -1, EvPersist, func(int32, int16, unsafe.Pointer) {
		close(entered)
		<-release
		time.Sleep(20 * time.Millisecond)
		finished.Store(true)
	})
	Active(ev, EvTimeout, 1)
	done := make(chan struct{})
	go func() { b.Loop(LoopOnce); close(done) }()
	<-entered
	close(release)
	// From another thread, event_del returns only once the callback has.
	if err := Del(ev, DelBlock); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("Del(DelBlock) returned while the callback was still running")
	}
	<-done
}

func TestDeferredCapPerPass(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	var ds []*Deferred
	ran := 0
	for i := 0; i < 40; i++ {
		d := newDeferredFunc(0, func() { ran++ })
		ds = append(ds, d)
		defer d.Free()
	}
	now, later := 0, 0
	ev := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {
		for _, d := range ds {
			b.Schedule(d)
		}
		for _, d := range ds {
			switch {
			case d.cb.Flags&ListActive != 0:
				now++
			case d.cb.Flags&ListActiveLater != 0:
				later++
			}
		}
	})
	Active(ev, EvTimeout, 1)
	b.Loop(LoopOnce)
	// One pass takes at most 33 deferred callbacks; the rest wait for the
	// next iteration (and ONCE goes on until all have run).
	if now != 33 || later != 7 || ran != 40 {
		t.Fatalf("queued now=%d later=%d, ran %d; want 33, 7, 40", now, later, ran)
	}
}

func TestSignalCallsAbortedByDel(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	runs := 0
	var ev *Event
	ev = newEvent(t, b, int32(unix.SIGUSR2), EvSignal|EvPersist, func(int32, int16, unsafe.Pointer) {
		runs++
		if runs == 2 {
			Del(ev, DelAutoBlock)
		}
	})
	Add(ev, nil)
	Active(ev, EvSignal, 5)
	b.Loop(LoopNonblock)
	if runs != 2 {
		t.Fatalf("signal callback ran %d times after deleting itself on the 2nd of 5, want 2", runs)
	}
	// Without the delete all calls run.
	runs = -100
	Add(ev, nil)
	Active(ev, EvSignal, 3)
	b.Loop(LoopNonblock)
	if runs != -97 {
		t.Fatalf("ncalls=3 ran %d times", runs+100)
	}
}

func TestDump(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	p := pipe(t)
	rd := newEvent(t, b, int32(p[0]), EvRead|EvPersist|EvET, func(int32, int16, unsafe.Pointer) {})
	Add(rd, ms(5000))
	act := newEvent(t, b, -1, 0, func(int32, int16, unsafe.Pointer) {})
	Active(act, EvTimeout|EvWrite, 1)
	got := b.Dump()
	for _, want := range []string{
		"Inserted events:\n",
		fmt.Sprintf("[fd  %d] Read Persist ET Timeout=", p[0]),
		"Active events:\n",
		"[fd  -1, priority=0] Write Timeout active\n",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("dump lacks %q:\n%s", want, got)
		}
	}
}

func TestReinitKeepsEvents(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	p := pipe(t)
	n := 0
	ev := newEvent(t, b, int32(p[0]), EvRead|EvPersist|EvET, func(int32, int16, unsafe.Pointer) { n++ })
	Add(ev, nil)
	if err := b.Reinit(); err != nil {
		t.Fatal(err)
	}
	unix.Write(p[1], []byte("x"))
	b.Loop(LoopNonblock)
	if n != 1 {
		t.Fatalf("event fired %d times after reinit, want 1", n)
	}
}

// ReinitPrepared adopts an epoll instance the caller filled, at the lowest
// free number (where epoll_create1 would have put it), and does not add the
// fds to it again.
func TestReinitPreparedAdopts(t *testing.T) {
	b := newBase(t, false)
	defer b.Free(true)
	p := pipe(t)
	n := 0
	ev := newEvent(t, b, int32(p[0]), EvRead|EvPersist|EvET, func(int32, int16, unsafe.Pointer) { n++ })
	Add(ev, nil)
	// A hole below the prepared instance: adoption must move it there.
	hole, err := unix.Dup(p[1])
	if err != nil {
		t.Fatal(err)
	}
	prepared, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	e := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(p[0])}
	if err := unix.EpollCtl(prepared, unix.EPOLL_CTL_ADD, p[0], &e); err != nil {
		t.Fatal(err)
	}
	unix.Close(hole)
	if err := b.ReinitPrepared(prepared); err != nil {
		t.Fatal(err)
	}
	if got := int(b.hdr.Epfd); got > hole {
		t.Fatalf("epoll instance at %d, want the lowest free number (%d or below)", got, hole)
	}
	if _, err := unix.FcntlInt(uintptr(prepared), unix.F_GETFD, 0); err == nil && prepared != int(b.hdr.Epfd) {
		t.Fatalf("prepared descriptor %d left open beside the adopted %d", prepared, b.hdr.Epfd)
	}
	unix.Write(p[1], []byte("x"))
	b.Loop(LoopNonblock)
	if n != 1 {
		t.Fatalf("event fired %d times after a prepared reinit, want 1", n)
	}
}

// A base that makes no new backend closes what it was given.
func TestReinitPreparedUnused(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AvoidMethods = []string{"epoll"}
	b, err := NewBase(cfg)
	if err != nil {
		t.Fatalf("NewBase: %v", err)
	}
	defer b.Free(true)
	if b.MethodIndex() == 0 {
		t.Fatal("an epoll base although epoll was avoided")
	}
	prepared, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ReinitPrepared(prepared); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(prepared), unix.F_GETFD, 0); err == nil {
		t.Fatalf("prepared descriptor %d left open by a %s base", prepared, b.Method())
	}
}
