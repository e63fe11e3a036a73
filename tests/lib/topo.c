/* SPDX-License-Identifier: MIT */
/*
 * topo.c - hosts, topology text, time and packet capture for both stacks
 *
 * Theory of operation.  One test process builds at most TOPO_MAX_HOSTS
 * hosts from topology text (see sockapi.h).  Kernel: each host is a named
 * network namespace "uc<pid>_<host>" made by `ip netns add`; every other
 * line runs `ip -n uc<pid>_<host> ...` (fork + exec, no shell) with each
 * "netns B" rewritten to B's unique name, and "sysctl k=v" writes
 * /proc/sys inside the host.  The pid in the name keeps parallel tests
 * apart and lets a later test delete what a crashed one left behind
 * (topo_clean_stale); teardown deletes this test's namespaces.  usock: each
 * host is a usock namespace on virtual time, configured by usock_ip() and
 * usock_sysctl() from the same text; sleep_ms steps the virtual clocks of
 * every host by at most 10 ms at a time, so timers of different hosts fire
 * in order.  Each thread remembers the host it last entered (topo_current),
 * so that a helper that has to act from another host can come back.
 *
 * Capture: kernel, an AF_PACKET socket (ETH_P_ALL, both directions) made
 * inside the host and bound to the device, drained by capture_take; usock,
 * usock_pcap_open() into a temporary file that capture_take parses from
 * where the previous take stopped.  Either way a take returns the frames
 * since the previous take.  The kernel's take waits until no frame has come
 * for CAP_QUIET_MS, so frames still in a softirq are not missed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "usock.h"

#include "sockapi.h"

#define TOPO_MAX_HOSTS 8
#define TOPO_MAX_CAPS 16
#define TOPO_MAX_ARGS 64
#define CAP_QUIET_MS 30

struct topo_host {
	char name[32];
	char uniq[48];			/* kernel: uc<pid>_<name> */
	int nsfd;			/* kernel: fd of /run/netns/<uniq> */
	struct usock_netns *uns;	/* usock */
};

struct topo_cap {
	bool used;
	int fd;				/* kernel: the packet socket */
	char path[64];			/* usock: the pcap file */
	long off;			/* usock: where the next record starts */
	bool swapped, nsec;		/* usock: pcap byte order and time unit */
};

static struct topo_host hosts[TOPO_MAX_HOSTS];
static int nhosts;
/* the host this thread last entered ("": the test's own), for topo_current */
static __thread char cur_host[32];
static int own_netns = -1;
static struct topo_cap caps[TOPO_MAX_CAPS];

void topo_set_own_netns(int fd)
{
	own_netns = fd;
}

static struct topo_host *host_find(const char *name)
{
	int i;

	for (i = 0; i < nhosts; i++)
		if (strcmp(hosts[i].name, name) == 0)
			return &hosts[i];
	return NULL;
}

int topo_netns_fd(const char *host)
{
	struct topo_host *h;

	if (!host || !*host)
		return own_netns;
	h = host_find(host);
	return h ? h->nsfd : -1;
}

struct usock_netns *topo_usock_ns(const char *host)
{
	struct topo_host *h;

	if (!host || !*host)
		return usock_netns_default();
	h = host_find(host);
	return h ? h->uns : NULL;
}

