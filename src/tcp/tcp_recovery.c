/* SPDX-License-Identifier: MIT */
/*
 * tcp_recovery.c - loss detection: RACK-TLP (RFC 8985), the dupthresh walk, NewReno
 *
 * Theory of operation.  tcp_ack.c asks here which packets of the rtx queue
 * are lost; the marks (TCPCB_LOST, lost_out, and the SACKED_RETRANS of a
 * retransmission found lost again) are set only here and by tcp_in.c's
 * MTU path.  Three detectors, as Linux's tcp_recovery.c and tcp_input.c:
 *
 *   RACK (sysctl tcp_recovery & 1, the default): a packet is lost once a
 *   packet sent after it was (S)ACKed and more than RACK.rtt plus a
 *   reordering window has passed since it left.  The window is
 *   min_rtt/4 times reo_wnd_steps (at most SRTT), widened a step per round
 *   trip that brings a D-SACK while reordering has been seen, back to one
 *   step after 16 recoveries without; it is 0 in recovery and once
 *   dupthresh packets are SACKed, unless reordering was seen.  Packets not
 *   yet due arm the REO timer for the latest deadline.  It finds lost
 *   retransmissions too, which otherwise only the RTO would.
 *   The dupthresh walk (tcp_recovery=0): RFC 6675 IsLost from the head.
 *   NewReno (no SACK): the head, after dupthresh duplicate ACKs or on a
 *   partial ACK in Recovery.
 *
 * The tail loss probe that completes RACK-TLP lives with the other
 * transmissions (tcp_out.c) and its ACK processing with tcp_ack.c.
 *
 * RACK's state is tp->rack (the most recently sent packet delivered: its
 * send time, end_seq and RTT; the window's steps) and tp->reord_seen.
 *
 * Walking the queue.  Linux walks a list in send order; our control block
 * has no room for its links, so RACK walks the seq-sorted rtx queue from
 * the head.  The walk still ends where Linux's does: packets never
 * retransmitted were sent in seq order, so the first of them sent no
 * earlier than RACK's packet ends it, and everything after it was sent
 * later still (a retransmission only ever moves a packet's time forward).
 * A walk costs the packets between snd_una and that point, SACKed ones
 * included.  It runs when the REO timer fires, and at most once per ACK:
 * one the recovery state machine looks at (SACKs, or not Open) after a
 * new delivery (rack.advanced); in-order ACKs in Open never walk.
 */
#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp.h"
#include "tcp/tcp_ack_int.h"

/* ================= marking ================= */

/**
 * tcp_mark_skb_lost - mark one packet lost (tcp_mark_skb_lost)
 * @tp: the connection
 * @pk: a packet of the rtx queue
 * @st: the ACK's state (newly_lost counted), or NULL
 *
 * Never a SACKed packet.  One already lost whose retransmission is out
 * loses that retransmission instead: it leaves retrans_out and will be
 * resent again.
 */
void tcp_mark_skb_lost(struct tcp_sock *tp, struct pkt *pk, struct tcp_ack_state *st)
{
	uint8_t sacked = cb(pk)->sacked;

	if (sacked & TCPCB_SACKED_ACKED)
		return;
	if (!(sacked & TCPCB_LOST)) {
		tp->lost_out++;
		cb(pk)->sacked |= TCPCB_LOST;
	} else if (sacked & TCPCB_SACKED_RETRANS) {
		cb(pk)->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
		tp->retrans_out--;
	} else {
		return;
	}
	if (st)
		st->newly_lost++;
}

/*
 * tcp_mark_head_lost - RFC 6675 IsLost from the head: a packet is lost
 * once more than `packets` SACKed packets lie at or below it, i.e. at least
 * `reordering` lie above it (tcp_mark_head_lost); mark_head: only the head.
 * The walk resumes at lost_skb_hint with the count it had there.
 */
static void tcp_mark_head_lost(struct tcp_sock *tp, int packets, bool mark_head,
			       struct tcp_ack_state *st)
{
	const uint32_t loss_high = tp->snd_nxt;
	struct pkt *pk = tp->lost_skb_hint;
	int cnt;

