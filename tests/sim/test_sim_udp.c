/* SPDX-License-Identifier: MIT */
/*
 * test_sim_udp.c - UDP across an impaired in-memory veth, in virtual time
 *
 * Two usock namespaces on virtual time, A (198.18.0.1 on veth0) and B
 * (198.18.0.2 on veth1), with permanent neighbour entries so that no ARP
 * has to cross the impaired link.  netem on A's veth0 impairs A -> B.  A
 * sends N sequenced datagrams of varying length, one every SPACING of
 * virtual time (usock_clock_advance_all between them); B drains after every
 * step and stamps each datagram with its arrival (SO_TIMESTAMPNS gives the
 * virtual clock's wall time).  A run's trace is a hash of the (sequence,
 * arrival time) list; the same seed must give the same trace, another seed
 * another one.  Every run checks each datagram byte for byte, that the
 * qdisc counters agree with what arrived, and ends with both namespaces'
 * pools full.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "usock.h"

#define N 2000
#define PORT 9000
#define NSEC_MS 1000000ull
#define SPACING (1 * NSEC_MS)
#define PAYLOAD_MAX 256
/* a virtual clock's wall time is 2026-01-01T00:00:00Z + its monotonic time */
#define VIRT_EPOCH_NS (1767225600ull * 1000000000ull)

struct run {
	uint64_t hash;			/* FNV-1a over (seq, arrival ns) in arrival order */
	unsigned received, dups, inversions;
	uint64_t min_lat, max_lat;	/* arrival - send, ns */
	uint64_t first_arrival, last_arrival;
	uint16_t count[N];
	/* from `qdisc show` */
	unsigned long long dropped, lost, overlimit, duplicated, reordered, sent, backlog;
};

struct sim {
	struct usock_netns *a, *b;
	int tx, rx;
};

static size_t payload_len(uint32_t seq)
{
	return 8 + (seq * 37u) % (PAYLOAD_MAX - 8);
}

static void payload_fill(uint32_t seq, uint8_t *p, size_t len)
{
	uint32_t be = htonl(seq);
	memcpy(p, &be, 4);
	for (size_t k = 4; k < len; k++)
		p[k] = (uint8_t)(seq * 131u + k * 7u + 1u);
}

static void ip_ok(struct usock_netns *ns, const char *cmd)
{
	cr_assert(usock_ip(ns, cmd, NULL, 0) == 0, "ip %s: %s", cmd, strerror(errno));
}

