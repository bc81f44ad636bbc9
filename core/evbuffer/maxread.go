package evbuffer

import (
	"math"
	"strconv"
)

// MaxReadDefault is what one Read takes at most unless the buffer or the
// process says otherwise: libevent 2.1.12's fixed EVBUFFER_MAX_READ, which
// also decides the chain layouts programs observe after reads.
const MaxReadDefault = maxRead

// defaultMaxRead is the cap new buffers start with: MaxReadDefault, or
// what SetDefaultMaxRead made it. It lives in every buffer's head once the
// buffer exists, so only buffers made later see a change.
var defaultMaxRead int32 = MaxReadDefault

// SetDefaultMaxRead sets the cap of buffers created from now on (the
// engine calls it once, at start, for GOEVENT_MAX_READ). n must be within
// what ParseMaxRead accepts.
func SetDefaultMaxRead(n int) { defaultMaxRead = int32(n) }

// DefaultMaxRead is the cap new buffers start with.
func DefaultMaxRead() int { return int(defaultMaxRead) }

// ParseMaxRead reads a GOEVENT_MAX_READ value: a decimal byte count from 1
// to math.MaxInt32 (evbuffer_read returns an int, and libevent 2.2's
// evbuffer_set_max_read refuses more), digits only. ok is false for
// anything else, which the caller reports and ignores.
func ParseMaxRead(s string) (n int, ok bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v > math.MaxInt32 {
		return 0, false
	}
	return int(v), true
}

// SetMaxRead caps what one Read takes (evbuffer_set_max_read): 0 to
// math.MaxInt32, else -1 and nothing changes. 0 makes every Read take
// nothing, which it reports as end of file, as libevent 2.2 does.
func (b *Buffer) SetMaxRead(n int) int {
	if n < 0 || n > math.MaxInt32 {
		return -1
	}
	b.maxRead = int32(n)
	return 0
}

// MaxRead is the cap SetMaxRead set (evbuffer_get_max_read).
func (b *Buffer) MaxRead() int { return int(b.maxRead) }
