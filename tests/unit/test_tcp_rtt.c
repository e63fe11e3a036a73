/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_rtt.c - RTT estimator, RTO and the SACK scoreboard of tcp_ack.c
 *
 * tcp_ack.c and tcp_recovery.c are compiled into this file through
 * tcp_ack_fixture.h with their public names and the other tcp/ functions
 * they call renamed to t_*; sysctl tcp_recovery is 0 here (the dupthresh
 * walk).  The fixture's stubs stand in for tcp_out.c, tcp_timer.c,
 * tcp_cubic.c and tcp_send.c; every test ends with the pools full.
 *
 * Expected RTT/RTO values are worked out by hand from RFC 6298 and
 * Linux's tcp_rtt_estimator (srtt<<3, mdev<<2, mdev_max, rttvar with the
 * 200 ms floor), the RTO rounded up to whole jiffies as the kernel keeps it.
 */
#define TAF_PREFIX t_
#define NSMALL 6000
#define NMEDIUM 256
#define NLARGE 2
#include "tcp_ack_fixture.h"

static void advance_ms(uint64_t ms)
{
	clock_advance(&tns.clock, ms * NSEC_PER_MSEC);
	tcp_mstamp_refresh(tp);
}

static void setup(void)
{
	taf_setup((size_t)64 << 20);
	ttab->sys.slow_start_after_idle = 1;
	tp->snd_wnd = tp->max_window = 65535;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->rtt_min_us = ~0u;
	tcp_mstamp_refresh(tp);
}

TestSuite(tcp_rtt, .init = setup, .fini = teardown);
TestSuite(tcp_sack, .init = setup, .fini = teardown);

struct ackopt {
	uint16_t win;
	bool zero_win;
	int nsacks;
	struct tcp_sack_block sacks[TCP_MAX_SACKS];
	int flag;
	uint32_t seq;
	bool syn;
};

/* a pure ACK from the peer, through tcp_ack with the slow path's flags */
static int ack_with(uint32_t ack, const struct ackopt *o)
{
	struct tcp_repr th;
	struct pkt *pk = pkt_alloc(tns.pools, 0);
	struct tcp_skb_cb *c;
	int r;

	cr_assert_not_null(pk);
	memset(&th, 0, sizeof(th));
	th.seq = o && o->seq ? o->seq : PEER_SEQ;
	th.ack = ack;
	th.flags = TCP_HDR_ACK | (o && o->syn ? TCP_HDR_SYN : 0);
	th.window = o && (o->win || o->zero_win) ? o->win : 65535;
	if (o && o->nsacks) {
		th.opt.num_sacks = (uint8_t)o->nsacks;
		memcpy(th.opt.sacks, o->sacks, sizeof(o->sacks));
	}
	c = TCP_SKB_CB(pk);
	memset(c, 0, sizeof(*c));
	c->seq = c->end_seq = th.seq;
	c->ack_seq = ack;
	c->tcp_flags = th.flags;
	c->sacked = th.opt.num_sacks;
	r = tcp_ack(tp, pk, &th, o && o->flag ? o->flag : TCP_FLAG_SLOWPATH | TCP_FLAG_UPDATE_TS_RECENT);
	pkt_free(pk);
	return r;
}

static int ack_plain(uint32_t ack) { return ack_with(ack, NULL); }

static int ack_sack(uint32_t ack, uint32_t s0, uint32_t e0)
{
	struct ackopt o = {.nsacks = 1, .sacks = {{s0, e0}}};

	return ack_with(ack, &o);
}

/* ================= RTT estimator and RTO ================= */

Test(tcp_rtt, first_sample_rfc6298)
{
	/* RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 RTTVAR) */
	tp->snd_nxt = 777;
	tcp_rtt_estimator(tp, 100000);
	cr_expect_eq(tp->srtt_us, 800000u);
	cr_expect_eq(tp->mdev_us, 200000u);
	cr_expect_eq(tp->rttvar_us, 200000u);
	cr_expect_eq(tp->mdev_max_us, 200000u);
	cr_expect_eq(tp->rtt_seq, 777u);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rto_us, 300000u);

	tp->srtt_us = 0;
	tcp_rtt_estimator(tp, 500000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rto_us, 1500000u, "R=500ms: RTO 1.5 s, got %u", tp->rto_us);
}

