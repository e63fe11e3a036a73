/* SPDX-License-Identifier: MIT */
/*
 * tcp_ack.c - ACK processing: RTT and RTO, SACK scoreboard, loss recovery
 *
 * Theory of operation.  tcp_ack() is Linux's tcp_ack() and what it calls
 * in tcp_input.c; which packets are lost is tcp_recovery.c's (RACK-TLP by
 * default, the RFC 6675 dupthresh walk with sysctl tcp_recovery=0,
 * NewReno without SACK), fed from here with RACK's samples (the tx time
 * of every newly (S)ACKed packet) and the rate sample's prior_delivered.
 * Left out: F-RTO, ECN, and SACK shifting of GSO skbs (every queued
 * packet is one segment, pcount 1).
 * Cwnd reductions use PRR (RFC 6937); spurious ones are undone with
 * timestamps and D-SACKs.  The RTO is kept in whole jiffies (USOCK_HZ).
 * With tcp_recovery.c it owns the scoreboard bits of tp->rtx_queue
 * (SACKED_ACKED, LOST, and clearing SACKED_RETRANS), sacked_out/lost_out,
 * the RTT state, ca_state changes on ACKs and RTOs, and freeing what the
 * peer acknowledged.
 *
 * Walking the queue.  The rtx queue is a singly linked list sorted by seq.
 * An ACK's SACK blocks are sorted and tagged in one forward pass, entered
 * at the best known packet at or below the first block (where the last
 * block ended, lost_skb_hint, or the head: the first hole starts at
 * snd_una).  An ACK thus costs the packets its blocks cover, never a walk
 * of the whole queue per block; but a block is walked whole, as Linux's
 * recv_sack_cache (skipping what the last ACK already reported) needs
 * fields tcp.h lacks.  highest_sack_seq stands for Linux's highest_sack
 * (valid while sacked_out != 0); lost_cnt_hint counts the SACKed packets
 * before lost_skb_hint.  Whoever frees or merges lost_skb_hint clears it,
 * as tcp_clear_retrans_hints_partial does.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "tcp/tcp.h"
#include "tcp/tcp_ack_int.h"

/* FLAG_* combinations and private bits of tcp_input.c */
#define TCP_FLAG_DSACK_TLP 0x20000	/* D-SACK of a tail loss probe */
#define TCP_FLAG_ACKED (TCP_FLAG_DATA_ACKED | TCP_FLAG_SYN_ACKED)
#define TCP_FLAG_NOT_DUP (TCP_FLAG_DATA | TCP_FLAG_WIN_UPDATE | TCP_FLAG_ACKED)
#define TCP_FLAG_CA_ALERT (TCP_FLAG_DATA_SACKED | TCP_FLAG_ECE | TCP_FLAG_DSACKING_ACK)
#define TCP_FLAG_FORWARD_PROGRESS (TCP_FLAG_ACKED | TCP_FLAG_DATA_SACKED)

enum { REXMIT_NONE, REXMIT_LOST };

#define TCP_MAX_REORDERING 300		/* sysctl_tcp_max_reordering */
#define TCP_PAWS_WRAP_S (INT_MAX / 1000000)

/* tcp_current_ssthresh: the ssthresh to restore, counting a cwnd not yet reduced. */
static uint32_t tcp_current_ssthresh(const struct tcp_sock *tp)
{
	uint32_t c = (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2);

	if (tcp_in_cwnd_reduction(tp))
		return tp->snd_ssthresh;
	return tp->snd_ssthresh > c ? tp->snd_ssthresh : c;
}

static void tcp_set_ca_state(struct tcp_sock *tp, uint8_t state)
{
	tcp_ca_set_state(tp, state);
	tp->ca_state = state;
}

static inline uint32_t tcp_rto_min_us(const struct tcp_sock *tp)
{ return tp->rto_min_us ? tp->rto_min_us : TCP_RTO_MIN_US; }

/* Our TSval clock (tcp_time_stamp_ts): ms of the stamp of this event. */
static inline uint32_t tcp_ts_of_us(uint64_t us) { return (uint32_t)(us / 1000u); }

static bool tcp_any_retrans_done(const struct tcp_sock *tp)
{
	const struct pkt *head = tp->rtx_queue.head;

	return tp->retrans_out || (head && (cb(head)->sacked & TCPCB_EVER_RETRANS));
}

/* The echo predates ts_ms; rcv_tsecr has our tsoffset taken off, as Linux's rx_opt. */
static bool tcp_tsopt_ecr_before(const struct tcp_sock *tp, uint32_t ts_ms)
{
	return tp->saw_tstamp && tp->rcv_tsecr && tcp_before(tp->rcv_tsecr, ts_ms);
}

/* tcp_rtt_tsopt_us: RTT from the timestamp echo, -1 if it is absurd. */
static int32_t tcp_rtt_tsopt_us(const struct tcp_sock *tp)
{
	uint32_t delta = tcp_ts_of_us(tp->tcp_mstamp) - tp->rcv_tsecr;

	if (delta < INT_MAX / 1000) {
		if (!delta)
			delta = 1;
		return (int32_t)(delta * 1000);
	}
	return -1;
}

/* ================= RTT and RTO ================= */

/**
 * tcp_rtt_estimator - fold one RTT sample (us) into srtt/mdev/rttvar
 *
 * Jacobson/Karels as tcp_rtt_estimator: srtt_us is 8*SRTT, mdev_us 4*|err|
 * smoothed by 1/4, with a finer gain when the RTT falls (so a faster path
 * does not raise the RTO).  rttvar_us is the largest mdev of the current
 * RTT (mdev_max_us), decaying by 1/4 per RTT, never below the RTO minimum.
 */
void tcp_rtt_estimator(struct tcp_sock *tp, int32_t mrtt_us)
{
	int64_t m = mrtt_us;
	uint32_t srtt = tp->srtt_us;

	if (srtt) {
		m -= srtt >> 3;
		srtt = (uint32_t)((int64_t)srtt + m);
		if (m < 0) {
			m = -m;
			m -= tp->mdev_us >> 2;
			if (m > 0)
				m >>= 3;
		} else {
			m -= tp->mdev_us >> 2;
		}
		tp->mdev_us = (uint32_t)((int64_t)tp->mdev_us + m);
		if (tp->mdev_us > tp->mdev_max_us) {
			tp->mdev_max_us = tp->mdev_us;
			if (tp->mdev_max_us > tp->rttvar_us)
				tp->rttvar_us = tp->mdev_max_us;
		}
		if (tcp_after(tp->snd_una, tp->rtt_seq)) {
			if (tp->mdev_max_us < tp->rttvar_us)
				tp->rttvar_us -= (tp->rttvar_us - tp->mdev_max_us) >> 2;
			tp->rtt_seq = tp->snd_nxt;
			tp->mdev_max_us = tcp_rto_min_us(tp);
		}
	} else {
		srtt = (uint32_t)(m << 3);
		tp->mdev_us = (uint32_t)(m << 1);
		tp->rttvar_us = tp->mdev_us > tcp_rto_min_us(tp) ? tp->mdev_us : tcp_rto_min_us(tp);
		tp->mdev_max_us = tp->rttvar_us;
		tp->rtt_seq = tp->snd_nxt;
	}
	tp->srtt_us = srtt ? srtt : 1;
}

/**
 * tcp_set_rto - srtt + rttvar (__tcp_set_rto), at most TCP_RTO_MAX_US; the
 * minimum comes through rttvar, as in the kernel.  Back-off is the timer's.
 */
void tcp_set_rto(struct tcp_sock *tp)
{
	uint64_t rto = tcp_jiffy_round_us((uint64_t)(tp->srtt_us >> 3) + tp->rttvar_us);

	tp->rto_us = rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : (uint32_t)rto;
}

/* tcp_update_rtt_min: min RTT (over the connection, not windowed), skipping likely delayed ACKs. */
static void tcp_update_rtt_min(struct tcp_sock *tp, int32_t rtt_us, int flag)
{
	uint32_t r = rtt_us > 0 ? (uint32_t)rtt_us : TCP_JIFFY_US;

	if ((flag & TCP_FLAG_ACK_MAYBE) && tp->rtt_min_us && r > tp->rtt_min_us)
		return;
	if (!tp->rtt_min_us || r < tp->rtt_min_us)
		tp->rtt_min_us = r;
}

