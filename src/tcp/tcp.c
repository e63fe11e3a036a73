/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - TCP socket calls: create, bind, connect, listen, accept, close, shutdown, poll, ioctl
 *
 * Theory of operation.  This file is the kernel's af_inet.c stream half
 * (inet_stream_connect, inet_listen, inet_accept, inet_getname,
 * inet_shutdown, inet_bind) and the socket-facing parts of tcp.c and
 * tcp_ipv4.c (tcp_close, tcp_disconnect, tcp_poll, tcp_ioctl,
 * tcp_set_state, tcp_done, tcp_v4_connect, tcp_init_sock).  It owns two
 * pieces of state the rest of TCP does not touch:
 *
 *  - tp->ss_state, the kernel's struct socket state (SS_UNCONNECTED,
 *    SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING).  It is separate from
 *    the TCP state on purpose: it is what makes the first connect() after a
 *    non-blocking one succeed once and the next say EISCONN, a refused
 *    non-blocking connect report its error (or ECONNABORTED) on the next
 *    connect(), and listen() refuse a socket that ever started connecting.
 *  - the life of a connection after close(): the descriptor goes, but the
 *    connection keeps one reference (tp->orphan) until it reaches CLOSE;
 *    tcp_done drops it (tcp_orphan_put), which frees the socket.
 *
 * The order of every check copies the kernel's, because that order is
 * what decides the errno a program sees when several things are wrong.
 * All calls run under the namespace lock except tcp_poll, which reads the
 * fields it needs once each, without the lock, as the kernel's tcp_poll
 * does (READ_ONCE): a poll racing a state change may see the old or the
 * new state, never a torn value.  Blocking calls (connect, accept, close
 * with SO_LINGER) sleep in sk_wait, which drops the lock, and re-check the
 * state afterwards; they stop at SO_SNDTIMEO/SO_RCVTIMEO/linger time and on
 * signals as sk_wait_event does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/usercopy.h"
#include "ip/inet_bind.h"
#include "sock/sock_internal.h"
#include "tcp/tcp.h"

/* lockless reads and the state store tcp_poll pairs with (READ_ONCE, inet_sk_state_store) */
#define TCP_READ(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* TCP_MSS_DEFAULT (536) comes from <netinet/tcp.h> */
#define TCP_MIN_ADVMSS 256u		/* ip_rt_min_advmss */
#define TCP_IPV4_HDRS 40u		/* IPv4 + TCP headers without options */
#define TFO_CLIENT_NO_COOKIE 0x4
#define TFO_SERVER_ENABLE 0x2
#define TFO_SERVER_WO_SOCKOPT1 0x400
#define SHUTDOWN_MASK (RCV_SHUTDOWN | SEND_SHUTDOWN)
/* what sk_state_change (sock_def_wakeup) wakes: everyone */
#define TCP_WAKE_ALL (POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLRDBAND | \
		      POLLWRNORM | POLLWRBAND | POLLRDHUP)

/* hn mirrors the socket's identity for the tables in tcp_hash.c; only while unhashed */
static void tcp_sync_hn(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;

	tp->hn.kind = TCP_HK_SOCK;
	tp->hn.saddr = sk->rcv_saddr;
	tp->hn.daddr = sk->daddr;
	tp->hn.sport = sk->sport;
	tp->hn.dport = sk->dport;
	tp->hn.bound_dev_if = sk->bound_dev_if;
}

/* ---------------------------------------------------------------- state */

void tcp_state_change(struct tcp_sock *tp)
{
	sk_wake(&tp->sk, TCP_WAKE_ALL);
}

/*
 * tcp_set_state - as the kernel's: leaving for CLOSE unhashes the socket
 * and gives back a port it did not bind explicitly (inet_put_port keeps
 * sk->sport, so getsockname still shows it).  The state is stored last,
 * after the tables no longer hold the socket, and with release order for
 * the lockless tcp_poll.
 */
void tcp_set_state(struct tcp_sock *tp, int state)
{
	struct sock *sk = &tp->sk;
	int old = sk->state;

	if (state == TCP_CLOSE) {
		if (old == TCP_CLOSE_WAIT || old == TCP_ESTABLISHED)
			tcp_table(sk->ns)->mib.estab_resets++;
		if (tp->hn.hashed)
			tcp_unhash(tp);
		if (tp->hn.bound && !sk->bind_port_locked)
			tcp_put_port(tp);
	}
	__atomic_store_n(&sk->state, (uint8_t)state, __ATOMIC_RELEASE);
}

/* Next state and whether a FIN goes out when the user closes (tcp_close_state's table). */
#define TCP_ACTION_FIN 0x80
static const uint8_t tcp_close_next[16] = {
	[0] = TCP_CLOSE,
	[TCP_ESTABLISHED] = TCP_FIN_WAIT1 | TCP_ACTION_FIN,
	[TCP_SYN_SENT] = TCP_CLOSE,
	[TCP_SYN_RECV] = TCP_FIN_WAIT1 | TCP_ACTION_FIN,
	[TCP_FIN_WAIT1] = TCP_FIN_WAIT1,
	[TCP_FIN_WAIT2] = TCP_FIN_WAIT2,
	[TCP_TIME_WAIT] = TCP_CLOSE,
	[TCP_CLOSE] = TCP_CLOSE,
	[TCP_CLOSE_WAIT] = TCP_LAST_ACK | TCP_ACTION_FIN,
	[TCP_LAST_ACK] = TCP_LAST_ACK,
	[TCP_LISTEN] = TCP_CLOSE,
	[TCP_CLOSING] = TCP_CLOSING,
};