Test(tcp_rtt, floor_200ms)
{
	/* Linux's floor is on rttvar (>= rto_min), so RTO = SRTT + 200 ms */
	tcp_rtt_estimator(tp, 10000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rttvar_us, 200000u);
	cr_expect_eq(tp->rto_us, 210000u);

	tp->srtt_us = 0;
	tcp_rtt_estimator(tp, 1);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rto_us, 201000u, "rounded up to a whole jiffy: %u", tp->rto_us);

	tp->srtt_us = 0;
	tp->rto_min_us = 50000;
	tcp_rtt_estimator(tp, 10000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rto_us, 60000u, "route rto_min 50 ms: %u", tp->rto_us);
}

Test(tcp_rtt, steady_and_changing_samples)
{
	tp->snd_una = 1;
	tp->snd_nxt = 1000;
	tcp_rtt_estimator(tp, 100000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rto_us, 300000u);

	/* next RTT, same delay: mdev decays, rttvar stays at the floor */
	tp->snd_una = 1001;
	tp->snd_nxt = 2000;
	tcp_rtt_estimator(tp, 100000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->srtt_us, 800000u);
	cr_expect_eq(tp->mdev_us, 150000u);
	cr_expect_eq(tp->rttvar_us, 200000u);
	cr_expect_eq(tp->rtt_seq, 2000u);
	cr_expect_eq(tp->rto_us, 300000u);

	/* same RTT, a 300 ms sample: srtt += 1/8 error, rttvar jumps with mdev at once */
	tcp_rtt_estimator(tp, 300000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->srtt_us, 1000000u);
	cr_expect_eq(tp->mdev_us, 312500u);
	cr_expect_eq(tp->mdev_max_us, 312500u);
	cr_expect_eq(tp->rttvar_us, 312500u);
	cr_expect_eq(tp->rto_us, 438000u, "125 ms + 312.5 ms, rounded up: %u", tp->rto_us);

	/* RTT falls: the deviation moves with the finer gain, rttvar waits for the RTT's end */
	tp->snd_una = 2001;
	tp->snd_nxt = 3000;
	tcp_rtt_estimator(tp, 50000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->srtt_us, 925000u);
	cr_expect_eq(tp->mdev_us, 309375u);
	cr_expect_eq(tp->rttvar_us, 312500u);
	cr_expect_eq(tp->mdev_max_us, 200000u);
	cr_expect_eq(tp->rto_us, 429000u);

	tp->snd_una = 3001;
	tp->snd_nxt = 4000;
	tcp_rtt_estimator(tp, 50000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->srtt_us, 859375u);
	cr_expect_eq(tp->mdev_us, 297657u);
	cr_expect_eq(tp->rttvar_us, 308790u, "decays by 1/4 toward mdev_max: %u", tp->rttvar_us);
	cr_expect_eq(tp->rto_us, 417000u);
}

Test(tcp_rtt, rto_max)
{
	tcp_rtt_estimator(tp, 100000000);
	tcp_set_rto(tp);
	cr_expect_eq(tp->rto_us, TCP_RTO_MAX_US);
}

Test(tcp_rtt, sample_from_ack_and_karn)
{
	send_pkts(2, MSS);
	advance_ms(50);
	cr_assert_gt(ack_plain(SEQ(1)), 0);
	cr_expect_eq(tp->srtt_us, 50000u << 3, "ACK-timed sample: %u", tp->srtt_us);
	cr_expect_eq(tp->rto_us, 250000u);
	cr_expect_eq(tp->rtt_min_us, 50000u);
	cr_expect_eq(tp->backoff, 0);

	/* Karn: an acked retransmission gives no sample without timestamps */
	TCP_SKB_CB(nth(0))->sacked |= TCPCB_EVER_RETRANS;
	tp->srtt_us = 0;
	advance_ms(70);
	cr_assert_gt(ack_plain(SEQ(2)), 0);
	cr_expect_eq(tp->srtt_us, 0u);
	cr_expect_eq(tp->packets_out, 0u);
	cr_expect_eq(tp->wmem_queued, 0u);
	finish();
}

