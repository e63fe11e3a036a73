/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_poll.c - poll() on TCP sockets in every state, bit for bit
 *
 * What tcp_poll (net/ipv4/tcp.c) reports, asked for every event bit
 * (POLL_EV), for a fresh, bound, listening and shut-down listening socket,
 * a connect in progress to a host that never answers (and one whose
 * neighbour fails), Fast Open's deferred connect, an idle and a busy
 * connection, each half and both halves shut, a reset (before and after
 * accept), a retransmission timeout, urgent data, a full send buffer,
 * TCP_NOTSENT_LOWAT and SO_RCVLOWAT.  Scenarios on lo run in the test's
 * own namespace (real time on both stacks); those that need a silent peer
 * use two hosts (conf_topo_pair, virtual time for usock) and wait by
 * polling with zero timeout between api->sleep_ms steps.  Expected values
 * are the kernel's (Linux 6.18).  Scenarios close every socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/errqueue.h>
#include <netinet/ip.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT

/* ---- no connection ------------------------------------------------------------ */

/*
 * R-NOTE-SELECT: a fresh TCP socket is in CLOSE, which tcp_poll reports as
 * HUP, and it is "writable" (OUT|WRNORM: its empty send buffer has room),
 * so a poll for POLLOUT returns at once; HUP comes even when only POLLIN
 * is asked for.  Bound: the same.  Listening: nothing at all
 * (inet_csk_listen_poll), until a connection waits in the accept queue:
 * IN|RDNORM, gone again once it is accepted.
 */
CONFORMANCE(tcp_poll, fresh_bound_listening, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	int u, c, s;

	u = conf_tcp_socket(api, 0);
	ASSERT_POLL(api, u, P_OUT | POLLHUP, "fresh");
	cr_assert_eq(conf_tcp_poll(api, u, POLLIN, 0), POLLHUP, "%s: fresh, asked POLLIN",
		     api->name);
	cr_assert_eq(conf_tcp_poll(api, u, 0, 0), POLLHUP, "%s: fresh, asked nothing", api->name);
	OK(api->bind(u, SA(&a), sizeof(a)));
	ASSERT_POLL(api, u, P_OUT | POLLHUP, "bound");
	OK(api->listen(u, 4));
	ASSERT_POLL(api, u, 0, "listening");
	c = conf_tcp_socket(api, 0);
	ASSERT_POLL(api, c, P_OUT | POLLHUP, "fresh client");
	OK(api->connect(c, SA(&a), sizeof(a)));
	cr_assert(conf_tcp_wait(api, u, POLLIN, 1000) & POLLIN, "%s: listener not readable",
		  api->name);
	ASSERT_POLL(api, u, P_IN, "listening, one waiting");
	s = OK(api->accept4(u, NULL, NULL, 0));
	ASSERT_POLL(api, u, 0, "listening, accepted");
	ASSERT_POLL(api, s, P_OUT, "accepted");
	ASSERT_POLL(api, c, P_OUT, "connected");
	api->close(s);
	api->close(c);
	api->close(u);
}

/* ---- connecting ---------------------------------------------------------------- */

/* Is g a SYN (without ACK) to 198.18.0.9? */
static bool syn_to_phantom(const struct conf_tcp_seg *g)
{
	static const uint8_t dst[4] = { 198, 18, 0, 9 };

	return memcmp(g->daddr, dst, 4) == 0 && (g->flags & (TH_SYN_ | TH_ACK_)) == TH_SYN_;
}

/* The SYNs (without ACK) that A sent to 198.18.0.9 among the frames of cap since the last take. */
static int count_syns(const struct sockapi *api, int cap)
{
	return conf_tcp_take_if(api, cap, NULL, 0, syn_to_phantom);
}

/*
 * (no ID: connect's states) A non-blocking connect to a host that never
 * answers (198.18.0.9, on-link, a fixed neighbour entry whose MAC nobody
 * owns: the SYN leaves and is lost) stays in SYN_SENT: poll says nothing
 * at all, SO_ERROR is 0, connect again EALREADY.  The SYN is sent again
 * every second (the initial RTO, not doubled: tcp_syn_linear_timeouts,
 * 4 by default).  With net.ipv4.tcp_syn_retries=1 the connect gives up
 * when the retransmissions have lasted as long as one doubled retry would
 * (retransmits_timed_out: 1 s + 2 s), after the SYNs at 0, 1 and 2 s:
 * ETIMEDOUT in SO_ERROR and poll
 * says everything a dead socket says (IN|RDHUP from the shutdown that
 * tcp_done sets, OUT, ERR, HUP); once SO_ERROR is read ERR goes.
 */
