/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_close.c - ending TCP connections: shutdown, FIN states, TIME_WAIT, SO_LINGER, RST
 *
 * Also what happens after close (RST to late data, orphaned FIN_WAIT2,
 * TIME_WAIT reuse) and segment validation hardened per RFC 5961 (RST,
 * SYN, ACK) in ESTABLISHED; the listener's side (SO_REUSEPORT, full
 * accept and SYN queues, SYN cookies), simultaneous open and SYN_SENT's
 * validation are in test_tcp_listen.c.  Scenarios on lo run in the
 * test's own namespace (real time on both stacks); the others use two
 * hosts (conf_topo_pair: a client on A 198.18.0.1, a server on B
 * 198.18.0.2; virtual time for usock) and wait by polling with zero
 * timeout between api->sleep_ms steps.  States are read from TCP_INFO's
 * tcpi_state; what crossed the link from a capture (SEGDUMP=1 in the
 * environment prints every captured segment, to compare the two stacks
 * by eye).
 *
 * Injection: some scenarios put hand-made segments on the link, sent out
 * of the other host's veth end (api->inject) so that they cross the link
 * (and the capture) as real ones do.
 *
 * Expected values are the kernel's (Linux 6.18).  Scenarios close every
 * socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT

/* ---- small helpers ------------------------------------------------------------- */

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
		cr_assert(conf_tcp_wait(api, fd, POLLIN, 3000) & POLLIN,
			  "%s: stalled after %zu bytes", api->name, got);
		r = api->recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		cr_assert(r >= 0, "%s: recv after %zu bytes: %s", api->name, got,
			  strerror(errno));
		if (r == 0)
			return got;
		got += (size_t)r;
	}
}

/* ---- the wire ---------------------------------------------------------------------- */

