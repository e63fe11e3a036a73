/* SPDX-License-Identifier: MIT */
/*
 * tcp_minisocks.c - TCP passive open: request socks, SYN cookies, Fast Open server side, accept queue
 *
 * Theory of operation.  What a listener owns between a SYN and accept():
 * tcp_conn_request answers a SYN with a request sock kept in ehash (its
 * timer resends the SYN-ACK), with a SYN cookie and no state at all, or,
 * for a Fast Open SYN with a good cookie, with a child socket at once;
 * tcp_check_req and tcp_cookie_check turn the handshake's ACK into a
 * child (create_child) on the listener's accept queue; tcp_listen_stop
 * undoes it all when the listener closes.  Request socks come from the
 * table's req_cache as struct tcp_req_ext; the tables, the private tail
 * (SYN cookie keys, the ISN a TIME_WAIT sock hands on) and the chain
 * helpers are tcp_hash.c's, reached through tcp_hash_int.h.  The PAWS and
 * out-of-window rate limit checks for minisocks (request and TIME_WAIT)
 * live here too.
 *
 * Everything runs under the namespace lock; timer callbacks too.  Limits:
 * TCP_MAX_REQ request socks per namespace (beyond that SYNs are dropped).
 * Not kept from Linux: the SYN queue pruning of old requests under load
 * (reqsk_timer_handler's young/old split), tcp metrics' proven peers, the
 * 60 s parking of Fast Open requests that were reset, ECN negotiation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "buf/pkt.h"
#include "ip/ip4.h"
#include "link/link.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_hash_int.h"

#define SYNCOOKIE_PERIOD_NS (60ull * NSEC_PER_SEC)	/* TCP_SYNCOOKIE_PERIOD */
#define MAX_SYNCOOKIE_AGE 2
#define COOKIEBITS 24
#define COOKIEMASK ((1u << COOKIEBITS) - 1)
#define TSBITS 6
#define TS_OPT_WSCALE_MASK 0xfu
#define TS_OPT_SACK 0x10u
#define TCP_PAWS_24DAYS (60ull * 60 * 24 * 24)
#define TCP_PAWS_MSL 60
#define TFO_SERVER_ENABLE 0x2
#define TFO_SERVER_COOKIE_NOT_REQD 0x200
#define TCP_FASTOPEN_COOKIE_SIZE 8
#define TCP_TIMEOUT_INIT_NS ((uint64_t)TCP_TIMEOUT_INIT_US * NSEC_PER_USEC)
#define TCP_RTO_MAX_NS ((uint64_t)TCP_RTO_MAX_US * NSEC_PER_USEC)

/* ---- SYN cookies (syncookies.c) ---- */

static const uint16_t msstab[] = { 536, 1300, 1440, 1460 };

static uint32_t cookie_hash(struct tcp_table *t, uint32_t saddr, uint32_t daddr, uint16_t sport,
			    uint16_t dport, uint32_t count, int c)
{
	uint32_t w[4] = { saddr, daddr, (uint32_t)sport << 16 | dport, count };

	return (uint32_t)tcp_siphash_u32(priv_of(t)->cookie_key[c], w, 4);
}

static inline uint32_t cookie_time(struct netns *ns)
{
	return (uint32_t)(netns_now(ns) / SYNCOOKIE_PERIOD_NS);
}

/*
 * tcp_syncookie_seq - the SYN cookie ISN for a SYN from saddr:sport to
 * daddr:dport (network order) with sequence number seq
 * (__cookie_v4_init_sequence); *mss, the peer's, is rounded down to msstab.
 * Return: hash(tuple) + seq + minute << 24 + (hash(tuple, minute) + MSS index) mod 2^24.
 */
uint32_t tcp_syncookie_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint16_t *mss)
{
	struct tcp_table *t = ns->tcp;
	uint32_t count = cookie_time(ns), mssind;

	for (mssind = 3; mssind; mssind--)
		if (*mss >= msstab[mssind])
			break;
	*mss = msstab[mssind];
	return cookie_hash(t, saddr, daddr, sport, dport, 0, 0) + seq + (count << COOKIEBITS) +
	       ((cookie_hash(t, saddr, daddr, sport, dport, count, 1) + mssind) & COOKIEMASK);
}

/*
 * tcp_syncookie_check - decode the cookie (the ACK's ack - 1) of an ACK
 * from saddr:sport to daddr:dport whose SYN had sequence number seq (the
 * ACK's seq - 1) (__cookie_v4_check).
 * Return: the MSS it encodes, or 0 if it is forged or older than 2 minute ticks.
 */
int tcp_syncookie_check(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t cookie)
{
	struct tcp_table *t = ns->tcp;
	uint32_t count = cookie_time(ns), diff, mssind;

	cookie -= cookie_hash(t, saddr, daddr, sport, dport, 0, 0) + seq;
	diff = (count - (cookie >> COOKIEBITS)) & (0xffffffffu >> COOKIEBITS);
	if (diff >= MAX_SYNCOOKIE_AGE)
		return 0;
	mssind = (cookie - cookie_hash(t, saddr, daddr, sport, dport, count - diff, 1)) & COOKIEMASK;
	return mssind < 4 ? msstab[mssind] : 0;
}

/*
 * cookie_init_timestamp - the SYN-ACK's TSval (ms, before the offset) with
 * wscale and SACK in its low 6 bits, never ahead of the clock.
 */