CONFORMANCE(tcp_poll, syn_sent_silent_peer, .timeout = 30)
{
	struct sockaddr_in d = sin4("198.18.0.9", 80);
	int c, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev veth0 "
			    "nud permanent\n"
			    "A: sysctl net.ipv4.tcp_syn_retries=1\n") == 0,
		  "%s: topology (neighbour, syn_retries)", api->name);
	cap = api->capture_start("A", "veth0");
	cr_assert(cap >= 0, "%s: capture", api->name);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
	ASSERT_POLL(api, c, 0, "SYN_SENT");
	CONF_RET(conf_tcp_state(api, c), TCP_SYN_SENT);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	api->sleep_ms(500);
	ASSERT_POLL(api, c, 0, "SYN_SENT after 0.5 s");
	CONF_RET(count_syns(api, cap), 1);
	api->sleep_ms(1000);
	CONF_RET(count_syns(api, cap), 1);
	ASSERT_POLL(api, c, 0, "SYN_SENT after 1.5 s");
	FAILS(api->connect(c, SA(&d), sizeof(d)), EALREADY);
	api->sleep_ms(1000);
	CONF_RET(count_syns(api, cap), 1);
	ASSERT_POLL(api, c, 0, "SYN_SENT after 2.5 s");
	CONF_RET(conf_tcp_state(api, c), TCP_SYN_SENT);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 1000) & POLLOUT, "%s: connect never gave up",
		  api->name);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLERR | POLLHUP, "timed out");
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE);
	CONF_RET(count_syns(api, cap), 0);
	CONF_RET(conf_tcp_so_error(api, c), ETIMEDOUT);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLHUP, "timed out, error read");
	api->close(c);
	api->enter("");
}

/* ---- established ---------------------------------------------------------------- */

/*
 * R-NOTE-SELECT: an idle connection is OUT|WRNORM on both ends; data
 * waiting adds IN|RDNORM (never RDBAND or PRI); reading it takes them
 * away.  With SO_RCVLOWAT 4 the socket is readable only once 4 bytes wait
 * (tcp_poll's target is sock_rcvlowat).
 */
