/* SPDX-License-Identifier: MIT */
/*
 * ip4.h - IPv4: addresses, routing, output, input, ICMP
 *
 * Routing follows Linux's two tables as far as a user can see them: the
 * local table (own addresses, broadcast addresses; `ip route show table
 * local`) and the main table (connected routes added with each address,
 * gateways, a default route), longest prefix first, then lowest metric.
 */
#ifndef USOCK_IP_IP4_H
#define USOCK_IP_IP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netns;
struct netdev;
struct pkt;

#define IP4_MAX_ROUTES 256

enum rt_type { RT_UNICAST = 1, RT_LOCAL, RT_BROADCAST, RT_UNREACHABLE, RT_BLACKHOLE, RT_PROHIBIT };
enum rt_scope { RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254 };
enum rt_table { RT_TABLE_MAIN = 254, RT_TABLE_LOCAL = 255 };
enum rt_proto { RT_PROTO_KERNEL = 2, RT_PROTO_BOOT = 3 };

struct rt4 {
	uint32_t dst;		/* network order, masked */
	uint8_t plen;
	uint8_t type, scope, table, proto;
	uint32_t gw;		/* 0: on-link */
	uint32_t prefsrc;	/* 0: none */
	int ifindex;
	uint32_t metric;
	uint32_t mtu;		/* 0: device mtu */
	bool used;
};

/* The result of a route lookup for one packet. */
struct rt4_result {
	const struct rt4 *rt;
	struct netdev *dev;
	uint32_t nexthop;	/* gateway or the destination itself, network order */
	uint32_t src;		/* preferred source address */
	uint32_t daddr;		/* the destination as routed (0.0.0.0 becomes 127.0.0.1) */
	uint8_t type;		/* RT_UNICAST, RT_LOCAL, RT_BROADCAST */
};

struct ip4_state {
	struct rt4 routes[IP4_MAX_ROUTES];
	unsigned nroutes;
	uint16_t ip_id;		/* fallback id counter */
	/* ICMP rate limit token bucket (icmp_ratelimit) */
	uint64_t icmp_last_ns;
	int64_t icmp_tokens_ns;
	struct frag4_table *frags;	/* reassembly (ip4_frag.c) */
	uint32_t rt_genid;	/* bumped on every route change: cached routes revalidate */
};

/* ip4_init - allocate the IPv4 state of a namespace from its arena. Return: 0, -ENOMEM. */
int ip4_init(struct netns *ns);

/*
 * ip4_addr_add - `ip addr add A/P [broadcast B] dev D`: add the address, its
 * local and broadcast routes and (for plen < 32) the connected route.
 * Return: 0, -EEXIST, -ENOSPC, -EINVAL.
 */
int ip4_addr_add(struct netns *ns, struct netdev *dev, uint32_t addr, int plen, uint32_t bcast);
int ip4_addr_del(struct netns *ns, struct netdev *dev, uint32_t addr, int plen);
/* ip4_dev_updown - link up/down: add/remove the routes of dev's addresses (as fib_netdev_event). */
void ip4_dev_updown(struct netns *ns, struct netdev *dev, bool up);

/* ip4_route_add - add to table r->table. Return: 0, -EEXIST, -ENOSPC, -ENETUNREACH (gateway not on-link). */
int ip4_route_add(struct netns *ns, const struct rt4 *r);
/* ip4_route_del - delete the first route matching dst/plen/table (and gw/ifindex if set). Return: 0, -ESRCH. */
int ip4_route_del(struct netns *ns, const struct rt4 *r);

/*
 * ip4_route_output - route a locally generated packet to daddr.
 * oif: bound/forced device or 0.  flags: IP4_RT_DONTROUTE forces on-link
 * (SO_DONTROUTE/MSG_DONTROUTE: RT_SCOPE_LINK lookup as ip_route_output does
 * with RTO_ONLINK).  saddr: bound source or 0.
 * Return: 0, or -ENETUNREACH / -EHOSTUNREACH / -EINVAL / -EACCES.
 */
#define IP4_RT_DONTROUTE 0x1
int ip4_route_output(struct netns *ns, uint32_t daddr, uint32_t saddr, int oif,
		     unsigned flags, struct rt4_result *res);
/* ip4_route_show - `ip route show [table local]` text. Return: bytes it needs. */
int ip4_route_show(struct netns *ns, int table, char *out, size_t outlen);
/* ip4_addr_type - RT_LOCAL / RT_BROADCAST / RT_UNICAST for an address (as inet_addr_type). */
int ip4_addr_type(struct netns *ns, uint32_t addr);
/* ip4_is_local - addr is assigned to some interface of ns. */
bool ip4_is_local(struct netns *ns, uint32_t addr);

/* Per-packet output options from the socket and its control messages. */
struct ip4_out_opts {
	uint8_t ttl;		/* 0: default */
	uint8_t tos;
	bool df;		/* set DF on packets that fit the MTU (ip_dont_fragment) */
	bool df_strict;		/* IP_PMTUDISC_DO/PROBE: never fragment, EMSGSIZE instead */
	bool confirm;		/* MSG_CONFIRM: confirm the neighbour */
	bool dontroute;
	uint16_t id;		/* 0: pick one */
};

/*
 * ip4_output - prepend the IPv4 header to pk (payload starts at pk->data),
 * fragment to the route MTU if needed, resolve the next hop and transmit.
 * Consumes pk.  Return: 0, or -errno (-EMSGSIZE if DF and too big, -ENOBUFS,
 * -EHOSTUNREACH).
 */
int ip4_output(struct netns *ns, struct pkt *pk, const struct rt4_result *rt, uint32_t saddr,
	       uint32_t daddr, uint8_t proto, const struct ip4_out_opts *o);

/* ip4_rcv - an IPv4 packet arrived on dev (pk->data at the IP header); consumes pk. */
void ip4_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk);

/* icmp4_rcv - ICMP message (pk->data at the ICMP header, meta filled); consumes pk. */
void icmp4_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk);
/*
 * icmp4_send - send an ICMP error about the received packet 'orig' (data at
 * its IP header), as icmp_send() does, rate limited.  Does not consume orig.
 */
void icmp4_send(struct netns *ns, const struct pkt *orig, uint8_t type, uint8_t code, uint32_t info);

/* ---- fragmentation (ip4_frag.c) ---- */
/*
 * ip4_fragment - split the IPv4 datagram pk (data at a complete IP header,
 * header already built with DF clear) into fragments of at most mtu bytes,
 * calling out(ctx, frag) for each in order; consumes pk.  Payload is shared,
 * not copied (pkt_clone_range).  Return: 0 or the first -errno of out or of
 * the allocation (-ENOBUFS); the remaining fragments are freed.
 */
int ip4_fragment(struct netns *ns, struct pkt *pk, unsigned mtu,
		 int (*out)(void *ctx, struct pkt *frag), void *ctx);
/* ip4_frag_init - reassembly table. Return: 0, -ENOMEM. */
int ip4_frag_init(struct netns *ns);
/*
 * ip4_defrag - feed one fragment (data at its IP header, header validated);
 * consumes pk.  Return: the whole datagram (data at a rebuilt IP header with
 * MF/offset cleared and tot_len set; payload chained) when the last piece
 * arrived, else NULL.  Bounded by ipfrag_high_thresh; entries expire after
 * ipfrag_time seconds (ICMP time exceeded sent if the first fragment came).
 */
struct pkt *ip4_defrag(struct netns *ns, struct netdev *dev, struct pkt *pk);
/* ip4_frag_mem - bytes held by incomplete reassemblies (tests). */
unsigned ip4_frag_mem(struct netns *ns);

#endif
