package bufferevent

import (
	"math"
	"structs"
	"time"
	"unsafe"

	"goevent/core/loop"
)

// Rate limiting (libevent's bufferevent_ratelim.c): token buckets per
// bufferevent and per group of bufferevents. A socket bufferevent asks
// readMax/writeMax how much one read or write may move, and reports what it
// moved; an empty bucket suspends the direction (SuspendBW, SuspendBWGrp)
// until a timer refills it. Pairs and filters are not limited, as in
// libevent.

// TokenBucketCfg is struct ev_token_bucket_cfg as goevent lays it out in C
// (capi/bufferevent_ratelim.c makes and frees it without entering Go). The
// struct is opaque to programs, so only the C glue and this mirror must
// agree; a test pins the offsets.
type TokenBucketCfg struct {
	_            structs.HostLayout
	ReadRate     uintptr      // 0: tokens added per tick
	ReadMaximum  uintptr      // 8: bucket size (burst)
	WriteRate    uintptr      // 16
	WriteMaximum uintptr      // 24
	TickTimeout  loop.Timeval // 32: may carry a common-timeout encoding
	MsecPerTick  uint32       // 48
	_            uint32
}

// CfgSize is sizeof the C struct.
const CfgSize = unsafe.Sizeof(TokenBucketCfg{})

// bucket is struct ev_token_bucket: tokens may go negative (a read or write
// may overshoot what was left).
type bucket struct {
	readLimit, writeLimit int64
	lastUpdated           uint32
}

// tick is ev_token_bucket_get_tick_: the number of whole ticks since the
// epoch, wrapping at 32 bits like libevent's.
func tick(now loop.Timeval, cfg *TokenBucketCfg) uint32 {
	msec := uint64(now.Sec)*1000 + uint64(now.Usec/1000)
	per := uint64(cfg.MsecPerTick)
	if per == 0 {
		// A tick under a millisecond divides by zero in libevent.
		per = 1
	}
	return uint32(msec / per)
}

func (k *bucket) init(cfg *TokenBucketCfg, now uint32, reinit bool) {
	if reinit {
		// Only clip: this tick's traffic has happened already.
		if k.readLimit > int64(cfg.ReadMaximum) {
			k.readLimit = int64(cfg.ReadMaximum)
		}
		if k.writeLimit > int64(cfg.WriteMaximum) {
			k.writeLimit = int64(cfg.WriteMaximum)
		}
		return
	}
	k.readLimit = int64(cfg.ReadRate)
	k.writeLimit = int64(cfg.WriteRate)
	k.lastUpdated = now
}

// update adds the tokens of the ticks since the last update, up to the
// bucket size, computed so that nothing overflows (the differences are
// unsigned, as in libevent's C).
func (k *bucket) update(cfg *TokenBucketCfg, now uint32) bool {
	n := now - k.lastUpdated
	if n == 0 || n > math.MaxInt32 {
		return false
	}
	refill := func(limit *int64, rate, max uintptr) {
		if (uint64(max)-uint64(*limit))/uint64(n) < uint64(rate) {
			*limit = int64(max)
		} else {
			*limit += int64(n) * int64(rate)
		}
	}
	refill(&k.readLimit, cfg.ReadRate, cfg.ReadMaximum)
	refill(&k.writeLimit, cfg.WriteRate, cfg.WriteMaximum)
	k.lastUpdated = now
	return true
}

// cachedClock is the optional Loop method behind
// event_base_gettimeofday_cached; without it (unit tests) the wall clock is
// used.
type cachedClock interface {
	GettimeofdayCached(base unsafe.Pointer) loop.Timeval
}

func baseNow(base unsafe.Pointer) loop.Timeval {
	if c, ok := env.Loop.(cachedClock); ok {
		return c.GettimeofdayCached(base)
	}
	t := time.Now()
	return loop.Timeval{Sec: t.Unix(), Usec: int64(t.Nanosecond() / 1000)}
}

// rateLimit is a bufferevent's rate-limiting state (struct
// bufferevent_rate_limit), off-heap like the rest of the bufferevent.
type rateLimit struct {
	refill loop.Event      // timer that refills the bucket
	cfg    *TokenBucketCfg // the user's, not copied (libevent's contract)
	limit  bucket
	group  *Group
	// The group's members are linked through these.
	gnext, gprev *BEV
}