/*
 * tcp_ack_update_rtt - take an RTT sample if Karn allows (tcp_ack_update_rtt):
 * the ACK-timed sample first, then the SACK-timed one, then, only for an
 * ACK that acknowledges new data, the timestamp echo (RFC 7323 RTTM).
 * Return: true if the estimator was updated.
 */
static bool tcp_ack_update_rtt(struct tcp_sock *tp, int flag, int64_t seq_rtt_us,
			       int64_t sack_rtt_us, int64_t ca_rtt_us, int32_t *rs_rtt)
{
	if (seq_rtt_us < 0)
		seq_rtt_us = sack_rtt_us;
	if (seq_rtt_us < 0 && tp->saw_tstamp && tp->rcv_tsecr && (flag & TCP_FLAG_ACKED))
		seq_rtt_us = ca_rtt_us = tcp_rtt_tsopt_us(tp);
	if (rs_rtt)
		*rs_rtt = (int32_t)ca_rtt_us;
	if (seq_rtt_us < 0)
		return false;
	tcp_update_rtt_min(tp, (int32_t)ca_rtt_us, flag);
	tcp_rtt_estimator(tp, (int32_t)seq_rtt_us);
	tcp_set_rto(tp);
	/* RFC 6298: only a valid measurement resets the back-off */
	tp->backoff = 0;
	return true;
}

/**
 * tcp_synack_rtt_meas - the handshake's RTT sample: @rtt_us since the
 * SYN-ACK, or UINT32_MAX if it was retransmitted (only the TS echo then).
 */
void tcp_synack_rtt_meas(struct tcp_sock *tp, uint32_t rtt_us)
{
	int64_t r = rtt_us == UINT32_MAX ? -1 : (int64_t)rtt_us;

	tcp_mstamp_refresh(tp);
	tcp_ack_update_rtt(tp, TCP_FLAG_SYN_ACKED, r, -1, r, NULL);
}

/* ================= congestion window ================= */

/* tcp_init_cwnd - TCP_INIT_CWND within snd_cwnd_clamp (no route metric). Return: packets. */
uint32_t tcp_init_cwnd(const struct tcp_sock *tp)
{
	uint32_t cwnd = TCP_INIT_CWND;

	if (tp->snd_cwnd_clamp && tp->snd_cwnd_clamp < cwnd)
		cwnd = tp->snd_cwnd_clamp;
	return cwnd;
}

/* tcp_cwnd_restart - RFC 2861: halve cwnd per RTO idle, not below the initial window. */
void tcp_cwnd_restart(struct tcp_sock *tp, uint32_t delta_us)
{
	uint32_t restart = tcp_init_cwnd(tp), cwnd = tp->snd_cwnd;
	int64_t delta = delta_us;

	tcp_ca_event(tp, TCP_CA_EVENT_CWND_RESTART);
	tp->snd_ssthresh = tcp_current_ssthresh(tp);
	if (cwnd < restart)
		restart = cwnd;
	while ((delta -= tp->rto_us) > 0 && cwnd > restart)
		cwnd >>= 1;
	tp->snd_cwnd = cwnd > restart ? cwnd : restart;
	tp->snd_cwnd_stamp = tp->tcp_mstamp;
}

/* tcp_slow_start_after_idle_check: a window update while data waits after idle. */
static void tcp_slow_start_after_idle_check(struct tcp_sock *tp)
{
	int64_t delta;

	if (!tcp_sys(&tp->sk)->slow_start_after_idle || tp->packets_out)
		return;
	delta = tcp_stamp_us_delta(tp->tcp_mstamp, tp->lsndtime_us);
	if (delta > tp->rto_us)
		tcp_cwnd_restart(tp, delta > UINT32_MAX ? UINT32_MAX : (uint32_t)delta);
}

/* tcp_init_cwnd_reduction: start of CWR or Recovery, PRR's starting point. */
static void tcp_init_cwnd_reduction(struct tcp_sock *tp)
{
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	tp->snd_cwnd_cnt = 0;
	tp->prior_cwnd = tp->snd_cwnd;
	tp->prr_delivered = 0;
	tp->prr_out = 0;
	tp->snd_ssthresh = tcp_ca_ssthresh(tp);
}

/**
 * tcp_cwnd_reduction - PRR (RFC 6937): above ssthresh send in proportion to
 * what was delivered, below it conservation plus PRR-SSRB; the first call
 * always allows one packet, the fast retransmit (tcp_cwnd_reduction)
 * @tp: the connection, in CWR or Recovery
 * @newly_acked_sacked: packets this event delivered
 * @newly_lost: packets it marked lost
 * @flag: TCP_FLAG_* of the ACK (0 from the REO timer)
 */
void tcp_cwnd_reduction(struct tcp_sock *tp, int newly_acked_sacked, int newly_lost, int flag)
{
	int64_t delta = (int64_t)tp->snd_ssthresh - tcp_packets_in_flight(tp);
	int64_t sndcnt = 0;

	if (newly_acked_sacked <= 0 || !tp->prior_cwnd)
		return;
	tp->prr_delivered += (uint32_t)newly_acked_sacked;
	if (delta < 0) {
		uint64_t dividend = (uint64_t)tp->snd_ssthresh * tp->prr_delivered + tp->prior_cwnd - 1;

		sndcnt = (int64_t)(dividend / tp->prior_cwnd) - tp->prr_out;
	} else {
		sndcnt = (int64_t)tp->prr_delivered - tp->prr_out;
		if (sndcnt < newly_acked_sacked)
			sndcnt = newly_acked_sacked;
		if ((flag & TCP_FLAG_SND_UNA_ADVANCED) && !newly_lost)
			sndcnt++;
		if (sndcnt > delta)
			sndcnt = delta;
	}
	if (sndcnt < (tp->prr_out ? 0 : 1))
		sndcnt = tp->prr_out ? 0 : 1;
	tp->snd_cwnd = tcp_packets_in_flight(tp) + (uint32_t)sndcnt;
}

/* tcp_end_cwnd_reduction: cwnd back to ssthresh once CWR/Recovery ends (unless undone). */
static void tcp_end_cwnd_reduction(struct tcp_sock *tp)
{
	if (tp->snd_ssthresh < TCP_INFINITE_SSTHRESH &&
	    (tp->ca_state == TCP_CA_CWR || tp->undo_marker)) {
		tp->snd_cwnd = tp->snd_ssthresh;
		tp->snd_cwnd_stamp = tp->tcp_mstamp;
	}
	tcp_ca_event(tp, TCP_CA_EVENT_COMPLETE_CWR);
}

/* tcp_try_keep_open: Open, or Disorder while anything is SACKed, lost or retransmitted. */
static void tcp_try_keep_open(struct tcp_sock *tp)
{
	uint8_t state = TCP_CA_Open;

	if (tcp_left_out(tp) || tcp_any_retrans_done(tp))
		state = TCP_CA_Disorder;
	if (tp->ca_state != state) {
		tcp_set_ca_state(tp, state);
		tp->high_seq = tp->snd_nxt;
	}
}

static void tcp_try_to_open(struct tcp_sock *tp, int flag)
{
	if (!tcp_any_retrans_done(tp))
		tp->retrans_stamp_us = 0;
	if (tp->ca_state != TCP_CA_CWR)
		tcp_try_keep_open(tp);
}

/* ---- Reno: SACK emulated by counting duplicate ACKs in sacked_out ---- */

static bool tcp_limit_reno_sacked(struct tcp_sock *tp)
{
	uint32_t holes = tp->lost_out > 1 ? tp->lost_out : 1;

	if (holes > tp->packets_out)
		holes = tp->packets_out;
	if (tp->sacked_out + holes > tp->packets_out) {
		tp->sacked_out = tp->packets_out - holes;
		return true;
	}
	return false;
}

/* More dupacks than packets out: that was reordering (tcp_check_reno_reordering). */
static void tcp_check_reno_reordering(struct tcp_sock *tp, int addend)
{
	uint32_t r;

	if (!tcp_limit_reno_sacked(tp))
		return;
	r = tp->packets_out + (uint32_t)addend;
	tp->reordering = r < TCP_MAX_REORDERING ? r : TCP_MAX_REORDERING;
	tp->reord_seen++;
}

