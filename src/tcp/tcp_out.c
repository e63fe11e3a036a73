/* SPDX-License-Identifier: MIT */
/*
 * tcp_out.c - TCP output: segments, MSS, windows, Nagle/cork, retransmission, probes
 *
 * Theory of operation.  net/ipv4/tcp_output.c plus tcp_ipv4.c's replies:
 * the header and options of every segment a connection sends (data, SYN,
 * FIN, ACK, RST, probes) and its handing to ip4_output; the receive window
 * offered and the send MSS; what of the write queue may leave now (cwnd,
 * peer window, Nagle, TCP_CORK, MSG_MORE) and its move to the rtx queue;
 * retransmission of one packet or of those marked lost; zero-window and
 * tail-loss probes; the active open (Fast Open data included); stateless
 * RST, ACK and SYN-ACK.  No state of its own: all is in struct tcp_sock
 * and the packets' tcp_skb_cb.  A queued packet never goes on the wire: a
 * clone with a fresh header block does, viewing the queued bytes
 * (pkt_clone_range), or copying them when that is cheaper than a view.
 *
 * State first, wire last.  Over loopback the peer's answer is processed
 * before ip4_output returns (netdev_rx runs the receiver in the sender's
 * context), so every function here completes its bookkeeping (snd_nxt,
 * packets_out, queues, timers, ACK state) before IP sees the segment and
 * reads state afresh afterwards.  The kernel's socket lock defers the
 * answer instead; the difference shows only when IP fails after the
 * segment was built: it counts as sent and lost (the RTO resends it)
 * where the kernel leaves it unsent.  Without a packet (-ENOBUFS) nothing
 * changes, as in the kernel: the probe or retransmit timer tries again.
 *
 * Limits.  No TSO/GSO: write-queue packets hold at most one MSS and one
 * longer than the current MSS is split before it leaves, so the wire sees
 * what a kernel without TSO sends.  Left out: autocorking, MTU probing
 * (off by default), pacing and small queues, ECN, MD5, the RFC 2861 decay
 * of an application-limited cwnd, the growing back-off of an ACK that
 * found no memory (icsk_ack.retry), the still-in-host-queue test of
 * retransmissions.  Loopback segments carry only the pseudo-header sum in
 * the checksum field (CHECKSUM_PARTIAL on lo): link_loop marks them csum_ok.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "buf/pkt.h"
#include "ip/ip4.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "wire/csum.h"
#include "wire/tcp.h"

/*
 * NEEDS (tcp.h): struct tcp_sock members Linux has and tcp.h lacks, used
 * here as the kernel uses them:
 *	uint32_t snd_sml;		end_seq of the last sub-MSS segment sent (Minshall's Nagle)
 *	uint32_t cwnd_usage_seq;	tcp_cwnd_validate: snd_nxt when the usage window began
 */

/*
 * NEEDS (tcp.h): offered by tcp_timer.c (tcp_clamp_probe0_to_user_timeout).
 */
uint64_t tcp_clamp_probe0_to_user_timeout(const struct tcp_sock *tp, uint64_t when_us);

/*
 * PROVIDES (for tcp.h, asked by tcp_recv.c): tcp_compute_window - the
 * window the next segment would offer, in bytes, without committing it to
 * rcv_wnd/rcv_wup (__tcp_select_window).
 */
uint32_t tcp_compute_window(struct tcp_sock *tp);

#ifndef ICSK_ACK_NOMEM
#define ICSK_ACK_NOMEM 32		/* inet_csk_ack_state_t: a segment was dropped for memory */
#endif

#define TCP_OPT_SPACE 40u		/* MAX_TCP_OPTION_SPACE */
#define TCP_TS_ALIGNED 12u		/* TCPOLEN_TSTAMP_ALIGNED */
#define TCP_SACK_BASE_ALIGNED 4u
#define TCP_SACK_PERBLOCK 8u
#define TCP_IPV4_HLEN 20u
#define TCP_MIN_ADVMSS 256u		/* ip_rt_min_advmss */
#define TCP_IP_MAX_MTU 0xffffu		/* IP_MAX_MTU */
#define TCP_TIMEOUT_MIN_US 2000u	/* TCP_TIMEOUT_MIN: two jiffies */
#define TCP_ATO_MAX_US 500000u		/* HZ / 2: the longest delayed ACK of a bulk receiver */
#define TCP_JIFFY_US (1000000u / USOCK_HZ)
#define TFO_CLIENT_NO_COOKIE 0x4	/* net.ipv4.tcp_fastopen: client data without a cookie */
#define TCP_MAX_TCP_HEADER 256u		/* the head room the kernel's control skbs have */
#define TCP_INET_ECN_MASK 3
/* fastopen_req.cookie_len meaning the kernel's cookie.len -1: no Fast Open option */
#define TCP_FO_NO_OPTION 0xffu
/* payloads up to this many bytes are copied into the clone instead of viewed */
#define TCP_XMIT_COPY_MAX 256u

static inline struct tcp_table *tcp_tab(const struct tcp_sock *tp) { return tp->sk.ns->tcp; }

/* tp->tcp_header_len: the header the MSS was computed with (20 + agreed timestamps). */
static inline unsigned tcp_header_len(const struct tcp_sock *tp)
{
	return TCP_HLEN + (tp->tstamp_ok ? TCP_TS_ALIGNED : 0);
}

/* tcp_urg_mode: urgent data not yet acknowledged. */
static inline bool tcp_urg_mode(const struct tcp_sock *tp)
{
	return tp->snd_una != tp->snd_up;
}

static inline bool tcp_in_cwnd_reduction(const struct tcp_sock *tp)
{
	return tp->ca_state == TCP_CA_CWR || tp->ca_state == TCP_CA_Recovery;
}

/* A delay rounded up to whole jiffies, as the kernel's timers keep it. */
static inline uint64_t tcp_jiffy_round_us(uint64_t us)
{
	return (us + TCP_JIFFY_US - 1) / TCP_JIFFY_US * TCP_JIFFY_US;
}

static inline uint32_t tcp_rto_min_us(const struct tcp_sock *tp)
{
	return tp->rto_min_us ? tp->rto_min_us : TCP_RTO_MIN_US;
}

/* The path MTU of a route (ipv4_mtu: at most IP_MAX_MTU). */
static uint32_t tcp_rt_mtu(const struct rt4_result *rt)
{
	uint32_t mtu = rt->rt && rt->rt->mtu ? rt->rt->mtu : rt->dev->mtu;

	return mtu < TCP_IP_MAX_MTU ? mtu : TCP_IP_MAX_MTU;
}

/* ipv4_default_advmss: the MTU less 40, within [256, 65495]. */
static uint32_t tcp_rt_advmss(const struct rt4_result *rt)
{
	uint32_t mtu = tcp_rt_mtu(rt);
	uint32_t adv = mtu >= TCP_IPV4_HLEN + TCP_HLEN + TCP_MIN_ADVMSS ? mtu - TCP_IPV4_HLEN - TCP_HLEN
									 : TCP_MIN_ADVMSS;

	return adv < TCP_IP_MAX_MTU - 40u ? adv : TCP_IP_MAX_MTU - 40u;
}

/* tcp_mss_clamp: TCP_MAXSEG caps an MSS. */
static inline uint32_t tcp_mss_clamp(const struct tcp_sock *tp, uint32_t mss)
{
	return tp->user_mss && tp->user_mss < mss ? tp->user_mss : mss;
}

/*
 * tcp_acceptable_seq - the sequence number of a segment without data:
 * snd_nxt unless the peer shrank its window below it by more than one
 * window-scale unit, then the window's end.
 */
static uint32_t tcp_acceptable_seq(const struct tcp_sock *tp)
{
	uint32_t end = tcp_wnd_end(tp);

	if (!tcp_before(end, tp->snd_nxt) ||
	    (tp->wscale_ok && tp->snd_nxt - end < (1u << tp->rcv_wscale)))
		return tp->snd_nxt;
	return end;
}

/* tcp_init_nondata_skb: control block of a segment without data; SYN or FIN takes a number. */
static void tcp_init_nondata(struct pkt *pk, uint32_t seq, uint16_t flags)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	memset(cb, 0, sizeof(*cb));
	cb->tcp_flags = flags;
	cb->seq = seq;
	cb->end_seq = seq + ((flags & (TCP_HDR_SYN | TCP_HDR_FIN)) ? 1 : 0);
}

/* ip_dont_fragment: DF unless the socket asked otherwise (IP_MTU_DISCOVER). */
static inline bool tcp_dont_fragment(const struct sock *sk)
{
	return sk->pmtudisc == IP_PMTUDISC_DO || sk->pmtudisc == IP_PMTUDISC_WANT;
}

/* ---- queue helpers ---- */

/* Take pk off q, wherever it is (it is nearly always the head). */
static void tcp_queue_unlink(struct pkt_queue *q, struct pkt *pk)
{
	struct pkt *prev = NULL, *p;

	if (q->head == pk) {
		pkt_queue_pop(q);
		return;
	}
	for (p = q->head; p && p != pk; p = p->next)
		prev = p;
	if (!p)
		return;
	prev->next = pk->next;
	if (q->tail == pk)
		q->tail = prev;
	pk->next = NULL;
	q->count--;
	q->bytes -= pk->meta.truesize;
}

/* Put n right after pos on q. */
static void tcp_queue_after(struct pkt_queue *q, struct pkt *pos, struct pkt *n)
{
	n->next = pos->next;
	pos->next = n;
	if (q->tail == pos)
		q->tail = n;
	q->count++;
	q->bytes += n->meta.truesize;
}

/* Change a queued packet's charge by delta (wmem_queued and the queue's byte count). */
static void tcp_recharge(struct tcp_sock *tp, struct pkt_queue *q, struct pkt *pk, int64_t delta)
{
	pk->meta.truesize = (uint32_t)((int64_t)pk->meta.truesize + delta);
	q->bytes = (uint32_t)((int64_t)q->bytes + delta);
	tp->wmem_queued = (uint32_t)((int64_t)tp->wmem_queued + delta);
}

/* ---- MSS ---- */

/* __tcp_mtu_to_mss: the MSS a path MTU allows, before TCP options. */
static int tcp_mtu_to_mss_base(const struct tcp_sock *tp, uint32_t pmtu)
{
	int mss = (int)pmtu - (int)TCP_IPV4_HLEN - (int)TCP_HLEN;
	int clamp = tp->mss_clamp ? tp->mss_clamp : (int)TCP_MSS_DEFAULT;
	int floor = tcp_sys(&tp->sk)->min_snd_mss > 0 ? tcp_sys(&tp->sk)->min_snd_mss : TCP_MIN_SND_MSS;

	if (mss > clamp)
		mss = clamp;
	/* room for a full set of options and 8 bytes of data */
	return mss > floor ? mss : floor;
}