Test(tcp_rtt, sample_from_timestamps)
{
	uint32_t ts_sent;

	send_pkts(1, MSS);
	TCP_SKB_CB(nth(0))->sacked |= TCPCB_EVER_RETRANS;
	ts_sent = (uint32_t)(now_us() / 1000u);
	advance_ms(30);
	/* RFC 7323: the echo times the retransmission that was acked */
	tp->saw_tstamp = true;
	tp->rcv_tsecr = ts_sent;
	cr_assert_gt(ack_plain(SEQ(1)), 0);
	cr_expect_eq(tp->srtt_us, 30000u << 3, "TS-timed sample: %u", tp->srtt_us);
	finish();
}

Test(tcp_rtt, synack_sample)
{
	tcp_synack_rtt_meas(tp, UINT32_MAX);
	cr_expect_eq(tp->srtt_us, 0u, "retransmitted SYN-ACK, no timestamps: no sample");
	tcp_synack_rtt_meas(tp, 20000);
	cr_expect_eq(tp->srtt_us, 20000u << 3);
	cr_expect_eq(tp->rto_us, 220000u);
}

Test(tcp_rtt, rearm_rto)
{
	tcp_rearm_rto(tp);
	cr_expect_eq(timer_what, 0, "nothing out: timer stopped");
	send_pkts(1, MSS);
	tp->rto_us = 300000;
	tcp_rearm_rto(tp);
	cr_expect_eq(timer_what, TCP_TIME_RETRANS);
	cr_expect_eq(timer_when, 300000u);
	/* after a loss probe the RTO keeps to the head's transmission */
	tp->pending = TCP_TIME_LOSS_PROBE;
	advance_ms(100);
	tcp_rearm_rto(tp);
	cr_expect_eq(timer_when, 200000u, "head sent 100 ms ago: %lu", (unsigned long)timer_when);
	finish();
}

Test(tcp_rtt, cwnd_restart_after_idle)
{
	tp->snd_cwnd = 80;
	tp->snd_ssthresh = 20;
	tp->rto_us = 200000;
	tcp_cwnd_restart(tp, 700000);
	/* three whole RTOs idle: halved three times */
	cr_expect_eq(tp->snd_cwnd, 10u);
	cr_expect_eq(tp->snd_ssthresh, 60u, "3/4 of cwnd kept as ssthresh: %u", tp->snd_ssthresh);
	tp->snd_cwnd = 80;
	tcp_cwnd_restart(tp, 2000000);
	cr_expect_eq(tp->snd_cwnd, TCP_INIT_CWND, "never below the initial window");
	tp->snd_cwnd_clamp = 4;
	cr_expect_eq(tcp_init_cwnd(tp), 4u);
}

/* ================= acceptability, window, memory ================= */

Test(tcp_sack, acceptability)
{
	send_pkts(3, MSS);
	/* acking data never sent: a challenge ACK too (Linux 6.18.38+, proven
	 * by the conformance scenario tcp_close/data_ack_validation) */
	cr_expect_eq(ack_plain(SEQ(5)), -1, "acks data never sent");
	cr_expect_eq(n_challenge, 1);
	cr_assert_gt(ack_plain(SEQ(2)), 0);
	cr_expect_eq(tp->bytes_acked, 2u * MSS);
	cr_expect_eq(ack_plain(SEQ(1)), 0, "an old duplicate");
	/* RFC 5961 5.2: older than the data ever acked */
	cr_expect_eq(ack_plain(SEQ(2) - 3 * MSS), -2);
	cr_expect_eq(n_challenge, 2);
	struct ackopt o = {.flag = TCP_FLAG_SLOWPATH | TCP_FLAG_NO_CHALLENGE_ACK};
	cr_expect_eq(ack_with(SEQ(2) - 3 * MSS, &o), -2);
	cr_expect_eq(n_challenge, 2, "no challenge ACK when the caller asks so");
	finish();
}

