/* SPDX-License-Identifier: MIT */
/*
 * tcp_in.c - segment arrival: demux, validation and the TCP state machine
 *
 * Theory of operation.  tcp_v4_rcv checks a segment (PACKET_HOST only,
 * checksum unless loopback vouched for it, header and options parsed once
 * into a struct tcp_repr), fills TCP_SKB_CB, pulls the header off and hands
 * the segment to what tcp_lookup found: a TIME_WAIT object, a request sock
 * (tcp_check_req makes the child, which runs the state machine), a
 * listener (SYN: tcp_conn_request; bare ACK: a SYN cookie's child) or a
 * connection.  A connection holds a reference while its segment is
 * processed, so tcp_done/tcp_time_wait freeing an orphan never pulls the
 * object from under us (the kernel's refcounted lookup).
 *
 * ESTABLISHED has one path, tcp_rcv_established, which first tests what
 * the kernel's header prediction tests (flags exactly ACK, expected header
 * length and window, seq == rcv_nxt, no out-of-order data, no urgent data,
 * memory available): a predicted segment skips the RFC 5961 checks and is
 * queued in O(1); anything else takes the full RFC 793 sequence.  Every
 * other state goes through tcp_rcv_state_process.  What a segment carries
 * for the reader (text, FIN, urgent data) and the ACK it calls for are
 * handed to tcp_rcvq.c through tcp_in_int.h.
 *
 * Limits: no tcp_metrics cache, ICMP errors are not queued for IP_RECVERR
 * (MSG_ERRQUEUE).
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>

#include "buf/pkt.h"
#include "ip/ip4_errq.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_in_int.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/tcp.h"

#define TCP_PAWS_WINDOW 1
#define TCP_PAWS_MSL 60u
#define TCP_PAWS_24DAYS (60u * 60u * 24u * 24u)
#define TCP_TIMEOUT_MIN_US 2000u	/* TCP_TIMEOUT_MIN: 2 jiffies */
#define IP_RT_MIN_PMTU 552u		/* net.ipv4.route.min_pmtu */

static inline struct tcp_sock *tcp_from_hn(struct tcp_hnode *hn)
{
	return (struct tcp_sock *)(void *)((char *)hn - offsetof(struct tcp_sock, hn));
}

static inline uint32_t tcp_now_s(const struct netns *ns)
{
	return (uint32_t)(netns_now(ns) / 1000000000u);
}

/* tcp_drop_reason: a discarded segment counts in the socket's drops */
void tcp_drop(struct tcp_sock *tp, struct pkt *pk)
{
	tp->sk.drops++;
	pkt_free(pk);
}

static inline void tcp_segs_in(struct tcp_sock *tp, const struct pkt *pk)
{
	tp->segs_in++;
	if (pk->tot_len)
		tp->data_segs_in++;
}

/* The received segment's SACK blocks count only once SACK was agreed (tcp_parse_options). */
static int tcp_ack_in(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th, int flag)
{
	if (!tp->sack_ok)
		TCP_SKB_CB(pk)->sacked = 0;
	return tcp_ack(tp, pk, th, flag);
}

/* ------------------------------------------------------------------ options */

static void clear_options(struct tcp_sock *tp)
{
	tp->tstamp_ok = tp->sack_ok = tp->wscale_ok = false;
	tp->snd_wscale = 0;
}

/*
 * tcp_parse_rx_opts - tcp_parse_options into tp.  syn: the handshake's
 * reading (estab = 0): MSS, window scale and SACK-permitted count on a SYN
 * and timestamps by the sysctl; otherwise only timestamps, once agreed.
 * rcv_tsecr is made relative to our clock (tsoffset taken off), as every
 * caller of tcp_parse_options in the kernel does next.
 */
void tcp_parse_rx_opts(struct tcp_sock *tp, const struct tcp_repr *th, bool syn)
{
	const struct tcp_opts *o = &th->opt;
	const struct tcp_sysctl *s = tcp_sys(&tp->sk);

	tp->saw_tstamp = false;
	if (syn && (th->flags & TCP_HDR_SYN)) {
		if (o->mss) {
			uint16_t mss = o->mss;

			if (tp->user_mss && tp->user_mss < mss)
				mss = tp->user_mss;
			tp->mss_clamp = mss;
		}
		if (o->has_wscale && s->window_scaling) {
			tp->wscale_ok = true;
			tp->snd_wscale = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
		}
		if (o->sack_perm && s->sack) {
			tp->sack_ok = true;
			tp->num_sacks = 0;	/* tcp_sack_reset */
			tp->dsack = false;
		}
	}
	if (o->has_ts && (syn ? s->timestamps != 0 : tp->tstamp_ok)) {
		tp->saw_tstamp = true;
		tp->rcv_tsval = o->tsval;
		tp->rcv_tsecr = o->tsecr ? o->tsecr - tp->tsoffset : 0;
	}
}

/* tcp_paws_check */
static bool paws_check(const struct tcp_sock *tp, int paws_win)
{
	if ((int32_t)(tp->ts_recent - tp->rcv_tsval) <= paws_win)
		return true;
	if (tcp_now_s(tp->sk.ns) >= tp->ts_recent_stamp + TCP_PAWS_24DAYS)
		return true;
	/* some stacks send TSval 0 on the SYN and real values later */
	return !tp->ts_recent;
}

/* tcp_paws_reject */
static bool paws_reject(const struct tcp_sock *tp, bool rst)
{
	if (paws_check(tp, 0))
		return false;
	if (rst && tcp_now_s(tp->sk.ns) >= tp->ts_recent_stamp + TCP_PAWS_MSL)
		return false;
	return true;
}

static void store_ts_recent(struct tcp_sock *tp)
{
	tp->ts_recent = tp->rcv_tsval;
	tp->ts_recent_stamp = tcp_now_s(tp->sk.ns);
}

/* tcp_may_update_window */
static bool may_update_window(const struct tcp_sock *tp, uint32_t ack, uint32_t ack_seq,
			      uint32_t nwin)
{
	return tcp_after(ack, tp->snd_una) || tcp_after(ack_seq, tp->snd_wl1) ||
	       (ack_seq == tp->snd_wl1 && (nwin > tp->snd_wnd || !nwin));
}

/* tcp_disordered_ack: a pure duplicate ACK inside the replay window passes PAWS */
static bool disordered_ack(const struct tcp_sock *tp, const struct tcp_skb_cb *cb,
			   const struct tcp_repr *th)
{
	/* tcp_tsval_replay: the peer's clock may run at 1200 Hz for one RTO */
	uint32_t replay = (uint32_t)((uint64_t)tp->rto_us * 1200u / 1000000u);

	return (th->flags & TCP_HDR_ACK) && cb->seq == cb->end_seq && cb->seq == tp->rcv_nxt &&
	       cb->ack_seq == tp->snd_una &&
	       !may_update_window(tp, cb->ack_seq, cb->seq,
				  (uint32_t)th->window << tp->snd_wscale) &&
	       (int32_t)(tp->ts_recent - tp->rcv_tsval) <= (int32_t)replay;
}

