package bufferevent

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
	"goevent/core/mem"
)

// sockState is the socket kind's part of a bufferevent.
type sockState struct {
	outWatch unsafe.Pointer // starts writing when data is added to the output
}

type socketOps struct{}

// SocketOps is the socket kind (libevent's bufferevent_ops_socket).
var SocketOps Ops = socketOps{}

func (socketOps) Kind() string { return "socket" }

// NewSocket is bufferevent_socket_new. base may be nil (the compat
// constructor): the events then belong to the current global base.
func NewSocket(base unsafe.Pointer, fd int, options int) *BEV {
	b, spare := newCommonWatch(base, kindSocket, options, true)
	if b == nil {
		return nil
	}
	h := b.h
	out := b.out()
	out.SetDrainsToFd()
	b.sockAssign(base, fd)
	if wa, ok := out.(WatchAtBuf); ok && spare != nil {
		b.sockPart().outWatch = wa.WatchAt(spare, watchOutSock, unsafe.Pointer(h))
	} else {
		if spare != nil {
			// An Env with WatchSize but buffers that cannot place a
			// watcher: the room goes back.
			mem.Free(spare)
		}
		b.sockPart().outWatch = out.Watch(watchOutSock, unsafe.Pointer(h), false)
	}
	if b.sockPart().outWatch == nil {
		b.discard()
		return nil
	}
	if iw, ok := out.(IdleWatchBuf); ok {
		// outbufChanged has nothing to do while the write event is
		// pending, which is the steady state of a bulk writer: let
		// appends skip it then. Only code holding the bufferevent's lock
		// (which is the buffer's) deletes that event.
		iw.IdleWhileInserted(b.sockPart().outWatch, &h.EvWrite, unsafe.Pointer(h))
	}
	// Outside the bufferevent's own I/O the user may only consume input and
	// only produce output, as in libevent.
	b.in().Freeze(false)
	out.Freeze(true)
	return b
}

// sockAssign points ev_read and ev_write at fd with the socket handlers:
// the C ones when the environment has them (they do the common case
// without entering Go and hand the rest to SockReadCB/SockWriteCB), else
// the Go ones.
func (b *BEV) sockAssign(base unsafe.Pointer, fd int) {
	h := b.h
	rd, wr := fnSockRead, fnSockWrite
	if env.SockReadFn != nil && env.SockWriteFn != nil {
		rd, wr = env.SockReadFn, env.SockWriteFn
		h.Flags |= FlagSockC
	}
	env.Loop.Assign(&h.EvRead, base, fd, loop.EvRead|loop.EvPersist|loop.EvFinalize,
		rd, unsafe.Pointer(h))
	env.Loop.Assign(&h.EvWrite, base, fd, loop.EvWrite|loop.EvPersist|loop.EvFinalize,
		wr, unsafe.Pointer(h))
}

// sockOutWatch is a socket's output watcher (arg: the header).
func sockOutWatch(arg unsafe.Pointer, _, added, _ int) {
	if b := FromPointer(arg); b != nil {
		b.outbufChanged(added)
	}
}

// outbufChanged starts the write event when data arrives in the output of
// a bufferevent that wants to write and is not already waiting to.
func (b *BEV) outbufChanged(added int) {
	h := b.h
	if added > 0 && h.Enabled&EvWrite != 0 && b.h.WriteSuspended == 0 &&
		!env.Loop.Pending(&h.EvWrite, EvWrite) {
		addEvent(&h.EvWrite, &h.TimeoutWrite)
	}
}

// IdleWatchBuf is implemented by buffers whose fast paths can skip a watch
// while an event is inserted, or run a C twin of it (capi's evbuffers; the
// test fakes have no fast paths).
type IdleWatchBuf interface {
	// IdleWhileInserted declares that w does nothing while ev is
	// inserted (event_pending on it would be true); owner is the socket
	// bufferevent w watches for (its header).
	IdleWhileInserted(w unsafe.Pointer, ev *loop.Event, owner unsafe.Pointer)
	// PairWatch declares that w is the output watcher of the pair end
	// owner, which the C fast paths may run themselves.
	PairWatch(w unsafe.Pointer, owner unsafe.Pointer)
	// WMWatch declares that w is the read high-watermark watcher of the
	// bufferevent owner, which the C fast paths may run themselves.
	WMWatch(w unsafe.Pointer, owner unsafe.Pointer)
}

