/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_close.c - ending TCP connections: shutdown, FIN states, TIME_WAIT, SO_LINGER, RST
 *
 * Also the listener's side of many connections (SO_REUSEPORT spreading, a
 * full accept queue, SYN cookies), simultaneous open, and RST/SYN
 * processing hardened per RFC 5961.  Scenarios on lo run in the test's own
 * namespace (real time on both stacks); the others use two hosts
 * (conf_topo_pair: a client on A 198.18.0.1, a server on B 198.18.0.2;
 * virtual time for usock) and wait by polling with zero timeout between
 * api->sleep_ms steps.  States are read from TCP_INFO's tcpi_state.
 *
 * Injection: the RFC 5961 and TIME_WAIT scenarios put hand-made segments
 * on the link, sent out of the other host's veth end so that they cross
 * the link (and the capture) as the real ones do.  Kernel: an AF_PACKET
 * socket made in that host; usock: netdev_xmit() on that host's device,
 * under its namespace lock (sockapi has no injection entry yet).
 *
 * Expected values are the kernel's (Linux 6.18).  Scenarios close every
 * socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "sockapi.h"
#include "conf_util.h"
#include "buf/pkt.h"
#include "net/netns.h"

#define PORT 5000
#define P_IN (POLLIN | POLLRDNORM)
#define P_OUT (POLLOUT | POLLWRNORM)
#define P_EOF (POLLIN | POLLRDNORM | POLLRDHUP)
#define POLL_EV                                                                          \
	(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLRDBAND | POLLWRNORM |     \
	 POLLWRBAND)

#define TH_FIN_ 0x01
#define TH_SYN_ 0x02
#define TH_RST_ 0x04
#define TH_PSH_ 0x08
#define TH_ACK_ 0x10

/* ---- small helpers ------------------------------------------------------------- */

static int tcp_socket(const struct sockapi *api, int flags)
{
	int fd = api->socket(AF_INET, SOCK_STREAM | flags, 0);

	cr_assert(fd >= 0, "%s: socket(SOCK_STREAM): %s", api->name, strerror(errno));
	return fd;
}

static short revents_of(const struct sockapi *api, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	OK(api->poll(&p, 1, 0));
	return p.revents;
}

/* Wait up to ms of the stack's time for one of events on fd (sleep_ms steps). Return: revents. */
static short wait_for(const struct sockapi *api, int fd, short events, unsigned ms)
{
	short ev;

	for (unsigned t = 0;; t += 5) {
		ev = revents_of(api, fd, events);
		if ((ev & events) || t >= ms)
			return ev;
		api->sleep_ms(5);
	}
}

static int tcp_state(const struct sockapi *api, int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l));
	return ti.tcpi_state;
}

#define ASSERT_STATE(api, fd, want)                                                      \
	do {                                                                             \
		int st_ = tcp_state(api, fd);                                            \
		cr_assert_eq(st_, (want), "%s: %s: tcpi_state %d, want %d (%s)",         \
			     (api)->name, #fd, st_, (int)(want), #want);                 \
	} while (0)

#define ASSERT_POLL(api, fd, want, what)                                                 \
	do {                                                                             \
		short got_ = revents_of(api, fd, POLL_EV);                               \
		cr_assert_eq(got_, (short)(want), "%s: %s: poll %#x, want %#x",          \
			     (api)->name, what, got_, (want));                           \
	} while (0)

static int so_error(const struct sockapi *api, int fd)
{
	socklen_t l = sizeof(int);
	int e = -1;

	OK(api->getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l));
	return e;
}

/* Read exactly n bytes of want from fd (arrived or arriving within 1 s). */
static void expect_bytes(const struct sockapi *api, int fd, const char *want, size_t n)
{
	char buf[256];
	size_t got = 0;
	ssize_t r;

	cr_assert(n <= sizeof(buf));
	while (got < n) {
		cr_assert(wait_for(api, fd, POLLIN, 1000) & POLLIN, "%s: %zu of %zu bytes came",
			  api->name, got, n);
		r = OK(api->recv(fd, buf + got, n - got, MSG_DONTWAIT));
		cr_assert(r > 0, "%s: EOF after %zu of %zu bytes", api->name, got, n);
		got += (size_t)r;
	}
	cr_assert(memcmp(buf, want, n) == 0, "%s: stream bytes differ", api->name);
}

/*
 * Read fd to its end (EOF), waiting up to 3 s at a time for more.
 * Return: the bytes read before EOF.
 */
static size_t read_to_eof(const struct sockapi *api, int fd)
{
	static char buf[65536];
	size_t got = 0;
	ssize_t r;

	for (;;) {
		cr_assert(wait_for(api, fd, POLLIN, 3000) & POLLIN, "%s: stalled after %zu bytes",
			  api->name, got);
		r = api->recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		cr_assert(r >= 0, "%s: recv after %zu bytes: %s", api->name, got,
			  strerror(errno));
		if (r == 0)
			return got;
		got += (size_t)r;
	}
}

/*
 * Send on fd with MSG_DONTWAIT until the send buffer stays full: two rounds
 * in a row, each after more than a delayed ACK (250 ms), queue nothing.
 * Return: the bytes queued.
 */
static size_t fill(const struct sockapi *api, int fd)
{
	static char buf[65536];
	size_t sent = 0;
	int idle = 0;
	ssize_t r;

	memset(buf, 'f', sizeof(buf));
	for (int round = 0; round < 50 && idle < 2; round++) {
		idle++;
		while ((r = api->send(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			sent += (size_t)r;
			idle = 0;
		}
		cr_assert(r < 0 && errno == EAGAIN, "%s: send: %s", api->name, strerror(errno));
		api->sleep_ms(250);
	}
	cr_assert_eq(idle, 2, "%s: the send buffer never fills", api->name);
	return sent;
}

/* A listener on ip:port with backlog, SO_REUSEADDR if reuse, SO_RCVBUF rcvbuf if > 0. */
static int listener(const struct sockapi *api, const char *ip, uint16_t port, int backlog,
		    bool reuse, int rcvbuf)
{
	struct sockaddr_in a = sin4(ip, port);
	int l = tcp_socket(api, 0), one = 1;

	if (reuse)
		OK(api->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	if (rcvbuf > 0)
		OK(api->setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, backlog));
	return l;
}

/* Connect a fresh blocking socket to ip:port (SO_RCVBUF rcvbuf first if > 0). */
static int client(const struct sockapi *api, const char *ip, uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = sin4(ip, port);
	int c = tcp_socket(api, 0);

	if (rcvbuf > 0)
		OK(api->setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	OK(api->connect(c, SA(&a), sizeof(a)));
	return c;
}

/* ---- two hosts, captures, injection ------------------------------------------------ */

/* One captured TCP segment. */
struct seg {
	uint8_t smac[6], dmac[6];
	uint8_t saddr[4], daddr[4];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	size_t len;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The TCP segments among the frames captured by cap since the last take,
 * in order (up to max into out).  Return: how many there were.
 */
static int take_segs(const struct sockapi *api, int cap, struct seg *out, int max)
{
	struct frame *fr;
	int n, segs = 0;

	n = api->capture_take(cap, &fr);
	cr_assert(n >= 0, "%s: capture_take", api->name);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = fr[i].data + 14, *th;
		size_t ihl, doff, tot;

		if (fr[i].len < 14 + 40 || get16(fr[i].data + 12) != 0x0800 ||
		    ip[9] != IPPROTO_TCP)
			continue;
		ihl = (size_t)(ip[0] & 15) * 4;
		tot = get16(ip + 2);
		th = ip + ihl;
		doff = (size_t)(th[12] >> 4) * 4;
		if (tot < ihl + doff || 14 + tot > fr[i].len)
			continue;
		if (segs < max) {
			struct seg *g = &out[segs];

			memcpy(g->dmac, fr[i].data, 6);
			memcpy(g->smac, fr[i].data + 6, 6);
			memcpy(g->saddr, ip + 12, 4);
			memcpy(g->daddr, ip + 16, 4);
			g->sport = get16(th);
			g->dport = get16(th + 2);
			g->seq = get32(th + 4);
			g->ack = get32(th + 8);
			g->flags = th[13];
			g->win = get16(th + 14);
			g->len = tot - ihl - doff;
			if (getenv("SEGDUMP"))
				fprintf(stderr, "%s: seg %s flags %#x seq %u ack %u len %zu\n",
					api->name, g->saddr[3] == 1 ? "A->B" : "B->A", g->flags,
					g->seq, g->ack, g->len);
		}
		segs++;
	}
	capture_free(fr, n);
	return segs;
}

/* Is g from host A (198.18.0.1)? */
static bool from_a(const struct seg *g)
{
	return g->saddr[3] == 1;
}

/* Assert g is B's challenge ACK: a bare ACK carrying B's snd_nxt and rcv_nxt. */
static void assert_challenge(const struct sockapi *api, const struct seg *g, uint32_t seq,
			     uint32_t ack)
{
	cr_assert(!from_a(g) && g->flags == TH_ACK_ && g->seq == seq && g->ack == ack &&
			  g->len == 0,
		  "%s: challenge ACK: flags %#x seq %u ack %u len %zu, want %#x %u %u 0",
		  api->name, g->flags, g->seq, g->ack, g->len, TH_ACK_, seq, ack);
}

/*
 * Two hosts: a listener on B 198.18.0.2:80 (SO_RCVBUF srv_rcvbuf if > 0),
 * a client from A (SO_RCVBUF cli_rcvbuf if > 0) and the accepted socket.
 * *cap (if not NULL) captures B's veth1 from after the handshake.  Both
 * sockets are blocking.  Returns in A; *c is A's, *s is B's.
 */
static void two_hosts(const struct sockapi *api, int *c, int *s, int *cap, int cli_rcvbuf,
		      int srv_rcvbuf)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);
	struct seg none[1];
	int l;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 4, false, srv_rcvbuf);
	cr_assert(api->enter("A") == 0);
	*c = tcp_socket(api, SOCK_NONBLOCK);
	if (cli_rcvbuf > 0)
		OK(api->setsockopt(*c, SOL_SOCKET, SO_RCVBUF, &cli_rcvbuf, sizeof(cli_rcvbuf)));
	FAILS(api->connect(*c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, *c, POLLOUT, 2000) & POLLOUT, "%s: connect", api->name);
	OK(api->fcntl(*c, F_SETFL, 0));
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN, "%s: accept", api->name);
	*s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	if (cap) {
		*cap = api->capture_start("B", "veth1");
		cr_assert(*cap >= 0, "%s: capture", api->name);
		take_segs(api, *cap, none, 0);
	}
	cr_assert(api->enter("A") == 0);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * Put on the link a TCP segment without options that looks like the next
 * one of the flow tmpl belongs to (same MACs, addresses and ports), with
 * flags, seq, ack, window 502 and payload (a string, may be NULL): sent
 * from the host tmpl came from, it arrives at the one tmpl is addressed
 * to.
 */
