/*
 * bufferevent_ratelim.c: rate limiting (event2/bufferevent.h). The
 * token-bucket configuration is plain data: made, checked and freed here
 * without entering Go. Everything that touches a bufferevent or a group is
 * one call into bufferevent_ratelim.go, over core/bufferevent/ratelim.go.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include <event2/bufferevent.h>
#include <event2/util.h>

#include "internal.h"

/* goevent's layout of the opaque struct ev_token_bucket_cfg; mirrored by
 * core/bufferevent.TokenBucketCfg, whose test pins the offsets. */
struct ev_token_bucket_cfg {
	size_t read_rate;
	size_t read_maximum;
	size_t write_rate;
	size_t write_maximum;
	struct timeval tick_timeout; /* as given: may be a common timeout */
	unsigned msec_per_tick;
};

_Static_assert(offsetof(struct ev_token_bucket_cfg, tick_timeout) == 32, "mirrored in Go");
_Static_assert(offsetof(struct ev_token_bucket_cfg, msec_per_tick) == 48, "mirrored in Go");
_Static_assert(sizeof(struct ev_token_bucket_cfg) == 56, "mirrored in Go");

/* The low bits of tv_usec that hold the microseconds of a common timeout
 * (event_base_init_common_timeout puts a magic number above them). */
#define GE_COMMON_TIMEOUT_USEC_MASK 0x000fffff

#define CHECK_BEV(fn, bev, failval) do { \
	GE_NEED_ENGINE(fn, failval); \
	if (!(bev)) { GE_BADARG(fn, "NULL bufferevent"); return failval; } \
} while (0)
#define CHECK_GROUP(fn, g, failval) do { \
	GE_NEED_ENGINE(fn, failval); \
	if (!(g)) { GE_BADARG(fn, "NULL group"); return failval; } \
} while (0)
#define CHECK_GROUP_VOID(fn, g) do { \
	GE_NEED_ENGINE_VOID(fn); \
	if (!(g)) { GE_BADARG(fn, "NULL group"); return; } \
} while (0)

struct ev_token_bucket_cfg *ev_token_bucket_cfg_new(size_t read_rate,
    size_t read_burst, size_t write_rate, size_t write_burst,
    const struct timeval *tick_len)
{
	GE_NEED_ENGINE("ev_token_bucket_cfg_new", NULL);
	struct timeval one_second = {1, 0};
	if (!tick_len)
		tick_len = &one_second;
	if (read_rate < 1 || write_rate < 1 || read_rate > read_burst ||
	    write_rate > write_burst)
		return NULL;
	if (read_burst > EV_RATE_LIMIT_MAX || write_burst > EV_RATE_LIMIT_MAX)
		return NULL;
	struct ev_token_bucket_cfg *cfg = ge_calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->read_rate = read_rate;
	cfg->read_maximum = read_burst;
	cfg->write_rate = write_rate;
	cfg->write_maximum = write_burst;
	cfg->tick_timeout = *tick_len;
	cfg->msec_per_tick = (unsigned)(tick_len->tv_sec * 1000 +
	    (tick_len->tv_usec & GE_COMMON_TIMEOUT_USEC_MASK) / 1000);
	return cfg;
}

void ev_token_bucket_cfg_free(struct ev_token_bucket_cfg *cfg)
{
	GE_NEED_ENGINE_VOID("ev_token_bucket_cfg_free");
	ge_free(cfg);
}

int bufferevent_set_rate_limit(struct bufferevent *bev,
    struct ev_token_bucket_cfg *cfg)
{
	CHECK_BEV("bufferevent_set_rate_limit", bev, -1);
	return goev_bufferevent_set_rate_limit(bev, cfg);
}

const struct ev_token_bucket_cfg *bufferevent_get_token_bucket_cfg(
    const struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_token_bucket_cfg", bev, NULL);
	return goev_bufferevent_get_token_bucket_cfg((void *)bev);
}

ev_ssize_t bufferevent_get_read_limit(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_read_limit", bev, -1);
	return goev_bufferevent_limit(bev, 0);
}

ev_ssize_t bufferevent_get_write_limit(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_write_limit", bev, -1);
	return goev_bufferevent_limit(bev, 1);
}

ev_ssize_t bufferevent_get_max_to_read(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_max_to_read", bev, -1);
	return goev_bufferevent_limit(bev, 2);
}

ev_ssize_t bufferevent_get_max_to_write(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_max_to_write", bev, -1);
	return goev_bufferevent_limit(bev, 3);
}

