/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_cubic.c - CUBIC and Reno arithmetic against RFC 9438 / RFC 5681
 *
 * Expected values come from the RFC's real-number formulas (C = 0.4,
 * beta = 0.7), computed here in double precision; the fixed-point code may
 * differ by its documented resolution (C is 410/1024, time ticks 1/1024 s,
 * cwnd is whole packets).  tcp_cubic.c depends on nothing but tcp.h, so
 * these tests need no stubs: they drive the tcp_ca_* hooks on a bare
 * tcp_sock, moving tp->tcp_mstamp by hand as the callers would.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tcp/tcp.h"

/* NEEDS (tcp.h): tcp_cubic.c's pacing-rate helper (tcp_update_pacing_rate's formula) */
uint64_t tcp_pacing_rate(const struct tcp_sock *tp);

#define RFC_C 0.4
#define RFC_BETA 0.7

static struct tcp_sock cu_tp;

/* A connection in congestion avoidance, cwnd-limited, clock at 10 s. */
static struct tcp_sock *cu_conn(uint32_t cwnd, uint32_t ssthresh)
{
	struct tcp_sock *tp = &cu_tp;

	memset(tp, 0, sizeof(*tp));
	tp->sk.state = TCP_ESTABLISHED;
	tp->snd_cwnd = cwnd;
	tp->snd_ssthresh = ssthresh;
	tp->snd_cwnd_clamp = ~0u;
	tp->is_cwnd_limited = true;
	tp->mss_cache = 1448;
	tp->snd_una = tp->snd_nxt = 1000;
	tp->tcp_mstamp = 10 * 1000000ull;
	tcp_ca_init(tp);
	return tp;
}

static void cu_advance_ms(struct tcp_sock *tp, uint64_t ms)
{
	tp->tcp_mstamp += ms * 1000u;
}

/* cube root in doubles without libm (the unit binary does not link it) */
static double cu_cbrt(double x)
{
	double y = x > 1 ? x / 3 : 1;

	for (int i = 0; i < 200; i++)
		y = (2 * y + x / (y * y)) / 3;
	return y;
}

static double cu_abs(double x) { return x < 0 ? -x : x; }

/* RFC 9438 eq. 1 and 2: W_cubic(t) with t in seconds since the epoch. */
static double rfc_w_cubic(double w_max, double cwnd_epoch, double t)
{
	double k = cu_cbrt((w_max - cwnd_epoch) / RFC_C);
	double d = t - k;

	return RFC_C * d * d * d + w_max;
}

/* K as the code computes it: start an epoch with W_max above cwnd. */
static uint32_t cu_k_for(uint32_t w_max, uint32_t cwnd)
{
	struct tcp_sock *tp = cu_conn(cwnd, cwnd);

	tp->ca.last_max_cwnd = w_max;
	tcp_ca_cong_avoid(tp, 0, 1);
	cr_assert_eq(tp->ca.epoch_start, (uint32_t)(tp->tcp_mstamp / 1000));
	cr_assert_eq(tp->ca.bic_origin_point, w_max);
	return tp->ca.bic_K;
}

/* (2^40 / 410): what K's cube is scaled by per packet of W_max - cwnd */
#define CU_CUBE_FACTOR ((1ull << 40) / 410u)

Test(tcp_cubic, cube_root_is_exact_floor)
{
	/* bic_K = floor(cbrt(factor * dW)) for every dW up to 4096 and a
	 * spread of larger ones: k^3 <= a < (k + 1)^3 */
	for (uint32_t dw = 1; dw < 1000000; dw = dw < 4096 ? dw + 1 : dw * 3 / 2) {
		uint32_t k = cu_k_for(1000000u + dw, 1000000u);
		unsigned __int128 a = (unsigned __int128)CU_CUBE_FACTOR * dw;
		unsigned __int128 lo = (unsigned __int128)k * k * k;
		unsigned __int128 hi = (unsigned __int128)(k + 1) * (k + 1) * (k + 1);

		cr_assert(lo <= a && a < hi, "dW %u: K %u is not floor(cbrt(%llu))", dw, k,
			  (unsigned long long)a);
	}
}

