package loop

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"structs"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/mem"
)

// baseHeader is what C holds as a struct event_base *: off-heap memory that
// names the Go-side Base by handle, followed by the loop state the C fast
// paths share with Go. C reads NPriorities directly so that event_assign
// (which puts new events in the middle priority) needs no crossing; on a base
// without a lock, C also activates events and runs the active queues itself
// (see capi/loop.c), so the active queues, their counters and the loop's
// break/continue flags live here rather than in the Go struct. On a lockable
// base only Go touches anything after Features, under the base's mutex.
// Keep the layout in step with struct ge_base in capi/goevent_loop.h; the
// layout test pins the offsets.
type baseHeader struct {
	_           structs.HostLayout
	Magic       uint32 // 0
	Handle      uint32 // 4
	NPriorities int32  // 8
	Lockable    int32  // 12: nonzero when the base has its own lock
	Method      int32  // 16: index in Methods()
	Features    int32  // 20: the backend's EV_FEATURE_* bits

	Active          *cbList   // 24: NPriorities queues, off-heap
	Current         *Callback // 32: the callback running now, if any
	CountActive     int       // 40: callbacks on the active queues (both)
	CountActiveMax  int       // 48
	EventCount      int       // 56: see queue.go
	EventCountMax   int       // 64
	RunningPriority int       // 72: queue being run, -1 between passes
	GotBreak        bool      // 80: event_base_loopbreak
	GotContinue     bool      // 81: event_base_loopcontinue (or a higher-priority activation)
	GotTerm         bool      // 82: event_base_loopexit fired
	Waiting         bool      // 83: blocked (or about to block) in the backend
	_               uint32    // 84

	Heap            unsafe.Pointer // 88: timer heap array (*Event entries)
	HeapLen         int            // 96
	HeapCap         int            // 104
	TvCache         Timeval        // 112: cached loop time (Sec==0: none)
	ClockDiff       Timeval        // 128: wall - monotonic
	LastClockUpdate int64          // 144: when ClockDiff was last computed
	Precise         bool           // 152: CLOCK_MONOTONIC, not _COARSE
	Running         bool           // 153: a loop is running
	NoCacheTime     bool           // 154: EVENT_BASE_FLAG_NO_CACHE_TIME
	CLoop           bool           // 155: C may run this base's loop (see below)
	SigSetBase      bool           // 156: the loop must claim the signal pipe on start
	_               [3]byte        // 157
	Epfd            int32          // 160: the epoll fd (-1: none)
	_               int32          // 164
	EpEvents        unsafe.Pointer // 168: epoll_wait's result array
	EpCap           int            // 176: its capacity
	VirtualCount    int            // 184
	NDeferreds      int            // 192
	Later           cbList         // 200: callbacks active next iteration
	MaxCallbacks    int            // 216
	LimitAfterPrio  int            // 224
	// IoMap is the fd map (libevent's evmap_io), IoCap entries of
	// ioEntry in off-heap memory, so that C can activate, add and delete
	// fd events without calling Go.
	IoMap unsafe.Pointer // 232: ioEntry[IoCap]
	IoCap int            // 240
	// LockWord is a lockable base's lock (sharedLock), which C takes too.
	LockWord uint32 // 248
	// CurrentWaiters counts threads waiting for the running callback to
	// return (event_del from another thread); the loop wakes them.
	CurrentWaiters int32 // 252
	// OwnerTid is the thread running (or that last ran) the loop.
	OwnerTid int32 // 256
	_        int32 // 260
	// OwnerThread is that thread's pthread_t, set by the C loop, which
	// lets C tell the loop's thread from others without a system call.
	OwnerThread uint64 // 264
}

// CLoop: a base without a lock whose backend is epoll and that has no
// dispatch deadline runs event_base_loop in C (capi/event.c), which calls
// back into Go only for work that needs Go state (fds that became ready,
// expired timers, callbacks active next time, signals). Every other base
// runs Base.Loop. The choice is made once, when the base is created.