Test(tcp_sack, window_update_rules)
{
	struct ackopt o = {.win = 100, .seq = PEER_SEQ};

	tp->snd_wscale = 7;
	/* same snd_wl1, smaller window: not taken (RFC 9293 SND.WL1/WL2 rules) */
	cr_assert_gt(ack_with(ISN, &o), 0);
	cr_expect_eq(tp->snd_wnd, 65535u);
	o.win = 1000;
	cr_assert_gt(ack_with(ISN, &o), 0);
	cr_expect_eq(tp->snd_wnd, 1000u << 7, "larger: taken, scaled");
	cr_expect_eq(tp->max_window, 1000u << 7);
	o.win = 100;
	o.seq = PEER_SEQ + 1;
	cr_assert_gt(ack_with(ISN, &o), 0);
	cr_expect_eq(tp->snd_wnd, 100u << 7, "newer segment: any window");
	cr_expect_eq(tp->max_window, 1000u << 7);
	cr_expect_eq(n_sync_mss, 0, "no pmtu yet");

	/* an older segment (seq before snd_wl1) may not move the window */
	o.win = 10;
	o.seq = PEER_SEQ - 10;
	ack_with(ISN, &o);
	cr_expect_eq(tp->snd_wnd, 100u << 7);

	/* same wl1: a zero window always counts */
	o.seq = PEER_SEQ + 1;
	o.win = 0;
	o.zero_win = true;
	ack_with(ISN, &o);
	cr_expect_eq(tp->snd_wnd, 0u);

	/* a newer segment updates; a SYN's window is never scaled */
	o.seq = PEER_SEQ + 2;
	o.zero_win = false;
	o.win = 5;
	o.syn = true;
	ack_with(ISN, &o);
	cr_expect_eq(tp->snd_wnd, 5u);
	cr_expect_eq(tp->snd_wl1, PEER_SEQ + 2);
}

Test(tcp_sack, free_and_trim)
{
	uint32_t ts = pkt_kernel_truesize(MSS);

	send_pkts(3, MSS);
	cr_expect_eq(tp->wmem_queued, 3 * ts);
	/* half the head acked: its bytes are uncharged, it still counts one packet */
	cr_assert_gt(ack_plain(SEQ(0) + 400), 0);
	cr_expect_eq(tp->packets_out, 3u);
	cr_expect_eq(TCP_SKB_CB(nth(0))->seq, SEQ(0) + 400);
	cr_expect_eq(nth(0)->tot_len, 600u);
	cr_expect_eq(tp->wmem_queued, 3 * ts - 400);
	cr_expect_eq(tp->rtx_queue.bytes, 3 * ts - 400);
	int r = ack_plain(SEQ(3));
	cr_expect(r & TCP_FLAG_DATA_ACKED);
	cr_expect(r & TCP_FLAG_SND_UNA_ADVANCED);
	cr_expect_eq(tp->packets_out, 0u);
	cr_expect_eq(tp->wmem_queued, 0u);
	cr_expect_eq(timer_what, 0, "all acked: RTO stopped");
	finish();
}

Test(tcp_sack, zero_window_probe_end)
{
	struct ackopt o = {.zero_win = true, .flag = TCP_FLAG_SLOWPATH};
	struct pkt *pk = pkt_alloc(tns.pools, MSS);

	/* one unsent packet waits for a window */
	cr_assert_not_null(pkt_put(pk, MSS));
	TCP_SKB_CB(pk)->seq = ISN;
	TCP_SKB_CB(pk)->end_seq = ISN + MSS;
	pkt_queue_push(&tp->write_queue, pk);
	tp->snd_wnd = 0;
	tp->backoff = 3;
	o.seq = PEER_SEQ + 1;
	ack_with(ISN, &o);
	cr_expect_eq(timer_what, TCP_TIME_PROBE0, "still closed: probe again");
	cr_expect_eq(timer_when, 400000u);
	o.zero_win = false;
	o.win = 2000;
	o.seq = PEER_SEQ + 2;
	ack_with(ISN, &o);
	cr_expect_eq(timer_what, 0, "window open: probing stops");
	cr_expect_eq(tp->backoff, 0);
	finish();
}

