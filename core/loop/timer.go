package loop

import (
	"unsafe"

	"goevent/core/mem"
)

// Timers live in a binary min-heap ordered by deadline. The sift operations
// follow libevent's minheap exactly (including how equal deadlines are
// ordered), because programs observe the firing order of timers that share a
// deadline, which is common with a coarse clock.

func (b *Base) heapGreater(x, y *Event) bool { return tvLess(y.Timeout, x.Timeout) }

// The heap's array is off-heap memory named by the base header (Heap,
// HeapLen, HeapCap), because the C fast paths of event_add and event_del
// push and erase timers on a base without a lock (capi/event.c mirrors these
// functions exactly, so both sides build the same heap).

// heapArr is the heap as a slice of its HeapLen entries.
func (b *Base) heapArr() []*Event {
	if b.hdr.Heap == nil {
		return nil
	}
	return unsafe.Slice((**Event)(b.hdr.Heap), b.hdr.HeapCap)[:b.hdr.HeapLen]
}

// heapReserve makes room for one more timer: false if memory ran out
// (event_add then fails, as libevent's min_heap_reserve makes it).
func (b *Base) heapReserve() bool {
	if b.hdr.HeapLen < b.hdr.HeapCap {
		return true
	}
	n := max(8, 2*b.hdr.HeapCap)
	p := mem.Alloc(uintptr(n) * unsafe.Sizeof((*Event)(nil)))
	if p == nil {
		return false
	}
	copy(unsafe.Slice((**Event)(p), n), b.heapArr())
	mem.Free(b.hdr.Heap)
	b.hdr.Heap = p
	b.hdr.HeapCap = n
	return true
}

func (b *Base) heapFree() {
	mem.Free(b.hdr.Heap)
	b.hdr.Heap, b.hdr.HeapLen, b.hdr.HeapCap = nil, 0, 0
}

// heapPush needs room reserved with heapReserve.
func (b *Base) heapPush(ev *Event) {
	b.hdr.HeapLen++
	b.heapShiftUp(b.hdr.HeapLen-1, ev)
}

func (b *Base) heapTop() *Event {
	if b.hdr.HeapLen == 0 {
		return nil
	}
	return b.heapArr()[0]
}

func (b *Base) heapErase(ev *Event) {
	idx := ev.heapIdx()
	if idx < 0 {
		return
	}
	n := b.hdr.HeapLen - 1
	h := b.heapArr()
	last := h[n]
	h[n] = nil
	b.hdr.HeapLen = n
	if last != ev {
		parent := (idx - 1) / 2
		if idx > 0 && b.heapGreater(h[parent], last) {
			b.heapShiftUpUnconditional(idx, last)
		} else {
			b.heapShiftDown(idx, last)
		}
	}
	ev.setHeapIdx(-1)
}

func (b *Base) heapShiftUpUnconditional(hole int, ev *Event) {
	h := b.heapArr()
	parent := (hole - 1) / 2
	for {
		h[hole] = h[parent]
		h[hole].setHeapIdx(hole)
		hole = parent
		parent = (hole - 1) / 2
		if hole == 0 || !b.heapGreater(h[parent], ev) {
			break
		}
	}
	h[hole] = ev
	ev.setHeapIdx(hole)
}

func (b *Base) heapShiftUp(hole int, ev *Event) {
	h := b.heapArr()
	for hole > 0 {
		parent := (hole - 1) / 2
		if !b.heapGreater(h[parent], ev) {
			break
		}
		h[hole] = h[parent]
		h[hole].setHeapIdx(hole)
		hole = parent
	}
	h[hole] = ev
	ev.setHeapIdx(hole)
}

func (b *Base) heapShiftDown(hole int, ev *Event) {
	h := b.heapArr()
	n := len(h)
	minChild := 2 * (hole + 1)
	for minChild <= n {
		if minChild == n || b.heapGreater(h[minChild], h[minChild-1]) {
			minChild--
		}
		if !b.heapGreater(ev, h[minChild]) {
			break
		}
		h[hole] = h[minChild]
		h[hole].setHeapIdx(hole)
		hole = minChild
		minChild = 2 * (hole + 1)
	}
	h[hole] = ev
	ev.setHeapIdx(hole)
}

// ---- common timeouts -----------------------------------------------------

// A common timeout is a duration that many events share; events waiting on
// it sit in a FIFO queue instead of the heap, and only the queue's head has
// a heap entry (the queue's internal event). The duration handed back to the
// caller marks itself in tv_usec's unused top bits: 4 bits of magic and 8 of
// queue index, as libevent encodes it, since programs pass that timeval back
// to event_add.
const (
	usecMask        = 0x000fffff
	commonIdxMask   = 0x0ff00000
	commonIdxShift  = 20
	commonMask      = 0xf0000000
	commonMagic     = 0x50000000
	maxCommonTimers = 256
)

