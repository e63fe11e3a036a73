/* SPDX-License-Identifier: MIT */
/*
 * clock.c - real (CLOCK_MONOTONIC) or virtual time for a namespace
 *
 * Theory of operation: a struct clock owns one notion of "now".  A real clock
 * owns nothing but a flag: every read goes to clock_gettime, which glibc
 * serves from the vDSO without entering the kernel, so reading it per packet
 * is cheap and there is no cached value to go stale.  A virtual clock owns
 * vnow, which starts at CLOCK_VIRT_START_NS (1 s, not 0: like the kernel's
 * jiffies, which start at an offset, no clock value is ever the "never" 0
 * that TCP's and the neighbour code's time stamps use) and moves only when
 * clock_advance is called, so a
 * simulation that steps time gets the same timestamps on every run.
 *
 * Wall-clock time (SO_TIMESTAMP and friends) on a real clock is read from
 * CLOCK_REALTIME each time rather than derived from a saved offset: the
 * offset between the two clocks changes whenever NTP slews or someone sets
 * the date, and Linux stamps packets with the wall clock of the moment.  The
 * real_off field is filled at init for the record only.  A virtual clock's
 * wall time is a fixed epoch (2026-01-01T00:00:00Z) plus vnow, so captures
 * and timestamps of a simulated run are reproducible byte for byte.
 *
 * Limits: vnow is read and written with relaxed atomics so a reader on
 * another thread never sees a torn value; ordering against other state is
 * the namespace lock's job.  clock_advance saturates instead of wrapping.
 */
#include <time.h>

#include "core/clock.h"

/* 2026-01-01T00:00:00Z in ns since the Unix epoch. */
#define CLOCK_VIRT_EPOCH_NS (1767225600ull * NSEC_PER_SEC)
#define CLOCK_VIRT_START_NS NSEC_PER_SEC

static uint64_t clock_read(clockid_t id)
{
	struct timespec ts;

	/* Only EINVAL/EFAULT can fail, neither possible with these ids. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/**
 * clock_init() - set up a real or virtual clock
 * @c:		clock to initialise
 * @virt:	true for virtual time starting at CLOCK_VIRT_START_NS
 */
void clock_init(struct clock *c, bool virt)
{
	c->virt = virt;
	c->vnow = virt ? CLOCK_VIRT_START_NS : 0;
	if (virt)
		c->real_off = (int64_t)CLOCK_VIRT_EPOCH_NS;
	else
		c->real_off = (int64_t)(clock_read(CLOCK_REALTIME) -
					clock_read(CLOCK_MONOTONIC));
}

/**
 * clock_now() - current monotonic time of the clock
 * @c:		clock
 *
 * Return: ns; CLOCK_MONOTONIC for a real clock, vnow for a virtual one.
 */
uint64_t clock_now(const struct clock *c)
{
	if (c->virt)
		return __atomic_load_n(&c->vnow, __ATOMIC_RELAXED);
	return clock_read(CLOCK_MONOTONIC);
}

/**
 * clock_realtime() - wall-clock time of the clock
 * @c:		clock
 *
 * Return: ns since the Unix epoch; a virtual clock gives 2026-01-01 + vnow.
 */
uint64_t clock_realtime(const struct clock *c)
{
	if (c->virt)
		return CLOCK_VIRT_EPOCH_NS + __atomic_load_n(&c->vnow, __ATOMIC_RELAXED) -
		       CLOCK_VIRT_START_NS;
	return clock_read(CLOCK_REALTIME);
}

/**
 * clock_advance() - step a virtual clock forward
 * @c:		clock; a real clock is left alone (time moves by itself)
 * @d:		ns to add; the clock stops at UINT64_MAX rather than wrap,
 *		since a wrapped "now" would make every armed timer look far
 *		in the future
 */
void clock_advance(struct clock *c, uint64_t d)
{
	uint64_t now, next;

	if (!c->virt)
		return;
	now = __atomic_load_n(&c->vnow, __ATOMIC_RELAXED);
	next = now + d < now ? UINT64_MAX : now + d;
	__atomic_store_n(&c->vnow, next, __ATOMIC_RELAXED);
}