/* ================= the SACK scoreboard ================= */

Test(tcp_sack, tag_enter_recovery_and_prr)
{
	send_pkts(10, MSS);
	advance_ms(40);
	int r = ack_sack(ISN, SEQ(2), SEQ(5));

	cr_expect(r & TCP_FLAG_DATA_SACKED);
	cr_expect_eq(tp->sacked_out, 3u);
	for (unsigned i = 2; i < 5; i++)
		cr_expect(TCP_SKB_CB(nth(i))->sacked & TCPCB_SACKED_ACKED, "packet %u SACKed", i);
	cr_expect_not(TCP_SKB_CB(nth(5))->sacked & TCPCB_SACKED_ACKED);
	/* dupthresh 3 SACKed above the two holes: both lost, Recovery, fast retransmit */
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	cr_expect_eq(tp->lost_out, 2u);
	cr_expect(TCP_SKB_CB(nth(0))->sacked & TCPCB_LOST);
	cr_expect(TCP_SKB_CB(nth(1))->sacked & TCPCB_LOST);
	cr_expect_eq(tp->high_seq, SEQ(10));
	cr_expect_eq(tp->prior_cwnd, 10u);
	cr_expect_eq(tp->snd_ssthresh, 5u);
	cr_expect_eq(tp->undo_marker, ISN);
	cr_expect_eq(tp->prior_ssthresh, TCP_INFINITE_SSTHRESH);
	/* PRR at ssthresh = in flight: one packet (the fast retransmit) */
	cr_expect_eq(tp->snd_cwnd, 6u, "cwnd %u", tp->snd_cwnd);
	cr_expect_eq(n_xmit_rtx, 1);
	cr_expect_eq(tp->retrans_out, 2u);
	cr_expect_eq(tp->srtt_us, 40000u << 3, "SACK-timed RTT sample: %u", tp->srtt_us);
	cr_expect_eq(tp->delivered, 3u);

	/* the block grows: no new loss (fewer than 3 SACKed above packet 5) */
	r = ack_sack(ISN, SEQ(2), SEQ(7));
	cr_expect_eq(tp->sacked_out, 5u);
	cr_expect_eq(tp->lost_out, 2u);
	cr_expect_not(TCP_SKB_CB(nth(5))->sacked & TCPCB_LOST);

	/* both retransmissions arrive: partial ACK, still Recovery */
	cr_assert_gt(ack_plain(SEQ(7)), 0);
	cr_expect_eq(tp->packets_out, 3u);
	cr_expect_eq(tp->sacked_out, 0u);
	cr_expect_eq(tp->lost_out, 0u);
	cr_expect_eq(tp->retrans_out, 0u);
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);

	/* everything up to high_seq: Recovery ends with cwnd = ssthresh, then
	 * the same ACK runs congestion avoidance (the stub adds what was acked) */
	cr_assert_gt(ack_plain(SEQ(10)), 0);
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	cr_expect_eq(tp->snd_ssthresh, 5u);
	cr_expect_eq(tp->snd_cwnd, 5u + 3u, "cwnd %u", tp->snd_cwnd);
	cr_expect_eq(n_cong_avoid, 1);
	cr_expect_eq(tp->undo_marker, ISN, "kept: a late D-SACK may still undo");
	cr_expect_eq(tp->wmem_queued, 0u);
	finish();
}

Test(tcp_sack, marks_lost_when_dupthresh_sacked_above)
{
	send_pkts(10, MSS);
	/* holes at 0 and 4: SACKs of 1-3 and 5-9 */
	struct ackopt o = {.nsacks = 2, .sacks = {{SEQ(5), SEQ(10)}, {SEQ(1), SEQ(4)}}};

	ack_with(ISN, &o);
	cr_expect_eq(tp->sacked_out, 8u);
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	cr_expect(TCP_SKB_CB(nth(0))->sacked & TCPCB_LOST);
	cr_expect(TCP_SKB_CB(nth(4))->sacked & TCPCB_LOST, "5 SACKed above the second hole");
	cr_expect_eq(tp->lost_out, 2u);
	cr_expect_eq(tp->retrans_out, 2u);
	finish();
}

