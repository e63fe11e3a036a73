/* SPDX-License-Identifier: MIT */
/*
 * conf_tcp.c - the helpers the TCP conformance scenario files share (conf_tcp.h)
 *
 * Stateless: every helper works on the sockets, captures and hosts its
 * caller names, and asserts as the scenario itself would.  Waiting comes
 * in two kinds, kept apart on purpose: conf_tcp_poll is one poll() with a
 * timeout (real time: for lo, where both stacks run on the clock),
 * conf_tcp_wait steps the stack's time with api->sleep_ms between
 * zero-timeout polls, the only way a usock host on virtual time sees its
 * timers fire while the scenario waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "conf_tcp.h"
#include "conf_util.h"

#define ETH_HLEN_ 14

/* ---- sockets and pairs ---- */

int conf_tcp_socket(const struct sockapi *api, int flags)
{
	int fd = api->socket(AF_INET, SOCK_STREAM | flags, 0);

	cr_assert(fd >= 0, "%s: socket(SOCK_STREAM): %s", api->name, strerror(errno));
	return fd;
}

int conf_tcp_listener(const struct sockapi *api, const char *ip, uint16_t port, int backlog,
		      bool reuse, int rcvbuf)
{
	struct sockaddr_in a = sin4(ip, port);
	int l = conf_tcp_socket(api, 0), one = 1;

	if (reuse)
		OK(api->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	if (rcvbuf > 0)
		OK(api->setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, backlog));
	return l;
}

int conf_tcp_lo_listener(const struct sockapi *api, struct sockaddr_in *a)
{
	*a = sin4("127.0.0.1", CONF_TCP_PORT);
	return conf_tcp_listener(api, "127.0.0.1", CONF_TCP_PORT, 8, false, 0);
}

int conf_tcp_client(const struct sockapi *api, const char *ip, uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = sin4(ip, port);
	int c = conf_tcp_socket(api, 0);

	if (rcvbuf > 0)
		OK(api->setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	OK(api->connect(c, SA(&a), sizeof(a)));
	return c;
}

void conf_tcp_pair_on(const struct sockapi *api, int l, const struct sockaddr_in *a, int *c,
		      int *s)
{
	*c = conf_tcp_socket(api, 0);
	OK(api->connect(*c, (const struct sockaddr *)a, sizeof(*a)));
	*s = OK(api->accept4(l, NULL, NULL, 0));
}

int conf_tcp_lo_pair(const struct sockapi *api, int *c, int *s)
{
	struct sockaddr_in a;
	int l = conf_tcp_lo_listener(api, &a);

	conf_tcp_pair_on(api, l, &a, c, s);
	return l;
}

void conf_tcp_pair(const struct sockapi *api, int *c, int *s)
{
	api->close(conf_tcp_lo_pair(api, c, s));
}

int conf_tcp_small_pair(const struct sockapi *api, int *c, int *s)
{
	struct sockaddr_in a = sin4("127.0.0.1", CONF_TCP_PORT);
	int l, sz = 4096;

	l = conf_tcp_listener(api, "127.0.0.1", CONF_TCP_PORT, 1, false, sz);
	*c = conf_tcp_socket(api, 0);
	OK(api->setsockopt(*c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
	OK(api->connect(*c, SA(&a), sizeof(a)));
	*s = OK(api->accept4(l, NULL, NULL, 0));
	return l;
}

/*
 * The client connects non-blocking and is waited for with conf_tcp_wait:
 * a blocking connect would not let a usock host's virtual time move.
 */
void conf_tcp_connect_ab(const struct sockapi *api, uint16_t port, int cli_rcvbuf,
			 int srv_rcvbuf, int *c, int *s)
{
	struct sockaddr_in b = sin4("198.18.0.2", port);
	int l;

	cr_assert(api->enter("B") == 0);
	l = conf_tcp_listener(api, "198.18.0.2", port, 4, false, srv_rcvbuf);
	cr_assert(api->enter("A") == 0);
	*c = conf_tcp_socket(api, SOCK_NONBLOCK);
	if (cli_rcvbuf > 0)
		OK(api->setsockopt(*c, SOL_SOCKET, SO_RCVBUF, &cli_rcvbuf, sizeof(cli_rcvbuf)));
	FAILS(api->connect(*c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, *c, POLLOUT, 2000) & POLLOUT, "%s: connect", api->name);
	OK(api->fcntl(*c, F_SETFL, 0));
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN, "%s: accept", api->name);
	*s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->enter("A") == 0);
}

void conf_tcp_two_hosts(const struct sockapi *api, int *c, int *s, int *cap, int cli_rcvbuf,
			int srv_rcvbuf)
{
	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	conf_tcp_connect_ab(api, 80, cli_rcvbuf, srv_rcvbuf, c, s);
	if (cap) {
		*cap = api->capture_start("B", "veth1");
		cr_assert(*cap >= 0, "%s: capture", api->name);
		conf_tcp_take(api, *cap, NULL, 0);
	}
}

/* ---- poll ---- */

short conf_tcp_poll(const struct sockapi *api, int fd, short events, int ms)
{
	/* poisoned: a poll that forgets to write revents shows */
	struct pollfd p = { .fd = fd, .events = events, .revents = 0x7777 };

	OK(api->poll(&p, 1, ms));
	return p.revents;
}

short conf_tcp_wait(const struct sockapi *api, int fd, short events, unsigned ms)
{
	short ev;

	for (unsigned t = 0;; t += 5) {
		ev = conf_tcp_poll(api, fd, events, 0);
		if ((ev & events) || t >= ms)
			return ev;
		api->sleep_ms(5);
	}
}

const char *conf_tcp_evstr(short ev, char *buf, size_t len)
{
	static const struct {
		short bit;
		const char *name;
	} names[] = {
		{ POLLIN, "IN" },	  { POLLPRI, "PRI" },	    { POLLOUT, "OUT" },
		{ POLLRDHUP, "RDHUP" },	  { POLLRDNORM, "RDNORM" }, { POLLRDBAND, "RDBAND" },
		{ POLLWRNORM, "WRNORM" }, { POLLWRBAND, "WRBAND" }, { POLLERR, "ERR" },
		{ POLLHUP, "HUP" },	  { POLLNVAL, "NVAL" },
	};
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ev & names[i].bit)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? "|" : "",
						names[i].name);
	if (!pos)
		snprintf(buf, len, "0");
	return buf;
}

