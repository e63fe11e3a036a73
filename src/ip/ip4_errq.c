/* SPDX-License-Identifier: MIT */
/*
 * ip4_errq.c - reading the IPv4 error queue (ip_recv_error), for UDP and TCP
 *
 * The entries are made when an ICMP error reaches an IP_RECVERR socket
 * (ip4_icmp_error, called by udp_err and tcp_v4_err): a packet whose
 * first bytes are struct ip4_err_info, then the quoted payload, charged
 * to sk->rmem.
 */
#include <errno.h>
#include <netinet/ip.h>
#include <string.h>

#include "ip/ip4_errq.h"
#include "net/netns.h"
#include "sock/sock.h"

ssize_t ip4_recv_error(struct sock *sk, struct sk_msg *m)
{
	struct pkt *e = pkt_queue_pop(&sk->errq);
	if (!e)
		return -EAGAIN;
	struct ip4_err_info ei;
	pkt_copy_out(e, 0, &ei, sizeof(ei));
	size_t plen = e->tot_len > sizeof(ei) ? e->tot_len - sizeof(ei) : 0;
	size_t copied = m->len < plen ? m->len : plen;
	if (copied < plen)
		m->msg_flags |= MSG_TRUNC;
	ssize_t r = (ssize_t)copied;
	if (copied && sk_copy_pkt_to_iov(m, e, sizeof(ei), copied))
		r = -EFAULT;
	if (r >= 0) {
		sk_recv_timestamps(sk, m, e);
		memcpy(&m->addr, &ei.dst, sizeof(ei.dst));
		m->addrlen = sizeof(ei.dst);
		uint8_t cm[sizeof(ei.ee) + sizeof(ei.offender)];
		memcpy(cm, &ei.ee, sizeof(ei.ee));
		memcpy(cm + sizeof(ei.ee), &ei.offender, sizeof(ei.offender));
		sk_put_cmsg(m, SOL_IP, IP_RECVERR, cm, sizeof(cm));
		m->msg_flags |= MSG_ERRQUEUE;
	}
	struct pkt *next = pkt_queue_peek(&sk->errq);
	if (next) {
		struct ip4_err_info ni;
		pkt_copy_out(next, 0, &ni, sizeof(ni));
		sk->err = (int)ni.ee.ee_errno;
	} else {
		sk->err = 0;
	}
	/* UDP's receive memory is also changed without the namespace lock */
	sk_rq_lock(sk);
	sk->rmem = sk->rmem > e->meta.truesize ? sk->rmem - e->meta.truesize : 0;
	sk_rq_unlock(sk);
	pkt_free(e);
	return r;
}

void ip4_icmp_error(struct sock *sk, const struct pkt *icmp, int err, uint8_t type, uint8_t code,
		    uint32_t info, uint32_t daddr, uint16_t dport, size_t l4_skip)
{
	/* ip_icmp_error: only for a socket that asked */
	if (!(sk->inet_flags & INF_RECVERR))
		return;
	const uint8_t *h = pkt_linear(icmp, 8 + 20);
	if (!h)
		return;
	size_t ihl = (size_t)(h[8] & 0x0f) * 4, off = 8 + ihl + l4_skip;
	size_t plen = icmp->tot_len > off ? icmp->tot_len - off : 0;
	uint32_t ts = pkt_kernel_truesize((uint32_t)icmp->tot_len + 20 + 14 + PKT_KERNEL_LL_EXTRA);
	sk_rq_lock(sk);
	bool room = sk->rmem + ts < (uint32_t)sk->rcvbuf;
	if (room)
		sk->rmem += ts;
	sk_rq_unlock(sk);
	if (!room)
		return;
	struct pkt *e = pkt_alloc(sk->ns->pools, sizeof(struct ip4_err_info) + plen);
	if (!e) {
		sk_rq_lock(sk);
		sk->rmem -= ts;
		sk_rq_unlock(sk);
		return;
	}
	struct ip4_err_info *ei = (struct ip4_err_info *)pkt_put(e, sizeof(*ei));
	memset(ei, 0, sizeof(*ei));
	ei->ee.ee_errno = (uint32_t)err;
	ei->ee.ee_origin = SO_EE_ORIGIN_ICMP;
	ei->ee.ee_type = type;
	ei->ee.ee_code = code;
	ei->ee.ee_info = info;
	ei->dst.sin_family = AF_INET;
	ei->dst.sin_addr.s_addr = daddr;
	ei->dst.sin_port = dport;
	ei->offender.sin_family = AF_INET;
	ei->offender.sin_addr.s_addr = icmp->meta.saddr;
	if (plen)
		pkt_copy_out(icmp, off, pkt_put(e, plen), plen);
	e->meta.truesize = ts;
	e->meta.l4_off = sizeof(*ei);
	e->meta.tstamp_ns = clock_realtime(&sk->ns->clock);
	pkt_queue_push(&sk->errq, e);
}
