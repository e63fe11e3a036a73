/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_opts.c - the TCP options a user reaches for, their values and their effects
 *
 * TCP_NODELAY, TCP_CORK, TCP_MAXSEG (and the MSS on the wire), TCP_INFO,
 * TCP_QUICKACK, TCP_USER_TIMEOUT (and the abort it causes), TCP_DEFER_ACCEPT,
 * TCP_CONGESTION, SO_SNDBUF/SO_RCVBUF on TCP, SO_KEEPALIVE and
 * TCP_KEEPIDLE/INTVL/CNT (and the probes on the wire), IP_TTL and IP_TOS
 * as a stream socket takes them.  Scenarios on lo run
 * in the test's own namespace (real time for both stacks); those that look
 * at the wire or need a link that loses everything use two hosts
 * (conf_topo_pair: A 198.18.0.1 on veth0, B 198.18.0.2 on veth1, MTU 1500),
 * where usock runs on virtual time: they wait by polling with zero timeout
 * between api->sleep_ms steps, so both stacks see the same timers fire.
 * Expected values are the kernel's (Linux 6.18).  Scenarios close every
 * socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT

/* Set an int option (asserted) and read it back. */
static int set_get(const struct sockapi *api, int fd, int lvl, int name, int v)
{
	OK(conf_tcp_set_int(api, fd, lvl, name, v));
	return conf_tcp_get_int(api, fd, lvl, name);
}

/* A per-namespace sysctl of the test's own namespace, as a number. */
static long sysctl_long(const struct sockapi *api, const char *name)
{
	char buf[64];

	cr_assert(conf_sysctl_get(api, NULL, name, buf, sizeof(buf)) == 0, "%s: sysctl %s",
		  api->name, name);
	return strtol(buf, NULL, 10);
}

/* The i-th (0-based) number of a multi-valued sysctl such as tcp_rmem. */
static long sysctl_nth(const struct sockapi *api, const char *name, int i)
{
	char buf[96], *p = buf, *end;
	long v = -1;

	cr_assert(conf_sysctl_get(api, NULL, name, buf, sizeof(buf)) == 0, "%s: sysctl %s",
		  api->name, name);
	for (int k = 0; k <= i; k++) {
		v = strtol(p, &end, 10);
		cr_assert(end != p, "%s: %s = \"%s\"", api->name, name, buf);
		p = end;
	}
	return v;
}

static int expected_wscale(const struct sockapi *api);

/* ---- two hosts and the wire -------------------------------------------------- */

/* Is g between A 198.18.0.1 and B 198.18.0.2, either way? */
static bool between_a_and_b(const struct conf_tcp_seg *g)
{
	static const uint8_t a[4] = { 198, 18, 0, 1 }, b[4] = { 198, 18, 0, 2 };

	return (memcmp(g->saddr, a, 4) == 0 && memcmp(g->daddr, b, 4) == 0) ||
	       (memcmp(g->saddr, b, 4) == 0 && memcmp(g->daddr, a, 4) == 0);
}

/*
 * The TCP segments between 198.18.0.1 and 198.18.0.2 among the frames
 * captured since the last take (up to max into out).  Return: how many.
 */
static int take_segs(const struct sockapi *api, int cap, struct conf_tcp_seg *out, int max)
{
	return conf_tcp_take_if(api, cap, out, max, between_a_and_b);
}

/*
 * Build conf_topo_pair and listen on B 198.18.0.2:80 (non-blocking; *l);
 * *cap (if not NULL) captures B's veth1 from now on.  Returns in A.
 */
static void pair_setup(const struct sockapi *api, int *l, int *cap)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	if (cap) {
		*cap = api->capture_start("B", "veth1");
		cr_assert(*cap >= 0, "%s: capture", api->name);
	}
	cr_assert(api->enter("B") == 0);
	*l = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(*l, SA(&b), sizeof(b)));
	OK(api->listen(*l, 4));
	cr_assert(api->enter("A") == 0);
}

/*
 * Connect c (a non-blocking socket in A) to B's listener l and accept its
 * peer (*s, in B).  Returns in A.
 */
static void pair_connect(const struct sockapi *api, int l, int c, int *s)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);

	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 3000) & POLLOUT, "%s: connect", api->name);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN, "%s: accept", api->name);
	*s = OK(api->accept4(l, NULL, NULL, SOCK_NONBLOCK));
	cr_assert(api->enter("A") == 0);
}

/*
 * Close c (in A), s (in B) and l (in B), let the FIN exchange end; returns
 * in "".  With abort, s is closed with SO_LINGER {1, 0} (an RST, nothing
 * left to retransmit): for a B that A can no longer reach.
 */
static void pair_teardown(const struct sockapi *api, int c, int s, int l, bool abort)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	cr_assert(api->enter("A") == 0);
	if (c >= 0)
		api->close(c);
	cr_assert(api->enter("B") == 0);
	if (s >= 0 && abort)
		OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	if (s >= 0)
		api->close(s);
	api->close(l);
	api->sleep_ms(200);
	api->enter("");
}

/* ---- TCP_NODELAY, TCP_CORK --------------------------------------------------- */

/*
 * R-FLAG-MORE-TCP R-ERR-EINVAL: TCP_NODELAY and TCP_CORK read 0 on a fresh
 * socket; any non-zero value reads back as 1, 0 as 0; one does not change
 * the other.  An optlen below sizeof(int) is EINVAL on set; on get a short
 * optlen gets that many bytes of the value.  A listener's TCP_NODELAY is
 * inherited by the sockets it accepts; its TCP_CORK too.
 */
CONFORMANCE(tcp_opts, nodelay_cork_values, .timeout = 10)
{
	struct sockaddr_in a;
	socklen_t len = 1;
	unsigned char byte = 0xee;
	int fd, l, c, s, v = 1;

	fd = conf_tcp_socket(api, 0);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_NODELAY), 0);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_CORK), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_NODELAY, 5), 1);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_CORK), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_CORK, -3), 1);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_NODELAY), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_NODELAY, 0), 0);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_CORK), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_CORK, 0), 0);
	FAILS(api->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 2), EINVAL);
	FAILS(api->setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, 0), EINVAL);
	OK(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_NODELAY, 1));
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &byte, &len));
	cr_assert(len == 1 && byte == 1, "%s: 1-byte get: len %u byte %#x", api->name, len, byte);
	api->close(fd);

	l = conf_tcp_lo_listener(api, &a);
	OK(conf_tcp_set_int(api, l, IPPROTO_TCP, TCP_NODELAY, 1));
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_NODELAY), 1);
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_NODELAY), 0);
	CONF_RET(set_get(api, c, IPPROTO_TCP, TCP_CORK, 1), 1);
	CONF_RET(set_get(api, c, IPPROTO_TCP, TCP_CORK, 0), 0);
	api->close(c);
	api->close(s);
	api->close(l);
}

/* ---- TCP_MAXSEG -------------------------------------------------------------- */

/*
 * R-ERR-EINVAL: TCP_MAXSEG reads 536 (TCP_MSS_DEFAULT) before a connection;
 * a value set before connecting reads back as set; 0 clears it; below 88
 * (TCP_MIN_MSS) or above 32767 (MAX_TCP_WINDOW) it is EINVAL.  On lo (MTU
 * 65536, the route's MTU 65535) a connection's MSS would be 65535 - 40 - 12
 * (timestamps) = 65483, but it is capped at half the largest window the
 * peer offered (tcp_bound_to_half_wnd): right after the handshake the
 * client has seen the SYN-ACK's 65483 (65535 rounded down to a multiple of
 * the MSS) and reads 32741; the server has seen the final ACK's scaled
 * window, 65536, and reads 32768.  A client's TCP_MAXSEG
 * 1000 clamps both ends to 1000 - 12 = 988
 * (the peer honours the MSS option of the SYN); a listener's 1200 clamps
 * both ends of the connections it accepts to 1188.
 */
