/* SPDX-License-Identifier: MIT */
/*
 * test_tap.c - usock and the kernel's stack, face to face over a TAP device
 *
 * Each test builds the topology of interop_lib.h (kernel netns ui<pid> with
 * tapu0 198.18.0.1, usock eth0 198.18.0.2 on the TAP fd), exchanges real
 * traffic with kernel tools or kernel sockets, and checks what each side
 * got; several then let tshark judge usock's capture of eth0.
 *
 * ARP first: a burst sent to an unresolved neighbour waits in its queue,
 * which holds only unres_qlen_bytes (212992) of truesize, on Linux as in
 * usock; a batch with 64 KiB datagrams would overflow it and lose frames by
 * design.  So every batch follows one small warm-up datagram the other way
 * round, answered before the batch starts.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "sockapi.h"
#include "usock.h"

#include "interop_lib.h"

#define KPORT IX_KPORT
#define UPORT IX_UPORT
/*
 * Socket buffers for the batch tests.  The batch is queued whole before the
 * receiver reads (usock_sendmmsg reaches the kernel socket synchronously
 * through the TAP): about 270 KB of truesize, more than the default 212992
 * holds on either side (measured: the kernel keeps 51 datagrams, usock 53),
 * so both sides raise SO_RCVBUF, as SO_RCVBUFFORCE does for root.
 */
#define BUFSZ (8 << 20)

TestSuite(tap, .init = interop_setup, .fini = interop_teardown, .timeout = 40);

static void kernel_ping(void)
{
	char *argv[] = { "ip", "netns", "exec", ix.kns, "ping", "-n", "-c", "3", "-W", "2",
			 IX_UADDR, NULL };
	char out[4096];
	int r = interop_run(argv, out, sizeof(out), 15000);

	cr_assert(r == 0, "ping exit %d:\n%s", r, out);
	cr_assert(strstr(out, "3 received"), "ping:\n%s", out);
}

/* One small datagram from usock to the kernel, received there: both sides resolved. */
static void warm_u2k(int k, int u)
{
	struct sockaddr_in kdst = sin4(IX_KADDR, KPORT), from;
	char buf[64];
	ssize_t n;

	cr_assert(usock_sendto(u, "warm-u2k", 8, 0, (struct sockaddr *)&kdst, sizeof(kdst)) == 8,
		  "usock_sendto: %s", strerror(errno));
	n = conf_recv_wait(&sockapi_kernel, k, buf, sizeof(buf), 0, 3000, &from);
	cr_assert(n == 8 && memcmp(buf, "warm-u2k", 8) == 0,
		  "kernel did not get the warm-up from usock: %zd (%s)", n, strerror(errno));
}

static void warm_k2u(int k, int u)
{
	struct sockaddr_in udst = sin4(IX_UADDR, UPORT), from;
	char buf[64];
	ssize_t n;

	cr_assert(sendto(k, "warm-k2u", 8, 0, (struct sockaddr *)&udst, sizeof(udst)) == 8,
		  "sendto: %s", strerror(errno));
	n = conf_recv_wait(&sockapi_usock, u, buf, sizeof(buf), 0, 3000, &from);
	cr_assert(n == 8 && memcmp(buf, "warm-k2u", 8) == 0,
		  "usock did not get the warm-up from the kernel: %zd (%s)", n, strerror(errno));
}

static void batch_k2u(int k, int u)
{
	struct sockaddr_in udst = sin4(IX_UADDR, UPORT), kfrom = sin4(IX_KADDR, KPORT);
	int got;

	interop_send_batch_kernel(k, &udst);
	got = interop_recv_batch_usock(u, 5000, &kfrom);
	cr_assert(got == IX_BATCH, "usock received %d of %d datagrams from the kernel", got,
		  IX_BATCH);
}

static void batch_u2k(int k, int u)
{
	struct sockaddr_in kdst = sin4(IX_KADDR, KPORT), ufrom = sin4(IX_UADDR, UPORT);
	int got;

	interop_send_batch_usock(u, &kdst);
	got = interop_recv_batch_kernel(k, 5000, &ufrom);
	cr_assert(got == IX_BATCH, "the kernel received %d of %d datagrams from usock", got,
		  IX_BATCH);
}

