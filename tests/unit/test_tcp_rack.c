/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_rack.c - RACK-TLP loss detection of tcp_recovery.c, driven through tcp_ack.c
 *
 * As test_tcp_rtt.c does, tcp_ack.c and tcp_recovery.c are compiled into
 * this file through tcp_ack_fixture.h with their public names and the tcp/
 * functions they call renamed (here to r_*), so the test links next to the
 * real libusock.a and next to test_tcp_rtt.c; the fixture's stubs stand in
 * for tcp_out.c, tcp_timer.c, tcp_cubic.c and tcp_send.c.  sysctl
 * tcp_recovery is 1 (RACK) unless a test says otherwise.
 *
 * The path has min_rtt = SRTT = 10 ms in most tests, so the reordering
 * window is min_rtt/4 = 2.5 ms (RFC 8985 6.2) and the REO timer adds
 * TCP_TIMEOUT_MIN (2 ms) and rounds up to whole jiffies, as Linux's
 * tcp_rack_mark_lost does.
 */
#define TAF_PREFIX r_
#define TAF_STAMP_DELIVERED
#define NSMALL 4000
#define NMEDIUM 64
#define NLARGE 2
#include "tcp_ack_fixture.h"

#define RTT_MS 10u

static void advance_us(uint64_t us)
{
	clock_advance(&tns.clock, us * 1000u);
	tcp_mstamp_refresh(tp);
}

static void setup(void)
{
	taf_setup((size_t)32 << 20);
	ttab->sys.recovery = TCP_RACK_LOSS_DETECTION;
	tp->snd_wnd = tp->max_window = 1u << 20;
	tp->rack.reo_wnd_steps = 1;
	/* a settled 10 ms path */
	tp->rtt_min_us = RTT_MS * 1000u;
	tcp_rtt_estimator(tp, RTT_MS * 1000);
	tcp_set_rto(tp);
	tcp_mstamp_refresh(tp);
	tp->delivered = 1;	/* as after the handshake: rate samples are not 0 */
}

TestSuite(tcp_rack, .init = setup, .fini = teardown);

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

static uint8_t bits(unsigned i) { return TCP_SKB_CB(nth(i))->sacked; }

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
	send_pkts(4, MSS);
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
	send_pkts(4, MSS);
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
	send_pkts(5, MSS);
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
	send_pkts(5, MSS);
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

	send_pkts(5, MSS);
	advance_us(RTT_MS * 1000);
	ack_sack1(SEQ(0), SEQ(1), SEQ(4));
	cr_assert_eq(tp->retrans_out, 1u);
	cr_assert(bits(0) & TCPCB_SACKED_RETRANS);
	advance_us(1000);
	send_pkts(2, MSS);	/* 5 and 6, after the retransmission of 0 */
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
	send_pkts(5, MSS);
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
	send_pkts(2, MSS);
	advance_us(5000);
	send_pkts(2, MSS);
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
	send_pkts(2, MSS);
	advance_us(5000);
	send_pkts(2, MSS);
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
	send_pkts(5, MSS);
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
	send_pkts(4, MSS);
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
	send_pkts(2, MSS);
	advance_us(RTT_MS * 1000);
	d = (struct tcp_sack_block){SEQ(2), SEQ(3)};
	ack_sacks(SEQ(6), 1, &d);
	cr_expect_eq(tp->rack.reo_wnd_steps, 3);
	tp->rack.reo_wnd_steps = 9;
	cr_assert_lt(tp->srtt_us >> 3, 9 * RTT_MS * 1000u / 4);
	cr_expect_eq(tcp_rack_reo_wnd(tp), tp->srtt_us >> 3, "never more than SRTT");
	/* persistence over: the next delivery falls back to one step */
	tp->rack.reo_wnd_persist = 0;
	send_pkts(1, MSS);
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
	send_pkts(4, MSS);
	advance_us(RTT_MS * 1000);
	ack_sacks(SEQ(2), 1, &d);
	cr_expect_eq(tp->rack.reo_wnd_steps, 1);
	finish();
}

/* ================= tail loss probe ACKs ================= */

Test(tcp_rack, tlp_of_new_data_ends_without_verdict)
{
	send_pkts(3, MSS);
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
	send_pkts(3, MSS);
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

	send_pkts(3, MSS);
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
		int nsb;
		unsigned i;

		cr_assert_lt(++iters, 200000u, "no progress");
		while (sent < RN && tcp_packets_in_flight(tp) < tp->snd_cwnd) {
			send_pkts(1, MSS);
			net_xmit(ISN + sent * MSS);
			sent++;
		}
		for (i = 0; i < RN && rcvd[i]; i++)
			;
		ack = ISN + i * MSS;
		nsb = rcv_sack_runs(i, sent, MSS, sb);
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