static void tcp_add_reno_sack(struct tcp_sock *tp, int num_dupack)
{
	uint32_t prior;

	if (!num_dupack)
		return;
	prior = tp->sacked_out;
	tp->sacked_out += (uint32_t)num_dupack;
	tcp_check_reno_reordering(tp, 0);
	if (tp->sacked_out > prior)
		tp->delivered += tp->sacked_out - prior;
}

static void tcp_remove_reno_sacks(struct tcp_sock *tp, int acked)
{
	if (acked > 0) {
		int64_t d = (int64_t)acked - tp->sacked_out;

		tp->delivered += d > 1 ? (uint32_t)d : 1;
		if ((uint32_t)(acked - 1) >= tp->sacked_out)
			tp->sacked_out = 0;
		else
			tp->sacked_out -= (uint32_t)(acked - 1);
	}
	tcp_check_reno_reordering(tp, acked);
}

/* ================= SACK ================= */

/* tcp_dsack_seen: duplicate segments of a D-SACK, 0 if dubious (too big, or never resent). */
static uint32_t tcp_dsack_seen(struct tcp_sock *tp, uint32_t start, uint32_t end,
			       struct tcp_ack_state *st)
{
	uint32_t len, dup = 1;

	if (!tcp_before(start, end))
		return 0;
	len = end - start;
	if (len > tp->max_window)
		return 0;
	if (tp->mss_cache && len > tp->mss_cache)
		dup = (len + tp->mss_cache - 1) / tp->mss_cache;
	else if (tp->tlp_high_seq && tp->tlp_high_seq == end)
		st->flag |= TCP_FLAG_DSACK_TLP;
	tp->dsack_dups += dup;
	if (tp->dsack_dups > tp->total_retrans)
		return 0;
	/* a spurious retransmission after reordering: maybe RACK's window
	 * was too short; a TLP's D-SACK says nothing about it (timer-driven) */
	if (tp->reord_seen && !(st->flag & TCP_FLAG_DSACK_TLP))
		tp->rack.dsack_seen = true;
	st->flag |= TCP_FLAG_DSACKING_ACK;
	st->sack_delivered += dup;
	return dup;
}

/* tcp_check_dsack: the first block is a D-SACK (RFC 2883): below the ACK, or inside the second. */
static bool tcp_check_dsack(struct tcp_sock *tp, uint32_t ack, const struct tcp_sack_block *sp,
			    int num, uint32_t prior_snd_una, struct tcp_ack_state *st)
{
	uint32_t s0 = sp[0].start, e0 = sp[0].end, dup;

	if (!tcp_before(s0, ack)) {
		if (num < 2 || tcp_after(e0, sp[1].end) || tcp_before(s0, sp[1].start))
			return false;
	}
	dup = tcp_dsack_seen(tp, s0, e0, st);
	if (!dup)
		return false;
	/* D-SACK for data already forgotten: count it against undo_retrans blindly */
	if (tp->undo_marker && tp->undo_retrans > 0 && !tcp_after(e0, prior_snd_una) &&
	    tcp_after(e0, tp->undo_marker)) {
		int r = tp->undo_retrans - (int)dup;

		tp->undo_retrans = r > 0 ? r : 0;
	}
	return true;
}

/* Inside (snd_una, snd_nxt], not reversed; a D-SACK may go down to undo_marker (tcp_is_sackblock_valid). */
static bool tcp_is_sackblock_valid(const struct tcp_sock *tp, bool is_dsack, uint32_t start,
				   uint32_t end)
{
	if (tcp_after(end, tp->snd_nxt) || !tcp_before(start, end))
		return false;
	if (!tcp_before(start, tp->snd_nxt))
		return false;
	if (tcp_after(start, tp->snd_una))
		return true;
	if (!is_dsack || !tp->undo_marker)
		return false;
	if (tcp_after(end, tp->snd_una))
		return false;
	if (!tcp_before(start, tp->undo_marker))
		return true;
	if (!tcp_after(end, tp->undo_marker))
		return false;
	return !tcp_before(start, end - tp->max_window);
}

/* tcp_check_sack_reordering: raise dupthresh to the distance a hole was filled from. */
static void tcp_check_sack_reordering(struct tcp_sock *tp, uint32_t low_seq)
{
	const uint32_t mss = tp->mss_cache;
	uint32_t fack = tcp_highest_sack_seq(tp), metric, r;

	if (!tcp_before(low_seq, fack))
		return;
	metric = fack - low_seq;
	if (mss && metric > tp->reordering * mss) {
		r = (metric + mss - 1) / mss;
		tp->reordering = r < TCP_MAX_REORDERING ? r : TCP_MAX_REORDERING;
	}
	tp->reord_seen++;
}

/*
 * tcp_sacktag_one - a packet wholly inside a SACK block: the S/L/R state
 * machine of tcp_input.c, reordering evidence, D-SACK undo accounting.
 * Return: the new sacked bits.
 */
static uint8_t tcp_sacktag_one(struct tcp_sock *tp, struct tcp_ack_state *st, uint8_t sacked,
			       uint32_t start, uint32_t end, bool dup_sack, uint64_t xmit_us)
{
	if (dup_sack && (sacked & TCPCB_RETRANS)) {
		if (tp->undo_marker && tp->undo_retrans > 0 && tcp_after(end, tp->undo_marker))
			tp->undo_retrans--;
		if ((sacked & TCPCB_SACKED_ACKED) && tcp_before(start, st->reord))
			st->reord = start;
	}
	/* acked already: about to be freed */
	if (!tcp_after(end, tp->snd_una))
		return sacked;
	if (!(sacked & TCPCB_SACKED_ACKED)) {
		tcp_rack_advance(tp, sacked, end, xmit_us);
		if (sacked & TCPCB_SACKED_RETRANS) {
			/* R without L: the retransmission may still be in flight, keep R */
			if (sacked & TCPCB_LOST) {
				sacked &= (uint8_t)~(TCPCB_LOST | TCPCB_SACKED_RETRANS);
				tp->lost_out--;
				tp->retrans_out--;
			}
		} else {
			if (!(sacked & TCPCB_RETRANS)) {
				/* an original filled a hole below the highest SACK: reordering */
				if (tcp_before(start, tcp_highest_sack_seq(tp)) &&
				    tcp_before(start, st->reord))
					st->reord = start;
				if (!tcp_after(end, tp->high_seq))
					st->flag |= TCP_FLAG_ORIG_SACK_ACKED;
				if (!st->first_sackt)
					st->first_sackt = xmit_us;
				st->last_sackt = xmit_us;
			}
			if (sacked & TCPCB_LOST) {
				sacked &= (uint8_t)~TCPCB_LOST;
				tp->lost_out--;
			}
		}
		sacked |= TCPCB_SACKED_ACKED;
		st->flag |= TCP_FLAG_DATA_SACKED;
		tp->sacked_out++;
		st->sack_delivered++;
		if (tp->lost_skb_hint && tcp_before(start, cb(tp->lost_skb_hint)->seq))
			tcp_set_lost_cnt_hint(tp, tcp_lost_cnt_hint(tp) + 1);
	}
	/* a D-SACK shows a retransmission was redundant: it left the network */
	if (dup_sack && (sacked & TCPCB_SACKED_RETRANS)) {
		sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
		tp->retrans_out--;
	}
	return sacked;
}

/* A packet lies wholly inside [start, end) (tcp_match_skb_to_sack with pcount 1). */
static inline bool tcp_pkt_in_sack(const struct pkt *pk, uint32_t start, uint32_t end)
{
	return !tcp_after(start, cb(pk)->seq) && !tcp_before(end, cb(pk)->end_seq);
}

/*
 * tcp_rate_skb_delivered: note the most recently sent packet this ACK
 * delivers (tcp_rate_skb_delivered); of the rate sample only its
 * tx.delivered is kept, which tcp_rack_update_reo_wnd needs.  Called for
 * packets not delivered (SACKed) before.
 */