static uint32_t cookie_init_timestamp(const struct tcp_request_sock *req, uint32_t ts_now)
{
	uint32_t options = req->wscale_ok ? req->snd_wscale : TS_OPT_WSCALE_MASK, ts;

	if (req->sack_ok)
		options |= TS_OPT_SACK;
	ts = ((ts_now >> TSBITS) << TSBITS) | options;
	if ((int32_t)(ts - ts_now) > 0)
		ts -= 1u << TSBITS;
	return ts;
}

/* tcp_synq_overflow / tcp_synq_no_recent_overflow on the listener (ms + 1; 0: never). */
static void synq_overflow(struct tcp_sock *lp)
{
	struct netns *ns = lp->sk.ns;

	lp->ts_recent_stamp = netns_now(ns) / NSEC_PER_MSEC + 1;
	ns->tcp->last_syncookie_overflow_s = now_s(ns);
}

static bool synq_no_recent_overflow(struct tcp_sock *lp)
{
	uint64_t now = netns_now(lp->sk.ns) / NSEC_PER_MSEC + 1, last = lp->ts_recent_stamp;

	if (!last)
		return true;
	return now + 1000 < last ||
	       now > last + MAX_SYNCOOKIE_AGE * (SYNCOOKIE_PERIOD_NS / NSEC_PER_MSEC);
}

/* ---- Fast Open cookies ---- */

/* tcp_fastopen_cookie_gen - the 8-byte cookie for a SYN from saddr (the client) to daddr. */
void tcp_fastopen_cookie_gen(struct netns *ns, uint32_t saddr, uint32_t daddr, uint8_t out[8])
{
	uint32_t w[2] = { saddr, daddr };
	uint64_t v = tcp_siphash_u32(ns->tcp->fastopen_key, w, 2);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));	/* cpu_to_le64 */
}

/* ---- request socks and the accept queue ---- */

static void reqsk_timer_fn(struct timer *tm, void *arg);

static struct tcp_request_sock *reqsk_alloc(struct tcp_sock *lp)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_req_ext *x = arena_cache_alloc(&ns->tcp->req_cache);

	if (!x)
		return NULL;
	x->ns = ns;
	x->req.hn.kind = TCP_HK_REQ;
	x->req.listener = lp;
	timer_init(&x->req.timer, reqsk_timer_fn, &x->req);
	return &x->req;
}

/*
 * tcp_reqsk_free - forget a request sock (reqsk_free / inet_csk_reqsk_queue_drop)
 * Leaves ehash, stops its timer, leaves the listener's SYN queue count.
 * For a Fast Open request (reqsk_fastopen_remove) the child forgets it and
 * the listener's fastopen_qlen drops: tcp_in.c calls this when the child's
 * handshake ends, tcp.c when such a child closes first.
 */
void tcp_reqsk_free(struct tcp_request_sock *req)
{
	if (!req)
		return;
	struct tcp_req_ext *x = req_ext(req);
	struct netns *ns = x->ns;

	netns_timer_cancel(ns, &req->timer);
	tcp_ehash_remove(ns->tcp, &req->hn);
	if (x->counted && req->listener)
		req->listener->syn_qlen--;
	if (req->tfo) {
		if (req->tfo_child && req->tfo_child->fastopen_rsk == req)
			req->tfo_child->fastopen_rsk = NULL;
		if (req->listener && req->listener->fastopen_qlen > 0)
			req->listener->fastopen_qlen--;
	}
	arena_cache_free(&ns->tcp->req_cache, x);
}

/* rtx_synack - inet_rtx_syn_ack + tcp_rtx_synack: no Fast Open cookie the second time. */
static int rtx_synack(struct tcp_request_sock *req)
{
	struct netns *ns = req_ext(req)->ns;
	int r = tcp_send_synack_req(req, NULL, 0);

	if (!r) {
		ns->tcp->mib.retrans_segs++;
		if (req->tfo_child)
			req->tfo_child->total_retrans++;
		req->num_retrans++;
	}
	return r;
}

static uint64_t reqsk_timeout_ns(const struct tcp_request_sock *req)
{
	uint64_t t = req->num_timeout >= 8 ? TCP_RTO_MAX_NS : TCP_TIMEOUT_INIT_NS << req->num_timeout;

	return t < TCP_RTO_MAX_NS ? t : TCP_RTO_MAX_NS;
}

/*
 * reqsk_timer_fn - reqsk_timer_handler: resend the SYN-ACK with a doubling
 * timeout until tcp_synack_retries (or the listener's TCP_SYNCNT) is spent;
 * under TCP_DEFER_ACCEPT a request whose bare ACK came waits quietly until
 * the deferring period nearly ends.  A SYN-ACK that cannot be sent ends
 * the request unless its ACK came.
 */
static void reqsk_timer_fn(struct timer *tm, void *arg)
{
	struct tcp_request_sock *req = arg;
	struct tcp_sock *lp = req->listener;
	struct netns *ns = req_ext(req)->ns;
	int max_retries, defer;
	bool expire, resend;

	(void)tm;
	if (!lp || lp->sk.state != TCP_LISTEN) {
		tcp_reqsk_free(req);
		return;
	}
	max_retries = lp->syn_retries ? lp->syn_retries : ns->tcp->sys.synack_retries;
	defer = lp->defer_accept;
	if (!defer) {
		expire = req->num_timeout >= max_retries;
		resend = true;
	} else {
		expire = req->num_timeout >= max_retries && (!req->acked || req->num_timeout >= defer);
		resend = !req->acked || req->num_timeout >= defer - 1;
	}
	if (!expire && (!resend || !rtx_synack(req) || req->acked)) {
		if (req->num_timeout < 255)
			req->num_timeout++;
		netns_timer_arm(ns, &req->timer, netns_now(ns) + reqsk_timeout_ns(req));
		return;
	}
	tcp_reqsk_free(req);
}