CONFORMANCE(tcp_opts, maxseg_lo, .timeout = 10)
{
	struct sockaddr_in a;
	int fd, l, c, s;

	fd = conf_tcp_socket(api, 0);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_MAXSEG), 536);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_MAXSEG, 87), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_MAXSEG, 32768), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_MAXSEG, -1), EINVAL);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_MAXSEG, 88), 88);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_MAXSEG, 32767), 32767);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_MAXSEG, 0), 536);
	api->close(fd);

	l = conf_tcp_lo_listener(api, &a);
	CONF_RET(conf_tcp_get_int(api, l, IPPROTO_TCP, TCP_MAXSEG), 536);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_MAXSEG), 32741);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_MAXSEG), 32768);
	api->close(c);
	api->close(s);

	c = conf_tcp_socket(api, 0);
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_MAXSEG, 1000));
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_MAXSEG), 988);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_MAXSEG), 988);
	api->close(c);
	api->close(s);

	OK(conf_tcp_set_int(api, l, IPPROTO_TCP, TCP_MAXSEG, 1200));
	CONF_RET(conf_tcp_get_int(api, l, IPPROTO_TCP, TCP_MAXSEG), 1200);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_MAXSEG), 1188);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_MAXSEG), 1188);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * Across veth (MTU 1500) the SYN and SYN-ACK carry MSS 1460 and both ends
 * read TCP_MAXSEG 1448 (1460 less 12 for timestamps).  With TCP_MAXSEG 1000
 * set before connect, the SYN carries MSS 1000, the SYN-ACK still 1460, and
 * both ends read 988.  After 3000 bytes each way, each end's tcpi_snd_mss
 * is that MSS and so is tcpi_rcv_mss, the receiver's estimate of the
 * sender's segment size (the capture cannot show it: the kernel's veth
 * carries GSO packets whole).
 */
CONFORMANCE(tcp_opts, maxseg_on_the_wire, .timeout = 20)
{
	static char big[3000], buf[4096];
	struct conf_tcp_seg g[16];
	int l, c, s, cap, n, syn, synack;

	pair_setup(api, &l, &cap);
	for (int round = 0; round < 2; round++) {
		int want = round ? 988 : 1448;

		c = conf_tcp_socket(api, SOCK_NONBLOCK);
		if (round) {
			OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_MAXSEG, 1000));
			CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_MAXSEG), 1000);
		} else {
			CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_MAXSEG), 536);
		}
		pair_connect(api, l, c, &s);
		CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_MAXSEG), want);
		cr_assert(api->enter("B") == 0);
		CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_MAXSEG), want);
		CONF_RET(api->send(s, big, sizeof(big), 0), sizeof(big));
		cr_assert(api->enter("A") == 0);
		CONF_RET(api->send(c, big, sizeof(big), 0), sizeof(big));
		api->sleep_ms(100);
		for (size_t got = 0; got < sizeof(big);) {
			cr_assert(conf_tcp_wait(api, c, POLLIN, 1000) & POLLIN);
			got += (size_t)OK(api->recv(c, buf, sizeof(buf), MSG_DONTWAIT));
		}
		cr_assert(api->enter("B") == 0);
		for (size_t got = 0; got < sizeof(big);) {
			cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
			got += (size_t)OK(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		}
		CONF_RET(conf_tcp_info(api, s).tcpi_rcv_mss, want);
		CONF_RET(conf_tcp_info(api, s).tcpi_snd_mss, want);
		api->close(s);
		cr_assert(api->enter("A") == 0);
		CONF_RET(conf_tcp_info(api, c).tcpi_rcv_mss, want);
		CONF_RET(conf_tcp_info(api, c).tcpi_snd_mss, want);
		api->close(c);
		api->sleep_ms(100);
		n = take_segs(api, cap, g, 16);
		syn = synack = -1;
		for (int i = 0; i < n && i < 16; i++) {
			if (g[i].flags == TH_SYN_ && g[i].from_a && syn < 0)
				syn = i;
			if (g[i].flags == (TH_SYN_ | TH_ACK_) && !g[i].from_a && synack < 0)
				synack = i;
		}
		cr_assert(syn >= 0 && synack >= 0, "%s: no SYN or SYN-ACK among %d segments",
			  api->name, n);
		CONF_RET(g[syn].mss, round ? 1000 : 1460);
		CONF_RET(g[synack].mss, 1460);
	}
	pair_teardown(api, -1, -1, l, false);
}

/*
 * The receive buffer as the peer sees it: the window and window scale of
 * A's SYN and of its first ACK across veth (MSS 1460).  By default
 * (SO_RCVBUF 131072, half of it offered: tcp_win_from_space) the SYN
 * offers 64240 (44 x 1460) with scale 10 (from tcp_rmem[2]/rmem_max), the
 * ACK 63 << 10.  SO_RCVBUF 4096 (8192): 2920, scale 0, and the ACK the
 * same.  SO_RCVBUF 100000 (200000): the window is 99280 (68 x 1460): the
 * SYN can only say 65535, with scale 1, and the ACK says 49640 << 1 (the
 * initial window is not capped at 64 KB, tcp_select_initial_window).
 * TCP_WINDOW_CLAMP 5000: 4380, scale 0.  B's SYN-ACK is 65160 (45 x 1448)
 * with scale 10 throughout.
 */
CONFORMANCE(tcp_opts, receive_window_on_the_wire, .timeout = 20)
{
	static const struct {
		int opt, val;
		int syn_win, ws, ack_win;
	} t[] = {
		{ 0, 0, 64240, -2, 63 },
		{ SO_RCVBUF, 4096, 2920, 0, 2920 },
		{ SO_RCVBUF, 100000, 65535, 1, 49640 },
		{ TCP_WINDOW_CLAMP, 5000, 4380, 0, 4380 },
	};
	struct conf_tcp_seg g[16];
	int l, c, s, cap, n, ws = expected_wscale(api);

	pair_setup(api, &l, &cap);
	for (size_t r = 0; r < sizeof(t) / sizeof(t[0]); r++) {
		int syn = -1, synack = -1, ack = -1;

		c = conf_tcp_socket(api, SOCK_NONBLOCK);
		if (t[r].opt)
			OK(conf_tcp_set_int(api, c,
					    t[r].opt == SO_RCVBUF ? SOL_SOCKET : IPPROTO_TCP,
					    t[r].opt, t[r].val));
		pair_connect(api, l, c, &s);
		api->sleep_ms(50);
		n = take_segs(api, cap, g, 16);
		for (int i = 0; i < n && i < 16; i++) {
			if (g[i].flags == TH_SYN_ && g[i].from_a && syn < 0)
				syn = i;
			else if (g[i].flags == (TH_SYN_ | TH_ACK_) && !g[i].from_a && synack < 0)
				synack = i;
			else if (g[i].flags == TH_ACK_ && g[i].from_a && syn >= 0 && ack < 0)
				ack = i;
		}
		cr_assert(syn >= 0 && synack >= 0 && ack >= 0,
			  "%s: round %zu: handshake not seen in %d segments", api->name, r, n);
		cr_assert(g[syn].win == t[r].syn_win && g[syn].wscale == (t[r].ws < -1 ? ws : t[r].ws),
			  "%s: round %zu: SYN window %u scale %d, want %d scale %d", api->name, r,
			  g[syn].win, g[syn].wscale, t[r].syn_win, t[r].ws < -1 ? ws : t[r].ws);
		cr_assert(g[synack].win == 65160 && g[synack].wscale == ws,
			  "%s: round %zu: SYN-ACK window %u scale %d", api->name, r,
			  g[synack].win, g[synack].wscale);
		cr_assert_eq(g[ack].win, t[r].ack_win, "%s: round %zu: ACK window %u, want %d",
			     api->name, r, g[ack].win, t[r].ack_win);
		cr_assert(api->enter("B") == 0);
		api->close(s);
		cr_assert(api->enter("A") == 0);
		api->close(c);
		api->sleep_ms(100);
		take_segs(api, cap, g, 0);
	}
	pair_teardown(api, -1, -1, l, false);
}