static bool paws_discard(const struct tcp_sock *tp, const struct tcp_skb_cb *cb,
			 const struct tcp_repr *th)
{
	return !paws_check(tp, TCP_PAWS_WINDOW) && !disordered_ack(tp, cb, th);
}

/* tcp_data_snd_check */
static void data_snd_check(struct tcp_sock *tp)
{
	tcp_push_pending_frames(tp);
	tcp_check_space(tp);
}

/* tcp_oow_rate_limited: at most one out-of-window dupack per invalid_ratelimit */
static bool oow_rate_limited(struct tcp_sock *tp, const struct tcp_skb_cb *cb,
			     const struct tcp_repr *th)
{
	uint32_t now = tcp_ts_now(tp->sk.ns), last = tp->last_oow_ack_time;

	/* data without SYN is not part of an ACK loop */
	if (cb->seq != cb->end_seq && !(th->flags & TCP_HDR_SYN))
		return false;
	if (last) {
		int32_t elapsed = (int32_t)(now - last);

		if (elapsed >= 0 && elapsed < tcp_sys(&tp->sk)->invalid_ratelimit)
			return true;
	}
	tp->last_oow_ack_time = now ? now : 1;
	return false;
}

/* ------------------------------------------------------------ validation */

/* tcp_sequence: acceptable if it overlaps [rcv_wup, rcv_nxt + window] */
static bool seq_acceptable(const struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	return !tcp_before(end_seq, tp->rcv_wup) &&
	       !tcp_after(seq, tp->rcv_nxt + tcp_receive_window(tp));
}

/* tcp_reset_check: an RST at rcv_nxt - 1 after the peer's FIN (Mac OS X sends FIN then RST) */
static bool reset_check(const struct tcp_sock *tp, const struct tcp_skb_cb *cb)
{
	return cb->seq == tp->rcv_nxt - 1 &&
	       (TCPF(tp->sk.state) &
		(TCPF(TCP_CLOSE_WAIT) | TCPF(TCP_LAST_ACK) | TCPF(TCP_CLOSING)));
}

/*
 * tcp_validate_incoming - PAWS, sequence check, RST and SYN per RFC 5961.
 * Return: true to go on; false when pk was consumed (dropped, or reset).
 */
static bool validate_incoming(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th,
			      bool syn_inerr)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint16_t f = th->flags;

	tcp_parse_rx_opts(tp, th, false);
	/* RFC 7323 H1: PAWS first; an RST is accepted anyway */
	if (tp->saw_tstamp && paws_discard(tp, cb, th) && !(f & TCP_HDR_RST)) {
		if (f & TCP_HDR_SYN)
			goto syn_challenge;
		if (!oow_rate_limited(tp, cb, th))
			tcp_send_dupack(tp, cb);
		goto discard;
	}
	/* step 1: sequence number */
	if (!seq_acceptable(tp, cb->seq, cb->end_seq)) {
		if (!(f & TCP_HDR_RST)) {
			if (f & TCP_HDR_SYN)
				goto syn_challenge;
			if (!oow_rate_limited(tp, cb, th))
				tcp_send_dupack(tp, cb);
		} else if (reset_check(tp, cb)) {
			goto reset;
		}
		goto discard;
	}
	/* step 2: RST, RFC 5961 3.2: exact rcv_nxt (or the last SACK edge) resets */
	if (f & TCP_HDR_RST) {
		if (cb->seq == tp->rcv_nxt || reset_check(tp, cb))
			goto reset;
		if (tp->sack_ok && tp->num_sacks) {
			uint32_t max_sack = tp->selective_acks[0].end;

			for (int i = 1; i < tp->num_sacks; i++)
				if (tcp_after(tp->selective_acks[i].end, max_sack))
					max_sack = tp->selective_acks[i].end;
			if (cb->seq == max_sack)
				goto reset;
		}
		tcp_send_challenge_ack(tp);
		goto discard;
	}
	/* step 4: SYN, RFC 5961 4.2 (a simultaneous open's SYN-ACK is expected) */
	if (f & TCP_HDR_SYN) {
		if (tp->sk.state == TCP_SYN_RECV && tp->sk.fd >= 0 && (f & TCP_HDR_ACK) &&
		    cb->seq + 1 == cb->end_seq && cb->seq + 1 == tp->rcv_nxt &&
		    cb->ack_seq == tp->snd_nxt)
			return true;
syn_challenge:
		if (syn_inerr)
			tcp_table(tp->sk.ns)->mib.in_errs++;
		tcp_send_challenge_ack(tp);
		goto discard;
	}
	return true;
discard:
	tcp_drop(tp, pk);
	return false;
reset:
	tcp_reset(tp);
	pkt_free(pk);
	return false;
}

/* ------------------------------------------------------- connection end */

/* tcp_done_with_error */
static void done_with_error(struct tcp_sock *tp, int err)
{
	bool dead = tp->orphan;

	TCP_WRITE(tp->sk.err, err);
	tcp_write_queue_purge(tp);
	tcp_done(tp);
	if (!dead)
		sk_report_error(&tp->sk, err);
}