static unsigned tcp_mtu_to_mss_hdr(const struct tcp_sock *tp, uint32_t pmtu, unsigned hdrlen)
{
	return (unsigned)(tcp_mtu_to_mss_base(tp, pmtu) - (int)(hdrlen - TCP_HLEN));
}

/* tcp_mtu_to_mss - MSS for a path MTU, less the agreed timestamps (not SACKs). Return: bytes. */
unsigned tcp_mtu_to_mss(struct tcp_sock *tp, uint32_t pmtu)
{
	return tcp_mtu_to_mss_hdr(tp, pmtu, tcp_header_len(tp));
}

/* tcp_bound_to_half_wnd: a peer with a small window gets segments of half of it. */
static unsigned tcp_bound_to_half_wnd(const struct tcp_sock *tp, unsigned pktsize, unsigned hdrlen)
{
	uint32_t cutoff = tp->max_window > TCP_MSS_DEFAULT ? tp->max_window >> 1 : tp->max_window;

	if (cutoff && pktsize > cutoff) {
		uint32_t floor = 68u - hdrlen;

		return cutoff > floor ? cutoff : floor;
	}
	return pktsize;
}

static unsigned tcp_sync_mss_hdr(struct tcp_sock *tp, uint32_t pmtu, unsigned hdrlen)
{
	unsigned mss = tcp_mtu_to_mss_hdr(tp, pmtu, hdrlen);

	mss = tcp_bound_to_half_wnd(tp, mss, hdrlen);
	tp->pmtu_cookie = pmtu;
	tp->mss_cache = (uint16_t)mss;
	return mss;
}

/*
 * tcp_sync_mss - mss_cache for a path MTU: the MTU, mss_clamp (the peer's
 * MSS, TCP_MAXSEG), timestamps, half the peer's largest window.
 * Return: the new mss_cache.
 */
unsigned tcp_sync_mss(struct tcp_sock *tp, uint32_t pmtu)
{
	return tcp_sync_mss_hdr(tp, pmtu, tcp_header_len(tp));
}

/* Option bytes tcp_established_options would give the next segment. */
static unsigned tcp_established_opts_len(const struct tcp_sock *tp)
{
	unsigned size = tp->tstamp_ok ? TCP_TS_ALIGNED : 0;
	unsigned eff = tp->num_sacks + (tp->dsack ? 1u : 0u);

	if (eff) {
		unsigned rem = TCP_OPT_SPACE - size, n;

		if (rem >= TCP_SACK_BASE_ALIGNED + TCP_SACK_PERBLOCK) {
			n = (rem - TCP_SACK_BASE_ALIGNED) / TCP_SACK_PERBLOCK;
			if (n > eff)
				n = eff;
			size += TCP_SACK_BASE_ALIGNED + n * TCP_SACK_PERBLOCK;
		}
	}
	return size;
}

/* tcp_current_mss - mss_cache (resynced if the MTU moved) less the next segment's SACKs. Return: bytes. */
unsigned tcp_current_mss(struct tcp_sock *tp)
{
	unsigned mss = tp->mss_cache, hdr, base;

	if (tp->dst.dev) {
		uint32_t mtu = tcp_rt_mtu(&tp->dst);

		if (mtu != tp->pmtu_cookie)
			mss = tcp_sync_mss(tp, mtu);
	}
	hdr = TCP_HLEN + tcp_established_opts_len(tp);
	base = tcp_header_len(tp);
	if (hdr != base)
		mss = (unsigned)((int)mss - ((int)hdr - (int)base));
	return mss;
}

/* tcp_send_mss - the MSS, and the size goal of a write-queue packet: one MSS without TSO. Return: the MSS. */
unsigned tcp_send_mss(struct tcp_sock *tp, unsigned *size_goal, int flags)
{
	unsigned mss = tcp_current_mss(tp);

	(void)flags;
	*size_goal = mss;
	return mss;
}

/* tcp_initialize_rcv_mss: a first guess at the peer's segment size, for delayed ACKs and windows. */
static void tcp_initialize_rcv_mss(struct tcp_sock *tp)
{
	uint32_t hint = tp->advmss < tp->mss_cache ? tp->advmss : tp->mss_cache;

	if (hint > tp->rcv_wnd / 2)
		hint = tp->rcv_wnd / 2;
	if (hint > TCP_MSS_DEFAULT)
		hint = TCP_MSS_DEFAULT;
	if (hint < TCP_MIN_MSS)
		hint = TCP_MIN_MSS;
	tp->ack.rcv_mss = (uint16_t)hint;
}

/* ---- receive window ---- */

/*
 * tcp_win_from_space - the window space bytes of buffer back: with
 * tcp_adv_win_scale s > 0, space - space/2^s; else space/2^-s (the rule
 * before 6.6's scaling_ratio; the default 1 gives half either way).
 * Return: window bytes.
 */
int tcp_win_from_space(const struct sock *sk, int space)
{
	int s = tcp_sys(sk)->adv_win_scale;

	if (s <= 0)
		return space >> (-s < 31 ? -s : 31);
	return space - (space >> (s < 31 ? s : 31));
}

static unsigned tcp_ilog2(uint32_t v)
{
	return v ? 31u - (unsigned)__builtin_clz(v) : 0;
}

/*
 * tcp_select_initial_window - first window, clamp and scale for a SYN or
 * SYN-ACK: space (clamped) rounded down to mss, at most 65535 since a
 * SYN's window is not scaled, at most init_rcv_wnd segments if given; the
 * scale fits the largest buffer the socket may reach, max(tcp_rmem[2],
 * rmem_max), within the clamp.
 */
void tcp_select_initial_window(const struct sock *sk, int space, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *window_clamp, bool wscale_ok, uint8_t *rcv_wscale,
			       uint32_t init_rcv_wnd)
{
	uint32_t sp = space < 0 ? 0 : (uint32_t)space;
	uint32_t clamp = *window_clamp;

	if (!clamp)
		clamp = 65535u << TCP_MAX_WSCALE;
	if (sp > clamp)
		sp = clamp;
	if (mss && sp > mss)
		sp = sp / mss * mss;
	*rcv_wnd = sp < 65535u ? sp : 65535u;
	if (init_rcv_wnd && *rcv_wnd > init_rcv_wnd * mss)
		*rcv_wnd = init_rcv_wnd * mss;
	*rcv_wscale = 0;
	if (wscale_ok) {
		const struct tcp_sysctl *s = tcp_sys(sk);
		uint32_t rmax = s->rmem[2] > 0 ? (uint32_t)s->rmem[2] : 0;
		uint32_t cmax = sk->ns->sys.rmem_max > 0 ? (uint32_t)sk->ns->sys.rmem_max : 0;
		int ws;

		if (sp < rmax)
			sp = rmax;
		if (sp < cmax)
			sp = cmax;
		if (sp > clamp)
			sp = clamp;
		ws = (int)tcp_ilog2(sp) - 15;
		*rcv_wscale = (uint8_t)(ws < 0 ? 0 : ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws);
	}
	*window_clamp = clamp < (65535u << *rcv_wscale) ? clamp : 65535u << *rcv_wscale;
}

/*
 * tcp_compute_window - the window the connection could offer now, uncommitted
 * (__tcp_select_window).  Receiver SWS avoidance: below half the buffer
 * free, the free space, and zero under the peer's MSS or 1/16 of the
 * buffer; never above rcv_ssthresh; whole MSS when unscaled.
 * Return: bytes.
 */
uint32_t tcp_compute_window(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	int mss = tp->ack.rcv_mss;
	int free_space = tcp_space(sk);
	int allowed_space = tcp_full_space(sk);
	int full_space = (int64_t)tp->window_clamp < allowed_space ? (int)tp->window_clamp : allowed_space;
	int unit = 1 << tp->rcv_wscale;
	int window;

	if (mss < 1)
		mss = 1;	/* no estimate yet (tcp_initialize_rcv_mss not run) */
	if (mss > full_space) {
		mss = full_space;
		if (mss <= 0)
			return 0;
	}
	if (free_space < (full_space >> 1)) {
		tp->ack.quick = 0;
		/* the free space might become the window: never more than scaling keeps */
		free_space &= ~(unit - 1);
		if (free_space < (allowed_space >> 4) || free_space < mss)
			return 0;
	}
	if (free_space > (int64_t)tp->rcv_ssthresh)
		free_space = (int)tp->rcv_ssthresh;
	if (tp->rcv_wscale)
		return (uint32_t)((free_space + unit - 1) & ~(unit - 1));
	window = (int)tp->rcv_wnd;
	/* keep the offer while it is within one MSS of the free space */
	if (window <= free_space - mss || window > free_space)
		window = free_space / mss * mss;
	else if (mss == full_space && free_space > window + (full_space >> 1))
		window = free_space;
	return (uint32_t)window;
}

/*
 * tcp_select_window - the window field of the next segment; never shrinks
 * what was offered, records the offer in rcv_wnd/rcv_wup.
 * Return: the scaled 16-bit window.
 */
uint16_t tcp_select_window(struct tcp_sock *tp)
{
	uint32_t cur_win, new_win;

	if (tp->ack.pending & ICSK_ACK_NOMEM) {
		/* a segment was dropped for want of memory: say so */
		tp->rcv_wnd = 0;
		tp->rcv_wup = tp->rcv_nxt;
		return 0;
	}
	cur_win = tcp_receive_window(tp);
	new_win = tcp_compute_window(tp);
	if (new_win < cur_win) {
		uint32_t unit = 1u << tp->rcv_wscale;

		new_win = (cur_win + unit - 1) & ~(unit - 1);
	}
	tp->rcv_wnd = new_win;
	tp->rcv_wup = tp->rcv_nxt;
	if (new_win > (65535u << tp->rcv_wscale))
		new_win = 65535u << tp->rcv_wscale;
	return (uint16_t)(new_win >> tp->rcv_wscale);
}

/* ---- building a segment ---- */

/* tcp_advertise_mss: the MSS a SYN offers; a route with a smaller one lowers advmss for good. */
static uint16_t tcp_advertise_mss(struct tcp_sock *tp)
{
	uint32_t mss = tp->advmss;

	if (tp->dst.dev) {
		uint32_t metric = tcp_rt_advmss(&tp->dst);

		if (metric < mss) {
			mss = metric;
			tp->advmss = (uint16_t)mss;
		}
	}
	return (uint16_t)mss;
}

