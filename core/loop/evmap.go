package loop

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/mem"
)

// The fd map (libevent's evmap_io): for each fd, how many added events want
// each kind of readiness, and the list of those events, newest first
// (activation order follows the list, as in libevent).

var errTooManyOnFd = errors.New("too many events reading or writing on one fd")

func ioMask(e *ioEntry) int16 {
	var m int16
	if e.nread > 0 {
		m |= EvRead
	}
	if e.nwrite > 0 {
		m |= EvWrite
	}
	if e.nclose > 0 {
		m |= EvClosed
	}
	return m
}

// ioAdd is evmap_io_add_: -1 on error, 1 if the backend changed, else 0.
func (b *Base) ioAdd(fd int32, ev *Event) (int, error) {
	if fd < 0 {
		return 0, nil
	}
	if int(fd) >= len(b.io) {
		n := max(len(b.io), 32)
		for n <= int(fd) {
			n <<= 1
		}
		if err := b.growIoMap(n); err != nil {
			return -1, err
		}
	}
	e := &b.io[fd]
	old := ioMask(e)
	nread, nwrite, nclose := int(e.nread), int(e.nwrite), int(e.nclose)
	var res int16
	if ev.Events&EvRead != 0 {
		if nread++; nread == 1 {
			res |= EvRead
		}
	}
	if ev.Events&EvWrite != 0 {
		if nwrite++; nwrite == 1 {
			res |= EvWrite
		}
	}
	if ev.Events&EvClosed != 0 {
		if nclose++; nclose == 1 {
			res |= EvClosed
		}
	}
	if nread > 0xffff || nwrite > 0xffff || nclose > 0xffff {
		logf(LogWarn, "Too many events reading or writing on fd %d", fd)
		return -1, errTooManyOnFd
	}
	retval := 0
	if res != 0 && !b.detached {
		if err := b.be().add(fd, old, ev.Events&EvET|res); err != nil {
			return -1, err
		}
		retval = 1
	}
	e.nread, e.nwrite, e.nclose = uint16(nread), uint16(nwrite), uint16(nclose)
	ev.lprev = nil
	ev.lnext = e.head
	if e.head != nil {
		e.head.lprev = ev
	}
	e.head = ev
	return retval, nil
}

// growIoMap makes the fd map n entries long; the entries move (the events'
// links point at events, not at entries, so they stay valid).
func (b *Base) growIoMap(n int) error {
	p := mem.Alloc(uintptr(n) * unsafe.Sizeof(ioEntry{}))
	if p == nil {
		return fmt.Errorf("event_add: fd map: %w", unix.ENOMEM)
	}
	grown := unsafe.Slice((*ioEntry)(p), n)
	clear(grown)
	copy(grown, b.io)
	mem.Free(b.hdr.IoMap)
	b.io = grown
	b.hdr.IoMap, b.hdr.IoCap = p, n
	return nil
}

// freeIoMap releases the fd map (event_base_free).
func (b *Base) freeIoMap() {
	b.io = nil
	mem.Free(b.hdr.IoMap)
	b.hdr.IoMap, b.hdr.IoCap = nil, 0
}

// ioDel is evmap_io_del_.
func (b *Base) ioDel(fd int32, ev *Event) (int, error) {
	if fd < 0 {
		return 0, nil
	}
	if int(fd) >= len(b.io) {
		return -1, fmt.Errorf("event_del: fd %d has no events", fd)
	}
	e := &b.io[fd]
	old := ioMask(e)
	var res int16
	if ev.Events&EvRead != 0 {
		if e.nread--; e.nread == 0 {
			res |= EvRead
		}
	}
	if ev.Events&EvWrite != 0 {
		if e.nwrite--; e.nwrite == 0 {
			res |= EvWrite
		}
	}
	if ev.Events&EvClosed != 0 {
		if e.nclose--; e.nclose == 0 {
			res |= EvClosed
		}
	}
	retval := 0
	var err error
	if res != 0 && !b.detached {
		if err = b.be().del(fd, old, ev.Events&EvET|res); err != nil {
			retval = -1
		} else {
			retval = 1
		}
	}
	listRemove(&e.head, ev)
	return retval, err
}

func listRemove(head **Event, ev *Event) {
	if ev.lprev != nil {
		ev.lprev.lnext = ev.lnext
	} else if *head == ev {
		*head = ev.lnext
	}
	if ev.lnext != nil {
		ev.lnext.lprev = ev.lprev
	}
	ev.lnext, ev.lprev = nil, nil
}

// ioActive is evmap_io_active_: activate the fd's events that want any of
// `events`. The backend passes EV_ET along, so edge-triggered events see it
// in their result, as with libevent's epoll backend.
func (b *Base) ioActive(fd int32, events int16) {
	if fd < 0 || int(fd) >= len(b.io) {
		return
	}
	e := &b.io[fd]
	for ev := e.head; ev != nil; ev = ev.lnext {
		if ev.Events&(events&^EvET) != 0 {
			b.activeLocked(ev, int(ev.Events&events), 1)
		}
	}
}

// ---- signals (libevent's evmap_signal) ---------------------------------

// nsig is NSIG on Linux.
const nsig = 65

func (b *Base) sigAdd(sig int, ev *Event) (int, error) {
	if sig < 0 || sig >= nsig {
		return -1, fmt.Errorf("event_add: signal %d out of range", sig)
	}
	head := &b.sig[sig]
	if *head == nil {
		if err := b.evsigAdd(sig); err != nil {
			return -1, err
		}
	}
	ev.lprev = nil
	ev.lnext = *head
	if *head != nil {
		(*head).lprev = ev
	}
	*head = ev
	return 1, nil
}

func (b *Base) sigDel(sig int, ev *Event) (int, error) {
	if sig < 0 || sig >= nsig || b.sig[sig] == nil {
		return -1, fmt.Errorf("event_del: signal %d has no events", sig)
	}
	listRemove(&b.sig[sig], ev)
	if b.sig[sig] == nil {
		if err := b.evsigDel(sig); err != nil {
			return -1, err
		}
	}
	return 1, nil
}

func (b *Base) sigActive(sig int, ncalls int) {
	if sig < 0 || sig >= nsig {
		return
	}
	for ev := b.sig[sig]; ev != nil; ev = ev.lnext {
		b.activeLocked(ev, EvSignal, int16(ncalls))
	}
}
