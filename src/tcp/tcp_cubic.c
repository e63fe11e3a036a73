/* SPDX-License-Identifier: MIT */
/*
 * tcp_cubic.c - congestion control: CUBIC (RFC 9438) with HyStart, and Reno
 *
 * Theory of operation.  Each connection carries its congestion state in
 * tp->ca (struct tcp_cubic, the kernel's struct bictcp); tp->ca.reno picks
 * Reno instead (TCP_CONGESTION).  The other files call the tcp_ca_* hooks
 * where Linux calls the congestion_ops of the socket: cong_avoid on each
 * ACK that advances, ssthresh on a loss, undo_cwnd on a spurious one,
 * set_state on every ca_state change, cwnd_event when transmission starts
 * after idle, pkts_acked with the RTT sample of each ACK.
 *
 * CUBIC follows net/ipv4/tcp_cubic.c arithmetic, not the floating-point
 * formulas of the RFC, because that is what a Linux peer's window does:
 *   W_cubic(t) = C (t - K)^3 + W_max,  K = cbrt((W_max - cwnd) / C)
 * with time in 1/1024 s, C = 410/1024 (bic_scale 41, "0.4"), and
 * beta_cubic = 717/1024 (0.7).  The one deliberate difference is the cube
 * root: Linux uses a hand-tuned table plus one Newton step (about 0.2 %
 * off); we compute the exact integer root, which is what RFC 9438's K is.
 * HyStart (ACK train and delay increase, from cwnd 16 on) ends slow start
 * by setting ssthresh to the current cwnd.
 *
 * Clocks.  Linux runs the CUBIC epoch on jiffies and HyStart on
 * tcp_clock_us; here "jiffies" are milliseconds of tp->tcp_mstamp (HZ =
 * 1000, the tree's USOCK_HZ) and HyStart reads tp->tcp_mstamp in us, both
 * truncated to 32 bits and compared modulo 2^32 as the kernel does.  The
 * callers refresh tcp_mstamp when a segment arrives and before they send,
 * as Linux refreshes it, so this file never reads the clock itself and has
 * no dependency beyond tcp.h (its unit test links it alone).
 *
 * Limits (the kernel's): the cubic arithmetic is exact for cwnd below about
 * a million packets and epochs shorter than about 350 s.
 */
#include <errno.h>
#include <string.h>

#include "tcp/tcp.h"

#define CUBIC_HZ 1000u			/* our "jiffies" are ms */
#define CUBIC_BETA 717u			/* beta_cubic, scaled by 1024 */
#define CUBIC_BETA_SCALE 1024u
#define CUBIC_BIC_SCALE 41u		/* C = 41 * 10 / 1024 */
#define CUBIC_TIME_SHIFT 10		/* the cubic clock ticks 1/1024 s (BICTCP_HZ) */
/* cube_rtt_scale: C scaled by 1024 */
#define CUBIC_RTT_SCALE (CUBIC_BIC_SCALE * 10u)
/* cube_factor: 2^(3 * CUBIC_TIME_SHIFT) / C, so that cbrt(factor * dW) is K in 1/1024 s */
#define CUBIC_CUBE_FACTOR ((1ull << (10 + 3 * CUBIC_TIME_SHIFT)) / CUBIC_RTT_SCALE)
/*
 * beta_scale of the TCP-friendly region (RFC 9438 4.3): a Reno-like flow
 * with beta 0.7 grows by 3(1 - beta)/(1 + beta) per RTT, i.e. one packet
 * per cwnd * (1 + beta) / (3 (1 - beta)) ACKed; kept << 3 as the kernel does.
 */
#define CUBIC_FRIENDLY_SCALE \
	(8u * (CUBIC_BETA_SCALE + CUBIC_BETA) / 3u / (CUBIC_BETA_SCALE - CUBIC_BETA))

#define HYSTART_LOW_WINDOW 16u
#define HYSTART_ACK_DELTA_US 2000u
#define HYSTART_MIN_SAMPLES 8u
#define HYSTART_DELAY_MIN_US 4000u
#define HYSTART_DELAY_MAX_US 16000u