func (b *Base) isCommon(tv Timeval) bool {
	if tv.Usec&commonMask != commonMagic {
		return false
	}
	return int((tv.Usec&commonIdxMask)>>commonIdxShift) < b.ncommon
}

func (b *Base) commonFor(tv Timeval) *commonTimeout {
	if !b.isCommon(tv) {
		return nil
	}
	return b.common[(tv.Usec&commonIdxMask)>>commonIdxShift]
}

func (c *commonTimeout) insertInOrder(ev *Event) {
	for e := c.events.tail; e != nil; e = e.tprev {
		if !tvLess(ev.Timeout, e.Timeout) {
			// insert after e
			ev.tprev = e
			ev.tnext = e.tnext
			if e.tnext != nil {
				e.tnext.tprev = ev
			} else {
				c.events.tail = ev
			}
			e.tnext = ev
			return
		}
	}
	ev.tprev = nil
	ev.tnext = c.events.head
	if c.events.head != nil {
		c.events.head.tprev = ev
	} else {
		c.events.tail = ev
	}
	c.events.head = ev
}

func (c *commonTimeout) remove(ev *Event) {
	if ev.tprev != nil {
		ev.tprev.tnext = ev.tnext
	} else {
		c.events.head = ev.tnext
	}
	if ev.tnext != nil {
		ev.tnext.tprev = ev.tprev
	} else {
		c.events.tail = ev.tprev
	}
	ev.tnext, ev.tprev = nil, nil
}

// schedule arms the queue's internal event for the deadline of its head.
func (b *Base) commonSchedule(c *commonTimeout, head *Event) {
	tv := head.Timeout
	tv.Usec &= usecMask
	_, _ = b.addLocked(&c.ev, &tv, true)
}

func commonTimeoutFn(fd int32, what int16, arg unsafe.Pointer) {
	c := (*commonTimeout)(arg)
	b := FromPtr(c.base)
	if b == nil {
		return
	}
	b.lock()
	now := b.gettime()
	var ev *Event
	for {
		ev = c.events.head
		if ev == nil || ev.Timeout.Sec > now.Sec ||
			(ev.Timeout.Sec == now.Sec && ev.Timeout.Usec&usecMask > now.Usec) {
			break
		}
		b.delLocked(ev, DelNoBlock)
		b.activeLocked(ev, EvTimeout, 1)
	}
	if ev != nil {
		b.commonSchedule(c, ev)
	}
	b.unlock()
}

// InitCommonTimeout is event_base_init_common_timeout. The returned timeval
// lives as long as the base; nil means the base has no room for another.
func (b *Base) InitCommonTimeout(d Timeval) *Timeval {
	b.lock()
	defer b.unlock()
	if d.Usec > 1000000 {
		if b.isCommon(d) {
			d.Usec &= usecMask
		}
		d.Sec += d.Usec / 1000000
		d.Usec %= 1000000
	}
	for _, c := range b.common[:b.ncommon] {
		if d.Sec == c.duration.Sec && d.Usec == c.duration.Usec&usecMask {
			return &c.duration
		}
	}
	if b.ncommon == maxCommonTimers {
		logf(LogWarn, "event_base_init_common_timeout: Too many common timeouts already in use; we only support %d per event_base", maxCommonTimers)
		return nil
	}
	c := (*commonTimeout)(mem.AllocZeroed(unsafe.Sizeof(commonTimeout{})))
	if c == nil {
		logf(LogWarn, "event_base_init_common_timeout: calloc")
		return nil
	}
	c.duration.Sec = d.Sec
	c.duration.Usec = d.Usec | commonMagic | int64(b.ncommon)<<commonIdxShift
	c.base = b.Ptr()
	b.assignLocked(&c.ev, -1, 0, commonTimeoutCb, unsafe.Pointer(c))
	c.ev.Cb.Flags |= ListInternal
	c.ev.Cb.Pri = 0
	b.common[b.ncommon] = c
	b.ncommon++
	return &c.duration
}

// timeoutNext computes how long the backend may wait: nil for "no timers".
func (b *Base) timeoutNext() *Timeval {
	ev := b.heapTop()
	if ev == nil {
		return nil
	}
	now := b.gettime()
	if !tvLess(now, ev.Timeout) {
		return &Timeval{}
	}
	tv := tvSub(ev.Timeout, now)
	return &tv
}

// timeoutProcess activates every timer whose deadline has passed.
func (b *Base) timeoutProcess() {
	if b.hdr.HeapLen == 0 {
		return
	}
	now := b.gettime()
	for {
		ev := b.heapTop()
		if ev == nil || tvLess(now, ev.Timeout) {
			return
		}
		b.delLocked(ev, DelNoBlock)
		b.activeLocked(ev, EvTimeout, 1)
	}
}
