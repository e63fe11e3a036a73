/* SPDX-License-Identifier: MIT */
/*
 * route4.c - IPv4 addresses and routing
 *
 * Theory of operation.  One fixed array of routes per namespace holds both
 * of Linux's tables that a user sees: local (255: own addresses, broadcast
 * addresses, added and removed with the addresses) and main (254: connected
 * routes, gateways, default).  A lookup is the kernel's rule order: the
 * local table first, then main, each by longest prefix, then lowest metric,
 * skipping routes whose scope is narrower than the lookup asks for (that is
 * how RTO_ONLINK makes MSG_DONTROUTE refuse a gateway).  Connected and local
 * routes exist only while their device is up, as fib_netdev_event arranges.
 * Limits: IP4_MAX_ROUTES routes, NETDEV_MAX_ADDR4 addresses per device.
 * A linear scan is fine at these sizes and keeps lookups allocation-free; a
 * connected socket caches its route and revalidates by generation number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ip/ip4.h"
#include "ip/neigh.h"
#include "net/netns_internal.h"

static inline uint32_t plen_mask(int plen)
{
	return plen <= 0 ? 0 : htonl(plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen));
}

static inline bool is_lbcast(uint32_t a) { return a == 0xffffffffu; }
static inline bool is_zeronet(uint32_t a) { return (ntohl(a) >> 24) == 0; }
static inline bool is_multicast(uint32_t a) { return (ntohl(a) >> 28) == 0xe; }

int ip4_init(struct netns *ns)
{
	ns->ip4 = arena_alloc(ns->arena, sizeof(*ns->ip4));
	if (!ns->ip4)
		return -ENOMEM;
	ns->ip4->ip_id = (uint16_t)netns_random(ns);
	ns->ip4->rt_genid = 1;
	return 0;
}

static struct rt4 *route_find(struct ip4_state *st, const struct rt4 *r, bool match_gw)
{
	for (unsigned i = 0; i < st->nroutes; i++) {
		struct rt4 *x = &st->routes[i];
		if (x->table == r->table && x->dst == r->dst && x->plen == r->plen &&
		    (r->type == 0 || x->type == r->type) &&
		    (!match_gw || ((r->gw == 0 || x->gw == r->gw) &&
				   (r->ifindex == 0 || x->ifindex == r->ifindex))) &&
		    (x->metric == r->metric || r->metric == UINT32_MAX))
			return x;
	}
	return NULL;
}

static int route_insert(struct netns *ns, const struct rt4 *r)
{
	struct ip4_state *st = ns->ip4;
	if (route_find(st, r, false))
		return -EEXIST;
	if (st->nroutes >= IP4_MAX_ROUTES)
		return -ENOSPC;
	st->routes[st->nroutes] = *r;
	st->routes[st->nroutes].dst &= plen_mask(r->plen);
	st->routes[st->nroutes].used = true;
	st->nroutes++;
	st->rt_genid++;
	return 0;
}

static void route_remove_at(struct ip4_state *st, unsigned i)
{
	st->routes[i] = st->routes[--st->nroutes];
	st->rt_genid++;
}

/* The routes an address brings (fib_add_ifaddr). */
static void ifaddr_routes(struct netns *ns, struct netdev *dev, const struct in_ifaddr4 *ifa,
			  bool add)
{
	struct rt4 rl = {.dst = ifa->addr, .plen = 32, .type = RT_LOCAL, .scope = RT_SCOPE_HOST,
			 .table = RT_TABLE_LOCAL, .proto = RT_PROTO_KERNEL, .prefsrc = ifa->addr,
			 .ifindex = dev->ifindex};
	struct rt4 routes[5];
	int n = 0;
	routes[n++] = rl;
	if (ifa->prefixlen < 32) {
		uint32_t net = ifa->addr & ifa->mask;
		/* lo's whole prefix is local (127.0.0.0/8 in `ip route show table local`). */
		if (dev->flags & IFF_LOOPBACK) {
			struct rt4 r = rl;
			r.dst = net;
			r.plen = ifa->prefixlen;
			routes[n++] = r;
		} else {
			struct rt4 r = {.dst = net, .plen = ifa->prefixlen, .type = RT_UNICAST,
					.scope = RT_SCOPE_LINK, .table = RT_TABLE_MAIN,
					.proto = RT_PROTO_KERNEL, .prefsrc = ifa->addr,
					.ifindex = dev->ifindex};
			routes[n++] = r;
		}
		/* fib_add_ifaddr: the network's broadcast address always (lo
		 * too: 127.255.255.255), and an explicit brd if it differs */
		if (ifa->prefixlen < 31) {
			struct rt4 r = {.dst = net | ~ifa->mask, .plen = 32, .type = RT_BROADCAST,
					.scope = RT_SCOPE_LINK, .table = RT_TABLE_LOCAL,
					.proto = RT_PROTO_KERNEL, .prefsrc = ifa->addr,
					.ifindex = dev->ifindex};
			routes[n++] = r;
		}
	}
	if (ifa->bcast && ifa->bcast != 0xffffffffu &&
	    (ifa->prefixlen >= 31 || ifa->bcast != ((ifa->addr & ifa->mask) | ~ifa->mask))) {
		struct rt4 r = {.dst = ifa->bcast, .plen = 32, .type = RT_BROADCAST,
				.scope = RT_SCOPE_LINK, .table = RT_TABLE_LOCAL,
				.proto = RT_PROTO_KERNEL, .prefsrc = ifa->addr,
				.ifindex = dev->ifindex};
		routes[n++] = r;
	}
	for (int i = 0; i < n; i++) {
		if (add) {
			route_insert(ns, &routes[i]);
		} else {
			struct ip4_state *st = ns->ip4;
			for (unsigned j = 0; j < st->nroutes; j++) {
				struct rt4 *x = &st->routes[j];
				if (x->table == routes[i].table && x->type == routes[i].type &&
				    x->dst == (routes[i].dst & plen_mask(routes[i].plen)) &&
				    x->plen == routes[i].plen && x->ifindex == dev->ifindex &&
				    x->proto == RT_PROTO_KERNEL) {
					route_remove_at(st, j);
					break;
				}
			}
		}
	}
}