var fnRefill, fnGroupRefill unsafe.Pointer

// ensureRateLimit returns b's rate-limit state, making it (with its refill
// timer) on first use. The caller holds b's lock.
func (b *BEV) ensureRateLimit() *rateLimit {
	if b.rlim != nil {
		return b.rlim
	}
	n := unsafe.Sizeof(rateLimit{})
	p := env.AllocHeader(n)
	if p == nil {
		return nil
	}
	clear(unsafe.Slice((*byte)(p), n))
	rl := (*rateLimit)(p)
	if env.Loop.Assign(&rl.refill, b.h.EvBase, -1, loop.EvFinalize, fnRefill, b.Pointer()) < 0 {
		env.FreeHeader(p)
		return nil
	}
	b.rlim = rl
	b.h.Flags |= FlagRateLimited
	return rl
}

// rlimRelease runs from the finalizer: the bufferevent leaves its group and
// its timer goes.
func (b *BEV) rlimRelease() {
	rl := b.rlim
	if rl == nil {
		return
	}
	if rl.group != nil {
		b.removeFromGroup(false)
	}
	env.Loop.Del(&rl.refill)
	b.rlim = nil
	env.FreeHeader(unsafe.Pointer(rl))
	b.h.Flags &^= FlagRateLimited
}

func (b *BEV) updateBuckets() {
	rl := b.rlim
	now := tick(baseNow(b.loopBase()), rl.cfg)
	if now != rl.limit.lastUpdated {
		rl.limit.update(rl.cfg, now)
	}
}

// rlimMax is bufferevent_get_rlim_max_: what the next read (or write) may
// move. A bufferevent with its own bucket may move what the bucket holds
// (its single-operation cap no longer applies, as in libevent); a group
// member at most its share of the group's bucket. Never negative.
func (b *BEV) rlimMax(write bool) int {
	maxSoFar := int64(b.h.MaxRead)
	if write {
		maxSoFar = int64(b.h.MaxWrite)
	}
	rl := b.rlim
	if rl == nil {
		return int(maxSoFar)
	}
	if rl.cfg != nil {
		b.updateBuckets()
		maxSoFar = rl.limit.readLimit
		if write {
			maxSoFar = rl.limit.writeLimit
		}
	}
	if g := rl.group; g != nil {
		var share int64
		g.lock()
		suspended := g.readSuspended
		if write {
			suspended = g.writeSuspended
		}
		if suspended {
			// The group ran dry while this member could not be told.
			if write {
				b.SuspendWrite(SuspendBWGrp)
			} else {
				b.SuspendRead(SuspendBWGrp)
			}
		} else {
			lim := g.limit.readLimit
			if write {
				lim = g.limit.writeLimit
			}
			share = lim / int64(g.nmembers)
			if share < g.minShare {
				share = g.minShare
			}
		}
		g.unlock()
		if maxSoFar > share {
			maxSoFar = share
		}
	}
	if maxSoFar < 0 {
		maxSoFar = 0
	}
	return int(maxSoFar)
}

// decrementBuckets is bufferevent_decrement_{read,write}_buckets_: n bytes
// moved; an empty bucket suspends the direction until the refill.
func (b *BEV) decrementBuckets(n int, write bool) {
	rl := b.rlim
	if rl == nil {
		return
	}
	if rl.cfg != nil {
		lim, mine, other := &rl.limit.readLimit, b.h.ReadSuspended, b.h.WriteSuspended
		if write {
			lim, mine, other = &rl.limit.writeLimit, b.h.WriteSuspended, b.h.ReadSuspended
		}
		*lim -= int64(n)
		if *lim <= 0 {
			b.suspendDir(write, SuspendBW)
			env.Loop.Add(&rl.refill, &rl.cfg.TickTimeout)
		} else if mine&SuspendBW != 0 {
			if other&SuspendBW == 0 {
				env.Loop.Del(&rl.refill)
			}
			b.unsuspendDir(write, SuspendBW)
		}
	}
	if g := rl.group; g != nil {
		g.lock()
		if write {
			g.limit.writeLimit -= int64(n)
			g.totalWritten += uint64(n)
			if g.limit.writeLimit <= 0 {
				g.suspend(true, b)
			} else if g.writeSuspended {
				g.unsuspend(true, b)
			}
		} else {
			g.limit.readLimit -= int64(n)
			g.totalRead += uint64(n)
			if g.limit.readLimit <= 0 {
				g.suspend(false, b)
			} else if g.readSuspended {
				g.unsuspend(false, b)
			}
		}
		g.unlock()
	}
}

