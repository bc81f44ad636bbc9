/*
 * lsan.c: sanitizer builds only (make sanitize compiles the engine's C with
 * -fsanitize=address, which defines __SANITIZE_ADDRESS__; otherwise this
 * file is empty but for a no-op).
 *
 * LeakSanitizer finds leaks by scanning the stacks, the registers, the
 * writable data of every loaded module and the blocks still allocated for
 * pointers to each block. The Go heap is none of these: it is memory the
 * runtime maps itself. A C block whose only pointer sits in a Go object (a
 * pooled slot for deferred evbuffer runs, say) would be reported as leaked
 * though it is not. So the engine tells LSan where the Go heap is: at exit,
 * just before LSan's own exit-time check (atexit handlers run last-in
 * first-out, and LSan installed its one when the process started), the
 * mapping holding a Go heap object is registered as a root region. Go
 * grows its heap in adjacent arenas, which the kernel lists as one
 * mapping. What Go still holds therefore counts as reachable; goevent's
 * own counting tests (event_set_mem_functions) check that Go lets go of
 * what it should.
 */
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#include <stdio.h>
#include <stdlib.h>

static uintptr_t go_heap_hint;

static void see_go_heap(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= go_heap_hint &&
		    go_heap_hint < hi)
			__lsan_register_root_region((void *)lo, hi - lo);
	}
	fclose(f);
}

void ge_lsan_note_go_heap(uintptr_t p);
void ge_lsan_note_go_heap(uintptr_t p)
{
	if (!go_heap_hint && p) {
		go_heap_hint = p;
		atexit(see_go_heap);
	}
}
#else
void ge_lsan_note_go_heap(uintptr_t p);
void ge_lsan_note_go_heap(uintptr_t p)
{
	(void)p;
}
#endif
