package evbuffer

import (
	"errors"
	"fmt"
	"runtime"
	"structs"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/chain"
	"goevent/core/mem"
)

// File segment flags (EVBUF_FS_*).
const (
	FSCloseOnFree     uint32 = 0x01
	FSDisableMmap     uint32 = 0x02
	FSDisableSendfile uint32 = 0x04
	FSDisableLocking  uint32 = 0x08
)

// FileSegment is struct evbuffer_file_segment: a range of a file that can be
// added to buffers, shared by reference count. It lives off-heap because C
// holds it. Its bytes are either sent with sendfile (buffers flagged
// drains-to-fd) or materialized: mapped with mmap, or read into memory when
// mapping is disabled or fails.
type FileSegment struct {
	_          structs.HostLayout
	refcnt     int32  // atomic: chains in several buffers may share it
	flags      uint32 // EVBUF_FS_*
	fd         int32
	sendfileOK uint8 // may be sent with sendfile
	isMapping  uint8 // contents come from mmap
	_          [2]byte
	mapping    unsafe.Pointer // start of the mapping (page aligned)
	contents   unsafe.Pointer // first byte of the segment
	fileOffset int64
	length     int64
	cleanupFn  unsafe.Pointer // evbuffer_file_segment_cleanup_cb
	cleanupArg unsafe.Pointer
	busy       uint32 // spin lock around materialization
}

// FileSegmentFromPointer converts a struct evbuffer_file_segment * from C.
func FileSegmentFromPointer(p unsafe.Pointer) *FileSegment { return (*FileSegment)(p) }

func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// NewFileSegment describes length bytes of fd from offset; length -1 means
// up to the end of the file (evbuffer_file_segment_new). Unless sendfile is
// disabled the file is not touched until a buffer needs its bytes. Returns
// nil and the system error (0 for invalid arguments) on failure.
func NewFileSegment(fd int, offset, length int64, flags uint32) (*FileSegment, syscall.Errno) {
	seg := (*FileSegment)(mem.AllocZeroed(unsafe.Sizeof(FileSegment{})))
	if seg == nil {
		return nil, unix.ENOMEM
	}
	seg.refcnt = 1
	seg.fd = int32(fd)
	seg.flags = flags
	seg.fileOffset = offset
	if length == -1 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			mem.Free(unsafe.Pointer(seg))
			return nil, errnoOf(err)
		}
		length = st.Size
	}
	seg.length = length
	if offset < 0 || length < 0 || uint64(length) > uint64(chain.Max) ||
		uint64(offset) > uint64(chain.Max)-uint64(length) {
		mem.Free(unsafe.Pointer(seg))
		return nil, 0
	}
	if flags&FSDisableSendfile == 0 {
		seg.sendfileOK = 1
		return seg, 0
	}
	if e := seg.materialize(); e != 0 || seg.contents == nil {
		mem.Free(unsafe.Pointer(seg))
		return nil, e
	}
	return seg, 0
}

func (seg *FileSegment) lockSeg() {
	for !atomic.CompareAndSwapUint32(&seg.busy, 0, 1) {
		runtime.Gosched()
	}
}

func (seg *FileSegment) unlockSeg() { atomic.StoreUint32(&seg.busy, 0) }

// materialize makes the segment's bytes addressable: mmap unless disabled
// (a failed mmap is logged and falls back), else read into memory with the
// file position restored afterwards. Returns 0 or an errno (possibly 0 when
// the failure was not a system call's, as libevent's -1 without errno).
func (seg *FileSegment) materialize() syscall.Errno {
	if seg.contents != nil {
		return 0
	}
	fd := int(seg.fd)
	if seg.flags&FSDisableMmap == 0 {
		var rounded, leftover int64
		if seg.fileOffset != 0 {
			ps := int64(unix.Getpagesize())
			leftover = seg.fileOffset % ps
			rounded = seg.fileOffset - leftover
		}
		p, err := unix.MmapPtr(fd, rounded, nil, uintptr(seg.length+leftover), unix.PROT_READ, unix.MAP_PRIVATE)
		if err == nil {
			seg.mapping = p
			seg.contents = unsafe.Add(p, leftover)
			seg.isMapping = 1
			return 0
		}
		warn(fmt.Sprintf("evbuffer_file_segment_materialize: mmap(%d, %d, %d) failed: %s",
			fd, 0, seg.fileOffset+seg.length, errnoOf(err).Error()))
	}
	// libevent allocates through mm_malloc, which refuses 0 bytes.
	if seg.length == 0 {
		return 0
	}
	buf := mem.Alloc(uintptr(seg.length))
	if buf == nil {
		return unix.ENOMEM
	}
	start, err := unix.Seek(fd, 0, unix.SEEK_CUR)
	if err != nil {
		mem.Free(buf)
		return errnoOf(err)
	}
	if _, err := unix.Seek(fd, seg.fileOffset, unix.SEEK_SET); err != nil {
		mem.Free(buf)
		return errnoOf(err)
	}
	out := unsafe.Slice((*byte)(buf), seg.length)
	var got int64
	var rerr error
	n := 0
	for got < seg.length {
		n, rerr = unix.Read(fd, out[got:])
		if n <= 0 {
			break
		}
		got += int64(n)
	}
	_, serr := unix.Seek(fd, start, unix.SEEK_SET)
	if rerr != nil || (n == 0 && got < seg.length) {
		mem.Free(buf)
		if rerr != nil {
			return errnoOf(rerr)
		}
		return 0
	}
	if serr != nil {
		mem.Free(buf)
		return errnoOf(serr)
	}
	seg.contents = buf
	return 0
}

