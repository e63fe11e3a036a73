/* SPDX-License-Identifier: MIT */
/*
 * tcp_timer.c - retransmit/probe, delayed ACK, keepalive and FIN_WAIT2 timers
 *
 * Theory of operation.  Every connection owns three timers on its
 * namespace's timer base, as the kernel's inet_connection_sock does:
 *
 *   rtx_timer        icsk_retransmit_timer, multiplexed by tp->pending
 *                    (RTO, zero-window probe, tail loss probe, RACK reorder);
 *                    tp->timeout_ns is the deadline that counts.
 *   delack_timer     icsk_delack_timer; tp->ack.timeout_ns is its deadline and
 *                    ICSK_ACK_TIMER in tp->ack.pending says it is meant.
 *   keepalive_timer  sk_timer: keepalive probes, and the FIN_WAIT2 lifetime
 *                    of an orphan.
 *
 * Arming is lazy where the kernel's is: the RTO is pushed back on nearly
 * every ACK, so when the heap already holds an earlier expiry for the
 * same timer we only record the new deadline, and the callback, finding
 * the recorded deadline still ahead (the kernel's time_after(icsk_timeout,
 * jiffies) test in tcp_write_timer_handler), re-arms for it.  That keeps
 * the per-ACK cost at a couple of stores instead of a heap sift.  Clearing
 * does cancel for real, so a socket freed after tcp_clear_xmit_timers never
 * has a timer pointing at it.
 *
 * Callbacks run with the namespace lock held.  A callback that ends the
 * connection (tcp_write_err, tcp_done, tcp_time_wait) may free the socket:
 * it returns at once and never touches tp again.
 *
 * Time units: deadlines in ns on the namespace clock; RTO, ATO and the
 * other intervals in us as tcp.h keeps them; the retry arithmetic of
 * retransmits_timed_out in ms, truncated as the kernel's tcp_time_stamp_ms.
 */
#include <errno.h>
#include <stdint.h>

#include "net/netns.h"
#include "tcp/tcp.h"

/* Offered to tcp_out.c's tcp_send_probe0 (the kernel keeps it here). */

#define TCP_THIN_LINEAR_RETRIES 6	/* include/net/tcp.h */
/* tcp_max_orphans: the kernel sizes it as half the established hash. */
#define TCP_MAX_ORPHANS (TCP_EHASH_SIZE / 2)
#define TCP_RTO_MAX_MS (TCP_RTO_MAX_US / 1000u)
#define TCP_RTO_MIN_MS (TCP_RTO_MIN_US / 1000u)
#define US_PER_S 1000000ll

static inline struct netns *tp_ns(const struct tcp_sock *tp) { return tp->sk.ns; }

static inline bool tcp_in_state(const struct tcp_sock *tp, unsigned mask)
{
	return (TCPF(tp->sk.state) & mask) != 0;
}

static inline unsigned ilog2_u32(uint32_t v) { return v ? 31u - (unsigned)__builtin_clz(v) : 0; }

static inline uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The tcp_time_stamp_ms of the cached event time. */
static inline uint32_t tcp_now_ms(const struct tcp_sock *tp) { return (uint32_t)(tp->tcp_mstamp / 1000u); }

/*
 * tcp_retrans_start_us - when the current run of retransmissions began
 * (tp->retrans_stamp, which tcp_retransmit_skb records).  Should it be 0
 * (never set, or set at virtual time 0) the head's first transmission
 * stands in: the clock's epoch would make every timeout look expired, and
 * the head's last transmission would never let one expire.
 */
static uint64_t tcp_retrans_start_us(const struct tcp_sock *tp)
{
	const struct pkt *head;

	if (tp->retrans_stamp_us)
		return tp->retrans_stamp_us;
	head = tp->rtx_queue.head;
	return head ? TCP_SKB_CB(head)->first_tx_us : tp->tcp_mstamp;
}

/*
 * Arm t for deadline, lazily: if the heap already holds an earlier expiry
 * the callback will find the recorded deadline ahead and re-arm then.
 */
static void tcp_timer_arm_lazy(struct tcp_sock *tp, struct timer *t, uint64_t deadline)
{
	if (timer_pending(t) && t->expires <= deadline)
		return;
	(void)netns_timer_arm(tp_ns(tp), t, deadline);
}

