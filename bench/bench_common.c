/* SPDX-License-Identifier: MIT */
/*
 * bench_common.c - the pieces the UDP, TCP and memory cases run alike
 *
 * Theory of operation.  The cases differ in the calls they time, not in how
 * they time them: two threads started receiver first, a warm-up then a
 * measured window read off the threads' counters, joins with a deadline that
 * leave a stuck thread (and what it uses) behind, a latency loop whose
 * samples give a median and a p99, and for the memory cases the descriptor
 * budget and the usock namespace whose arena growth is the usock figure.
 * Those live here once so that every case measures them the same way.
 * Keeps no state of its own: everything is in the caller's structures.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "usock.h"
#include "bench.h"

/*
 * Bound every blocking call on @fd to @usec: recv/accept by SO_RCVTIMEO,
 * send/connect by SO_SNDTIMEO.  Return: 0, or -1 with @r's error set.
 */
int bench_set_timeouts(const struct bench_stack *st, int fd, long usec, struct bench_result *r)
{
	struct timeval tv = { 0, usec };

	if (st->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		bench_set_err(r, "setsockopt(SO_RCVTIMEO)", errno);
		return -1;
	}
	if (st->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		bench_set_err(r, "setsockopt(SO_SNDTIMEO)", errno);
		return -1;
	}
	return 0;
}

/* ---- two threads and a measured window ----------------------------------- */

/*
 * Start @fn1 on bench_cpu[1] (the receiving side, so it is ready first),
 * then @fn0 on bench_cpu[0].  @p->have[] says which run.
 * Return: 0, or -1 with @r's error set ("pthread_create").
 */
int bench_pair_start(struct bench_pair *p, void *(*fn0)(void *), void *(*fn1)(void *),
		     void *arg, struct bench_result *r)
{
	int rc;

	rc = bench_start_thread(&p->t[1], bench_cpu[1], fn1, arg);
	if (rc) {
		bench_set_err(r, "pthread_create", rc);
		return -1;
	}
	p->have[1] = true;
	rc = bench_start_thread(&p->t[0], bench_cpu[0], fn0, arg);
	if (rc) {
		bench_set_err(r, "pthread_create", rc);
		return -1;
	}
	p->have[0] = true;
	return 0;
}

/*
 * Tell thread @i to stop through @stop (NULL: it stops by itself) and join
 * it within @secs; one that does not stop is reported in @f as "@who did
 * not stop" and marks @p->leak, so that the caller frees nothing it may use.
 * Return: false if the thread was left behind.
 */
bool bench_pair_join(struct bench_pair *p, int i, atomic_bool *stop, double secs,
		     struct bench_tfail *f, const char *who)
{
	char msg[64];

	if (stop)
		atomic_store(stop, true);
	if (!p->have[i] || bench_join_within(p->t[i], secs))
		return true;
	snprintf(msg, sizeof(msg), "%s did not stop (stuck in a call)", who);
	bench_tfail_msg(f, msg);
	p->leak = true;
	return false;
}

/*
 * Warm up for bench_warmup, then read the @nc counters @c over a window of
 * bench_seconds; their growth goes to @d and the window's length to *@secs.
 * Return: false if a thread reported a failure in @f first.
 */
bool bench_window(struct bench_tfail *f, _Atomic uint64_t *const *c, uint64_t *d, int nc,
		  double *secs)
{
	uint64_t v0[BENCH_NVAL];
	double ta, tb;
	int i;

	if (!bench_sleep_until(bench_now_s() + bench_warmup, f))
		return false;
	ta = bench_now_s();
	for (i = 0; i < nc; i++)
		v0[i] = atomic_load(c[i]);
	if (!bench_sleep_until(ta + bench_seconds, f))
		return false;
	tb = bench_now_s();
	for (i = 0; i < nc; i++)
		d[i] = atomic_load(c[i]) - v0[i];
	*secs = tb - ta;
	return true;
}

/*
 * Move a thread's failure into @r.  Return: true if there was one.
 */
bool bench_tfail_take(struct bench_tfail *f, struct bench_result *r)
{
	if (!atomic_load(&f->failed))
		return false;
	r->ok = false;
	snprintf(r->err, sizeof(r->err), "%s", f->err);
	return true;
}

/* ---- latency: one exchange at a time, timed ------------------------------ */

/*
 * Room for the samples of one window (at most BENCH_LAT_MAX samples), the
 * pages faulted in now rather than inside the timed loop.
 * Return: 0, or -1 with @r's error set (ENOMEM).
 */