func retriable(e unix.Errno) bool { return e == unix.EINTR || e == unix.EAGAIN }

// SockReadCB is the socket read handler (libevent's bufferevent_readcb);
// capi's C handler calls it for whatever it does not do itself.
func SockReadCB(fd int32, what int16, arg unsafe.Pointer) { sockReadCB(fd, what, arg) }

func sockReadCB(fd int32, what int16, arg unsafe.Pointer) {
	b := FromPointer(arg)
	if b == nil {
		return
	}
	b.IncrefAndLock()
	defer b.DecrefAndUnlock()
	ev := EventReading
	if what == loop.EvTimeout {
		// Only a pure timeout counts: data that arrived with it wins.
		b.sockError(EvRead, ev|EventTimeout, -1)
		return
	}
	in := b.in()
	howmuch := -1
	if high := b.h.WmRead.High; high != 0 {
		howmuch = int(high) - in.Len()
		if howmuch <= 0 {
			// The mark was lowered under the data already held.
			b.SuspendRead(SuspendWM)
			return
		}
	}
	if rm := b.readMax(); howmuch < 0 || howmuch > rm {
		howmuch = rm
	}
	if b.h.ReadSuspended != 0 {
		return
	}
	// libevent hands the limit to evbuffer_read as an int: a larger
	// max_single_read wraps (2^32+7 reads 7 bytes, 2^40 reads none,
	// which then counts as EOF). Programs see that, so it is kept.
	howmuch = int(int32(howmuch))
	in.Unfreeze(false)
	n, err := in.ReadFd(int(fd), howmuch)
	in.Freeze(false)
	if n <= 0 {
		b.sockReadFailed(n, err)
		return
	}
	b.decrementBuckets(n, false)
	b.TriggerNolock(EvRead, 0)
}

// sockReadFailed handles a read that returned n <= 0 with err.
func (b *BEV) sockReadFailed(n int, err unix.Errno) {
	ev := EventReading
	switch {
	case n < 0:
		if retriable(err) {
			return
		}
		if err == unix.ECONNREFUSED {
			// Reported by the write side's connect check instead.
			b.connectionRefused = true
			return
		}
		b.sockError(EvRead, ev|EventError, int32(err))
	case n == 0:
		b.sockError(EvRead, ev|EventEOF, -1)
	}
}

// SockReadFailed is sockReadFailed for capi's C read handler, which holds
// a reference.
func (b *BEV) SockReadFailed(n int, err unix.Errno) {
	b.Lock()
	b.sockReadFailed(n, err)
	b.Unlock()
}

// sockError stops the direction that failed and reports what.
func (b *BEV) sockError(dir int16, what int16, errno int32) {
	b.Disable(dir)
	b.RunEventCB(what, 0, errno)
}

// SockWriteCB is the socket write handler (libevent's bufferevent_writecb);
// capi's C handler calls it for whatever it does not do itself.
func SockWriteCB(fd int32, what int16, arg unsafe.Pointer) { sockWriteCB(fd, what, arg) }