/* tcp_close_state - move to the closing state. Return: true if a FIN must be sent. */
static bool tcp_close_state(struct tcp_sock *tp)
{
	uint8_t next = tcp_close_next[tp->sk.state & 15];

	tcp_set_state(tp, next & 0x7f);
	return next & TCP_ACTION_FIN;
}

/* reqsk_fastopen_remove as tcp_done and tcp_close use it: the child no longer waits for its handshake */
static void tcp_fastopen_forget(struct tcp_sock *tp)
{
	struct tcp_request_sock *req = tp->fastopen_rsk;

	tp->fastopen_rsk = NULL;
	tcp_reqsk_free(req);
}

void tcp_orphan_put(struct tcp_sock *tp)
{
	if (!tp->orphan)
		return;
	tp->orphan = false;
	tcp_table(tp->sk.ns)->orphan_count--;
	sock_put_locked(&tp->sk);
}

/*
 * tcp_done - the connection is over: CLOSE, timers off, both directions
 * shut, and either wake the owner or, for a closed descriptor, drop the
 * connection's reference (inet_csk_destroy_sock), which may free tp: the
 * caller must not touch it afterwards.
 */
void tcp_done(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;

	if (sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV)
		tcp_table(sk->ns)->mib.attempt_fails++;
	tcp_set_state(tp, TCP_CLOSE);
	tcp_clear_xmit_timers(tp);
	tcp_fastopen_forget(tp);
	__atomic_store_n(&sk->shutdown, (uint8_t)SHUTDOWN_MASK, __ATOMIC_RELAXED);
	if (!tp->orphan)
		tcp_state_change(tp);
	else
		tcp_orphan_put(tp);
}

void tcp_write_queue_purge(struct tcp_sock *tp)
{
	struct pkt *pk;

	while ((pk = pkt_queue_pop(&tp->write_queue)))
		tcp_wmem_free_pkt(tp, pk);
	while ((pk = pkt_queue_pop(&tp->rtx_queue)))
		tcp_wmem_free_pkt(tp, pk);
	tp->lost_skb_hint = NULL;
	tp->packets_out = 0;
	tp->backoff = 0;
}

/* Free a receive-side queue and give its charge back to sk->rmem. */
static void tcp_rqueue_purge(struct tcp_sock *tp, struct pkt_queue *q)
{
	uint32_t bytes = q->bytes;

	pkt_queue_purge(q);
	tp->sk.rmem = tp->sk.rmem > bytes ? tp->sk.rmem - bytes : 0;
}

/*
 * Empty the receive queue on close.  Return: the data bytes that were
 * never read, counted as __tcp_close does: whole segments still queued
 * (a partly read one counts whole), a FIN not.
 */
static uint32_t tcp_rcvq_drop(struct tcp_sock *tp)
{
	uint32_t unread = 0;

	for (struct pkt *pk = tp->sk.rcvq.head; pk; pk = pk->next) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
		uint32_t len = cb->end_seq - cb->seq;

		if ((cb->tcp_flags & TCP_HDR_FIN) && len)
			len--;
		unread += len;
	}
	tcp_rqueue_purge(tp, &tp->sk.rcvq);
	return unread;
}

/* The states in which an abort must tell the peer (tcp_need_reset). */
static bool tcp_need_reset(int state)
{
	return TCPF(state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) | TCPF(TCP_FIN_WAIT1) |
			      TCPF(TCP_FIN_WAIT2) | TCPF(TCP_SYN_RECV));
}

/*
 * tcp_disconnect - RFC 793's ABORT and back to a fresh CLOSE socket that
 * keeps its bound address and port if they were bound explicitly, as the
 * kernel's tcp_disconnect.  Quirks kept: write_seq moves past anything
 * the old connection could have used (the next connect reuses it as ISN
 * instead of a fresh secure one), TCP_MAXSEG is forgotten with the rest of
 * rx_opt, the peer sees RST only from states that need one.
 * Return: 0 (the kernel's never fails).
 */
