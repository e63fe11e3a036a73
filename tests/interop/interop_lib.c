/* SPDX-License-Identifier: MIT */
/*
 * interop_lib.c - the TAP topology, bounded child processes, batches, tshark
 *
 * Theory of operation.  One Criterion test is one process, so the topology
 * lives in the plain global `ix`: setup builds it (see interop_lib.h),
 * teardown frees the usock namespace (which closes the TAP fd, so the
 * device goes) and deletes the kernel namespace.  Criterion runs .fini after
 * a failed assertion but not after a crash or a timeout, so namespaces are
 * named after the pid and setup deletes those whose pid is gone.
 *
 * Limits, on purpose: every child process has a deadline and is killed at
 * it; every receive loop has a deadline; nothing is sent anywhere but to the
 * two addresses of the topology, which exist only inside ui<pid>.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <criterion/criterion.h>

#include "sockapi.h"
#include "usock.h"

#include "interop_lib.h"

struct interop ix = { .knsfd = -1, .selffd = -1 };

const uint32_t interop_batch_len[IX_BATCH] = {
	1,    1472, 2,     3000, 7,    8,    9,     15,   16,   17,   20000, 31,   32,
	33,   63,   64,    65,   100,  127,  128,   65507, 129, 200,  255,   256,  257,
	300,  3000, 400,   511,  512,  513,  576,   600,  700,  800,  900,   1000, 1023,
	1024, 20000, 1025, 1100, 1200, 1300, 1400,  1450, 1460, 1464, 1465,  1470, 1471,
	3000, 1472, 65507, 1472, 548,  1234, 42,    999,  1337, 77,   1,     1472,
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* ---- child processes ---- */

/* Where a child's output goes: a NUL-terminated buffer, or a line callback. */
struct sink {
	char *out;
	size_t outlen, used;
	void (*line)(void *arg, char *line);
	void *arg;
	char part[4096];	/* the line callback's unfinished line */
	size_t plen;
	int errfd;		/* > 0: the child's stderr goes there */
};

static void sink_put(struct sink *s, const char *buf, size_t n)
{
	if (s->out && s->outlen > s->used + 1) {
		size_t k = n < s->outlen - s->used - 1 ? n : s->outlen - s->used - 1;

		memcpy(s->out + s->used, buf, k);
		s->used += k;
		s->out[s->used] = '\0';
	}
	if (!s->line)
		return;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			s->part[s->plen] = '\0';
			s->line(s->arg, s->part);
			s->plen = 0;
		} else if (s->plen + 1 < sizeof(s->part)) {
			s->part[s->plen++] = buf[i];
		}
	}
}

/* run_child - interop_run, with stderr in the sink (merge) or thrown away. */
static int run_child_sink(char *const argv[], struct sink *s, int timeout_ms, bool merge)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int p[2], status, ret;
	pid_t pid;

	if (s->out && s->outlen)
		s->out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		if (merge)
			dup2(p[1], 2);
		else if (s->errfd > 0)
			dup2(s->errfd, 2);
		else if (nul >= 0)
			dup2(nul, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		uint64_t t = now_ms();
		char buf[65536];
		ssize_t n;

		if (t >= deadline)
			break;
		if (poll(&pf, 1, (int)(deadline - t)) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		sink_put(s, buf, (size_t)n);
	}
	close(p[0]);
	/* EOF: the child is exiting; give it until the deadline, then kill it */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return 124;
		}
		usleep(2000);
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return ret;
}

static int run_child(char *const argv[], char *out, size_t outlen, int timeout_ms, bool merge)
{
	struct sink s = { .out = out, .outlen = outlen };

	return run_child_sink(argv, &s, timeout_ms, merge);
}

int interop_run_lines(char *const argv[], void (*line)(void *arg, char *line), void *arg,
		      char *err, size_t errlen, int timeout_ms)
{
	static struct sink s;	/* 4 KiB of line: not on the caller's stack */
	FILE *ef = tmpfile();
	size_t n = 0;
	int r;

	memset(&s, 0, sizeof(s));
	s.line = line;
	s.arg = arg;
	s.errfd = ef ? fileno(ef) : -1;
	r = run_child_sink(argv, &s, timeout_ms, false);
	if (err && errlen) {
		if (ef && fseek(ef, 0, SEEK_SET) == 0)
			n = fread(err, 1, errlen - 1, ef);
		err[n] = '\0';
	}
	if (ef)
		fclose(ef);
	return r;
}

int interop_run(char *const argv[], char *out, size_t outlen, int timeout_ms)
{
	return run_child(argv, out, outlen, timeout_ms, true);
}