	if (pk) {
		if (mark_head && tcp_after(cb(pk)->seq, tp->snd_una))
			return;
		cnt = (int)tcp_lost_cnt_hint(tp);
	} else {
		pk = tp->rtx_queue.head;
		cnt = 0;
	}
	for (; pk; pk = pk->next) {
		tp->lost_skb_hint = pk;
		tcp_set_lost_cnt_hint(tp, (uint32_t)cnt);
		if (tcp_after(cb(pk)->end_seq, loss_high))
			break;
		if (cb(pk)->sacked & TCPCB_SACKED_ACKED)
			cnt++;
		if (cnt > packets)
			break;
		if (!(cb(pk)->sacked & TCPCB_LOST))
			tcp_mark_skb_lost(tp, pk, st);
		if (mark_head)
			break;
	}
}

/**
 * tcp_update_scoreboard - the dupthresh losses of a SACK connection
 * (tcp_update_scoreboard), used only without RACK
 * @tp: the connection
 * @fast_rexmit: recovery starts now: the head at least is lost
 * @st: the ACK's state
 */
void tcp_update_scoreboard(struct tcp_sock *tp, bool fast_rexmit, struct tcp_ack_state *st)
{
	int sacked_upto;

	if (!tcp_is_sack(tp))
		return;
	sacked_upto = (int)tp->sacked_out - (int)tp->reordering;
	if (sacked_upto >= 0)
		tcp_mark_head_lost(tp, sacked_upto, false, st);
	else if (fast_rexmit)
		tcp_mark_head_lost(tp, 1, true, st);
}

/* tcp_newreno_mark_lost: RFC 6582 - dupthresh dupacks, or a partial ACK in Recovery, lose the head. */
static void tcp_newreno_mark_lost(struct tcp_sock *tp, bool snd_una_advanced, struct tcp_ack_state *st)
{
	struct pkt *head = tp->rtx_queue.head;

	if ((tp->ca_state < TCP_CA_Recovery && tp->sacked_out >= tp->reordering) ||
	    (tp->ca_state == TCP_CA_Recovery && snd_una_advanced)) {
		if (!head || (cb(head)->sacked & TCPCB_LOST))
			return;
		tcp_mark_skb_lost(tp, head, st);
	}
}

/* ================= RACK ================= */

/*
 * tcp_rack_reo_wnd - how long RACK waits for reordering (tcp_rack_reo_wnd):
 * until reordering is seen, none in recovery or once dupthresh packets
 * are SACKed (so RACK is at least as quick as dupthresh); else min_rtt/4
 * per step, never more than SRTT.  min_rtt, not SRTT, because reordering
 * belongs to the path rather than to queueing or delayed ACKs.
 * Return: the window in us.
 */
static uint32_t tcp_rack_reo_wnd(const struct tcp_sock *tp)
{
	uint64_t wnd;
	uint32_t srtt = tp->srtt_us >> 3;

	if (!tp->reord_seen) {
		if (tp->ca_state >= TCP_CA_Recovery)
			return 0;
		if (tp->sacked_out >= tp->reordering &&
		    !(tcp_sys(&tp->sk)->recovery & TCP_RACK_NO_DUPTHRESH))
			return 0;
	}
	wnd = (uint64_t)(tcp_min_rtt(tp) >> 2) * tp->rack.reo_wnd_steps;
	return wnd < srtt ? (uint32_t)wnd : srtt;
}

/* tcp_rack_skb_timeout: us until pk counts as lost (<= 0: it does). */
static int64_t tcp_rack_skb_timeout(const struct tcp_sock *tp, const struct pkt *pk, uint32_t reo_wnd)
{
	return (int64_t)tp->rack.rtt_us + reo_wnd - tcp_stamp_us_delta(tp->tcp_mstamp, cb(pk)->tx_us);
}

/*
 * tcp_rack_detect_loss - mark lost every packet sent before RACK's packet
 * whose RTT plus reordering window has run out (tcp_rack_detect_loss).
 * Packets marked lost and not yet resent, and SACKed ones, are skipped.
 * *reo_timeout: the longest wait (us) of those not yet due, 0 if none.
 */
