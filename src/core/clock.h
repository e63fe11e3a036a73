/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the time source every timer reads
 *
 * A clock is real (CLOCK_MONOTONIC) or virtual (moves only by clock_advance).
 * Layers never call clock_gettime themselves.
 */
#ifndef USOCK_CORE_CLOCK_H
#define USOCK_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct clock {
	bool virt;
	uint64_t vnow;		/* virtual now, ns */
	int64_t real_off;	/* CLOCK_REALTIME - CLOCK_MONOTONIC at creation (virtual: fixed) */
};

void clock_init(struct clock *c, bool virt);
/* clock_now - monotonic ns. */
uint64_t clock_now(const struct clock *c);
/* clock_realtime - ns since the epoch (for SO_TIMESTAMP); virtual clocks give a fixed epoch + vnow. */
uint64_t clock_realtime(const struct clock *c);
/* clock_advance - virtual clocks only: move forward by d ns. */
void clock_advance(struct clock *c, uint64_t d);

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_USEC 1000ull

#endif