/* __sk_dst_reset / dst_negative_advice: make the next transmission route afresh. */
static void tcp_dst_reset(struct tcp_sock *tp)
{
	struct netns *ns = tp_ns(tp);

	if (ns->ip4)
		tp->dst_genid = ns->ip4->rt_genid - 1u;
}

/* ---------------------------------------------------------------- */
/* arming and clearing (inet_connection_sock.h)                      */
/* ---------------------------------------------------------------- */

/**
 * tcp_reset_xmit_timer - arm rtx_timer for what after when_us
 * @tp: the connection
 * @what: TCP_TIME_RETRANS, _PROBE0, _LOSS_PROBE or _REO
 * @when_us: delay from now
 * @max_us: cap on the delay (inet_csk_reset_xmit_timer's max_when)
 *
 * Records tp->pending and tp->timeout_ns as icsk_pending/icsk_timeout.
 * Anything else in @what is ignored, as the kernel only logs it.
 */
void tcp_reset_xmit_timer(struct tcp_sock *tp, int what, uint64_t when_us, uint64_t max_us)
{
	if (when_us > max_us)
		when_us = max_us;
	if (what != TCP_TIME_RETRANS && what != TCP_TIME_PROBE0 && what != TCP_TIME_LOSS_PROBE &&
	    what != TCP_TIME_REO)
		return;
	tp->pending = (uint8_t)what;
	tp->timeout_ns = netns_now(tp_ns(tp)) + when_us * 1000u;
	tcp_timer_arm_lazy(tp, &tp->rtx_timer, tp->timeout_ns);
}

/**
 * tcp_clear_xmit_timer - forget what rtx_timer was armed for
 * @tp: the connection
 * @what: any of the TCP_TIME_* that share rtx_timer
 *
 * The kernel only zeroes icsk_pending and leaves the timer to fire into
 * nothing; we cancel as well, so nothing outlives the socket.
 */
void tcp_clear_xmit_timer(struct tcp_sock *tp, int what)
{
	if (what == TCP_TIME_NONE || what > TCP_TIME_REO)
		return;
	tp->pending = TCP_TIME_NONE;
	netns_timer_cancel(tp_ns(tp), &tp->rtx_timer);
}

/**
 * tcp_reset_delack_timer - arm the delayed-ACK timer for expires_ns
 * @tp: the connection
 * @expires_ns: absolute deadline on the namespace clock
 *
 * Sets ICSK_ACK_TIMER and ack.timeout_ns (the ICSK_TIME_DACK case of
 * inet_csk_reset_xmit_timer); the caller sets ICSK_ACK_SCHED.
 */
void tcp_reset_delack_timer(struct tcp_sock *tp, uint64_t expires_ns)
{
	tp->ack.pending |= ICSK_ACK_TIMER;
	tp->ack.timeout_ns = expires_ns;
	tcp_timer_arm_lazy(tp, &tp->delack_timer, expires_ns);
}

/**
 * tcp_reset_keepalive_timer - (re)arm sk_timer len_us from now
 * @tp: the connection
 * @len_us: delay
 *
 * Armed exactly: the keepalive callback has no recorded deadline to
 * check, as in the kernel.
 */
void tcp_reset_keepalive_timer(struct tcp_sock *tp, uint64_t len_us)
{
	(void)netns_timer_arm(tp_ns(tp), &tp->keepalive_timer, netns_now(tp_ns(tp)) + len_us * 1000u);
}

/* tcp_delete_keepalive_timer - inet_csk_delete_keepalive_timer. */
void tcp_delete_keepalive_timer(struct tcp_sock *tp)
{
	netns_timer_cancel(tp_ns(tp), &tp->keepalive_timer);
}

/**
 * tcp_probe0_when - the next zero-window probe delay, us
 * @tp: the connection
 * @max_us: cap
 *
 * tcp_probe0_base (max(rto, TCP_RTO_MIN)) shifted by the backoff, the
 * shift itself capped one past the point where it would pass TCP_RTO_MAX
 * from TCP_RTO_MIN (tcp_probe0_when).
 * Return: the delay in us, at most @max_us.
 */