int tcp_disconnect(struct tcp_sock *tp, int flags)
{
	struct sock *sk = &tp->sk;
	int old = sk->state;
	uint32_t seq;
	bool reno;

	(void)flags;
	if (old != TCP_CLOSE)
		tcp_set_state(tp, TCP_CLOSE);
	if (old == TCP_LISTEN) {
		tcp_listen_stop(tp);
	} else if (tp->repair) {
		sk->err = ECONNABORTED;
	} else if (tcp_need_reset(old) ||
		   (tp->snd_nxt != tp->write_seq &&
		    (TCPF(old) & (TCPF(TCP_CLOSING) | TCPF(TCP_LAST_ACK))))) {
		tcp_send_active_reset(tp);
		sk->err = ECONNRESET;
	} else if (old == TCP_SYN_SENT) {
		sk->err = ECONNRESET;
	}

	tcp_clear_xmit_timers(tp);
	tcp_rqueue_purge(tp, &sk->rcvq);
	tp->copied_seq = tp->rcv_nxt;
	tp->urg_data = 0;
	tcp_write_queue_purge(tp);
	tcp_rqueue_purge(tp, &tp->ofo_queue);

	sk->dport = 0;	/* the kernel keeps inet_daddr */
	if (!sk->bind_addr_locked)
		sk->saddr = sk->rcv_saddr = 0;
	sk->shutdown = 0;
	tp->srtt_us = 0;
	tp->mdev_us = TCP_TIMEOUT_INIT_US;

	seq = tp->write_seq + tp->max_window + 2;
	tp->write_seq = seq ? seq : 1;

	tp->backoff = 0;
	tp->probes_out = 0;
	tp->probes_tstamp_us = 0;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->rto_min_us = tcp_sys(sk)->rto_min_us > 0 ? (uint32_t)tcp_sys(sk)->rto_min_us
						      : TCP_RTO_MIN_US;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_cwnd_cnt = 0;
	tp->is_cwnd_limited = false;
	tp->max_packets_out = 0;
	tp->window_clamp = 0;
	tp->delivered = 0;
	/* the algorithm's private state starts over; the choice of algorithm stays */
	reno = tp->ca.reno;
	memset(&tp->ca, 0, sizeof(tp->ca));
	tp->ca.reno = reno;
	tp->ca_state = TCP_CA_Open;
	tcp_clear_retrans(tp);
	tp->total_retrans = 0;
	memset(&tp->ack, 0, sizeof(tp->ack));
	tp->ack.rcv_mss = TCP_MIN_MSS;	/* no division by 0 in __tcp_select_window */

	/* memset(&tp->rx_opt, 0) */
	tp->saw_tstamp = tp->tstamp_ok = tp->sack_ok = tp->wscale_ok = false;
	tp->snd_wscale = tp->rcv_wscale = 0;
	tp->rcv_tsval = tp->rcv_tsecr = 0;
	tp->ts_recent = 0;
	tp->ts_recent_stamp = 0;
	tp->num_sacks = 0;
	tp->dsack = false;
	tp->user_mss = 0;
	tp->mss_clamp = 0;

	memset(&tp->dst, 0, sizeof(tp->dst));	/* __sk_dst_reset */
	tp->dst_genid = 0;
	tp->segs_in = tp->segs_out = 0;
	tp->bytes_sent = tp->bytes_acked = tp->bytes_received = tp->bytes_retrans = 0;
	tp->data_segs_in = tp->data_segs_out = 0;
	memset(tp->duplicate_sack, 0, sizeof(tp->duplicate_sack));
	tp->dsack_dups = 0;
	tp->retrans_out = tp->sacked_out = 0;
	tp->tlp_high_seq = 0;
	tp->reord_seen = 0;
	memset(&tp->rack, 0, sizeof(tp->rack));
	tp->rack.reo_wnd_steps = 1;
	tp->app_limited = ~0u;	/* a bubble in the pipe until the first ACK */
	tp->syn_data_acked = false;
	tp->rcv_ooopack = 0;
	tp->done = false;	/* sock_reset_flag(SOCK_DONE) */

	memset(&tp->fastopen_req, 0, sizeof(tp->fastopen_req));	/* tcp_free_fastopen_req */
	tp->defer_connect = false;
	tcp_sync_hn(tp);

	sk_wake(sk, POLLERR);	/* sk_error_report */
	return 0;
}

/* ------------------------------------------------------------- creation */

/*
 * tcp_init_sock - protocol defaults (tcp_init_sock).  Buffers and the IP
 * level defaults are set by the .init op only: a child made by tcp_hash.c
 * keeps what it copied from its listener, as sk_clone_lock's copy does.
 */
void tcp_init_sock(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	const struct tcp_sysctl *sys = tcp_sys(sk);

	pkt_queue_init(&tp->write_queue);
	pkt_queue_init(&tp->rtx_queue);
	pkt_queue_init(&tp->ofo_queue);
	tcp_init_xmit_timers(tp);

	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->rto_min_us = sys->rto_min_us > 0 ? (uint32_t)sys->rto_min_us : TCP_RTO_MIN_US;
	tp->mdev_us = TCP_TIMEOUT_INIT_US;
	tp->rtt_min_us = ~0u;
	/* ten segments: peers that count the SYN in their ACK clocking need the slack */
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->app_limited = ~0u;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->snd_cwnd_clamp = ~0u;
	tp->mss_cache = TCP_MSS_DEFAULT;
	tp->reordering = sys->reordering > 0 ? (uint32_t)sys->reordering : 3;
	tp->tsoffset = 0;
	tp->rack.reo_wnd_steps = 1;
	tp->autocorking = sys->autocorking != 0;
	tp->hn.kind = TCP_HK_SOCK;
	/* the namespace's default algorithm when the socket is made (tcp_assign_congestion_control) */
	tp->ca.reno = strcmp(sys->congestion_control, "reno") == 0;
	tcp_ca_init(tp);
	sk->state = TCP_CLOSE;
}

/* inet_create + tcp_init_sock for a socket made by socket(2). */
static int tcp_init_op(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_sysctl *sys = tcp_sys(sk);

	sk->pmtudisc = sk->ns->sys.ip_no_pmtu_disc ? IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	sk->mc_ttl = 1;
	tcp_init_sock(tp);
	/* Linux 6.x: sk_sndbuf/sk_rcvbuf from tcp_wmem[1]/tcp_rmem[1], not doubled */
	sk->sndbuf = sys->wmem[1];
	sk->rcvbuf = sys->rmem[1];
	return 0;
}

/* tcp_v4_destroy_sock: the last reference went; free all but the object. */
static void tcp_release(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->state == TCP_LISTEN)
		tcp_listen_stop(tp);
	tcp_clear_xmit_timers(tp);
	tcp_delete_keepalive_timer(tp);
	tcp_write_queue_purge(tp);
	tcp_rqueue_purge(tp, &tp->ofo_queue);
	tcp_rqueue_purge(tp, &sk->rcvq);
	tcp_fastopen_forget(tp);
	if (tp->hn.hashed)
		tcp_unhash(tp);
	if (tp->hn.bound)
		tcp_put_port(tp);
	memset(&tp->fastopen_req, 0, sizeof(tp->fastopen_req));
}

/* -------------------------------------------------------------- address */

