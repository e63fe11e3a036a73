/* SPDX-License-Identifier: MIT */
/*
 * tcp_opt.c - TCP socket options, TCP_INFO, the tcp sysctls
 *
 * Theory of operation.  tcp_setsockopt/tcp_getsockopt are the kernel's
 * tcp_setsockopt/do_tcp_{set,get}sockopt for level SOL_TCP; SOL_IP goes
 * to the IPv4 options shared with UDP (ip/ip4_sockopt.c), which ask
 * tcp_ip_mtu for IP_MTU.  The order of
 * the checks is the kernel's, because it decides which errno a program
 * sees: string options first, then "optlen < sizeof(int)" for the rest,
 * then range checks.  Every answer in the comments marked "measured" was
 * read from Linux 6.18 on the development host.
 *
 * What this file owns: no state of its own.  It writes option fields of
 * struct tcp_sock / struct sock, the namespace's Fast Open key
 * (ns->tcp->fastopen_key) and the tcp sysctls (ns->tcp->sys), and arms or
 * stops the keepalive timer through tcp_timer.c.
 *
 * Kernel timing in jiffies is mirrored with HZ = 1000 (USOCK_HZ), so an
 * option rounded to jiffies (TCP_RTO_MIN_US) rounds to 1 ms.
 *
 * Left out, answering ENOPROTOOPT: TCP_MD5SIG*, TCP_AO_*, TCP_ZEROCOPY_RECEIVE,
 * TCP_TX_DELAY, TCP_SAVE_SYN/TCP_SAVED_SYN (no saved-SYN storage),
 * setting TCP_RTO_MAX_MS/TCP_DELACK_MAX_US (no fields: reading gives the
 * fixed values).  TCP repair mode is never granted
 * (EPERM, the answer of a caller without CAP_NET_ADMIN).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ip/ip4_sockopt.h"
#include "tcp/tcp.h"

/* option names newer than the C library's headers */
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif
/* Linux's TCP_RTO_MAX_MS / TCP_RTO_MIN_US / TCP_DELACK_MAX_US option
 * numbers; tcp.h's constants of the same name mean microseconds */
#define TCP_OPT_RTO_MAX_MS 44
#define TCP_OPT_RTO_MIN_US 45
#define TCP_OPT_DELACK_MAX_US 46
#ifndef TCPI_OPT_TFO_CHILD
#define TCPI_OPT_TFO_CHILD 128
#endif

#define TCP_OPT_HZ 1000			/* USOCK_HZ */
#define MAX_TCP_KEEPIDLE 32767
#define MAX_TCP_KEEPINTVL 32767
#define MAX_TCP_KEEPCNT 127
#define MAX_TCP_SYNCNT 127
#define MAX_TCP_WINDOW 32767		/* the TCP_MAXSEG ceiling, measured */
#define TCP_FIN_TIMEOUT_MAX_S 120
#define TCP_CA_NAME_MAX 16
#define TCP_FASTOPEN_KEY_BUF_LEN (2 * TCP_FASTOPEN_KEY_LEN)	/* primary + backup */
#define TFO_CLIENT_ENABLE 1
#define TCP_REPAIR_WINDOW_LEN 20	/* sizeof(struct tcp_repair_window) */
#define TCP_USEC_PER_J (1000000u / TCP_OPT_HZ)
#define TCP_TIMEOUT_MIN_J 2		/* jiffies */
#define TCP_RTO_MIN_J (TCP_RTO_MIN_US / TCP_USEC_PER_J)
/* SOCK_MIN_RCVBUF (2048 + the kernel's sk_buff): TCP_WINDOW_CLAMP floors at half, measured 1152 */
#define TCP_SOCK_MIN_RCVBUF 2304

static inline struct tcp_sysctl *opt_sys(const struct tcp_sock *tp) { return tcp_sys(&tp->sk); }

static inline bool in_states(const struct tcp_sock *tp, unsigned mask)
{
	return (TCPF(tp->sk.state) & mask) != 0;
}

/* ======================================================================
 * TCP_INFO
 * ====================================================================== */

/*
 * struct tcp_info as Linux 6.18 copies it out (280 bytes; the C library's
 * struct tcp_info is its first 104).  The bit fields of the UAPI struct
 * are packed by hand: wscale = snd_wscale | rcv_wscale << 4, rate_bits =
 * delivery_rate_app_limited | fastopen_client_fail << 1, ecn_bits =
 * ecn_mode:2 accecn_opt_seen:2 accecn_fail_mode:4 options2:24 (LSB first,
 * as GCC lays out bit fields on little-endian targets).
 */
struct tcp_info_linux {
	uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, rate_bits;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space, total_retrans;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
	uint64_t delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;
	uint32_t dsack_dups, reord_seen, rcv_ooopack, snd_wnd, rcv_wnd, rehash;
	uint16_t total_rto, total_rto_recoveries;
	uint32_t total_rto_time;
	uint32_t received_ce, delivered_e1_bytes, delivered_e0_bytes, delivered_ce_bytes;
	uint32_t received_e1_bytes, received_e0_bytes, received_ce_bytes;
	uint32_t ecn_bits;
};
_Static_assert(sizeof(struct tcp_info_linux) == 280, "Linux 6.18 tcp_info is 280 bytes");
_Static_assert(offsetof(struct tcp_info_linux, total_retrans) == 100, "tcp_info layout");
_Static_assert(offsetof(struct tcp_info_linux, min_rtt) == 148, "tcp_info layout");
_Static_assert(offsetof(struct tcp_info_linux, snd_wnd) == 228, "tcp_info layout");
_Static_assert(offsetof(struct tcp_info_linux, total_rto_time) == 244, "tcp_info layout");
_Static_assert(sizeof(struct tcp_info) <= sizeof(struct tcp_info_linux), "libc tcp_info is a prefix");
_Static_assert(offsetof(struct tcp_info, tcpi_total_retrans) ==
	       offsetof(struct tcp_info_linux, total_retrans), "libc tcp_info is a prefix");