Test(tcp_sack, invalid_blocks_ignored)
{
	send_pkts(5, MSS);
	/* beyond snd_nxt, reversed, at snd_una (not a D-SACK: no undo_marker) */
	struct ackopt o = {.nsacks = 3,
			   .sacks = {{SEQ(4), SEQ(6)}, {SEQ(3), SEQ(2)}, {SEQ(0) - 10, SEQ(0) + 10}}};

	int r = ack_with(ISN, &o);
	cr_expect_not(r & TCP_FLAG_DATA_SACKED);
	cr_expect_eq(tp->sacked_out, 0u);
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	finish();
}

Test(tcp_sack, dsack_undoes_spurious_recovery)
{
	send_pkts(10, MSS);
	ack_sack(ISN, SEQ(1), SEQ(4));
	cr_assert_eq(tp->ca_state, TCP_CA_Recovery);
	cr_assert_eq(tp->retrans_out, 1u);
	cr_assert_eq(tp->undo_retrans, 1);
	/* the original arrived after all: cumulative ACK, then a D-SACK for the copy */
	ack_plain(SEQ(4));
	cr_assert_eq(tp->ca_state, TCP_CA_Recovery);
	struct ackopt o = {.nsacks = 1, .sacks = {{SEQ(0), SEQ(1)}}};
	int r = ack_with(SEQ(4), &o);
	cr_expect(r & TCP_FLAG_DSACKING_ACK);
	cr_expect_eq(tp->dsack_dups, 1u);
	cr_expect_eq(tp->undo_retrans, 0);
	/* every retransmission was needless: cwnd and ssthresh come back */
	cr_expect_eq(tp->undo_marker, 0u);
	cr_expect_eq(tp->snd_ssthresh, TCP_INFINITE_SSTHRESH);
	cr_expect_geq(tp->snd_cwnd, 10u, "cwnd %u", tp->snd_cwnd);
	finish();
}

Test(tcp_sack, dsack_needs_retransmissions)
{
	send_pkts(4, MSS);
	ack_plain(SEQ(2));
	/* a D-SACK with nothing ever retransmitted is dubious and ignored */
	struct ackopt o = {.nsacks = 1, .sacks = {{SEQ(0), SEQ(1)}}};
	int r = ack_with(SEQ(2), &o);
	cr_expect_not(r & TCP_FLAG_DSACKING_ACK);
	cr_expect_eq(tp->dsack_dups, 1u);
	finish();
}

Test(tcp_sack, reordering_raises_dupthresh)
{
	send_pkts(10, MSS);
	/* 2 SACKed: Disorder, no recovery yet */
	ack_sack(ISN, SEQ(6), SEQ(8));
	cr_expect_eq(tp->ca_state, TCP_CA_Disorder);
	cr_expect_eq(tp->lost_out, 0u);
	/* the never-retransmitted hole 0..5 is filled: reordering of 8 packets */
	ack_sack(SEQ(6), SEQ(6), SEQ(8));
	cr_expect_eq(tp->reordering, 8u, "reordering %u", tp->reordering);
	cr_expect_eq(tp->ca_state, TCP_CA_Disorder);
	ack_plain(SEQ(10));
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	finish();
}

Test(tcp_sack, reno_three_dupacks)
{
	tp->sack_ok = false;
	send_pkts(6, MSS);
	ack_plain(ISN);
	ack_plain(ISN);
	cr_expect_eq(tp->sacked_out, 2u, "dupacks counted as SACKed packets");
	cr_expect_eq(tp->ca_state, TCP_CA_Disorder);
	ack_plain(ISN);
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	cr_expect(TCP_SKB_CB(nth(0))->sacked & TCPCB_LOST);
	cr_expect_eq(tp->lost_out, 1u);
	cr_expect_eq(n_xmit_rtx, 1);
	/* a partial ACK: NewReno loses the next head */
	ack_plain(SEQ(1));
	cr_expect(TCP_SKB_CB(nth(0))->sacked & TCPCB_LOST);
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	/* RFC 6582: at high_seq exactly, Reno holds Recovery; above it, Open */
	send_pkts(2, MSS);
	ack_plain(SEQ(6));
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	ack_plain(SEQ(7));
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	cr_expect_eq(tp->sacked_out, 0u);
	finish();
}

