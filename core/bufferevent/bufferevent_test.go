package bufferevent

import (
	"hash/fnv"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
	"goevent/core/mem"
)

func TestMain(m *testing.M) {
	setupFake()
	os.Exit(m.Run())
}

func TestHeaderLayout(t *testing.T) {
	var h Header
	checks := []struct {
		name     string
		got, off uintptr
	}{
		{"ev_base", unsafe.Offsetof(h.EvBase), 0},
		{"be_ops", unsafe.Offsetof(h.BeOps), 8},
		{"ev_read", unsafe.Offsetof(h.EvRead), 16},
		{"ev_write", unsafe.Offsetof(h.EvWrite), 144},
		{"input", unsafe.Offsetof(h.Input), 272},
		{"output", unsafe.Offsetof(h.Output), 280},
		{"wm_read", unsafe.Offsetof(h.WmRead), 288},
		{"wm_write", unsafe.Offsetof(h.WmWrite), 304},
		{"readcb", unsafe.Offsetof(h.ReadCB), 320},
		{"writecb", unsafe.Offsetof(h.WriteCB), 328},
		{"errorcb", unsafe.Offsetof(h.ErrorCB), 336},
		{"cbarg", unsafe.Offsetof(h.CBArg), 344},
		{"timeout_read", unsafe.Offsetof(h.TimeoutRead), 352},
		{"timeout_write", unsafe.Offsetof(h.TimeoutWrite), 368},
		{"enabled", unsafe.Offsetof(h.Enabled), 384},
		{"lock", unsafe.Offsetof(h.Lock), OffLock},
		{"magic", unsafe.Offsetof(h.Magic), OffMagic},
		{"kind", unsafe.Offsetof(h.Kind), OffKind},
		{"options", unsafe.Offsetof(h.Options), OffOptions},
		{"refcnt", unsafe.Offsetof(h.Refcnt), OffRefcnt},
		{"read_suspended", unsafe.Offsetof(h.ReadSuspended), OffReadSuspended},
		{"write_suspended", unsafe.Offsetof(h.WriteSuspended), OffWriteSuspended},
		{"flags", unsafe.Offsetof(h.Flags), OffFlags},
		{"max_read", unsafe.Offsetof(h.MaxRead), OffMaxRead},
		{"max_write", unsafe.Offsetof(h.MaxWrite), OffMaxWrite},
		{"filt_in", unsafe.Offsetof(h.FiltIn), OffFiltIn},
		{"filt_ctx", unsafe.Offsetof(h.FiltCtx), OffFiltCtx},
		{"partner", unsafe.Offsetof(h.Partner), OffPartner},
		{"deferred_cb", unsafe.Offsetof(h.DeferredCb), OffDeferredCb},
		{"readcb_pending", unsafe.Offsetof(h.ReadcbPending), OffReadcbPending},
		{"eventcb_pending", unsafe.Offsetof(h.EventcbPending), OffEventcbPending},
		{"errno_pending", unsafe.Offsetof(h.ErrnoPending), OffErrnoPending},
	}
	for _, c := range checks {
		if c.got != c.off {
			t.Errorf("%s at %d, want %d", c.name, c.got, c.off)
		}
	}
	if OffLock != PublicSize {
		t.Errorf("private area must start right after the public struct")
	}
	// struct ge_bev_go in capi/goevent.h: BEV right after the header, at
	// GE_BEV_HEADER_SIZE, with the fields C's free path uses.
	var b BEV
	bev := []struct {
		name      string
		got, want uintptr
	}{
		{"GE_BEV_HEADER_SIZE", HeaderSize, 480},
		{"h", HeaderSize + unsafe.Offsetof(b.h), 480},
		{"own_lock", HeaderSize + unsafe.Offsetof(b.ownLock), 489},
		{"finalizing", HeaderSize + unsafe.Offsetof(b.finalizing), 490},
		{"deferred", HeaderSize + unsafe.Offsetof(b.deferred), 496},
		{"wm_watch", HeaderSize + unsafe.Offsetof(b.wmWatch), 504},
		{"rlim", HeaderSize + unsafe.Offsetof(b.rlim), 568},
		{"GE_BEV_KIND_SOCKET", uintptr(kindSocket), 1},
	}
	for _, c := range bev {
		if c.got != c.want {
			t.Errorf("ge_bev_go.%s is %d, goevent.h says %d", c.name, c.got, c.want)
		}
	}
}

