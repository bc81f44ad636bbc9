/*
 * engine.c: loading the Go engine, and what a process that holds it must
 * undo or guard.
 *
 * libevent_core is plain C. The Go engine (engine/, built as its own
 * shared library) is loaded the first time a program calls a function that
 * needs Go: until then the process has no Go runtime, no extra thread and
 * no extra descriptor, so a program may fork (a daemon, a test driver that
 * runs each case in a child) and the child loads its own engine when it
 * needs one. The engine is found next to this library as the dynamic
 * linker actually loaded it (so LD_LIBRARY_PATH, rpath and installed
 * copies all find their own), or at GOEVENT_ENGINE.
 *
 * Loading it also undoes what the Go runtime does to the process when it
 * starts: it raises the soft RLIMIT_NOFILE to the hard limit (restored
 * here), and it opens an epoll instance and an eventfd for its own poller
 * (placed here at the top of the descriptor table, so the program's
 * descriptors keep libevent's numbering).
 *
 * The "loaded" state is an atomic word under a mutex rather than a
 * pthread_once, because a fork must be able to change it in the child.
 *
 * Fork after the engine started. The Go runtime does not survive fork: the
 * child has the engine's memory but none of its threads, and any call into
 * that copy may hang. So the child handler marks the engine stale and closes
 * the descriptors the runtime had opened, and the child's next call that
 * needs Go loads a fresh copy of the engine: the same file, read into a
 * memfd and opened as /proc/<pid>/fd/<n> (a new inode, so the dynamic
 * linker cannot hand back the dead copy it has under the file's own name;
 * failing a memfd, a copy in a unique temporary file, removed once loaded).
 * The dead copy is never called again. A fresh copy can carry on because
 * every object's state is C memory (bases, events, buffers, bufferevents,
 * listeners, groups) and the few things that name Go code (callback slots,
 * deferred and watcher kinds) mean the same in every copy. Any number of
 * generations work: a child that forks again does the same.
 *
 * Built with GE_STATIC_ENGINE for libevent_core.a, where the engine is
 * linked in as a Go archive whose runtime constructor has been set aside
 * (tools/mkstatic.sh): the same steps then start the linked-in runtime
 * instead of loading a file.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>

#include "internal.h"

struct ge_engine_api ge_eng;
int ge_engine_state; /* GE_ENGINE_*, read without the lock (internal.h) */

static pthread_mutex_t ge_engine_mu = PTHREAD_MUTEX_INITIALIZER;

/* How many engine copies this process has loaded (its own, not counting
 * those of its ancestors), and the descriptors the live copy's runtime
 * opened, which a child closes. */
static unsigned ge_engine_loads;
#define GE_RUNTIME_FDS_MAX 8
static int ge_runtime_fds[GE_RUNTIME_FDS_MAX];
static int ge_runtime_nfds;

/* ---- what the engine may call ------------------------------------------- */

/* Accessors for the few C globals the engine reads or sets. */
extern void *ge_filt_read_hook, *ge_filt_write_hook; /* bufferevent_cb.c */
extern struct event_base *ge_current_base;         /* event.c */

static void ge_gocb_set_range(uintptr_t lo, uintptr_t hi)
{
	ge_gocb_lo = lo;
	ge_gocb_hi = hi;
}

static void ge_filt_hooks_set(void *read_hook, void *write_hook)
{
	ge_filt_read_hook = read_hook;
	ge_filt_write_hook = write_hook;
}

static void *ge_current_base_get(void)
{
	return ge_current_base;
}

/* Declared here rather than in internal.h: only the table needs them. */
extern unsigned char ge_gocb_slots[256];
void *ge_bev_current_base(void);
ssize_t ge_writev(int fd, const void *iov, int n);
int ge_buffer_note_sigpipe(void);
void ge_buffer_release_chains(void *head);
int ge_run_queue(void *base, int pri, int max_to_process);
int ge_sig_install(int sig, uintptr_t *saved);
int ge_sig_restore(int sig, uintptr_t saved);
void ge_sig_set_target(int fd);
void ge_sig_discard(uintptr_t saved);
void ge_bev_sock_readcb(int fd, short what, void *arg);
void ge_bev_sock_writecb(int fd, short what, void *arg);
void ge_bev_sock_finalize(struct event *ev, void *arg);
enum bufferevent_filter_result ge_bev_null_filter(struct evbuffer *src,
    struct evbuffer *dst, ev_ssize_t limit, enum bufferevent_flush_mode mode, void *ctx);

