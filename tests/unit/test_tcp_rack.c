/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_rack.c - RACK-TLP loss detection of tcp_recovery.c, driven through tcp_ack.c
 *
 * As test_tcp_rtt.c does, tcp_ack.c and tcp_recovery.c are compiled into
 * this file with their public names and the tcp/ functions they call
 * renamed (here to r_*), so the test links next to the real libusock.a
 * and next to test_tcp_rtt.c; stubs stand in for tcp_out.c, tcp_timer.c,
 * tcp_cubic.c and tcp_send.c.  sysctl tcp_recovery is 1 (RACK) unless a
 * test says otherwise.
 *
 * The path has min_rtt = SRTT = 10 ms in most tests, so the reordering
 * window is min_rtt/4 = 2.5 ms (RFC 8985 6.2) and the REO timer adds
 * TCP_TIMEOUT_MIN (2 ms) and rounds up to whole jiffies, as Linux's
 * tcp_rack_mark_lost does.
 */
#define tcp_ack r_tcp_ack
#define tcp_rtt_estimator r_tcp_rtt_estimator
#define tcp_set_rto r_tcp_set_rto
#define tcp_enter_loss r_tcp_enter_loss
#define tcp_clear_retrans r_tcp_clear_retrans
#define tcp_synack_rtt_meas r_tcp_synack_rtt_meas
#define tcp_init_cwnd r_tcp_init_cwnd
#define tcp_rearm_rto r_tcp_rearm_rto
#define tcp_cwnd_restart r_tcp_cwnd_restart
#define tcp_enter_recovery r_tcp_enter_recovery
#define tcp_cwnd_reduction r_tcp_cwnd_reduction
#define tcp_mark_skb_lost r_tcp_mark_skb_lost
#define tcp_update_scoreboard r_tcp_update_scoreboard
#define tcp_identify_packet_loss r_tcp_identify_packet_loss
#define tcp_timeout_mark_lost r_tcp_timeout_mark_lost
#define tcp_rack_advance r_tcp_rack_advance
#define tcp_rack_update_reo_wnd r_tcp_rack_update_reo_wnd
#define tcp_rack_reo_timeout r_tcp_rack_reo_timeout
#define tcp_ca_acked r_tcp_ca_acked
#define tcp_ca_cong_avoid r_tcp_ca_cong_avoid
#define tcp_ca_event r_tcp_ca_event
#define tcp_ca_set_state r_tcp_ca_set_state
#define tcp_ca_ssthresh r_tcp_ca_ssthresh
#define tcp_ca_undo_cwnd r_tcp_ca_undo_cwnd
#define tcp_clamp_probe0_to_user_timeout r_tcp_clamp_probe0_to_user_timeout
#define tcp_clear_xmit_timer r_tcp_clear_xmit_timer
#define tcp_is_cwnd_limited r_tcp_is_cwnd_limited
#define tcp_probe0_when r_tcp_probe0_when
#define tcp_reset_xmit_timer r_tcp_reset_xmit_timer
#define tcp_send_challenge_ack r_tcp_send_challenge_ack
#define tcp_sync_mss r_tcp_sync_mss
#define tcp_wmem_free_pkt r_tcp_wmem_free_pkt
#define tcp_xmit_retransmit_queue r_tcp_xmit_retransmit_queue

#include "tcp/tcp_ack.c"
#include "tcp/tcp_recovery.c"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define NSMALL 4000
#define NMEDIUM 64
#define NLARGE 2
#define MSS 1000u
#define ISN 1000u
#define PEER_SEQ 5000u
#define RTT_MS 10u

static struct arena *ta;
static struct netns tns;
static struct tcp_table *ttab;
static struct tcp_sock *tp;

/* ---- what the stubs saw ---- */
static int n_xmit_rtx;
static int timer_what = -1;
static uint64_t timer_when, timer_deadline_us;
static void (*on_xmit)(uint32_t seq);