static void sim_setup(struct sim *s, const char *netem)
{
	s->a = usock_netns_new("simA", USOCK_NETNS_VIRTUAL_TIME);
	s->b = usock_netns_new("simB", USOCK_NETNS_VIRTUAL_TIME);
	cr_assert(s->a && s->b, "netns: %s", strerror(errno));
	ip_ok(s->a, "link add veth0 type veth peer name veth1 netns simB");
	ip_ok(s->a, "link set veth0 address 02:00:00:00:00:01");
	ip_ok(s->b, "link set veth1 address 02:00:00:00:00:02");
	ip_ok(s->a, "addr add 198.18.0.1/24 dev veth0");
	ip_ok(s->b, "addr add 198.18.0.2/24 dev veth1");
	ip_ok(s->a, "link set veth0 up");
	ip_ok(s->b, "link set veth1 up");
	ip_ok(s->a, "neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent");
	ip_ok(s->b, "neigh add 198.18.0.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent");
	if (netem) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "qdisc add dev veth0 root netem %s", netem);
		ip_ok(s->a, cmd);
	}

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int one = 1;
	usock_netns_set(s->b);
	s->rx = usock_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(s->rx >= 0);
	cr_assert(usock_bind(s->rx, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	cr_assert(usock_setsockopt(s->rx, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == 0);
	usock_netns_set(s->a);
	s->tx = usock_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(s->tx >= 0);
	inet_pton(AF_INET, "198.18.0.2", &sa.sin_addr);
	cr_assert(usock_connect(s->tx, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	usock_netns_set(NULL);
}

static void sim_teardown(struct sim *s)
{
	cr_assert(usock_close(s->tx) == 0);
	cr_assert(usock_close(s->rx) == 0);
	cr_assert(usock_netns_pools_full(s->a), "A leaked packet buffers");
	cr_assert(usock_netns_pools_full(s->b), "B leaked packet buffers");
	usock_netns_free(s->a);
	usock_netns_free(s->b);
}

static void trace_add(uint64_t *h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		*h ^= (uint8_t)(v >> (8 * i));
		*h *= 0x100000001b3ull;
	}
}

/* Read everything B has; check each datagram and add it to the trace. */
static void drain(struct sim *s, struct run *r, uint32_t *max_seen)
{
	for (;;) {
		uint8_t buf[PAYLOAD_MAX + 64], want[PAYLOAD_MAX];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct timespec))];
		} c;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
				   .msg_control = &c, .msg_controllen = sizeof(c)};
		ssize_t n = usock_recvmsg(s->rx, &m, MSG_DONTWAIT);
		if (n < 0) {
			cr_assert(errno == EAGAIN, "recvmsg: %s", strerror(errno));
			return;
		}
		cr_assert(n >= 4, "runt datagram of %zd bytes", n);
		uint32_t seq;
		memcpy(&seq, buf, 4);
		seq = ntohl(seq);
		cr_assert(seq < N, "datagram with sequence %u was never sent", seq);
		cr_assert((size_t)n == payload_len(seq), "seq %u: %zd bytes, sent %zu", seq, n,
			  payload_len(seq));
		payload_fill(seq, want, (size_t)n);
		cr_assert(memcmp(buf, want, (size_t)n) == 0, "seq %u arrived corrupted", seq);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cr_assert(cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS,
			  "no SCM_TIMESTAMPNS");
		struct timespec ts;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		uint64_t at = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec -
			      VIRT_EPOCH_NS;
		uint64_t lat = at - (uint64_t)seq * SPACING;
		cr_assert(at >= (uint64_t)seq * SPACING, "seq %u arrived before it was sent", seq);
		if (r->received == 0 || lat < r->min_lat)
			r->min_lat = lat;
		if (lat > r->max_lat)
			r->max_lat = lat;
		if (r->received == 0)
			r->first_arrival = at;
		r->last_arrival = at;
		if (r->count[seq]++)
			r->dups++;
		if (r->received && seq < *max_seen)
			r->inversions++;
		if (r->received == 0 || seq > *max_seen)
			*max_seen = seq;
		r->received++;
		trace_add(&r->hash, seq);
		trace_add(&r->hash, at);
	}
}

static unsigned long long stat_of(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	cr_assert(p, "qdisc show has no \"%s\": %s", key, text);
	return strtoull(p + strlen(key), NULL, 10);
}

static void qdisc_stats(struct sim *s, struct run *r)
{
	char out[1024];
	cr_assert(usock_ip(s->a, "qdisc show dev veth0", out, sizeof(out)) == 0);
	cr_assert(strstr(out, " Sent "), "%s", out);
	r->sent = stat_of(strstr(out, " Sent "), "bytes ");	/* packets */
	r->dropped = stat_of(out, "dropped ");
	r->overlimit = stat_of(out, "overlimits ");
	r->backlog = stat_of(out, " backlog ");	/* bytes */
	r->lost = stat_of(out, " lost ");
	r->duplicated = stat_of(out, "duplicated ");
	r->reordered = stat_of(out, "reordered ");
}

/*
 * One whole run: set up, send N datagrams SPACING apart (each step cut in
 * substeps calls of usock_clock_advance_all), let the link drain, check
 * the counters, tear down.
 */