/* ---- TCP_INFO ---------------------------------------------------------------- */

/*
 * tcpi_state follows the connection: CLOSE (7) on a fresh socket, LISTEN
 * (10), SYN_SENT (2) while a SYN goes unanswered (the listener's accept
 * queue is full: backlog 0 with one connection waiting), ESTABLISHED (1)
 * at both ends, FIN_WAIT2 (5) after shutdown(SHUT_WR) is acknowledged and
 * CLOSE_WAIT (8) at the other end; once both sides shut down, CLOSE (7) at
 * both (the side in TIME_WAIT has handed over to a timewait sock).  A
 * short optlen gets that many bytes.
 */
CONFORMANCE(tcp_opts, tcp_info_states, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	unsigned char head[8];
	socklen_t len = sizeof(head);
	char b[4];
	int l, c, s, c2;

	c = conf_tcp_socket(api, 0);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_CLOSE);
	len = 1;
	head[1] = 0xee;
	OK(api->getsockopt(c, IPPROTO_TCP, TCP_INFO, head, &len));
	cr_assert(len == 1 && head[0] == TCP_CLOSE && head[1] == 0xee,
		  "%s: 1-byte TCP_INFO: len %u state %u", api->name, len, head[0]);

	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 0));
	CONF_RET(conf_tcp_info(api, l).tcpi_state, TCP_LISTEN);
	OK(api->connect(c, SA(&a), sizeof(a)));
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_ESTABLISHED);

	c2 = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c2, SA(&a), sizeof(a)), EINPROGRESS);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_info(api, c2).tcpi_state, TCP_SYN_SENT);
	api->close(c2);

	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(conf_tcp_info(api, s).tcpi_state, TCP_ESTABLISHED);
	OK(api->shutdown(c, SHUT_WR));
	api->sleep_ms(50);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_FIN_WAIT2);
	CONF_RET(conf_tcp_info(api, s).tcpi_state, TCP_CLOSE_WAIT);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	OK(api->shutdown(s, SHUT_WR));
	api->sleep_ms(50);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_CLOSE);
	CONF_RET(conf_tcp_info(api, s).tcpi_state, TCP_CLOSE);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * tcpi_state FIN_WAIT1 (4): shutdown(SHUT_WR) while the peer's window is
 * closed queues the FIN behind data that cannot leave, so it stays
 * unacknowledged; reading on the other side lets it go (FIN_WAIT2).
 */
CONFORMANCE(tcp_opts, tcp_info_fin_wait1, .timeout = 20)
{
	static char pat[65536];
	size_t sent = 0, got = 0;
	ssize_t r;
	int c, s;

	api->close(conf_tcp_small_pair(api, &c, &s));
	for (int round = 0; round < 20; round++) {
		int n = 0;

		while ((r = api->send(c, pat, 1000, MSG_DONTWAIT)) > 0) {
			sent += (size_t)r;
			n++;
		}
		if (n == 0 && round > 0)
			break;
		api->sleep_ms(250);
	}
	OK(api->shutdown(c, SHUT_WR));
	api->sleep_ms(100);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_FIN_WAIT1);
	CONF_RET(conf_tcp_info(api, s).tcpi_state, TCP_ESTABLISHED);
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		OK(api->poll(&p, 1, 1000));
		r = OK(api->recv(s, pat, sizeof(pat), MSG_DONTWAIT));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	CONF_RET(got, sent);
	api->sleep_ms(100);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_FIN_WAIT2);
	CONF_RET(conf_tcp_info(api, s).tcpi_state, TCP_CLOSE_WAIT);
	api->close(c);
	api->close(s);
}

/* The window scale Linux offers with these sysctls (tcp_select_initial_window). */
static int expected_wscale(const struct sockapi *api)
{
	long space = sysctl_nth(api, "net.ipv4.tcp_rmem", 2);
	long rmax = sysctl_long(api, "net.core.rmem_max");
	int ws = 0;

	if (rmax > space)
		space = rmax;
	while (space > 65535 && ws < 14) {
		space >>= 1;
		ws++;
	}
	return ws;
}

/*
 * The TCP_INFO fields a user reads, on a clean link (lo), after a 64 KB
 * exchange each way (with CUBIC, whatever the host's default):
 * ESTABLISHED; the initial congestion window of 10 (read before any data)
 * and ssthresh still "infinite" (0x7fffffff); no retransmission
 * (tcpi_retransmits, tcpi_total_retrans, tcpi_lost, tcpi_retrans 0);
 * timestamps, SACK and window scaling negotiated (tcpi_options 7), the
 * scale both ways what tcp_rmem[2]/rmem_max give; an advertised MSS of
 * 65483 and a path MTU of 65535 (IP_MAX_MTU); a plausible RTT (below 10 ms
 * on lo) and RTO (at least TCP_RTO_MIN, 200 ms, and not the initial 1 s).
 */
CONFORMANCE(tcp_opts, tcp_info_fields, .timeout = 20)
{
	static char buf[65536];
	struct sockaddr_in a;
	struct tcp_info ti;
	int l, c, s, fds[2], ws = expected_wscale(api);
	size_t got;

	l = conf_tcp_lo_listener(api, &a);
	OK(api->setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5));
	c = conf_tcp_socket(api, 0);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5));
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	fds[0] = c;
	fds[1] = s;
	for (int i = 0; i < 2; i++) {
		ti = conf_tcp_info(api, fds[i]);
		CONF_RET(ti.tcpi_snd_cwnd, 10);
		CONF_RET(ti.tcpi_snd_ssthresh, 0x7fffffff);
	}
	for (int dir = 0; dir < 2; dir++) {
		int from = fds[dir], to = fds[!dir];

		CONF_RET(api->send(from, buf, sizeof(buf), 0), sizeof(buf));
		for (got = 0; got < sizeof(buf);)
			got += (size_t)OK(api->recv(to, buf, sizeof(buf) - got, 0));
	}
	api->sleep_ms(50);
	for (int i = 0; i < 2; i++) {
		ti = conf_tcp_info(api, fds[i]);
		CONF_RET(ti.tcpi_state, TCP_ESTABLISHED);
		CONF_RET(ti.tcpi_ca_state, 0);
		CONF_RET(ti.tcpi_retransmits, 0);
		CONF_RET(ti.tcpi_total_retrans, 0);
		CONF_RET(ti.tcpi_retrans, 0);
		CONF_RET(ti.tcpi_lost, 0);
		CONF_RET(ti.tcpi_unacked, 0);
		CONF_RET(ti.tcpi_options, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
		CONF_RET(ti.tcpi_snd_wscale, ws);
		CONF_RET(ti.tcpi_rcv_wscale, ws);
		CONF_RET(ti.tcpi_advmss, 65483);
		CONF_RET(ti.tcpi_pmtu, 65535);
		cr_assert(ti.tcpi_rtt < 10000, "%s: tcpi_rtt %u us on lo", api->name, ti.tcpi_rtt);
		cr_assert(ti.tcpi_rttvar < 10000, "%s: tcpi_rttvar %u us on lo", api->name,
			  ti.tcpi_rttvar);
		cr_assert(ti.tcpi_rto >= 200000 && ti.tcpi_rto < 300000, "%s: tcpi_rto %u us",
			  api->name, ti.tcpi_rto);
		cr_assert(ti.tcpi_snd_cwnd >= 10, "%s: tcpi_snd_cwnd %u", api->name,
			  ti.tcpi_snd_cwnd);
	}
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * The kernel's struct tcp_info goes on past glibc's (ss -i shows these
 * fields): its layout from tcpi_total_retrans on, as in <linux/tcp.h>
 * (which cannot be included with <netinet/tcp.h>).
 */
struct tcp_info_more {
	struct tcp_info base;		/* up to tcpi_total_retrans */
	uint64_t pacing_rate, max_pacing_rate;
	uint64_t bytes_acked, bytes_received;
	uint32_t segs_out, segs_in;
	uint32_t notsent_bytes, min_rtt;
	uint32_t data_segs_in, data_segs_out;
	uint64_t delivery_rate;
	uint64_t busy_time, rwnd_limited, sndbuf_limited;
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;
	uint32_t dsack_dups, reord_seen;
	uint32_t rcv_ooopack;
	uint32_t snd_wnd;
};

static struct tcp_info_more tcp_info_more(const struct sockapi *api, int fd)
{
	struct tcp_info_more ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0xa5, sizeof(ti));
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l));
	cr_assert_eq(l, sizeof(ti), "%s: TCP_INFO optlen %u", api->name, l);
	return ti;
}

