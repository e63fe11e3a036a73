/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_hash.c - TCP tables: SYN cookies, ISNs, port selection, lookup
 *
 * Runs tcp_hash.c's own logic on a namespace built by hand (arena, virtual
 * clock, fixed random seed, a chosen ip_local_port_range) and on socket
 * objects made here: nothing reaches the other tcp/ files, so each check
 * is about the tables alone.  Expected behaviour is Linux's:
 * __cookie_v4_init_sequence / __cookie_v4_check (msstab 536, 1300, 1440,
 * 1460; a cookie lives two minute ticks), secure_tcp_seq (RFC 6528: a keyed
 * hash plus a clock ticking every 64 ns), inet_csk_get_port (bind(0) takes
 * odd ports first, leaving even ones to connect) and __inet_hash_connect
 * (RFC 6056 algorithm 3, even ports first, unique 4-tuples).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "net/netns.h"
#include "tcp/tcp.h"

/* tcp_hash.c's SYN cookie arithmetic (not in tcp.h yet) */
uint32_t tcp_syncookie_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint16_t *mss);
int tcp_syncookie_check(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t cookie);

#define TH_NSOCK 64

static struct netns *th_ns;
static struct tcp_sock *th_sk;	/* TH_NSOCK zeroed socket objects */

static void th_setup(void)
{
	struct netns *n = calloc(1, sizeof(*n));

	cr_assert_not_null(n);
	n->arena = arena_new((size_t)1 << 28);
	cr_assert_not_null(n->arena);
	clock_init(&n->clock, true);
	cr_assert_eq(timer_base_init(&n->timers, n->arena, 1024), 0);
	pthread_mutex_init(&n->lock, NULL);
	n->worker_efd = -1;
	n->rng[0] = 0x9e3779b97f4a7c15ull;
	n->rng[1] = 0xbf58476d1ce4e5b9ull;
	n->sys.port_lo = 32768;	/* Linux's default ip_local_port_range */
	n->sys.port_hi = 60999;
	cr_assert_eq(tcp_init(n), 0);
	cr_assert_not_null(n->tcp);
	n->tcp->sys.timestamps = 1;
	n->tcp->sys.tw_reuse = 2;
	th_ns = n;
	th_sk = calloc(TH_NSOCK, sizeof(*th_sk));
	cr_assert_not_null(th_sk);
	for (int i = 0; i < TH_NSOCK; i++) {
		th_sk[i].sk.ns = n;
		th_sk[i].sk.state = TCP_CLOSE;
	}
}

static void th_teardown(void)
{
	free(th_sk);
	arena_destroy(th_ns->arena);
	free(th_ns);
}

TestSuite(tcp_hash, .init = th_setup, .fini = th_teardown);

static uint32_t ip(const char *s)
{
	return inet_addr(s);
}

/* ---- SYN cookies ---- */

/*
 * Every MSS the table holds comes back from the cookie; values in between
 * round down to the table entry below them (anything under 1300 is 536).
 */
Test(tcp_hash, syncookie_round_trip_all_mss)
{
	static const struct {
		uint16_t in, enc;
	} cases[] = {
		{ 536, 536 }, { 1300, 1300 }, { 1440, 1440 }, { 1460, 1460 }, { 88, 536 },
		{ 1299, 536 }, { 1439, 1300 }, { 1452, 1440 }, { 1459, 1440 }, { 9000, 1460 },
		{ 65495, 1460 },
	};
	uint32_t peer = ip("198.18.0.2"), us = ip("198.18.0.1");

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t mss = cases[i].in;
		uint32_t seq = 0x12345678u * (i + 1);
		uint32_t c = tcp_syncookie_seq(th_ns, peer, us, htons(40000 + i), htons(80), seq, &mss);

		cr_assert_eq(mss, cases[i].enc, "MSS %u encoded as %u", cases[i].in, mss);
		cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(40000 + i), htons(80), seq, c),
			     cases[i].enc, "MSS %u", cases[i].in);
		/* another peer port or address, another SYN, a changed cookie: rejected (a
		 * difference of a few units only shifts the MSS index, as in Linux) */
		cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(40001 + i), htons(80), seq, c), 0);
		cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(40000 + i), htons(80), seq + 0x1000, c), 0);
		cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(40000 + i), htons(80), seq, c + 0x1000), 0);
		cr_assert_eq(tcp_syncookie_check(th_ns, us, peer, htons(40000 + i), htons(80), seq, c), 0);
	}
}

