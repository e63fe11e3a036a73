/* SPDX-License-Identifier: MIT */
/*
 * tcp_in_int.h - private interface between tcp_in.c (arrival, state machine) and tcp_rcvq.c
 *
 * Included only by those two files: they were one file (net/ipv4/tcp_input.c
 * is one), split to keep each under the house size limit.  Nothing here is
 * part of the tcp/ contract in tcp.h.
 */
#ifndef USOCK_TCP_IN_INT_H
#define USOCK_TCP_IN_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf/pkt.h"
#include "core/clock.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "wire/tcp.h"

#define TCP_WRITE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define TCP_TSTAMP_ALIGNED 12u		/* TCPOLEN_TSTAMP_ALIGNED */
#ifndef TCP_MSS_DEFAULT
#define TCP_MSS_DEFAULT 536u
#endif
#define TCP_WAKE_READ (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND)	/* sock_def_readable */

/* tp->tcp_header_len: the header every segment of this connection carries */
static inline uint32_t tcp_hdr_len(const struct tcp_sock *tp)
{
	return TCP_HLEN + (tp->tstamp_ok ? TCP_TSTAMP_ALIGNED : 0);
}
static inline void ack_schedule(struct tcp_sock *tp) { tp->ack.pending |= ICSK_ACK_SCHED; }

static inline void rmem_charge(struct tcp_sock *tp, const struct pkt *pk)
{
	tp->sk.rmem += pk->meta.truesize;
}
static inline void rmem_uncharge(struct tcp_sock *tp, const struct pkt *pk)
{
	tp->sk.rmem = tp->sk.rmem > pk->meta.truesize ? tp->sk.rmem - pk->meta.truesize : 0;
}

/* sk_data_ready */
static inline void data_ready_wake(struct tcp_sock *tp)
{
	sk_wake(&tp->sk, TCP_WAKE_READ);
}

static inline void rx_stamp(struct tcp_sock *tp, struct pkt *pk)
{
	struct sock *sk = &tp->sk;

	if (sk->flags & (SKF_TIMESTAMP | SKF_TIMESTAMPNS | SKF_STAMP_IOCTL))
		pk->meta.tstamp_ns = clock_realtime(&sk->ns->clock);
}

/* What tcp_event_data_recv needs of the segment (the packet may be queued and folded already). */
struct seg_info {
	uint32_t len;		/* payload as it arrived */
	uint32_t truesize;
	uint16_t flags;
	uint16_t hdrlen;
};

/* tcp_in.c */

/* tcp_drop - free a discarded segment, counting it in the socket's drops. */
void tcp_drop(struct tcp_sock *tp, struct pkt *pk);

/* tcp_rcvq.c */

/* tcp_event_data_recv - data arrived: schedule an ACK, adapt ato and the quick-ACK budget. */
void tcp_event_data_recv(struct tcp_sock *tp, const struct seg_info *si);
/* tcp_ack_snd_check_now - send an ACK now or delay it (__tcp_ack_snd_check). */
void tcp_ack_snd_check_now(struct tcp_sock *tp, bool ofo_possible);
/* tcp_ack_snd_check - tcp_ack_snd_check_now if an ACK is scheduled. */
void tcp_ack_snd_check(struct tcp_sock *tp);
/* tcp_send_dupack - answer an unacceptable segment, a duplicate reported as D-SACK. */
void tcp_send_dupack(struct tcp_sock *tp, const struct tcp_skb_cb *cb);
/* tcp_data_ready - wake readers once SO_RCVLOWAT (or memory pressure) is reached. */
void tcp_data_ready(struct tcp_sock *tp);
/* tcp_queue_rcv - append an in-order packet and advance rcv_nxt.  Consumes pk. */
void tcp_queue_rcv(struct tcp_sock *tp, struct pkt *pk, bool charged);
/* tcp_fin - the peer's FIN is in sequence; may move tp to TIME_WAIT (hold a reference). */
void tcp_fin(struct tcp_sock *tp);
/* tcp_data_queue - RFC 793 step 7, the segment text.  Consumes pk (data at the payload). */
void tcp_data_queue(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th);
/* tcp_urg - note a new urgent pointer, take the urgent byte when its segment is here. */
void tcp_urg(struct tcp_sock *tp, const struct pkt *pk, const struct tcp_repr *th);

#endif /* USOCK_TCP_IN_INT_H */
