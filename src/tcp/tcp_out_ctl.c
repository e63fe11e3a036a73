/* SPDX-License-Identifier: MIT */
/*
 * tcp_out_ctl.c - TCP control segments: FIN, RST, ACKs, SYN and SYN-ACK, stateless replies, probes
 *
 * Theory of operation.  The rest of net/ipv4/tcp_output.c plus
 * tcp_ipv4.c's replies: FIN and the active RST; the bare ACK, the delayed
 * ACK's deadline and RFC 5961 challenge ACKs; the stateless RST and ACK
 * (no socket, or a request or TIME_WAIT sock) and a request sock's
 * SYN-ACK; the active open's SYN (Fast Open data included); zero-window
 * and keepalive probes.  No state of its own: all is in struct tcp_sock,
 * the request sock and the packets' tcp_skb_cb.  Segments are built and
 * sent by tcp_out.c (tcp_build, tcp_ip_send, tcp_push_header, through
 * tcp_out_int.h) and follow its rule: state first, wire last, because
 * over loopback the peer answers before ip4_output returns.
 *
 * Limits.  Left out: the growing back-off of an ACK that found no memory
 * (icsk_ack.retry), ECN, MD5.
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

#define TCP_ATO_MAX_US 500000u		/* HZ / 2: the longest delayed ACK of a bulk receiver */
#define TFO_CLIENT_NO_COOKIE 0x4	/* net.ipv4.tcp_fastopen: client data without a cookie */
#define TCP_MAX_TCP_HEADER 256u		/* the head room the kernel's control skbs have */
#define TCP_INET_ECN_MASK 3

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
