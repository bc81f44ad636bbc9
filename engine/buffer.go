package main

// buffer.go: the Go half of event2/buffer.h and event2/buffer_compat.h. The
// public functions are in buffer.c; they check arguments, take the buffer
// locks and run the trivial fast paths, and call these goev_evbuffer_*
// exports for everything else. Each export is one crossing and does one
// libevent call's work on core/evbuffer.

/*
#include "engine.h"
*/
import "C"

import (
	"math"
	"syscall"
	"unsafe"

	"goevent/core/chain"
	"goevent/core/evbuffer"
)

func setupBuffers() {
	// writev from C, so that SIGPIPE acts as under libevent (buffer.c).
	C.ge_buffer_note_sigpipe()
	evbuffer.WritevHook = func(fd int, iov unsafe.Pointer, n int) (int, syscall.Errno) {
		r, err := C.ge_writev(C.int(fd), iov, C.int(n))
		if r < 0 {
			if en, ok := err.(syscall.Errno); ok {
				return -1, en
			}
			return -1, syscall.EIO
		}
		return int(r), 0
	}
	evbuffer.LockHook = func(l unsafe.Pointer) { C.ge_lock_acquire(l) }
	evbuffer.UnlockHook = func(l unsafe.Pointer) { C.ge_lock_release(l) }
	// EVTHREAD_LOCKTYPE_RECURSIVE: buffers allocate recursive locks.
	evbuffer.FreeLockHook = func(l unsafe.Pointer) { C.ge_lock_free(l, 1) }
	evbuffer.CallCB = func(fn unsafe.Pointer, b *evbuffer.Buffer, info evbuffer.CBInfo, arg unsafe.Pointer) {
		C.ge_buffer_run_cb(fn, b.Pointer(), C.size_t(info.OrigSize), C.size_t(info.NAdded),
			C.size_t(info.NDeleted), arg)
	}
	evbuffer.CallObsoleteCB = func(fn unsafe.Pointer, b *evbuffer.Buffer, oldLen, newLen uintptr, arg unsafe.Pointer) {
		C.ge_buffer_run_obsolete_cb(fn, b.Pointer(), C.size_t(oldLen), C.size_t(newLen), arg)
	}
	evbuffer.CallRefCleanup = func(fn, data unsafe.Pointer, n uintptr, extra unsafe.Pointer) {
		C.ge_buffer_run_ref_cleanup(fn, data, C.size_t(n), extra)
	}
	evbuffer.CallSegmentCleanup = func(fn unsafe.Pointer, seg *evbuffer.FileSegment, flags uint32, arg unsafe.Pointer) {
		C.ge_buffer_run_seg_cleanup(fn, unsafe.Pointer(seg), C.int(flags), arg)
	}
	evbuffer.ReleaseChains = func(head *chain.Chain) { C.ge_buffer_release_chains(unsafe.Pointer(head)) }
	evbuffer.Warn = func(msg string) {
		cs := C.CString(msg)
		C.ge_log_str(C.GE_LOG_WARN, cs)
		C.free(unsafe.Pointer(cs))
	}
}

func buf(p unsafe.Pointer) *evbuffer.Buffer { return evbuffer.FromPointer(p) }

// goev_evbuffer_changed runs p's callbacks for the change a C fast path
// made and recorded in the head's counts (when an idle hook declined).
//
// goev_evbuffer_sweep unlinks the callbacks removed during a run of the
// list made by C.
//
//export goev_evbuffer_sweep
func goev_evbuffer_sweep(p unsafe.Pointer) {
	if b := buf(p); b != nil {
		b.SweepRemoved()
	}
}

//export goev_evbuffer_changed
func goev_evbuffer_changed(p unsafe.Pointer) {
	if b := buf(p); b != nil {
		b.ChangedOutside(1)
	}
}

// bytesAt views C memory as a slice (nil for an empty extent). Callers keep
// n within what a Go slice may describe (see maxSlice).
func bytesAt(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}