func (b *BEV) suspendDir(write bool, why uint16) {
	if write {
		b.SuspendWrite(why)
	} else {
		b.SuspendRead(why)
	}
}

func (b *BEV) unsuspendDir(write bool, why uint16) {
	if write {
		b.UnsuspendWrite(why)
	} else {
		b.UnsuspendRead(why)
	}
}

// refillCB is the bufferevent's refill timer (bev_refill_callback_). It
// also applies the group's state for a member the group could not lock
// safely when the group ran dry or refilled (see Group.tell).
func refillCB(_ int32, _ int16, arg unsafe.Pointer) {
	b := FromPointer(arg)
	if b == nil {
		return
	}
	b.Lock()
	defer b.Unlock()
	rl := b.rlim
	if rl == nil || b.finalizing {
		return
	}
	if g := rl.group; g != nil {
		g.lock()
		rs, ws := g.readSuspended, g.writeSuspended
		g.unlock()
		if !rs {
			b.UnsuspendRead(SuspendBWGrp)
		}
		if !ws {
			b.UnsuspendWrite(SuspendBWGrp)
		}
	}
	if rl.cfg == nil {
		return
	}
	rl.limit.update(rl.cfg, tick(baseNow(b.loopBase()), rl.cfg))
	again := false
	if b.h.ReadSuspended&SuspendBW != 0 {
		if rl.limit.readLimit > 0 {
			b.UnsuspendRead(SuspendBW)
		} else {
			again = true
		}
	}
	if b.h.WriteSuspended&SuspendBW != 0 {
		if rl.limit.writeLimit > 0 {
			b.UnsuspendWrite(SuspendBW)
		} else {
			again = true
		}
	}
	if again {
		// A bucket that went far negative needs more than one tick.
		env.Loop.Add(&rl.refill, &rl.cfg.TickTimeout)
	}
}

// SetRateLimit is bufferevent_set_rate_limit (cfg nil removes the limit).
func (b *BEV) SetRateLimit(cfg *TokenBucketCfg) int {
	b.Lock()
	defer b.Unlock()
	if cfg == nil {
		if rl := b.rlim; rl != nil {
			rl.cfg = nil
			b.UnsuspendRead(SuspendBW)
			b.UnsuspendWrite(SuspendBW)
			env.Loop.Del(&rl.refill)
		}
		return 0
	}
	now := tick(baseNow(b.loopBase()), cfg)
	if b.rlim != nil && b.rlim.cfg == cfg {
		return 0
	}
	rl := b.ensureRateLimit()
	if rl == nil {
		return -1
	}
	reinit := rl.cfg != nil
	rl.cfg = cfg
	rl.limit.init(cfg, now, reinit)
	env.Loop.Del(&rl.refill)
	suspended := false
	if rl.limit.readLimit > 0 {
		b.UnsuspendRead(SuspendBW)
	} else {
		b.SuspendRead(SuspendBW)
		suspended = true
	}
	if rl.limit.writeLimit > 0 {
		b.UnsuspendWrite(SuspendBW)
	} else {
		b.SuspendWrite(SuspendBW)
		suspended = true
	}
	if suspended {
		env.Loop.Add(&rl.refill, &cfg.TickTimeout)
	}
	return 0
}

// TokenBucketCfg is bufferevent_get_token_bucket_cfg.
func (b *BEV) TokenBucketCfg() *TokenBucketCfg {
	b.Lock()
	defer b.Unlock()
	if b.rlim == nil {
		return nil
	}
	return b.rlim.cfg
}

// ReadLimit and WriteLimit are bufferevent_get_read_limit/_write_limit:
// the tokens in the bufferevent's own bucket, or EV_SSIZE_MAX without one.
func (b *BEV) ReadLimit() int64  { return b.ownLimit(false) }
func (b *BEV) WriteLimit() int64 { return b.ownLimit(true) }

