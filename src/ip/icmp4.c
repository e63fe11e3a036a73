/* SPDX-License-Identifier: MIT */
/*
 * icmp4.c - ICMPv4: echo replies, errors sent, errors received
 *
 * Theory of operation.  Errors are sent as icmp_send does: never about an
 * ICMP error, a non-first fragment, or a packet that was not unicast to
 * this host; quoting the offending datagram up to 576 bytes in all; from the
 * address the datagram was sent to; with precedence "internetwork control"
 * in the TOS.  Rate limiting follows icmp_ratelimit/icmp_ratemask with a
 * token bucket per namespace (the kernel keeps one per peer; loopback is
 * exempt in both).  Errors received are handed to the transport protocol
 * named in the quoted header (UDP now), which turns them into socket errors.
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
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define ICMP_MAX_LEN 576
#define XRLIM_BURST_FACTOR 6

static bool icmp_is_error(uint8_t type)
{
	return type == ICMP4_DEST_UNREACH || type == ICMP4_SOURCE_QUENCH ||
	       type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED || type == ICMP4_PARAMETERPROB;
}

/* icmpv4_xrlim_allow: loopback and types outside icmp_ratemask are free. */
static bool ratelimit_allow(struct netns *ns, struct netdev *dev, uint8_t type)
{
	if (dev->flags & IFF_LOOPBACK)
		return true;
	if (type > 31 || !(ns->sys.icmp_ratemask & (1 << type)))
		return true;
	struct ip4_state *st = ns->ip4;
	uint64_t now = netns_now(ns);
	int64_t limit = (int64_t)ns->sys.icmp_ratelimit * (int64_t)NSEC_PER_MSEC;
	if (limit <= 0)
		return true;
	if (!st->icmp_last_ns) {
		st->icmp_tokens_ns = XRLIM_BURST_FACTOR * limit;
	} else {
		st->icmp_tokens_ns += (int64_t)(now - st->icmp_last_ns);
		if (st->icmp_tokens_ns > XRLIM_BURST_FACTOR * limit)
			st->icmp_tokens_ns = XRLIM_BURST_FACTOR * limit;
	}
	st->icmp_last_ns = now ? now : 1;
	if (st->icmp_tokens_ns >= limit) {
		st->icmp_tokens_ns -= limit;
		return true;
	}
	return false;
}

static void icmp_xmit(struct netns *ns, uint32_t dst, uint32_t src, uint8_t tos,
		      struct pkt *body, const struct icmp4_repr *ir, bool limited)
{
	struct rt4_result rt;
	if (ip4_route_output(ns, dst, src, 0, 0, &rt) < 0) {
		pkt_free(body);
		return;
	}
	/* icmpv4_xrlim_allow looks at the error's own route: one that goes
	 * back over lo (to a local sender) is never limited */
	if (limited && !ratelimit_allow(ns, rt.dev, ir->type)) {
		pkt_free(body);
		return;
	}
	uint8_t *h = pkt_push(body, ICMP_HLEN);
	if (!h) {
		pkt_free(body);
		return;
	}
	uint32_t bsum = pkt_csum_partial(body, ICMP_HLEN, body->tot_len - ICMP_HLEN, 0);
	icmp4_hdr_build_hdr(h, ir, bsum);
	struct ip4_out_opts o = {.tos = tos};
	ip4_output(ns, body, &rt, src ? src : rt.src, dst, IPPROTO_ICMP, &o);
}

void icmp4_send(struct netns *ns, const struct pkt *orig, uint8_t type, uint8_t code, uint32_t info)
{
	struct ipv4_repr r;
	const uint8_t *h = pkt_linear(orig, IPV4_HLEN);
	if (!h || ipv4_parse_flags(h, orig->tot_len, &r, CSUM_SKIP) < 0)
		return;
	if (orig->meta.pkt_type != PACKET_HOST)
		return;
	if (ipv4_frag_offset(&r))
		return;
	int dt = ip4_addr_type(ns, r.daddr);
	if (dt == RT_BROADCAST || (ntohl(r.daddr) >> 28) == 0xe)
		return;
	if (r.saddr == 0 || ip4_addr_type(ns, r.saddr) == RT_BROADCAST)
		return;
	if (r.proto == IPPROTO_ICMP) {
		/* never an error about an error */
		uint8_t it;
		if (pkt_copy_out(orig, (size_t)r.ihl * 4, &it, 1) != 1 || icmp_is_error(it))
			return;
	}
	size_t quote = orig->tot_len;
	if (quote > ICMP_MAX_LEN - IPV4_HLEN - ICMP_HLEN)
		quote = ICMP_MAX_LEN - IPV4_HLEN - ICMP_HLEN;
	struct pkt *body = pkt_alloc(ns->pools, quote + ICMP_HLEN + IPV4_HLEN + 14);
	if (!body)
		return;
	pkt_copy_out(orig, 0, pkt_put(body, quote), quote);
	struct icmp4_repr ir = {.type = type, .code = code};
	if (type == ICMP4_DEST_UNREACH && code == ICMP4_FRAG_NEEDED)
		ir.mtu = (uint16_t)info;
	else if (type == ICMP4_PARAMETERPROB)
		ir.pointer = (uint8_t)info;
	else
		ir.rest = info;
	/* source: the address the offending packet was sent to, if ours */
	uint32_t src = dt == RT_LOCAL ? r.daddr : 0;
	icmp_xmit(ns, r.saddr, src, (uint8_t)((r.tos & 0x1e) | 0xc0), body, &ir, true);
}