/* run - fork and exec argv (no shell). Return: 0 if it exited 0, else -1. */
static int run(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int ip_netns(const char *verb, const char *name)
{
	char *argv[] = { "ip", "netns", (char *)verb, (char *)name, NULL };

	return run(argv);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One stack's way of carrying out the three kinds of topology line. */
struct topo_ops {
	int (*add_host)(struct topo_host *h);
	int (*ip)(struct topo_host *h, char *cmd);
	int (*sysctl)(struct topo_host *h, const char *key, const char *val);
};

/*
 * topo_run - carry out topology text with ops.  Return: 0, or -1 after
 * printing the line that failed.
 */
static int topo_run(const char *text, const struct topo_ops *ops)
{
	char *copy, *line, *save = NULL, *colon, *rest, *eq;
	char orig[512] = "";
	struct topo_host *h;
	int ret = 0;

	copy = strdup(text);
	if (!copy)
		return -1;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line);

		if (!*l || *l == '#')
			continue;
		snprintf(orig, sizeof(orig), "%s", l);
		if (strncmp(l, "host ", 5) == 0) {
			char *name = trim(l + 5);

			if (nhosts == TOPO_MAX_HOSTS || strlen(name) >= sizeof(h->name) ||
			    host_find(name)) {
				ret = -1;
				goto bad;
			}
			h = &hosts[nhosts];
			memset(h, 0, sizeof(*h));
			h->nsfd = -1;
			strcpy(h->name, name);
			if (ops->add_host(h) != 0) {
				ret = -1;
				goto bad;
			}
			nhosts++;
			continue;
		}
		colon = strchr(l, ':');
		if (!colon) {
			ret = -1;
			goto bad;
		}
		*colon = '\0';
		h = host_find(trim(l));
		rest = trim(colon + 1);
		if (!h) {
			ret = -1;
			goto bad;
		}
		if (strncmp(rest, "sysctl ", 7) == 0) {
			rest = trim(rest + 7);
			eq = strchr(rest, '=');
			if (!eq) {
				ret = -1;
			} else {
				*eq = '\0';
				ret = ops->sysctl(h, trim(rest), trim(eq + 1));
			}
		} else {
			ret = ops->ip(h, rest);
		}
		if (ret != 0)
			goto bad;
	}
	free(copy);
	return 0;
bad:
	fprintf(stderr, "topo: failed: %s\n", orig);
	free(copy);
	return ret;
}

static int k_add_host(struct topo_host *h)
{
	char path[96];
	char *argv[] = { "ip", "-n", h->uniq, "link", "set", "lo", "up", NULL };

	snprintf(h->uniq, sizeof(h->uniq), "uc%d_%s", (int)getpid(), h->name);
	if (ip_netns("add", h->uniq) != 0)
		return -1;
	snprintf(path, sizeof(path), "/run/netns/%s", h->uniq);
	h->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (h->nsfd < 0)
		return -1;
	return run(argv);
}

static int k_ip(struct topo_host *h, char *cmd)
{
	char *argv[TOPO_MAX_ARGS + 4], *save = NULL, *tok;
	struct topo_host *peer;
	int n = 0;

	argv[n++] = "ip";
	argv[n++] = "-n";
	argv[n++] = h->uniq;
	for (tok = strtok_r(cmd, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == TOPO_MAX_ARGS)
			return -1;
		if (n > 3 && strcmp(argv[n - 1], "netns") == 0 && (peer = host_find(tok)))
			tok = peer->uniq;
		argv[n++] = tok;
	}
	argv[n] = NULL;
	return run(argv);
}

static int k_sysctl(struct topo_host *h, const char *key, const char *val)
{
	return conf_sysctl(&sockapi_kernel, h->name, key, val);
}

static const struct topo_ops kernel_ops = { k_add_host, k_ip, k_sysctl };

int topo_kernel(const char *text)
{
	return topo_run(text, &kernel_ops);
}

static int u_add_host(struct topo_host *h)
{
	h->uns = usock_netns_new(h->name, USOCK_NETNS_VIRTUAL_TIME);
	return h->uns ? 0 : -1;
}

static int u_ip(struct topo_host *h, char *cmd)
{
	return usock_ip(h->uns, cmd, NULL, 0);
}

static int u_sysctl(struct topo_host *h, const char *key, const char *val)
{
	if (strncmp(key, "net.", 4) == 0)
		key += 4;
	return usock_sysctl(h->uns, key, val, NULL, 0);
}

static const struct topo_ops usock_ops = { u_add_host, u_ip, u_sysctl };