/*
 * The cookie carries a minute counter: it is good in its own minute and
 * the next (MAX_SYNCOOKIE_AGE 2), never after.
 */
Test(tcp_hash, syncookie_expires_after_two_minute_ticks)
{
	uint32_t peer = ip("10.0.0.2"), us = ip("10.0.0.1"), seq = 1000;
	uint16_t mss = 1460;
	uint32_t c;

	clock_advance(&th_ns->clock, 30 * NSEC_PER_SEC - netns_now(th_ns));	/* mid-minute 0 */
	c = tcp_syncookie_seq(th_ns, peer, us, htons(5555), htons(22), seq, &mss);
	cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(5555), htons(22), seq, c), 1460);
	clock_advance(&th_ns->clock, 60 * NSEC_PER_SEC);	/* minute 1 */
	cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(5555), htons(22), seq, c), 1460);
	clock_advance(&th_ns->clock, 29 * NSEC_PER_SEC);	/* still minute 1 */
	cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(5555), htons(22), seq, c), 1460);
	clock_advance(&th_ns->clock, 1 * NSEC_PER_SEC);	/* minute 2: too old */
	cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(5555), htons(22), seq, c), 0);
	/* a cookie made now is good again */
	c = tcp_syncookie_seq(th_ns, peer, us, htons(5555), htons(22), seq, &mss);
	cr_assert_eq(tcp_syncookie_check(th_ns, peer, us, htons(5555), htons(22), seq, c), 1460);
}

/* ---- ISN and timestamp offsets ---- */

Test(tcp_hash, isn_differs_per_tuple_and_advances_with_the_clock)
{
	uint32_t a = ip("192.0.2.1"), b = ip("192.0.2.2");
	uint32_t i1 = tcp_secure_seq(th_ns, a, b, htons(40000), htons(80));
	uint32_t i2 = tcp_secure_seq(th_ns, a, b, htons(40002), htons(80));
	uint32_t i3 = tcp_secure_seq(th_ns, b, a, htons(40000), htons(80));
	uint32_t i4 = tcp_secure_seq(th_ns, a, b, htons(40000), htons(81));

	cr_assert(i1 != i2 && i1 != i3 && i1 != i4 && i2 != i3, "%08x %08x %08x %08x", i1, i2, i3, i4);
	cr_assert_eq(tcp_secure_seq(th_ns, a, b, htons(40000), htons(80)), i1, "same tuple, same instant");
	/* seq_scale: one tick per 64 ns */
	clock_advance(&th_ns->clock, 64 * 1000);
	cr_assert_eq(tcp_secure_seq(th_ns, a, b, htons(40000), htons(80)) - i1, 1000u);
	clock_advance(&th_ns->clock, 4 * NSEC_PER_SEC);
	cr_assert_eq(tcp_secure_seq(th_ns, a, b, htons(40000), htons(80)) - i1,
		     (uint32_t)((64 * 1000 + 4 * NSEC_PER_SEC) >> 6));
}

/* net.ipv4.tcp_timestamps=1 randomises the offset per address pair; 2 does not. */
Test(tcp_hash, ts_offset_per_pair_only_with_timestamps_1)
{
	uint32_t a = ip("192.0.2.1"), b = ip("192.0.2.2"), c = ip("192.0.2.3");
	uint32_t o1 = tcp_secure_ts_off(th_ns, a, b), o2 = tcp_secure_ts_off(th_ns, a, c);

	cr_assert(o1 != o2);
	cr_assert_eq(tcp_secure_ts_off(th_ns, a, b), o1);
	th_ns->tcp->sys.timestamps = 2;
	cr_assert_eq(tcp_secure_ts_off(th_ns, a, b), 0);
}

