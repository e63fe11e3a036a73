/* SPDX-License-Identifier: MIT */
/*
 * tcp_rcvq.c - receive side of a connection: data queues, SACK blocks, ACK scheduling
 *
 * Theory of operation.  tcp_in.c validates a segment and runs the state
 * machine; what the segment brings for the reader comes here: its text
 * (tcp_data_queue), a FIN in sequence (tcp_fin), urgent data (tcp_urg),
 * and the decision when to ACK (tcp_event_data_recv, tcp_ack_snd_check:
 * quick ACKs, delayed ACKs, ato).  This file owns sk->rcvq, tp->ofo_queue,
 * the SACK and D-SACK blocks we send and the receive-buffer accounting.
 *
 * Receive queues.  Data is never copied: the arriving packet itself (data
 * at the payload) is queued.  sk->rcvq holds in-order packets, each
 * starting exactly at TCP_SKB_CB(pk)->seq (overlap with older data is
 * pulled off, a SYN never stays in it; end_seq counts a FIN); a FIN-only
 * packet is folded into the tail packet as tcp_try_coalesce folds it.
 * tp->ofo_queue is sorted by seq without overlaps (the lower-sequence
 * packet keeps the shared bytes, as the kernel's reading order does);
 * appending after its tail, the common case, is O(1), an insertion into a
 * hole walks from the head (a singly linked list has no rbtree; holes fill
 * from the front in practice).  Both queues are charged to sk->rmem by
 * meta.truesize (pkt_kernel_truesize of the frame when the link gave none),
 * which tcp_recv.c and tcp.c give back.  A segment is taken while rmem is
 * at most rcvbuf (tcp_try_rmem_schedule), else the window is clamped
 * (which may grow an unlocked rcvbuf, as tcp_clamp_window does) and the
 * out-of-order queue pruned from its end; queue collapsing (copying into
 * compact buffers) is not done.
 *
 * Limits: no receive-side RTT estimate (rcv_rtt_est), no SACK compression
 * (an out-of-order arrival is ACKed at once), no SIGURG.
 */
#include <poll.h>
#include <stddef.h>

#include "buf/pkt.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_in_int.h"
#include "wire/tcp.h"

#define TCP_MAX_TCP_HEADER 320u		/* MAX_TCP_HEADER of a distribution kernel */
#define TCP_SHINFO_SIZE 320u		/* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */
#define TCP_SKB_SIZE 256u		/* SKB_DATA_ALIGN(sizeof(struct sk_buff)) */

/* tcp_rcv_nxt_update: bytes_received follows rcv_nxt (a FIN included, as in the kernel) */
static inline void rcv_nxt_update(struct tcp_sock *tp, uint32_t seq)
{
	tp->bytes_received += seq - tp->rcv_nxt;
	TCP_WRITE(tp->rcv_nxt, seq);
}

/* Pull the bytes before to_seq off a queued packet (a SYN counts one and goes). */
static void trim_front(struct pkt *pk, uint32_t to_seq)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t n = to_seq - cb->seq;

	if (cb->tcp_flags & TCP_HDR_SYN) {
		cb->tcp_flags &= (uint16_t)~TCP_HDR_SYN;
		n--;
	}
	if (n > pk->tot_len)
		n = pk->tot_len;
	if (n)
		pkt_pull(pk, n);
	cb->seq = to_seq;
}

/* ---------------------------------------------------------- ACK scheduling */

/* tcp_incr_quickack */
static void incr_quickack(struct tcp_sock *tp, unsigned max_quickacks)
{
	unsigned mss = tp->ack.rcv_mss ? tp->ack.rcv_mss : TCP_MIN_MSS;
	unsigned quickacks = tp->rcv_wnd / (2 * mss);

	if (!quickacks)
		quickacks = 2;
	if (quickacks > max_quickacks)
		quickacks = max_quickacks;
	if (quickacks > tp->ack.quick)
		tp->ack.quick = (uint8_t)quickacks;
}

/* tcp_enter_quickack_mode - ACK the next segments at once (up to max_quickacks), leave pingpong. */
void tcp_enter_quickack_mode(struct tcp_sock *tp, unsigned max_quickacks)
{
	incr_quickack(tp, max_quickacks);
	tp->ack.pingpong = false;
	tp->ack.ato_us = TCP_ATO_MIN_US;
}

