package bufferevent

import "unsafe"

// Pairs: two bufferevents in one process, each one's output feeding the
// other's input (libevent's bufferevent_pair.c). Data changes sides by
// moving chains from one evbuffer to the other, never by copying bytes, and
// all callbacks are deferred (libevent forces BEV_OPT_DEFER_CALLBACKS so
// that a write on one end never runs the other end's callback inside it).

// ChainMover is what pairs and filters need from an evbuffer beyond Buf:
// moving data to another buffer of the same implementation without copying
// it (evbuffer_add_buffer and evbuffer_remove_buffer). Buffers that do not
// implement it cannot back a pair or a filter.
type ChainMover interface {
	// AddBuffer moves all of src's data to the end of the receiver; -1
	// if either buffer is frozen at the end involved.
	AddBuffer(src Buf) int
	// RemoveBuffer moves up to n bytes from the receiver's front to the
	// end of dst and returns how many moved (-1 on a frozen end).
	RemoveBuffer(dst Buf, n int) int
}

// moveAll is evbuffer_add_buffer(dst, src).
func moveAll(dst, src Buf) int { return dst.(ChainMover).AddBuffer(src) }

// moveSome is evbuffer_remove_buffer(src, dst, n); n < 0 moves everything.
func moveSome(src, dst Buf, n int) int {
	if n < 0 {
		l := src.Len()
		if moveAll(dst, src) < 0 {
			return -1
		}
		return l
	}
	return src.(ChainMover).RemoveBuffer(dst, n)
}

// pairOps is the pair kind.
type pairOps struct{}

// pairState is a pair end's part of a bufferevent: its link to its partner.
type pairState struct {
	partner *BEV
	// unlinked remembers the partner after the link was cut, so that the
	// shared lock's ownership can move to it in Destruct.
	unlinked *BEV
	outWatch unsafe.Pointer
}

func (pairOps) Kind() string { return "pair" }

func pairOf(b *BEV) *pairState {
	if b == nil || b.h.Kind != kindPair {
		return nil
	}
	return b.pairPart()
}

// NewPair is bufferevent_pair_new. With OptThreadsafe both ends share one
// lock, owned by the first end.
func NewPair(base unsafe.Pointer, options int) (*BEV, *BEV) {
	options |= OptDeferCallbacks
	b1 := newPairEnd(base, options)
	if b1 == nil {
		return nil, nil
	}
	b2 := newPairEnd(base, options&^OptThreadsafe)
	if b2 == nil {
		b1.Free()
		return nil, nil
	}
	if options&OptThreadsafe != 0 {
		lk := b1.h.Lock
		b2.h.Lock = lk
		b2.ownLock = false
		b2.in().EnableLocking(lk)
		b2.out().EnableLocking(lk)
	}
	pairOf(b1).partner = b2
	pairOf(b2).partner = b1
	b1.h.Partner, b2.h.Partner = b2.Pointer(), b1.Pointer()
	// Outside a transfer the user may only take from the input and only
	// add to the output, as with sockets.
	for _, b := range [2]*BEV{b1, b2} {
		b.in().Freeze(false)
		b.out().Freeze(true)
	}
	return b1, b2
}

func newPairEnd(base unsafe.Pointer, options int) *BEV {
	b := newCommon(base, kindPair, options)
	if b == nil {
		return nil
	}
	if _, ok := b.in().(ChainMover); !ok {
		warn("bufferevent_pair_new: evbuffers cannot move chains")
		b.Free()
		return nil
	}
	out := b.out()
	b.pairPart().outWatch = out.Watch(watchOutPair, b.Pointer(), false)
	if b.pairPart().outWatch == nil {
		b.discard()
		return nil
	}
	if iw, ok := out.(IdleWatchBuf); ok {
		iw.PairWatch(b.pairPart().outWatch, b.Pointer())
	}
	b.InitGenericTimeouts()
	return b
}

// pairOutWatch is a pair end's output watcher (arg: the header).
func pairOutWatch(arg unsafe.Pointer, _, added, deleted int) {
	if b := FromPointer(arg); b != nil {
		b.pairOutbufChanged(added, deleted)
	}
}

// lockPair takes a reference and the lock of b and of its partner (one
// shared lock when thread-safe, none otherwise).
func lockPair(b *BEV) *BEV {
	b.IncrefAndLock()
	partner := pairOf(b).partner
	if partner != nil {
		partner.IncrefAndLock()
	}
	return partner
}

func unlockPair(b, partner *BEV) {
	if partner != nil {
		partner.DecrefAndUnlock()
	}
	b.DecrefAndUnlock()
}

// resetReadTimeout and resetWriteTimeout restart a generic timeout after
// progress (BEV_RESET_GENERIC_*_TIMEOUT).
func (b *BEV) resetReadTimeout() {
	if tvSet(b.h.TimeoutRead) {
		env.Loop.Add(&b.h.EvRead, &b.h.TimeoutRead)
	}
}

func (b *BEV) resetWriteTimeout() {
	if tvSet(b.h.TimeoutWrite) {
		env.Loop.Add(&b.h.EvWrite, &b.h.TimeoutWrite)
	}
}

