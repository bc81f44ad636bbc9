package bufferevent

import (
	"structs"
	"sync/atomic"
	"unsafe"

	"goevent/core/loop"
)

// Constants with libevent's values (bufferevent.h, event.h).
const (
	EvRead  int16 = loop.EvRead
	EvWrite int16 = loop.EvWrite

	EventReading   int16 = 0x01
	EventWriting   int16 = 0x02
	EventEOF       int16 = 0x10
	EventError     int16 = 0x20
	EventTimeout   int16 = 0x40
	EventConnected int16 = 0x80

	OptCloseOnFree     = 1
	OptThreadsafe      = 2
	OptDeferCallbacks  = 4
	OptUnlockCallbacks = 8

	// TrigIgnoreWatermarks and TrigDeferCallbacks are bufferevent_trigger's
	// options (BEV_TRIG_*).
	TrigIgnoreWatermarks = 1 << 16
	TrigDeferCallbacks   = OptDeferCallbacks
	trigAllOpts          = TrigIgnoreWatermarks | TrigDeferCallbacks

	// Flush modes.
	FlushNormal   = 0
	FlushFlush    = 1
	FlushFinished = 2

	// MaxSingleDefault is libevent's default cap on one read or write
	// (reads: see also SetMaxSingleReadDefault).
	MaxSingleDefault = 16384
)

// Suspension reasons (libevent's BEV_SUSPEND_*): reading or writing can be
// held off for several reasons at once; the user's enabled flags are kept.
const (
	SuspendWM     uint16 = 0x01 // input reached the read high watermark
	SuspendBW     uint16 = 0x02 // rate limiting (later)
	SuspendBWGrp  uint16 = 0x04
	SuspendLookup uint16 = 0x08 // connect_hostname lookup in progress
	SuspendFilt   uint16 = 0x10 // filter (later)
)

// Ctrl operations (libevent's bufferevent_ctrl_op).
const (
	CtrlSetFD = iota
	CtrlGetFD
	CtrlGetUnderlying
	CtrlCancelAll
)

// CtrlData is union bufferevent_ctrl_data.
type CtrlData struct {
	Fd  int
	Ptr unsafe.Pointer
}

// Watermark is struct event_watermark.
type Watermark struct {
	_    structs.HostLayout
	Low  uintptr
	High uintptr
}

// Header is struct bufferevent (bufferevent_struct.h, 392 bytes) followed by
// goevent's private area. Offsets are ABI (see shared ABI.md); the private
// area's layout is shared with capi/bufferevent.c.
type Header struct {
	_            structs.HostLayout
	EvBase       unsafe.Pointer // 0
	BeOps        unsafe.Pointer // 8: opaque tag naming the kind
	EvRead       loop.Event     // 16
	EvWrite      loop.Event     // 144
	Input        unsafe.Pointer // 272
	Output       unsafe.Pointer // 280
	WmRead       Watermark      // 288
	WmWrite      Watermark      // 304
	ReadCB       unsafe.Pointer // 320
	WriteCB      unsafe.Pointer // 328
	ErrorCB      unsafe.Pointer // 336
	CBArg        unsafe.Pointer // 344
	TimeoutRead  loop.Timeval   // 352
	TimeoutWrite loop.Timeval   // 368
	Enabled      int16          // 384
	_            [6]byte        // 386
	// ---- goevent's private area (read by capi/bufferevent.c) ----
	// The state the C I/O handlers need lives here rather than in BEV, so
	// that a socket bufferevent's common reads and writes run in C without
	// entering Go (see capi/bufferevent.c).
	Lock           unsafe.Pointer // 392: the bufferevent's lock, nil if none
	Magic          uint32         // 400: bevMagic while the bufferevent lives
	Kind           uint32         // 404: kind* (socket, pair, filter)
	Options        int32          // 408: BEV_OPT_* given at creation
	Refcnt         int32          // 412: references (libevent's refcnt)
	ReadSuspended  uint16         // 416: BEV_SUSPEND_* holding reading off
	WriteSuspended uint16         // 418: and writing
	Flags          uint32         // 420: Flag*
	MaxRead        int64          // 424: max single read
	MaxWrite       int64          // 432: max single write
	// A filter's input filter when it is a C function, and its context,
	// so that capi can run the filter on a read without entering Go
	// (FlagFilterC).
	FiltIn  unsafe.Pointer // 440
	FiltCtx unsafe.Pointer // 448
	// Partner is a pair end's partner (nil otherwise, or once unlinked).
	Partner unsafe.Pointer // 456
	// DeferredCb is the struct event_callback of the bufferevent's
	// deferred callback, which capi schedules and runs in C too.
	DeferredCb unsafe.Pointer // 464
	// What waits for the deferred run (BEV_OPT_DEFER_CALLBACKS).
	ReadcbPending  bool  // 472
	WritecbPending bool  // 473
	EventcbPending int16 // 474: BEV_EVENT_* bits
	ErrnoPending   int32 // 476
}