uint64_t tcp_probe0_when(const struct tcp_sock *tp, uint64_t max_us)
{
	unsigned cap = ilog2_u32(TCP_RTO_MAX_US / TCP_RTO_MIN_US) + 1;
	unsigned backoff = tp->backoff < cap ? tp->backoff : cap;
	uint64_t base = umax64(tp->rto_us, TCP_RTO_MIN_US);

	return umin64(base << backoff, max_us);
}

/**
 * tcp_check_probe_timer - arm the probe timer when nothing is in flight
 * @tp: the connection
 *
 * With no packet out and no timer pending, data held back (cork,
 * MSG_MORE, Nagle against a closed window) would wait for ever; the probe
 * timer at tcp_probe0_base pushes it out (tcp_check_probe_timer).  This is
 * the ~200 ms after which held MSG_MORE data leaves on Linux.
 */
void tcp_check_probe_timer(struct tcp_sock *tp)
{
	if (!tp->packets_out && !tp->pending)
		tcp_reset_xmit_timer(tp, TCP_TIME_PROBE0, umax64(tp->rto_us, TCP_RTO_MIN_US),
				     TCP_RTO_MAX_US);
}

/**
 * tcp_fin_time - how long an orphan may sit in FIN_WAIT2, us
 * @tp: the connection
 *
 * TCP_LINGER2 or the tcp_fin_timeout sysctl, but never less than 3.5 RTO
 * (tcp_fin_time).  A negative TCP_LINGER2 gives the 3.5 RTO floor, as the
 * kernel's arithmetic does; callers test linger2 < 0 first.
 * Return: the lifetime in us.
 */
uint64_t tcp_fin_time(const struct tcp_sock *tp)
{
	int64_t fin = tp->linger2_s ? (int64_t)tp->linger2_s * US_PER_S
				    : (int64_t)tcp_sys(&tp->sk)->fin_timeout * US_PER_S;
	int64_t rto = tp->rto_us;
	int64_t floor = (rto << 2) - (rto >> 1);

	if (fin < floor)
		fin = floor;
	return (uint64_t)fin;
}

/**
 * tcp_clamp_probe0_to_user_timeout - shorten a probe delay to what is left
 * of TCP_USER_TIMEOUT since the first unanswered probe
 * @tp: the connection
 * @when_us: the delay tcp_probe0_when proposed
 *
 * Mirrors tcp_clamp_probe0_to_user_timeout; the floor is TCP_TIMEOUT_MIN
 * (2 jiffies: 2 ms).
 * Return: the delay in us.
 */
uint64_t tcp_clamp_probe0_to_user_timeout(const struct tcp_sock *tp, uint64_t when_us)
{
	uint64_t now_us, elapsed, limit, remaining;

	if (!tp->user_timeout_ms || !tp->probes_tstamp_us)
		return when_us;
	now_us = tcp_clock_us(tp_ns(tp));
	elapsed = now_us > tp->probes_tstamp_us ? now_us - tp->probes_tstamp_us : 0;
	limit = (uint64_t)tp->user_timeout_ms * 1000u;
	remaining = limit > elapsed ? limit - elapsed : 0;
	remaining = umax64(remaining, 2000u);
	return umin64(remaining, when_us);
}

/* ---------------------------------------------------------------- */
/* giving up (tcp_write_timeout and friends)                         */
/* ---------------------------------------------------------------- */

/*
 * tcp_write_err - report the soft error or ETIMEDOUT and end the
 * connection (tcp_write_err).  tp may be freed on return.
 */
static void tcp_write_err(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;

	sk_report_error(sk, sk->err_soft ? sk->err_soft : ETIMEDOUT);
	tcp_write_queue_purge(tp);
	tcp_done(tp);
}

/*
 * tcp_out_of_resources - kill an orphan when orphans are too many
 * (tcp_out_of_resources / tcp_check_oom with tcp_too_many_orphans).  We
 * have no global TCP memory accounting, so only the orphan count counts.
 * Return: true if the socket was ended (and may be freed).
 */