/* jiffies_to_msecs(now - then) with both stamps in us, at HZ 1000 */
static uint32_t ms_since(uint64_t now_us, uint64_t then_us)
{
	return (uint32_t)(now_us / 1000u) - (uint32_t)(then_us / 1000u);
}

/*
 * tcp_info_fill - the kernel's tcp_get_info.  Counters usock does not
 * keep (delivery rate, chrono busy/limited times, rcv_rtt,
 * rehash, RTO totals, ECN) read 0; the pacing rate is computed from the
 * current cwnd and srtt rather than stored after each ACK.
 */
static void tcp_info_fill(struct tcp_sock *tp, struct tcp_info_linux *ti)
{
	struct sock *sk = &tp->sk;
	uint64_t now = tcp_clock_us(sk->ns);

	memset(ti, 0, sizeof(*ti));
	ti->state = sk->state;
	/* meaningful in every state, listeners included */
	ti->pacing_rate = sk->state == TCP_LISTEN ? ~0ull : tcp_pacing_rate(tp);
	ti->max_pacing_rate = ~0ull;
	ti->reordering = tp->reordering;
	ti->snd_cwnd = tp->snd_cwnd;
	if (sk->state == TCP_LISTEN) {
		/* aliased: children ready for accept() and the backlog */
		ti->unacked = (uint32_t)tp->ack_backlog;
		ti->sacked = (uint32_t)tp->max_ack_backlog;
		return;
	}

	ti->ca_state = tp->ca_state;
	ti->retransmits = tp->retransmits;
	ti->probes = tp->probes_out;
	ti->backoff = tp->backoff;
	if (tp->tstamp_ok)
		ti->options |= TCPI_OPT_TIMESTAMPS;
	if (tp->sack_ok)
		ti->options |= TCPI_OPT_SACK;
	if (tp->wscale_ok) {
		ti->options |= TCPI_OPT_WSCALE;
		ti->wscale = (uint8_t)((tp->snd_wscale & 0xf) | (tp->rcv_wscale & 0xf) << 4);
	}
	if (tp->syn_data_acked)
		ti->options |= TCPI_OPT_SYN_DATA;
	if (tp->syn_fastopen_ch)
		ti->options |= TCPI_OPT_TFO_CHILD;
	/* rate_app_limited: a fresh socket starts with a bubble in the pipe */
	ti->rate_bits = tp->app_limited ? 1 : 0;

	ti->rto = tp->rto_us;
	ti->ato = tp->ack.ato_us < TCP_DELACK_MAX_US ? tp->ack.ato_us : TCP_DELACK_MAX_US;
	ti->snd_mss = tp->mss_cache;
	ti->rcv_mss = tp->ack.rcv_mss;
	ti->unacked = tp->packets_out;
	ti->sacked = tp->sacked_out;
	ti->lost = tp->lost_out;
	ti->retrans = tp->retrans_out;

	ti->last_data_sent = ms_since(now, tp->lsndtime_us);
	ti->last_data_recv = ms_since(now, tp->ack.lrcvtime_us);
	ti->last_ack_recv = ms_since(now, tp->rcv_tstamp_us);

	ti->pmtu = tp->pmtu_cookie;
	ti->rcv_ssthresh = tp->rcv_ssthresh;
	ti->rtt = tp->srtt_us >> 3;
	ti->rttvar = tp->mdev_us >> 2;
	ti->snd_ssthresh = tp->snd_ssthresh;
	ti->advmss = tp->advmss;
	ti->rcv_space = tp->rcvq_space;
	ti->total_retrans = tp->total_retrans;

	ti->bytes_acked = tp->bytes_acked;
	ti->bytes_received = tp->bytes_received;
	int32_t notsent = (int32_t)(tp->write_seq - tp->snd_nxt);
	ti->notsent_bytes = notsent > 0 ? (uint32_t)notsent : 0;
	ti->segs_out = tp->segs_out;
	ti->segs_in = tp->segs_in;
	ti->data_segs_in = tp->data_segs_in;
	ti->data_segs_out = tp->data_segs_out;
	/* the windowed minimum starts at ~0 and is never 0 once sampled */
	ti->min_rtt = tp->rtt_min_us ? tp->rtt_min_us : ~0u;

	ti->delivered = tp->delivered;
	ti->bytes_sent = tp->bytes_sent;
	ti->bytes_retrans = tp->bytes_retrans;
	ti->dsack_dups = tp->dsack_dups;
	ti->reord_seen = tp->reord_seen;
	ti->rcv_ooopack = tp->rcv_ooopack;
	ti->snd_wnd = tp->snd_wnd;
	ti->rcv_wnd = tp->rcv_wnd;
}

/* tcp_get_info - TCP_INFO in the C library's struct tcp_info (its first 104 bytes). */
void tcp_get_info(struct tcp_sock *tp, struct tcp_info *info)
{
	struct tcp_info_linux ti;

	tcp_info_fill(tp, &ti);
	memcpy(info, &ti, sizeof(*info));
}

/* ======================================================================
 * keepalive
 * ====================================================================== */

/* keepalive_time_when, in seconds */
int tcp_keepalive_time(const struct tcp_sock *tp)
{
	return tp->keepalive_time_s ? tp->keepalive_time_s : opt_sys(tp)->keepalive_time;
}