// maxSlice bounds lengths turned into slices: far beyond any real
// allocation (where libevent fails for lack of memory anyway) and within
// what Go accepts.
const maxSlice = 1 << 46

func setErr(errp *C.int, e syscall.Errno) {
	if errp != nil {
		*errp = C.int(e)
	}
}

func iovecs(p unsafe.Pointer, n C.int) []evbuffer.IOVec {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*evbuffer.IOVec)(p), int(n))
}

func ptrArg(p unsafe.Pointer) *evbuffer.Ptr { return (*evbuffer.Ptr)(p) }

//export goev_evbuffer_new
func goev_evbuffer_new() unsafe.Pointer {
	b := evbuffer.New()
	if b == nil {
		return nil
	}
	return b.Pointer()
}

// goev_evbuffer_free drops the caller's reference; 1 means the buffer is
// gone and the caller must release and free its own lock.
//
//export goev_evbuffer_free
func goev_evbuffer_free(b unsafe.Pointer) C.int {
	if buf(b).Free() {
		return 1
	}
	return 0
}

//export goev_evbuffer_enable_locking
func goev_evbuffer_enable_locking(b, lock unsafe.Pointer, own C.int) C.int {
	return C.int(buf(b).EnableLocking(lock, own != 0))
}

//export goev_evbuffer_freeze
func goev_evbuffer_freeze(b unsafe.Pointer, start C.int, freeze C.int) C.int {
	if freeze != 0 {
		return C.int(buf(b).Freeze(start != 0))
	}
	return C.int(buf(b).Unfreeze(start != 0))
}

// The C side rejects lengths above maxSlice for add and prepend: libevent
// fails those too, for lack of memory.

//export goev_evbuffer_add
func goev_evbuffer_add(b, data unsafe.Pointer, n C.size_t) C.int {
	return C.int(buf(b).Add(bytesAt(data, n)))
}

//export goev_evbuffer_prepend
func goev_evbuffer_prepend(b, data unsafe.Pointer, n C.size_t) C.int {
	return C.int(buf(b).Prepend(bytesAt(data, n)))
}

//export goev_evbuffer_drain
func goev_evbuffer_drain(b unsafe.Pointer, n C.size_t) C.int {
	return C.int(buf(b).Drain(uintptr(n)))
}

// Copies never move more than the buffer holds, so the destination is
// clamped to that before it becomes a slice.

//export goev_evbuffer_remove
func goev_evbuffer_remove(b, data unsafe.Pointer, n C.size_t) C.int {
	bb := buf(b)
	n = min(n, C.size_t(bb.Len()))
	return C.int(bb.Remove(bytesAt(data, n)))
}

//export goev_evbuffer_copyout_from
func goev_evbuffer_copyout_from(b, pos, data unsafe.Pointer, n C.size_t) C.ssize_t {
	bb, p := buf(b), ptrArg(pos)
	if p != nil && p.Pos >= 0 && uint64(n) > uint64(math.MaxInt64-p.Pos) {
		return -1 // libevent checks this before clamping
	}
	n = min(n, C.size_t(bb.Len()))
	return C.ssize_t(bb.CopyOutFrom(p, bytesAt(data, n)))
}

//export goev_evbuffer_remove_buffer
func goev_evbuffer_remove_buffer(src, dst unsafe.Pointer, n C.size_t) C.int {
	return C.int(buf(src).RemoveBuffer(buf(dst), uintptr(n)))
}

//export goev_evbuffer_add_buffer
func goev_evbuffer_add_buffer(out, in unsafe.Pointer) C.int {
	return C.int(buf(out).AddBuffer(buf(in)))
}

//export goev_evbuffer_prepend_buffer
func goev_evbuffer_prepend_buffer(out, in unsafe.Pointer) C.int {
	return C.int(buf(out).PrependBuffer(buf(in)))
}

//export goev_evbuffer_add_buffer_reference
func goev_evbuffer_add_buffer_reference(out, in unsafe.Pointer) C.int {
	return C.int(buf(out).AddBufferReference(buf(in)))
}