/*
 * __inet_bind for TCP; the address checks are ip4_bind_check's, shared with UDP.
 * Return: 0, -EINVAL (short address, already bound, not CLOSE),
 * -EAFNOSUPPORT, -EADDRNOTAVAIL, -EACCES, -EADDRINUSE.
 */
static int tcp_bind(struct sock *sk, const struct sockaddr *a, socklen_t len)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint16_t snum;
	int r;

	r = ip4_bind_check(sk, a, len, TCP_CLOSE, &snum);
	if (r)
		return r;
	if (snum || !(sk->inet_flags & INF_BIND_NO_PORT)) {
		tcp_sync_hn(tp);
		r = tcp_get_port(tp, snum);
		if (r) {
			sk->saddr = sk->rcv_saddr = 0;
			tcp_sync_hn(tp);
			return r;
		}
	}
	ip4_bind_done(sk, snum);
	sk->sport = htons(sk->num);
	tp->dst_genid = 0;
	tcp_sync_hn(tp);
	return 0;
}

/* inet_getname; the local address is what the socket is bound or connected to. */
static int tcp_getname(struct sock *sk, struct sockaddr_storage *a, socklen_t *len, bool peer)
{
	return ip4_getname(sk, a, len, peer,
			   !(TCPF(sk->state) & (TCPF(TCP_CLOSE) | TCPF(TCP_SYN_SENT))));
}

/* ---------------------------------------------------------- active open */

/* After a failed active open: out of the tables, no peer (tcp_v4_connect's failure path). */
static void tcp_connect_failed(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;

	tcp_set_state(tp, TCP_CLOSE);
	if (!sk->bind_addr_locked)
		sk->saddr = sk->rcv_saddr = 0;	/* inet_bhash2_reset_saddr */
	memset(&tp->dst, 0, sizeof(tp->dst));
	tp->dst_genid = 0;
	sk->dport = 0;
	tcp_sync_hn(tp);
}

/* advmss for a route: its MTU less the headers, within [256, 65495] (ipv4_default_advmss), TCP_MAXSEG caps it */
static uint16_t tcp_route_advmss(const struct tcp_sock *tp, const struct rt4_result *rt)
{
	uint32_t mtu = rt->rt && rt->rt->mtu ? rt->rt->mtu : (rt->dev ? rt->dev->mtu : 576);
	uint32_t mss;

	if (mtu > 0xffff)
		mtu = 0xffff;	/* ipv4_mtu: IP_MAX_MTU */
	mss = mtu > TCP_IPV4_HDRS + TCP_MIN_ADVMSS ? mtu - TCP_IPV4_HDRS : TCP_MIN_ADVMSS;
	if (mss > 0xffff - TCP_IPV4_HDRS)
		mss = 0xffff - TCP_IPV4_HDRS;
	if (tp->user_mss && tp->user_mss < mss)
		mss = tp->user_mss;	/* tcp_mss_clamp */
	return (uint16_t)mss;
}

/*
 * tcp_v4_connect_setup - everything tcp_v4_connect does before the SYN:
 * route, source address, SYN_SENT, port and hash (tcp_hash_connect),
 * the cached route, ISN (unless a previous connection left write_seq set:
 * the kernel keeps it), timestamp offset, IP id.  On failure the socket is
 * back in CLOSE without peer.
 * Return: 0, -ENETUNREACH (no route, broadcast or multicast peer),
 * -EHOSTUNREACH, -EINVAL, -EACCES (route errors), -EADDRNOTAVAIL (no port).
 */
int tcp_v4_connect_setup(struct tcp_sock *tp, uint32_t daddr, uint16_t dport)
{
	struct sock *sk = &tp->sk;
	struct netns *ns = sk->ns;
	struct rt4_result rt;
	unsigned rtflags = (sk->flags & SKF_DONTROUTE) ? IP4_RT_DONTROUTE : 0;
	int r;

	r = ip4_route_output(ns, daddr, sk->saddr, sk->bound_dev_if, rtflags, &rt);
	if (r)
		return r;
	/* RTCF_MULTICAST | RTCF_BROADCAST */
	if (rt.type == RT_BROADCAST || (ntohl(rt.daddr) >> 28) == 0xe || rt.daddr == INADDR_BROADCAST)
		return -ENETUNREACH;
	daddr = rt.daddr;	/* 0.0.0.0 is this host */
	if (!sk->saddr)
		sk->saddr = rt.src;
	sk->rcv_saddr = sk->saddr;
	if (tp->ts_recent_stamp && sk->daddr != daddr) {
		/* state inherited from another peer's connection goes */
		tp->ts_recent = 0;
		tp->ts_recent_stamp = 0;
		if (!tp->repair)
			tp->write_seq = 0;
	}
	sk->dport = dport;
	sk->daddr = daddr;
	tp->mss_clamp = TCP_MSS_DEFAULT;

	/* SYN_SENT before the port is chosen: the port search sees an active socket */
	tcp_set_state(tp, TCP_SYN_SENT);
	tcp_sync_hn(tp);
	r = tcp_hash_connect(tp);
	if (r) {
		tcp_connect_failed(tp);
		return r;
	}
	tp->dst = rt;
	tp->dst_genid = ns->ip4->rt_genid;
	tp->advmss = tcp_route_advmss(tp, &rt);
	if (!tp->repair) {
		if (!tp->write_seq)
			tp->write_seq = tcp_secure_seq(ns, sk->saddr, sk->daddr, sk->sport, dport);
		tp->tsoffset = tcp_secure_ts_off(ns, sk->saddr, sk->daddr);
	}
	tp->inet_id = (uint16_t)netns_random(ns);
	return 0;
}