static void pcap_clean(struct interop_pcap_stats *st)
{
	cr_assert(interop_pcap_check(ix.pcap, st) == 0, "tshark: %s", st->report);
	cr_assert(st->flagged == 0, "%u malformed or warned frames:\n%s", st->flagged, st->report);
	cr_assert(st->csum_bad == 0, "%u bad checksums:\n%s", st->csum_bad, st->report);
	cr_assert(st->other == 0, "%u unexpected frames:\n%s", st->other, st->report);
	cr_assert(st->arp_bad == 0, "%u ARP frames whose sender is not their source",
		  st->arp_bad);
}

/*
 * The kernel's ping gets its three echo replies from usock (ICMP echo,
 * after ARP); no send-family requirement, the wire is the point.
 */
Test(tap, ping_kernel_to_usock)
{
	struct interop_pcap_stats st;

	kernel_ping();
	pcap_clean(&st);
	cr_assert(st.icmp_req == 3 && st.icmp_rep == 3, "echo requests %u replies %u",
		  st.icmp_req, st.icmp_rep);
	/* every IPv4 header and ICMP message verified good, none left unverified */
	cr_assert(st.csum_good == 12, "%u good checksums, want 12", st.csum_good);
	interop_finish();
}

/*
 * R-MMSG-1 R-MMSG-2 R-MMSG-3 R-MMSG-5 R-SEND-11 (the receiving side):
 * a kernel sendmmsg batch of 64 datagrams, 1..65507 bytes (the large ones
 * fragmented by the kernel), reaches usock's recvmmsg complete, in order,
 * byte for byte, reassembled by usock.
 */
Test(tap, udp_batch_kernel_to_usock)
{
	int k = interop_kernel_udp(KPORT, BUFSZ), u = interop_usock_udp(UPORT, BUFSZ);

	warm_k2u(k, u);
	batch_k2u(k, u);
	close(k);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	interop_finish();
}

/*
 * R-MMSG-1 R-MMSG-2 R-MMSG-3 R-MMSG-5 R-SEND-11 R-SEND-9: usock_sendmmsg
 * sends the same batch to a kernel socket (large datagrams fragmented by
 * usock at MTU 1500); the kernel reassembles and receives every one, in
 * order, byte for byte.
 */
Test(tap, udp_batch_usock_to_kernel)
{
	int k = interop_kernel_udp(KPORT, BUFSZ), u = interop_usock_udp(UPORT, BUFSZ);

	warm_u2k(k, u);
	batch_u2k(k, u);
	close(k);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	interop_finish();
}

/*
 * R-MMSG-1 R-SEND-11 on the wire: tshark reads usock's capture of ping and
 * both batches: no malformed frame, no expert warning, every IPv4, UDP and
 * ICMP checksum verified good, and exactly the frames the exchange needs.
 */
Test(tap, pcap_tshark_clean)
{
	int k = interop_kernel_udp(KPORT, BUFSZ), u = interop_usock_udp(UPORT, BUFSZ);
	unsigned udp_frames = interop_batch_frames() + 1, ip_frames, want_good;
	struct interop_pcap_stats st;

	kernel_ping();
	warm_k2u(k, u);
	batch_k2u(k, u);
	warm_u2k(k, u);
	batch_u2k(k, u);
	close(k);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));

	pcap_clean(&st);
	cr_assert(st.icmp_req == 3 && st.icmp_rep == 3, "echo requests %u replies %u",
		  st.icmp_req, st.icmp_rep);
	cr_assert(st.udp_k2u == udp_frames, "kernel->usock UDP frames %u, want %u", st.udp_k2u,
		  udp_frames);
	cr_assert(st.udp_u2k == udp_frames, "usock->kernel UDP frames %u, want %u", st.udp_u2k,
		  udp_frames);
	/* the kernel asked once, usock answered; usock learnt the kernel's
	 * MAC from that request, as Linux's arp_process does; a later unicast
	 * probe (either side's DELAY ending) may add a pair */
	cr_assert(st.arp_req_k >= 1 && st.arp_rep_u >= 1, "ARP: kernel asked %u, usock replied %u",
		  st.arp_req_k, st.arp_rep_u);
	cr_assert(st.arp_req_k + st.arp_rep_k + st.arp_req_u + st.arp_rep_u <= 6,
		  "ARP storm: k %u/%u u %u/%u", st.arp_req_k, st.arp_rep_k, st.arp_req_u,
		  st.arp_rep_u);
	ip_frames = 6 + 2 * udp_frames;
	cr_assert(st.frames == ip_frames + st.arp_req_k + st.arp_rep_k + st.arp_req_u + st.arp_rep_u,
		  "%u frames in the capture", st.frames);
	/* one IPv4 header checksum per frame, one UDP checksum per datagram
	 * (on the reassembled one), one ICMP checksum per echo */
	want_good = ip_frames + 2 * (IX_BATCH + 1) + 6;
	cr_assert(st.csum_good == want_good, "%u checksums verified good, want %u", st.csum_good,
		  want_good);
	interop_finish();
}