/* keepalive_intvl_when, in seconds */
int tcp_keepalive_intvl(const struct tcp_sock *tp)
{
	return tp->keepalive_intvl_s ? tp->keepalive_intvl_s : opt_sys(tp)->keepalive_intvl;
}

/* keepalive_probes */
int tcp_keepalive_probes(const struct tcp_sock *tp)
{
	return tp->keepalive_probes ? tp->keepalive_probes : opt_sys(tp)->keepalive_probes;
}

/*
 * tcp_set_keepalive - SO_KEEPALIVE turned on or off (tcp_set_keepalive).
 * The kernel arms the timer only when keepalive was off; a connection's
 * keepalive timer runs exactly while keepalive is on, so "not armed"
 * stands for "was off" and the call works before or after the generic
 * layer flips SKF_KEEPALIVE.
 */
void tcp_set_keepalive(struct tcp_sock *tp, bool on)
{
	if (in_states(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)))
		return;
	if (on && !timer_pending(&tp->keepalive_timer))
		tcp_reset_keepalive_timer(tp, (uint64_t)tcp_keepalive_time(tp) * 1000000u);
	else if (!on)
		tcp_delete_keepalive_timer(tp);
}

/* keepalive_time_elapsed: idle since the last segment or ACK, us */
static uint64_t keepalive_elapsed(const struct tcp_sock *tp, uint64_t now)
{
	uint64_t a = now > tp->ack.lrcvtime_us ? now - tp->ack.lrcvtime_us : 0;
	uint64_t b = now > tp->rcv_tstamp_us ? now - tp->rcv_tstamp_us : 0;

	return a < b ? a : b;
}

/* tcp_sock_set_keepidle_locked: a new idle time counts from the last activity. */
static int set_keepidle(struct tcp_sock *tp, int val)
{
	if (val < 1 || val > MAX_TCP_KEEPIDLE)
		return -EINVAL;
	tp->keepalive_time_s = val;
	if ((tp->sk.flags & SKF_KEEPALIVE) &&
	    !in_states(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN))) {
		uint64_t idle = (uint64_t)val * 1000000u;
		uint64_t elapsed = keepalive_elapsed(tp, tcp_clock_us(tp->sk.ns));

		tcp_reset_keepalive_timer(tp, idle > elapsed ? idle - elapsed : 0);
	}
	return 0;
}

/* ======================================================================
 * helpers of the SOL_TCP options
 * ====================================================================== */

/*
 * secs_to_retrans - TCP_DEFER_ACCEPT's seconds as the number of SYN-ACK
 * retransmissions whose backoff (1 s doubling, capped at TCP_RTO_MAX)
 * first covers them; at most 255.
 */
static uint8_t secs_to_retrans(int seconds, int timeout, int rto_max)
{
	int n = 0, covered = 0;

	if (seconds <= 0)
		return 0;
	for (n = 1, covered = timeout; seconds > covered && n < 255; n++) {
		timeout = timeout * 2 > rto_max ? rto_max : timeout * 2;
		covered += timeout;
	}
	return (uint8_t)n;
}

/* retrans_to_secs - the inverse: seconds the first n retransmissions span. */
static int retrans_to_secs(int n, int timeout, int rto_max)
{
	int covered;

	if (n <= 0)
		return 0;
	for (covered = timeout; --n > 0;) {
		timeout = timeout * 2 > rto_max ? rto_max : timeout * 2;
		covered += timeout;
	}
	return covered;
}

/*
 * set_window_clamp - TCP_WINDOW_CLAMP (tcp_set_window_clamp).  0 clears
 * it, but only before a connection exists.  Shrinking pulls rcv_ssthresh
 * down with it; growing lets rcv_ssthresh rise to the current window.
 * Return: 0, -EINVAL.
 */
static int set_window_clamp(struct tcp_sock *tp, int val)
{
	if (!val) {
		if (tp->sk.state != TCP_CLOSE)
			return -EINVAL;
		tp->window_clamp = 0;
		return 0;
	}
	uint32_t old = tp->window_clamp;
	uint32_t clamp = (uint32_t)(val > TCP_SOCK_MIN_RCVBUF / 2 ? val : TCP_SOCK_MIN_RCVBUF / 2);

	if (clamp == old)
		return 0;
	tp->window_clamp = clamp;
	if (clamp < old) {
		/* __tcp_adjust_rcv_ssthresh, with no SO_RESERVE_MEM */
		if (tp->rcv_ssthresh > clamp)
			tp->rcv_ssthresh = clamp;
	} else {
		uint32_t r = tp->rcv_wnd < clamp ? tp->rcv_wnd : clamp;

		if (r > tp->rcv_ssthresh)
			tp->rcv_ssthresh = r;
	}
	return 0;
}

/*
 * set_quickack - TCP_QUICKACK (__tcp_sock_set_quickack): 0 enters
 * pingpong (delayed ACK) mode; non-zero leaves it and sends a pending
 * ACK now; an even non-zero value re-enters pingpong after that ACK.
 */
static void set_quickack(struct tcp_sock *tp, int val)
{
	if (!val) {
		tp->ack.pingpong = true;
		return;
	}
	tp->ack.pingpong = false;
	if (in_states(tp, TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT)) &&
	    (tp->ack.pending & ICSK_ACK_SCHED)) {
		tp->ack.pending |= ICSK_ACK_PUSHED;
		tcp_cleanup_rbuf(tp, 1);
		if (!(val & 1))
			tp->ack.pingpong = true;
	}
}

