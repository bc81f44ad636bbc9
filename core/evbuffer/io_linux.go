package evbuffer

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/chain"
)

const (
	// maxRead caps one Read when the caller or FIONREAD does not say less,
	// unless the buffer's own cap (SetMaxRead) differs.
	maxRead = 4096
	// readVecs is how many chains one readv may fill.
	readVecs = 4
	// writeVecs is how many chains one writev may send (libevent's 128,
	// below Linux's IOV_MAX).
	writeVecs = 128
	// bulkVecs is how many chains one bulk read (readBulk) may fill, and
	// bulkChain the largest allocation (header included) it makes for a
	// new chain unless the read needs bigger ones to fit the vectors.
	bulkVecs  = 64
	bulkChain = 64 * 1024
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

// readCap is how much one Read may take from an fd that FIONREAD says holds
// n bytes (n <= 0: nothing known). Up to the default cap this is
// libevent's rule (2.1.12's exactly at the default, 2.2's below it): the
// cap when FIONREAD says nothing or more. Above it, what the fd holds
// bounds the read, and the default when FIONREAD says nothing (end of
// file, fds it does not know): an idle or closing connection must not get
// the cap's worth of chains.
func (b *Buffer) readCap(n int) int {
	limit := int(b.maxRead)
	switch {
	case limit <= maxRead:
		if n <= 0 || n > limit {
			n = limit
		}
	case n <= 0:
		n = maxRead
	case n > limit:
		n = limit
	}
	return n
}

// Read appends up to howmuch bytes read from fd (evbuffer_read). howmuch < 0
// means "what FIONREAD reports", and no read asks for more than that or
// the buffer's cap (SetMaxRead, 4096 by default; see readCap). Up to 4096
// bytes go with one readv into the free space of up to four chains at the
// end, as in libevent; more make a bulk read (readBulk). Returns the byte
// count, 0 at end of file, or -1 with the system error (errno 0 when the
// failure is not a system call's).
//
// capi/buffer_io.c repeats this, chain for chain, for buffers whose tail is
// plain (read_chains, read_bulk): change both together.
func (b *Buffer) Read(fd int, howmuch int) (int, syscall.Errno) {
	if b.frozenEnd() {
		return -1, 0
	}
	n := b.readCap(bytesReadable(fd))
	if howmuch < 0 || howmuch > n {
		howmuch = n
	}
	if howmuch > maxRead {
		return b.readBulk(fd, uintptr(howmuch))
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

// bulkChainAlloc is the allocation (header included) for the next new chain
// of a bulk read that still has need bytes to place and slots vectors left
// for them: the largest power of two whose storage does not exceed need, so
// that the chains hold what the fd holds rather than up to twice as much
// (libevent rounds a chain up to the next power of two), at least the
// smallest chain and at most bulkChain, doubled while chains that size
// could not place need in the vectors left.
func bulkChainAlloc(need uintptr, slots int) uintptr {
	limit := uintptr(bulkChain)
	for (limit-chain.HeaderSize)*uintptr(slots-1) < need && limit < 1<<30 {
		limit <<= 1
	}
	n := uintptr(chain.MinAlloc)
	for n < limit && n<<1-chain.HeaderSize <= need {
		n <<= 1
	}
	return n
}

// bulkSpace prepares a bulk read of howmuch bytes: the room after the last
// chain with data, then the empty chains after it (left by an earlier read
// that got less than it prepared for, or by ReserveSpace: used again
// rather than left to pile up), then new chains sized by bulkChainAlloc.
// It fills vecs and, for each, the link that points at its chain, and
// returns how many it filled and the bytes they describe (less than
// howmuch only when an allocation failed or the vectors ran out).
func (b *Buffer) bulkSpace(howmuch uintptr, vecs *[bulkVecs]IOVec, links *[bulkVecs]**chain.Chain) (int, uintptr) {
	link := b.lastWithData
	var room uintptr
	n := 0
	if c := *link; c != nil && c.Off != 0 {
		if space := c.SpaceLen(); space != 0 {
			vecs[n] = IOVec{Base: c.SpacePtr(), Len: min(space, howmuch)}
			room += vecs[n].Len
			links[n] = link
			n++
		}
		link = &c.Next
	}
	for ; *link != nil && room < howmuch && n < bulkVecs; link = &(*link).Next {
		c := *link
		if c.Flags&chain.Immutable != 0 {
			continue // an empty reference: nothing goes there
		}
		c.Misalign = 0
		vecs[n] = IOVec{Base: c.Buffer, Len: min(c.BufferLen, howmuch-room)}
		room += vecs[n].Len
		links[n] = link
		n++
	}
	for room < howmuch && n < bulkVecs {
		need := howmuch - room
		c := chain.New(bulkChainAlloc(need, bulkVecs-n) - chain.HeaderSize)
		if c == nil {
			break
		}
		link = &b.first
		if b.last != nil {
			link = &b.last.Next
		}
		*link = c
		b.last = c
		vecs[n] = IOVec{Base: c.Buffer, Len: min(c.BufferLen, need)}
		room += vecs[n].Len
		links[n] = link
		n++
	}
	return n, room
}

// readBulk is a read of more than the default cap: one readv into as many
// chains as the bytes need (bulkSpace). libevent 2.2 prepares such a read
// in at most four chains, the last as big as the rest of the read rounded
// up to a power of two; here the chains fit the data instead. What a short
// read leaves unused stays as empty chains, which the next read uses
// first.
func (b *Buffer) readBulk(fd int, howmuch uintptr) (int, syscall.Errno) {
	var vecs [bulkVecs]IOVec
	var links [bulkVecs]**chain.Chain
	nvecs, room := b.bulkSpace(howmuch, &vecs, &links)
	if room == 0 {
		return -1, unix.ENOMEM
	}
	r, _, e := unix.Syscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&vecs[0])), uintptr(nvecs))
	if e != 0 {
		return -1, e
	}
	got := int(r)
	if got == 0 {
		return 0, 0
	}
	remaining := uintptr(got)
	for i := 0; i < nvecs && remaining != 0; i++ {
		take := min(vecs[i].Len, remaining)
		(*links[i]).Off += take
		remaining -= take
		if remaining == 0 {
			b.lastWithData = links[i]
		}
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