/*
 * The byte counters of TCP_INFO after 65536 bytes one way and 1000 back
 * on lo: tcpi_bytes_sent and tcpi_bytes_received count payload only;
 * tcpi_bytes_acked counts what the peer acknowledged, the client's SYN
 * included (65537; the server's SYN-ACK is not counted: 1000);
 * nothing retransmitted (tcpi_bytes_retrans 0), nothing unsent
 * (tcpi_notsent_bytes 0).  The whole struct is 280 bytes on Linux 6.18:
 * a larger optlen comes back as 280.
 */
CONFORMANCE(tcp_opts, tcp_info_counters, .timeout = 20)
{
	static char buf[65536];
	struct tcp_info_more tc, ts;
	unsigned char big[400];
	socklen_t len = sizeof(big);
	struct sockaddr_in a;
	int l, c, s;
	size_t got;

	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	OK(api->getsockopt(c, IPPROTO_TCP, TCP_INFO, big, &len));
	CONF_RET(len, 280);
	CONF_RET(api->send(c, buf, sizeof(buf), 0), sizeof(buf));
	for (got = 0; got < sizeof(buf);)
		got += (size_t)OK(api->recv(s, buf, sizeof(buf) - got, 0));
	CONF_RET(api->send(s, buf, 1000, 0), 1000);
	for (got = 0; got < 1000;)
		got += (size_t)OK(api->recv(c, buf, 1000 - got, 0));
	api->sleep_ms(50);
	tc = tcp_info_more(api, c);
	ts = tcp_info_more(api, s);
	CONF_RET(tc.bytes_sent, 65536);
	CONF_RET(tc.bytes_received, 1000);
	CONF_RET(tc.bytes_acked, 65537);
	CONF_RET(tc.bytes_retrans, 0);
	CONF_RET(tc.notsent_bytes, 0);
	CONF_RET(ts.bytes_sent, 1000);
	CONF_RET(ts.bytes_received, 65536);
	CONF_RET(ts.bytes_acked, 1000);
	CONF_RET(ts.bytes_retrans, 0);
	CONF_RET(ts.notsent_bytes, 0);
	CONF_RET(tc.data_segs_in, 1);
	CONF_RET(ts.data_segs_out, 1);
	cr_assert(tc.data_segs_out >= 2 && tc.data_segs_out == ts.data_segs_in,
		  "%s: data segments out %u in %u", api->name, tc.data_segs_out,
		  ts.data_segs_in);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * TCP_INFO against the ioctls with the peer's window closed (the peer,
 * SO_RCVBUF 4096, does not read): tcpi_notsent_bytes is SIOCOUTQNSD,
 * tcpi_snd_wnd is 0 and nothing is unacknowledged (tcpi_unacked 0, all
 * of SIOCOUTQ unsent); a zero-window probe is pending (tcpi_probes
 * counts them, tcpi_backoff too).
 */
CONFORMANCE(tcp_opts, tcp_info_zero_window, .timeout = 20)
{
	static char pat[65536];
	struct tcp_info_more ti;
	ssize_t r;
	int c, s, outq, nsd;

	api->close(conf_tcp_small_pair(api, &c, &s));
	for (int round = 0; round < 20; round++) {
		int n = 0;

		while ((r = api->send(c, pat, 1000, MSG_DONTWAIT)) > 0)
			n++;
		if (n == 0 && round > 0)
			break;
		api->sleep_ms(250);
	}
	api->sleep_ms(500);
	OK(api->ioctl(c, SIOCOUTQ, &outq));
	OK(api->ioctl(c, SIOCOUTQNSD, &nsd));
	ti = tcp_info_more(api, c);
	CONF_RET(ti.notsent_bytes, nsd);
	CONF_RET(nsd, outq);
	CONF_RET(ti.snd_wnd, 0);
	CONF_RET(ti.base.tcpi_unacked, 0);
	cr_assert(ti.base.tcpi_probes > 0 || ti.base.tcpi_backoff > 0,
		  "%s: probes %u backoff %u", api->name, ti.base.tcpi_probes,
		  ti.base.tcpi_backoff);
	CONF_RET(ti.base.tcpi_retransmits, 0);
	api->close(c);
	api->close(s);
}

/* ---- TCP_QUICKACK ------------------------------------------------------------ */

/*
 * TCP_QUICKACK reads 1 on a fresh socket (not in pingpong mode); setting 0
 * enters pingpong (delayed ACK) mode and reads 0; any non-zero value leaves
 * it and reads 1.  The same on a connected socket.
 */
CONFORMANCE(tcp_opts, quickack_values, .timeout = 10)
{
	struct sockaddr_in a;
	int fd, l, c, s;

	fd = conf_tcp_socket(api, 0);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_QUICKACK), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_QUICKACK, 0), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_QUICKACK, 1), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_QUICKACK, 0), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_QUICKACK, 7), 1);
	api->close(fd);

	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_TCP, TCP_QUICKACK), 1);
	CONF_RET(set_get(api, c, IPPROTO_TCP, TCP_QUICKACK, 0), 0);
	CONF_RET(set_get(api, c, IPPROTO_TCP, TCP_QUICKACK, 1), 1);
	api->close(c);
	api->close(s);
	api->close(l);
}

/* ---- TCP_USER_TIMEOUT -------------------------------------------------------- */

/*
 * R-ERR-EINVAL: TCP_USER_TIMEOUT reads 0 by default and any value >= 0 set
 * (milliseconds) reads back; a negative one is EINVAL.
 */
CONFORMANCE(tcp_opts, user_timeout_values, .timeout = 10)
{
	int fd = conf_tcp_socket(api, 0);

	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500), 1500);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, INT_MAX), INT_MAX);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, -1), EINVAL);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), INT_MAX);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 0), 0);
	api->close(fd);
}

/*
 * Make B vanish for A: A's neighbour entry for B gets a MAC nobody has, so
 * everything A sends is dropped by B's veth1 (another host's frame), with
 * no carrier change, route error or ICMP to muddle the outcome.
 */
static void vanish_b(const struct sockapi *api)
{
	cr_assert(api->topo("A: neigh replace 198.18.0.2 lladdr 02:00:00:00:00:99 dev veth0 "
			    "nud permanent") == 0, "%s: neigh replace", api->name);
	cr_assert(api->enter("A") == 0);
}

/*
 * TCP_USER_TIMEOUT 2000 ms and a peer that vanished (see vanish_b): 100
 * bytes sent stay unacknowledged (SIOCOUTQ 100, SIOCOUTQNSD 0: all sent)
 * and are retransmitted (tcpi_retransmits, tcpi_total_retrans > 0, RTO
 * backing off); no error before 2 s; the connection is aborted with
 * ETIMEDOUT soon after 2 s (the user timeout counts from the head
 * segment's first transmission, retrans_stamp, and the last RTO is
 * clamped to the time left, tcp_clamp_rto_to_user_timeout), long before
 * tcp_retries2 would end it.  Then the socket is CLOSE and recv and send
 * say so.
 *
 * The first retransmission is awaited by polling rather than after a fixed
 * sleep: on a loaded machine the kernel's handshake RTT sample, and so its
 * first RTO, can be hundreds of milliseconds (seen in CI under the
 * sanitizers with a 600 ms sleep).  The 2 s timeout leaves room for that.
 * tcpi_retransmits counts RTO expiries only; the tail loss probe that
 * comes first raises tcpi_total_retrans alone, on both stacks.
 */
