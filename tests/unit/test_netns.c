/* SPDX-License-Identifier: MIT */
/*
 * test_netns.c - namespaces, the receive ring, veth, routes, the ip command
 *
 * The concurrency claim of netns.h - two namespaces sending to each other
 * from two threads never deadlock and lose nothing the ring can hold - is
 * tested with real threads, bounded in count and time.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ip/ip4.h"
#include "net/netns_internal.h"
#include "usock.h"

static struct usock_netns *mkns(const char *name, unsigned flags)
{
	struct usock_netns *ns = usock_netns_new(name, flags);
	cr_assert_not_null(ns, "usock_netns_new(%s): %s", name, strerror(errno));
	return ns;
}

static void ip(struct usock_netns *ns, const char *cmd)
{
	cr_assert_eq(usock_ip(ns, cmd, NULL, 0), 0, "ip %s: %s", cmd, strerror(errno));
}

static void pair(struct usock_netns **a, struct usock_netns **b, const char *na, const char *nb)
{
	char cmd[128];
	*a = mkns(na, 0);
	*b = mkns(nb, 0);
	snprintf(cmd, sizeof(cmd), "link add veth0 type veth peer name veth1 netns %s", nb);
	ip(*a, cmd);
	ip(*a, "addr add 198.18.0.1/24 dev veth0");
	ip(*a, "link set veth0 up");
	ip(*b, "addr add 198.18.0.2/24 dev veth1");
	ip(*b, "link set veth1 up");
}

static int udp_bound(struct usock_netns *ns, const char *addr, uint16_t port)
{
	usock_netns_set(ns);
	int fd = usock_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = inet_addr(addr);
	cr_assert_eq(usock_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	int big = 4 << 20;
	usock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

struct blaster {
	struct usock_netns *ns;
	int fd;
	const char *to;
	int n, sent;
};

static void *blast(void *arg)
{
	struct blaster *b = arg;
	usock_netns_set(b->ns);
	struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(7000)};
	d.sin_addr.s_addr = inet_addr(b->to);
	for (int i = 0; i < b->n; i++) {
		uint32_t v = (uint32_t)i;
		if (usock_sendto(b->fd, &v, sizeof(v), 0, (struct sockaddr *)&d, sizeof(d)) == 4)
			b->sent++;
		if ((i & 63) == 63) {
			/* let the receiver keep up: the ring and the queue are finite */
			struct timespec ts = {0, 200000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static int drain_count(int fd, int *last_ok)
{
	int got = 0, prev = -1;
	*last_ok = 1;
	uint32_t v;
	while (usock_recv(fd, &v, sizeof(v), MSG_DONTWAIT) == 4) {
		if ((int)v <= prev)
			*last_ok = 0; /* order across the link must be kept */
		prev = (int)v;
		got++;
	}
	return got;
}

/* Two namespaces, two threads, each sending to the other at once: no deadlock, in order. */
Test(netns, veth_both_ways_two_threads, .timeout = 60)
{
	struct usock_netns *a, *b;
	pair(&a, &b, "ta", "tb");
	int ra = udp_bound(a, "198.18.0.1", 7000), rb = udp_bound(b, "198.18.0.2", 7000);
	int sa = udp_bound(a, "198.18.0.1", 0), sb = udp_bound(b, "198.18.0.2", 0);
	/* resolve ARP both ways first */
	struct blaster x = {a, sa, "198.18.0.2", 1, 0}, y = {b, sb, "198.18.0.1", 1, 0};
	blast(&x);
	blast(&y);
	usock_netns_set(a);
	int ok;
	cr_assert_eq(drain_count(ra, &ok), 1);
	usock_netns_set(b);
	cr_assert_eq(drain_count(rb, &ok), 1);

	struct blaster bx = {a, sa, "198.18.0.2", 20000, 0}, by = {b, sb, "198.18.0.1", 20000, 0};
	pthread_t t1, t2;
	pthread_create(&t1, NULL, blast, &bx);
	pthread_create(&t2, NULL, blast, &by);
	int got_a = 0, got_b = 0, ok_a = 1, ok_b = 1;
	time_t end = time(NULL) + 30;
	for (;;) {
		int o;
		usock_netns_set(a);
		got_a += drain_count(ra, &o);
		ok_a &= o;
		usock_netns_set(b);
		got_b += drain_count(rb, &o);
		ok_b &= o;
		if ((got_a >= by.n && got_b >= bx.n) || time(NULL) > end)
			break;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
		if (bx.sent == bx.n && by.sent == by.n && got_a == by.sent && got_b == bx.sent)
			break;
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	usock_netns_set(a);
	int o;
	got_a += drain_count(ra, &o);
	usock_netns_set(b);
	got_b += drain_count(rb, &o);
	cr_assert_eq(bx.sent, bx.n);
	cr_assert_eq(by.sent, by.n);
	cr_assert_eq(got_b, bx.n, "A->B: %d of %d", got_b, bx.n);
	cr_assert_eq(got_a, by.n, "B->A: %d of %d", got_a, by.n);
	cr_assert(ok_a && ok_b, "datagrams overtook each other on a veth");
	usock_netns_set(a);
	usock_close(ra);
	usock_close(sa);
	usock_netns_set(b);
	usock_close(rb);
	usock_close(sb);
	usock_netns_set(NULL);
	cr_assert(usock_netns_pools_full(a) && usock_netns_pools_full(b));
}

/* Longest prefix first, then metric; scope link refuses a gateway (RTO_ONLINK). */
Test(netns, route_lookup_order_and_scope)
{
	struct usock_netns *u = mkns("rt", USOCK_NETNS_VIRTUAL_TIME);
	struct netns *ns = (struct netns *)u;
	ip(u, "link add v0 type veth peer name v1");
	ip(u, "addr add 198.18.0.1/24 dev v0");
	ip(u, "link set v0 up");
	ip(u, "link set v1 up");
	ip(u, "route add default via 198.18.0.254");
	ip(u, "route add 198.19.0.0/16 via 198.18.0.253 metric 5");
	ip(u, "route add 198.19.1.0/24 via 198.18.0.252");
	struct rt4_result r;
	netns_lock(ns);
	cr_assert_eq(ip4_route_output(ns, inet_addr("198.19.1.9"), 0, 0, 0, &r), 0);
	cr_assert_eq(r.nexthop, inet_addr("198.18.0.252"), "longest prefix wins");
	cr_assert_eq(ip4_route_output(ns, inet_addr("198.19.2.9"), 0, 0, 0, &r), 0);
	cr_assert_eq(r.nexthop, inet_addr("198.18.0.253"));
	cr_assert_eq(ip4_route_output(ns, inet_addr("203.0.113.1"), 0, 0, 0, &r), 0);
	cr_assert_eq(r.nexthop, inet_addr("198.18.0.254"), "the default route");
	cr_assert_eq(r.src, inet_addr("198.18.0.1"));
	cr_assert_eq(ip4_route_output(ns, inet_addr("203.0.113.1"), 0, 0, IP4_RT_DONTROUTE, &r),
		     -ENETUNREACH, "MSG_DONTROUTE: no gateway");
	cr_assert_eq(ip4_route_output(ns, inet_addr("198.18.0.7"), 0, 0, IP4_RT_DONTROUTE, &r), 0);
	cr_assert_eq(r.nexthop, inet_addr("198.18.0.7"));
	cr_assert_eq(ip4_route_output(ns, inet_addr("198.18.0.255"), 0, 0, 0, &r), 0);
	cr_assert_eq(r.type, RT_BROADCAST);
	cr_assert_eq(ip4_route_output(ns, inet_addr("127.0.0.5"), 0, 0, 0, &r), 0);
	cr_assert_eq(r.type, RT_LOCAL, "all of 127/8 is local");
	cr_assert_eq(ip4_route_output(ns, 0, 0, 0, 0, &r), 0);
	cr_assert_eq(r.daddr, htonl(INADDR_LOOPBACK), "0.0.0.0 is this host");
	netns_unlock(ns);
	/* a gateway that is not on-link is refused, as fib_check_nh does */
	cr_assert_eq(usock_ip(u, "route add 10.0.0.0/8 via 203.0.113.9", NULL, 0), -1);
	cr_assert_eq(errno, ENETUNREACH);
	/* link down takes its routes with it */
	ip(u, "link set v0 down");
	netns_lock(ns);
	cr_assert_eq(ip4_route_output(ns, inet_addr("203.0.113.1"), 0, 0, 0, &r), -ENETUNREACH);
	netns_unlock(ns);
	usock_netns_free(u);
}

/* The ip command: what it knows, what it refuses, what show prints. */
Test(netns, ip_command_words)
{
	struct usock_netns *u = mkns("ipc", USOCK_NETNS_VIRTUAL_TIME);
	char out[2048];
	ip(u, "link add v0 type veth peer name v1");
	cr_assert_eq(usock_ip(u, "link add v0 type veth peer name v2", NULL, 0), -1);
	cr_assert_eq(errno, EEXIST);
	ip(u, "link set v0 mtu 1280");
	cr_assert_eq(usock_ip(u, "link set v0 mtu 67", NULL, 0), -1, "below IPv4's minimum");
	ip(u, "link set v0 address 02:00:00:00:00:42");
	ip(u, "addr add 198.18.0.1/24 brd + dev v0");
	ip(u, "link set v0 up");
	cr_assert_eq(usock_ip(u, "addr show dev v0", out, sizeof(out)), 0);
	cr_assert(strstr(out, "inet 198.18.0.1/24 brd 198.18.0.255"), "%s", out);
	cr_assert(strstr(out, "mtu 1280"), "%s", out);
	cr_assert_eq(usock_ip(u, "route show table local", out, sizeof(out)), 0);
	cr_assert(strstr(out, "local 198.18.0.1 dev v0 table local proto kernel scope host src 198.18.0.1"),
		  "%s", out);
	cr_assert(strstr(out, "broadcast 198.18.0.255 dev v0"), "%s", out);
	cr_assert(strstr(out, "broadcast 127.255.255.255 dev lo"), "%s", out);
	ip(u, "neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent");
	cr_assert_eq(usock_ip(u, "neigh add 198.18.0.9 lladdr 02:00:00:00:00:08 dev v0", NULL, 0), -1);
	cr_assert_eq(errno, EEXIST, "add is exclusive; replace is not");
	ip(u, "neigh replace 198.18.0.9 lladdr 02:00:00:00:00:08 dev v0");
	cr_assert_eq(usock_ip(u, "neigh show", out, sizeof(out)), 0);
	cr_assert(strstr(out, "198.18.0.9 dev v0 lladdr 02:00:00:00:00:08 PERMANENT"), "%s", out);
	cr_assert_eq(usock_ip(u, "tunnel add t0", NULL, 0), -1);
	cr_assert_eq(errno, EINVAL, "an unknown command is refused, not ignored");
	/* sysctl: host defaults, per-namespace writes, range checks */
	cr_assert_eq(usock_sysctl(u, "net.ipv4.ip_local_port_range", "40000 40010", NULL, 0), 0);
	cr_assert_eq(usock_sysctl(u, "ipv4.ip_local_port_range", NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "40000\t40010");
	cr_assert_eq(usock_sysctl(u, "ipv4.ip_local_port_range", "5 3", NULL, 0), -1);
	cr_assert_eq(usock_sysctl(u, "ipv4.neigh.v0.delay_first_probe_time", "2", NULL, 0), 0);
	cr_assert_eq(usock_sysctl(u, "ipv4.neigh.v0.delay_first_probe_time", NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "2");
	cr_assert_eq(usock_sysctl(u, "ipv4.no_such_thing", NULL, out, sizeof(out)), -1);
	cr_assert_eq(errno, ENOENT);
	usock_netns_free(u);
}

/* Virtual time: timers fire at their own deadlines, whatever the step. */
Test(netns, virtual_time_steps)
{
	struct usock_netns *u = mkns("vt", USOCK_NETNS_VIRTUAL_TIME);
	uint64_t t0 = usock_clock_now_ns(u);
	usock_clock_advance(u, 1500000000ull);
	cr_assert_eq(usock_clock_now_ns(u) - t0, 1500000000ull);
	/* a real-time namespace ignores it */
	struct usock_netns *r = mkns("rtime", 0);
	uint64_t r0 = usock_clock_now_ns(r);
	usock_clock_advance(r, 10ull * 1000000000ull);
	cr_assert(usock_clock_now_ns(r) - r0 < 5ull * 1000000000ull);
	usock_netns_free(r);
	usock_netns_free(u);
}
