package bufferevent

import (
	"math"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/loop"
)

func TestCfgLayout(t *testing.T) {
	var c TokenBucketCfg
	if unsafe.Offsetof(c.TickTimeout) != 32 || unsafe.Offsetof(c.MsecPerTick) != 48 || CfgSize != 56 {
		t.Fatalf("cfg layout: tick %d msec %d size %d (C: 32, 48, 56)",
			unsafe.Offsetof(c.TickTimeout), unsafe.Offsetof(c.MsecPerTick), CfgSize)
	}
}

func newCfg(rr, rb, wr, wb uintptr, tick time.Duration) *TokenBucketCfg {
	return &TokenBucketCfg{ReadRate: rr, ReadMaximum: rb, WriteRate: wr, WriteMaximum: wb,
		TickTimeout: loop.Timeval{Sec: int64(tick / time.Second), Usec: int64(tick%time.Second) / 1000},
		MsecPerTick: uint32(tick / time.Millisecond)}
}

func TestBucketMath(t *testing.T) {
	cfg := newCfg(100, 250, 10, 10, 50*time.Millisecond)
	if got := tick(loop.Timeval{Sec: 10, Usec: 120000}, cfg); got != 202 {
		t.Fatalf("tick %d, want 202", got)
	}
	var k bucket
	k.init(cfg, 7, false)
	if k.readLimit != 100 || k.writeLimit != 10 || k.lastUpdated != 7 {
		t.Fatalf("init %+v", k)
	}
	if k.update(cfg, 7) {
		t.Fatal("no tick passed, no update")
	}
	k.readLimit = -130
	k.update(cfg, 9) // two ticks: -130 + 200
	if k.readLimit != 70 || k.writeLimit != 10 {
		t.Fatalf("after two ticks %+v", k)
	}
	k.update(cfg, 1<<31) // a huge gap saturates at the burst, no overflow
	if k.readLimit != 250 {
		t.Fatalf("saturation: %d", k.readLimit)
	}
	k.update(cfg, 5) // time went backwards (wrapped past MaxInt32): ignored
	if k.lastUpdated != 1<<31 {
		t.Fatal("a backwards tick must be ignored")
	}
	k.readLimit = 240
	k.init(newCfg(100, 200, 10, 5, time.Second), 0, true)
	if k.readLimit != 200 || k.writeLimit != 5 || k.lastUpdated != 1<<31 {
		t.Fatalf("reinit must only clip: %+v", k)
	}
}

func TestLimitsAndDecrement(t *testing.T) {
	fds := socketpair(t)
	b := NewSocket(nil, fds[0], OptCloseOnFree)
	defer unix.Close(fds[1])
	if b.ReadLimit() != math.MaxInt64 || b.MaxToRead() != MaxSingleDefault || b.TokenBucketCfg() != nil {
		t.Fatal("unlimited bufferevent")
	}
	if b.DecrementLimit(1, false) != -1 {
		t.Fatal("decrement without a bucket must fail")
	}
	cfg := newCfg(1000, 3000, 500, 500, time.Hour)
	if b.SetRateLimit(cfg) != 0 || b.TokenBucketCfg() != cfg {
		t.Fatal("set_rate_limit")
	}
	// With a bucket, the bucket (not the single-read cap) bounds a read.
	if b.ReadLimit() != 1000 || b.WriteLimit() != 500 || b.MaxToRead() != 1000 || b.MaxToWrite() != 500 {
		t.Fatalf("limits %d %d %d %d", b.ReadLimit(), b.WriteLimit(), b.MaxToRead(), b.MaxToWrite())
	}
	b.DecrementLimit(1001, false)
	if b.ReadLimit() != -1 || b.ReadSuspended()&SuspendBW == 0 || b.MaxToRead() != 0 {
		t.Fatalf("after overdraft: limit %d suspended %#x", b.ReadLimit(), b.ReadSuspended())
	}
	b.DecrementLimit(-2, false)
	if b.ReadLimit() != 1 || b.ReadSuspended()&SuspendBW != 0 {
		t.Fatalf("after refund: limit %d suspended %#x", b.ReadLimit(), b.ReadSuspended())
	}
	b.DecrementLimit(600, true)
	if b.WriteSuspended()&SuspendBW == 0 {
		t.Fatal("write not suspended")
	}
	// Removing the limit lifts the suspension.
	b.SetRateLimit(nil)
	if b.WriteSuspended() != 0 || b.ReadLimit() != math.MaxInt64 || b.TokenBucketCfg() != nil {
		t.Fatal("set_rate_limit(NULL)")
	}
	b.Free()
	checkNoLeaks(t)
}