static void tcp_rack_detect_loss(struct tcp_sock *tp, uint32_t *reo_timeout, struct tcp_ack_state *st)
{
	uint32_t reo_wnd = tcp_rack_reo_wnd(tp);
	struct pkt *pk;

	*reo_timeout = 0;
	for (pk = tp->rtx_queue.head; pk; pk = pk->next) {
		struct tcp_skb_cb *c = cb(pk);
		int64_t remaining;

		if (!tcp_skb_sent_after(tp->rack.mstamp, c->tx_us, tp->rack.end_seq, c->end_seq)) {
			/* an original sent this late: all after it are later still */
			if (!(c->sacked & TCPCB_EVER_RETRANS))
				break;
			continue;
		}
		if (c->sacked & TCPCB_SACKED_ACKED)
			continue;
		if ((c->sacked & TCPCB_LOST) && !(c->sacked & TCPCB_SACKED_RETRANS))
			continue;
		remaining = tcp_rack_skb_timeout(tp, pk, reo_wnd);
		if (remaining <= 0)
			tcp_mark_skb_lost(tp, pk, st);
		else if (remaining > *reo_timeout)
			*reo_timeout = remaining > UINT32_MAX ? UINT32_MAX : (uint32_t)remaining;
	}
}

/*
 * tcp_rack_mark_lost - RACK after an ACK that delivered something
 * (tcp_rack_mark_lost): mark what is due, arm the REO timer for the rest,
 * at most an RTO ahead.  Return: true if the REO timer was armed.
 */
static bool tcp_rack_mark_lost(struct tcp_sock *tp, struct tcp_ack_state *st)
{
	uint32_t timeout;

	if (!tp->rack.advanced)
		return false;
	/* the next walk would find the same: wait for another delivery */
	tp->rack.advanced = false;
	tcp_rack_detect_loss(tp, &timeout, st);
	if (timeout) {
		uint64_t when = tcp_jiffy_round_us((uint64_t)timeout + TCP_TIMEOUT_MIN_US);

		tcp_reset_xmit_timer(tp, TCP_TIME_REO, when, tp->rto_us);
	}
	return timeout != 0;
}

/**
 * tcp_rack_advance - a packet was newly (S)ACKed (tcp_rack_advance): it
 * becomes RACK's packet if it was sent after the current one
 * @tp: the connection (tcp_mstamp of this ACK)
 * @sacked: its scoreboard bits before this ACK
 * @end_seq: its end_seq
 * @xmit_us: its last transmission time
 *
 * An RTT below min_rtt from a retransmitted packet most likely measures
 * the original's delivery, so it is not taken: the retransmission is at
 * least an RTT after the original, the original's ACK comes sooner.
 */
void tcp_rack_advance(struct tcp_sock *tp, uint8_t sacked, uint32_t end_seq, uint64_t xmit_us)
{
	uint32_t rtt_us = (uint32_t)tcp_stamp_us_delta(tp->tcp_mstamp, xmit_us);

	if (rtt_us < tcp_min_rtt(tp) && (sacked & TCPCB_RETRANS))
		return;
	tp->rack.advanced = true;
	tp->rack.rtt_us = rtt_us;
	if (tcp_skb_sent_after(xmit_us, tp->rack.mstamp, end_seq, tp->rack.end_seq)) {
		tp->rack.mstamp = xmit_us;
		tp->rack.end_seq = end_seq;
	}
}

/**
 * tcp_rack_reo_timeout - the REO timer fired: the reordering window of the
 * packets RACK was waiting on is over (tcp_rack_reo_timeout)
 * @tp: the connection (tcp_mstamp refreshed)
 *
 * Marks what expired; if anything left the pipe, enters Recovery (one PRR
 * step, as the kernel does for congestion controls without cong_control)
 * and resends.  Then the RTO (or the loss probe's) takes the timer back,
 * counted from the head's transmission.
 */
void tcp_rack_reo_timeout(struct tcp_sock *tp)
{
	struct tcp_ack_state st = { .rtt_us = -1 };
	uint32_t timeout, prior_inflight = tcp_packets_in_flight(tp);

	tcp_rack_detect_loss(tp, &timeout, &st);
	if (prior_inflight != tcp_packets_in_flight(tp)) {
		if (tp->ca_state != TCP_CA_Recovery) {
			tcp_enter_recovery(tp, false);
			tcp_cwnd_reduction(tp, 1, (int)st.newly_lost, 0);
		}
		tcp_xmit_retransmit_queue(tp);
	}
	if (tp->pending != TCP_TIME_RETRANS)
		tcp_rearm_rto(tp);
}

