package loop

import (
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/mem"
)

// backend is the seam to the OS readiness mechanism (libevent's struct
// eventop). add/del receive the events already enabled on the fd (old) and
// the ones to enable or disable, plus EvET when the event is
// edge-triggered.
type backend interface {
	name() string
	features() int
	add(fd int32, old, events int16) error
	del(fd int32, old, events int16) error
	// dispatch waits up to tv (nil: forever) and activates ready events.
	// Called with the base locked; it unlocks around the wait.
	dispatch(b *Base, tv *Timeval) error
	dealloc()
}

// beKind names a base's backend. A base keeps only the kind and the state
// the kind needs in its own off-heap memory (the epoll fd and result array
// in its header, the fd map); the Go object that implements the backend is
// a per-copy cache made from that state (be), so that a fresh copy of the
// engine can take over a base after fork.
type beKind int32

const (
	beNone beKind = iota
	beEpoll
	beEpollChangelist
	bePoll
	beSelect
)

func (k beKind) isEpoll() bool { return k == beEpoll || k == beEpollChangelist }

// backends caches each base's backend object (*Base -> backend).
var backends sync.Map

// be returns b's backend, making it from b's state if this copy of the
// engine has not seen b before.
func (b *Base) be() backend {
	if v, ok := backends.Load(b); ok {
		return v.(backend)
	}
	v, _ := backends.LoadOrStore(b, b.rebuildBackend())
	return v.(backend)
}

func (b *Base) setBackend(be backend) {
	switch x := be.(type) {
	case *epollBackend:
		b.beKind = beEpoll
		if x.changelist {
			b.beKind = beEpollChangelist
		}
	case *pollBackend:
		b.beKind = bePoll
		if x.method != "poll" {
			b.beKind = beSelect
		}
	}
	backends.Store(b, be)
}

func (b *Base) dropBackend() {
	backends.Delete(b)
	b.beKind = beNone
}

// rebuildBackend makes the backend object of a base this copy of the engine
// did not create: everything it needs is in the base's memory.
func (b *Base) rebuildBackend() backend {
	switch b.beKind {
	case beEpoll, beEpollChangelist:
		ep := &epollBackend{epfd: int(b.hdr.Epfd), hdr: b.hdr, changelist: b.beKind == beEpollChangelist}
		if b.hdr.EpEvents != nil {
			ep.events = unsafe.Slice((*unix.EpollEvent)(b.hdr.EpEvents), b.hdr.EpCap)
		}
		return ep
	case bePoll, beSelect:
		method := "poll"
		if b.beKind == beSelect {
			method = "select"
		}
		p := newPollState(method)
		for fd := range b.io {
			if m := ioMask(&b.io[fd]); m != 0 {
				_ = p.add(int32(fd), 0, m)
			}
		}
		return p
	}
	panic("loop: base without a backend")
}

const (
	epollFeatures     = FeatureET | FeatureO1 | FeatureEarlyClose
	epollInitialN     = 32
	epollMaxN         = 4096
	maxEpollTimeoutMs = 35 * 60 * 1000 // old kernels misbehave with larger waits
)

type epollBackend struct {
	epfd int
	hdr  *baseHeader
	// events is epoll_wait's result array, off-heap and named by hdr
	// (EpEvents, EpCap) so that the C loop waits into the same array and
	// grows it by the same rule.
	events []unix.EpollEvent
	// changelist: the base asked for libevent's batched epoll_ctl variant.
	// goevent applies changes at once either way; only the method name
	// differs.
	changelist bool
}

// newEpoll creates the epoll fd, then the signal pipe, in libevent's order,
// so that a new base takes the same fd numbers it would under libevent.
func newEpoll(b *Base) (*epollBackend, error) { return newEpollAt(b, -1) }