/*
 * tcp_route - the cached route if it is still current (the route table
 * did not change and the device is up), else a fresh lookup, cached.  A
 * failure is remembered as a soft error (inet_sk_rebuild_header).
 * Return: 0, -errno of ip4_route_output.
 */
int tcp_route(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	struct netns *ns = sk->ns;
	unsigned rtflags = (sk->flags & SKF_DONTROUTE) ? IP4_RT_DONTROUTE : 0;
	int r;

	if (tp->dst_genid == ns->ip4->rt_genid && tp->dst.dev && (tp->dst.dev->flags & IFF_UP))
		return 0;
	r = ip4_route_output(ns, sk->daddr, sk->saddr, sk->bound_dev_if, rtflags, &tp->dst);
	if (r) {
		memset(&tp->dst, 0, sizeof(tp->dst));
		tp->dst_genid = 0;
		sk->err_soft = -r;
		return r;
	}
	tp->dst_genid = ns->ip4->rt_genid;
	return 0;
}

/*
 * TCP_FASTOPEN_CONNECT (tcp_fastopen_defer_connect): with a cookie for
 * the peer (or no cookie needed) connect() returns at once and the SYN
 * waits for the first write, which carries data in it; without one the
 * SYN goes now and asks for a cookie.  Return: true if the SYN is put off.
 */
static bool tcp_fastopen_defer_connect(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX], len = 0;
	uint16_t mss = 0;
	bool have;

	if (!tp->fastopen_connect || tp->fastopen_req.active)
		return false;
	have = tcp_fastopen_cache_get(sk->ns, sk->daddr, &mss, cookie, &len);
	if ((tcp_sys(sk)->fastopen & TFO_CLIENT_NO_COOKIE) || tp->fastopen_no_cookie ||
	    (have && len > 0)) {
		tp->defer_connect = true;
		return true;
	}
	memset(&tp->fastopen_req, 0, sizeof(tp->fastopen_req));
	tp->fastopen_req.active = true;	/* cookie_len 0: the SYN asks for one */
	return false;
}

/* tcp_v4_connect. Return: 0 (SYN sent or put off), -errno (socket back in CLOSE). */
static int tcp_v4_connect(struct tcp_sock *tp, const struct sockaddr *uaddr, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;
	int r;

	if (!uaddr || len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	r = tcp_v4_connect_setup(tp, sin->sin_addr.s_addr, sin->sin_port);
	if (r)
		return r;
	if (tcp_fastopen_defer_connect(tp))
		return 0;
	r = tcp_connect(tp);
	if (r) {
		tcp_connect_failed(tp);
		return r;
	}
	return 0;
}

/*
 * tcp_stream_connect - __inet_stream_connect: connect(2), and the connect
 * inside sendto(MSG_FASTOPEN) (is_sendmsg; uaddr may then be NULL).  The
 * answer depends on the socket state (ss_state) before the TCP state: a
 * connect in progress is EALREADY whatever address it names, one that
 * finished is reported once (0, or its error / ECONNABORTED, after which
 * the socket is reset for a new attempt) and then EISCONN.  Blocking
 * waits while SYN_SENT/SYN_RECV, up to SO_SNDTIMEO.
 * Return: 0, -EINPROGRESS (non-blocking or timed out), -EALREADY,
 * -EISCONN, -EINVAL, -EAFNOSUPPORT, -EINTR, -EPIPE (disconnected by
 * another thread meanwhile), -ECONNREFUSED etc. (sock_error),
 * -ECONNABORTED, errors of tcp_v4_connect.
 */
int tcp_stream_connect(struct tcp_sock *tp, const struct sockaddr *uaddr, socklen_t len, int flags,
		       bool is_sendmsg)
{
	struct sock *sk = &tp->sk;
	int64_t timeo;
	int err;

	if (uaddr) {
		if (len < sizeof(sa_family_t))
			return -EINVAL;
		if (uaddr->sa_family == AF_UNSPEC) {
			tp->disconnects++;
			err = tcp_disconnect(tp, flags);
			tp->ss_state = err ? TCP_SS_DISCONNECTING : TCP_SS_UNCONNECTED;
			return err;
		}
	}

	switch (tp->ss_state) {
	default:
		return -EINVAL;
	case TCP_SS_CONNECTED:
		return -EISCONN;
	case TCP_SS_CONNECTING:
		if (tp->defer_connect)
			err = is_sendmsg ? -EINPROGRESS : -EISCONN;
		else
			err = -EALREADY;
		break;
	case TCP_SS_UNCONNECTED:
		if (sk->state != TCP_CLOSE)
			return -EISCONN;
		err = tcp_v4_connect(tp, uaddr, len);
		if (err < 0)
			return err;
		tp->ss_state = TCP_SS_CONNECTING;
		if (tp->defer_connect)
			return 0;
		/* only a fresh attempt says EINPROGRESS rather than EALREADY */
		err = -EINPROGRESS;
		break;
	}

	timeo = (flags & O_NONBLOCK) ? 0 : sk->sndtimeo_ns;
	if (TCPF(sk->state) & (TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV))) {
		uint32_t dis = tp->disconnects;

		if (!timeo)
			return err;
		/* inet_wait_for_connect: whoever sets sk_err also leaves SYN_* */
		while (TCPF(sk->state) & (TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV))) {
			int r = sk_wait(sk, POLLOUT, &timeo);

			if (r == -EAGAIN)
				return err;
			if (r < 0)
				return r;
		}
		if (dis != tp->disconnects)
			return -EPIPE;
	}

	/* closed by RST, timeout, ICMP error or another thread */
	if (sk->state == TCP_CLOSE) {
		err = sk_sock_error(sk);
		if (!err)
			err = -ECONNABORTED;
		tp->ss_state = TCP_SS_UNCONNECTED;
		tp->disconnects++;
		if (tcp_disconnect(tp, flags))
			tp->ss_state = TCP_SS_DISCONNECTING;
		return err;
	}
	/* an error that came after ESTABLISHED (IP_RECVERR) is for later calls */
	tp->ss_state = TCP_SS_CONNECTED;
	return 0;
}