/*
 * write_space - sk_stream_write_space after TCP_NOTSENT_LOWAT changed:
 * wake writers if the queue now has room (__sk_stream_is_writeable with
 * tcp_stream_memory_free's "wake" doubling of the unsent bytes).
 */
static void write_space(struct tcp_sock *tp)
{
	int room = tp->sk.sndbuf - (int)tp->wmem_queued;
	uint32_t lowat = tp->notsent_lowat ? tp->notsent_lowat : opt_sys(tp)->notsent_lowat;
	uint32_t notsent = tp->write_seq - tp->snd_nxt;

	if ((int)tp->wmem_queued >= tp->sk.sndbuf || room < (int)(tp->wmem_queued >> 1))
		return;
	if ((uint64_t)notsent << 1 >= lowat)
		return;
	sk_wake(&tp->sk, POLLOUT | POLLWRNORM | POLLWRBAND);
}

/* push what a cleared cork or Nagle was holding */
static void push_pending(struct tcp_sock *tp)
{
	if (tcp_send_head(tp))
		tcp_push_pending_frames(tp);
}

/* copy an int answer as do_tcp_getsockopt does: min(len, sizeof(int)) bytes */
static int put_int(void *val, socklen_t *len, int v)
{
	socklen_t n = *len < sizeof(int) ? *len : sizeof(int);

	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* a string or key answer: min(len, n) bytes */
static int put_bytes(void *val, socklen_t *len, const void *src, size_t n)
{
	if (*len > n)
		*len = (socklen_t)n;
	memcpy(val, src, *len);
	return 0;
}

/* the option's name, NUL-terminated, as strncpy_from_sockptr reads it */
static void get_name(char *dst, size_t max, const void *val, socklen_t len)
{
	size_t n = len < max - 1 ? len : max - 1;

	memcpy(dst, val, n);
	dst[n] = 0;
}

static void tfo_key_store(struct netns *ns, const uint8_t *key)
{
	for (int i = 0; i < 2; i++) {
		uint64_t w = 0;

		for (int b = 7; b >= 0; b--)
			w = w << 8 | key[i * 8 + b];
		ns->tcp->fastopen_key[i] = w;
	}
}

static void tfo_key_load(const struct netns *ns, uint8_t *key)
{
	for (int i = 0; i < 2; i++)
		for (int b = 0; b < 8; b++)
			key[i * 8 + b] = (uint8_t)(ns->tcp->fastopen_key[i] >> (8 * b));
}

static bool tfo_key_set(const struct netns *ns)
{
	return ns->tcp->fastopen_key[0] || ns->tcp->fastopen_key[1];
}

/* ======================================================================
 * SOL_TCP
 * ====================================================================== */

/*
 * tcp_set_string_opt - the options whose value is not an int
 * (TCP_CONGESTION, TCP_ULP, TCP_FASTOPEN_KEY).
 * Return: 0 or -errno when name is one of them; 1 otherwise.
 */
static int tcp_set_string_opt(struct tcp_sock *tp, int name, const void *val, socklen_t len)
{
	char buf[TCP_CA_NAME_MAX];

	switch (name) {
	case TCP_CONGESTION: {
		int r;

		if (len < 1)
			return -EINVAL;
		get_name(buf, sizeof(buf), val, len);
		r = tcp_ca_set(tp, buf);
		if (!r)
			tp->ca.set_by_user = true;	/* icsk_ca_setsockopt */
		return r;
	}
	case TCP_ULP:
		/* no upper layer protocols (kTLS ...) are built in */
		if (len < 1)
			return -EINVAL;
		return -ENOENT;
	case TCP_FASTOPEN_KEY:
		/* a backup key (32 bytes) is accepted and dropped: one key only */
		if (len != TCP_FASTOPEN_KEY_LEN && len != TCP_FASTOPEN_KEY_BUF_LEN)
			return -EINVAL;
		tfo_key_store(tp->sk.ns, val);
		return 0;
	default:
		return 1;
	}
}

/*
 * tcp_set_repair_opt - the TCP_REPAIR family for a socket never in
 * repair mode: the answers of do_tcp_setsockopt when tp->repair is 0 and
 * the caller lacks CAP_NET_ADMIN.
 */
static int tcp_set_repair_opt(struct tcp_sock *tp, int name)
{
	switch (name) {
	case TCP_REPAIR:
	case TCP_REPAIR_QUEUE:
	case TCP_REPAIR_WINDOW:
	case TCP_TIMESTAMP:
		return -EPERM;
	case TCP_QUEUE_SEQ:
		/* no repair queue selected */
		return tp->sk.state != TCP_CLOSE ? -EPERM : -EINVAL;
	case TCP_REPAIR_OPTIONS:
	default:
		return -EINVAL;
	}
}

static int tcp_set_int_opt(struct tcp_sock *tp, int name, int val)
{
	struct sock *sk = &tp->sk;

	switch (name) {
	case TCP_MAXSEG:
		/* tcp_sock_set_maxseg: beyond the device MTU it just won't bite */
		if (val && (val < (int)TCP_MIN_MSS || val > MAX_TCP_WINDOW))
			return -EINVAL;
		tp->user_mss = (uint16_t)val;
		return 0;
	case TCP_NODELAY:
		/* weaker than TCP_CORK, but it does push what is queued now */
		if (val) {
			tp->nonagle |= TCP_NAGLE_OFF | TCP_NAGLE_PUSH;
			push_pending(tp);
		} else {
			tp->nonagle &= (uint8_t)~TCP_NAGLE_OFF;
		}
		return 0;
	case TCP_CORK:
		if (val) {
			tp->nonagle |= TCP_NAGLE_CORK;
		} else {
			tp->nonagle &= (uint8_t)~TCP_NAGLE_CORK;
			if (tp->nonagle & TCP_NAGLE_OFF)
				tp->nonagle |= TCP_NAGLE_PUSH;
			push_pending(tp);
		}
		return 0;
	case TCP_KEEPIDLE:
		return set_keepidle(tp, val);
	case TCP_KEEPINTVL:
		if (val < 1 || val > MAX_TCP_KEEPINTVL)
			return -EINVAL;
		tp->keepalive_intvl_s = val;
		return 0;
	case TCP_KEEPCNT:
		if (val < 1 || val > MAX_TCP_KEEPCNT)
			return -EINVAL;
		tp->keepalive_probes = val;
		return 0;
	case TCP_SYNCNT:
		if (val < 1 || val > MAX_TCP_SYNCNT)
			return -EINVAL;
		tp->syn_retries = (uint8_t)val;
		return 0;
	case TCP_LINGER2:
		/* negative: no FIN_WAIT2 lifetime (RST at close); capped at 120 s */
		tp->linger2_s = val < 0 ? -1 : val > TCP_FIN_TIMEOUT_MAX_S ? TCP_FIN_TIMEOUT_MAX_S : val;
		return 0;
	case TCP_DEFER_ACCEPT:
		tp->defer_accept = secs_to_retrans(val, TCP_TIMEOUT_INIT_US / 1000000u,
						   TCP_RTO_MAX_US / 1000000u);
		return 0;
	case TCP_WINDOW_CLAMP:
		return set_window_clamp(tp, val);
	case TCP_QUICKACK:
		set_quickack(tp, val);
		return 0;
	case TCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		tp->user_timeout_ms = (uint32_t)val;
		return 0;
	case TCP_THIN_LINEAR_TIMEOUTS:
		if (val < 0 || val > 1)
			return -EINVAL;
		tp->thin_lto = val;
		return 0;
	case TCP_THIN_DUPACK:
		/* accepted and ignored since Linux 4.x */
		return val < 0 || val > 1 ? -EINVAL : 0;
	case TCP_FASTOPEN:
		if (val < 0 || !in_states(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)))
			return -EINVAL;
		/* tcp_fastopen_init_key_once: the first server makes the key */
		if (!tfo_key_set(sk->ns)) {
			sk->ns->tcp->fastopen_key[0] = netns_random(sk->ns);
			sk->ns->tcp->fastopen_key[1] = netns_random(sk->ns);
		}
		/* fastopen_queue_tune */
		tp->fastopen_max_qlen = val < sk->ns->sys.somaxconn ? val : sk->ns->sys.somaxconn;
		return 0;
	case TCP_FASTOPEN_CONNECT:
		if (val < 0 || val > 1)
			return -EINVAL;
		if (!(opt_sys(tp)->fastopen & TFO_CLIENT_ENABLE))
			return -EOPNOTSUPP;
		if (sk->state != TCP_CLOSE)
			return -EINVAL;
		tp->fastopen_connect = val;
		return 0;
	case TCP_FASTOPEN_NO_COOKIE:
		if (val < 0 || val > 1 || !in_states(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)))
			return -EINVAL;
		tp->fastopen_no_cookie = val;
		return 0;
	case TCP_NOTSENT_LOWAT:
		tp->notsent_lowat = (uint32_t)val;
		write_space(tp);
		return 0;
	case TCP_INQ:
		if (val < 0 || val > 1)
			return -EINVAL;
		tp->recvmsg_inq = val;
		return 0;
	case TCP_OPT_RTO_MIN_US: {
		/* usecs_to_jiffies rounds up; 2 jiffies .. TCP_RTO_MIN */
		uint64_t j = ((uint64_t)(unsigned)val + TCP_USEC_PER_J - 1) / TCP_USEC_PER_J;

		if (j > TCP_RTO_MIN_J || j < TCP_TIMEOUT_MIN_J)
			return -EINVAL;
		tp->rto_min_us = (uint32_t)j * TCP_USEC_PER_J;
		return 0;
	}
	case TCP_REPAIR:
	case TCP_REPAIR_QUEUE:
	case TCP_QUEUE_SEQ:
	case TCP_REPAIR_OPTIONS:
	case TCP_REPAIR_WINDOW:
	case TCP_TIMESTAMP:
		return tcp_set_repair_opt(tp, name);
	default:
		return -ENOPROTOOPT;
	}
}