static void inject(const struct sockapi *api, const struct seg *tmpl, uint8_t flags, uint32_t seq,
		   uint32_t ack, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0, flen = 14 + 20 + 20 + plen;
	uint8_t f[14 + 20 + 20 + 64], *ip = f + 14, *th = f + 34, pseudo[12];
	const char *from = tmpl->daddr[3] == 1 ? "B" : "A";
	const char *dev = tmpl->daddr[3] == 1 ? "veth1" : "veth0";

	cr_assert(plen <= 64);
	memset(f, 0, sizeof(f));
	memcpy(f, tmpl->dmac, 6);
	memcpy(f + 6, tmpl->smac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + plen));
	put16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, tmpl->saddr, 4);
	memcpy(ip + 16, tmpl->daddr, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(th, tmpl->sport);
	put16(th + 2, tmpl->dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = flags;
	put16(th + 14, 502);
	if (plen)
		memcpy(th + 20, payload, plen);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	put16(pseudo + 10, (uint16_t)(20 + plen));
	put16(th + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), th, 20 + plen)));

	if (api->is_kernel) {
		struct sockaddr_ll sll;
		struct ifreq ifr;
		int back, fd;

		back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		cr_assert(back >= 0 && setns(topo_netns_fd(from), CLONE_NEWNET) == 0,
			  "inject: setns %s: %s", from, strerror(errno));
		fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		cr_assert(setns(back, CLONE_NEWNET) == 0 && fd >= 0, "inject: packet socket: %s",
			  strerror(errno));
		close(back);
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, dev);
		cr_assert(ioctl(fd, SIOCGIFINDEX, &ifr) == 0, "inject: %s: %s", dev,
			  strerror(errno));
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_IP);
		sll.sll_ifindex = ifr.ifr_ifindex;
		cr_assert(sendto(fd, f, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
				  (ssize_t)flen,
			  "inject: send: %s", strerror(errno));
		close(fd);
	} else {
		struct netns *ns = (struct netns *)topo_usock_ns(from);
		struct netdev *d = ns ? netns_dev_by_name(ns, dev) : NULL;
		struct pkt *pk;

		cr_assert(d, "inject: no %s on %s", dev, from);
		netns_lock(ns);
		pk = pkt_alloc(ns->pools, flen);
		cr_assert(pk, "inject: no packet buffer");
		memcpy(pkt_put(pk, flen), f, flen);
		pk->meta.proto = ETH_P_IP;
		pk->meta.ifindex = d->ifindex;
		netdev_xmit(d, pk);
		netns_unlock(ns);
	}
}

/* ---- shutdown ------------------------------------------------------------------------ */

/*
 * R-ERR-EINVAL R-ERR-ENOTCONN (shutdown's): `how` other than 0, 1, 2 is
 * EINVAL.  After SHUT_RD a recv returns 0 at once, even a blocking one
 * with nothing queued, and says so again; sending still works, both ways
 * of the connection stay up (no FIN, no RST: the peer's data is still
 * accepted and acknowledged, and recv reads it).  shutdown twice (the
 * same half, or the other) is 0.  Once both FINs have been exchanged the
 * socket is CLOSE and shutdown is ENOTCONN.
 */
CONFORMANCE(tcp_close, shutdown_calls, .timeout = 10)
{
	char b[8];
	int l, c, s;

	l = listener(api, "127.0.0.1", PORT, 4, false, 0);
	c = client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	FAILS(api->shutdown(c, 3), EINVAL);
	FAILS(api->shutdown(c, -1), EINVAL);
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	ASSERT_STATE(api, c, TCP_ESTABLISHED);
	CONF_RET(api->send(c, "to", 2, 0), 2);
	expect_bytes(api, s, "to", 2);
	CONF_RET(api->send(s, "late", 4, 0), 4);
	api->sleep_ms(50);
	ASSERT_POLL(api, c, P_EOF | P_OUT, "SHUT_RD, data came");
	CONF_RET(api->recv(c, b, sizeof(b), 0), 4);
	cr_assert(memcmp(b, "late", 4) == 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	ASSERT_STATE(api, s, TCP_ESTABLISHED);

	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	CONF_RET(api->shutdown(c, SHUT_RDWR), 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	cr_assert(wait_for(api, c, POLLHUP, 1000) & POLLHUP);
	api->sleep_ms(50);
	ASSERT_STATE(api, c, TCP_CLOSE);
	ASSERT_STATE(api, s, TCP_CLOSE);
	FAILS(api->shutdown(c, SHUT_RD), ENOTCONN);
	FAILS(api->shutdown(s, SHUT_WR), ENOTCONN);
	FAILS(api->shutdown(l, 7), EINVAL);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- FIN states ---------------------------------------------------------------------- */

/*
 * (no ID: the close handshake) Through TCP_INFO: shutdown(SHUT_WR) puts
 * the client in FIN_WAIT1 until its FIN is acknowledged (the ACK of a FIN
 * is a delayed one: still FIN_WAIT1 just after), then FIN_WAIT2; the
 * server is in CLOSE_WAIT.  The server's shutdown(SHUT_WR) puts it in
 * LAST_ACK, which the client's immediate ACK ends at once: CLOSE (see
 * fin_behind_data for a LAST_ACK that lasts).  The
 * client, in FIN_WAIT2 when the FIN comes, passes to TIME_WAIT, which is
 * kept apart from the socket (tcp_time_wait): the socket itself reads
 * CLOSE.  On the wire B sees A's FIN|ACK, acknowledges it, sends its own
 * FIN|ACK and gets its ACK: four segments, the FINs without data.
 */
CONFORMANCE(tcp_close, fin_states, .timeout = 20)
{
	struct seg g[16];
	int c, s, cap, n;

	two_hosts(api, &c, &s, &cap, 0, 0);
	ASSERT_STATE(api, c, TCP_ESTABLISHED);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	ASSERT_STATE(api, c, TCP_FIN_WAIT1);
	api->sleep_ms(300);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE_WAIT);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	cr_assert(wait_for(api, s, POLLHUP, 1000) & POLLHUP);
	api->sleep_ms(50);
	ASSERT_STATE(api, s, TCP_CLOSE);
	cr_assert(api->enter("A") == 0);
	ASSERT_STATE(api, c, TCP_CLOSE);
	api->sleep_ms(50);
	n = take_segs(api, cap, g, 16);
	CONF_RET(n, 4);
	cr_assert(from_a(&g[0]) && g[0].flags == (TH_FIN_ | TH_ACK_) && g[0].len == 0,
		  "%s: 1st: flags %#x", api->name, g[0].flags);
	cr_assert(!from_a(&g[1]) && g[1].flags == TH_ACK_ && g[1].ack == g[0].seq + 1,
		  "%s: 2nd: flags %#x", api->name, g[1].flags);
	cr_assert(!from_a(&g[2]) && g[2].flags == (TH_FIN_ | TH_ACK_) && g[2].len == 0,
		  "%s: 3rd: flags %#x", api->name, g[2].flags);
	cr_assert(from_a(&g[3]) && g[3].flags == TH_ACK_ && g[3].ack == g[2].seq + 1,
		  "%s: 4th: flags %#x", api->name, g[3].flags);
	api->close(c);
	cr_assert(api->enter("B") == 0);
	api->close(s);
	api->enter("");
}

/*
 * (no ID) The states a FIN waiting behind unsent data shows.  Both ends
 * fill each other's small receive window (SO_RCVBUF 4096) and neither
 * reads; shutdown(SHUT_WR) changes the state at once, though the FIN
 * waits behind the data: both FIN_WAIT1.  A reads everything (the rest of
 * B's data and B's FIN come): A gets B's FIN before its own is
 * acknowledged: CLOSING; B, whose FIN A acknowledged, FIN_WAIT2.  B then
 * reads everything: A's FIN ends B in TIME_WAIT (its socket CLOSE), A's
 * FIN acknowledged ends A too (CLOSE).  Then the same with one FIN waiting:
 * A shuts first (FIN_WAIT2, B CLOSE_WAIT), B fills A's window and shuts:
 * LAST_ACK at once, and still LAST_ACK while A does not read; A reads:
 * B CLOSE, A CLOSE.
 */
CONFORMANCE(tcp_close, fin_behind_data, .timeout = 60)
{
	size_t a_sent, b_sent;
	int c, s;

	two_hosts(api, &c, &s, NULL, 4096, 4096);
	a_sent = fill(api, c);
	cr_assert(api->enter("B") == 0);
	b_sent = fill(api, s);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	ASSERT_STATE(api, s, TCP_FIN_WAIT1);
	cr_assert(api->enter("A") == 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	ASSERT_STATE(api, c, TCP_FIN_WAIT1);
	api->sleep_ms(500);
	ASSERT_STATE(api, c, TCP_FIN_WAIT1);
	CONF_RET(read_to_eof(api, c), b_sent);
	api->sleep_ms(300);
	ASSERT_STATE(api, c, TCP_CLOSING);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_FIN_WAIT2);
	CONF_RET(read_to_eof(api, s), a_sent);
	api->sleep_ms(300);
	ASSERT_STATE(api, s, TCP_CLOSE);
	cr_assert(api->enter("A") == 0);
	ASSERT_STATE(api, c, TCP_CLOSE);
	api->close(c);
	cr_assert(api->enter("B") == 0);
	api->close(s);
	api->enter("");
	api->sleep_ms(100);

	/* A second connection between the same hosts: the listener is gone, make another. */
	{
		struct sockaddr_in b = sin4("198.18.0.2", 81);
		int l, sz = 4096;

		cr_assert(api->enter("B") == 0);
		l = listener(api, "198.18.0.2", 81, 4, false, 0);
		cr_assert(api->enter("A") == 0);
		c = tcp_socket(api, 0);
		OK(api->setsockopt(c, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)));
		{
			int fl = OK(api->fcntl(c, F_GETFL, 0));

			OK(api->fcntl(c, F_SETFL, fl | O_NONBLOCK));
			FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
			cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT);
			OK(api->fcntl(c, F_SETFL, fl));
		}
		cr_assert(api->enter("B") == 0);
		cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
		s = OK(api->accept4(l, NULL, NULL, 0));
		api->close(l);
	}
	cr_assert(api->enter("A") == 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	api->sleep_ms(300);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE_WAIT);
	b_sent = fill(api, s);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	ASSERT_STATE(api, s, TCP_LAST_ACK);
	api->sleep_ms(500);
	ASSERT_STATE(api, s, TCP_LAST_ACK);
	cr_assert(api->enter("A") == 0);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	CONF_RET(read_to_eof(api, c), b_sent);
	api->sleep_ms(300);
	ASSERT_STATE(api, c, TCP_CLOSE);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE);
	api->close(s);
	cr_assert(api->enter("A") == 0);
	api->close(c);
	api->enter("");
}