CONFORMANCE(tcp_poll, established_idle_and_data, .timeout = 10)
{
	char b[8];
	int l, c, s, four = 4;

	l = conf_tcp_lo_pair(api, &c, &s);
	ASSERT_POLL(api, c, P_OUT, "idle client");
	ASSERT_POLL(api, s, P_OUT, "idle server");
	CONF_RET(api->send(s, "ab", 2, 0), 2);
	cr_assert(conf_tcp_wait(api, c, POLLIN, 1000) & POLLIN, "%s: no POLLIN", api->name);
	ASSERT_POLL(api, c, P_IN | P_OUT, "data waiting");
	CONF_RET(api->recv(c, b, 1, 0), 1);
	ASSERT_POLL(api, c, P_IN | P_OUT, "one byte left");
	CONF_RET(api->recv(c, b, sizeof(b), 0), 1);
	ASSERT_POLL(api, c, P_OUT, "all read");

	OK(api->setsockopt(c, SOL_SOCKET, SO_RCVLOWAT, &four, sizeof(four)));
	CONF_RET(api->send(s, "cd", 2, 0), 2);
	api->sleep_ms(50);
	ASSERT_POLL(api, c, P_OUT, "2 bytes under SO_RCVLOWAT 4");
	CONF_RET(api->send(s, "ef", 2, 0), 2);
	cr_assert(conf_tcp_wait(api, c, POLLIN, 1000) & POLLIN, "%s: no POLLIN at the low mark",
		  api->name);
	ASSERT_POLL(api, c, P_IN | P_OUT, "4 bytes at SO_RCVLOWAT 4");
	conf_tcp_expect(api, c, "cdef", 4);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-NOTE-SELECT: a blocking poll sleeps until data comes (woken by the
 * arrival, not by its timeout) and then reports IN|RDNORM.
 */
CONFORMANCE(tcp_poll, blocking_poll_wakes_on_data, .timeout = 10)
{
	struct pollfd p;
	struct conf_later later = { .api = api, .delay_ms = 200, .msg = "w" };
	double t0, dt;
	int l, c, s, r;

	l = conf_tcp_lo_pair(api, &c, &s);
	later.fd = s;
	later.to = sin4("127.0.0.1", 9);	/* ignored on a connected stream (R-SEND-4) */
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	conf_later_start(&later);
	t0 = conf_now_ms();
	r = (int)OK(api->poll(&p, 1, 3000));
	dt = conf_now_ms() - t0;
	conf_later_join(&later);
	cr_assert_eq(r, 1, "%s: poll returned %d", api->name, r);
	cr_assert_eq(p.revents, POLLIN, "%s: revents %#x", api->name, p.revents);
	cr_assert(dt >= 150 && dt < 2000, "%s: poll returned after %.0f ms", api->name, dt);
	conf_tcp_expect(api, c, "w", 1);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- shutdown ---------------------------------------------------------------------- */

/*
 * R-NOTE-SELECT: the peer's shutdown(SHUT_WR) (its FIN) makes this end
 * IN|RDNORM|RDHUP (and still OUT): readable for good, recv reads EOF,
 * again and again.  Data sent before the FIN is read first, with the same
 * mask.  The peer that shut its sending half is OUT|WRNORM only (tcp_poll
 * says OUT for a shut send side: a send fails at once, EPIPE).
 */
CONFORMANCE(tcp_poll, peer_shut_wr, .timeout = 10)
{
	char b[8];
	int l, c, s;

	l = conf_tcp_lo_pair(api, &c, &s);
	CONF_RET(api->send(s, "xy", 2, 0), 2);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	cr_assert(conf_tcp_wait(api, c, POLLRDHUP, 1000) & POLLRDHUP, "%s: no RDHUP", api->name);
	ASSERT_POLL(api, c, P_EOF | P_OUT, "data then FIN waiting");
	ASSERT_POLL(api, s, P_OUT, "shut for writing");
	CONF_RET(api->recv(c, b, sizeof(b), 0), 2);
	ASSERT_POLL(api, c, P_EOF | P_OUT, "FIN waiting");
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	ASSERT_POLL(api, c, P_EOF | P_OUT, "EOF read");
	api->sleep_ms(300);	/* the FIN's ACK is a delayed one */
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE_WAIT);
	CONF_RET(conf_tcp_state(api, s), TCP_FIN_WAIT2);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-NOTE-SELECT: shutdown of our own halves.  SHUT_WR: OUT|WRNORM alone.
 * Then the peer's FIN too: both halves shut is HUP (sk_shutdown ==
 * SHUTDOWN_MASK) with IN|RDNORM|RDHUP and OUT, on both ends (the last
 * to close reaches CLOSE, the first TIME_WAIT and its socket CLOSE).
 * SHUT_RD alone: IN|RDNORM|RDHUP|OUT (our own read side counts as shut,
 * no FIN is sent); SHUT_RDWR on a live connection: HUP at once, while
 * the connection is still in FIN_WAIT.
 */
CONFORMANCE(tcp_poll, own_shutdown, .timeout = 10)
{
	int l, c, s;

	l = conf_tcp_lo_pair(api, &c, &s);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	ASSERT_POLL(api, c, P_OUT, "SHUT_WR");
	cr_assert(conf_tcp_wait(api, s, POLLRDHUP, 1000) & POLLRDHUP);
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	cr_assert(conf_tcp_wait(api, c, POLLHUP, 1000) & POLLHUP, "%s: no HUP", api->name);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLHUP, "both shut (first)");
	api->sleep_ms(50);
	ASSERT_POLL(api, s, P_EOF | P_OUT | POLLHUP, "both shut (last)");
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE);
	CONF_RET(conf_tcp_state(api, s), TCP_CLOSE);
	api->close(s);
	api->close(c);

	c = conf_tcp_socket(api, 0);
	{
		struct sockaddr_in a = sin4("127.0.0.1", PORT);

		OK(api->connect(c, SA(&a), sizeof(a)));
	}
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	ASSERT_POLL(api, c, P_EOF | P_OUT, "SHUT_RD");
	api->sleep_ms(50);
	ASSERT_POLL(api, s, P_OUT, "peer of SHUT_RD");
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLHUP, "SHUT_RD then SHUT_WR");
	cr_assert(conf_tcp_wait(api, s, POLLRDHUP, 1000) & POLLRDHUP);
	api->sleep_ms(300);	/* the FIN's ACK is a delayed one */
	CONF_RET(conf_tcp_state(api, c), TCP_FIN_WAIT2);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- reset ---------------------------------------------------------------------------- */

