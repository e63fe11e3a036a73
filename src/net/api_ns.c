/* SPDX-License-Identifier: MIT */
/*
 * api_ns.c - the public edge for namespaces, time, sysctl, capture, links
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errno_edge.h"
#include "ip/neigh.h"
#include "net/netns_internal.h"
#include "usock.h"

#define NS(x) ((struct netns *)(x))
#define UNS(x) ((struct usock_netns *)(x))

struct usock_netns *usock_netns_new(const char *name, unsigned flags)
{
	int err;
	struct netns *ns = netns_create(name, flags, &err);
	if (!ns)
		errno = -err;
	return UNS(ns);
}

void usock_netns_free(struct usock_netns *ns)
{
	if (ns)
		netns_destroy(NS(ns));
}

struct usock_netns *usock_netns_default(void)
{
	return UNS(netns_get_default());
}

struct usock_netns *usock_netns_find(const char *name)
{
	return UNS(netns_find(name));
}

void usock_netns_set(struct usock_netns *ns)
{
	netns_set_current(NS(ns));
}

struct usock_netns *usock_netns_current(void)
{
	return UNS(netns_get_current());
}

struct foreach_ctx {
	void (*fn)(struct usock_netns *ns, void *arg);
	void *arg;
};

static void foreach_cb(struct netns *ns, void *arg)
{
	struct foreach_ctx *c = arg;
	c->fn(UNS(ns), c->arg);
}

void usock_netns_foreach(void (*fn)(struct usock_netns *ns, void *arg), void *arg)
{
	struct foreach_ctx c = {fn, arg};
	netns_foreach(foreach_cb, &c);
}

size_t usock_netns_memory(struct usock_netns *uns)
{
	struct netns *ns = NS(uns);
	netns_lock(ns);
	size_t n = arena_used(ns->arena);
	netns_unlock(ns);
	return n;
}

int usock_netns_pools_full(struct usock_netns *uns)
{
	struct netns *ns = NS(uns);
	netns_lock(ns);
	int full = pkt_pools_full(ns->pools);
	netns_unlock(ns);
	return full;
}

uint64_t usock_clock_now_ns(struct usock_netns *uns)
{
	return clock_now(&NS(uns)->clock);
}

/*
 * usock_clock_advance - step a virtual clock, firing each timer at its own
 * deadline in order (a callback that arms a timer inside the step sees it
 * fire in the same step), so the result does not depend on the step size.
 */
void usock_clock_advance(struct usock_netns *uns, uint64_t d)
{
	struct netns *ns = NS(uns);
	netns_lock(ns);
	if (!ns->clock.virt) {
		netns_unlock(ns);
		return;
	}
	uint64_t target = ns->clock.vnow + d;
	for (;;) {
		uint64_t next = timer_next(&ns->timers);
		if (next > target)
			break;
		if (next > ns->clock.vnow)
			clock_advance(&ns->clock, next - ns->clock.vnow);
		netns_run_timers(ns, ns->clock.vnow);
	}
	clock_advance(&ns->clock, target - ns->clock.vnow);
	netns_unlock(ns);
}

int usock_pcap_open(struct usock_netns *uns, const char *ifname, const char *path)
{
	struct netns *ns = NS(uns);
	netns_lock(ns);
	struct netdev *d = netns_dev_by_name(ns, ifname);
	int r = d ? link_pcap_open(d, path) : -ENODEV;
	netns_unlock(ns);
	return (int)usock_ret(r);
}

int usock_link_tap(struct usock_netns *uns, const char *ifname, const char *tapname)
{
	return (int)usock_ret(link_tap_open(NS(uns), ifname, tapname));
}

/* ---- lock-step virtual time across namespaces ---- */

#define ADVANCE_ALL_STACK 64

struct vns_list {
	struct netns **v;
	size_t n, cap;
};

static void collect_virtual(struct netns *ns, void *arg)
{
	struct vns_list *l = arg;
	if (ns->clock.virt && l->n < l->cap)
		l->v[l->n++] = ns;
}

static void count_ns(struct netns *ns, void *arg)
{
	(void)ns;
	(*(size_t *)arg)++;
}

/* Earliest armed deadline of ns. */
static uint64_t ns_next_timer(struct netns *ns)
{
	netns_lock(ns);
	uint64_t t = timer_next(&ns->timers);
	netns_unlock(ns);
	return t;
}

/* Move ns's virtual clock forward to t (never back). */
static void ns_clock_to(struct netns *ns, uint64_t t)
{
	netns_lock(ns);
	if (ns->clock.vnow < t)
		clock_advance(&ns->clock, t - ns->clock.vnow);
	netns_unlock(ns);
}

/*
 * usock_clock_advance_all - step every virtual-time namespace together.
 *
 * The namespaces share one time line: it starts at the latest of their
 * clocks (a clock behind is brought up, its timers firing on the way) and
 * ends d later.  Each step finds the earliest armed timer among all of
 * them, moves every clock that is behind to that instant, then fires that
 * namespace's due timers; ties between namespaces go to the one made first.
 * A frame a timer hands to another namespace is processed there at the
 * same instant on its clock.  So, with one thread driving, the order of
 * every event is fixed by the timers alone, not by the step size or by
 * which namespace happens to be visited first.
 */
void usock_clock_advance_all(uint64_t d)
{
	struct netns *stackv[ADVANCE_ALL_STACK];
	struct vns_list l = {stackv, 0, ADVANCE_ALL_STACK};
	size_t total = 0;

	netns_foreach(count_ns, &total);
	if (total > ADVANCE_ALL_STACK) {
		/* the public edge, not the packet path: a heap copy is fine */
		l.v = malloc(total * sizeof(*l.v));
		if (!l.v)
			return;
		l.cap = total;
	}
	netns_foreach(collect_virtual, &l);
	/* the global list is newest first; ties go to the oldest */
	for (size_t i = 0; i < l.n / 2; i++) {
		struct netns *t = l.v[i];
		l.v[i] = l.v[l.n - 1 - i];
		l.v[l.n - 1 - i] = t;
	}
	uint64_t start = 0;
	for (size_t i = 0; i < l.n; i++) {
		uint64_t now = clock_now(&l.v[i]->clock);
		if (now > start)
			start = now;
	}
	uint64_t target = start + d < start ? UINT64_MAX : start + d;
	for (;;) {
		struct netns *best = NULL;
		uint64_t bt = UINT64_MAX;
		for (size_t i = 0; i < l.n; i++) {
			uint64_t t = ns_next_timer(l.v[i]);
			if (t < bt) {
				bt = t;
				best = l.v[i];
			}
		}
		if (!best || bt > target)
			break;
		for (size_t i = 0; i < l.n; i++)
			ns_clock_to(l.v[i], bt);
		netns_lock(best);
		netns_run_timers(best, best->clock.vnow);
		netns_unlock(best);
	}
	for (size_t i = 0; i < l.n; i++)
		ns_clock_to(l.v[i], target);
	if (l.v != stackv)
		free(l.v);
}