/* ---- TIME_WAIT ----------------------------------------------------------------------- */

/*
 * Make a connection through l (listening on 127.0.0.1:port), then close
 * the accepted end first (active close: it goes to TIME_WAIT) and the
 * client after it.  The client is bound to cport first if cport != 0.
 * If client_first, the client closes first instead.
 */
static void close_through(const struct sockapi *api, int l, uint16_t port, uint16_t cport,
			  bool client_first)
{
	struct sockaddr_in a = sin4("127.0.0.1", port), me = sin4("127.0.0.1", cport);
	char b[4];
	int c, s, first, second;

	c = tcp_socket(api, 0);
	if (cport)
		OK(api->bind(c, SA(&me), sizeof(me)));
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	first = client_first ? c : s;
	second = client_first ? s : c;
	OK(api->close(first));
	CONF_RET(api->recv(second, b, sizeof(b), 0), 0);
	OK(api->close(second));
	api->sleep_ms(50);
}

/* bind a fresh socket to 127.0.0.1:port (SO_REUSEADDR if reuse). Return: it, or -1 with errno. */
static int try_bind(const struct sockapi *api, uint16_t port, bool reuse, int *fd)
{
	struct sockaddr_in a = sin4("127.0.0.1", port);
	int one = 1;

	*fd = tcp_socket(api, 0);
	if (reuse)
		OK(api->setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	return api->bind(*fd, SA(&a), sizeof(a));
}

/*
 * (no ID: SO_REUSEADDR around TIME_WAIT) A server that closes first leaves
 * its connection in TIME_WAIT on its port: a new socket's bind to that
 * port is EADDRINUSE; with SO_REUSEADDR it succeeds, and listen too, and
 * the new listener serves.  SO_REUSEADDR must be on both sides
 * (inet_bind_conflict: sk_reuse of the new socket and of the TIME_WAIT
 * one, which the accepted socket inherited from its listener): had the
 * old listener no SO_REUSEADDR, the new socket's is no help.  Same for a
 * client that closes first and a new bind to its port.
 */
CONFORMANCE(tcp_close, time_wait_and_reuseaddr, .timeout = 20)
{
	int l, n, c, s;

	l = listener(api, "127.0.0.1", PORT, 4, true, 0);
	close_through(api, l, PORT, 0, false);
	api->close(l);
	FAILS(try_bind(api, PORT, false, &n), EADDRINUSE);
	api->close(n);
	CONF_RET(try_bind(api, PORT, true, &n), 0);
	CONF_RET(api->listen(n, 4), 0);
	c = client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(n, NULL, NULL, 0));
	CONF_RET(api->send(c, "tw", 2, 0), 2);
	expect_bytes(api, s, "tw", 2);
	api->close(s);
	api->close(c);
	api->close(n);

	l = listener(api, "127.0.0.1", PORT + 1, 4, false, 0);
	close_through(api, l, PORT + 1, 0, false);
	api->close(l);
	FAILS(try_bind(api, PORT + 1, false, &n), EADDRINUSE);
	api->close(n);
	FAILS(try_bind(api, PORT + 1, true, &n), EADDRINUSE);
	api->close(n);

	l = listener(api, "127.0.0.1", PORT + 2, 4, false, 0);
	close_through(api, l, PORT + 2, PORT + 3, true);
	FAILS(try_bind(api, PORT + 3, false, &n), EADDRINUSE);
	api->close(n);
	FAILS(try_bind(api, PORT + 3, true, &n), EADDRINUSE);
	api->close(n);
	api->close(l);
}

/*
 * (no ID) TIME_WAIT as the peer sees it.  A's client (bound to port 4000)
 * closes first; after the FIN exchange A keeps the connection in
 * TIME_WAIT: bind to 198.18.0.1:4000 is EADDRINUSE.  A copy of B's FIN
 * sent again (as if B had not heard A's ACK) is answered with a new ACK
 * for it (tcp_timewait_state_process).  An in-window RST (sequence number
 * exactly the next expected) ends the TIME_WAIT early (tcp_rfc1337=0: the
 * "assassination" RFC 1337 describes): no answer, and the port is free at
 * once.
 */
CONFORMANCE(tcp_close, time_wait_from_the_peer, .timeout = 20)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80), me = sin4("198.18.0.1", 4000);
	struct seg g[16], fin;
	char buf[4];
	int l, c, s, cap, n, u;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0, "%s: capture", api->name);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	c = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(c, SA(&me), sizeof(me)));
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT, "%s: connect", api->name);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->enter("A") == 0);
	OK(api->close(c));
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, buf, sizeof(buf), 0), 0);
	OK(api->close(s));
	api->sleep_ms(100);
	cr_assert(api->enter("A") == 0);
	n = take_segs(api, cap, g, 16);
	cr_assert(n >= 2 && n <= 16);
	memset(&fin, 0, sizeof(fin));
	for (int i = 0; i < n; i++)
		if (!from_a(&g[i]) && (g[i].flags & TH_FIN_))
			fin = g[i];
	cr_assert(fin.flags == (TH_FIN_ | TH_ACK_), "%s: B's FIN not seen", api->name);
	cr_assert(from_a(&g[n - 1]) && g[n - 1].flags == TH_ACK_ && g[n - 1].ack == fin.seq + 1,
		  "%s: A's last segment: flags %#x", api->name, g[n - 1].flags);

	u = tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&me), sizeof(me)), EADDRINUSE);
	api->close(u);
	/* B, with no socket left, would answer A's ACK with a RST: silence it */
	cr_assert(api->topo("B: addr del 198.18.0.2/24 dev veth1") == 0);
	inject(api, &fin, TH_FIN_ | TH_ACK_, fin.seq, fin.ack, NULL);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 16), 2);
	cr_assert(from_a(&g[1]) && g[1].flags == TH_ACK_ && g[1].ack == fin.seq + 1 &&
			  g[1].seq == fin.ack,
		  "%s: TIME_WAIT's answer: flags %#x seq %u ack %u", api->name, g[1].flags,
		  g[1].seq, g[1].ack);
	u = tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&me), sizeof(me)), EADDRINUSE);
	api->close(u);

	inject(api, &fin, TH_RST_, fin.seq + 1, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 16), 1);
	u = tcp_socket(api, 0);
	CONF_RET(api->bind(u, SA(&me), sizeof(me)), 0);
	api->close(u);
	api->enter("");
}

/* ---- RST on close -------------------------------------------------------------------- */

/*
 * R-ERR-ECONNRESET: SO_LINGER {1, 0} makes close() abortive: one RST|ACK
 * leaves A (no FIN), its sequence number the next B expects and its
 * acknowledgement everything A received; B does not answer it.  B's socket
 * is dead: poll ERR, recv ECONNRESET, state CLOSE.
 */