int topo_usock(const char *text)
{
	return topo_run(text, &usock_ops);
}

/* Remember host as the calling thread's current one (after a successful enter). */
static void set_current(const char *host)
{
	snprintf(cur_host, sizeof(cur_host), "%s", host ? host : "");
}

const char *topo_current(void)
{
	return cur_host;
}

int topo_enter_kernel(const char *host)
{
	int fd = topo_netns_fd(host);

	if (fd < 0)
		return errno = ENOENT, -1;
	if (setns(fd, CLONE_NEWNET) != 0)
		return -1;
	set_current(host);
	return 0;
}

int topo_enter_usock(const char *host)
{
	struct topo_host *h;

	if (!host || !*host) {
		usock_netns_set(NULL);
		set_current("");
		return 0;
	}
	h = host_find(host);
	if (!h)
		return errno = ENOENT, -1;
	usock_netns_set(h->uns);
	set_current(host);
	return 0;
}

static void real_sleep(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

void topo_sleep_kernel(unsigned ms)
{
	real_sleep(ms);
}

void topo_sleep_usock(unsigned ms)
{
	unsigned step;
	int i;

	if (nhosts == 0) {
		real_sleep(ms);
		return;
	}
	while (ms) {
		step = ms < 10 ? ms : 10;
		for (i = 0; i < nhosts; i++)
			usock_clock_advance(hosts[i].uns, (uint64_t)step * 1000000u);
		ms -= step;
	}
}

static int cap_alloc(void)
{
	int i;

	for (i = 0; i < TOPO_MAX_CAPS; i++) {
		if (!caps[i].used) {
			memset(&caps[i], 0, sizeof(caps[i]));
			caps[i].used = true;
			caps[i].fd = -1;
			return i;
		}
	}
	return -1;
}

int topo_capture_start_kernel(const char *host, const char *dev)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int nsfd, back, fd = -1, c, size = 8 << 20;

	nsfd = topo_netns_fd(host);
	if (nsfd < 0 || strlen(dev) >= IFNAMSIZ)
		return -1;
	c = cap_alloc();
	if (c < 0)
		return -1;
	back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0 || setns(nsfd, CLONE_NEWNET) != 0)
		goto fail;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (setns(back, CLONE_NEWNET) != 0 || fd < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, dev);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		goto fail;
	close(back);
	caps[c].fd = fd;
	return c;
fail:
	if (fd >= 0)
		close(fd);
	if (back >= 0)
		close(back);
	caps[c].used = false;
	return -1;
}

/* Append a copy of data to *frames (grown by doubling). Return: 0 or -1. */
static int frame_push(struct frame **frames, int *n, int *cap, const void *data, size_t len)
{
	struct frame *f;

	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 16;

		f = realloc(*frames, (size_t)nc * sizeof(**frames));
		if (!f)
			return -1;
		*frames = f;
		*cap = nc;
	}
	f = &(*frames)[*n];
	f->data = malloc(len ? len : 1);
	if (!f->data)
		return -1;
	memcpy(f->data, data, len);
	f->len = len;
	(*n)++;
	return 0;
}