static bool tcp_out_of_resources(struct tcp_sock *tp, bool do_reset)
{
	struct tcp_table *tt = tcp_table(tp_ns(tp));
	unsigned shift = 0;
	uint64_t idle_us = tp->tcp_mstamp - tp->lsndtime_us;

	/* a peer silent or closed for long is penalised, an ICMP error more */
	if ((int64_t)idle_us > 2 * (int64_t)TCP_RTO_MAX_US || !do_reset)
		shift++;
	if (tp->sk.err_soft)
		shift++;
	if (!tt || ((uint64_t)tt->orphan_count << shift) <= TCP_MAX_ORPHANS)
		return false;
	if ((int64_t)idle_us <= (int64_t)(TCP_TIMEWAIT_LEN_NS / 1000u) || (!tp->snd_wnd && !tp->packets_out))
		do_reset = true;
	if (do_reset)
		tcp_send_active_reset(tp);
	tcp_done(tp);
	return true;
}

/* tcp_orphan_retries - retries allowed to an orphan (tcp_orphan_retries). */
static int tcp_orphan_retries(const struct tcp_sock *tp, bool alive)
{
	int retries = tcp_sys(&tp->sk)->orphan_retries;

	/* an ICMP error already told us the peer is unreachable */
	if (tp->sk.err_soft && !alive)
		retries = 0;
	/* 0 means 8: still over 100 s at the minimal RTO */
	if (retries == 0 && alive)
		retries = 8;
	return retries;
}

/*
 * tcp_model_timeout - how long `boundary` retransmissions take when the
 * RTO starts at rto_base and doubles up to TCP_RTO_MAX (tcp_model_timeout).
 * Return: ms.
 */
static uint64_t tcp_model_timeout(unsigned boundary, uint32_t rto_base_ms)
{
	unsigned thresh = ilog2_u32(TCP_RTO_MAX_MS / rto_base_ms);

	if (boundary <= thresh)
		return ((2ull << boundary) - 1) * rto_base_ms;
	return ((2ull << thresh) - 1) * rto_base_ms + (uint64_t)(boundary - thresh) * TCP_RTO_MAX_MS;
}

/**
 * tcp_retransmits_timed_out - has the current run of retransmissions lasted too long?
 * @tp: the connection
 * @boundary: retransmissions allowed (tcp_retries1/2, syn_retries ...)
 * @timeout_ms: an explicit limit (TCP_USER_TIMEOUT); 0: the time @boundary
 *	exponentially backed-off retransmissions take from TCP_RTO_MIN, or from
 *	the initial RTO during the handshake (retransmits_timed_out)
 *
 * Return: true when the time since the first retransmission reached the limit.
 */
bool tcp_retransmits_timed_out(struct tcp_sock *tp, unsigned boundary, uint32_t timeout_ms)
{
	uint64_t limit = timeout_ms;
	uint32_t start_ms;

	if (!tp->retransmits)
		return false;
	start_ms = (uint32_t)(tcp_retrans_start_us(tp) / 1000u);
	if (!limit) {
		uint32_t base = TCP_RTO_MIN_MS;

		if (tcp_in_state(tp, TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV)))
			base = TCP_TIMEOUT_INIT_US / 1000u;	/* tcp_timeout_init */
		limit = tcp_model_timeout(boundary, base);
	}
	return (int32_t)(tcp_now_ms(tp) - start_ms - (uint32_t)limit) >= 0;
}

/*
 * tcp_write_timeout - the RTO fired: give up? (tcp_write_timeout)
 * Return: true if the connection was ended (tp may be freed).
 */
