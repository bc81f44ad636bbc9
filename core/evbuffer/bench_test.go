package evbuffer

import (
	"bytes"
	"testing"

	"goevent/core/mem"
)

func mib() *Buffer {
	b := New()
	chunk := bytes.Repeat([]byte("a"), 1000)
	for b.Len() < 1<<20 {
		b.Add(chunk)
	}
	return b
}

func BenchmarkAdd16(b *testing.B) {
	buf := New()
	defer buf.Free()
	d := []byte("0123456789abcdef")
	for i := 0; i < b.N; i++ {
		buf.Add(d)
		if i&1023 == 1023 {
			buf.Drain(16 * 1024)
		}
	}
}

func BenchmarkReadLnLF(b *testing.B) {
	buf := New()
	defer buf.Free()
	line := append(bytes.Repeat([]byte("x"), 79), '\n')
	for i := 0; i < b.N; i++ {
		if buf.Len() == 0 {
			b.StopTimer()
			for k := 0; k < 10000; k++ {
				buf.Add(line)
			}
			b.StartTimer()
		}
		p, _, _ := buf.ReadLn(EOLLF)
		mem.Free(p)
	}
}

func BenchmarkSearch1MiB(b *testing.B) {
	buf := mib()
	defer buf.Free()
	buf.Add([]byte("needle"))
	b.SetBytes(1 << 20)
	for i := 0; i < b.N; i++ {
		if buf.Search([]byte("needle"), nil).Pos < 0 {
			b.Fatal("not found")
		}
	}
}

func BenchmarkPullup1MiB(b *testing.B) {
	b.SetBytes(1 << 20)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		buf := mib()
		b.StartTimer()
		buf.Pullup(-1)
		b.StopTimer()
		buf.Free()
		b.StartTimer()
	}
}

func BenchmarkAddBuffer1MiB(b *testing.B) {
	x, y := mib(), newFrom("y")
	defer x.Free()
	defer y.Free()
	for i := 0; i < b.N; i++ {
		y.AddBuffer(x)
		x.AddBuffer(y)
	}
}