static const struct ge_core_api ge_core_api = {
	.abi = GE_ENGINE_ABI,
	.size = sizeof(struct ge_core_api),
#define GE_X_CALL(ret, name, params, args) .name = name,
#define GE_X_VOID(name, params, args) .name = name,
#define GE_X_ADDR(name) .name = (void *)&name,
	GE_CORE_CALLS(GE_X_CALL)
	GE_CORE_VOID_CALLS(GE_X_VOID)
	GE_CORE_ADDRS(GE_X_ADDR)
#undef GE_X_CALL
#undef GE_X_VOID
#undef GE_X_ADDR
	.ge_bev_read = ge_bev_read,
	.ge_bev_write = ge_bev_write,
};

/* ---- descriptor placement ----------------------------------------------
 *
 * The runtime's two descriptors must not take the lowest free numbers, or
 * every descriptor the program opens afterwards is numbered two higher than
 * under libevent (programs print, compare and index arrays by fd). So before
 * the runtime starts, the lowest free descriptors up to two below the soft
 * limit (at most 4096) are filled with placeholders; the runtime's poller
 * then lands on the two numbers above them, and the placeholders are closed.
 *
 * Filling 4,000 slots one dup at a time cost about 10 ms on the development
 * machine (system calls are dear under its sandbox). Instead a datagram
 * socket pair passes a descriptor to itself in messages of 253 copies
 * (SCM_RIGHTS' limit): each receive installs 253 new descriptors at the
 * lowest free numbers in one system call, and closing them takes one
 * close_range per run of consecutive numbers. */

#define GE_FD_CEILING 4096
#define GE_SCM_MAX 253

struct ge_fd_fill {
	int *fds;
	int n, cap;
};

static int fill_push(struct ge_fd_fill *f, int fd)
{
	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 512;
		int *p = realloc(f->fds, (size_t)cap * sizeof(int));
		if (!p)
			return -1;
		f->fds = p;
		f->cap = cap;
	}
	f->fds[f->n++] = fd;
	return 0;
}

/* Receives up to want copies of a descriptor through sv; records those
 * below `below`, closes the others. Returns the highest recorded, -1 when
 * nothing arrived. */
static int fill_batch(int sv[2], int src, int want, int below, struct ge_fd_fill *f)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(GE_SCM_MAX * sizeof(int))];
	} u;
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr m;
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = CMSG_SPACE((size_t)want * sizeof(int));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)want * sizeof(int));
	int *p = (int *)(void *)CMSG_DATA(c);
	for (int i = 0; i < want; i++)
		memcpy(p + i, &src, sizeof(int));
	if (sendmsg(sv[0], &m, MSG_NOSIGNAL) != 1)
		return -1;
	m.msg_controllen = sizeof u.buf;
	if (recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	int hi = -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		p = (int *)(void *)CMSG_DATA(c);
		for (int i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, p + i, sizeof fd);
			if (fd >= below || fill_push(f, fd) < 0) {
				close(fd);
				continue;
			}
			if (fd > hi)
				hi = fd;
		}
	}
	return hi;
}