/*
 * tcp_accept_queue_add - queue a child for accept() (inet_csk_reqsk_queue_add);
 * its one reference now belongs to the queue.  Wakes the listener's readers (sk_data_ready).
 */
void tcp_accept_queue_add(struct tcp_sock *lp, struct tcp_sock *child)
{
	child->parent = lp;
	child->acc_next = NULL;
	if (lp->accept_tail)
		lp->accept_tail->acc_next = child;
	else
		lp->accept_head = child;
	lp->accept_tail = child;
	lp->ack_backlog++;
	sk_wake(&lp->sk, POLLIN | POLLRDNORM);
}

/*
 * tcp_accept_queue_pop - the oldest queued child (reqsk_queue_remove)
 * Return: the child with the queue's reference, or NULL if none waits.
 */
struct tcp_sock *tcp_accept_queue_pop(struct tcp_sock *lp)
{
	struct tcp_sock *child = lp->accept_head;

	if (!child)
		return NULL;
	lp->accept_head = child->acc_next;
	if (!lp->accept_head)
		lp->accept_tail = NULL;
	child->acc_next = NULL;
	child->parent = NULL;
	lp->ack_backlog--;
	return child;
}

static inline bool acceptq_is_full(const struct tcp_sock *lp)
{
	return lp->ack_backlog > lp->max_ack_backlog;	/* sk_acceptq_is_full */
}

static uint32_t route_mtu(const struct rt4_result *rt)
{
	return rt->rt && rt->rt->mtu ? rt->rt->mtu : rt->dev ? rt->dev->mtu : 576;
}

/* ipv4_default_advmss + tcp_mss_clamp: the MSS a listener advertises on a path. */
static uint32_t listener_advmss(const struct tcp_sock *lp, uint32_t mtu)
{
	uint32_t mss = mtu > 296 ? mtu - 40 : 256;

	if (mss > 65535 - 40)
		mss = 65535 - 40;
	if (lp->user_mss && lp->user_mss < mss)
		mss = lp->user_mss;
	return mss;
}

/*
 * create_child - tcp_v4_syn_recv_sock + tcp_create_openreq_child: a
 * SYN_RECV socket with the request's negotiated state and the listener's
 * TCP options (sk_clone_lock copies the listener), routed, on the
 * listener's port and in ehash in place of req if req was there.  pk is
 * the segment that completes the handshake (or the Fast Open SYN).
 * Return: the child (one reference), or NULL (accept queue full: counted).
 */
static struct tcp_sock *create_child(struct tcp_sock *lp, struct tcp_request_sock *req,
				     const struct pkt *pk, const struct tcp_repr *th)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	struct sock *csk;
	struct tcp_sock *c;

	if (acceptq_is_full(lp)) {
		t->mib.listen_overflows++;
		t->mib.listen_drops++;
		return NULL;
	}
	if (sock_alloc_child(&lp->sk, &csk)) {
		t->mib.listen_drops++;
		return NULL;
	}
	c = tcp_sk(csk);
	tcp_init_sock(c);
	/* what sk_clone_lock brings along from the listener's tcp_sock */
	c->user_mss = lp->user_mss;
	c->nonagle = lp->nonagle;
	c->keepalive_time_s = lp->keepalive_time_s;
	c->keepalive_intvl_s = lp->keepalive_intvl_s;
	c->keepalive_probes = lp->keepalive_probes;
	c->linger2_s = lp->linger2_s;
	c->syn_retries = lp->syn_retries;
	c->user_timeout_ms = lp->user_timeout_ms;
	c->notsent_lowat = lp->notsent_lowat;
	c->thin_lto = lp->thin_lto;
	c->recvmsg_inq = lp->recvmsg_inq;
	c->save_syn = lp->save_syn;
	c->autocorking = lp->autocorking;
	c->fastopen_connect = lp->fastopen_connect;
	c->fastopen_no_cookie = lp->fastopen_no_cookie;
	c->rto_min_us = lp->rto_min_us;
	/* tcp_ca_openreq_child: a listener's own choice passes on, else the
	 * namespace's default now (tcp_init_sock already read it) */
	if (lp->ca.set_by_user) {
		c->ca.reno = lp->ca.reno;
		c->ca.set_by_user = true;
	}

	/* inet_csk_clone_lock and tcp_v4_syn_recv_sock's addresses */
	csk->state = TCP_SYN_RECV;
	csk->daddr = req->hn.daddr;
	csk->dport = req->hn.dport;
	csk->rcv_saddr = csk->saddr = req->hn.saddr;
	csk->num = ntohs(req->hn.sport);
	csk->sport = req->hn.sport;
	csk->bound_dev_if = req->hn.bound_dev_if;
	c->inet_id = (uint16_t)netns_random(ns);
	c->retransmits = c->backoff = c->probes_out = 0;
	if (tcp_route(c)) {
		csk->num = 0;
		sock_put_locked(csk);
		t->mib.listen_drops++;
		return NULL;
	}

	/* tcp_create_openreq_child */
	uint64_t now_us = tcp_clock_us(ns);
	c->rcv_wup = c->copied_seq = c->rcv_nxt = req->rcv_isn + 1;
	c->segs_in = 1;
	c->snd_una = c->snd_nxt = c->snd_up = req->snt_isn + 1;
	c->snd_wl1 = req->rcv_isn;	/* tcp_init_wl */
	c->ack.lrcvtime_us = now_us;
	c->lsndtime_us = now_us;
	c->total_retrans = req->num_retrans;
	c->write_seq = c->pushed_seq = req->snt_isn + 1;
	c->snd_isn = req->snt_isn;
	c->rcv_isn = req->rcv_isn;
	c->tstamp_ok = req->tstamp_ok;
	c->sack_ok = req->sack_ok;
	c->window_clamp = req->rsk_window_clamp;
	c->rcv_ssthresh = c->rcv_wnd = req->rsk_rcv_wnd;
	c->wscale_ok = req->wscale_ok;
	if (c->wscale_ok) {
		c->snd_wscale = req->snd_wscale;
		c->rcv_wscale = req->rcv_wscale;
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
		if (c->window_clamp > 65535u)
			c->window_clamp = 65535u;
	}
	c->snd_wnd = (uint32_t)th->window << c->snd_wscale;
	c->max_window = c->snd_wnd;
	if (c->tstamp_ok) {
		c->ts_recent = req->ts_recent;
		c->ts_recent_stamp = now_s(ns);
	} else {
		c->ts_recent_stamp = 0;
	}
	if (req->num_timeout) {
		c->undo_marker = req->snt_isn;
		c->retrans_stamp_us = now_us - (uint32_t)((uint32_t)now_us - req->snt_synack_us);
	}
	c->tsoffset = req->ts_off;
	if (pk->tot_len >= TCP_MSS_DEFAULT)
		c->ack.last_seg_size = (uint16_t)(pk->tot_len > 65535 ? 65535 : pk->tot_len);
	c->mss_clamp = req->mss;
	c->fastopen_rsk = NULL;
	c->fastopen_req.active = false;
	if (csk->flags & SKF_KEEPALIVE)
		tcp_reset_keepalive_timer(c, (uint64_t)tcp_keepalive_time(c) * 1000000u);
	t->mib.passive_opens++;

	/* tcp_v4_syn_recv_sock: MSS from the route, the port, ehash */
	uint32_t mtu = route_mtu(&c->dst);
	tcp_sync_mss(c, mtu);
	c->advmss = (uint16_t)listener_advmss(lp, mtu);
	tcp_initialize_rcv_mss(c);
	tcp_hn_from_sock(c);
	tcp_bind_add(t, &c->hn, BIND_INHERIT);	/* __inet_inherit_port */
	if (req->hn.hashed)
		tcp_ehash_replace(t, &req->hn, &c->hn);
	else
		tcp_ehash_insert(t, &c->hn);
	return c;
}