// limitedTransfer sends total bytes over a socketpair with the writer's
// write rate (or the reader's read rate) limited, and returns how long it
// took.
func limitedTransfer(t *testing.T, total int, limitWriter bool, cfg *TokenBucketCfg) time.Duration {
	fds := socketpair(t)
	w := NewSocket(nil, fds[0], OptCloseOnFree)
	r := NewSocket(nil, fds[1], OptCloseOnFree)
	if limitWriter {
		w.SetRateLimit(cfg)
	} else {
		r.SetRateLimit(cfg)
	}
	src := pattern(total)
	var got []byte
	overRead := 0
	setcb(r, func() {
		got = append(got, take(r)...)
		if len(got) == total {
			w.Free()
			r.Free()
		}
	}, nil, nil)
	setcb(w, nil, func() {
		if !limitWriter {
			return
		}
		if int64(w.MaxToWrite()) > w.WriteLimit() && w.WriteLimit() >= 0 {
			overRead++
		}
	}, nil)
	start := time.Now()
	write(w, src)
	r.Enable(EvRead)
	fl.dispatch(20 * time.Second)
	el := time.Since(start)
	if len(got) != total || hash(got) != hash(src) || overRead != 0 {
		t.Fatalf("got %d of %d bytes, hashes equal %v, %d over-limit", len(got), total,
			hash(got) == hash(src), overRead)
	}
	checkNoLeaks(t)
	return el
}

func TestRateLimitedTransfer(t *testing.T) {
	// 100 KB at 20 KB per 100 ms tick: the first 20 KB go at once, the
	// other 80 KB need four refills, the first of which may come early.
	cfg := newCfg(20000, 20000, 20000, 20000, 100*time.Millisecond)
	for _, writer := range []bool{true, false} {
		el := limitedTransfer(t, 100000, writer, cfg)
		if el < 300*time.Millisecond {
			t.Fatalf("limited transfer (writer %v) took %v, want at least 300ms", writer, el)
		}
	}
	// Unlimited, the same transfer is quick (sanity of the measurement).
	if el := limitedTransfer(t, 100000, true, newCfg(1<<30, 1<<30, 1<<30, 1<<30, time.Second)); el > 250*time.Millisecond {
		t.Fatalf("unlimited transfer took %v", el)
	}
}

func TestGroup(t *testing.T) {
	// The fake loop sleeps until the next timer: keep the group's refill
	// timer short, but far beyond the checks on exact bucket values.
	cfg := newCfg(1000, 1000, 1000, 1000, 2*time.Second)
	g := NewGroup(nil, cfg)
	if r, w := g.Limits(); r != 1000 || w != 1000 {
		t.Fatalf("group limits %d %d", r, w)
	}
	if g.minShare != 64 {
		t.Fatalf("default min share %d", g.minShare)
	}
	g.SetMinShare(5000) // clipped to one tick's rate
	if g.minShare != 1000 || g.configuredMinShare != 5000 {
		t.Fatalf("min share %d (configured %d)", g.minShare, g.configuredMinShare)
	}
	g.SetMinShare(10)
	var bevs []*BEV
	var peers []int
	for range 4 {
		fds := socketpair(t)
		b := NewSocket(nil, fds[0], OptCloseOnFree)
		if b.AddToGroup(g) != 0 || b.Group() != g {
			t.Fatal("add_to_group")
		}
		bevs = append(bevs, b)
		peers = append(peers, fds[1])
	}
	// Each member's share is a quarter of the bucket.
	if m := bevs[0].MaxToRead(); m != 250 {
		t.Fatalf("share %d, want 250", m)
	}
	// Reading through the members counts in the group's totals.
	for i, b := range bevs {
		unix.Write(peers[i], pattern(100))
		b.Enable(EvRead)
	}
	for range 10 {
		fl.runOnce(false)
	}
	if rd, _ := g.Totals(); rd != 400 {
		t.Fatalf("group read total %d, want 400", rd)
	}
	if r, _ := g.Limits(); r != 600 {
		t.Fatalf("group read bucket %d, want 600", r)
	}
	g.ResetTotals()
	if rd, wr := g.Totals(); rd != 0 || wr != 0 {
		t.Fatal("reset_totals")
	}
	// Emptying the group's bucket suspends every member; refilling it
	// wakes them all.
	g.Decrement(600, false)
	for _, b := range bevs {
		if b.ReadSuspended()&SuspendBWGrp == 0 {
			t.Fatal("member not suspended by an empty group bucket")
		}
	}
	g.Decrement(-100, false)
	for _, b := range bevs {
		if b.ReadSuspended()&SuspendBWGrp != 0 {
			t.Fatal("member still suspended after the group refilled")
		}
	}
	// A group with members cannot be freed.
	g.Free()
	if GroupFromPointer(g.Pointer()) != g {
		t.Fatal("freed a group with members")
	}
	bevs[0].RemoveFromGroup()
	if bevs[0].Group() != nil || g.nmembers != 3 {
		t.Fatal("remove_from_group")
	}
	// Freed members leave the group when they are finalized.
	for _, b := range bevs {
		b.Free()
	}
	fl.dispatch(time.Second)
	if g.nmembers != 0 {
		t.Fatalf("%d members after free", g.nmembers)
	}
	p := g.Pointer()
	g.Free()
	if GroupFromPointer(p) != nil {
		t.Fatal("group still registered")
	}
	for _, fd := range peers {
		unix.Close(fd)
	}
	checkNoLeaks(t)
}