static void run_sim(const char *netem, unsigned substeps, struct run *r)
{
	struct sim s;
	uint32_t max_seen = 0;
	uint8_t p[PAYLOAD_MAX];

	memset(r, 0, sizeof(*r));
	r->hash = 0xcbf29ce484222325ull;
	sim_setup(&s, netem);
	const uint64_t t0 = usock_clock_now_ns(s.a);	/* virtual time starts at 1 s */
	for (uint32_t seq = 0; seq < N; seq++) {
		cr_assert_eq(usock_clock_now_ns(s.a) - t0, (uint64_t)seq * SPACING);
		size_t len = payload_len(seq);
		payload_fill(seq, p, len);
		cr_assert(usock_send(s.tx, p, len, 0) == (ssize_t)len, "send %u: %s", seq,
			  strerror(errno));
		for (uint64_t k = 0; k < substeps; k++)
			usock_clock_advance_all(SPACING * (k + 1) / substeps - SPACING * k / substeps);
		drain(&s, r, &max_seen);
	}
	usock_clock_advance_all(2000 * NSEC_MS);
	drain(&s, r, &max_seen);
	cr_assert_eq(usock_clock_now_ns(s.a), usock_clock_now_ns(s.b));
	if (netem) {
		qdisc_stats(&s, r);
		cr_assert_eq(r->backlog, 0, "frames still held after the drain");
		cr_assert_eq(r->sent, r->received, "qdisc sent %llu, B received %u", r->sent,
			     r->received);
		/* a frame both duplicated and lost arrives once */
		cr_assert_eq(r->received, N - r->lost - r->overlimit + r->duplicated);
		cr_assert(r->dups <= r->duplicated);
		if (!r->lost)
			cr_assert_eq(r->dups, r->duplicated);
	}
	sim_teardown(&s);
	if (getenv("SIM_VERBOSE"))
		fprintf(stderr, "%-60s recv %u lost %llu dup %u inv %u reord %llu lat %llu..%llu hash %016llx\n",
			netem ? netem : "(none)", r->received, r->lost, r->dups, r->inversions, r->reordered,
			(unsigned long long)r->min_lat, (unsigned long long)r->max_lat,
			(unsigned long long)r->hash);
}

/* Square root by Newton's method (the suite links without libm). */
static double sqrt_(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 64; i++)
		r = (r + x / r) / 2;
	return r;
}

/* Events of a Bernoulli(p) over N within 5 standard deviations of N p. */
static void assert_loss_plausible(unsigned lost, double p)
{
	double mean = N * p, sd = sqrt_(N * p * (1 - p));
	double diff = lost > mean ? lost - mean : mean - lost;

	cr_assert(diff <= 5 * sd + 1, "%u events, expected about %.0f", lost, mean);
}

static void loss_case(const char *pct, double p)
{
	char netem[128];
	struct run r1, r2;

	snprintf(netem, sizeof(netem), "loss %s seed 42", pct);
	run_sim(netem, 1, &r1);
	run_sim(netem, 1, &r2);
	cr_assert_eq(r1.hash, r2.hash, "same seed, different trace");
	cr_assert_eq(r1.received, r2.received);
	cr_assert_eq(r1.lost, r2.lost);
	cr_assert_eq(r1.dups, 0);
	cr_assert_eq(r1.inversions, 0, "no delay: arrival order is send order");
	cr_assert_eq(r1.max_lat, 0, "no delay: every datagram arrives when sent");
	cr_assert_eq(r1.received + r1.lost, N);
	assert_loss_plausible((unsigned)r1.lost, p);
	if (p > 0)
		cr_assert(r1.lost > 0);
	else
		cr_assert_eq(r1.received, N);
}

Test(sim_udp, loss_0pct)
{
	struct run plain;

	loss_case("0%", 0);
	run_sim(NULL, 1, &plain);
	struct run r;
	run_sim("loss 0% seed 42", 1, &r);
	cr_assert_eq(r.hash, plain.hash, "netem with nothing to do changed the trace");
}
Test(sim_udp, loss_1pct) { loss_case("1%", 0.01); }
Test(sim_udp, loss_5pct) { loss_case("5%", 0.05); }
Test(sim_udp, loss_20pct) { loss_case("20%", 0.20); }