static bool tcp_write_timeout(struct tcp_sock *tp)
{
	const struct tcp_sysctl *sys = tcp_sys(&tp->sk);
	bool expired = false;
	int retry_until;

	if (tcp_in_state(tp, TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV))) {
		int max_retransmits;

		if (tp->retransmits)
			tcp_dst_reset(tp);
		retry_until = tp->syn_retries ? tp->syn_retries : sys->syn_retries;
		max_retransmits = retry_until;
		/* the linear SYN timeouts come on top of tcp_syn_retries */
		if (tp->sk.state == TCP_SYN_SENT)
			max_retransmits += sys->syn_linear_timeouts;
		expired = tp->retransmits >= max_retransmits;
	} else {
		if (tcp_retransmits_timed_out(tp, (unsigned)sys->retries1, 0)) {
			/* black-hole MTU probing is not implemented; the
			 * route is looked up again, as dst_negative_advice */
			tcp_dst_reset(tp);
		}
		retry_until = sys->retries2;
		if (tp->orphan) {
			bool alive = tp->rto_us < TCP_RTO_MAX_US;
			bool do_reset;

			retry_until = tcp_orphan_retries(tp, alive);
			do_reset = alive || !tcp_retransmits_timed_out(tp, (unsigned)retry_until, 0);
			if (tcp_out_of_resources(tp, do_reset))
				return true;
		}
	}
	if (!expired)
		expired = tcp_retransmits_timed_out(tp, (unsigned)(retry_until > 0 ? retry_until : 0),
						    tp->user_timeout_ms);
	if (expired) {
		tcp_write_err(tp);
		return true;
	}
	return false;
}

/*
 * tcp_clamp_rto_to_user_timeout - the next RTO, no later than
 * TCP_USER_TIMEOUT after the first retransmission.  Return: us.
 */
static uint64_t tcp_clamp_rto_to_user_timeout(const struct tcp_sock *tp)
{
	int64_t elapsed, remaining;

	if (!tp->user_timeout_ms)
		return tp->rto_us;
	elapsed = (int32_t)(tcp_now_ms(tp) - (uint32_t)(tcp_retrans_start_us(tp) / 1000u));
	remaining = (int64_t)tp->user_timeout_ms - elapsed;
	if (remaining <= 0)
		return 1000u;	/* already past: fire at the next tick */
	return umin64(tp->rto_us, (uint64_t)remaining * 1000u);
}

/*
 * tcp_rtx_probe0_timed_out - the peer keeps its window at zero while our
 * retransmissions go unanswered: give up after 2 * TCP_RTO_MAX without
 * hearing from it, or after TCP_USER_TIMEOUT (tcp_rtx_probe0_timed_out).
 */
static bool tcp_rtx_probe0_timed_out(const struct tcp_sock *tp, uint32_t rtx_delta_ms)
{
	uint64_t timeout = 2ull * TCP_RTO_MAX_MS;
	int64_t rcv_delta;

	if (tp->user_timeout_ms) {
		/* with a user timeout, window-0 replies do not keep us alive */
		if (rtx_delta_ms > tp->user_timeout_ms)
			return true;
		timeout = umin64(timeout, tp->user_timeout_ms);
	}
	rcv_delta = ((int64_t)(tp->timeout_ns / 1000u) - (int64_t)tp->rcv_tstamp_us) / 1000;
	if (rcv_delta <= (int64_t)timeout)
		return false;
	return rtx_delta_ms > timeout;
}

/* tcp_stream_is_thin - too few packets out for fast retransmit to work. */
static bool tcp_stream_is_thin(const struct tcp_sock *tp)
{
	return tp->packets_out < 4 && !tcp_in_initial_slowstart(tp);
}

/* __tcp_set_rto, clamped to the route's minimum and TCP_RTO_MAX. */
static uint32_t tcp_unbacked_rto(const struct tcp_sock *tp)
{
	uint64_t rto = (tp->srtt_us >> 3) + tp->rttvar_us;
	uint32_t lo = tp->rto_min_us ? tp->rto_min_us : TCP_RTO_MIN_US;

	if (rto < lo)
		rto = lo;
	return (uint32_t)umin64(rto, TCP_RTO_MAX_US);
}

/*
 * tcp_fastopen_synack_timer - a Fast Open child still waits for the ACK
 * of its SYN-ACK: resend that, never data (tcp_fastopen_synack_timer).
 */
