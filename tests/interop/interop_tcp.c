/* SPDX-License-Identifier: MIT */
/*
 * interop_tcp.c - the two sides of a TCP interop test, loss, the kernel peer, the TCP judge
 *
 * Theory of operation.  A TCP test reaches its ends through ix_kside and
 * ix_uside (interop_lib.h).  Normally ix_uside is usock's namespace of
 * interop_setup.  With USOCK_INTEROP_PEER=kernel it is a second kernel
 * namespace uk<pid>: a TAP device eth0 (198.18.0.2) there and tapu0 in
 * ui<pid> are both opened by this process, and a forwarding thread copies
 * frames between the two fds, writing each to ix.pcap first, as usock's
 * capture does, and dropping eth0's frames as usock's netem would (loss
 * only, after the capture, like usock's veth).  The frames are exactly
 * those usock gets and sends: a TAP without IFF_VNET_HDR makes the kernel
 * segment and checksum in software.  So every TCP test runs kernel against
 * kernel with the same code and the same judge, which proves the test.
 *
 * State: `peer` (the forwarder: its fds, its pcap FILE and netem settings
 * behind peer.mu) and the two sides; one Criterion test is one process.
 *
 * Loss on the kernel's side: this kernel may have no netem (sch_netem is
 * often a module, or absent); clsact, classic BPF in cls_bpf and mirred
 * are commonly built in.  The filter draws SKF_AD_RANDOM for each IPv4 TCP
 * frame and redirects the losers to a veth pair, whose other end (up, so
 * that the redirect succeeds) drops them as meant for another host: the
 * sender's transmit has succeeded, so the loss is real to its TCP (a
 * failed redirect would be a local drop, which Linux's TCP silently sends
 * again).  tapu0 gets gso_max_segs 1 so that the egress draw is per frame.
 * The draw is not seeded: which frames go differs from run to run, the
 * rate does not.
 *
 * The judge streams tshark's fields (a 64 MiB transfer each way is some
 * 150,000 frames) and follows each connection itself for what Wireshark
 * does not flag: data beyond the window the peer advertised, and a
 * receiver taking back window it had offered.  It reads a snapshot of the
 * capture's complete records (<pcap>.judged), because the writer may
 * still be appending a late frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <net/if.h>

#include <criterion/criterion.h>

#include "sockapi.h"
#include "usock.h"

#include "interop_lib.h"

struct interop_side ix_kside = { "kernel", &sockapi_kernel, IX_KADDR, -1 };
struct interop_side ix_uside = { "usock", &sockapi_usock, IX_UADDR, -1 };

static struct {
	bool on;
	char ns[32];		/* uk<pid> */
	int nsfd;
	int tapk, tapu;		/* tapu0 in ui<pid>, eth0 in uk<pid> */
	int stop;		/* eventfd: the forwarder ends */
	pthread_t th;
	bool running;
	pthread_mutex_t mu;	/* the fields below */
	FILE *pcap;
	uint32_t loss_ppm;
	uint64_t rng;
	unsigned long lost;
} peer = { .nsfd = -1, .tapk = -1, .tapu = -1, .stop = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

bool interop_peer_kernel(void)
{
	return peer.on;
}

/* ---- the sides ---- */

void interop_side_enter(const struct interop_side *s)
{
	if (s->nsfd < 0)
		usock_netns_set(ix.uns);
}

int interop_socket(const struct interop_side *s, int type)
{
	int fd, e;

	if (s->nsfd < 0) {
		usock_netns_set(ix.uns);
		return usock_socket(AF_INET, type, 0);
	}
	cr_assert(setns(s->nsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	e = errno;
	cr_assert(setns(ix.selffd, CLONE_NEWNET) == 0, "setns back: %s", strerror(errno));
	errno = e;
	return fd;
}

/* Write val to /proc/sys/<name> as seen from the calling thread's netns. */
static int proc_sysctl(const char *name, const char *val)
{
	char path[160];
	ssize_t n;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (i = strlen("/proc/sys/"); path[i]; i++)
		if (path[i] == '.')
			path[i] = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

int interop_sysctl(const struct interop_side *s, const char *name, const char *val)
{
	int r, e;

	if (s->nsfd < 0)
		return usock_sysctl(ix.uns, name, val, NULL, 0);
	cr_assert(setns(s->nsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
	r = proc_sysctl(name, val);
	e = errno;
	cr_assert(setns(ix.selffd, CLONE_NEWNET) == 0, "setns back: %s", strerror(errno));
	errno = e;
	return r;
}

/* ---- the kernel peer ---- */

static int netns_cmd(const char *verb, const char *name)
{
	char *argv[] = { "ip", "netns", (char *)verb, (char *)name, NULL };

	return interop_run(argv, NULL, 0, 5000);
}

/* Open TAP name inside the netns nsfd, IPv6 off before it is up; its MAC to mac. */
static int tap_open_in(int nsfd, const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	char path[96];
	int fd, s;

	cr_assert(setns(nsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	cr_assert(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	cr_assert(ioctl(fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF %s: %s", name, strerror(errno));
	snprintf(path, sizeof(path), "net.ipv6.conf.%s.disable_ipv6", name);
	if (proc_sysctl(path, "1") != 0)
		cr_log_warn("disable_ipv6 on %s: %s", name, strerror(errno));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(s >= 0 && ioctl(s, SIOCGIFHWADDR, &ifr) == 0, "SIOCGIFHWADDR %s: %s", name,
		  strerror(errno));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	cr_assert(setns(ix.selffd, CLONE_NEWNET) == 0, "setns back: %s", strerror(errno));
	return fd;
}

/* One frame through the forwarder: captured, then maybe lost (eth0's only), then on. */
static void peer_frame(bool from_u, const uint8_t *f, size_t n)
{
	struct {
		uint32_t sec, usec, incl, orig;
	} rec;
	struct timeval tv;
	bool drop = false;

	gettimeofday(&tv, NULL);
	rec.sec = (uint32_t)tv.tv_sec;
	rec.usec = (uint32_t)tv.tv_usec;
	rec.incl = rec.orig = (uint32_t)n;
	pthread_mutex_lock(&peer.mu);
	fwrite(&rec, sizeof(rec), 1, peer.pcap);
	fwrite(f, 1, n, peer.pcap);
	if (from_u && peer.loss_ppm) {
		/* xorshift64*: netem's draw, seeded as `seed N` asks */
		peer.rng ^= peer.rng >> 12;
		peer.rng ^= peer.rng << 25;
		peer.rng ^= peer.rng >> 27;
		if ((peer.rng * 0x2545f4914f6cdd1dull) % 1000000u < peer.loss_ppm) {
			drop = true;
			peer.lost++;
		}
	}
	pthread_mutex_unlock(&peer.mu);
	if (!drop) {
		/* a TAP write is the device receiving: a failure is a lost frame, as on a wire */
		ssize_t w = write(from_u ? peer.tapk : peer.tapu, f, n);

		(void)w;
	}
}

static void *peer_main(void *arg)
{
	static uint8_t buf[65536];
	struct pollfd pf[3] = {
		{ peer.tapk, POLLIN, 0 }, { peer.tapu, POLLIN, 0 }, { peer.stop, POLLIN, 0 }
	};

	(void)arg;
	for (;;) {
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents)
			break;
		for (int i = 0; i < 2; i++) {
			if (pf[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				pf[i].fd = -1;	/* device gone: stop watching, do not spin */
			if (!(pf[i].revents & POLLIN))
				continue;
			for (int k = 0; k < 64; k++) {
				ssize_t n = read(i ? peer.tapu : peer.tapk, buf, sizeof(buf));

				if (n <= 0)
					break;
				peer_frame(i == 1, buf, (size_t)n);
			}
		}
	}
	return NULL;
}

static void peer_setup(void)
{
	static const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	char path[96], out[1024];
	int r;

	interop_clean_stale();
	snprintf(ix.kns, sizeof(ix.kns), "ui%d", (int)getpid());
	snprintf(peer.ns, sizeof(peer.ns), "uk%d", (int)getpid());
	netns_cmd("del", ix.kns);
	netns_cmd("del", peer.ns);
	cr_assert(netns_cmd("add", ix.kns) == 0 && netns_cmd("add", peer.ns) == 0,
		  "ip netns add (interop tests need root)");
	snprintf(path, sizeof(path), "/run/netns/%s", ix.kns);
	ix.knsfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", peer.ns);
	peer.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ix.selffd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(ix.knsfd >= 0 && peer.nsfd >= 0 && ix.selffd >= 0, "netns fds: %s",
		  strerror(errno));
	peer.on = true;
	peer.tapk = tap_open_in(ix.knsfd, IX_TAP, ix.kmac);
	peer.tapu = tap_open_in(peer.nsfd, IX_DEV, ix.umac);
	snprintf(ix.pcap, sizeof(ix.pcap), "/tmp/usock-interop-%d.pcap", (int)getpid());
	peer.pcap = fopen(ix.pcap, "we");
	cr_assert(peer.pcap, "%s: %s", ix.pcap, strerror(errno));
	fwrite(hdr, sizeof(hdr), 1, peer.pcap);
	peer.stop = eventfd(0, EFD_CLOEXEC);
	cr_assert(peer.stop >= 0, "eventfd: %s", strerror(errno));
	cr_assert(pthread_create(&peer.th, NULL, peer_main, NULL) == 0, "pthread_create");
	peer.running = true;

	r = interop_kip(out, sizeof(out), "link", "set", "lo", "up", NULL);
	cr_assert(r == 0, "lo up: %s", out);
	r = interop_kip(out, sizeof(out), "addr", "add", IX_KADDR "/24", "dev", IX_TAP, NULL);
	cr_assert(r == 0, "ip addr add: %d %s", r, out);
	r = interop_kip(out, sizeof(out), "link", "set", IX_TAP, "up", NULL);
	cr_assert(r == 0, "ip link set up: %d %s", r, out);
	{
		char *a[] = { "ip", "-n", peer.ns, "addr", "add", IX_UADDR "/24", "dev", IX_DEV,
			      NULL };
		char *b[] = { "ip", "-n", peer.ns, "link", "set", IX_DEV, "up", NULL };
		char *c[] = { "ip", "-n", peer.ns, "link", "set", "lo", "up", NULL };

		cr_assert(interop_run(a, out, sizeof(out), 5000) == 0, "peer addr: %s", out);
		cr_assert(interop_run(b, out, sizeof(out), 5000) == 0, "peer up: %s", out);
		cr_assert(interop_run(c, out, sizeof(out), 5000) == 0, "peer lo: %s", out);
	}
	ix_uside.name = "kernel-peer";
	ix_uside.api = &sockapi_kernel;
	ix_uside.nsfd = peer.nsfd;
}

static void peer_teardown(void)
{
	uint64_t one = 1;

	if (peer.running) {
		if (write(peer.stop, &one, sizeof(one)) != sizeof(one))
			cr_log_warn("eventfd write: %s", strerror(errno));
		pthread_join(peer.th, NULL);
		peer.running = false;
	}
	if (peer.pcap) {
		fclose(peer.pcap);
		peer.pcap = NULL;
	}
	for (int *fd = &peer.tapk; fd <= &peer.tapu; fd++)
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
	if (peer.stop >= 0)
		close(peer.stop);
	peer.stop = -1;
	if (peer.nsfd >= 0)
		close(peer.nsfd);
	peer.nsfd = -1;
	if (peer.ns[0])
		netns_cmd("del", peer.ns);
}

void interop_tcp_setup(void)
{
	const char *mode = getenv("USOCK_INTEROP_PEER");

	if (mode && strcmp(mode, "kernel") == 0)
		peer_setup();
	else
		interop_setup();
	ix_kside.nsfd = ix.knsfd;
}

void interop_tcp_teardown(void)
{
	if (peer.on)
		peer_teardown();
	interop_teardown();
}

/* ---- loss ---- */

static int kexec(char *out, size_t outlen, char *const cmd[])
{
	char *argv[32] = { "ip", "netns", "exec", ix.kns };
	int n = 4;

	for (int i = 0; cmd[i] && n < 31; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	return interop_run(argv, out, outlen, 5000);
}

void interop_kernel_loss(unsigned bp)
{
	char bc[256], out[1024];
	int r;

	/*
	 * ldh [12]; jeq #0x800 (else pass); ldb [23]; jeq #6 (else pass);
	 * ld rand; mod #10000; jge #bp (pass) else match (drop)
	 */
	snprintf(bc, sizeof(bc),
		 "9,40 0 0 12,21 0 6 2048,48 0 0 23,21 0 4 6,32 0 0 %u,148 0 0 10000,"
		 "53 1 0 %u,6 0 0 4294967295,6 0 0 0",
		 0xfffff000u + 56u /* SKF_AD_OFF + SKF_AD_RANDOM */, bp);
	r = interop_kip(out, sizeof(out), "link", "add", "ixdrop0", "type", "veth", "peer", "name",
			"ixdrop1", NULL);
	cr_assert(r == 0, "veth for the loss filter: %d %s", r, out);
	/*
	 * Both ends up: a redirect to a device without carrier is TC_ACT_SHOT,
	 * which the kernel's own TCP sees as a local drop (NET_XMIT_DROP) and
	 * silently sends again: no loss.  Delivered to ixdrop1, the frame is
	 * for another host's MAC and IPv4 drops it, after the sender's
	 * transmit has succeeded: a real loss.
	 */
	r = interop_kip(out, sizeof(out), "link", "set", "ixdrop0", "up", NULL);
	cr_assert(r == 0, "ixdrop0 up: %d %s", r, out);
	r = interop_kip(out, sizeof(out), "link", "set", "ixdrop1", "up", NULL);
	cr_assert(r == 0, "ixdrop1 up: %d %s", r, out);
	/* one segment per skb: the egress filter draws per frame, not per 64 KiB GSO burst */
	r = interop_kip(out, sizeof(out), "link", "set", IX_TAP, "gso_max_segs", "1", NULL);
	cr_assert(r == 0, "gso_max_segs: %d %s", r, out);
	{
		char *q[] = { "tc", "qdisc", "add", "dev", IX_TAP, "clsact", NULL };
		char *in[] = { "tc", "filter", "add", "dev", IX_TAP, "ingress", "bpf", "bytecode", bc,
			       "action", "mirred", "egress", "redirect", "dev", "ixdrop0", NULL };
		char *eg[] = { "tc", "filter", "add", "dev", IX_TAP, "egress", "bpf", "bytecode", bc,
			       "action", "mirred", "egress", "redirect", "dev", "ixdrop0", NULL };

		r = kexec(out, sizeof(out), q);
		cr_assert(r == 0, "tc qdisc add clsact: %d %s", r, out);
		r = kexec(out, sizeof(out), in);
		cr_assert(r == 0, "tc filter (ingress, cls_bpf + mirred): %d %s", r, out);
		r = kexec(out, sizeof(out), eg);
		cr_assert(r == 0, "tc filter (egress): %d %s", r, out);
	}
}

/* Frames the filter on one hook has redirected to the dead veth. */
static unsigned long loss_count(const char *hook)
{
	char *cmd[] = { "tc", "-s", "filter", "show", "dev", IX_TAP, (char *)hook, NULL };
	static char out[8192];
	unsigned long bytes, pkts;
	const char *p;

	if (kexec(out, sizeof(out), cmd) != 0 || !(p = strstr(out, "Sent ")) ||
	    sscanf(p, "Sent %lu bytes %lu pkt", &bytes, &pkts) != 2)
		return 0;
	return pkts;
}

void interop_kernel_loss_stats(unsigned long *in, unsigned long *eg)
{
	*in = loss_count("ingress");
	*eg = loss_count("egress");
}

void interop_kernel_loss_off(void)
{
	char *q[] = { "tc", "qdisc", "del", "dev", IX_TAP, "clsact", NULL };
	char out[512];
	int r = kexec(out, sizeof(out), q);

	cr_assert(r == 0, "tc qdisc del clsact: %d %s", r, out);
}

int interop_usock_netem(const char *opts)
{
	char cmd[256], buf[256], *tok, *save = NULL;
	double pct = -1;
	uint64_t seed = 1;

	if (!peer.on) {
		snprintf(cmd, sizeof(cmd), "qdisc add dev " IX_DEV " root netem %s", opts);
		return usock_ip(ix.uns, cmd, NULL, 0) == 0 ? 0 : -errno;
	}
	snprintf(buf, sizeof(buf), "%s", opts);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *v = strtok_r(NULL, " ", &save);

		if (!v)
			return -EINVAL;
		if (strcmp(tok, "loss") == 0)
			pct = strtod(v, NULL);
		else if (strcmp(tok, "seed") == 0)
			seed = strtoull(v, NULL, 0);
		else
			return -EOPNOTSUPP;
	}
	if (pct < 0 || pct > 100)
		return -EINVAL;
	pthread_mutex_lock(&peer.mu);
	peer.loss_ppm = (uint32_t)(pct * 10000 + 0.5);
	peer.rng = seed ? seed : 1;
	pthread_mutex_unlock(&peer.mu);
	return 0;
}

unsigned long interop_usock_netem_lost(void)
{
	char out[1024];
	unsigned long lost = 0;
	const char *p;

	if (peer.on) {
		pthread_mutex_lock(&peer.mu);
		lost = peer.lost;
		pthread_mutex_unlock(&peer.mu);
		return lost;
	}
	if (usock_ip(ix.uns, "qdisc show dev " IX_DEV, out, sizeof(out)) != 0)
		return 0;
	p = strstr(out, " lost ");
	if (p)
		sscanf(p, " lost %lu", &lost);
	return lost;
}

void interop_usock_netem_off(void)
{
	if (peer.on) {
		pthread_mutex_lock(&peer.mu);
		peer.loss_ppm = 0;
		pthread_mutex_unlock(&peer.mu);
		return;
	}
	cr_assert(usock_ip(ix.uns, "qdisc del dev " IX_DEV " root", NULL, 0) == 0,
		  "usock qdisc del: %s", strerror(errno));
}

/* ---- the TCP judge ---- */

enum {
	F_NUM, F_ETHSRC, F_ETHTYPE, F_IPSRC, F_IPPROTO, F_IPCSUM, F_SPORT, F_DPORT, F_LEN, F_SEQ,
	F_ACK, F_WIN, F_WSCALE, F_FLAGS, F_TCPCSUM, F_MALFORMED, F_SEVERITY, F_RETRANS, F_FASTRE,
	F_SPURIOUS, F_OOO, F_LOST, F_ACKLOST, F_DUPACK, F_ZEROWIN, F_TFOACK, F_TFOIGN, F_TFOREQ,
	F_TFOCOOKIE, F_TCPCSUMVAL, F_TCPCSUMCALC, F_COUNT
};

static const char *const tcp_fields[F_COUNT] = {
	"frame.number", "eth.src", "eth.type", "ip.src", "ip.proto", "ip.checksum.status",
	"tcp.srcport", "tcp.dstport", "tcp.len", "tcp.seq_raw", "tcp.ack_raw", "tcp.window_size",
	"tcp.window_size_scalefactor", "tcp.flags", "tcp.checksum.status", "_ws.malformed",
	"_ws.expert.severity", "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
	"tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order",
	"tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
	"tcp.analysis.duplicate_ack", "tcp.analysis.zero_window", "tcp.analysis.tfo_ack",
	"tcp.analysis.tfo_ignored", "tcp.options.tfo.request", "tcp.options.tfo.cookie",
	"tcp.checksum", "tcp.checksum_calculated",
};

#define PI_SEVERITY_ERROR 0x00800000u	/* Wireshark's PI_ERROR */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10
#define MAX_CONNS 64

/* One connection, by (usock's port, kernel's port); [0] the kernel's half, [1] usock's. */
struct conn {
	uint16_t uport, kport;
	bool edge_ok[2];	/* a right edge advertised by that side seen */
	uint32_t edge[2];	/* the largest right edge it advertised */
	bool own_ok[2];		/* ... outside SYNs (the shrink check's baseline) */
	uint32_t own[2];
	bool synwin_ok[2];	/* the window of a SYN: its edge needs the SYN-ACK's ISN */
	uint32_t synwin[2];
};

struct judge {
	struct interop_tcp_stats *st;
	struct conn c[MAX_CONNS];
	unsigned n;
};

static void tcp_report(struct interop_tcp_stats *st, const char *num, bool from_u,
		       const char *what)
{
	size_t u = strlen(st->report);

	if (u + 64 < sizeof(st->report))
		snprintf(st->report + u, sizeof(st->report) - u, "frame %s %s: %s\n", num,
			 from_u ? "usock->kernel" : "kernel->usock", what);
}

/* The connection of a segment; a SYN without ACK may start one (counted in st->conns). */
static struct conn *conn_get(struct judge *j, uint16_t uport, uint16_t kport, bool create)
{
	for (unsigned i = 0; i < j->n; i++)
		if (j->c[i].uport == uport && j->c[i].kport == kport)
			return &j->c[i];
	if (!create || j->n == MAX_CONNS)
		return NULL;
	j->st->conns++;
	memset(&j->c[j->n], 0, sizeof(j->c[0]));
	j->c[j->n].uport = uport;
	j->c[j->n].kport = kport;
	return &j->c[j->n++];
}

static bool present(const char *f)
{
	return f && f[0];
}

/* Count what one TCP segment tells, by its sender (from_u). */
static void judge_tcp(struct judge *j, char **f, bool from_u)
{
	struct interop_tcp_stats *st = j->st;
	unsigned flags = (unsigned)strtoul(f[F_FLAGS], NULL, 0);
	uint32_t len = (uint32_t)strtoul(f[F_LEN], NULL, 10);
	uint32_t seq = (uint32_t)strtoul(f[F_SEQ], NULL, 10);
	uint32_t ack = (uint32_t)strtoul(f[F_ACK], NULL, 10);
	uint32_t win = (uint32_t)strtoul(f[F_WIN], NULL, 10);
	long scale = strtol(f[F_WSCALE], NULL, 10);
	uint16_t sp = (uint16_t)atoi(f[F_SPORT]), dp = (uint16_t)atoi(f[F_DPORT]);
	bool syn = flags & TH_SYN;
	int me = from_u ? 1 : 0;
	struct conn *c;

#define BUMP(name) (from_u ? st->name##_u++ : st->name##_k++)
	BUMP(tcp);
	if (from_u)
		st->bytes_u += len;
	else
		st->bytes_k += len;
	if (present(f[F_RETRANS]) || present(f[F_FASTRE]) || present(f[F_SPURIOUS]))
		BUMP(retrans);
	if (present(f[F_SPURIOUS]))
		BUMP(spurious);
	if (present(f[F_OOO]))
		BUMP(ooo);
	if (present(f[F_DUPACK]))
		BUMP(dupack);
	if (present(f[F_ZEROWIN]))
		BUMP(zerowin);
	if (present(f[F_LOST])) {
		/* the kernel's frames may be lost before the capture; usock's never are */
		BUMP(lost);
		if (from_u)
			tcp_report(st, f[F_NUM], from_u, "previous segment not captured");
	}
	if (present(f[F_ACKLOST])) {
		BUMP(acklost);
		tcp_report(st, f[F_NUM], from_u, "ACKed segment that wasn't captured");
	}
	if (flags & TH_RST)
		BUMP(rst);
	if (syn) {
		BUMP(syn);
		if (len)
			BUMP(syndata);
		if (present(f[F_TFOREQ]))
			BUMP(tfo_req);
		if (present(f[F_TFOCOOKIE]))
			BUMP(tfo_cookie);
		if (present(f[F_TFOACK]))
			BUMP(tfo_ack);
		if (present(f[F_TFOIGN]))
			BUMP(tfo_ignored);
	}
	c = conn_get(j, from_u ? sp : dp, from_u ? dp : sp, syn && !(flags & TH_ACK));
	if (!c || (flags & TH_RST))
		return;
	/* data must fit in what the peer offered; a SYN's data (Fast Open) precedes any offer */
	if (len && !syn) {
		if (!c->edge_ok[!me] || (int32_t)(seq + len - c->edge[!me]) > 0) {
			char what[128];

			snprintf(what, sizeof(what), "data %u..%u beyond the peer's window (edge %u%s)",
				 seq, seq + len, c->edge[!me], c->edge_ok[!me] ? "" : ", none yet");
			BUMP(beyond);
			tcp_report(st, f[F_NUM], from_u, what);
		}
	}
	if (syn && !(flags & TH_ACK)) {
		/* a SYN offers its window from the ISN it has not seen yet */
		c->synwin[me] = win;
		c->synwin_ok[me] = true;
		return;
	}
	if (syn && c->synwin_ok[!me] && !c->edge_ok[!me]) {
		/* the SYN-ACK's ISN places the SYN's offer: a Fast Open server may send at once */
		c->edge[!me] = seq + 1 + c->synwin[!me];
		c->edge_ok[!me] = true;
	}
	if (!(flags & TH_ACK) || scale == -1)
		return;
	uint32_t edge = ack + win;

	if (!c->edge_ok[me] || (int32_t)(edge - c->edge[me]) > 0)
		c->edge[me] = edge;
	c->edge_ok[me] = true;
	if (syn)
		return;
	if (c->own_ok[me] && (int32_t)(edge - c->own[me]) < 0) {
		char what[128];

		snprintf(what, sizeof(what), "window shrunk: right edge %u after %u", edge,
			 c->own[me]);
		BUMP(shrink);
		tcp_report(st, f[F_NUM], from_u, what);
	}
	if (!c->own_ok[me] || (int32_t)(edge - c->own[me]) > 0)
		c->own[me] = edge;
	c->own_ok[me] = true;
#undef BUMP
}

static bool mac_is(const char *s, const uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		if (v[i] != mac[i])
			return false;
	return true;
}

/* Count the checksum statuses of one field (1 good, 0 bad, 2 unverified). */
static void judge_csum(struct interop_tcp_stats *st, const char *v, const char *num, bool from_u)
{
	if (!present(v))
		return;
	if (v[0] == '1') {
		st->csum_good++;
	} else if (v[0] == '0') {
		st->csum_bad++;
		tcp_report(st, num, from_u, "bad checksum");
	} else {
		st->csum_unverified++;
	}
}

static void judge_line(void *arg, char *line)
{
	struct judge *j = arg;
	struct interop_tcp_stats *st = j->st;
	char *f[F_COUNT], *p = line, *sev;
	bool from_u, from_k, bad = false;
	int n = 0;

	while (n < F_COUNT && (f[n] = strsep(&p, "\t")) != NULL)
		n++;
	if (n < F_COUNT)
		return;
	st->frames++;
	from_u = mac_is(f[F_ETHSRC], ix.umac) && strcmp(f[F_IPSRC], IX_UADDR) == 0;
	from_k = mac_is(f[F_ETHSRC], ix.kmac) && strcmp(f[F_IPSRC], IX_KADDR) == 0;
	/* several expert notes give several severities, comma-separated */
	for (sev = f[F_SEVERITY]; present(sev); sev = strchr(sev, ',') ? strchr(sev, ',') + 1 : NULL)
		if (strtoul(sev, NULL, 0) >= PI_SEVERITY_ERROR)
			bad = true;
	if (bad || present(f[F_MALFORMED])) {
		st->bad++;
		tcp_report(st, f[F_NUM], from_u, "malformed, or an expert error");
	}
	if (strcmp(f[F_ETHTYPE], "0x0806") == 0) {
		st->arp++;
		return;
	}
	judge_csum(st, f[F_IPCSUM], f[F_NUM], from_u);
	if (strcmp(f[F_IPPROTO], "6") != 0 || (!from_u && !from_k)) {
		st->other++;
		tcp_report(st, f[F_NUM], from_u, "neither ARP nor TCP between the two");
		return;
	}
	/*
	 * Linux writes 0xffff where a TCP checksum computes to 0 (skb_checksum_help's
	 * CSUM_MANGLED_0); Wireshark calls it bad, but in one's complement it is
	 * the same number (RFC 1624), and every receiver accepts it.
	 */
	if (present(f[F_TCPCSUM]) && f[F_TCPCSUM][0] == '0' &&
	    strtoul(f[F_TCPCSUMVAL], NULL, 0) == 0xffff && present(f[F_TCPCSUMCALC]) &&
	    strtoul(f[F_TCPCSUMCALC], NULL, 0) == 0) {
		st->csum_good++;
		st->csum_ffff++;
	} else {
		judge_csum(st, f[F_TCPCSUM], f[F_NUM], from_u);
	}
	judge_tcp(j, f, from_u);
}

/*
 * pcap_snapshot - copy the complete records of the capture at src, which
 * its writer may still be appending to (a late ACK, a FIN sent again), to
 * dst: tshark fails on a file that ends inside a record.
 * Return: 0, or -1 (errno set).
 */
static int pcap_snapshot(const char *src, const char *dst)
{
	static uint8_t rec[16 + 262144];
	uint8_t hdr[24];
	FILE *in, *out;
	int r = -1;

	in = fopen(src, "re");
	if (!in)
		return -1;
	out = fopen(dst, "we");
	if (!out) {
		fclose(in);
		return -1;
	}
	if (fread(hdr, sizeof(hdr), 1, in) != 1 || fwrite(hdr, sizeof(hdr), 1, out) != 1)
		goto done;
	for (;;) {
		uint32_t incl;

		if (fread(rec, 16, 1, in) != 1)
			break;
		memcpy(&incl, rec + 8, 4);	/* both writers use host order */
		if (incl > sizeof(rec) - 16 || fread(rec + 16, 1, incl, in) != incl)
			break;
		if (fwrite(rec, 16 + incl, 1, out) != 1)
			goto done;
	}
	r = 0;
done:
	fclose(in);
	if (fclose(out) != 0)
		r = -1;
	return r;
}

int interop_tcp_check(const char *path, struct interop_tcp_stats *st)
{
	char snap[96];
	static struct judge j;
	static char err[2048];
	char *argv[24 + 2 * F_COUNT];
	int n = 0, r;

	memset(st, 0, sizeof(*st));
	memset(&j, 0, sizeof(j));
	j.st = st;
	if (peer.on) {
		pthread_mutex_lock(&peer.mu);
		fflush(peer.pcap);
		pthread_mutex_unlock(&peer.mu);
	}
	argv[n++] = "tshark";
	argv[n++] = "-n";
	snprintf(snap, sizeof(snap), "%s.judged", path);
	if (pcap_snapshot(path, snap) != 0) {
		snprintf(st->report, sizeof(st->report), "snapshot of %s: %s", path,
			 strerror(errno));
		return -1;
	}
	argv[n++] = "-r";
	argv[n++] = snap;
	argv[n++] = "-o";
	argv[n++] = "ip.check_checksum:TRUE";
	argv[n++] = "-o";
	argv[n++] = "tcp.check_checksum:TRUE";
	/* random payload must not be read as some protocol that happens to own the port */
	argv[n++] = "-d";
	argv[n++] = "tcp.port==" IX_TCP_PORTS ",data";
	argv[n++] = "-o";
	argv[n++] = "tcp.desegment_tcp_streams:FALSE";
	argv[n++] = "-T";
	argv[n++] = "fields";
	argv[n++] = "-E";
	argv[n++] = "separator=/t";
	argv[n++] = "-E";
	argv[n++] = "occurrence=a";
	for (int i = 0; i < F_COUNT; i++) {
		argv[n++] = "-e";
		argv[n++] = (char *)tcp_fields[i];
	}
	argv[n] = NULL;
	r = interop_run_lines(argv, judge_line, &j, err, sizeof(err), 90000);
	if (!getenv("USOCK_INTEROP_KEEP"))
		unlink(snap);
	if (r != 0) {
		snprintf(st->report, sizeof(st->report), "tshark exit %d: %s", r, err);
		return -1;
	}
	if (st->frames == 0) {
		snprintf(st->report, sizeof(st->report), "tshark read no frame from %s", path);
		return -1;
	}
	return 0;
}

void interop_tcp_summary(const struct interop_tcp_stats *st, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "%u frames (%u TCP k->u, %u u->k, %u ARP, %u other), %u conns, payload k %llu u %llu; "
		 "csum good %u bad %u unverified %u; bad %u; retrans k %u u %u (spurious %u/%u); "
		 "ooo %u/%u; dupack %u/%u; lost %u/%u; acklost %u/%u; zerowin %u/%u; beyond %u/%u; "
		 "shrink %u/%u; rst %u/%u; syn %u/%u syndata %u/%u tfo req %u/%u cookie %u/%u "
		 "ack %u/%u ignored %u/%u (k/u)",
		 st->frames, st->tcp_k, st->tcp_u, st->arp, st->other, st->conns, st->bytes_k,
		 st->bytes_u, st->csum_good, st->csum_bad, st->csum_unverified, st->bad,
		 st->retrans_k, st->retrans_u, st->spurious_k, st->spurious_u, st->ooo_k, st->ooo_u,
		 st->dupack_k, st->dupack_u, st->lost_k, st->lost_u, st->acklost_k, st->acklost_u,
		 st->zerowin_k, st->zerowin_u, st->beyond_k, st->beyond_u, st->shrink_k,
		 st->shrink_u, st->rst_k, st->rst_u, st->syn_k, st->syn_u, st->syndata_k,
		 st->syndata_u, st->tfo_req_k, st->tfo_req_u, st->tfo_cookie_k, st->tfo_cookie_u,
		 st->tfo_ack_k, st->tfo_ack_u, st->tfo_ignored_k, st->tfo_ignored_u);
}