const (
	baseMagic     = 0x6765b45e
	baseHeaderLen = unsafe.Sizeof(baseHeader{})
)

// A base is one block of off-heap memory: the header C shares, then the
// rest of Base. Nothing of a base lives on the Go heap, so a fresh copy of
// the engine (loaded in a child after fork) works on it as the copy that made
// it did; what Go keeps besides is a cache it can rebuild (the backend, see
// be).

// FromPtr returns the Base a struct event_base * names, or nil if p is nil
// or does not name a live base.
func FromPtr(p unsafe.Pointer) *Base {
	if p == nil {
		return nil
	}
	h := (*baseHeader)(p)
	if h.Magic != baseMagic {
		return nil
	}
	return (*Base)(unsafe.Add(p, baseHeaderLen))
}

// Config is what event_config carries (event_config_* setters).
type Config struct {
	Flags            int
	RequireFeatures  int
	AvoidMethods     []string
	MaxDispatch      *Timeval // nil: no limit
	MaxCallbacks     int      // <0: no limit
	LimitAfterPrio   int
	UseLock          bool // evthread locking is enabled (and FlagNoLock unset)
	NotifyOnCreation bool // make the base notifiable (libevent does when locking)
	// Getenv reads the environment (EVENT_NO<METHOD>, EVENT_PRECISE_TIMER,
	// EVENT_SHOW_METHOD); nil means os.LookupEnv. The C ABI layer passes
	// libc's getenv, since C programs change their environment after the
	// Go runtime copied it.
	Getenv func(name string) (string, bool)
}

// DefaultConfig is event_config_new's defaults.
func DefaultConfig() Config {
	return Config{MaxCallbacks: math.MaxInt32, LimitAfterPrio: 1}
}

// commonTimeout is one of event_base_init_common_timeout's queues; off-heap
// because its event is linked into C's queues and heap.
type commonTimeout struct {
	events   evList // through tnext/tprev
	duration Timeval
	ev       Event
	base     unsafe.Pointer
}

// ioEntry is one fd's slot in the fd map. The map lives off the Go heap
// (baseHeader.IoMap), laid out as capi/event.c's struct ge_io, so that C
// can both activate an fd's events and add or delete them.
type ioEntry struct {
	_      structs.HostLayout
	head   *Event // 0: through lnext/lprev, newest first
	nread  uint16 // 8: events reading
	nwrite uint16 // 10: writing
	nclose uint16 // 12: waiting for EV_CLOSED
	_      uint16 // 14
}

// onceEvent is libevent's struct event_once; off-heap because its event is
// linked into queues with C events.
type onceEvent struct {
	ev         Event
	cb         unsafe.Pointer
	arg        unsafe.Pointer
	next, prev *onceEvent
}

// Base is an event_base. It lives off the Go heap, right after its header
// (see FromPtr), and holds no Go pointer: a fresh engine copy must be able to
// use a base the previous copy made.
type Base struct {
	hdr      *baseHeader
	lockable bool
	lk       sharedLock // on hdr.LockWord
	// curSeq counts returns of running callbacks; event_del from another
	// thread waits on it (a futex word) until the callback it must not
	// race has returned (waitCurrent, wakeCurrentWaiters).
	curSeq uint32

	flags         int
	beKind        beKind // which backend; its Go-side object is a cache (be)
	envChangelist bool   // EVENT_EPOLL_USE_CHANGELIST was set
	// detached: fd events come and go without telling the backend (Reinit
	// deletes the internal events of a base whose epoll instance is
	// shared with the parent process).
	detached bool

	// time: in hdr

	// callbacks and queues (the active queues and their counters are in
	// hdr)
	virtualCount    int // mirrored in hdr.VirtualCount for the C loop
	virtualCountMax int

	// The common timeout queues (the heap is in hdr).
	common  [maxCommonTimers]*commonTimeout
	ncommon int

	io  []ioEntry    // over hdr.IoMap
	sig [nsig]*Event // each signal's events, through lnext/lprev

	// loop state (more in hdr)

	maxDispatch    Timeval // Sec<0: none
	maxCallbacks   int
	limitAfterPrio int

	// signals (libevent's struct evsig_info)
	sigPipe       [2]int
	sigEv         *Event
	sigAdded      bool
	nSignalsAdded int
	sigOld        [nsig]uintptr // what SignalHooks.Install returned, if sigHave
	sigHave       [nsig]bool

	// cross-thread wakeup
	notifyFd      int
	notifyEv      *Event
	notifyPending bool

	once *onceEvent // event_base_once events not yet run
}

