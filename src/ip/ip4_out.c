/* SPDX-License-Identifier: MIT */
/*
 * ip4_out.c - IPv4 output: header, fragmentation, next hop
 *
 * Mirrors what a socket's packet meets in the kernel between
 * ip_queue_xmit/ip_make_skb and dev_queue_xmit: DF is set on packets that
 * fit the path MTU unless the socket says otherwise (ip_dont_fragment), the
 * identification follows ip_select_ident_segs, packets larger than the MTU
 * are fragmented when DF is clear, and MSG_CONFIRM confirms the neighbour.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>

#include "ip/ip4.h"
#include "ip/neigh.h"
#include "net/netns.h"
#include "wire/ipv4.h"

struct frag_ctx {
	struct netns *ns;
	struct netdev *dev;
	uint32_t nexthop;
	/* the sender's charge, handed on fragment by fragment */
	void (*destructor)(struct pkt *pk);
	void *owner;
	uint32_t left;
};

static int frag_out(void *arg, struct pkt *frag)
{
	struct frag_ctx *c = arg;
	if (c->destructor) {
		/* each fragment is its own skb in the kernel, charged to the
		 * socket until it leaves (ip_fragment's frag_list path) */
		uint32_t share = pkt_kernel_truesize(frag->tot_len + PKT_KERNEL_LL_EXTRA);
		const uint8_t *h = pkt_linear(frag, 20);
		bool last = h && !(h[6] & 0x20); /* MF clear */
		if (share > c->left || last)
			share = c->left;
		frag->meta.owner = c->owner;
		frag->meta.destructor = c->destructor;
		frag->meta.truesize = share;
		c->left -= share;
	}
	return neigh_output(c->ns, c->dev, c->nexthop, frag);
}

int ip4_output(struct netns *ns, struct pkt *pk, const struct rt4_result *rt, uint32_t saddr,
	       uint32_t daddr, uint8_t proto, const struct ip4_out_opts *o)
{
	struct netdev *dev = rt->dev;
	unsigned mtu = rt->rt && rt->rt->mtu ? rt->rt->mtu : dev->mtu;
	if (mtu > 0xffff)
		mtu = 0xffff; /* IP_MAX_MTU */
	size_t tot = pk->tot_len + IPV4_HLEN;
	if (tot > 0xffff) {
		pkt_free(pk);
		return -EMSGSIZE;
	}
	uint8_t *h = pkt_push(pk, IPV4_HLEN);
	if (!h) {
		pkt_free(pk);
		return -ENOBUFS;
	}
	bool df = o->df && tot <= mtu;
	uint16_t id = o->id;
	if (!id && !df)
		id = ns->ip4->ip_id++;
	struct ipv4_repr r = {
		.tos = o->tos,
		.tot_len = (uint16_t)tot,
		.id = id,
		.frag_off = df ? IPV4_DF : 0,
		.ttl = o->ttl ? o->ttl : (uint8_t)ns->sys.ip_default_ttl,
		.proto = proto,
		.saddr = saddr,
		.daddr = daddr,
	};
	ipv4_build(h, &r);
	if (o->confirm)
		neigh_confirm(ns, dev, rt->nexthop);
	if (rt->type == RT_BROADCAST && !(dev->flags & IFF_LOOPBACK)) {
		/* ip_mc_output: a broadcast is also delivered to this host */
		struct pkt *c = pkt_clone_range(ns->pools, pk, 0, pk->tot_len, 0);
		if (c) {
			c->meta.destructor = NULL;
			c->meta.csum_ok = 1;
			c->meta.pkt_type = PACKET_LOOPBACK;
			c->meta.ifindex = dev->ifindex;
			netdev_rx_ip(dev, c);
		}
	}
	if (tot > mtu) {
		if (o->df_strict) {
			pkt_free(pk);
			return -EMSGSIZE;
		}
		struct frag_ctx c = {ns, dev, rt->nexthop, pk->meta.destructor, pk->meta.owner,
				     pk->meta.truesize};
		pk->meta.destructor = NULL;
		int r = ip4_fragment(ns, pk, mtu, frag_out, &c);
		if (c.destructor && c.left) {
			/* fragments that never came to be: release their share */
			struct pkt rest = {.meta = {.owner = c.owner, .truesize = c.left}};
			c.destructor(&rest);
		}
		return r;
	}
	return neigh_output(ns, dev, rt->nexthop, pk);
}