/* ---- ports ---- */

static struct tcp_sock *sock_n(int i, const char *addr, uint32_t flags)
{
	struct tcp_sock *tp = &th_sk[i];

	tp->sk.rcv_saddr = tp->sk.saddr = addr ? ip(addr) : 0;
	tp->sk.flags = flags;
	return tp;
}

/* bind(0) takes odd ports of the range (connect gets the even ones), all different. */
Test(tcp_hash, bind_zero_picks_odd_ports_in_range)
{
	for (int i = 0; i < 40; i++) {
		struct tcp_sock *tp = sock_n(i, NULL, 0);

		cr_assert_eq(tcp_get_port(tp, 0), 0);
		cr_assert(tp->sk.num >= 32768 && tp->sk.num <= 60999, "port %u", tp->sk.num);
		cr_assert(tp->sk.num & 1, "bind(0) took even port %u", tp->sk.num);
		for (int j = 0; j < i; j++)
			cr_assert_neq(th_sk[j].sk.num, tp->sk.num);
	}
}

/* A small range: the odd ports go first, then the even ones, then EADDRINUSE. */
Test(tcp_hash, bind_zero_odd_then_even_then_full)
{
	th_ns->sys.port_lo = 40000;
	th_ns->sys.port_hi = 40009;
	for (int i = 0; i < 10; i++) {
		struct tcp_sock *tp = sock_n(i, NULL, 0);

		cr_assert_eq(tcp_get_port(tp, 0), 0);
		cr_assert(tp->sk.num >= 40000 && tp->sk.num <= 40009);
		cr_assert_eq(tp->sk.num & 1, i < 5 ? 1 : 0, "socket %d got %u", i, tp->sk.num);
	}
	cr_assert_eq(tcp_get_port(sock_n(10, NULL, 0), 0), -EADDRINUSE);
	tcp_put_port(&th_sk[3]);
	cr_assert_eq(th_sk[3].sk.num, 0);
	cr_assert_eq(tcp_get_port(sock_n(10, NULL, 0), 0), 0);
}