CONFORMANCE(tcp_close, linger_zero_sends_rst, .timeout = 20)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct seg g[8];
	char b[8];
	int c, s, cap;
	uint32_t nxt_a, nxt_b;

	two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->send(c, "abc", 3, 0), 3);
	cr_assert(api->enter("B") == 0);
	expect_bytes(api, s, "abc", 3);
	CONF_RET(api->send(s, "de", 2, 0), 2);
	cr_assert(api->enter("A") == 0);
	expect_bytes(api, c, "de", 2);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 4);	/* data, ACK, data, ACK */
	cr_assert(from_a(&g[0]) && g[0].len == 3 && !from_a(&g[2]) && g[2].len == 2);
	nxt_a = g[0].seq + 3;
	nxt_b = g[2].seq + 2;
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(c));
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	cr_assert(from_a(&g[0]) && g[0].flags == (TH_RST_ | TH_ACK_), "%s: flags %#x",
		  api->name, g[0].flags);
	cr_assert(g[0].seq == nxt_a && g[0].ack == nxt_b && g[0].len == 0,
		  "%s: RST seq %u (want %u) ack %u (want %u)", api->name, g[0].seq, nxt_a,
		  g[0].ack, nxt_b);
	cr_assert(api->enter("B") == 0);
	ASSERT_POLL(api, s, P_EOF | P_OUT | POLLERR | POLLHUP, "reset by the peer");
	ASSERT_STATE(api, s, TCP_CLOSE);
	FAILS(api->recv(s, b, sizeof(b), 0), ECONNRESET);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->close(s);
	api->enter("");
}

/*
 * R-ERR-ECONNRESET: close() with data unread sends RST|ACK instead of a
 * FIN (tcp_close: data_was_unread), even with SO_LINGER set to a time; the
 * RST acknowledges the unread bytes.  The peer's recv is ECONNRESET.
 */
CONFORMANCE(tcp_close, close_with_unread_data_sends_rst, .timeout = 20)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 5 };
	struct seg g[8];
	char b[8];
	int c, s, cap;
	uint32_t nxt_b;
	double t0;

	two_hosts(api, &c, &s, &cap, 0, 0);
	cr_assert(api->enter("B") == 0);
	CONF_RET(api->send(s, "unread", 6, 0), 6);
	cr_assert(api->enter("A") == 0);
	cr_assert(wait_for(api, c, POLLIN, 1000) & POLLIN);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	nxt_b = g[0].seq + 6;
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	t0 = conf_now_ms();
	OK(api->close(c));
	cr_assert(conf_now_ms() - t0 < 1000, "%s: close lingered", api->name);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	cr_assert(from_a(&g[0]) && g[0].flags == (TH_RST_ | TH_ACK_) && g[0].ack == nxt_b,
		  "%s: flags %#x ack %u (want %u)", api->name, g[0].flags, g[0].ack, nxt_b);
	cr_assert(api->enter("B") == 0);
	FAILS(api->recv(s, b, sizeof(b), 0), ECONNRESET);
	api->close(s);
	api->enter("");
}

/*
 * (no ID: SO_LINGER with a time) A blocking close() with SO_LINGER {1, 1}
 * and data the peer has no room for waits the linger time (about 1 s) for
 * the FIN to be acknowledged, then returns 0 anyway; the connection lives
 * on orphaned: the peer, reading later, gets every byte and then EOF.  A
 * non-blocking socket lingers just the same (inet_release does not look at
 * O_NONBLOCK).  When everything is acknowledged at once (the peer reads),
 * close() with SO_LINGER {1, 5} returns as soon as the FIN is.
 */
CONFORMANCE(tcp_close, linger_timeout, .timeout = 30)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 1 };
	int l, c, s, sz = 4096;
	size_t sent;
	double t0, dt;

	l = listener(api, "127.0.0.1", PORT, 4, false, 4096);
	for (int nonblock = 0; nonblock < 2; nonblock++) {
		c = tcp_socket(api, 0);
		OK(api->setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
		{
			struct sockaddr_in a = sin4("127.0.0.1", PORT);

			OK(api->connect(c, SA(&a), sizeof(a)));
		}
		s = OK(api->accept4(l, NULL, NULL, 0));
		sent = fill(api, c);
		if (nonblock)
			OK(api->fcntl(c, F_SETFL, O_NONBLOCK));
		OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
		t0 = conf_now_ms();
		CONF_RET(api->close(c), 0);
		dt = conf_now_ms() - t0;
		cr_assert(dt >= 900 && dt < 2500, "%s: close (nonblock %d) took %.0f ms", api->name,
			  nonblock, dt);
		CONF_RET(read_to_eof(api, s), sent);
		api->close(s);
	}

	lg.l_linger = 5;
	c = client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->send(c, "bye", 3, 0), 3);
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	t0 = conf_now_ms();
	CONF_RET(api->close(c), 0);
	dt = conf_now_ms() - t0;
	cr_assert(dt < 500, "%s: close took %.0f ms", api->name, dt);
	CONF_RET(read_to_eof(api, s), 3);
	api->close(s);
	api->close(l);
}

/* ---- many connections ---------------------------------------------------------------- */

#define RP_CLIENTS 64

/* Accept everything waiting on the non-blocking listener l, closing each. Return: how many. */
static int accept_all(const struct sockapi *api, int l, int *fds, int max)
{
	int n = 0, s;

	while ((s = api->accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		cr_assert(n < max);
		fds[n++] = s;
	}
	cr_assert_eq(errno, EAGAIN, "%s: accept: %s", api->name, strerror(errno));
	return n;
}

/*
 * (no ID: SO_REUSEPORT load spreading) Two listeners with SO_REUSEPORT
 * share 127.0.0.1:PORT; a third socket without it (or with SO_REUSEADDR
 * only) cannot bind there.  64 clients from distinct ports are spread
 * between the two by the hash of their addresses (reuseport_select_sock):
 * each listener gets a fair share (at least 8: all but impossible to miss
 * by chance), none is lost.  Once one listener is closed, every new client
 * goes to the other.
 */
CONFORMANCE(tcp_close, reuseport_spreads, .timeout = 20)
{
	static int cl[RP_CLIENTS + 8], sv[2][RP_CLIENTS + 8];
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	int lst[2], n[2], one = 1, u;

	for (int i = 0; i < 2; i++) {
		lst[i] = tcp_socket(api, SOCK_NONBLOCK);
		OK(api->setsockopt(lst[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
		OK(api->bind(lst[i], SA(&a), sizeof(a)));
		OK(api->listen(lst[i], 128));
	}
	u = tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&a), sizeof(a)), EADDRINUSE);
	OK(api->setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	FAILS(api->bind(u, SA(&a), sizeof(a)), EADDRINUSE);
	api->close(u);
	for (int i = 0; i < RP_CLIENTS; i++)
		cl[i] = client(api, "127.0.0.1", PORT, 0);
	api->sleep_ms(50);
	n[0] = accept_all(api, lst[0], sv[0], RP_CLIENTS + 8);
	n[1] = accept_all(api, lst[1], sv[1], RP_CLIENTS + 8);
	cr_assert_eq(n[0] + n[1], RP_CLIENTS, "%s: %d + %d accepted", api->name, n[0], n[1]);
	cr_assert(n[0] >= 8 && n[1] >= 8, "%s: spread %d / %d", api->name, n[0], n[1]);
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < n[j]; i++)
			api->close(sv[j][i]);

	api->close(lst[0]);
	for (int i = RP_CLIENTS; i < RP_CLIENTS + 8; i++)
		cl[i] = client(api, "127.0.0.1", PORT, 0);
	api->sleep_ms(50);
	CONF_RET(accept_all(api, lst[1], sv[1], RP_CLIENTS + 8), 8);
	for (int i = 0; i < 8; i++)
		api->close(sv[1][i]);
	for (int i = 0; i < RP_CLIENTS + 8; i++)
		api->close(cl[i]);
	api->close(lst[1]);
}

/*
 * (no ID: listen's backlog) listen(fd, 1) holds two connections nobody
 * accepts (sk_acceptq_is_full is `>`); the SYNs of two more clients are
 * dropped without an answer (tcp_conn_request: the accept queue is full;
 * SYN cookies only stand in for a full SYN queue): they stay in SYN_SENT.
 * Once both queued connections are accepted, the retransmitted SYNs (1 s
 * after the first) get in: both connect between 0.9 s and 1.5 s.
 */
CONFORMANCE(tcp_close, backlog_overflow, .timeout = 20)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);
	struct seg g[32];
	int l, c[4], s[4], cap, n, syns, synacks;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 1, false, 0);
	cr_assert(api->enter("A") == 0);
	for (int i = 0; i < 4; i++) {
		c[i] = tcp_socket(api, SOCK_NONBLOCK);
		FAILS(api->connect(c[i], SA(&b), sizeof(b)), EINPROGRESS);
		if (i < 2)
			cr_assert(wait_for(api, c[i], POLLOUT, 1000) & POLLOUT,
				  "%s: client %d did not connect", api->name, i);
	}
	api->sleep_ms(100);
	for (int i = 2; i < 4; i++) {
		cr_assert_eq(revents_of(api, c[i], POLL_EV), 0, "%s: client %d connected",
			     api->name, i);
		ASSERT_STATE(api, c[i], TCP_SYN_SENT);
	}
	n = take_segs(api, cap, g, 32);
	syns = synacks = 0;
	for (int i = 0; i < n && i < 32; i++) {
		syns += from_a(&g[i]) && g[i].flags == TH_SYN_;
		synacks += !from_a(&g[i]) && g[i].flags == (TH_SYN_ | TH_ACK_);
	}
	cr_assert(syns == 4 && synacks == 2, "%s: %d SYNs, %d SYN-ACKs", api->name, syns,
		  synacks);

	cr_assert(api->enter("B") == 0);
	s[0] = OK(api->accept4(l, NULL, NULL, 0));
	s[1] = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(api->enter("A") == 0);
	api->sleep_ms(750);
	for (int i = 2; i < 4; i++)
		cr_assert_eq(revents_of(api, c[i], POLLOUT), 0, "%s: client %d before its "
			     "SYN was sent again", api->name, i);
	for (int i = 2; i < 4; i++)
		cr_assert(wait_for(api, c[i], POLLOUT, 600) & POLLOUT,
			  "%s: client %d never got in", api->name, i);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	s[2] = OK(api->accept4(l, NULL, NULL, 0));
	s[3] = OK(api->accept4(l, NULL, NULL, 0));
	for (int i = 0; i < 4; i++)
		CONF_RET(api->send(s[i], "k", 1, 0), 1);
	cr_assert(api->enter("A") == 0);
	for (int i = 0; i < 4; i++) {
		OK(api->fcntl(c[i], F_SETFL, 0));
		expect_bytes(api, c[i], "k", 1);
		api->close(c[i]);
	}
	cr_assert(api->enter("B") == 0);
	for (int i = 0; i < 4; i++)
		api->close(s[i]);
	api->close(l);
	api->sleep_ms(100);
	api->enter("");
}