static void tcp_fastopen_synack_timer(struct tcp_sock *tp, struct tcp_request_sock *req)
{
	const struct tcp_sysctl *sys = tcp_sys(&tp->sk);
	/* one more try than a plain SYN-ACK: the child may be accepted already */
	int max_retries = tp->syn_retries ? tp->syn_retries : sys->synack_retries + 1;

	if (req->num_timeout >= max_retries) {
		tcp_write_err(tp);
		return;
	}
	/* cwnd comes down after a SYN-ACK timeout, as tcp_init_transfer does */
	if (tp->retransmits == 1)
		tcp_enter_loss(tp);
	req->num_retrans++;
	/* errors ignored on purpose: an accepted child should not give up early */
	(void)tcp_send_synack_req(req, NULL, 0);
	req->num_timeout++;
	tp->retransmits++;
	if (!tp->retrans_stamp_us)
		tp->retrans_stamp_us = tp->tcp_mstamp ? tp->tcp_mstamp : 1;
	tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, (uint64_t)TCP_TIMEOUT_INIT_US << req->num_timeout,
			     TCP_RTO_MAX_US);
}

/*
 * tcp_retransmit_timer - the RTO fired (tcp_retransmit_timer): give up,
 * or enter Loss, resend the head and back off.
 */
static void tcp_retransmit_timer(struct tcp_sock *tp)
{
	const struct tcp_sysctl *sys = tcp_sys(&tp->sk);
	struct pkt *head;

	if (tp->fastopen_rsk) {
		tcp_fastopen_synack_timer(tp, tp->fastopen_rsk);
		return;
	}
	if (!tp->packets_out)
		return;
	head = tp->rtx_queue.head;
	if (!head)
		return;

	tp->tlp_high_seq = 0;

	if (!tp->snd_wnd && !tp->orphan &&
	    !tcp_in_state(tp, TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV))) {
		/*
		 * The peer shrank its window to zero under data already
		 * sent: the retransmissions act as window probes and do not
		 * count against the retry limits; only a peer silent for
		 * long is given up on.
		 */
		uint64_t from = tp->retrans_stamp_us ? tp->retrans_stamp_us : TCP_SKB_CB(head)->tx_us;
		uint32_t rtx_delta = (uint32_t)(tcp_now_ms(tp) - (uint32_t)(from / 1000u));

		if (tcp_rtx_probe0_timed_out(tp, rtx_delta)) {
			tcp_write_err(tp);
			return;
		}
		tcp_enter_loss(tp);
		(void)tcp_retransmit_skb(tp, head, 1);
		tcp_dst_reset(tp);
		goto out_reset_timer;
	}

	if (tcp_write_timeout(tp))
		return;

	tcp_enter_loss(tp);
	tp->retransmits++;	/* tcp_update_rto_stats */
	if (tcp_retransmit_skb(tp, tp->rtx_queue.head, 1) == -ENOBUFS) {
		/* no local memory: try again soon, without backing off */
		tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, TCP_RESOURCE_PROBE_INTERVAL_US,
				     TCP_RTO_MAX_US);
		return;
	}

out_reset_timer:
	if (tp->sk.state == TCP_ESTABLISHED && (tp->thin_lto || sys->thin_linear_timeouts) &&
	    tcp_stream_is_thin(tp) && tp->retransmits <= TCP_THIN_LINEAR_RETRIES) {
		/* thin streams: linear timeouts for the first few */
		tp->backoff = 0;
		tp->rto_us = tcp_unbacked_rto(tp);
	} else if (tp->sk.state != TCP_SYN_SENT || tp->retransmits > sys->syn_linear_timeouts) {
		/* retransmits stands in for the kernel's total_rto: in
		 * SYN_SENT nothing resets it, so they are equal there */
		if (tp->backoff < UINT8_MAX)
			tp->backoff++;
		tp->rto_us = (uint32_t)umin64((uint64_t)tp->rto_us << 1, TCP_RTO_MAX_US);
	}
	tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, tcp_clamp_rto_to_user_timeout(tp), TCP_RTO_MAX_US);
	if (tcp_retransmits_timed_out(tp, (unsigned)sys->retries1 + 1, 0))
		tcp_dst_reset(tp);
}

/*
 * tcp_probe_timer - the zero-window probe timer fired (tcp_probe_timer).
 * RFC 1122 4.2.2.17: a peer that answers probes is kept for ever, unless
 * the socket is an orphan or TCP_USER_TIMEOUT is set.
 */