/* inet_bind_conflict: wildcard overlap, SO_REUSEADDR unless LISTEN, SO_REUSEPORT, devices. */
Test(tcp_hash, bind_conflicts)
{
	struct tcp_sock *a = sock_n(0, NULL, 0), *b = sock_n(1, "127.0.0.1", 0);

	cr_assert_eq(tcp_get_port(a, 5000), 0);
	cr_assert_eq(tcp_get_port(b, 5000), -EADDRINUSE, "0.0.0.0 covers 127.0.0.1");
	b = sock_n(1, "127.0.0.1", 0);
	cr_assert_eq(tcp_get_port(b, 5001), 0);
	cr_assert_eq(tcp_get_port(sock_n(2, "127.0.0.2", 0), 5001), 0, "different addresses");
	cr_assert_eq(tcp_get_port(sock_n(3, NULL, 0), 5001), -EADDRINUSE);

	/* SO_REUSEADDR on both: shared while neither listens */
	a = sock_n(4, NULL, SKF_REUSEADDR);
	b = sock_n(5, NULL, SKF_REUSEADDR);
	cr_assert_eq(tcp_get_port(a, 6000), 0);
	cr_assert_eq(tcp_get_port(b, 6000), 0);
	a->sk.state = TCP_LISTEN;	/* listen() re-checks with the new state */
	cr_assert_eq(tcp_get_port(a, 6000), 0, "the other one does not listen");
	b->sk.state = TCP_LISTEN;
	cr_assert_eq(tcp_get_port(b, 6000), -EADDRINUSE, "two listeners need SO_REUSEPORT");
	cr_assert_eq(tcp_get_port(sock_n(6, NULL, SKF_REUSEADDR), 6000), -EADDRINUSE,
		     "a listener blocks even SO_REUSEADDR");
	cr_assert_eq(tcp_get_port(sock_n(7, NULL, SKF_REUSEADDR), 6000 + 1), 0);

	/* SO_REUSEPORT on both: shared, listening or not */
	a = sock_n(8, NULL, SKF_REUSEPORT);
	b = sock_n(9, NULL, SKF_REUSEPORT);
	cr_assert_eq(tcp_get_port(a, 7000), 0);
	a->sk.state = TCP_LISTEN;
	cr_assert_eq(tcp_get_port(b, 7000), 0);
	b->sk.state = TCP_LISTEN;
	cr_assert_eq(tcp_get_port(b, 7000), 0);
	cr_assert_eq(tcp_get_port(sock_n(10, NULL, 0), 7000), -EADDRINUSE, "only one has it");

	/* sockets bound to different devices never conflict */
	a = sock_n(11, NULL, 0);
	a->sk.bound_dev_if = 2;
	b = sock_n(12, NULL, 0);
	b->sk.bound_dev_if = 3;
	cr_assert_eq(tcp_get_port(a, 8000), 0);
	cr_assert_eq(tcp_get_port(b, 8000), 0);
	cr_assert_eq(tcp_get_port(sock_n(13, NULL, 0), 8000), -EADDRINUSE, "unbound overlaps both");
}

static void set_peer(struct tcp_sock *tp, const char *local, const char *peer, uint16_t port)
{
	tp->sk.rcv_saddr = tp->sk.saddr = ip(local);
	tp->sk.daddr = ip(peer);
	tp->sk.dport = htons(port);
	tp->sk.state = TCP_SYN_SENT;
}

/*
 * connect() to one destination: every socket gets its own port, even ones
 * first; each is found again by its 4-tuple.  Distinct destinations start
 * from different places of the range.
 */
Test(tcp_hash, connect_ports_unique_and_even_first)
{
	for (int i = 0; i < 32; i++) {
		struct tcp_sock *tp = &th_sk[i];

		set_peer(tp, "10.1.0.1", "10.1.0.2", 443);
		cr_assert_eq(tcp_hash_connect(tp), 0);
		cr_assert(tp->sk.num >= 32768 && tp->sk.num <= 60999);
		cr_assert_eq(tp->sk.num & 1, 0, "connect took odd port %u", tp->sk.num);
		cr_assert_eq(tp->sk.sport, htons(tp->sk.num));
		for (int j = 0; j < i; j++)
			cr_assert_neq(th_sk[j].sk.num, tp->sk.num);
	}
	for (int i = 0; i < 32; i++) {
		struct tcp_sock *tp = &th_sk[i];

		cr_assert_eq(tcp_lookup(th_ns, ip("10.1.0.2"), htons(443), ip("10.1.0.1"), tp->sk.sport, 1),
			     &tp->hn);
	}
	/*
	 * one connect to each of 16 destinations: each starts from its own
	 * keyed offset, so the ports differ (a repeat would be legal, the
	 * 4-tuples differ, but is rare: allow one)
	 */
	int same = 0;
	for (int i = 32; i < 48; i++) {
		char peer[32];

		snprintf(peer, sizeof(peer), "10.2.%d.%d", i, 7 * i);
		set_peer(&th_sk[i], "10.1.0.1", peer, (uint16_t)(1000 + i));
		cr_assert_eq(tcp_hash_connect(&th_sk[i]), 0);
		for (int j = 32; j < i; j++)
			same += th_sk[j].sk.num == th_sk[i].sk.num;
	}
	cr_assert_leq(same, 1, "%d destinations share a port", same);
}