CONFORMANCE(tcp_opts, user_timeout_aborts, .timeout = 30)
{
	static char data[100];
	struct tcp_info ti;
	char b[4];
	int l, c, s, v, waited;

	pair_setup(api, &l, NULL);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	pair_connect(api, l, c, &s);
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_USER_TIMEOUT, 2000));
	vanish_b(api);
	CONF_RET(api->send(c, data, sizeof(data), 0), sizeof(data));
	for (waited = 0; waited < 1800; waited += 10) {
		api->sleep_ms(10);
		ti = conf_tcp_info(api, c);
		if (ti.tcpi_retransmits > 0)
			break;
	}
	OK(api->ioctl(c, SIOCOUTQ, &v));
	CONF_RET(v, 100);
	OK(api->ioctl(c, SIOCOUTQNSD, &v));
	CONF_RET(v, 0);
	ti = conf_tcp_info(api, c);
	CONF_RET(ti.tcpi_state, TCP_ESTABLISHED);
	cr_assert(ti.tcpi_retransmits > 0 && ti.tcpi_total_retrans > 0,
		  "%s: retransmits %u total %u after %d ms", api->name, ti.tcpi_retransmits,
		  ti.tcpi_total_retrans, waited);
	cr_assert(ti.tcpi_rto >= 400000, "%s: tcpi_rto %u", api->name, ti.tcpi_rto);
	for (; waited < 8000; waited += 10) {
		if (conf_tcp_wait(api, c, POLLERR, 0) & POLLERR)
			break;
		api->sleep_ms(10);
	}
	cr_assert(waited >= 1900 && waited <= 4500, "%s: aborted after %d ms, want ~2000",
		  api->name, waited);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_CLOSE);
	FAILS(api->recv(c, b, sizeof(b), 0), ETIMEDOUT);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	FAILS(api->send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	pair_teardown(api, c, s, l, true);
}

/*
 * A connect to a peer that never answers (see vanish_b) gives up with
 * ETIMEDOUT (poll: POLLOUT|POLLERR|POLLHUP) when TCP_SYNCNT or
 * TCP_USER_TIMEOUT says so.  TCP_SYNCNT 1: the time allowed is what one
 * retransmission with exponential back-off would take (1 + 2 s,
 * tcp_model_timeout), but the first SYN retransmissions are 1 s apart
 * (tcp_syn_linear_timeouts): SYNs at 0, 1 and 2 s, failure at 3 s.
 * TCP_USER_TIMEOUT 1500 ms: SYNs at 0 and 1 s, failure at 1.5 s (the RTO
 * clamped to the time left).
 */
CONFORMANCE(tcp_opts, connect_timeouts, .timeout = 30)
{
	static const struct {
		int opt, val, lo_ms, hi_ms, syns;
	} t[] = {
		{ TCP_SYNCNT, 1, 2800, 3600, 3 },
		{ TCP_USER_TIMEOUT, 1500, 1400, 2000, 2 },
	};
	struct sockaddr_in b = sin4("198.18.0.2", 80);
	struct conf_tcp_seg g[16];
	int c, cap, n, syns, waited;
	short rev;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	vanish_b(api);
	for (size_t r = 0; r < sizeof(t) / sizeof(t[0]); r++) {
		c = conf_tcp_socket(api, SOCK_NONBLOCK);
		OK(conf_tcp_set_int(api, c, IPPROTO_TCP, t[r].opt, t[r].val));
		FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
		for (waited = 0; waited < 10000; waited += 10) {
			rev = conf_tcp_wait(api, c, POLLOUT, 0);
			if (rev)
				break;
			api->sleep_ms(10);
		}
		cr_assert(waited >= t[r].lo_ms && waited <= t[r].hi_ms,
			  "%s: round %zu: connect failed after %d ms", api->name, r, waited);
		CONF_RET(rev, POLLOUT | POLLERR | POLLHUP);
		CONF_RET(conf_tcp_so_error(api, c), ETIMEDOUT);
		n = take_segs(api, cap, g, 16);
		syns = 0;
		for (int i = 0; i < n && i < 16; i++)
			syns += g[i].from_a && g[i].flags == TH_SYN_;
		CONF_RET(syns, t[r].syns);
		api->close(c);
	}
	api->enter("");
}

/* ---- TCP_DEFER_ACCEPT -------------------------------------------------------- */

/*
 * TCP_DEFER_ACCEPT takes seconds and keeps them as a count of SYN-ACK
 * retransmissions (secs_to_retrans, 1 s doubling up to 120 s), so it reads
 * back rounded up to a whole retransmission: 1 -> 1, 2 -> 3, 5 -> 7,
 * 0 or negative -> 0.
 */
CONFORMANCE(tcp_opts, defer_accept_values, .timeout = 10)
{
	int fd = conf_tcp_socket(api, 0);

	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 2), 3);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5), 7);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 0), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, -5), 0);
	api->close(fd);
}

/*
 * TCP_DEFER_ACCEPT on a listener: the client's connect completes, but
 * accept has nothing (poll no POLLIN, accept on the non-blocking listener
 * EAGAIN; a blocking one would wait) until
 * the client sends data; then the connection is accepted with the data
 * readable.  A client that sends nothing is accepted anyway once the
 * deferral (1 s, one SYN-ACK retransmission) has run out.
 */
CONFORMANCE(tcp_opts, defer_accept_waits_for_data, .timeout = 20)
{
	struct sockaddr_in a;
	char b[8];
	int l, c, s, i;

	a = sin4("127.0.0.1", PORT);
	l = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 8));
	OK(conf_tcp_set_int(api, l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1));
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	api->sleep_ms(300);
	cr_assert_eq(conf_tcp_wait(api, l, POLLIN, 0), 0, "%s: acceptable before any data",
		     api->name);
	FAILS(api->accept4(l, NULL, NULL, 0), EAGAIN);
	CONF_RET(api->send(c, "data", 4, 0), 4);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN, "%s: not acceptable after data",
		  api->name);
	s = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 4);
	cr_assert(memcmp(b, "data", 4) == 0);
	api->close(s);
	api->close(c);

	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	api->sleep_ms(300);
	cr_assert_eq(conf_tcp_wait(api, l, POLLIN, 0), 0);
	for (i = 300; i < 5000; i += 10) {
		if (conf_tcp_wait(api, l, POLLIN, 0) & POLLIN)
			break;
		api->sleep_ms(10);
	}
	cr_assert(i >= 700 && i < 4000, "%s: accepted after %d ms without data", api->name, i);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(conf_tcp_info(api, s).tcpi_state, TCP_ESTABLISHED);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- TCP_CONGESTION ---------------------------------------------------------- */

/* TCP_CONGESTION of fd as a string. */
static void get_cc(const struct sockapi *api, int fd, char *name, size_t n)
{
	socklen_t len = (socklen_t)n;

	memset(name, 0x7f, n);
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len));
	cr_assert(len > 0 && len <= n, "%s: TCP_CONGESTION optlen %u", api->name, len);
	name[n - 1] = '\0';
}

/*
 * TCP_CONGESTION: optlen comes back as 16 (TCP_CA_NAME_MAX), the name
 * NUL-padded; every fresh socket, listener and accepted socket has the
 * same default.  Setting "reno" works before and after connecting, and so
 * does "cubic" (root may pick any available one); an unknown name is
 * ENOENT and changes nothing; the name need not be NUL-terminated (optlen
 * bounds it); optlen 0 is EINVAL.  A listener's own choice passes to the
 * sockets it accepts.
 */