/*
 * child_forget - inet_child_forget: a queued child whose listener goes.
 * tcp_disconnect resets what needs it; the queue's reference becomes the
 * orphan's, which tcp_done drops (tcp_orphan_put).
 */
static void child_forget(struct tcp_sock *c)
{
	struct sock *sk = &c->sk;

	if (c->fastopen_rsk) {
		c->fastopen_rsk->listener = NULL;
		tcp_reqsk_free(c->fastopen_rsk);
	}
	if (sk->state == TCP_CLOSE) {
		sock_put_locked(sk);
		return;
	}
	if (TCPF(sk->state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) | TCPF(TCP_FIN_WAIT1) |
			       TCPF(TCP_FIN_WAIT2) | TCPF(TCP_SYN_RECV)) ||
	    (c->snd_nxt != c->write_seq && (TCPF(sk->state) & (TCPF(TCP_CLOSING) | TCPF(TCP_LAST_ACK))))) {
		tcp_send_active_reset(c);
		sk->err = ECONNRESET;
	}
	c->orphan = true;
	sk->ns->tcp->orphan_count++;
	tcp_done(c);
}

/* ---- SYN processing (tcp_conn_request) ---- */

/* The options of a SYN as tcp_parse_options takes them on a listener (estab 0). */
struct syn_opts {
	uint16_t mss_clamp;
	uint8_t snd_wscale;
	bool wscale_ok, sack_ok, saw_tstamp;
	uint32_t tsval, tsecr;
};

static void parse_syn_opts(const struct tcp_sysctl *sys, const struct tcp_repr *th, uint16_t user_mss,
			   struct syn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mss_clamp = TCP_MSS_DEFAULT;
	if (th->opt.mss) {
		uint16_t in_mss = th->opt.mss;

		if (user_mss && user_mss < in_mss)
			in_mss = user_mss;
		o->mss_clamp = in_mss;
	}
	if (th->opt.has_wscale && sys->window_scaling) {
		o->wscale_ok = true;
		o->snd_wscale = th->opt.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : th->opt.wscale;
	}
	o->sack_ok = th->opt.sack_perm && sys->sack;
	if (th->opt.has_ts && sys->timestamps) {
		o->saw_tstamp = true;
		o->tsval = th->opt.tsval;
		o->tsecr = th->opt.tsecr;
	}
}

/* tcp_openreq_init_rwin: the window the SYN-ACK offers, from the listener's buffer. */
static void openreq_init_rwin(struct tcp_request_sock *req, struct tcp_sock *lp, uint32_t mss)
{
	int full_space = tcp_full_space(&lp->sk);
	uint8_t rcv_wscale = 0;

	req->rsk_window_clamp = lp->window_clamp;
	if ((lp->sk.flags & SKF_RCVBUF_LOCK) &&
	    (req->rsk_window_clamp > (uint32_t)full_space || req->rsk_window_clamp == 0))
		req->rsk_window_clamp = (uint32_t)full_space;
	tcp_select_initial_window(&lp->sk, full_space, mss, &req->rsk_rcv_wnd, &req->rsk_window_clamp,
				  req->wscale_ok, &rcv_wscale, 0);
	req->rcv_wscale = rcv_wscale;
}