/*
 * R-ERR-ECONNRESET: after the peer's RST (SO_LINGER {1, 0} close) poll
 * says IN|RDNORM|RDHUP|OUT|WRNORM|ERR|HUP, ERR and HUP even when nothing
 * is asked; SO_ERROR is ECONNRESET, once; then ERR is gone, the rest stays.
 */
CONFORMANCE(tcp_poll, after_reset, .timeout = 10)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int l, c, s;

	l = conf_tcp_lo_pair(api, &c, &s);
	OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(s));
	cr_assert(conf_tcp_wait(api, c, POLLIN, 1000) & POLLERR, "%s: no RST", api->name);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLERR | POLLHUP, "reset");
	cr_assert_eq(conf_tcp_poll(api, c, 0, 0), POLLERR | POLLHUP, "%s: reset, asked nothing",
		     api->name);
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE);
	CONF_RET(conf_tcp_so_error(api, c), ECONNRESET);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLHUP, "reset, error read");
	api->close(c);
	api->close(l);
}

/* ---- urgent data -------------------------------------------------------------------- */

/*
 * R-FLAG-OOB: urgent data is POLLPRI (not RDBAND).  A lone urgent byte
 * (send "x" with MSG_OOB) is PRI without IN: the byte is out of line and
 * tcp_poll raises its readable target by one while the mark is at the
 * read point.  Reading it (MSG_OOB) takes PRI away.  With ordinary data
 * before it ("ab" then "xyz" urgent) the socket is IN|PRI; once the
 * ordinary bytes up to the mark are read, PRI stays until the urgent byte
 * itself is read.
 */
CONFORMANCE(tcp_poll, urgent_data, .timeout = 10)
{
	char b[8];
	int l, c, s;

	l = conf_tcp_lo_pair(api, &c, &s);
	CONF_RET(api->send(s, "x", 1, MSG_OOB), 1);
	cr_assert(conf_tcp_wait(api, c, POLLPRI, 1000) & POLLPRI, "%s: no PRI", api->name);
	api->sleep_ms(20);
	ASSERT_POLL(api, c, POLLPRI | P_OUT, "lone urgent byte");
	CONF_RET(api->recv(c, b, 1, MSG_OOB), 1);
	cr_assert_eq(b[0], 'x');
	ASSERT_POLL(api, c, P_OUT, "urgent byte read");

	CONF_RET(api->send(s, "ab", 2, 0), 2);
	CONF_RET(api->send(s, "xyz", 3, MSG_OOB), 3);
	cr_assert(conf_tcp_wait(api, c, POLLPRI, 1000) & POLLPRI, "%s: no PRI", api->name);
	api->sleep_ms(20);
	ASSERT_POLL(api, c, P_IN | POLLPRI | P_OUT, "data and urgent byte");
	conf_tcp_expect(api, c, "abxy", 4);
	ASSERT_POLL(api, c, POLLPRI | P_OUT, "read up to the mark");
	CONF_RET(api->recv(c, b, 1, MSG_OOB), 1);
	cr_assert_eq(b[0], 'z');
	ASSERT_POLL(api, c, P_OUT, "all read");
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- a full send buffer ------------------------------------------------------------- */

/*
 * R-SEND-10 R-NOTE-SELECT: a connection whose peer does not read fills
 * (SO_SNDBUF 4096 here, SO_RCVBUF 4096 there): then neither OUT nor
 * WRNORM (nor anything else); once the peer has read everything, OUT|WRNORM
 * is back (the ACKs that open the window free the send queue).
 */
CONFORMANCE(tcp_poll, send_buffer_full_then_drained, .timeout = 20)
{
	static char buf[65536];
	size_t sent, got = 0;
	int l, c, s;
	ssize_t r;

	l = conf_tcp_small_pair(api, &c, &s);
	/* Until two rounds in a row (each after a delayed ACK's 200 ms) queue nothing. */
	sent = conf_tcp_fill(api, c);
	ASSERT_POLL(api, c, 0, "send buffer full");
	while (got < sent) {
		cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN, "%s: %zu of %zu came",
			  api->name, got, sent);
		r = OK(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		cr_assert(r > 0);
		got += (size_t)r;
	}
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 1000) & POLLOUT, "%s: no POLLOUT after the drain",
		  api->name);
	ASSERT_POLL(api, c, P_OUT, "drained");
	api->sleep_ms(50);
	ASSERT_POLL(api, s, P_OUT, "reader, all read");
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- Fast Open's deferred connect --------------------------------------------------- */

