// Package loop is goevent's event loop: libevent 2.1.12's event_base and
// struct event semantics, in Go.
//
// Memory model. A struct event is 128 bytes of caller-owned storage (C code
// embeds it in its own structs and hands it to event_assign), so every event
// keeps all of its state inside those 128 bytes, laid out exactly as
// libevent's event_struct.h lays it out. The fields libevent gives meaning to
// (fd, events, base, flags, priority, closure, callback, argument, timeout,
// result) hold the values libevent would hold; the areas libevent uses for its
// own bookkeeping (the active-queue links, the timeout position, the per-fd
// list links) hold goevent's bookkeeping. Events are linked to each other
// through those areas, so an Event must never live in the Go heap: C
// allocates them, and Go code (tests, internal events) allocates them with
// core/mem.
//
// The base itself is a Go object. What C holds as a struct event_base * is a
// small header in off-heap memory carrying an integer handle to it (see
// baseHeader), which keeps the C side free of Go pointers.
//
// Callbacks. User callbacks are C function pointers; the loop calls them
// through an injected Invoker (the C ABI layer installs a C trampoline, tests
// install Go functions), so each callback the Go loop runs costs one Go->C
// crossing. On a base without a lock the C ABI layer goes further: it keeps
// the active queues, the timer heap and the loop itself in C over state
// shared through the base header (see baseHeader, SetQueueRunner, RunBatch and
// the CLoop* functions), and calls into this package only for the work that
// needs Go state.
// goevent's own callbacks (signal pipe, wakeup eventfd, event_base_once,
// loopexit, common timeouts, deferred callbacks, bufferevents) are Go
// functions registered with RegisterGoCallback; their "function pointer" is
// the address of a slot in a small off-heap table, so they can sit in the same
// 128-byte events and queues as C callbacks.
package loop

import (
	"structs"
	"unsafe"
)

// Event flags (the `events` argument of event_assign), libevent's values.
const (
	EvTimeout  = 0x01
	EvRead     = 0x02
	EvWrite    = 0x04
	EvSignal   = 0x08
	EvPersist  = 0x10
	EvET       = 0x20
	EvFinalize = 0x40
	EvClosed   = 0x80
)

// Queue membership flags (evcb_flags), libevent's EVLIST_* values.
const (
	ListTimeout     = 0x01
	ListInserted    = 0x02
	ListSignal      = 0x04
	ListActive      = 0x08
	ListInternal    = 0x10
	ListActiveLater = 0x20
	ListFinalizing  = 0x40
	ListInit        = 0x80
	listAll         = 0xff
)

// Closure kinds (evcb_closure), libevent's EV_CLOSURE_* values.
const (
	ClosureEvent             = 0
	ClosureEventSignal       = 1
	ClosureEventPersist      = 2
	ClosureCbSelf            = 3
	ClosureCbFinalize        = 4
	ClosureEventFinalize     = 5
	ClosureEventFinalizeFree = 6
)

// Loop flags for Base.Loop (EVLOOP_*).
const (
	LoopOnce          = 0x01
	LoopNonblock      = 0x02
	LoopNoExitOnEmpty = 0x04
)

// Counters for NumEvents/MaxEvents (EVENT_BASE_COUNT_*).
const (
	CountActive  = 1
	CountVirtual = 2
	CountAdded   = 4
)

// Backend features (EV_FEATURE_*).
const (
	FeatureET         = 0x01
	FeatureO1         = 0x02
	FeatureFDs        = 0x04
	FeatureEarlyClose = 0x08
)

// Base configuration flags (EVENT_BASE_FLAG_*).
const (
	FlagNoLock             = 0x01
	FlagIgnoreEnv          = 0x02
	FlagStartupIOCP        = 0x04
	FlagNoCacheTime        = 0x08
	FlagEpollUseChangelist = 0x10
	FlagPreciseTimer       = 0x20
)

// MaxPriorities is EVENT_MAX_PRIORITIES: priorities must be below it.
const MaxPriorities = 256

// Deletion modes of event_del_nolock_ (EVENT_DEL_*).
const (
	DelNoBlock          = 0
	DelBlock            = 1
	DelAutoBlock        = 2
	DelEvenIfFinalizing = 3
)

// EventSize is sizeof(struct event).
const EventSize = 128

// Timeval mirrors struct timeval on x86-64 Linux.
type Timeval struct {
	_    structs.HostLayout
	Sec  int64
	Usec int64
}