static int tcp_connect_op(struct sock *sk, const struct sockaddr *a, socklen_t len, int flags)
{
	return tcp_stream_connect(tcp_sk(sk), a, len, flags, false);
}

/* --------------------------------------------------------- passive open */

/*
 * inet_listen: a socket that never connected, in CLOSE or LISTEN.  The
 * backlog is clamped to somaxconn (__sys_listen; a negative one too); on
 * a listener only the backlog changes.  An unbound socket gets an
 * ephemeral port; the port is checked again in LISTEN, where sharing is
 * stricter (inet_csk_listen_start).
 * Return: 0, -EINVAL, -EADDRINUSE.
 */
static int tcp_listen(struct sock *sk, int backlog)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_sysctl *sys = tcp_sys(sk);
	int somaxconn = sk->ns->sys.somaxconn;
	int old = sk->state;
	int r;

	if ((unsigned)backlog > (unsigned)somaxconn)
		backlog = somaxconn;
	if (tp->ss_state != TCP_SS_UNCONNECTED || sk->type != SOCK_STREAM)
		return -EINVAL;
	if (!(TCPF(old) & (TCPF(TCP_CLOSE) | TCPF(TCP_LISTEN))))
		return -EINVAL;
	tp->max_ack_backlog = backlog;
	if (old == TCP_LISTEN)
		return 0;

	/* Fast Open without TCP_FASTOPEN on the socket; a queue length set
	 * by the option (or left from an earlier listen) stays */
	if ((sys->fastopen & TFO_SERVER_WO_SOCKOPT1) && (sys->fastopen & TFO_SERVER_ENABLE) &&
	    !tp->fastopen_max_qlen)
		tp->fastopen_max_qlen = backlog < somaxconn ? backlog : somaxconn;

	/* reqsk_queue_alloc, inet_csk_delack_init */
	tp->ack_backlog = 0;
	tp->fastopen_qlen = 0;
	memset(&tp->ack, 0, sizeof(tp->ack));
	__atomic_store_n(&sk->state, (uint8_t)TCP_LISTEN, __ATOMIC_RELEASE);
	tcp_sync_hn(tp);
	r = tcp_get_port(tp, sk->num);
	if (!r) {
		sk->sport = htons(sk->num);
		memset(&tp->dst, 0, sizeof(tp->dst));
		tp->dst_genid = 0;
		tcp_sync_hn(tp);
		tcp_hash(tp);
		return 0;
	}
	__atomic_store_n(&sk->state, (uint8_t)TCP_CLOSE, __ATOMIC_RELEASE);
	return r;
}

/*
 * inet_accept / inet_csk_accept: the oldest established child, waiting
 * up to SO_RCVTIMEO unless O_NONBLOCK.  *child comes with the reference
 * the accept queue held.  Children are connected sockets (SS_CONNECTED)
 * whatever TCP state they reached meanwhile.
 * Return: 0, -EINVAL (not listening, or stopped while waiting), -EAGAIN,
 * -EINTR.
 */
static int tcp_accept(struct sock *sk, struct sock **child, int flags)
{
	struct tcp_sock *tp = tcp_sk(sk), *c;

	if (sk->state != TCP_LISTEN)
		return -EINVAL;
	if (!tp->accept_head) {
		int64_t timeo = (flags & O_NONBLOCK) ? 0 : sk->rcvtimeo_ns;

		if (!timeo)
			return -EAGAIN;
		for (;;) {
			int r = sk_wait(sk, POLLIN, &timeo);

			if (tp->accept_head)
				break;
			if (sk->state != TCP_LISTEN)
				return -EINVAL;
			if (r < 0)
				return r;	/* -EINTR, -EAGAIN when the time is up */
		}
	}
	c = tcp_accept_queue_pop(tp);
	if (!c)
		return -EAGAIN;
	c->ss_state = TCP_SS_CONNECTED;
	*child = &c->sk;
	return 0;
}

/* ------------------------------------------------------------ shutdown */

/* tcp_shutdown: a FIN for SHUT_WR from the states that have not sent one. */
static void tcp_shutdown_send(struct tcp_sock *tp, int how)
{
	if (!(how & SEND_SHUTDOWN))
		return;
	if (TCPF(tp->sk.state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV) |
				  TCPF(TCP_CLOSE_WAIT))) {
		if (tcp_close_state(tp))
			tcp_send_fin(tp);
	}
}

/*
 * inet_shutdown for streams.  An unconnected socket says ENOTCONN but is
 * shut down anyway (so pollers see HUP); a connecting one (SYN_SENT) is
 * disconnected whatever `how` is; a listener stops listening on SHUT_RD
 * or SHUT_RDWR.  Everyone waiting is woken.
 * Return: 0, -EINVAL (how not 0..2), -ENOTCONN.
 */
