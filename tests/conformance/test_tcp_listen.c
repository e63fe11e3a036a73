/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_listen.c - the listener's side of TCP: SO_REUSEPORT, backlog, SYN queue, SYN cookies
 *
 * Also simultaneous open (no listener at all) and what a socket in
 * SYN_SENT makes of the segments that come back (RFC 9293 3.10.7.3).
 * Split from test_tcp_close.c; the scenarios keep their suite (tcp_close)
 * and names, so pending.txt entries and reports stay valid.  Scenarios on
 * lo run in the test's own namespace (real time on both stacks); the
 * others use two hosts (conf_topo_pair: a client on A 198.18.0.1, a
 * server on B 198.18.0.2; virtual time for usock) and wait by polling
 * with zero timeout between api->sleep_ms steps.  States are read from
 * TCP_INFO's tcpi_state; what crossed the link from a capture.  Some
 * scenarios inject hand-made segments from a phantom host 198.18.0.9.
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
		lst[i] = conf_tcp_socket(api, SOCK_NONBLOCK);
		OK(api->setsockopt(lst[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
		OK(api->bind(lst[i], SA(&a), sizeof(a)));
		OK(api->listen(lst[i], 128));
	}
	u = conf_tcp_socket(api, 0);
	FAILS(api->bind(u, SA(&a), sizeof(a)), EADDRINUSE);
	OK(api->setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	FAILS(api->bind(u, SA(&a), sizeof(a)), EADDRINUSE);
	api->close(u);
	for (int i = 0; i < RP_CLIENTS; i++)
		cl[i] = conf_tcp_client(api, "127.0.0.1", PORT, 0);
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
		cl[i] = conf_tcp_client(api, "127.0.0.1", PORT, 0);
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
	struct conf_tcp_seg g[32];
	int l, c[4], s[4], cap, n, syns, synacks;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("B") == 0);
	l = conf_tcp_listener(api, "198.18.0.2", 80, 1, false, 0);
	cr_assert(api->enter("A") == 0);
	for (int i = 0; i < 4; i++) {
		c[i] = conf_tcp_socket(api, SOCK_NONBLOCK);
		FAILS(api->connect(c[i], SA(&b), sizeof(b)), EINPROGRESS);
		if (i < 2)
			cr_assert(conf_tcp_wait(api, c[i], POLLOUT, 1000) & POLLOUT,
				  "%s: client %d did not connect", api->name, i);
	}
	api->sleep_ms(100);
	for (int i = 2; i < 4; i++) {
		cr_assert_eq(conf_tcp_poll(api, c[i], POLL_EV, 0), 0, "%s: client %d connected",
			     api->name, i);
		ASSERT_STATE(api, c[i], TCP_SYN_SENT);
	}
	n = conf_tcp_take(api, cap, g, 32);
	syns = synacks = 0;
	for (int i = 0; i < n && i < 32; i++) {
		syns += g[i].from_a && g[i].flags == TH_SYN_;
		synacks += !g[i].from_a && g[i].flags == (TH_SYN_ | TH_ACK_);
	}
	cr_assert(syns == 4 && synacks == 2, "%s: %d SYNs, %d SYN-ACKs", api->name, syns,
		  synacks);

	cr_assert(api->enter("B") == 0);
	s[0] = OK(api->accept4(l, NULL, NULL, 0));
	s[1] = OK(api->accept4(l, NULL, NULL, 0));
	cr_assert(api->enter("A") == 0);
	api->sleep_ms(750);
	for (int i = 2; i < 4; i++)
		cr_assert_eq(conf_tcp_poll(api, c[i], POLLOUT, 0), 0, "%s: client %d before its "
			     "SYN was sent again", api->name, i);
	for (int i = 2; i < 4; i++)
		cr_assert(conf_tcp_wait(api, c[i], POLLOUT, 600) & POLLOUT,
			  "%s: client %d never got in", api->name, i);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s[2] = OK(api->accept4(l, NULL, NULL, 0));
	s[3] = OK(api->accept4(l, NULL, NULL, 0));
	for (int i = 0; i < 4; i++)
		CONF_RET(api->send(s[i], "k", 1, 0), 1);
	cr_assert(api->enter("A") == 0);
	for (int i = 0; i < 4; i++) {
		OK(api->fcntl(c[i], F_SETFL, 0));
		conf_tcp_expect(api, c[i], "k", 1);
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
	struct conf_tcp_seg g[32];
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
	ca = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(ca, SA(&a), sizeof(a)));
	FAILS(api->connect(ca, SA(&b), sizeof(b)), EINPROGRESS);
	cr_assert(api->topo("B: addr add 198.18.0.2/24 dev veth1") == 0);
	cr_assert(api->enter("B") == 0);
	cb = conf_tcp_socket(api, SOCK_NONBLOCK);
	OK(api->bind(cb, SA(&b), sizeof(b)));
	FAILS(api->connect(cb, SA(&a), sizeof(a)), EINPROGRESS);
	cr_assert(conf_tcp_wait(api, cb, POLLOUT, 3000) & POLLOUT, "%s: B never connected",
		  api->name);
	CONF_RET(conf_tcp_so_error(api, cb), 0);
	ASSERT_STATE(api, cb, TCP_ESTABLISHED);
	p = conf_peer_of(api, cb);
	conf_assert_addr(&p, "198.18.0.1", 1000);
	cr_assert(api->enter("A") == 0);
	cr_assert(conf_tcp_wait(api, ca, POLLOUT, 3000) & POLLOUT, "%s: A never connected",
		  api->name);
	CONF_RET(conf_tcp_so_error(api, ca), 0);
	ASSERT_STATE(api, ca, TCP_ESTABLISHED);
	p = conf_peer_of(api, ca);
	conf_assert_addr(&p, "198.18.0.2", 2000);
	CONF_RET(api->send(ca, "from a", 6, 0), 6);
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect(api, cb, "from a", 6);
	CONF_RET(api->send(cb, "from b", 6, 0), 6);
	cr_assert(api->enter("A") == 0);
	conf_tcp_expect(api, ca, "from b", 6);

	n = conf_tcp_take(api, cap, g, 32);
	for (int i = 0; i < n && i < 32; i++) {
		syn[g[i].from_a] += g[i].flags == TH_SYN_;
		synack[g[i].from_a] += g[i].flags == (TH_SYN_ | TH_ACK_);
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

	l = conf_tcp_listener(api, "127.0.0.1", PORT, 8, false, 0);
	c = conf_tcp_client(api, "127.0.0.1", PORT, 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	tl = sizeof(tn);
	OK(api->getsockopt(s, IPPROTO_TCP, TCP_INFO, &tn, &tl));
	api->close(s);
	api->close(c);

	cr_assert(conf_sysctl(api, "", "net.ipv4.tcp_syncookies", "2") == 0, "%s: sysctl",
		  api->name);
	c = conf_tcp_client(api, "127.0.0.1", PORT, 0);
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
	conf_tcp_expect(api, s, "cookie", 6);
	CONF_RET(api->send(s, "back", 4, 0), 4);
	conf_tcp_expect(api, c, "back", 4);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* Is g a SYN|ACK from B to the phantom host 198.18.0.9? */
static bool synack_to_phantom(const struct conf_tcp_seg *g)
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
	struct conf_tcp_seg g[64], ph;
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
	l = conf_tcp_listener(api, "198.18.0.2", 80, 2, false, 0);
	memset(&ph, 0, sizeof(ph));
	memcpy(ph.smac, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6);
	memcpy(ph.dmac, (uint8_t[6]){ 2, 0, 0, 0, 0, 2 }, 6);
	memcpy(ph.saddr, (uint8_t[4]){ 198, 18, 0, 9 }, 4);
	memcpy(ph.daddr, (uint8_t[4]){ 198, 18, 0, 2 }, 4);
	ph.dport = 80;
	for (int i = 0; i < 5; i++) {
		ph.sport = (uint16_t)(1000 + i);
		conf_tcp_inject(api, &ph, TH_SYN_, 1000000u * (uint32_t)i, 0, NULL);
	}
	api->sleep_ms(100);
	n = conf_tcp_take(api, cap, g, 64);
	for (int i = 0; i < n && i < 64; i++)
		synacks += synack_to_phantom(&g[i]);
	cr_assert_eq(synacks, 3, "%s: %d SYN-ACKs to 5 SYNs, backlog 2", api->name, synacks);

	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&b), sizeof(b)), EINPROGRESS);
	api->sleep_ms(300);
	cr_assert_eq(conf_tcp_poll(api, c, POLL_EV, 0), 0, "%s: connected through a full SYN queue",
		     api->name);
	ASSERT_STATE(api, c, TCP_SYN_SENT);
	cr_assert(api->topo("B: sysctl net.ipv4.tcp_syncookies=1") == 0);
	cr_assert(conf_tcp_wait(api, c, POLLOUT, 1500) & POLLOUT, "%s: no cookie connection",
		  api->name);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, l, POLLIN, 1000) & POLLIN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->send(s, "cookie", 6, 0), 6);
	cr_assert(api->enter("A") == 0);
	conf_tcp_expect(api, c, "cookie", 6);

	conf_tcp_take(api, cap, g, 0);
	for (int i = 5; i < 7; i++) {
		ph.sport = (uint16_t)(1000 + i);
		conf_tcp_inject(api, &ph, TH_SYN_, 1000000u * (uint32_t)i, 0, NULL);
	}
	api->sleep_ms(50);
	n = conf_tcp_take(api, cap, g, 64);
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
	struct conf_tcp_seg g[8], ph;
	int c, cap, n;
	uint32_t iss;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: link set veth0 address 02:00:00:00:00:01\n"
			    "A: neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev veth0 nud permanent\n") == 0,
		  "%s: topology", api->name);
	cap = api->capture_start("A", "veth0");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&d), sizeof(d)), EINPROGRESS);
	me = conf_local_of(api, c);
	api->sleep_ms(20);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	cr_assert_eq(g[0].flags, TH_SYN_);
	iss = g[0].seq;
	memset(&ph, 0, sizeof(ph));
	memcpy(ph.smac, (uint8_t[6]){ 2, 0, 0, 0, 0, 9 }, 6);
	memcpy(ph.dmac, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6);
	memcpy(ph.saddr, (uint8_t[4]){ 198, 18, 0, 9 }, 4);
	memcpy(ph.daddr, (uint8_t[4]){ 198, 18, 0, 1 }, 4);
	ph.sport = 80;
	ph.dport = ntohs(me.sin_port);

	conf_tcp_inject(api, &ph, TH_RST_, 12345, 0, NULL);
	api->sleep_ms(20);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);		/* only the RST itself */
	ASSERT_STATE(api, c, TCP_SYN_SENT);
	ASSERT_POLL(api, c, 0, "SYN_SENT after a RST without ACK");

	conf_tcp_inject(api, &ph, TH_SYN_ | TH_ACK_, 777, iss + 100, NULL);
	api->sleep_ms(50);
	n = conf_tcp_take(api, cap, g, 8);
	CONF_RET(n, 3);
	cr_assert(g[1].saddr[3] == 1 && g[1].flags == TH_RST_ && g[1].seq == iss + 100,
		  "%s: answer to a bad SYN-ACK: flags %#x seq %u", api->name, g[1].flags,
		  g[1].seq);
	cr_assert(g[2].saddr[3] == 1 && g[2].flags == TH_SYN_ && g[2].seq == iss,
		  "%s: SYN again: flags %#x seq %u", api->name, g[2].flags, g[2].seq);
	ASSERT_STATE(api, c, TCP_SYN_SENT);

	conf_tcp_inject(api, &ph, TH_RST_ | TH_ACK_, 0, iss + 100, NULL);
	api->sleep_ms(20);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	ASSERT_STATE(api, c, TCP_SYN_SENT);
	ASSERT_POLL(api, c, 0, "SYN_SENT after a RST with a bad ACK");

	conf_tcp_inject(api, &ph, TH_RST_ | TH_ACK_, 0, iss + 1, NULL);
	api->sleep_ms(20);
	CONF_RET(conf_tcp_take(api, cap, g, 8), 1);
	ASSERT_POLL(api, c, POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLERR |
				    POLLHUP,
		    "refused");
	CONF_RET(conf_tcp_so_error(api, c), ECONNREFUSED);
	ASSERT_STATE(api, c, TCP_CLOSE);
	api->close(c);
	api->enter("");
}
