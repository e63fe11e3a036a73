/* SPDX-License-Identifier: MIT */
/*
 * ip4_in.c - IPv4 input: validation, local delivery, reassembly, demux
 *
 * As ip_rcv_core + ip_route_input + ip_local_deliver: the header is checked
 * (checksum skipped for loopback frames, whose checksums the kernel trusts
 * too), Ethernet padding is trimmed, martians are dropped, packets not for
 * this host are dropped (usock does not forward, as Linux with ip_forward=0,
 * which sends nothing back), fragments are reassembled, and the transport
 * protocol gets the packet with data at its header.  An unknown protocol
 * gets ICMP protocol unreachable, as ip_protocol_deliver_rcu sends when no
 * raw socket took it.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>

#include "ip/ip4.h"
#include "net/netns.h"
#include "tcp/tcp.h"
#include "udp/udp.h"
#include "wire/csum.h"
#include "wire/ipv4.h"

static inline bool is_loopback_addr(uint32_t a) { return (ntohl(a) >> 24) == 127; }
static inline bool is_multicast(uint32_t a) { return (ntohl(a) >> 28) == 0xe; }

/* ip_route_input_slow's view of the destination: local, broadcast, or not ours. */
static int input_type(struct netns *ns, struct netdev *dev, uint32_t saddr, uint32_t daddr)
{
	if (is_multicast(saddr) || saddr == INADDR_BROADCAST)
		return -1; /* martian source */
	if (daddr == INADDR_BROADCAST || (saddr == 0 && daddr == 0))
		return RT_BROADCAST;
	if (!(dev->flags & IFF_LOOPBACK) && (is_loopback_addr(saddr) || is_loopback_addr(daddr)))
		return -1; /* 127/8 on the wire (route_localnet=0) */
	if (is_multicast(daddr))
		return -1; /* no multicast membership yet */
	for (unsigned i = 0; i < dev->naddr4; i++)
		if (dev->addr4[i].addr == daddr)
			return RT_LOCAL; /* the common case, without a table walk */
	int t = ip4_addr_type(ns, daddr);
	if (t == RT_LOCAL || t == RT_BROADCAST)
		return t;
	return -1;
}

void ip4_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk)
{
	struct ipv4_repr r;
	/* the whole header, options included, is pulled into the head piece
	 * (pskb_may_pull in ip_rcv_core): a chain may split it anywhere */
	if (pkt_may_pull(pk, IPV4_HLEN))
		goto drop;
	const uint8_t *h = pkt_linear(pk, IPV4_HLEN);
	unsigned ihl = (h[0] & 0x0f) * 4u;
	if (ihl < IPV4_HLEN || pkt_may_pull(pk, ihl))
		goto drop;
	h = pkt_linear(pk, ihl);
	/* the parser reads only the ihl header bytes, which are linear; the
	 * length it checks tot_len against is the whole packet's */
	int hl = ipv4_parse_flags(h, pk->tot_len, &r, pk->meta.csum_ok ? CSUM_SKIP : 0);
	if (hl < 0)
		goto drop;
	if (r.tot_len < pk->tot_len && pkt_trim(pk, r.tot_len))
		goto drop;
	int t = input_type(ns, dev, r.saddr, r.daddr);
	if (t < 0)
		goto drop;
	if (t == RT_BROADCAST && pk->meta.pkt_type == PACKET_HOST)
		pk->meta.pkt_type = PACKET_BROADCAST;
	if (ipv4_is_fragment(&r)) {
		pk = ip4_defrag(ns, dev, pk);
		if (!pk)
			return;
		h = pkt_linear(pk, IPV4_HLEN);
		if (!h || !(h = pkt_linear(pk, (size_t)(h[0] & 0x0f) * 4u)) ||
		    ipv4_parse_flags(h, pk->tot_len, &r, CSUM_SKIP) < 0)
			goto drop;
		hl = r.ihl * 4;
	}
	pk->meta.saddr = r.saddr;
	pk->meta.daddr = r.daddr;
	pk->meta.ttl = r.ttl;
	pk->meta.tos = r.tos;
	pk->meta.proto = r.proto;
	/* fib_compute_spec_dst: the local address the packet was for, or the
	 * incoming device's address for a broadcast */
	pk->meta.spec_dst = t == RT_LOCAL ? r.daddr : (dev->naddr4 ? dev->addr4[0].addr : 0);
	pk->meta.l3_off = (uint16_t)hl;
	pkt_pull(pk, (size_t)hl);
	switch (r.proto) {
	case IPPROTO_UDP:
		udp_rcv(ns, dev, pk);
		return;
	case IPPROTO_TCP:
		tcp_v4_rcv(ns, dev, pk);
		return;
	case IPPROTO_ICMP:
		icmp4_rcv(ns, dev, pk);
		return;
	default:
		if (t == RT_LOCAL) {
			pkt_push(pk, (size_t)hl);
			icmp4_send(ns, pk, 3 /* dest unreach */, 2 /* protocol */, 0);
		}
		pkt_free(pk);
		return;
	}
drop:
	dev->rx_dropped++;
	pkt_free(pk);
}