/*
 * connect() shares a port with other connects (unique 4-tuples) but never
 * takes one that bind() holds; with the range used up: EADDRNOTAVAIL.
 */
Test(tcp_hash, connect_skips_bound_ports_and_runs_out)
{
	th_ns->sys.port_lo = 50000;
	th_ns->sys.port_hi = 50003;
	cr_assert_eq(tcp_get_port(sock_n(0, NULL, 0), 50000), 0);
	cr_assert_eq(tcp_get_port(sock_n(1, NULL, 0), 50003), 0);
	/* two free ports, each shareable by connects to different peers */
	for (int i = 2; i < 6; i++) {
		set_peer(&th_sk[i], "10.1.0.1", i < 4 ? "10.1.0.2" : "10.1.0.3", 80);
		cr_assert_eq(tcp_hash_connect(&th_sk[i]), 0);
		cr_assert(th_sk[i].sk.num == 50001 || th_sk[i].sk.num == 50002, "port %u", th_sk[i].sk.num);
	}
	cr_assert_neq(th_sk[2].sk.num, th_sk[3].sk.num);
	cr_assert_neq(th_sk[4].sk.num, th_sk[5].sk.num);
	set_peer(&th_sk[6], "10.1.0.1", "10.1.0.2", 80);
	cr_assert_eq(tcp_hash_connect(&th_sk[6]), -EADDRNOTAVAIL);
	/* bind() conflicts with the connected sockets there like with any owner */
	cr_assert_eq(tcp_get_port(sock_n(7, NULL, 0), th_sk[2].sk.num), -EADDRINUSE);
	/* a bound port connects if the 4-tuple is new, not twice */
	set_peer(&th_sk[0], "10.1.0.1", "10.1.0.9", 80);
	cr_assert_eq(tcp_hash_connect(&th_sk[0]), 0);
	cr_assert_eq(th_sk[0].sk.num, 50000);
	struct tcp_sock *dup = sock_n(8, NULL, SKF_REUSEADDR);
	th_sk[0].sk.flags = SKF_REUSEADDR;
	cr_assert_eq(tcp_get_port(dup, 50000), 0);
	set_peer(dup, "10.1.0.1", "10.1.0.9", 80);
	cr_assert_eq(tcp_hash_connect(dup), -EADDRNOTAVAIL);
}

/*
 * Listener lookup (compute_score): an exact local address beats
 * INADDR_ANY, a device-bound listener beats an unbound one on its device
 * (listening on one port needs SO_REUSEPORT; each is its own group here),
 * established entries beat listeners; unhashed sockets are gone.
 */
Test(tcp_hash, lookup_prefers_exact_then_device_then_any)
{
	struct tcp_sock *any = sock_n(0, NULL, SKF_REUSEPORT), *dev = sock_n(1, NULL, SKF_REUSEPORT);
	struct tcp_sock *exact = sock_n(2, "127.0.0.1", SKF_REUSEPORT);
	uint32_t lo = ip("127.0.0.1"), peer = ip("127.0.0.5");

	dev->sk.bound_dev_if = 7;
	for (int i = 0; i < 3; i++) {
		th_sk[i].sk.state = TCP_LISTEN;
		cr_assert_eq(tcp_get_port(&th_sk[i], 9000), 0);
		tcp_hash(&th_sk[i]);
	}
	cr_assert_eq(tcp_lookup(th_ns, peer, htons(1234), lo, htons(9000), 1), &exact->hn);
	cr_assert_eq(tcp_lookup(th_ns, peer, htons(1234), ip("127.0.0.2"), htons(9000), 1), &any->hn);
	cr_assert_eq(tcp_lookup(th_ns, peer, htons(1234), ip("127.0.0.2"), htons(9000), 7), &dev->hn);
	cr_assert_null(tcp_lookup(th_ns, peer, htons(1234), lo, htons(9001), 1));

	struct tcp_sock *conn = &th_sk[3];
	conn->sk.num = 9000;
	conn->sk.sport = htons(9000);
	set_peer(conn, "127.0.0.1", "127.0.0.5", 1234);
	conn->sk.state = TCP_ESTABLISHED;
	tcp_hash(conn);
	cr_assert_eq(tcp_lookup(th_ns, peer, htons(1234), lo, htons(9000), 1), &conn->hn);
	tcp_unhash(conn);
	tcp_unhash(exact);
	cr_assert_eq(tcp_lookup(th_ns, peer, htons(1234), lo, htons(9000), 1), &any->hn);
}

