// Package evbuffer is libevent 2.1.12's evbuffer: a byte queue kept as a
// list of chains, with zero-copy moves between buffers, references to user
// memory and files, searching, line reading, fd I/O and change callbacks.
//
// A *Buffer points to an off-heap head whose first fields are the C-visible
// struct ge_evbuffer (capi/goevent.h). C code holds that pointer as the
// struct evbuffer * handle and reads it directly on the fast paths, so the
// head and everything reachable from it live outside the Go heap and hold no
// Go pointers; Go objects (Go callbacks) are reached through integer handles.
//
// Behaviour follows libevent 2.1.12 to the byte: which chain an append goes
// to, when chains are moved instead of copied, how big new chains are, what
// the callbacks are told. Programs observe all of it through evbuffer_peek,
// evbuffer_reserve_space and friends, so the algorithms here mirror
// libevent's decisions one for one; the comments say which rule is kept.
//
// Concurrency: a Buffer is not safe for concurrent use by itself. The C ABI
// takes the buffer's lock (if locking is enabled) around every call; Go
// callers that share a buffer across threads use Lock and Unlock.
package evbuffer

import (
	"structs"
	"unsafe"

	"goevent/core/chain"
	"goevent/core/mem"
)

// Buffer is the evbuffer head. The fields up to lock mirror struct
// ge_evbuffer and are read (and, on the fast paths, written) by C.
type Buffer struct {
	_ structs.HostLayout

	first *chain.Chain
	last  *chain.Chain
	// lastWithData points at the link (&first or some chain's Next) that
	// points at the last chain holding data; at &first when no chain holds
	// data. Appends go to that chain first.
	lastWithData **chain.Chain
	totalLen     uintptr
	// Bytes added/removed since callbacks last ran.
	nAddForCB uintptr
	nDelForCB uintptr
	// slow is nonzero whenever a C fast path would be wrong; its bits say
	// why (slow* constants, see updateSlow).
	slow  uint32
	flags uint32
	lock  unsafe.Pointer
	// idleFlags points at the evcb_flags of the event whose insertion makes
	// the callback flagged cbIdle a no-op (see SetIdleWhileInserted); nil
	// when there is none.
	idleFlags unsafe.Pointer
	// idleHook, when set, is a C function int (*)(void *idleArg) that does
	// what that callback would do after data was added while the event is not
	// inserted, so that the C fast paths may add then too (nonzero: done;
	// zero: the callbacks must run after all).
	idleHook unsafe.Pointer
	idleArg  unsafe.Pointer
	// cbDepth is the nesting of running callback lists, and callbacks the
	// list (most recently added first, as libevent's LIST): C runs the
	// list itself on a buffer whose callbacks are all C functions
	// (slowCCallbacks), with the same removal protocol.
	cbDepth int32
	// maxRead caps one Read (evbuffer_set_max_read); see readCap.
	maxRead   int32
	callbacks *CBEntry

	// ---- Go-private from here on.
	state   uint32 // st* bits
	refcnt  int32
	cbQueue uintptr // event base for deferred callbacks
	parent  uintptr // owning bufferevent, opaque here
	// deferred is the loop's deferred callback ScheduleDeferred made for
	// this buffer's runs (opaque here; FreeDeferred releases it).
	deferred unsafe.Pointer
}

// Bits of slow, mirrored by GE_SLOW_* in capi/goevent.h. The C fast paths
// that change the end test slowCallbacks and slowFrozenEnd, those that change
// the front slowCallbacks and slowFrozenStart; slowIdleWatch lets them run
// as long as the event behind idleFlags is inserted.
const (
	slowCallbacks   uint32 = 1 // callbacks that must hear of every change
	slowFrozenStart uint32 = 2
	slowFrozenEnd   uint32 = 4
	slowIdleWatch   uint32 = 8 // only the cbIdle callback is registered
	// slowCCallbacks: the callbacks are all C functions and the buffer
	// does not defer them; C fast paths that change one buffer may run
	// and then run the list themselves (capi/buffer.c cb_changed).
	slowCCallbacks uint32 = 16
)