int bufferevent_decrement_read_limit(struct bufferevent *bev, ev_ssize_t decr)
{
	CHECK_BEV("bufferevent_decrement_read_limit", bev, -1);
	return goev_bufferevent_decrement_limit(bev, decr, 0);
}

int bufferevent_decrement_write_limit(struct bufferevent *bev, ev_ssize_t decr)
{
	CHECK_BEV("bufferevent_decrement_write_limit", bev, -1);
	return goev_bufferevent_decrement_limit(bev, decr, 1);
}

struct bufferevent_rate_limit_group *bufferevent_rate_limit_group_new(
    struct event_base *base, const struct ev_token_bucket_cfg *cfg)
{
	GE_NEED_ENGINE("bufferevent_rate_limit_group_new", NULL);
	if (!cfg) {
		GE_BADARG("bufferevent_rate_limit_group_new", "NULL cfg");
		return NULL;
	}
	return goev_bufferevent_rate_limit_group_new(base, (void *)cfg);
}

int bufferevent_rate_limit_group_set_cfg(struct bufferevent_rate_limit_group *g,
    const struct ev_token_bucket_cfg *cfg)
{
	GE_NEED_ENGINE("bufferevent_rate_limit_group_set_cfg", -1);
	if (!g || !cfg)
		return -1;
	return goev_bufferevent_rate_limit_group_set_cfg(g, (void *)cfg);
}

int bufferevent_rate_limit_group_set_min_share(
    struct bufferevent_rate_limit_group *g, size_t share)
{
	CHECK_GROUP("bufferevent_rate_limit_group_set_min_share", g, -1);
	return goev_bufferevent_rate_limit_group_set_min_share(g, share);
}

void bufferevent_rate_limit_group_free(struct bufferevent_rate_limit_group *g)
{
	CHECK_GROUP_VOID("bufferevent_rate_limit_group_free", g);
	goev_bufferevent_rate_limit_group_free(g);
}

int bufferevent_add_to_rate_limit_group(struct bufferevent *bev,
    struct bufferevent_rate_limit_group *g)
{
	CHECK_BEV("bufferevent_add_to_rate_limit_group", bev, -1);
	CHECK_GROUP("bufferevent_add_to_rate_limit_group", g, -1);
	return goev_bufferevent_add_to_rate_limit_group(bev, g);
}

int bufferevent_remove_from_rate_limit_group(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_remove_from_rate_limit_group", bev, -1);
	return goev_bufferevent_remove_from_rate_limit_group(bev);
}

ev_ssize_t bufferevent_rate_limit_group_get_read_limit(
    struct bufferevent_rate_limit_group *g)
{
	CHECK_GROUP("bufferevent_rate_limit_group_get_read_limit", g, -1);
	return goev_bufferevent_rate_limit_group_get_limit(g, 0);
}

ev_ssize_t bufferevent_rate_limit_group_get_write_limit(
    struct bufferevent_rate_limit_group *g)
{
	CHECK_GROUP("bufferevent_rate_limit_group_get_write_limit", g, -1);
	return goev_bufferevent_rate_limit_group_get_limit(g, 1);
}

int bufferevent_rate_limit_group_decrement_read(
    struct bufferevent_rate_limit_group *g, ev_ssize_t decr)
{
	CHECK_GROUP("bufferevent_rate_limit_group_decrement_read", g, -1);
	return goev_bufferevent_rate_limit_group_decrement(g, decr, 0);
}

int bufferevent_rate_limit_group_decrement_write(
    struct bufferevent_rate_limit_group *g, ev_ssize_t decr)
{
	CHECK_GROUP("bufferevent_rate_limit_group_decrement_write", g, -1);
	return goev_bufferevent_rate_limit_group_decrement(g, decr, 1);
}

void bufferevent_rate_limit_group_get_totals(
    struct bufferevent_rate_limit_group *g, ev_uint64_t *total_read_out,
    ev_uint64_t *total_written_out)
{
	CHECK_GROUP_VOID("bufferevent_rate_limit_group_get_totals", g);
	goev_bufferevent_rate_limit_group_get_totals(g,
	    (uint64_t *)total_read_out, (uint64_t *)total_written_out);
}

void bufferevent_rate_limit_group_reset_totals(
    struct bufferevent_rate_limit_group *g)
{
	CHECK_GROUP_VOID("bufferevent_rate_limit_group_reset_totals", g);
	goev_bufferevent_rate_limit_group_reset_totals(g);
}