/* ---- options ---- */

int conf_tcp_get_int(const struct sockapi *api, int fd, int lvl, int name)
{
	socklen_t l = sizeof(int);
	int v = -1;

	OK(api->getsockopt(fd, lvl, name, &v, &l));
	cr_assert_eq(l, sizeof(int), "%s: optlen %u", api->name, l);
	return v;
}

int conf_tcp_set_int(const struct sockapi *api, int fd, int lvl, int name, int v)
{
	return api->setsockopt(fd, lvl, name, &v, sizeof(v));
}

int conf_tcp_so_error(const struct sockapi *api, int fd)
{
	return conf_tcp_get_int(api, fd, SOL_SOCKET, SO_ERROR);
}

int conf_tcp_state(const struct sockapi *api, int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l));
	return ti.tcpi_state;
}

struct tcp_info conf_tcp_info(const struct sockapi *api, int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0xa5, sizeof(ti));
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l));
	cr_assert_eq(l, sizeof(ti), "%s: TCP_INFO optlen %u", api->name, l);
	return ti;
}

/* ---- the byte stream ---- */

void conf_tcp_expect(const struct sockapi *api, int fd, const void *want, size_t n)
{
	char buf[4096];
	size_t got = 0;
	ssize_t r;

	cr_assert(n <= sizeof(buf));
	while (got < n) {
		cr_assert(conf_tcp_wait(api, fd, POLLIN, 1000) & POLLIN,
			  "%s: %zu of %zu bytes came", api->name, got, n);
		r = OK(api->recv(fd, buf + got, n - got, MSG_DONTWAIT));
		cr_assert(r > 0, "%s: EOF after %zu of %zu bytes", api->name, got, n);
		got += (size_t)r;
	}
	cr_assert(memcmp(buf, want, n) == 0, "%s: stream bytes differ", api->name);
}

size_t conf_tcp_fill(const struct sockapi *api, int fd)
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

void conf_tcp_expect_str(const struct sockapi *api, int fd, const char *want)
{
	char buf[64];
	size_t n = strlen(want), got = 0;
	ssize_t r;

	cr_assert(n <= sizeof(buf));
	while (got < n) {
		cr_assert(conf_tcp_wait(api, fd, POLLIN, 1000) & POLLIN,
			  "%s: %zu of %zu bytes came", api->name, got, n);
		r = OK(api->recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT));
		cr_assert(r > 0, "%s: EOF after %zu bytes", api->name, got);
		got += (size_t)r;
	}
	cr_assert(got == n && memcmp(buf, want, n) == 0, "%s: got \"%.*s\", want \"%s\"",
		  api->name, (int)got, buf, want);
}