static int tcp_shutdown_op(struct sock *sk, int how)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int err = 0;

	how++;	/* SHUT_RD 0 -> RCV_SHUTDOWN 1, SHUT_WR -> 2, SHUT_RDWR -> 3 */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	if (tp->ss_state == TCP_SS_CONNECTING) {
		if (TCPF(sk->state) & (TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV) | TCPF(TCP_CLOSE)))
			tp->ss_state = TCP_SS_DISCONNECTING;
		else
			tp->ss_state = TCP_SS_CONNECTED;
	}

	switch (sk->state) {
	case TCP_LISTEN:
		if (!(how & RCV_SHUTDOWN))
			break;
		/* fallthrough */
	case TCP_SYN_SENT:
		err = tcp_disconnect(tp, O_NONBLOCK);
		tp->ss_state = err ? TCP_SS_DISCONNECTING : TCP_SS_UNCONNECTED;
		break;
	case TCP_CLOSE:
		err = -ENOTCONN;
		/* fallthrough */
	default:
		__atomic_store_n(&sk->shutdown, (uint8_t)(sk->shutdown | how), __ATOMIC_RELAXED);
		tcp_shutdown_send(tp, how);
		break;
	}
	tcp_state_change(tp);
	return err;
}

/* --------------------------------------------------------------- close */

/* sk_stream_closing: our FIN is not acknowledged yet */
static bool tcp_closing(const struct sock *sk)
{
	return TCPF(sk->state) & (TCPF(TCP_FIN_WAIT1) | TCPF(TCP_CLOSING) | TCPF(TCP_LAST_ACK));
}

/* sk_stream_wait_close: SO_LINGER's wait for our FIN to be acknowledged; a signal ends it. */
static void tcp_wait_close(struct sock *sk, int64_t timeo)
{
	if (!timeo)
		return;
	while (tcp_closing(sk)) {
		if (sk_wait(sk, TCP_WAKE_ALL, &timeo) < 0)
			break;
	}
}

/*
 * tcp_close - the descriptor goes (__tcp_close).  A listener stops; data
 * nobody read aborts the connection with RST (RFC 2525 2.17), and so does
 * SO_LINGER with time 0; otherwise a FIN goes and, with SO_LINGER time,
 * close waits for it to be acknowledged.  A connection that is not over
 * keeps a reference of its own (orphan) until tcp_done; an orphan in
 * FIN_WAIT2 moves to the lighter TIME_WAIT object for its FIN_WAIT2 time
 * (TCP_LINGER2 < 0: reset at once).
 */
static void tcp_close(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int64_t timeo = 0;
	uint32_t unread;

	if (sk->flags & SKF_LINGER) {
		/* sk_lingertime: the seconds as unsigned, so a negative one is ~136 years */
		uint64_t s = (unsigned)sk->linger_secs;
		timeo = (int64_t)(s * 1000000000ull);
	}
	__atomic_store_n(&sk->shutdown, (uint8_t)SHUTDOWN_MASK, __ATOMIC_RELAXED);

	if (sk->state == TCP_LISTEN) {
		tcp_set_state(tp, TCP_CLOSE);
		tcp_listen_stop(tp);
		goto adjudge_to_death;
	}
	/* only close() flushes the receive queue: a reader may still drain it otherwise */
	unread = tcp_rcvq_drop(tp);
	if (sk->state == TCP_CLOSE)
		goto adjudge_to_death;	/* reset already */

	if (tp->repair) {
		tcp_disconnect(tp, 0);
	} else if (unread) {
		tcp_set_state(tp, TCP_CLOSE);
		tcp_send_active_reset(tp);
	} else if ((sk->flags & SKF_LINGER) && !sk->linger_secs) {
		/* zero linger is checked after unread data */
		tcp_disconnect(tp, 0);
	} else if (tcp_close_state(tp)) {
		/* FIN_WAIT1 / LAST_ACK before the FIN is even sent: the kernel's
		 * "broken" RFC state machine, which we copy */
		tcp_send_fin(tp);
	}
	tcp_wait_close(sk, timeo);

adjudge_to_death:
	/* the connection outlives the descriptor until tcp_done */
	sock_hold(sk);
	tp->orphan = true;
	tcp_table(sk->ns)->orphan_count++;

	if (sk->state == TCP_FIN_WAIT2) {
		if (tp->linger2_s < 0) {
			tcp_set_state(tp, TCP_CLOSE);
			tcp_send_active_reset(tp);
		} else {
			uint64_t tmo_us = tcp_fin_time(tp);

			if (tmo_us * 1000u > TCP_TIMEWAIT_LEN_NS) {
				tcp_reset_keepalive_timer(tp, tmo_us - TCP_TIMEWAIT_LEN_NS / 1000u);
			} else {
				/* ends in tcp_done, which drops the orphan reference */
				tcp_time_wait(tp, TCP_FIN_WAIT2, tmo_us * 1000u);
				return;
			}
		}
	}
	if (sk->state == TCP_CLOSE) {
		/* aborted before a Fast Open handshake finished: its request goes too */
		tcp_fastopen_forget(tp);
		tcp_clear_xmit_timers(tp);
		tcp_orphan_put(tp);
	}
	/* otherwise the protocol ends it */
}

/* ---------------------------------------------------------------- poll */

/* sk_stream_is_writeable with wake = 1, tcp_stream_memory_free included */
static bool tcp_is_writeable(const struct tcp_sock *tp)
{
	int sndbuf = TCP_READ(tp->sk.sndbuf);
	int queued = (int)TCP_READ(tp->wmem_queued);
	uint32_t notsent, lowat;

	if (sndbuf - queued < (queued >> 1))
		return false;
	if (queued >= sndbuf)
		return false;
	notsent = TCP_READ(tp->write_seq) - TCP_READ(tp->snd_nxt);
	lowat = TCP_READ(tp->notsent_lowat);
	if (!lowat)
		lowat = tcp_sys(&tp->sk)->notsent_lowat;
	return (notsent << 1) < lowat;
}