Test(tcp_cubic, k_matches_rfc)
{
	/* W_max 100, cwnd 70 after the reduction: K = cbrt(30 / 0.4) s */
	static const uint32_t cases[][2] = { { 100, 70 }, { 68, 56 }, { 1000, 700 }, { 20, 19 },
					     { 100000, 70000 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double want = cu_cbrt((cases[i][0] - cases[i][1]) / RFC_C);
		double got = cu_k_for(cases[i][0], cases[i][1]) / 1024.0;

		/* C is 410/1024 = 0.4004: K comes out 0.03 % short, plus one tick */
		cr_assert(cu_abs(got - want) <= want * 0.0005 + 1.0 / 1024,
			  "W_max %u cwnd %u: K %.5f s, RFC %.5f s", cases[i][0], cases[i][1], got,
			  want);
	}
	cr_assert_eq(cu_k_for(101, 100) == 0, false);
}

Test(tcp_cubic, no_w_max_means_origin_at_cwnd)
{
	struct tcp_sock *tp = cu_conn(50, 50);

	tcp_ca_cong_avoid(tp, 0, 1);
	cr_assert_eq(tp->ca.bic_K, 0);
	cr_assert_eq(tp->ca.bic_origin_point, 50);
	/* with no W_max the curve is not allowed to be slower than 5 %/RTT */
	cr_assert_eq(tp->ca.cnt, 20);
}

/*
 * Drive a flow through one epoch: RTT 100 ms, every packet ACKed one RTT
 * after it was sent (cwnd ACKs per RTT, spread over the RTT).  cwnd must
 * follow W_cubic(t) of RFC 9438 from the loss at W_max 100.
 */
Test(tcp_cubic, cwnd_follows_w_cubic)
{
	struct tcp_sock *tp = cu_conn(100, ~0u);
	double acc = 0;

	tp->ca.delay_min = 100000;	/* us: the target is one RTT ahead */
	tp->snd_ssthresh = tcp_ca_ssthresh(tp);
	cr_assert_eq(tp->snd_ssthresh, 70);
	cr_assert_eq(tp->ca.last_max_cwnd, 100);
	tp->snd_cwnd = tp->snd_ssthresh;

	for (uint32_t ms = 1; ms <= 9000; ms++) {
		cu_advance_ms(tp, 1);
		acc += tp->snd_cwnd / 100.0;
		uint32_t acked = (uint32_t)acc;

		acc -= acked;
		if (acked)
			tcp_ca_cong_avoid(tp, 0, acked);
		if (ms % 500 == 0 && ms >= 1000) {
			double w = rfc_w_cubic(100, 70, ms / 1000.0);
			double err = cu_abs(tp->snd_cwnd - w);

			cr_assert(err <= 1.5 + w * 0.01, "t %.1f s: cwnd %u, W_cubic %.2f", ms / 1000.0,
				  tp->snd_cwnd, w);
		}
	}
	/* K = 4.22 s: by then cwnd is back at W_max, and beyond it grows convexly */
	cr_assert(tp->snd_cwnd > 100);
}

Test(tcp_cubic, loss_applies_beta)
{
	static const uint32_t cwnds[] = { 10, 70, 100, 1000, 12345 };

	for (size_t i = 0; i < sizeof(cwnds) / sizeof(cwnds[0]); i++) {
		struct tcp_sock *tp = cu_conn(cwnds[i], cwnds[i]);
		uint32_t ss = tcp_ca_ssthresh(tp);
		double want = cwnds[i] * RFC_BETA;

		/* 717/1024 = 0.7002, truncated */
		cr_assert(cu_abs(ss - want) < 1.0 + want * 0.0003, "cwnd %u: ssthresh %u, RFC %.2f",
			  cwnds[i], ss, want);
		cr_assert_eq(tp->ca.last_max_cwnd, cwnds[i]);
		cr_assert_eq(tp->ca.epoch_start, 0);
	}
	cr_assert_eq(tcp_ca_ssthresh(cu_conn(2, 2)), 2);
	cr_assert_eq(tcp_ca_ssthresh(cu_conn(1, 1)), 2);
	cr_assert_eq(tcp_ca_ssthresh(cu_conn(100, 100)), 70);
}

Test(tcp_cubic, fast_convergence)
{
	/* a second loss below the last W_max: W_max = cwnd * (1 + beta) / 2 */
	struct tcp_sock *tp = cu_conn(80, 80);

	tp->ca.last_max_cwnd = 100;
	cr_assert_eq(tcp_ca_ssthresh(tp), 56);		/* 80 * 0.7 */
	cr_assert_eq(tp->ca.last_max_cwnd, 68);		/* 80 * 1.7 / 2 */
	/* and the next epoch's K is cbrt((68 - 56) / 0.4) = 3.107 s */
	uint32_t k = cu_k_for(68, 56);
	cr_assert(cu_abs(k / 1024.0 - cu_cbrt(12 / RFC_C)) < 0.005, "K %u", k);

	/* a loss at or above W_max does not converge */
	tp = cu_conn(120, 120);
	tp->ca.last_max_cwnd = 100;
	tcp_ca_ssthresh(tp);
	cr_assert_eq(tp->ca.last_max_cwnd, 120);
}

Test(tcp_cubic, reno_friendly_region)
{
	/* on the plateau (W_max = cwnd, K = 0) CUBIC is flat, and the AIMD
	 * estimate W_est = cwnd + 3(1-b)/(1+b) * acked / cwnd takes over */
	struct tcp_sock *tp = cu_conn(100, 50);

	tp->ca.last_max_cwnd = 100;
	tcp_ca_cong_avoid(tp, 0, 1);		/* starts the epoch */
	cr_assert_eq(tp->ca.cnt, 100 * 100);
	tcp_ca_cong_avoid(tp, 0, 400);		/* same tick: only counted */
	cu_advance_ms(tp, 32);
	tcp_ca_cong_avoid(tp, 0, 1);

	double alpha = 3 * (1 - RFC_BETA) / (1 + RFC_BETA);
	double w_est = 100 + alpha * 402 / 100;	/* 102.13 */
	cr_assert_eq(tp->ca.tcp_cwnd, (uint32_t)w_est);
	/* grow by W_est - cwnd per RTT: one packet per cwnd / 2 ACKs */
	cr_assert_eq(tp->ca.cnt, 100 / ((uint32_t)w_est - 100));
}

Test(tcp_cubic, increase_capped_at_one_per_two_acks)
{
	/* far below the origin the curve would want to jump: cnt stays >= 2 */
	struct tcp_sock *tp = cu_conn(10, 10);

	tp->ca.last_max_cwnd = 1000;
	tp->ca.delay_min = 100000;
	tcp_ca_cong_avoid(tp, 0, 1);
	cr_assert_eq(tp->ca.cnt, 2);
}

Test(tcp_cubic, idle_shifts_epoch)
{
	struct tcp_sock *tp = cu_conn(100, 50);

	tp->ca.epoch_start = 9000;		/* ms */
	tp->lsndtime_us = 9500 * 1000ull;	/* last send 500 ms ago */
	tcp_ca_event(tp, TCP_CA_EVENT_TX_START);
	cr_assert_eq(tp->ca.epoch_start, 9500);
	/* never into the future */
	tp->ca.epoch_start = 9900;
	tp->lsndtime_us = 9000 * 1000ull;
	tcp_ca_event(tp, TCP_CA_EVENT_TX_START);
	cr_assert_eq(tp->ca.epoch_start, 10000);
	/* no epoch: nothing to shift */
	tp->ca.epoch_start = 0;
	tcp_ca_event(tp, TCP_CA_EVENT_TX_START);
	cr_assert_eq(tp->ca.epoch_start, 0);
}

Test(tcp_cubic, rto_resets_state)
{
	struct tcp_sock *tp = cu_conn(100, 50);

	tp->ca.last_max_cwnd = 200;
	tp->ca.delay_min = 5000;
	tp->ca.found = 1;
	tcp_ca_set_state(tp, TCP_CA_Recovery);
	cr_assert_eq(tp->ca.last_max_cwnd, 200);
	cr_assert_eq(tp->ca_state, TCP_CA_Recovery);
	tcp_ca_set_state(tp, TCP_CA_Loss);
	cr_assert_eq(tp->ca.last_max_cwnd, 0);
	cr_assert_eq(tp->ca.delay_min, 0);
	cr_assert_eq(tp->ca.found, 0);
	cr_assert_eq(tp->ca.curr_rtt, ~0u);
	cr_assert_eq(tp->ca_state, TCP_CA_Loss);
}

Test(tcp_cubic, undo_restores_prior_cwnd)
{
	struct tcp_sock *tp = cu_conn(70, 70);

	tp->prior_cwnd = 100;
	cr_assert_eq(tcp_ca_undo_cwnd(tp), 100);
	tp->snd_cwnd = 120;
	cr_assert_eq(tcp_ca_undo_cwnd(tp), 120);
}

/* ---- HyStart ---- */

static struct tcp_sock *cu_slow_start(uint32_t cwnd)
{
	struct tcp_sock *tp = cu_conn(cwnd, TCP_INFINITE_SSTHRESH);

	tp->snd_nxt = 5000;
	tcp_ca_init(tp);	/* the round ends when snd_una passes 5000 */
	return tp;
}

Test(tcp_cubic, hystart_delay_increase_exits_slow_start)
{
	/* base RTT 10 ms: eta = clamp(10/8 ms, 4 ms, 16 ms) = 4 ms */
	struct tcp_sock *tp = cu_slow_start(20);

	for (int i = 0; i < 9; i++) {
		cu_advance_ms(tp, 3);	/* ACKs 3 ms apart: no ACK train */
		tcp_ca_acked(tp, 1, 10000);
	}
	cr_assert_eq(tp->ca.delay_min, 10000);
	cr_assert_eq(tp->ca.found, 0);

	/* next round: RTT 13.9 ms is within base + eta */
	tp->snd_una = 5001;
	tp->snd_nxt = 9000;
	for (int i = 0; i < 9; i++) {
		cu_advance_ms(tp, 3);
		tcp_ca_acked(tp, 1, 13900);
	}
	cr_assert_eq(tp->ca.found, 0);
	cr_assert_eq(tp->snd_ssthresh, TCP_INFINITE_SSTHRESH);

	/* next round: 14.1 ms for HYSTART_MIN_SAMPLES + 1 samples: exit */
	tp->snd_una = 9001;
	tp->snd_nxt = 13000;
	tp->snd_cwnd = 40;
	for (int i = 0; i < 8; i++) {
		cu_advance_ms(tp, 3);
		tcp_ca_acked(tp, 1, 14100);
		cr_assert_eq(tp->ca.found, 0, "exit after only %d samples", i + 1);
	}
	cu_advance_ms(tp, 3);
	tcp_ca_acked(tp, 1, 14100);
	cr_assert_eq(tp->ca.found, 1);
	cr_assert_eq(tp->snd_ssthresh, 40);
	cr_assert(!tcp_in_slow_start(tp));
}

Test(tcp_cubic, hystart_delay_threshold_scales_with_rtt)
{
	/* base RTT 64 ms: eta = 8 ms; base 200 ms: eta capped at 16 ms */
	static const uint32_t base[] = { 64000, 200000 };
	static const uint32_t eta[] = { 8000, 16000 };

	for (int k = 0; k < 2; k++) {
		struct tcp_sock *tp = cu_slow_start(32);

		for (int i = 0; i < 9; i++) {
			cu_advance_ms(tp, 3);
			tcp_ca_acked(tp, 1, (int32_t)base[k]);
		}
		tp->snd_una = 5001;
		tp->snd_nxt = 9000;
		for (int i = 0; i < 9; i++) {
			cu_advance_ms(tp, 3);
			tcp_ca_acked(tp, 1, (int32_t)(base[k] + eta[k]));
		}
		cr_assert_eq(tp->ca.found, 0, "base %u: exit at +eta", base[k]);
		tp->snd_una = 9001;
		tp->snd_nxt = 13000;
		for (int i = 0; i < 9; i++) {
			cu_advance_ms(tp, 3);
			tcp_ca_acked(tp, 1, (int32_t)(base[k] + eta[k] + 1));
		}
		cr_assert_eq(tp->ca.found, 1, "base %u: no exit past +eta", base[k]);
	}
}

Test(tcp_cubic, hystart_ack_train_exits_slow_start)
{
	/* ACKs 1 ms apart keep coming for more than half the base RTT */
	struct tcp_sock *tp = cu_slow_start(20);

	tcp_ca_acked(tp, 1, 10000);		/* base RTT 10 ms; round starts now */
	for (int ms = 1; ms <= 5; ms++) {
		cu_advance_ms(tp, 1);
		tcp_ca_acked(tp, 1, 10000);
		cr_assert_eq(tp->ca.found, 0, "exit at %d ms, before RTT/2", ms);
	}
	cu_advance_ms(tp, 1);
	tcp_ca_acked(tp, 1, 10000);
	cr_assert_eq(tp->ca.found, 1);
	cr_assert_eq(tp->snd_ssthresh, 20);
}

Test(tcp_cubic, hystart_ack_train_allows_for_gso_bursts)
{
	/* once paced (an RTT sample exists), the train threshold grows by
	 * the time four 64 KB bursts take at the pacing rate, at most 1 ms:
	 * (10 ms + 1 ms) / 2 = 5.5 ms instead of 5 ms */
	struct tcp_sock *tp = cu_slow_start(20);

	tp->srtt_us = 10000 << 3;
	tcp_ca_acked(tp, 1, 10000);
	for (int us = 500; us <= 5500; us += 500) {
		tp->tcp_mstamp += 500;
		tcp_ca_acked(tp, 1, 10000);
		cr_assert_eq(tp->ca.found, 0, "exit at %d us", us);
	}
	tp->tcp_mstamp += 500;
	tcp_ca_acked(tp, 1, 10000);
	cr_assert_eq(tp->ca.found, 1);
}

Test(tcp_cubic, hystart_needs_low_window)
{
	struct tcp_sock *tp = cu_slow_start(15);

	tcp_ca_acked(tp, 1, 10000);
	for (int ms = 1; ms <= 20; ms++) {
		cu_advance_ms(tp, 1);
		tcp_ca_acked(tp, 1, 50000);
	}
	cr_assert_eq(tp->ca.found, 0);
	cr_assert_eq(tp->snd_ssthresh, TCP_INFINITE_SSTHRESH);
}

Test(tcp_cubic, rtt_samples_after_reduction_ignored)
{
	struct tcp_sock *tp = cu_conn(100, 50);

	tp->ca.epoch_start = (uint32_t)(tp->tcp_mstamp / 1000) - 999;
	tcp_ca_acked(tp, 1, 5000);
	cr_assert_eq(tp->ca.delay_min, 0);
	cu_advance_ms(tp, 1);
	tcp_ca_acked(tp, 1, 5000);
	cr_assert_eq(tp->ca.delay_min, 5000);
	tcp_ca_acked(tp, 1, -1);
	tcp_ca_acked(tp, 1, 0);
	cr_assert_eq(tp->ca.delay_min, 1);
}

/* ---- slow start, AIMD, Reno ---- */

Test(tcp_cubic, slow_start_stops_at_ssthresh_and_clamp)
{
	struct tcp_sock *tp = cu_conn(10, 15);

	cr_assert_eq(tcp_slow_start(tp, 8), 3);
	cr_assert_eq(tp->snd_cwnd, 15);
	tp = cu_conn(10, 100);
	tp->snd_cwnd_clamp = 12;
	cr_assert_eq(tcp_slow_start(tp, 8), 0);
	cr_assert_eq(tp->snd_cwnd, 12);
}

Test(tcp_cubic, cwnd_limited_rule)
{
	struct tcp_sock *tp = cu_conn(10, 100);

	tp->is_cwnd_limited = false;
	tp->max_packets_out = 6;
	cr_assert(tcp_is_cwnd_limited(tp));	/* 10 < 2 * 6 */
	tp->max_packets_out = 5;
	cr_assert(!tcp_is_cwnd_limited(tp));
	tcp_ca_cong_avoid(tp, 0, 5);
	cr_assert_eq(tp->snd_cwnd, 10);
	tp->snd_ssthresh = 5;			/* congestion avoidance: only the flag */
	tp->max_packets_out = 100;
	cr_assert(!tcp_is_cwnd_limited(tp));
}

Test(tcp_cubic, additive_increase_carries_credit)
{
	struct tcp_sock *tp = cu_conn(10, 5);

	tcp_cong_avoid_ai(tp, 10, 25);		/* 2 packets, 5 credits left */
	cr_assert_eq(tp->snd_cwnd, 12);
	cr_assert_eq(tp->snd_cwnd_cnt, 5);
	tcp_cong_avoid_ai(tp, 4, 0);		/* credit earned at a larger w */
	cr_assert_eq(tp->snd_cwnd, 13);
	cr_assert_eq(tp->snd_cwnd_cnt, 0);
}

Test(tcp_cubic, reno)
{
	struct tcp_sock *tp = cu_conn(10, 5);

	cr_assert_eq(tcp_ca_set(tp, "reno"), 0);
	cr_assert_str_eq(tcp_ca_name(tp), "reno");
	/* RFC 5681: one MSS per cwnd of ACKed data */
	for (int i = 0; i < 10; i++)
		tcp_ca_cong_avoid(tp, 0, 1);
	cr_assert_eq(tp->snd_cwnd, 11);
	/* ssthresh = max(FlightSize / 2, 2) with cwnd standing in */
	cr_assert_eq(tcp_ca_ssthresh(tp), 5);
	tp->snd_cwnd = 3;
	cr_assert_eq(tcp_ca_ssthresh(tp), 2);
	/* slow start then AI with what is left */
	tp->snd_cwnd = 8;
	tp->snd_ssthresh = 10;
	tp->snd_cwnd_cnt = 0;
	tcp_ca_cong_avoid(tp, 0, 12);
	cr_assert_eq(tp->snd_cwnd, 11);	/* 8 -> 10, then 10 credits of w 10 */
	/* no HyStart, no state */
	tcp_ca_acked(tp, 1, 1000);
	cr_assert_eq(tp->ca.delay_min, 0);
}

Test(tcp_cubic, select_algorithm)
{
	struct tcp_sock *tp = cu_conn(10, 5);

	cr_assert_str_eq(tcp_ca_name(tp), "cubic");
	cr_assert_eq(tcp_ca_set(tp, "bbr"), -ENOENT);
	cr_assert_eq(tcp_ca_set(tp, "Cubic"), -ENOENT);
	cr_assert_eq(tcp_ca_set(tp, ""), -ENOENT);
	/* asking for the current one keeps its state */
	tp->ca.last_max_cwnd = 77;
	cr_assert_eq(tcp_ca_set(tp, "cubic"), 0);
	cr_assert_eq(tp->ca.last_max_cwnd, 77);
	/* switching restarts from zero; a connection initialises at once */
	cr_assert_eq(tcp_ca_set(tp, "reno"), 0);
	cr_assert_eq(tcp_ca_set(tp, "cubic"), 0);
	cr_assert_eq(tp->ca.last_max_cwnd, 0);
	cr_assert_eq(tp->ca.curr_rtt, ~0u);
	/* a closed socket waits for the handshake's tcp_ca_init */
	tp->sk.state = TCP_CLOSE;
	cr_assert_eq(tcp_ca_set(tp, "reno"), 0);
	cr_assert_eq(tcp_ca_set(tp, "cubic"), 0);
	cr_assert_eq(tp->ca.curr_rtt, 0);
}

Test(tcp_cubic, pacing_rate)
{
	struct tcp_sock *tp = cu_conn(10, TCP_INFINITE_SSTHRESH);

	cr_assert_eq(tcp_pacing_rate(tp), ~0ull);
	/* 2 * cwnd * mss / srtt in slow start: 10 * 1448 B / 1 ms * 2 */
	tp->srtt_us = 1000 << 3;
	cr_assert_eq(tcp_pacing_rate(tp), 2ull * 10 * 1448 * 1000);
	/* 1.2x once cwnd reaches half of ssthresh */
	tp->snd_ssthresh = 20;
	cr_assert_eq(tcp_pacing_rate(tp), 12ull * 1448 * 1000);
}
