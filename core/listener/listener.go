// Package listener is libevent 2.1.12's evconnlistener: a listening socket
// watched by a persistent read event that accepts every pending connection
// and hands each to a user callback.
//
// What C holds as a struct evconnlistener * (opaque in libevent's headers)
// is a Header in off-heap memory: the struct event the loop watches, the
// lock, a magic number, and room for the peer address handed to the
// callback; the rest of the listener (Listener) follows in the same block.
// Nothing of it is on the Go heap, so a fresh copy of the engine (after
// fork) carries on with it. Like core/bufferevent, the package talks to the
// loop through a small interface, so its tests run on their own.
package listener

import (
	"structs"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
)

// LEV_OPT_* flags, libevent's values.
const (
	OptLeaveSocketsBlocking = 1 << 0
	OptCloseOnFree          = 1 << 1
	OptCloseOnExec          = 1 << 2
	OptReuseable            = 1 << 3
	OptThreadsafe           = 1 << 4
	OptDisabled             = 1 << 5
	OptDeferredAccept       = 1 << 6
	OptReuseablePort        = 1 << 7
	OptBindIPv6Only         = 1 << 8
)

// Loop is what a listener needs from the event loop; base nil means the
// current global base.
type Loop interface {
	RegisterCallback(f loop.GoCallback) unsafe.Pointer
	Assign(ev *loop.Event, base unsafe.Pointer, fd int, events int16, fn, arg unsafe.Pointer) int
	Add(ev *loop.Event, tv *loop.Timeval) int
	Del(ev *loop.Event) int
}

// Env is what the listener gets from the process around it.
type Env struct {
	Loop        Loop
	AllocHeader func(n uintptr) unsafe.Pointer
	FreeHeader  func(p unsafe.Pointer)
	// CallAccept calls an evconnlistener_cb.
	CallAccept func(fn, lev unsafe.Pointer, fd int, sa unsafe.Pointer, salen int, arg unsafe.Pointer)
	// CallError calls an evconnlistener_errorcb with errno set first.
	CallError func(fn, lev, arg unsafe.Pointer, errno int32)
	// Lock, Unlock, AllocLock and FreeLock as in core/bufferevent.
	Lock, Unlock func(lock unsafe.Pointer)
	AllocLock    func() unsafe.Pointer
	FreeLock     func(lock unsafe.Pointer)
	Warn         func(msg string)
}

var (
	env      *Env
	fnAccept unsafe.Pointer
)

// Setup installs the environment once, before any listener exists.
func Setup(e *Env) {
	env = e
	fnAccept = e.Loop.RegisterCallback(acceptCB)
}

// Header is the off-heap part of a listener.
type Header struct {
	_     structs.HostLayout
	Ev    loop.Event     // 0: the read event on the listening socket
	Lock  unsafe.Pointer // 128
	Magic uint64         // 136: levMagic while the listener lives
	Addr  [128]byte      // 144: sockaddr_storage for the peer address
}

const levMagic = 0x6765_6c65_7669_7374

// Listener is the rest of an evconnlistener, right after its Header.
type Listener struct {
	h            *Header
	cb           unsafe.Pointer
	errorcb      unsafe.Pointer
	userData     unsafe.Pointer
	flags        int
	refcnt       int
	accept4Flags int
	enabled      bool
	ownLock      bool
}

// FromPointer returns the listener behind a struct evconnlistener *, or nil.
func FromPointer(p unsafe.Pointer) *Listener {
	if p == nil || (*Header)(p).Magic != levMagic {
		return nil
	}
	return (*Listener)(unsafe.Add(p, unsafe.Sizeof(Header{})))
}

var live atomic.Int64

// Live reports how many listeners exist.
func Live() int { return int(live.Load()) }

// Pointer is the struct evconnlistener * for C.
func (l *Listener) Pointer() unsafe.Pointer { return unsafe.Pointer(l.h) }

func (l *Listener) lock() {
	if l.h.Lock != nil {
		env.Lock(l.h.Lock)
	}
}