CONFORMANCE(tcp_opts, congestion, .timeout = 10)
{
	char def[32], name[16];
	struct sockaddr_in a;
	socklen_t len = sizeof(name);
	int fd, l, c, s;

	fd = conf_tcp_socket(api, 0);
	memset(def, 0x7f, sizeof(def));
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, def, &len));
	CONF_RET(len, 16);
	cr_assert(def[0] != 0, "%s: empty TCP_CONGESTION", api->name);
	for (size_t i = strlen(def); i < 16; i++)
		cr_assert_eq(def[i], 0, "%s: byte %zu of the name is %#x", api->name, i, def[i]);
	len = 3;
	OK(api->getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len));
	cr_assert(len == 3 && memcmp(name, def, 3) == 0, "%s: 3-byte get: %u", api->name, len);

	OK(api->setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 5));
	get_cc(api, fd, name, sizeof(name));
	cr_assert_str_eq(name, "reno");
	FAILS(api->setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "nosuchcc", 9), ENOENT);
	get_cc(api, fd, name, sizeof(name));
	cr_assert_str_eq(name, "reno");
	OK(api->setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubicXYZ", 5));
	get_cc(api, fd, name, sizeof(name));
	cr_assert_str_eq(name, "cubic");
	FAILS(api->setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 0), EINVAL);
	api->close(fd);

	l = conf_tcp_lo_listener(api, &a);
	get_cc(api, l, name, sizeof(name));
	cr_assert_str_eq(name, def);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	get_cc(api, c, name, sizeof(name));
	cr_assert_str_eq(name, def);
	get_cc(api, s, name, sizeof(name));
	cr_assert_str_eq(name, def);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 5));
	get_cc(api, c, name, sizeof(name));
	cr_assert_str_eq(name, "reno");
	CONF_RET(api->send(c, "x", 1, 0), 1);
	CONF_RET(api->recv(s, name, 1, 0), 1);
	api->close(c);
	api->close(s);

	OK(api->setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, "reno", 5));
	conf_tcp_pair_on(api, l, &a, &c, &s);
	get_cc(api, s, name, sizeof(name));
	cr_assert_str_eq(name, "reno", "%s: accepted socket uses %s", api->name, name);
	get_cc(api, c, name, sizeof(name));
	cr_assert_str_eq(name, def);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * The default TCP_CONGESTION is the namespace's
 * net.ipv4.tcp_congestion_control (a new kernel namespace inherits the
 * host's: cubic unless the host chose otherwise, as this one may have),
 * read when a socket is made.  After the sysctl is changed (to reno, or
 * to cubic where reno was the default), fresh sockets report the new
 * default; so do the sockets accepted by a listener made before the change
 * that never chose (tcp_ca_openreq_child assigns the current default),
 * while one that chose by setsockopt passes its choice on whatever the
 * default.
 */
CONFORMANCE(tcp_opts, congestion_default_is_the_sysctl, .timeout = 10)
{
	char sys[32], name[16];
	const char *other, *chosen;
	struct sockaddr_in a, a2 = sin4("127.0.0.1", PORT + 1);
	int fd, l, l2, c, s;

	cr_assert(conf_sysctl_get(api, NULL, "net.ipv4.tcp_congestion_control", sys,
				  sizeof(sys)) == 0, "%s: sysctl tcp_congestion_control",
		  api->name);
	sys[strcspn(sys, "\n ")] = '\0';
	fd = conf_tcp_socket(api, 0);
	get_cc(api, fd, name, sizeof(name));
	cr_assert_str_eq(name, sys, "%s: TCP_CONGESTION \"%s\", sysctl \"%s\"", api->name,
			 name, sys);
	api->close(fd);
	other = strcmp(sys, "reno") != 0 ? "reno" : "cubic";
	chosen = strcmp(sys, "cubic") != 0 ? "cubic" : "reno";

	l = conf_tcp_lo_listener(api, &a);
	l2 = conf_tcp_socket(api, 0);
	OK(api->bind(l2, SA(&a2), sizeof(a2)));
	OK(api->listen(l2, 8));
	OK(api->setsockopt(l2, IPPROTO_TCP, TCP_CONGESTION, chosen, strlen(chosen)));
	cr_assert(conf_sysctl(api, NULL, "net.ipv4.tcp_congestion_control", other) == 0);
	fd = conf_tcp_socket(api, 0);
	get_cc(api, fd, name, sizeof(name));
	cr_assert_str_eq(name, other);
	api->close(fd);

	get_cc(api, l, name, sizeof(name));
	cr_assert_str_eq(name, sys);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	get_cc(api, s, name, sizeof(name));
	cr_assert_str_eq(name, other, "%s: accepted socket uses %s", api->name, name);
	api->close(c);
	api->close(s);
	conf_tcp_pair_on(api, l2, &a2, &c, &s);
	get_cc(api, s, name, sizeof(name));
	cr_assert_str_eq(name, chosen, "%s: accepted socket uses %s", api->name, name);
	api->close(c);
	api->close(s);
	api->close(l2);
	api->close(l);
}

/* ---- SO_SNDBUF, SO_RCVBUF ---------------------------------------------------- */

/*
 * On TCP SO_SNDBUF and SO_RCVBUF start at tcp_wmem[1] and tcp_rmem[1];
 * a value set is doubled, with the minimums 4608 and 2304 and the caps
 * 2 * wmem_max and 2 * rmem_max.  Left alone, the send buffer grows when
 * the connection is set up (tcp_sndbuf_expand: with CUBIC, 2 x 10 initial
 * segments of 131328 bytes each on lo (65483 rounded up to a power of two
 * with headers, plus struct sk_buff), capped at tcp_wmem[2]), the receive
 * buffer stays tcp_rmem[1].  Setting one locks it: a connection whose
 * buffers were set keeps exactly those values (no growth), and the
 * listener's settings pass to the sockets it accepts.
 */
CONFORMANCE(tcp_opts, buffers_doubling_and_locking, .timeout = 20)
{
	static char buf[65536];
	struct sockaddr_in a;
	long wdef = sysctl_nth(api, "net.ipv4.tcp_wmem", 1);
	long rdef = sysctl_nth(api, "net.ipv4.tcp_rmem", 1);
	long wmax = sysctl_long(api, "net.core.wmem_max");
	long rmax = sysctl_long(api, "net.core.rmem_max");
	long wmax3;
	int fd, l, c, s;
	size_t got;

	fd = conf_tcp_socket(api, 0);
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_SNDBUF), wdef);
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVBUF), rdef);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 10000), 20000);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 10000), 20000);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 1), 4608);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 1), 2304);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, INT_MAX), 2 * wmax);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, INT_MAX), 2 * rmax);
	api->close(fd);

	l = conf_tcp_lo_listener(api, &a);
	OK(api->setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5));
	c = conf_tcp_socket(api, 0);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5));
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	wmax3 = sysctl_nth(api, "net.ipv4.tcp_wmem", 2);
	CONF_RET(conf_tcp_get_int(api, c, SOL_SOCKET, SO_SNDBUF),
		 wmax3 < 2626560 ? wmax3 : 2626560);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_SNDBUF),
		 wmax3 < 2626560 ? wmax3 : 2626560);
	CONF_RET(conf_tcp_get_int(api, c, SOL_SOCKET, SO_RCVBUF), rdef);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_RCVBUF), rdef);
	api->close(c);
	api->close(s);

	OK(conf_tcp_set_int(api, l, SOL_SOCKET, SO_SNDBUF, 30000));
	OK(conf_tcp_set_int(api, l, SOL_SOCKET, SO_RCVBUF, 40000));
	c = conf_tcp_socket(api, 0);
	OK(conf_tcp_set_int(api, c, SOL_SOCKET, SO_SNDBUF, 50000));
	OK(conf_tcp_set_int(api, c, SOL_SOCKET, SO_RCVBUF, 60000));
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	for (int dir = 0; dir < 2; dir++) {
		int from = dir ? s : c, to = dir ? c : s;

		CONF_RET(api->send(from, buf, sizeof(buf), 0), sizeof(buf));
		for (got = 0; got < sizeof(buf);)
			got += (size_t)OK(api->recv(to, buf, sizeof(buf) - got, 0));
	}
	CONF_RET(conf_tcp_get_int(api, c, SOL_SOCKET, SO_SNDBUF), 100000);
	CONF_RET(conf_tcp_get_int(api, c, SOL_SOCKET, SO_RCVBUF), 120000);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_SNDBUF), 60000);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_RCVBUF), 80000);
	api->close(c);
	api->close(s);
	api->close(l);
}

