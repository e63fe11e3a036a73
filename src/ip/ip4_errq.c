/* SPDX-License-Identifier: MIT */
/*
 * ip4_errq.c - reading the IPv4 error queue (ip_recv_error), for UDP and TCP
 *
 * The entries are made by the protocols (udp_err queues ICMP errors for
 * IP_RECVERR sockets): a packet whose first bytes are struct
 * ip4_err_info, then the quoted payload, charged to sk->rmem.
 */
#include <errno.h>
#include <netinet/ip.h>
#include <string.h>

#include "ip/ip4_errq.h"
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