/* Occupies every free descriptor below `below`. */
static void fd_fill(int below, struct ge_fd_fill *f)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0)
		return;
	if (sv[0] >= below || sv[1] >= below || fill_push(f, sv[0]) < 0 ||
	    fill_push(f, sv[1]) < 0) {
		close(sv[0]);
		close(sv[1]);
		f->n = 0;
		return;
	}
	/* What is passed: an eventfd, which the kernel installs about twice as
	 * fast as a socket (a socket in flight is also tracked for unix
	 * sockets' garbage collection). */
	int hi = sv[0] > sv[1] ? sv[0] : sv[1];
	int src = eventfd(0, EFD_CLOEXEC);
	if (src >= 0 && src < below && fill_push(f, src) == 0) {
		if (src > hi)
			hi = src;
	} else {
		if (src >= 0)
			close(src);
		src = sv[1];
	}
	/* After each batch every number up to the highest received is taken,
	 * so at most below-1-hi slots are still free. */
	while (hi < below - 1) {
		int want = below - 1 - hi;
		if (want > GE_SCM_MAX)
			want = GE_SCM_MAX;
		int got = fill_batch(sv, src, want, below, f);
		if (got < 0)
			break;
		if (got > hi)
			hi = got;
		else
			break; /* every free slot below `below` is taken */
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void fd_release(struct ge_fd_fill *f)
{
	qsort(f->fds, (size_t)f->n, sizeof(int), cmp_int);
	for (int i = 0; i < f->n;) {
		int j = i;
		while (j + 1 < f->n && f->fds[j + 1] == f->fds[j] + 1)
			j++;
#ifdef SYS_close_range
		if (j > i && syscall(SYS_close_range, (unsigned)f->fds[i],
		    (unsigned)f->fds[j], 0u) == 0) {
			i = j + 1;
			continue;
		}
#endif
		for (; i <= j; i++)
			close(f->fds[i]);
	}
	free(f->fds);
	f->fds = NULL;
	f->n = f->cap = 0;
}

/* ---- finding and starting the engine ------------------------------------ */

#define GE_ENGINE_FILE "libgoevent_engine-2.1.so.7"

#ifndef GE_STATIC_ENGINE

/* This library's own directory, resolved when it was loaded: a daemon may
 * chdir before its first call, and the loader may have found the library
 * through a relative LD_LIBRARY_PATH entry. */
static char ge_lib_dir[PATH_MAX];

__attribute__((constructor)) static void ge_find_lib_dir(void)
{
	Dl_info di;
	if (!dladdr((void *)ge_find_lib_dir, &di) || !di.dli_fname || !strchr(di.dli_fname, '/'))
		return;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", di.dli_fname);
	*strrchr(dir, '/') = '\0';
	if (dir[0] == '/' || !getcwd(ge_lib_dir, sizeof ge_lib_dir))
		snprintf(ge_lib_dir, sizeof ge_lib_dir, "%s", dir[0] ? dir : "/");
	else if (strlen(ge_lib_dir) + 1 + strlen(dir) < sizeof ge_lib_dir)
		strcat(strcat(ge_lib_dir, "/"), dir);
	else
		ge_lib_dir[0] = '\0';
}

static void engine_path(char *out, size_t n)
{
	const char *env = getenv("GOEVENT_ENGINE");
	if (env && *env)
		snprintf(out, n, "%s", env);
	else if (ge_lib_dir[0])
		snprintf(out, n, "%s/%s", ge_lib_dir, GE_ENGINE_FILE);
	else
		snprintf(out, n, "%s", GE_ENGINE_FILE);
}

/* Copies the file at path to the descriptor out; 0 or -1. */
static int copy_file(const char *path, int out)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	struct stat st;
	int r = fstat(in, &st);
	off_t off = 0;
	while (r == 0 && off < st.st_size) {
		ssize_t n = sendfile(out, in, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			char buf[65536];
			n = read(in, buf, sizeof buf);
			if (n <= 0 || write(out, buf, (size_t)n) != n)
				r = -1;
			else
				off += n;
		}
	}
	close(in);
	return r;
}

/* dlopen of a fresh copy of the engine at path: a memfd holding the file,
 * opened through /proc/<pid>/fd/<n>, or a unique temporary copy. shown
 * gets the name dlopen was given. */