int ip4_addr_add(struct netns *ns, struct netdev *dev, uint32_t addr, int plen, uint32_t bcast)
{
	if (plen < 0 || plen > 32)
		return -EINVAL;
	for (unsigned i = 0; i < dev->naddr4; i++)
		if (dev->addr4[i].addr == addr && dev->addr4[i].prefixlen == plen)
			return -EEXIST;
	if (dev->naddr4 >= NETDEV_MAX_ADDR4)
		return -ENOSPC;
	struct in_ifaddr4 *ifa = &dev->addr4[dev->naddr4++];
	ifa->addr = addr;
	ifa->prefixlen = (uint8_t)plen;
	ifa->mask = plen_mask(plen);
	/* ifa_broadcast: only what was asked for (`brd`), as the kernel keeps it */
	ifa->bcast = bcast;
	if (dev->flags & IFF_UP)
		ifaddr_routes(ns, dev, ifa, true);
	return 0;
}

int ip4_addr_del(struct netns *ns, struct netdev *dev, uint32_t addr, int plen)
{
	for (unsigned i = 0; i < dev->naddr4; i++)
		if (dev->addr4[i].addr == addr && (plen < 0 || dev->addr4[i].prefixlen == plen)) {
			if (dev->flags & IFF_UP)
				ifaddr_routes(ns, dev, &dev->addr4[i], false);
			dev->addr4[i] = dev->addr4[--dev->naddr4];
			return 0;
		}
	return -EADDRNOTAVAIL;
}