func sockWriteCB(fd int32, what int16, arg unsafe.Pointer) {
	b := FromPointer(arg)
	if b == nil {
		return
	}
	b.IncrefAndLock()
	defer b.DecrefAndUnlock()
	h := b.h
	ev := EventWriting
	if what == loop.EvTimeout {
		b.sockError(EvWrite, ev|EventTimeout, -1)
		return
	}
	connected := false
	if b.connecting() {
		c, cerr := finishedConnecting(int(fd))
		if b.connectionRefused {
			b.connectionRefused = false
			c, cerr = -1, unix.ECONNREFUSED
		}
		if c == 0 {
			return
		}
		b.setConnecting(false)
		if c < 0 {
			env.Loop.Del(&h.EvWrite)
			env.Loop.Del(&h.EvRead)
			b.RunEventCB(EventError, 0, int32(cerr))
			return
		}
		connected = true
		b.RunEventCB(EventConnected, 0, -1)
		if h.Enabled&EvWrite == 0 || b.h.WriteSuspended != 0 {
			env.Loop.Del(&h.EvWrite)
			return
		}
	}
	atmost := b.writeMax()
	if b.h.WriteSuspended != 0 {
		return
	}
	n := 0
	out := b.out()
	if out.Len() > 0 {
		var err unix.Errno
		out.Unfreeze(true)
		n, err = out.WriteFd(int(fd), atmost, h.Flags&FlagNotSock != 0)
		out.Freeze(true)
		if n < 0 && retriable(err) {
			if out.Len() == 0 {
				env.Loop.Del(&h.EvWrite)
			}
			return
		}
		if n <= 0 {
			b.sockWriteFailed(n, err)
			return
		}
		b.decrementBuckets(n, true)
	}
	if out.Len() == 0 {
		env.Loop.Del(&h.EvWrite)
	}
	// The write callback runs when the output is at or below the low
	// watermark, except right after a connect that wrote nothing.
	if n > 0 || !connected {
		b.TriggerNolock(EvWrite, 0)
	}
}

// sockWriteFailed handles a write that returned n <= 0 with an error that
// is not worth retrying.
func (b *BEV) sockWriteFailed(n int, err unix.Errno) {
	if n < 0 {
		b.sockError(EvWrite, EventWriting|EventError, int32(err))
		return
	}
	b.sockError(EvWrite, EventWriting|EventEOF, -1)
}

// SockWriteFailed is sockWriteFailed for capi's C write handler, which
// holds a reference.
func (b *BEV) SockWriteFailed(n int, err unix.Errno) {
	b.Lock()
	b.sockWriteFailed(n, err)
	b.Unlock()
}

// finishedConnecting is evutil_socket_finished_connecting_: 1 connected,
// 0 still in progress, -1 failed (with the error).
func finishedConnecting(fd int) (int, unix.Errno) {
	e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return -1, err.(unix.Errno)
	}
	if e != 0 {
		en := unix.Errno(e)
		if en == unix.EINTR || en == unix.EINPROGRESS {
			return 0, 0
		}
		return -1, en
	}
	return 1, 0
}

func (socketOps) Enable(b *BEV, what int16) int {
	h := b.h
	if what&EvRead != 0 && addEvent(&h.EvRead, &h.TimeoutRead) == -1 {
		return -1
	}
	if what&EvWrite != 0 && addEvent(&h.EvWrite, &h.TimeoutWrite) == -1 {
		return -1
	}
	return 0
}

func (socketOps) Disable(b *BEV, what int16) int {
	h := b.h
	if what&EvRead != 0 && env.Loop.Del(&h.EvRead) == -1 {
		return -1
	}
	// A connect in progress keeps its write event: that is how the
	// connect's completion is noticed.
	if what&EvWrite != 0 && !b.connecting() && env.Loop.Del(&h.EvWrite) == -1 {
		return -1
	}
	return 0
}

func (socketOps) Unlink(*BEV) {}

func (socketOps) Destruct(b *BEV) {
	fd := int(b.h.EvRead.Fd)
	if b.options()&OptCloseOnFree != 0 && fd >= 0 {
		unix.Close(fd)
	}
}

func (socketOps) AdjTimeouts(b *BEV) int { return b.AdjExistingTimeouts() }

// Flush on a socket does nothing and succeeds, as in libevent.
func (socketOps) Flush(*BEV, int16, int) int { return 0 }

func (socketOps) Ctrl(b *BEV, op int, d *CtrlData) int {
	switch op {
	case CtrlSetFD:
		b.sockSetFd(d.Fd)
		return 0
	case CtrlGetFD:
		d.Fd = int(b.h.EvRead.Fd)
		return 0
	}
	return -1
}

// sockSetFd re-points both events at fd and restores whatever was enabled.
func (b *BEV) sockSetFd(fd int) {
	h := b.h
	env.Loop.Del(&h.EvRead)
	env.Loop.Del(&h.EvWrite)
	// As libevent's be_socket_setfd: the program may fill the input and
	// drain the output until the next read or write freezes them again.
	b.in().Unfreeze(false)
	b.out().Unfreeze(true)
	h.Flags &^= FlagWritev | FlagNotSock
	b.sockAssign(h.EvBase, fd)
	if fd >= 0 {
		b.Enable(h.Enabled)
	}
}