/* tcp_reset - a valid RST: the errno by state, then tcp_done (tp may be freed if orphaned). */
void tcp_reset(struct tcp_sock *tp)
{
	int err;

	/* the errno BSD gives (and the conformance suite saw) */
	switch (tp->sk.state) {
	case TCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	done_with_error(tp, err);
}

/* reqsk_fastopen_remove: a Fast Open child's handshake is over (as tcp.c's tcp_fastopen_forget) */
static void fastopen_req_done(struct tcp_sock *tp)
{
	struct tcp_request_sock *req = tp->fastopen_rsk;

	if (!req)
		return;
	tp->fastopen_rsk = NULL;
	req->tfo_child = NULL;
	tcp_reqsk_free(req);
}

/* ---------------------------------------------------- handshake helpers */

/*
 * tcp_init_transfer - the handshake is over (both ends): ssthresh and the
 * RTO as tcp_init_metrics leaves them without cached metrics, the initial
 * cwnd, congestion control and buffer space.
 */
void tcp_init_transfer(struct tcp_sock *tp)
{
	tcp_mstamp_refresh(tp);
	/* tcp_init_metrics without cached metrics: ssthresh back to its
	 * default; no RTT sample from the handshake means the 3 s RTO of
	 * RFC 6298 5.7 */
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	if (!tp->srtt_us) {
		tp->rttvar_us = TCP_TIMEOUT_FALLBACK_US;
		tp->mdev_us = tp->mdev_max_us = tp->rttvar_us;
		tp->rto_us = TCP_TIMEOUT_FALLBACK_US;
	}
	/* RFC 5681: cwnd 1 after more than one SYN or SYN-ACK retransmission */
	if (tp->total_retrans > 1 && tp->undo_marker)
		tp->snd_cwnd = 1;
	else
		tp->snd_cwnd = tcp_init_cwnd(tp);
	tp->snd_cwnd_stamp = tp->tcp_mstamp;
	tp->prior_ssthresh = 0;	/* tcp_init_congestion_control */
	tcp_ca_init(tp);
	tcp_init_buffer_space(tp);
	/* no spurious tcp_cwnd_restart on the first data */
	tp->lsndtime_us = tp->tcp_mstamp;
}

/* tcp_try_undo_spurious_syn: the SYN timed out spuriously if the ACK echoes its TSval */
static void try_undo_spurious_syn(struct tcp_sock *tp)
{
	uint32_t syn_stamp = (uint32_t)(tp->retrans_stamp_us / 1000u);

	if (tp->undo_marker && tp->retrans_stamp_us && tp->saw_tstamp && syn_stamp == tp->rcv_tsecr)
		tp->undo_marker = 0;
}

/* tcp_finish_connect */
static void finish_connect(struct tcp_sock *tp)
{
	tcp_set_state(tp, TCP_ESTABLISHED);
	tp->ack.lrcvtime_us = tp->tcp_mstamp;
	tcp_init_transfer(tp);
	tp->lsndtime_us = tp->tcp_mstamp;
	if (tp->sk.flags & SKF_KEEPALIVE)
		tcp_reset_keepalive_timer(tp, (uint64_t)tcp_keepalive_time(tp) * 1000000u);
}

/* tcp_mark_skb_lost (one segment per packet here) */
static void mark_lost(struct tcp_sock *tp, struct pkt *pk)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	if (cb->sacked & TCPCB_SACKED_ACKED)
		return;
	if (cb->sacked & TCPCB_LOST) {
		if (cb->sacked & TCPCB_SACKED_RETRANS) {
			/* a retransmission lost again */
			cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
			tp->retrans_out--;
		}
	} else {
		tp->lost_out++;
		cb->sacked |= TCPCB_LOST;
	}
	tp->lost_skb_hint = NULL;	/* an earlier packet may be lost now */
}

/* tcp_non_congestion_loss_retransmit: retransmit without reducing cwnd further */
static void non_congestion_loss_retransmit(struct tcp_sock *tp)
{
	if (tp->ca_state != TCP_CA_Loss) {
		uint32_t ssthresh = tp->snd_ssthresh;

		/* tcp_current_ssthresh */
		if (tp->ca_state != TCP_CA_CWR && tp->ca_state != TCP_CA_Recovery) {
			uint32_t t = (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2);

			if (t > ssthresh)
				ssthresh = t;
		}
		tp->high_seq = tp->snd_nxt;
		tp->snd_ssthresh = ssthresh;
		tp->prior_ssthresh = 0;
		tp->undo_marker = 0;
		tcp_ca_set_state(tp, TCP_CA_Loss);
		tp->ca_state = TCP_CA_Loss;
	}
	tcp_xmit_retransmit_queue(tp);
}

/* tcp_fastopen_add_skb: data in the SYN-ACK goes to the receive queue. pk stays the caller's. */
static void fastopen_add_skb(struct tcp_sock *tp, struct pkt *pk)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t len = pk->tot_len;

	if (cb->end_seq == tp->rcv_nxt)
		return;
	pk = pkt_get(pk);
	/* as the kernel: segs_in restarts here and counts this segment again */
	tp->segs_in = 0;
	tcp_segs_in(tp, pk);
	cb->seq++;
	cb->tcp_flags &= (uint16_t)~TCP_HDR_SYN;
	rx_stamp(tp, pk);
	rmem_charge(tp, pk);
	TCP_WRITE(tp->rcv_nxt, cb->end_seq);
	pkt_queue_push(&tp->sk.rcvq, pk);
	tp->syn_data_acked = true;
	tp->bytes_received = len;
	if (cb->tcp_flags & TCP_HDR_FIN)
		tcp_fin(tp);
}

/*
 * tcp_rcv_fastopen_synack - the SYN-ACK of a Fast Open connect: cache the
 * cookie (and the SYN-ACK's own MSS), re-send SYN data it did not ACK,
 * keep data it carried.  Return: true if data must be retransmitted.
 */
static bool rcv_fastopen_synack(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th)
{
	struct pkt *data = tp->syn_data ? tp->rtx_queue.head : NULL;
	int foc_len = th->opt.fastopen ? th->opt.fastopen_len : -1;
	uint16_t mss = tp->mss_clamp;
	bool syn_drop = false;

	if (mss == tp->user_mss)
		mss = th->opt.mss;	/* the peer's own MSS, not TCP_MAXSEG */
	if (!tp->syn_fastopen) {
		foc_len = -1;	/* an unsolicited cookie is ignored */
	} else if (tp->total_retrans) {
		/* the SYN timed out: SYN-data or its SYN-ACK was lost */
		syn_drop = foc_len < 0 && data;
	}
	tcp_fastopen_cache_set(tp->sk.ns, tp->sk.daddr, mss, th->opt.fastopen_cookie,
			       (uint8_t)(foc_len > 0 ? foc_len : 0), syn_drop);
	if (data) {
		for (struct pkt *p = data; p; p = p->next)
			mark_lost(tp, p);
		non_congestion_loss_retransmit(tp);
		return true;
	}
	tp->syn_data_acked = tp->syn_data;
	if (tp->syn_data_acked) {
		tcp_table(tp->sk.ns)->mib.tfo_active++;
		/* SYN-data counts as two packets in tcp_ack */
		if (tp->delivered > 1)
			tp->delivered--;
	}
	fastopen_add_skb(tp, pk);
	return false;
}

/* tcp_send_synack: a simultaneous open answers with its own SYN, now with ACK */
static void send_synack(struct tcp_sock *tp)
{
	struct pkt *pk = tp->rtx_queue.head;

	if (!pk || !(TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_SYN))
		return;
	TCP_SKB_CB(pk)->tcp_flags |= TCP_HDR_ACK;
	tcp_transmit_skb(tp, pk, true);
}

enum { SS_CONSUMED, SS_RESET, SS_STEP6 };

/*
 * tcp_rcv_synsent_state_process - a segment for SYN_SENT.
 * Return: SS_CONSUMED (pk freed), SS_RESET (caller answers RST and frees),
 * SS_STEP6 (caller does the urgent check and frees pk).
 */
