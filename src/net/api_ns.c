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
		timer_run(&ns->timers, ns->clock.vnow);
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