Test(sim_udp, no_qdisc_is_a_plain_link)
{
	struct run r;

	run_sim(NULL, 1, &r);
	cr_assert_eq(r.received, N);
	cr_assert_eq(r.inversions, 0);
	cr_assert_eq(r.max_lat, 0);
}

/* A fixed delay shows up exactly in B's clock: the two clocks move as one. */
Test(sim_udp, delay_is_exact_in_virtual_time)
{
	struct run r;

	run_sim("delay 10ms seed 1", 1, &r);
	cr_assert_eq(r.received, N);
	cr_assert_eq(r.min_lat, 10 * NSEC_MS);
	cr_assert_eq(r.max_lat, 10 * NSEC_MS);
	cr_assert_eq(r.inversions, 0);
}

Test(sim_udp, jitter_without_reorder_keeps_order)
{
	struct run r;

	run_sim("delay 10ms 2ms seed 5", 1, &r);
	cr_assert_eq(r.received, N);
	cr_assert_eq(r.inversions, 0, "reorder 0%%: arrival order must be send order");
	cr_assert(r.min_lat >= 8 * NSEC_MS && r.max_lat <= 12 * NSEC_MS,
		  "latency %llu..%llu ns outside 8..12 ms", (unsigned long long)r.min_lat,
		  (unsigned long long)r.max_lat);
	cr_assert(r.max_lat > r.min_lat, "jitter had no effect");
}

Test(sim_udp, reorder_changes_order_deterministically)
{
	struct run r1, r2;
	const char *netem = "loss 1% delay 10ms 2ms reorder 25% seed 7";

	run_sim(netem, 1, &r1);
	run_sim(netem, 1, &r2);
	cr_assert(r1.inversions > 0, "reorder 25%% left the order alone");
	cr_assert(r1.reordered > 0);
	cr_assert(r1.max_lat <= 22 * NSEC_MS, "a reordered frame waits at most two delays");
	cr_assert_eq(r1.hash, r2.hash, "same seed, different trace");
	cr_assert_eq(r1.inversions, r2.inversions);
	cr_assert_eq(r1.reordered, r2.reordered);
}

Test(sim_udp, duplicates_arrive_twice)
{
	struct run r1, r2;

	run_sim("duplicate 5% seed 3", 1, &r1);
	run_sim("duplicate 5% seed 3", 1, &r2);
	cr_assert(r1.dups > 0, "duplicate 5%% gave no duplicates");
	cr_assert_eq(r1.received, N + r1.dups);
	for (unsigned i = 0; i < N; i++)
		cr_assert(r1.count[i] == 1 || r1.count[i] == 2, "seq %u arrived %u times", i,
			  r1.count[i]);
	cr_assert_eq(r1.hash, r2.hash);
	assert_loss_plausible(r1.dups, 0.05);
}

Test(sim_udp, all_impairments_same_seed_same_trace)
{
	struct run r1, r2;
	const char *netem = "loss 5% delay 10ms 2ms duplicate 1% reorder 25% seed 42";

	run_sim(netem, 1, &r1);
	run_sim(netem, 1, &r2);
	cr_assert_eq(r1.hash, r2.hash);
	cr_assert_eq(r1.received, r2.received);
	cr_assert(r1.dups > 0 && r1.inversions > 0 && r1.lost > 0);
}

/* The trace depends on the events, not on how finely time is stepped. */
Test(sim_udp, step_size_does_not_change_the_trace)
{
	struct run r1, r2;
	const char *netem = "loss 5% delay 10ms 2ms duplicate 1% reorder 25% seed 42";

	run_sim(netem, 1, &r1);
	run_sim(netem, 7, &r2);
	cr_assert_eq(r1.hash, r2.hash);
}

