/* SPDX-License-Identifier: MIT */
/*
 * timer.h - one-shot timers on a namespace's clock
 *
 * A timer_base holds a binary min-heap of armed timers (a fixed array sized
 * up front: arming never allocates).  timer_run(base, now) fires every timer
 * whose deadline is <= now, in deadline order, ties in arming order, so a
 * virtual-time run is deterministic.  Callbacks run with the namespace lock
 * held and may re-arm or cancel any timer, including their own.
 */
#ifndef USOCK_CORE_TIMER_H
#define USOCK_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer;
typedef void (*timer_fn)(struct timer *t, void *arg);

struct timer {
	uint64_t expires;	/* ns on the base's clock */
	uint64_t seq;		/* arming order, breaks ties */
	timer_fn fn;
	void *arg;
	int idx;		/* heap index, -1 when not armed */
};

struct timer_base {
	struct timer **heap;
	unsigned n, cap;
	uint64_t seq;
};

struct arena;
/* timer_base_init - heap of cap entries from arena a. Return: 0, -ENOMEM. */
int timer_base_init(struct timer_base *b, struct arena *a, unsigned cap);
void timer_init(struct timer *t, timer_fn fn, void *arg);
/* timer_arm - (re)arm t to fire at 'expires'. Return: 0, -ENOBUFS if the heap is full. */
int timer_arm(struct timer_base *b, struct timer *t, uint64_t expires);
/* timer_cancel - disarm (no-op if not armed). */
void timer_cancel(struct timer_base *b, struct timer *t);
static inline bool timer_pending(const struct timer *t) { return t->idx >= 0; }
/* timer_next - earliest deadline, or UINT64_MAX if none. */
uint64_t timer_next(const struct timer_base *b);
/* timer_run - fire all timers due at now. Return: number fired. */
unsigned timer_run(struct timer_base *b, uint64_t now);

#endif