/* ---- simultaneous open ------------------------------------------------------------- */

/*
 * (no ID: RFC 9293 simultaneous open) Two sockets connect to each other's
 * bound port, neither listening: A 198.18.0.1:1000 to B's 2000, B
 * 198.18.0.2:2000 to A's 1000.  To have each SYN meet a socket already in
 * SYN_SENT, A's SYN is held back: B has no address yet, so A's ARP request
 * goes unanswered (retransmit time 5 s) and the SYN waits in A's neighbour
 * queue.  B then gets its address and connects; its ARP request teaches A
 * B's MAC (arp_process updates the waiting entry), which lets A's SYN go.
 * Each side receives a SYN in SYN_SENT, answers SYN|ACK (SYN_RECV), and
 * both reach ESTABLISHED: POLLOUT, SO_ERROR 0, the right peers, data both
 * ways.  On the wire: one SYN and one SYN|ACK from each side.
 */
CONFORMANCE(tcp_close, simultaneous_open, .timeout = 20)
{
	struct sockaddr_in a = sin4("198.18.0.1", 1000), b = sin4("198.18.0.2", 2000), p;
	struct seg g[32];
	int ca, cb, cap, n, syn[2] = { 0, 0 }, synack[2] = { 0, 0 };

	cr_assert(api->topo("host A\n"
			    "host B\n"
			    "A: link add veth0 type veth peer name veth1 netns B\n"
			    "A: addr add 198.18.0.1/24 dev veth0\n"
			    "A: sysctl net.ipv4.neigh.veth0.retrans_time_ms=5000\n"
			    "A: link set veth0 up\n"
			    "B: link set veth1 up\n") == 0,
		  "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	ca = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(ca, SA(&a), sizeof(a)));
	FAILS(api->connect(ca, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(api->topo("B: addr add 198.18.0.2/24 dev veth1") == 0);
	cr_assert(api->enter("B") == 0);
	cb = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(cb, SA(&b), sizeof(b)));
	FAILS(api->connect(cb, SA(&a), sizeof(a)), EINPROGRESS);
	cr_assert(wait_for(api, cb, POLLOUT, 3000) & POLLOUT, "%s: B never connected",
		  api->name);
	CONF_RET(so_error(api, cb), 0);
	ASSERT_STATE(api, cb, TCP_ESTABLISHED);
	p = conf_peer_of(api, cb);
	conf_assert_addr(&p, "198.18.0.1", 1000);
	cr_assert(api->enter("A") == 0);
	cr_assert(wait_for(api, ca, POLLOUT, 3000) & POLLOUT, "%s: A never connected",
		  api->name);
	CONF_RET(so_error(api, ca), 0);
	ASSERT_STATE(api, ca, TCP_ESTABLISHED);
	p = conf_peer_of(api, ca);
	conf_assert_addr(&p, "198.18.0.2", 2000);
	CONF_RET(api->send(ca, "from a", 6, 0), 6);
	cr_assert(api->enter("B") == 0);
	expect_bytes(api, cb, "from a", 6);
	CONF_RET(api->send(cb, "from b", 6, 0), 6);
	cr_assert(api->enter("A") == 0);
	expect_bytes(api, ca, "from b", 6);

	n = take_segs(api, cap, g, 32);
	for (int i = 0; i < n && i < 32; i++) {
		syn[from_a(&g[i])] += g[i].flags == TH_SYN_;
		synack[from_a(&g[i])] += g[i].flags == (TH_SYN_ | TH_ACK_);
	}
	cr_assert(syn[0] == 1 && syn[1] == 1 && synack[0] == 1 && synack[1] == 1,
		  "%s: SYNs %d/%d, SYN-ACKs %d/%d (B/A)", api->name, syn[0], syn[1], synack[0],
		  synack[1]);
	api->close(ca);
	cr_assert(api->enter("B") == 0);
	api->close(cb);
	api->sleep_ms(100);
	api->enter("");
}

/* ---- SYN cookies --------------------------------------------------------------------- */

/* The MSS TCP_MAXSEG reports on fd. */
static int maxseg(const struct sockapi *api, int fd)
{
	socklen_t l = sizeof(int);
	int v = -1;

	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &l));
	return v;
}

/*
 * (no ID: SYN cookies) With net.ipv4.tcp_syncookies=2 every SYN is
 * answered with a cookie and no request is kept; connections still
 * complete and carry data both ways.  What shows: the cookie has room for
 * four MSS values only (536, 1300, 1440, 1460: msstab), so on lo (MSS
 * 65495 offered) the server's side settles for 1460, 1448 with
 * timestamps (TCP_MAXSEG, tcpi_snd_mss), where a normal connection gets
 * 32768 (lo's MSS bounded by half the largest window seen,
 * tcp_bound_to_half_wnd).  Window scaling and SACK survive, encoded in
 * the timestamp (cookie_timestamp_decode): TCP_INFO's options and scales
 * are those of a normal connection.
 */
CONFORMANCE(tcp_close, syncookies_always, .timeout = 10)
{
	struct tcp_info ti, tn;
	socklen_t tl;
	int l, c, s;

	l = listener(api, "127.0.0.1", PORT, 8, false, 0);
	c = client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	tl = sizeof(tn);
	OK(api->getsockopt(s, IPPROTO_TCP, TCP_INFO, &tn, &tl));
	api->close(s);
	api->close(c);

	cr_assert(conf_sysctl(api, "", "net.ipv4.tcp_syncookies", "2") == 0, "%s: sysctl",
		  api->name);
	c = client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	tl = sizeof(ti);
	OK(api->getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &tl));
	cr_assert_eq(tn.tcpi_snd_mss, 32768, "%s: snd_mss %u without cookies", api->name,
		     tn.tcpi_snd_mss);
	CONF_RET(maxseg(api, s), 1448);
	cr_assert_eq(ti.tcpi_options, tn.tcpi_options, "%s: options %#x, want %#x", api->name,
		     ti.tcpi_options, tn.tcpi_options);
	cr_assert_eq(ti.tcpi_snd_wscale, tn.tcpi_snd_wscale);
	cr_assert_eq(ti.tcpi_rcv_wscale, tn.tcpi_rcv_wscale);
	cr_assert_eq(ti.tcpi_snd_mss, 1448, "%s: snd_mss %u", api->name, ti.tcpi_snd_mss);
	CONF_RET(api->send(c, "cookie", 6, 0), 6);
	expect_bytes(api, s, "cookie", 6);
	CONF_RET(api->send(s, "back", 4, 0), 4);
	expect_bytes(api, c, "back", 4);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- RFC 5961 ------------------------------------------------------------------------- */

/*
 * (no ID: RST processing per RFC 5961, tcp_validate_incoming) Segments
 * injected into an established connection as if from A, at B:
 *  - a RST whose sequence number is in the window but not the next
 *    expected one does not reset: B answers with a challenge ACK (its
 *    sequence and acknowledgement numbers, nothing else) and the
 *    connection carries on;
 *  - a RST outside the window is dropped without an answer;
 *  - a SYN in the window gets a challenge ACK too and changes nothing;
 *  - a RST with exactly the next expected sequence number resets: B's
 *    socket is ECONNRESET, and B says nothing back.
 * Challenge ACKs are limited to one per 500 ms per connection
 * (tcp_invalid_ratelimit), so the injections are 600 ms apart.
 */
