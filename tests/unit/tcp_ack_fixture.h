/* SPDX-License-Identifier: MIT */
/*
 * tcp_ack_fixture.h - the harness test_tcp_rtt.c and test_tcp_rack.c share
 *
 * Theory of operation.  Each including test compiles tcp_ack.c and
 * tcp_recovery.c into itself with their public names, and the tcp/
 * functions they call, renamed to TAF_PREFIX (t_ or r_) + name, so both
 * tests link into the one unit binary next to the real libusock.a without
 * a clash.  The stubs below stand in for tcp_out.c, tcp_timer.c,
 * tcp_cubic.c and tcp_send.c and record what they saw.  The namespace is
 * a bare struct netns with a virtual clock and its own pools (NSMALL,
 * NMEDIUM, NLARGE, defined by the includer); every test ends with the
 * pools full.  Define TAF_STAMP_DELIVERED to have sent and retransmitted
 * packets carry tp->delivered in ack_seq, as tcp_rate_skb_sent does.
 */
#ifndef TESTS_UNIT_TCP_ACK_FIXTURE_H
#define TESTS_UNIT_TCP_ACK_FIXTURE_H

#define TAF_CAT2(a, b) a##b
#define TAF_CAT(a, b) TAF_CAT2(a, b)
#define TAF_NAME(n) TAF_CAT(TAF_PREFIX, n)

#define tcp_ack TAF_NAME(tcp_ack)
#define tcp_rtt_estimator TAF_NAME(tcp_rtt_estimator)
#define tcp_set_rto TAF_NAME(tcp_set_rto)
#define tcp_enter_loss TAF_NAME(tcp_enter_loss)
#define tcp_clear_retrans TAF_NAME(tcp_clear_retrans)
#define tcp_synack_rtt_meas TAF_NAME(tcp_synack_rtt_meas)
#define tcp_init_cwnd TAF_NAME(tcp_init_cwnd)
#define tcp_rearm_rto TAF_NAME(tcp_rearm_rto)
#define tcp_schedule_loss_probe TAF_NAME(tcp_schedule_loss_probe)
#define tcp_cwnd_restart TAF_NAME(tcp_cwnd_restart)
#define tcp_ca_acked TAF_NAME(tcp_ca_acked)
#define tcp_ca_cong_avoid TAF_NAME(tcp_ca_cong_avoid)
#define tcp_ca_event TAF_NAME(tcp_ca_event)
#define tcp_ca_set_state TAF_NAME(tcp_ca_set_state)
#define tcp_ca_ssthresh TAF_NAME(tcp_ca_ssthresh)
#define tcp_ca_undo_cwnd TAF_NAME(tcp_ca_undo_cwnd)
#define tcp_clamp_probe0_to_user_timeout TAF_NAME(tcp_clamp_probe0_to_user_timeout)
#define tcp_clear_xmit_timer TAF_NAME(tcp_clear_xmit_timer)
#define tcp_is_cwnd_limited TAF_NAME(tcp_is_cwnd_limited)
#define tcp_probe0_when TAF_NAME(tcp_probe0_when)
#define tcp_reset_xmit_timer TAF_NAME(tcp_reset_xmit_timer)
#define tcp_send_challenge_ack TAF_NAME(tcp_send_challenge_ack)
#define tcp_sync_mss TAF_NAME(tcp_sync_mss)
#define tcp_wmem_free_pkt TAF_NAME(tcp_wmem_free_pkt)
#define tcp_xmit_retransmit_queue TAF_NAME(tcp_xmit_retransmit_queue)
/* tcp_ack.c's partner in loss detection comes along (tcp_ack_int.h) */
#define tcp_enter_recovery TAF_NAME(tcp_enter_recovery)
#define tcp_cwnd_reduction TAF_NAME(tcp_cwnd_reduction)
#define tcp_mark_skb_lost TAF_NAME(tcp_mark_skb_lost)
#define tcp_update_scoreboard TAF_NAME(tcp_update_scoreboard)
#define tcp_identify_packet_loss TAF_NAME(tcp_identify_packet_loss)
#define tcp_timeout_mark_lost TAF_NAME(tcp_timeout_mark_lost)
#define tcp_rack_advance TAF_NAME(tcp_rack_advance)
#define tcp_rack_update_reo_wnd TAF_NAME(tcp_rack_update_reo_wnd)
#define tcp_rack_reo_timeout TAF_NAME(tcp_rack_reo_timeout)