Test(sim_udp, different_seed_different_trace)
{
	struct run r1, r2;

	run_sim("loss 5% delay 10ms 2ms reorder 5% seed 1", 1, &r1);
	run_sim("loss 5% delay 10ms 2ms reorder 5% seed 2", 1, &r2);
	cr_assert_neq(r1.hash, r2.hash, "seeds 1 and 2 gave the same trace");
}

/* rate: frames leave back to back, each taking its size in bits / rate. */
Test(sim_udp, rate_serialises_frames)
{
	struct sim s;
	uint8_t p[1000], buf[1100];

	sim_setup(&s, "rate 1mbit seed 1");
	memset(p, 0x5a, sizeof(p));
	for (int i = 0; i < 20; i++)
		cr_assert(usock_send(s.tx, p, sizeof(p), 0) == (ssize_t)sizeof(p));
	/* 1000 + 8 + 20 + 14 bytes = 8336 bits = 8.336 ms at 1 Mbit/s */
	const uint64_t per = 8336000;
	for (int i = 1; i <= 20; i++) {
		usock_clock_advance_all(per - 1);
		cr_assert(usock_recv(s.rx, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN,
			  "frame %d arrived early", i);
		usock_clock_advance_all(1);
		cr_assert(usock_recv(s.rx, buf, sizeof(buf), MSG_DONTWAIT) == (ssize_t)sizeof(p),
			  "frame %d not there at %d x 8.336 ms", i, i);
	}
	sim_teardown(&s);
}

/* limit: frames over it are dropped and counted. */
Test(sim_udp, limit_drops_and_counts)
{
	struct sim s;
	struct run r;
	uint8_t p[64] = {0}, buf[128];
	int got = 0;

	sim_setup(&s, "delay 100ms limit 10 seed 1");
	for (int i = 0; i < 50; i++)
		cr_assert(usock_send(s.tx, p, sizeof(p), 0) == (ssize_t)sizeof(p));
	qdisc_stats(&s, &r);
	cr_assert_eq(r.backlog, 10 * (64 + 8 + 20 + 14));
	cr_assert_eq(r.overlimit, 40);
	cr_assert_eq(r.dropped, 40);
	usock_clock_advance_all(100 * NSEC_MS);
	while (usock_recv(s.rx, buf, sizeof(buf), MSG_DONTWAIT) == (ssize_t)sizeof(p))
		got++;
	cr_assert_eq(got, 10);
	sim_teardown(&s);
}

/* Frames still held when the namespaces go are freed with the link. */
Test(sim_udp, free_with_frames_held)
{
	struct usock_netns *a = usock_netns_new("simA", USOCK_NETNS_VIRTUAL_TIME);
	struct usock_netns *b = usock_netns_new("simB", USOCK_NETNS_VIRTUAL_TIME);
	cr_assert(a && b);
	ip_ok(a, "link add veth0 type veth peer name veth1 netns simB");
	ip_ok(a, "addr add 198.18.0.1/24 dev veth0");
	ip_ok(b, "addr add 198.18.0.2/24 dev veth1");
	ip_ok(a, "link set veth0 up");
	ip_ok(b, "link set veth1 up");
	ip_ok(a, "neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev veth0");
	ip_ok(a, "qdisc add dev veth0 root netem delay 1s");
	usock_netns_set(a);
	int fd = usock_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	inet_pton(AF_INET, "198.18.0.2", &to.sin_addr);
	for (int i = 0; i < 5; i++)
		cr_assert(usock_sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1);
	usock_netns_set(NULL);
	cr_assert(usock_close(fd) == 0);
	cr_assert(!usock_netns_pools_full(a), "the frames should be held");
	/* link down purges the queue, as dev_deactivate resets the qdisc */
	ip_ok(a, "link set veth0 down");
	cr_assert(usock_netns_pools_full(a));
	ip_ok(a, "link set veth0 up");
	ip_ok(a, "neigh replace 198.18.0.2 lladdr 02:00:00:00:00:02 dev veth0");
	usock_netns_set(a);
	fd = usock_socket(AF_INET, SOCK_DGRAM, 0);
	usock_netns_set(NULL);
	cr_assert(usock_sendto(fd, "y", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1);
	cr_assert(usock_close(fd) == 0);
	usock_netns_free(b);
	usock_clock_advance_all(2000 * NSEC_MS);	/* released to a peer that is gone */
	cr_assert(usock_netns_pools_full(a));
	usock_netns_free(a);
}

Test(sim_udp, qdisc_words)
{
	struct usock_netns *a = usock_netns_new("simA", USOCK_NETNS_VIRTUAL_TIME);
	char out[1024];

	cr_assert(a);
	ip_ok(a, "link add veth0 type veth peer name veth1");
	cr_assert(usock_ip(a, "qdisc del dev veth0 root", NULL, 0) == -1 && errno == ENOENT);
	cr_assert(usock_ip(a, "qdisc change dev veth0 root netem loss 1%", NULL, 0) == -1 &&
		  errno == ENOENT);
	ip_ok(a, "qdisc add dev veth0 root netem loss 5% delay 10ms 2ms duplicate 1% reorder 25% "
		 "seed 42");
	cr_assert(usock_ip(a, "qdisc add dev veth0 root netem loss 1%", NULL, 0) == -1 &&
		  errno == EEXIST);
	cr_assert(usock_ip(a, "qdisc show dev veth0", out, sizeof(out)) == 0);
	cr_assert(strstr(out, "qdisc netem 8001: root refcnt 2 limit 1000 delay 10ms  2ms loss 5% "
			      "duplicate 1% reorder 25% seed 42\n"),
		  "%s", out);
	cr_assert(strstr(out, " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)\n"), "%s",
		  out);
	ip_ok(a, "qdisc change dev veth0 root netem loss random 0.5% rate 10mbit limit 50 seed 7");
	cr_assert(usock_ip(a, "qdisc", out, sizeof(out)) == 0);
	cr_assert(strstr(out, "qdisc netem 8001: dev veth0 root refcnt 2 limit 50 loss 0.5% "
			      "rate 10000000bit seed 7\n"),
		  "%s", out);
	ip_ok(a, "qdisc replace dev veth0 root handle 1: netem delay 1500us");
	cr_assert(usock_ip(a, "qdisc show dev veth0", out, sizeof(out)) == 0);
	cr_assert(strstr(out, "delay 1500us"), "%s", out);
	/* words usock does not model are refused, not ignored */
	cr_assert(usock_ip(a, "qdisc replace dev veth0 root netem corrupt 1%", NULL, 0) == -1 &&
		  errno == EOPNOTSUPP);
	cr_assert(usock_ip(a, "qdisc replace dev veth0 root netem loss 5% 25%", NULL, 0) == -1 &&
		  errno == EOPNOTSUPP);
	cr_assert(usock_ip(a, "qdisc replace dev veth0 root netem loss 101%", NULL, 0) == -1 &&
		  errno == EINVAL);
	cr_assert(usock_ip(a, "qdisc replace dev veth0 root netem delay 10parsecs", NULL, 0) == -1 &&
		  errno == EINVAL);
	cr_assert(usock_ip(a, "qdisc replace dev veth0 root tbf rate 1mbit", NULL, 0) == -1 &&
		  errno == EOPNOTSUPP);
	cr_assert(usock_ip(a, "qdisc replace dev veth0 netem loss 1%", NULL, 0) == -1 &&
		  errno == EINVAL);
	cr_assert(usock_ip(a, "qdisc add dev lo root netem loss 1%", NULL, 0) == -1 &&
		  errno == EOPNOTSUPP);
	cr_assert(usock_ip(a, "qdisc add dev nope root netem loss 1%", NULL, 0) == -1 &&
		  errno == ENODEV);
	ip_ok(a, "qdisc del dev veth0 root");
	cr_assert(usock_ip(a, "qdisc show", out, sizeof(out)) == 0);
	cr_assert_str_empty(out);
	cr_assert(usock_netns_pools_full(a));
	usock_netns_free(a);
}

/* Frames in a pcap file (records after the 24-byte file header). */
static unsigned pcap_records(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t h[16];
	unsigned n = 0;

	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert(fseek(f, 24, SEEK_SET) == 0);
	while (fread(h, 1, 16, f) == 16) {
		uint32_t incl;
		memcpy(&incl, h + 8, 4);	/* written in host order */
		cr_assert(fseek(f, incl, SEEK_CUR) == 0);
		n++;
	}
	fclose(f);
	return n;
}

/*
 * The sender's capture is written before the link: lost frames are in it.
 * The receiver's capture holds what arrived.
 */
Test(sim_udp, capture_sender_side_shows_lost_frames)
{
	struct sim s;
	struct run r;
	char pa[64], pb[64];
	uint8_t p[32] = {0};

	snprintf(pa, sizeof(pa), "/tmp/usock_sim_%d_a.pcap", (int)getpid());
	snprintf(pb, sizeof(pb), "/tmp/usock_sim_%d_b.pcap", (int)getpid());
	sim_setup(&s, "loss 20% seed 9");
	cr_assert(usock_pcap_open(s.a, "veth0", pa) == 0);
	cr_assert(usock_pcap_open(s.b, "veth1", pb) == 0);
	for (int i = 0; i < 200; i++)
		cr_assert(usock_send(s.tx, p, sizeof(p), 0) == (ssize_t)sizeof(p));
	qdisc_stats(&s, &r);
	cr_assert(r.lost > 0);
	/* the writers flush every frame: the files can be read while open */
	cr_assert_eq(pcap_records(pa), 200);
	cr_assert_eq(pcap_records(pb), 200 - r.lost);
	unlink(pa);
	unlink(pb);
	sim_teardown(&s);
}

/* On real time the sender's worker thread releases held frames. */
Test(sim_udp, real_time_delay)
{
	struct usock_netns *a = usock_netns_new("rtA", 0), *b = usock_netns_new("rtB", 0);
	struct timeval tv = {1, 0};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	char buf[16];

	cr_assert(a && b);
	ip_ok(a, "link add veth0 type veth peer name veth1 netns rtB");
	ip_ok(a, "addr add 198.18.0.1/24 dev veth0");
	ip_ok(b, "addr add 198.18.0.2/24 dev veth1");
	ip_ok(a, "link set veth0 up");
	ip_ok(b, "link set veth1 up");
	ip_ok(b, "link set veth1 address 02:00:00:00:00:02");
	ip_ok(a, "neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev veth0");
	ip_ok(a, "qdisc add dev veth0 root netem delay 5ms 1ms");
	usock_netns_set(b);
	int rx = usock_socket(AF_INET, SOCK_DGRAM, 0);
	usock_netns_set(a);
	int tx = usock_socket(AF_INET, SOCK_DGRAM, 0);
	usock_netns_set(NULL);
	cr_assert(rx >= 0 && tx >= 0);
	cr_assert(usock_bind(rx, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	cr_assert(usock_setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	inet_pton(AF_INET, "198.18.0.2", &sa.sin_addr);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10; i++)
		cr_assert(usock_sendto(tx, "abc", 3, 0, (struct sockaddr *)&sa, sizeof(sa)) == 3);
	for (int i = 0; i < 10; i++)
		cr_assert(usock_recv(rx, buf, sizeof(buf), 0) == 3, "datagram %d: %s", i,
			  strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long us = (t1.tv_sec - t0.tv_sec) * 1000000ll + (t1.tv_nsec - t0.tv_nsec) / 1000;
	cr_assert(us >= 4000, "held only %lld us", us);
	cr_assert(usock_close(tx) == 0 && usock_close(rx) == 0);
	cr_assert(usock_netns_pools_full(a) && usock_netns_pools_full(b));
	usock_netns_free(a);
	usock_netns_free(b);
}