Test(tcp_sack, enter_loss)
{
	send_pkts(5, MSS);
	ack_sack(ISN, SEQ(2), SEQ(3));
	cr_assert_eq(tp->sacked_out, 1u);
	tcp_enter_loss(tp);
	cr_expect_eq(tp->ca_state, TCP_CA_Loss);
	cr_expect_eq(tp->lost_out, 4u, "all but the SACKed one");
	cr_expect_not(TCP_SKB_CB(nth(2))->sacked & TCPCB_LOST);
	cr_expect_eq(tp->snd_cwnd, 1u);
	cr_expect_eq(tp->snd_ssthresh, 5u);
	cr_expect_eq(tp->high_seq, SEQ(5));
	cr_expect_eq(tp->undo_marker, ISN);
	cr_expect_null(tp->lost_skb_hint);

	/* the receiver reneged: the head is SACKed, so every SACK is forgotten */
	tcp_clear_retrans(tp);
	for (unsigned i = 0; i < 5; i++)
		TCP_SKB_CB(nth(i))->sacked = i == 0 ? TCPCB_SACKED_ACKED : 0;
	tp->sacked_out = 1;
	tcp_enter_loss(tp);
	cr_expect_eq(tp->sacked_out, 0u);
	cr_expect_eq(tp->lost_out, 5u);
	finish();
}

Test(tcp_sack, loss_recovery_completes)
{
	send_pkts(4, MSS);
	tcp_enter_loss(tp);
	tcp_xmit_retransmit_queue(tp);
	cr_assert_eq(tp->retrans_out, 4u);
	/* retransmissions acked one by one: still Loss until high_seq */
	ack_plain(SEQ(2));
	cr_expect_eq(tp->ca_state, TCP_CA_Loss);
	cr_expect_eq(tp->lost_out, 2u);
	ack_plain(SEQ(4));
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	cr_expect_eq(tp->retrans_stamp_us, 0u, "nothing retransmitted is left");
	finish();
}

Test(tcp_sack, long_queue)
{
	const unsigned n = 5000;

	tp->mss_cache = 100;
	tp->max_window = 1u << 30;
	tp->snd_wnd = 1u << 30;
	send_pkts(n, 100);
	/* the head is lost; every ACK SACKs one more packet at the top */
	for (unsigned i = 2; i <= n; i++) {
		cr_assert_gt(ack_sack(ISN, ISN + 100, ISN + 100 * i), 0);
		cr_assert_eq(tp->sacked_out, i - 1);
	}
	cr_expect_eq(tp->ca_state, TCP_CA_Recovery);
	cr_expect_eq(tp->lost_out, 1u);
	cr_expect(TCP_SKB_CB(nth(0))->sacked & TCPCB_LOST);
	/* the loss walk resumed each time and stopped dupthresh SACKs below the top */
	cr_expect_eq(tp->lost_skb_hint, nth(n - 3));
	ack_plain(ISN + 100 * n);
	cr_expect_eq(tp->packets_out, 0u);
	cr_expect_eq(tp->ca_state, TCP_CA_Open);
	finish();
}

/* ================= random losses: the scoreboard stays consistent ================= */

#define RMSS 100u

static void net_xmit(uint32_t seq)
{
	if (rnd(100) >= loss_pct)
		rcvd[(seq - ISN) / RMSS] = true;
}