// ErrNoBackend is returned when the configuration excludes every backend.
var ErrNoBackend = errors.New("no event mechanism available")

// The backends, in libevent's order of preference on Linux.
var methods = []struct {
	name     string
	features int
	create   func(b *Base) (backend, error)
}{
	{"epoll", epollFeatures, func(b *Base) (backend, error) { return newEpoll(b) }},
	{"poll", pollFeatures, func(b *Base) (backend, error) { return newPoll(b, "poll") }},
	{"select", selectFeatures, func(b *Base) (backend, error) { return newPoll(b, "select") }},
}

// Methods lists the backends, in order of preference
// (event_get_supported_methods).
func Methods() []string {
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = m.name
	}
	return names
}

// MethodIndex is the position of b's backend in Methods(), or
// len(Methods()) for epoll's changelist variant.
func (b *Base) MethodIndex() int {
	name := b.be().name()
	for i, m := range methods {
		if m.name == name {
			return i
		}
	}
	if name == nameChangelist {
		return len(methods)
	}
	return -1
}

func (c *Config) getenv(name string) bool {
	if c.Getenv != nil {
		_, ok := c.Getenv(name)
		return ok
	}
	_, ok := os.LookupEnv(name)
	return ok
}

// NewBase is event_base_new_with_config.
func NewBase(cfg Config) (*Base, error) {
	Init(nil)
	hp := mem.AllocZeroed(baseHeaderLen + unsafe.Sizeof(Base{}))
	if hp == nil {
		return nil, fmt.Errorf("event_base_new: %w", unix.ENOMEM)
	}
	b := (*Base)(unsafe.Add(hp, baseHeaderLen))
	b.flags = cfg.Flags
	b.sigPipe = [2]int{-1, -1}
	b.notifyFd = -1
	b.hdr = (*baseHeader)(hp)
	b.hdr.Magic = baseMagic
	b.hdr.RunningPriority = -1
	b.hdr.Epfd = -1
	b.hdr.NoCacheTime = cfg.Flags&FlagNoCacheTime != 0
	checkEnv := cfg.Flags&FlagIgnoreEnv == 0
	b.hdr.Precise = cfg.Flags&FlagPreciseTimer != 0
	if checkEnv && !b.hdr.Precise {
		if cfg.getenv("EVENT_PRECISE_TIMER") {
			b.hdr.Precise = true
			b.flags |= FlagPreciseTimer
		}
	}
	b.envChangelist = checkEnv && cfg.getenv("EVENT_EPOLL_USE_CHANGELIST")
	b.hdr.LastClockUpdate = math.MinInt64 / 2
	b.gettime()

	if cfg.MaxDispatch != nil {
		b.maxDispatch = *cfg.MaxDispatch
	} else {
		b.maxDispatch.Sec = -1
	}
	b.limitAfterPrio = cfg.LimitAfterPrio
	if cfg.MaxCallbacks >= 0 {
		b.maxCallbacks = cfg.MaxCallbacks
	} else {
		b.maxCallbacks = math.MaxInt32
	}
	if b.maxCallbacks == math.MaxInt32 && b.maxDispatch.Sec == -1 {
		b.limitAfterPrio = math.MaxInt32
	}
	b.hdr.MaxCallbacks = b.maxCallbacks
	b.hdr.LimitAfterPrio = b.limitAfterPrio

	var initErr error
	for _, m := range methods {
		if containsString(cfg.AvoidMethods, m.name) {
			continue
		}
		if m.features&cfg.RequireFeatures != cfg.RequireFeatures {
			continue
		}
		if checkEnv && cfg.getenv("EVENT_NO"+strings.ToUpper(m.name)) {
			continue
		}
		be, err := m.create(b)
		if err != nil {
			initErr = err
			continue
		}
		b.setBackend(be)
		break
	}
	if b.beKind == beNone {
		logf(LogWarn, "event_base_new_with_config: no event mechanism available")
		b.release()
		if initErr != nil {
			return nil, initErr
		}
		return nil, ErrNoBackend
	}
	b.hdr.Method = int32(b.MethodIndex())
	b.hdr.CLoop = b.beKind.isEpoll() && b.maxDispatch.Sec < 0
	b.hdr.Features = int32(b.be().features())
	if cfg.getenv("EVENT_SHOW_METHOD") {
		logf(LogMsg, "libevent using: %s", b.be().name())
	}
	if b.PriorityInit(1) < 0 {
		b.Free(false)
		return nil, errors.New("event_base_new: priority queues")
	}
	if cfg.UseLock {
		b.lockable = true
		b.hdr.Lockable = 1
		b.lk = newSharedLock(&b.hdr.LockWord)
		if err := b.MakeNotifiable(); err != nil {
			logf(LogWarn, "event_base_new_with_config: Unable to make base notifiable.")
			b.Free(false)
			return nil, err
		}
	} else if cfg.NotifyOnCreation {
		if err := b.MakeNotifiable(); err != nil {
			b.Free(false)
			return nil, err
		}
	}
	return b, nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Ptr is the struct event_base * that names b.
func (b *Base) Ptr() unsafe.Pointer { return unsafe.Pointer(b.hdr) }

// Lockable reports whether b serialises access with its own lock.
func (b *Base) Lockable() bool { return b.lockable }

func (b *Base) lock() {
	if b.lockable {
		b.lk.Lock()
	}
}

func (b *Base) unlock() {
	if b.lockable {
		b.lk.Unlock()
	}
}

// Lock and Unlock take the base's lock (a no-op on a base without one); for
// code that must run several loop operations atomically.
func (b *Base) Lock()   { b.lock() }
func (b *Base) Unlock() { b.unlock() }

// inThread is libevent's EVBASE_IN_THREAD: whether the caller is the thread
// that runs (or last ran) the loop. Without locking every caller counts as
// that thread, as in libevent without thread callbacks.
func (b *Base) inThread() bool {
	if !b.lockable {
		return true
	}
	return int(b.hdr.OwnerTid) == unix.Gettid()
}

// waitCurrent blocks until the callback running on the loop thread returns
// (or at least one callback did: callers check again). Caller holds the
// lock, which is released while waiting.
func (b *Base) waitCurrent() {
	b.hdr.CurrentWaiters++
	seq := atomic.LoadUint32(&b.curSeq)
	b.unlock()
	futexWait(&b.curSeq, seq)
	b.lock()
}

// wakeCurrentWaiters wakes every thread in waitCurrent.
func (b *Base) wakeCurrentWaiters() {
	atomic.AddUint32(&b.curSeq, 1)
	futexWakeAll(&b.curSeq)
}

// needNotify tells whether a change must wake the loop: only when it is
// blocked in the backend, since otherwise it will see the change before it
// next blocks (the loop sets `waiting` under the lock).
func (b *Base) needNotify() bool {
	return b.notifyFd >= 0 && b.hdr.Running && b.hdr.Waiting
}

func (b *Base) notify() {
	if b.notifyFd < 0 {
		return
	}
	if b.notifyPending {
		return
	}
	b.notifyPending = true
	var one = [8]byte{1}
	for {
		_, err := unix.Write(b.notifyFd, one[:])
		if err != unix.EAGAIN && err != unix.EINTR {
			return
		}
	}
}

func notifyDrainFn(fd int32, what int16, arg unsafe.Pointer) {
	var buf [8]byte
	_, err := unix.Read(int(fd), buf[:])
	if err != nil && err != unix.EAGAIN {
		logf(LogWarn, "Error reading from eventfd: %v", err)
	}
	if b := FromPtr(arg); b != nil {
		b.lock()
		b.notifyPending = false
		b.unlock()
	}
}

// MakeNotifiable is evthread_make_base_notifiable: give the base an eventfd
// other threads write to when they need the loop to wake up.
func (b *Base) MakeNotifiable() error {
	b.lock()
	defer b.unlock()
	return b.makeNotifiableLocked()
}

func (b *Base) makeNotifiableLocked() error {
	if b.notifyFd >= 0 {
		return nil
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("evthread_make_base_notifiable: eventfd: %w", err)
	}
	if b.notifyEv == nil {
		b.notifyEv = allocEvent()
		if b.notifyEv == nil {
			_ = unix.Close(fd)
			return fmt.Errorf("evthread_make_base_notifiable: %w", unix.ENOMEM)
		}
	}
	b.notifyFd = fd
	b.assignLocked(b.notifyEv, int32(fd), EvRead|EvPersist, notifyDrainCb, b.Ptr())
	b.notifyEv.Cb.Flags |= ListInternal
	b.notifyEv.Cb.Pri = 0
	if _, err := b.addLocked(b.notifyEv, nil, false); err != nil {
		return fmt.Errorf("evthread_make_base_notifiable: %w", err)
	}
	return nil
}

func allocEvent() *Event {
	return (*Event)(mem.AllocZeroed(EventSize))
}

// AllocEvent returns zeroed off-heap storage for one event (what event_new
// gets from malloc). Release it with FreeEvent.
func AllocEvent() *Event { return allocEvent() }

// FreeEvent releases storage from AllocEvent.
func FreeEvent(ev *Event) { mem.Free(unsafe.Pointer(ev)) }

// Method is event_base_get_method.
func (b *Base) Method() string { return b.be().name() }

// Features is event_base_get_features.
func (b *Base) Features() int { return b.be().features() }

// NPriorities is event_base_get_npriorities.
func (b *Base) NPriorities() int {
	b.lock()
	defer b.unlock()
	return b.npri()
}

func (b *Base) npri() int { return int(b.hdr.NPriorities) }

// queues is the active queues as a slice over their off-heap array.
func (b *Base) queues() []cbList {
	if b.hdr.Active == nil {
		return nil
	}
	return unsafe.Slice(b.hdr.Active, b.hdr.NPriorities)
}

// PriorityInit is event_base_priority_init.
func (b *Base) PriorityInit(n int) int {
	b.lock()
	defer b.unlock()
	if b.hdr.CountActive != 0 || n < 1 || n >= MaxPriorities {
		return -1
	}
	if n == b.npri() {
		return 0
	}
	q := (*cbList)(mem.AllocZeroed(uintptr(n) * unsafe.Sizeof(cbList{})))
	if q == nil {
		return -1
	}
	mem.Free(unsafe.Pointer(b.hdr.Active))
	b.hdr.Active = q
	b.hdr.NPriorities = int32(n)
	return 0
}

// NumEvents is event_base_get_num_events.
func (b *Base) NumEvents(which int) int {
	b.lock()
	defer b.unlock()
	r := 0
	if which&CountActive != 0 {
		r += b.hdr.CountActive
	}
	if which&CountVirtual != 0 {
		r += b.virtualCount
	}
	if which&CountAdded != 0 {
		r += b.hdr.EventCount
	}
	return r
}

// MaxEvents is event_base_get_max_events.
func (b *Base) MaxEvents(which int, clear bool) int {
	b.lock()
	defer b.unlock()
	r := 0
	if which&CountActive != 0 {
		r += b.hdr.CountActiveMax
		if clear {
			b.hdr.CountActiveMax = 0
		}
	}
	if which&CountVirtual != 0 {
		r += b.virtualCountMax
		if clear {
			b.virtualCountMax = 0
		}
	}
	if which&CountAdded != 0 {
		r += b.hdr.EventCountMax
		if clear {
			b.hdr.EventCountMax = 0
		}
	}
	return r
}

// AddVirtual and DelVirtual are event_base_add_virtual_/del_virtual_: things
// that keep the loop running without being events (listeners use them).
func (b *Base) AddVirtual() {
	b.lock()
	b.virtualCount++
	b.hdr.VirtualCount = b.virtualCount
	b.virtualCountMax = max(b.virtualCountMax, b.virtualCount)
	b.unlock()
}

func (b *Base) DelVirtual() {
	b.lock()
	if b.virtualCount > 0 {
		b.virtualCount--
		b.hdr.VirtualCount = b.virtualCount
	}
	if b.virtualCount == 0 && b.needNotify() {
		b.notify()
	}
	b.unlock()
}

func (b *Base) haveEvents() bool { return b.virtualCount > 0 || b.hdr.EventCount > 0 }

// ---- time ----------------------------------------------------------------

// Clocks. The defaults use system calls; the C ABI layer installs vDSO-backed
// versions. Monotonic time uses CLOCK_MONOTONIC_COARSE unless the base asked
// for precise timers, as libevent does on Linux: timers added in the same
// tick then get equal deadlines, which decides their firing order.
var (
	monoClock = func(precise bool) Timeval {
		id := int32(unix.CLOCK_MONOTONIC_COARSE)
		if precise {
			id = unix.CLOCK_MONOTONIC
		}
		var ts unix.Timespec
		_ = unix.ClockGettime(id, &ts)
		return Timeval{Sec: ts.Sec, Usec: ts.Nsec / 1000}
	}
	wallClock = func() Timeval {
		var tv unix.Timeval
		_ = unix.Gettimeofday(&tv)
		return Timeval{Sec: tv.Sec, Usec: tv.Usec}
	}
)

// SetClocks replaces the clock sources (call before creating bases).
func SetClocks(mono func(precise bool) Timeval, wall func() Timeval) {
	monoClock, wallClock = mono, wall
}

// clockSyncInterval is how often (seconds) the wall/monotonic offset is
// refreshed, libevent's CLOCK_SYNC_INTERVAL.
const clockSyncInterval = 5

// gettime is libevent's gettime(): the cached time if there is one, else the
// monotonic clock. Caller holds the lock.
func (b *Base) gettime() Timeval {
	if b.hdr.TvCache.Sec != 0 {
		return b.hdr.TvCache
	}
	now := monoClock(b.hdr.Precise)
	if b.hdr.LastClockUpdate+clockSyncInterval < now.Sec {
		b.hdr.ClockDiff = tvSub(wallClock(), now)
		b.hdr.LastClockUpdate = now.Sec
	}
	return now
}

func (b *Base) clearTimeCache() { b.hdr.TvCache.Sec = 0 }

func (b *Base) updateTimeCache() {
	b.hdr.TvCache.Sec = 0
	if b.flags&FlagNoCacheTime == 0 {
		b.hdr.TvCache = b.gettime()
	}
}

// GettimeofdayCached is event_base_gettimeofday_cached.
func (b *Base) GettimeofdayCached() Timeval {
	b.lock()
	defer b.unlock()
	if b.hdr.TvCache.Sec == 0 {
		return wallClock()
	}
	return tvAdd(b.hdr.TvCache, b.hdr.ClockDiff)
}

// UpdateCacheTime is event_base_update_cache_time.
func (b *Base) UpdateCacheTime() {
	b.lock()
	if b.hdr.Running {
		b.updateTimeCache()
	}
	b.unlock()
}

// MonotonicTime is event_gettime_monotonic.
func (b *Base) MonotonicTime() Timeval {
	b.lock()
	defer b.unlock()
	return monoClock(b.hdr.Precise)
}