void ip4_dev_updown(struct netns *ns, struct netdev *dev, bool up)
{
	for (unsigned i = 0; i < dev->naddr4; i++)
		ifaddr_routes(ns, dev, &dev->addr4[i], up);
	if (!up) {
		/* Gateways and other routes through dev go too (fib_sync_down_dev). */
		struct ip4_state *st = ns->ip4;
		for (unsigned j = 0; j < st->nroutes;)
			if (st->routes[j].ifindex == dev->ifindex)
				route_remove_at(st, j);
			else
				j++;
	}
}

/* Scope-aware longest prefix match in one table (fib_table_lookup). */
static const struct rt4 *table_lookup(struct netns *ns, int table, uint32_t daddr, int oif,
				      uint8_t min_scope)
{
	const struct ip4_state *st = ns->ip4;
	const struct rt4 *best = NULL;
	for (unsigned i = 0; i < st->nroutes; i++) {
		const struct rt4 *r = &st->routes[i];
		if (r->table != table || (daddr & plen_mask(r->plen)) != r->dst)
			continue;
		if (r->scope < min_scope)
			continue;
		if (oif && r->ifindex != oif && r->type != RT_LOCAL)
			continue;
		struct netdev *d = netns_dev_by_index(ns, r->ifindex);
		if (!d || !(d->flags & IFF_UP))
			continue;
		if (!best || r->plen > best->plen ||
		    (r->plen == best->plen && r->metric < best->metric))
			best = r;
	}
	return best;
}

static const struct rt4 *fib_lookup4(struct netns *ns, uint32_t daddr, int oif, uint8_t scope)
{
	const struct rt4 *r = table_lookup(ns, RT_TABLE_LOCAL, daddr, 0, scope);
	if (r)
		return r;
	return table_lookup(ns, RT_TABLE_MAIN, daddr, oif, scope);
}

/*
 * inet_select_addr: a primary address of dev whose subnet holds dst if there
 * is one, else the first with a wide enough scope, else any address of the
 * namespace (the kernel falls back to other devices the same way).
 */
static uint32_t select_addr(struct netns *ns, struct netdev *dev, uint32_t dst)
{
	if (dev) {
		for (unsigned i = 0; i < dev->naddr4; i++)
			if ((dst & dev->addr4[i].mask) == (dev->addr4[i].addr & dev->addr4[i].mask))
				return dev->addr4[i].addr;
		if (dev->naddr4)
			return dev->addr4[0].addr;
	}
	for (int i = 1; i < NETNS_MAX_DEV; i++) {
		struct netdev *d = ns->dev[i];
		if (d && (d->flags & IFF_UP) && !(d->flags & IFF_LOOPBACK) && d->naddr4)
			return d->addr4[0].addr;
	}
	return ns->lo && ns->lo->naddr4 ? ns->lo->addr4[0].addr : 0;
}

int ip4_addr_type(struct netns *ns, uint32_t addr)
{
	if (is_lbcast(addr))
		return RT_BROADCAST;
	if (is_zeronet(addr))
		return RT_BROADCAST; /* inet_addr_type says RTN_BROADCAST for 0.0.0.0/8 too */
	const struct rt4 *r = table_lookup(ns, RT_TABLE_LOCAL, addr, 0, 0);
	if (r && (r->type == RT_LOCAL || r->type == RT_BROADCAST))
		return r->type;
	return RT_UNICAST;
}

bool ip4_is_local(struct netns *ns, uint32_t addr)
{
	for (int i = 1; i < NETNS_MAX_DEV; i++) {
		struct netdev *d = ns->dev[i];
		if (!d)
			continue;
		for (unsigned j = 0; j < d->naddr4; j++)
			if (d->addr4[j].addr == addr)
				return true;
	}
	return false;
}

/*
 * ip4_route_output - mirrors ip_route_output_key_hash_rcu for what a socket
 * can ask: the limited broadcast and a forced device, 0.0.0.0 meaning "this
 * host", local destinations over lo, otherwise the FIB.
 */
