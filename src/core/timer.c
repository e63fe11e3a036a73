/* SPDX-License-Identifier: MIT */
/*
 * timer.c - one-shot timers kept in a binary min-heap
 *
 * Theory of operation: a timer_base owns an array of cap pointers carved
 * from the namespace arena at init; arming never allocates, and a full heap
 * says -ENOBUFS instead of growing (the caller decides whether that is fatal).
 * The timers themselves belong to their owners (sockets, neighbour entries);
 * the heap only points at them, and each armed timer records its slot in
 * idx so cancel and re-arm are O(log n) without a search.
 *
 * Order is (expires, seq): seq is taken from the base's counter on every
 * arm, so timers with the same deadline fire in the order they were last
 * armed.  A virtual-time simulation therefore fires the same timers in the
 * same order on every run, whatever the heap's internal layout.
 *
 * timer_run takes the earliest due timer off the heap before calling its
 * function, so the function sees itself as not pending and may re-arm
 * itself, arm or cancel any other timer.  Each step looks at the heap again:
 * a timer cancelled by an earlier callback of the same run is simply no
 * longer there, and a timer armed by a callback with a deadline <= now fires
 * in the same run, as __hrtimer_run_queues does when a callback restarts a
 * timer whose expiry already passed.  A callback that keeps re-arming itself
 * at or before now therefore keeps timer_run busy: that is the caller's bug,
 * as it would be in the kernel.
 *
 * Limits: no locking (the namespace lock covers the base and its timers);
 * at most INT_MAX entries since idx is an int.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/timer.h"

static inline bool timer_before(const struct timer *a, const struct timer *b)
{
	if (a->expires != b->expires)
		return a->expires < b->expires;
	return a->seq < b->seq;
}

static inline void timer_place(struct timer_base *b, unsigned i, struct timer *t)
{
	b->heap[i] = t;
	t->idx = (int)i;
}

/* Move t up from slot i until its parent is earlier; t is not yet stored. */
static void timer_sift_up(struct timer_base *b, unsigned i, struct timer *t)
{
	while (i > 0) {
		unsigned parent = (i - 1) / 2;

		if (!timer_before(t, b->heap[parent]))
			break;
		timer_place(b, i, b->heap[parent]);
		i = parent;
	}
	timer_place(b, i, t);
}

/* Move t down from slot i until both children are later; t is not yet stored. */
static void timer_sift_down(struct timer_base *b, unsigned i, struct timer *t)
{
	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= b->n)
			break;
		if (c + 1 < b->n && timer_before(b->heap[c + 1], b->heap[c]))
			c++;
		if (!timer_before(b->heap[c], t))
			break;
		timer_place(b, i, b->heap[c]);
		i = c;
	}
	timer_place(b, i, t);
}

/* Put t at slot i, wherever it belongs relative to its neighbours. */
static void timer_fix(struct timer_base *b, unsigned i, struct timer *t)
{
	if (i > 0 && timer_before(t, b->heap[(i - 1) / 2]))
		timer_sift_up(b, i, t);
	else
		timer_sift_down(b, i, t);
}

/* Take the armed timer t off the heap. */
static void timer_remove(struct timer_base *b, struct timer *t)
{
	unsigned i = (unsigned)t->idx;
	struct timer *last = b->heap[--b->n];

	t->idx = -1;
	if (last != t)
		timer_fix(b, i, last);
	b->heap[b->n] = NULL;
}

/**
 * timer_base_init() - set up an empty timer heap
 * @b:		base to initialise
 * @a:		arena that provides the heap array (never given back)
 * @cap:	most timers that can be armed at once
 *
 * Return: 0, or -ENOMEM if the arena cannot hold the array or cap does not
 * fit the int heap index.
 */
int timer_base_init(struct timer_base *b, struct arena *a, unsigned cap)
{
	b->heap = NULL;
	b->n = 0;
	b->cap = 0;
	b->seq = 0;
	if (cap > INT_MAX)
		return -ENOMEM;
	if (cap) {
		b->heap = arena_alloc(a, (size_t)cap * sizeof(*b->heap));
		if (!b->heap)
			return -ENOMEM;
	}
	b->cap = cap;
	return 0;
}

/**
 * timer_init() - prepare an unarmed timer
 * @t:		timer
 * @fn:		called from timer_run once the deadline has passed
 * @arg:	passed to fn
 */
void timer_init(struct timer *t, timer_fn fn, void *arg)
{
	t->expires = 0;
	t->seq = 0;
	t->fn = fn;
	t->arg = arg;
	t->idx = -1;
}

/**
 * timer_arm() - arm t, or move it if it is already armed
 * @b:		base
 * @t:		timer (initialised with timer_init)
 * @expires:	deadline in ns on the base's clock; any value, including
 *		one already past (it then fires at the next timer_run)
 *
 * Re-arming takes a new seq, so among equal deadlines the timer now counts
 * as armed last.
 *
 * Return: 0, or -ENOBUFS if t is not armed and the heap is full (t is left
 * unarmed).
 */
int timer_arm(struct timer_base *b, struct timer *t, uint64_t expires)
{
	if (t->idx < 0) {
		if (b->n == b->cap)
			return -ENOBUFS;
		t->expires = expires;
		t->seq = b->seq++;
		timer_sift_up(b, b->n++, t);
		return 0;
	}
	t->expires = expires;
	t->seq = b->seq++;
	timer_fix(b, (unsigned)t->idx, t);
	return 0;
}

/**
 * timer_cancel() - disarm t; nothing happens if it is not armed
 * @b:		base t was armed on
 * @t:		timer
 */
void timer_cancel(struct timer_base *b, struct timer *t)
{
	if (t->idx < 0)
		return;
	timer_remove(b, t);
}

/**
 * timer_next() - earliest armed deadline
 * @b:		base
 *
 * Return: the deadline in ns, or UINT64_MAX if nothing is armed.
 */
uint64_t timer_next(const struct timer_base *b)
{
	return b->n ? b->heap[0]->expires : UINT64_MAX;
}

/**
 * timer_run() - fire every timer due at now, earliest first
 * @b:		base
 * @now:	current time on the base's clock
 *
 * Each timer is off the heap before its function runs.  Callbacks may arm
 * and cancel freely: a timer they cancel does not fire, a timer they arm
 * with a deadline <= now fires in this same run (see the theory above).
 *
 * Return: number of callbacks made.
 */
unsigned timer_run(struct timer_base *b, uint64_t now)
{
	unsigned fired = 0;

	while (b->n && b->heap[0]->expires <= now) {
		struct timer *t = b->heap[0];

		timer_remove(b, t);
		fired++;
		t->fn(t, t->arg);
	}
	return fired;
}