/* tcp_get_int_opt - the int-valued SOL_TCP options. Return: 0 (*v set), -errno. */
static int tcp_get_int_opt(struct tcp_sock *tp, int name, int *v)
{
	struct sock *sk = &tp->sk;

	switch (name) {
	case TCP_MAXSEG:
		*v = tp->mss_cache ? tp->mss_cache : (int)TCP_MSS_DEFAULT;
		if (tp->user_mss && in_states(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)))
			*v = tp->user_mss;
		return 0;
	case TCP_NODELAY:
		*v = !!(tp->nonagle & TCP_NAGLE_OFF);
		return 0;
	case TCP_CORK:
		*v = !!(tp->nonagle & TCP_NAGLE_CORK);
		return 0;
	case TCP_KEEPIDLE:
		*v = tcp_keepalive_time(tp);
		return 0;
	case TCP_KEEPINTVL:
		*v = tcp_keepalive_intvl(tp);
		return 0;
	case TCP_KEEPCNT:
		*v = tcp_keepalive_probes(tp);
		return 0;
	case TCP_SYNCNT:
		*v = tp->syn_retries ? tp->syn_retries : opt_sys(tp)->syn_retries;
		return 0;
	case TCP_LINGER2:
		*v = tp->linger2_s < 0 ? -1 : tp->linger2_s ? tp->linger2_s : opt_sys(tp)->fin_timeout;
		return 0;
	case TCP_DEFER_ACCEPT:
		*v = retrans_to_secs(tp->defer_accept, TCP_TIMEOUT_INIT_US / 1000000u,
				     TCP_RTO_MAX_US / 1000000u);
		return 0;
	case TCP_WINDOW_CLAMP:
		*v = (int)tp->window_clamp;
		return 0;
	case TCP_QUICKACK:
		*v = !tp->ack.pingpong;
		return 0;
	case TCP_USER_TIMEOUT:
		*v = (int)tp->user_timeout_ms;
		return 0;
	case TCP_THIN_LINEAR_TIMEOUTS:
		*v = tp->thin_lto;
		return 0;
	case TCP_THIN_DUPACK:
	case TCP_REPAIR:
	case TCP_IS_MPTCP:
		*v = 0;
		return 0;
	case TCP_REPAIR_QUEUE:
	case TCP_QUEUE_SEQ:
		/* no repair mode, no repair queue */
		return -EINVAL;
	case TCP_FASTOPEN:
		*v = tp->fastopen_max_qlen;
		return 0;
	case TCP_FASTOPEN_CONNECT:
		*v = tp->fastopen_connect;
		return 0;
	case TCP_FASTOPEN_NO_COOKIE:
		*v = tp->fastopen_no_cookie;
		return 0;
	case TCP_TIMESTAMP:
		/* the TSval clock with our offset; the low bit says "ms ticks" */
		*v = (int)((tcp_ts_now(sk->ns) + tp->tsoffset) & ~1u);
		return 0;
	case TCP_NOTSENT_LOWAT:
		*v = (int)tp->notsent_lowat;
		return 0;
	case TCP_INQ:
		*v = tp->recvmsg_inq;
		return 0;
	case TCP_OPT_RTO_MAX_MS:
		*v = (int)(TCP_RTO_MAX_US / 1000u);
		return 0;
	case TCP_OPT_RTO_MIN_US:
		*v = (int)(tp->rto_min_us ? tp->rto_min_us : TCP_RTO_MIN_US);
		return 0;
	case TCP_OPT_DELACK_MAX_US:
		*v = (int)TCP_DELACK_MAX_US;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int tcp_do_getsockopt(struct tcp_sock *tp, int name, void *val, socklen_t *len)
{
	int v, err;

	switch (name) {
	case TCP_INFO: {
		struct tcp_info_linux ti;

		tcp_info_fill(tp, &ti);
		return put_bytes(val, len, &ti, sizeof(ti));
	}
	case TCP_CC_INFO:
		/* neither CUBIC nor Reno exports get_info: nothing to copy */
		*len = 0;
		return 0;
	case TCP_CONGESTION: {
		/* the whole TCP_CA_NAME_MAX array, NUL padded */
		char name16[TCP_CA_NAME_MAX] = { 0 };

		strncpy(name16, tcp_ca_name(tp), sizeof(name16) - 1);
		return put_bytes(val, len, name16, sizeof(name16));
	}
	case TCP_ULP:
		*len = 0;
		return 0;
	case TCP_FASTOPEN_KEY: {
		uint8_t key[TCP_FASTOPEN_KEY_LEN];

		if (!tfo_key_set(tp->sk.ns)) {
			*len = 0;
			return 0;
		}
		tfo_key_load(tp->sk.ns, key);
		return put_bytes(val, len, key, sizeof(key));
	}
	case TCP_REPAIR_WINDOW:
		if (*len != TCP_REPAIR_WINDOW_LEN)
			return -EINVAL;
		return -EPERM;
	}
	err = tcp_get_int_opt(tp, name, &v);
	if (err)
		return err;
	return put_int(val, len, v);
}

/* ======================================================================
 * SOL_IP on a TCP socket: ip/ip4_sockopt.c, with TCP's IP_MTU
 * ====================================================================== */

/*
 * tcp_ip_mtu - IP_MTU: the path MTU a connection sized its segments for
 * (pmtu_cookie), else its route's; capped as dst_mtu is (lo's 65536 reads
 * 65535, measured on an accepted socket).  Return: MTU or -ENOTCONN.
 */
static int tcp_ip_mtu(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (in_states(tp, TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN)))
		return -ENOTCONN;
	if (tp->pmtu_cookie)
		return tp->pmtu_cookie > IP4_MAX_MTU ? IP4_MAX_MTU : (int)tp->pmtu_cookie;
	return ip4_route_mtu(sk);
}