static void tcp_rate_skb_delivered(const struct pkt *pk, struct tcp_ack_state *st)
{
	const struct tcp_skb_cb *c = cb(pk);

	if (!st->rate_prior_delivered ||
	    tcp_skb_sent_after(c->tx_us, st->rate_tx_us, c->end_seq, st->rate_end_seq)) {
		st->rate_prior_delivered = c->ack_seq;
		st->rate_tx_us = c->tx_us;
		st->rate_end_seq = c->end_seq;
	}
}

/* tcp_sacktag_walk: tag from pk on what [start, end) (and next_dup) covers. Return: where it stopped. */
static struct pkt *tcp_sacktag_walk(struct tcp_sock *tp, struct pkt *pk,
				    const struct tcp_sack_block *next_dup, struct tcp_ack_state *st,
				    uint32_t start, uint32_t end, bool dup_sack_in)
{
	for (; pk; pk = pk->next) {
		struct tcp_skb_cb *c = cb(pk);
		bool in_sack = false, dup_sack = dup_sack_in;

		if (!tcp_before(c->seq, end))
			break;
		if (next_dup && tcp_before(c->seq, next_dup->end) &&
		    tcp_pkt_in_sack(pk, next_dup->start, next_dup->end)) {
			in_sack = true;
			dup_sack = true;
		}
		if (!in_sack)
			in_sack = tcp_pkt_in_sack(pk, start, end);
		if (!in_sack)
			continue;
		if (!(c->sacked & TCPCB_SACKED_ACKED))
			tcp_rate_skb_delivered(pk, st);
		c->sacked = tcp_sacktag_one(tp, st, c->sacked, c->seq, c->end_seq, dup_sack, c->tx_us);
		if ((c->sacked & TCPCB_SACKED_ACKED) && !tcp_before(c->seq, tcp_highest_sack_seq(tp)))
			tcp_set_highest_sack(tp, c->end_seq);
	}
	return pk;
}

/* tcp_sacktag_skip: the packet holding seq, from the best known place below it (NULL: none). */
static struct pkt *tcp_sacktag_skip(struct tcp_sock *tp, struct pkt *pk, uint32_t seq)
{
	struct pkt *from = tp->rtx_queue.head, *h = tp->lost_skb_hint;

	if (pk && tcp_after(cb(pk)->seq, seq))
		return pk;
	if (pk)
		from = pk;
	if (h && !tcp_after(cb(h)->seq, seq) && (!from || tcp_after(cb(h)->seq, cb(from)->seq)))
		from = h;
	for (pk = from; pk; pk = pk->next)
		if (tcp_after(cb(pk)->end_seq, seq))
			return tcp_after(cb(pk)->seq, seq) ? NULL : pk;
	return NULL;
}

/*
 * tcp_sacktag_write_queue - an ACK's SACK blocks onto the scoreboard: find
 * a D-SACK, drop invalid and stale blocks, tag the rest in one sorted pass.
 * Return: TCP_FLAG_* (DATA_SACKED, DSACKING_ACK, ORIG_SACK_ACKED ...).
 */
static int tcp_sacktag_write_queue(struct tcp_sock *tp, uint32_t ack, const struct tcp_repr *th,
				   uint32_t prior_snd_una, struct tcp_ack_state *st)
{
	struct tcp_sack_block sp[TCP_MAX_SACKS], tmp;
	int num = th->opt.num_sacks > TCP_MAX_SACKS ? TCP_MAX_SACKS : th->opt.num_sacks;
	int used = 0, first_idx = 0, i, j;
	bool found_dup;
	struct pkt *pk = NULL;

	st->flag = 0;
	st->reord = tp->snd_nxt;
	if (!tp->sacked_out && tp->rtx_queue.head)
		tcp_set_highest_sack(tp, cb(tp->rtx_queue.head)->seq);
	found_dup = tcp_check_dsack(tp, ack, th->opt.sacks, num, prior_snd_una, st);

	/* too old an ACK to trust its SACK blocks */
	if (tcp_before(ack, prior_snd_una - tp->max_window))
		return 0;
	if (!tp->packets_out)
		return st->flag;

	for (i = 0; i < num; i++) {
		bool dup = !i && found_dup;

		sp[used] = th->opt.sacks[i];
		if (!tcp_is_sackblock_valid(tp, dup, sp[used].start, sp[used].end)) {
			/* not worth noting: olds caused by ACK reordering */
			if (!dup && ack != tp->snd_una && !tcp_after(sp[used].end, tp->snd_una))
				continue;
			if (!i)
				first_idx = -1;
			continue;
		}
		if (!tcp_after(sp[used].end, prior_snd_una)) {
			if (!i)
				first_idx = -1;
			continue;
		}
		used++;
	}
	for (i = used - 1; i > 0; i--)
		for (j = 0; j < i; j++)
			if (tcp_after(sp[j].start, sp[j + 1].start)) {
				tmp = sp[j];
				sp[j] = sp[j + 1];
				sp[j + 1] = tmp;
				if (j == first_idx)
					first_idx = j + 1;
			}

	for (i = 0; i < used; i++) {
		bool dup = found_dup && i == first_idx;
		const struct tcp_sack_block *next_dup =
			found_dup && i + 1 == first_idx ? &sp[i + 1] : NULL;

		pk = tcp_sacktag_skip(tp, pk, sp[i].start);
		pk = tcp_sacktag_walk(tp, pk, next_dup, st, sp[i].start, sp[i].end, dup);
	}
	if (tp->ca_state != TCP_CA_Loss || tp->undo_marker)
		tcp_check_sack_reordering(tp, st->reord);
	return st->flag;
}

/* ================= undo ================= */

static void tcp_init_undo(struct tcp_sock *tp)
{
	tp->undo_marker = tp->snd_una;
	tp->undo_retrans = (int)tp->retrans_out;
	/* a tail loss probe of old data still in flight may be D-SACKed too */
	if (tp->tlp_high_seq && tp->tlp_retrans)
		tp->undo_retrans++;
	if (!tp->undo_retrans)
		tp->undo_retrans = -1;
}

/* The echo predates our first retransmission: the original got through (or none was sent). */
static bool tcp_packet_delayed(const struct tcp_sock *tp)
{
	if (tp->retrans_stamp_us && tcp_tsopt_ecr_before(tp, tcp_ts_of_us(tp->retrans_stamp_us)))
		return true;
	return !tp->retrans_stamp_us && tp->sk.state != TCP_SYN_SENT;
}

static inline bool tcp_may_undo(const struct tcp_sock *tp)
{
	return tp->undo_marker && (!tp->undo_retrans || tcp_packet_delayed(tp));
}

/* tcp_undo_cwnd_reduction: the reduction was spurious; restore cwnd and ssthresh. */
static void tcp_undo_cwnd_reduction(struct tcp_sock *tp, bool unmark_loss)
{
	if (unmark_loss) {
		for (struct pkt *pk = tp->rtx_queue.head; pk; pk = pk->next)
			cb(pk)->sacked &= (uint8_t)~TCPCB_LOST;
		tp->lost_out = 0;
		tp->lost_skb_hint = NULL;
	}
	if (tp->prior_ssthresh) {
		tp->snd_cwnd = tcp_ca_undo_cwnd(tp);
		if (tp->prior_ssthresh > tp->snd_ssthresh)
			tp->snd_ssthresh = tp->prior_ssthresh;
	}
	tp->snd_cwnd_stamp = tp->tcp_mstamp;
	tp->undo_marker = 0;
}

/* Reno holds Recovery until something above high_seq is acked (RFC 6582). */
static bool tcp_is_non_sack_preventing_reopen(struct tcp_sock *tp)
{
	if (tp->snd_una == tp->high_seq && tcp_is_reno(tp)) {
		if (!tcp_any_retrans_done(tp))
			tp->retrans_stamp_us = 0;
		return true;
	}
	return false;
}

/* Return: true if the state must be held (Reno at high_seq). */
static bool tcp_try_undo_recovery(struct tcp_sock *tp)
{
	if (tcp_may_undo(tp))
		tcp_undo_cwnd_reduction(tp, false);
	else if (tp->rack.reo_wnd_persist)
		tp->rack.reo_wnd_persist--;	/* one more genuine recovery */
	if (tcp_is_non_sack_preventing_reopen(tp))
		return true;
	tcp_set_ca_state(tp, TCP_CA_Open);
	return false;
}

