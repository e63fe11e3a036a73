/* SPDX-License-Identifier: MIT */
/*
 * test_timer.c - timer heap: order, ties, re-arm, cancel, callbacks, capacity,
 * and a long random run checked against a naive reference
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/timer.h"

#define TT_MAX 64

static struct arena *tt_arena;
static struct timer_base tt_base;
static struct timer tt_t[TT_MAX];
static int tt_log[4096];
static unsigned tt_nlog;
static uint64_t tt_now;

static void tt_setup(void)
{
	tt_arena = arena_new(1 << 20);
	cr_assert_not_null(tt_arena);
	cr_assert_eq(timer_base_init(&tt_base, tt_arena, TT_MAX), 0);
	tt_nlog = 0;
	tt_now = 0;
}

static void tt_teardown(void)
{
	arena_destroy(tt_arena);
}

/* Every slot points back at itself and no child fires before its parent. */
static void tt_check_heap(const struct timer_base *b)
{
	unsigned i;

	cr_assert_leq(b->n, b->cap);
	for (i = 0; i < b->n; i++) {
		const struct timer *t = b->heap[i], *p;

		cr_assert_eq(t->idx, (int)i, "slot %u holds idx %d", i, t->idx);
		if (!i)
			continue;
		p = b->heap[(i - 1) / 2];
		cr_assert(p->expires < t->expires ||
			  (p->expires == t->expires && p->seq < t->seq),
			  "heap order broken at %u", i);
	}
}

static int tt_id(const struct timer *t)
{
	return (int)(t - tt_t);
}

static void tt_record(struct timer *t, void *arg)
{
	tt_log[tt_nlog++] = tt_id(t);
}