/* Assert g is B's challenge ACK: a bare ACK carrying B's snd_nxt and rcv_nxt. */
static void assert_challenge(const struct sockapi *api, const struct conf_tcp_seg *g, uint32_t seq,
			     uint32_t ack)
{
	cr_assert(!g->from_a && g->flags == TH_ACK_ && g->seq == seq && g->ack == ack &&
			  g->len == 0,
		  "%s: challenge ACK: flags %#x seq %u ack %u len %zu, want %#x %u %u 0",
		  api->name, g->flags, g->seq, g->ack, g->len, TH_ACK_, seq, ack);
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

	l = conf_tcp_listener(api, "127.0.0.1", PORT, 4, false, 0);
	c = conf_tcp_client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	FAILS(api->shutdown(c, 3), EINVAL);
	FAILS(api->shutdown(c, -1), EINVAL);
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	ASSERT_STATE(api, c, TCP_ESTABLISHED);
	CONF_RET(api->send(c, "to", 2, 0), 2);
	conf_tcp_expect(api, s, "to", 2);
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
	cr_assert(conf_tcp_wait(api, c, POLLHUP, 1000) & POLLHUP);
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
	struct conf_tcp_seg g[16];
	int c, s, cap, n;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	ASSERT_STATE(api, c, TCP_ESTABLISHED);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	ASSERT_STATE(api, c, TCP_FIN_WAIT1);
	api->sleep_ms(300);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE_WAIT);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	cr_assert(conf_tcp_wait(api, s, POLLHUP, 1000) & POLLHUP);
	api->sleep_ms(50);
	ASSERT_STATE(api, s, TCP_CLOSE);
	cr_assert(api->enter("A") == 0);
	ASSERT_STATE(api, c, TCP_CLOSE);
	api->sleep_ms(50);
	n = conf_tcp_take(api, cap, g, 16);
	CONF_RET(n, 4);
	cr_assert(g[0].from_a && g[0].flags == (TH_FIN_ | TH_ACK_) && g[0].len == 0,
		  "%s: 1st: flags %#x", api->name, g[0].flags);
	cr_assert(!g[1].from_a && g[1].flags == TH_ACK_ && g[1].ack == g[0].seq + 1,
		  "%s: 2nd: flags %#x", api->name, g[1].flags);
	cr_assert(!g[2].from_a && g[2].flags == (TH_FIN_ | TH_ACK_) && g[2].len == 0,
		  "%s: 3rd: flags %#x", api->name, g[2].flags);
	cr_assert(g[3].from_a && g[3].flags == TH_ACK_ && g[3].ack == g[2].seq + 1,
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

	conf_tcp_two_hosts(api, &c, &s, NULL, 4096, 4096);
	a_sent = conf_tcp_fill(api, c);
	cr_assert(api->enter("B") == 0);
	b_sent = conf_tcp_fill(api, s);
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
	conf_tcp_connect_ab(api, 81, 4096, 0, &c, &s);
	cr_assert(api->enter("A") == 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	api->sleep_ms(300);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE_WAIT);
	b_sent = conf_tcp_fill(api, s);
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

	c = conf_tcp_socket(api, 0);
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

	*fd = conf_tcp_socket(api, 0);
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

	l = conf_tcp_listener(api, "127.0.0.1", PORT, 4, true, 0);
	close_through(api, l, PORT, 0, false);
	api->close(l);
	FAILS(try_bind(api, PORT, false, &n), EADDRINUSE);
	api->close(n);
	CONF_RET(try_bind(api, PORT, true, &n), 0);
	CONF_RET(api->listen(n, 4), 0);
	c = conf_tcp_client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(n, NULL, NULL, 0));
	CONF_RET(api->send(c, "tw", 2, 0), 2);
	conf_tcp_expect(api, s, "tw", 2);
	api->close(s);
	api->close(c);
	api->close(n);

	l = conf_tcp_listener(api, "127.0.0.1", PORT + 1, 4, false, 0);
	close_through(api, l, PORT + 1, 0, false);
	api->close(l);
	FAILS(try_bind(api, PORT + 1, false, &n), EADDRINUSE);
	api->close(n);
	FAILS(try_bind(api, PORT + 1, true, &n), EADDRINUSE);
	api->close(n);

	l = conf_tcp_listener(api, "127.0.0.1", PORT + 2, 4, false, 0);
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
	struct conf_tcp_seg g[16], fin;
	char buf[4];
	int l, c, s, cap, n, u;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0, "%s: capture", api->name);
	cr_assert(api->enter("B") == 0);
	l = conf_tcp_listener(api, "198.18.0.2", 80, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(c, SA(&me), sizeof(me)));
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT, "%s: connect", api->name);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->enter("A") == 0);
	OK(api->close(c));
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, buf, sizeof(buf), 0), 0);
	OK(api->close(s));
	api->sleep_ms(100);
	cr_assert(api->enter("A") == 0);
	n = conf_tcp_take(api, cap, g, 16);
	cr_assert(n >= 2 && n <= 16);
	memset(&fin, 0, sizeof(fin));
	for (int i = 0; i < n; i++)
		if (!g[i].from_a && (g[i].flags & TH_FIN_))
			fin = g[i];
	cr_assert(fin.flags == (TH_FIN_ | TH_ACK_), "%s: B's FIN not seen", api->name);
	cr_assert(g[n - 1].from_a && g[n - 1].flags == TH_ACK_ && g[n - 1].ack == fin.seq + 1,
		  "%s: A's last segment: flags %#x", api->name, g[n - 1].flags);

	u = conf_tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&me), sizeof(me)), EADDRINUSE);
	api->close(u);
	/* B, with no socket left, would answer A's ACK with a RST: silence it */
	cr_assert(api->topo("B: addr del 198.18.0.2/24 dev veth1") == 0);
	conf_tcp_inject(api, &fin, TH_FIN_ | TH_ACK_, fin.seq, fin.ack, NULL);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 16), 2);
	cr_assert(g[1].from_a && g[1].flags == TH_ACK_ && g[1].ack == fin.seq + 1 &&
			  g[1].seq == fin.ack,
		  "%s: TIME_WAIT's answer: flags %#x seq %u ack %u", api->name, g[1].flags,
		  g[1].seq, g[1].ack);
	u = conf_tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&me), sizeof(me)), EADDRINUSE);
	api->close(u);

	conf_tcp_inject(api, &fin, TH_RST_, fin.seq + 1, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 16), 1);
	u = conf_tcp_socket(api, 0);
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
	struct conf_tcp_seg g[8];
	char b[8];
	int c, s, cap;
	uint32_t nxt_a, nxt_b;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->send(c, "abc", 3, 0), 3);
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect(api, s, "abc", 3);
	CONF_RET(api->send(s, "de", 2, 0), 2);
	cr_assert(api->enter("A") == 0);
	conf_tcp_expect(api, c, "de", 2);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 4);	/* data, ACK, data, ACK */
	cr_assert(g[0].from_a && g[0].len == 3 && !g[2].from_a && g[2].len == 2);
	nxt_a = g[0].seq + 3;
	nxt_b = g[2].seq + 2;
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(c));
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	cr_assert(g[0].from_a && g[0].flags == (TH_RST_ | TH_ACK_), "%s: flags %#x",
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
	struct conf_tcp_seg g[8];
	char b[8];
	int c, s, cap;
	uint32_t nxt_b;
	double t0;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	cr_assert(api->enter("B") == 0);
	CONF_RET(api->send(s, "unread", 6, 0), 6);
	cr_assert(api->enter("A") == 0);
	cr_assert(conf_tcp_wait(api, c, POLLIN, 1000) & POLLIN);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	nxt_b = g[0].seq + 6;
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	t0 = conf_now_ms();
	OK(api->close(c));
	cr_assert(conf_now_ms() - t0 < 1000, "%s: close lingered", api->name);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	cr_assert(g[0].from_a && g[0].flags == (TH_RST_ | TH_ACK_) && g[0].ack == nxt_b,
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

	l = conf_tcp_listener(api, "127.0.0.1", PORT, 4, false, 4096);
	for (int nonblock = 0; nonblock < 2; nonblock++) {
		c = conf_tcp_socket(api, 0);
		OK(api->setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
		{
			struct sockaddr_in a = sin4("127.0.0.1", PORT);

			OK(api->connect(c, SA(&a), sizeof(a)));
		}
		s = OK(api->accept4(l, NULL, NULL, 0));
		sent = conf_tcp_fill(api, c);
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
	c = conf_tcp_client(api, "127.0.0.1", PORT, 0);
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
	struct conf_tcp_seg g[8], tmpl;
	char b[8];
	int c, s, cap;
	uint32_t nxt_a, nxt_b;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->send(c, "hello", 5, 0), 5);
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect(api, s, "hello", 5);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);	/* data, delayed ACK */
	tmpl = g[0];
	cr_assert(tmpl.from_a && tmpl.len == 5);
	nxt_a = tmpl.seq + 5;
	nxt_b = tmpl.ack;

	conf_tcp_inject(api, &tmpl, TH_RST_, nxt_a + 1000, 0, NULL);
	api->sleep_ms(50);
	/* the RST, B's challenge ACK, nothing else */
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	ASSERT_STATE(api, s, TCP_ESTABLISHED);
	ASSERT_POLL(api, s, P_OUT, "after an in-window RST");

	api->sleep_ms(600);
	conf_tcp_inject(api, &tmpl, TH_RST_, nxt_a + 0x40000000u, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);	/* only the RST itself */
	ASSERT_STATE(api, s, TCP_ESTABLISHED);

	api->sleep_ms(600);
	conf_tcp_inject(api, &tmpl, TH_SYN_, nxt_a + 10, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	ASSERT_STATE(api, s, TCP_ESTABLISHED);

	cr_assert(api->enter("A") == 0);
	CONF_RET(api->send(c, "still", 5, 0), 5);
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect(api, s, "still", 5);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	nxt_a += 5;

	api->sleep_ms(600);
	conf_tcp_inject(api, &tmpl, TH_RST_, nxt_a, 0, NULL);
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
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
	struct conf_tcp_seg g[8];
	char b[4];
	int c, s, cap;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	OK(api->close(c));
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);	/* A's FIN, B's (delayed) ACK */
	CONF_RET(api->send(s, "late", 4, MSG_NOSIGNAL), 4);
	cr_assert(conf_tcp_wait(api, s, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	cr_assert(!g[0].from_a && g[0].len == 4, "%s: B's data", api->name);
	cr_assert(g[1].from_a && g[1].flags == TH_RST_ && g[1].seq == g[0].ack,
		  "%s: A's answer: flags %#x", api->name, g[1].flags);
	ASSERT_POLL(api, s, P_EOF | P_OUT | POLLERR | POLLHUP, "CLOSE_WAIT, reset");
	ASSERT_STATE(api, s, TCP_CLOSE);
	CONF_RET(conf_tcp_so_error(api, s), EPIPE);
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
	struct conf_tcp_seg g[8];
	char buf[4];
	int l, c, s, u, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: sysctl net.ipv4.tcp_fin_timeout=2") == 0);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = conf_tcp_listener(api, "198.18.0.2", 80, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(c, SA(&me), sizeof(me)));
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->enter("A") == 0);
	OK(api->close(c));
	api->sleep_ms(1000);
	u = conf_tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&me), sizeof(me)), EADDRINUSE);
	api->close(u);
	cr_assert(api->enter("B") == 0);
	ASSERT_STATE(api, s, TCP_CLOSE_WAIT);
	CONF_RET(api->recv(s, buf, sizeof(buf), 0), 0);
	api->sleep_ms(1500);
	cr_assert(api->enter("A") == 0);
	u = conf_tcp_socket(api, 0);
	CONF_RET(api->bind(u, SA(&me), sizeof(me)), 0);
	api->close(u);
	conf_tcp_take(api, cap, g, 0);
	cr_assert(api->enter("B") == 0);
	CONF_RET(api->send(s, "x", 1, MSG_NOSIGNAL), 1);
	cr_assert(conf_tcp_wait(api, s, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	cr_assert(g[1].from_a && g[1].flags == TH_RST_, "%s: flags %#x", api->name,
		  g[1].flags);
	CONF_RET(conf_tcp_so_error(api, s), EPIPE);
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
	struct conf_tcp_seg g[8];
	int c, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev veth0 "
			    "nud permanent") == 0);
	cap = api->capture_start("A", "veth0");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	for (int linger = 0; linger < 2; linger++) {
		c = conf_tcp_socket(api, SOCK_NONBLOCK);
		if (linger)
			OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
		FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
		api->sleep_ms(100);
		CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
		cr_assert_eq(g[0].flags, TH_SYN_);
		OK(api->close(c));
		api->sleep_ms(3500);
		CONF_RET(conf_tcp_take(api, cap, g, 8), 0);
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
	struct conf_tcp_seg g[8];
	char buf[4];
	int l, c, cap, n;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = conf_tcp_listener(api, "198.18.0.2", 80, 4, false, 0);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	n = conf_tcp_take(api, cap, g, 8);
	CONF_RET(n, 3);
	api->close(l);
	cr_assert(api->enter("A") == 0);
	cr_assert(conf_tcp_wait(api, c, POLLERR, 1000) & POLLERR, "%s: not reset", api->name);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	cr_assert(!g[0].from_a && g[0].flags == (TH_RST_ | TH_ACK_), "%s: flags %#x",
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
	struct conf_tcp_seg g[16];
	uint32_t end_a = 0;
	char buf[4];
	int c, s, n, one = 1;

	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	OK(api->bind(c, SA(&me), sizeof(me)));
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(api->enter("A") == 0);
	OK(api->close(c));
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, buf, sizeof(buf), 0), 0);
	OK(api->close(s));
	api->sleep_ms(100);
	n = conf_tcp_take(api, cap, g, 16);
	for (int i = 0; i < n && i < 16; i++)
		if (g[i].from_a && (g[i].flags & TH_FIN_))
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
	struct conf_tcp_seg g[16];
	uint32_t end_a;
	int l, l2, c, s, n, one = 1, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = conf_tcp_listener(api, "198.18.0.2", 80, 4, false, 0);
	l2 = conf_tcp_listener(api, "198.18.0.2", 81, 4, false, 0);
	end_a = make_time_wait(api, l, cap, 4000);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CONF_RET(api->bind(c, SA(&me), sizeof(me)), 0);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	n = conf_tcp_take(api, cap, g, 16);
	cr_assert(n >= 1 && g[0].from_a && g[0].flags == TH_SYN_, "%s: no SYN", api->name);
	cr_assert_eq(g[0].seq, end_a + 65537, "%s: SYN seq %u, want %u", api->name, g[0].seq,
		     end_a + 65537);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(api->enter("A") == 0);
	CONF_RET(api->send(c, "new", 3, 0), 3);
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect(api, s, "new", 3);
	api->close(s);
	cr_assert(api->enter("A") == 0);
	api->close(c);
	api->sleep_ms(100);

	cr_assert(api->topo("A: sysctl net.ipv4.tcp_timestamps=0") == 0);
	make_time_wait(api, l, cap, 4001);
	me = sin4("198.18.0.1", 4001);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CONF_RET(api->bind(c, SA(&me), sizeof(me)), 0);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EADDRNOTAVAIL);
	api->sleep_ms(1100);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EADDRNOTAVAIL);
	FAILS(api->connect(c, SA(&b2), sizeof(b2)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	api->close(c);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l2, POLLIN, 1000) & POLLIN);
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
	struct conf_tcp_seg g[8], tmpl;
	char b[8];
	int c, s, cap;
	uint32_t nxt_a, nxt_b;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->send(c, "hello", 5, 0), 5);
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect(api, s, "hello", 5);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	tmpl = g[0];
	nxt_a = tmpl.seq + 5;
	nxt_b = tmpl.ack;

	conf_tcp_inject(api, &tmpl, TH_ACK_ | TH_PSH_, nxt_a, nxt_b + 1000, "bad");
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT), EAGAIN);

	api->sleep_ms(600);
	conf_tcp_inject(api, &tmpl, TH_ACK_ | TH_PSH_, nxt_a, nxt_b - 1, "old");
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	assert_challenge(api, &g[1], nxt_b, nxt_a);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT), EAGAIN);

	CONF_RET(api->send(s, "xyz", 3, 0), 3);
	cr_assert(api->enter("A") == 0);
	conf_tcp_expect(api, c, "xyz", 3);
	api->sleep_ms(300);
	cr_assert(api->enter("B") == 0);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);	/* B's data, A's ACK */
	nxt_b += 3;
	cr_assert(g[1].from_a && g[1].ack == nxt_b);
	api->sleep_ms(600);
	conf_tcp_inject(api, &tmpl, TH_ACK_ | TH_PSH_, nxt_a, nxt_b - 2, "dup");
	conf_tcp_expect(api, s, "dup", 3);
	api->sleep_ms(300);
	/*
	 * The segment, B's (delayed) ACK of it; to A that ACK is for data A
	 * never sent: A's challenge ACK; to B that is an old segment: B's
	 * duplicate ACK; which A's rate limit (one per 500 ms) leaves
	 * unanswered.
	 */
	CONF_RET(conf_tcp_take(api, cap, g, 8), 4);
	cr_assert(!g[1].from_a && g[1].flags == TH_ACK_ && g[1].ack == nxt_a + 3,
		  "%s: B's ACK: flags %#x ack %u", api->name, g[1].flags, g[1].ack);
	cr_assert(g[2].from_a && g[2].flags == TH_ACK_ && g[2].seq == nxt_a &&
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

	l = conf_tcp_listener(api, "127.0.0.1", PORT, 4, false, 0);
	for (int reset = 0; reset < 2; reset++) {
		c = conf_tcp_client(api, "127.0.0.1", PORT, 0);
		s = OK(api->accept4(l, NULL, NULL, 0));
		if (reset) {
			OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
			OK(api->close(s));
			cr_assert(conf_tcp_wait(api, c, POLLERR, 1000) & POLLERR);
			FAILS(api->recv(c, b, sizeof(b), 0), ECONNRESET);
		} else {
			OK(api->shutdown(s, SHUT_WR));
			CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
			OK(api->shutdown(c, SHUT_WR));
			cr_assert(conf_tcp_wait(api, c, POLLHUP, 1000) & POLLHUP);
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
	struct conf_tcp_seg g[8];
	char b[4];
	int c, s, cap;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->sleep_ms(300);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 2);
	cr_assert(g[0].from_a && g[0].flags == (TH_FIN_ | TH_ACK_));
	cr_assert(api->enter("A") == 0);
	ASSERT_STATE(api, c, TCP_FIN_WAIT2);
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(c));
	api->sleep_ms(50);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	cr_assert(g[0].from_a && g[0].flags == (TH_RST_ | TH_ACK_), "%s: flags %#x",
		  api->name, g[0].flags);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, s, POLLERR, 1000) & POLLERR);
	CONF_RET(conf_tcp_so_error(api, s), EPIPE);
	api->close(s);
	api->enter("");
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
	struct conf_tcp_seg g[8];
	char b[8];
	int c, s, cap, one = 1;

	conf_tcp_two_hosts(api, &c, &s, &cap, 0, 0);
	for (int round = 0; round < 2; round++) {
		if (round)
			conf_tcp_connect_ab(api, 81, 0, 0, &c, &s);
		conf_tcp_take(api, cap, g, 0);
		if (round == 0) {
			OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
			CONF_RET(api->send(c, "corked", 6, 0), 6);
		} else {
			CONF_RET(api->send(c, "more", 4, MSG_MORE), 4);
		}
		api->sleep_ms(20);
		CONF_RET(conf_tcp_take(api, cap, g, 8), 0);
		if (round == 0)
			CONF_RET(api->shutdown(c, SHUT_WR), 0);
		else
			OK(api->close(c));
		api->sleep_ms(20);
		CONF_RET(conf_tcp_take_if(api, cap, g, 8, conf_tcp_from_a), 1);
		cr_assert(g[0].len == (round ? 4u : 6u) &&
				  g[0].flags == (round ? TH_FIN_ | TH_ACK_ :
							 TH_FIN_ | TH_PSH_ | TH_ACK_),
			  "%s: round %d: flags %#x len %zu", api->name, round, g[0].flags,
			  g[0].len);
		cr_assert(api->enter("B") == 0);
		conf_tcp_expect(api, s, round ? "more" : "corked", round ? 4 : 6);
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
 * R-ERR-EINTR (close's): a close() lingering (SO_LINGER {1, 5}, data the
 * peer has no room for) is cut short by a signal, even with SA_RESTART:
 * sk_stream_wait_close gives up on a pending signal and close() still
 * returns 0 (the descriptor is gone either way), after about the 200 ms
 * the signal took to come.  The orphan delivers everything afterwards.
 */
CONFORMANCE(tcp_close, linger_cut_by_signal, .timeout = 30)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 5 };
	struct conf_later later = { .api = api, .delay_ms = 200, .sig = SIGUSR1 };
	int l, c, s;
	size_t sent;
	double t0, dt;

	conf_count_signal(SIGUSR1, true, NULL);
	l = conf_tcp_small_pair(api, &c, &s);
	sent = conf_tcp_fill(api, c);
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	conf_later_start(&later);
	t0 = conf_now_ms();
	CONF_RET(api->close(c), 0);
	dt = conf_now_ms() - t0;
	conf_later_join(&later);
	cr_assert_eq(conf_signals(), 1);
	cr_assert(dt >= 150 && dt < 2000, "%s: close took %.0f ms", api->name, dt);
	CONF_RET(read_to_eof(api, s), sent);
	api->close(s);
	api->close(l);
}