// pairTransfer moves src's output into dst's input, up to dst's read high
// watermark unless ignoreWM (a flush), then offers both ends their
// callbacks.
func pairTransfer(src, dst *BEV, ignoreWM bool) {
	sout, din := src.out(), dst.in()
	sout.Unfreeze(true)
	din.Unfreeze(false)
	n := 0
	if high := dst.h.WmRead.High; high != 0 && uintptr(din.Len()) < high {
		n = int(high - uintptr(din.Len()))
		moveSome(sout, din, n)
	} else if high != 0 && !ignoreWM {
		// At or over the mark: leave the data where it is.
		sout.Freeze(true)
		din.Freeze(false)
		return
	} else {
		n = sout.Len()
		moveAll(din, sout)
	}
	if n != 0 {
		dst.resetReadTimeout()
		if dst.out().Len() > 0 {
			dst.resetWriteTimeout()
		} else {
			env.Loop.Del(&dst.h.EvWrite)
		}
	}
	dst.TriggerNolock(EvRead, 0)
	src.TriggerNolock(EvWrite, 0)
	sout.Freeze(true)
	din.Freeze(false)
}

// pairWantsToTalk: src writes, dst reads and is not held off, and there is
// something to move.
func pairWantsToTalk(src, dst *BEV) bool {
	return src.h.Enabled&EvWrite != 0 && dst.h.Enabled&EvRead != 0 &&
		dst.h.ReadSuspended == 0 && src.out().Len() > 0
}

// pairOutbufChanged hands newly written data straight to the partner.
func (b *BEV) pairOutbufChanged(added, deleted int) {
	if added <= deleted {
		return
	}
	partner := lockPair(b)
	if partner != nil && pairWantsToTalk(b, partner) {
		pairTransfer(b, partner, false)
	}
	unlockPair(b, partner)
}

func (pairOps) Enable(b *BEV, what int16) int {
	partner := lockPair(b)
	if what&EvRead != 0 {
		b.resetReadTimeout()
	}
	if what&EvWrite != 0 && b.out().Len() > 0 {
		b.resetWriteTimeout()
	}
	// Starting to read: the partner may have data waiting; starting to
	// write: the partner may be waiting for ours.
	if what&EvRead != 0 && partner != nil && pairWantsToTalk(partner, b) {
		pairTransfer(partner, b, false)
	}
	if what&EvWrite != 0 && partner != nil && pairWantsToTalk(b, partner) {
		pairTransfer(b, partner, false)
	}
	unlockPair(b, partner)
	return 0
}

func (pairOps) Disable(b *BEV, what int16) int {
	if what&EvRead != 0 {
		env.Loop.Del(&b.h.EvRead)
	}
	if what&EvWrite != 0 {
		env.Loop.Del(&b.h.EvWrite)
	}
	return 0
}

// Unlink cuts the link both ways. libevent 2.1.12 tells the partner
// nothing: it only finds bufferevent_pair_get_partner returning NULL.
func (pairOps) Unlink(b *BEV) {
	p := b.pairPart()
	if p.partner != nil {
		p.unlinked = p.partner
		pairOf(p.partner).partner = nil
		p.partner.h.Partner = nil
		p.partner = nil
		b.h.Partner = nil
	}
}

// Destruct hands the shared lock to the end that outlives this one, so the
// lock is freed with the last end rather than under it.
func (pairOps) Destruct(b *BEV) {
	p := b.pairPart()
	if p.unlinked != nil && b.ownLock {
		p.unlinked.ownLock = true
		b.ownLock = false
	}
	p.unlinked = nil
}

func (pairOps) AdjTimeouts(b *BEV) int { return b.AdjGenericTimeouts() }

// Flush moves data regardless of watermarks; BEV_FINISHED also reports EOF
// to the partner. BEV_NORMAL does nothing, as in libevent.
func (pairOps) Flush(b *BEV, iotype int16, mode int) int {
	if b.pairPart().partner == nil {
		return -1
	}
	if mode == FlushNormal {
		return 0
	}
	partner := lockPair(b)
	if iotype&EvRead != 0 {
		pairTransfer(partner, b, true)
	}
	if iotype&EvWrite != 0 {
		pairTransfer(b, partner, true)
	}
	if mode == FlushFinished {
		what := EventEOF
		if iotype&EvRead != 0 {
			what |= EventWriting
		}
		if iotype&EvWrite != 0 {
			what |= EventReading
		}
		partner.RunEventCB(what, 0, -1)
	}
	unlockPair(b, partner)
	return 0
}

func (pairOps) Ctrl(*BEV, int, *CtrlData) int { return -1 }

// Partner is bufferevent_pair_get_partner: nil for a bufferevent that is
// not a pair end, or whose partner is gone.
func (b *BEV) Partner() *BEV {
	p := pairOf(b)
	if p == nil {
		return nil
	}
	partner := lockPair(b)
	unlockPair(b, partner)
	return partner
}

// IsPair reports whether b is one end of a pair.
func (b *BEV) IsPair() bool { return pairOf(b) != nil }
