/*
 * diff_event_assign.c -- differential test of event storage, accessors,
 * finalizers and base configuration.
 *
 * struct event is caller-owned storage: events assigned on the stack, in
 * a malloc'd block, inside a bigger struct, and from event_new must all
 * behave the same. Covers the event_get_* accessors and
 * event_get_assignment, event_initialized and event_debug_unassign,
 * event_self_cbarg, event_base_set, re-assigning a deleted event,
 * event_get_struct_event_size, event_finalize and event_free_finalize
 * (callbacks run from the loop, and at event_base_free for ones still
 * queued), and event_config: avoided methods that do not exist, required
 * features, flags, the dispatch interval limits; plus
 * event_base_get_method/features, event_get_supported_methods and
 * event_base_gettimeofday_cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

static struct event_base *base;

static void cb(evutil_socket_t fd, short what, void *arg)
{
	printf("  cb %s fd=%d what=0x%x\n", (const char *)arg, (int)fd, what);
}

static void cb2(evutil_socket_t fd, short what, void *arg)
{
	printf("  cb2 %s fd=%d what=0x%x\n", (const char *)arg, (int)fd, what);
}

static void show(const char *name, const struct event *ev)
{
	struct event_base *b = NULL;
	evutil_socket_t fd = 0;
	short events = 0;
	event_callback_fn fn = NULL;
	void *arg = NULL;
	event_get_assignment(ev, &b, &fd, &events, &fn, &arg);
	printf("%s: init=%d base_ok=%d fd=%d events=0x%x cb=%s arg=%s pri=%d"
	    " | get: base_ok=%d fd=%d events=0x%x cb_ok=%d\n",
	    name, event_initialized(ev), b == base, (int)fd, events,
	    fn == cb ? "cb" : fn == cb2 ? "cb2" : "?", arg ? (const char *)arg : "(null)",
	    event_get_priority(ev), event_get_base(ev) == base, (int)event_get_fd(ev),
	    event_get_events(ev), event_get_callback(ev) == fn);
}

struct wrapper {
	int before;
	struct event ev;
	int after;
};

static void test_storage(void)
{
	struct event on_stack;
	struct event *on_heap = malloc(event_get_struct_event_size());
	struct wrapper *w = calloc(1, sizeof(*w));
	struct event *fresh;
	/* Far apart, so that a loaded machine cannot make two of them due at once. */
	struct timeval t10 = { 0, 10000 }, t20 = { 0, 300000 }, t30 = { 10, 0 };
	int r;
	printf("-- storage\n");
	printf("event size=%d\n", (int)event_get_struct_event_size());
	memset(&on_stack, 0, sizeof(on_stack));
	printf("zeroed initialized=%d\n", event_initialized(&on_stack));
	event_assign(&on_stack, base, -1, EV_TIMEOUT, cb, "stack");
	event_assign(on_heap, base, -1, 0, cb, "heap");
	w->before = 0x11111111;
	w->after = 0x22222222;
	event_assign(&w->ev, base, -1, EV_PERSIST, cb2, "embedded");
	fresh = event_new(base, 9, EV_READ | EV_WRITE | EV_ET, cb2, "new");
	show("stack", &on_stack);
	show("heap", on_heap);
	show("embedded", &w->ev);
	show("new", fresh);
	event_add(&on_stack, &t30);
	event_add(on_heap, &t10);
	event_add(&w->ev, &t20);
	/* Passes until the 30 ms timer has run: the three run in deadline
	 * order however the passes fall (a slow machine may run several in
	 * one), and the persistent 20 ms one runs once before the 30 ms one
	 * (it re-arms 20 ms after it ran). */
	int passes_ok = 1;
	while (event_pending(&on_stack, EV_TIMEOUT, NULL)) {
		r = event_base_loop(base, EVLOOP_ONCE);
		if (r != 0)
			passes_ok = 0;
	}
	printf("passes -> %s\n", passes_ok ? "0" : "not 0");
	event_del(&w->ev);
	printf("stack pending=0x%x\n", event_pending(&on_stack, EV_TIMEOUT, NULL));
	event_del(&on_stack);
	printf("wrapper guards intact=%d\n", w->before == 0x11111111 && w->after == 0x22222222);
	/* A deleted event may be assigned again, with new everything. */
	event_assign(&w->ev, base, 4, EV_WRITE, cb, "reassigned");
	show("reassigned", &w->ev);
	event_debug_unassign(on_heap);
	printf("after debug_unassign initialized=%d\n", event_initialized(on_heap));
	event_free(fresh);
	free(on_heap);
	free(w);
}

static void self_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  self_cb arg is its event: %d\n", event_get_callback_arg(arg) == arg);
}

