/* SPDX-License-Identifier: MIT */
/*
 * tcp_out.c - TCP output: data segments, MSS, windows, Nagle/cork, retransmission
 *
 * Theory of operation.  net/ipv4/tcp_output.c's data path: the header and
 * options of every segment a connection sends and its handing to
 * ip4_output (tcp_build, tcp_ip_send, also for tcp_out_ctl.c's control
 * segments); the receive window offered and the send MSS; what of the
 * write queue may leave now (cwnd, peer window, Nagle, TCP_CORK,
 * MSG_MORE) and its move to the rtx queue; retransmission of one packet
 * or of those marked lost; the tail-loss probe.  Control segments (FIN,
 * RST, ACKs, SYN, SYN-ACK, stateless replies, window probes) are
 * tcp_out_ctl.c's.  No state of its own: all is in struct tcp_sock
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
 * of an application-limited cwnd, the still-in-host-queue test of
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
#include "tcp/tcp_out_int.h"


#define TCP_SACK_BASE_ALIGNED 4u
#define TCP_SACK_PERBLOCK 8u
#define TCP_IPV4_HLEN 20u
#define TCP_MIN_ADVMSS 256u		/* ip_rt_min_advmss */
#define TCP_IP_MAX_MTU 0xffffu		/* IP_MAX_MTU */
#define TCP_TIMEOUT_MIN_US 2000u	/* TCP_TIMEOUT_MIN: two jiffies */
/* payloads up to this many bytes are copied into the clone instead of viewed */
#define TCP_XMIT_COPY_MAX 256u

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

/* The path MTU of a route (ipv4_mtu: at most IP_MAX_MTU). */
uint32_t tcp_rt_mtu(const struct rt4_result *rt)
{
	uint32_t mtu = rt->rt && rt->rt->mtu ? rt->rt->mtu : rt->dev->mtu;

	return mtu < TCP_IP_MAX_MTU ? mtu : TCP_IP_MAX_MTU;
}

/* ipv4_default_advmss: the MTU less 40, within [256, 65495]. */
uint32_t tcp_rt_advmss(const struct rt4_result *rt)
{
	uint32_t mtu = tcp_rt_mtu(rt);
	uint32_t adv = mtu >= TCP_IPV4_HLEN + TCP_HLEN + TCP_MIN_ADVMSS ? mtu - TCP_IPV4_HLEN - TCP_HLEN
									 : TCP_MIN_ADVMSS;

	return adv < TCP_IP_MAX_MTU - 40u ? adv : TCP_IP_MAX_MTU - 40u;
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
int tcp_mtu_to_mss_base(const struct tcp_sock *tp, uint32_t pmtu)
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

unsigned tcp_sync_mss_hdr(struct tcp_sock *tp, uint32_t pmtu, unsigned hdrlen)
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
void tcp_initialize_rcv_mss(struct tcp_sock *tp)
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
 * SYN-ACK: space (clamped) rounded down to mss, at most init_rcv_wnd
 * segments if given; the scale fits the largest buffer the socket may
 * reach, max(tcp_rmem[2], rmem_max), within the clamp.  rcv_wnd is not
 * capped at 64 KB (Linux dropped that cap, tcp_select_initial_window
 * without tcp_workaround_signed_windows): the SYN's unscaled field says
 * at most 65535 (the callers clamp it), but the first scaled window,
 * e.g. the handshake's final ACK, offers the whole space.
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
	*rcv_wnd = sp;
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
int tcp_push_header(struct pkt *pk, const struct tcp_repr *r, uint32_t saddr, uint32_t daddr,
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
struct pkt *tcp_build(struct tcp_sock *tp, struct pkt *pk, bool clone_it, int *errp)
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
		/* tcp_rate_skb_sent's tx.delivered, for RACK's reo_wnd rounds */
		tcb->ack_seq = tp->delivered;
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
int tcp_ip_send(struct tcp_sock *tp, struct pkt *out)
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

	ncb = TCP_SKB_CB(buff);		/* a copy of pk's: tx times, tx.delivered */
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
			tcp_schedule_loss_probe(tp, false);
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
 * buffer (what tcp_fragment cut off), are taken back by growing that piece:
 * the same memory, which nobody writes while a view shares it
 * (writable_tailroom in tcp_send.c).  The rest is chained on without a
 * copy, or copied into one fresh piece when chaining it would make a
 * reference cycle (tcp_pieces_reach).
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

/*
 * tcp_send_loss_probe - TLP fired (RFC 8985 7.3, tcp_send_loss_probe): new
 * data if the window allows, else the last MSS of the tail again (its own
 * packet: split off if the tail grew longer); one probe per episode
 * (tlp_high_seq), tlp_retrans says whether old data went.  The RTO is
 * re-armed from now.
 */
void tcp_send_loss_probe(struct tcp_sock *tp)
{
	unsigned mss = tcp_current_mss(tp);
	struct pkt *pk, *out = NULL;

	if (tp->tlp_high_seq)
		goto rearm;
	tp->tlp_retrans = false;
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
	if (pk->tot_len > mss) {
		if (tcp_fragment(tp, &tp->rtx_queue, pk, (pk->tot_len - 1) / mss * mss, mss))
			goto rearm;
		pk = pk->next;
	}
	if (tcp_retrans_build(tp, pk, 1, &out))
		goto rearm;
	tp->tlp_retrans = true;
probe_sent:
	tp->tlp_high_seq = tp->snd_nxt;
	/* so that tcp_rearm_rto counts from now */
	tp->pending = TCP_TIME_NONE;
rearm:
	tcp_rearm_rto(tp);
	if (out)
		tcp_ip_send(tp, out);
}