// newEpollAt is newEpoll, adopting the epoll instance prepared instead of
// creating one when prepared >= 0 (see Base.ReinitPrepared). The instance
// ends at the lowest free descriptor, counting prepared's own number, which
// is where epoll_create1 would have put it.
func newEpollAt(b *Base, prepared int) (*epollBackend, error) {
	var fd int
	var err error
	if prepared >= 0 {
		fd, err = adoptLowest(prepared)
	} else {
		fd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	}
	if err != nil {
		if err != unix.ENOSYS {
			logf(LogWarn, "epoll_create: %s", strerror(err))
		}
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	ep := &epollBackend{epfd: fd, hdr: b.hdr}
	if !ep.setBuf(epollInitialN) {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("epoll: %w", unix.ENOMEM)
	}
	b.hdr.Epfd = int32(fd)
	ep.changelist = b.flags&FlagEpollUseChangelist != 0 || b.envChangelist
	b.setBackend(ep)
	if err := b.evsigInit(); err != nil {
		ep.dealloc()
		b.dropBackend()
		return nil, err
	}
	return ep, nil
}

// adoptLowest moves the descriptor fd to the lowest free number if that is
// below fd, and returns where it is.
func adoptLowest(fd int) (int, error) {
	low, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		// No free descriptor: fd is where it can be.
		return fd, nil
	}
	if low > fd {
		_ = unix.Close(low)
		return fd, nil
	}
	_ = unix.Close(fd)
	return low, nil
}

// setBuf replaces the result array with one of n entries.
func (ep *epollBackend) setBuf(n int) bool {
	p := mem.Alloc(uintptr(n) * unsafe.Sizeof(unix.EpollEvent{}))
	if p == nil {
		return false
	}
	mem.Free(ep.hdr.EpEvents)
	ep.hdr.EpEvents, ep.hdr.EpCap = p, n
	ep.events = unsafe.Slice((*unix.EpollEvent)(p), n)
	return true
}

// nameChangelist is what libevent's changelist variant of epoll calls
// itself (event_base_get_method).
const nameChangelist = "epoll (with changelist)"

func (ep *epollBackend) name() string {
	if ep.changelist {
		return nameChangelist
	}
	return "epoll"
}

func (ep *epollBackend) features() int { return epollFeatures }

func epollBits(ev int16) uint32 {
	var e uint32
	if ev&EvRead != 0 {
		e |= unix.EPOLLIN
	}
	if ev&EvWrite != 0 {
		e |= unix.EPOLLOUT
	}
	if ev&EvClosed != 0 {
		e |= unix.EPOLLRDHUP
	}
	return e
}

const rwc = EvRead | EvWrite | EvClosed

// ctl is one epoll_ctl with libevent's retries; a failure logs one line
// worded as libevent's, for which old is the fd's events before and events
// those added (or, with del, removed), with EvET.
func (ep *epollBackend) ctl(op int, fd int32, bits uint32, et bool, old, events int16, del bool) error {
	if et {
		bits |= unix.EPOLLET
	}
	ev := unix.EpollEvent{Events: bits, Fd: fd}
	err := unix.EpollCtl(ep.epfd, op, int(fd), &ev)
	if err == nil {
		return nil
	}
	switch op {
	case unix.EPOLL_CTL_MOD:
		// The fd was probably closed and reopened: add it afresh.
		if err == unix.ENOENT {
			if err2 := unix.EpollCtl(ep.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); err2 != nil {
				logf(LogWarn, "Epoll MOD(%d) on %d retried as ADD; that failed too: %s", bits, fd, strerror(err2))
				return err2
			}
			return nil
		}
	case unix.EPOLL_CTL_ADD:
		// Redundant add, or dup2 onto an fd epoll still knows.
		if err == unix.EEXIST {
			if err2 := unix.EpollCtl(ep.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev); err2 != nil {
				logf(LogWarn, "Epoll ADD(%d) on %d retried as MOD; that failed too: %s", bits, fd, strerror(err2))
				return err2
			}
			return nil
		}
	case unix.EPOLL_CTL_DEL:
		// The fd was closed before the delete: nothing left to do.
		if err == unix.ENOENT || err == unix.EBADF || err == unix.EPERM {
			return nil
		}
	}
	opName := map[int]string{unix.EPOLL_CTL_ADD: "ADD", unix.EPOLL_CTL_MOD: "MOD", unix.EPOLL_CTL_DEL: "DEL"}[op]
	change := func(kind int16) int {
		if events&kind == 0 {
			return 0
		}
		c := 1
		if del {
			c = 2
		}
		return c | int(events&EvET)
	}
	name := func(c int) string {
		switch {
		case c&1 != 0:
			return "add"
		case c&2 != 0:
			return "del"
		}
		return "none"
	}
	rc, wc, cc := change(EvRead), change(EvWrite), change(EvClosed)
	logf(LogWarn, "Epoll %s(%d) on fd %d failed. Old events were %d; read change was %d (%s); "+
		"write change was %d (%s); close change was %d (%s): %s", opName, bits, fd, old,
		rc, name(rc), wc, name(wc), cc, name(cc), strerror(err))
	return err
}

