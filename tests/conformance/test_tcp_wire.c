/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_wire.c - what TCP sends puts on the wire: MSG_MORE, TCP_CORK, TCP_NODELAY, URG
 *
 * Two hosts (conf_topo_pair): a client on A, a listener on B, a capture on
 * B's veth1 that sees every frame of the connection.  Each scenario counts
 * and reads the data segments from A (TCP, payload > 0) that crossed the
 * link.  Waiting is done by polling with zero timeout between
 * api->sleep_ms steps, so the usock run (virtual time) and the kernel run
 * (real time) see the same timers fire.  Expected values are the kernel's
 * (Linux 6.18).  Scenarios close every socket they open.
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

/* Is g a data segment (payload > 0) from A? */
static bool data_from_a(const struct conf_tcp_seg *g)
{
	return g->from_a && g->len > 0;
}

/*
 * The TCP data segments from 198.18.0.1 among the frames captured since
 * the last take (up to max into out, first 64 payload bytes each).
 * Return: how many there were.
 */
static int take_segs(const struct sockapi *api, int cap, struct conf_tcp_seg *out, int max)
{
	return conf_tcp_take_if(api, cap, out, max, data_from_a);
}

/*
 * Build conf_topo_pair, listen on B 198.18.0.2:80, connect from A and
 * accept; *cap captures B's veth1 from after the handshake.  Returns in A,
 * *c the client (in A) and *s the accepted socket (in B).
 */
static void setup(const struct sockapi *api, int *c, int *s, int *cap)
{
	conf_tcp_two_hosts(api, c, s, cap, 0, 0);
	OK(api->fcntl(*c, F_SETFL, O_NONBLOCK));
	cr_assert(api->enter("B") == 0);
	OK(api->fcntl(*s, F_SETFL, O_NONBLOCK));
	cr_assert(api->enter("A") == 0);
}

/* Close both ends (c in A, s in B) and let the FIN exchange finish. */
static void teardown(const struct sockapi *api, int c, int s)
{
	api->close(c);
	cr_assert(api->enter("B") == 0);
	api->close(s);
	api->sleep_ms(100);
	api->enter("");
}

/* Read exactly the string want from s (in B) within 1 s; returns in A. */
static void b_reads(const struct sockapi *api, int s, const char *want)
{
	cr_assert(api->enter("B") == 0);
	conf_tcp_expect_str(api, s, want);
	cr_assert(api->enter("A") == 0);
}

/* Assert seg is one plain data segment (ACK|PSH) carrying exactly want. */
static void assert_seg(const struct sockapi *api, const struct conf_tcp_seg *g, const char *want)
{
	size_t n = strlen(want);

	cr_assert_eq(g->len, n, "%s: segment of %zu bytes, want %zu", api->name, g->len, n);
	cr_assert(memcmp(g->data, want, n) == 0, "%s: segment \"%.*s\", want \"%s\"", api->name,
		  (int)n, (const char *)g->data, want);
	cr_assert_eq(g->flags, TH_ACK_ | TH_PSH_, "%s: flags %#x", api->name, g->flags);
}

/*
 * R-FLAG-MORE-TCP: two sends with MSG_MORE put nothing on the wire; the
 * third, without it, sends all five bytes as ONE segment.  TCP_NODELAY
 * does not defeat MSG_MORE: the same again gives one segment.
 */
CONFORMANCE(tcp_wire, msg_more_makes_one_segment, .timeout = 20)
{
	struct conf_tcp_seg g[8];
	int c, s, cap, one = 1;

	setup(api, &c, &s, &cap);
	CONF_RET(api->send(c, "ab", 2, MSG_MORE), 2);
	CONF_RET(api->send(c, "cd", 2, MSG_MORE), 2);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 0);
	CONF_RET(api->send(c, "e", 1, 0), 1);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	assert_seg(api, &g[0], "abcde");
	b_reads(api, s, "abcde");

	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	CONF_RET(api->send(c, "fg", 2, MSG_MORE), 2);
	CONF_RET(api->send(c, "hi", 2, MSG_MORE), 2);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 0);
	CONF_RET(api->send(c, "j", 1, 0), 1);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	assert_seg(api, &g[0], "fghij");
	b_reads(api, s, "fghij");
	teardown(api, c, s);
}

/*
 * R-FLAG-MORE-TCP: TCP_NODELAY without MSG_MORE or cork sends each call as
 * its own segment (2, 2, 1 bytes), in order, with consecutive sequence
 * numbers.
 */