#include "tcp/tcp_ack.c"
#include "tcp/tcp_recovery.c"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MSS 1000u
#define ISN 1000u
#define PEER_SEQ 5000u

/* seq of the i-th packet of MSS bytes sent from ISN */
#define SEQ(i) (ISN + (uint32_t)(i) * MSS)

static struct arena *ta;
static struct netns tns;
static struct tcp_table *ttab;
static struct tcp_sock *tp;

/* ---- what the stubs saw ---- */
static int n_xmit_rtx, n_challenge, n_cong_avoid, n_sync_mss;
static int timer_what = -1;
static uint64_t timer_when, timer_deadline_us;

/* the random tests' network: a (re)transmission of the packet at seq */
static void (*on_xmit)(uint32_t seq);

static uint64_t now_us(void) { return netns_now(&tns) / 1000u; }

/* ---- stubs for the other tcp/ files ---- */

/* tcp_xmit_retransmit_queue, modelled: resend every lost packet not already resent */
void tcp_xmit_retransmit_queue(struct tcp_sock *t)
{
	n_xmit_rtx++;
	for (struct pkt *pk = t->rtx_queue.head; pk; pk = pk->next) {
		struct tcp_skb_cb *c = TCP_SKB_CB(pk);

		if ((c->sacked & (TCPCB_LOST | TCPCB_SACKED_RETRANS | TCPCB_SACKED_ACKED)) != TCPCB_LOST)
			continue;
		if (on_xmit)
			on_xmit(c->seq);
		c->sacked |= TCPCB_SACKED_RETRANS | TCPCB_EVER_RETRANS;
		c->tx_us = t->tcp_mstamp;
#ifdef TAF_STAMP_DELIVERED
		c->ack_seq = t->delivered;
#endif
		t->retrans_out++;
		t->total_retrans++;
		if (!t->retrans_stamp_us)
			t->retrans_stamp_us = t->tcp_mstamp;
		if (t->undo_retrans < 0)
			t->undo_retrans = 0;
		t->undo_retrans++;
		if (t->ca_state == TCP_CA_CWR || t->ca_state == TCP_CA_Recovery)
			t->prr_out++;
	}
}
void tcp_send_challenge_ack(struct tcp_sock *t) { n_challenge++; }
void tcp_reset_xmit_timer(struct tcp_sock *t, int what, uint64_t when_us, uint64_t max_us)
{
	timer_what = what;
	timer_when = when_us < max_us ? when_us : max_us;
	timer_deadline_us = now_us() + timer_when;
	t->pending = (uint8_t)what;
}
void tcp_clear_xmit_timer(struct tcp_sock *t, int what)
{
	timer_what = 0;
	t->pending = 0;
}
uint64_t tcp_probe0_when(const struct tcp_sock *t, uint64_t max_us) { return 400000; }
uint64_t tcp_clamp_probe0_to_user_timeout(const struct tcp_sock *t, uint64_t when_us) { return when_us; }
void tcp_wmem_free_pkt(struct tcp_sock *t, struct pkt *pk)
{
	t->wmem_queued -= pk->meta.truesize;
	pkt_free(pk);
}
/* Reno's arithmetic, enough to see where ssthresh and cwnd come from */
uint32_t tcp_ca_ssthresh(struct tcp_sock *t) { return t->snd_cwnd / 2 > 2 ? t->snd_cwnd / 2 : 2; }
uint32_t tcp_ca_undo_cwnd(struct tcp_sock *t) { return t->snd_cwnd > t->prior_cwnd ? t->snd_cwnd : t->prior_cwnd; }
void tcp_ca_cong_avoid(struct tcp_sock *t, uint32_t ack, uint32_t acked)
{
	n_cong_avoid++;
	t->snd_cwnd += acked;
}
void tcp_ca_set_state(struct tcp_sock *t, uint8_t s) {}
void tcp_ca_event(struct tcp_sock *t, int ev) {}
void tcp_ca_acked(struct tcp_sock *t, uint32_t n, int32_t rtt) {}
bool tcp_is_cwnd_limited(const struct tcp_sock *t) { return true; }
unsigned tcp_sync_mss(struct tcp_sock *t, uint32_t pmtu)
{
	n_sync_mss++;
	return t->mss_cache;
}

/* ---- fixture ---- */

/*
 * The namespace, sysctls and an ESTABLISHED SACK socket both tests start
 * from; each test then sets what differs and refreshes tcp_mstamp.
 */