CONFORMANCE(tcp_close, rst_rfc5961, .timeout = 30)
{
	struct seg g[8], tmpl;
	char b[8];
	int c, s, cap;
	uint32_t nxt_a, nxt_b;

	two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->send(c, "hello", 5, 0), 5);
	cr_assert(api->enter("B") == 0);
	expect_bytes(api, s, "hello", 5);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);	/* data, delayed ACK */
	tmpl = g[0];
	cr_assert(from_a(&tmpl) && tmpl.len == 5);
	nxt_a = tmpl.seq + 5;
	nxt_b = tmpl.ack;

	inject(api, &tmpl, TH_RST_, nxt_a + 1000, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 2);	/* the RST, B's challenge ACK, nothing else */
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	ASSERT_STATE(api, s, TCP_ESTABLISHED);
	ASSERT_POLL(api, s, P_OUT, "after an in-window RST");

	api->sleep_ms(600);
	inject(api, &tmpl, TH_RST_, nxt_a + 0x40000000u, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 1);	/* only the RST itself */
	ASSERT_STATE(api, s, TCP_ESTABLISHED);

	api->sleep_ms(600);
	inject(api, &tmpl, TH_SYN_, nxt_a + 10, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	ASSERT_STATE(api, s, TCP_ESTABLISHED);

	cr_assert(api->enter("A") == 0);
	CONF_RET(api->send(c, "still", 5, 0), 5);
	cr_assert(api->enter("B") == 0);
	expect_bytes(api, s, "still", 5);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	nxt_a += 5;

	api->sleep_ms(600);
	inject(api, &tmpl, TH_RST_, nxt_a, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	ASSERT_STATE(api, s, TCP_CLOSE);
	FAILS(api->recv(s, b, sizeof(b), 0), ECONNRESET);
	api->close(s);
	cr_assert(api->enter("A") == 0);
	api->close(c);
	api->sleep_ms(100);
	api->enter("");
}

/* ---- after close ------------------------------------------------------------------- */

/*
 * R-ERR-EPIPE (the peer's view of a full close): A closes (FIN); B reads
 * EOF and, in CLOSE_WAIT, still sends: the send succeeds, but A has no
 * socket to take the data and answers RST.  A RST met in CLOSE_WAIT is
 * reported as EPIPE, not ECONNRESET (tcp_reset): SO_ERROR EPIPE, poll
 * ERR|HUP..., and the next send EPIPE.
 */
CONFORMANCE(tcp_close, write_after_peer_close_gets_rst, .timeout = 20)
{
	struct seg g[8];
	char b[4];
	int c, s, cap;

	two_hosts(api, &c, &s, &cap, 0, 0);
	OK(api->close(c));
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);	/* A's FIN, B's (delayed) ACK */
	CONF_RET(api->send(s, "late", 4, MSG_NOSIGNAL), 4);
	cr_assert(wait_for(api, s, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	cr_assert(!from_a(&g[0]) && g[0].len == 4, "%s: B's data", api->name);
	cr_assert(from_a(&g[1]) && g[1].flags == TH_RST_ && g[1].seq == g[0].ack,
		  "%s: A's answer: flags %#x", api->name, g[1].flags);
	ASSERT_POLL(api, s, P_EOF | P_OUT | POLLERR | POLLHUP, "CLOSE_WAIT, reset");
	ASSERT_STATE(api, s, TCP_CLOSE);
	CONF_RET(so_error(api, s), EPIPE);
	FAILS(api->send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
	api->close(s);
	api->enter("");
}

/*
 * (no ID: orphaned FIN_WAIT2) A closes first and B never does: A's side
 * waits in FIN_WAIT2 without a socket, holding its port (bind EADDRINUSE),
 * for net.ipv4.tcp_fin_timeout (here 2 s; TCP_LINGER2 sets it per socket),
 * then goes silently: the port is free, and B's later data is answered
 * with RST, as it would have been before (new data for a closed socket).
 */
CONFORMANCE(tcp_close, fin_wait2_timeout, .timeout = 30)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80), me = sin4("198.18.0.1", 4000);
	struct seg g[8];
	char buf[4];
	int l, c, s, u, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: sysctl net.ipv4.tcp_fin_timeout=2") == 0);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	c = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(c, SA(&me), sizeof(me)));
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->enter("A") == 0);
	OK(api->close(c));
	api->sleep_ms(1000);
	u = tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&me), sizeof(me)), EADDRINUSE);
	api->close(u);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE_WAIT);
	CONF_RET(api->recv(s, buf, sizeof(buf), 0), 0);
	api->sleep_ms(1500);
	cr_assert(api->enter("A") == 0);
	u = tcp_socket(api, 0);
	CONF_RET(api->bind(u, SA(&me), sizeof(me)), 0);
	api->close(u);
	take_segs(api, cap, g, 0);
	cr_assert(api->enter("B") == 0);
	CONF_RET(api->send(s, "x", 1, MSG_NOSIGNAL), 1);
	cr_assert(wait_for(api, s, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	cr_assert(from_a(&g[1]) && g[1].flags == TH_RST_, "%s: flags %#x", api->name,
		  g[1].flags);
	CONF_RET(so_error(api, s), EPIPE);
	api->close(s);
	api->enter("");
}

/*
 * (no ID) close() of a socket whose connect is in progress (SYN_SENT, the
 * peer silent) sends nothing (no FIN, no RST: tcp_close finds nothing to
 * end) and stops the SYN retransmissions: over the next 3.5 s, when two
 * more SYNs would have gone, the wire stays quiet.  SO_LINGER {1, 0}
 * makes no difference there (tcp_disconnect resets only synchronized
 * states).
 */
CONFORMANCE(tcp_close, close_while_connecting, .timeout = 30)
{
	struct sockaddr_in d = sin4("198.18.0.9", 80);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct seg g[8];
	int c, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev veth0 "
			    "nud permanent") == 0);
	cap = api->capture_start("A", "veth0");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	for (int linger = 0; linger < 2; linger++) {
		c = tcp_socket(api, SOCK_NONBLOCK);
		if (linger)
			OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
		FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
		api->sleep_ms(100);
		CONF_RET(take_segs(api, cap, g, 8), 1);
		cr_assert_eq(g[0].flags, TH_SYN_);
		OK(api->close(c));
		api->sleep_ms(3500);
		CONF_RET(take_segs(api, cap, g, 8), 0);
	}
	api->enter("");
}

/*
 * (no ID) A listener closed with a connection still in its accept queue
 * resets that connection (inet_csk_listen_stop): its client's recv is
 * ECONNRESET; one RST|ACK on the wire.
 */
CONFORMANCE(tcp_close, close_listener_resets_queued, .timeout = 20)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);
	struct seg g[8];
	char buf[4];
	int l, c, cap, n;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	c = tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	n = take_segs(api, cap, g, 8);
	CONF_RET(n, 3);
	api->close(l);
	cr_assert(api->enter("A") == 0);
	cr_assert(wait_for(api, c, POLLERR, 1000) & POLLERR, "%s: not reset", api->name);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	cr_assert(!from_a(&g[0]) && g[0].flags == (TH_RST_ | TH_ACK_), "%s: flags %#x",
		  api->name, g[0].flags);
	FAILS(api->recv(c, buf, sizeof(buf), 0), ECONNRESET);
	api->close(c);
	api->enter("");
}

/*
 * From A port cport (SO_REUSEADDR) connect to B:80 (listener l in B), close
 * A first and B after, so that A holds the four-tuple in TIME_WAIT.
 * Return: the sequence number after A's FIN (as seen on cap). Returns in A.
 */
static uint32_t make_time_wait(const struct sockapi *api, int l, int cap, uint16_t cport)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80), me = sin4("198.18.0.1", cport);
	struct seg g[16];
	uint32_t end_a = 0;
	char buf[4];
	int c, s, n, one = 1;

	cr_assert(api->enter("A") == 0);
	c = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	OK(api->bind(c, SA(&me), sizeof(me)));
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(api->enter("A") == 0);
	OK(api->close(c));
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, buf, sizeof(buf), 0), 0);
	OK(api->close(s));
	api->sleep_ms(100);
	n = take_segs(api, cap, g, 16);
	for (int i = 0; i < n && i < 16; i++)
		if (from_a(&g[i]) && (g[i].flags & TH_FIN_))
			end_a = g[i].seq + 1;
	cr_assert(end_a, "%s: A's FIN not seen", api->name);
	cr_assert(api->enter("A") == 0);
	return end_a;
}

/*
 * (no ID: TIME_WAIT and the same four-tuple) A's client, bound to 4000 with
 * SO_REUSEADDR, closes first: TIME_WAIT.  A new socket bound to 4000 may
 * connect to the same server address at once: a connect from an
 * explicitly bound port may take over a TIME_WAIT that has timestamps
 * (__inet_hash_connect passes no twp to tcp_twsk_unique, whatever
 * tcp_tw_reuse says), and its SYN starts 65537 past where the old
 * connection ended (tw_snd_nxt + 65535 + 2), above anything the old peer
 * may still expect.  Without timestamps (net.ipv4.tcp_timestamps=0) the
 * TIME_WAIT is kept: the same connect is EADDRNOTAVAIL, while one to
 * another server port goes through.
 */
CONFORMANCE(tcp_close, time_wait_same_tuple, .timeout = 30)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80), b2 = sin4("198.18.0.2", 81);
	struct sockaddr_in me = sin4("198.18.0.1", 4000);
	struct seg g[16];
	uint32_t end_a;
	int l, l2, c, s, n, one = 1, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 4, false, 0);
	l2 = listener(api, "198.18.0.2", 81, 4, false, 0);
	end_a = make_time_wait(api, l, cap, 4000);
	c = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CONF_RET(api->bind(c, SA(&me), sizeof(me)), 0);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT);
	CONF_RET(so_error(api, c), 0);
	n = take_segs(api, cap, g, 16);
	cr_assert(n >= 1 && from_a(&g[0]) && g[0].flags == TH_SYN_, "%s: no SYN", api->name);
	cr_assert_eq(g[0].seq, end_a + 65537, "%s: SYN seq %u, want %u", api->name, g[0].seq,
		     end_a + 65537);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(api->enter("A") == 0);
	CONF_RET(api->send(c, "new", 3, 0), 3);
	cr_assert(api->enter("B") == 0);
	expect_bytes(api, s, "new", 3);
	api->close(s);
	cr_assert(api->enter("A") == 0);
	api->close(c);
	api->sleep_ms(100);

	cr_assert(api->topo("A: sysctl net.ipv4.tcp_timestamps=0") == 0);
	make_time_wait(api, l, cap, 4001);
	me = sin4("198.18.0.1", 4001);
	c = tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CONF_RET(api->bind(c, SA(&me), sizeof(me)), 0);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EADDRNOTAVAIL);
	api->sleep_ms(1100);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EADDRNOTAVAIL);
	FAILS(api->connect(c, SA(&b2), sizeof(b2)), EINPROGRESS);
	cr_assert(wait_for(api, c, POLLOUT, 2000) & POLLOUT);
	CONF_RET(so_error(api, c), 0);
	api->close(c);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l2, POLLIN, 1000) & POLLIN);
	api->close(OK(api->accept4(l2, NULL, NULL, 0)));
	api->close(l);
	api->close(l2);
	api->sleep_ms(100);
	api->enter("");
}