/*
 * (no ID: R-ERR-EALREADY's neighbourhood) With TCP_FASTOPEN_CONNECT and a
 * cookie already cached for the server, connect() returns 0 at once and
 * sends nothing (tcp_fastopen_defer_connect): the socket is in SYN_SENT,
 * yet poll says OUT|WRNORM (tcp_poll's defer-connect case), so that the
 * caller's first write carries the data in the SYN.  The server gets the
 * bytes; afterwards both ends are the usual idle OUT|WRNORM.
 */
CONFORMANCE(tcp_poll, fastopen_connect_is_writable, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	int l, c, s, one = 1, qlen = 5;

	cr_assert(conf_sysctl(api, "", "net.ipv4.tcp_fastopen", "3") == 0, "%s: sysctl: %s",
		  api->name, strerror(errno));
	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)));
	OK(api->listen(l, 8));
	/* the first connection only fetches the cookie */
	c = conf_tcp_socket(api, 0);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)));
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(s);
	api->close(c);

	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)));
	CONF_RET(api->connect(c, SA(&a), sizeof(a)), 0);
	CONF_RET(conf_tcp_state(api, c), TCP_SYN_SENT);
	ASSERT_POLL(api, c, P_OUT, "deferred connect");
	api->sleep_ms(50);
	ASSERT_POLL(api, l, 0, "listener while the connect is deferred");
	CONF_RET(api->send(c, "hi", 2, 0), 2);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN, "%s: no connection", api->name);
	s = OK(api->accept4(l, NULL, NULL, 0));
	conf_tcp_expect(api, s, "hi", 2);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 1000) & POLLOUT);
	ASSERT_POLL(api, c, P_OUT, "connected by the first write");
	CONF_RET(conf_tcp_state(api, c), TCP_ESTABLISHED);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- a connection reset while it waits to be accepted --------------------------------- */

/*
 * R-ERR-ECONNRESET: a connection reset by its client while it still waits
 * in the accept queue stays there: the listener keeps IN|RDNORM, accept
 * returns it, and the accepted socket is already dead: poll
 * IN|RDNORM|RDHUP|OUT|WRNORM|ERR|HUP, recv ECONNRESET then EOF.
 */
CONFORMANCE(tcp_poll, reset_before_accept, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char b[4];
	int l, c, s;

	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 8));
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(c));
	api->sleep_ms(50);
	ASSERT_POLL(api, l, P_IN, "listener, the waiting one reset");
	s = OK(api->accept4(l, NULL, NULL, 0));
	ASSERT_POLL(api, l, 0, "listener, accepted");
	ASSERT_POLL(api, s, P_EOF | P_OUT | POLLERR | POLLHUP, "accepted after its reset");
	CONF_RET(conf_tcp_state(api, s), TCP_CLOSE);
	FAILS(api->recv(s, b, sizeof(b), 0), ECONNRESET);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->close(s);
	api->close(l);
}

/*
 * (no ID: connect's errors) A non-blocking connect to an on-link address
 * nobody answers ARP for (198.18.0.9, retransmit time 300 ms): the SYN
 * waits for the neighbour, which fails after 3 probes (~0.9 s); the
 * failure comes back as a host-unreachable error (ipv4_link_failure sends
 * an ICMP to ourselves, tcp_v4_err ends a SYN_SENT socket): poll says
 * IN|RDHUP|OUT|ERR|HUP, SO_ERROR EHOSTUNREACH, before the SYN's first
 * retransmission (1 s).  No SYN ever reaches the wire: it was dropped
 * with the failed neighbour entry.
 */