static uint64_t now_us(void) { return netns_now(&tns) / 1000u; }

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
		c->ack_seq = t->delivered;
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
void tcp_send_challenge_ack(struct tcp_sock *t) {}
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
uint32_t tcp_ca_ssthresh(struct tcp_sock *t) { return t->snd_cwnd / 2 > 2 ? t->snd_cwnd / 2 : 2; }
uint32_t tcp_ca_undo_cwnd(struct tcp_sock *t) { return t->snd_cwnd > t->prior_cwnd ? t->snd_cwnd : t->prior_cwnd; }
void tcp_ca_cong_avoid(struct tcp_sock *t, uint32_t ack, uint32_t acked) { t->snd_cwnd += acked; }
void tcp_ca_set_state(struct tcp_sock *t, uint8_t s) {}
void tcp_ca_event(struct tcp_sock *t, int ev) {}
void tcp_ca_acked(struct tcp_sock *t, uint32_t n, int32_t rtt) {}
bool tcp_is_cwnd_limited(const struct tcp_sock *t) { return true; }
unsigned tcp_sync_mss(struct tcp_sock *t, uint32_t pmtu) { return t->mss_cache; }

/* ---- fixture ---- */

static void advance_us(uint64_t us)
{
	clock_advance(&tns.clock, us * 1000u);
	tcp_mstamp_refresh(tp);
}

static void setup(void)
{
	ta = arena_new((size_t)32 << 20);
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
	ttab->sys.recovery = TCP_RACK_LOSS_DETECTION;
	tns.tcp = ttab;

	tp = calloc(1, sizeof(*tp));
	cr_assert_not_null(tp);
	tp->sk.ns = &tns;
	tp->sk.state = TCP_ESTABLISHED;
	tp->snd_una = tp->snd_nxt = tp->write_seq = ISN;
	tp->snd_wl1 = PEER_SEQ;
	tp->rcv_nxt = tp->rcv_wup = PEER_SEQ;
	tp->snd_wnd = tp->max_window = 1u << 20;
	tp->mss_cache = MSS;
	tp->snd_cwnd = 10;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->snd_cwnd_clamp = ~0u;
	tp->reordering = 3;
	tp->sack_ok = true;
	tp->rto_min_us = TCP_RTO_MIN_US;
	tp->undo_retrans = -1;
	tp->rack.reo_wnd_steps = 1;
	/* a settled 10 ms path */
	tp->rtt_min_us = RTT_MS * 1000u;
	tcp_rtt_estimator(tp, RTT_MS * 1000);
	tcp_set_rto(tp);
	tcp_mstamp_refresh(tp);
	tp->delivered = 1;	/* as after the handshake: rate samples are not 0 */
	n_xmit_rtx = 0;
	timer_what = -1;
	on_xmit = NULL;
}

static void teardown(void)
{
	free(tp);
	free(ttab);
	arena_destroy(ta);
}

TestSuite(tcp_rack, .init = setup, .fini = teardown);

static void finish(void)
{
	struct pkt *pk;

	while ((pk = pkt_queue_pop(&tp->rtx_queue)) != NULL)
		tcp_wmem_free_pkt(tp, pk);
	cr_assert(pkt_pools_full(tns.pools), "pools not full");
}

/* n packets of MSS bytes sent now, as tcp_event_new_data_sent and tcp_build leave them */
static void send_pkts(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pkt *pk = pkt_alloc(tns.pools, MSS);
		struct tcp_skb_cb *c;

		cr_assert_not_null(pk);
		cr_assert_not_null(pkt_put(pk, MSS));
		pk->meta.truesize = pkt_kernel_truesize(MSS);
		c = TCP_SKB_CB(pk);
		memset(c, 0, sizeof(*c));
		c->seq = tp->snd_nxt;
		c->end_seq = tp->snd_nxt + MSS;
		c->tcp_flags = TCP_HDR_ACK;
		c->tx_us = c->first_tx_us = tp->tcp_mstamp;
		c->ack_seq = tp->delivered;
		tp->wmem_queued += pk->meta.truesize;
		pkt_queue_push(&tp->rtx_queue, pk);
		tp->snd_nxt += MSS;
		tp->write_seq += MSS;
		tp->packets_out++;
	}
}

/* an ACK from the peer with up to three SACK blocks (start == end: none) */
static int ack_sacks(uint32_t ack, int n, const struct tcp_sack_block *sb)
{
	struct tcp_repr th;
	struct pkt *pk = pkt_alloc(tns.pools, 0);
	struct tcp_skb_cb *c;
	int r;

	cr_assert_not_null(pk);
	memset(&th, 0, sizeof(th));
	th.seq = PEER_SEQ;
	th.ack = ack;
	th.flags = TCP_HDR_ACK;
	th.window = 65535;
	tp->snd_wscale = 4;
	th.opt.num_sacks = (uint8_t)n;
	if (n)
		memcpy(th.opt.sacks, sb, (size_t)n * sizeof(*sb));
	c = TCP_SKB_CB(pk);
	memset(c, 0, sizeof(*c));
	c->seq = c->end_seq = th.seq;
	c->ack_seq = ack;
	c->tcp_flags = th.flags;
	c->sacked = (uint8_t)n;
	r = tcp_ack(tp, pk, &th, TCP_FLAG_SLOWPATH);
	pkt_free(pk);
	return r;
}

