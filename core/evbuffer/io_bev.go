package evbuffer

// Added by the bufferevent work (core/bufferevent): a write for sockets that
// never raises SIGPIPE in the host process. Purely additive.

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/chain"
)

// WriteAtMostNoSignal is WriteAtMost, except that iovec writes go through
// sendmsg(2) with MSG_NOSIGNAL, so a peer that closed its end shows up as
// EPIPE instead of a SIGPIPE that would kill a host program which never
// asked for one. fds that are not sockets (ENOTSOCK) fall back to writev.
// sendfile chains are written as WriteAtMost writes them.
func (b *Buffer) WriteAtMostNoSignal(fd int, howmuch int64) (int, syscall.Errno) {
	return b.writeNoSignal(fd, howmuch, true)
}

// WriteAtMostNotSock is WriteAtMostNoSignal for an fd known not to be a
// socket: the writev without the sendmsg that would fail with ENOTSOCK.
func (b *Buffer) WriteAtMostNotSock(fd int, howmuch int64) (int, syscall.Errno) {
	return b.writeNoSignal(fd, howmuch, false)
}

func (b *Buffer) writeNoSignal(fd int, howmuch int64, trySend bool) (int, syscall.Errno) {
	if b.frozenStart() {
		return -1, 0
	}
	if c := b.first; c != nil && c.Flags&chain.Sendfile != 0 {
		return b.WriteAtMost(fd, howmuch)
	}
	if howmuch < 0 || uintptr(howmuch) > b.totalLen {
		howmuch = int64(b.totalLen)
	}
	if howmuch <= 0 {
		return -1, 0
	}
	var iov [writeVecs]IOVec
	i := 0
	left := uintptr(howmuch)
	for c := b.first; c != nil && i < writeVecs && left > 0; c = c.Next {
		if c.Flags&chain.Sendfile != 0 {
			break
		}
		iov[i].Base = chainDataPtr(c)
		if left >= c.Off {
			iov[i].Len = c.Off
			left -= c.Off
		} else {
			iov[i].Len = left
			left = 0
		}
		i++
	}
	if i == 0 {
		return 0, 0
	}
	r, e := uintptr(0), unix.ENOTSOCK
	if trySend {
		msg := unix.Msghdr{Iov: (*unix.Iovec)(unsafe.Pointer(&iov[0]))}
		msg.SetIovlen(i)
		r, _, e = unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL)
	}
	if e == unix.ENOTSOCK {
		r, _, e = unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(i))
	}
	if e != 0 {
		return -1, e
	}
	if r > 0 {
		b.Drain(uintptr(r))
	}
	return int(r), 0
}

// Hooks for an fd layer that makes a bufferevent's system calls outside Go
// (capi/buffer.c's ge_bev_read and ge_bev_write): it does Read's or
// WriteAtMostNoSignal's chain work on the C-visible head, including the
// callback counts, and Go finishes the call with the part only Go can do.

// EndFrozen reports whether the end is frozen (Read would fail).
func (b *Buffer) EndFrozen() bool { return b.frozenEnd() }

// StartFrozen reports whether the front is frozen (writes would fail).
func (b *Buffer) StartFrozen() bool { return b.frozenStart() }

// ChangedOutside runs the callbacks for bytes that code outside this package
// added to or drained from the chains, after it raised totalLen and
// nAddForCB or nDelForCB by n exactly as Read or Drain would have. Read and
// a write's Drain report a change only when n > 0, and so does this.
func (b *Buffer) ChangedOutside(n int) {
	if n > 0 {
		b.invokeCallbacks()
	}
}
