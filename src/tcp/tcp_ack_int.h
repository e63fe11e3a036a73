/* SPDX-License-Identifier: MIT */
/*
 * tcp_ack_int.h - private to tcp_ack.c and tcp_recovery.c: per-ACK state and scoreboard helpers
 *
 * tcp_ack.c processes ACKs and runs the recovery state machine;
 * tcp_recovery.c decides which packets are lost (RACK, the RFC 6675
 * dupthresh walk, NewReno) and handles the RACK reordering timer.  They
 * share the per-ACK state below, the scoreboard hints and the two cwnd
 * steps of recovery that Linux also calls from tcp_recovery.c.  Nothing
 * else includes this header.
 */
#ifndef USOCK_TCP_ACK_INT_H
#define USOCK_TCP_ACK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf/pkt.h"
#include "tcp/tcp.h"

/* sysctl net.ipv4.tcp_recovery bits (TCP_RACK_* of include/net/tcp.h) */
#define TCP_RACK_LOSS_DETECTION 0x1	/* RACK detects losses (else dupthresh) */
#define TCP_RACK_STATIC_REO_WND 0x2	/* D-SACKs do not widen the reordering window */
#define TCP_RACK_NO_DUPTHRESH 0x4	/* a window even after dupthresh SACKs */
#define TCP_RACK_RECOVERY_THRESH 16	/* recoveries a widened window is kept for */

#define TCP_TIMEOUT_MIN_US 2000u	/* TCP_TIMEOUT_MIN: two jiffies */
#define TCPCB_RETRANS (TCPCB_SACKED_RETRANS | TCPCB_EVER_RETRANS)

/*
 * Per-ACK state: Linux's tcp_sacktag_state plus what tcp_ack uses of the
 * rate sample.  rate_*: the most recently sent packet this ACK delivered
 * (tcp_rate_skb_delivered), for tcp_rack_update_reo_wnd.
 */
struct tcp_ack_state {
	uint64_t first_sackt, last_sackt;	/* tx times of newly SACKed originals */
	uint32_t reord;			/* lowest newly SACKed never-retransmitted seq */
	uint32_t sack_delivered;
	int flag;
	uint32_t prior_delivered;	/* tp->delivered before this ACK */
	int32_t rtt_us;			/* RTT of the last (S)ACKed packet, -1: none */
	uint32_t newly_lost;		/* tp->lost delta of Linux */
	uint32_t rate_prior_delivered;	/* rs->prior_delivered: its tx.delivered, 0: none */
	uint64_t rate_tx_us;		/* its tx time */
	uint32_t rate_end_seq;		/* its end_seq */
};

static inline struct tcp_skb_cb *cb(const struct pkt *pk) { return TCP_SKB_CB(pk); }

static inline bool tcp_is_sack(const struct tcp_sock *tp) { return tp->sack_ok; }
static inline bool tcp_is_reno(const struct tcp_sock *tp) { return !tp->sack_ok; }
static inline uint32_t tcp_left_out(const struct tcp_sock *tp) { return tp->sacked_out + tp->lost_out; }

/* tcp_is_rack: RACK does the loss detection (sysctl tcp_recovery bit 0). */
static inline bool tcp_is_rack(const struct tcp_sock *tp)
{
	return (tcp_sys(&tp->sk)->recovery & TCP_RACK_LOSS_DETECTION) != 0;
}

static inline bool tcp_in_cwnd_reduction(const struct tcp_sock *tp)
{
	return tp->ca_state == TCP_CA_CWR || tp->ca_state == TCP_CA_Recovery;
}

/* tcp_stamp_us_delta: never negative, as Linux's (and within an int32 RTT) */
static inline int64_t tcp_stamp_us_delta(uint64_t t1, uint64_t t0)
{
	return t1 <= t0 ? 0 : t1 - t0 > INT32_MAX ? INT32_MAX : (int64_t)(t1 - t0);
}


/* tcp_skb_sent_after: t1 is later than t2; the same time goes by sequence. */
static inline bool tcp_skb_sent_after(uint64_t t1, uint64_t t2, uint32_t seq1, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && tcp_after(seq1, seq2));
}

/* tcp_min_rtt: the minimum RTT seen, ~0 before the first sample (as Linux's minmax). */
static inline uint32_t tcp_min_rtt(const struct tcp_sock *tp)
{
	return tp->rtt_min_us ? tp->rtt_min_us : ~0u;
}

/* SACKed packets before lost_skb_hint (0 when it is the head or unset). */
static inline uint32_t tcp_lost_cnt_hint(const struct tcp_sock *tp)
{
	const struct pkt *h = tp->lost_skb_hint;

	return (!h || h == tp->rtx_queue.head) ? 0 : tp->lost_cnt_hint;
}

static inline void tcp_set_lost_cnt_hint(struct tcp_sock *tp, uint32_t cnt)
{
	tp->lost_cnt_hint = cnt;
}

/* tcp_highest_sack_seq: end of the highest SACKed packet (snd_nxt for Reno, as Linux's NULL hint). */
static inline uint32_t tcp_highest_sack_seq(const struct tcp_sock *tp)
{
	if (!tp->sacked_out || !tp->rtx_queue.head)
		return tp->snd_una;
	if (!tp->sack_ok)
		return tp->snd_nxt;
	return tp->highest_sack_seq;
}

static inline void tcp_set_highest_sack(struct tcp_sock *tp, uint32_t seq)
{
	tp->highest_sack_seq = seq;
}

/* ---- tcp_ack.c ---- */
void tcp_enter_recovery(struct tcp_sock *tp, bool ece_ack);
void tcp_cwnd_reduction(struct tcp_sock *tp, int newly_acked_sacked, int newly_lost, int flag);

/* ---- tcp_recovery.c ---- */
void tcp_mark_skb_lost(struct tcp_sock *tp, struct pkt *pk, struct tcp_ack_state *st);
void tcp_update_scoreboard(struct tcp_sock *tp, bool fast_rexmit, struct tcp_ack_state *st);
void tcp_identify_packet_loss(struct tcp_sock *tp, int *ack_flag, struct tcp_ack_state *st);
void tcp_timeout_mark_lost(struct tcp_sock *tp);
void tcp_rack_advance(struct tcp_sock *tp, uint8_t sacked, uint32_t end_seq, uint64_t xmit_us);
void tcp_rack_update_reo_wnd(struct tcp_sock *tp, const struct tcp_ack_state *st);

#endif /* USOCK_TCP_ACK_INT_H */