/*
 * tfo_add_data - tcp_fastopen_add_skb: the data of a Fast Open SYN goes on
 * the child's receive queue at once.  Return: true if pk was taken.
 */
static bool tfo_add_data(struct tcp_sock *c, struct pkt *pk)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	if (cb->end_seq == c->rcv_nxt || !pk->tot_len)
		return false;
	c->segs_in = 1;
	c->data_segs_in = 1;
	cb->seq++;
	cb->tcp_flags &= (uint16_t)~TCP_HDR_SYN;
	if (!pk->meta.truesize)
		pk->meta.truesize = pkt_kernel_truesize(pk->tot_len);
	pk->next = NULL;
	pkt_queue_push(&c->sk.rcvq, pk);
	c->sk.rmem += pk->meta.truesize;
	c->rcv_nxt = cb->end_seq;
	c->syn_data_acked = true;
	c->bytes_received = pk->tot_len;
	return true;
}

/*
 * try_fastopen - tcp_try_fastopen: with the server side enabled and room
 * in the listener's Fast Open queue, a SYN with data and a valid cookie
 * (or none needed) gets its child at once; a cookie request or a wrong
 * cookie gets the right cookie in *foc for the SYN-ACK.
 * Return: the child (queued data taken: *taken), or NULL.
 */
static struct tcp_sock *try_fastopen(struct tcp_sock *lp, struct tcp_request_sock *req, struct pkt *pk,
				     const struct tcp_repr *th, int8_t *foc_len, uint8_t *foc, bool *taken)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	bool syn_data = cb->end_seq != cb->seq + 1;
	int8_t len = *foc_len, valid_len = -1;
	uint8_t valid[TCP_FASTOPEN_COOKIE_SIZE];
	struct tcp_sock *c;

	*taken = false;
	if (len == 0)
		t->mib.tfo_cookie_reqs++;
	if (!((t->sys.fastopen & TFO_SERVER_ENABLE) && (syn_data || len >= 0) && lp->fastopen_max_qlen > 0 &&
	      lp->fastopen_qlen < lp->fastopen_max_qlen)) {
		*foc_len = -1;
		return NULL;
	}
	if (!(syn_data && ((t->sys.fastopen & TFO_SERVER_COOKIE_NOT_REQD) || lp->fastopen_no_cookie))) {
		if (len < 0)
			goto no_child;
		tcp_fastopen_cookie_gen(ns, pk->meta.saddr, pk->meta.daddr, valid);
		valid_len = TCP_FASTOPEN_COOKIE_SIZE;
		/* a request, or a cookie that fails: the SYN-ACK brings the right one */
		if (len != TCP_FASTOPEN_COOKIE_SIZE || memcmp(foc, valid, sizeof(valid)))
			goto no_child;
	}
	/* tcp_fastopen_create_child */
	c = create_child(lp, req, pk, th);
	if (!c)
		goto no_child;
	lp->fastopen_qlen++;
	c->fastopen_rsk = req;
	c->syn_fastopen_ch = true;	/* tcp_fastopen_create_child: TCPI_OPT_TFO_CHILD */
	req->tfo = true;
	req->tfo_child = c;
	c->snd_wnd = th->window;	/* a SYN's window is never scaled */
	c->max_window = c->snd_wnd;
	tcp_reset_xmit_timer(c, TCP_TIME_RETRANS, TCP_TIMEOUT_INIT_US, TCP_RTO_MAX_US);
	tcp_init_transfer(c);
	c->rcv_nxt = cb->seq + 1;
	*taken = tfo_add_data(c, pk);
	req->rcv_nxt = c->rcv_nxt;
	c->rcv_wup = c->rcv_nxt;
	*foc_len = -1;
	t->mib.tfo_passive++;
	return c;
no_child:
	if (valid_len > 0)
		memcpy(foc, valid, sizeof(valid));
	*foc_len = valid_len;
	return NULL;
}

static bool tw_isn_take(struct tcp_table *t, const struct pkt *pk, const struct tcp_repr *th, uint32_t *isn)
{
	struct tcp_hash_priv *p = priv_of(t);

	if (!p->tw_isn_valid)
		return false;
	p->tw_isn_valid = false;
	if (p->tw_isn_saddr != pk->meta.saddr || p->tw_isn_daddr != pk->meta.daddr ||
	    p->tw_isn_sport != th->sport || p->tw_isn_dport != th->dport ||
	    p->tw_isn_seq != TCP_SKB_CB(pk)->seq)
		return false;
	*isn = p->tw_isn;
	return true;
}

/*
 * tcp_conn_request - a SYN for listener lp (tcp_conn_request); consumes pk.
 * Drops it when the accept queue is full; answers with a SYN cookie when
 * the SYN queue is full (net.ipv4.tcp_syncookies=1) or always (=2), else
 * keeps a request sock in ehash whose timer resends the SYN-ACK; a Fast
 * Open SYN may get its child at once.  For a cookie SYN-ACK req->ts_off
 * is chosen so that tcp_send_synack_req's TSval (tcp_ts_now + ts_off)
 * carries the options (cookie_init_timestamp).
 */