int interop_kip(char *out, size_t outlen, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = "ip";
	argv[n++] = "-n";
	argv[n++] = ix.kns;
	va_start(ap, outlen);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return interop_run(argv, out, outlen, 5000);
}

static int ip_netns(const char *verb, const char *name)
{
	char *argv[] = { "ip", "netns", (char *)verb, (char *)name, NULL };

	return interop_run(argv, NULL, 0, 5000);
}

/* ---- setup and teardown ---- */

void interop_clean_stale(void)
{
	struct dirent *e;
	DIR *d;

	d = opendir("/run/netns");
	if (!d)
		return;
	while ((e = readdir(d))) {
		int pid, end = 0;

		/* ui<pid>: the kernel's side; uk<pid>: the kernel peer (interop_tcp.c) */
		if ((sscanf(e->d_name, "ui%d%n", &pid, &end) != 1 &&
		     sscanf(e->d_name, "uk%d%n", &pid, &end) != 1) ||
		    e->d_name[end] != '\0' || pid <= 0 || pid == getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		ip_netns("del", e->d_name);
	}
	closedir(d);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* In the kernel netns (the calling thread is there): make the TAP, read its MAC. */
static void open_tap_inside(void)
{
	struct ifreq ifr;
	int s;

	if (usock_link_tap(ix.uns, IX_DEV, IX_TAP) != 0)
		cr_assert_fail("usock_link_tap: %s", strerror(errno));
	/* before tapu0 is up: no IPv6 autoconfiguration in the capture */
	if (write_file("/proc/sys/net/ipv6/conf/" IX_TAP "/disable_ipv6", "1") != 0)
		cr_log_warn("disable_ipv6 on %s: %s", IX_TAP, strerror(errno));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(s >= 0, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, IX_TAP);
	cr_assert(ioctl(s, SIOCGIFHWADDR, &ifr) == 0, "SIOCGIFHWADDR %s: %s", IX_TAP,
		  strerror(errno));
	memcpy(ix.kmac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
}

static void usock_cmd(const char *cmd)
{
	cr_assert(usock_ip(ix.uns, cmd, NULL, 0) == 0, "usock_ip(%s): %s", cmd, strerror(errno));
}

void interop_setup(void)
{
	char path[96], out[2048];
	const char *p;
	int r;

	interop_clean_stale();
	snprintf(ix.kns, sizeof(ix.kns), "ui%d", (int)getpid());
	ip_netns("del", ix.kns);	/* a pid reused after a crash */
	r = ip_netns("add", ix.kns);
	cr_assert(r == 0, "ip netns add %s: status %d (interop tests need root)", ix.kns, r);
	snprintf(path, sizeof(path), "/run/netns/%s", ix.kns);
	ix.knsfd = open(path, O_RDONLY | O_CLOEXEC);
	ix.selffd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(ix.knsfd >= 0 && ix.selffd >= 0, "open netns fds: %s", strerror(errno));
	r = interop_kip(out, sizeof(out), "link", "set", "lo", "up", NULL);
	cr_assert(r == 0, "ip link set lo up: %d %s", r, out);

	ix.uns = usock_netns_new("u", 0);
	cr_assert(ix.uns, "usock_netns_new: %s", strerror(errno));

	/* the TAP device is created in the netns of the thread that opens it */
	cr_assert(setns(ix.knsfd, CLONE_NEWNET) == 0, "setns %s: %s", ix.kns, strerror(errno));
	open_tap_inside();
	cr_assert(setns(ix.selffd, CLONE_NEWNET) == 0, "setns back: %s", strerror(errno));

	r = interop_kip(out, sizeof(out), "addr", "add", IX_KADDR "/24", "dev", IX_TAP, NULL);
	cr_assert(r == 0, "ip addr add: %d %s", r, out);
	r = interop_kip(out, sizeof(out), "link", "set", IX_TAP, "up", NULL);
	cr_assert(r == 0, "ip link set up: %d %s", r, out);

	usock_cmd("addr add " IX_UADDR "/24 dev " IX_DEV);
	usock_cmd("link set " IX_DEV " up");
	snprintf(ix.pcap, sizeof(ix.pcap), "/tmp/usock-interop-%d.pcap", (int)getpid());
	cr_assert(usock_pcap_open(ix.uns, IX_DEV, ix.pcap) == 0, "usock_pcap_open: %s",
		  strerror(errno));

	cr_assert(usock_ip(ix.uns, "link show", out, sizeof(out)) == 0, "link show");
	p = strstr(out, IX_DEV ":");
	p = p ? strstr(p, "link/ether ") : NULL;
	cr_assert(p && parse_mac(p + 11, ix.umac) == 0, "no MAC for %s in: %s", IX_DEV, out);
	usock_netns_set(ix.uns);
}

void interop_teardown(void)
{
	usock_netns_set(NULL);
	if (ix.selffd >= 0)
		setns(ix.selffd, CLONE_NEWNET);
	if (ix.uns) {
		/* stops the worker, closes the TAP fd: the kernel removes tapu0 */
		usock_netns_free(ix.uns);
		ix.uns = NULL;
	}
	if (ix.knsfd >= 0) {
		close(ix.knsfd);
		ix.knsfd = -1;
	}
	if (ix.kns[0])
		ip_netns("del", ix.kns);
	if (ix.pcap[0] && !getenv("USOCK_INTEROP_KEEP"))
		unlink(ix.pcap);
}

void interop_finish(void)
{
	uint64_t deadline = now_ms() + 5000;

	if (interop_peer_kernel())
		return;

	/* frames still being handed over by the TAP reader settle quickly */
	while (!usock_netns_pools_full(ix.uns) && now_ms() < deadline)
		usleep(10000);
	cr_assert(usock_netns_pools_full(ix.uns),
		  "usock namespace leaked packet buffers (a socket left open, or a leak)");
}

/* ---- sockets ---- */

int interop_kernel_udp(uint16_t port, int bufsz)
{
	struct sockaddr_in a = sin4(IX_KADDR, port);
	int fd;

	cr_assert(setns(ix.knsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(setns(ix.selffd, CLONE_NEWNET) == 0, "setns back: %s", strerror(errno));
	cr_assert(fd >= 0, "kernel socket: %s", strerror(errno));
	if (bufsz) {
		cr_assert(setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) == 0,
			  "SO_RCVBUFFORCE: %s", strerror(errno));
		cr_assert(setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) == 0,
			  "SO_SNDBUFFORCE: %s", strerror(errno));
	}
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "kernel bind: %s",
		  strerror(errno));
	return fd;
}

int interop_usock_udp(uint16_t port, int bufsz)
{
	struct sockaddr_in a = sin4(IX_UADDR, port);
	char val[32];
	int fd;

	usock_netns_set(ix.uns);
	fd = usock_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(fd >= 0, "usock_socket: %s", strerror(errno));
	if (bufsz) {
		/* as root would with SO_RCVBUFFORCE: raise the cap, then ask */
		snprintf(val, sizeof(val), "%d", bufsz);
		cr_assert(usock_sysctl(ix.uns, "core.rmem_max", val, NULL, 0) == 0, "rmem_max");
		cr_assert(usock_sysctl(ix.uns, "core.wmem_max", val, NULL, 0) == 0, "wmem_max");
		cr_assert(usock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)) == 0,
			  "usock SO_RCVBUF: %s", strerror(errno));
		cr_assert(usock_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)) == 0,
			  "usock SO_SNDBUF: %s", strerror(errno));
	}
	cr_assert(usock_bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "usock bind: %s",
		  strerror(errno));
	return fd;
}