func (b *BEV) ownLimit(write bool) int64 {
	b.Lock()
	defer b.Unlock()
	rl := b.rlim
	if rl == nil || rl.cfg == nil {
		return math.MaxInt64
	}
	b.updateBuckets()
	if write {
		return rl.limit.writeLimit
	}
	return rl.limit.readLimit
}

// MaxToRead and MaxToWrite are bufferevent_get_max_to_read/_write.
func (b *BEV) MaxToRead() int {
	b.Lock()
	defer b.Unlock()
	return b.rlimMax(false)
}

func (b *BEV) MaxToWrite() int {
	b.Lock()
	defer b.Unlock()
	return b.rlimMax(true)
}

// DecrementLimit is bufferevent_decrement_read_limit (write false) and
// _write_limit: decr tokens taken (or given back when negative) outside
// the bufferevent's own I/O. libevent asserts that a bucket exists;
// goevent warns and fails instead.
func (b *BEV) DecrementLimit(decr int64, write bool) int {
	b.Lock()
	defer b.Unlock()
	rl := b.rlim
	if rl == nil || rl.cfg == nil {
		warn("bufferevent_decrement_limit: the bufferevent has no rate limit")
		return -1
	}
	lim, other := &rl.limit.readLimit, b.h.WriteSuspended
	if write {
		lim, other = &rl.limit.writeLimit, b.h.ReadSuspended
	}
	old := *lim
	*lim -= decr
	r := 0
	switch {
	case old > 0 && *lim <= 0:
		b.suspendDir(write, SuspendBW)
		if env.Loop.Add(&rl.refill, &rl.cfg.TickTimeout) < 0 {
			r = -1
		}
	case old <= 0 && *lim > 0:
		if other&SuspendBW == 0 {
			env.Loop.Del(&rl.refill)
		}
		b.unsuspendDir(write, SuspendBW)
	}
	return r
}

// ---- groups ---------------------------------------------------------------

// Group is a bufferevent_rate_limit_group: members share one bucket, each
// allowed at most its share (but never less than minShare) per operation.
// What C holds as a struct bufferevent_rate_limit_group * is the group
// itself, off-heap, its refill timer first.
type Group struct {
	_        structs.HostLayout
	refill   loop.Event
	magic    uint32
	seed     uint32
	lk       unsafe.Pointer
	cfg      TokenBucketCfg // a copy, as in libevent
	limit    bucket
	members  *BEV // linked through their rateLimit's gnext/gprev
	nmembers int
	minShare int64
	// configuredMinShare is what the user asked for; minShare is that
	// clipped to one tick's rates.
	configuredMinShare   uint64
	readSuspended        bool
	writeSuspended       bool
	pendingUnsuspendRead bool
	pendingUnsuspendWrt  bool
	totalRead            uint64
	totalWritten         uint64
}

// groupMagic marks a live group.
const groupMagic = 0x67657267

// GroupFromPointer returns the group behind a C group pointer, or nil.
func GroupFromPointer(p unsafe.Pointer) *Group {
	if p == nil || (*Group)(p).magic != groupMagic {
		return nil
	}
	return (*Group)(p)
}

// Pointer is the struct bufferevent_rate_limit_group * handed to C.
func (g *Group) Pointer() unsafe.Pointer { return unsafe.Pointer(g) }

func (g *Group) lock() {
	if g.lk != nil {
		env.Lock(g.lk)
	}
}

func (g *Group) unlock() {
	if g.lk != nil {
		env.Unlock(g.lk)
	}
}

// NewGroup is bufferevent_rate_limit_group_new.
func NewGroup(base unsafe.Pointer, cfg *TokenBucketCfg) *Group {
	if cfg == nil {
		return nil
	}
	now := baseNow(base)
	n := unsafe.Sizeof(Group{})
	p := env.AllocHeader(n)
	if p == nil {
		return nil
	}
	clear(unsafe.Slice((*byte)(p), n))
	g := (*Group)(p)
	g.cfg = *cfg
	g.limit.init(&g.cfg, tick(now, &g.cfg), false)
	if env.Loop.Assign(&g.refill, base, -1, loop.EvPersist|loop.EvFinalize, fnGroupRefill, p) < 0 {
		env.FreeHeader(p)
		return nil
	}
	env.Loop.Add(&g.refill, &g.cfg.TickTimeout)
	if env.AllocLock != nil {
		g.lk = env.AllocLock()
	}
	g.magic = groupMagic
	g.SetMinShare(64)
	g.seed = uint32(now.Sec+now.Usec) ^ uint32(uintptr(p))
	return g
}