/* ---- keepalive --------------------------------------------------------------- */

/*
 * R-ERR-EINVAL: SO_KEEPALIVE reads 0, and 1 for any non-zero value.
 * TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT read the namespace's
 * tcp_keepalive_time, _intvl and _probes (7200, 75, 9) until set; IDLE
 * and INTVL take 1..32767 seconds, CNT 1..127; 0, negative or larger
 * values are EINVAL and change nothing.  A listener's SO_KEEPALIVE and
 * TCP_KEEP* pass to the sockets it accepts.
 */
CONFORMANCE(tcp_opts, keepalive_values, .timeout = 10)
{
	struct sockaddr_in a;
	int fd = conf_tcp_socket(api, 0), l, c, s;

	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_KEEPALIVE, 3), 1);
	CONF_RET(set_get(api, fd, SOL_SOCKET, SO_KEEPALIVE, 0), 0);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPIDLE),
		 sysctl_long(api, "net.ipv4.tcp_keepalive_time"));
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPINTVL),
		 sysctl_long(api, "net.ipv4.tcp_keepalive_intvl"));
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPCNT),
		 sysctl_long(api, "net.ipv4.tcp_keepalive_probes"));
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPCNT), 9);

	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_KEEPIDLE, 1), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_KEEPIDLE, 32767), 32767);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPIDLE, 0), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPIDLE, 32768), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPIDLE, -1), EINVAL);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPIDLE), 32767);

	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_KEEPINTVL, 1), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_KEEPINTVL, 32767), 32767);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPINTVL, 0), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPINTVL, 32768), EINVAL);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPINTVL), 32767);

	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_KEEPCNT, 1), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_KEEPCNT, 127), 127);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPCNT, 0), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_KEEPCNT, 128), EINVAL);
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_KEEPCNT), 127);
	FAILS(api->setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, "", 1), EINVAL);
	api->close(fd);

	l = conf_tcp_lo_listener(api, &a);
	OK(conf_tcp_set_int(api, l, SOL_SOCKET, SO_KEEPALIVE, 1));
	OK(conf_tcp_set_int(api, l, IPPROTO_TCP, TCP_KEEPIDLE, 11));
	OK(conf_tcp_set_int(api, l, IPPROTO_TCP, TCP_KEEPINTVL, 12));
	OK(conf_tcp_set_int(api, l, IPPROTO_TCP, TCP_KEEPCNT, 13));
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_KEEPALIVE), 1);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_KEEPIDLE), 11);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_KEEPINTVL), 12);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_TCP, TCP_KEEPCNT), 13);
	CONF_RET(conf_tcp_get_int(api, c, SOL_SOCKET, SO_KEEPALIVE), 0);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * SO_KEEPALIVE with TCP_KEEPIDLE 1, TCP_KEEPINTVL 1, TCP_KEEPCNT 3 on an
 * idle connection across veth: A sends a probe about once a second, an
 * empty ACK whose sequence number is one below the next to send
 * (tcp_xmit_probe_skb), and B answers each; nothing else crosses.  Then B
 * vanishes (vanish_b): the probes go unanswered, and after TCP_KEEPCNT of
 * them, about 1 + 3 s after the last answered one, the connection is
 * aborted with ETIMEDOUT.
 */
CONFORMANCE(tcp_opts, keepalive_probes_on_the_wire, .timeout = 30)
{
	struct conf_tcp_seg g[64];
	struct tcp_info ti;
	char b[4];
	int l, c, s, cap, n, probes = 0, answers = 0, waited, err;
	uint32_t una;

	pair_setup(api, &l, &cap);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(conf_tcp_set_int(api, c, SOL_SOCKET, SO_KEEPALIVE, 1));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_KEEPIDLE, 1));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_KEEPINTVL, 1));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_KEEPCNT, 3));
	pair_connect(api, l, c, &s);
	api->sleep_ms(100);
	n = take_segs(api, cap, g, 64);
	cr_assert(n >= 3 && n <= 64);
	una = g[n - 1].from_a ? g[n - 1].seq : g[n - 1].ack;
	api->sleep_ms(3500);
	n = take_segs(api, cap, g, 64);
	cr_assert(n <= 64, "%s: %d segments in 3.5 s", api->name, n);
	for (int i = 0; i < n; i++) {
		if (g[i].from_a) {
			cr_assert(g[i].flags == TH_ACK_ && g[i].len == 0 && g[i].seq == una - 1,
				  "%s: probe %d: flags %#x len %zu seq %u (next %u)", api->name,
				  probes, g[i].flags, g[i].len, g[i].seq, una);
			probes++;
		} else {
			cr_assert(g[i].flags == TH_ACK_ && g[i].len == 0 && g[i].ack == una,
				  "%s: answer: flags %#x len %zu ack %u", api->name, g[i].flags,
				  g[i].len, g[i].ack);
			answers++;
		}
	}
	cr_assert(probes >= 2 && probes <= 4 && answers == probes,
		  "%s: %d probes, %d answers in 3.5 s", api->name, probes, answers);
	ti = conf_tcp_info(api, c);
	CONF_RET(ti.tcpi_state, TCP_ESTABLISHED);

	vanish_b(api);
	for (waited = 0; waited < 10000; waited += 10) {
		if (conf_tcp_wait(api, c, POLLERR, 0) & POLLERR)
			break;
		api->sleep_ms(10);
	}
	cr_assert(waited >= 2000 && waited <= 5500,
		  "%s: keepalive abort after %d ms, want 3 to 4 s", api->name, waited);
	err = conf_tcp_so_error(api, c);
	CONF_RET(err, ETIMEDOUT);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_CLOSE);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	pair_teardown(api, c, s, l, true);
}

/*
 * TCP_USER_TIMEOUT also bounds keepalive (tcp_keepalive_timer): with
 * TCP_KEEPCNT 100 (alone, ~100 s of probes) and a user timeout of 2.5 s,
 * a peer that vanished is given up once 2.5 s passed since it was last
 * heard from and at least one probe went unanswered: ETIMEDOUT within
 * about 2.5 s of its vanishing, never at the probe count.
 */
CONFORMANCE(tcp_opts, keepalive_user_timeout, .timeout = 30)
{
	int l, c, s, waited;

	pair_setup(api, &l, NULL);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(conf_tcp_set_int(api, c, SOL_SOCKET, SO_KEEPALIVE, 1));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_KEEPIDLE, 1));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_KEEPINTVL, 1));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_KEEPCNT, 100));
	OK(conf_tcp_set_int(api, c, IPPROTO_TCP, TCP_USER_TIMEOUT, 2500));
	pair_connect(api, l, c, &s);
	api->sleep_ms(1500);
	vanish_b(api);
	for (waited = 0; waited < 10000; waited += 10) {
		if (conf_tcp_wait(api, c, POLLERR, 0) & POLLERR)
			break;
		api->sleep_ms(10);
	}
	cr_assert(waited >= 1500 && waited <= 4000,
		  "%s: keepalive abort after %d ms, want ~2.5 s", api->name, waited);
	CONF_RET(conf_tcp_so_error(api, c), ETIMEDOUT);
	CONF_RET(conf_tcp_info(api, c).tcpi_state, TCP_CLOSE);
	pair_teardown(api, c, s, l, true);
}

/*
 * R-ERR-EINVAL: more per-connection knobs.  TCP_SYNCNT reads
 * tcp_syn_retries (6) until set and takes 1..127.  TCP_LINGER2 reads
 * tcp_fin_timeout (60); a negative value reads -1, 0 goes back to the
 * default, above 120 s (TCP_FIN_TIMEOUT_MAX) it reads 120.
 * TCP_WINDOW_CLAMP reads 0; a value below half SOCK_MIN_RCVBUF reads 1152
 * (and so does a negative one); 0 on an unconnected socket clears it.
 * TCP_NOTSENT_LOWAT reads 0 (the sysctl applies) and any value back.
 */