/* D-SACKs accounted for every retransmission: all were spurious. */
static bool tcp_try_undo_dsack(struct tcp_sock *tp)
{
	if (tp->undo_marker && !tp->undo_retrans) {
		if (tp->rack.reo_wnd_persist < TCP_RACK_RECOVERY_THRESH)
			tp->rack.reo_wnd_persist++;
		tcp_undo_cwnd_reduction(tp, false);
		return true;
	}
	return false;
}

/* An ACK in Loss shows the RTO was spurious (tcp_try_undo_loss without F-RTO). */
static bool tcp_try_undo_loss(struct tcp_sock *tp)
{
	if (!tcp_may_undo(tp))
		return false;
	tcp_undo_cwnd_reduction(tp, true);
	tp->retransmits = 0;
	if (tcp_is_non_sack_preventing_reopen(tp))
		return true;
	if (tcp_is_sack(tp))
		tcp_set_ca_state(tp, TCP_CA_Open);
	return true;
}

/* hole filled by a delayed original rather than our retransmission */
static bool tcp_force_fast_retransmit(const struct tcp_sock *tp)
{
	return tcp_after(tcp_highest_sack_seq(tp), tp->snd_una + tp->reordering * tp->mss_cache);
}

static bool tcp_try_undo_partial(struct tcp_sock *tp, uint32_t prior_snd_una, bool *do_lost)
{
	if (tp->undo_marker && tcp_packet_delayed(tp)) {
		tcp_check_sack_reordering(tp, prior_snd_una);
		if (tp->retrans_out)
			return true;
		if (!tcp_any_retrans_done(tp))
			tp->retrans_stamp_us = 0;
		tcp_undo_cwnd_reduction(tp, true);
		tcp_try_keep_open(tp);
	} else {
		*do_lost = tcp_force_fast_retransmit(tp);
	}
	return false;
}

/* ================= states: Recovery, Loss ================= */

/* tcp_clear_retrans - forget the scoreboard counters (tcp_clear_retrans). */
void tcp_clear_retrans(struct tcp_sock *tp)
{
	tp->retrans_out = 0;
	tp->lost_out = 0;
	tp->undo_marker = 0;
	tp->undo_retrans = -1;
	tp->sacked_out = 0;
}

/**
 * tcp_enter_loss - the RTO fired: everything but SACKed packets is lost (all
 * if the head is SACKed: reneging; with RACK not those sent within its
 * RTT: tcp_timeout_mark_lost), ssthresh cut once per window, cwnd = in
 * flight + 1, Loss until snd_nxt.  The caller resends the head; no F-RTO.
 */
void tcp_enter_loss(struct tcp_sock *tp)
{
	uint32_t sys_reordering = (uint32_t)tcp_sys(&tp->sk)->reordering;

	tcp_timeout_mark_lost(tp);

	if (tp->ca_state <= TCP_CA_Disorder || !tcp_after(tp->high_seq, tp->snd_una) ||
	    (tp->ca_state == TCP_CA_Loss && !tp->retransmits)) {
		tp->prior_ssthresh = tcp_current_ssthresh(tp);
		tp->prior_cwnd = tp->snd_cwnd;
		tp->snd_ssthresh = tcp_ca_ssthresh(tp);
		tcp_ca_event(tp, TCP_CA_EVENT_LOSS);
		tcp_init_undo(tp);
	}
	tp->snd_cwnd = tcp_packets_in_flight(tp) + 1;
	tp->snd_cwnd_cnt = 0;
	tp->snd_cwnd_stamp = tp->tcp_mstamp;

	/* an RTO after many dupacks: the reordering estimate was too high */
	if (tp->ca_state <= TCP_CA_Disorder && sys_reordering && tp->sacked_out >= sys_reordering &&
	    tp->reordering > sys_reordering)
		tp->reordering = sys_reordering;
	tcp_set_ca_state(tp, TCP_CA_Loss);
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
}

/* tcp_time_to_recover: lost packets, or (without RACK) more SACKed/dup-acked packets than dupthresh. */
static bool tcp_time_to_recover(const struct tcp_sock *tp)
{
	if (tp->lost_out)
		return true;
	return !tcp_is_rack(tp) && tp->sacked_out + 1 > tp->reordering;
}

/**
 * tcp_enter_recovery - undo markers, PRR start, Recovery (tcp_enter_recovery)
 * @tp: the connection
 * @ece_ack: an ECE asked for the reduction (no undo then)
 */
void tcp_enter_recovery(struct tcp_sock *tp, bool ece_ack)
{
	/* the clock for undo and ETIMEDOUT starts with our fast retransmit */
	if (!tcp_any_retrans_done(tp))
		tp->retrans_stamp_us = 0;
	tp->prior_ssthresh = 0;
	tcp_init_undo(tp);
	if (!tcp_in_cwnd_reduction(tp)) {
		if (!ece_ack)
			tp->prior_ssthresh = tcp_current_ssthresh(tp);
		tcp_init_cwnd_reduction(tp);
	}
	tcp_set_ca_state(tp, TCP_CA_Recovery);
}

/* tcp_process_loss: an ACK in Loss (without F-RTO). */
static void tcp_process_loss(struct tcp_sock *tp, int flag, int num_dupack, int *rexmit)
{
	bool recovered = !tcp_before(tp->snd_una, tp->high_seq);

	if (((flag & TCP_FLAG_SND_UNA_ADVANCED) || tp->fastopen_rsk) && tcp_try_undo_loss(tp))
		return;
	if (recovered) {
		tcp_try_undo_recovery(tp);
		return;
	}
	if (tcp_is_reno(tp)) {
		if (tcp_after(tp->snd_nxt, tp->high_seq) && num_dupack)
			tcp_add_reno_sack(tp, num_dupack);
		else if (flag & TCP_FLAG_SND_UNA_ADVANCED)
			tp->sacked_out = 0;
	}
	*rexmit = REXMIT_LOST;
}

/* The receiver dropped data it had SACKed: give it a little time before the RTO. */
static bool tcp_check_sack_reneging(struct tcp_sock *tp, int *flag)
{
	if ((*flag & TCP_FLAG_SACK_RENEGING) && (*flag & TCP_FLAG_SND_UNA_ADVANCED)) {
		uint64_t delay = tcp_jiffy_round_us(tp->srtt_us >> 4);

		if (delay < 10000)
			delay = 10000;
		tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, delay, TCP_RTO_MAX_US);
		*flag &= ~TCP_FLAG_SET_XMIT_TIMER;
		return true;
	}
	return false;
}

/*
 * tcp_fastretrans_alert - the NewReno/SACK state machine: leave CWR or
 * Recovery at high_seq, try undos, enter Recovery, mark losses; *rexmit:
 * resend lost packets once cwnd is updated.
 */