//export goev_evbuffer_add_reference
func goev_evbuffer_add_reference(b, data unsafe.Pointer, n C.size_t, fn, extra unsafe.Pointer) C.int {
	return C.int(buf(b).AddReference(data, uintptr(n), fn, extra))
}

//export goev_evbuffer_add_iovec
func goev_evbuffer_add_iovec(b, vec unsafe.Pointer, n C.int) C.size_t {
	return C.size_t(buf(b).AddIovec(iovecs(vec, n)))
}

// goev_evbuffer_add_printf appends n bytes formatted by the C caller (n < 0:
// the format failed).
//
//export goev_evbuffer_add_printf
func goev_evbuffer_add_printf(b unsafe.Pointer, text *C.char, n C.int) C.int {
	var s []byte
	if n > 0 {
		s = unsafe.Slice((*byte)(unsafe.Pointer(text)), int(n))
	}
	return C.int(buf(b).AddFormatted(s, int(n)))
}

//export goev_evbuffer_expand
func goev_evbuffer_expand(b unsafe.Pointer, n C.size_t) C.int {
	return C.int(buf(b).Expand(uintptr(n)))
}

//export goev_evbuffer_reserve_space
func goev_evbuffer_reserve_space(b unsafe.Pointer, size C.ssize_t, vec unsafe.Pointer, n C.int) C.int {
	return C.int(buf(b).ReserveSpace(int64(size), iovecs(vec, n)))
}

//export goev_evbuffer_commit_space
func goev_evbuffer_commit_space(b, vec unsafe.Pointer, n C.int) C.int {
	if n < 0 {
		return C.int(buf(b).CommitSpaceNegative())
	}
	return C.int(buf(b).CommitSpace(iovecs(vec, n)))
}

//export goev_evbuffer_pullup
func goev_evbuffer_pullup(b unsafe.Pointer, size C.ssize_t) unsafe.Pointer {
	return buf(b).Pullup(int64(size))
}

//export goev_evbuffer_readln
func goev_evbuffer_readln(b unsafe.Pointer, nOut *C.size_t, style C.int) *C.char {
	line, n, ok := buf(b).ReadLn(int(style))
	if nOut != nil {
		*nOut = 0
		if ok {
			*nOut = C.size_t(n)
		}
	}
	return (*C.char)(line)
}

//export goev_evbuffer_find
func goev_evbuffer_find(b, what unsafe.Pointer, n C.size_t) unsafe.Pointer {
	bb := buf(b)
	if uint64(n) > uint64(bb.Len()) {
		return nil // cannot match
	}
	return bb.Find(bytesAt(what, n))
}

//export goev_evbuffer_search_range
func goev_evbuffer_search_range(b, what unsafe.Pointer, n C.size_t, start, end, out unsafe.Pointer) {
	bb := buf(b)
	switch {
	case uint64(n) > math.MaxInt64:
		// libevent answers as for an empty pattern: the start position.
		n = 0
	case uint64(n) > uint64(bb.Len()):
		// Longer than the data: no match (libevent scans, then fails).
		*ptrArg(out) = evbuffer.Ptr{Pos: -1}
		return
	}
	*ptrArg(out) = bb.SearchRange(bytesAt(what, n), ptrArg(start), ptrArg(end))
}

//export goev_evbuffer_search_eol
func goev_evbuffer_search_eol(b, start unsafe.Pointer, eolLen *C.size_t, style C.int, out unsafe.Pointer) {
	p, n := buf(b).SearchEOL(ptrArg(start), int(style))
	*ptrArg(out) = p
	if eolLen != nil {
		*eolLen = C.size_t(n)
	}
}

//export goev_evbuffer_ptr_set
func goev_evbuffer_ptr_set(b, pos unsafe.Pointer, position C.size_t, how C.int) C.int {
	return C.int(buf(b).PtrSet(ptrArg(pos), uintptr(position), int(how)))
}