const (
	stFreezeStart uint32 = 1 << iota
	stFreezeEnd
	stDeferred  // callbacks run from the event loop
	stScheduled // a deferred run is queued and holds a reference
	stOwnLock   // lock was allocated for this buffer; free it with the buffer
)

// FlagDrainsToFD is EVBUFFER_FLAG_DRAINS_TO_FD: the buffer is only ever
// written to an fd, so files may be added as sendfile chains.
const FlagDrainsToFD uint32 = 1

// Hooks into the C glue. The capi package sets them at init; plain go test
// leaves the lock hooks nil (no locking) and installs fakes for the rest.
var (
	// LockHook and UnlockHook acquire and release a buffer's lock object
	// (recursive). Called only with a non-nil lock.
	LockHook, UnlockHook func(lock unsafe.Pointer)
	// FreeLockHook frees a lock this package allocated via enable_locking
	// when a buffer that outlived evbuffer_free goes away from Go.
	FreeLockHook func(lock unsafe.Pointer)
	// CallCB invokes a C evbuffer_cb_func.
	CallCB func(fn unsafe.Pointer, b *Buffer, info CBInfo, arg unsafe.Pointer)
	// CallObsoleteCB invokes a C evbuffer_cb (buffer_compat.h's evbuffer_setcb).
	CallObsoleteCB func(fn unsafe.Pointer, b *Buffer, oldLen, newLen uintptr, arg unsafe.Pointer)
	// CallRefCleanup invokes an evbuffer_ref_cleanup_cb.
	CallRefCleanup func(fn, data unsafe.Pointer, n uintptr, extra unsafe.Pointer)
	// CallSegmentCleanup invokes an evbuffer_file_segment_cleanup_cb.
	CallSegmentCleanup func(fn unsafe.Pointer, seg *FileSegment, flags uint32, arg unsafe.Pointer)
	// ScheduleDeferred queues b.RunDeferredCallbacks on the event base. It
	// is called at most once until that run happens. When nil, deferred
	// callbacks run immediately (there is no loop to defer to). libevent
	// queues the run at priority npriorities/2 of the base.
	ScheduleDeferred func(base uintptr, b *Buffer)
	// FreeDeferred releases what ScheduleDeferred kept in the buffer
	// (DeferredSlot) when the buffer goes.
	FreeDeferred func(p unsafe.Pointer)
	// ParentIncref and ParentDecref keep a buffer's bufferevent alive while
	// a deferred callback run is queued, as libevent does.
	ParentIncref, ParentDecref func(parent uintptr)
	// Warn logs one warning line (libevent's event_warn path).
	Warn func(msg string)
)

func warn(msg string) {
	if Warn != nil {
		Warn(msg)
	}
}

// New allocates an empty buffer. It returns nil if memory is exhausted.
func New() *Buffer {
	p := mem.Alloc(Size)
	if p == nil {
		return nil
	}
	return NewAt(p)
}

// Size is the size of a buffer's head, for owners that allocate it with
// other blocks (mem.AllocMany) and make the buffer with NewAt.
const Size = unsafe.Sizeof(Buffer{})

// NewAt makes an empty buffer in p, Size bytes from core/mem (not
// necessarily zeroed); Free releases p.
func NewAt(p unsafe.Pointer) *Buffer {
	clear(unsafe.Slice((*byte)(p), Size))
	b := (*Buffer)(p)
	b.refcnt = 1
	b.lastWithData = &b.first
	b.maxRead = defaultMaxRead
	return b
}

// FromPointer converts a struct evbuffer * handed over by C.
func FromPointer(p unsafe.Pointer) *Buffer { return (*Buffer)(p) }

// Pointer is the struct evbuffer * handle for C.
func (b *Buffer) Pointer() unsafe.Pointer { return unsafe.Pointer(b) }

// Free drops the caller's reference (evbuffer_free). The buffer and its
// chains are released once no multicast chain of another buffer and no
// queued deferred run still refers to it; callbacks are removed then too.
// The caller must hold the buffer's lock if locking is enabled (the C ABI
// does); freeLock reports that the buffer is gone and its own lock, which
// the caller must release and then free, goes with it.
func (b *Buffer) Free() (freeLock bool) { return b.decref() }