// PrioritySet is bufferevent_priority_set (socket kind only).
func (b *BEV) PrioritySet(pri int) int {
	b.Lock()
	defer b.Unlock()
	if b.h.Kind != kindSocket {
		return -1
	}
	if env.Loop.PrioritySet(&b.h.EvRead, pri) == -1 {
		return -1
	}
	if env.Loop.PrioritySet(&b.h.EvWrite, pri) == -1 {
		return -1
	}
	b.def().SetPriority(pri)
	return 0
}

// BaseSet is bufferevent_base_set (socket kind only).
func (b *BEV) BaseSet(base unsafe.Pointer) int {
	b.Lock()
	defer b.Unlock()
	if b.h.Kind != kindSocket {
		return -1
	}
	b.h.EvBase = base
	if env.Loop.BaseSet(base, &b.h.EvRead) == -1 {
		return -1
	}
	return env.Loop.BaseSet(base, &b.h.EvWrite)
}

// Connect is bufferevent_socket_connect. sa/salen describe the address (nil
// to only start watching an fd whose connect was started elsewhere).
func (b *BEV) Connect(sa unsafe.Pointer, salen int) (int, unix.Errno) {
	b.IncrefAndLock()
	defer b.DecrefAndUnlock()
	fd := b.GetFd()
	ownfd := false
	var errno unix.Errno
	if fd < 0 {
		if sa == nil {
			return -1, 0
		}
		family := int(*(*uint16)(sa))
		nfd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			return -1, err.(unix.Errno)
		}
		fd, ownfd = nfd, true
	}
	r := 0
	if sa != nil {
		r, errno = socketConnect(fd, sa, salen)
		if r < 0 {
			if ownfd {
				unix.Close(fd)
			}
			return -1, errno
		}
	}
	b.SetFd(fd)
	switch r {
	case 0:
		if b.ops().Enable(b, EvWrite) == 0 {
			b.setConnecting(true)
			return 0, 0
		}
	case 1:
		// Connected at once: report it from the loop.
		b.setConnecting(true)
		b.TriggerNolock(EvWrite, OptDeferCallbacks)
		return 0, 0
	default:
		// Refused at once: report it from the loop, as libevent does.
		b.RunEventCB(EventError, OptDeferCallbacks, int32(errno))
		b.Disable(EvWrite | EvRead)
		return 0, 0
	}
	return -1, 0
}

// socketConnect is evutil_socket_connect_ on an existing fd: 0 in
// progress, 1 connected, 2 refused, -1 failed.
func socketConnect(fd int, sa unsafe.Pointer, salen int) (int, unix.Errno) {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(sa), uintptr(salen))
	switch e {
	case 0:
		return 1, 0
	case unix.EINTR, unix.EINPROGRESS:
		return 0, e
	case unix.ECONNREFUSED:
		return 2, e
	}
	return -1, e
}

// ConnectHostname is bufferevent_socket_connect_hostname once the lookup
// (done by the caller, synchronously, as libevent does without an evdns
// base) has finished: result is the getaddrinfo status, sa the first
// address. The event callback reports a failed lookup at once.
func (b *BEV) ConnectHostname(result int, sa unsafe.Pointer, salen int) {
	b.Lock()
	b.dnsError = 0
	b.SuspendWrite(SuspendLookup)
	b.SuspendRead(SuspendLookup)
	b.h.Refcnt++
	b.Unlock()

	b.Lock()
	b.UnsuspendWrite(SuspendLookup)
	b.UnsuspendRead(SuspendLookup)
	if result != 0 {
		b.dnsError = int32(result)
		b.RunEventCB(EventError, 0, -1)
		b.DecrefAndUnlock()
		return
	}
	if r, e := b.Connect(sa, salen); r < 0 {
		b.RunEventCB(EventError, 0, int32(e))
	}
	b.DecrefAndUnlock()
}