// bufferevent_set_max_single_read as libevent 2.2 answers it: the read cap
// also becomes the input buffer's, 0 and anything above the largest
// ssize_t restore both defaults, and a cap above INT_MAX is kept for the
// bufferevent but refused for the buffer (-1).
func TestMaxSingleReadSetsInputCap(t *testing.T) {
	fds := socketpair(t)
	b := NewSocket(nil, fds[0], OptCloseOnFree)
	defer unix.Close(fds[1])
	defer b.Free()
	in := b.Input().(*fakeBuf)
	if b.MaxSingleRead() != MaxSingleDefault || in.maxRead != 4096 {
		t.Fatalf("defaults: %d, input %d", b.MaxSingleRead(), in.maxRead)
	}
	cases := []struct {
		n        uint64
		ret      int
		get, buf int
	}{
		{1000, 0, 1000, 1000},
		{1 << 20, 0, 1 << 20, 1 << 20},
		{math.MaxInt32, 0, math.MaxInt32, math.MaxInt32},
		{0, 0, MaxSingleDefault, 4096},
		{math.MaxInt32 + 1, -1, math.MaxInt32 + 1, 4096},
		{1<<32 + 7, -1, 1<<32 + 7, 4096},
		{1 << 63, 0, MaxSingleDefault, 4096},
		{math.MaxUint64, 0, MaxSingleDefault, 4096},
	}
	for _, c := range cases {
		if r := b.SetMaxSingleRead(c.n); r != c.ret || b.MaxSingleRead() != c.get || in.maxRead != c.buf {
			t.Errorf("SetMaxSingleRead(%d) = %d: get %d, input %d; want %d, %d, %d",
				c.n, r, b.MaxSingleRead(), in.maxRead, c.ret, c.get, c.buf)
		}
	}
	// A raised default (GOEVENT_MAX_READ) applies to bufferevents made
	// later, and below MaxSingleDefault changes nothing.
	defer SetMaxSingleReadDefault(MaxSingleDefault)
	SetMaxSingleReadDefault(1 << 18)
	c := NewSocket(nil, -1, 0)
	defer c.Free()
	if c.MaxSingleRead() != 1<<18 || b.MaxSingleRead() != MaxSingleDefault {
		t.Fatalf("raised default: new %d, old %d", c.MaxSingleRead(), b.MaxSingleRead())
	}
	SetMaxSingleReadDefault(1000)
	d := NewSocket(nil, -1, 0)
	defer d.Free()
	if d.MaxSingleRead() != MaxSingleDefault {
		t.Fatalf("default 1000: %d", d.MaxSingleRead())
	}

	// The write default likewise; 0 restores the default in force.
	defer SetMaxSingleWriteDefault(MaxSingleDefault)
	SetMaxSingleWriteDefault(1 << 18)
	e := NewSocket(nil, -1, 0)
	defer e.Free()
	if e.MaxSingleWrite() != 1<<18 || b.MaxSingleWrite() != MaxSingleDefault {
		t.Fatalf("raised write default: new %d, old %d", e.MaxSingleWrite(), b.MaxSingleWrite())
	}
	e.SetMaxSingleWrite(100)
	if e.SetMaxSingleWrite(0); e.MaxSingleWrite() != 1<<18 {
		t.Fatalf("write size restored to %d, want %d", e.MaxSingleWrite(), 1<<18)
	}
	SetMaxSingleWriteDefault(1000)
	f := NewSocket(nil, -1, 0)
	defer f.Free()
	if f.MaxSingleWrite() != MaxSingleDefault {
		t.Fatalf("write default 1000: %d", f.MaxSingleWrite())
	}
}