/* ======================================================================
 * entry points
 * ====================================================================== */

/*
 * tcp_setsockopt - setsockopt for levels other than SOL_SOCKET
 * (tcp_setsockopt / do_tcp_setsockopt; SOL_IP as ip_setsockopt).  val is
 * a kernel copy of len bytes.
 * Return: 0, -EINVAL (short optlen, out of range), -ENOPROTOOPT (unknown
 * option or level), -ENOENT (TCP_CONGESTION), -EPERM, -EOPNOTSUPP, -EPROTO.
 */
int tcp_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int v, r;

	if (level == SOL_IP)
		return ip4_setsockopt(sk, name, val, len);
	if (level != SOL_TCP)
		return -ENOPROTOOPT;
	r = tcp_set_string_opt(tp, name, val, len);
	if (r <= 0)
		return r;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	return tcp_set_int_opt(tp, name, v);
}

/*
 * tcp_getsockopt - getsockopt for levels other than SOL_SOCKET
 * (do_tcp_getsockopt; SOL_IP as ip_getsockopt).  *len is the room in val
 * on entry, the bytes written on return.
 * Return: 0, -EINVAL (negative length, TCP_REPAIR_*), -ENOPROTOOPT,
 * -EOPNOTSUPP (a level TCP does not know), -ENOTCONN (IP_MTU), -EPERM.
 */