static int ack_sack1(uint32_t ack, uint32_t s, uint32_t e)
{
	struct tcp_sack_block b = {s, e};

	return ack_sacks(ack, 1, &b);
}

static struct pkt *nth(unsigned i)
{
	struct pkt *pk = tp->rtx_queue.head;

	while (pk && i--)
		pk = pk->next;
	cr_assert_not_null(pk);
	return pk;
}

static uint8_t bits(unsigned i) { return TCP_SKB_CB(nth(i))->sacked; }

#define SEQ(i) (ISN + (uint32_t)(i) * MSS)

/* the REO delay tcp_rack_mark_lost asks for: remaining + TCP_TIMEOUT_MIN, whole jiffies */
static uint64_t reo_delay(uint64_t remaining_us)
{
	return tcp_jiffy_round_us(remaining_us + TCP_TIMEOUT_MIN_US);
}

/* ================= detection in time ================= */

/*
 * One SACK above a hole: below dupthresh and without reordering seen,
 * RACK waits RACK.rtt + min_rtt/4 after the hole was sent, on the REO
 * timer; when it fires the hole is lost, Recovery starts and it is resent.
 */
Test(tcp_rack, one_sack_waits_the_reordering_window)
{
	send_pkts(4);
	advance_us(RTT_MS * 1000);
	cr_assert_gt(ack_sack1(SEQ(0), SEQ(3), SEQ(4)), 0);
	cr_expect_eq(tp->rack.rtt_us, RTT_MS * 1000u);
	cr_expect_eq(tp->rack.end_seq, SEQ(4));
	cr_expect_eq(tp->lost_out, 0u, "not yet: it may be reordered");
	cr_expect_eq(tp->ca_state, TCP_CA_Disorder);
	cr_expect_eq(timer_what, TCP_TIME_REO);
	cr_expect_eq(timer_when, reo_delay(RTT_MS * 1000 / 4), "REO in %llu us",
		     (unsigned long long)timer_when);
	cr_expect_eq(n_xmit_rtx, 0);

	advance_us(timer_when);
	tcp_rack_reo_timeout(tp);
	cr_expect_eq(tp->lost_out, 3u, "the three sent before the SACKed one");
	cr_expect(bits(0) & TCPCB_LOST);
	cr_expect(!(bits(3) & TCPCB_LOST));
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	cr_expect_eq(n_xmit_rtx, 1);
	cr_expect_eq(tp->retrans_out, 3u);
	cr_expect_eq(timer_what, TCP_TIME_RETRANS, "the RTO takes the timer back");
	finish();
}

/* The "reordered" packets arrive within the window: nothing is lost, and reordering is noted. */
Test(tcp_rack, reordering_inside_the_window_is_not_loss)
{
	send_pkts(4);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(3), SEQ(4));
	cr_expect_eq(timer_what, TCP_TIME_REO);
	advance_us(1000);
	cr_assert_gt(ack_sacks(SEQ(4), 0, NULL), 0);
	cr_expect_eq(tp->lost_out, 0u);
	cr_expect_eq(tp->total_retrans, 0u);
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	cr_expect_eq(tp->reord_seen, 1u, "a hole filled by an original: reordering");
	cr_expect_eq(tp->packets_out, 0u);
	finish();
}

/* dupthresh SACKed and no reordering seen: no window, the hole is lost at once (as dupthresh). */
Test(tcp_rack, dupthresh_without_reordering_marks_at_once)
{
	send_pkts(5);
	advance_us(RTT_MS * 1000);
	cr_assert_gt(ack_sack1(SEQ(0), SEQ(1), SEQ(4)), 0);
	cr_expect_eq(tp->sacked_out, 3u);
	cr_expect_eq(tp->lost_out, 1u, "only the hole: the tail was sent with the SACKed ones");
	cr_expect(bits(0) & TCPCB_LOST);
	cr_expect(!(bits(4) & TCPCB_LOST));
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	cr_expect_eq(n_xmit_rtx, 1);
	cr_expect_eq(tp->retrans_out, 1u);
	finish();
}

