/*
 * config.c: event_config (event.h). Plain C: needs no engine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loop.h"

struct event_config *event_config_new(void)
{
	struct event_config *cfg = ge_calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->max_dispatch_interval.tv_sec = -1;
	cfg->max_dispatch_callbacks = INT32_MAX;
	cfg->limit_callbacks_after_prio = 1;
	return cfg;
}

void event_config_free(struct event_config *cfg)
{
	if (!cfg)
		return;
	while (cfg->avoid) {
		struct ge_avoid *a = cfg->avoid;
		cfg->avoid = a->next;
		ge_free(a->method);
		ge_free(a);
	}
	ge_free(cfg);
}

int event_config_avoid_method(struct event_config *cfg, const char *method)
{
	if (!cfg || !method) {
		GE_BADARG("event_config_avoid_method", "NULL argument");
		return -1;
	}
	struct ge_avoid *a = ge_malloc(sizeof(*a));
	if (!a)
		return -1;
	a->method = ge_strdup(method);
	if (!a->method) {
		ge_free(a);
		return -1;
	}
	/* Order does not matter: only membership is ever asked. */
	a->next = cfg->avoid;
	cfg->avoid = a;
	return 0;
}

int event_config_require_features(struct event_config *cfg, int features)
{
	if (!cfg)
		return -1;
	cfg->require_features = features;
	return 0;
}

int event_config_set_flag(struct event_config *cfg, int flag)
{
	if (!cfg)
		return -1;
	cfg->flags |= flag;
	return 0;
}

int event_config_set_num_cpus_hint(struct event_config *cfg, int cpus)
{
	if (!cfg)
		return -1;
	cfg->n_cpus_hint = cpus;
	return 0;
}

int event_config_set_max_dispatch_interval(struct event_config *cfg,
    const struct timeval *max_interval, int max_callbacks, int min_priority)
{
	if (!cfg) {
		GE_BADARG("event_config_set_max_dispatch_interval", "NULL config");
		return -1;
	}
	if (max_interval)
		cfg->max_dispatch_interval = *max_interval;
	else
		cfg->max_dispatch_interval.tv_sec = -1;
	cfg->max_dispatch_callbacks = max_callbacks >= 0 ? max_callbacks : INT32_MAX;
	cfg->limit_callbacks_after_prio = min_priority < 0 ? 0 : min_priority;
	return 0;
}

int ge_config_avoids(const struct event_config *cfg, const char *m)
{
	for (const struct ge_avoid *a = cfg ? cfg->avoid : NULL; a; a = a->next)
		if (strcmp(a->method, m) == 0)
			return 1;
	return 0;
}