static bool kernel_neigh_has(const char *state_any[], char *out, size_t outlen)
{
	char mac[32];
	int r;

	snprintf(mac, sizeof(mac), "lladdr %02x:%02x:%02x:%02x:%02x:%02x", ix.umac[0], ix.umac[1],
		 ix.umac[2], ix.umac[3], ix.umac[4], ix.umac[5]);
	r = interop_kip(out, outlen, "neigh", "show", IX_UADDR, "dev", IX_TAP, NULL);
	cr_assert(r == 0, "ip neigh show: %d %s", r, out);
	if (!strstr(out, mac))
		return false;
	for (int i = 0; state_any[i]; i++)
		if (strstr(out, state_any[i]))
			return true;
	return false;
}

static bool usock_neigh_has(const char *state_any[], char *out, size_t outlen)
{
	char want[96];

	snprintf(want, sizeof(want), IX_KADDR " dev " IX_DEV " lladdr %02x:%02x:%02x:%02x:%02x:%02x ",
		 ix.kmac[0], ix.kmac[1], ix.kmac[2], ix.kmac[3], ix.kmac[4], ix.kmac[5]);
	cr_assert(usock_ip(ix.uns, "neigh show", out, outlen) == 0, "usock neigh show: %s",
		  strerror(errno));
	const char *p = strstr(out, want);
	if (!p)
		return false;
	for (int i = 0; state_any[i]; i++)
		if (strncmp(p + strlen(want), state_any[i], strlen(state_any[i])) == 0)
			return true;
	return false;
}

/*
 * ARP (no send-family requirement), the kernel asking: the kernel sends
 * first and resolves usock's MAC (REACHABLE after usock's reply); usock
 * learnt the kernel's MAC from the request (STALE, as arp_process's
 * neigh_event_ns) and uses it to answer.
 */
Test(tap, arp_kernel_resolves_usock)
{
	static const char *k_states[] = { "REACHABLE", "STALE", NULL };
	static const char *u_states[] = { "REACHABLE", "STALE", "DELAY", "PROBE", NULL };
	int k = interop_kernel_udp(KPORT, 0), u = interop_usock_udp(UPORT, 0);
	struct interop_pcap_stats st;
	char out[2048];

	warm_k2u(k, u);
	warm_u2k(k, u);
	cr_assert(kernel_neigh_has(k_states, out, sizeof(out)),
		  "kernel's neighbour entry for usock: %s", out);
	cr_assert(usock_neigh_has(u_states, out, sizeof(out)),
		  "usock's neighbour entry for the kernel: %s", out);
	close(k);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	pcap_clean(&st);
	cr_assert(st.arp_req_k == 1 && st.arp_rep_u == 1 && st.arp_req_u == 0 && st.arp_rep_k == 0,
		  "ARP: kernel asked %u answered %u, usock asked %u answered %u", st.arp_req_k,
		  st.arp_rep_k, st.arp_req_u, st.arp_rep_u);
	interop_finish();
}

/*
 * ARP (no send-family requirement), usock asking: usock sends first,
 * broadcasts its request, the kernel answers (usock's entry REACHABLE) and
 * has learnt usock's MAC from the request (STALE), which it uses to answer
 * back.
 */