void tcp_conn_request(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	int syncookies = t->sys.syncookies;
	uint32_t isn = 0, local = pk->meta.daddr, peer = pk->meta.saddr;
	bool want_cookie = false, have_isn, taken = false;
	struct tcp_request_sock *req;
	struct syn_opts o;
	int8_t foc_len = -1;
	uint8_t foc[TCP_FASTOPEN_COOKIE_MAX];
	struct rt4_result rt;

	have_isn = tw_isn_take(t, pk, th, &isn);
	/* tcp_v4_conn_request: never answer SYNs sent to broadcast or multicast */
	if ((ntohl(local) >> 28) == 0xe || ip4_addr_type(ns, local) == RT_BROADCAST)
		goto drop;
	if ((syncookies == 2 || lp->syn_qlen > lp->max_ack_backlog) && !have_isn) {
		if (!syncookies)
			goto drop;
		want_cookie = true;
	}
	if (acceptq_is_full(lp)) {
		t->mib.listen_overflows++;
		goto drop;
	}
	req = reqsk_alloc(lp);
	if (!req)
		goto drop;

	parse_syn_opts(&t->sys, th, lp->user_mss, &o);
	if (!want_cookie && th->opt.fastopen) {
		foc_len = th->opt.fastopen_len;
		if (foc_len > 0)
			memcpy(foc, th->opt.fastopen_cookie, (size_t)foc_len);
	}
	if (want_cookie && !o.saw_tstamp)
		o.wscale_ok = o.sack_ok = false, o.snd_wscale = 0;	/* tcp_clear_options */

	/* tcp_openreq_init */
	req->rcv_isn = cb->seq;
	req->rcv_nxt = cb->seq + 1;
	req->mss = o.mss_clamp;
	req->ts_recent = o.saw_tstamp ? o.tsval : 0;
	req->tstamp_ok = o.saw_tstamp;
	req->sack_ok = o.sack_ok;
	req->snd_wscale = o.snd_wscale;
	req->wscale_ok = o.wscale_ok;
	req->hn.saddr = local;
	req->hn.daddr = peer;
	req->hn.sport = th->dport;
	req->hn.dport = th->sport;
	req->hn.bound_dev_if = lp->sk.bound_dev_if;

	if (ip4_route_output(ns, peer, local, req->hn.bound_dev_if, 0, &rt))
		goto drop_and_free;
	if (req->tstamp_ok)
		req->ts_off = tcp_secure_ts_off(ns, local, peer);
	if (!want_cookie && !have_isn) {
		int max_syn_backlog = t->sys.max_syn_backlog;

		/* without syncookies the last quarter of the queue is for proven peers */
		if (!syncookies && max_syn_backlog - lp->syn_qlen < (max_syn_backlog >> 2))
			goto drop_and_free;
		isn = tcp_secure_seq(ns, local, peer, th->dport, th->sport);
	}
	if (want_cookie) {
		uint16_t mss = req->mss;

		synq_overflow(lp);
		t->mib.syncookies_sent++;
		isn = tcp_syncookie_seq(ns, peer, local, th->sport, th->dport, cb->seq, &mss);
		req->mss = mss;
	}
	req->snt_isn = isn;
	openreq_init_rwin(req, lp, listener_advmss(lp, route_mtu(&rt)) - (req->tstamp_ok ? 12u : 0u));

	struct tcp_sock *child = NULL;
	if (!want_cookie)
		child = try_fastopen(lp, req, pk, th, &foc_len, foc, &taken);
	req->snt_synack_us = (uint32_t)tcp_clock_us(ns);
	if (child) {
		tcp_send_synack_req(req, foc_len > 0 ? foc : NULL, foc_len > 0 ? (uint8_t)foc_len : 0);
		if (lp->sk.state != TCP_LISTEN) {
			child_forget(child);
			goto drop_out;
		}
		tcp_accept_queue_add(lp, child);
		if (!taken)
			pkt_free(pk);
		return;
	}
	if (want_cookie) {
		if (req->tstamp_ok) {
			uint32_t now = tcp_ts_now(ns);

			req->ts_off += cookie_init_timestamp(req, now) - now;
		}
		tcp_send_synack_req(req, NULL, 0);
		tcp_reqsk_free(req);
		pkt_free(pk);
		return;
	}
	/* inet_csk_reqsk_queue_hash_add */
	tcp_ehash_insert(t, &req->hn);
	req_ext(req)->counted = true;
	lp->syn_qlen++;
	netns_timer_arm(ns, &req->timer, netns_now(ns) + TCP_TIMEOUT_INIT_NS);
	tcp_send_synack_req(req, foc_len > 0 ? foc : NULL, foc_len > 0 ? (uint8_t)foc_len : 0);
	pkt_free(pk);
	return;

drop_and_free:
	tcp_reqsk_free(req);
drop:
	t->mib.listen_drops++;
	pkt_free(pk);
	return;
drop_out:
	t->mib.listen_drops++;
	if (!taken)
		pkt_free(pk);
}

/* ---- the handshake's ACK (tcp_check_req) ---- */

/* tcp_paws_reject with the given TS.Recent and its age. */
bool tcp_mini_paws_reject(uint32_t ts_recent, uint64_t ts_recent_stamp, uint32_t tsval, bool rst,
			  uint64_t now)
{
	if ((int32_t)(ts_recent - tsval) <= 0)
		return false;
	if (!seconds_after(ts_recent_stamp + TCP_PAWS_24DAYS, now))
		return false;
	if (!ts_recent)
		return false;
	if (rst && !seconds_after(ts_recent_stamp + TCP_PAWS_MSL, now))
		return false;
	return true;
}