/* Once reordering was seen, even dupthresh SACKs wait min_rtt/4. */
Test(tcp_rack, reordering_seen_keeps_the_window_at_dupthresh)
{
	tp->reord_seen = 1;
	send_pkts(5);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(1), SEQ(4));
	cr_expect_eq(tp->lost_out, 0u);
	cr_expect_eq(timer_what, TCP_TIME_REO);
	cr_expect_eq(timer_when, reo_delay(RTT_MS * 1000 / 4));
	advance_us(timer_when);
	tcp_rack_reo_timeout(tp);
	cr_expect_eq(tp->lost_out, 1u);
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	finish();
}

/*
 * A retransmission lost again: a packet sent after it is SACKed an RTT
 * later, so RACK marks it lost once more (it leaves retrans_out) and it
 * is resent, with no RTO.  The tail original sent before is lost too.
 */
Test(tcp_rack, lost_retransmission_is_found)
{
	struct tcp_sack_block sb[2];

	send_pkts(5);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(1), SEQ(4));
	cr_assert_eq(tp->retrans_out, 1u);
	cr_assert(bits(0) & TCPCB_SACKED_RETRANS);
	advance_us(1000);
	send_pkts(2);	/* 5 and 6, after the retransmission of 0 */
	advance_us(RTT_MS * 1000);
	sb[0] = (struct tcp_sack_block){SEQ(5), SEQ(7)};
	sb[1] = (struct tcp_sack_block){SEQ(1), SEQ(4)};
	cr_assert_gt(ack_sacks(SEQ(0), 2, sb), 0);
	cr_expect_eq(tp->rack.end_seq, SEQ(7));
	cr_expect_eq(tp->lost_out, 2u, "0 (its retransmission) and 4");
	cr_expect(bits(4) & TCPCB_LOST);
	cr_expect_eq(n_xmit_rtx, 2, "resent from the ACK, not the RTO");
	cr_expect_eq(tp->total_retrans, 3u);
	cr_expect_eq(tp->retrans_out, 2u);
	cr_expect_eq(TCP_SKB_CB(nth(0))->tx_us, now_us());
	finish();
}

/* A retransmitted packet SACKed sooner than min_rtt says nothing about the present (tcp_rack_advance). */
Test(tcp_rack, early_sack_of_a_retransmission_is_no_sample)
{
	send_pkts(5);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(1), SEQ(4));
	uint64_t mstamp = tp->rack.mstamp;

	advance_us(RTT_MS * 1000 / 2);	/* the original of 0, delayed, now SACKed */
	ack_sack1(SEQ(0), SEQ(0), SEQ(4));
	cr_expect_eq(tp->rack.mstamp, mstamp);
	cr_expect_eq(tp->rack.end_seq, SEQ(4));
	finish();
}

/* The RTO marks the head and what is older than RACK.rtt; recent packets may still arrive. */
Test(tcp_rack, rto_spares_recently_sent_packets)
{
	send_pkts(2);
	advance_us(5000);
	send_pkts(2);
	tp->rack.rtt_us = RTT_MS * 1000;
	advance_us(7000);
	tcp_enter_loss(tp);
	cr_expect_eq(tp->lost_out, 2u);
	cr_expect(bits(1) & TCPCB_LOST);
	cr_expect(!(bits(2) & TCPCB_LOST));
	cr_expect_eq(tp->ca_state, TCP_CA_Loss);
	finish();
}

Test(tcp_rack, rto_without_rack_marks_everything)
{
	ttab->sys.recovery = 0;
	send_pkts(2);
	advance_us(5000);
	send_pkts(2);
	tp->rack.rtt_us = RTT_MS * 1000;
	advance_us(7000);
	tcp_enter_loss(tp);
	cr_expect_eq(tp->lost_out, 4u);
	finish();
}

/* tcp_recovery=0: no REO timer, losses by the dupthresh walk only. */
Test(tcp_rack, recovery_0_is_dupthresh)
{
	ttab->sys.recovery = 0;
	send_pkts(5);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(3), SEQ(4));
	cr_expect_eq(tp->lost_out, 0u);
	cr_expect_neq(timer_what, TCP_TIME_REO);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(1), SEQ(4));
	cr_expect_eq(tp->lost_out, 1u);
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	finish();
}