func socketpair(t *testing.T) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return fds
}

func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err != unix.EBADF
}

// transfer pushes total bytes from one bufferevent to another with the given
// watermarks and checks libevent's promises on every callback.
func transfer(t *testing.T, opts int, total int, rlow, rhigh, wlow uintptr) {
	fds := socketpair(t)
	w := NewSocket(nil, fds[0], OptCloseOnFree|opts)
	r := NewSocket(nil, fds[1], OptCloseOnFree|opts)
	if w == nil || r == nil {
		t.Fatal("NewSocket failed")
	}
	src := make([]byte, total)
	for i := range src {
		src[i] = byte(i*7 + i/251)
	}
	sent := 0
	var got []byte
	badLow, badHigh, badW, eofs := 0, 0, 0, 0
	fill := func() {
		ob := fbuf(w.h.Output)
		for sent < total && ob.Len() < 200000 {
			n := min(16384, total-sent)
			if ob.add(src[sent:sent+n]) != 0 {
				t.Fatal("add to output failed")
			}
			sent += n
		}
	}
	w.h.WriteCB = regData(func(bev unsafe.Pointer) {
		if uintptr(w.out().Len()) > w.h.WmWrite.Low {
			badW++
		}
		if sent < total {
			fill()
			return
		}
		if w.out().Len() == 0 {
			w.Free()
		}
	})
	r.h.ReadCB = regData(func(bev unsafe.Pointer) {
		ib := fbuf(r.h.Input)
		if ib.Len() < int(rlow) {
			badLow++
		}
		if rhigh != 0 && ib.Len() > int(rhigh) {
			badHigh++
		}
		n := (ib.Len() + 1) / 2
		got = append(got, ib.data[:n]...)
		ib.drain(n)
	})
	r.h.ErrorCB = regEvent(func(bev unsafe.Pointer, what int16, errno int32) {
		if what != EventEOF|EventReading {
			t.Errorf("reader event %#x errno %d", what, errno)
		}
		eofs++
		ib := fbuf(r.h.Input)
		got = append(got, ib.data...)
		ib.drain(ib.Len())
		r.Free()
	})
	w.SetWatermark(EvWrite, wlow, 0)
	r.SetWatermark(EvRead, rlow, rhigh)
	fill()
	r.Enable(EvRead)
	fl.dispatch(20 * time.Second)
	h1, h2 := fnv.New64a(), fnv.New64a()
	h1.Write(src)
	h2.Write(got)
	if len(got) != total || h1.Sum64() != h2.Sum64() {
		t.Fatalf("received %d of %d bytes, hash match %v", len(got), total, h1.Sum64() == h2.Sum64())
	}
	if badLow+badHigh+badW != 0 || eofs != 1 {
		t.Fatalf("badLow %d badHigh %d badW %d eofs %d", badLow, badHigh, badW, eofs)
	}
	if fdOpen(fds[0]) || fdOpen(fds[1]) {
		t.Fatal("CLOSE_ON_FREE left a socket open")
	}
}

func TestTransfer(t *testing.T) {
	for _, opts := range []int{0, OptDeferCallbacks} {
		transfer(t, opts, 3<<20, 0, 0, 0)
		transfer(t, opts, 2<<20, 100, 8192, 4096)
		transfer(t, opts, 1000003, 7, 4097, 1)
	}
	if n := Live(); n != 0 {
		t.Fatalf("%d bufferevents left alive", n)
	}
}

func TestEOFAndErrors(t *testing.T) {
	for _, opts := range []int{0, OptDeferCallbacks} {
		fds := socketpair(t)
		b := NewSocket(nil, fds[0], opts)
		var events []int16
		var errnos []int32
		b.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, e int32) {
			events = append(events, what)
			errnos = append(errnos, e)
		})
		b.Enable(EvRead)
		unix.Close(fds[1])
		fl.dispatch(time.Second)
		if len(events) != 1 || events[0] != EventEOF|EventReading {
			t.Fatalf("events %v, want one EOF|READING", events)
		}
		if b.h.Enabled != EvWrite {
			t.Fatalf("enabled %#x after EOF, want write only", b.h.Enabled)
		}
		// Writing to the closed peer: EPIPE, no SIGPIPE.
		events = nil
		errnos = nil
		b.Disable(EvRead)
		b.out().Unfreeze(false)
		fbuf(b.h.Output).add([]byte("lost"))
		fl.dispatch(time.Second)
		if len(events) != 1 || events[0] != EventError|EventWriting || errnos[0] != int32(unix.EPIPE) {
			t.Fatalf("events %v errnos %v, want ERROR|WRITING with EPIPE", events, errnos)
		}
		b.Free()
		fl.dispatch(time.Second)
		if !fdOpen(fds[0]) {
			t.Fatal("fd closed without CLOSE_ON_FREE")
		}
		unix.Close(fds[0])
	}
}

