package loop

import (
	"fmt"
	"math"
	"math/rand/v2"

	"golang.org/x/sys/unix"
)

// pollBackend is libevent's poll backend, and also stands in for its select
// backend (which differs only in what it can report: no early close). A
// program gets them by avoiding "epoll" or requiring EV_FEATURE_FDS, which
// epoll lacks (it refuses regular files).
type pollBackend struct {
	method string
	feats  int
	rdhup  bool
	fds    []unix.PollFd
	copyFd []unix.PollFd
	index  map[int32]int // fd -> position in fds
}

const (
	pollFeatures   = FeatureFDs | FeatureEarlyClose
	selectFeatures = FeatureFDs
)

// newPollState is an empty poll set for method ("poll" or "select"). The
// set is derived state: a copy of the engine that did not make the base
// rebuilds it from the fd map (rebuildBackend).
func newPollState(method string) *pollBackend {
	p := &pollBackend{method: method, index: make(map[int32]int)}
	if method == "poll" {
		p.feats, p.rdhup = pollFeatures, true
	} else {
		p.feats = selectFeatures
	}
	return p
}

func newPoll(b *Base, method string) (*pollBackend, error) {
	p := newPollState(method)
	b.setBackend(p)
	if err := b.evsigInit(); err != nil {
		b.dropBackend()
		return nil, err
	}
	return p, nil
}

func (p *pollBackend) name() string  { return p.method }
func (p *pollBackend) features() int { return p.feats }

func (p *pollBackend) bits(ev int16) int16 {
	var e int16
	if ev&EvRead != 0 {
		e |= unix.POLLIN
	}
	if ev&EvWrite != 0 {
		e |= unix.POLLOUT
	}
	if ev&EvClosed != 0 && p.rdhup {
		e |= unix.POLLRDHUP
	}
	return e
}

func (p *pollBackend) add(fd int32, old, events int16) error {
	if events&rwc == 0 {
		return nil
	}
	i, ok := p.index[fd]
	if !ok {
		i = len(p.fds)
		p.fds = append(p.fds, unix.PollFd{Fd: fd})
		p.index[fd] = i
	}
	p.fds[i].Revents = 0
	p.fds[i].Events |= p.bits(events)
	return nil
}

func (p *pollBackend) del(fd int32, old, events int16) error {
	if events&rwc == 0 {
		return nil
	}
	i, ok := p.index[fd]
	if !ok {
		return fmt.Errorf("poll: fd %d is not polled", fd)
	}
	p.fds[i].Events &^= p.bits(events)
	if p.fds[i].Events != 0 {
		return nil
	}
	last := len(p.fds) - 1
	if i != last {
		p.fds[i] = p.fds[last]
		p.index[p.fds[i].Fd] = i
	}
	p.fds = p.fds[:last]
	delete(p.index, fd)
	return nil
}

func (p *pollBackend) dispatch(b *Base, tv *Timeval) error {
	timeout := -1
	if tv != nil {
		ms := tvToMsec(*tv)
		if ms < 0 || ms > math.MaxInt32 {
			ms = math.MaxInt32
		}
		timeout = int(ms)
	}
	// Other threads may change the set while we wait: poll a copy.
	p.copyFd = append(p.copyFd[:0], p.fds...)
	set := p.copyFd
	b.hdr.Waiting = true
	b.unlock()
	n, err := unix.Poll(set, timeout)
	b.lock()
	b.hdr.Waiting = false
	if err != nil {
		if err == unix.EINTR {
			return nil
		}
		logf(LogWarn, "poll: %v", err)
		return fmt.Errorf("poll: %w", err)
	}
	if n == 0 || len(set) == 0 {
		return nil
	}
	// Start at a random slot, as libevent does, so that no fd is always
	// served first.
	i := rand.IntN(len(set))
	for range set {
		if i++; i == len(set) {
			i = 0
		}
		what := set[i].Revents
		if what == 0 {
			continue
		}
		if what&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			what |= unix.POLLIN | unix.POLLOUT
		}
		var ev int16
		if what&unix.POLLIN != 0 {
			ev |= EvRead
		}
		if what&unix.POLLOUT != 0 {
			ev |= EvWrite
		}
		if what&unix.POLLRDHUP != 0 {
			ev |= EvClosed
		}
		if ev != 0 {
			b.ioActive(set[i].Fd, ev)
		}
	}
	return nil
}

func (p *pollBackend) dealloc() { p.fds, p.copyFd, p.index = nil, nil, nil }