static inline bool tcp_fo_cookie_len_ok(uint8_t len)
{
	return len == 0 || (len >= TCP_FASTOPEN_COOKIE_MIN && len <= TCP_FASTOPEN_COOKIE_MAX && !(len & 1));
}

/* tcp_syn_options: what a SYN carries, as the sysctls allow, and a Fast Open cookie or request. */
static void tcp_syn_options(struct tcp_sock *tp, struct tcp_opts *o)
{
	const struct tcp_sysctl *s = tcp_sys(&tp->sk);
	struct tcp_fastopen_request *fo = &tp->fastopen_req;
	unsigned remaining = TCP_OPT_SPACE - 4;

	o->mss = tcp_advertise_mss(tp);
	if (s->timestamps) {
		o->has_ts = true;
		o->tsval = tcp_ts_now(tp->sk.ns) + tp->tsoffset;
		o->tsecr = tp->ts_recent;
		remaining -= TCP_TS_ALIGNED;
	}
	if (s->window_scaling) {
		o->has_wscale = true;
		o->wscale = tp->rcv_wscale;
		remaining -= 4;
	}
	if (s->sack) {
		o->sack_perm = true;
		if (!o->has_ts)
			remaining -= 4;
	}
	if (fo->active && fo->cookie_len != TCP_FO_NO_OPTION && tcp_fo_cookie_len_ok(fo->cookie_len)) {
		unsigned need = (2u + fo->cookie_len + 3u) & ~3u;

		if (remaining >= need) {
			o->fastopen = true;
			o->fastopen_len = (int8_t)fo->cookie_len;
			memcpy(o->fastopen_cookie, fo->cookie, fo->cookie_len);
			tp->syn_fastopen = true;
		}
	}
}

/*
 * tcp_established_options: timestamps and the SACK blocks to report (a
 * D-SACK first), as many as fit.  Return: option bytes.
 */
static unsigned tcp_established_options(const struct tcp_sock *tp, struct tcp_opts *o)
{
	unsigned size = 0, eff = tp->num_sacks + (tp->dsack ? 1u : 0u);

	if (tp->tstamp_ok) {
		o->has_ts = true;
		o->tsval = tcp_ts_now(tp->sk.ns) + tp->tsoffset;
		o->tsecr = tp->ts_recent;
		size = TCP_TS_ALIGNED;
	}
	if (eff) {
		unsigned rem = TCP_OPT_SPACE - size, n, i = 0, j = 0;

		if (rem < TCP_SACK_BASE_ALIGNED + TCP_SACK_PERBLOCK)
			return size;
		n = (rem - TCP_SACK_BASE_ALIGNED) / TCP_SACK_PERBLOCK;
		if (n > eff)
			n = eff;
		if (n > TCP_MAX_SACKS)
			n = TCP_MAX_SACKS;
		if (tp->dsack)
			o->sacks[i++] = tp->duplicate_sack[0];
		while (i < n)
			o->sacks[i++] = tp->selective_acks[j++];
		o->num_sacks = (uint8_t)n;
		size += TCP_SACK_BASE_ALIGNED + n * TCP_SACK_PERBLOCK;
	}
	return size;
}

/*
 * tcp_push_header - put r's header in front of pk's payload and checksum
 * the segment.  Over loopback the field holds the folded pseudo-header sum
 * (CHECKSUM_PARTIAL as the kernel leaves it for lo); elsewhere the full
 * checksum.  pk is not consumed.
 * Return: 0, -ENOBUFS (no head room), -EINVAL (the options do not fit).
 */
static int tcp_push_header(struct pkt *pk, const struct tcp_repr *r, uint32_t saddr, uint32_t daddr,
			   bool loop)
{
	int olen = tcp_hdr_opts_len(&r->opt);
	uint32_t plen = pk->tot_len, psum, sum = 0;
	unsigned hlen;
	uint8_t *h;

	if (olen < 0)
		return olen;
	hlen = TCP_HLEN + (unsigned)olen;
	psum = csum_pseudo4(saddr, daddr, IPPROTO_TCP, hlen + plen);
	if (!loop && plen)
		sum = pkt_csum_partial(pk, 0, plen, 0);
	h = pkt_push(pk, hlen);
	if (!h)
		return -ENOBUFS;
	tcp_hdr_build(h, r, psum, sum);
	if (loop) {
		uint16_t partial = (uint16_t)~csum_fold(psum);

		memcpy(h + offsetof(struct tcp_hdr, check), &partial, sizeof(partial));
	}
	return 0;
}

/* The packet that leaves for the queued pk: a copy when small, else a view. */
static struct pkt *tcp_xmit_clone(struct netns *ns, struct pkt *pk)
{
	uint32_t len = pk->tot_len;
	struct pkt *c;

	if (len > TCP_XMIT_COPY_MAX)
		return pkt_clone_range(ns->pools, pk, 0, len, PKT_HEADROOM);
	c = pkt_alloc(ns->pools, len);
	if (!c)
		return NULL;
	if (len)
		pkt_copy_out(pk, 0, pkt_put(c, len), len);
	c->meta = pk->meta;
	c->meta.destructor = NULL;
	c->meta.owner = NULL;
	return c;
}

/* tcp_event_ack_sent: an ACK went out, so none is owed: leave quick-ACK mode by one, stop the delayed ACK. */
static void tcp_event_ack_sent(struct tcp_sock *tp)
{
	if (tp->ack.quick) {
		unsigned pkts = (tp->ack.pending & ICSK_ACK_SCHED) ? 1u : 0u;

		if (pkts >= tp->ack.quick) {
			tp->ack.quick = 0;
			tp->ack.ato_us = TCP_ATO_MIN_US;	/* leaving quick-ACK mode deflates ato */
		} else {
			tp->ack.quick -= (uint8_t)pkts;
		}
	}
	tp->ack.pending = 0;
	netns_timer_cancel(tp->sk.ns, &tp->delack_timer);
}

/* tcp_event_data_sent: data left; a reply within ato of the last arrival means interactive (pingpong). */
static void tcp_event_data_sent(struct tcp_sock *tp)
{
	uint64_t now = tp->tcp_mstamp;

	if (tcp_packets_in_flight(tp) == 0)
		tcp_ca_event(tp, TCP_CA_EVENT_TX_START);
	tp->lsndtime_us = now;
	if (now - tp->ack.lrcvtime_us < tp->ack.ato_us)
		tp->ack.pingpong = true;
}

/*
 * tcp_build - __tcp_transmit_skb up to the IP layer: route, clone (or take
 * pk when !clone_it), options by the kind of segment, the urgent pointer,
 * the window, header and checksum, and the accounting of an ACK or data
 * sent.  When clone_it, pk's transmission time is stamped.
 * Return: the packet for tcp_ip_send, or NULL with *errp (-EHOSTUNREACH
 * etc. from routing, -ENOBUFS); pk is consumed on every path when !clone_it.
 */
static struct pkt *tcp_build(struct tcp_sock *tp, struct pkt *pk, bool clone_it, int *errp)
{
	struct sock *sk = &tp->sk;
	struct tcp_skb_cb *tcb = TCP_SKB_CB(pk);
	uint32_t plen = pk->tot_len;
	struct tcp_repr r;
	struct pkt *out;
	int err;

	err = tcp_route(tp);
	if (err)
		goto fail;
	tcp_mstamp_refresh(tp);
	if (clone_it) {
		tcb->tx_us = tp->tcp_mstamp;
		if (!tcb->first_tx_us)
			tcb->first_tx_us = tp->tcp_mstamp;
		out = tcp_xmit_clone(sk->ns, pk);
		if (!out) {
			err = -ENOBUFS;
			goto fail;
		}
	} else {
		out = pk;
	}

	memset(&r, 0, sizeof(r));
	if (tcb->tcp_flags & TCP_HDR_SYN)
		tcp_syn_options(tp, &r.opt);
	else
		tcp_established_options(tp, &r.opt);
	r.sport = sk->sport;
	r.dport = sk->dport;
	r.seq = tcb->seq;
	r.ack = tp->rcv_nxt;
	r.flags = tcb->tcp_flags;
	/* the urgent pointer while snd_up is ahead; a probe below snd_una sees it too */
	if (tcp_urg_mode(tp) && tcp_before(tcb->seq, tp->snd_up)) {
		if (tcp_before(tp->snd_up, tcb->seq + 0x10000)) {
			r.urg = (uint16_t)(tp->snd_up - tcb->seq);
			r.flags |= TCP_HDR_URG;
		} else if (tcp_after(tcb->seq + 0xFFFF, tp->snd_nxt)) {
			r.urg = 0xFFFF;
			r.flags |= TCP_HDR_URG;
		}
	}
	if (!(tcb->tcp_flags & TCP_HDR_SYN))
		r.window = tcp_select_window(tp);
	else	/* RFC 7323: the window of a SYN is never scaled */
		r.window = (uint16_t)(tp->rcv_wnd < 65535u ? tp->rcv_wnd : 65535u);
	if (r.opt.num_sacks)
		tp->dsack = false;	/* a D-SACK is reported once */

	err = tcp_push_header(out, &r, sk->saddr ? sk->saddr : tp->dst.src, sk->daddr,
			      tp->dst.dev->flags & IFF_LOOPBACK);
	if (err) {
		pkt_free(out);
		*errp = err;
		return NULL;
	}
	if (r.flags & TCP_HDR_ACK)
		tcp_event_ack_sent(tp);
	if (plen) {
		tcp_event_data_sent(tp);
		tp->data_segs_out++;
		tp->bytes_sent += plen;
	}
	/* OutSegs counts new segments and control ones, not retransmissions */
	if (tcp_after(tcb->end_seq, tp->snd_nxt) || tcb->seq == tcb->end_seq)
		tcp_tab(tp)->mib.out_segs++;
	tp->segs_out++;
	out->meta.mark = sk->mark;
	return out;
fail:
	if (!clone_it)
		pkt_free(pk);
	*errp = err;
	return NULL;
}

/*
 * tcp_ip_send - ip_queue_xmit for a built segment: the socket's TTL and
 * TOS, DF unless IP_MTU_DISCOVER says otherwise (and then no
 * fragmentation: the MSS follows the MTU), the connection's IP ids.
 * Consumes out.  Return: 0, -errno of ip4_output.
 */
