package evbuffer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/chain"
	"goevent/core/mem"
)

func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func readAll(t *testing.T, fd int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 65536)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func TestReadFromPipe(t *testing.T) {
	leakCheck(t)
	r, w := pipe(t)
	b := New()
	defer b.Free()
	if n, e := b.Read(r, -1); n != -1 || e != unix.EAGAIN {
		t.Fatalf("empty pipe: %d %v", n, e)
	}
	unix.Write(w, []byte("0123456789"))
	// howmuch -1: what FIONREAD reports (10), not 4096.
	if n, e := b.Read(r, -1); n != 10 || e != 0 {
		t.Fatalf("Read = %d %v", n, e)
	}
	mustContain(t, b, "0123456789")
	unix.Write(w, pattern(10000))
	if n, _ := b.Read(r, 3); n != 3 {
		t.Fatalf("howmuch 3: %d", n)
	}
	if n, _ := b.Read(r, 100000); n != 4096 {
		t.Fatalf("one read is capped at 4096: %d", n)
	}
	for {
		n, e := b.Read(r, -1)
		if n <= 0 {
			if e != unix.EAGAIN {
				t.Fatalf("drained pipe: %d %v", n, e)
			}
			break
		}
	}
	mustContain(t, b, "0123456789"+string(pattern(10000)))
	unix.Close(w)
	if n, e := b.Read(r, -1); n != 0 || e != 0 {
		t.Fatalf("EOF: %d %v", n, e)
	}
	if n, e := b.Read(-1, 10); n != -1 || e != unix.EBADF {
		t.Fatalf("bad fd: %d %v", n, e)
	}
}

func TestReadFillsFreeSpaceOfLastChains(t *testing.T) {
	leakCheck(t)
	r, w := pipe(t)
	b := newFrom(string(pattern(900))) // 76 bytes of room left
	defer b.Free()
	first := b.first
	unix.Write(w, pattern(1000))
	if n, _ := b.Read(r, 1000); n != 1000 {
		t.Fatalf("Read = %d", n)
	}
	// The room of the existing chain first, then one new chain for the rest.
	if b.first != first {
		t.Fatal("first chain replaced")
	}
	mustExtents(t, b, 976, 924)
	mustContain(t, b, string(pattern(900))+string(pattern(1000)))
}

func TestWriteToPipe(t *testing.T) {
	leakCheck(t)
	r, w := pipe(t)
	b := chained(t, "hello ", "big ", "world")
	defer b.Free()
	if n, e := b.WriteAtMost(w, 8); n != 8 || e != 0 {
		t.Fatalf("WriteAtMost(8) = %d %v", n, e)
	}
	mustContain(t, b, "g world")
	if n, _ := b.Write(w); n != 7 {
		t.Fatalf("Write = %d", n)
	}
	if got := readAll(t, r); string(got) != "hello big world" {
		t.Fatalf("pipe got %q", got)
	}
	if n, e := b.Write(w); n != -1 || e != 0 {
		t.Fatalf("empty buffer: %d %v (libevent: -1, errno untouched)", n, e)
	}
	// One writev covers at most 128 chains.
	for i := 0; i < 200; i++ {
		r := chained(t, "0123456789")
		b.AddBuffer(r)
		r.Free()
	}
	if n, _ := b.Write(w); n != 1280 {
		t.Fatalf("200 chains: wrote %d, want 128 chains' worth", n)
	}
	b.Write(w)
	readAll(t, r)
}