static void *open_fresh_copy(const char *path, char *shown, size_t n)
{
	void *h = NULL;
	int fd = (int)syscall(SYS_memfd_create, "goevent-engine", (unsigned)MFD_CLOEXEC);
	if (fd >= 0) {
		snprintf(shown, n, "/proc/%d/fd/%d", (int)getpid(), fd);
		if (copy_file(path, fd) == 0)
			h = dlopen(shown, RTLD_NOW | RTLD_LOCAL);
		close(fd);
		if (h)
			return h;
	}
	const char *dir = getenv("TMPDIR");
	snprintf(shown, n, "%s/goevent-engine-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkostemp(shown, O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (copy_file(path, fd) == 0)
		h = dlopen(shown, RTLD_NOW | RTLD_LOCAL);
	unlink(shown);
	close(fd);
	return h;
}

/* The engine file the first copy came from, as an absolute path: a fresh
 * copy after fork is read from the same file even if the child changed
 * directory or its environment. */
static char ge_loaded_path[PATH_MAX];

/* ---- the spare copy ------------------------------------------------------
 *
 * Copying the engine into a memfd costs each child about 1 ms (2.5 MB
 * through sendfile, most of it the kernel allocating the file's pages). A
 * process whose children have needed a fresh engine (a pre-fork server, a
 * multiprocessing pool, a test driver) is likely to fork more such
 * children, so from then on its fork's prepare handler makes one sealed
 * copy and keeps it; every later child loads that copy instead of making
 * its own, and all of them share its pages. Children count themselves in a
 * page their parent shares with them when they load a fresh engine. A
 * process that forks only children that exec or never need Go (tmux
 * starting shells), or forks once, pays nothing but that page: no copy,
 * no descriptor.
 *
 * The copy is a descriptor the program can see: close-on-exec, placed just
 * below the runtime's two at the top of the table (so descriptors the
 * program opens keep libevent's numbers), named goevent-engine-spare. A
 * program may close it or reuse its number (a daemon closing everything it
 * inherited), so it is trusted only while its number holds the same inode
 * with the same seals; a child that finds something else makes its own
 * copy as before and leaves the descriptor alone. A child that loads the spare closes it: the spare's
 * inode is then its own engine's, which its own children cannot reuse. */

#define GE_SPARE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
static int ge_spare_fd = -1;
static dev_t ge_spare_dev;
static ino_t ge_spare_ino;
/* How many children loaded a fresh engine: a page this process shares
 * with its children (made at its first fork while its engine ran), and
 * the one its parent shares with it, where it counts itself. */
struct ge_fork_page {
	unsigned fresh_loads;
};
static struct ge_fork_page *ge_own_page, *ge_parent_page;
/* Whether the last fresh copy came from the spare (for the debug line). */
static int ge_spare_used;

/* The spare descriptor, if it still is the spare; -1 otherwise (then it is
 * forgotten, not closed: the number belongs to the program now). */
static int spare_check(void)
{
	struct stat st;
	if (ge_spare_fd < 0)
		return -1;
	if (fstat(ge_spare_fd, &st) != 0 || st.st_dev != ge_spare_dev ||
	    st.st_ino != ge_spare_ino || fcntl(ge_spare_fd, F_GET_SEALS) != GE_SPARE_SEALS)
		ge_spare_fd = -1;
	return ge_spare_fd;
}

static void spare_make(void)
{
	if (!ge_loaded_path[0] || spare_check() >= 0)
		return;
	int fd = (int)syscall(SYS_memfd_create, "goevent-engine-spare",
	    (unsigned)(MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (fd < 0)
		return;
	struct stat st;
	struct rlimit lim;
	int top = GE_FD_CEILING;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)top)
		top = (int)lim.rlim_cur;
	int high = -1;
	/* Sealed: nothing the program writes by mistake reaches a later
	 * child's engine. Placed at the highest of a few floors that has a
	 * free number (the program may have taken the one just below the
	 * runtime's). */
	if (copy_file(ge_loaded_path, fd) == 0 &&
	    fcntl(fd, F_ADD_SEALS, GE_SPARE_SEALS) == 0 &&
	    fstat(fd, &st) == 0)
		for (int at = top - 3; high < 0 && at > fd; at = at > 64 ? at - 64 : 0)
			high = fcntl(fd, F_DUPFD_CLOEXEC, at);
	close(fd);
	if (high < 0)
		return;
	ge_spare_fd = high;
	ge_spare_dev = st.st_dev;
	ge_spare_ino = st.st_ino;
}

/* A spare this process loaded: closed once the runtime has its
 * descriptors, or the runtime's first would take its number. */
static int ge_spare_loaded = -1;

/* dlopen of the spare, if there is one; it is of no further use to this
 * process either way. */
static void *open_spare(char *shown, size_t n)
{
	int fd = spare_check();
	if (fd < 0)
		return NULL;
	snprintf(shown, n, "/proc/%d/fd/%d", (int)getpid(), fd);
	void *h = dlopen(shown, RTLD_NOW | RTLD_LOCAL);
	ge_spare_fd = -1;
	ge_spare_loaded = fd;
	if (!h)
		dlerror(); /* a copy of its own is tried next */
	return h;
}

static void spare_close_loaded(void)
{
	if (ge_spare_loaded >= 0)
		close(ge_spare_loaded);
	ge_spare_loaded = -1;
}

/* Loads and attaches the engine file into tbl; 0, or -1 after one log line
 * for fn. fresh: load a new copy even if the dynamic linker has one (a
 * child whose inherited copy is dead). */
static int engine_open(const char *fn, struct ge_engine_api *tbl, int fresh)
{
	char path[PATH_MAX + 64];
	if (fresh && ge_loaded_path[0])
		snprintf(path, sizeof path, "%s", ge_loaded_path);
	else
		engine_path(path, sizeof path);
	if (access(path, R_OK) != 0 && strchr(path, '/')) {
		int e = errno;
		ge_log(GE_LOG_ERR, "%s: cannot load goevent's engine %s: %s", fn, path, strerror(e));
		errno = ELIBACC;
		return -1;
	}
	char shown[PATH_MAX + 64];
	void *h;
	if (fresh) {
		h = open_spare(shown, sizeof shown);
		ge_spare_used = h != NULL;
		if (!h)
			h = open_fresh_copy(path, shown, sizeof shown);
	} else {
		snprintf(shown, sizeof shown, "%s", path);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h) {
		const char *why = dlerror();
		size_t n = strlen(shown);
		/* dlerror names the file first; once is enough. */
		if (why && strncmp(why, shown, n) == 0 && strncmp(why + n, ": ", 2) == 0)
			why += n + 2;
		ge_log(GE_LOG_ERR, "%s: cannot load goevent's engine %s: %s", fn, path,
		    why ? why : "dlopen failed");
		errno = ELIBACC;
		return -1;
	}
	ge_engine_attach_fn attach = (ge_engine_attach_fn)dlsym(h, GE_ENGINE_ATTACH_SYMBOL);
	if (!attach || attach(&ge_core_api, tbl, GE_ENGINE_ABI) != 0) {
		ge_log(GE_LOG_ERR, "%s: %s is not goevent's engine for this libevent_core (%s)",
		    fn, path, attach ? "built from another version" : "no " GE_ENGINE_ATTACH_SYMBOL);
		/* A Go library cannot be unloaded; dlclose only drops the
		 * reference. */
		dlclose(h);
		errno = ELIBBAD;
		return -1;
	}
	if (!ge_loaded_path[0] && !realpath(path, ge_loaded_path))
		ge_loaded_path[0] = '\0';
	if (fresh && ge_parent_page)
		__atomic_add_fetch(&ge_parent_page->fresh_loads, 1, __ATOMIC_RELAXED);
	return 0;
}

#else /* GE_STATIC_ENGINE */

/* The Go archive's runtime constructor, moved out of .init_array into the
 * section goinit by tools/mkstatic.sh, with the arguments glibc gives
 * constructors. */
typedef void (*ge_rt0_fn)(int, char **, char **);
extern ge_rt0_fn __start_goinit[] __attribute__((weak));
extern ge_rt0_fn __stop_goinit[] __attribute__((weak));
int goevent_engine_attach(const struct ge_core_api *core, struct ge_engine_api *out,
    uint32_t abi);

static int ge_argc;
static char **ge_argv, **ge_envp;

__attribute__((constructor)) static void ge_save_args(int argc, char **argv, char **envp)
{
	ge_argc = argc;
	ge_argv = argv;
	ge_envp = envp;
}

static int engine_open(const char *fn, struct ge_engine_api *tbl, int fresh)
{
	(void)fresh; /* never: a linked-in engine has no second copy */
	if (!__start_goinit || __stop_goinit - __start_goinit != 1) {
		ge_log(GE_LOG_ERR, "%s: this libevent_core.a has no engine to start", fn);
		errno = ELIBBAD;
		return -1;
	}
	static int started;
	if (!started) {
		__start_goinit[0](ge_argc, ge_argv, ge_envp);
		started = 1;
	}
	if (goevent_engine_attach(&ge_core_api, tbl, GE_ENGINE_ABI) != 0) {
		ge_log(GE_LOG_ERR, "%s: the engine linked into libevent_core.a does not match it", fn);
		errno = ELIBBAD;
		return -1;
	}
	return 0;
}

#endif /* GE_STATIC_ENGINE */

/* ---- fork ---------------------------------------------------------------- */

static void ge_fork_prepare(void)
{
	pthread_mutex_lock(&ge_engine_mu);
#ifndef GE_STATIC_ENGINE
	if (ge_engine_state == GE_ENGINE_READY) {
		if (!ge_own_page) {
			void *pg = mmap(NULL, sizeof(struct ge_fork_page), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (pg != MAP_FAILED)
				ge_own_page = pg;
		}
		if (ge_own_page && __atomic_load_n(&ge_own_page->fresh_loads, __ATOMIC_RELAXED) > 0)
			spare_make();
	}
#endif
}

static void ge_fork_parent(void)
{
	pthread_mutex_unlock(&ge_engine_mu);
}

static void ge_fork_child(void)
{
	pthread_mutex_init(&ge_engine_mu, NULL);
	/* The engine's threads did not come along: it must never run again
	 * in this process. Its runtime's descriptors (its poller's epoll
	 * instance, shared with the parent, and eventfd) are of no use here. */
	if (ge_engine_state == GE_ENGINE_READY) {
		__atomic_store_n(&ge_engine_state, GE_ENGINE_STALE, __ATOMIC_RELEASE);
		for (int i = 0; i < ge_runtime_nfds; i++)
			close(ge_runtime_fds[i]);
		ge_runtime_nfds = 0;
	}
	/* A lock another thread of the parent held stays held in the child. */
	__atomic_store_n(&ge_evsig_state.lock, 0, __ATOMIC_RELAXED);
	ge_engine_loads = 0;
#ifndef GE_STATIC_ENGINE
	/* This process counts itself in its parent's page; a process that
	 * made none (it had not started its engine) passes its own parent's
	 * on, as it passes on the spare. */
	if (ge_own_page) {
		ge_parent_page = ge_own_page;
		ge_own_page = NULL;
	}
#endif
}

__attribute__((constructor)) static void ge_engine_init(void)
{
	pthread_atfork(ge_fork_prepare, ge_fork_parent, ge_fork_child);
}

#ifdef GE_STATIC_ENGINE
/* A linked-in engine cannot be loaded afresh, so a child of a process whose
 * engine started cannot use it. */
static void fork_report(const char *fn)
{
	char msg[320];
	int n = snprintf(msg, sizeof(msg),
	    "goevent: %s called in a child process after fork(), but the Go engine "
	    "linked into this program (libevent_core.a) had started in the parent "
	    "and cannot be started again; link against libevent_core-2.1.so.7 to "
	    "use goevent after fork\n",
	    fn);
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	/* write(2), not stdio: the parent may have held stdio's lock at fork. */
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* nothing more can be done */
	}
	errno = ENOSYS;
}
#endif

/* The open descriptors among the n from fd on, as a bit mask. */
static unsigned open_fds_from(int fd, int n)
{
	unsigned m = 0;
	for (int i = 0; i < n; i++)
		if (fcntl(fd + i, F_GETFD) >= 0)
			m |= 1u << i;
	return m;
}

/* ---- the first call ------------------------------------------------------- */

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

int ge_engine_require(const char *fn)
{
	return ge_engine_require_while(fn, NULL, NULL);
}

int ge_engine_require_while(const char *fn, void (*work)(void *), void *arg)
{
	int saved_errno = errno;
	pthread_mutex_lock(&ge_engine_mu);
	int st = ge_engine_state;
	if (st == GE_ENGINE_READY) {
		pthread_mutex_unlock(&ge_engine_mu);
		return 1;
	}
#ifdef GE_STATIC_ENGINE
	if (st == GE_ENGINE_STALE) {
		pthread_mutex_unlock(&ge_engine_mu);
		fork_report(fn);
		return 0;
	}
#endif

	struct timespec t0, t1, t2, t3, t4;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct rlimit lim;
	int have_lim = getrlimit(RLIMIT_NOFILE, &lim) == 0;
	int floor = GE_FD_CEILING - 2;
	if (have_lim && lim.rlim_cur < GE_FD_CEILING)
		floor = (int)lim.rlim_cur - 2;
	struct ge_fd_fill fill = { NULL, 0, 0 };
	/* With too few descriptors to spare the runtime's land where they
	 * fall, but now rather than mid-run. */
	if (floor >= 64)
		fd_fill(floor, &fill);
	if (ge_engine_loads == 0 && st == GE_ENGINE_NONE)
		ge_sigpipe_note_before_engine();
	/* Which descriptors the runtime opens: those that appear at the top
	 * of the placeholders while it starts (a fresh copy's memfd may take
	 * the first slot; it is closed before the runtime starts). */
	int scan_from = floor >= 64 ? floor : 0;
	unsigned before = floor >= 64 ? open_fds_from(scan_from, GE_RUNTIME_FDS_MAX) : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);

	struct ge_engine_api tbl;
	memset(&tbl, 0, sizeof tbl);
	tbl.size = sizeof tbl;
	int r = engine_open(fn, &tbl, st == GE_ENGINE_STALE);
	int err = errno;
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double work_ms = -1;
	if (r == 0 && work) {
		/* The runtime's constructor started it on a thread of its own
		 * inside dlopen; goev_engine_start waits for it. */
		struct timespec w0, w1;
		clock_gettime(CLOCK_MONOTONIC, &w0);
		work(arg);
		clock_gettime(CLOCK_MONOTONIC, &w1);
		work_ms = ms_between(&w0, &w1);
	}
	if (r == 0) {
		ge_eng = tbl;
		goev_engine_start();
		ge_engine_loads++;
		ge_runtime_nfds = 0;
		if (floor >= 64) {
			unsigned now = open_fds_from(scan_from, GE_RUNTIME_FDS_MAX) & ~before;
			for (int i = 0; i < GE_RUNTIME_FDS_MAX; i++)
				if (now & (1u << i))
					ge_runtime_fds[ge_runtime_nfds++] = scan_from + i;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t3);
#ifndef GE_STATIC_ENGINE
	spare_close_loaded();
#endif
	int placeholders = fill.n;
	fd_release(&fill);
	if (r == 0 && have_lim)
		setrlimit(RLIMIT_NOFILE, &lim);
	if (r == 0)
		__atomic_store_n(&ge_engine_state, GE_ENGINE_READY, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_MONOTONIC, &t4);
	pthread_mutex_unlock(&ge_engine_mu);
	/* Seen with event_enable_debug_logging: what the first call cost. */
#ifdef GE_STATIC_ENGINE
	const char *how = "";
#else
	const char *how = st != GE_ENGINE_STALE ? "" :
	    ge_spare_used ? " (a fresh copy after fork, from the parent's spare)" :
	    " (a fresh copy after fork)";
#endif
	char alongside[64] = "";
	if (work_ms >= 0)
		snprintf(alongside, sizeof alongside, " (%s's own work alongside: %.3f ms)", fn, work_ms);
	ge_log(GE_LOG_DEBUG, "goevent engine %s%s for %s in %.3f ms: %d placeholder "
	    "descriptors %.3f ms, load %.3f ms, runtime start %.3f ms%s, release %.3f ms",
	    r == 0 ? "started" : "not started", how,
	    fn, ms_between(&t0, &t4), placeholders,
	    ms_between(&t0, &t1), ms_between(&t1, &t2), ms_between(&t2, &t3), alongside,
	    ms_between(&t3, &t4));
	errno = r == 0 ? saved_errno : err;
	return r == 0;
}