/* tcp_oow_rate_limited: at most one dupack per tcp_invalid_ratelimit ms. */
bool tcp_mini_oow_rate_limited(struct netns *ns, const struct pkt *pk, const struct tcp_repr *th,
			       uint32_t *last)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t now = tcp_ts_now(ns) + 1;

	if (cb->seq != cb->end_seq && !(th->flags & TCP_HDR_SYN))
		return false;
	if (*last) {
		int32_t elapsed = (int32_t)(now - *last);

		if (elapsed >= 0 && elapsed < ns->tcp->sys.invalid_ratelimit)
			return true;
	}
	*last = now;
	return false;
}

/* tcp_v4_reqsk_send_ack: ACK for an out-of-window segment of a pending handshake. */
static void reqsk_send_ack(struct tcp_request_sock *req, struct tcp_sock *sk_or_child)
{
	struct netns *ns = req_ext(req)->ns;
	uint32_t seq = sk_or_child ? sk_or_child->snd_nxt : req->snt_isn + 1;
	uint32_t win = req->rsk_rcv_wnd < 65535u ? req->rsk_rcv_wnd : 65535u;

	tcp_v4_send_ack(ns, req->hn.saddr, req->hn.daddr, req->hn.sport, req->hn.dport, seq, req->rcv_nxt,
			win >> req->rcv_wscale, req->tstamp_ok ? tcp_ts_now(ns) + req->ts_off : 0,
			req->tstamp_ok ? req->ts_recent : 0, req->hn.bound_dev_if, 0);
}

/*
 * tcp_check_req - a segment for a pending handshake (tcp_check_req);
 * pk is consumed when NULL is returned.  A retransmitted SYN gets the SYN-ACK again; an ACK that does not ack
 * our SYN gets a RST; out of window gets an ACK; RST or SYN ends the
 * request (SYN: with a RST).  The handshake's ACK creates the child, puts
 * it on the listener's accept queue in SYN_RECV and returns it: the
 * caller runs tcp_rcv_state_process(child, pk, th).  Under
 * TCP_DEFER_ACCEPT a bare ACK is dropped and remembered.  If the accept
 * queue is full the ACK is dropped (the SYN-ACK timer keeps the request)
 * or, with tcp_abort_on_overflow, answered by a RST.  For a Fast Open
 * request the checks run against its child, which is returned if pk is
 * to be processed.
 * Return: the child, or NULL.
 */
struct tcp_sock *tcp_check_req(struct tcp_request_sock *req, struct pkt *pk, const struct tcp_repr *th)
{
	struct tcp_req_ext *x = req_ext(req);
	struct netns *ns = x->ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	struct tcp_sock *lp = req->listener, *child;
	uint16_t flg = th->flags & (TCP_HDR_RST | TCP_HDR_SYN | TCP_HDR_ACK);
	bool fastopen = req->tfo, paws = false, saw_tstamp = false;
	uint32_t tsval = 0;

	if (!fastopen && (!lp || lp->sk.state != TCP_LISTEN)) {
		/* the listener went: the kernel looks again and finds nobody */
		tcp_reqsk_free(req);
		if (!(th->flags & TCP_HDR_RST))
			tcp_v4_send_reset(ns, pk, th, pk->tot_len);
		goto drop;
	}
	if (th->doff > 5 && th->opt.has_ts && t->sys.timestamps) {
		uint64_t stamp, now = now_s(ns);

		saw_tstamp = true;
		tsval = th->opt.tsval;
		stamp = now - ((TCP_TIMEOUT_INIT_US / 1000000u) << (req->num_timeout > 30 ? 30 : req->num_timeout));
		paws = tcp_mini_paws_reject(req->ts_recent, stamp, tsval, th->flags & TCP_HDR_RST, now);
	}

	/* a pure retransmitted SYN: the SYN-ACK again, timer restarted */
	if (cb->seq == req->rcv_isn && flg == TCP_HDR_SYN && !paws) {
		if (!tcp_mini_oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms) && !rtx_synack(req) && !fastopen &&
		    timer_pending(&req->timer))
			netns_timer_arm(ns, &req->timer, netns_now(ns) + reqsk_timeout_ns(req));
		goto drop;
	}
	/* an ACK of something we did not send: RST from the listener */
	if ((flg & TCP_HDR_ACK) && !fastopen && cb->ack_seq != req->snt_isn + 1) {
		tcp_v4_send_reset(ns, pk, th, pk->tot_len);
		goto drop;
	}
	/* the window the SYN-ACK offered, unscaled (tcp_synack_window) */
	if (paws || !in_window(cb->seq, cb->end_seq, req->rcv_nxt,
			       req->rcv_nxt + (req->rsk_rcv_wnd < 65535u ? req->rsk_rcv_wnd : 65535u))) {
		if (!(flg & TCP_HDR_RST) && !tcp_mini_oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms))
			reqsk_send_ack(req, fastopen ? req->tfo_child : NULL);
		goto drop;
	}
	if (saw_tstamp && !tcp_after(cb->seq, req->rcv_nxt))
		req->ts_recent = tsval;
	if (cb->seq == req->rcv_isn)
		flg &= (uint16_t)~TCP_HDR_SYN;	/* the SYN is left of the window */
	if (flg & (TCP_HDR_RST | TCP_HDR_SYN)) {
		t->mib.attempt_fails++;
		goto embryonic_reset;
	}
	if (!(flg & TCP_HDR_ACK))
		goto drop;
	if (fastopen)
		return req->tfo_child;
	if (req->num_timeout < lp->defer_accept && cb->end_seq == req->rcv_isn + 1) {
		req->acked = true;
		goto drop;
	}
	child = create_child(lp, req, pk, th);
	if (!child) {
		if (!t->sys.abort_on_overflow) {
			req->acked = true;
			goto drop;
		}
		goto embryonic_reset;
	}
	if (!req->num_retrans && req->snt_synack_us)
		tcp_synack_rtt_meas(child, (uint32_t)tcp_clock_us(ns) - req->snt_synack_us);
	tcp_reqsk_free(req);
	tcp_accept_queue_add(lp, child);
	return child;