// Incref adds a reference that keeps the buffer alive past Free.
func (b *Buffer) Incref() { b.refcnt++ }

// Decref drops a reference taken with Incref. Like Free, the caller holds the
// lock; when freeLock is true the buffer is gone and the caller releases and
// frees its lock.
func (b *Buffer) Decref() (freeLock bool) { return b.decref() }

// Destroy is Free for Go callers that do not hold the buffer's lock: it
// takes the lock, drops the reference, then releases the lock and frees it
// if the buffer owned it and is gone (what evbuffer_free does in C).
func (b *Buffer) Destroy() {
	b.Lock()
	b.decrefAndUnlock()
}

// decrefAndUnlock drops a reference with the lock held, then releases the
// lock, freeing it too if it belonged to a buffer that is now gone.
func (b *Buffer) decrefAndUnlock() {
	lk := b.lock
	own := b.decref()
	if lk != nil && UnlockHook != nil {
		UnlockHook(lk)
	}
	if own && FreeLockHook != nil {
		FreeLockHook(lk)
	}
}

func (b *Buffer) decref() bool {
	var batch mem.Batch
	own := b.decrefInto(&batch)
	batch.Flush()
	return own
}

// FreeInto is Free for an owner that frees several objects at once: the
// buffer's head and callback entries go into batch (released when the
// caller flushes it), its chains are released now.
func (b *Buffer) FreeInto(batch *mem.Batch) (freeLock bool) { return b.decrefInto(batch) }

func (b *Buffer) decrefInto(batch *mem.Batch) bool {
	b.refcnt--
	if b.refcnt > 0 {
		return false
	}
	freeChains(b.first)
	for e := b.callbacks; e != nil; {
		next := e.next
		batch.Add(unsafe.Pointer(e))
		e = next
	}
	own := b.state&stOwnLock != 0
	if b.deferred != nil && FreeDeferred != nil {
		FreeDeferred(b.deferred)
	}
	batch.Add(unsafe.Pointer(b))
	return own
}

// DeferredSlot and SetDeferredSlot keep ScheduleDeferred's deferred
// callback for this buffer, so that it is made once per buffer, lives in
// the buffer's own memory and goes with it.
func (b *Buffer) DeferredSlot() unsafe.Pointer     { return b.deferred }
func (b *Buffer) SetDeferredSlot(p unsafe.Pointer) { b.deferred = p }

// Lock acquires the buffer's lock if locking is enabled; for Go code that
// shares a buffer with other threads (bufferevents).
func (b *Buffer) Lock() {
	if b.lock != nil && LockHook != nil {
		LockHook(b.lock)
	}
}

// Unlock releases what Lock acquired.
func (b *Buffer) Unlock() {
	if b.lock != nil && UnlockHook != nil {
		UnlockHook(b.lock)
	}
}

// EnableLocking attaches a lock object (evbuffer_enable_locking); own says
// the buffer frees it. It fails when a lock is already set.
func (b *Buffer) EnableLocking(lock unsafe.Pointer, own bool) int {
	if b.lock != nil || lock == nil {
		return -1
	}
	b.lock = lock
	if own {
		b.state |= stOwnLock
	}
	return 0
}

// LockObject is the lock set by EnableLocking, or nil.
func (b *Buffer) LockObject() unsafe.Pointer { return b.lock }

// Len is the number of bytes stored (evbuffer_get_length).
func (b *Buffer) Len() int { return int(b.totalLen) }

// ContiguousSpace is how many bytes can be read from the front without a
// pullup (evbuffer_get_contiguous_space): the first chain's data.
func (b *Buffer) ContiguousSpace() int {
	if b.first == nil {
		return 0
	}
	return int(b.first.Off)
}

// SetFlags ORs EVBUFFER_FLAG_* bits in (evbuffer_set_flags; only the low 32
// bits matter, as in libevent).
func (b *Buffer) SetFlags(f uint64) int { b.flags |= uint32(f); return 0 }