static int rcv_synsent(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th)
{
	struct sock *sk = &tp->sk;
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint16_t saved_clamp = tp->mss_clamp;
	bool fastopen_fail;

	clear_options(tp);
	tcp_parse_rx_opts(tp, th, true);
	if (th->flags & TCP_HDR_ACK) {
		/* RFC 793: an ACK of ISS or beyond SND.NXT is answered by RST */
		if (!tcp_after(cb->ack_seq, tp->snd_una) || tcp_after(cb->ack_seq, tp->snd_nxt)) {
			/* a RST/ACK of an earlier attempt may have been lost */
			if (!tp->retransmits)
				tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, TCP_TIMEOUT_MIN_US,
						     TCP_RTO_MAX_US);
			goto reset_and_undo;
		}
		if (tp->saw_tstamp && tp->rcv_tsecr &&
		    !tcp_between(tp->rcv_tsecr, (uint32_t)(tp->retrans_stamp_us / 1000u),
				 tcp_ts_now(sk->ns)))
			goto reset_and_undo;
		if (th->flags & TCP_HDR_RST) {
			tcp_reset(tp);
			pkt_free(pk);
			return SS_CONSUMED;
		}
		if (!(th->flags & TCP_HDR_SYN))
			goto discard_and_undo;

		/* a SYN-ACK acknowledging our SYN */
		tp->snd_wl1 = cb->seq;
		try_undo_spurious_syn(tp);
		tcp_ack_in(tp, pk, th, TCP_FLAG_SLOWPATH);
		TCP_WRITE(tp->rcv_nxt, cb->seq + 1);
		tp->rcv_wup = cb->seq + 1;
		tp->snd_wnd = th->window;	/* never scaled on a SYN (RFC 7323) */
		if (!tp->wscale_ok) {
			tp->snd_wscale = tp->rcv_wscale = 0;
			if (tp->window_clamp > 65535u)
				tp->window_clamp = 65535u;
		}
		if (tp->saw_tstamp) {
			tp->tstamp_ok = true;
			tp->advmss -= TCP_TSTAMP_ALIGNED;
			store_ts_recent(tp);
		}
		tcp_sync_mss(tp, tp->pmtu_cookie);
		tcp_initialize_rcv_mss(tp);
		TCP_WRITE(tp->copied_seq, tp->rcv_nxt);
		finish_connect(tp);
		fastopen_fail = (tp->syn_fastopen || tp->syn_data) &&
				rcv_fastopen_synack(tp, pk, th);
		if (!tp->orphan)
			tcp_state_change(tp);
		if (fastopen_fail)
			return SS_STEP6;
		if (tp->defer_accept || tp->ack.pingpong) {
			/* save one ACK: data is likely to follow and carry it */
			ack_schedule(tp);
			tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
			tcp_reset_delack_timer(tp, netns_now(sk->ns) + TCP_DELACK_MAX_US * 1000ull);
			pkt_free(pk);
			return SS_CONSUMED;
		}
		tcp_send_ack(tp);
		return SS_STEP6;
	}
	if (th->flags & TCP_HDR_RST)
		goto discard_and_undo;
	if (tp->ts_recent_stamp && tp->saw_tstamp && paws_reject(tp, false))
		goto discard_and_undo;
	if (th->flags & TCP_HDR_SYN) {
		/* crossed SYNs: simultaneous open (or a connect to itself) */
		tcp_set_state(tp, TCP_SYN_RECV);
		if (tp->saw_tstamp) {
			tp->tstamp_ok = true;
			store_ts_recent(tp);
		}
		TCP_WRITE(tp->rcv_nxt, cb->seq + 1);
		TCP_WRITE(tp->copied_seq, tp->rcv_nxt);
		tp->rcv_wup = cb->seq + 1;
		tp->snd_wnd = th->window;
		tp->snd_wl1 = cb->seq;
		tp->max_window = tp->snd_wnd;
		tcp_sync_mss(tp, tp->pmtu_cookie);
		tcp_initialize_rcv_mss(tp);
		send_synack(tp);
		/* data on a SYN without ACK is not taken (as the kernel) */
		pkt_free(pk);
		return SS_CONSUMED;
	}
discard_and_undo:
	clear_options(tp);
	tp->mss_clamp = saved_clamp;
	tcp_drop(tp, pk);
	return SS_CONSUMED;
reset_and_undo:
	clear_options(tp);
	tp->mss_clamp = saved_clamp;
	return SS_RESET;
}

/* tcp_any_retrans_done */
static bool any_retrans_done(const struct tcp_sock *tp)
{
	const struct pkt *h = tp->rtx_queue.head;

	return tp->retrans_out || (h && (TCP_SKB_CB(h)->sacked & TCPCB_EVER_RETRANS));
}

/* tcp_rcv_synrecv_state_fastopen: a Fast Open child's SYN-ACK was acknowledged */
static void synrecv_fastopen(struct tcp_sock *tp)
{
	tp->retransmits = 0;
	if (!any_retrans_done(tp))
		tp->retrans_stamp_us = 0;	/* tcp_retrans_stamp_cleanup */
	fastopen_req_done(tp);
	tcp_rearm_rto(tp);
}

/* tcp_synack_rtt_meas: the handshake's RTT sample (SYN-ACK timing, else TSecr) */
static void synack_rtt(struct tcp_sock *tp, const struct tcp_request_sock *req)
{
	int64_t rtt = -1;

	if (req && !req->num_retrans && req->snt_synack_us)
		rtt = (int64_t)(uint32_t)((uint32_t)tcp_clock_us(tp->sk.ns) - req->snt_synack_us);
	if (rtt < 0 && tp->saw_tstamp && tp->rcv_tsecr) {
		uint32_t d = tcp_ts_now(tp->sk.ns) - tp->rcv_tsecr;

		if (d < INT_MAX / 1000)
			rtt = (int64_t)(d ? d : 1) * 1000;
	}
	if (rtt >= 0)
		tcp_synack_rtt_meas(tp, (uint32_t)rtt);
}