/*
 * (no ID: RFC 5961 section 5, RFC 9293 3.10.7.4, tcp_ack) Data injected
 * into an established connection at B, in sequence, with three kinds of
 * acknowledgement number:
 *  - acknowledging data B never sent: the segment is dropped (its data
 *    never reaches the socket) and B answers with a challenge ACK (Linux
 *    6.18.38 and later; before, it stayed silent);
 *  - older than snd_una by more than the data B ever had acknowledged
 *    (min(max_window, bytes_acked): B has sent nothing, so even snd_una - 1
 *    is too old): dropped, challenge ACK;
 *  - older than snd_una but within what was acknowledged (B sent 3 bytes,
 *    the ACK is 2 behind): an old duplicate, accepted: the data is B's
 *    to read and nothing is challenged.  (A, which never sent those bytes,
 *    then challenges B's ACK of them, and B answers that out-of-window
 *    segment with a duplicate ACK.)
 */
CONFORMANCE(tcp_close, data_ack_validation, .timeout = 30)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct seg g[8], tmpl;
	char b[8];
	int c, s, cap;
	uint32_t nxt_a, nxt_b;

	two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->send(c, "hello", 5, 0), 5);
	cr_assert(api->enter("B") == 0);
	expect_bytes(api, s, "hello", 5);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	tmpl = g[0];
	nxt_a = tmpl.seq + 5;
	nxt_b = tmpl.ack;

	inject(api, &tmpl, TH_ACK_ | TH_PSH_, nxt_a, nxt_b + 1000, "bad");
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT), EAGAIN);

	api->sleep_ms(600);
	inject(api, &tmpl, TH_ACK_ | TH_PSH_, nxt_a, nxt_b - 1, "old");
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT), EAGAIN);

	CONF_RET(api->send(s, "xyz", 3, 0), 3);
	cr_assert(api->enter("A") == 0);
	expect_bytes(api, c, "xyz", 3);
	api->sleep_ms(300);
	cr_assert(api->enter("B") == 0);
	CONF_RET(take_segs(api, cap, g, 8), 2);	/* B's data, A's ACK */
	nxt_b += 3;
	cr_assert(from_a(&g[1]) && g[1].ack == nxt_b);
	api->sleep_ms(600);
	inject(api, &tmpl, TH_ACK_ | TH_PSH_, nxt_a, nxt_b - 2, "dup");
	expect_bytes(api, s, "dup", 3);
	api->sleep_ms(300);
	/*
	 * The segment, B's (delayed) ACK of it; to A that ACK is for data A
	 * never sent: A's challenge ACK; to B that is an old segment: B's
	 * duplicate ACK; which A's rate limit (one per 500 ms) leaves
	 * unanswered.
	 */
	CONF_RET(take_segs(api, cap, g, 8), 4);
	cr_assert(!from_a(&g[1]) && g[1].flags == TH_ACK_ && g[1].ack == nxt_a + 3,
		  "%s: B's ACK: flags %#x ack %u", api->name, g[1].flags, g[1].ack);
	cr_assert(from_a(&g[2]) && g[2].flags == TH_ACK_ && g[2].seq == nxt_a &&
			  g[2].ack == nxt_b,
		  "%s: A's challenge ACK: flags %#x seq %u ack %u", api->name, g[2].flags,
		  g[2].seq, g[2].ack);
	assert_challenge(api, &g[3], nxt_b, nxt_a + 3);
	ASSERT_STATE(api, s, TCP_ESTABLISHED);
	OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	api->close(s);
	cr_assert(api->enter("A") == 0);
	api->close(c);
	api->sleep_ms(100);
	api->enter("");
}

/* Is g a SYN|ACK from B to the phantom host 198.18.0.9? */
static bool synack_to_phantom(const struct seg *g)
{
	return g->saddr[3] == 2 && g->daddr[3] == 9 && g->flags == (TH_SYN_ | TH_ACK_);
}

/*
 * (no ID: the SYN queue and SYN cookies) SYNs injected from a phantom host
 * (198.18.0.9, whose SYN-ACKs go to a MAC nobody has, so no handshake
 * ever completes) fill the SYN queue of a listener with backlog 2: with
 * net.ipv4.tcp_syncookies=0 the first three get a SYN|ACK (the queue is
 * full only when it holds more than the backlog:
 * inet_csk_reqsk_queue_is_full), the rest are dropped, and so is a real
 * client's SYN: it stays in SYN_SENT.  With tcp_syncookies=1 an overflow
 * SYN is answered with a cookie instead: the client's retransmitted SYN
 * (1 s) gets through and the connection works, while the queue is still
 * full; more phantom SYNs get cookie SYN|ACKs as well.
 */
CONFORMANCE(tcp_close, syn_queue_overflow, .timeout = 30)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);
	struct seg g[64], ph;
	int l, c, s, cap, n, synacks = 0;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: link set veth0 address 02:00:00:00:00:01\n"
			    "B: link set veth1 address 02:00:00:00:00:02\n"
			    "B: neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev veth1 nud permanent\n"
			    "B: sysctl net.ipv4.tcp_syncookies=0\n") == 0,
		  "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", 80, 2, false, 0);
	memset(&ph, 0, sizeof(ph));
	memcpy(ph.smac, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6);
	memcpy(ph.dmac, (uint8_t[6]){ 2, 0, 0, 0, 0, 2 }, 6);
	memcpy(ph.saddr, (uint8_t[4]){ 198, 18, 0, 9 }, 4);
	memcpy(ph.daddr, (uint8_t[4]){ 198, 18, 0, 2 }, 4);
	ph.dport = 80;
	for (int i = 0; i < 5; i++) {
		ph.sport = (uint16_t)(1000 + i);
		inject(api, &ph, TH_SYN_, 1000000u * (uint32_t)i, 0, NULL);
	}
	api->sleep_ms(100);
	n = take_segs(api, cap, g, 64);
	for (int i = 0; i < n && i < 64; i++)
		synacks += synack_to_phantom(&g[i]);
	cr_assert_eq(synacks, 3, "%s: %d SYN-ACKs to 5 SYNs, backlog 2", api->name, synacks);

	cr_assert(api->enter("A") == 0);
	c = tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	api->sleep_ms(300);
	cr_assert_eq(revents_of(api, c, POLL_EV), 0, "%s: connected through a full SYN queue",
		     api->name);
	ASSERT_STATE(api, c, TCP_SYN_SENT);
	cr_assert(api->topo("B: sysctl net.ipv4.tcp_syncookies=1") == 0);
	cr_assert(wait_for(api, c, POLLOUT, 1500) & POLLOUT, "%s: no cookie connection",
		  api->name);
	CONF_RET(so_error(api, c), 0);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->send(s, "cookie", 6, 0), 6);
	cr_assert(api->enter("A") == 0);
	expect_bytes(api, c, "cookie", 6);

	take_segs(api, cap, g, 0);
	for (int i = 5; i < 7; i++) {
		ph.sport = (uint16_t)(1000 + i);
		inject(api, &ph, TH_SYN_, 1000000u * (uint32_t)i, 0, NULL);
	}
	api->sleep_ms(50);
	n = take_segs(api, cap, g, 64);
	synacks = 0;
	for (int i = 0; i < n && i < 64; i++)
		synacks += synack_to_phantom(&g[i]) && g[i].ack >= 5000001u;
	cr_assert_eq(synacks, 2, "%s: %d cookie SYN-ACKs to 2 SYNs", api->name, synacks);
	api->close(c);
	cr_assert(api->enter("B") == 0);
	api->close(s);
	api->close(l);
	api->sleep_ms(100);
	api->enter("");
}

/*
 * (no ID: the calls on a finished connection) After a full close (FIN both
 * ways) and after a reset the socket is CLOSE but still "connected" for
 * the socket layer (only a disconnect resets that): connect is EISCONN,
 * listen EINVAL; getpeername is ENOTCONN (inet_getname refuses a peer in
 * CLOSE), getsockname still gives the old address, yet the port it had
 * was given back when the connection ended (tcp_set_state's
 * inet_put_port for a port not bound by the user), so bind() to another
 * address succeeds (and connect is still EISCONN); recv reads EOF, send
 * is EPIPE, shutdown ENOTCONN.
 */