/* tcp_epollin_ready (tcp_rmem_pressure without the global memory pressure) */
static bool tcp_readable(const struct tcp_sock *tp, int target)
{
	int avail = (int)(TCP_READ(tp->rcv_nxt) - TCP_READ(tp->copied_seq));
	int rcvbuf;

	if (avail <= 0)
		return false;
	if (avail >= target)
		return true;
	rcvbuf = TCP_READ(tp->sk.rcvbuf);
	if ((int)TCP_READ(tp->sk.rmem) > rcvbuf - (rcvbuf >> 3))
		return true;
	return tcp_receive_window(tp) <= TCP_READ(tp->ack.rcv_mss);
}

/*
 * tcp_poll - the kernel's rule, field by field, without the lock.  HUP
 * only for both directions shut or CLOSE (so a fresh socket is OUT|HUP);
 * readable at SO_RCVLOWAT bytes (one more while the urgent byte is next
 * and not inline); writable while the free space is at least half of
 * what is queued and unsent data is under TCP_NOTSENT_LOWAT; nothing
 * while connecting, except OUT for a Fast Open connect waiting for its
 * first write.
 */
static uint32_t tcp_poll(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	int state = __atomic_load_n(&sk->state, __ATOMIC_ACQUIRE);
	uint8_t shutdown;
	uint32_t mask = 0;

	if (state == TCP_LISTEN)
		return TCP_READ(tp->accept_head) ? POLLIN | POLLRDNORM : 0;

	shutdown = TCP_READ(sk->shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= POLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;

	if (state != TCP_SYN_SENT && (state != TCP_SYN_RECV || TCP_READ(tp->fastopen_rsk))) {
		int target = TCP_READ(sk->rcvlowat);
		uint16_t urg = TCP_READ(tp->urg_data);

		if (target <= 0)
			target = 1;
		if (urg && TCP_READ(tp->urg_seq) == TCP_READ(tp->copied_seq) &&
		    !(TCP_READ(sk->flags) & SKF_OOBINLINE))
			target++;
		if (tcp_readable(tp, target))
			mask |= POLLIN | POLLRDNORM;
		if (!(shutdown & SEND_SHUTDOWN)) {
			if (tcp_is_writeable(tp))
				mask |= POLLOUT | POLLWRNORM;
		} else {
			mask |= POLLOUT | POLLWRNORM;
		}
		if (urg & TCP_URG_VALID)
			mask |= POLLPRI;
	} else if (state == TCP_SYN_SENT && TCP_READ(tp->defer_connect)) {
		/* so that the program writes, and the write sends SYN + data */
		mask |= POLLOUT | POLLWRNORM;
	}
	/* pairs with tcp_reset setting sk_err before tcp_done */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (TCP_READ(sk->err) || TCP_READ(sk->errq.count))
		mask |= POLLERR;
	return mask;
}

/* --------------------------------------------------------------- ioctl */

/*
 * tcp_ioctl: SIOCINQ/FIONREAD, SIOCOUTQ, SIOCOUTQNSD (EINVAL on a
 * listener; 0 while the handshake runs), SIOCATMARK (any urgent byte
 * state with urg_seq at the read position, as the kernel tests it).
 * Return: 0, -EINVAL, -EFAULT, -ENOIOCTLCMD.
 */
static int tcp_ioctl(struct sock *sk, unsigned long req, void *arg)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool handshake = TCPF(sk->state) & (TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV));
	int answ;

	switch (req) {
	case SIOCINQ:
		if (sk->state == TCP_LISTEN)
			return -EINVAL;
		answ = tcp_inq(tp);
		break;
	case SIOCATMARK:
		answ = tp->urg_data && tp->urg_seq == tp->copied_seq;
		break;
	case SIOCOUTQ:
		if (sk->state == TCP_LISTEN)
			return -EINVAL;
		answ = handshake ? 0 : (int)(tp->write_seq - tp->snd_una);
		break;
	case SIOCOUTQNSD:
		if (sk->state == TCP_LISTEN)
			return -EINVAL;
		answ = handshake ? 0 : (int)(tp->write_seq - tp->snd_nxt);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return copy_to_user(arg, &answ, sizeof(answ));
}

static uint32_t tcp_wmem_queued_op(const struct sock *sk)
{
	return ((const struct tcp_sock *)sk)->wmem_queued;
}

const struct proto_ops tcp_ops = {
	.family = AF_INET,
	.type = SOCK_STREAM,
	.protocol = IPPROTO_TCP,
	.obj_size = sizeof(struct tcp_sock),
	.init = tcp_init_op,
	.release = tcp_release,
	.bind = tcp_bind,
	.connect = tcp_connect_op,
	.listen = tcp_listen,
	.getname = tcp_getname,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.recvmsg_fast = NULL,
	.poll = tcp_poll,
	.shutdown = tcp_shutdown_op,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.ioctl = tcp_ioctl,
	.sol_changed = tcp_sol_changed,
	.accept = tcp_accept,
	.close = tcp_close,
	.backlog_rcv = tcp_backlog_rcv,
	.wmem_queued = tcp_wmem_queued_op,
	/* inet_stream_ops.set_peek_off, since Linux 6.10 */
	.set_peek_off = sk_set_peek_off,
};

/* inet_create for SOCK_STREAM: protocol 0 means TCP. Return: 0, -EPROTONOSUPPORT, -ENOMEM, -EMFILE... */
int tcp_create(struct netns *ns, struct sock **out, int type, int protocol)
{
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	return sock_alloc(ns, &tcp_ops, type, out);
}