/* SYN_RECV -> ESTABLISHED on an acceptable ACK (tcp_rcv_state_process's TCP_SYN_RECV case). */
static void synrecv_established(struct tcp_sock *tp, const struct pkt *pk,
				const struct tcp_repr *th, struct tcp_request_sock *req)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	tp->delivered++;	/* the SYN-ACK's delivery is not counted by tcp_ack */
	if (!tp->srtt_us)
		synack_rtt(tp, req);
	if (req) {
		synrecv_fastopen(tp);
	} else {
		try_undo_spurious_syn(tp);
		tp->retrans_stamp_us = 0;
		tcp_init_transfer(tp);
		TCP_WRITE(tp->copied_seq, tp->rcv_nxt);
	}
	tcp_set_state(tp, TCP_ESTABLISHED);
	tcp_state_change(tp);
	tp->snd_una = cb->ack_seq;
	tp->snd_wnd = (uint32_t)th->window << tp->snd_wscale;
	tp->snd_wl1 = cb->seq;
	if (tp->tstamp_ok)
		tp->advmss -= TCP_TSTAMP_ALIGNED;
	tp->lsndtime_us = tp->tcp_mstamp;
	tcp_initialize_rcv_mss(tp);
	if (tp->sk.shutdown & SEND_SHUTDOWN) {
		/* shutdown(SHUT_WR) came during the handshake: tcp_shutdown now */
		tcp_set_state(tp, TCP_FIN_WAIT1);
		tcp_send_fin(tp);
	}
}

/* ---------------------------------------------------------- state machine */

/*
 * tcp_rcv_state_process - RFC 793's SEGMENT ARRIVES for every state but
 * ESTABLISHED and TIME_WAIT.  Where the kernel returns a reason for its
 * caller to answer with RST, the RST is sent here.  Consumes pk; tp may be
 * done (CLOSE) afterwards: the caller holds a reference.
 */
void tcp_rcv_state_process(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th)
{
	struct sock *sk = &tp->sk;
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	struct tcp_request_sock *req;
	uint32_t fin = (th->flags & TCP_HDR_FIN) ? 1u : 0u;
	int r;

	switch (sk->state) {
	case TCP_CLOSE:
		goto discard;
	case TCP_LISTEN:
		if (th->flags & TCP_HDR_ACK)
			goto reset;
		if (th->flags & TCP_HDR_RST)
			goto discard;
		if ((th->flags & TCP_HDR_SYN) && !fin) {
			tcp_conn_request(tp, pk, th);
			return;
		}
		goto discard;
	case TCP_SYN_SENT:
		tp->saw_tstamp = false;
		tcp_mstamp_refresh(tp);
		r = rcv_synsent(tp, pk, th);
		if (r == SS_CONSUMED)
			return;
		if (r == SS_RESET)
			goto reset;
		/* step 6 onward by hand */
		tcp_urg(tp, pk, th);
		pkt_free(pk);
		data_snd_check(tp);
		return;
	default:
		break;
	}

	tcp_mstamp_refresh(tp);
	tp->saw_tstamp = false;
	req = tp->fastopen_rsk;
	if (req && !tcp_check_req(req, pk, th))
		return;
	if (!(th->flags & (TCP_HDR_ACK | TCP_HDR_RST | TCP_HDR_SYN)))
		goto discard;
	if (!validate_incoming(tp, pk, th, false))
		return;

	/* step 5: the ACK field */
	r = tcp_ack_in(tp, pk, th,
		       TCP_FLAG_SLOWPATH | TCP_FLAG_UPDATE_TS_RECENT | TCP_FLAG_NO_CHALLENGE_ACK);
	if (r <= 0) {
		if (sk->state == TCP_SYN_RECV)
			goto reset;	/* one RST */
		if (r < 0) {
			/* an old ACK is accepted while closing, an invalid one challenged */
			tcp_send_challenge_ack(tp);
			goto discard;
		}
	}
	switch (sk->state) {
	case TCP_SYN_RECV:
		synrecv_established(tp, pk, th, req);
		break;
	case TCP_FIN_WAIT1: {
		uint64_t tmo;

		if (req)
			synrecv_fastopen(tp);
		if (tp->snd_una != tp->write_seq)
			break;
		/* our FIN is acknowledged */
		tcp_set_state(tp, TCP_FIN_WAIT2);
		TCP_WRITE(sk->shutdown, (uint8_t)(sk->shutdown | SEND_SHUTDOWN));
		if (!tp->orphan) {
			tcp_state_change(tp);	/* wakes a lingering close */
			break;
		}
		if (tp->linger2_s < 0) {
			tcp_done(tp);
			goto reset;
		}
		if (cb->end_seq != cb->seq && tcp_after(cb->end_seq - fin, tp->rcv_nxt)) {
			/* data after close() */
			tcp_done(tp);
			goto reset;
		}
		tmo = tcp_fin_time(tp);
		if (tmo > TCP_TIMEWAIT_LEN_NS / 1000u) {
			tcp_reset_keepalive_timer(tp, tmo - TCP_TIMEWAIT_LEN_NS / 1000u);
		} else if (fin) {
			/* the FIN is in this segment: keep the full socket to take it */
			tcp_reset_keepalive_timer(tp, tmo);
		} else {
			tcp_time_wait(tp, TCP_FIN_WAIT2, tmo * 1000u);
			goto consume;
		}
		break;
	}
	case TCP_CLOSING:
		if (tp->snd_una == tp->write_seq) {
			tcp_time_wait(tp, TCP_TIME_WAIT, 0);
			goto consume;
		}
		break;
	case TCP_LAST_ACK:
		if (tp->snd_una == tp->write_seq) {
			tcp_done(tp);
			goto consume;
		}
		break;
	default:
		break;
	}

	/* step 6: URG */
	tcp_urg(tp, pk, th);

	/* step 7: the segment text */
	switch (sk->state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (!tcp_before(cb->seq, tp->rcv_nxt))
			goto after_data;	/* nothing after the peer's FIN */
		/* fallthrough */
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/* RFC 1122: new data for a closed reader is answered with RST */
		if ((sk->shutdown & RCV_SHUTDOWN) && cb->end_seq != cb->seq &&
		    tcp_after(cb->end_seq - fin, tp->rcv_nxt)) {
			tcp_reset(tp);
			goto reset;
		}
		/* fallthrough */
	case TCP_ESTABLISHED:
		tcp_data_queue(tp, pk, th);
		pk = NULL;
		break;
	default:
		break;
	}
after_data:
	/* tcp_fin may have moved it to TIME_WAIT */
	if (sk->state != TCP_CLOSE) {
		data_snd_check(tp);
		tcp_ack_snd_check(tp);
	}
	if (pk)
		goto discard;
	return;
discard:
	tcp_drop(tp, pk);
	return;
consume:
	pkt_free(pk);
	return;
reset:
	tcp_v4_send_reset(sk->ns, pk, th, pk->tot_len);
	pkt_free(pk);
}

/* ------------------------------------------------------------ ESTABLISHED */

/*
 * The kernel's header prediction (pred_flags and tcp_fast_path_check): a
 * plain ACK with the expected header length and window, in sequence, with
 * no out-of-order or urgent data and memory to spare.
 */