static int tcp_ip_send(struct tcp_sock *tp, struct pkt *out)
{
	struct sock *sk = &tp->sk;
	struct ip4_out_opts o;

	memset(&o, 0, sizeof(o));
	o.ttl = sk->ttl;
	o.tos = sk->tos;
	o.df = o.df_strict = tcp_dont_fragment(sk);
	/* ip_select_ident_segs: a connected socket numbers its packets */
	o.id = tp->inet_id++;
	return ip4_output(sk->ns, out, &tp->dst, sk->saddr ? sk->saddr : tp->dst.src, sk->daddr,
			  IPPROTO_TCP, &o);
}

/*
 * tcp_transmit_skb - send a segment for pk: a clone if clone_it (pk stays
 * queued), else pk itself (consumed).
 * Return: 0; routing errors (-EHOSTUNREACH ...), -ENOBUFS (no packet:
 * nothing changed), -errno of ip4_output.
 */
int tcp_transmit_skb(struct tcp_sock *tp, struct pkt *pk, bool clone_it)
{
	int err;
	struct pkt *out = tcp_build(tp, pk, clone_it, &err);

	if (!out)
		return err;
	return tcp_ip_send(tp, out);
}

/* ---- the write queue ---- */

/*
 * tcp_queue_skb - append pk (already charged) to the write queue at
 * write_seq; write_seq moves past its payload and SYN/FIN.  Sends nothing.
 */
void tcp_queue_skb(struct tcp_sock *tp, struct pkt *pk)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	cb->seq = tp->write_seq;
	cb->end_seq = cb->seq + pk->tot_len + ((cb->tcp_flags & (TCP_HDR_SYN | TCP_HDR_FIN)) ? 1 : 0);
	tp->write_seq = cb->end_seq;
	pkt_queue_push(&tp->write_queue, pk);
}

/* tcp_event_new_data_sent - pk left the first time: snd_nxt, rtx queue, RTO if first in flight. */
void tcp_event_new_data_sent(struct tcp_sock *tp, struct pkt *pk)
{
	uint32_t prior = tp->packets_out;

	tp->snd_nxt = TCP_SKB_CB(pk)->end_seq;
	tcp_queue_unlink(&tp->write_queue, pk);
	pkt_queue_push(&tp->rtx_queue, pk);
	tp->packets_out++;
	if (!prior || tp->pending == TCP_TIME_LOSS_PROBE)
		tcp_rearm_rto(tp);
	tcp_check_space(tp);
}

/* tcp_adjust_pcount: a queued packet's share of the counters changed by decr packets. */
static void tcp_adjust_pcount(struct tcp_sock *tp, const struct pkt *pk, int decr)
{
	uint8_t sacked = TCP_SKB_CB(pk)->sacked;

	tp->packets_out -= (uint32_t)decr;
	if (sacked & TCPCB_SACKED_ACKED)
		tp->sacked_out -= (uint32_t)decr;
	if (sacked & TCPCB_SACKED_RETRANS)
		tp->retrans_out -= (uint32_t)decr;
	if (sacked & TCPCB_LOST)
		tp->lost_out -= (uint32_t)decr;
	/* without SACK, sacked_out counts duplicate ACKs (tcp_is_reno) */
	if (!tp->sack_ok && decr > 0)
		tp->sacked_out -= tp->sacked_out < (uint32_t)decr ? tp->sacked_out : (uint32_t)decr;
}

/*
 * tcp_fragment - split pk of q at len payload bytes: the rest (views of
 * the same bytes) becomes a new packet after it with FIN/PSH, the
 * scoreboard bits and eor, charged as a fresh packet; a packet already
 * sent counts one more in flight.
 * Return: 0, -EINVAL (len too long), -ENOBUFS (no packet, or the rtx
 * queue far over the send buffer).
 */
int tcp_fragment(struct tcp_sock *tp, struct pkt_queue *q, struct pkt *pk, uint32_t len,
		 unsigned mss_now)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk), *ncb;
	uint32_t nlen, overhead, shrink;
	struct pkt *buff;
	uint16_t flags;

	(void)mss_now;
	if (len > pk->tot_len)
		return -EINVAL;
	nlen = pk->tot_len - len;
	/* sendmsg may overshoot the buffer by a packet; splitting mid-queue may not go far past it */
	if (q == &tp->rtx_queue && (int64_t)(tp->wmem_queued >> 1) >
				   (int64_t)tp->sk.sndbuf + 2 * (int64_t)pkt_kernel_truesize(65536) &&
	    pk != q->head && pk != q->tail)
		return -ENOBUFS;
	buff = pkt_clone_range(tp->sk.ns->pools, pk, len, nlen, PKT_HEADROOM);
	if (!buff)
		return -ENOBUFS;
	pkt_trim(pk, len);

	overhead = pk->meta.truesize > pk->tot_len + nlen ? pk->meta.truesize - (pk->tot_len + nlen) : 0;
	shrink = pk->meta.truesize - overhead > nlen ? nlen : pk->meta.truesize - overhead;
	tcp_recharge(tp, q, pk, -(int64_t)shrink);
	buff->meta.truesize = overhead + nlen;
	tcp_wmem_charge(tp, buff);

	ncb = TCP_SKB_CB(buff);		/* a copy of pk's: tx times, ack_seq scratch */
	ncb->seq = cb->seq + len;
	ncb->end_seq = cb->end_seq;
	cb->end_seq = ncb->seq;
	flags = cb->tcp_flags;
	cb->tcp_flags = flags & ~(TCP_HDR_FIN | TCP_HDR_PSH);
	ncb->tcp_flags = flags;
	ncb->sacked = cb->sacked;
	ncb->eor = cb->eor;
	cb->eor = 0;

	/* sent already: one packet became two */
	if (!tcp_before(tp->snd_nxt, ncb->end_seq))
		tcp_adjust_pcount(tp, pk, -1);
	tcp_queue_after(q, pk, buff);
	return 0;
}

/* tcp_minshall_check: a sub-MSS segment is still unacknowledged. */
static inline bool tcp_minshall_check(const struct tcp_sock *tp)
{
	return tcp_after(tp->snd_sml, tp->snd_una) && !tcp_after(tp->snd_sml, tp->snd_nxt);
}

static inline void tcp_minshall_update(struct tcp_sock *tp, unsigned mss_now, const struct pkt *pk)
{
	if (pk->tot_len < mss_now)
		tp->snd_sml = TCP_SKB_CB(pk)->end_seq;
}

/*
 * tcp_nagle_check: a partial segment must wait: corked, or (Nagle on)
 * while a sub-MSS segment is unacknowledged (Minshall's variant).
 */
static inline bool tcp_nagle_check(bool partial, const struct tcp_sock *tp, int nonagle)
{
	return partial && ((nonagle & TCP_NAGLE_CORK) ||
			   (!nonagle && tp->packets_out && tcp_minshall_check(tp)));
}

/*
 * tcp_nagle_test - may pk leave now for Nagle and cork: full segments,
 * FIN, urgent data and TCP_NAGLE_PUSH yes; a partial one waits while
 * corked, or (Nagle on) while a small segment is unacknowledged.
 * Return: true if it may be sent.
 */
bool tcp_nagle_test(const struct tcp_sock *tp, const struct pkt *pk, unsigned cur_mss, int nonagle)
{
	if (nonagle & TCP_NAGLE_PUSH)
		return true;
	if (tcp_urg_mode(tp) || (TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_FIN))
		return true;
	return !tcp_nagle_check(pk->tot_len < cur_mss, tp, nonagle);
}

/* tcp_cwnd_test: room in cwnd (a final one-segment FIN always goes). Return: segments allowed. */
static uint32_t tcp_cwnd_test(const struct tcp_sock *tp, const struct pkt *pk, unsigned mss_now)
{
	uint32_t in_flight, cwnd = tp->snd_cwnd, half;

	if ((TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_FIN) && pk->tot_len <= mss_now)
		return 1;
	in_flight = tcp_packets_in_flight(tp);
	if (in_flight >= cwnd)
		return 0;
	half = cwnd >> 1 ? cwnd >> 1 : 1;
	return half < cwnd - in_flight ? half : cwnd - in_flight;
}

/* tcp_snd_wnd_test: the first segment of pk fits the peer's window. */
static bool tcp_snd_wnd_test(const struct tcp_sock *tp, const struct pkt *pk, unsigned cur_mss)
{
	uint32_t end_seq = TCP_SKB_CB(pk)->end_seq;

	if (pk->tot_len > cur_mss)
		end_seq = TCP_SKB_CB(pk)->seq + cur_mss;
	return !tcp_after(end_seq, tcp_wnd_end(tp));
}

/*
 * tcp_cwnd_validate: remember whether the congestion window was the limit
 * over the last window of data (is_cwnd_limited, max_packets_out), which
 * decides whether ACKs may grow it (tcp_is_cwnd_limited).
 */
static void tcp_cwnd_validate(struct tcp_sock *tp, bool is_cwnd_limited)
{
	if (!tcp_before(tp->snd_una, tp->cwnd_usage_seq) || is_cwnd_limited ||
	    (!tp->is_cwnd_limited && tp->packets_out > tp->max_packets_out)) {
		tp->is_cwnd_limited = is_cwnd_limited;
		tp->max_packets_out = tp->packets_out;
		tp->cwnd_usage_seq = tp->snd_nxt;
	}
	if (tcp_is_cwnd_limited(tp))
		tp->snd_cwnd_stamp = tp->tcp_mstamp;
}

/*
 * tcp_schedule_loss_probe - arm the tail loss probe at two SRTT (plus the
 * delayed-ACK allowance when one packet is out), never after the RTO,
 * for SACK connections in Open or CWR (tcp_schedule_loss_probe).
 */
static void tcp_schedule_loss_probe(struct tcp_sock *tp)
{
	int er = tcp_sys(&tp->sk)->early_retrans;
	const struct pkt *head = tp->rtx_queue.head;
	uint64_t timeout;
	int64_t rto_delta;

	if (tp->fastopen_rsk)
		return;
	if ((er != 3 && er != 4) || !tp->packets_out || !tp->sack_ok ||
	    (tp->ca_state != TCP_CA_Open && tp->ca_state != TCP_CA_CWR))
		return;
	if (tp->srtt_us) {
		timeout = tp->srtt_us >> 2;
		timeout += tp->packets_out == 1 ? tcp_rto_min_us(tp) : TCP_TIMEOUT_MIN_US;
		timeout = tcp_jiffy_round_us(timeout);
	} else {
		timeout = TCP_TIMEOUT_INIT_US;
	}
	rto_delta = head ? (int64_t)(TCP_SKB_CB(head)->tx_us + tp->rto_us) - (int64_t)tp->tcp_mstamp
			 : (int64_t)tp->rto_us;
	if (rto_delta > 0 && tcp_jiffy_round_us((uint64_t)rto_delta) < timeout)
		timeout = tcp_jiffy_round_us((uint64_t)rto_delta);
	tcp_reset_xmit_timer(tp, TCP_TIME_LOSS_PROBE, timeout, TCP_RTO_MAX_US);
}