static void tcp_probe_timer(struct tcp_sock *tp)
{
	int max_probes;

	if (tp->packets_out || !tcp_send_head(tp)) {
		tp->probes_out = 0;
		tp->probes_tstamp_us = 0;
		return;
	}
	if (!tp->probes_tstamp_us) {
		tp->probes_tstamp_us = tp->tcp_mstamp ? tp->tcp_mstamp : 1;
	} else if (tp->user_timeout_ms &&
		   tp->tcp_mstamp - tp->probes_tstamp_us >= (uint64_t)tp->user_timeout_ms * 1000u) {
		goto abort;
	}
	max_probes = tcp_sys(&tp->sk)->retries2;
	if (tp->orphan) {
		/* inet_csk_rto_backoff below TCP_RTO_MAX */
		uint64_t backed = (uint64_t)tp->rto_us << (tp->backoff < 40 ? tp->backoff : 40);
		bool alive = umin64(backed, TCP_RTO_MAX_US) < TCP_RTO_MAX_US;

		max_probes = tcp_orphan_retries(tp, alive);
		if (!alive && tp->backoff >= max_probes)
			goto abort;
		if (tcp_out_of_resources(tp, true))
			return;
	}
	if (tp->probes_out >= max_probes) {
abort:
		tcp_write_err(tp);
		return;
	}
	tcp_send_probe0(tp);
}

/* tcp_write_timer - rtx_timer fired (tcp_write_timer_handler). */
static void tcp_write_timer(struct timer *t, void *arg)
{
	struct tcp_sock *tp = arg;
	uint64_t now;
	uint64_t deadline;

	(void)t;
	if (tcp_in_state(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)) || !tp->pending)
		return;
	now = netns_now(tp_ns(tp));
	if (tp->timeout_ns > now) {
		/* fired for an older, earlier deadline (lazy arming) */
		(void)netns_timer_arm(tp_ns(tp), &tp->rtx_timer, tp->timeout_ns);
		return;
	}
	tcp_mstamp_refresh(tp);
	deadline = tp->timeout_ns;
	switch (tp->pending) {
	case TCP_TIME_REO:
		/* RACK's reordering window ran out (tcp_recovery.c) */
		tcp_rack_reo_timeout(tp);
		break;
	case TCP_TIME_LOSS_PROBE:
		tcp_send_loss_probe(tp);
		/* tcp_send_loss_probe ends by re-arming the RTO; should it
		 * not have, the RTO must not be lost with the probe */
		if (tp->pending == TCP_TIME_LOSS_PROBE && tp->timeout_ns == deadline)
			tcp_rearm_rto(tp);
		break;
	case TCP_TIME_RETRANS:
		tp->pending = TCP_TIME_NONE;
		tcp_retransmit_timer(tp);
		break;
	case TCP_TIME_PROBE0:
		tp->pending = TCP_TIME_NONE;
		tcp_probe_timer(tp);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- */
/* delayed ACK                                                       */
/* ---------------------------------------------------------------- */

/* tcp_delack_timer - (tcp_delack_timer_handler) */
static void tcp_delack_timer(struct timer *t, void *arg)
{
	struct tcp_sock *tp = arg;

	(void)t;
	if (tcp_in_state(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)) || !(tp->ack.pending & ICSK_ACK_TIMER))
		return;
	if (tp->ack.timeout_ns > netns_now(tp_ns(tp))) {
		(void)netns_timer_arm(tp_ns(tp), &tp->delack_timer, tp->ack.timeout_ns);
		return;
	}
	tp->ack.pending &= (uint8_t)~ICSK_ACK_TIMER;
	if (!(tp->ack.pending & ICSK_ACK_SCHED))
		return;
	if (!tp->ack.pingpong) {
		/* the ACK was due and nothing carried it: wait longer next time */
		tp->ack.ato_us = (uint32_t)umin64((uint64_t)tp->ack.ato_us << 1, tp->rto_us);
	} else {
		/* interactive guess was wrong: back to quick ACKs */
		tp->ack.pingpong = false;
		tp->ack.ato_us = TCP_ATO_MIN_US;
	}
	tcp_mstamp_refresh(tp);
	tcp_send_ack(tp);
}

/* ---------------------------------------------------------------- */
/* keepalive and FIN_WAIT2                                           */
/* ---------------------------------------------------------------- */