func TestTimeoutsOrder(t *testing.T) {
	p1, p2 := socketpair(t), socketpair(t)
	b1 := NewSocket(nil, p1[0], OptCloseOnFree)
	b2 := NewSocket(nil, p2[0], OptCloseOnFree)
	var order []string
	b1.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, _ int32) {
		if what != EventTimeout|EventReading {
			t.Errorf("b1 event %#x", what)
		}
		order = append(order, "b1")
	})
	b2.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, _ int32) {
		order = append(order, "b2")
	})
	b1.SetTimeouts(&loop.Timeval{Usec: 20000}, nil)
	b2.SetTimeouts(&loop.Timeval{Usec: 60000}, nil)
	b2.Enable(EvRead)
	b1.Enable(EvRead)
	fl.dispatch(2 * time.Second)
	if len(order) != 2 || order[0] != "b1" || order[1] != "b2" {
		t.Fatalf("timeout order %v", order)
	}
	if b1.h.Enabled&EvRead != 0 {
		t.Fatal("a read timeout must disable reading")
	}
	b1.Free()
	b2.Free()
	fl.dispatch(time.Second)
	unix.Close(p1[1])
	unix.Close(p2[1])
}

func TestTriggerAndDeferral(t *testing.T) {
	fds := socketpair(t)
	b := NewSocket(nil, fds[0], OptCloseOnFree)
	var log []string
	b.h.ReadCB = regData(func(unsafe.Pointer) { log = append(log, "read") })
	b.h.WriteCB = regData(func(unsafe.Pointer) { log = append(log, "write") })
	b.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, _ int32) {
		log = append(log, map[int16]string{EventConnected: "connected", EventError: "error", EventEOF: "eof"}[what])
	})
	b.SetWatermark(EvRead, 5, 0)
	b.Trigger(EvRead, 0)
	if len(log) != 0 {
		t.Fatalf("read callback ran below the low watermark: %v", log)
	}
	b.Trigger(EvRead, TrigIgnoreWatermarks)
	b.TriggerEvent(EventEOF, 0, -1)
	if len(log) != 2 || log[0] != "read" || log[1] != "eof" {
		t.Fatalf("immediate triggers: %v", log)
	}
	log = nil
	b.Trigger(EvRead|EvWrite, TrigDeferCallbacks|TrigIgnoreWatermarks)
	b.TriggerEvent(EventError, TrigDeferCallbacks, int32(unix.ECONNRESET))
	b.TriggerEvent(EventConnected, TrigDeferCallbacks, -1)
	if len(log) != 0 {
		t.Fatalf("deferred triggers ran at once: %v", log)
	}
	fl.runOnce(false)
	want := []string{"connected", "read", "write", "error"}
	if len(log) != len(want) {
		t.Fatalf("deferred order %v, want %v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Fatalf("deferred order %v, want %v", log, want)
		}
	}
	b.Free()
	fl.dispatch(time.Second)
	unix.Close(fds[1])
}

func TestRefcountAndFreeInCallback(t *testing.T) {
	fds := socketpair(t)
	b := NewSocket(nil, fds[0], OptCloseOnFree)
	b.IncrefLocked()
	b.Free()
	fl.dispatch(time.Second)
	if !fdOpen(fds[0]) {
		t.Fatal("freed while a reference was held")
	}
	if b.Decref() != 1 {
		t.Fatal("last decref must report the free")
	}
	if !fdOpen(fds[0]) {
		t.Fatal("the fd must stay open until the loop finalizes")
	}
	fl.dispatch(time.Second)
	if fdOpen(fds[0]) {
		t.Fatal("CLOSE_ON_FREE did not close")
	}
	unix.Close(fds[1])

	fds = socketpair(t)
	b = NewSocket(nil, fds[0], OptCloseOnFree)
	reads := 0
	b.h.ReadCB = regData(func(unsafe.Pointer) {
		reads++
		b.Free()
		// Still valid until this callback returns.
		_ = b.h.Enabled
	})
	b.Enable(EvRead)
	unix.Write(fds[1], []byte("xyz"))
	fl.dispatch(time.Second)
	if reads != 1 || fdOpen(fds[0]) {
		t.Fatalf("reads %d fd open %v", reads, fdOpen(fds[0]))
	}
	unix.Close(fds[1])
}

