package evbuffer

import (
	"bytes"
	"math"
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"

	"goevent/core/chain"
)

func TestParseMaxRead(t *testing.T) {
	good := map[string]int{"1": 1, "4096": 4096, "262144": 262144, "2147483647": math.MaxInt32, "0010": 10}
	for s, want := range good {
		if n, ok := ParseMaxRead(s); !ok || n != want {
			t.Errorf("ParseMaxRead(%q) = %d %v, want %d", s, n, ok, want)
		}
	}
	for _, s := range []string{"", "0", "-1", "+5", " 5", "5 ", "5k", "0x100", "2147483648",
		"99999999999", "18446744073709551617", "1e6", "٣"} {
		if n, ok := ParseMaxRead(s); ok {
			t.Errorf("ParseMaxRead(%q) = %d, accepted", s, n)
		}
	}
}

func TestSetMaxRead(t *testing.T) {
	leakCheck(t)
	b := New()
	defer b.Free()
	if b.MaxRead() != MaxReadDefault {
		t.Fatalf("new buffer: cap %d", b.MaxRead())
	}
	for _, n := range []int{0, 1, 4096, 1 << 20, math.MaxInt32} {
		if b.SetMaxRead(n) != 0 || b.MaxRead() != n {
			t.Fatalf("SetMaxRead(%d): cap %d", n, b.MaxRead())
		}
	}
	for _, n := range []int{-1, math.MaxInt32 + 1, math.MaxInt64} {
		if b.SetMaxRead(n) != -1 || b.MaxRead() != math.MaxInt32 {
			t.Fatalf("SetMaxRead(%d) accepted: cap %d", n, b.MaxRead())
		}
	}
	defer SetDefaultMaxRead(MaxReadDefault)
	SetDefaultMaxRead(262144)
	c := New()
	defer c.Free()
	if c.MaxRead() != 262144 || b.MaxRead() != math.MaxInt32 {
		t.Fatalf("default 262144: new %d, old %d", c.MaxRead(), b.MaxRead())
	}
}

// noise is n random bytes: unlike pattern, bytes out of order show.
func noise(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	rng.Read(p)
	return p
}

