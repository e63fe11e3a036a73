/* SPDX-License-Identifier: MIT */
/*
 * conf.c - conformance harness: per-test setup/teardown, pending list, helpers
 *
 * Theory of operation.  Criterion runs every test in its own process, so the
 * harness keeps its state in plain statics: which stack the test runs
 * (cur_api) and, for the kernel, an fd of the private network namespace the
 * test made with unshare(CLONE_NEWNET) (the namespace enter("") returns to).
 * The kernel run therefore owns fresh ports, a fresh lo and its own
 * /proc/sys/net; the usock run uses the process's fresh default namespace.
 *
 * Teardown.  Criterion runs .fini after a failed assertion (checked on
 * Criterion 2.4.1), not after a crash or a timeout; topo therefore names its
 * kernel namespaces after the pid and setup deletes those of dead pids.
 * Criterion ignores assertion failures inside .fini, so the usock leak check
 * (every packet buffer back in its pool, in every namespace) is conf_finish,
 * run at the end of the scenario body: a scenario must close its sockets (or
 * drain them, and let queued frames time out) before it returns, or its
 * usock run fails as a leak.  Teardown itself closes nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "usock.h"

#include "sockapi.h"
#include "conf_util.h"

static const struct sockapi *cur_api;

const struct sockapi *conf_api(void)
{
	return cur_api;
}

/* Bring lo up in the calling thread's namespace, as `ip link set lo up`. */
static int lo_up(void)
{
	struct ifreq ifr;
	int fd, ret = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

void conf_setup_kernel(void)
{
	int fd;

	cur_api = &sockapi_kernel;
	topo_clean_stale();
	if (unshare(CLONE_NEWNET) != 0)
		cr_assert_fail("unshare(CLONE_NEWNET): %s (the kernel run needs root)",
			       strerror(errno));
	if (lo_up() != 0)
		cr_assert_fail("lo up: %s", strerror(errno));
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cr_assert_fail("open own netns: %s", strerror(errno));
	topo_set_own_netns(fd);
}

void conf_setup_usock(void)
{
	cur_api = &sockapi_usock;
}

void conf_teardown(void)
{
	if (cur_api == &sockapi_kernel) {
		topo_teardown_kernel();
	} else if (cur_api == &sockapi_usock) {
		usock_netns_set(NULL);
		topo_teardown_usock();
	}
}

/*
 * Find tests/conformance/pending.txt: at the compiled-in source dir if any,
 * else upward from the cwd, else upward from the executable's directory.
 */
static FILE *open_pending(void)
{
	static const char rel[] = "tests/conformance/pending.txt";
	char dir[PATH_MAX], path[PATH_MAX + sizeof(rel) + 1];
	FILE *f;
	ssize_t n;
	char *slash;
	int pass;

#ifdef USOCK_SRCDIR
	snprintf(path, sizeof(path), "%s/%s", USOCK_SRCDIR, rel);
	f = fopen(path, "r");
	if (f)
		return f;
#endif
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0) {
			if (!getcwd(dir, sizeof(dir)))
				continue;
		} else {
			n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
			if (n <= 0)
				continue;
			dir[n] = '\0';
			slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
		}
		for (;;) {
			snprintf(path, sizeof(path), "%s/%s", dir, rel);
			f = fopen(path, "r");
			if (f)
				return f;
			slash = strrchr(dir, '/');
			if (!slash || slash == dir)
				break;
			*slash = '\0';
		}
	}
	return NULL;
}

/*
 * conf_check_pending - skip the running usock test, with its reason, when
 * pending.txt lists it as "suite/name_usock reason" (or "suite/name reason").
 * No return when skipped.
 */
void conf_check_pending(const char *suite, const char *name)
{
	char line[1024], full[256], base[256];
	size_t len, nlen;
	FILE *f;
	char *p, *reason;

	snprintf(full, sizeof(full), "%s/%s", suite, name);
	snprintf(base, sizeof(base), "%s", full);
	nlen = strlen(base);
	if (nlen > 6 && strcmp(base + nlen - 6, "_usock") == 0)
		base[nlen - 6] = '\0';
	f = open_pending();
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		len = strcspn(p, " \t\r\n");
		reason = p + len;
		while (isspace((unsigned char)*reason))
			reason++;
		reason[strcspn(reason, "\r\n")] = '\0';
		if ((len == strlen(full) && strncmp(p, full, len) == 0) ||
		    (len == strlen(base) && strncmp(p, base, len) == 0)) {
			fclose(f);
			cr_skip_test("pending: %s", *reason ? reason : "(no reason given)");
		}
	}
	fclose(f);
}

struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		cr_assert_fail("sin4: bad address %s", ip);
	return a;
}

int bound_udp(const struct sockapi *api, const char *ip, uint16_t port, struct sockaddr_in *out)
{
	struct sockaddr_in a = sin4(ip, port);
	socklen_t l = sizeof(a);
	int fd;

	fd = conf_udp(api);
	cr_assert(api->bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "%s: bind %s:%u: %s",
		  api->name, ip, port, strerror(errno));
	if (out) {
		cr_assert(api->getsockname(fd, (struct sockaddr *)out, &l) == 0,
			  "%s: getsockname: %s", api->name, strerror(errno));
	}
	return fd;
}