// memberList copies the members (they may leave the group from inside a
// callback while the caller walks them).
func (g *Group) memberList() []*BEV {
	ms := make([]*BEV, 0, g.nmembers)
	for m := g.members; m != nil; m = m.rlim.gnext {
		ms = append(ms, m)
	}
	return ms
}

// SetCfg is bufferevent_rate_limit_group_set_cfg.
func (g *Group) SetCfg(cfg *TokenBucketCfg) int {
	if cfg == nil {
		return -1
	}
	g.lock()
	defer g.unlock()
	sameTick := g.cfg.TickTimeout == cfg.TickTimeout
	g.cfg = *cfg
	if g.limit.readLimit > int64(cfg.ReadMaximum) {
		g.limit.readLimit = int64(cfg.ReadMaximum)
	}
	if g.limit.writeLimit > int64(cfg.WriteMaximum) {
		g.limit.writeLimit = int64(cfg.WriteMaximum)
	}
	if !sameTick {
		env.Loop.Add(&g.refill, &g.cfg.TickTimeout)
	}
	g.SetMinShare(g.configuredMinShare)
	return 0
}

// SetMinShare is bufferevent_rate_limit_group_set_min_share: never more
// than one tick's worth, so that at least one member can always move.
func (g *Group) SetMinShare(share uint64) int {
	if share > math.MaxInt64 {
		return -1
	}
	g.lock()
	defer g.unlock()
	g.configuredMinShare = share
	if share > uint64(g.cfg.ReadRate) {
		share = uint64(g.cfg.ReadRate)
	}
	if share > uint64(g.cfg.WriteRate) {
		share = uint64(g.cfg.WriteRate)
	}
	g.minShare = int64(share)
	return 0
}

// Free is bufferevent_rate_limit_group_free. libevent asserts that no
// member is left; goevent refuses (and leaks the group) instead of leaving
// members pointing at freed memory.
func (g *Group) Free() {
	g.lock()
	if g.nmembers != 0 {
		g.unlock()
		warn("bufferevent_rate_limit_group_free: the group still has members")
		return
	}
	env.Loop.Del(&g.refill)
	g.unlock()
	if g.lk != nil && env.FreeLock != nil {
		env.FreeLock(g.lk)
	}
	g.magic = 0
	env.FreeHeader(unsafe.Pointer(g))
}

// Limits returns the tokens in the group's buckets.
func (g *Group) Limits() (read, write int64) {
	g.lock()
	defer g.unlock()
	return g.limit.readLimit, g.limit.writeLimit
}

// Totals is bufferevent_rate_limit_group_get_totals.
func (g *Group) Totals() (read, written uint64) {
	g.lock()
	defer g.unlock()
	return g.totalRead, g.totalWritten
}

// ResetTotals is bufferevent_rate_limit_group_reset_totals.
func (g *Group) ResetTotals() {
	g.lock()
	g.totalRead, g.totalWritten = 0, 0
	g.unlock()
}

// Decrement is bufferevent_rate_limit_group_decrement_read (write false)
// and _write.
func (g *Group) Decrement(decr int64, write bool) int {
	g.lock()
	defer g.unlock()
	lim := &g.limit.readLimit
	if write {
		lim = &g.limit.writeLimit
	}
	old := *lim
	*lim -= decr
	switch {
	case old > 0 && *lim <= 0:
		g.suspend(write, nil)
	case old <= 0 && *lim > 0:
		g.unsuspend(write, nil)
	}
	return 0
}

// tell applies the group's suspension state to member m. libevent
// try-locks each member and leaves those it cannot lock to notice later;
// goevent locks m only when that cannot deadlock (m has no lock, or shares
// the lock the caller already holds) and otherwise fires m's refill timer
// at once, so that m applies the state itself under its own lock.
func (g *Group) tell(m, caller *BEV, write, suspend bool) {
	if m.finalizing {
		return
	}
	if lk := m.h.Lock; lk == nil || caller != nil && lk == caller.h.Lock {
		if suspend {
			m.suspendDir(write, SuspendBWGrp)
		} else {
			m.unsuspendDir(write, SuspendBWGrp)
		}
		return
	}
	if !suspend {
		env.Loop.Add(&m.rlim.refill, &loop.Timeval{})
	}
	// A member left running learns of the suspension from rlimMax at its
	// next operation, as in libevent.
}