static void tt_expect_log(const int *want, unsigned n)
{
	unsigned i;

	cr_assert_eq(tt_nlog, n, "fired %u, want %u", tt_nlog, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(tt_log[i], want[i], "firing %u: timer %d, want %d",
			     i, tt_log[i], want[i]);
}

TestSuite(timer, .init = tt_setup, .fini = tt_teardown, .timeout = 60);

Test(timer, fires_in_deadline_order)
{
	static const uint64_t when[] = { 30, 10, 50, 20, 40, 5, 45 };
	static const int want[] = { 5, 1, 3, 0, 4, 6, 2 };
	unsigned i;

	for (i = 0; i < 7; i++) {
		timer_init(&tt_t[i], tt_record, NULL);
		cr_assert_not(timer_pending(&tt_t[i]));
		cr_assert_eq(timer_arm(&tt_base, &tt_t[i], when[i]), 0);
		cr_assert(timer_pending(&tt_t[i]));
		tt_check_heap(&tt_base);
	}
	cr_assert_eq(timer_next(&tt_base), 5);
	cr_assert_eq(timer_run(&tt_base, 4), 0);
	cr_assert_eq(timer_run(&tt_base, 20), 3);
	cr_assert_eq(timer_next(&tt_base), 30);
	cr_assert_eq(timer_run(&tt_base, UINT64_MAX), 4);
	tt_expect_log(want, 7);
	cr_assert_eq(timer_next(&tt_base), UINT64_MAX);
	for (i = 0; i < 7; i++)
		cr_assert_not(timer_pending(&tt_t[i]));
}

Test(timer, ties_fire_in_arming_order)
{
	static const int want[] = { 7, 2, 9, 0, 1, 3, 4, 5, 6, 8 };
	static const int order[] = { 7, 2, 9, 0, 1, 3, 4, 5, 6, 8 };
	unsigned i;

	for (i = 0; i < 10; i++) {
		timer_init(&tt_t[order[i]], tt_record, NULL);
		cr_assert_eq(timer_arm(&tt_base, &tt_t[order[i]], 100), 0);
	}
	tt_check_heap(&tt_base);
	cr_assert_eq(timer_run(&tt_base, 100), 10);
	tt_expect_log(want, 10);
}

Test(timer, rearm_moves_and_counts_as_latest)
{
	static const int want[] = { 1, 2, 0, 3 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		timer_init(&tt_t[i], tt_record, NULL);
		cr_assert_eq(timer_arm(&tt_base, &tt_t[i], 10 * (i + 1)), 0);
	}
	/* 0 moves later, into a tie with 2: armed last, so it fires after 2. */
	cr_assert_eq(timer_arm(&tt_base, &tt_t[0], 30), 0);
	/* 3 moves later still; 1 moves earlier. */
	cr_assert_eq(timer_arm(&tt_base, &tt_t[3], 35), 0);
	cr_assert_eq(timer_arm(&tt_base, &tt_t[1], 1), 0);
	tt_check_heap(&tt_base);
	cr_assert_eq(tt_base.n, 4, "re-arming must not add entries");
	cr_assert_eq(timer_next(&tt_base), 1);
	cr_assert_eq(timer_run(&tt_base, 100), 4);
	tt_expect_log(want, 4);
}

Test(timer, cancel)
{
	static const int want[] = { 0, 2 };
	unsigned i;

	for (i = 0; i < 4; i++)
		timer_init(&tt_t[i], tt_record, NULL);
	timer_cancel(&tt_base, &tt_t[3]);	/* never armed: no-op */
	for (i = 0; i < 3; i++)
		cr_assert_eq(timer_arm(&tt_base, &tt_t[i], 10 + i), 0);
	timer_cancel(&tt_base, &tt_t[1]);
	timer_cancel(&tt_base, &tt_t[1]);
	cr_assert_not(timer_pending(&tt_t[1]));
	tt_check_heap(&tt_base);
	cr_assert_eq(tt_base.n, 2);
	cr_assert_eq(timer_run(&tt_base, 100), 2);
	tt_expect_log(want, 2);
}

/* Timer 0's callback cancels 1 (due in the same run) and 2 (not due yet). */
static void tt_cancel_others(struct timer *t, void *arg)
{
	tt_record(t, arg);
	timer_cancel(&tt_base, &tt_t[1]);
	timer_cancel(&tt_base, &tt_t[2]);
}

Test(timer, cancel_from_callback)
{
	static const int want[] = { 0, 3 };

	timer_init(&tt_t[0], tt_cancel_others, NULL);
	timer_init(&tt_t[1], tt_record, NULL);
	timer_init(&tt_t[2], tt_record, NULL);
	timer_init(&tt_t[3], tt_record, NULL);
	timer_arm(&tt_base, &tt_t[0], 10);
	timer_arm(&tt_base, &tt_t[1], 10);
	timer_arm(&tt_base, &tt_t[3], 10);
	timer_arm(&tt_base, &tt_t[2], 500);
	cr_assert_eq(timer_run(&tt_base, 10), 2);
	tt_expect_log(want, 2);
	cr_assert_eq(timer_next(&tt_base), UINT64_MAX);
	tt_check_heap(&tt_base);
}

/* Re-arms itself: twice into the past (fires again now), then 10 ns ahead. */
static void tt_self_rearm(struct timer *t, void *arg)
{
	int *left = arg;

	cr_assert_not(timer_pending(t), "a firing timer is off the heap");
	tt_record(t, arg);
	if (*left > 0) {
		--*left;
		cr_assert_eq(timer_arm(&tt_base, t, tt_now), 0);
	} else if (*left == 0) {
		--*left;
		cr_assert_eq(timer_arm(&tt_base, t, tt_now + 10), 0);
	}
}

Test(timer, self_rearm)
{
	static const int want[] = { 0, 1, 0, 0, 0 };
	int left = 2;

	timer_init(&tt_t[0], tt_self_rearm, &left);
	timer_init(&tt_t[1], tt_record, NULL);
	timer_arm(&tt_base, &tt_t[0], 100);
	timer_arm(&tt_base, &tt_t[1], 100);
	tt_now = 100;
	/* 0, then 1 (armed before 0's re-arm), then 0 twice more. */
	cr_assert_eq(timer_run(&tt_base, tt_now), 4);
	cr_assert(timer_pending(&tt_t[0]));
	cr_assert_eq(timer_next(&tt_base), 110);
	cr_assert_eq(timer_run(&tt_base, 109), 0);
	tt_now = 110;
	cr_assert_eq(timer_run(&tt_base, tt_now), 1);
	tt_expect_log(want, 5);
	cr_assert_not(timer_pending(&tt_t[0]));
}

/* Timer 0 arms 1 in the past (fires this run) and 2 in the future (does not). */
static void tt_arm_others(struct timer *t, void *arg)
{
	tt_record(t, arg);
	timer_arm(&tt_base, &tt_t[1], tt_now - 50);
	timer_arm(&tt_base, &tt_t[2], tt_now + 1);
}

Test(timer, callback_arms_due_timer_same_run)
{
	static const int want[] = { 0, 1, 3 };

	timer_init(&tt_t[0], tt_arm_others, NULL);
	timer_init(&tt_t[1], tt_record, NULL);
	timer_init(&tt_t[2], tt_record, NULL);
	timer_init(&tt_t[3], tt_record, NULL);
	tt_now = 1000;
	timer_arm(&tt_base, &tt_t[0], 900);
	timer_arm(&tt_base, &tt_t[3], 1000);
	/* 1 gets deadline 950 < 3's 1000, so it fires before 3. */
	cr_assert_eq(timer_run(&tt_base, tt_now), 3);
	tt_expect_log(want, 3);
	cr_assert(timer_pending(&tt_t[2]));
}

Test(timer, full_heap_is_enobufs)
{
	struct timer_base b;
	struct timer t[5];
	unsigned i;

	cr_assert_eq(timer_base_init(&b, tt_arena, 4), 0);
	for (i = 0; i < 5; i++)
		timer_init(&t[i], tt_record, NULL);
	for (i = 0; i < 4; i++)
		cr_assert_eq(timer_arm(&b, &t[i], 40 - i), 0);
	cr_assert_eq(timer_arm(&b, &t[4], 1), -ENOBUFS);
	cr_assert_not(timer_pending(&t[4]));
	cr_assert_eq(timer_next(&b), 37);
	/* Moving an armed timer needs no new slot. */
	cr_assert_eq(timer_arm(&b, &t[0], 2), 0);
	timer_cancel(&b, &t[1]);
	cr_assert_eq(timer_arm(&b, &t[4], 1), 0);
	cr_assert_eq(timer_next(&b), 1);
	tt_check_heap(&b);
}

Test(timer, zero_capacity)
{
	struct timer_base b;
	struct timer t;

	cr_assert_eq(timer_base_init(&b, tt_arena, 0), 0);
	timer_init(&t, tt_record, NULL);
	cr_assert_eq(timer_arm(&b, &t, 1), -ENOBUFS);
	cr_assert_eq(timer_next(&b), UINT64_MAX);
	cr_assert_eq(timer_run(&b, UINT64_MAX), 0);
}

Test(timer, arena_exhausted_is_enomem)
{
	struct arena *small = arena_new(4096);
	struct timer_base b;

	cr_assert_not_null(small);
	cr_assert_eq(timer_base_init(&b, small, 1u << 20), -ENOMEM);
	cr_assert_eq(timer_base_init(&b, small, 0x80000000u), -ENOMEM);
	arena_destroy(small);
}

/*
 * Random run: the same operations go to the heap and to a reference that
 * finds the next timer by scanning an array.  Callbacks act too (re-arm
 * themselves, arm or cancel others) from their own random streams, both
 * sides seeded alike, so as long as both fire in the same order they make
 * the same moves; any difference shows up in the logs.
 */
#define RT_N 64
#define RT_CAP 16

struct rt_ref {
	bool armed;
	uint64_t expires, seq;
};

static struct rt_ref rt_ref[RT_N];
static unsigned rt_ref_n;
static uint64_t rt_ref_seq;
static uint64_t rt_rng_op, rt_rng_cb_real, rt_rng_cb_ref;
static int rt_log_ref[1 << 16];
static unsigned rt_nlog_ref, rt_nlog_real;
static int rt_log_real[1 << 16];
static unsigned rt_same_run_rearms;

static uint64_t rt_next(uint64_t *s)
{
	/* xorshift64*: small, seedable, good enough to pick operations. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int rt_ref_arm(int i, uint64_t expires)
{
	if (!rt_ref[i].armed) {
		if (rt_ref_n == RT_CAP)
			return -ENOBUFS;
		rt_ref_n++;
	}
	rt_ref[i].armed = true;
	rt_ref[i].expires = expires;
	rt_ref[i].seq = rt_ref_seq++;
	return 0;
}

static void rt_ref_cancel(int i)
{
	if (rt_ref[i].armed)
		rt_ref_n--;
	rt_ref[i].armed = false;
}

static int rt_ref_min(void)
{
	int i, best = -1;

	for (i = 0; i < RT_N; i++) {
		if (!rt_ref[i].armed)
			continue;
		if (best < 0 || rt_ref[i].expires < rt_ref[best].expires ||
		    (rt_ref[i].expires == rt_ref[best].expires &&
		     rt_ref[i].seq < rt_ref[best].seq))
			best = i;
	}
	return best;
}

/*
 * What a firing timer does, drawn from s.  Re-arming into the past is kept
 * rare, and never chained more than a few times, so a run always ends.
 */
struct rt_action {
	int kind;		/* 0 none, 1 re-arm self, 2 arm other, 3 cancel other */
	int other;
	uint64_t expires;
};

static struct rt_action rt_draw(uint64_t *s, int self, unsigned *past_budget)
{
	struct rt_action a = { 0, 0, 0 };
	uint64_t r = rt_next(s);

	a.other = (int)((r >> 8) % RT_N);
	a.expires = tt_now + (r >> 20) % 200;
	switch (r % 8) {
	case 0:
	case 1:
		a.kind = 1;
		a.other = self;
		break;
	case 2:
		a.kind = 2;
		break;
	case 3:
		a.kind = 3;
		break;
	}
	if (a.kind && a.kind != 3 && (r >> 40) % 4 == 0) {
		if (*past_budget) {
			--*past_budget;
			a.expires = tt_now - (r >> 44) % 3;
		}
	}
	return a;
}

static unsigned rt_budget_real, rt_budget_ref;

static void rt_cb(struct timer *t, void *arg)
{
	int self = tt_id(t);
	struct rt_action a = rt_draw(&rt_rng_cb_real, self, &rt_budget_real);

	rt_log_real[rt_nlog_real++] = self;
	if (a.kind == 1 || a.kind == 2) {
		timer_arm(&tt_base, &tt_t[a.other], a.expires);
		if (a.expires <= tt_now)
			rt_same_run_rearms++;
	} else if (a.kind == 3) {
		timer_cancel(&tt_base, &tt_t[a.other]);
	}
}

static unsigned rt_ref_run(uint64_t now)
{
	unsigned fired = 0;
	int i;

	while ((i = rt_ref_min()) >= 0 && rt_ref[i].expires <= now) {
		struct rt_action a;

		rt_ref_cancel(i);
		fired++;
		a = rt_draw(&rt_rng_cb_ref, i, &rt_budget_ref);
		rt_log_ref[rt_nlog_ref++] = i;
		if (a.kind == 1 || a.kind == 2)
			rt_ref_arm(a.other, a.expires);
		else if (a.kind == 3)
			rt_ref_cancel(a.other);
	}
	return fired;
}

Test(timer, random_ops_match_reference)
{
	unsigned op, i, fired_total = 0, enobufs = 0;

	cr_assert_eq(timer_base_init(&tt_base, tt_arena, RT_CAP), 0);
	for (i = 0; i < RT_N; i++)
		timer_init(&tt_t[i], rt_cb, NULL);
	rt_rng_op = 0x9e3779b97f4a7c15ull;
	rt_rng_cb_real = rt_rng_cb_ref = 0xd1b54a32d192ed03ull;
	tt_now = 1000;

	for (op = 0; op < 10000; op++) {
		uint64_t r = rt_next(&rt_rng_op);
		int id = (int)((r >> 8) % RT_N);
		int got, want;

		switch (r % 10) {
		case 0: case 1: case 2: case 3: case 4: {
			/* Deadlines from a small range so ties are common. */
			uint64_t exp = tt_now + (r >> 24) % 64;

			got = timer_arm(&tt_base, &tt_t[id], exp);
			want = rt_ref_arm(id, exp);
			cr_assert_eq(got, want, "op %u: arm %d gave %d, want %d",
				     op, id, got, want);
			enobufs += got == -ENOBUFS;
			break;
		}
		case 5: case 6:
			timer_cancel(&tt_base, &tt_t[id]);
			rt_ref_cancel(id);
			break;
		default: {
			unsigned a, b;

			tt_now += (r >> 24) % 40;
			rt_budget_real = rt_budget_ref = 4;
			a = timer_run(&tt_base, tt_now);
			b = rt_ref_run(tt_now);
			cr_assert_eq(a, b, "op %u: run fired %u, want %u", op, a, b);
			fired_total += a;
			break;
		}
		}
		cr_assert_eq(rt_nlog_real, rt_nlog_ref);
		for (i = 0; i < rt_nlog_ref; i++)
			cr_assert_eq(rt_log_real[i], rt_log_ref[i],
				     "op %u: firing %u was %d, want %d", op, i,
				     rt_log_real[i], rt_log_ref[i]);
		rt_nlog_real = rt_nlog_ref = 0;
		cr_assert_eq(tt_base.n, rt_ref_n);
		for (i = 0; i < RT_N; i++)
			cr_assert_eq(timer_pending(&tt_t[i]), rt_ref[i].armed,
				     "op %u: timer %u pending mismatch", op, i);
		i = (unsigned)rt_ref_min();
		cr_assert_eq(timer_next(&tt_base),
			     rt_ref_min() < 0 ? UINT64_MAX : rt_ref[i].expires);
		tt_check_heap(&tt_base);
	}
	cr_log_info("fired %u, enobufs %u, armed-due-in-callback %u",
		    fired_total, enobufs, rt_same_run_rearms);
	/* Make sure the run exercised what it claims to. */
	cr_assert_gt(fired_total, 1000);
	cr_assert_gt(enobufs, 0, "the heap never filled");
	cr_assert_gt(rt_same_run_rearms, 0, "no callback armed a due timer");
}