/*
 * tcp_write_xmit - from the send head, each packet the congestion window,
 * the peer's window and Nagle/cork (nonagle applies to the last packet;
 * the others cannot grow) let go, cut to mss_now if longer, leaves and
 * moves to the rtx queue.  push_one: 1 one packet at most, 2 one even
 * past cwnd (a loss probe).
 * Return: true if nothing is in flight while packets wait unsent.
 */
bool tcp_write_xmit(struct tcp_sock *tp, unsigned mss_now, int nonagle, int push_one)
{
	bool is_cwnd_limited = false;
	unsigned sent = 0;
	struct pkt *pk;

	tcp_mstamp_refresh(tp);
	while ((pk = tcp_send_head(tp)) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
		struct pkt *out;
		int err;

		if (!tcp_cwnd_test(tp, pk, mss_now) && push_one != 2)
			break;
		if (!tcp_snd_wnd_test(tp, pk, mss_now))
			break;
		if (pk->tot_len <= mss_now) {
			if (!tcp_nagle_test(tp, pk, mss_now, pk->next ? TCP_NAGLE_PUSH : nonagle))
				break;
		} else if (tcp_fragment(tp, &tp->write_queue, pk, mss_now, mss_now)) {
			break;
		}
		/* an empty packet: a writer is filling it (sk_stream_wait_memory) */
		if (cb->end_seq == cb->seq)
			break;
		out = tcp_build(tp, pk, true, &err);
		if (!out)
			break;
		tcp_event_new_data_sent(tp, pk);
		tcp_minshall_update(tp, mss_now, pk);
		sent++;
		if (tcp_in_cwnd_reduction(tp))
			tp->prr_out++;
		if (tcp_ip_send(tp, out) || push_one)
			break;
	}
	is_cwnd_limited = tcp_packets_in_flight(tp) >= tp->snd_cwnd;
	if (sent || is_cwnd_limited)
		tcp_cwnd_validate(tp, is_cwnd_limited);
	if (sent) {
		/* one loss probe per tail loss episode */
		if (push_one != 2)
			tcp_schedule_loss_probe(tp);
		return false;
	}
	return !tp->packets_out && tcp_send_head(tp);
}

/*
 * __tcp_push_pending_frames - send what may go; when nothing could and
 * nothing is in flight, the probe timer will (that sends data held by
 * MSG_MORE or TCP_CORK after ~200 ms).
 */
void __tcp_push_pending_frames(struct tcp_sock *tp, unsigned cur_mss, int nonagle)
{
	if (tp->sk.state == TCP_CLOSE)
		return;
	if (tcp_write_xmit(tp, cur_mss, nonagle, 0))
		tcp_check_probe_timer(tp);
}

/* tcp_push_pending_frames - __tcp_push_pending_frames with the current MSS and the socket's Nagle setting. */
void tcp_push_pending_frames(struct tcp_sock *tp)
{
	if (tcp_send_head(tp))
		__tcp_push_pending_frames(tp, tcp_current_mss(tp), tp->nonagle);
}

/* tcp_push_one - send the full packet at the send head alone (tcp_push_one). */
void tcp_push_one(struct tcp_sock *tp, unsigned mss_now)
{
	tcp_write_xmit(tp, mss_now, TCP_NAGLE_PUSH, 1);
}

/*
 * tcp_push - end of a send call: the tail gets PSH unless MSG_MORE (or
 * half a window went unpushed: forced_push), MSG_OOB moves snd_up to the
 * end, MSG_MORE corks, then push.  Autocorking is left out (size_goal unused).
 */
void tcp_push(struct tcp_sock *tp, int flags, unsigned mss_now, int nonagle, unsigned size_goal)
{
	struct pkt *tail = tp->write_queue.tail;

	(void)size_goal;
	if (!tail)
		return;
	if (!(flags & MSG_MORE) || tcp_after(tp->write_seq, tp->pushed_seq + (tp->max_window >> 1))) {
		TCP_SKB_CB(tail)->tcp_flags |= TCP_HDR_PSH;	/* tcp_mark_push */
		tp->pushed_seq = tp->write_seq;
	}
	if (flags & MSG_OOB)
		tp->snd_up = tp->write_seq;			/* tcp_mark_urg */
	if (flags & MSG_MORE)
		nonagle = TCP_NAGLE_CORK;
	__tcp_push_pending_frames(tp, mss_now, nonagle);
}

/* ---- FIN, RST, ACK ---- */

/*
 * tcp_send_fin - FIN on the last unsent packet, or a new one (allowed past
 * the send buffer), then push.  No memory: no FIN, as in the kernel.
 */
void tcp_send_fin(struct tcp_sock *tp)
{
	struct pkt *tail = tp->write_queue.tail;

	if (tail) {
		TCP_SKB_CB(tail)->tcp_flags |= TCP_HDR_FIN;
		TCP_SKB_CB(tail)->end_seq++;
		tp->write_seq++;
	} else {
		struct pkt *pk = pkt_alloc(tp->sk.ns->pools, 0);

		if (!pk)
			return;
		tcp_init_nondata(pk, tp->write_seq, TCP_HDR_ACK | TCP_HDR_FIN);
		pk->meta.truesize = pkt_kernel_truesize(TCP_MAX_TCP_HEADER);
		tcp_wmem_charge(tp, pk);	/* sk_forced_mem_schedule: a FIN is never refused */
		tcp_queue_skb(tp, pk);
	}
	__tcp_push_pending_frames(tp, tcp_current_mss(tp), TCP_NAGLE_OFF);
}

/* tcp_send_active_reset - RST|ACK at snd_nxt (or the window's end), with timestamps, never resent. */
void tcp_send_active_reset(struct tcp_sock *tp)
{
	struct pkt *pk;

	tcp_tab(tp)->mib.out_rsts++;
	pk = pkt_alloc(tp->sk.ns->pools, 0);
	if (!pk)
		return;
	tcp_init_nondata(pk, tcp_acceptable_seq(tp), TCP_HDR_ACK | TCP_HDR_RST);
	tcp_transmit_skb(tp, pk, false);
}

/* tcp_send_ack - a bare ACK now; without memory, retry from the delayed-ACK timer after TCP_DELACK_MAX. */
void tcp_send_ack(struct tcp_sock *tp)
{
	struct pkt *pk;

	if (tp->sk.state == TCP_CLOSE)
		return;
	pk = pkt_alloc(tp->sk.ns->pools, 0);
	if (!pk) {
		uint64_t when = netns_now(tp->sk.ns) + (uint64_t)TCP_DELACK_MAX_US * 1000u;

		tp->ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
		tp->ack.ato_us = TCP_ATO_MIN_US;
		tp->ack.timeout_ns = when;
		tcp_reset_delack_timer(tp, when);
		return;
	}
	tcp_init_nondata(pk, tcp_acceptable_seq(tp), TCP_HDR_ACK);
	tcp_transmit_skb(tp, pk, false);
}

/*
 * tcp_send_delayed_ack - an ACK within ato: at most 500 ms, TCP_DELACK_MAX
 * when interactive or pushed, the SRTT if known (not under DELACK_MIN);
 * an earlier deadline stands, one about to expire sends now.
 */
