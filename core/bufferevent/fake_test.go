package bufferevent

// A small poll(2) event loop and byte-slice buffers that implement Loop and
// Buf, so that the core's semantics are tested on real sockets without the
// rest of goevent.

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
	"goevent/core/mem"
)

var fnSlots [256]byte

type fev struct {
	fd       int
	events   int16
	fn, arg  unsafe.Pointer
	added    bool
	deadline time.Time
	tv       *loop.Timeval
}

type fakeLoop struct {
	mu       sync.Mutex
	nfn      int
	fns      map[unsafe.Pointer]loop.GoCallback
	evs      map[*loop.Event]*fev
	dkinds   []func(unsafe.Pointer)
	defs     map[unsafe.Pointer]*fakeDeferred
	deferred []*fakeDeferred
	finals   []func()
	npri     int
}

func newFakeLoop() *fakeLoop {
	return &fakeLoop{fns: map[unsafe.Pointer]loop.GoCallback{}, evs: map[*loop.Event]*fev{},
		defs: map[unsafe.Pointer]*fakeDeferred{}, npri: 1}
}

func (l *fakeLoop) RegisterCallback(f loop.GoCallback) unsafe.Pointer {
	p := unsafe.Pointer(&fnSlots[l.nfn])
	l.nfn++
	l.fns[p] = f
	return p
}

func (l *fakeLoop) Assign(ev *loop.Event, base unsafe.Pointer, fd int, events int16, fn, arg unsafe.Pointer) int {
	l.evs[ev] = &fev{fd: fd, events: events, fn: fn, arg: arg}
	ev.Fd = int32(fd)
	ev.Events = events
	ev.Cb.Flags = loop.ListInit
	// A stand-in base: finalization goes through the loop only for
	// events that have one.
	ev.Base = unsafe.Pointer(&fnSlots[255])
	return 0
}

func (l *fakeLoop) Add(ev *loop.Event, tv *loop.Timeval) int {
	e := l.evs[ev]
	e.added = true
	e.tv = nil
	e.deadline = time.Time{}
	if tv != nil {
		t := *tv
		e.tv = &t
		e.deadline = time.Now().Add(time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond)
	}
	return 0
}

func (l *fakeLoop) Del(ev *loop.Event) int {
	if e := l.evs[ev]; e != nil {
		e.added = false
	}
	return 0
}

func (l *fakeLoop) Pending(ev *loop.Event, what int16) bool {
	e := l.evs[ev]
	return e != nil && e.added && e.events&what != 0
}

func (l *fakeLoop) RemoveTimer(ev *loop.Event) int {
	if e := l.evs[ev]; e != nil {
		e.tv = nil
		e.deadline = time.Time{}
	}
	return 0
}

func (l *fakeLoop) PrioritySet(ev *loop.Event, pri int) int {
	if pri < 0 || pri >= l.npri {
		return -1
	}
	ev.Cb.Pri = uint8(pri)
	return 0
}

func (l *fakeLoop) BaseSet(base unsafe.Pointer, ev *loop.Event) int {
	ev.Base = base
	return 0
}

func (l *fakeLoop) NPriorities(unsafe.Pointer) int { return l.npri }

type fakeDeferred struct {
	l      *fakeLoop
	p      unsafe.Pointer // the name NewDeferred gave it
	kind   uint32
	arg    unsafe.Pointer
	queued bool
	freed  bool
}

func (l *fakeLoop) RegisterDeferred(f func(unsafe.Pointer)) uint32 {
	l.dkinds = append(l.dkinds, f)
	return uint32(len(l.dkinds) - 1)
}

func (l *fakeLoop) NewDeferred(pri int, kind uint32, arg unsafe.Pointer) unsafe.Pointer {
	d := &fakeDeferred{l: l, p: mem.Alloc(1), kind: kind, arg: arg}
	l.defs[d.p] = d
	return d.p
}