static void tcp_fastretrans_alert(struct tcp_sock *tp, uint32_t prior_snd_una, int num_dupack,
				  int *ack_flag, int *rexmit, struct tcp_ack_state *st)
{
	int flag = *ack_flag;
	bool fast_rexmit = false, ece_ack = flag & TCP_FLAG_ECE;
	bool do_lost = num_dupack || ((flag & TCP_FLAG_DATA_SACKED) && tcp_force_fast_retransmit(tp));

	if (!tp->packets_out && tp->sacked_out)
		tp->sacked_out = 0;
	if (ece_ack)
		tp->prior_ssthresh = 0;
	if (tcp_check_sack_reneging(tp, ack_flag))
		return;

	if (tp->ca_state == TCP_CA_Open) {
		tp->retrans_stamp_us = 0;
	} else if (!tcp_before(tp->snd_una, tp->high_seq)) {
		switch (tp->ca_state) {
		case TCP_CA_CWR:
			/* held until something above high_seq is acked, for CWR to reach the peer */
			if (tp->snd_una != tp->high_seq) {
				tcp_end_cwnd_reduction(tp);
				tcp_set_ca_state(tp, TCP_CA_Open);
			}
			break;
		case TCP_CA_Recovery:
			if (tcp_is_reno(tp))
				tp->sacked_out = 0;
			if (tcp_try_undo_recovery(tp))
				return;
			tcp_end_cwnd_reduction(tp);
			break;
		}
	}

	switch (tp->ca_state) {
	case TCP_CA_Recovery:
		if (!(flag & TCP_FLAG_SND_UNA_ADVANCED)) {
			if (tcp_is_reno(tp))
				tcp_add_reno_sack(tp, num_dupack);
		} else if (tcp_try_undo_partial(tp, prior_snd_una, &do_lost)) {
			return;
		}
		if (tcp_try_undo_dsack(tp))
			tcp_try_to_open(tp, flag);
		tcp_identify_packet_loss(tp, ack_flag, st);
		if (tp->ca_state != TCP_CA_Recovery) {
			if (!tcp_time_to_recover(tp))
				return;
			/* undone, but the loss is real: a new recovery */
			tcp_enter_recovery(tp, ece_ack);
		}
		break;
	case TCP_CA_Loss:
		tcp_process_loss(tp, flag, num_dupack, rexmit);
		tcp_identify_packet_loss(tp, ack_flag, st);
		if (!(tp->ca_state == TCP_CA_Open || (*ack_flag & TCP_FLAG_LOST_RETRANS)))
			return;
		/* undone, or retransmissions were lost: as from Open */
		__attribute__((fallthrough));
	default:
		if (tcp_is_reno(tp)) {
			if (flag & TCP_FLAG_SND_UNA_ADVANCED)
				tp->sacked_out = 0;
			tcp_add_reno_sack(tp, num_dupack);
		}
		if (tp->ca_state <= TCP_CA_Disorder)
			tcp_try_undo_dsack(tp);
		tcp_identify_packet_loss(tp, ack_flag, st);
		if (!tcp_time_to_recover(tp)) {
			tcp_try_to_open(tp, flag);
			return;
		}
		tcp_enter_recovery(tp, ece_ack);
		fast_rexmit = true;
	}
	if (!tcp_is_rack(tp) && do_lost)
		tcp_update_scoreboard(tp, fast_rexmit, st);
	*rexmit = REXMIT_LOST;
}

/* ================= timers ================= */

/* How far in the future the head's RTO lies (tcp_rto_delta_us). */
static int64_t tcp_rto_delta_us(const struct tcp_sock *tp)
{
	const struct pkt *head = tp->rtx_queue.head;

	if (!head)
		return tp->rto_us;
	return (int64_t)(cb(head)->tx_us + tp->rto_us) - (int64_t)tp->tcp_mstamp;
}

/**
 * tcp_rearm_rto - stop the RTO with nothing out, else one RTO from now (RFC
 * 6298 5.3), or from the head's send time if a loss probe was pending.  A
 * Fast Open child's timer belongs to its SYN-ACK.
 */
void tcp_rearm_rto(struct tcp_sock *tp)
{
	uint64_t rto = tp->rto_us;

	if (tp->fastopen_rsk)
		return;
	if (!tp->packets_out) {
		tcp_clear_xmit_timer(tp, TCP_TIME_RETRANS);
		return;
	}
	if (tp->pending == TCP_TIME_REO || tp->pending == TCP_TIME_LOSS_PROBE) {
		int64_t d = tcp_rto_delta_us(tp);

		rto = tcp_jiffy_round_us(d > 1 ? (uint64_t)d : 1);
	}
	tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, rto, TCP_RTO_MAX_US);
}

/*
 * tcp_schedule_loss_probe - arm the tail loss probe at two SRTT (plus the
 * delayed-ACK allowance when one packet is out), never after the RTO, for
 * SACK connections in Open or CWR.  Shared by the ACK path and
 * tcp_write_xmit, as in the kernel.
 * Return: true if the probe timer was armed.
 */
bool tcp_schedule_loss_probe(struct tcp_sock *tp, bool advancing_rto)
{
	int er = tcp_sys(&tp->sk)->early_retrans;
	uint64_t timeout;
	int64_t rto_delta;

	if (tp->fastopen_rsk)
		return false;
	if ((er != 3 && er != 4) || !tp->packets_out || !tcp_is_sack(tp) ||
	    (tp->ca_state != TCP_CA_Open && tp->ca_state != TCP_CA_CWR))
		return false;
	if (tp->srtt_us) {
		timeout = tp->srtt_us >> 2;
		timeout += tp->packets_out == 1 ? tcp_rto_min_us(tp) : TCP_TIMEOUT_MIN_US;
		timeout = tcp_jiffy_round_us(timeout);
	} else {
		timeout = TCP_TIMEOUT_INIT_US;
	}
	rto_delta = advancing_rto ? (int64_t)tp->rto_us : tcp_rto_delta_us(tp);
	if (rto_delta > 0 && tcp_jiffy_round_us((uint64_t)rto_delta) < timeout)
		timeout = tcp_jiffy_round_us((uint64_t)rto_delta);
	tcp_reset_xmit_timer(tp, TCP_TIME_LOSS_PROBE, timeout, TCP_RTO_MAX_US);
	return true;
}

/* tcp_ack_probe: an ACK while nothing is out: stop probing if the window opened, else re-arm. */
static void tcp_ack_probe(struct tcp_sock *tp)
{
	struct pkt *head = tcp_send_head(tp);

	if (!head)
		return;
	if (!tcp_after(cb(head)->end_seq, tcp_wnd_end(tp))) {
		tp->backoff = 0;
		tp->probes_tstamp_us = 0;
		tcp_clear_xmit_timer(tp, TCP_TIME_PROBE0);
	} else {
		uint64_t when = tcp_probe0_when(tp, TCP_RTO_MAX_US);

		when = tcp_clamp_probe0_to_user_timeout(tp, when);
		tcp_reset_xmit_timer(tp, TCP_TIME_PROBE0, when, TCP_RTO_MAX_US);
	}
}

/* ================= the retransmission queue ================= */

/*
 * tcp_trim_acked_head - pull the acked front off a partly acked head and
 * uncharge it (tcp_trim_head: truesize shrinks by the bytes).  Linux does
 * it here for TSO skbs only; it changes nothing counted or sent.
 */
static void tcp_trim_acked_head(struct tcp_sock *tp, struct pkt *pk, int *flag)
{
	struct tcp_skb_cb *c = cb(pk);
	uint32_t len = tp->snd_una - c->seq;

	if (c->tcp_flags & TCP_HDR_SYN) {
		/* the SYN's sequence number has no byte behind it */
		c->tcp_flags &= (uint16_t)~TCP_HDR_SYN;
		*flag |= TCP_FLAG_SYN_ACKED;
		tp->retrans_stamp_us = 0;
		len--;
	}
	if (len > pk->tot_len)
		len = pk->tot_len;
	if (len && pkt_pull(pk, len) == 0) {
		uint32_t d = len < pk->meta.truesize ? len : pk->meta.truesize;

		pk->meta.truesize -= d;
		tp->rtx_queue.bytes -= d;
		tp->wmem_queued -= d < tp->wmem_queued ? d : tp->wmem_queued;
	}
	c->seq = tp->snd_una;
}

/*
 * tcp_clean_rtx_queue - free what the cumulative ACK covers: counters,
 * flags, RTT samples (Karn: none from retransmitted packets), delivered,
 * reordering, the CA's per-ACK sample.  Return: TCP_FLAG_*.
 */
static int tcp_clean_rtx_queue(struct tcp_sock *tp, uint32_t prior_fack, uint32_t prior_snd_una,
			       struct tcp_ack_state *st)
{
	uint64_t first_ackt = 0, last_ackt = 0;
	uint32_t prior_sacked = tp->sacked_out, reord = tp->snd_nxt, pkts_acked = 0;
	uint32_t cnt_hint = tcp_lost_cnt_hint(tp);
	int64_t seq_rtt = -1, sack_rtt = -1, ca_rtt = -1;
	bool rtt_update;
	struct pkt *pk;
	int flag = 0;

