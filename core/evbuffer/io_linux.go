package evbuffer

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/chain"
)

const (
	// maxRead caps one Read when the caller or FIONREAD does not say less.
	maxRead = 4096
	// readVecs is how many chains one readv may fill.
	readVecs = 4
	// writeVecs is how many chains one writev may send (libevent's 128,
	// below Linux's IOV_MAX).
	writeVecs = 128
)

// bytesReadable asks the kernel how much fd has queued (FIONREAD, which
// is TIOCINQ on Linux), or -1. The call is raw: FIONREAD never blocks, so
// the scheduler need not hear of it, which saves its bookkeeping (about 20
// ns against unix.IoctlGetInt) on every read.
func bytesReadable(fd int) int {
	var n int32
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return -1
	}
	return int(n)
}

// Read appends up to howmuch bytes read from fd (evbuffer_read). howmuch < 0
// means "what FIONREAD reports", and no read asks for more than that or
// 4096 bytes; the data goes with one readv into the free space of up to four
// chains at the end. Returns the byte count, 0 at end of file, or -1 with the
// system error (errno 0 when the failure is not a system call's).
//
// capi/buffer.c repeats this, chain for chain, for buffers whose tail is
// plain and that have no callbacks (read_fast): change both together.
func (b *Buffer) Read(fd int, howmuch int) (int, syscall.Errno) {
	if b.frozenEnd() {
		return -1, 0
	}
	n := bytesReadable(fd)
	if n <= 0 || n > maxRead {
		n = maxRead
	}
	if howmuch < 0 || howmuch > n {
		howmuch = n
	}
	if b.expandFast(uintptr(howmuch), readVecs) == -1 {
		return -1, unix.ENOMEM
	}
	var vecs [readVecs]IOVec
	nvecs, link := b.readSetupVecs(int64(howmuch), vecs[:], true)
	r, _, e := unix.Syscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&vecs[0])), uintptr(nvecs))
	got := int(r)
	if e != 0 {
		return -1, e
	}
	if got == 0 {
		return 0, 0
	}
	// Account the bytes chain by chain, as far as they went.
	remaining := uintptr(got)
	for i := 0; i < nvecs; i++ {
		c := *link
		space := min(c.SpaceLen(), chain.Max)
		if space < remaining {
			c.Off += space
			remaining -= space
		} else {
			c.Off += remaining
			b.lastWithData = link
			break
		}
		link = &c.Next
	}
	b.totalLen += uintptr(got)
	b.nAddForCB += uintptr(got)
	b.invokeCallbacks()
	return got, 0
}

// Write sends as much of the buffer as fd accepts (evbuffer_write).
func (b *Buffer) Write(fd int) (int, syscall.Errno) { return b.WriteAtMost(fd, -1) }

// WriteAtMost sends up to howmuch bytes (all if negative) to fd and drains
// what was sent (evbuffer_write_atmost): one writev over up to 128 chains,
// or a sendfile when the first chain is a sendfile file segment. Returns
// the byte count or -1 with the system error. As in libevent an empty
// buffer gives -1 without an error number, and a sendfile that would block
// gives 0 (the errno, EAGAIN or EINTR, is still returned for the caller's
// errno).
//
// capi/buffer.c repeats the iovec case for buffers without callbacks
// (write_iovec): change both together.
func (b *Buffer) WriteAtMost(fd int, howmuch int64) (int, syscall.Errno) {
	if b.frozenStart() {
		return -1, 0
	}
	if howmuch < 0 || uintptr(howmuch) > b.totalLen {
		howmuch = int64(b.totalLen)
	}
	n, e := -1, syscall.Errno(0)
	if howmuch > 0 {
		if c := b.first; c != nil && c.Flags&chain.Sendfile != 0 {
			n, e = b.writeSendfile(fd)
		} else {
			n, e = b.writeIovec(fd, uintptr(howmuch))
		}
	}
	if n > 0 {
		b.Drain(uintptr(n))
	}
	return n, e
}

func (b *Buffer) writeIovec(fd int, howmuch uintptr) (int, syscall.Errno) {
	// The vector goes through a function value (WritevHook), so it would
	// escape to the heap on every call; a pool keeps writes allocation-free.
	iovp := iovPool.Get().(*[writeVecs]IOVec)
	defer iovPool.Put(iovp)
	iov := iovp[:]
	i := 0
	for c := b.first; c != nil && i < writeVecs && howmuch > 0; c = c.Next {
		if c.Flags&chain.Sendfile != 0 {
			break // written by a later call, with sendfile
		}
		iov[i].Base = chainDataPtr(c)
		if howmuch >= c.Off {
			iov[i].Len = c.Off
			howmuch -= c.Off
			i++
		} else {
			iov[i].Len = howmuch
			i++
			break
		}
	}
	if i == 0 {
		return 0, 0
	}
	if WritevHook != nil {
		return WritevHook(fd, unsafe.Pointer(&iov[0]), i)
	}
	r, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(i))
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

var iovPool = sync.Pool{New: func() any { return new([writeVecs]IOVec) }}

// WritevHook, when set, makes the writev of Write and WriteAtMost. The C ABI
// layer sets it to a writev made from C: a SIGPIPE raised while Go code runs
// is swallowed by the Go runtime, while libevent's writev kills a program
// that does not ignore SIGPIPE, and goevent keeps libevent's behaviour. iov
// points to n IOVec entries.
var WritevHook func(fd int, iov unsafe.Pointer, n int) (int, syscall.Errno)

// writeSendfile sends the first chain's file bytes. Like libevent on Linux
// it offers the whole chain, whatever the caller's limit.
func (b *Buffer) writeSendfile(fd int) (int, syscall.Errno) {
	c := b.first
	seg := (*segExtra)(c.Extra()).seg
	offset := int64(c.Misalign)
	r, _, e := unix.Syscall6(unix.SYS_SENDFILE, uintptr(fd), uintptr(seg.fd),
		uintptr(unsafe.Pointer(&offset)), c.Off, 0, 0)
	if e != 0 {
		if e == unix.EAGAIN || e == unix.EINTR {
			return 0, e // "nothing sent", errno left as the call set it
		}
		return -1, e
	}
	return int(r), 0
}