static inline bool in_quickack_mode(const struct tcp_sock *tp)
{
	return tp->ack.quick && !tp->ack.pingpong;
}

/* tcp_measure_rcv_mss: the peer's segment size, for the delayed-ACK decision */
static void measure_rcv_mss(struct tcp_sock *tp, const struct seg_info *si)
{
	uint32_t lss = tp->ack.last_seg_size, len = si->len;

	tp->ack.last_seg_size = 0;
	if (len >= tp->ack.rcv_mss) {
		tp->ack.rcv_mss = (uint16_t)(len < tp->advmss ? len : tp->advmss);
		/* a full segment with PSH likely ends a write: ACK when it is read */
		if (si->flags & TCP_HDR_PSH)
			tp->ack.pending |= ICSK_ACK_PUSHED;
		return;
	}
	len += si->hdrlen;
	if (len >= TCP_MSS_DEFAULT + TCP_HLEN ||
	    (len >= TCP_MIN_MSS + TCP_HLEN &&
	     !(si->flags & (TCP_HDR_FIN | TCP_HDR_URG | TCP_HDR_SYN | TCP_HDR_PSH)))) {
		len -= tcp_hdr_len(tp);
		tp->ack.last_seg_size = (uint16_t)len;
		if (len == lss) {
			tp->ack.rcv_mss = (uint16_t)len;
			return;
		}
	}
	if (tp->ack.pending & ICSK_ACK_PUSHED)
		tp->ack.pending |= ICSK_ACK_PUSHED2;
	tp->ack.pending |= ICSK_ACK_PUSHED;
}

/* tcp_grow_window: open rcv_ssthresh when segments use the buffer well */
static void grow_window(struct tcp_sock *tp, uint32_t len, uint32_t truesize)
{
	struct sock *sk = &tp->sk;
	int space = tcp_space(sk);
	int64_t clamp = tp->window_clamp;
	int64_t room = (clamp < space ? clamp : space) - (int64_t)tp->rcv_ssthresh;
	int64_t incr = 0;

	if (room <= 0)
		return;
	if (tcp_win_from_space(sk, (int)truesize) <= (int)len) {
		incr = 2 * (int64_t)tp->advmss;
	} else {
		/* __tcp_grow_window */
		int ts = tcp_win_from_space(sk, (int)truesize) >> 1;
		int window = tcp_win_from_space(sk, tcp_sys(sk)->rmem[2]) >> 1;

		while ((int64_t)tp->rcv_ssthresh <= window) {
			if (ts <= (int)len) {
				incr = 2 * (int64_t)tp->ack.rcv_mss;
				break;
			}
			ts >>= 1;
			window >>= 1;
		}
	}
	if (incr) {
		if (incr < 2 * (int64_t)len)
			incr = 2 * (int64_t)len;
		tp->rcv_ssthresh += (uint32_t)(room < incr ? room : incr);
		tp->ack.quick |= 1;
	}
}

/* tcp_event_data_recv: data arrived; adapt ato and the quick-ACK budget */
void tcp_event_data_recv(struct tcp_sock *tp, const struct seg_info *si)
{
	uint64_t now = tp->tcp_mstamp;

	ack_schedule(tp);
	measure_rcv_mss(tp, si);
	if (!tp->ack.ato_us) {
		/* the first data: start the delayed-ACK engine quick */
		incr_quickack(tp, TCP_MAX_QUICKACKS);
		tp->ack.ato_us = TCP_ATO_MIN_US;
	} else {
		uint64_t m = now - tp->ack.lrcvtime_us;

		if (m <= TCP_ATO_MIN_US / 2) {
			tp->ack.ato_us = (tp->ack.ato_us >> 1) + TCP_ATO_MIN_US / 2;
		} else if (m < tp->ack.ato_us) {
			tp->ack.ato_us = (tp->ack.ato_us >> 1) + (uint32_t)m;
			if (tp->ack.ato_us > tp->rto_us)
				tp->ack.ato_us = tp->rto_us;
		} else if (m > tp->rto_us) {
			/* a long gap: the sender failed to restart its window */
			incr_quickack(tp, TCP_MAX_QUICKACKS);
		}
	}
	tp->ack.lrcvtime_us = now;
	tp->last_data_recv_ms = (uint32_t)(now / 1000u);
	if (si->len >= 128)
		grow_window(tp, si->len, si->truesize);
}