/* ---- the batch ---- */

unsigned interop_frames_for(uint32_t len)
{
	/* 1480 bytes of IP payload per frame at MTU 1500, a multiple of 8 */
	return (len + 8u + 1479u) / 1480u;
}

unsigned interop_batch_frames(void)
{
	unsigned n = 0;

	for (int i = 0; i < IX_BATCH; i++)
		n += interop_frames_for(interop_batch_len[i]);
	return n;
}

static uint8_t *batch_buf[IX_BATCH];

static void batch_make(void)
{
	for (int i = 0; i < IX_BATCH; i++) {
		if (batch_buf[i])
			continue;
		batch_buf[i] = malloc(interop_batch_len[i]);
		cr_assert(batch_buf[i], "malloc");
		conf_fill(batch_buf[i], interop_batch_len[i], IX_SEED + (unsigned)i);
	}
}

static void send_batch(const struct sockapi *api, int fd, const struct sockaddr_in *dst)
{
	static struct mmsghdr vec[IX_BATCH];
	static struct iovec iov[IX_BATCH];
	int sent = 0;

	batch_make();
	memset(vec, 0, sizeof(vec));
	for (int i = 0; i < IX_BATCH; i++) {
		iov[i].iov_base = batch_buf[i];
		iov[i].iov_len = interop_batch_len[i];
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
		vec[i].msg_hdr.msg_name = (void *)dst;
		vec[i].msg_hdr.msg_namelen = sizeof(*dst);
	}
	/* a blocking sendmmsg may stop early (a full send buffer between
	 * datagrams); go on from there, a bounded number of times */
	for (int tries = 0; sent < IX_BATCH && tries < 64; tries++) {
		int r = api->sendmmsg(fd, vec + sent, (unsigned)(IX_BATCH - sent), 0);

		cr_assert(r > 0, "%s: sendmmsg at %d: %d (%s)", api->name, sent, r,
			  strerror(errno));
		for (int i = sent; i < sent + r; i++)
			cr_assert(vec[i].msg_len == interop_batch_len[i], "%s: sendmmsg[%d] sent %u of %u",
				  api->name, i, vec[i].msg_len, interop_batch_len[i]);
		sent += r;
	}
	cr_assert(sent == IX_BATCH, "%s: sendmmsg sent %d of %d", api->name, sent, IX_BATCH);
}