void tcp_send_delayed_ack(struct tcp_sock *tp)
{
	uint64_t ato = tp->ack.ato_us, now = netns_now(tp->sk.ns), timeout;

	if (ato > TCP_DELACK_MIN_US) {
		uint64_t max_ato = TCP_ATO_MAX_US;

		if (tp->ack.pingpong || (tp->ack.pending & ICSK_ACK_PUSHED))
			max_ato = TCP_DELACK_MAX_US;
		if (tp->srtt_us) {
			uint64_t rtt = tcp_jiffy_round_us(tp->srtt_us >> 3);

			if (rtt < TCP_DELACK_MIN_US)
				rtt = TCP_DELACK_MIN_US;
			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	if (ato > TCP_DELACK_MAX_US)
		ato = TCP_DELACK_MAX_US;	/* tcp_delack_max */
	timeout = now + ato * 1000u;
	if (tp->ack.pending & ICSK_ACK_TIMER) {
		if (tp->ack.timeout_ns <= now + (ato >> 2) * 1000u) {
			tcp_send_ack(tp);
			return;
		}
		if (timeout >= tp->ack.timeout_ns)
			timeout = tp->ack.timeout_ns;
	}
	tp->ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
	tp->ack.timeout_ns = timeout;
	tcp_reset_delack_timer(tp, timeout);
}

/*
 * tcp_send_challenge_ack - RFC 5961 challenge ACK: one per
 * tcp_invalid_ratelimit ms per socket and, unless tcp_challenge_ack_limit
 * is INT_MAX (default), a count drawn around the limit per second.
 */
void tcp_send_challenge_ack(struct tcp_sock *tp)
{
	struct netns *ns = tp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_sysctl *s = &t->sys;
	uint32_t now_ms = tcp_ts_now(ns);
	uint64_t now_s;

	/* __tcp_oow_rate_limited */
	if (tp->last_oow_ack_time) {
		int32_t elapsed = (int32_t)(now_ms - tp->last_oow_ack_time);

		if (elapsed >= 0 && elapsed < s->invalid_ratelimit)
			return;
	}
	tp->last_oow_ack_time = now_ms ? now_ms : 1;
	if (s->challenge_ack_limit != INT_MAX) {
		now_s = netns_now(ns) / NSEC_PER_SEC;
		if (now_s != t->challenge_stamp_s) {
			uint32_t limit = s->challenge_ack_limit > 0 ? (uint32_t)s->challenge_ack_limit : 0;
			uint32_t half = (limit + 1) >> 1;

			t->challenge_stamp_s = now_s;
			t->challenge_count = limit ? half + (uint32_t)(netns_random(ns) % limit) : 0;
		}
		if (!t->challenge_count)
			return;
		t->challenge_count--;
	}
	t->mib.challenge_acks++;
	tcp_send_ack(tp);
}

/* ---- stateless replies ---- */

/*
 * tcp_v4_reply - ip_send_unicast_reply: r from saddr to daddr in a pool
 * packet, routed afresh, with DF, the default TTL and tos without ECN
 * bits (the kernel's per-namespace control socket).
 */
static void tcp_v4_reply(struct netns *ns, const struct tcp_repr *r, uint32_t saddr, uint32_t daddr,
			 int oif, uint8_t tos)
{
	struct ip4_out_opts o;
	struct rt4_result rt;
	struct pkt *pk;

	if (ip4_route_output(ns, daddr, saddr, oif, 0, &rt))
		return;
	pk = pkt_alloc(ns->pools, 0);
	if (!pk)
		return;
	if (tcp_push_header(pk, r, saddr, daddr, rt.dev->flags & IFF_LOOPBACK)) {
		pkt_free(pk);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.tos = (uint8_t)(tos & ~TCP_INET_ECN_MASK);
	o.df = o.df_strict = true;	/* the control socket has IP_PMTUDISC_DO */
	ns->tcp->mib.out_segs++;
	ip4_output(ns, pk, &rt, saddr, daddr, IPPROTO_TCP, &o);
}

/*
 * tcp_v4_send_reset - RST for a segment no connection wants (RFC 9293
 * 3.10.7.1); pk not consumed.  None for a RST or a non-local destination.
 * With ACK: seq = its ack; else seq 0, ACK of all it occupied (seg_len +
 * SYN + FIN).
 */
void tcp_v4_send_reset(struct netns *ns, const struct pkt *pk, const struct tcp_repr *th,
		       uint32_t seg_len)
{
	struct tcp_repr r;

	if (th->flags & TCP_HDR_RST)
		return;
	if (ip4_addr_type(ns, pk->meta.daddr) != RT_LOCAL)
		return;
	memset(&r, 0, sizeof(r));
	r.sport = th->dport;
	r.dport = th->sport;
	r.flags = TCP_HDR_RST;
	if (th->flags & TCP_HDR_ACK) {
		r.seq = th->ack;
	} else {
		r.flags |= TCP_HDR_ACK;
		r.ack = th->seq + seg_len + ((th->flags & TCP_HDR_SYN) ? 1 : 0) +
			((th->flags & TCP_HDR_FIN) ? 1 : 0);
	}
	ns->tcp->mib.out_rsts++;
	tcp_v4_reply(ns, &r, pk->meta.daddr, pk->meta.saddr, 0, pk->meta.tos);
}

/*
 * tcp_v4_send_ack - stateless ACK (TIME_WAIT, request socks): addresses
 * and ports local first, win already scaled; timestamps iff tsecr != 0.
 */
void tcp_v4_send_ack(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
		     uint16_t dport, uint32_t seq, uint32_t ack, uint32_t win, uint32_t tsval,
		     uint32_t tsecr, int oif, uint8_t tos)
{
	struct tcp_repr r;

	memset(&r, 0, sizeof(r));
	r.sport = sport;
	r.dport = dport;
	r.seq = seq;
	r.ack = ack;
	r.flags = TCP_HDR_ACK;
	r.window = (uint16_t)(win < 0xffff ? win : 0xffff);
	if (tsecr) {
		r.opt.has_ts = true;
		r.opt.tsval = tsval;
		r.opt.tsecr = tsecr;
	}
	tcp_v4_reply(ns, &r, saddr, daddr, oif, tos);
}

/*
 * tcp_send_synack_req - SYN-ACK of req (tcp_v4_send_synack): MSS of the
 * route under the listener's TCP_MAXSEG, the agreed options (TSval = now +
 * ts_off), the Fast Open cookie if given; unscaled window; the listener's
 * TTL, TOS and DF.
 * Return: 0, routing -errno, -ENOBUFS, -errno of ip4_output.
 */
int tcp_send_synack_req(struct tcp_request_sock *req, const uint8_t *tfo_cookie, uint8_t tfo_len)
{
	struct tcp_sock *lp = req->listener;
	struct sock *lsk = &lp->sk;
	struct netns *ns = lsk->ns;
	unsigned rtflags = (lsk->flags & SKF_DONTROUTE) ? IP4_RT_DONTROUTE : 0;
	unsigned remaining = TCP_OPT_SPACE - 4;
	struct ip4_out_opts o;
	struct rt4_result rt;
	struct tcp_repr r;
	struct pkt *pk;
	int err;

	err = ip4_route_output(ns, req->hn.daddr, req->hn.saddr, req->hn.bound_dev_if, rtflags, &rt);
	if (err)
		return err;
	pk = pkt_alloc(ns->pools, 0);
	if (!pk)
		return -ENOBUFS;
	memset(&r, 0, sizeof(r));
	r.opt.mss = (uint16_t)tcp_mss_clamp(lp, tcp_rt_advmss(&rt));
	if (req->wscale_ok) {
		r.opt.has_wscale = true;
		r.opt.wscale = req->rcv_wscale;
		remaining -= 4;
	}
	if (req->tstamp_ok) {
		r.opt.has_ts = true;
		r.opt.tsval = tcp_ts_now(ns) + req->ts_off;
		r.opt.tsecr = req->ts_recent;
		remaining -= TCP_TS_ALIGNED;
	}
	if (req->sack_ok) {
		r.opt.sack_perm = true;
		if (!req->tstamp_ok)
			remaining -= 4;
	}
	if (tfo_cookie && tcp_fo_cookie_len_ok(tfo_len) && remaining >= ((2u + tfo_len + 3u) & ~3u)) {
		r.opt.fastopen = true;
		r.opt.fastopen_len = (int8_t)tfo_len;
		memcpy(r.opt.fastopen_cookie, tfo_cookie, tfo_len);
	}
	r.sport = req->hn.sport;
	r.dport = req->hn.dport;
	r.seq = req->snt_isn;
	r.ack = req->rcv_nxt;
	r.flags = TCP_HDR_SYN | TCP_HDR_ACK;
	r.window = (uint16_t)(req->rsk_rcv_wnd < 65535u ? req->rsk_rcv_wnd : 65535u);
	if (!req->snt_synack_us)
		req->snt_synack_us = (uint32_t)tcp_clock_us(ns);
	err = tcp_push_header(pk, &r, req->hn.saddr, req->hn.daddr, rt.dev->flags & IFF_LOOPBACK);
	if (err) {
		pkt_free(pk);
		return err;
	}
	memset(&o, 0, sizeof(o));
	o.ttl = lsk->ttl;
	o.tos = lsk->tos;
	/* ip_build_and_send_pkt: DF (and id 0) as the listener's IP_MTU_DISCOVER says */
	o.df = o.df_strict = tcp_dont_fragment(lsk);
	pk->meta.mark = lsk->mark;
	ns->tcp->mib.out_segs++;
	return ip4_output(ns, pk, &rt, req->hn.saddr, req->hn.daddr, IPPROTO_TCP, &o);
}

/* ---- connect ---- */

/*
 * tcp_connect_init - what an active open sets up before its SYN
 * (tcp_connect_init): MSS for the route, advertised MSS, the first window
 * and its scale, the sequence space from the ISN in write_seq, timers and
 * counters clean.
 */
static void tcp_connect_init(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	const struct tcp_sysctl *s = tcp_sys(sk);
	/* the SYN's options decide: timestamps if the sysctl offers them */
	unsigned hdr = TCP_HLEN + (s->timestamps ? TCP_TS_ALIGNED : 0);
	uint8_t rcv_wscale = 0;
	int full;

	tp->mss_clamp = (uint16_t)(tp->user_mss ? tp->user_mss : TCP_MSS_DEFAULT);
	tp->max_window = 0;
	tcp_sync_mss_hdr(tp, tcp_rt_mtu(&tp->dst), hdr);
	tp->advmss = (uint16_t)tcp_mss_clamp(tp, tcp_rt_advmss(&tp->dst));
	tcp_initialize_rcv_mss(tp);

	full = tcp_full_space(sk);
	/* a receive buffer the user fixed limits the window */
	if ((sk->flags & SKF_RCVBUF_LOCK) && full >= 0 &&
	    (tp->window_clamp > (uint32_t)full || tp->window_clamp == 0))
		tp->window_clamp = (uint32_t)full;
	tcp_select_initial_window(sk, full,
				  tp->advmss - (tp->ts_recent_stamp ? hdr - TCP_HLEN : 0),
				  &tp->rcv_wnd, &tp->window_clamp, s->window_scaling != 0,
				  &rcv_wscale, 0);
	tp->rcv_wscale = rcv_wscale;
	tp->rcv_ssthresh = tp->rcv_wnd;

	sk->err = 0;
	tp->snd_wnd = 0;
	tp->snd_wl1 = 0;
	tcp_write_queue_purge(tp);
	tp->snd_isn = tp->write_seq;
	tp->snd_una = tp->write_seq;
	tp->snd_sml = tp->write_seq;
	tp->snd_up = tp->write_seq;
	tp->snd_nxt = tp->write_seq;
	tp->cwnd_usage_seq = tp->write_seq;
	tp->rcv_nxt = 0;
	tp->rcv_wup = 0;
	tp->copied_seq = 0;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->retransmits = 0;
	tcp_clear_retrans(tp);
}

/*
 * tcp_syn_data - tcp_send_syn_data up to the wire: with a cached cookie
 * (or none needed) a copy of the SYN takes up to an MSS of the caller's
 * data and leaves; the queued SYN stays alone on the retransmit queue and
 * the data follows it as a packet of its own, so a retransmitted SYN has
 * no data and data the SYN-ACK does not cover is resent as usual.
 * Without a cookie the plain SYN asks for one.  Either way later SYNs of
 * this connect carry no Fast Open option.
 * Return: the segment for tcp_ip_send, or NULL (nothing could be built:
 * the RTO will resend the SYN).
 */
static struct pkt *tcp_syn_data(struct tcp_sock *tp, struct pkt *syn)
{
	struct sock *sk = &tp->sk;
	struct tcp_fastopen_request *fo = &tp->fastopen_req;
	uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX], clen = 0;
	uint16_t mss = tp->advmss;	/* if no MSS was cached */
	struct pkt *data, *out = NULL;
	bool have, go;
	size_t space;
	int err, base;

	have = tcp_fastopen_cache_get(sk->ns, sk->daddr, &mss, cookie, &clen);
	tp->mss_clamp = mss;
	/* tcp_fastopen_cookie_check */
	if ((tcp_sys(sk)->fastopen & TFO_CLIENT_NO_COOKIE) || tp->fastopen_no_cookie) {
		fo->cookie_len = TCP_FO_NO_OPTION;
		go = true;
	} else if (have && clen > 0 && clen <= TCP_FASTOPEN_COOKIE_MAX) {
		fo->cookie_len = clen;
		memcpy(fo->cookie, cookie, clen);
		go = true;
	} else {
		go = false;
	}
	if (!go)
		goto fallback;

	/* the data's room: the cached MSS bounded by the path, less the largest option space */
	tp->mss_clamp = (uint16_t)tcp_mss_clamp(tp, tp->mss_clamp);
	tcp_sync_mss_hdr(tp, tp->pmtu_cookie, TCP_HLEN + (tcp_sys(sk)->timestamps ? TCP_TS_ALIGNED : 0));
	base = tcp_mtu_to_mss_base(tp, tp->pmtu_cookie) - (int)TCP_OPT_SPACE;
	space = base > 0 ? (size_t)base : 0;
	if (space > fo->size)
		space = fo->size;
	data = tcp_stream_alloc_pkt(tp, space);
	if (!data)
		goto fallback;
	*TCP_SKB_CB(data) = *TCP_SKB_CB(syn);
	if (space && sk_copy_from_iov(fo->msg, fo->msg->iov_off, pkt_put(data, space), space)) {
		tcp_wmem_free_pkt(tp, data);
		goto fallback;
	}
	fo->copied = (ssize_t)space;
	/* tcp_connect_queue_skb */
	TCP_SKB_CB(data)->end_seq += (uint32_t)space;
	tp->write_seq = TCP_SKB_CB(data)->end_seq;
	tp->packets_out++;

	out = tcp_build(tp, data, true, &err);
	/* the queued SYN left as part of that segment: its RTO and RTT start now */
	TCP_SKB_CB(syn)->tx_us = TCP_SKB_CB(data)->tx_us;
	TCP_SKB_CB(syn)->first_tx_us = TCP_SKB_CB(data)->first_tx_us;
	/* the SYN went in the clone; the queued packet is the data alone */
	TCP_SKB_CB(data)->seq++;
	TCP_SKB_CB(data)->tcp_flags = TCP_HDR_ACK | TCP_HDR_PSH;
	if (out) {
		tp->syn_data = space > 0;
		pkt_queue_push(&tp->rtx_queue, data);
		goto done;
	}
	/* not sent: the data waits on the write queue */
	pkt_queue_push(&tp->write_queue, data);
	tp->packets_out--;
fallback:
	if (fo->cookie_len != TCP_FO_NO_OPTION && fo->cookie_len > 0)
		fo->cookie_len = 0;	/* ask for a cookie */
	out = tcp_build(tp, syn, true, &err);
	if (!out)
		tp->syn_fastopen = false;
done:
	fo->cookie_len = TCP_FO_NO_OPTION;	/* SYN retries carry no Fast Open option */
	return out;
}

/*
 * tcp_connect - queue and send the SYN of an active open (SYN_SENT, route,
 * ports, ISN in write_seq set); with fastopen_req active, Fast Open data
 * and cookie (or a request).  A SYN not built is left to the RTO.
 * Return: 0, -EHOSTUNREACH (no route), -ENOBUFS (no packet).
 */
int tcp_connect(struct tcp_sock *tp)
{
	struct pkt *syn, *out, *head;
	int err;

	if (tcp_route(tp))
		return -EHOSTUNREACH;
	tcp_connect_init(tp);
	syn = tcp_stream_alloc_pkt(tp, 0);
	if (!syn)
		return -ENOBUFS;
	tcp_init_nondata(syn, tp->write_seq, TCP_HDR_SYN);
	tp->write_seq++;
	tcp_mstamp_refresh(tp);
	tp->retrans_stamp_us = tp->tcp_mstamp;
	/* tcp_connect_queue_skb: charged by tcp_stream_alloc_pkt */
	tp->packets_out++;
	pkt_queue_push(&tp->rtx_queue, syn);

	if (tp->fastopen_req.active)
		out = tcp_syn_data(tp, syn);
	else
		out = tcp_build(tp, syn, true, &err);

	tp->snd_nxt = tp->write_seq;
	tp->pushed_seq = tp->write_seq;
	head = tcp_send_head(tp);
	if (head) {
		/* Fast Open data that could not go waits for the handshake */
		tp->snd_nxt = TCP_SKB_CB(head)->seq;
		tp->pushed_seq = TCP_SKB_CB(head)->seq;
	}
	tcp_tab(tp)->mib.active_opens++;
	tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, tp->rto_us, TCP_RTO_MAX_US);
	if (out) {
		err = tcp_ip_send(tp, out);
		if (err == -ECONNREFUSED)
			return err;
	}
	return 0;
}

/* ---- retransmission ---- */

/* tcp_trim_head: drop len acknowledged bytes from the front of a queued packet, and their charge. */
static int tcp_trim_head(struct tcp_sock *tp, struct pkt *pk, uint32_t len)
{
	uint32_t cut = len < pk->tot_len ? len : pk->tot_len;

	if (pkt_pull(pk, cut))
		return -ENOBUFS;
	TCP_SKB_CB(pk)->seq += len;
	tcp_recharge(tp, &tp->rtx_queue, pk, -(int64_t)(cut < pk->meta.truesize ? cut : 0));
	return 0;
}

/*
 * A view holds the piece it looks into, and a piece holds the pieces chained
 * after it, so chaining onto to a packet that reaches (over frag and view
 * links) a piece of to itself would close a reference cycle that no
 * pkt_free ever breaks: tcp_fragment's tail merged back into its head is
 * one.  The pieces of a queued packet are few; a walk that gets long or
 * deep answers "reaches" so that the caller errs on the safe side.
 * Return: true if from may reach a piece of to's chain.
 */
static bool tcp_pieces_reach(const struct pkt *from, const struct pkt *to)
{
	const struct pkt *stack[8], *p, *q;
	unsigned sp = 0, budget = 64;

	stack[sp++] = from;
	while (sp) {
		for (p = stack[--sp]; p; p = p->frag) {
			if (!budget--)
				return true;
			for (q = to; q; q = q->frag)
				if (q == p)
					return true;
			if (p->shared) {
				if (sp == sizeof(stack) / sizeof(stack[0]))
					return true;
				stack[sp++] = p->shared;
			}
		}
	}
	return false;
}

/*
 * tcp_collapse_retrans: the packet after to joins it (tcp_collapse_retrans).
 * Its leading views of the bytes right after to's last piece, in the same
 * buffer (what tcp_fragment cut off), are taken back by growing that piece;
 * the rest is chained on without a copy, or copied into one fresh piece
 * when chaining it would make a reference cycle (tcp_pieces_reach).
 * Return: true, false (nothing changed) when no block is left for the copy.
 */
static bool tcp_collapse_retrans(struct tcp_sock *tp, struct pkt *to)
{
	struct pkt_queue *q = &tp->rtx_queue;
	struct pkt *n = to->next, *last = to, *p, *copy = NULL;
	struct tcp_skb_cb *cb = TCP_SKB_CB(to), *ncb = TCP_SKB_CB(n);
	uint32_t moved = n->tot_len, rejoin = 0;
	uint32_t overhead = n->meta.truesize > moved ? n->meta.truesize - moved : 0;
	const struct pkt *owner;
	const uint8_t *end;

	while (last->frag)
		last = last->frag;
	owner = last->shared ? last->shared : last;
	end = last->data + last->len;
	for (p = n; p; p = p->frag) {
		if (!p->len)
			continue;
		if (p->shared != owner || p->data != end)
			break;
		end += p->len;
		rejoin += p->len;
	}
	if (p && tcp_pieces_reach(p, to)) {
		copy = pkt_alloc(tp->sk.ns->pools, moved - rejoin);
		if (!copy)
			return false;
		pkt_copy_out(n, rejoin, pkt_put(copy, moved - rejoin), moved - rejoin);
	}

	to->next = n->next;
	if (q->tail == n)
		q->tail = to;
	q->count--;
	q->bytes -= n->meta.truesize;
	n->next = NULL;

	cb->end_seq = ncb->end_seq;
	cb->tcp_flags |= ncb->tcp_flags;	/* PSH, FIN */
	cb->sacked |= ncb->sacked & TCPCB_EVER_RETRANS;
	cb->eor = ncb->eor;
	/* changed queue: the scoreboard walks start over (tcp_clear_retrans_hints_partial) */
	tp->lost_skb_hint = NULL;
	tcp_adjust_pcount(tp, n, 1);

	/* the bytes move with their charge; n's own overhead is given back */
	to->meta.truesize += moved;
	q->bytes += moved;
	if (rejoin) {
		last->len += rejoin;
		to->tot_len += rejoin;
		pkt_pull(n, rejoin);	/* drops the views just taken back */
	}
	if (copy) {
		pkt_free(n);
		pkt_append(to, copy);
	} else if (n->tot_len) {
		pkt_append(to, n);
	} else {
		pkt_free(n);
	}
	tp->wmem_queued -= overhead < tp->wmem_queued ? overhead : tp->wmem_queued;
	return true;
}

/*
 * tcp_retrans_try_collapse: a retransmission smaller than the MSS takes in
 * the packets after it that fit (tcp_retrans_try_collapse), so fewer
 * segments go out; never over a SACKed packet, past the window or an
 * end-of-record mark.
 */
static void tcp_retrans_try_collapse(struct tcp_sock *tp, struct pkt *to, int space)
{
	struct pkt *n;

	if (!tcp_sys(&tp->sk)->retrans_collapse)
		return;
	if (TCP_SKB_CB(to)->tcp_flags & TCP_HDR_SYN)
		return;
	if ((TCP_SKB_CB(to)->sacked & TCPCB_SACKED_ACKED) || TCP_SKB_CB(to)->eor)
		return;
	space -= (int)to->tot_len;
	while ((n = to->next) != NULL) {
		if ((TCP_SKB_CB(n)->sacked & TCPCB_SACKED_ACKED) || TCP_SKB_CB(to)->eor)
			break;
		space -= (int)n->tot_len;
		if (space < 0)
			break;
		if (tcp_after(TCP_SKB_CB(n)->end_seq, tcp_wnd_end(tp)))
			break;
		if (!tcp_collapse_retrans(tp, to))
			break;
	}
}

/*
 * tcp_retrans_build - __tcp_retransmit_skb up to the wire: drop what was
 * acknowledged since, cut pk to the window and MSS (or merge followers
 * into it), count the retransmission and build the segment.
 * Return: 0 with *out for tcp_ip_send; -EAGAIN (outside a shrunk window),
 * -EHOSTUNREACH (no route), -EINVAL (all of it acknowledged), -ENOBUFS.
 */
static int tcp_retrans_build(struct tcp_sock *tp, struct pkt *pk, int segs, struct pkt **out)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	unsigned cur_mss;
	int32_t avail;
	uint32_t len;
	int err;

	*out = NULL;
	if (tcp_before(cb->seq, tp->snd_una)) {
		if (cb->tcp_flags & TCP_HDR_SYN) {
			/* the SYN of a SYN-data packet was acknowledged */
			cb->tcp_flags &= ~TCP_HDR_SYN;
			cb->seq++;
		}
		if (tcp_before(cb->seq, tp->snd_una)) {
			if (tcp_before(cb->end_seq, tp->snd_una))
				return -EINVAL;
			if (tcp_trim_head(tp, pk, tp->snd_una - cb->seq))
				return -ENOBUFS;
		}
	}
	if (tcp_route(tp))
		return -EHOSTUNREACH;
	cur_mss = tcp_current_mss(tp);
	avail = (int32_t)(tcp_wnd_end(tp) - cb->seq);
	/* outside a window the peer shrank: only the head goes, as a window probe */
	if (avail <= 0) {
		if (cb->seq != tp->snd_una)
			return -EAGAIN;
		avail = (int32_t)cur_mss;
	}
	len = cur_mss * (uint32_t)(segs > 0 ? segs : 1);
	if (len > (uint32_t)avail) {
		len = (uint32_t)avail / cur_mss * cur_mss;
		if (!len)
			len = (uint32_t)avail;
	}
	if (pk->tot_len > len) {
		if (tcp_fragment(tp, &tp->rtx_queue, pk, len, cur_mss))
			return -ENOBUFS;
	} else {
		if ((uint32_t)avail > cur_mss)
			avail = (int32_t)cur_mss;
		if (pk->tot_len < (uint32_t)avail)
			tcp_retrans_try_collapse(tp, pk, avail);
	}
	tcp_tab(tp)->mib.retrans_segs++;
	tp->total_retrans++;
	tp->bytes_retrans += pk->tot_len;
	*out = tcp_build(tp, pk, true, &err);
	/* even a transmission that did not happen is no clean RTT sample any more */
	cb->sacked |= TCPCB_EVER_RETRANS;
	return *out ? 0 : err;
}