/* ---- the wire ---- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
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

/* The MSS and window scale options of th (header length doff) into g; a bad one ends the walk. */
static void parse_options(const uint8_t *th, size_t doff, struct conf_tcp_seg *g)
{
	for (size_t o = 20; o < doff;) {
		uint8_t kind = th[o];

		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		if (o + 1 >= doff || th[o + 1] < 2 || o + th[o + 1] > doff)
			break;
		if (kind == 2 && th[o + 1] == 4)
			g->mss = get16(th + o + 2);
		if (kind == 3 && th[o + 1] == 3)
			g->wscale = th[o + 2];
		o += th[o + 1];
	}
}

/*
 * Parse frame f into *g if it is a whole IPv4 TCP segment (Ethernet
 * framing). Return: true if it is.
 */
static bool parse_seg(const struct frame *f, struct conf_tcp_seg *g)
{
	static const uint8_t a[4] = { 198, 18, 0, 1 };
	const uint8_t *ip = f->data + ETH_HLEN_, *th;
	size_t ihl, doff, tot;

	if (f->len < ETH_HLEN_ + 40 || get16(f->data + 12) != 0x0800 || ip[9] != IPPROTO_TCP)
		return false;
	ihl = (size_t)(ip[0] & 15) * 4;
	tot = get16(ip + 2);
	th = ip + ihl;
	doff = (size_t)(th[12] >> 4) * 4;
	if (tot < ihl + doff || ETH_HLEN_ + tot > f->len)
		return false;
	memset(g, 0, sizeof(*g));
	memcpy(g->dmac, f->data, 6);
	memcpy(g->smac, f->data + 6, 6);
	memcpy(g->saddr, ip + 12, 4);
	memcpy(g->daddr, ip + 16, 4);
	g->from_a = memcmp(g->saddr, a, 4) == 0;
	g->sport = get16(th);
	g->dport = get16(th + 2);
	g->seq = get32(th + 4);
	g->ack = get32(th + 8);
	g->flags = th[13];
	g->win = get16(th + 14);
	g->urp = get16(th + 18);
	g->len = tot - ihl - doff;
	g->mss = g->wscale = -1;
	parse_options(th, doff, g);
	memcpy(g->data, th + doff, g->len < sizeof(g->data) ? g->len : sizeof(g->data));
	return true;
}

int conf_tcp_take_if(const struct sockapi *api, int cap, struct conf_tcp_seg *out, int max,
		     bool (*keep)(const struct conf_tcp_seg *g))
{
	struct conf_tcp_seg g;
	struct frame *fr;
	int n, segs = 0;

	n = api->capture_take(cap, &fr);
	cr_assert(n >= 0, "%s: capture_take", api->name);
	for (int i = 0; i < n; i++) {
		if (!parse_seg(&fr[i], &g))
			continue;
		if (getenv("SEGDUMP"))
			fprintf(stderr, "%s: seg %u->%u flags %#x seq %u ack %u len %zu\n",
				api->name, g.saddr[3], g.daddr[3], g.flags, g.seq, g.ack, g.len);
		if (keep && !keep(&g))
			continue;
		if (segs < max)
			out[segs] = g;
		segs++;
	}
	capture_free(fr, n);
	return segs;
}

int conf_tcp_take(const struct sockapi *api, int cap, struct conf_tcp_seg *out, int max)
{
	return conf_tcp_take_if(api, cap, out, max, NULL);
}

bool conf_tcp_from_a(const struct conf_tcp_seg *g)
{
	return g->from_a;
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

void conf_tcp_inject(const struct sockapi *api, const struct conf_tcp_seg *tmpl, uint8_t flags,
		     uint32_t seq, uint32_t ack, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0, flen = 14 + 20 + 20 + plen;
	uint8_t f[14 + 20 + 20 + 64], *ip = f + 14, *th = f + 34, pseudo[12];
	/* A is 198.18.0.1 on veth0, B 198.18.0.2 on veth1 (conf_topo_pair) */
	const char *from = tmpl->daddr[3] == 1 ? "B" : "A";
	const char *dev = tmpl->daddr[3] == 1 ? "veth1" : "veth0";
	char back[32];
	int r, e;

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

	/* out of the sender's device, then back where the caller was */
	snprintf(back, sizeof(back), "%s", topo_current());
	cr_assert(api->enter(from) == 0);
	r = api->inject(dev, f, flen);
	e = errno;
	cr_assert(api->enter(back) == 0);
	cr_assert(r == 0, "%s: inject from %s %s: %s", api->name, from, dev, strerror(e));
}