func (l *fakeLoop) Deferred(p unsafe.Pointer) Deferred { return l.defs[p] }

func (d *fakeDeferred) run() { d.l.dkinds[d.kind](d.arg) }

func (d *fakeDeferred) Schedule(unsafe.Pointer) bool {
	if d.queued {
		return false
	}
	d.queued = true
	d.l.deferred = append(d.l.deferred, d)
	return true
}

func (d *fakeDeferred) Cancel(unsafe.Pointer) {
	if !d.queued {
		return
	}
	d.queued = false
	for i, c := range d.l.deferred {
		if c == d {
			d.l.deferred = append(d.l.deferred[:i], d.l.deferred[i+1:]...)
			break
		}
	}
}

func (d *fakeDeferred) SetPriority(int) {}

func (d *fakeDeferred) CallbackPtr() unsafe.Pointer        { return nil }
func (d *fakeDeferred) SetCallback(fn, arg unsafe.Pointer) {}

func (d *fakeDeferred) Free() {
	if d.queued {
		panic("freeing a queued deferred callback")
	}
	d.freed = true
	delete(d.l.defs, d.p)
	mem.Free(d.p)
}

func (d *fakeDeferred) FreeInto(b mem.Batch) mem.Batch { d.Free(); return b }

func (l *fakeLoop) Finalize(ev, also *loop.Event, fn, arg unsafe.Pointer) {
	l.Del(ev)
	if also != nil {
		l.Del(also)
	}
	f := l.fns[fn]
	l.finals = append(l.finals, func() { f(ev.Fd, loop.EvFinalize, arg) })
}

func (l *fakeLoop) busy() bool {
	if len(l.deferred) > 0 || len(l.finals) > 0 {
		return true
	}
	for _, e := range l.evs {
		if e.added {
			return true
		}
	}
	return false
}

// runOnce is one loop iteration: poll, I/O callbacks, timeouts, deferred
// callbacks, finalizers.
func (l *fakeLoop) runOnce(block bool) {
	var pfds []unix.PollFd
	var owners []*loop.Event
	timeout := -1
	now := time.Now()
	for ev, e := range l.evs {
		if !e.added {
			continue
		}
		if e.fd >= 0 && e.events&(loop.EvRead|loop.EvWrite) != 0 {
			var pe int16
			if e.events&loop.EvRead != 0 {
				pe |= unix.POLLIN
			}
			if e.events&loop.EvWrite != 0 {
				pe |= unix.POLLOUT
			}
			pfds = append(pfds, unix.PollFd{Fd: int32(e.fd), Events: pe})
			owners = append(owners, ev)
		}
		if !e.deadline.IsZero() {
			ms := int(e.deadline.Sub(now)/time.Millisecond) + 1
			if ms < 0 {
				ms = 0
			}
			if timeout < 0 || ms < timeout {
				timeout = ms
			}
		}
	}
	if !block || len(l.deferred) > 0 || len(l.finals) > 0 {
		timeout = 0
	}
	if len(pfds) > 0 || timeout > 0 {
		unix.Poll(pfds, timeout)
	}
	type fire struct {
		ev   *loop.Event
		what int16
	}
	var fires []fire
	for i, p := range pfds {
		if p.Revents == 0 {
			continue
		}
		e := l.evs[owners[i]]
		var what int16
		if p.Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0 && e.events&loop.EvRead != 0 {
			what |= loop.EvRead
		}
		if p.Revents&(unix.POLLOUT|unix.POLLHUP|unix.POLLERR) != 0 && e.events&loop.EvWrite != 0 {
			what |= loop.EvWrite
		}
		if what != 0 {
			fires = append(fires, fire{owners[i], what})
		}
	}
	now = time.Now()
	for ev, e := range l.evs {
		if e.added && !e.deadline.IsZero() && !now.Before(e.deadline) {
			fires = append(fires, fire{ev, loop.EvTimeout})
		}
	}
	for _, f := range fires {
		e := l.evs[f.ev]
		if e == nil || !e.added {
			continue
		}
		if e.events&loop.EvPersist == 0 {
			e.added = false
		} else if e.tv != nil {
			l.Add(f.ev, e.tv)
		}
		l.fns[e.fn](int32(e.fd), f.what, e.arg)
	}
	ds := l.deferred
	l.deferred = nil
	for _, d := range ds {
		if !d.queued {
			continue
		}
		d.queued = false
		d.run()
	}
	fs := l.finals
	l.finals = nil
	for _, f := range fs {
		f()
	}
}