CONFORMANCE(tcp_close, calls_after_the_end, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT), other = sin4("127.0.0.1", PORT + 1), p;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	socklen_t pl = sizeof(p);
	char b[4];
	int l, c, s;

	l = listener(api, "127.0.0.1", PORT, 4, false, 0);
	for (int reset = 0; reset < 2; reset++) {
		c = client(api, "127.0.0.1", PORT, 0);
		s = OK(api->accept4(l, NULL, NULL, 0));
		if (reset) {
			OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
			OK(api->close(s));
			cr_assert(wait_for(api, c, POLLERR, 1000) & POLLERR);
			FAILS(api->recv(c, b, sizeof(b), 0), ECONNRESET);
		} else {
			OK(api->shutdown(s, SHUT_WR));
			CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
			OK(api->shutdown(c, SHUT_WR));
			cr_assert(wait_for(api, c, POLLHUP, 1000) & POLLHUP);
			api->sleep_ms(50);
			api->close(s);
		}
		ASSERT_STATE(api, c, TCP_CLOSE);
		FAILS(api->connect(c, SA(&a), sizeof(a)), EISCONN);
		FAILS(api->connect(c, SA(&other), sizeof(other)), EISCONN);
		FAILS(api->listen(c, 4), EINVAL);
		pl = sizeof(p);
		FAILS(api->getpeername(c, SA(&p), &pl), ENOTCONN);
		p = conf_local_of(api, c);
		conf_assert_ip(p.sin_addr, "127.0.0.1");
		cr_assert_neq(p.sin_port, 0);
		CONF_RET(api->bind(c, SA(&other), sizeof(other)), 0);
		p = conf_local_of(api, c);
		conf_assert_addr(&p, "127.0.0.1", PORT + 1);
		FAILS(api->connect(c, SA(&a), sizeof(a)), EISCONN);
		CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
		FAILS(api->send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
		FAILS(api->shutdown(c, SHUT_RDWR), ENOTCONN);
		api->close(c);
	}
	api->close(l);
}

/*
 * R-ERR-ECONNRESET: SO_LINGER {1, 0} after shutdown(SHUT_WR): the FIN went
 * first, so the RST that close() sends carries the sequence number after
 * the FIN; the peer, which had read EOF, is reset all the same (and, in
 * CLOSE_WAIT, reports it as EPIPE: tcp_reset).
 */
CONFORMANCE(tcp_close, linger_zero_after_fin, .timeout = 20)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct seg g[8];
	char b[4];
	int c, s, cap;

	two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->sleep_ms(300);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	cr_assert(from_a(&g[0]) && g[0].flags == (TH_FIN_ | TH_ACK_));
	cr_assert(api->enter("A") == 0);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(c));
	api->sleep_ms(50);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	cr_assert(from_a(&g[0]) && g[0].flags == (TH_RST_ | TH_ACK_), "%s: flags %#x",
		  api->name, g[0].flags);
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, s, POLLERR, 1000) & POLLERR);
	CONF_RET(so_error(api, s), EPIPE);
	api->close(s);
	api->enter("");
}

/* Another connection between the hosts two_hosts() made: B's port, client in A (*c), *s in B. */
static void connect_again(const struct sockapi *api, uint16_t port, int *c, int *s)
{
	struct sockaddr_in b = sin4("198.18.0.2", port);
	int l;

	cr_assert(api->enter("B") == 0);
	l = listener(api, "198.18.0.2", port, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	*c = tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(*c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(wait_for(api, *c, POLLOUT, 2000) & POLLOUT, "%s: connect", api->name);
	OK(api->fcntl(*c, F_SETFL, 0));
	cr_assert(api->enter("B") == 0);
	cr_assert(wait_for(api, l, POLLIN, 1000) & POLLIN, "%s: accept", api->name);
	*s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->enter("A") == 0);
}

/* The segments from A among those captured since the last take (up to max into out). */
static int take_from_a(const struct sockapi *api, int cap, struct seg *out, int max)
{
	struct seg g[32];
	int n = take_segs(api, cap, g, 32), k = 0;

	cr_assert(n <= 32);
	for (int i = 0; i < n; i++)
		if (from_a(&g[i]) && k < max)
			out[k++] = g[i];
	return k;
}

/*
 * R-FLAG-MORE-TCP (the FIN's side): data held back by TCP_CORK or MSG_MORE
 * when the sending side is shut leaves with the FIN on the same segment
 * (tcp_send_fin tacks the FIN onto an unsent tail): one segment from A
 * carrying the bytes.  For shutdown(SHUT_WR) under TCP_CORK it is
 * FIN|PSH|ACK: a send without MSG_MORE marks PSH (tcp_push) even when the
 * cork holds it; for close() after a send with MSG_MORE, FIN|ACK only.
 * The peer reads the bytes, then EOF.
 */
CONFORMANCE(tcp_close, fin_rides_on_held_data, .timeout = 20)
{
	struct seg g[8];
	char b[8];
	int c, s, cap, one = 1;

	two_hosts(api, &c, &s, &cap, 0, 0);
	for (int round = 0; round < 2; round++) {
		if (round)
			connect_again(api, 81, &c, &s);
		take_segs(api, cap, g, 0);
		if (round == 0) {
			OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
			CONF_RET(api->send(c, "corked", 6, 0), 6);
		} else {
			CONF_RET(api->send(c, "more", 4, MSG_MORE), 4);
		}
		api->sleep_ms(20);
		CONF_RET(take_segs(api, cap, g, 8), 0);
		if (round == 0)
			CONF_RET(api->shutdown(c, SHUT_WR), 0);
		else
			OK(api->close(c));
		api->sleep_ms(20);
		CONF_RET(take_from_a(api, cap, g, 8), 1);
		cr_assert(g[0].len == (round ? 4u : 6u) &&
				  g[0].flags == (round ? TH_FIN_ | TH_ACK_ :
							 TH_FIN_ | TH_PSH_ | TH_ACK_),
			  "%s: round %d: flags %#x len %zu", api->name, round, g[0].flags,
			  g[0].len);
		cr_assert(api->enter("B") == 0);
		expect_bytes(api, s, round ? "more" : "corked", round ? 4 : 6);
		CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
		api->close(s);
		cr_assert(api->enter("A") == 0);
		if (round == 0)
			api->close(c);
		api->sleep_ms(100);
	}
	api->enter("");
}

/*
 * (no ID: RFC 9293 3.10.7.3, tcp_rcv_synsent_state_process) What a
 * connecting socket (SYN_SENT, to a phantom host 198.18.0.9 whose
 * segments are injected) makes of what comes back:
 *  - a RST without ACK: dropped, nothing changes;
 *  - a SYN|ACK acknowledging something other than our SYN: answered with
 *    a RST whose sequence number is that acknowledgement, and the SYN is
 *    sent again at once (the retransmit timer cut to TCP_TIMEOUT_MIN);
 *  - a RST|ACK acknowledging something else: dropped (never answered);
 *  - a RST|ACK acknowledging our SYN: the connection is refused: poll
 *    ERR..., SO_ERROR ECONNREFUSED.
 */
CONFORMANCE(tcp_close, syn_sent_validation, .timeout = 30)
{
	struct sockaddr_in d = sin4("198.18.0.9", 80), me;
	struct seg g[8], ph;
	int c, cap, n;
	uint32_t iss;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: link set veth0 address 02:00:00:00:00:01\n"
			    "A: neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev veth0 nud permanent\n") == 0,
		  "%s: topology", api->name);
	cap = api->capture_start("A", "veth0");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	c = tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
	me = conf_local_of(api, c);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	cr_assert_eq(g[0].flags, TH_SYN_);
	iss = g[0].seq;
	memset(&ph, 0, sizeof(ph));
	memcpy(ph.smac, (uint8_t[6]){ 2, 0, 0, 0, 0, 9 }, 6);
	memcpy(ph.dmac, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6);
	memcpy(ph.saddr, (uint8_t[4]){ 198, 18, 0, 9 }, 4);
	memcpy(ph.daddr, (uint8_t[4]){ 198, 18, 0, 1 }, 4);
	ph.sport = 80;
	ph.dport = ntohs(me.sin_port);

	inject(api, &ph, TH_RST_, 12345, 0, NULL);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);		/* only the RST itself */
	ASSERT_STATE(api, c, TCP_SYN_SENT);
	ASSERT_POLL(api, c, 0, "SYN_SENT after a RST without ACK");

	inject(api, &ph, TH_SYN_ | TH_ACK_, 777, iss + 100, NULL);
	api->sleep_ms(50);
	n = take_segs(api, cap, g, 8);
	CONF_RET(n, 3);
	cr_assert(g[1].saddr[3] == 1 && g[1].flags == TH_RST_ && g[1].seq == iss + 100,
		  "%s: answer to a bad SYN-ACK: flags %#x seq %u", api->name, g[1].flags,
		  g[1].seq);
	cr_assert(g[2].saddr[3] == 1 && g[2].flags == TH_SYN_ && g[2].seq == iss,
		  "%s: SYN again: flags %#x seq %u", api->name, g[2].flags, g[2].seq);
	ASSERT_STATE(api, c, TCP_SYN_SENT);

	inject(api, &ph, TH_RST_ | TH_ACK_, 0, iss + 100, NULL);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	ASSERT_STATE(api, c, TCP_SYN_SENT);
	ASSERT_POLL(api, c, 0, "SYN_SENT after a RST with a bad ACK");

	inject(api, &ph, TH_RST_ | TH_ACK_, 0, iss + 1, NULL);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	ASSERT_POLL(api, c, POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLERR |
				    POLLHUP,
		    "refused");
	CONF_RET(so_error(api, c), ECONNREFUSED);
	ASSERT_STATE(api, c, TCP_CLOSE);
	api->close(c);
	api->enter("");
}