// SetCleanup sets the function called (with the segment, its flags and arg)
// when the segment is finally freed (evbuffer_file_segment_add_cleanup_cb).
func (seg *FileSegment) SetCleanup(fn, arg unsafe.Pointer) {
	seg.cleanupFn = fn
	seg.cleanupArg = arg
}

// Free drops one reference (evbuffer_file_segment_free). The last one
// unmaps or frees the bytes, closes the fd if EVBUF_FS_CLOSE_ON_FREE, then
// runs the cleanup callback.
func (seg *FileSegment) Free() {
	if atomic.AddInt32(&seg.refcnt, -1) > 0 {
		return
	}
	if seg.isMapping != 0 {
		leftover := seg.fileOffset % int64(unix.Getpagesize())
		if err := unix.MunmapPtr(seg.mapping, uintptr(seg.length+leftover)); err != nil {
			warn("evbuffer_file_segment_free: munmap failed: " + errnoOf(err).Error())
		}
	} else if seg.contents != nil {
		mem.Free(seg.contents)
	}
	if seg.flags&FSCloseOnFree != 0 && seg.fd >= 0 {
		unix.Close(int(seg.fd))
	}
	if seg.cleanupFn != nil && CallSegmentCleanup != nil {
		fn, arg := seg.cleanupFn, seg.cleanupArg
		seg.cleanupFn, seg.cleanupArg = nil, nil
		CallSegmentCleanup(fn, seg, seg.flags, arg)
	}
	mem.Free(unsafe.Pointer(seg))
}

// AddFileSegment appends length bytes (to the segment's end if negative)
// from offset within seg (evbuffer_add_file_segment). The buffer takes its
// own reference. Buffers flagged drains-to-fd get a sendfile chain;
// others need the bytes, so the segment is materialized first.
//
// As in libevent, failing after the segment was made available drops one
// reference of the caller's (evbuffer_add_file relies on it); failing to
// materialize does not.
func (b *Buffer) AddFileSegment(seg *FileSegment, offset, length int64) (int, syscall.Errno) {
	useSendfile := b.flags&FlagDrainsToFD != 0
	if !useSendfile || seg.sendfileOK == 0 {
		seg.lockSeg()
		e := seg.materialize()
		ok := seg.contents != nil
		seg.unlockSeg()
		if !ok {
			return -1, e
		}
	}
	fail := func() (int, syscall.Errno) {
		seg.Free()
		return -1, 0
	}
	if b.frozenEnd() || offset < 0 {
		return fail()
	}
	if length < 0 {
		if offset > seg.length {
			return fail()
		}
		length = seg.length - offset
	}
	if offset+length > seg.length {
		return fail()
	}
	c := chain.New(unsafe.Sizeof(segExtra{}))
	if c == nil {
		return fail()
	}
	c.Flags |= chain.Immutable | chain.FileSegment
	if useSendfile && seg.sendfileOK != 0 {
		c.Flags |= chain.Sendfile
		c.Misalign = uintptr(seg.fileOffset + offset)
		c.Off = uintptr(length)
		c.BufferLen = c.Misalign + uintptr(length)
	} else {
		c.Buffer = unsafe.Add(seg.contents, offset)
		c.BufferLen = uintptr(length)
		c.Off = uintptr(length)
	}
	atomic.AddInt32(&seg.refcnt, 1)
	(*segExtra)(c.Extra()).seg = seg
	b.nAddForCB += uintptr(length)
	b.insertChain(c)
	b.invokeCallbacks()
	return 0, 0
}

// AddFile appends length bytes (-1: to the end) of fd from offset
// (evbuffer_add_file). The buffer owns fd from then on and closes it when
// done, also when this call fails after the segment was set up.
func (b *Buffer) AddFile(fd int, offset, length int64) (int, syscall.Errno) {
	seg, e := NewFileSegment(fd, offset, length, FSCloseOnFree)
	if seg == nil {
		return -1, e
	}
	r, e := b.AddFileSegment(seg, 0, length)
	if r == 0 {
		seg.Free()
	}
	return r, e
}

// sendfileBytes reads a sendfile chain's bytes for operations that look at
// them (libevent would read garbage there): the segment is materialized on
// first use. If that fails the chain reads as zeros rather than crashing.
func sendfileBytes(c *chain.Chain) []byte {
	if c.Off == 0 {
		return nil
	}
	seg := (*segExtra)(c.Extra()).seg
	seg.lockSeg()
	if seg.contents == nil {
		if seg.materialize(); seg.contents == nil && seg.length > 0 {
			seg.contents = mem.AllocZeroed(uintptr(seg.length))
			warn("evbuffer: cannot read a sendfile file segment; its bytes read as zeros")
		}
	}
	seg.unlockSeg()
	if seg.contents == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(seg.contents, int64(c.Misalign)-seg.fileOffset)), c.Off)
}