/* An error arrived: find the transport and let it report (icmp_unreach). */
static void icmp_error_rcv(struct netns *ns, struct pkt *pk, const struct icmp4_repr *ir)
{
	uint8_t q[IPV4_MAX_HLEN + 8];
	size_t have = pk->tot_len - ICMP_HLEN;
	if (have < IPV4_HLEN + 8)
		return;
	size_t n = have < sizeof(q) ? have : sizeof(q);
	pkt_copy_out(pk, ICMP_HLEN, q, n);
	struct ipv4_repr in;
	/* the quoted header's tot_len describes the original, not the quote */
	if ((q[0] >> 4) != 4 || (q[0] & 0x0f) < 5)
		return;
	size_t ihl = (size_t)(q[0] & 0x0f) * 4;
	if (n < ihl + 8)
		return;
	in.saddr = *(const uint32_t *)(q + 12);
	in.daddr = *(const uint32_t *)(q + 16);
	in.proto = q[9];
	if (in.proto == IPPROTO_UDP) {
		uint16_t sport, dport;
		memcpy(&sport, q + ihl, 2);
		memcpy(&dport, q + ihl + 2, 2);
		uint32_t info = ir->type == ICMP4_DEST_UNREACH && ir->code == ICMP4_FRAG_NEEDED
				       ? ir->mtu : ir->rest;
		udp_err(ns, in.saddr, in.daddr, sport, dport, ir->type, ir->code, info, pk);
	} else if (in.proto == IPPROTO_TCP) {
		/* the first 8 bytes of the TCP header: ports and sequence */
		uint16_t sport, dport;
		uint32_t seq;
		memcpy(&sport, q + ihl, 2);
		memcpy(&dport, q + ihl + 2, 2);
		memcpy(&seq, q + ihl + 4, 4);
		uint32_t info = ir->type == ICMP4_DEST_UNREACH && ir->code == ICMP4_FRAG_NEEDED
				       ? ir->mtu : ir->rest;
		tcp_v4_err(ns, pk, in.saddr, in.daddr, sport, dport, ntohl(seq), ir->type, ir->code,
			   info);
	}
}

void icmp4_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk)
{
	struct icmp4_repr ir;
	const uint8_t *h = pkt_may_pull(pk, ICMP_HLEN) ? NULL : pkt_linear(pk, ICMP_HLEN);
	if (!h) {
		pkt_free(pk);
		return;
	}
	uint32_t sum = pkt_csum_partial(pk, 0, pk->tot_len, 0);
	if (!pk->meta.csum_ok && csum_fold(sum) != 0) {
		pkt_free(pk);
		return;
	}
	icmp4_hdr_parse_flags(h, ICMP_HLEN, &ir, CSUM_SKIP);
	switch (ir.type) {
	case ICMP4_ECHO: {
		if (ns->sys.icmp_echo_ignore_all ||
		    (pk->meta.pkt_type == PACKET_BROADCAST && ns->sys.icmp_echo_ignore_broadcasts))
			break;
		/* icmp_echo: the reply carries the request's id, sequence and data */
		size_t dl = pk->tot_len - ICMP_HLEN;
		struct pkt *body = pkt_alloc(ns->pools, dl + ICMP_HLEN + IPV4_HLEN + 14);
		if (!body)
			break;
		pkt_copy_out(pk, ICMP_HLEN, pkt_put(body, dl), dl);
		struct icmp4_repr rr = {.type = ICMP4_ECHOREPLY, .code = 0, .id = ir.id, .seq = ir.seq};
		uint32_t src = pk->meta.pkt_type == PACKET_HOST ? pk->meta.daddr : 0;
		icmp_xmit(ns, pk->meta.saddr, src, pk->meta.tos, body, &rr, false);
		break;
	}
	case ICMP4_DEST_UNREACH:
	case ICMP4_TIME_EXCEEDED:
	case ICMP4_PARAMETERPROB:
	case ICMP4_SOURCE_QUENCH:
		icmp_error_rcv(ns, pk, &ir);
		break;
	default:
		break;
	}
	(void)dev;
	pkt_free(pk);
}