int topo_capture_take_kernel(int handle, struct frame **frames)
{
	static uint8_t buf[1 << 17];
	struct pollfd p;
	int n = 0, cap = 0;
	ssize_t r;

	*frames = NULL;
	if (handle < 0 || handle >= TOPO_MAX_CAPS || !caps[handle].used)
		return -1;
	p.fd = caps[handle].fd;
	p.events = POLLIN;
	while (poll(&p, 1, CAP_QUIET_MS) > 0) {
		while ((r = recv(p.fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			if (frame_push(frames, &n, &cap, buf, (size_t)r) != 0) {
				capture_free(*frames, n);
				*frames = NULL;
				return -1;
			}
		}
	}
	return n;
}

int topo_capture_start_usock(const char *host, const char *dev)
{
	struct usock_netns *ns = topo_usock_ns(host);
	int c, fd;

	if (!ns)
		return -1;
	c = cap_alloc();
	if (c < 0)
		return -1;
	strcpy(caps[c].path, "/tmp/usock-cap-XXXXXX");
	fd = mkstemp(caps[c].path);
	if (fd < 0) {
		caps[c].used = false;
		return -1;
	}
	close(fd);
	if (usock_pcap_open(ns, dev, caps[c].path) != 0) {
		unlink(caps[c].path);
		caps[c].used = false;
		return -1;
	}
	return c;
}

static uint32_t get32(const uint8_t *p, bool swapped)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

/*
 * A minimal pcap reader: the 24-byte file header (magic a1b2c3d4 for
 * microseconds, a1b23c4d for nanoseconds, either byte order), then records
 * of a 16-byte header (seconds, fraction, captured length, original length)
 * and the frame.  A record not yet written whole is left for the next take.
 */
int topo_capture_take_usock(int handle, struct frame **frames)
{
	struct topo_cap *c;
	uint8_t hdr[24];
	uint8_t *data = NULL;
	uint32_t magic, incl;
	int n = 0, cap = 0;
	FILE *f;

	*frames = NULL;
	if (handle < 0 || handle >= TOPO_MAX_CAPS || !caps[handle].used)
		return -1;
	c = &caps[handle];
	f = fopen(c->path, "rb");
	if (!f)
		return -1;
	if (c->off == 0) {
		if (fread(hdr, 1, 24, f) != 24) {
			fclose(f);
			return 0;
		}
		memcpy(&magic, hdr, 4);
		if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
			c->swapped = false;
		} else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
			c->swapped = true;
			magic = __builtin_bswap32(magic);
		} else {
			fclose(f);
			return -1;
		}
		c->nsec = magic == 0xa1b23c4d;
		c->off = 24;
	}
	if (fseek(f, c->off, SEEK_SET) != 0)
		goto fail;
	for (;;) {
		if (fread(hdr, 1, 16, f) != 16)
			break;
		incl = get32(hdr + 8, c->swapped);
		if (incl > (1u << 20))
			goto fail;
		data = malloc(incl ? incl : 1);
		if (!data)
			goto fail;
		if (fread(data, 1, incl, f) != incl)
			break;
		if (frame_push(frames, &n, &cap, data, incl) != 0)
			goto fail;
		free(data);
		data = NULL;
		c->off += 16 + (long)incl;
	}
	free(data);
	fclose(f);
	return n;
fail:
	free(data);
	fclose(f);
	capture_free(*frames, n);
	*frames = NULL;
	return -1;
}

void capture_free(struct frame *f, int n)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < n; i++)
		free(f[i].data);
	free(f);
}

void topo_clean_stale(void)
{
	struct dirent *e;
	DIR *d;
	int pid;

	d = opendir("/run/netns");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "uc%d_", &pid) != 1 || pid <= 0 || pid == getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		ip_netns("del", e->d_name);
	}
	closedir(d);
}

void topo_teardown_kernel(void)
{
	int i;

	for (i = 0; i < TOPO_MAX_CAPS; i++) {
		if (caps[i].used && caps[i].fd >= 0)
			close(caps[i].fd);
		caps[i].used = false;
	}
	if (own_netns >= 0)
		setns(own_netns, CLONE_NEWNET);
	for (i = 0; i < nhosts; i++) {
		if (hosts[i].nsfd >= 0)
			close(hosts[i].nsfd);
		ip_netns("del", hosts[i].uniq);
	}
	nhosts = 0;
}

void topo_teardown_usock(void)
{
	int i;

	for (i = 0; i < TOPO_MAX_CAPS; i++) {
		if (caps[i].used && caps[i].path[0])
			unlink(caps[i].path);
		caps[i].used = false;
	}
	nhosts = 0;
}