/* __tcp_ack_snd_check */
void tcp_ack_snd_check_now(struct tcp_sock *tp, bool ofo_possible)
{
	struct sock *sk = &tp->sk;

	if ((tp->rcv_nxt - tp->rcv_wup > tp->ack.rcv_mss &&
	     /* ... and the right edge moves far enough (tcp_recvmsg ACKs otherwise) */
	     ((int)(tp->rcv_nxt - tp->copied_seq) < sk->rcvlowat ||
	      tcp_compute_window(tp) >= tp->rcv_wnd)) ||
	    in_quickack_mode(tp) || (tp->ack.pending & ICSK_ACK_NOW)) {
		tcp_send_ack(tp);
		return;
	}
	if (!ofo_possible || !tp->ofo_queue.head) {
		tcp_send_delayed_ack(tp);
		return;
	}
	/* no SACK compression: out-of-order data is reported at once */
	tcp_send_ack(tp);
}

/* tcp_ack_snd_check */
void tcp_ack_snd_check(struct tcp_sock *tp)
{
	if (tp->ack.pending & ICSK_ACK_SCHED)
		tcp_ack_snd_check_now(tp, true);
}

/* ----------------------------------------------------------------- SACK */

/* tcp_sack_extend */
static bool sack_extend(struct tcp_sack_block *sp, uint32_t seq, uint32_t end_seq)
{
	if (!tcp_after(seq, sp->end) && !tcp_after(sp->start, end_seq)) {
		if (tcp_before(seq, sp->start))
			sp->start = seq;
		if (tcp_after(end_seq, sp->end))
			sp->end = end_seq;
		return true;
	}
	return false;
}

/* tcp_dsack_set */
static void dsack_set(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	if (tp->sack_ok && tcp_sys(&tp->sk)->dsack) {
		tp->dsack = true;
		tp->duplicate_sack[0].start = seq;
		tp->duplicate_sack[0].end = end_seq;
	}
}

/* tcp_dsack_extend */
static void dsack_extend(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	if (!tp->dsack)
		dsack_set(tp, seq, end_seq);
	else
		sack_extend(tp->duplicate_sack, seq, end_seq);
}

/* tcp_sack_maybe_coalesce: the first block grew; swallow the ones it reaches */
static void sack_maybe_coalesce(struct tcp_sock *tp)
{
	struct tcp_sack_block *sp = tp->selective_acks;

	for (int i = 1; i < tp->num_sacks;) {
		if (sack_extend(&sp[0], sp[i].start, sp[i].end)) {
			tp->num_sacks--;
			for (int j = i; j < tp->num_sacks; j++)
				sp[j] = sp[j + 1];
			continue;
		}
		i++;
	}
}

/* tcp_sack_new_ofo_skb: the newest block goes first (RFC 2018) */
static void sack_new_ofo(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	struct tcp_sack_block *sp = tp->selective_acks;
	int cur = tp->num_sacks, i;

	for (i = 0; i < cur; i++) {
		if (sack_extend(&sp[i], seq, end_seq)) {
			for (; i > 0; i--) {
				struct tcp_sack_block t = sp[i];

				sp[i] = sp[i - 1];
				sp[i - 1] = t;
			}
			if (cur > 1)
				sack_maybe_coalesce(tp);
			return;
		}
	}
	/* a new block in front; a full array forgets its oldest */
	if (i >= TCP_MAX_SACKS) {
		i--;
		tp->num_sacks--;
	}
	for (; i > 0; i--)
		sp[i] = sp[i - 1];
	sp[0].start = seq;
	sp[0].end = end_seq;
	tp->num_sacks++;
}

/* tcp_sack_remove: rcv_nxt advanced over some blocks */
static void sack_remove(struct tcp_sock *tp)
{
	struct tcp_sack_block *sp = tp->selective_acks;
	int n = tp->num_sacks;

	if (!tp->ofo_queue.head) {
		tp->num_sacks = 0;
		return;
	}
	for (int i = 0; i < n;) {
		if (!tcp_before(tp->rcv_nxt, sp[i].start)) {
			for (int j = i + 1; j < n; j++)
				sp[j - 1] = sp[j];
			n--;
			continue;
		}
		i++;
	}
	tp->num_sacks = (uint8_t)n;
}