/**
 * tcp_rack_update_reo_wnd - adapt the reordering window after an ACK
 * (tcp_rack_update_reo_wnd)
 * @tp: the connection
 * @st: the ACK's state: rate_prior_delivered is the tx.delivered of the
 *	most recently sent packet it delivered (0: none)
 *
 * A D-SACK after reordering was seen suggests RACK fired too soon: widen
 * the window one step, at most once per round trip (D-SACKs for packets
 * sent before the last widening are about that one), and keep it for
 * TCP_RACK_RECOVERY_THRESH recoveries; then fall back to one step.
 */
void tcp_rack_update_reo_wnd(struct tcp_sock *tp, const struct tcp_ack_state *st)
{
	if ((tcp_sys(&tp->sk)->recovery & TCP_RACK_STATIC_REO_WND) || !st->rate_prior_delivered)
		return;
	if (tcp_before(st->rate_prior_delivered, tp->rack.last_delivered))
		tp->rack.dsack_seen = false;
	if (tp->rack.dsack_seen) {
		if (tp->rack.reo_wnd_steps < UINT8_MAX)
			tp->rack.reo_wnd_steps++;
		tp->rack.dsack_seen = false;
		tp->rack.last_delivered = tp->delivered;
		tp->rack.reo_wnd_persist = TCP_RACK_RECOVERY_THRESH;
	} else if (!tp->rack.reo_wnd_persist) {
		tp->rack.reo_wnd_steps = 1;
	}
}

/* ================= entry points from tcp_ack.c ================= */

/**
 * tcp_identify_packet_loss - newly lost packets after an ACK
 * (tcp_identify_packet_loss): NewReno without SACK, RACK with it (when
 * enabled; tcp_update_scoreboard does the dupthresh walk otherwise)
 * @tp: the connection
 * @ack_flag: TCP_FLAG_*: SET_XMIT_TIMER dropped when the REO timer was
 *	      armed, LOST_RETRANS added when a retransmission was lost
 * @st: the ACK's state
 */
void tcp_identify_packet_loss(struct tcp_sock *tp, int *ack_flag, struct tcp_ack_state *st)
{
	if (!tp->rtx_queue.head)
		return;
	if (tcp_is_reno(tp)) {
		tcp_newreno_mark_lost(tp, *ack_flag & TCP_FLAG_SND_UNA_ADVANCED, st);
	} else if (tcp_is_rack(tp)) {
		uint32_t prior_retrans = tp->retrans_out;

		if (tcp_rack_mark_lost(tp, st))
			*ack_flag &= ~TCP_FLAG_SET_XMIT_TIMER;
		if (prior_retrans > tp->retrans_out)
			*ack_flag |= TCP_FLAG_LOST_RETRANS;
	}
}

/**
 * tcp_timeout_mark_lost - the RTO's marks (tcp_timeout_mark_lost)
 * @tp: the connection
 *
 * Everything not SACKed is lost; if the head is SACKed the receiver
 * reneged, and its SACKs are forgotten first.  With RACK, packets sent
 * within RACK.rtt are not marked yet (the head always is): they may well
 * still be on their way.
 */
void tcp_timeout_mark_lost(struct tcp_sock *tp)
{
	struct pkt *head = tp->rtx_queue.head, *pk;
	bool reneg = head && (cb(head)->sacked & TCPCB_SACKED_ACKED);
	bool rack = tcp_is_rack(tp);

	if (reneg || tcp_is_reno(tp))
		tp->sacked_out = 0;
	for (pk = head; pk; pk = pk->next) {
		if (reneg)
			cb(pk)->sacked &= (uint8_t)~TCPCB_SACKED_ACKED;
		else if (rack && pk != head && tcp_rack_skb_timeout(tp, pk, 0) > 0)
			continue;
		tcp_mark_skb_lost(tp, pk, NULL);
	}
	tp->lost_skb_hint = NULL;
}