CONFORMANCE(tcp_poll, syn_sent_neighbour_fails, .timeout = 20)
{
	struct sockaddr_in d = sin4("198.18.0.9", 80);
	int c, cap;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: sysctl net.ipv4.neigh.veth0.retrans_time_ms=300") == 0);
	cap = api->capture_start("A", "veth0");
	cr_assert(cap >= 0, "%s: capture", api->name);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
	api->sleep_ms(500);
	ASSERT_POLL(api, c, 0, "waiting for ARP");
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 1500) & POLLOUT, "%s: connect never failed",
		  api->name);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLERR | POLLHUP, "neighbour failed");
	CONF_RET(conf_tcp_so_error(api, c), EHOSTUNREACH);
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE);
	CONF_RET(count_syns(api, cap), 0);
	api->close(c);
	api->enter("");
}

/*
 * R-SEND-9 (a delivery failure comes back later, by IP_RECVERR).  The
 * same host-unreachable failure of a SYN_SENT socket with IP_RECVERR on:
 * tcp_v4_err queues the ICMP error before it ends the connection
 * (ip_icmp_error).  The entry's payload is the quoted segment from its TCP
 * header on (our port, the peer's, the SYN flag), its name the peer's
 * address and port, its extended error ICMP host unreachable from our own
 * address (the ICMP came from ourselves).  Reading it clears the pending
 * error (sock_dequeue_err_skb), so SO_ERROR is 0 after it.  Without
 * IP_RECVERR (above) nothing is queued.
 */
CONFORMANCE(tcp_poll, syn_sent_icmp_error_queued, .timeout = 20)
{
	struct sockaddr_in d = sin4("198.18.0.9", 80), from, off, me;
	struct sock_extended_err ee;
	unsigned char b[256];
	uint16_t port;
	int c, flags;
	ssize_t n;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: sysctl net.ipv4.neigh.veth0.retrans_time_ms=300") == 0);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(conf_tcp_set_int(api, c, SOL_IP, IP_RECVERR, 1));
	FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
	me = conf_local_of(api, c);
	FAILS(conf_read_err(api, c, (char *)b, sizeof(b), &from, &ee, &off, &flags), EAGAIN);
	cr_assert(conf_tcp_wait(api, c, POLLERR, 2000) & POLLERR, "%s: connect never failed",
		  api->name);
	n = conf_read_err(api, c, (char *)b, sizeof(b), &from, &ee, &off, &flags);
	cr_assert(n >= 20, "%s: error payload %zd bytes", api->name, n);
	CONF_RET(n, 20 + ((b[12] >> 4) - 5) * 4);
	CONF_RET(flags, MSG_ERRQUEUE);
	conf_assert_addr(&from, "198.18.0.9", 80);
	conf_assert_icmp_err(api, &ee, &off, EHOSTUNREACH, 3, 1, "198.18.0.1");
	memcpy(&port, b, 2);
	CONF_RET(port, me.sin_port);
	memcpy(&port, b + 2, 2);
	CONF_RET(ntohs(port), 80);
	CONF_RET(b[13], 0x02);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE);
	FAILS(conf_read_err(api, c, (char *)b, sizeof(b), &from, &ee, &off, &flags), EAGAIN);
	api->close(c);
	api->enter("");
}

/*
 * (no ID) shutdown of a listener.  SHUT_WR alone changes nothing: still
 * listening, it accepts.  SHUT_RD stops it (inet_shutdown disconnects a
 * listener): the connection waiting in its queue is reset (its client's
 * recv is ECONNRESET), poll says OUT|WRNORM|HUP, accept is EINVAL, and a
 * new listen() on the same socket (its port kept) serves again.
 */