func (l *Listener) unlock() {
	if l.h.Lock != nil {
		env.Unlock(l.h.Lock)
	}
}

// New is evconnlistener_new: backlog > 0 listens with it, < 0 with 128, 0
// means fd already listens. Fails with the errno of listen(2).
func New(base unsafe.Pointer, cb, arg unsafe.Pointer, flags, backlog, fd int) (*Listener, unix.Errno) {
	if backlog > 0 || backlog < 0 {
		if backlog < 0 {
			backlog = 128
		}
		if err := unix.Listen(fd, backlog); err != nil {
			return nil, err.(unix.Errno)
		}
	}
	n := unsafe.Sizeof(Header{}) + unsafe.Sizeof(Listener{})
	p := env.AllocHeader(n)
	if p == nil {
		return nil, unix.ENOMEM
	}
	clear(unsafe.Slice((*byte)(p), n))
	l := (*Listener)(unsafe.Add(p, unsafe.Sizeof(Header{})))
	l.h, l.cb, l.userData, l.flags, l.refcnt = (*Header)(p), cb, arg, flags, 1
	if flags&OptLeaveSocketsBlocking == 0 {
		l.accept4Flags |= unix.SOCK_NONBLOCK
	}
	if flags&OptCloseOnExec != 0 {
		l.accept4Flags |= unix.SOCK_CLOEXEC
	}
	if flags&OptThreadsafe != 0 && env.AllocLock != nil {
		l.h.Lock = env.AllocLock()
		l.ownLock = l.h.Lock != nil
	}
	l.h.Magic = levMagic
	live.Add(1)
	env.Loop.Assign(&l.h.Ev, base, fd, loop.EvRead|loop.EvPersist, fnAccept, p)
	if flags&OptDisabled == 0 {
		l.Enable()
	}
	return l, 0
}

// NewBind is evconnlistener_new_bind: a new non-blocking stream socket with
// SO_KEEPALIVE and the options flags ask for, bound to sa (if not nil).
func NewBind(base unsafe.Pointer, cb, arg unsafe.Pointer, flags, backlog int,
	sa unsafe.Pointer, salen int) (*Listener, unix.Errno) {
	if backlog == 0 {
		return nil, 0
	}
	family := unix.AF_UNSPEC
	if sa != nil {
		family = int(*(*uint16)(sa))
	}
	typ := unix.SOCK_STREAM | unix.SOCK_NONBLOCK
	if flags&OptCloseOnExec != 0 {
		typ |= unix.SOCK_CLOEXEC
	}
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return nil, err.(unix.Errno)
	}
	fail := func(e error) (*Listener, unix.Errno) {
		unix.Close(fd)
		if en, ok := e.(unix.Errno); ok {
			return nil, en
		}
		return nil, 0
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return fail(err)
	}
	opts := []struct {
		flag, level, opt int
	}{
		{OptReuseable, unix.SOL_SOCKET, unix.SO_REUSEADDR},
		{OptReuseablePort, unix.SOL_SOCKET, unix.SO_REUSEPORT},
		{OptDeferredAccept, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT},
		{OptBindIPv6Only, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY},
	}
	for _, o := range opts {
		if flags&o.flag != 0 {
			if err := unix.SetsockoptInt(fd, o.level, o.opt, 1); err != nil {
				return fail(err)
			}
		}
	}
	if sa != nil {
		if _, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(sa), uintptr(salen)); e != 0 {
			return fail(e)
		}
	}
	l, e := New(base, cb, arg, flags, backlog, fd)
	if l == nil {
		unix.Close(fd)
		return nil, e
	}
	return l, 0
}