static inline bool predicted(const struct tcp_sock *tp, const struct tcp_skb_cb *cb,
			     const struct tcp_repr *th)
{
	return (th->flags & (uint16_t)~TCP_HDR_PSH) == TCP_HDR_ACK &&
	       (uint32_t)th->doff * 4u == tcp_hdr_len(tp) &&
	       (uint32_t)th->window == tp->snd_wnd >> tp->snd_wscale &&
	       cb->seq == tp->rcv_nxt && !tcp_after(cb->ack_seq, tp->snd_nxt) &&
	       !tp->ofo_queue.head && tp->rcv_wnd && (int64_t)tp->sk.rmem < tp->sk.rcvbuf &&
	       !tp->urg_data;
}

/* tcp_rcv_established - predicted segments in O(1), the rest by RFC 793. Consumes pk. */
void tcp_rcv_established(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t len = pk->tot_len;

	tcp_mstamp_refresh(tp);
	tp->saw_tstamp = false;
	if (predicted(tp, cb, th)) {
		if (tp->tstamp_ok) {
			if (!th->opt.has_ts)
				goto slow_path;
			tp->saw_tstamp = true;
			tp->rcv_tsval = th->opt.tsval;
			tp->rcv_tsecr = th->opt.tsecr ? th->opt.tsecr - tp->tsoffset : 0;
			/* a PAWS failure is looked at closely on the slow path */
			if ((int32_t)(tp->rcv_tsval - tp->ts_recent) < 0)
				goto slow_path;
		}
		if (!len) {
			/* bulk sender: a pure ACK */
			if (tp->saw_tstamp && tp->rcv_nxt == tp->rcv_wup)
				store_ts_recent(tp);
			tcp_ack_in(tp, pk, th, 0);
			pkt_free(pk);
			data_snd_check(tp);
			return;
		}
		if ((int64_t)tp->sk.rmem + pk->meta.truesize > tp->sk.rcvbuf)
			goto step5;
		/* bulk receiver: in-order data, queued as it is */
		{
			struct seg_info si = {.len = len, .truesize = pk->meta.truesize,
					      .flags = cb->tcp_flags,
					      .hdrlen = (uint16_t)(th->doff * 4u)};

			if (tp->saw_tstamp && tp->rcv_nxt == tp->rcv_wup)
				store_ts_recent(tp);
			/* pk stays valid in the queue for tcp_ack below (nothing frees it) */
			tcp_queue_rcv(tp, pk, false);
			tcp_event_data_recv(tp, &si);
			if (cb->ack_seq != tp->snd_una) {
				tcp_ack_in(tp, pk, th, TCP_FLAG_DATA);
				data_snd_check(tp);
				if (!(tp->ack.pending & ICSK_ACK_SCHED))
					goto no_ack;
			} else {
				tp->snd_wl1 = cb->seq;	/* tcp_update_wl */
			}
			tcp_ack_snd_check_now(tp, false);
no_ack:
			tcp_data_ready(tp);
			return;
		}
	}
slow_path:
	if (!(th->flags & (TCP_HDR_ACK | TCP_HDR_RST | TCP_HDR_SYN))) {
		tcp_drop(tp, pk);
		return;
	}
	if (!validate_incoming(tp, pk, th, true))
		return;
step5:
	if (tcp_ack_in(tp, pk, th, TCP_FLAG_SLOWPATH | TCP_FLAG_UPDATE_TS_RECENT) < 0) {
		tcp_drop(tp, pk);
		return;
	}
	tcp_urg(tp, pk, th);
	tcp_data_queue(tp, pk, th);
	data_snd_check(tp);
	tcp_ack_snd_check(tp);
}

/* ----------------------------------------------------------------- demux */

/* tcp_child_process: the child runs the state machine; its parent hears when it is ready */
static void child_process(struct tcp_sock *lp, struct tcp_sock *child, struct pkt *pk,
			  const struct tcp_repr *th)
{
	int state = child->sk.state;

	sock_hold(&child->sk);
	tcp_segs_in(child, pk);
	tcp_rcv_state_process(child, pk, th);
	if (state == TCP_SYN_RECV && child->sk.state != state)
		data_ready_wake(lp);
	sock_put_locked(&child->sk);
}

/* A segment for a listener: a SYN cookie's ACK makes a child; the rest is LISTEN's. */
static void listen_rcv(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th)
{
	if ((th->flags & (TCP_HDR_SYN | TCP_HDR_ACK | TCP_HDR_RST)) == TCP_HDR_ACK) {
		struct tcp_sock *child = tcp_cookie_check(lp, pk, th);

		if (child) {
			child_process(lp, child, pk, th);
			return;
		}
	}
	tcp_rcv_state_process(lp, pk, th);
}

static void req_rcv(struct tcp_request_sock *req, struct pkt *pk, const struct tcp_repr *th)
{
	struct tcp_sock *lp = req->listener, *child;

	if (!lp || lp->sk.state != TCP_LISTEN) {
		/* its listener is closing; the request goes with it */
		pkt_free(pk);
		return;
	}
	sock_hold(&lp->sk);
	child = tcp_check_req(req, pk, th);
	if (child == lp)
		listen_rcv(lp, pk, th);
	else if (child)
		child_process(lp, child, pk, th);
	sock_put_locked(&lp->sk);
}

static void tw_rcv(struct netns *ns, struct netdev *dev, struct tcp_tw_sock *tw, struct pkt *pk,
		   const struct tcp_repr *th)
{
	struct tcp_sock *lp;

	switch (tcp_timewait_state_process(tw, pk, th)) {
	case TCP_TW_SYN:
		/* a new connection may take the 4-tuple over if someone listens */
		lp = tcp_lookup_listener(ns, pk->meta.saddr, th->sport, pk->meta.daddr, th->dport,
					 dev ? dev->ifindex : 0);
		if (lp) {
			tcp_tw_kill(tw);
			sock_hold(&lp->sk);
			listen_rcv(lp, pk, th);
			sock_put_locked(&lp->sk);
			return;
		}
		/* fallthrough */
	case TCP_TW_ACK:
		/* tcp_v4_timewait_ack */
		tcp_v4_send_ack(ns, pk->meta.daddr, pk->meta.saddr, th->dport, th->sport,
				tw->snd_nxt, tw->rcv_nxt, tw->rcv_wnd >> tw->rcv_wscale,
				tcp_ts_now(ns) + tw->ts_offset, tw->tstamp_ok ? tw->ts_recent : 0,
				tw->hn.bound_dev_if, 0);
		break;
	case TCP_TW_RST:
		tcp_v4_send_reset(ns, pk, th, pk->tot_len);
		tcp_tw_kill(tw);
		break;
	default:
		break;
	}
	pkt_free(pk);
}