static void taf_setup(size_t arena_bytes)
{
	ta = arena_new(arena_bytes);
	cr_assert_not_null(ta);
	memset(&tns, 0, sizeof(tns));
	tns.pools = pkt_pools_new(ta, NSMALL, NMEDIUM, NLARGE);
	cr_assert_not_null(tns.pools);
	clock_init(&tns.clock, true);
	clock_advance(&tns.clock, 10 * NSEC_PER_SEC);
	ttab = calloc(1, sizeof(*ttab));
	cr_assert_not_null(ttab);
	ttab->sys.reordering = 3;
	ttab->sys.early_retrans = 3;
	tns.tcp = ttab;

	tp = calloc(1, sizeof(*tp));
	cr_assert_not_null(tp);
	tp->sk.ns = &tns;
	tp->sk.state = TCP_ESTABLISHED;
	tp->snd_una = tp->snd_nxt = tp->write_seq = ISN;
	tp->snd_wl1 = PEER_SEQ;
	tp->rcv_nxt = tp->rcv_wup = PEER_SEQ;
	tp->mss_cache = MSS;
	tp->snd_cwnd = 10;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->snd_cwnd_clamp = ~0u;
	tp->reordering = 3;
	tp->sack_ok = true;
	tp->rto_min_us = TCP_RTO_MIN_US;
	tp->undo_retrans = -1;
	n_xmit_rtx = n_challenge = n_cong_avoid = n_sync_mss = 0;
	timer_what = -1;
	on_xmit = NULL;
}

static void teardown(void)
{
	free(tp);
	free(ttab);
	arena_destroy(ta);
}

/* Free what the test left queued and check every pool block came back. */
static void finish(void)
{
	struct pkt *pk;

	while ((pk = pkt_queue_pop(&tp->rtx_queue)) != NULL)
		tcp_wmem_free_pkt(tp, pk);
	while ((pk = pkt_queue_pop(&tp->write_queue)) != NULL)
		tcp_wmem_free_pkt(tp, pk);
	cr_assert(pkt_pools_full(tns.pools), "pools not full: %u small, %u medium free",
		  pkt_pools_free_count(tns.pools, 0), pkt_pools_free_count(tns.pools, 1));
}

/* n packets of len bytes sent now, as tcp_event_new_data_sent would leave them */
static void send_pkts(unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		struct pkt *pk = pkt_alloc(tns.pools, len);
		struct tcp_skb_cb *c;

		cr_assert_not_null(pk);
		cr_assert_not_null(pkt_put(pk, len));
		memset(pk->data, 'x', len);
		pk->meta.truesize = pkt_kernel_truesize(len);
		c = TCP_SKB_CB(pk);
		memset(c, 0, sizeof(*c));
		c->seq = tp->snd_nxt;
		c->end_seq = tp->snd_nxt + len;
		c->tcp_flags = TCP_HDR_ACK;
		c->tx_us = c->first_tx_us = tp->tcp_mstamp;
#ifdef TAF_STAMP_DELIVERED
		c->ack_seq = tp->delivered;
#endif
		tp->wmem_queued += pk->meta.truesize;
		pkt_queue_push(&tp->rtx_queue, pk);
		tp->snd_nxt += len;
		tp->write_seq += len;
		tp->packets_out++;
	}
}

static struct pkt *nth(unsigned i)
{
	struct pkt *pk = tp->rtx_queue.head;

	while (pk && i--)
		pk = pk->next;
	cr_assert_not_null(pk);
	return pk;
}

/* ---- a random lossy path ---- */

#define RN 600			/* packets to deliver */
static bool rcvd[RN];		/* what the receiver holds */
static uint64_t rng;
static unsigned loss_pct;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/*
 * The receiver's SACK blocks: the runs it holds above the first hole
 * (packet i) up to the highest sent, highest first, at most three.
 * Return: the number of blocks in sb.
 */
static int rcv_sack_runs(unsigned i, unsigned sent, uint32_t mss, struct tcp_sack_block *sb)
{
	unsigned j;
	int nsb = 0;

	for (j = sent; j > i && nsb < 3;) {
		unsigned hi;

		while (j > i && !rcvd[j - 1])
			j--;
		hi = j;
		while (j > i && rcvd[j - 1])
			j--;
		if (hi > j)
			sb[nsb++] = (struct tcp_sack_block){ISN + j * mss, ISN + hi * mss};
	}
	return nsb;
}

#endif