Test(tap, arp_usock_resolves_kernel)
{
	static const char *k_states[] = { "REACHABLE", "STALE", "DELAY", "PROBE", NULL };
	static const char *u_states[] = { "REACHABLE", NULL };
	int k = interop_kernel_udp(KPORT, 0), u = interop_usock_udp(UPORT, 0);
	struct interop_pcap_stats st;
	char out[2048];

	warm_u2k(k, u);
	warm_k2u(k, u);
	cr_assert(usock_neigh_has(u_states, out, sizeof(out)),
		  "usock's neighbour entry for the kernel: %s", out);
	cr_assert(kernel_neigh_has(k_states, out, sizeof(out)),
		  "kernel's neighbour entry for usock: %s", out);
	close(k);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	pcap_clean(&st);
	cr_assert(st.arp_req_u == 1 && st.arp_rep_k == 1 && st.arp_req_k == 0 && st.arp_rep_u == 0,
		  "ARP: usock asked %u answered %u, kernel asked %u answered %u", st.arp_req_u,
		  st.arp_rep_u, st.arp_req_k, st.arp_rep_k);
	interop_finish();
}

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * The kernel side removes tapu0 under usock's feet (an admin's `ip link
 * del`, or its namespace going away): the TAP fd then polls as an error
 * forever.  usock's reader must stop watching it rather than spin, and
 * sending on eth0 must stay harmless: R-SEND-9, the send succeeds and the
 * frame is dropped, as on a NIC without carrier.
 */
Test(tap, kernel_removes_tap)
{
	struct sockaddr_in kdst = sin4(IX_KADDR, KPORT);
	char out[512];
	double t0, used;
	int k = interop_kernel_udp(KPORT, 0), u = interop_usock_udp(UPORT, 0), r;

	warm_k2u(k, u);
	close(k);
	r = interop_kip(out, sizeof(out), "link", "del", IX_TAP, NULL);
	cr_assert(r == 0, "ip link del %s: %d %s", IX_TAP, r, out);
	t0 = cpu_seconds();
	usleep(300000);
	used = cpu_seconds() - t0;
	cr_assert(used < 0.1, "usock burnt %.3f s of CPU in 0.3 s after the TAP device went", used);
	cr_assert(usock_sendto(u, "x", 1, 0, (struct sockaddr *)&kdst, sizeof(kdst)) == 1,
		  "usock_sendto after the TAP device went: %s", strerror(errno));
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	interop_finish();
}

struct flood {
	int fd;
	unsigned sent;
};

/* Kernel side: up to 20000 small datagrams to usock in at most 1 s. */
static void *flood_main(void *arg)
{
	struct flood *f = arg;
	struct sockaddr_in udst = sin4(IX_UADDR, UPORT);
	struct timespec t0, t;
	char buf[200];

	memset(buf, 0x5a, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < 20000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > 1000)
			break;
		if (sendto(f->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&udst,
			   sizeof(udst)) == (ssize_t)sizeof(buf))
			f->sent++;
	}
	return NULL;
}

/*
 * usock removes eth0 (`ip link del`) while the kernel floods it: the TAP
 * reader, running without the lock, must never touch the device or the fd
 * after the removal; the kernel's tapu0 goes with the fd, and every packet
 * buffer is back in its pool.
 */
Test(tap, usock_removes_tap_under_traffic)
{
	struct flood f = { .fd = -1 };
	pthread_t th;
	char out[512];
	int r, u;

	f.fd = interop_kernel_udp(KPORT, 0);
	u = interop_usock_udp(UPORT, 0);
	warm_k2u(f.fd, u);
	cr_assert(pthread_create(&th, NULL, flood_main, &f) == 0, "pthread_create");
	usleep(50000);
	cr_assert(usock_ip(ix.uns, "link del " IX_DEV, NULL, 0) == 0, "usock link del: %s",
		  strerror(errno));
	pthread_join(th, NULL);
	cr_log_info("kernel sent %u datagrams during the removal", f.sent);
	cr_assert(f.sent > 0, "the flood sent nothing");
	r = interop_kip(out, sizeof(out), "link", "show", IX_TAP, NULL);
	cr_assert(r != 0, "%s still exists in the kernel after usock removed it: %s", IX_TAP, out);
	close(f.fd);
	conf_drain(&sockapi_usock, u);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	interop_finish();
}