// decrefAndUnlock frees the listener with its last reference: the event is
// deleted, the socket closed under LEV_OPT_CLOSE_ON_FREE, the memory
// released. Reports whether it freed.
func (l *Listener) decrefAndUnlock() bool {
	l.refcnt--
	if l.refcnt > 0 {
		l.unlock()
		return false
	}
	env.Loop.Del(&l.h.Ev)
	if l.flags&OptCloseOnFree != 0 {
		unix.Close(int(l.h.Ev.Fd))
	}
	l.unlock()
	lk, own := l.h.Lock, l.ownLock
	l.h.Magic = 0
	live.Add(-1)
	env.FreeHeader(unsafe.Pointer(l.h))
	if own && env.FreeLock != nil {
		env.FreeLock(lk)
	}
	return true
}

// Free is evconnlistener_free. Inside the accept callback the memory stays
// until the callback returns.
func (l *Listener) Free() {
	l.lock()
	l.cb = nil
	l.errorcb = nil
	l.decrefAndUnlock()
}

// Enable is evconnlistener_enable: nothing is watched while there is no
// callback, but the listener remembers that it is enabled.
func (l *Listener) Enable() int {
	l.lock()
	l.enabled = true
	r := 0
	if l.cb != nil {
		r = env.Loop.Add(&l.h.Ev, nil)
	}
	l.unlock()
	return r
}

// Disable is evconnlistener_disable.
func (l *Listener) Disable() int {
	l.lock()
	l.enabled = false
	r := env.Loop.Del(&l.h.Ev)
	l.unlock()
	return r
}

// Fd is evconnlistener_get_fd.
func (l *Listener) Fd() int { return int(l.h.Ev.Fd) }

// Base is evconnlistener_get_base.
func (l *Listener) Base() unsafe.Pointer { return l.h.Ev.Base }

// SetCB is evconnlistener_set_cb; giving a callback to an enabled listener
// that had none starts watching.
func (l *Listener) SetCB(cb, arg unsafe.Pointer) {
	l.lock()
	enable := l.enabled && l.cb == nil
	l.cb = cb
	l.userData = arg
	if enable {
		l.Enable()
	}
	l.unlock()
}

// SetErrorCB is evconnlistener_set_error_cb.
func (l *Listener) SetErrorCB(cb unsafe.Pointer) {
	l.lock()
	l.errorcb = cb
	l.unlock()
}

func retriable(e unix.Errno) bool {
	return e == unix.EAGAIN || e == unix.EINTR || e == unix.ECONNABORTED
}

// acceptCB accepts every pending connection, one user callback each; the
// callback may disable or free the listener, which ends the loop.
func acceptCB(fd int32, _ int16, arg unsafe.Pointer) {
	l := FromPointer(arg)
	if l == nil {
		return
	}
	l.lock()
	var errno unix.Errno
	for {
		salen := uint32(len(l.h.Addr))
		r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd),
			uintptr(unsafe.Pointer(&l.h.Addr[0])), uintptr(unsafe.Pointer(&salen)),
			uintptr(l.accept4Flags), 0, 0)
		if e != 0 {
			errno = e
			break
		}
		nfd := int(r)
		if salen == 0 {
			// Seen on old kernels under port scans: nothing to report.
			unix.Close(nfd)
			continue
		}
		if l.cb == nil {
			unix.Close(nfd)
			l.unlock()
			return
		}
		l.refcnt++
		cb, ud := l.cb, l.userData
		l.unlock()
		env.CallAccept(cb, unsafe.Pointer(l.h), nfd, unsafe.Pointer(&l.h.Addr[0]), int(salen), ud)
		l.lock()
		if l.refcnt == 1 {
			l.decrefAndUnlock()
			return
		}
		l.refcnt--
		if !l.enabled {
			l.unlock()
			return
		}
	}
	if retriable(errno) {
		l.unlock()
		return
	}
	if l.errorcb != nil {
		l.refcnt++
		ecb, ud := l.errorcb, l.userData
		l.unlock()
		env.CallError(ecb, unsafe.Pointer(l.h), ud, int32(errno))
		l.lock()
		l.decrefAndUnlock()
		return
	}
	if env.Warn != nil {
		env.Warn("Error from accept() call: " + errno.Error())
	}
	l.unlock()
}