// Callback mirrors struct event_callback (40 bytes). The first 16 bytes are
// the active-queue links (libevent's TAILQ_ENTRY evcb_active_next); goevent
// keeps its own doubly linked list there.
type Callback struct {
	_       structs.HostLayout
	next    *Callback      // 0
	prev    *Callback      // 8
	Flags   uint16         // 16 evcb_flags
	Pri     uint8          // 18 evcb_pri
	Closure uint8          // 19 evcb_closure
	_       uint32         // 20
	Fn      unsafe.Pointer // 24 evcb_cb_union
	Arg     unsafe.Pointer // 32 evcb_arg
}

// Event mirrors struct event (128 bytes); see the package comment for which
// fields are libevent's and which are goevent's bookkeeping.
type Event struct {
	_  structs.HostLayout
	Cb Callback // 0 ev_evcallback
	// 40 ev_timeout_pos: links in a common-timeout queue, or (first word)
	// the index in the timer heap.
	tnext *Event
	tprev *Event
	Fd    int32          // 56 ev_fd
	_     int32          // 60
	Base  unsafe.Pointer // 64 ev_base (a *baseHeader)
	// 72 ev_: links in the per-fd or per-signal list, then either the
	// persistent-event interval (ev_io_timeout) or, for signals, the
	// pending call count and goevent's closure bookkeeping.
	lnext     *Event
	lprev     *Event
	ioTimeout Timeval // 88
	Events    int16   // 104 ev_events
	Res       int16   // 106 ev_res
	_         int32   // 108
	Timeout   Timeval // 112 ev_timeout (monotonic, may carry common-timeout bits)
}

// heapIdx is the event's index in its base's timer heap, -1 when absent.
// It shares storage with the common-timeout links, as in libevent.
func (e *Event) heapIdx() int {
	return int(*(*int64)(unsafe.Pointer(&e.tnext)))
}

func (e *Event) setHeapIdx(i int) {
	*(*int64)(unsafe.Pointer(&e.tnext)) = int64(i)
}

// Signal events use the ev_io_timeout area differently (ev_ncalls at 88,
// ev_pncalls at 96). goevent keeps the remaining call count at 88 and, in
// the pointer slot, whether a signal closure is running on the event and
// whether it was asked to stop (libevent zeroes the closure's loop counter
// through ev_pncalls; Go cannot hand C memory a pointer to its stack).
func (e *Event) ncalls() *int16 { return (*int16)(unsafe.Pointer(&e.ioTimeout.Sec)) }

type sigRun struct {
	attached uint32
	aborted  uint32
}

func (e *Event) sigRun() *sigRun { return (*sigRun)(unsafe.Pointer(&e.ioTimeout.Usec)) }

// IOTimeout is the interval a persistent event with a timeout is re-armed
// with (ev_io_timeout).
func (e *Event) IOTimeout() Timeval { return e.ioTimeout }

func (e *Event) callback() *Callback { return &e.Cb }

// eventOf converts a callback known to be the head of an Event (ListInit set).
func eventOf(cb *Callback) *Event { return (*Event)(unsafe.Pointer(cb)) }

// cbList is a doubly linked queue of callbacks threaded through their
// first 16 bytes.
type cbList struct {
	head, tail *Callback
}

func (l *cbList) pushBack(cb *Callback) {
	cb.next = nil
	cb.prev = l.tail
	if l.tail != nil {
		l.tail.next = cb
	} else {
		l.head = cb
	}
	l.tail = cb
}

func (l *cbList) remove(cb *Callback) {
	if cb.prev != nil {
		cb.prev.next = cb.next
	} else {
		l.head = cb.next
	}
	if cb.next != nil {
		cb.next.prev = cb.prev
	} else {
		l.tail = cb.prev
	}
	cb.next, cb.prev = nil, nil
}

// evList is a doubly linked list of events; which pair of links it uses is
// chosen by the accessor functions, as libevent's LIST/TAILQ macros do.
type evList struct {
	head, tail *Event
}

// ---- timeval arithmetic, libevent's evutil_timer* macros ---------------

func tvAdd(a, b Timeval) Timeval {
	r := Timeval{Sec: a.Sec + b.Sec, Usec: a.Usec + b.Usec}
	if r.Usec >= 1000000 {
		r.Sec++
		r.Usec -= 1000000
	}
	return r
}

func tvSub(a, b Timeval) Timeval {
	r := Timeval{Sec: a.Sec - b.Sec, Usec: a.Usec - b.Usec}
	if r.Usec < 0 {
		r.Sec--
		r.Usec += 1000000
	}
	return r
}

// tvLess reports a < b.
func tvLess(a, b Timeval) bool {
	if a.Sec == b.Sec {
		return a.Usec < b.Usec
	}
	return a.Sec < b.Sec
}

func (t Timeval) isSet() bool { return t.Sec != 0 || t.Usec != 0 }
