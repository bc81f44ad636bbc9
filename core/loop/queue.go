package loop

// Queue bookkeeping: libevent's event_queue_insert_*/remove_* and the
// counters they keep. An event counts once in eventCount for each queue it is
// on (inserted, timeout, active), unless it is internal; that is what
// event_base_get_num_events(EVENT_BASE_COUNT_ADDED) reports.

func (b *Base) incCount(flags uint16) {
	if flags&ListInternal == 0 {
		b.hdr.EventCount++
		b.hdr.EventCountMax = max(b.hdr.EventCountMax, b.hdr.EventCount)
	}
}

func (b *Base) decCount(flags uint16) {
	if flags&ListInternal == 0 {
		b.hdr.EventCount--
	}
}

func (b *Base) queueInsertInserted(ev *Event) {
	if ev.Cb.Flags&ListInserted != 0 {
		logf(LogErr, "event_queue_insert_inserted: %p(fd %d) already inserted", ev, ev.Fd)
		return
	}
	b.incCount(ev.Cb.Flags)
	ev.Cb.Flags |= ListInserted
}

func (b *Base) queueRemoveInserted(ev *Event) {
	if ev.Cb.Flags&ListInserted == 0 {
		logf(LogErr, "event_queue_remove_inserted: %p(fd %d) not on queue %x", ev, ev.Fd, ListInserted)
		return
	}
	b.decCount(ev.Cb.Flags)
	ev.Cb.Flags &^= ListInserted
}

func (b *Base) queueInsertActive(cb *Callback) {
	if cb.Flags&ListActive != 0 {
		return // double insertion is possible for active events
	}
	b.incCount(cb.Flags)
	cb.Flags |= ListActive
	b.hdr.CountActive++
	b.hdr.CountActiveMax = max(b.hdr.CountActiveMax, b.hdr.CountActive)
	b.queueFor(cb.Pri).pushBack(cb)
}

func (b *Base) queueRemoveActive(cb *Callback) {
	if cb.Flags&ListActive == 0 {
		logf(LogErr, "event_queue_remove_active: %p not on queue %x", cb, ListActive)
		return
	}
	b.decCount(cb.Flags)
	cb.Flags &^= ListActive
	b.hdr.CountActive--
	b.queueFor(cb.Pri).remove(cb)
}

func (b *Base) queueInsertActiveLater(cb *Callback) {
	if cb.Flags&(ListActive|ListActiveLater) != 0 {
		return
	}
	b.incCount(cb.Flags)
	cb.Flags |= ListActiveLater
	b.hdr.CountActive++
	b.hdr.CountActiveMax = max(b.hdr.CountActiveMax, b.hdr.CountActive)
	b.hdr.Later.pushBack(cb)
}

func (b *Base) queueRemoveActiveLater(cb *Callback) {
	if cb.Flags&ListActiveLater == 0 {
		logf(LogErr, "event_queue_remove_active_later: %p not on queue %x", cb, ListActiveLater)
		return
	}
	b.decCount(cb.Flags)
	cb.Flags &^= ListActiveLater
	b.hdr.CountActive--
	b.hdr.Later.remove(cb)
}

func (b *Base) queueInsertTimeout(ev *Event) {
	if ev.Cb.Flags&ListTimeout != 0 {
		logf(LogErr, "event_queue_insert_timeout: %p(fd %d) already on timeout", ev, ev.Fd)
		return
	}
	b.incCount(ev.Cb.Flags)
	ev.Cb.Flags |= ListTimeout
	if ctl := b.commonFor(ev.Timeout); ctl != nil {
		ctl.insertInOrder(ev)
	} else {
		b.heapPush(ev)
	}
}

func (b *Base) queueRemoveTimeout(ev *Event) {
	if ev.Cb.Flags&ListTimeout == 0 {
		logf(LogErr, "event_queue_remove_timeout: %p(fd %d) not on queue %x", ev, ev.Fd, ListTimeout)
		return
	}
	b.decCount(ev.Cb.Flags)
	ev.Cb.Flags &^= ListTimeout
	if ctl := b.commonFor(ev.Timeout); ctl != nil {
		ctl.remove(ev)
	} else {
		b.heapErase(ev)
	}
}

// makeLaterActive moves callbacks activated "for next time" onto the active
// queues at the start of a loop iteration.
func (b *Base) makeLaterActive() {
	for cb := b.hdr.Later.head; cb != nil; cb = b.hdr.Later.head {
		b.hdr.Later.remove(cb)
		cb.Flags = cb.Flags&^ListActiveLater | ListActive
		b.queueFor(cb.Pri).pushBack(cb)
		if cb.Closure == ClosureCbSelf {
			b.hdr.NDeferreds++
		}
	}
}

// queueFor is the active queue for a priority. libevent asserts the priority
// is in range; an event assigned before event_base_priority_init shrank the
// base could break that, so clamp rather than crash.
func (b *Base) queueFor(pri uint8) *cbList {
	qs := b.queues()
	if int(pri) >= len(qs) {
		return &qs[len(qs)-1]
	}
	return &qs[pri]
}