int tcp_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (level == SOL_IP)
		return ip4_getsockopt(sk, name, val, len, tcp_ip_mtu);
	if (level != SOL_TCP)
		return -EOPNOTSUPP;
	if ((int)*len < 0)
		return -EINVAL;
	return tcp_do_getsockopt(tp, name, val, len);
}

/*
 * set_rcvlowat - SO_RCVLOWAT on a TCP socket (tcp_set_rcvlowat): capped at
 * half the largest receive buffer, and unless the buffer is locked the
 * buffer grows to hold that much payload (twice it, the default window
 * scaling), with a set window clamp raised to match.
 */
static void set_rcvlowat(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	bool locked = sk->flags & SKF_RCVBUF_LOCK;
	int cap = (locked ? sk->rcvbuf : opt_sys(tp)->rmem[2]) >> 1;
	int val = sk->rcvlowat < cap ? sk->rcvlowat : cap;

	sk->rcvlowat = val ? val : 1;
	/* tcp_data_ready: readers waiting for more may have enough now */
	int avail = (int)(tp->rcv_nxt - tp->copied_seq);
	if ((avail > 0 && (avail >= sk->rcvlowat || tcp_receive_window(tp) <= tp->ack.rcv_mss)) ||
	    (sk->shutdown & RCV_SHUTDOWN))
		sk_wake(sk, POLLIN | POLLRDNORM);
	if (locked)
		return;
	int64_t space = 2 * (int64_t)val;
	if (space > sk->rcvbuf) {
		sk->rcvbuf = (int)space;
		if (tp->window_clamp && tp->window_clamp < (uint32_t)val)
			tp->window_clamp = (uint32_t)val;
	}
}

/*
 * tcp_sol_changed - a SOL_SOCKET option changed (after the generic layer
 * stored it): SO_KEEPALIVE arms or stops the keepalive timer, SO_RCVLOWAT
 * gets TCP's cap and buffer growth.  SO_SNDBUF/SO_RCVBUF need nothing
 * more: the generic layer set the *_LOCK flags that turn autotuning off,
 * and wakes writers itself; SO_LINGER is read at close.
 */
void tcp_sol_changed(struct sock *sk, int name)
{
	struct tcp_sock *tp = tcp_sk(sk);

	switch (name) {
	case SO_KEEPALIVE:
		tcp_set_keepalive(tp, sk->flags & SKF_KEEPALIVE);
		break;
	case SO_RCVLOWAT:
		set_rcvlowat(tp);
		break;
	default:
		break;
	}
}

/* ======================================================================
 * sysctls
 * ====================================================================== */

struct tcp_sysctl_name {
	const char *name;	/* /proc/sys/net/ipv4/NAME */
	size_t off;
	int n;			/* ints in the value */
};

#define TS(nm, f) { nm, offsetof(struct tcp_sysctl, f), (int)(sizeof(((struct tcp_sysctl *)0)->f) / sizeof(int)) }
static const struct tcp_sysctl_name tcp_sysctl_names[] = {
	TS("tcp_wmem", wmem),
	TS("tcp_rmem", rmem),
	TS("tcp_syn_retries", syn_retries),
	TS("tcp_synack_retries", synack_retries),
	TS("tcp_retries1", retries1),
	TS("tcp_retries2", retries2),
	TS("tcp_orphan_retries", orphan_retries),
	TS("tcp_fin_timeout", fin_timeout),
	TS("tcp_keepalive_time", keepalive_time),
	TS("tcp_keepalive_intvl", keepalive_intvl),
	TS("tcp_keepalive_probes", keepalive_probes),
	TS("tcp_timestamps", timestamps),
	TS("tcp_sack", sack),
	TS("tcp_window_scaling", window_scaling),
	TS("tcp_dsack", dsack),
	TS("tcp_fastopen", fastopen),
	TS("tcp_syncookies", syncookies),
	TS("tcp_max_syn_backlog", max_syn_backlog),
	TS("tcp_abort_on_overflow", abort_on_overflow),
	TS("tcp_tw_reuse", tw_reuse),
	TS("tcp_rfc1337", rfc1337),
	TS("tcp_adv_win_scale", adv_win_scale),
	TS("tcp_app_win", app_win),
	TS("tcp_moderate_rcvbuf", moderate_rcvbuf),
	TS("tcp_slow_start_after_idle", slow_start_after_idle),
	TS("tcp_autocorking", autocorking),
	TS("tcp_notsent_lowat", notsent_lowat),		/* unsigned in the kernel */
	TS("tcp_min_snd_mss", min_snd_mss),
	TS("tcp_base_mss", base_mss),
	TS("tcp_mtu_probing", mtu_probing),
	TS("tcp_challenge_ack_limit", challenge_ack_limit),
	TS("tcp_invalid_ratelimit", invalid_ratelimit),
	TS("tcp_reordering", reordering),
	TS("tcp_early_retrans", early_retrans),
	TS("tcp_recovery", recovery),
	TS("tcp_thin_linear_timeouts", thin_linear_timeouts),
	TS("tcp_retrans_collapse", retrans_collapse),
	TS("tcp_min_rtt_wlen", min_rtt_wlen),
	TS("tcp_rto_min_us", rto_min_us),
	TS("tcp_syn_linear_timeouts", syn_linear_timeouts),
};
#undef TS
_Static_assert(sizeof(unsigned) == sizeof(int), "tcp_notsent_lowat is read as an int");

