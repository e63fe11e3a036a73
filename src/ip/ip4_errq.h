/* SPDX-License-Identifier: MIT */
/*
 * ip4_errq.h - the IPv4 error queue a socket reads with MSG_ERRQUEUE (ip_recv_error)
 */
#ifndef USOCK_IP_IP4_ERRQ_H
#define USOCK_IP_IP4_ERRQ_H

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

struct sock;
struct sk_msg;

/* What an error-queue entry carries in front of the offending payload. */
struct ip4_err_info {
	struct sock_extended_err ee;
	struct sockaddr_in dst;		/* where the packet was going (msg_name) */
	struct sockaddr_in offender;	/* who sent the ICMP */
};

/*
 * ip4_icmp_error - queue an ICMP error for MSG_ERRQUEUE when the socket has
 * IP_RECVERR (ip_icmp_error): the payload the ICMP quoted from l4_skip
 * bytes into the quoted transport header on (8 for UDP: after its header;
 * 0 for TCP: the header itself), charged to the receive memory
 * (sock_queue_err_skb refuses it when that is full).  daddr:dport is where
 * the quoted packet was going (the entry's msg_name).  Namespace lock held.
 */
struct pkt;
void ip4_icmp_error(struct sock *sk, const struct pkt *icmp, int err, uint8_t type, uint8_t code,
		    uint32_t info, uint32_t daddr, uint16_t dport, size_t l4_skip);

/*
 * ip4_recv_error - one entry of sk->errq: the payload, the original
 * destination as the name, IP_RECVERR with the extended error and the
 * offender, MSG_ERRQUEUE in the flags; the pending error becomes the next
 * entry's, or none (sock_dequeue_err_skb).  Namespace lock held.
 * Return: bytes copied, -EAGAIN when the queue is empty, -EFAULT.
 */
ssize_t ip4_recv_error(struct sock *sk, struct sk_msg *m);

#endif