/* tcp_send_dupack: answer an unacceptable segment, reporting a duplicate as D-SACK */
void tcp_send_dupack(struct tcp_sock *tp, const struct tcp_skb_cb *cb)
{
	if (cb->end_seq != cb->seq && tcp_before(cb->seq, tp->rcv_nxt)) {
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		if (tp->sack_ok && tcp_sys(&tp->sk)->dsack) {
			uint32_t end = cb->end_seq;

			if (tcp_after(end, tp->rcv_nxt))
				end = tp->rcv_nxt;
			dsack_set(tp, cb->seq, end);
		}
	}
	tcp_send_ack(tp);
}

/* -------------------------------------------------------- buffer space */

/* tcp_sndbuf_expand: room for two windows of worst-case (non-GSO) buffers */
static void sndbuf_expand(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	uint32_t per_mss = (tp->mss_clamp > tp->mss_cache ? tp->mss_clamp : tp->mss_cache) +
			   TCP_MAX_TCP_HEADER + TCP_SHINFO_SIZE;
	uint32_t pow = 1, nr_segs;
	uint64_t sndmem;

	while (pow < per_mss)
		pow <<= 1;
	per_mss = pow + TCP_SKB_SIZE;
	nr_segs = tp->snd_cwnd > TCP_INIT_CWND ? tp->snd_cwnd : TCP_INIT_CWND;
	if (nr_segs < tp->reordering + 1)
		nr_segs = tp->reordering + 1;
	/* CUBIC has no sndbuf_expand: the factor is 2 (fast recovery) */
	sndmem = 2ull * nr_segs * per_mss;
	if ((uint64_t)sk->sndbuf < sndmem) {
		int max = tcp_sys(sk)->wmem[2];

		sk->sndbuf = sndmem < (uint64_t)max ? (int)sndmem : max;
	}
}

/*
 * tcp_init_buffer_space - the connection is established: grow an unlocked
 * sndbuf for two windows, derive window_clamp from rcvbuf (keeping
 * 1/2^app_win and one segment for the application) and start the
 * receive-space measurement.
 */
void tcp_init_buffer_space(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	int app_win = tcp_sys(sk)->app_win;
	int64_t maxwin, advmss = tp->advmss;
	uint32_t space;

	if (!(sk->flags & SKF_SNDBUF_LOCK))
		sndbuf_expand(tp);
	tcp_mstamp_refresh(tp);
	tp->rcvq_space_time_us = tp->tcp_mstamp;
	tp->rcvq_space_seq = tp->copied_seq;

	maxwin = tcp_full_space(sk);
	if ((int64_t)tp->window_clamp >= maxwin) {
		tp->window_clamp = (uint32_t)(maxwin > 0 ? maxwin : 0);
		if (app_win && maxwin > 4 * advmss) {
			int64_t w = maxwin - (maxwin >> app_win);

			tp->window_clamp = (uint32_t)(w > 4 * advmss ? w : 4 * advmss);
		}
	}
	/* keep one segment of the buffer for the application */
	if (app_win && (int64_t)tp->window_clamp > 2 * advmss &&
	    (int64_t)tp->window_clamp + advmss > maxwin) {
		int64_t w = maxwin - advmss;

		tp->window_clamp = (uint32_t)(w > 2 * advmss ? w : 2 * advmss);
	}
	if (tp->rcv_ssthresh > tp->window_clamp)
		tp->rcv_ssthresh = tp->window_clamp;
	tp->snd_cwnd_stamp = tp->tcp_mstamp;
	space = tp->rcv_ssthresh < tp->rcv_wnd ? tp->rcv_ssthresh : tp->rcv_wnd;
	if (space > TCP_INIT_CWND * (uint32_t)tp->advmss)
		space = TCP_INIT_CWND * (uint32_t)tp->advmss;
	tp->rcvq_space = space;
}