/* SO_REUSEPORT listeners share a flow: the same 4-tuple always lands on the same one. */
Test(tcp_hash, reuseport_group_spreads_flows_stably)
{
	unsigned hits[4] = { 0 };

	for (int i = 0; i < 4; i++) {
		struct tcp_sock *tp = sock_n(i, NULL, SKF_REUSEPORT);

		tp->sk.state = TCP_LISTEN;
		cr_assert_eq(tcp_get_port(tp, 8080), 0);
		tcp_hash(tp);
	}
	for (unsigned p = 0; p < 400; p++) {
		struct tcp_hnode *h = tcp_lookup(th_ns, ip("10.9.9.9"), htons((uint16_t)(20000 + p)),
						 ip("10.0.0.1"), htons(8080), 1);

		cr_assert_not_null(h);
		cr_assert_eq(tcp_lookup(th_ns, ip("10.9.9.9"), htons((uint16_t)(20000 + p)), ip("10.0.0.1"),
					htons(8080), 1), h);
		for (int i = 0; i < 4; i++)
			if (h == &th_sk[i].hn)
				hits[i]++;
	}
	for (int i = 0; i < 4; i++)
		cr_assert(hits[i] > 40, "listener %d got %u of 400 flows", i, hits[i]);
}

/* ---- Fast Open ---- */

Test(tcp_hash, fastopen_cookie_and_client_cache)
{
	uint8_t c1[8], c2[8], c3[8], got[16];
	uint16_t mss = 0;
	uint8_t len = 0;

	tcp_fastopen_cookie_gen(th_ns, ip("10.0.0.2"), ip("10.0.0.1"), c1);
	tcp_fastopen_cookie_gen(th_ns, ip("10.0.0.2"), ip("10.0.0.1"), c2);
	tcp_fastopen_cookie_gen(th_ns, ip("10.0.0.3"), ip("10.0.0.1"), c3);
	cr_assert_arr_eq(c1, c2, 8);
	cr_assert(memcmp(c1, c3, 8) != 0);

	cr_assert_not(tcp_fastopen_cache_get(th_ns, ip("10.0.0.1"), &mss, got, &len));
	tcp_fastopen_cache_set(th_ns, ip("10.0.0.1"), 1460, c1, 8, false);
	cr_assert(tcp_fastopen_cache_get(th_ns, ip("10.0.0.1"), &mss, got, &len));
	cr_assert_eq(mss, 1460);
	cr_assert_eq(len, 8);
	cr_assert_arr_eq(got, c1, 8);
	/* a later MSS-only update keeps the cookie */
	tcp_fastopen_cache_set(th_ns, ip("10.0.0.1"), 1400, NULL, 0, true);
	cr_assert(tcp_fastopen_cache_get(th_ns, ip("10.0.0.1"), &mss, got, &len));
	cr_assert_eq(mss, 1400);
	cr_assert_eq(len, 8);
	/* the cache replaces its oldest entries round robin */
	for (uint32_t i = 0; i < 64; i++)
		tcp_fastopen_cache_set(th_ns, htonl(0x0b000000u + i), 1000, c3, 8, false);
	cr_assert_not(tcp_fastopen_cache_get(th_ns, ip("10.0.0.1"), &mss, got, &len));
	cr_assert(tcp_fastopen_cache_get(th_ns, htonl(0x0b000000u + 63), &mss, got, &len));
}