// strerror words a system error as C's strerror does (Go's texts are the
// same but for the first letter), so log lines read as libevent's.
func strerror(err error) string {
	s := err.Error()
	if _, ok := err.(unix.Errno); ok && s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func (ep *epollBackend) add(fd int32, old, events int16) error {
	op := unix.EPOLL_CTL_ADD
	if old&rwc != 0 {
		op = unix.EPOLL_CTL_MOD
	}
	return ep.ctl(op, fd, epollBits((old|events)&rwc), events&EvET != 0, old, events, false)
}

func (ep *epollBackend) del(fd int32, old, events int16) error {
	left := old &^ events & rwc
	if left == 0 {
		return ep.ctl(unix.EPOLL_CTL_DEL, fd, epollBits(old&rwc), events&EvET != 0, old, events, true)
	}
	return ep.ctl(unix.EPOLL_CTL_MOD, fd, epollBits(left), events&EvET != 0, old, events, true)
}

// tvToMsec rounds up, as evutil_tv_to_msec_ does; -1 if out of range.
func tvToMsec(tv Timeval) int64 {
	if tv.Usec > 1000000 || tv.Sec > (1<<63-1-999)/1000 {
		return -1
	}
	return tv.Sec*1000 + (tv.Usec+999)/1000
}

func (ep *epollBackend) dispatch(b *Base, tv *Timeval) error {
	timeout := -1
	if tv != nil {
		ms := tvToMsec(*tv)
		if ms < 0 || ms > maxEpollTimeoutMs {
			ms = maxEpollTimeoutMs
		}
		timeout = int(ms)
	}
	b.hdr.Waiting = true
	b.unlock()
	n, err := unix.EpollWait(ep.epfd, ep.events, timeout)
	b.lock()
	b.hdr.Waiting = false
	if err != nil {
		if err == unix.EINTR {
			return nil
		}
		return epollWaitError(err)
	}
	ep.activate(b, n)
	return nil
}

func epollWaitError(err error) error {
	logf(LogWarn, "epoll_wait: %s", strerror(err))
	return fmt.Errorf("epoll_wait: %w", err)
}

// activate turns the first n results of epoll_wait into activations, then
// grows the result array if it was filled.
func (ep *epollBackend) activate(b *Base, n int) {
	for i := 0; i < n; i++ {
		what := ep.events[i].Events
		var ev int16
		switch {
		case what&unix.EPOLLERR != 0:
			ev = EvRead | EvWrite
		case what&unix.EPOLLHUP != 0 && what&unix.EPOLLRDHUP == 0:
			ev = EvRead | EvWrite
		default:
			if what&unix.EPOLLIN != 0 {
				ev |= EvRead
			}
			if what&unix.EPOLLOUT != 0 {
				ev |= EvWrite
			}
			if what&unix.EPOLLRDHUP != 0 {
				ev |= EvClosed
			}
		}
		if ev == 0 {
			continue
		}
		b.ioActive(ep.events[i].Fd, ev|EvET)
	}
	if n == len(ep.events) && n < epollMaxN {
		// Keeping the old array is harmless if memory ran out.
		_ = ep.setBuf(2 * n)
	}
}

func (ep *epollBackend) dealloc() {
	if ep.epfd >= 0 {
		_ = unix.Close(ep.epfd)
		ep.epfd = -1
		ep.hdr.Epfd = -1
	}
	mem.Free(ep.hdr.EpEvents)
	ep.hdr.EpEvents, ep.hdr.EpCap = nil, 0
	ep.events = nil
}