/* A segment for a full socket (tcp_v4_do_rcv). */
static void sock_rcv(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th)
{
	struct sock *sk = &tp->sk;

	sock_hold(sk);
	if (sk->state == TCP_LISTEN) {
		listen_rcv(tp, pk, th);
	} else {
		tcp_segs_in(tp, pk);
		if (sk->state == TCP_ESTABLISHED)
			tcp_rcv_established(tp, pk, th);
		else
			tcp_rcv_state_process(tp, pk, th);
	}
	sock_put_locked(sk);
}

void tcp_backlog_rcv(struct sock *sk, struct pkt *pk)
{
	struct tcp_repr th;
	const uint8_t *h = pkt_linear(pk, TCP_HLEN);
	uint32_t hl = h ? (uint32_t)(h[12] >> 4) * 4u : 0;

	/* parsed once already: the header is linear and sound, TCP_SKB_CB kept */
	if (!h || !(h = pkt_linear(pk, hl)) || tcp_hdr_parse(h, pk->tot_len, &th) < 0) {
		pkt_free(pk);
		return;
	}
	pkt_pull(pk, hl);
	/* the socket may have become something else meanwhile (closed,
	 * replaced by TIME_WAIT): only its own states are handled here, as
	 * the kernel's backlog does */
	if (sk->state == TCP_CLOSE) {
		pkt_free(pk);
		return;
	}
	sock_rcv(tcp_sk(sk), pk, &th);
}

/*
 * tcp_v4_rcv - a segment for this host (data at the TCP header, IP meta
 * filled): check, parse, fill TCP_SKB_CB, pull the header, hand it to its
 * owner or answer RST.  Consumes pk.
 */
void tcp_v4_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk)
{
	struct tcp_table *tt = tcp_table(ns);
	struct tcp_repr th;
	struct tcp_skb_cb *cb;
	struct tcp_hnode *hn;
	const uint8_t *h;
	uint32_t seglen, hl;

	if (pk->meta.pkt_type != PACKET_HOST)
		goto drop;
	tt->mib.in_segs++;	/* counted even if bad */
	if (pkt_may_pull(pk, TCP_HLEN) || !(h = pkt_linear(pk, TCP_HLEN)))
		goto drop;
	hl = (uint32_t)(h[12] >> 4) * 4u;
	if (hl < TCP_HLEN)
		goto bad;
	if (pkt_may_pull(pk, hl) || !(h = pkt_linear(pk, hl)))
		goto drop;
	seglen = pk->tot_len;
	if (!pk->meta.csum_ok) {
		uint32_t psum = csum_pseudo4(pk->meta.saddr, pk->meta.daddr, IPPROTO_TCP, seglen);

		if (tcp_hdr_csum_check(psum, pkt_csum_partial(pk, 0, seglen, 0)))
			goto bad;
	}
	if (tcp_hdr_parse(h, seglen, &th) < 0)
		goto bad;

	cb = TCP_SKB_CB(pk);
	memset(cb, 0, sizeof(*cb));
	cb->seq = th.seq;
	cb->end_seq = th.seq + ((th.flags & TCP_HDR_SYN) ? 1u : 0u) +
		      ((th.flags & TCP_HDR_FIN) ? 1u : 0u) + seglen - hl;
	cb->ack_seq = th.ack;
	cb->tcp_flags = th.flags;
	cb->sacked = th.opt.num_sacks;	/* nonzero: SACK blocks to read (tcp_parse_options) */
	pk->meta.sport = th.sport;
	pk->meta.dport = th.dport;
	/* a frame copied in from elsewhere carries no charge: a linear skb of it */
	if (!pk->meta.truesize)
		pk->meta.truesize =
			pkt_kernel_truesize(seglen + pk->meta.l3_off + PKT_KERNEL_LL_EXTRA);
	pkt_pull(pk, hl);

	hn = tcp_lookup(ns, pk->meta.saddr, th.sport, pk->meta.daddr, th.dport,
			dev ? dev->ifindex : 0);
	if (!hn)
		goto no_socket;
	switch (hn->kind) {
	case TCP_HK_TW:
		tw_rcv(ns, dev, (struct tcp_tw_sock *)(void *)hn, pk, &th);
		return;
	case TCP_HK_REQ:
		req_rcv((struct tcp_request_sock *)(void *)hn, pk, &th);
		return;
	default: {
		struct tcp_sock *tp = tcp_from_hn(hn);
		struct sock *sk = &tp->sk;

		if (sk->owned_by_user) {
			/* tcp_add_backlog: a call on this socket is running (the
			 * segment is its own loopback echo, or came from another
			 * thread's device): park it, header and all, for
			 * tcp_backlog_rcv at release; bounded as sk_add_backlog */
			uint32_t limit = (uint32_t)sk->rcvbuf + (uint32_t)sk->sndbuf + 65536u;
			if (sk->backlog.bytes + pk->meta.truesize > limit || !pkt_push(pk, hl)) {
				pkt_free(pk);
				return;
			}
			pk->meta.csum_ok = 1;
			pkt_queue_push(&sk->backlog, pk);
			return;
		}
		sock_rcv(tp, pk, &th);
		return;
	}
	}
no_socket:
	/* nobody has this 4-tuple: RST (never for an RST) */
	if (!(th.flags & TCP_HDR_RST))
		tcp_v4_send_reset(ns, pk, &th, pk->tot_len);
	pkt_free(pk);
	return;
bad:
	tt->mib.in_errs++;
drop:
	pkt_free(pk);
}

/* ------------------------------------------------------------------ ICMP */

/* icmp_err_convert's errnos for the destination-unreachable codes */
static const uint8_t unreach_errno[16] = {
	ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE, EOPNOTSUPP,
	ENETUNREACH, EHOSTDOWN, ENONET, ENETUNREACH, EHOSTUNREACH, ENETUNREACH,
	EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH,
};

/*
 * tcp_simple_retransmit - after the MSS shrank, everything larger than it
 * is lost and goes again, without a congestion response (the units
 * changed, not the amount of data in flight).
 */
static void simple_retransmit(struct tcp_sock *tp)
{
	/* a Fast Open SYN is SYN + data: all of it is lost */
	uint32_t mss = (tp->syn_data && tp->sk.state == TCP_SYN_SENT) ? 0 : tcp_current_mss(tp);

	for (struct pkt *p = tp->rtx_queue.head; p; p = p->next)
		if (!mss || p->tot_len > mss)
			mark_lost(tp, p);
	if (!tp->lost_out)
		return;
	if (!tp->sack_ok) {
		/* tcp_limit_reno_sacked */
		uint32_t holes = tp->lost_out ? tp->lost_out : 1;

		if (holes > tp->packets_out)
			holes = tp->packets_out;
		if (tp->sacked_out + holes > tp->packets_out)
			tp->sacked_out = tp->packets_out - holes;
	}
	non_congestion_loss_retransmit(tp);
}