	while ((pk = tp->rtx_queue.head) != NULL) {
		struct tcp_skb_cb *c = cb(pk);
		uint8_t sacked = c->sacked;

		if (tcp_after(c->end_seq, tp->snd_una)) {
			if (tcp_after(tp->snd_una, c->seq))
				tcp_trim_acked_head(tp, pk, &flag);
			break;
		}
		if (sacked & TCPCB_RETRANS) {
			if (sacked & TCPCB_SACKED_RETRANS)
				tp->retrans_out--;
			flag |= TCP_FLAG_RETRANS_DATA_ACKED;
		} else if (!(sacked & TCPCB_SACKED_ACKED)) {
			last_ackt = c->tx_us;
			if (!first_ackt)
				first_ackt = last_ackt;
			if (tcp_before(c->seq, reord))
				reord = c->seq;
			if (!tcp_after(c->end_seq, tp->high_seq))
				flag |= TCP_FLAG_ORIG_SACK_ACKED;
		}
		if (sacked & TCPCB_SACKED_ACKED) {
			tp->sacked_out--;
		} else {
			tcp_rate_skb_delivered(pk, st);
			if (tcp_is_sack(tp)) {
				tp->delivered++;
				/* a retransmission the echo shows needless: the
				 * original's delivery, no sample of the present */
				if (!((sacked & TCPCB_RETRANS) &&
				      tcp_tsopt_ecr_before(tp, tcp_ts_of_us(c->tx_us))))
					tcp_rack_advance(tp, sacked, c->end_seq, c->tx_us);
			}
		}
		if (sacked & TCPCB_LOST)
			tp->lost_out--;
		tp->packets_out--;
		pkts_acked++;
		if (!(c->tcp_flags & TCP_HDR_SYN)) {
			flag |= TCP_FLAG_DATA_ACKED;
		} else {
			flag |= TCP_FLAG_SYN_ACKED;
			tp->retrans_stamp_us = 0;
		}
		if (pk == tp->lost_skb_hint)
			tp->lost_skb_hint = NULL;
		pkt_queue_pop(&tp->rtx_queue);
		tcp_wmem_free_pkt(tp, pk);
	}
	if (tcp_between(tp->snd_up, prior_snd_una, tp->snd_una))
		tp->snd_up = tp->snd_una;
	if (pk && (cb(pk)->sacked & TCPCB_SACKED_ACKED))
		flag |= TCP_FLAG_SACK_RENEGING;

	if (first_ackt && !(flag & TCP_FLAG_RETRANS_DATA_ACKED)) {
		seq_rtt = tcp_stamp_us_delta(tp->tcp_mstamp, first_ackt);
		ca_rtt = tcp_stamp_us_delta(tp->tcp_mstamp, last_ackt);
		/* a lone runt acked alone, with nothing odd: likely a delayed ACK */
		if (pkts_acked == 1 && !prior_sacked && tp->snd_una - prior_snd_una < tp->mss_cache &&
		    st->prior_delivered + 1 == tp->delivered &&
		    !(flag & (TCP_FLAG_CA_ALERT | TCP_FLAG_SYN_ACKED)))
			flag |= TCP_FLAG_ACK_MAYBE;
	}
	if (st->first_sackt) {
		sack_rtt = tcp_stamp_us_delta(tp->tcp_mstamp, st->first_sackt);
		ca_rtt = tcp_stamp_us_delta(tp->tcp_mstamp, st->last_sackt);
	}
	rtt_update = tcp_ack_update_rtt(tp, flag, seq_rtt, sack_rtt, ca_rtt, &st->rtt_us);

	if (flag & TCP_FLAG_ACKED) {
		flag |= TCP_FLAG_SET_XMIT_TIMER;
		if (tcp_is_reno(tp)) {
			tcp_remove_reno_sacks(tp, (int)pkts_acked);
			/* without SACK bits an ACK cannot prove an original got through */
			if (flag & TCP_FLAG_RETRANS_DATA_ACKED)
				flag &= ~TCP_FLAG_ORIG_SACK_ACKED;
		} else {
			uint32_t delta = prior_sacked - tp->sacked_out;

			if (tcp_before(reord, prior_fack))
				tcp_check_sack_reordering(tp, reord);
			tcp_set_lost_cnt_hint(tp, cnt_hint - (delta < cnt_hint ? delta : cnt_hint));
		}
	} else if (pk && rtt_update && sack_rtt >= 0 &&
		   sack_rtt > tcp_stamp_us_delta(tp->tcp_mstamp, cb(pk)->tx_us)) {
		/* the SACK timed data sent after the head: re-arm, or recovery
		 * would keep pushing the RTO out */
		flag |= TCP_FLAG_SET_XMIT_TIMER;
	}
	tcp_ca_acked(tp, pkts_acked, st->rtt_us);

	/* leaks the kernel fixes up (FASTRETRANS_DEBUG) */
	if (!tp->packets_out && tcp_is_sack(tp)) {
		tp->lost_out = 0;
		tp->sacked_out = 0;
		tp->retrans_out = 0;
	}
	return flag;
}

/* ================= tcp_ack ================= */

/* tcp_ack_update_window: the peer's window, then snd_una and bytes_acked. */
static int tcp_ack_update_window(struct tcp_sock *tp, const struct tcp_repr *th, uint32_t ack,
				 uint32_t ack_seq)
{
	uint32_t nwin = th->window;
	int flag = 0;

	/* the window of a SYN is never scaled */
	if (!(th->flags & TCP_HDR_SYN))
		nwin <<= tp->snd_wscale;
	/* RFC 9293 3.10.7.4's SND.WL1/WL2 rules (tcp_may_update_window) */
	if (tcp_after(ack, tp->snd_una) || tcp_after(ack_seq, tp->snd_wl1) ||
	    (ack_seq == tp->snd_wl1 && (nwin > tp->snd_wnd || !nwin))) {
		flag |= TCP_FLAG_WIN_UPDATE;
		tp->snd_wl1 = ack_seq;
		if (tp->snd_wnd != nwin) {
			tp->snd_wnd = nwin;
			if (tcp_send_head(tp))
				tcp_slow_start_after_idle_check(tp);
			if (nwin > tp->max_window) {
				tp->max_window = nwin;
				if (tp->pmtu_cookie)
					tcp_sync_mss(tp, tp->pmtu_cookie);
			}
		}
	}
	tp->bytes_acked += ack - tp->snd_una;
	tp->snd_una = ack;
	return flag;
}

/* tcp_paws_check with a zero window: may TS.Recent take this TSval? */
static bool tcp_paws_check(const struct tcp_sock *tp, uint64_t now_s)
{
	if ((int32_t)(tp->ts_recent - tp->rcv_tsval) <= 0)
		return true;
	if (now_s >= tp->ts_recent_stamp + TCP_PAWS_WRAP_S)
		return true;
	/* some stacks send TSval 0 on the SYN: never let it block us */
	return !tp->ts_recent;
}

/* tcp_replace_ts_recent: RFC 7323 4.3 - only for a segment at or below the window's left edge. */
static void tcp_replace_ts_recent(struct tcp_sock *tp, uint32_t seq)
{
	uint64_t now_s = netns_now(tp->sk.ns) / NSEC_PER_SEC;

	if (tp->saw_tstamp && !tcp_after(seq, tp->rcv_wup) && tcp_paws_check(tp, now_s)) {
		tp->ts_recent = tp->rcv_tsval;
		tp->ts_recent_stamp = now_s;
	}
}

/*
 * tcp_process_tlp_ack: an ACK during a TLP episode (RFC 8985 7.4,
 * tcp_process_tlp_ack) ends it once it covers tlp_high_seq.  A probe of
 * new data needs no verdict; a resent one is judged lost or not.
 */
static void tcp_process_tlp_ack(struct tcp_sock *tp, uint32_t ack, int flag)
{
	if (tcp_before(ack, tp->tlp_high_seq))
		return;
	if (!tp->tlp_retrans) {
		tp->tlp_high_seq = 0;
	} else if (flag & TCP_FLAG_DSACK_TLP) {
		/* both the original and the probe arrived: nothing was lost */
		tp->tlp_high_seq = 0;
	} else if (tcp_after(ack, tp->tlp_high_seq)) {
		/* the probe repaired a loss: reduce cwnd once (tlp_high_seq reset there) */
		tcp_init_cwnd_reduction(tp);
		tcp_set_ca_state(tp, TCP_CA_CWR);
		tcp_end_cwnd_reduction(tp);
		tcp_try_keep_open(tp);
	} else if (!(flag & (TCP_FLAG_SND_UNA_ADVANCED | TCP_FLAG_NOT_DUP | TCP_FLAG_DATA_SACKED))) {
		tp->tlp_high_seq = 0;
	}
}