CONFORMANCE(tcp_wire, nodelay_sends_each_call, .timeout = 20)
{
	struct conf_tcp_seg g[8];
	int c, s, cap, one = 1;

	setup(api, &c, &s, &cap);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	CONF_RET(api->send(c, "ab", 2, 0), 2);
	CONF_RET(api->send(c, "cd", 2, 0), 2);
	CONF_RET(api->send(c, "e", 1, 0), 1);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 3);
	assert_seg(api, &g[0], "ab");
	assert_seg(api, &g[1], "cd");
	assert_seg(api, &g[2], "e");
	cr_assert(g[1].seq == g[0].seq + 2 && g[2].seq == g[1].seq + 2);
	b_reads(api, s, "abcde");
	teardown(api, c, s);
}

/*
 * R-FLAG-MORE-TCP: TCP_CORK holds every send (nothing on the wire, even
 * with TCP_NODELAY also set); clearing it sends what was held as one
 * segment.
 */
CONFORMANCE(tcp_wire, cork_makes_one_segment, .timeout = 20)
{
	struct conf_tcp_seg g[8];
	int c, s, cap, one = 1, zero = 0;

	setup(api, &c, &s, &cap);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	CONF_RET(api->send(c, "ab", 2, 0), 2);
	CONF_RET(api->send(c, "cd", 2, 0), 2);
	CONF_RET(api->send(c, "e", 1, 0), 1);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 0);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	assert_seg(api, &g[0], "abcde");
	b_reads(api, s, "abcde");
	teardown(api, c, s);
}

/*
 * R-FLAG-MORE-TCP: data held by MSG_MORE (or TCP_CORK) and never followed
 * up is not held forever: with nothing in flight the zero-window probe
 * timer (one RTO, at least TCP_RTO_MIN = 200 ms; tcp_check_probe_timer)
 * fires and tcp_write_wakeup sends it.  Nothing after 100 ms, the segment
 * by 600 ms.
 */
CONFORMANCE(tcp_wire, held_data_leaves_after_200ms, .timeout = 20)
{
	struct conf_tcp_seg g[8];
	int c, s, cap, one = 1, zero = 0;

	setup(api, &c, &s, &cap);
	CONF_RET(api->send(c, "ab", 2, MSG_MORE), 2);
	api->sleep_ms(100);
	CONF_RET(take_segs(api, cap, g, 8), 0);
	api->sleep_ms(500);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	assert_seg(api, &g[0], "ab");
	b_reads(api, s, "ab");

	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	CONF_RET(api->send(c, "cd", 2, 0), 2);
	api->sleep_ms(100);
	CONF_RET(take_segs(api, cap, g, 8), 0);
	api->sleep_ms(500);
	CONF_RET(take_segs(api, cap, g, 8), 1);
	assert_seg(api, &g[0], "cd");
	b_reads(api, s, "cd");
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	teardown(api, c, s);
}

/*
 * R-FLAG-OOB: send(MSG_OOB) of "xyz" goes out as a segment with URG set
 * (flags URG|ACK|PSH) whose urgent pointer is 3: it points just past the
 * urgent byte z, BSD style (RFC 6093), relative to the segment's sequence
 * number.  The segment before it carries no URG.
 */
CONFORMANCE(tcp_wire, urgent_pointer, .timeout = 20)
{
	struct conf_tcp_seg g[8];
	char z;
	int c, s, cap, one = 1;

	setup(api, &c, &s, &cap);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	CONF_RET(api->send(c, "ab", 2, 0), 2);
	CONF_RET(api->send(c, "xyz", 3, MSG_OOB), 3);
	api->sleep_ms(20);
	CONF_RET(take_segs(api, cap, g, 8), 2);
	assert_seg(api, &g[0], "ab");
	cr_assert_eq(g[0].urp, 0);
	cr_assert_eq(g[1].len, 3);
	cr_assert(memcmp(g[1].data, "xyz", 3) == 0);
	cr_assert_eq(g[1].flags, TH_URG_ | TH_ACK_ | TH_PSH_, "%s: flags %#x", api->name,
		     g[1].flags);
	cr_assert_eq(g[1].urp, 3, "%s: urgent pointer %u", api->name, g[1].urp);
	cr_assert(api->enter("B") == 0);
	cr_assert(conf_tcp_wait(api, s, POLLPRI, 1000) & POLLPRI);
	CONF_RET(api->recv(s, &z, 1, MSG_OOB), 1);
	cr_assert_eq(z, 'z');
	cr_assert(api->enter("A") == 0);
	b_reads(api, s, "abxy");
	teardown(api, c, s);
}