CONFORMANCE(tcp_poll, listener_shutdown, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	char b[4];
	int l, c, s;

	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 8));
	CONF_RET(api->shutdown(l, SHUT_WR), 0);
	ASSERT_POLL(api, l, 0, "listener after SHUT_WR");
	CONF_RET(conf_tcp_state(api, l), TCP_LISTEN);
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	/* the client closes first: its TIME_WAIT is on its own port, not on PORT */
	api->close(c);
	api->sleep_ms(20);
	api->close(s);

	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	CONF_RET(api->shutdown(l, SHUT_RD), 0);
	ASSERT_POLL(api, l, P_OUT | POLLHUP, "listener after SHUT_RD");
	CONF_RET(conf_tcp_state(api, l), TCP_CLOSE);
	FAILS(api->accept4(l, NULL, NULL, 0), EINVAL);
	cr_assert(conf_tcp_wait(api, c, POLLERR, 1000) & POLLERR, "%s: queued client not reset",
		  api->name);
	FAILS(api->recv(c, b, sizeof(b), 0), ECONNRESET);
	api->close(c);

	CONF_RET(api->listen(l, 8), 0);
	ASSERT_POLL(api, l, 0, "listening again");
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->send(c, "again", 5, 0), 5);
	conf_tcp_expect(api, s, "again", 5);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-NOTE-SELECT R-ERR-EPIPE: a shut send side is always "writable": with
 * the send buffer full (no POLLOUT), shutdown(SHUT_WR) makes poll report
 * OUT|WRNORM at once (tcp_poll: a send would fail at once with EPIPE, so
 * it does not block).  The data queued before still reaches the peer,
 * then EOF.
 */
CONFORMANCE(tcp_poll, shut_wr_full_buffer_is_writable, .timeout = 20)
{
	static char buf[65536];
	size_t sent = 0, got = 0;
	int l, c, s, idle = 0;
	ssize_t r;

	l = conf_tcp_small_pair(api, &c, &s);
	for (int round = 0; round < 50 && idle < 2; round++) {
		idle++;
		while ((r = api->send(c, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			sent += (size_t)r;
			idle = 0;
		}
		api->sleep_ms(250);
	}
	ASSERT_POLL(api, c, 0, "send buffer full");
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	ASSERT_POLL(api, c, P_OUT, "full, then SHUT_WR");
	FAILS(api->send(c, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT), EPIPE);
	for (;;) {
		cr_assert(conf_tcp_wait(api, s, POLLIN, 3000) & POLLIN, "%s: %zu of %zu came",
			  api->name, got, sent);
		r = OK(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	cr_assert_eq(got, sent, "%s: %zu of %zu bytes before EOF", api->name, got, sent);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * (no ID) A connection whose client sent data and shut its side before it
 * was accepted: the listener is readable; the accepted socket is in
 * CLOSE_WAIT from the start: IN|RDNORM|RDHUP|OUT|WRNORM, the data, then
 * EOF; it can still send.
 */
CONFORMANCE(tcp_poll, fin_before_accept, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	char b[8];
	int l, c, s;

	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 8));
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	CONF_RET(api->send(c, "pre", 3, 0), 3);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	api->sleep_ms(50);
	ASSERT_POLL(api, l, P_IN, "listener");
	s = OK(api->accept4(l, NULL, NULL, 0));
	ASSERT_POLL(api, s, P_EOF | P_OUT, "accepted after data and FIN");
	CONF_RET(conf_tcp_state(api, s), TCP_CLOSE_WAIT);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 3);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	CONF_RET(api->send(s, "post", 4, 0), 4);
	conf_tcp_expect(api, c, "post", 4);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * (no ID: a dead peer) With TCP_USER_TIMEOUT 2000 ms, data that nobody
 * acknowledges (B's end of the link is down) ends the connection about
 * 2 s after it was first sent (tcp_write_timeout): until then it is
 * ESTABLISHED and poll says OUT (the queue is small); after, CLOSE with
 * SO_ERROR ETIMEDOUT and poll IN|RDNORM|RDHUP|OUT|WRNORM|ERR|HUP; recv
 * then reads EOF and send is EPIPE.
 */
CONFORMANCE(tcp_poll, user_timeout_expires, .timeout = 30)
{
	struct sockaddr_in b = sin4("198.18.0.2", 80);
	int l, c, s, tmo = 2000;
	char buf[4];

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->enter("B") == 0);
	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&b), sizeof(b)));
	OK(api->listen(l, 4));
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 2000) & POLLOUT, "%s: connect", api->name);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(l);
	cr_assert(api->topo("B: link set veth1 down") == 0);
	cr_assert(api->enter("A") == 0);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo)));
	CONF_RET(api->send(c, "lost", 4, 0), 4);
	api->sleep_ms(1700);
	CONF_RET(conf_tcp_state(api, c), TCP_ESTABLISHED);
	ASSERT_POLL(api, c, P_OUT, "retransmitting");
	/* generous: an RTO inflated by a loaded machine may fire a little late */
	cr_assert(conf_tcp_wait(api, c, POLLERR, 3000) & POLLERR, "%s: never timed out", api->name);
	ASSERT_POLL(api, c, P_EOF | P_OUT | POLLERR | POLLHUP, "timed out");
	CONF_RET(conf_tcp_state(api, c), TCP_CLOSE);
	CONF_RET(conf_tcp_so_error(api, c), ETIMEDOUT);
	CONF_RET(api->recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0);
	FAILS(api->send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	api->close(c);
	cr_assert(api->enter("B") == 0);
	{
		/* an abortive close: B's FIN could never leave, its orphan would linger */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	}
	api->close(s);
	api->enter("");
}