int ip4_route_output(struct netns *ns, uint32_t daddr, uint32_t saddr, int oif, unsigned flags,
		     struct rt4_result *res)
{
	uint8_t scope = (flags & IP4_RT_DONTROUTE) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	struct netdev *dev_out = NULL;
	memset(res, 0, sizeof(*res));
	res->daddr = daddr;

	/* __ip_dev_find: any address of the local table (all of 127/8) */
	if (saddr && (is_multicast(saddr) || is_lbcast(saddr) || is_zeronet(saddr) ||
		      ip4_addr_type(ns, saddr) != RT_LOCAL))
		return -EINVAL;
	if (oif) {
		dev_out = netns_dev_by_index(ns, oif);
		if (!dev_out)
			return -ENODEV;
		if (!(dev_out->flags & IFF_UP))
			return -ENETUNREACH;
		if (is_lbcast(daddr) || is_multicast(daddr)) {
			res->dev = dev_out;
			res->nexthop = daddr;
			res->src = saddr ? saddr : select_addr(ns, dev_out, daddr);
			res->type = is_lbcast(daddr) ? RT_BROADCAST : RT_UNICAST;
			return 0;
		}
	}
	if (!daddr) {
		/* Sending to 0.0.0.0 means this host (ip_route_output_key_hash_rcu). */
		res->dev = ns->lo;
		res->nexthop = res->src = saddr ? saddr : htonl(INADDR_LOOPBACK);
		res->daddr = res->nexthop;
		res->type = RT_LOCAL;
		return 0;
	}
	const struct rt4 *r = fib_lookup4(ns, daddr, oif, scope);
	if (!r) {
		if (oif && dev_out) {
			/* No route but a forced device: assume on-link. */
			res->dev = dev_out;
			res->nexthop = daddr;
			res->src = saddr ? saddr : select_addr(ns, dev_out, daddr);
			res->type = is_lbcast(daddr) ? RT_BROADCAST : RT_UNICAST;
			return 0;
		}
		return -ENETUNREACH;
	}
	switch (r->type) {
	case RT_UNREACHABLE:
		return -EHOSTUNREACH;
	case RT_BLACKHOLE:
		return -EINVAL;
	case RT_PROHIBIT:
		return -EACCES;
	default:
		break;
	}
	res->rt = r;
	if (r->type == RT_LOCAL) {
		res->dev = ns->lo;
		res->nexthop = daddr;
		res->src = saddr ? saddr : (r->prefsrc ? r->prefsrc : daddr);
		res->type = RT_LOCAL;
		return 0;
	}
	res->dev = dev_out ? dev_out : netns_dev_by_index(ns, r->ifindex);
	if (!res->dev)
		return -ENETUNREACH;
	res->nexthop = r->gw ? r->gw : daddr;
	res->src = saddr ? saddr : (r->prefsrc ? r->prefsrc : select_addr(ns, res->dev, res->nexthop));
	/* __mkroute_output: the limited broadcast, and a route of type broadcast;
	 * a broadcast has no gateway (fi = NULL): it goes to everyone on the link */
	res->type = (is_lbcast(daddr) || r->type == RT_BROADCAST) ? RT_BROADCAST : RT_UNICAST;
	if (res->type == RT_BROADCAST)
		res->nexthop = daddr;
	if (res->dev->flags & IFF_LOOPBACK)
		res->type = res->type == RT_BROADCAST ? RT_BROADCAST : RT_LOCAL;
	return 0;
}