void interop_send_batch_kernel(int fd, const struct sockaddr_in *dst)
{
	send_batch(&sockapi_kernel, fd, dst);
}

void interop_send_batch_usock(int fd, const struct sockaddr_in *dst)
{
	send_batch(&sockapi_usock, fd, dst);
}

static int recv_batch(const struct sockapi *api, int fd, int ms, const struct sockaddr_in *from)
{
	static struct mmsghdr vec[IX_BATCH];
	static struct iovec iov[IX_BATCH];
	static struct sockaddr_in src[IX_BATCH];
	static uint8_t *rbuf[IX_BATCH];
	uint64_t deadline = now_ms() + (uint64_t)ms;
	int got = 0;

	batch_make();
	for (int i = 0; i < IX_BATCH; i++) {
		if (!rbuf[i])
			rbuf[i] = malloc(IX_MAXDGRAM + 1);
		cr_assert(rbuf[i], "malloc");
	}
	while (got < IX_BATCH) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint64_t t = now_ms();
		int want = IX_BATCH - got, r;

		if (t >= deadline)
			break;
		r = api->poll(&pf, 1, (int)(deadline - t));
		if (r <= 0)
			continue;
		memset(vec, 0, sizeof(vec));
		for (int i = 0; i < want; i++) {
			iov[i].iov_base = rbuf[i];
			iov[i].iov_len = IX_MAXDGRAM + 1;
			vec[i].msg_hdr.msg_iov = &iov[i];
			vec[i].msg_hdr.msg_iovlen = 1;
			vec[i].msg_hdr.msg_name = &src[i];
			vec[i].msg_hdr.msg_namelen = sizeof(src[i]);
		}
		r = api->recvmmsg(fd, vec, (unsigned)want, MSG_DONTWAIT, NULL);
		if (r < 0) {
			cr_assert(errno == EAGAIN, "%s: recvmmsg: %s", api->name, strerror(errno));
			continue;
		}
		for (int i = 0; i < r; i++, got++) {
			uint32_t want_len = interop_batch_len[got];

			cr_assert(vec[i].msg_len == want_len && !(vec[i].msg_hdr.msg_flags & MSG_TRUNC),
				  "%s: datagram %d: %u bytes (flags %#x), want %u (lost or reordered?)",
				  api->name, got, vec[i].msg_len, vec[i].msg_hdr.msg_flags, want_len);
			cr_assert(memcmp(rbuf[i], batch_buf[got], want_len) == 0,
				  "%s: datagram %d (%u bytes): content differs", api->name, got,
				  want_len);
			cr_assert(vec[i].msg_hdr.msg_namelen == sizeof(struct sockaddr_in) &&
					  src[i].sin_addr.s_addr == from->sin_addr.s_addr &&
					  src[i].sin_port == from->sin_port,
				  "%s: datagram %d from %s:%u", api->name, got,
				  inet_ntoa(src[i].sin_addr), ntohs(src[i].sin_port));
		}
	}
	return got;
}

int interop_recv_batch_kernel(int fd, int ms, const struct sockaddr_in *from)
{
	return recv_batch(&sockapi_kernel, fd, ms, from);
}

int interop_recv_batch_usock(int fd, int ms, const struct sockaddr_in *from)
{
	return recv_batch(&sockapi_usock, fd, ms, from);
}

/* ---- the capture, as tshark sees it ---- */

#define TSHARK_OUT (1u << 20)

static void report_add(struct interop_pcap_stats *st, const char *line)
{
	size_t u = strlen(st->report);

	if (u + strlen(line) + 2 < sizeof(st->report))
		snprintf(st->report + u, sizeof(st->report) - u, "%s\n", line);
}