/* "net.a.b" -> "/proc/sys/net/a/b"; a '/' in the name stands for a '.' (as sysctl(8)). */
static void sysctl_path(const char *name, char *path, size_t len)
{
	size_t i = 0;
	int n;

	n = snprintf(path, len, "/proc/sys/");
	for (; *name && (size_t)n + i + 1 < len; name++, i++)
		path[n + i] = *name == '.' ? '/' : *name == '/' ? '.' : *name;
	path[n + i] = '\0';
}

/*
 * Kernel side of conf_sysctl/_get: open the file inside host's namespace
 * (setns on this thread, open, setns back: /proc/sys/net resolves the
 * namespace at open time).
 */
static int sysctl_kernel(const char *host, const char *name, const char *val, char *out,
			 size_t outlen)
{
	char path[512];
	int nsfd, back = -1, fd = -1, err = 0;
	ssize_t n;

	nsfd = topo_netns_fd(host ? host : "");
	if (nsfd < 0)
		return errno = ENOENT, -1;
	back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
		err = errno;
		goto out;
	}
	sysctl_path(name, path, sizeof(path));
	fd = open(path, (val ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
	} else if (val) {
		if (write(fd, val, strlen(val)) < 0)
			err = errno;
	} else {
		n = read(fd, out, outlen ? outlen - 1 : 0);
		if (n < 0)
			err = errno;
		else if (outlen)
			out[n] = '\0';
	}
	if (setns(back, CLONE_NEWNET) != 0 && !err)
		err = errno;
out:
	if (fd >= 0)
		close(fd);
	if (back >= 0)
		close(back);
	if (err)
		return errno = err, -1;
	return 0;
}

static int sysctl_any(const struct sockapi *api, const char *host, const char *name,
		      const char *val, char *out, size_t outlen)
{
	struct usock_netns *ns;

	if (api->is_kernel)
		return sysctl_kernel(host, name, val, out, outlen);
	ns = topo_usock_ns(host ? host : "");
	if (!ns)
		return errno = ENOENT, -1;
	if (strncmp(name, "net.", 4) == 0)
		name += 4;
	return usock_sysctl(ns, name, val, out, outlen);
}

int conf_sysctl(const struct sockapi *api, const char *host, const char *name, const char *val)
{
	return sysctl_any(api, host, name, val, NULL, 0);
}

int conf_sysctl_get(const struct sockapi *api, const char *host, const char *name, char *out,
		    size_t outlen)
{
	return sysctl_any(api, host, name, NULL, out, outlen);
}

void *conf_bad_ptr(void)
{
	static void *page;

	if (!page) {
		page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		cr_assert(page != MAP_FAILED, "mmap PROT_NONE: %s", strerror(errno));
	}
	return page;
}

void conf_fill(void *buf, size_t n, unsigned seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

ssize_t conf_recv_wait(const struct sockapi *api, int fd, void *buf, size_t n, int flags, int ms,
		       struct sockaddr_in *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t l = sizeof(*from);
	int r;

	r = api->poll(&p, 1, ms);
	if (r < 0)
		return -1;
	if (r == 0)
		return errno = EAGAIN, -1;
	if (from)
		return api->recvfrom(fd, buf, n, flags | MSG_DONTWAIT, (struct sockaddr *)from,
				     &l);
	return api->recvfrom(fd, buf, n, flags | MSG_DONTWAIT, NULL, NULL);
}

int conf_drain(const struct sockapi *api, int fd)
{
	char b[16];
	int n = 0;

	while (api->recv(fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		n++;
	return n;
}

const char conf_topo_pair[] =
	"host A\n"
	"host B\n"
	"A: link add veth0 type veth peer name veth1 netns B\n"
	"A: addr add 198.18.0.1/24 dev veth0\n"
	"B: addr add 198.18.0.2/24 dev veth1\n"
	"A: link set veth0 up\n"
	"B: link set veth1 up\n";

void conf_expect_dgram(const struct sockapi *api, int fd, const void *want, size_t n)
{
	static uint8_t buf[70000];
	ssize_t r;

	r = conf_recv_wait(api, fd, buf, sizeof(buf), 0, 1000, NULL);
	cr_assert(r >= 0, "%s: expected a datagram of %zu bytes: %s", api->name, n,
		  strerror(errno));
	cr_assert((size_t)r == n, "%s: datagram of %zd bytes, expected %zu", api->name, r, n);
	cr_assert(memcmp(buf, want, n) == 0, "%s: datagram of %zu bytes differs", api->name, n);
}

void conf_expect_none(const struct sockapi *api, int fd)
{
	char b[16];
	ssize_t r;

	r = conf_recv_wait(api, fd, b, sizeof(b), MSG_TRUNC, 20, NULL);
	cr_assert(r == -1 && errno == EAGAIN, "%s: expected no datagram, got %zd bytes",
		  api->name, r);
}

int conf_stalled_sender(const struct sockapi *api, struct sockaddr_in *dst)
{
	int fd, one = 1;

	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	cr_assert(api->topo("A: sysctl net.ipv4.neigh.veth0.retrans_time_ms=300") == 0,
		  "%s: sysctl retrans_time_ms", api->name);
	cr_assert(api->enter("A") == 0, "%s: enter A", api->name);
	fd = conf_udp(api);
	/* Below the minimum: the kernel rounds up to SOCK_MIN_SNDBUF (4608). */
	cr_assert(api->setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) == 0);
	*dst = sin4("198.18.0.9", 1234);
	return fd;
}