/*
 * tcp_sysctl_lookup - the ints behind a tcp sysctl, by its /proc name
 * ("tcp_wmem", with or without "ipv4." / "net.ipv4." in front), for
 * usock_sysctl.  tcp_congestion_control is a string and is not here.
 * Return: the first int, *nvals set to how many; NULL if unknown.
 */
int *tcp_sysctl_lookup(struct tcp_sysctl *s, const char *name, int *nvals)
{
	if (strncmp(name, "net.", 4) == 0)
		name += 4;
	if (strncmp(name, "ipv4.", 5) == 0)
		name += 5;
	for (size_t i = 0; i < sizeof(tcp_sysctl_names) / sizeof(tcp_sysctl_names[0]); i++) {
		const struct tcp_sysctl_name *e = &tcp_sysctl_names[i];

		if (strcmp(name, e->name) != 0)
			continue;
		if (nvals)
			*nvals = e->n;
		return (int *)(void *)((uint8_t *)s + e->off);
	}
	return NULL;
}

/* read a /proc/sys/net/ipv4 file into buf (NUL terminated). Return: bytes, -1. */
static ssize_t read_host(const char *name, char *buf, size_t size)
{
	char path[96] = "/proc/sys/net/ipv4/";
	size_t pl = strlen(path), nl = strlen(name);

	if (pl + nl >= sizeof(path))
		return -1;
	memcpy(path + pl, name, nl + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* the host's value of one entry: taken only if all its ints parse */
static void host_ints(struct tcp_sysctl *s, const struct tcp_sysctl_name *e)
{
	char buf[128];
	int tmp[3];

	if (e->n > 3 || read_host(e->name, buf, sizeof(buf)) < 0)
		return;
	const char *c = buf;
	for (int i = 0; i < e->n; i++) {
		char *end;
		long long x = strtoll(c, &end, 10);

		if (end == c)
			return;
		tmp[i] = (int)(unsigned)x;	/* 4294967295 is UINT_MAX, as in /proc */
		c = end;
	}
	memcpy((uint8_t *)s + e->off, tmp, (size_t)e->n * sizeof(int));
}

/*
 * tcp_sysctl_defaults - the Linux 6.x defaults (tcp_sk_init, ipv4_sysctl),
 * then whatever the host has in /proc/sys/net/ipv4/tcp_*, so a program
 * under usock sees the limits it would see on this machine.  A host
 * congestion control usock lacks (bbr ...) leaves "cubic".
 */
void tcp_sysctl_defaults(struct tcp_sysctl *s)
{
	memset(s, 0, sizeof(*s));
	s->wmem[0] = 4096;
	s->wmem[1] = 16384;
	s->wmem[2] = 4194304;
	s->rmem[0] = 4096;
	s->rmem[1] = 131072;
	s->rmem[2] = 6291456;
	s->syn_retries = TCP_SYN_RETRIES;
	s->synack_retries = TCP_SYNACK_RETRIES;
	s->retries1 = TCP_RETRIES1;
	s->retries2 = TCP_RETRIES2;
	s->orphan_retries = TCP_ORPHAN_RETRIES;
	s->fin_timeout = TCP_FIN_TIMEOUT_S;
	s->keepalive_time = TCP_KEEPALIVE_TIME_S;
	s->keepalive_intvl = TCP_KEEPALIVE_INTVL_S;
	s->keepalive_probes = TCP_KEEPALIVE_PROBES;
	s->timestamps = 1;
	s->sack = 1;
	s->window_scaling = 1;
	s->dsack = 1;
	s->fastopen = TFO_CLIENT_ENABLE;
	s->syncookies = 1;
	/* max(128, ehash entries / 128) */
	s->max_syn_backlog = TCP_EHASH_SIZE / 128 > 128 ? TCP_EHASH_SIZE / 128 : 128;
	s->abort_on_overflow = 0;
	s->tw_reuse = 2;		/* loopback only */
	s->rfc1337 = 0;
	s->adv_win_scale = 1;
	s->app_win = 31;
	s->moderate_rcvbuf = 1;
	s->slow_start_after_idle = 1;
	s->autocorking = 1;
	s->notsent_lowat = ~0u;
	s->min_snd_mss = TCP_MIN_SND_MSS;
	s->base_mss = 1024;
	s->mtu_probing = 0;
	s->challenge_ack_limit = 0x7fffffff;
	s->invalid_ratelimit = 500;
	s->reordering = 3;
	s->early_retrans = 3;
	s->recovery = 1;		/* RACK */
	s->thin_linear_timeouts = 0;
	s->retrans_collapse = 1;
	s->min_rtt_wlen = 300;
	s->delack_seg = 1;
	s->rto_min_us = (int)TCP_RTO_MIN_US;
	s->syn_linear_timeouts = 4;
	strcpy(s->congestion_control, "cubic");

	for (size_t i = 0; i < sizeof(tcp_sysctl_names) / sizeof(tcp_sysctl_names[0]); i++)
		host_ints(s, &tcp_sysctl_names[i]);

	char cc[32];
	if (read_host("tcp_congestion_control", cc, sizeof(cc)) > 0) {
		cc[strcspn(cc, "\n")] = 0;
		if (strcmp(cc, "reno") == 0 || strcmp(cc, "cubic") == 0)
			strcpy(s->congestion_control, cc);
	}
}