func (l *fakeLoop) dispatch(limit time.Duration) {
	end := time.Now().Add(limit)
	for l.busy() && time.Now().Before(end) {
		l.runOnce(true)
	}
}

// ---- buffers ------------------------------------------------------------

type fakeWatch struct {
	kind WatchKind
	arg  unsafe.Pointer
	on   bool
}

// The watch functions the package registered (Env.RegisterWatch).
var watchFns []WatchFunc

func registerFakeWatch(f WatchFunc) WatchKind {
	watchFns = append(watchFns, f)
	return WatchKind(len(watchFns) - 1)
}

type fakeBuf struct {
	p           unsafe.Pointer
	data        []byte
	maxRead     int // what one ReadFd takes at most
	frozenStart bool
	frozenEnd   bool
	watches     []*fakeWatch
	freed       bool
}

var bufs = map[unsafe.Pointer]*fakeBuf{}

func newFakeBuf() Buf {
	b := &fakeBuf{p: mem.Alloc(8), maxRead: 4096}
	bufs[b.p] = b
	return b
}

func (b *fakeBuf) Pointer() unsafe.Pointer { return b.p }
func (b *fakeBuf) Len() int                { return len(b.data) }
func (b *fakeBuf) Freeze(start bool) {
	if start {
		b.frozenStart = true
	} else {
		b.frozenEnd = true
	}
}
func (b *fakeBuf) Unfreeze(start bool) {
	if start {
		b.frozenStart = false
	} else {
		b.frozenEnd = false
	}
}

func (b *fakeBuf) notify(orig, added, deleted int) {
	for i := len(b.watches) - 1; i >= 0; i-- {
		if w := b.watches[i]; w.on {
			watchFns[w.kind](w.arg, orig, added, deleted)
		}
	}
}

func (b *fakeBuf) add(p []byte) int {
	if b.frozenEnd {
		return -1
	}
	orig := len(b.data)
	b.data = append(b.data, p...)
	b.notify(orig, len(p), 0)
	return 0
}

func (b *fakeBuf) drain(n int) int {
	if b.frozenStart {
		return -1
	}
	orig := len(b.data)
	if n > orig {
		n = orig
	}
	b.data = b.data[n:]
	b.notify(orig, 0, n)
	return 0
}

func (b *fakeBuf) ReadFd(fd, howmuch int) (int, unix.Errno) {
	if b.frozenEnd {
		return -1, 0
	}
	if howmuch < 0 || howmuch > b.maxRead {
		howmuch = b.maxRead
	}
	tmp := make([]byte, howmuch)
	n, err := unix.Read(fd, tmp)
	if err != nil {
		return -1, err.(unix.Errno)
	}
	if n > 0 {
		orig := len(b.data)
		b.data = append(b.data, tmp[:n]...)
		b.notify(orig, n, 0)
	}
	return n, 0
}

func (b *fakeBuf) SetMaxRead(n int) {
	if n < 0 {
		n = 4096
	}
	b.maxRead = n
}

func (b *fakeBuf) WriteFd(fd, atmost int, _ bool) (int, unix.Errno) {
	if b.frozenStart {
		return -1, 0
	}
	n := len(b.data)
	if atmost >= 0 && atmost < n {
		n = atmost
	}
	w, err := unix.SendmsgN(fd, b.data[:n], nil, nil, unix.MSG_NOSIGNAL)
	if err != nil {
		return -1, err.(unix.Errno)
	}
	orig := len(b.data)
	b.data = b.data[w:]
	b.notify(orig, 0, w)
	return w, 0
}