func TestWriteErrors(t *testing.T) {
	leakCheck(t)
	r, w := pipe(t)
	b := newFrom(string(pattern(1000)))
	defer b.Free()
	// Fill the pipe: then EAGAIN, with nothing drained.
	for {
		n, e := b.Write(w)
		if n < 0 {
			if e != unix.EAGAIN {
				t.Fatalf("full pipe: %d %v", n, e)
			}
			break
		}
		b.Add(pattern(n))
	}
	if b.Len() != 1000 {
		t.Fatalf("a failed write drained data: %d left", b.Len())
	}
	// No reader: EPIPE (the Go runtime ignores the SIGPIPE).
	unix.Close(r)
	if n, e := b.Write(w); n != -1 || e != unix.EPIPE {
		t.Fatalf("broken pipe: %d %v", n, e)
	}
	if n, e := b.Write(-1); n != -1 || e != unix.EBADF {
		t.Fatalf("bad fd: %d %v", n, e)
	}
}

func TestSocketpairEAGAIN(t *testing.T) {
	leakCheck(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	out, in := New(), New()
	defer out.Free()
	defer in.Free()
	out.Add(pattern(1 << 20))
	sent := 0
	for {
		n, e := out.Write(fds[0])
		if n < 0 {
			if e != unix.EAGAIN {
				t.Fatalf("write: %v", e)
			}
			break
		}
		sent += n
	}
	got := 0
	for {
		n, e := in.Read(fds[1], -1)
		if n <= 0 {
			if e != unix.EAGAIN {
				t.Fatalf("read: %d %v", n, e)
			}
			break
		}
		got += n
	}
	if got != sent || in.Len() != sent || !bytes.Equal(contents(in), pattern(1 << 20)[:sent]) {
		t.Fatalf("sent %d, received %d", sent, got)
	}
}

func tempFile(t *testing.T, data []byte) int {
	t.Helper()
	name := filepath.Join(t.TempDir(), "seg")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

func TestFileSegments(t *testing.T) {
	data := pattern(20000)
	for _, tc := range []struct {
		name  string
		flags uint32
	}{
		{"sendfile-capable", 0},
		{"mmap", FSDisableSendfile},
		{"read", FSDisableSendfile | FSDisableMmap},
		{"lazy read", FSDisableMmap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			fd := tempFile(t, data)
			defer unix.Close(fd)
			unix.Seek(fd, 7, unix.SEEK_SET)
			// libevent quirk kept: length -1 is the file's size, whatever
			// the offset.
			if whole, _ := NewFileSegment(fd, 5000, -1, tc.flags&^FSDisableMmap|FSDisableSendfile); whole == nil || whole.length != 20000 {
				t.Fatal("length -1 must be the file size")
			} else {
				whole.Free()
			}
			seg, e := NewFileSegment(fd, 5000, 15000, tc.flags)
			if seg == nil {
				t.Fatalf("NewFileSegment: %v", e)
			}
			materialized := tc.flags&FSDisableSendfile != 0
			if (seg.contents != nil) != materialized {
				t.Fatalf("materialized=%v, want %v", seg.contents != nil, materialized)
			}
			b := New()
			if r, _ := b.AddFileSegment(seg, 100, 50); r != 0 {
				t.Fatal("AddFileSegment")
			}
			if r, _ := b.AddFileSegment(seg, 14990, -1); r != 0 {
				t.Fatal("AddFileSegment to the end")
			}
			mustContain(t, b, string(data[5100:5150])+string(data[19990:]))
			if b.first.Flags != chain.Immutable|chain.FileSegment {
				t.Fatalf("chain flags %#x", b.first.Flags)
			}
			if off, _ := unix.Seek(fd, 0, unix.SEEK_CUR); off != 7 {
				t.Fatalf("file position moved to %d", off)
			}
			if seg.refcnt != 3 {
				t.Fatalf("segment refcnt %d, want 3", seg.refcnt)
			}
			b.Free()
			if seg.refcnt != 1 {
				t.Fatal("chains must release the segment")
			}
			seg.Free()
			if !fdOpen(fd) {
				t.Fatal("fd closed without EVBUF_FS_CLOSE_ON_FREE")
			}
		})
	}
}

func TestFileSegmentErrorsAndCleanup(t *testing.T) {
	leakCheck(t)
	var cleaned []uint32
	cbFn, arg := mem.Alloc(1), mem.Alloc(1)
	defer mem.Free(cbFn)
	defer mem.Free(arg)
	defer setHooks(hooks{segClean: func(fn unsafe.Pointer, seg *FileSegment, flags uint32, a unsafe.Pointer) {
		if fn != cbFn || a != arg {
			t.Error("wrong cleanup arguments")
		}
		cleaned = append(cleaned, flags)
	}})()
	fd := tempFile(t, pattern(100))
	if seg, _ := NewFileSegment(fd, -1, 10, 0); seg != nil {
		t.Fatal("negative offset accepted")
	}
	if seg, _ := NewFileSegment(fd, 0, -2, 0); seg != nil {
		t.Fatal("negative length accepted")
	}
	if seg, e := NewFileSegment(-1, 0, -1, 0); seg != nil || e != unix.EBADF {
		t.Fatalf("fstat of a bad fd: %v", e)
	}
	seg, _ := NewFileSegment(fd, 0, 100, FSCloseOnFree)
	seg.SetCleanup(cbFn, arg)
	b := New()
	defer b.Free()
	// libevent quirk kept: a failed add drops a reference of the caller's,
	// here the last one, so the segment goes (closing fd) at once.
	if r, _ := b.AddFileSegment(seg, 50, 51); r != -1 {
		t.Fatal("a range beyond the segment must fail")
	}
	if len(cleaned) != 1 || cleaned[0] != FSCloseOnFree || fdOpen(fd) {
		t.Fatalf("cleanups %v, fd open %v", cleaned, fdOpen(fd))
	}
	// evbuffer_add_file: the buffer owns the fd.
	fd = tempFile(t, pattern(300))
	if r, _ := b.AddFile(fd, 10, 20); r != 0 {
		t.Fatal("AddFile")
	}
	mustContain(t, b, string(pattern(300)[10:30]))
	b.Drain(100)
	if fdOpen(fd) {
		t.Fatal("the buffer must close the file when done with it")
	}
	// Zero-length segments cannot be materialized (libevent's allocator
	// refuses 0 bytes).
	fd = tempFile(t, nil)
	defer unix.Close(fd)
	if seg, _ := NewFileSegment(fd, 0, 0, FSDisableSendfile|FSDisableMmap); seg != nil {
		t.Fatal("empty read-based segment must fail")
	}
}

func TestSendfileSegment(t *testing.T) {
	leakCheck(t)
	data := pattern(30000)
	fd := tempFile(t, data)
	r, w := pipe(t)
	b := New()
	defer b.Free()
	b.SetFlags(uint64(FlagDrainsToFD))
	b.Add([]byte("hdr:"))
	if n, _ := b.AddFile(fd, 1000, 5000); n != 0 {
		t.Fatal("AddFile")
	}
	c := b.last
	if c.Flags&chain.Sendfile == 0 || c.Misalign != 1000 || c.Off != 5000 {
		t.Fatalf("sendfile chain: flags %#x misalign %d", c.Flags, c.Misalign)
	}
	seg := (*segExtra)(c.Extra()).seg
	if seg.contents != nil {
		t.Fatal("a sendfile segment is not read up front")
	}
	// writev stops before the sendfile chain; the next write uses sendfile.
	if n, _ := b.Write(w); n != 4 {
		t.Fatalf("first write %d", n)
	}
	if n, _ := b.WriteAtMost(w, 10); n != 5000 {
		t.Fatalf("sendfile sends the whole chain, as libevent: %d", n)
	}
	if got := readAll(t, r); string(got) != "hdr:"+string(data[1000:6000]) {
		t.Fatalf("pipe got %d bytes", len(got))
	}
	// Looking at the bytes of a sendfile chain reads the file.
	b.AddFile(tempFile(t, data), 0, 100)
	b.Drain(10)
	mustContain(t, b, string(data[10:100]))
}