int ip4_route_add(struct netns *ns, const struct rt4 *r)
{
	struct rt4 x = *r;
	if (!x.table)
		x.table = RT_TABLE_MAIN;
	if (!x.type)
		x.type = RT_UNICAST;
	if (x.gw) {
		/* fib_check_nh: the gateway must be reachable on-link. */
		const struct rt4 *via = fib_lookup4(ns, x.gw, x.ifindex, RT_SCOPE_LINK);
		if (!via || via->gw || (via->type != RT_UNICAST && via->type != RT_LOCAL))
			return -ENETUNREACH;
		if (!x.ifindex)
			x.ifindex = via->ifindex;
		x.scope = RT_SCOPE_UNIVERSE;
	} else if (!x.scope && x.type == RT_UNICAST) {
		x.scope = x.ifindex ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	}
	if (!x.ifindex && (x.type == RT_UNICAST || x.type == RT_LOCAL))
		return -ENODEV;
	if (!x.proto)
		x.proto = RT_PROTO_BOOT;
	return route_insert(ns, &x);
}

int ip4_route_del(struct netns *ns, const struct rt4 *r)
{
	struct rt4 x = *r;
	if (!x.table)
		x.table = RT_TABLE_MAIN;
	x.dst &= plen_mask(x.plen);
	x.metric = r->metric ? r->metric : UINT32_MAX;
	struct rt4 *f = route_find(ns->ip4, &x, true);
	if (!f)
		return -ESRCH;
	route_remove_at(ns->ip4, (unsigned)(f - ns->ip4->routes));
	return 0;
}

/* ip4_route_show - `ip route show [table local|main]` in iproute2's format. */
int ip4_route_show(struct netns *ns, int table, char *out, size_t outlen)
{
	size_t n = 0;
	static const char *const types[] = {[RT_UNICAST] = "", [RT_LOCAL] = "local ",
					    [RT_BROADCAST] = "broadcast ",
					    [RT_UNREACHABLE] = "unreachable ",
					    [RT_BLACKHOLE] = "blackhole ", [RT_PROHIBIT] = "prohibit "};
	for (unsigned i = 0; i < ns->ip4->nroutes; i++) {
		const struct rt4 *r = &ns->ip4->routes[i];
		if (r->table != table)
			continue;
		char dst[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN], line[256];
		inet_ntop(AF_INET, &r->dst, dst, sizeof(dst));
		inet_ntop(AF_INET, &r->gw, gw, sizeof(gw));
		inet_ntop(AF_INET, &r->prefsrc, src, sizeof(src));
		struct netdev *d = netns_dev_by_index(ns, r->ifindex);
		int k = snprintf(line, sizeof(line), "%s", types[r->type]);
		if (r->plen == 0 && table == RT_TABLE_MAIN)
			k += snprintf(line + k, sizeof(line) - k, "default");
		else if (r->plen == 32)
			k += snprintf(line + k, sizeof(line) - k, "%s", dst);
		else
			k += snprintf(line + k, sizeof(line) - k, "%s/%u", dst, r->plen);
		if (r->gw)
			k += snprintf(line + k, sizeof(line) - k, " via %s", gw);
		if (d)
			k += snprintf(line + k, sizeof(line) - k, " dev %s", d->name);
		if (r->table == RT_TABLE_LOCAL)
			k += snprintf(line + k, sizeof(line) - k, " table local");
		if (r->proto == RT_PROTO_KERNEL)
			k += snprintf(line + k, sizeof(line) - k, " proto kernel");
		if (r->scope == RT_SCOPE_HOST)
			k += snprintf(line + k, sizeof(line) - k, " scope host");
		else if (r->scope == RT_SCOPE_LINK)
			k += snprintf(line + k, sizeof(line) - k, " scope link");
		if (r->prefsrc)
			k += snprintf(line + k, sizeof(line) - k, " src %s", src);
		if (r->metric)
			k += snprintf(line + k, sizeof(line) - k, " metric %u", r->metric);
		snprintf(line + k, sizeof(line) - k, "\n");
		n += (size_t)snprintf(out + (n < outlen ? n : outlen), n < outlen ? outlen - n : 0,
				      "%s", line);
	}
	return (int)n;
}