/* D-SACKs after reordering widen reo_wnd a step per round trip, up to SRTT, for 16 recoveries. */
Test(tcp_rack, dsack_widens_the_window_once_per_round)
{
	struct tcp_sack_block d;

	tp->reord_seen = 1;
	tp->total_retrans = 10;	/* D-SACKs are believed only for retransmitted data */
	cr_expect_eq(tcp_rack_reo_wnd(tp), RTT_MS * 1000u / 4);
	send_pkts(4);
	advance_us(RTT_MS * 1000);
	d = (struct tcp_sack_block){SEQ(0), SEQ(1)};
	cr_assert_gt(ack_sacks(SEQ(2), 1, &d), 0);
	cr_expect_eq(tp->rack.reo_wnd_steps, 2);
	cr_expect_eq(tp->rack.reo_wnd_persist, TCP_RACK_RECOVERY_THRESH);
	cr_expect_eq(tcp_rack_reo_wnd(tp), 2 * RTT_MS * 1000u / 4);
	/* another D-SACK for data sent before the widening: the same round */
	d = (struct tcp_sack_block){SEQ(1), SEQ(2)};
	ack_sacks(SEQ(3), 1, &d);
	cr_expect_eq(tp->rack.reo_wnd_steps, 2);
	/* data sent after it: a new round */
	send_pkts(2);
	advance_us(RTT_MS * 1000);
	d = (struct tcp_sack_block){SEQ(2), SEQ(3)};
	ack_sacks(SEQ(6), 1, &d);
	cr_expect_eq(tp->rack.reo_wnd_steps, 3);
	tp->rack.reo_wnd_steps = 9;
	cr_assert_lt(tp->srtt_us >> 3, 9 * RTT_MS * 1000u / 4);
	cr_expect_eq(tcp_rack_reo_wnd(tp), tp->srtt_us >> 3, "never more than SRTT");
	/* persistence over: the next delivery falls back to one step */
	tp->rack.reo_wnd_persist = 0;
	send_pkts(1);
	advance_us(RTT_MS * 1000);
	ack_sacks(SEQ(7), 0, NULL);
	cr_expect_eq(tp->rack.reo_wnd_steps, 1);
	finish();
}

Test(tcp_rack, static_reo_wnd_ignores_dsacks)
{
	struct tcp_sack_block d = {SEQ(0), SEQ(1)};

	ttab->sys.recovery = TCP_RACK_LOSS_DETECTION | TCP_RACK_STATIC_REO_WND;
	tp->reord_seen = 1;
	tp->total_retrans = 10;
	send_pkts(4);
	advance_us(RTT_MS * 1000);
	ack_sacks(SEQ(2), 1, &d);
	cr_expect_eq(tp->rack.reo_wnd_steps, 1);
	finish();
}

/* ================= tail loss probe ACKs ================= */

Test(tcp_rack, tlp_of_new_data_ends_without_verdict)
{
	send_pkts(3);
	tp->tlp_high_seq = SEQ(3);
	tp->tlp_retrans = false;
	advance_us(RTT_MS * 1000);
	ack_sacks(SEQ(3), 0, NULL);
	cr_expect_eq(tp->tlp_high_seq, 0u);
	cr_expect_eq(tp->snd_ssthresh, TCP_INFINITE_SSTHRESH, "no reduction");
	finish();
}

Test(tcp_rack, tlp_retransmission_that_repaired_a_loss_reduces_cwnd)
{
	send_pkts(3);
	tp->tlp_high_seq = SEQ(2);
	tp->tlp_retrans = true;
	advance_us(RTT_MS * 1000);
	ack_sacks(SEQ(3), 0, NULL);
	cr_expect_eq(tp->tlp_high_seq, 0u);
	cr_expect_eq(tp->snd_ssthresh, 5u, "one CWR reduction");
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	finish();
}

Test(tcp_rack, tlp_dsacked_was_no_loss)
{
	struct tcp_sack_block d = {SEQ(2), SEQ(3)};

	send_pkts(3);
	tp->tlp_high_seq = SEQ(3);
	tp->tlp_retrans = true;
	tp->total_retrans = 1;
	advance_us(RTT_MS * 1000);
	ack_sacks(SEQ(3), 1, &d);
	cr_expect_eq(tp->tlp_high_seq, 0u);
	cr_expect_eq(tp->snd_ssthresh, TCP_INFINITE_SSTHRESH);
	cr_expect_eq(tp->rack.dsack_seen, false, "a TLP's D-SACK does not widen reo_wnd");
	finish();
}