/* tcp_v4_mtu_reduced: fragmentation needed (RFC 1191) */
static void mtu_reduced(struct tcp_sock *tp, uint32_t mtu)
{
	struct sock *sk = &tp->sk;
	uint32_t dst_mtu = 0, newmtu;
	bool locked = false;

	if (TCPF(sk->state) & (TCPF(TCP_LISTEN) | TCPF(TCP_CLOSE)))
		return;
	if (tp->dst.rt && tp->dst.rt->mtu)
		dst_mtu = tp->dst.rt->mtu;
	else if (tp->dst.dev)
		dst_mtu = tp->dst.dev->mtu;
	if (tp->pmtu_cookie && (!dst_mtu || tp->pmtu_cookie < dst_mtu))
		dst_mtu = tp->pmtu_cookie;	/* what this socket learned already */
	/* __ip_rt_update_pmtu: never below min_pmtu, and only downwards */
	newmtu = mtu;
	if (newmtu < IP_RT_MIN_PMTU) {
		locked = true;
		newmtu = dst_mtu && dst_mtu < IP_RT_MIN_PMTU ? dst_mtu : IP_RT_MIN_PMTU;
	}
	if (dst_mtu && newmtu > dst_mtu)
		newmtu = dst_mtu;
	/* ip_dont_fragment: remember a soft error in case this cannot recover */
	if (mtu < newmtu && (sk->pmtudisc == IP_PMTUDISC_DO || sk->pmtudisc == IP_PMTUDISC_PROBE ||
			     (sk->pmtudisc == IP_PMTUDISC_WANT && !locked)))
		TCP_WRITE(sk->err_soft, EMSGSIZE);
	if (sk->pmtudisc != IP_PMTUDISC_DONT && sk->pmtudisc != IP_PMTUDISC_INTERFACE &&
	    sk->pmtudisc != IP_PMTUDISC_OMIT && tp->pmtu_cookie > newmtu) {
		tcp_sync_mss(tp, newmtu);
		/* the old segments were dropped: the new "fast" PMTU discovery */
		simple_retransmit(tp);
	}
}

/* tcp_ld_RTO_revert: RFC 6069, an unreachable for the head undoes one backoff */
static void ld_rto_revert(struct tcp_sock *tp, uint32_t seq)
{
	const struct pkt *head = tp->rtx_queue.head;
	uint64_t base, rto, elapsed;

	if (seq != tp->snd_una || !tp->retransmits || !tp->backoff || !head)
		return;
	tp->backoff--;
	base = tp->srtt_us ? (tp->srtt_us >> 3) + tp->rttvar_us : TCP_TIMEOUT_INIT_US;
	rto = base << tp->backoff;
	if (rto > TCP_RTO_MAX_US)
		rto = TCP_RTO_MAX_US;
	tp->rto_us = (uint32_t)rto;
	tcp_mstamp_refresh(tp);
	elapsed = tp->tcp_mstamp - TCP_SKB_CB(head)->tx_us;
	/* a revert that already ran out retransmits now */
	tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, rto > elapsed ? rto - elapsed : 0,
			     TCP_RTO_MAX_US);
}

static void sock_err(struct tcp_sock *tp, const struct pkt *icmp, uint32_t seq, uint8_t type,
		     uint8_t code, uint32_t info)
{
	struct sock *sk = &tp->sk;
	struct tcp_request_sock *req = tp->fastopen_rsk;
	uint32_t snd_una = req ? req->snt_isn : tp->snd_una;
	int err;

	if (sk->state == TCP_CLOSE)
		return;
	/* only about what is in flight */
	if (!tcp_between(seq, snd_una, tp->snd_nxt))
		return;
	switch (type) {
	case ICMP4_PARAMETERPROB:
		err = EPROTO;
		break;
	case ICMP4_DEST_UNREACH:
		if (code > 15)
			return;
		if (code == ICMP4_FRAG_NEEDED) {
			mtu_reduced(tp, info);
			return;
		}
		err = unreach_errno[code];
		if (!req && (code == ICMP4_NET_UNREACH || code == ICMP4_HOST_UNREACH))
			ld_rto_revert(tp, seq);
		break;
	case ICMP4_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	default:	/* redirects and source quench change nothing here */
		return;
	}
	switch (sk->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		/* an accepted Fast Open child counts as connected */
		if (req && !tp->parent)
			break;
		/* tcp_v4_err: queued (IP_RECVERR) before the connection ends;
		 * the payload is the quoted segment from its TCP header on */
		ip4_icmp_error(sk, icmp, err, type, code, info, sk->daddr, sk->dport, 0);
		done_with_error(tp, err);
		return;
	default:
		break;
	}
	/* connected: only IP_RECVERR makes it a hard error (RFC 1122 4.2.3.9) */
	if (sk->inet_flags & INF_RECVERR)
		sk_report_error(sk, err);
	else
		TCP_WRITE(sk->err_soft, err);
}

/*
 * tcp_v4_err - an ICMP error quoting our segment (saddr:sport us, seq host
 * order): PMTU, RFC 6069 backoff revert, abort of a handshake, soft error.
 */
void tcp_v4_err(struct netns *ns, const struct pkt *icmp, uint32_t saddr, uint32_t daddr,
		uint16_t sport, uint16_t dport, uint32_t seq, uint8_t type, uint8_t code, uint32_t info)
{
	/* the quoted segment is ours: seen from the peer, daddr:dport is the remote end */
	struct tcp_hnode *hn = tcp_lookup(ns, daddr, dport, saddr, sport, 0);
	struct tcp_sock *tp;

	if (!hn || hn->kind == TCP_HK_TW)
		return;
	if (hn->kind == TCP_HK_REQ) {
		/* tcp_req_err: a hard error for our SYN-ACK drops the request silently */
		struct tcp_request_sock *req = (struct tcp_request_sock *)(void *)hn;

		if (seq == req->snt_isn &&
		    (type == ICMP4_PARAMETERPROB || type == ICMP4_TIME_EXCEEDED ||
		     (type == ICMP4_DEST_UNREACH &&
		      (code == ICMP4_NET_UNREACH || code == ICMP4_HOST_UNREACH)))) {
			tcp_table(ns)->mib.listen_drops++;
			tcp_reqsk_free(req);
		}
		return;
	}
	tp = tcp_from_hn(hn);
	if (tp->sk.state == TCP_LISTEN)	/* only established-table sockets hear errors */
		return;
	sock_hold(&tp->sk);
	sock_err(tp, icmp, seq, type, code, info);
	sock_put_locked(&tp->sk);
}