// suspend is bev_group_suspend_{reading,writing}_; the group lock is held.
func (g *Group) suspend(write bool, caller *BEV) {
	if write {
		g.writeSuspended, g.pendingUnsuspendWrt = true, false
	} else {
		g.readSuspended, g.pendingUnsuspendRead = true, false
	}
	for _, m := range g.memberList() {
		g.tell(m, caller, write, true)
	}
}

// unsuspend wakes every member, starting from a random one so that no
// member is always first to the fresh tokens.
func (g *Group) unsuspend(write bool, caller *BEV) {
	if write {
		g.writeSuspended, g.pendingUnsuspendWrt = false, false
	} else {
		g.readSuspended, g.pendingUnsuspendRead = false, false
	}
	n := g.nmembers
	if n == 0 {
		return
	}
	start := int(g.rand() % uint32(n))
	ms := g.memberList()
	for i := range n {
		g.tell(ms[(start+i)%n], caller, write, false)
	}
}

// rand is a small linear congruential generator (fairness only).
func (g *Group) rand() uint32 {
	g.seed = g.seed*1103515245 + 12345
	return g.seed >> 1
}

// groupRefillCB is the group's periodic timer (bev_group_refill_callback_).
func groupRefillCB(_ int32, _ int16, arg unsafe.Pointer) {
	g := GroupFromPointer(arg)
	if g == nil {
		return
	}
	now := baseNow(g.refill.Base)
	g.lock()
	g.limit.update(&g.cfg, tick(now, &g.cfg))
	if g.pendingUnsuspendRead || g.readSuspended && g.limit.readLimit >= g.minShare {
		g.unsuspend(false, nil)
	}
	if g.pendingUnsuspendWrt || g.writeSuspended && g.limit.writeLimit >= g.minShare {
		g.unsuspend(true, nil)
	}
	g.unlock()
}

// AddToGroup is bufferevent_add_to_rate_limit_group.
func (b *BEV) AddToGroup(g *Group) int {
	b.Lock()
	defer b.Unlock()
	rl := b.ensureRateLimit()
	if rl == nil {
		return -1
	}
	if rl.group == g {
		return 0
	}
	if rl.group != nil {
		b.removeFromGroup(true)
	}
	g.lock()
	rl.group = g
	// Newest first, as libevent's list; the order only decides which
	// member a walk starts with.
	rl.gprev, rl.gnext = nil, g.members
	if g.members != nil {
		g.members.rlim.gprev = b
	}
	g.members = b
	g.nmembers++
	rs, ws := g.readSuspended, g.writeSuspended
	g.unlock()
	if rs {
		b.SuspendRead(SuspendBWGrp)
	}
	if ws {
		b.SuspendWrite(SuspendBWGrp)
	}
	return 0
}

// RemoveFromGroup is bufferevent_remove_from_rate_limit_group.
func (b *BEV) RemoveFromGroup() int {
	b.removeFromGroup(true)
	return 0
}

func (b *BEV) removeFromGroup(unsuspend bool) {
	b.Lock()
	defer b.Unlock()
	if rl := b.rlim; rl != nil && rl.group != nil {
		g := rl.group
		g.lock()
		rl.group = nil
		if rl.gprev != nil {
			rl.gprev.rlim.gnext = rl.gnext
		} else {
			g.members = rl.gnext
		}
		if rl.gnext != nil {
			rl.gnext.rlim.gprev = rl.gprev
		}
		rl.gnext, rl.gprev = nil, nil
		g.nmembers--
		g.unlock()
	}
	if unsuspend {
		b.UnsuspendRead(SuspendBWGrp)
		b.UnsuspendWrite(SuspendBWGrp)
	}
}

// Group returns the group b belongs to, or nil.
func (b *BEV) Group() *Group {
	b.Lock()
	defer b.Unlock()
	if b.rlim == nil {
		return nil
	}
	return b.rlim.group
}