/* ================= a random lossy transfer ================= */

#define RN 600
static bool rcvd[RN];
static uint64_t rng;
static unsigned loss_pct;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void net_xmit(uint32_t seq)
{
	if (rnd(100) >= loss_pct)
		rcvd[(seq - ISN) / MSS] = true;
}

/* every counter equals what the packets' bits say */
static void check_scoreboard(void)
{
	uint32_t sacked = 0, lost = 0, retrans = 0, n = 0;

	for (struct pkt *pk = tp->rtx_queue.head; pk; pk = pk->next) {
		uint8_t b = TCP_SKB_CB(pk)->sacked;

		cr_assert((b & (TCPCB_LOST | TCPCB_SACKED_ACKED)) != (TCPCB_LOST | TCPCB_SACKED_ACKED));
		sacked += !!(b & TCPCB_SACKED_ACKED);
		lost += !!(b & TCPCB_LOST);
		retrans += !!(b & TCPCB_SACKED_RETRANS);
		n++;
	}
	cr_assert_eq(tp->sacked_out, sacked);
	cr_assert_eq(tp->lost_out, lost);
	cr_assert_eq(tp->retrans_out, retrans);
	cr_assert_eq(tp->packets_out, n);
}

/*
 * 600 packets over a path losing pct % of transmissions (ACKs arrive),
 * one ACK per ms with SACK blocks; the REO timer fires when due, the RTO
 * only after 200 ms without progress.  Return: RTOs taken.
 */
static unsigned random_transfer(unsigned pct, uint64_t seed)
{
	uint32_t end = ISN + RN * MSS;
	unsigned sent = 0, stuck = 0, iters = 0, rtos = 0;

	rng = seed;
	loss_pct = pct;
	on_xmit = net_xmit;
	memset(rcvd, 0, sizeof(rcvd));
	while (tp->snd_una != end) {
		uint32_t prior = tp->snd_una, ack;
		struct tcp_sack_block sb[3];
		int nsb = 0;
		unsigned i, j;

		cr_assert_lt(++iters, 200000u, "no progress");
		while (sent < RN && tcp_packets_in_flight(tp) < tp->snd_cwnd) {
			send_pkts(1);
			net_xmit(ISN + sent * MSS);
			sent++;
		}
		for (i = 0; i < RN && rcvd[i]; i++)
			;
		ack = ISN + i * MSS;
		for (j = sent; j > i && nsb < 3;) {
			unsigned hi;

			while (j > i && !rcvd[j - 1])
				j--;
			hi = j;
			while (j > i && rcvd[j - 1])
				j--;
			if (hi > j)
				sb[nsb++] = (struct tcp_sack_block){ISN + j * MSS, ISN + hi * MSS};
		}
		advance_us(1000);
		if (tp->pending == TCP_TIME_REO && now_us() >= timer_deadline_us) {
			tcp_rack_reo_timeout(tp);
			check_scoreboard();
		}
		cr_assert_geq(ack_sacks(ack, nsb, sb), 0);
		check_scoreboard();
		stuck = tp->snd_una == prior ? stuck + 1 : 0;
		if (stuck > 200 && tp->packets_out) {
			tcp_enter_loss(tp);
			rtos++;
			check_scoreboard();
			tcp_xmit_retransmit_queue(tp);
			stuck = 0;
		}
	}
	cr_expect_eq(tp->packets_out, 0u);
	cr_log_info("%u%% loss, tcp_recovery %d: %u ACKs, %u RTOs, %u retransmitted, reo_wnd steps %u",
		    pct, ttab->sys.recovery, iters, rtos, tp->total_retrans, tp->rack.reo_wnd_steps);
	on_xmit = NULL;
	finish();
	return rtos;
}

Test(tcp_rack, random_loss_10pct) { random_transfer(10, 0x9e3779b97f4a7c15ull); }
Test(tcp_rack, random_loss_30pct) { random_transfer(30, 12345); }
Test(tcp_rack, random_loss_30pct_dupthresh)
{
	ttab->sys.recovery = 0;
	random_transfer(30, 12345);
}