/* tcp_clamp_window: the buffer overflowed; grow an unlocked rcvbuf to what is held */
static void clamp_window(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	int rmem2 = tcp_sys(sk)->rmem[2];

	tp->ack.quick = 0;
	if (sk->rcvbuf < rmem2 && !(sk->flags & SKF_RCVBUF_LOCK))
		sk->rcvbuf = (int)sk->rmem < rmem2 ? (int)sk->rmem : rmem2;
	if ((int64_t)sk->rmem > sk->rcvbuf) {
		uint32_t two = 2u * tp->advmss;

		tp->rcv_ssthresh = tp->window_clamp < two ? tp->window_clamp : two;
	}
}

/* Reverse a packet list in place (for walking the out-of-order queue backwards). */
static void queue_reverse(struct pkt_queue *q)
{
	struct pkt *prev = NULL, *p = q->head, *next;

	q->tail = p;
	while (p) {
		next = p->next;
		p->next = prev;
		prev = p;
		p = next;
	}
	q->head = prev;
}

/*
 * tcp_prune_ofo_queue - drop the highest out-of-order packets, never one
 * below the arriving segment (holes get a chance to fill), at least an
 * eighth of rcvbuf at a time.  Return: true if anything was dropped.
 */
static bool prune_ofo_queue(struct tcp_sock *tp, uint32_t in_seq)
{
	struct sock *sk = &tp->sk;
	struct pkt_queue *q = &tp->ofo_queue;
	int goal = sk->rcvbuf >> 3;
	bool pruned = false;
	struct pkt *p;

	if (!q->head)
		return false;
	queue_reverse(q);
	while ((p = q->head) != NULL) {
		if (tcp_after(in_seq, TCP_SKB_CB(p)->seq))
			break;
		pkt_queue_pop(q);
		pruned = true;
		goal -= (int)p->meta.truesize;
		rmem_uncharge(tp, p);
		tcp_drop(tp, p);
		if (!q->head || goal <= 0) {
			if ((int64_t)sk->rmem <= sk->rcvbuf)
				break;
			goal = sk->rcvbuf >> 3;
		}
	}
	queue_reverse(q);
	if (pruned && tp->sack_ok) {
		tp->num_sacks = 0;	/* tcp_sack_reset */
		tp->dsack = false;
	}
	return pruned;
}

/* tcp_prune_queue (without collapsing). Return: 0, or -1 to drop what arrives. */
static int prune_queue(struct tcp_sock *tp, uint32_t in_seq)
{
	struct sock *sk = &tp->sk;

	if ((int64_t)sk->rmem >= sk->rcvbuf)
		clamp_window(tp);
	if ((int64_t)sk->rmem <= sk->rcvbuf)
		return 0;
	prune_ofo_queue(tp, in_seq);
	if ((int64_t)sk->rmem <= sk->rcvbuf)
		return 0;
	return -1;
}

/* tcp_try_rmem_schedule: over rcvbuf already (before this one) means pruning first. */
static int try_rmem_schedule(struct tcp_sock *tp, const struct pkt *pk)
{
	if ((int64_t)tp->sk.rmem > tp->sk.rcvbuf)
		return prune_queue(tp, TCP_SKB_CB(pk)->seq);
	return 0;
}

/* ---------------------------------------------------------- receive queue */

/* tcp_data_ready: wake readers only once SO_RCVLOWAT (or pressure) is reached */
void tcp_data_ready(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	int avail = (int)(tp->rcv_nxt - tp->copied_seq);
	bool ready = false;

	if (avail > 0) {
		int target = sk->rcvlowat > 0 ? sk->rcvlowat : 1;

		ready = avail >= target ||
			(int64_t)sk->rmem > sk->rcvbuf - (sk->rcvbuf >> 3) ||
			tcp_receive_window(tp) <= tp->ack.rcv_mss;
	}
	if (ready || (sk->shutdown & RCV_SHUTDOWN))
		data_ready_wake(tp);
}

/*
 * tcp_queue_rcv - append an in-order packet (charged already or now) and
 * advance rcv_nxt; a FIN without data is folded into the tail packet as
 * tcp_try_coalesce does.  Consumes pk.
 */