/*
 * The bookkeeping of tcp_retransmit_skb around tcp_retrans_build.
 * Return: as tcp_retrans_build, *out set on success.
 */
static int tcp_retransmit_prep(struct tcp_sock *tp, struct pkt *pk, int segs, struct pkt **out)
{
	int err = tcp_retrans_build(tp, pk, segs, out);

	if (!err) {
		TCP_SKB_CB(pk)->sacked |= TCPCB_SACKED_RETRANS | TCPCB_EVER_RETRANS;
		tp->retrans_out++;
	}
	/* the first (attempted) retransmission */
	if (!tp->retrans_stamp_us)
		tp->retrans_stamp_us = TCP_SKB_CB(pk)->tx_us;
	if (tp->undo_retrans < 0)
		tp->undo_retrans = 0;
	tp->undo_retrans++;
	return err;
}

/*
 * tcp_retransmit_skb - resend rtx packet pk (trimmed of acked bytes, cut to
 * MSS and window or merged with followers), marked SACKED_RETRANS, counted,
 * retrans_stamp_us set on the first.
 * Return: 0, -EAGAIN (outside the window), -EHOSTUNREACH, -EINVAL,
 * -ENOBUFS, -errno of ip4_output.
 */
int tcp_retransmit_skb(struct tcp_sock *tp, struct pkt *pk, int segs)
{
	struct pkt *out;
	int err = tcp_retransmit_prep(tp, pk, segs, &out);

	if (err)
		return err;
	return tcp_ip_send(tp, out);
}