/* One tab-separated line of the fields pass (see interop_pcap_check). */
static void classify(struct interop_pcap_stats *st, char *line)
{
	char *f[13] = { 0 };
	char *p = line;
	uint8_t src[6], amac[6];
	int n = 0;

	/* strsep keeps empty fields, which tshark prints for absent ones */
	while (n < 13 && (f[n] = strsep(&p, "\t")) != NULL)
		n++;
	if (n < 12)
		return;
	st->frames++;
	for (int i = 7; i <= 9; i++) {
		if (strcmp(f[i], "1") == 0)
			st->csum_good++;
		else if (strcmp(f[i], "0") == 0)
			st->csum_bad++;
	}
	if (parse_mac(f[1], src) != 0) {
		st->other++;
		return;
	}
	bool from_k = memcmp(src, ix.kmac, 6) == 0, from_u = memcmp(src, ix.umac, 6) == 0;
	if (strcmp(f[2], "0x0806") == 0 && (from_k || from_u)) {
		if (parse_mac(f[4], amac) != 0 || memcmp(amac, src, 6) != 0)
			st->arp_bad++;
		if (strcmp(f[3], "1") == 0 && from_u && parse_mac(f[11], amac) == 0 &&
		    memcmp(amac, ix.kmac, 6) == 0)
			st->arp_probe_u++;
		if (strcmp(f[3], "1") == 0)
			from_k ? st->arp_req_k++ : st->arp_req_u++;
		else if (strcmp(f[3], "2") == 0)
			from_k ? st->arp_rep_k++ : st->arp_rep_u++;
		else
			st->arp_bad++;
		return;
	}
	if (strcmp(f[2], "0x0800") == 0 && strcmp(f[6], "1") == 0 && from_k &&
	    strcmp(f[5], IX_KADDR) == 0 && strcmp(f[10], "8") == 0) {
		st->icmp_req++;
		return;
	}
	if (strcmp(f[2], "0x0800") == 0 && strcmp(f[6], "1") == 0 && from_u &&
	    strcmp(f[5], IX_UADDR) == 0 && strcmp(f[10], "0") == 0) {
		st->icmp_rep++;
		return;
	}
	if (strcmp(f[2], "0x0800") == 0 && strcmp(f[6], "17") == 0) {
		if (from_k && strcmp(f[5], IX_KADDR) == 0) {
			st->udp_k2u++;
			return;
		}
		if (from_u && strcmp(f[5], IX_UADDR) == 0) {
			st->udp_u2k++;
			return;
		}
	}
	st->other++;
}

int interop_pcap_check(const char *path, struct interop_pcap_stats *st)
{
	char *argv_bad[] = { "tshark", "-n", "-r", (char *)path,
			     "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
			     /* the payload is test bytes: no heuristic may read it as RTCP */
			     "-d", "udp.port==" IX_STR(IX_KPORT) ",data",
			     "-d", "udp.port==" IX_STR(IX_UPORT) ",data",
			     "-Y", "_ws.malformed || _ws.expert.severity >= warning", NULL };
	char *argv_fields[] = { "tshark", "-n", "-r", (char *)path,
				"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
				"-d", "udp.port==" IX_STR(IX_KPORT) ",data",
				"-d", "udp.port==" IX_STR(IX_UPORT) ",data",
				"-T", "fields", "-E", "separator=/t", "-E", "occurrence=f",
				"-e", "frame.number", "-e", "eth.src", "-e", "eth.type",
				"-e", "arp.opcode", "-e", "arp.src.hw_mac", "-e", "ip.src",
				"-e", "ip.proto", "-e", "ip.checksum.status",
				"-e", "udp.checksum.status", "-e", "icmp.checksum.status",
				"-e", "icmp.type", "-e", "eth.dst", NULL };
	char *out, *line, *save = NULL;
	int r;

	memset(st, 0, sizeof(*st));
	out = malloc(TSHARK_OUT);
	cr_assert(out, "malloc");
	/* stdout only: tshark's warning about root goes to stderr */
	r = run_child(argv_bad, out, TSHARK_OUT, 20000, false);
	if (r != 0) {
		snprintf(st->report, sizeof(st->report), "tshark exit %d: %.1500s", r, out);
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		st->flagged++;
		report_add(st, line);
	}
	r = run_child(argv_fields, out, TSHARK_OUT, 20000, false);
	if (r != 0) {
		snprintf(st->report, sizeof(st->report), "tshark exit %d: %.1500s", r, out);
		free(out);
		return -1;
	}
	save = NULL;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char copy[512];
		unsigned before = st->other;

		snprintf(copy, sizeof(copy), "%s", line);
		classify(st, line);
		if (st->other != before)
			report_add(st, copy);
	}
	free(out);
	return 0;
}
