package main

/*
#include <stdint.h>
void ge_lsan_note_go_heap(uintptr_t p);
*/
import "C"

import "unsafe"

// goHeapHint is an object on the Go heap, kept alive for the process's
// life: lsan.c finds the Go heap's mapping from its address (a no-op
// unless the engine's C is built with AddressSanitizer).
var goHeapHint = new([64]byte)

func init() {
	C.ge_lsan_note_go_heap(C.uintptr_t(uintptr(unsafe.Pointer(goHeapHint))))
}
