package loop

import (
	"fmt"
	"os"
	"os/signal"
	"structs"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"goevent/core/mem"
)

// Signals reach the loop the way libevent's signal.c brings them: a process
// handler writes the signal number, one byte, to the pipe of the base that
// most recently added a signal (or started its loop), and an internal event
// on the pipe's read end turns the bytes into activations. Callbacks thus
// always run from the loop, never in the handler. Only one base receives
// signals at a time, as in libevent.
//
// Installing the handler is process-level work the C ABI layer does with
// sigaction (SignalHooks); the default hooks use os/signal so that the Go
// tests run without cgo.

// SignalHooks install and remove the process-level signal catcher.
type SignalHooks struct {
	// Install starts catching sig and returns a token for Restore (the
	// previous disposition).
	Install func(sig int) (uintptr, error)
	// Restore puts back the disposition Install replaced.
	Restore func(sig int, saved uintptr) error
	// SetTarget names the fd the catcher writes signal numbers to
	// (-1: none).
	SetTarget func(fd int)
	// Discard releases a token from Install without restoring anything
	// (nil: nothing to release).
	Discard func(saved uintptr)
}

var sigHooks atomic.Pointer[SignalHooks]

// SetSignalHooks replaces the default (os/signal based) hooks.
func SetSignalHooks(h SignalHooks) { sigHooks.Store(&h) }

func hooks() *SignalHooks {
	if h := sigHooks.Load(); h != nil {
		return h
	}
	return &goSignalHooks
}

// Default hooks: os/signal, with one process-wide goroutine forwarding to the
// target fd.
var (
	goSigOnce   sync.Once
	goSigCh     = make(chan os.Signal, 64)
	goSigTarget atomic.Int64
)

var goSignalHooks = SignalHooks{
	Install: func(sig int) (uintptr, error) {
		goSigOnce.Do(func() {
			goSigTarget.Store(-1)
			go func() {
				for s := range goSigCh {
					n, ok := s.(syscall.Signal)
					fd := int(goSigTarget.Load())
					if !ok || fd < 0 {
						continue
					}
					_, _ = unix.Write(fd, []byte{byte(n)})
				}
			}()
		})
		signal.Notify(goSigCh, syscall.Signal(sig))
		return 0, nil
	},
	Restore: func(sig int, saved uintptr) error {
		signal.Reset(syscall.Signal(sig))
		return nil
	},
	SetTarget: func(fd int) { goSigTarget.Store(int64(fd)) },
}

// evsigState is libevent's evsig_base: which base receives signals, and
// how many it has added. It is process-wide state that must outlive any copy
// of the engine (after fork a fresh copy must know it), so it lives in
// memory the C library lends (SetSignalState); Go tests use memory of their
// own.
type evsigState struct {
	_    structs.HostLayout
	lock uint32
	_    uint32
	base *Base
	n    int
}

var evsig *evsigState

// SetSignalState names the process's signal state (at least 24 bytes,
// zeroed before first use). The engine calls it before any base exists.
func SetSignalState(p unsafe.Pointer) { evsig = (*evsigState)(p) }

func evsigLock() {
	if evsig == nil {
		SetSignalState(mem.AllocZeroed(unsafe.Sizeof(evsigState{})))
	}
	newSharedLock(&evsig.lock).Lock()
}

func evsigUnlock() { newSharedLock(&evsig.lock).Unlock() }

func (b *Base) evsigInit() error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("evsig_init: pipe: %w", err)
	}
	b.sigPipe = p
	if b.sigEv == nil {
		b.sigEv = allocEvent()
		if b.sigEv == nil {
			return fmt.Errorf("evsig_init: %w", unix.ENOMEM)
		}
	}
	b.assignLocked(b.sigEv, int32(p[0]), EvRead|EvPersist, evsigCb, b.Ptr())
	b.sigEv.Cb.Flags |= ListInternal
	b.sigEv.Cb.Pri = 0
	return nil
}