/* every counter equals what the packets' bits say; the scratch hints agree */
static void check_scoreboard(void)
{
	uint32_t sacked = 0, lost = 0, retrans = 0, n = 0, cnt_before_hint = 0, hs = 0;
	bool hint_seen = tp->lost_skb_hint == NULL;

	for (struct pkt *pk = tp->rtx_queue.head; pk; pk = pk->next) {
		uint8_t b = TCP_SKB_CB(pk)->sacked;

		if (pk == tp->lost_skb_hint) {
			hint_seen = true;
			cr_assert_eq(tcp_lost_cnt_hint(tp), cnt_before_hint, "lost_cnt_hint");
		}
		cr_assert((b & (TCPCB_LOST | TCPCB_SACKED_ACKED)) != (TCPCB_LOST | TCPCB_SACKED_ACKED));
		if (b & TCPCB_SACKED_ACKED) {
			sacked++;
			hs = TCP_SKB_CB(pk)->end_seq;
			if (!hint_seen)
				cnt_before_hint++;
		}
		lost += !!(b & TCPCB_LOST);
		retrans += !!(b & TCPCB_SACKED_RETRANS);
		n++;
	}
	cr_assert(hint_seen, "lost_skb_hint is on the queue");
	if (tp->sack_ok)
		cr_assert_eq(tp->sacked_out, sacked);
	else	/* Reno counts dupacks there, kept below packets_out (tcp_limit_reno_sacked) */
		cr_assert_leq(tp->sacked_out + (tp->lost_out ? tp->lost_out : 1), tp->packets_out + !tp->packets_out);
	cr_assert_eq(tp->lost_out, lost);
	cr_assert_eq(tp->retrans_out, retrans);
	cr_assert_eq(tp->packets_out, n);
	cr_assert_eq(tp->rtx_queue.count, n);
	if (sacked)
		cr_assert_eq(tcp_highest_sack_seq(tp), hs, "highest SACK");
}

static void random_transfer(unsigned pct, uint64_t seed)
{
	uint32_t end = ISN + RN * RMSS;
	unsigned sent = 0, stuck = 0, iters = 0, recoveries = 0, rtos = 0;
	bool in_rec = false;

	rng = seed;
	loss_pct = pct;
	on_xmit = net_xmit;
	memset(rcvd, 0, sizeof(rcvd));
	tp->mss_cache = RMSS;
	tp->snd_cwnd = 10;
	while (tp->snd_una != end) {
		uint32_t prior = tp->snd_una, ack;
		struct ackopt o = {0};
		unsigned i;

		cr_assert_lt(++iters, 200000u, "no progress");
		/* send what cwnd allows, each copy lost with pct % */
		while (sent < RN && tcp_packets_in_flight(tp) < tp->snd_cwnd) {
			send_pkts(1, RMSS);
			net_xmit(ISN + sent * RMSS);
			sent++;
		}
		/* the receiver: cumulative ACK, then its runs above it, highest first */
		for (i = 0; i < RN && rcvd[i]; i++)
			;
		ack = ISN + i * RMSS;
		if (tp->sack_ok)
			o.nsacks = rcv_sack_runs(i, sent, RMSS, o.sacks);
		advance_ms(1);
		cr_assert_geq(ack_with(ack, &o), 0);
		check_scoreboard();
		recoveries += tp->ca_state == TCP_CA_Recovery && !in_rec;
		in_rec = tp->ca_state == TCP_CA_Recovery;
		/* nothing moved for a while: the RTO fires */
		stuck = tp->snd_una == prior ? stuck + 1 : 0;
		if (stuck > 20 && tp->packets_out) {
			tcp_enter_loss(tp);
			rtos++;
			check_scoreboard();
			tcp_xmit_retransmit_queue(tp);
			stuck = 0;
		}
	}
	cr_expect_eq(tp->packets_out, 0u);
	cr_expect_gt(recoveries, 0u);
	cr_log_info("%u%% loss: %u ACKs, %u recoveries, %u RTOs, %u retransmitted, reordering %u, cwnd %u",
		    pct, iters, recoveries, rtos, tp->total_retrans, tp->reordering, tp->snd_cwnd);
	on_xmit = NULL;
	finish();
}

Test(tcp_sack, random_loss_5pct) { random_transfer(5, 1); }
Test(tcp_sack, random_loss_20pct) { random_transfer(20, 2); }
Test(tcp_sack, random_loss_reno) { tp->sack_ok = false; random_transfer(10, 3); }