/* net.ipv4.tcp_pacing_ss_ratio / tcp_pacing_ca_ratio defaults */
#define TCP_PACING_SS_RATIO 200u
#define TCP_PACING_CA_RATIO 120u
/* sk_gso_max_size of a Linux loopback or veth device (GSO_LEGACY_MAX_SIZE) */
#define TCP_GSO_MAX_SIZE 65536u

static inline uint32_t ca_jiffies(const struct tcp_sock *tp)
{
	return (uint32_t)(tp->tcp_mstamp / 1000u);
}

static inline uint32_t ca_clock_us(const struct tcp_sock *tp)
{
	return (uint32_t)tp->tcp_mstamp;
}

static inline uint32_t umin32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t umax32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/*
 * cubic_root - floor(cbrt(a)), exactly.  Digit by digit in base 8: each
 * round brings down three bits of a and decides one bit of the root, so
 * 22 rounds cover 64 bits without a division.
 */
static uint32_t cubic_root(uint64_t a)
{
	uint64_t y = 0;

	for (int s = 63; s >= 0; s -= 3) {
		/* (2y + 1)^3 - (2y)^3 = 3 * 2y * (2y + 1) + 1 */
		y <<= 1;
		uint64_t b = 3 * y * (y + 1) + 1;
		if ((a >> s) >= b) {
			a -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

/* bictcp_reset: forget the epoch and W_max, keep the algorithm choice. */
static void cubic_reset(struct tcp_cubic *ca)
{
	ca->cnt = 0;
	ca->last_max_cwnd = 0;
	ca->last_cwnd = 0;
	ca->last_time = 0;
	ca->bic_origin_point = 0;
	ca->bic_K = 0;
	ca->delay_min = 0;
	ca->epoch_start = 0;
	ca->ack_cnt = 0;
	ca->tcp_cwnd = 0;
	ca->found = 0;
}

/* bictcp_hystart_reset: a new HyStart round starts with the next ACK. */
static void hystart_reset(struct tcp_sock *tp)
{
	struct tcp_cubic *ca = &tp->ca;

	ca->round_start = ca->last_ack = ca_clock_us(tp);
	ca->end_seq = tp->snd_nxt;
	ca->curr_rtt = ~0u;
	ca->sample_cnt = 0;
}

/*
 * tcp_ca_init - start congestion control for a connection
 * (tcp_init_congestion_control + cubictcp_init).
 */
void tcp_ca_init(struct tcp_sock *tp)
{
	tp->prior_ssthresh = 0;
	if (tp->ca.reno)
		return;
	cubic_reset(&tp->ca);
	hystart_reset(tp);
}

/* tcp_is_cwnd_limited - may cwnd grow?  (include/net/tcp.h) */
bool tcp_is_cwnd_limited(const struct tcp_sock *tp)
{
	if (tp->is_cwnd_limited)
		return true;
	/* in slow start, let cwnd reach twice what was in flight */
	if (tcp_in_slow_start(tp))
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return false;
}

/*
 * tcp_slow_start - RFC 5681 slow start without ABC limit (tcp_slow_start):
 * grow by `acked`, but not past ssthresh nor the clamp.
 * Return: the part of `acked` left over for congestion avoidance.
 */
uint32_t tcp_slow_start(struct tcp_sock *tp, uint32_t acked)
{
	uint32_t cwnd = umin32(tp->snd_cwnd + acked, tp->snd_ssthresh);

	acked -= cwnd - tp->snd_cwnd;
	tp->snd_cwnd = umin32(cwnd, tp->snd_cwnd_clamp);
	return acked;
}

/*
 * tcp_cong_avoid_ai - additive increase: one packet per w packets ACKed,
 * credits carried in snd_cwnd_cnt (tcp_cong_avoid_ai).
 */
void tcp_cong_avoid_ai(struct tcp_sock *tp, uint32_t w, uint32_t acked)
{
	/* credits earned while w was larger are spent one packet at a time */
	if (tp->snd_cwnd_cnt >= w) {
		tp->snd_cwnd_cnt = 0;
		tp->snd_cwnd++;
	}
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= w) {
		uint32_t delta = tp->snd_cwnd_cnt / w;

		tp->snd_cwnd_cnt -= delta * w;
		tp->snd_cwnd += delta;
	}
	tp->snd_cwnd = umin32(tp->snd_cwnd, tp->snd_cwnd_clamp);
}

/*
 * cubic_update - recompute ca->cnt, the ACKs per one packet of growth, so
 * that cwnd follows W_cubic one RTT ahead (bictcp_update).
 */
static void cubic_update(struct tcp_cubic *ca, uint32_t cwnd, uint32_t acked, uint32_t now)
{
	uint32_t delta, target;
	uint64_t t, offs;

	ca->ack_cnt += acked;
	if (ca->last_cwnd == cwnd && (int32_t)(now - ca->last_time) <= (int32_t)(CUBIC_HZ / 32))
		return;
	/* at most one recomputation per tick; a reduction zeroes epoch_start */
	if (ca->epoch_start && now == ca->last_time)
		goto friendly;

	ca->last_cwnd = cwnd;
	ca->last_time = now;
	if (!ca->epoch_start) {
		ca->epoch_start = now;
		ca->ack_cnt = acked;
		ca->tcp_cwnd = cwnd;
		if (ca->last_max_cwnd <= cwnd) {
			ca->bic_K = 0;
			ca->bic_origin_point = cwnd;
		} else {
			/* RFC 9438 eq. 2, in 1/1024 s */
			ca->bic_K = cubic_root(CUBIC_CUBE_FACTOR * (ca->last_max_cwnd - cwnd));
			ca->bic_origin_point = ca->last_max_cwnd;
		}
	}

	/* t: time since the epoch plus one minimum RTT (the target is for
	 * the next RTT), converted from ticks to 1/1024 s */
	t = (uint64_t)(int64_t)(int32_t)(now - ca->epoch_start);
	t += (ca->delay_min + 999u) / 1000u;	/* usecs_to_jiffies rounds up */
	t = (t << CUBIC_TIME_SHIFT) / CUBIC_HZ;
	offs = t < ca->bic_K ? ca->bic_K - t : t - ca->bic_K;
	/* RFC 9438 eq. 1: C * (t - K)^3, back from 1/1024 s units */
	delta = (uint32_t)((CUBIC_RTT_SCALE * offs * offs * offs) >> (10 + 3 * CUBIC_TIME_SHIFT));
	target = t < ca->bic_K ? ca->bic_origin_point - delta : ca->bic_origin_point + delta;

	if (target > cwnd)
		ca->cnt = cwnd / (target - cwnd);
	else
		ca->cnt = 100 * cwnd;	/* at or above the plateau: almost flat */
	/* no W_max known yet: do not let the curve be timid (5 % per RTT) */
	if (ca->last_max_cwnd == 0 && ca->cnt > 20)
		ca->cnt = 20;

friendly:
	/* RFC 9438 4.3: never grow slower than an AIMD flow would */
	delta = (cwnd * CUBIC_FRIENDLY_SCALE) >> 3;
	if (delta && ca->ack_cnt > delta) {
		uint32_t n = (ca->ack_cnt - 1) / delta;

		ca->ack_cnt -= n * delta;
		ca->tcp_cwnd += n;
	}
	if (ca->tcp_cwnd > cwnd) {
		uint32_t max_cnt = cwnd / (ca->tcp_cwnd - cwnd);

		if (ca->cnt > max_cnt)
			ca->cnt = max_cnt;
	}
	/* never faster than 1.5x per RTT */
	ca->cnt = umax32(ca->cnt, 2);
}

/*
 * tcp_ca_cong_avoid - grow cwnd for `acked` newly ACKed packets
 * (cubictcp_cong_avoid / tcp_reno_cong_avoid).
 */
void tcp_ca_cong_avoid(struct tcp_sock *tp, uint32_t ack, uint32_t acked)
{
	(void)ack;
	if (!tcp_is_cwnd_limited(tp))
		return;
	if (tcp_in_slow_start(tp)) {
		acked = tcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	if (tp->ca.reno) {
		tcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
		return;
	}
	cubic_update(&tp->ca, tp->snd_cwnd, acked, ca_jiffies(tp));
	tcp_cong_avoid_ai(tp, tp->ca.cnt, acked);
}

/*
 * tcp_ca_ssthresh - the slow start threshold after a loss
 * (cubictcp_recalc_ssthresh / tcp_reno_ssthresh).  CUBIC also ends its
 * epoch and remembers W_max, lowered further when the flow keeps losing
 * below its previous maximum (fast convergence, RFC 9438 4.7).
 * Return: the new ssthresh, at least 2.
 */
uint32_t tcp_ca_ssthresh(struct tcp_sock *tp)
{
	struct tcp_cubic *ca = &tp->ca;
	uint32_t cwnd = tp->snd_cwnd;

	if (ca->reno)
		return umax32(cwnd >> 1, 2);
	ca->epoch_start = 0;
	if (cwnd < ca->last_max_cwnd)
		ca->last_max_cwnd = cwnd * (CUBIC_BETA_SCALE + CUBIC_BETA) / (2 * CUBIC_BETA_SCALE);
	else
		ca->last_max_cwnd = cwnd;
	return umax32(cwnd * CUBIC_BETA / CUBIC_BETA_SCALE, 2);
}

/* tcp_ca_undo_cwnd - cwnd to restore after a false loss (tcp_reno_undo_cwnd, CUBIC's too). */
uint32_t tcp_ca_undo_cwnd(struct tcp_sock *tp)
{
	return umax32(tp->snd_cwnd, tp->prior_cwnd);
}

/*
 * tcp_ca_set_state - ca_state changes (tcp_set_ca_state): an RTO (Loss)
 * restarts CUBIC from scratch (cubictcp_state).  Records the new state.
 */
void tcp_ca_set_state(struct tcp_sock *tp, uint8_t new_state)
{
	if (!tp->ca.reno && new_state == TCP_CA_Loss) {
		cubic_reset(&tp->ca);
		hystart_reset(tp);
	}
	tp->ca_state = new_state;
}

/*
 * tcp_ca_event - CA_EVENT_* (cubictcp_cwnd_event).  Called on TX_START
 * before lsndtime_us moves to now: an application-limited pause shifts
 * the epoch so the curve does not jump ahead by the idle time.
 */
void tcp_ca_event(struct tcp_sock *tp, int ev)
{
	struct tcp_cubic *ca = &tp->ca;

	if (ca->reno || ev != TCP_CA_EVENT_TX_START)
		return;
	uint32_t now = ca_jiffies(tp);
	int32_t delta = (int32_t)(now - (uint32_t)(tp->lsndtime_us / 1000u));

	if (ca->epoch_start && delta > 0) {
		ca->epoch_start += (uint32_t)delta;
		if (tcp_after(ca->epoch_start, now))
			ca->epoch_start = now;
	}
}

/*
 * tcp_pacing_rate - sk_pacing_rate as tcp_update_pacing_rate sets it
 * after each ACK: 200 % of cwnd * mss / srtt in slow start (below half of
 * ssthresh), 120 % after.  Computed on demand from the current state.
 * Return: bytes per second; ~0 before the first RTT sample (unpaced).
 */
uint64_t tcp_pacing_rate(const struct tcp_sock *tp)
{
	uint64_t rate;

	if (!tp->srtt_us)
		return ~0ull;
	rate = (uint64_t)tp->mss_cache * ((1000000u / 100u) << 3);
	rate *= tp->snd_cwnd < tp->snd_ssthresh / 2 ? TCP_PACING_SS_RATIO : TCP_PACING_CA_RATIO;
	rate *= umax32(tp->snd_cwnd, tp->packets_out);
	return rate / tp->srtt_us;
}

/*
 * hystart_ack_delay - allowance for ACKs bunched by TSO/GRO: the time to
 * send four maximal GSO packets at the pacing rate, at most 1 ms
 * (hystart_ack_delay).
 */
static uint32_t hystart_ack_delay(const struct tcp_sock *tp)
{
	uint64_t rate = tcp_pacing_rate(tp);

	if (!rate)
		return 0;
	uint64_t d = (uint64_t)TCP_GSO_MAX_SIZE * 4u * 1000000u / rate;
	return d < 1000u ? (uint32_t)d : 1000u;
}

/* hystart_update - look for the end of slow start in this RTT sample (hystart_update). */
static void hystart_update(struct tcp_sock *tp, uint32_t delay)
{
	struct tcp_cubic *ca = &tp->ca;

	if (tcp_after(tp->snd_una, ca->end_seq))
		hystart_reset(tp);
	if (tp->snd_cwnd < HYSTART_LOW_WINDOW)
		return;

	/* ACK train: closely spaced ACKs still arriving half an RTT after
	 * the round began mean the pipe is full.  Unpaced flows halve the
	 * threshold (sk_pacing_status is SK_PACING_NONE here). */
	uint32_t now = ca_clock_us(tp);
	if ((int32_t)(now - ca->last_ack) <= (int32_t)HYSTART_ACK_DELTA_US) {
		ca->last_ack = now;
		uint32_t threshold = (ca->delay_min + hystart_ack_delay(tp)) >> 1;

		if ((int32_t)(now - ca->round_start) > (int32_t)threshold) {
			ca->found = 1;
			tp->snd_ssthresh = tp->snd_cwnd;
		}
	}

	/* delay increase: the round's minimum RTT over HYSTART_MIN_SAMPLES
	 * samples rose by an eighth of the base RTT (4..16 ms) */
	if (ca->curr_rtt > delay)
		ca->curr_rtt = delay;
	if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
		ca->sample_cnt++;
	} else {
		uint32_t eta = ca->delay_min >> 3;

		if (eta < HYSTART_DELAY_MIN_US)
			eta = HYSTART_DELAY_MIN_US;
		else if (eta > HYSTART_DELAY_MAX_US)
			eta = HYSTART_DELAY_MAX_US;
		if (ca->curr_rtt > ca->delay_min + eta) {
			ca->found = 1;
			tp->snd_ssthresh = tp->snd_cwnd;
		}
	}
}

/*
 * tcp_ca_acked - an ACK's RTT sample (cubictcp_acked): keeps the minimum
 * delay and runs HyStart while in slow start.  rtt_us < 0: no sample.
 */
void tcp_ca_acked(struct tcp_sock *tp, uint32_t pkts_acked, int32_t rtt_us)
{
	struct tcp_cubic *ca = &tp->ca;

	(void)pkts_acked;
	if (ca->reno || rtt_us < 0)
		return;
	/* samples right after a reduction are inflated by the queue it drained */
	if (ca->epoch_start && (int32_t)(ca_jiffies(tp) - ca->epoch_start) < (int32_t)CUBIC_HZ)
		return;
	uint32_t delay = rtt_us ? (uint32_t)rtt_us : 1u;

	if (!ca->delay_min || ca->delay_min > delay)
		ca->delay_min = delay;
	if (!ca->found && tcp_in_slow_start(tp))
		hystart_update(tp, delay);
}

/* tcp_ca_name - TCP_CONGESTION's answer. */
const char *tcp_ca_name(const struct tcp_sock *tp)
{
	return tp->ca.reno ? "reno" : "cubic";
}

/*
 * tcp_ca_set - TCP_CONGESTION / the default algorithm for a new socket
 * (tcp_set_congestion_control): asking for the current one changes
 * nothing; a switch starts the new algorithm from zero state, at once on
 * a connection, at the handshake's end (tcp_init_transfer calls
 * tcp_ca_init) on a closed or listening socket.
 * Return: 0, -ENOENT for an algorithm usock does not have.
 */
int tcp_ca_set(struct tcp_sock *tp, const char *name)
{
	bool reno;

	if (strcmp(name, "reno") == 0)
		reno = true;
	else if (strcmp(name, "cubic") == 0)
		reno = false;
	else
		return -ENOENT;
	if (reno == tp->ca.reno)
		return 0;
	memset(&tp->ca, 0, sizeof(tp->ca));
	tp->ca.reno = reno;
	if (!(TCPF(tp->sk.state) & (TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN))))
		tcp_ca_init(tp);
	return 0;
}
