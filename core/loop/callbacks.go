package loop

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GoCallback is a callback implemented in Go, with the shape of libevent's
// event_callback_fn.
type GoCallback func(fd int32, what int16, arg unsafe.Pointer)

// Invoker calls the C functions stored in events. The C ABI layer installs C
// trampolines; Go tests install functions of their own.
type Invoker struct {
	// Event calls void (*fn)(evutil_socket_t, short, void *).
	Event func(fn unsafe.Pointer, fd int32, what int16, arg unsafe.Pointer)
	// Finalize calls void (*fn)(struct event *, void *).
	Finalize func(fn unsafe.Pointer, ev *Event, arg unsafe.Pointer)
}

var invoker atomic.Pointer[Invoker]

// SetInvoker installs the functions that call C callbacks. It is meant to be
// called once, before any base runs.
func SetInvoker(inv Invoker) { invoker.Store(&inv) }

func currentInvoker() *Invoker {
	inv := invoker.Load()
	if inv == nil {
		panic("loop: no Invoker installed; call loop.SetInvoker first")
	}
	return inv
}

// Go callbacks live in a fixed table; the "function pointer" an event holds
// for one is the address of its slot in a page of memory that holds no code,
// so it can never be a C function's address. The page is given by Init: the
// C library lends the engine one that outlives any copy of the engine, so
// that events made by one copy still name the right Go callbacks in the
// next (registrations happen in the same order in every copy of the same
// engine). Go tests map one of their own.
const goSlots = 256

type goCb struct{ f GoCallback }

var (
	goTable  unsafe.Pointer
	goFuncs  [goSlots]atomic.Pointer[goCb]
	goNext   int
	goMu     sync.Mutex
	initOnce sync.Once
)

// Init names the page of Go callback slots (at least goSlots bytes that
// hold no code; nil: map one) and registers the loop's own callbacks. The
// engine calls it before anything else; otherwise the first registration or
// base does, with a page of its own.
func Init(page unsafe.Pointer) {
	initOnce.Do(func() {
		if page == nil {
			page = mustMapPage()
		}
		goTable = page
		registerOwn()
	})
}

func mustMapPage() unsafe.Pointer {
	b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		panic(fmt.Sprintf("loop: mapping the Go callback table: %v", err))
	}
	return unsafe.Pointer(&b[0])
}

// RegisterGoCallback makes f callable from events and returns the value to
// store as the event's callback. Registrations are permanent; register each
// function once, always in the same order (a setup function called once).
func RegisterGoCallback(f GoCallback) unsafe.Pointer {
	Init(nil)
	return register(f)
}

func register(f GoCallback) unsafe.Pointer {
	goMu.Lock()
	defer goMu.Unlock()
	if goNext == goSlots {
		panic("loop: too many Go callbacks registered")
	}
	i := goNext
	goNext++
	goFuncs[i].Store(&goCb{f})
	return unsafe.Add(goTable, i)
}

// goCallbackAt returns the Go callback fn stands for, or nil if fn is a C
// function.
func goCallbackAt(fn unsafe.Pointer) GoCallback {
	if goTable == nil {
		return nil
	}
	off := uintptr(fn) - uintptr(goTable)
	if off >= goSlots {
		return nil
	}
	if c := goFuncs[off].Load(); c != nil {
		return c.f
	}
	return nil
}

// IsGoCallback reports whether fn was returned by RegisterGoCallback.
func IsGoCallback(fn unsafe.Pointer) bool { return goCallbackAt(fn) != nil }

// call runs an event-shaped callback, Go or C.
func call(fn unsafe.Pointer, fd int32, what int16, arg unsafe.Pointer) {
	if f := goCallbackAt(fn); f != nil {
		f(fd, what, arg)
		return
	}
	currentInvoker().Event(fn, fd, what, arg)
}

// Logging goes through an injectable sink so that the C ABI layer can route
// it to event_set_log_callback.
const (
	LogDebug = 0
	LogMsg   = 1
	LogWarn  = 2
	LogErr   = 3
)

var logSink atomic.Pointer[func(severity int, msg string)]

// SetLogger routes the loop's warnings (libevent's event_warnx and friends).
func SetLogger(f func(severity int, msg string)) { logSink.Store(&f) }

func logf(severity int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if f := logSink.Load(); f != nil {
		(*f)(severity, msg)
		return
	}
	if severity >= LogWarn {
		println("[warn]", msg)
	}
}

// GoCallbackRange is the address range [lo, hi) of the "function pointers"
// RegisterGoCallback hands out, so that C code running a queue can tell a Go
// callback (which it must hand back to Go) from a C function (which it may
// call itself) without a crossing.
func GoCallbackRange() (lo, hi uintptr) {
	Init(nil)
	return uintptr(goTable), uintptr(goTable) + goSlots
}

// The loop's own Go callbacks (registered by Init, first of all).
var (
	commonTimeoutCb unsafe.Pointer
	notifyDrainCb   unsafe.Pointer
	onceCb          unsafe.Pointer
	loopexitCb      unsafe.Pointer
	evsigCb         unsafe.Pointer
)

func registerOwn() {
	commonTimeoutCb = register(commonTimeoutFn)
	notifyDrainCb = register(notifyDrainFn)
	onceCb = register(onceFn)
	loopexitCb = register(loopexitFn)
	evsigCb = register(evsigFn)
}