// Header flags (Header.Flags).
const (
	// FlagSockC: a socket bufferevent whose events call capi's C I/O
	// handlers, which do the common case themselves.
	FlagSockC uint32 = 1 << iota
	// FlagConnecting: a connect is in progress.
	FlagConnecting
	// FlagRateLimited: a rate limit or a group applies (ratelim.go).
	FlagRateLimited
	// FlagFinalizing: the last reference is gone.
	FlagFinalizing
	// FlagFilterC: a filter whose input filter is FiltIn (a C function).
	FlagFilterC
	// FlagWritev: the socket kind's fd is not a socket but a terminal or
	// file, which capi's C write handler writes with writev; set there,
	// cleared when the fd changes.
	FlagWritev
	// FlagNotSock: the socket kind's fd is not a socket and may raise
	// SIGPIPE (a pipe): written from Go without a sendmsg first. Set by
	// capi's C write handler, cleared when the fd changes.
	FlagNotSock
)

// PublicSize is sizeof(struct bufferevent); HeaderSize is what is allocated.
const (
	PublicSize = 392
	HeaderSize = unsafe.Sizeof(Header{})
)

// Private-area offsets, pinned by a test and mirrored in C.
const (
	OffLock           = 392
	OffMagic          = 400
	OffKind           = 404
	OffOptions        = 408
	OffRefcnt         = 412
	OffReadSuspended  = 416
	OffWriteSuspended = 418
	OffFlags          = 420
	OffMaxRead        = 424
	OffMaxWrite       = 432
	OffFiltIn         = 440
	OffFiltCtx        = 448
	OffPartner        = 456
	OffDeferredCb     = 464
	OffReadcbPending  = 472
	OffEventcbPending = 474
	OffErrnoPending   = 476
)

func (b *BEV) connecting() bool { return b.h.Flags&FlagConnecting != 0 }

func (b *BEV) setConnecting(on bool) {
	if on {
		b.h.Flags |= FlagConnecting
	} else {
		b.h.Flags &^= FlagConnecting
	}
}

// bevMagic marks a live bufferevent's header.
const bevMagic = 0x67656265

// The kinds (Header.Kind); ops gives each one's Ops.
const (
	kindSocket uint32 = iota + 1
	kindPair
	kindFilter
)

// FromPointer returns the bufferevent behind a struct bufferevent * made by
// this package, or nil. The BEV follows the header in the same block.
func FromPointer(p unsafe.Pointer) *BEV {
	if p == nil || (*Header)(p).Magic != bevMagic {
		return nil
	}
	return (*BEV)(unsafe.Add(p, HeaderSize))
}

// live counts the bufferevents this package made and has not finalized.
var live atomic.Int64

// Live reports how many bufferevents this package made and has not
// finalized itself (tests use it to prove frees). A socket bufferevent
// finalized by Env.SockFinalizeFn in C (the C ABI layer's) stays counted:
// the count is for environments without one, as the unit tests' is.
func Live() int { return int(live.Load()) }