// socketpair gives a connected, nonblocking stream pair.
func socketpair(t *testing.T) (r, w int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// room is the free space of the chains from the last one with data on:
// what the buffer holds ready for reads it has not made.
func room(b *Buffer) uintptr {
	var n uintptr
	for c := *b.lastWithData; c != nil; c = c.Next {
		n += c.SpaceLen()
	}
	return n
}

// storage is what the buffer's chains take from the allocator.
func storage(b *Buffer) uintptr {
	var n uintptr
	for c := b.first; c != nil; c = c.Next {
		n += c.BufferLen + chain.HeaderSize
	}
	return n
}

// A read never takes more than the cap, FIONREAD or howmuch allow, the
// bytes come out intact and in order, and a bulk read leaves less than a
// small chain of room behind: it reserves what the socket holds, not the
// cap.
func TestBulkReadCaps(t *testing.T) {
	leakCheck(t)
	rng := rand.New(rand.NewSource(1))
	caps := []int{1, 2, 3, 100, 4095, 4096, 4097, 5000, 16384, 65488, 65536, 65537, 200000, 262144, 1 << 20}
	for i := 0; i < 8; i++ {
		caps = append(caps, 1+rng.Intn(1<<20))
	}
	for _, max := range caps {
		r, w := socketpair(t)
		b := New()
		b.SetMaxRead(max)
		var sent, got []byte
		for round := 0; round < 4; round++ {
			// The peer writes a random amount in random pieces.
			want := 1 + rng.Intn(min(300000, 64*max))
			for len(sent) < len(got)+want {
				piece := noise(rng, 1+rng.Intn(min(100000, want)))
				n, err := unix.Write(w, piece)
				if err == unix.EAGAIN {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				sent = append(sent, piece[:n]...)
			}
			for len(got)+b.Len() < len(sent) {
				howmuch := -1
				if rng.Intn(4) == 0 {
					howmuch = 1 + rng.Intn(2*max+1)
				}
				queued := bytesReadable(r)
				before := b.Len()
				n, e := b.Read(r, howmuch)
				if n <= 0 {
					t.Fatalf("cap %d: Read = %d %v with %d queued", max, n, e, queued)
				}
				if n > max || n > queued || (howmuch >= 0 && n > howmuch) {
					t.Fatalf("cap %d, howmuch %d, %d queued: read %d", max, howmuch, queued, n)
				}
				if b.Len() != before+n {
					t.Fatalf("cap %d: length %d after reading %d onto %d", max, b.Len(), n, before)
				}
				if max > maxRead && n > maxRead && room(b) >= chain.MinAlloc {
					t.Fatalf("cap %d: a bulk read of %d left %d bytes of room", max, n, room(b))
				}
				checkInvariants(t, b)
				// Take a random part out, sometimes everything.
				take := b.Len()
				if rng.Intn(3) == 0 {
					take = rng.Intn(b.Len() + 1)
				}
				out := make([]byte, take)
				b.Remove(out)
				got = append(got, out...)
			}
			got = append(got, contents(b)...)
			b.Drain(uintptr(b.Len()))
		}
		if !bytes.Equal(got, sent) {
			t.Fatalf("cap %d: %d bytes came out, %d went in, or not in order", max, len(got), len(sent))
		}
		b.Free()
	}
}

// Chains a short read left empty are used by the next read before any new
// one: a packet-mode pipe reports all its bytes through FIONREAD but hands
// out one packet per read, so every bulk read here prepares more than it
// gets.
func TestBulkReadReusesUnusedChains(t *testing.T) {
	leakCheck(t)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_DIRECT); err != nil {
		t.Skip("no packet-mode pipes:", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	b := New()
	defer b.Free()
	b.SetMaxRead(1 << 20)
	rng := rand.New(rand.NewSource(2))
	var sent, got []byte
	var peak uintptr
	short := 0
	for i := 0; i < 300; i++ {
		for k := 0; k < 16; k++ {
			piece := noise(rng, 1+rng.Intn(4096))
			n, err := unix.Write(p[1], piece)
			if err != nil {
				break
			}
			sent = append(sent, piece[:n]...)
		}
		for {
			queued := bytesReadable(p[0])
			n, _ := b.Read(p[0], -1)
			if n <= 0 {
				break
			}
			if n < queued {
				short++
			}
			checkInvariants(t, b)
			peak = max(peak, storage(b)-uintptr(b.Len()))
			// Keep a little, as a parser waiting for the rest of a
			// message would.
			keep := min(b.Len(), 100)
			out := make([]byte, b.Len()-keep)
			b.Remove(out)
			got = append(got, out...)
		}
	}
	got = append(got, contents(b)...)
	if !bytes.Equal(got, sent) {
		t.Fatalf("%d bytes came out, %d went in, or not in order", len(got), len(sent))
	}
	if short < 1000 {
		t.Fatalf("only %d short reads", short)
	}
	// 16 packets of at most 4 KiB: one read never prepares more than 64
	// KiB, and what it left unused is what the next one takes first.
	if peak > 16*4096+2*chain.MinAlloc+2*4096 {
		t.Fatalf("unused room grew to %d bytes", peak)
	}
}

// At end of file FIONREAD reports nothing; a buffer with a large cap then
// prepares what the default read would (libevent keeps that chain), so a
// closing connection holds a small chain, not the cap.
func TestBulkReadAtEOF(t *testing.T) {
	leakCheck(t)
	var kept [2]uintptr
	for i, max := range []int{MaxReadDefault, 1 << 20} {
		r, w := socketpair(t)
		b := New()
		b.SetMaxRead(max)
		unix.Shutdown(w, unix.SHUT_WR)
		if n, e := b.Read(r, -1); n != 0 || e != 0 {
			t.Fatalf("EOF: %d %v", n, e)
		}
		kept[i] = storage(b)
		b.Free()
	}
	if kept[1] != kept[0] || kept[0] == 0 {
		t.Fatalf("EOF left %d bytes of chains with a large cap, %d with the default", kept[1], kept[0])
	}
}

// Up to the default cap, reads are libevent's: the same chains whatever
// cap above the read's size the buffer has.
func TestSmallReadsKeepLayout(t *testing.T) {
	leakCheck(t)
	for _, size := range []int{1, 100, 3000, 4096} {
		var layouts [2][]int
		for i, max := range []int{MaxReadDefault, 1 << 20} {
			r, w := socketpair(t)
			b := New()
			b.SetMaxRead(max)
			b.Add([]byte("x"))
			for k := 0; k < 5; k++ {
				unix.Write(w, pattern(size))
				if n, _ := b.Read(r, -1); n != size {
					t.Fatalf("read %d of %d", n, size)
				}
			}
			layouts[i] = extents(b)
			b.Free()
		}
		if !slicesEqual(layouts[0], layouts[1]) {
			t.Fatalf("reads of %d: layout %v with the default cap, %v with a large one", size, layouts[0], layouts[1])
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A cap of 0 reads nothing, which Read reports as 0 (libevent 2.2).
func TestMaxReadZero(t *testing.T) {
	leakCheck(t)
	r, w := socketpair(t)
	b := New()
	defer b.Free()
	b.SetMaxRead(0)
	unix.Write(w, []byte("data"))
	if n, _ := b.Read(r, -1); n != 0 || b.Len() != 0 {
		t.Fatalf("cap 0: read %d, length %d", n, b.Len())
	}
}

// The chain sizes of a bulk read: powers of two that do not exceed what is
// left to place, 64 KiB at most unless the vectors would not hold the read.
func TestBulkChainAlloc(t *testing.T) {
	cases := []struct {
		need  uintptr
		slots int
		want  uintptr
	}{
		{1, 64, 1024}, {976, 64, 1024}, {977, 64, 1024}, {2000, 64, 2048}, {2001, 64, 2048},
		{65488, 64, 65536}, {200000, 64, 65536}, {8 << 20, 64, 256 << 10}, {100000, 1, 65536},
	}
	for _, c := range cases {
		if got := bulkChainAlloc(c.need, c.slots); got != c.want {
			t.Errorf("bulkChainAlloc(%d, %d) = %d, want %d", c.need, c.slots, got, c.want)
		}
	}
}