embryonic_reset:
	if (!(flg & TCP_HDR_RST)) {
		tcp_v4_send_reset(ns, pk, th, pk->tot_len);
	} else if (fastopen) {
		struct tcp_sock *c = req->tfo_child;

		tcp_reqsk_free(req);
		if (c)
			tcp_reset(c);
	}
	if (!fastopen)
		tcp_reqsk_free(req);
drop:
	pkt_free(pk);
	return NULL;
}

/*
 * tcp_cookie_check - a bare ACK to a listener that may answer a SYN cookie
 * (cookie_v4_check); pk is not consumed.  Only while the listener's SYN queue overflowed in the last two minutes
 * (or syncookies=2 made it send cookies).  The cookie gives the MSS; the
 * echoed timestamp gives window scaling and SACK; the child is built as
 * tcp_check_req builds it and queued for accept.
 * Return: the child, or NULL (no valid cookie, queue full, no memory).
 */
struct tcp_sock *tcp_cookie_check(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t cookie = cb->ack_seq - 1, local = pk->meta.daddr, peer = pk->meta.saddr, tsoff = 0;
	bool saw_tstamp, wscale_ok = false, sack_ok = false;
	uint8_t snd_wscale = 0;
	struct tcp_request_sock *req;
	struct tcp_sock *child;
	struct rt4_result rt;
	int mss;

	if (!t->sys.syncookies || !(th->flags & TCP_HDR_ACK) || (th->flags & (TCP_HDR_RST | TCP_HDR_SYN)))
		return NULL;
	if (synq_no_recent_overflow(lp))
		return NULL;
	mss = tcp_syncookie_check(ns, peer, local, th->sport, th->dport, cb->seq - 1, cookie);
	if (!mss) {
		t->mib.syncookies_failed++;
		return NULL;
	}
	t->mib.syncookies_recv++;

	/* cookie_timestamp_decode */
	saw_tstamp = th->opt.has_ts && t->sys.timestamps;
	if (saw_tstamp) {
		uint32_t tsecr = th->opt.tsecr;

		if (tsecr) {
			tsoff = tcp_secure_ts_off(ns, local, peer);
			tsecr -= tsoff;
		}
		sack_ok = tsecr & TS_OPT_SACK;
		if (sack_ok && !t->sys.sack)
			return NULL;
		if ((tsecr & TS_OPT_WSCALE_MASK) != TS_OPT_WSCALE_MASK) {
			wscale_ok = true;
			snd_wscale = tsecr & TS_OPT_WSCALE_MASK;
			if (!t->sys.window_scaling)
				return NULL;
		}
	}
	req = reqsk_alloc(lp);
	if (!req)
		return NULL;
	req->rcv_isn = cb->seq - 1;
	req->rcv_nxt = cb->seq;
	req->snt_isn = cookie;
	req->mss = (uint16_t)mss;
	req->hn.saddr = local;
	req->hn.daddr = peer;
	req->hn.sport = th->dport;
	req->hn.dport = th->sport;
	req->hn.bound_dev_if = lp->sk.bound_dev_if;
	req->snd_wscale = snd_wscale;
	req->sack_ok = sack_ok;
	req->wscale_ok = wscale_ok;
	req->tstamp_ok = saw_tstamp;
	req->ts_recent = saw_tstamp ? th->opt.tsval : 0;
	if (ip4_route_output(ns, peer, local, req->hn.bound_dev_if, 0, &rt)) {
		tcp_reqsk_free(req);
		return NULL;
	}
	/* try to redo what tcp_v4_send_synack did: the MSS as decoded, not less timestamps */
	openreq_init_rwin(req, lp, req->mss);
	child = create_child(lp, req, pk, th);
	if (child) {
		child->tsoffset = tsoff;
		tcp_accept_queue_add(lp, child);
	}
	tcp_reqsk_free(req);
	return child;
}

/*
 * tcp_listen_stop - listener lp, already out of LISTEN, closes
 * (inet_csk_listen_stop).  Queued children are reset (tcp_disconnect) and closed; request socks of
 * the listener are freed, and Fast Open requests of children already
 * accepted forget it.
 */
void tcp_listen_stop(struct tcp_sock *lp)
{
	struct tcp_table *t = lp->sk.ns->tcp;
	struct tcp_sock *c;

	while ((c = tcp_accept_queue_pop(lp)) != NULL)
		child_forget(c);
	if (!lp->syn_qlen && !lp->fastopen_qlen)
		return;
	for (unsigned i = 0; i < TCP_EHASH_SIZE; i++) {
		struct tcp_hnode *h = t->ehash[i], *next;

		for (; h; h = next) {
			next = h->next;
			if (h->kind == TCP_HK_REQ) {
				struct tcp_request_sock *req = (struct tcp_request_sock *)(void *)h;

				if (req->listener == lp)
					tcp_reqsk_free(req);
			} else if (h->kind == TCP_HK_SOCK) {
				struct tcp_request_sock *req = hn_sock(h)->fastopen_rsk;

				if (req && req->listener == lp)
					req->listener = NULL;
			}
		}
	}
	lp->syn_qlen = 0;
	lp->fastopen_qlen = 0;
}