static void test_self_and_base_set(void)
{
	struct event a, b;
	struct event_base *other = event_base_new();
	int r;
	printf("-- self cbarg, base_set\n");
	event_assign(&a, base, -1, 0, self_cb, event_self_cbarg());
	printf("arg is self=%d\n", event_get_callback_arg(&a) == (void *)&a);
	event_active(&a, EV_TIMEOUT, 1);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);

	event_base_priority_init(other, 4);
	event_assign(&b, base, -1, 0, cb, "moved");
	r = event_base_set(other, &b);
	printf("base_set to other -> %d pri=%d\n", r, event_get_priority(&b));
	printf("base is other=%d\n", event_get_base(&b) == other);
	event_active(&b, EV_TIMEOUT, 1);
	printf("base_set while active -> %d\n", event_base_set(base, &b));
	r = event_base_loop(other, EVLOOP_NONBLOCK);
	printf("other nonblock -> %d\n", r);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("base nonblock -> %d\n", r);
	event_base_free(other);
}

static void fin_cb(struct event *ev, void *arg)
{
	printf("  finalizer %s events=0x%x\n", (const char *)arg, event_get_events(ev));
}

static void test_finalize(void)
{
	struct event a;
	struct event *b, *c;
	struct event_base *tmp = event_base_new();
	struct timeval t1 = { 1, 0 };
	int r;
	printf("-- finalize\n");
	event_assign(&a, base, -1, 0, cb, "fin-a");
	event_add(&a, &t1);
	printf("finalize -> %d\n", event_finalize(0, &a, fin_cb));
	printf("pending after finalize=0x%x\n", event_pending(&a, EV_TIMEOUT, NULL));
	printf("add while finalizing -> %d\n", event_add(&a, NULL));
	b = event_new(base, -1, EV_PERSIST, cb, "fin-b");
	event_add(b, &t1);
	printf("free_finalize -> %d\n", event_free_finalize(0, b, fin_cb));
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	/* Still queued when the base goes: event_base_free runs it. */
	c = event_new(tmp, -1, 0, cb, "fin-c");
	event_free_finalize(0, c, fin_cb);
	printf("freeing base with a queued finalizer\n");
	event_base_free(tmp);
	printf("freed\n");
}

static void test_config(void)
{
	struct event_config *cfg;
	struct event_base *b;
	const char **m;
	struct timeval tv, now, max = { 0, 5000 };
	printf("-- config and methods\n");
	for (m = event_get_supported_methods(); *m; m++)
		printf("method %s\n", *m);
	printf("base method=%s features=0x%x\n", event_base_get_method(base),
	    event_base_get_features(base));

	cfg = event_config_new();
	printf("avoid kqueue -> %d\n", event_config_avoid_method(cfg, "kqueue"));
	printf("require ET|O1 -> %d\n", event_config_require_features(cfg, EV_FEATURE_ET | EV_FEATURE_O1));
	printf("set flag -> %d\n", event_config_set_flag(cfg, EVENT_BASE_FLAG_NO_CACHE_TIME | EVENT_BASE_FLAG_PRECISE_TIMER));
	printf("cpus -> %d\n", event_config_set_num_cpus_hint(cfg, 2));
	printf("max interval -> %d\n", event_config_set_max_dispatch_interval(cfg, &max, 10, 1));
	b = event_base_new_with_config(cfg);
	printf("configured base: %s method=%s\n", b ? "ok" : "NULL", b ? event_base_get_method(b) : "-");
	if (b) {
		struct event e;
		event_assign(&e, b, -1, 0, cb, "configured");
		event_active(&e, EV_TIMEOUT, 1);
		printf("loop -> %d\n", event_base_dispatch(b));
		event_base_free(b);
	}
	event_config_free(cfg);

	cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	b = event_base_new_with_config(cfg);
	printf("nolock base: %s\n", b ? "ok" : "NULL");
	event_base_free(b);
	event_config_free(cfg);

	printf("gettimeofday_cached -> %d\n", event_base_gettimeofday_cached(base, &tv));
	gettimeofday(&now, NULL);
	printf("cached close to now=%d\n", tv.tv_sec >= now.tv_sec - 1 && tv.tv_sec <= now.tv_sec);
	printf("update_cache_time -> %d\n", event_base_update_cache_time(base));
	printf("gettime_monotonic -> %d\n", event_gettime_monotonic(base, &tv));
	printf("gettime_monotonic(NULL) -> %d\n", event_gettime_monotonic(NULL, &tv));
	printf("make_notifiable -> %d\n", evthread_make_base_notifiable(base));
	printf("make_notifiable again -> %d\n", evthread_make_base_notifiable(base));
	printf("reinit -> %d\n", event_reinit(base));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	base = event_base_new();
	if (!base) {
		printf("no base\n");
		return 1;
	}
	test_storage();
	test_self_and_base_set();
	test_finalize();
	test_config();
	{
		/* The loop still works after reinit and notifiable. */
		struct event e;
		struct timeval t5 = { 0, 5000 };
		int r;
		event_assign(&e, base, -1, 0, cb, "after-reinit");
		event_add(&e, &t5);
		r = event_base_dispatch(base);
		printf("dispatch -> %d\n", r);
	}
	event_base_free(base);
	printf("done\n");
	return 0;
}