// ClearFlags clears EVBUFFER_FLAG_* bits (evbuffer_clear_flags).
func (b *Buffer) ClearFlags(f uint64) int { b.flags &^= uint32(f); return 0 }

// Flags reports the EVBUFFER_FLAG_* bits.
func (b *Buffer) Flags() uint32 { return b.flags }

// Freeze forbids changes to the front (start) or end of the buffer
// (evbuffer_freeze); operations touching that end then fail.
func (b *Buffer) Freeze(start bool) int {
	if start {
		b.state |= stFreezeStart
	} else {
		b.state |= stFreezeEnd
	}
	b.updateSlow()
	return 0
}

// Unfreeze undoes Freeze (evbuffer_unfreeze).
func (b *Buffer) Unfreeze(start bool) int {
	if start {
		b.state &^= stFreezeStart
	} else {
		b.state &^= stFreezeEnd
	}
	b.updateSlow()
	return 0
}

func (b *Buffer) frozenStart() bool { return b.state&stFreezeStart != 0 }
func (b *Buffer) frozenEnd() bool   { return b.state&stFreezeEnd != 0 }

// SetParent records the bufferevent that owns the buffer (an opaque handle
// passed to ParentIncref/ParentDecref).
func (b *Buffer) SetParent(parent uintptr) { b.parent = parent }

// updateSlow recomputes the flags that send the C fast paths to Go. They
// skip callback bookkeeping and freeze checks, so a callback, or a freeze of
// the end they change, makes them wrong; the chain conditions they need
// (room in the append chain, plain chains for a full drain) they check
// themselves. Callbacks that are all disabled do not count on a buffer
// that does not defer: their run would only clear the counts, which the
// fast paths do. The one exception is a buffer whose only enabled callback
// flagged cbIdle on a buffer that does not defer: while the event behind
// idleFlags is inserted that callback would do nothing, so C may skip it
// and clear the counts, which is all its run would have changed.
func (b *Buffer) updateSlow() {
	var s uint32
	if b.callbacks != nil {
		live, idleOnly, allC := 0, true, true
		for e := b.callbacks; e != nil; e = e.next {
			if e.flags&cbGo != 0 {
				allC = false
			}
			if e.flags&CBEnabled != 0 {
				live++
				idleOnly = idleOnly && e.flags&cbIdle != 0
			}
		}
		switch {
		case b.state&stDeferred != 0:
			s |= slowCallbacks
		case live == 0:
		case idleOnly:
			s |= slowIdleWatch
		case allC:
			s |= slowCCallbacks
		default:
			s |= slowCallbacks
		}
	}
	if b.state&stFreezeStart != 0 {
		s |= slowFrozenStart
	}
	if b.state&stFreezeEnd != 0 {
		s |= slowFrozenEnd
	}
	b.slow = s
}

// ---- chain list maintenance ---------------------------------------------

// freeChain drops one reference to a chain and releases it when none is
// left, running whatever cleanup its kind requires: the reference's cleanup
// callback, the file segment's release, or the multicast parent's release.
// A pinned chain is only marked dangling; unpinning frees it. The memory
// itself goes to rel (released in one batch by its owner) when rel is set.
func freeChain(c *chain.Chain, rel *releaser) {
	c.Refcnt--
	if c.Refcnt > 0 {
		return
	}
	if c.Pinned() {
		c.Refcnt++
		c.Flags |= chain.Dangling
		return
	}
	if c.Flags&chain.Reference != 0 {
		r := (*refExtra)(c.Extra())
		if r.cleanup != nil && CallRefCleanup != nil {
			CallRefCleanup(r.cleanup, c.Buffer, c.BufferLen, r.extra)
		}
	}
	if c.Flags&chain.FileSegment != 0 {
		if seg := (*segExtra)(c.Extra()).seg; seg != nil {
			seg.Free()
		}
	}
	if c.Flags&chain.Multicast != 0 {
		// The parent chain and its buffer were referenced when this
		// chain was made; drop both under the source buffer's lock.
		m := (*multicastExtra)(c.Extra())
		src := m.source
		src.Lock()
		freeChain(m.parent, rel)
		src.decrefAndUnlock()
	}
	if rel != nil {
		rel.add(c)
	} else {
		c.Release()
	}
}

