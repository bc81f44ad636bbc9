package listener

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
	"goevent/core/mem"
)

// fakeLoop records what the listener asks of the loop; tests fire the
// accept callback themselves.
type fakeLoop struct {
	fn    loop.GoCallback
	added map[*loop.Event]bool
}

var fl = &fakeLoop{added: map[*loop.Event]bool{}}

var slot [4]byte

func (l *fakeLoop) RegisterCallback(f loop.GoCallback) unsafe.Pointer {
	l.fn = f
	return unsafe.Pointer(&slot[0])
}

func (l *fakeLoop) Assign(ev *loop.Event, base unsafe.Pointer, fd int, events int16, fn, arg unsafe.Pointer) int {
	ev.Fd, ev.Events, ev.Cb.Fn, ev.Cb.Arg, ev.Base = int32(fd), events, fn, arg, base
	return 0
}

func (l *fakeLoop) Add(ev *loop.Event, _ *loop.Timeval) int { l.added[ev] = true; return 0 }
func (l *fakeLoop) Del(ev *loop.Event) int                  { delete(l.added, ev); return 0 }

// fire runs the accept callback if the event is added, as the loop would
// on readiness.
func (l *fakeLoop) fire(lis *Listener) bool {
	ev := &lis.h.Ev
	if !l.added[ev] {
		return false
	}
	l.fn(ev.Fd, loop.EvRead, ev.Cb.Arg)
	return true
}

type acceptFn func(lev unsafe.Pointer, fd int, sa unsafe.Pointer, salen int)

var (
	accepts = map[unsafe.Pointer]acceptFn{}
	errfns  = map[unsafe.Pointer]func(errno int32){}
	fnSlots [32]byte
	nslot   int
)

func regAccept(f acceptFn) unsafe.Pointer {
	p := unsafe.Pointer(&fnSlots[nslot])
	nslot++
	accepts[p] = f
	return p
}

func regError(f func(errno int32)) unsafe.Pointer {
	p := unsafe.Pointer(&fnSlots[nslot])
	nslot++
	errfns[p] = f
	return p
}

func TestMain(m *testing.M) {
	Setup(&Env{
		Loop:        fl,
		AllocHeader: mem.Alloc,
		FreeHeader:  mem.Free,
		CallAccept: func(fn, lev unsafe.Pointer, fd int, sa unsafe.Pointer, salen int, arg unsafe.Pointer) {
			accepts[fn](lev, fd, sa, salen)
		},
		CallError: func(fn, lev, arg unsafe.Pointer, errno int32) { errfns[fn](errno) },
	})
	os.Exit(m.Run())
}

func loopback() ([16]byte, int) {
	var sa [16]byte
	sa[0] = unix.AF_INET
	sa[4], sa[7] = 127, 1
	return sa, len(sa)
}

func portOf(t *testing.T, fd int) int {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

func dial(t *testing.T, port int) int {
	c, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err := unix.Connect(c, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return c
}

func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err != unix.EBADF
}

func TestAcceptDisableFree(t *testing.T) {
	var got []int
	cb := regAccept(func(_ unsafe.Pointer, fd int, sa unsafe.Pointer, salen int) {
		if *(*uint16)(sa) != unix.AF_INET || salen != 16 {
			t.Errorf("family %d salen %d", *(*uint16)(sa), salen)
		}
		fl2, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if fl2&unix.O_NONBLOCK == 0 {
			t.Error("accepted socket is blocking")
		}
		got = append(got, fd)
	})
	sa, n := loopback()
	l, e := NewBind(nil, cb, nil, OptCloseOnFree|OptReuseable, -1, unsafe.Pointer(&sa[0]), n)
	if l == nil {
		t.Fatalf("NewBind: %v", e)
	}
	port := portOf(t, l.Fd())
	c1, c2, c3 := dial(t, port), dial(t, port), dial(t, port)
	fl.fire(l)
	if len(got) != 3 {
		t.Fatalf("accepted %d of 3 in one wakeup", len(got))
	}
	l.Disable()
	c4 := dial(t, port)
	if fl.fire(l) {
		t.Fatal("disabled listener still watched")
	}
	l.Enable()
	fl.fire(l)
	if len(got) != 4 {
		t.Fatalf("accepted %d after enable", len(got))
	}
	// Free from inside the callback: the rest of the wakeup is dropped.
	lfd := l.Fd()
	l.SetCB(regAccept(func(unsafe.Pointer, int, unsafe.Pointer, int) { l.Free() }), nil)
	c5, c6 := dial(t, port), dial(t, port)
	fl.fire(l)
	if fdOpen(lfd) || Live() != 0 {
		t.Fatalf("listener not freed (fd open %v, live %d)", fdOpen(lfd), Live())
	}
	for _, fd := range append(got, c1, c2, c3, c4, c5, c6) {
		unix.Close(fd)
	}
}

func TestNullCallbackAndErrors(t *testing.T) {
	sa, n := loopback()
	if l, _ := NewBind(nil, nil, nil, 0, 0, unsafe.Pointer(&sa[0]), n); l != nil {
		t.Fatal("backlog 0 must fail")
	}
	count := 0
	cb := regAccept(func(_ unsafe.Pointer, fd int, _ unsafe.Pointer, _ int) { count++; unix.Close(fd) })
	l, _ := NewBind(nil, cb, nil, OptCloseOnFree|OptDisabled, 8, unsafe.Pointer(&sa[0]), n)
	if fl.fire(l) {
		t.Fatal("LEV_OPT_DISABLED listener is watched")
	}
	l.SetCB(nil, nil)
	l.Enable()
	if fl.fire(l) {
		t.Fatal("listener without callback is watched")
	}
	l.SetCB(cb, nil)
	c := dial(t, portOf(t, l.Fd()))
	fl.fire(l)
	if count != 1 {
		t.Fatalf("accepted %d", count)
	}
	var errs []int32
	l.SetErrorCB(regError(func(e int32) { errs = append(errs, e) }))
	// Accept on a socket that is not listening: EINVAL reaches the
	// error callback.
	s, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	l2, _ := New(nil, cb, nil, OptCloseOnFree, 0, s)
	l2.SetErrorCB(regError(func(e int32) { errs = append(errs, e) }))
	fl.fire(l2)
	if len(errs) != 1 || errs[0] != int32(unix.EINVAL) {
		t.Fatalf("error callbacks %v", errs)
	}
	l2.Free()
	l.Free()
	unix.Close(c)
	if fdOpen(s) {
		t.Fatal("CLOSE_ON_FREE left the socket open")
	}
}