// syncSigSetBase tells the C loop whether starting a loop must claim the
// signal pipe (evsigSetBase), the condition Base.Loop tests.
func (b *Base) syncSigSetBase() { b.hdr.SigSetBase = b.sigAdded && b.nSignalsAdded > 0 }

func (b *Base) evsigSetBase() {
	evsigLock()
	evsig.base = b
	evsig.n = b.nSignalsAdded
	hooks().SetTarget(b.sigPipe[1])
	evsigUnlock()
}

func (b *Base) evsigAdd(sig int) error {
	evsigLock()
	if evsig.base != b && evsig.n > 0 {
		logf(LogWarn, "Added a signal to event base %p with signals already added to event_base %p.  "+
			"Only one can have signals at a time with the %s backend.  The base with the most recently "+
			"added signal or the most recent event_base_loop() call gets preference; do not rely on this "+
			"behavior in future Libevent versions.", b.Ptr(), evsig.base.Ptr(), b.be().name())
	}
	evsig.base = b
	b.nSignalsAdded++
	evsig.n = b.nSignalsAdded
	hooks().SetTarget(b.sigPipe[1])
	evsigUnlock()
	defer b.syncSigSetBase()

	saved, err := hooks().Install(sig)
	if err == nil {
		// A second install without a restore in between saves what is
		// in place now, goevent's own handler; the first disposition is
		// let go. (event_reinit restores first, as libevent does.)
		if b.sigHave[sig] && hooks().Discard != nil {
			hooks().Discard(b.sigOld[sig])
		}
		b.sigOld[sig], b.sigHave[sig] = saved, true
		if !b.sigAdded {
			if _, err = b.addLocked(b.sigEv, nil, false); err == nil {
				b.sigAdded = true
			}
		}
	}
	if err != nil {
		evsigLock()
		evsig.n--
		b.nSignalsAdded--
		evsigUnlock()
		return fmt.Errorf("evsig_add: signal %d: %w", sig, err)
	}
	return nil
}

func (b *Base) evsigDel(sig int) error {
	evsigLock()
	evsig.n--
	b.nSignalsAdded--
	evsigUnlock()
	b.syncSigSetBase()
	return b.evsigRestore(sig)
}

func (b *Base) evsigRestore(sig int) error {
	if !b.sigHave[sig] {
		return nil
	}
	saved := b.sigOld[sig]
	b.sigOld[sig], b.sigHave[sig] = 0, false
	if err := hooks().Restore(sig, saved); err != nil {
		logf(LogWarn, "sigaction: %v", err)
		return err
	}
	return nil
}

// evsigDealloc is evsig_dealloc_: restore every handler the base installed
// and close its pipe.
func (b *Base) evsigDealloc() {
	if b.sigAdded {
		_, _ = b.delLocked(b.sigEv, DelAutoBlock)
		b.sigAdded = false
	}
	b.syncSigSetBase()
	for sig := 0; sig < nsig; sig++ {
		_ = b.evsigRestore(sig)
	}
	evsigLock()
	if evsig.base == b {
		evsig.base = nil
		evsig.n = 0
		hooks().SetTarget(-1)
	}
	evsigUnlock()
	for i := range b.sigPipe {
		if b.sigPipe[i] >= 0 {
			_ = unix.Close(b.sigPipe[i])
			b.sigPipe[i] = -1
		}
	}
}

func evsigFn(fd int32, what int16, arg unsafe.Pointer) {
	var buf [1024]byte
	var caught [nsig]int
	for {
		n, err := unix.Read(int(fd), buf[:])
		if err != nil {
			if err != unix.EAGAIN && err != unix.EINTR {
				logf(LogErr, "evsig_cb: read: %v", err)
			}
			break
		}
		if n == 0 {
			break
		}
		for _, s := range buf[:n] {
			if int(s) < nsig {
				caught[s]++
			}
		}
	}
	b := FromPtr(arg)
	if b == nil {
		return
	}
	b.lock()
	for sig, n := range caught {
		if n != 0 {
			b.sigActive(sig, n)
		}
	}
	b.unlock()
}