int bench_lat_init(struct bench_lat *l, struct bench_result *r)
{
	double want = bench_seconds * 4e6 + 1000;

	l->max = want > BENCH_LAT_MAX ? BENCH_LAT_MAX : (size_t)want;
	l->ns = malloc(l->max * sizeof(*l->ns));
	if (!l->ns) {
		bench_set_err(r, "malloc", ENOMEM);
		return -1;
	}
	memset(l->ns, 0, l->max * sizeof(*l->ns));
	return 0;
}

/*
 * The timing thread's body: exchanges through @once for bench_warmup
 * untimed, then for bench_seconds each timed into @l (once() returns 0
 * done, 1 lost, -1 failed and recorded).  @l->deadline is the end of the
 * current phase, for once() to see.  Sets *@stop when done, so the peer
 * thread ends too.  Return: nothing; the samples, losses and elapsed time
 * are in @l.
 */
void bench_lat_run(struct bench_lat *l, atomic_bool *stop, int (*once)(void *, uint8_t),
		   void *arg)
{
	uint64_t t, t0, begin;
	uint8_t seq = 0;
	int rc;

	l->deadline = bench_now_ns() + (uint64_t)(bench_warmup * 1e9);
	while (bench_now_ns() < l->deadline && !atomic_load(stop))
		if (once(arg, ++seq) < 0)
			goto out;
	begin = t = bench_now_ns();
	l->deadline = begin + (uint64_t)(bench_seconds * 1e9);
	while (l->n < l->max && t < l->deadline && !atomic_load(stop)) {
		t0 = bench_now_ns();
		rc = once(arg, ++seq);
		t = bench_now_ns();
		if (rc < 0)
			break;
		if (rc == 0)
			l->ns[l->n++] = (uint32_t)(t - t0);
		else
			l->lost++;
	}
	l->elapsed = (double)(t - begin) / 1e9;
out:
	atomic_store(stop, true);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * Median and p99 (nearest rank) of @l's samples in microseconds; sorts
 * them.  Return: nothing; call only with l->n > 0.
 */
void bench_lat_pcts(struct bench_lat *l, double *p50, double *p99)
{
	qsort(l->ns, l->n, sizeof(*l->ns), cmp_u32);
	*p50 = l->ns[(l->n - 1) / 2] / 1e3;
	*p99 = l->ns[(99 * l->n + 99) / 100 - 1] / 1e3;
}

/* ---- memory cases -------------------------------------------------------- */

/*
 * How many sockets (or connections) of @per descriptors each both stacks
 * can hold open at once, at most @n.  Return: the count, or -1 with both
 * results failed (RLIMIT_NOFILE: EMFILE) when fewer than 100 fit.
 */
int bench_mem_fit(int n, int per, struct bench_result *rk, struct bench_result *ru)
{
	long lim = bench_raise_nofile((long)per * n + 64);

	if (lim < (long)per * n + 64)
		n = (int)((lim - 64) / per);
	if (n < 100) {
		bench_set_err(rk, "RLIMIT_NOFILE", EMFILE);
		bench_set_err(ru, "RLIMIT_NOFILE", EMFILE);
		return -1;
	}
	return n;
}

/*
 * A fresh usock namespace named @name, made current, with its arena size in
 * *@m0 and the kernel counters in @s taken after it.  Return: the namespace,
 * or NULL with @ru's error set.
 */
struct usock_netns *bench_mem_ns(const char *name, size_t *m0, struct bench_ksnap *s,
				 struct bench_result *ru)
{
	struct usock_netns *ns = usock_netns_new(name, 0);

	if (!ns) {
		bench_set_err(ru, "usock_netns_new", errno);
		return NULL;
	}
	usock_netns_set(ns);
	*m0 = usock_netns_memory(ns);
	bench_ksnap_take(s);
	return ns;
}

/*
 * usock's figure for @n @unit: arena growth @m0..@m1 plus the kernel Slab
 * growth @a..@b behind its descriptors (@fds says which), with the note.
 * Return: nothing; @ru is filled.
 */
void bench_mem_usock(struct bench_result *ru, size_t m0, size_t m1, const struct bench_ksnap *a,
		     const struct bench_ksnap *b, int n, const char *unit, const char *fds)
{
	double arena = ((double)m1 - (double)m0) / n;
	double slab = (double)(b->slab_kb - a->slab_kb) * 1024 / n;
	char brk[160];

	ru->ok = true;
	ru->val[0] = arena + slab;
	bench_slab_breakdown(a, b, n, brk, sizeof(brk));
	snprintf(ru->note, sizeof(ru->note),
		 "usock %.0f B/%s = arena %.0f (usock_netns_memory) + kernel Slab %.0f"
		 " for its %sdescriptors\n    slab objects: %s\n    process RSS %+.0f B/%s",
		 ru->val[0], unit, arena, slab, fds, brk[0] ? brk : "-",
		 (double)(b->rss_kb - a->rss_kb) * 1024 / n, unit);
}