func TestConnectRefusedAndConnected(t *testing.T) {
	l, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	sa := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	unix.Bind(l, sa)
	unix.Listen(l, 4)
	got, _ := unix.Getsockname(l)
	port := got.(*unix.SockaddrInet4).Port
	raw := sockaddrIn(port)

	b := NewSocket(nil, -1, OptCloseOnFree)
	var events []int16
	b.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, _ int32) { events = append(events, what) })
	if r, _ := b.Connect(unsafe.Pointer(&raw[0]), len(raw)); r != 0 {
		t.Fatalf("connect returned %d", r)
	}
	fl.dispatch(time.Second)
	if len(events) != 1 || events[0] != EventConnected {
		t.Fatalf("events %v, want CONNECTED", events)
	}
	b.Free()
	unix.Close(l)

	b = NewSocket(nil, -1, OptCloseOnFree)
	events = nil
	var errs []int32
	b.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, e int32) {
		events = append(events, what)
		errs = append(errs, e)
	})
	b.Enable(EvRead | EvWrite)
	b.Connect(unsafe.Pointer(&raw[0]), len(raw))
	fl.dispatch(time.Second)
	if len(events) != 1 || events[0] != EventError || errs[0] != int32(unix.ECONNREFUSED) {
		t.Fatalf("events %v errnos %v, want ERROR with ECONNREFUSED", events, errs)
	}
	b.Free()
	fl.dispatch(time.Second)
}

func sockaddrIn(port int) [16]byte {
	var r [16]byte
	r[0] = unix.AF_INET
	r[2], r[3] = byte(port>>8), byte(port)
	r[4], r[5], r[6], r[7] = 127, 0, 0, 1
	return r
}

// fakeLock is a recursive lock that only counts, to check that the core
// takes and releases it where libevent does.
type fakeLock struct{ depth, freed int }

func withFakeLocks(t *testing.T) func() {
	saved := *env
	env.AllocLock = func() unsafe.Pointer { return mem.Alloc(8) }
	env.FreeLock = func(p unsafe.Pointer) { locks[p].freed++ }
	env.Lock = func(p unsafe.Pointer) {
		if locks[p] == nil {
			locks[p] = &fakeLock{}
		}
		locks[p].depth++
	}
	env.Unlock = func(p unsafe.Pointer) {
		locks[p].depth--
		if locks[p].depth < 0 {
			t.Fatal("lock released more often than taken")
		}
	}
	return func() { *env = saved }
}

var locks = map[unsafe.Pointer]*fakeLock{}

func TestThreadsafe(t *testing.T) {
	fds := socketpair(t)
	if b := NewSocket(nil, fds[0], OptThreadsafe); b != nil {
		t.Fatal("THREADSAFE without lock callbacks must fail, as in libevent")
	}
	restore := withFakeLocks(t)
	defer restore()
	for _, unlockCBs := range []bool{false, true} {
		opts := OptThreadsafe | OptDeferCallbacks
		if unlockCBs {
			opts |= OptUnlockCallbacks
		}
		b := NewSocket(nil, fds[0], opts)
		if b == nil || b.h.Lock == nil {
			t.Fatal("no lock allocated")
		}
		lk := b.h.Lock
		depthInCB := -1
		b.h.ReadCB = regData(func(unsafe.Pointer) { depthInCB = locks[lk].depth })
		b.Trigger(EvRead, 0)
		fl.runOnce(false)
		want := 1
		if unlockCBs {
			want = 0
		}
		if depthInCB != want {
			t.Fatalf("unlock callbacks %v: lock depth %d inside the callback, want %d", unlockCBs, depthInCB, want)
		}
		if locks[lk].depth != 0 {
			t.Fatalf("lock left held (depth %d)", locks[lk].depth)
		}
		b.Free()
		fl.dispatch(time.Second)
		if locks[lk].freed != 1 {
			t.Fatal("the bufferevent's own lock was not freed with it")
		}
	}
	if b := NewSocket(nil, fds[0], OptUnlockCallbacks); b != nil {
		t.Fatal("UNLOCK_CALLBACKS without DEFER_CALLBACKS must fail")
	}
	unix.Close(fds[0])
	unix.Close(fds[1])
}