/* keepalive_time_elapsed: idle since the last segment or ACK received, us. */
static uint64_t tcp_keepalive_elapsed(const struct tcp_sock *tp)
{
	uint64_t now = tp->tcp_mstamp;
	uint64_t a = now > tp->ack.lrcvtime_us ? now - tp->ack.lrcvtime_us : 0;
	uint64_t b = now > tp->rcv_tstamp_us ? now - tp->rcv_tstamp_us : 0;

	return umin64(a, b);
}

/* tcp_keepalive_timer - sk_timer fired (tcp_keepalive_timer). */
static void tcp_keepalive_timer(struct timer *t, void *arg)
{
	struct tcp_sock *tp = arg;
	uint64_t when_us, elapsed, ka_time;

	(void)t;
	/* listeners retransmit SYN-ACKs from per-request timers */
	if (tp->sk.state == TCP_LISTEN)
		return;
	tcp_mstamp_refresh(tp);
	if (tp->sk.state == TCP_FIN_WAIT2 && tp->orphan) {
		if (tp->linger2_s >= 0) {
			int64_t tmo = (int64_t)tcp_fin_time(tp) - (int64_t)(TCP_TIMEWAIT_LEN_NS / 1000u);

			if (tmo > 0) {
				tcp_time_wait(tp, TCP_FIN_WAIT2, (uint64_t)tmo * 1000u);
				return;
			}
		}
		tcp_send_active_reset(tp);
		tcp_done(tp);
		return;
	}
	if (!(tp->sk.flags & SKF_KEEPALIVE) || tcp_in_state(tp, TCPF(TCP_CLOSE) | TCPF(TCP_SYN_SENT)))
		return;

	ka_time = (uint64_t)tcp_keepalive_time(tp) * US_PER_S;
	/* data in flight or waiting: the connection proves itself */
	if (tp->packets_out || tcp_send_head(tp)) {
		when_us = ka_time;
		goto resched;
	}
	elapsed = tcp_keepalive_elapsed(tp);
	if (elapsed >= ka_time) {
		bool dead;

		/* TCP_USER_TIMEOUT, when set, replaces the probe count */
		if (tp->user_timeout_ms)
			dead = elapsed >= (uint64_t)tp->user_timeout_ms * 1000u && tp->probes_out > 0;
		else
			dead = tp->probes_out >= tcp_keepalive_probes(tp);
		if (dead) {
			tcp_send_active_reset(tp);
			tcp_write_err(tp);
			return;
		}
		if (tcp_write_wakeup(tp) != -ENOBUFS) {
			if (tp->probes_out < UINT8_MAX)
				tp->probes_out++;
			when_us = (uint64_t)tcp_keepalive_intvl(tp) * US_PER_S;
		} else {
			/* the probe was lost to local memory: try harder */
			when_us = TCP_RESOURCE_PROBE_INTERVAL_US;
		}
	} else {
		/* next check when rcv_tstamp + keepalive time comes */
		when_us = ka_time - elapsed;
	}
resched:
	tcp_reset_keepalive_timer(tp, when_us);
}

/* ---------------------------------------------------------------- */
/* set-up and teardown                                               */
/* ---------------------------------------------------------------- */

/* tcp_init_xmit_timers - bind the three timers to tp (inet_csk_init_xmit_timers). */
void tcp_init_xmit_timers(struct tcp_sock *tp)
{
	timer_init(&tp->rtx_timer, tcp_write_timer, tp);
	timer_init(&tp->delack_timer, tcp_delack_timer, tp);
	timer_init(&tp->keepalive_timer, tcp_keepalive_timer, tp);
	tp->pending = TCP_TIME_NONE;
	tp->timeout_ns = 0;
	tp->ack.pending = 0;
	tp->ack.timeout_ns = 0;
}

/* tcp_clear_xmit_timers - stop all three (inet_csk_clear_xmit_timers). */
void tcp_clear_xmit_timers(struct tcp_sock *tp)
{
	struct netns *ns = tp_ns(tp);

	tp->pending = TCP_TIME_NONE;
	tp->ack.pending = 0;
	netns_timer_cancel(ns, &tp->rtx_timer);
	netns_timer_cancel(ns, &tp->delack_timer);
	netns_timer_cancel(ns, &tp->keepalive_timer);
}