void tcp_queue_rcv(struct tcp_sock *tp, struct pkt *pk, bool charged)
{
	struct sock *sk = &tp->sk;
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	struct pkt *tail = sk->rcvq.tail;

	rcv_nxt_update(tp, cb->end_seq);
	if (!pk->tot_len && tail && TCP_SKB_CB(tail)->end_seq == cb->seq) {
		TCP_SKB_CB(tail)->end_seq = cb->end_seq;
		TCP_SKB_CB(tail)->tcp_flags |= cb->tcp_flags;
		if (charged)
			rmem_uncharge(tp, pk);
		pkt_free(pk);
		return;
	}
	if (!charged) {
		rx_stamp(tp, pk);
		rmem_charge(tp, pk);
	}
	pkt_queue_push(&sk->rcvq, pk);
}

/*
 * tcp_fin - the peer's FIN is in sequence: RCV_SHUTDOWN, the state moves
 * on, out-of-order data after the FIN is dropped.  May put tp into
 * TIME_WAIT (tcp_time_wait); the caller holds a reference.
 */
void tcp_fin(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	struct pkt *p;

	ack_schedule(tp);
	TCP_WRITE(sk->shutdown, (uint8_t)(sk->shutdown | RCV_SHUTDOWN));
	tp->done = true;	/* sock_set_flag(sk, SOCK_DONE) */
	switch (sk->state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(tp, TCP_CLOSE_WAIT);
		tp->ack.pingpong = true;	/* inet_csk_enter_pingpong_mode */
		break;
	case TCP_FIN_WAIT1:
		/* simultaneous close */
		tcp_send_ack(tp);
		tcp_set_state(tp, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		tcp_send_ack(tp);
		tcp_time_wait(tp, TCP_TIME_WAIT, 0);
		break;
	default:	/* CLOSE_WAIT, CLOSING, LAST_ACK: a retransmitted FIN */
		break;
	}
	/* out-of-order data after the FIN: dropped (skb_rbtree_purge) */
	while ((p = pkt_queue_pop(&tp->ofo_queue)) != NULL) {
		rmem_uncharge(tp, p);
		pkt_free(p);
	}
	if (tp->sack_ok) {
		tp->num_sacks = 0;
		tp->dsack = false;
	}
	if (!tp->orphan)
		tcp_state_change(tp);
}

/* tcp_ofo_queue: move what became in-order across; overlap with delivered data is D-SACKed */
static void ofo_queue(struct tcp_sock *tp)
{
	uint32_t dsack_high = tp->rcv_nxt;
	struct pkt *p;

	while ((p = tp->ofo_queue.head) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(p);
		bool fin;

		if (tcp_after(cb->seq, tp->rcv_nxt))
			break;
		if (tcp_before(cb->seq, dsack_high)) {
			uint32_t dsack = dsack_high;

			if (tcp_before(cb->end_seq, dsack_high))
				dsack_high = cb->end_seq;
			dsack_extend(tp, cb->seq, dsack);
		}
		pkt_queue_pop(&tp->ofo_queue);
		if (!tcp_after(cb->end_seq, tp->rcv_nxt)) {
			rmem_uncharge(tp, p);
			tcp_drop(tp, p);
			continue;
		}
		if (tcp_before(cb->seq, tp->rcv_nxt))
			trim_front(p, tp->rcv_nxt);
		fin = cb->tcp_flags & TCP_HDR_FIN;
		tcp_queue_rcv(tp, p, true);
		if (fin) {
			tcp_fin(tp);	/* it purged the rest */
			break;
		}
	}
}

static void ofo_link(struct pkt_queue *q, struct pkt *prev, struct pkt *pk)
{
	if (!prev) {
		pk->next = q->head;
		q->head = pk;
	} else {
		pk->next = prev->next;
		prev->next = pk;
	}
	if (q->tail == prev)
		q->tail = pk;
	q->count++;
	q->bytes += pk->meta.truesize;
}

static void ofo_unlink(struct pkt_queue *q, struct pkt *prev, struct pkt *p)
{
	if (prev)
		prev->next = p->next;
	else
		q->head = p->next;
	if (q->tail == p)
		q->tail = prev;
	p->next = NULL;
	q->count--;
	q->bytes -= p->meta.truesize;
}

/*
 * tcp_data_queue_ofo - keep a segment that arrived ahead of a hole, sorted,
 * with what is already held trimmed away, and report it in the SACK blocks.
 * Consumes pk.
 */
static void data_queue_ofo(struct tcp_sock *tp, struct pkt *pk)
{
	struct pkt_queue *q = &tp->ofo_queue;
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t seq = cb->seq, end_seq = cb->end_seq;
	uint32_t len = pk->tot_len, truesize = pk->meta.truesize;
	struct pkt *prev = NULL, *pprev = NULL, *p;

	if (try_rmem_schedule(tp, pk)) {
		data_ready_wake(tp);
		tcp_drop(tp, pk);
		return;
	}
	ack_schedule(tp);
	tp->rcv_ooopack++;
	rx_stamp(tp, pk);

	if (!q->head) {
		/* the first out-of-order segment: one SACK block */
		if (tp->sack_ok) {
			tp->num_sacks = 1;
			tp->selective_acks[0].start = seq;
			tp->selective_acks[0].end = end_seq;
		}
		ofo_link(q, NULL, pk);
		rmem_charge(tp, pk);
		goto grow;
	}
	if (!tcp_before(seq, TCP_SKB_CB(q->tail)->end_seq)) {
		/* the usual case: beyond everything held */
		ofo_link(q, q->tail, pk);
		rmem_charge(tp, pk);
		goto add_sack;
	}
	for (p = q->head; p && !tcp_before(seq, TCP_SKB_CB(p)->seq); p = p->next) {
		pprev = prev;
		prev = p;
	}
	if (prev && tcp_before(seq, TCP_SKB_CB(prev)->end_seq)) {
		struct tcp_skb_cb *pcb = TCP_SKB_CB(prev);

		if (!tcp_after(end_seq, pcb->end_seq)) {
			/* all of it is here already */
			tcp_drop(tp, pk);
			pk = NULL;
			dsack_set(tp, seq, end_seq);
			goto add_sack;
		}
		if (tcp_after(seq, pcb->seq)) {
			dsack_set(tp, seq, pcb->end_seq);
			trim_front(pk, pcb->end_seq);
		} else {
			/* same start, more data: it replaces the old one */
			dsack_extend(tp, pcb->seq, pcb->end_seq);
			ofo_unlink(q, pprev, prev);
			rmem_uncharge(tp, prev);
			tcp_drop(tp, prev);
			prev = pprev;
		}
	}
	ofo_link(q, prev, pk);
	rmem_charge(tp, pk);
	/* merge right: what the new segment covers goes */
	while ((p = pk->next) != NULL) {
		struct tcp_skb_cb *ncb = TCP_SKB_CB(p);

		if (!tcp_after(end_seq, ncb->seq))
			break;
		if (tcp_before(end_seq, ncb->end_seq)) {
			dsack_extend(tp, ncb->seq, end_seq);
			trim_front(p, end_seq);
			break;
		}
		ofo_unlink(q, pk, p);
		dsack_extend(tp, ncb->seq, ncb->end_seq);
		rmem_uncharge(tp, p);
		tcp_drop(tp, p);
	}
add_sack:
	if (tp->sack_ok)
		sack_new_ofo(tp, seq, end_seq);
grow:
	/* without SACK the window stays, so that duplicate ACKs trigger fast retransmit */
	if (pk && tp->sack_ok)
		grow_window(tp, len, truesize);
}

/* In sequence and in window: queue it, then whatever it made in-order. Consumes pk. */
static void queue_in_order(struct tcp_sock *tp, struct pkt *pk, const struct seg_info *si)
{
	struct sock *sk = &tp->sk;
	bool fin = TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_FIN;

	if (try_rmem_schedule(tp, pk)) {
		tp->ack.pending |= ICSK_ACK_NOMEM | ICSK_ACK_NOW;
		ack_schedule(tp);
		data_ready_wake(tp);
		if (sk->rcvq.count && pk->tot_len) {
			tcp_drop(tp, pk);
			return;
		}
		/* sk_forced_mem_schedule: an empty queue always takes one */
	}
	tcp_queue_rcv(tp, pk, false);
	if (si->len)
		tcp_event_data_recv(tp, si);
	if (fin)
		tcp_fin(tp);
	if (tp->ofo_queue.head) {
		ofo_queue(tp);
		/* RFC 5681 4.2: ACK at once when a gap is filled */
		if (!tp->ofo_queue.head)
			tp->ack.pending |= ICSK_ACK_NOW;
	}
	if (tp->num_sacks)
		sack_remove(tp);
	if (!tp->orphan)
		tcp_data_ready(tp);
}

/* tcp_data_queue - step 7, the segment text. Consumes pk (data at the payload). */
void tcp_data_queue(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	struct seg_info si = {.len = pk->tot_len, .truesize = pk->meta.truesize,
			      .flags = cb->tcp_flags, .hdrlen = (uint16_t)(th->doff * 4u)};

	if (cb->seq == cb->end_seq) {
		pkt_free(pk);
		return;
	}
	tp->dsack = false;
	if (cb->seq == tp->rcv_nxt) {
		if (!tcp_receive_window(tp)) {
			/* some stacks loop bare FINs into a zero window: take the FIN */
			if (!pk->tot_len && (cb->tcp_flags & TCP_HDR_FIN))
				goto queue;
			goto out_of_window;
		}
queue:
		queue_in_order(tp, pk, &si);
		return;
	}
	if (!tcp_after(cb->end_seq, tp->rcv_nxt)) {
		/* a retransmission of what we have: ACK at once */
		dsack_set(tp, cb->seq, cb->end_seq);
out_of_window:
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		ack_schedule(tp);
		tcp_drop(tp, pk);
		return;
	}
	/* beyond the window, e.g. a zero-window probe */
	if (!tcp_before(cb->seq, tp->rcv_nxt + tcp_receive_window(tp)))
		goto out_of_window;
	if (tcp_before(cb->seq, tp->rcv_nxt)) {
		/* partly old: D-SACK the head, keep the rest */
		dsack_set(tp, cb->seq, tp->rcv_nxt);
		if (!tcp_receive_window(tp))
			goto out_of_window;
		trim_front(pk, tp->rcv_nxt);
		goto queue;
	}
	data_queue_ofo(tp, pk);
}

/* --------------------------------------------------------------- urgent */

/* tcp_check_urg: a new urgent pointer (BSD style: it points past the byte) */
static void check_urg(struct tcp_sock *tp, const struct tcp_repr *th)
{
	struct sock *sk = &tp->sk;
	uint32_t ptr = th->urg;

	if (ptr)	/* net.ipv4.tcp_stdurg = 0 */
		ptr--;
	ptr += th->seq;
	/* already seen and read, or already received: not replayed */
	if (tcp_after(tp->copied_seq, ptr) || tcp_before(ptr, tp->rcv_nxt))
		return;
	if (tp->urg_data && !tcp_after(ptr, tp->urg_seq))
		return;
	/*
	 * The old urgent byte is next to read and is not inline: step over
	 * it now, or the reader would see it as data (tcp_check_urg).
	 */
	if (tp->urg_seq == tp->copied_seq && tp->urg_data && !(sk->flags & SKF_OOBINLINE) &&
	    tp->copied_seq != tp->rcv_nxt) {
		struct pkt *h = sk->rcvq.head;

		TCP_WRITE(tp->copied_seq, tp->copied_seq + 1);
		if (h && !tcp_before(tp->copied_seq, TCP_SKB_CB(h)->end_seq)) {
			pkt_queue_pop(&sk->rcvq);
			rmem_uncharge(tp, h);
			pkt_free(h);
		}
	}
	TCP_WRITE(tp->urg_data, (uint16_t)TCP_URG_NOTYET);
	TCP_WRITE(tp->urg_seq, ptr);
}

/* tcp_urg: note a new pointer; take the urgent byte when its segment is here */
void tcp_urg(struct tcp_sock *tp, const struct pkt *pk, const struct tcp_repr *th)
{
	if (th->flags & TCP_HDR_URG)
		check_urg(tp, th);
	if (tp->urg_data == TCP_URG_NOTYET) {
		uint32_t off = tp->urg_seq - th->seq - ((th->flags & TCP_HDR_SYN) ? 1u : 0u);

		if (off < pk->tot_len) {
			uint8_t b = 0;

			pkt_copy_out(pk, off, &b, 1);
			TCP_WRITE(tp->urg_data, (uint16_t)(TCP_URG_VALID | b));
			if (!tp->orphan)
				data_ready_wake(tp);
		}
	}
}
