/* SPDX-License-Identifier: MIT */
/*
 * test_clock.c - real and virtual clocks
 */
#include <criterion/criterion.h>
#include <time.h>

#include "core/clock.h"

static uint64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

Test(clock, real_follows_monotonic)
{
	struct clock c;
	uint64_t before, now, after;

	clock_init(&c, false);
	before = ts_ns(CLOCK_MONOTONIC);
	now = clock_now(&c);
	after = ts_ns(CLOCK_MONOTONIC);
	cr_assert(before <= now && now <= after);
}

Test(clock, real_never_goes_back)
{
	struct clock c;
	uint64_t prev, now;
	int i;

	clock_init(&c, false);
	prev = clock_now(&c);
	for (i = 0; i < 100000; i++) {
		now = clock_now(&c);
		cr_assert_geq(now, prev);
		prev = now;
	}
}

Test(clock, real_realtime_is_read_live)
{
	struct clock c;
	uint64_t before, rt, after;

	clock_init(&c, false);
	before = ts_ns(CLOCK_REALTIME);
	rt = clock_realtime(&c);
	after = ts_ns(CLOCK_REALTIME);
	cr_assert(before <= rt && rt <= after);
}

Test(clock, real_ignores_advance)
{
	struct clock c;
	uint64_t before;

	clock_init(&c, false);
	before = clock_now(&c);
	clock_advance(&c, 3600 * NSEC_PER_SEC);
	cr_assert_lt(clock_now(&c), before + 3600 * NSEC_PER_SEC);
}

/* Virtual time starts at 1 s: no clock reading is ever the 0 that time stamps use for "never". */
Test(clock, virtual_starts_at_one_second_and_steps)
{
	struct clock c;
	const uint64_t s0 = NSEC_PER_SEC;

	clock_init(&c, true);
	cr_assert_eq(clock_now(&c), s0);
	cr_assert_eq(clock_now(&c), s0, "virtual time must not move by itself");
	clock_advance(&c, 5 * NSEC_PER_MSEC);
	cr_assert_eq(clock_now(&c), s0 + 5 * NSEC_PER_MSEC);
	clock_advance(&c, 0);
	cr_assert_eq(clock_now(&c), s0 + 5 * NSEC_PER_MSEC);
	clock_advance(&c, 7);
	cr_assert_eq(clock_now(&c), s0 + 5 * NSEC_PER_MSEC + 7);
}

Test(clock, virtual_realtime_is_fixed_epoch)
{
	struct clock a, b;
	const uint64_t epoch = 1767225600ull * NSEC_PER_SEC;	/* 2026-01-01Z */

	clock_init(&a, true);
	clock_init(&b, true);
	cr_assert_eq(clock_realtime(&a), epoch);
	clock_advance(&a, 1500 * NSEC_PER_USEC);
	clock_advance(&b, 1500 * NSEC_PER_USEC);
	cr_assert_eq(clock_realtime(&a), epoch + 1500 * NSEC_PER_USEC);
	cr_assert_eq(clock_realtime(&a), clock_realtime(&b), "runs must be reproducible");
}

Test(clock, virtual_advance_saturates)
{
	struct clock c;

	clock_init(&c, true);
	clock_advance(&c, UINT64_MAX - 10);
	clock_advance(&c, 100);
	cr_assert_eq(clock_now(&c), UINT64_MAX);
}