// A watch's name is the address of its place in watchNames.
var (
	watchNames [1 << 12]byte
	watchByPtr = map[unsafe.Pointer]*fakeWatch{}
	watchNext  int
)

func (b *fakeBuf) Watch(kind WatchKind, arg unsafe.Pointer, _ bool) unsafe.Pointer {
	w := &fakeWatch{kind: kind, arg: arg, on: true}
	b.watches = append(b.watches, w)
	p := unsafe.Pointer(&watchNames[watchNext%len(watchNames)])
	watchNext++
	watchByPtr[p] = w
	return p
}

func (b *fakeBuf) SetWatchEnabled(w unsafe.Pointer, on bool) { watchByPtr[w].on = on }

func (b *fakeBuf) SetDrainsToFd()               {}
func (b *fakeBuf) EnableLocking(unsafe.Pointer) {}
func (b *fakeBuf) SetParent(uintptr)            {}
func (b *fakeBuf) Free() {
	b.freed = true
	delete(bufs, b.p)
	mem.Free(b.p)
}

func (b *fakeBuf) FreeInto(batch mem.Batch) mem.Batch { b.Free(); return batch }

func fbuf(p unsafe.Pointer) *fakeBuf { return bufs[p] }

// ---- user callbacks -----------------------------------------------------

type userCB struct {
	data  func(bev unsafe.Pointer)
	event func(bev unsafe.Pointer, what int16, errno int32)
}

var (
	userFns  = map[unsafe.Pointer]*userCB{}
	userNext = 128
)

func regData(f func(bev unsafe.Pointer)) unsafe.Pointer {
	p := unsafe.Pointer(&fnSlots[userNext])
	userNext++
	userFns[p] = &userCB{data: f}
	return p
}

func regEvent(f func(bev unsafe.Pointer, what int16, errno int32)) unsafe.Pointer {
	p := unsafe.Pointer(&fnSlots[userNext])
	userNext++
	userFns[p] = &userCB{event: f}
	return p
}

// Filters: the tests' filter functions stand in for C function pointers.
type filterFn func(src, dst Buf, limit, mode int) int

var (
	filterFns = map[unsafe.Pointer]filterFn{}
	freeFns   = map[unsafe.Pointer]func(){}
)

func regFilter(f filterFn) unsafe.Pointer {
	if f == nil {
		return nil
	}
	p := unsafe.Pointer(&fnSlots[userNext])
	userNext++
	filterFns[p] = f
	return p
}

func regFree(f func()) unsafe.Pointer {
	if f == nil {
		return nil
	}
	p := unsafe.Pointer(&fnSlots[userNext])
	userNext++
	freeFns[p] = f
	return p
}

var fl *fakeLoop

func setupFake() {
	fl = newFakeLoop()
	watchFns = nil
	Setup(&Env{
		Loop:          fl,
		NewBuf:        newFakeBuf,
		Buf:           func(p unsafe.Pointer) Buf { return bufs[p] },
		RegisterWatch: registerFakeWatch,
		AllocHeader:   mem.Alloc,
		FreeHeader:    mem.Free,
		CallFilter: func(fn unsafe.Pointer, src, dst Buf, limit, mode int, _ unsafe.Pointer) int {
			return filterFns[fn](src, dst, limit, mode)
		},
		CallFree: func(fn, _ unsafe.Pointer) { freeFns[fn]() },
		CallData: func(fn, bev, arg unsafe.Pointer) {
			userFns[fn].data(bev)
		},
		CallEvent: func(fn, bev unsafe.Pointer, what int16, arg unsafe.Pointer, errno int32) {
			userFns[fn].event(bev, what, errno)
		},
	})
}