/*
 * tcp_cong_control: PRR while reducing, else the CA's congestion avoidance
 * on in-order delivery (any delivery once reordering is known to be high:
 * tcp_may_raise_cwnd).
 */
static void tcp_cong_control(struct tcp_sock *tp, uint32_t ack, uint32_t acked_sacked, int flag,
			     uint32_t newly_lost)
{
	int progress = (int)tp->reordering > tcp_sys(&tp->sk)->reordering ?
		       TCP_FLAG_FORWARD_PROGRESS : TCP_FLAG_DATA_ACKED;

	if (tcp_in_cwnd_reduction(tp)) {
		tcp_cwnd_reduction(tp, (int)acked_sacked, (int)newly_lost, flag);
	} else if ((flag & progress) && tcp_is_cwnd_limited(tp)) {
		tcp_ca_cong_avoid(tp, ack, acked_sacked);
		tp->snd_cwnd_stamp = tp->tcp_mstamp;
	}
}

static void tcp_xmit_recovery(struct tcp_sock *tp, int rexmit)
{
	if (rexmit != REXMIT_NONE && tp->sk.state != TCP_SYN_SENT)
		tcp_xmit_retransmit_queue(tp);
}

/**
 * tcp_ack - process the ACK field and options of a segment (tcp_ack)
 * @tp: the connection (tcp_mstamp refreshed, options parsed: rcv_tsecr
 *	without our tsoffset)
 * @pk: the segment (TCP_SKB_CB: seq, end_seq, sacked != 0 if SACK blocks)
 * @th: its header (ack, window, SACK blocks)
 * @flag: TCP_FLAG_SLOWPATH, UPDATE_TS_RECENT, NO_CHALLENGE_ACK, DATA as
 *	  Linux's callers pass them (no SLOWPATH: header prediction hit)
 *
 * RFC 9293 3.10.7.4 / RFC 5961 5.2: an ACK older than snd_una by more than
 * the data ever acked or the largest window gets a challenge ACK (unless
 * NO_CHALLENGE_ACK) and is rejected; an older one is an old duplicate whose
 * SACK blocks still count; one beyond snd_nxt is challenged the same way
 * and rejected.  Otherwise:
 * window, snd_una, SACK, freeing, RTT/RTO, recovery, cwnd, retransmission
 * of lost packets, the RTO/TLP timer and the end of zero-window probing.
 * Return: TCP_FLAG_* with SLOWPATH set (> 0); 0 for an old duplicate; -1
 * for an ACK of data never sent (challenged here unless NO_CHALLENGE_ACK:
 * then the caller does, or resets from SYN_RECV); -2 too old.
 */
int tcp_ack(struct tcp_sock *tp, const struct pkt *pk, const struct tcp_repr *th, int flag)
{
	const struct tcp_skb_cb *scb = cb(pk);
	struct tcp_ack_state st = { .rtt_us = -1 };
	uint32_t prior_snd_una = tp->snd_una, ack = th->ack, ack_seq = th->seq, prior_fack;
	uint32_t prior_packets = tp->packets_out;
	int num_dupack = 0, rexmit = REXMIT_NONE;
	/* cb->sacked of a received segment: it carries SACK blocks (tcp_parse_options) */
	bool has_sack = scb->sacked && tp->sack_ok && th->opt.num_sacks;

	st.prior_delivered = tp->delivered;

	if (tcp_before(ack, prior_snd_una)) {
		uint64_t mw = tp->max_window < tp->bytes_acked ? tp->max_window : tp->bytes_acked;

		/* RFC 5961 5.2: never accept an ACK for bytes we never sent */
		if (tcp_before(ack, prior_snd_una - (uint32_t)mw)) {
			if (!(flag & TCP_FLAG_NO_CHALLENGE_ACK))
				tcp_send_challenge_ack(tp);
			return -2;
		}
		/* old_ack: its SACK blocks may still say something */
		if (has_sack) {
			flag |= tcp_sacktag_write_queue(tp, ack, th, prior_snd_una, &st);
			if (st.sack_delivered)
				tp->delivered += st.sack_delivered;
			tcp_fastretrans_alert(tp, prior_snd_una, num_dupack, &flag, &rexmit, &st);
			tcp_xmit_recovery(tp, rexmit);
		}
		return 0;
	}
	if (tcp_after(ack, tp->snd_nxt)) {
		/* challenged too since Linux 6.18.38 (RFC 9293 3.10.7.4), not just dropped */
		if (!(flag & TCP_FLAG_NO_CHALLENGE_ACK))
			tcp_send_challenge_ack(tp);
		return -1;
	}

	if (tcp_after(ack, prior_snd_una)) {
		flag |= TCP_FLAG_SND_UNA_ADVANCED;
		tp->retransmits = 0;
	}
	prior_fack = tcp_is_sack(tp) ? tcp_highest_sack_seq(tp) : tp->snd_una;

	/* ts_recent only once the segment is known to be in the window */
	if (flag & TCP_FLAG_UPDATE_TS_RECENT)
		tcp_replace_ts_recent(tp, scb->seq);

	if ((flag & (TCP_FLAG_SLOWPATH | TCP_FLAG_SND_UNA_ADVANCED)) == TCP_FLAG_SND_UNA_ADVANCED) {
		/* header prediction hit: same window, pure advance (snd_una >= snd_wl2) */
		tp->snd_wl1 = ack_seq;
		tp->bytes_acked += ack - tp->snd_una;
		tp->snd_una = ack;
		flag |= TCP_FLAG_WIN_UPDATE;
	} else {
		if (ack_seq != scb->end_seq)
			flag |= TCP_FLAG_DATA;
		flag |= tcp_ack_update_window(tp, th, ack, ack_seq);
		if (has_sack)
			flag |= tcp_sacktag_write_queue(tp, ack, th, prior_snd_una, &st);
		if (st.sack_delivered)
			tp->delivered += st.sack_delivered;
	}

	/* something worked: forget soft errors and probe counts */
	tp->sk.err_soft = 0;
	tp->probes_out = 0;
	tp->rcv_tstamp_us = tp->tcp_mstamp;

	if (!prior_packets) {
		/* a D-SACK may still undo a reduction */
		if (flag & TCP_FLAG_DSACKING_ACK)
			tcp_fastretrans_alert(tp, prior_snd_una, num_dupack, &flag, &rexmit, &st);
		tcp_ack_probe(tp);
		if (tp->tlp_high_seq)
			tcp_process_tlp_ack(tp, ack, flag);
		return (flag & ~TCP_FLAG_DSACK_TLP) | TCP_FLAG_SLOWPATH;
	}

	flag |= tcp_clean_rtx_queue(tp, prior_fack, prior_snd_una, &st);
	tcp_rack_update_reo_wnd(tp, &st);
	if (tp->tlp_high_seq)
		tcp_process_tlp_ack(tp, ack, flag);
	/* tcp_ack_is_dubious */
	if (!(flag & TCP_FLAG_NOT_DUP) || (flag & TCP_FLAG_CA_ALERT) || tp->ca_state != TCP_CA_Open) {
		if (!(flag & (TCP_FLAG_SND_UNA_ADVANCED | TCP_FLAG_NOT_DUP | TCP_FLAG_DSACKING_ACK)))
			num_dupack = 1;
		tcp_fastretrans_alert(tp, prior_snd_una, num_dupack, &flag, &rexmit, &st);
	}
	/* tcp_set_xmit_timer: the loss probe, else the RTO */
	if ((flag & TCP_FLAG_SET_XMIT_TIMER) && !tcp_schedule_loss_probe(tp, true))
		tcp_rearm_rto(tp);

	tcp_cong_control(tp, ack, tp->delivered - st.prior_delivered, flag, st.newly_lost);
	tcp_xmit_recovery(tp, rexmit);
	/* writers are woken by the caller's tcp_data_snd_check -> tcp_check_space */
	return (flag & ~TCP_FLAG_DSACK_TLP) | TCP_FLAG_SLOWPATH;
}