CONFORMANCE(tcp_opts, more_values, .timeout = 10)
{
	int fd = conf_tcp_socket(api, 0);

	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_SYNCNT),
		 sysctl_long(api, "net.ipv4.tcp_syn_retries"));
	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_SYNCNT), 6);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_SYNCNT, 0), EINVAL);
	FAILS(conf_tcp_set_int(api, fd, IPPROTO_TCP, TCP_SYNCNT, 128), EINVAL);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_SYNCNT, 1), 1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_SYNCNT, 127), 127);

	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_LINGER2),
		 sysctl_long(api, "net.ipv4.tcp_fin_timeout"));
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_LINGER2, -5), -1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_LINGER2, 30), 30);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_LINGER2, 200), 120);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_LINGER2, 0), 60);

	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 100), 1152);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 5000), 5000);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, -1), 1152);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 0), 0);

	CONF_RET(conf_tcp_get_int(api, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 0);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 100), 100);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, -1), -1);
	CONF_RET(set_get(api, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0), 0);
	api->close(fd);
}

/* ---- SOL_IP on a TCP socket -------------------------------------------------- */

/*
 * R-ERR-EINVAL: IP_TTL on a stream socket reads its value as on UDP
 * (do_ip_setsockopt): a whole int from optlen 4, the first byte alone
 * from optlen 1 to 3, so a first byte 0 is TTL 0 and EINVAL; optlen 0 is
 * EINVAL.  The sockets a listener accepts take its TTL; -1 gives the
 * namespace default back.
 */
CONFORMANCE(tcp_opts, ip_ttl_short_optlen, .timeout = 10)
{
	unsigned char b[4] = { 0, 1, 2, 3 };
	int def = (int)sysctl_long(api, "net.ipv4.ip_default_ttl");
	struct sockaddr_in a;
	int l = conf_tcp_lo_listener(api, &a), c, s;

	FAILS(api->setsockopt(l, IPPROTO_IP, IP_TTL, b, 0), EINVAL);
	CONF_RET(conf_tcp_get_int(api, l, IPPROTO_IP, IP_TTL), def);
	for (socklen_t len = 1; len <= 3; len++) {
		b[0] = (unsigned char)(40 + len);
		OK(api->setsockopt(l, IPPROTO_IP, IP_TTL, b, len));
		CONF_RET(conf_tcp_get_int(api, l, IPPROTO_IP, IP_TTL), 40 + len);
	}
	/* four bytes are the int 0x0302012b: out of range */
	FAILS(api->setsockopt(l, IPPROTO_IP, IP_TTL, b, 4), EINVAL);
	b[0] = 0;
	FAILS(api->setsockopt(l, IPPROTO_IP, IP_TTL, b, 2), EINVAL);
	CONF_RET(conf_tcp_get_int(api, l, IPPROTO_IP, IP_TTL), 43);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_IP, IP_TTL), 43);
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_IP, IP_TTL), def);
	b[0] = 0xff;
	OK(api->setsockopt(c, IPPROTO_IP, IP_TTL, b, 2));
	CONF_RET(conf_tcp_get_int(api, c, IPPROTO_IP, IP_TTL), 255);
	CONF_RET(set_get(api, c, IPPROTO_IP, IP_TTL, -1), def);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * (no ID) IP_TOS on a stream socket keeps the socket's own ECN bits
 * (__ip_sock_set_tos: they belong to TCP's ECN), and a change of the
 * rest sets SO_PRIORITY from the TOS class as on UDP (rt_tos2priority:
 * 0x10 interactive 6, 0x08 bulk 2, 0x18 interactive bulk 4, else 0).  A
 * value that differs only in ECN bits is no change, so a priority set
 * since stays.  The sockets a listener accepts take its TOS.
 */
CONFORMANCE(tcp_opts, ip_tos_sets_priority, .timeout = 10)
{
	/* prio_first: SO_PRIORITY set just before the TOS (-1: not) */
	static const struct {
		int prio_first, tos, want, prio;
	} cases[] = {
		{ -1, 0x10, 0x10, 6 }, { -1, 0x13, 0x10, 6 }, { -1, 0x08, 0x08, 2 },
		{ -1, 0x1b, 0x18, 4 }, { -1, 0x06, 0x04, 0 }, { -1, 0xb9, 0xb8, 4 },
		{ -1, 0x03, 0x00, 0 }, { -1, 0x10, 0x10, 6 }, { 5, 0x11, 0x10, 5 },
		{ 3, 0x10, 0x10, 3 },  { 5, 0x0a, 0x08, 2 },
	};
	struct sockaddr_in a;
	int l = conf_tcp_lo_listener(api, &a), c, s;

	CONF_RET(conf_tcp_get_int(api, l, SOL_SOCKET, SO_PRIORITY), 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].prio_first >= 0)
			OK(conf_tcp_set_int(api, l, SOL_SOCKET, SO_PRIORITY, cases[i].prio_first));
		CONF_RET(set_get(api, l, IPPROTO_IP, IP_TOS, cases[i].tos), cases[i].want);
		cr_assert_eq(conf_tcp_get_int(api, l, SOL_SOCKET, SO_PRIORITY), cases[i].prio,
			     "%s: case %u", api->name, i);
	}
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, s, IPPROTO_IP, IP_TOS), 0x08);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * R-ERR-ENOTCONN: IP_MTU is ENOTCONN without a connection (a fresh
 * socket, a listener); over lo both ends of a connection read 65535,
 * lo's 65536 capped at IP_MAX_MTU as dst_mtu caps it.
 */
CONFORMANCE(tcp_opts, ip_mtu_lo, .timeout = 10)
{
	int fd[4], v;	/* a fresh socket, a listener, a client, its accepted peer */
	socklen_t len = sizeof(v);

	fd[0] = conf_tcp_socket(api, 0);
	fd[1] = conf_tcp_lo_pair(api, &fd[2], &fd[3]);
	for (int i = 0; i < 4; i++) {
		if (i < 2)
			FAILS(api->getsockopt(fd[i], IPPROTO_IP, IP_MTU, &v, &len), ENOTCONN);
		else
			CONF_RET(conf_tcp_get_int(api, fd[i], IPPROTO_IP, IP_MTU), 65535);
	}
	for (int i = 0; i < 4; i++)
		api->close(fd[i]);
}

/*
 * TCP_INFO of a listener: tcpi_unacked is the accept queue's length and
 * tcpi_sacked the backlog (as `ss -l` shows them); tcpi_state LISTEN.
 */
CONFORMANCE(tcp_opts, tcp_info_listener, .timeout = 10)
{
	struct sockaddr_in a;
	struct tcp_info ti;
	int l, c1, c2, s;

	l = conf_tcp_lo_listener(api, &a);
	ti = conf_tcp_info(api, l);
	CONF_RET(ti.tcpi_state, TCP_LISTEN);
	CONF_RET(ti.tcpi_unacked, 0);
	CONF_RET(ti.tcpi_sacked, 8);
	c1 = conf_tcp_socket(api, 0);
	c2 = conf_tcp_socket(api, 0);
	OK(api->connect(c1, SA(&a), sizeof(a)));
	OK(api->connect(c2, SA(&a), sizeof(a)));
	api->sleep_ms(20);
	CONF_RET(conf_tcp_info(api, l).tcpi_unacked, 2);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(conf_tcp_info(api, l).tcpi_unacked, 1);
	api->close(s);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(conf_tcp_info(api, l).tcpi_unacked, 0);
	OK(api->listen(l, 3));
	CONF_RET(conf_tcp_info(api, l).tcpi_sacked, 3);
	api->close(s);
	api->close(c1);
	api->close(c2);
	api->close(l);
}