//export goev_evbuffer_peek
func goev_evbuffer_peek(b unsafe.Pointer, length C.ssize_t, start, vec unsafe.Pointer, n C.int) C.int {
	return C.int(buf(b).PeekN(int64(length), ptrArg(start), iovecs(vec, n), int(n)))
}

//export goev_evbuffer_read
func goev_evbuffer_read(b unsafe.Pointer, fd C.int, howmuch C.int, errp *C.int) C.int {
	n, e := buf(b).Read(int(fd), int(howmuch))
	setErr(errp, e)
	return C.int(n)
}

//export goev_evbuffer_write_atmost
func goev_evbuffer_write_atmost(b unsafe.Pointer, fd C.int, howmuch C.ssize_t, errp *C.int) C.int {
	n, e := buf(b).WriteAtMost(int(fd), int64(howmuch))
	setErr(errp, e)
	return C.int(n)
}

//export goev_evbuffer_add_file
func goev_evbuffer_add_file(b unsafe.Pointer, fd C.int, offset, length C.int64_t, errp *C.int) C.int {
	r, e := buf(b).AddFile(int(fd), int64(offset), int64(length))
	setErr(errp, e)
	return C.int(r)
}

//export goev_evbuffer_file_segment_new
func goev_evbuffer_file_segment_new(fd C.int, offset, length C.int64_t, flags C.uint, errp *C.int) unsafe.Pointer {
	seg, e := evbuffer.NewFileSegment(int(fd), int64(offset), int64(length), uint32(flags))
	setErr(errp, e)
	return unsafe.Pointer(seg)
}

//export goev_evbuffer_file_segment_free
func goev_evbuffer_file_segment_free(seg unsafe.Pointer) {
	evbuffer.FileSegmentFromPointer(seg).Free()
}

//export goev_evbuffer_file_segment_add_cleanup_cb
func goev_evbuffer_file_segment_add_cleanup_cb(seg, fn, arg unsafe.Pointer) {
	evbuffer.FileSegmentFromPointer(seg).SetCleanup(fn, arg)
}

//export goev_evbuffer_add_file_segment
func goev_evbuffer_add_file_segment(b, seg unsafe.Pointer, offset, length C.int64_t, errp *C.int) C.int {
	r, e := buf(b).AddFileSegment(evbuffer.FileSegmentFromPointer(seg), int64(offset), int64(length))
	setErr(errp, e)
	return C.int(r)
}

//export goev_evbuffer_add_cb
func goev_evbuffer_add_cb(b, fn, arg unsafe.Pointer) unsafe.Pointer {
	return unsafe.Pointer(buf(b).AddCB(fn, arg))
}

//export goev_evbuffer_remove_cb_entry
func goev_evbuffer_remove_cb_entry(b, ent unsafe.Pointer) C.int {
	return C.int(buf(b).RemoveCBEntry(evbuffer.CBEntryFromPointer(ent)))
}

//export goev_evbuffer_remove_cb
func goev_evbuffer_remove_cb(b, fn, arg unsafe.Pointer) C.int {
	return C.int(buf(b).RemoveCB(fn, arg))
}

//export goev_evbuffer_cb_flags
func goev_evbuffer_cb_flags(b, ent unsafe.Pointer, flags C.uint32_t, set C.int) C.int {
	e := evbuffer.CBEntryFromPointer(ent)
	if set != 0 {
		return C.int(buf(b).CBSetFlags(e, uint32(flags)))
	}
	return C.int(buf(b).CBClearFlags(e, uint32(flags)))
}

//export goev_evbuffer_setcb
func goev_evbuffer_setcb(b, fn, arg unsafe.Pointer) C.int {
	return C.int(buf(b).SetCB(fn, arg))
}

//export goev_evbuffer_defer_callbacks
func goev_evbuffer_defer_callbacks(b, base unsafe.Pointer) C.int {
	return C.int(buf(b).DeferCallbacks(uintptr(base)))
}
