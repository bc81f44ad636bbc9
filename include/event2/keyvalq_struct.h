/*
 * event2/keyvalq_struct.h -- goevent's header for libevent 2.1.12's API of
 * the same name: the key/value list type (struct evkeyvalq) of libevent's
 * HTTP headers, kept for programs that name it.
 *
 * The link fields are spelled out with the member names <sys/queue.h>'s
 * TAILQ_ENTRY/TAILQ_HEAD use, so the TAILQ_* macros work on them; unlike
 * libevent, this header never defines or undefines the TAILQ_* macros.
 */
#ifndef EVENT2_KEYVALQ_STRUCT_H_INCLUDED_
#define EVENT2_KEYVALQ_STRUCT_H_INCLUDED_

#ifdef __cplusplus
extern "C" {
#endif

struct evkeyval {
	struct {                        /* TAILQ_ENTRY(evkeyval) */
		struct evkeyval *tqe_next;
		struct evkeyval **tqe_prev;
	} next;
	char *key;
	char *value;
};

struct evkeyvalq {                      /* TAILQ_HEAD(evkeyvalq, evkeyval) */
	struct evkeyval *tqh_first;
	struct evkeyval **tqh_last;
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_KEYVALQ_STRUCT_H_INCLUDED_ */