// freeChains frees a list of chains (each as freeChain does).
func freeChains(c *chain.Chain) {
	var rel releaser
	for c != nil {
		next := c.Next
		freeChain(c, &rel)
		c = next
	}
	rel.flush()
}

// ReleaseChains, when set, returns a list of chains linked through Next to
// the allocator in one call. The C glue sets it so that freeing many chains
// costs one crossing instead of one per chain; by then the chains need no
// cleanup, only their memory released.
var ReleaseChains func(head *chain.Chain)

// releaser collects chains whose memory is to be released together.
type releaser struct{ head *chain.Chain }

func (r *releaser) add(c *chain.Chain) {
	c.Next = r.head
	r.head = c
}

func (r *releaser) flush() {
	if r.head == nil {
		return
	}
	if ReleaseChains != nil {
		ReleaseChains(r.head)
	} else {
		for c := r.head; c != nil; {
			next := c.Next
			c.Release()
			c = next
		}
	}
	r.head = nil
}

// Pin marks a chain as having outstanding pointers into it (libevent's
// evbuffer_chain_pin_): it will not be moved, realigned or freed until
// Unpin. Used by I/O that runs while the buffer is unlocked.
func Pin(c *chain.Chain, flag uint32) { c.Flags |= flag }

// Unpin undoes Pin, freeing the chain if it was released meanwhile.
func Unpin(c *chain.Chain, flag uint32) {
	c.Flags &^= flag
	if c.Flags&chain.Dangling != 0 {
		freeChain(c, nil)
	}
}

// Bookkeeping stored in a chain's extra area.
type refExtra struct {
	_       structs.HostLayout
	cleanup unsafe.Pointer // evbuffer_ref_cleanup_cb
	extra   unsafe.Pointer
}

type segExtra struct {
	_   structs.HostLayout
	seg *FileSegment
}

type multicastExtra struct {
	_      structs.HostLayout
	source *Buffer      // buffer holding the parent; referenced
	parent *chain.Chain // chain whose storage is shared; referenced
}

// zeroChains forgets all chains (after they were moved or freed).
func (b *Buffer) zeroChains() {
	b.first = nil
	b.last = nil
	b.lastWithData = &b.first
	b.totalLen = 0
}

// freeTrailingEmpty frees the empty, unpinned chains after the last chain
// with data (they would only be replaced) and returns the link where a new
// chain goes. The caller fixes b.last.
func (b *Buffer) freeTrailingEmpty() **chain.Chain {
	ch := b.lastWithData
	for *ch != nil && ((*ch).Off != 0 || (*ch).Pinned()) {
		ch = &(*ch).Next
	}
	if *ch != nil {
		freeChains(*ch)
		*ch = nil
	}
	return ch
}

// insertChain appends c, dropping trailing empty chains first. It does not
// run callbacks.
func (b *Buffer) insertChain(c *chain.Chain) {
	if *b.lastWithData == nil {
		b.first = c
		b.last = c
	} else {
		chp := b.freeTrailingEmpty()
		*chp = c
		if c.Off != 0 {
			b.lastWithData = chp
		}
		b.last = c
	}
	b.totalLen += c.Off
}

func (b *Buffer) insertNewChain(datlen uintptr) *chain.Chain {
	c := chain.New(datlen)
	if c == nil {
		return nil
	}
	b.insertChain(c)
	return c
}

// advanceLastWithData moves lastWithData forward to the last chain that has
// data, after data was written into chains past it.
func (b *Buffer) advanceLastWithData() {
	chp := b.lastWithData
	if *chp == nil {
		return
	}
	for (*chp).Next != nil {
		chp = &(*chp).Next
		if (*chp).Off != 0 {
			b.lastWithData = chp
		}
	}
}

func (b *Buffer) hasPinnedR() bool { return b.last != nil && b.last.PinnedRead() }