static void usock_neigh_sysctl(const char *var, const char *val)
{
	char name[96];

	snprintf(name, sizeof(name), "ipv4.neigh." IX_DEV ".%s", var);
	cr_assert(usock_sysctl(ix.uns, name, val, NULL, 0) == 0, "usock_sysctl %s: %s", name,
		  strerror(errno));
}

static void send_u2k_expect(int k, int u, const char *msg, int flags)
{
	struct sockaddr_in kdst = sin4(IX_KADDR, KPORT), from;
	size_t len = strlen(msg);
	char buf[64];
	ssize_t n;

	cr_assert(usock_sendto(u, msg, len, flags, (struct sockaddr *)&kdst, sizeof(kdst)) ==
			  (ssize_t)len,
		  "usock_sendto: %s", strerror(errno));
	n = conf_recv_wait(&sockapi_kernel, k, buf, sizeof(buf), 0, 2000, &from);
	cr_assert(n == (ssize_t)len && memcmp(buf, msg, len) == 0, "kernel got %zd (%s)", n,
		  strerror(errno));
}

/* wait_usock_state - poll usock's entry for the kernel until it is in state (ms at most). */
static bool wait_usock_state(const char *state, int ms, char *out, size_t outlen)
{
	const char *want[] = { state, NULL };

	for (int t = 0; t <= ms; t += 10) {
		if (usock_neigh_has(want, out, outlen))
			return true;
		usleep(10000);
	}
	return false;
}

/* stream - n datagrams to the kernel, one every 100 ms, each received there. */
static void stream_u2k(int k, int u, int n, int flags)
{
	for (int i = 0; i < n; i++) {
		send_u2k_expect(k, u, flags ? "confirmed" : "plain", flags);
		usleep(100000);
	}
}

/*
 * R-FLAG-CONFIRM, on the wire against the kernel.  Timers are shortened:
 * REACHABLE lasts 100..300 ms, DELAY 1 s (its unit is the second).  A
 * stream of datagrams, one every 100 ms for 1.5 s, sent with MSG_CONFIRM
 * keeps the entry confirmed: whenever DELAY ends it is REACHABLE again, so
 * usock never sends a unicast ARP probe.  The same stream without the flag
 * lets DELAY end unconfirmed: usock probes the kernel (unicast) and the
 * kernel answers, as neigh_timer_handler would have it.
 */
Test(tap, msg_confirm_spares_the_probe)
{
	int k = interop_kernel_udp(KPORT, 0), u = interop_usock_udp(UPORT, 0);
	struct interop_pcap_stats st;
	char out[1024];

	usock_neigh_sysctl("base_reachable_time_ms", "200");
	usock_neigh_sysctl("delay_first_probe_time", "1");
	warm_u2k(k, u);
	stream_u2k(k, u, 15, MSG_CONFIRM);
	pcap_clean(&st);
	cr_assert(st.arp_req_u == 1 && st.arp_probe_u == 0 && st.arp_rep_k == 1,
		  "with MSG_CONFIRM: usock asked %u times (%u unicast probes), kernel answered %u",
		  st.arp_req_u, st.arp_probe_u, st.arp_rep_k);

	stream_u2k(k, u, 20, 0);
	cr_assert(wait_usock_state("REACHABLE", 1500, out, sizeof(out)), "entry: %s", out);
	pcap_clean(&st);
	cr_assert(st.arp_probe_u >= 1 && st.arp_req_u == 1 + st.arp_probe_u &&
			  st.arp_rep_k == st.arp_req_u,
		  "without MSG_CONFIRM: usock asked %u times (%u unicast probes), kernel answered %u",
		  st.arp_req_u, st.arp_probe_u, st.arp_rep_k);
	close(k);
	cr_assert(usock_close(u) == 0, "usock_close: %s", strerror(errno));
	interop_finish();
}