/*
 * tcp_xmit_retransmit_queue - resend lost, not yet resent packets as cwnd
 * allows; resending the head restarts the RTO.  Walks from the head:
 * lost_skb_hint is tcp_ack.c's (no retransmit_skb_hint field here).
 */
void tcp_xmit_retransmit_queue(struct tcp_sock *tp)
{
	struct pkt *pk, *head;
	bool rearm = false;

	if (!tp->packets_out)
		return;
	head = tp->rtx_queue.head;
	for (pk = head; pk; pk = pk->next) {
		uint32_t una = tp->snd_una;
		uint8_t sacked, state = tp->sk.state;
		struct pkt *out;
		int segs;

		segs = (int)tp->snd_cwnd - (int)tcp_packets_in_flight(tp);
		if (segs <= 0)
			break;
		if (tp->retrans_out >= tp->lost_out)
			break;
		sacked = TCP_SKB_CB(pk)->sacked;
		if (!(sacked & TCPCB_LOST))
			continue;
		if (sacked & (TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS))
			continue;
		if (tcp_retransmit_prep(tp, pk, segs, &out))
			break;
		if (tcp_in_cwnd_reduction(tp))
			tp->prr_out++;
		if (pk == head && tp->pending != TCP_TIME_REO)
			rearm = true;
		if (tcp_ip_send(tp, out))
			break;
		/* the peer answered meanwhile (loopback): what the walk holds may be gone */
		if (tp->snd_una != una || tp->sk.state != state)
			break;
	}
	if (rearm && tp->packets_out)
		tcp_reset_xmit_timer(tp, TCP_TIME_RETRANS, tp->rto_us, TCP_RTO_MAX_US);
}

/* tcp_send_loss_probe - TLP fired: new data if the window allows, else the tail again; RTO re-armed. */
void tcp_send_loss_probe(struct tcp_sock *tp)
{
	unsigned mss = tcp_current_mss(tp);
	struct pkt *pk, *out = NULL;

	if (tp->tlp_high_seq)
		goto rearm;
	pk = tcp_send_head(tp);
	if (pk && tcp_snd_wnd_test(tp, pk, mss)) {
		uint32_t pcount = tp->packets_out;

		tcp_write_xmit(tp, mss, TCP_NAGLE_OFF, 2);
		if (tp->packets_out > pcount)
			goto probe_sent;
		goto rearm;
	}
	pk = tp->rtx_queue.tail;
	if (!pk) {
		tp->pending = TCP_TIME_NONE;
		return;
	}
	if (tcp_retrans_build(tp, pk, 1, &out))
		goto rearm;
probe_sent:
	tp->tlp_high_seq = tp->snd_nxt;
	/* so that tcp_rearm_rto counts from now */
	tp->pending = TCP_TIME_NONE;
rearm:
	tcp_rearm_rto(tp);
	if (out)
		tcp_ip_send(tp, out);
}

/* ---- probes ---- */

/*
 * tcp_xmit_probe_skb - a bare ACK with an old sequence number, which the
 * peer must answer: snd_una - 1, or snd_una for the urgent pointer's sake.
 * Return: 0, -ENOBUFS, -errno of sending.
 */
static int tcp_xmit_probe_skb(struct tcp_sock *tp, bool urgent)
{
	struct pkt *pk = pkt_alloc(tp->sk.ns->pools, 0);

	if (!pk)
		return -ENOBUFS;
	tcp_init_nondata(pk, tp->snd_una - (urgent ? 0 : 1), TCP_HDR_ACK);
	return tcp_transmit_skb(tp, pk, false);
}

/*
 * tcp_write_wakeup - window/keepalive probe: new data with PSH if the
 * window has room (how held data leaves on the probe timer), else an ACK
 * at snd_una - 1 (and one at snd_una in urgent mode).
 * Return: 0, -ENOTCONN, -ENOBUFS (local shortage), -errno of sending.
 */
int tcp_write_wakeup(struct tcp_sock *tp)
{
	struct pkt *pk;

	if (tp->sk.state == TCP_CLOSE)
		return -ENOTCONN;
	pk = tcp_send_head(tp);
	if (pk && tcp_before(TCP_SKB_CB(pk)->seq, tcp_wnd_end(tp))) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
		unsigned mss = tcp_current_mss(tp);
		uint32_t seg_size = tcp_wnd_end(tp) - cb->seq;
		struct pkt *out;
		int err;

		if (tcp_before(tp->pushed_seq, cb->end_seq))
			tp->pushed_seq = cb->end_seq;
		/* the window is open but was too small for the sender's SWS avoidance */
		if (seg_size < cb->end_seq - cb->seq || pk->tot_len > mss) {
			if (seg_size > mss)
				seg_size = mss;
			cb->tcp_flags |= TCP_HDR_PSH;
			if (tcp_fragment(tp, &tp->write_queue, pk, seg_size, mss))
				return -ENOBUFS;
		}
		cb->tcp_flags |= TCP_HDR_PSH;
		out = tcp_build(tp, pk, true, &err);
		if (!out)
			return err;
		tcp_event_new_data_sent(tp, pk);
		return tcp_ip_send(tp, out);
	}
	if (tcp_between(tp->snd_up, tp->snd_una + 1, tp->snd_una + 0xFFFF))
		tcp_xmit_probe_skb(tp, true);
	return tcp_xmit_probe_skb(tp, false);
}

/*
 * tcp_send_probe0 - probe timer: probe, stop once data flies or nothing
 * waits, else back off (TCP_RESOURCE_PROBE_INTERVAL after a shortage)
 * within TCP_USER_TIMEOUT.
 */
void tcp_send_probe0(struct tcp_sock *tp)
{
	int err = tcp_write_wakeup(tp);
	uint64_t timeout;

	if (tp->packets_out || !tcp_send_head(tp)) {
		tp->probes_out = 0;
		tp->backoff = 0;
		tp->probes_tstamp_us = 0;
		return;
	}
	if (tp->probes_out < UINT8_MAX)
		tp->probes_out++;
	if (err != -ENOBUFS) {
		if (tp->backoff < tcp_sys(&tp->sk)->retries2)
			tp->backoff++;
		timeout = tcp_probe0_when(tp, TCP_RTO_MAX_US);
	} else {
		/* a local shortage: go easy on local resources */
		timeout = TCP_RESOURCE_PROBE_INTERVAL_US;
	}
	timeout = tcp_clamp_probe0_to_user_timeout(tp, timeout);
	tcp_reset_xmit_timer(tp, TCP_TIME_PROBE0, timeout, TCP_RTO_MAX_US);
}