func TestHighWatermarkAndDirectDrain(t *testing.T) {
	fds := socketpair(t)
	b := NewSocket(nil, fds[0], OptCloseOnFree)
	b.SetWatermark(EvRead, 0, 1000)
	maxSeen := 0
	b.h.ReadCB = regData(func(unsafe.Pointer) { maxSeen = max(maxSeen, b.in().Len()) })
	b.Enable(EvRead)
	payload := make([]byte, 5000)
	unix.Write(fds[1], payload)
	for i := 0; i < 20; i++ {
		fl.runOnce(false)
	}
	if b.in().Len() != 1000 || b.ReadSuspended()&SuspendWM == 0 {
		t.Fatalf("input %d suspended %#x: reading must stop at the high mark", b.in().Len(), b.ReadSuspended())
	}
	// Drained from outside any callback: reading resumes by itself.
	total := 0
	for rounds := 0; total < 5000 && rounds < 100; rounds++ {
		n := b.in().Len()
		total += n
		fbuf(b.h.Input).drain(n)
		if b.ReadSuspended() != 0 {
			t.Fatal("draining below the mark must lift the suspension")
		}
		for i := 0; i < 5; i++ {
			fl.runOnce(false)
		}
	}
	if maxSeen > 1000 || total != 5000 {
		t.Fatalf("max input %d, total %d", maxSeen, total)
	}
	// A new mark below what is held suspends at once; no mark resumes.
	unix.Write(fds[1], payload[:600])
	fl.runOnce(false)
	b.SetWatermark(EvRead, 0, 100)
	if b.ReadSuspended()&SuspendWM == 0 {
		t.Fatal("a high mark under the held data must suspend reading")
	}
	b.SetWatermark(EvRead, 0, 0)
	if b.ReadSuspended() != 0 {
		t.Fatal("removing the high mark must resume reading")
	}
	b.Free()
	fl.dispatch(time.Second)
	unix.Close(fds[1])
}

func TestSetFdAndPriority(t *testing.T) {
	b := NewSocket(nil, -1, OptCloseOnFree)
	if b.GetFd() != -1 || b.Underlying() != nil {
		t.Fatal("fd-less socket bufferevent")
	}
	b.Enable(EvRead)
	fds := socketpair(t)
	if b.SetFd(fds[0]) != 0 || b.GetFd() != fds[0] {
		t.Fatal("setfd")
	}
	if !fl.Pending(&b.h.EvRead, EvRead) {
		t.Fatal("setfd must re-add what was enabled")
	}
	if b.PrioritySet(0) != 0 || b.PrioritySet(5) != -1 {
		t.Fatal("priority_set bounds")
	}
	if b.Flush(EvWrite, FlushFlush) != 0 {
		t.Fatal("flush on a socket succeeds")
	}
	b.Free()
	fl.dispatch(time.Second)
	if fdOpen(fds[0]) {
		t.Fatal("CLOSE_ON_FREE after setfd")
	}
	unix.Close(fds[1])
	if n := Live(); n != 0 {
		t.Fatalf("%d bufferevents alive", n)
	}
}

func TestConnectHostnameFailure(t *testing.T) {
	b := NewSocket(nil, -1, OptCloseOnFree)
	var got []int16
	b.h.ErrorCB = regEvent(func(_ unsafe.Pointer, what int16, _ int32) { got = append(got, what) })
	b.ConnectHostname(-2, nil, 0)
	if len(got) != 1 || got[0] != EventError || b.DNSError() != -2 {
		t.Fatalf("events %v dns error %d", got, b.DNSError())
	}
	if b.ReadSuspended() != 0 || b.WriteSuspended() != 0 {
		t.Fatal("lookup suspension left behind")
	}
	b.Free()
	fl.dispatch(time.Second)
}