/*
 * R-SEND-10 R-NOTE-SELECT: TCP_NOTSENT_LOWAT makes POLLOUT wait for unsent
 * data to drop: writable only while twice the unsent bytes are below the
 * mark (tcp_stream_memory_free with wake = 1; TCP_CORK keeps them unsent
 * here).  Sends themselves are not refused: the mark is checked only
 * when a new buffer is needed, and the corked bytes share one.  Once
 * uncorked and sent, OUT|WRNORM is back.
 */
CONFORMANCE(tcp_poll, notsent_lowat, .timeout = 10)
{
	static char buf[2000];
	int l, c, s, one = 1, zero = 0, lowat = 1000;

	l = conf_tcp_lo_pair(api, &c, &s);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat)));
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	ASSERT_POLL(api, c, P_OUT, "nothing unsent");
	CONF_RET(api->send(c, buf, 400, MSG_DONTWAIT), 400);
	ASSERT_POLL(api, c, P_OUT, "400 unsent, mark 1000");
	CONF_RET(api->send(c, buf, 100, MSG_DONTWAIT), 100);
	ASSERT_POLL(api, c, 0, "500 unsent, mark 1000");
	CONF_RET(api->send(c, buf, 2000, MSG_DONTWAIT), 2000);
	ASSERT_POLL(api, c, 0, "2500 unsent, mark 1000");
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 1000) & POLLOUT, "%s: no POLLOUT once sent",
		  api->name);
	ASSERT_POLL(api, c, P_OUT, "all sent");
	for (size_t got = 0; got < 2500;) {
		ssize_t r;

		cr_assert(conf_tcp_wait(api, s, POLLIN, 1000) & POLLIN);
		r = OK(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		cr_assert(r > 0);
		got += (size_t)r;
	}
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-NOTE-SELECT: SO_RCVLOWAT does not hide an EOF: with the mark at 10,
 * 2 bytes are not readable, but 2 bytes and the FIN are (IN|RDNORM|RDHUP);
 * a blocking recv then returns the 2 bytes, and 0 after.
 */
CONFORMANCE(tcp_poll, rcvlowat_and_fin, .timeout = 10)
{
	char b[16];
	int l, c, s, ten = 10;

	l = conf_tcp_lo_pair(api, &c, &s);
	OK(api->setsockopt(c, SOL_SOCKET, SO_RCVLOWAT, &ten, sizeof(ten)));
	CONF_RET(api->send(s, "ab", 2, 0), 2);
	api->sleep_ms(50);
	ASSERT_POLL(api, c, P_OUT, "2 bytes under SO_RCVLOWAT 10");
	CONF_RET(api->shutdown(s, SHUT_WR), 0);
	cr_assert(conf_tcp_wait(api, c, POLLRDHUP, 1000) & POLLRDHUP);
	ASSERT_POLL(api, c, P_EOF | P_OUT, "2 bytes and FIN");
	CONF_RET(api->recv(c, b, sizeof(b), 0), 2);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	api->close(s);
	api->close(c);
	api->close(l);
}
