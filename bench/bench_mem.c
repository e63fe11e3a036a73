/* SPDX-License-Identifier: MIT */
/*
 * bench_mem.c - case 6: memory per idle bound UDP socket, kernel and usock
 *
 * Theory of operation.  N sockets are opened and bound on each stack, and
 * the growth of what each stack keeps for them is divided by N.  The
 * kernel's cost is its slab (/proc/meminfo Slab: the sock, the file, the
 * inode, the dentry, LSM blobs), with /proc/slabinfo for a per-cache
 * breakdown and /proc/net/sockstat to show that "mem" counts buffers, not
 * sockets.  usock's cost is its arena (usock_netns_memory, fresh namespace)
 * plus the kernel slab behind the eventfd each usock socket holds.  The
 * counters are system-wide: other activity adds noise, and a slab page freed
 * just before is reused without growing Slab, so the kernel's sockets stay
 * open while usock's are made.  The snapshot and breakdown helpers are
 * shared with case 10 (bench_tcp.c).  Owns nothing past one bench_memory()
 * call.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "usock.h"
#include "bench.h"

#define MEM_SOCKETS	10000		/* idle sockets per stack */

int bench_mem_n = MEM_SOCKETS;

/* ---- kernel counters, shared with case 10 --------------------------------- */

static long proc_field(const char *path, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl)) {
			v = strtol(line + kl, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * Snapshot the system-wide counters into @s; a counter that cannot be read
 * is -1, and the slab breakdown is empty unless /proc/slabinfo is readable
 * (root only).  Return: nothing; only differences of two snapshots mean
 * anything.
 */
void bench_ksnap_take(struct bench_ksnap *s)
{
	char line[512], name[64];
	long long act, num, size;
	FILE *f;

	s->slab_kb = proc_field("/proc/meminfo", "Slab:");
	s->rss_kb = proc_field("/proc/self/status", "VmRSS:");
	s->udp_inuse = s->udp_mem = s->tcp_inuse = s->tcp_alloc = s->tcp_mem = -1;
	f = fopen("/proc/net/sockstat", "r");
	if (f) {
		long orphan, tw;

		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "UDP: inuse %ld mem %ld", &s->udp_inuse, &s->udp_mem);
			sscanf(line, "TCP: inuse %ld orphan %ld tw %ld alloc %ld mem %ld",
			       &s->tcp_inuse, &orphan, &tw, &s->tcp_alloc, &s->tcp_mem);
		}
		fclose(f);
	}
	s->ncache = 0;
	f = fopen("/proc/slabinfo", "r");	/* root only; the breakdown is optional */
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && s->ncache < BENCH_SLAB_MAX) {
		if (sscanf(line, "%63s %lld %lld %lld", name, &act, &num, &size) != 4)
			continue;
		snprintf(s->cache[s->ncache].name, sizeof(s->cache[0].name), "%s", name);
		s->cache[s->ncache++].bytes = act * size;
	}
	fclose(f);
}

struct slab_growth {
	const char *name;
	double per;
};

static int cmp_growth(const void *a, const void *b)
{
	double x = ((const struct slab_growth *)a)->per;
	double y = ((const struct slab_growth *)b)->per;

	return (x < y) - (x > y);
}

/*
 * Per-cache growth between two snapshots, in bytes per socket, largest
 * first, as "UDP 1344 + filp 192 ... = N B" into @out.  Caches that grew by
 * less than 8 B per socket are left out as noise.  Return: nothing; @out
 * is empty when nothing grew (or slabinfo was unreadable).
 */
void bench_slab_breakdown(const struct bench_ksnap *a, const struct bench_ksnap *b, int n,
			  char *out, size_t len)
{
	static struct slab_growth g[BENCH_SLAB_MAX];
	int i, j, ng = 0;
	double sum = 0;
	size_t o = 0;

	out[0] = 0;
	for (i = 0; i < b->ncache; i++) {
		long long before = 0;

		for (j = 0; j < a->ncache; j++)
			if (!strcmp(a->cache[j].name, b->cache[i].name)) {
				before = a->cache[j].bytes;
				break;
			}
		g[ng].name = b->cache[i].name;
		g[ng].per = (double)(b->cache[i].bytes - before) / n;
		if (g[ng].per >= 8) {
			sum += g[ng].per;
			ng++;
		}
	}
	qsort(g, (size_t)ng, sizeof(g[0]), cmp_growth);
	for (i = 0; i < ng && i < 6 && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s %.0f", i ? " + " : "",
				      g[i].name, g[i].per);
	if (ng > 6 && o < len)
		o += (size_t)snprintf(out + o, len - o, " + ...");
	if (ng && o < len)
		snprintf(out + o, len - o, " = %.0f B", sum);
}

/* ---- case 6: memory per idle bound socket -------------------------------- */

/*
 * Open and bind @n UDP sockets into @fds.
 * Return: how many are open; on a failure @r holds the error.
 */
static int open_idle(const struct bench_stack *st, int *fds, int n, struct bench_result *r)
{
	struct sockaddr_in sa;
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = bench_udp_bound(st, &sa, r);
		if (fds[i] < 0)
			break;
	}
	return i;
}

/*
 * Make room for @need descriptors (root may raise the hard limit too).
 * Return: the soft limit now in force.
 */
long bench_raise_nofile(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if ((long)rl.rlim_cur >= need)
		return (long)rl.rlim_cur;
	if ((long)rl.rlim_max < need) {
		struct rlimit want = { (rlim_t)need, (rlim_t)need };

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return need;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return (long)rl.rlim_cur;
}

/*
 * Case 6, both stacks in one go.  The kernel's sockets stay open while
 * usock's are made, so neither reuses slab pages the other just freed.
 *   kernel: /proc/meminfo Slab growth / N (sock, file, inode, dentry, LSM
 *           blobs); /proc/net/sockstat "mem" is buffer pages, shown to be 0.
 *   usock:  usock_netns_memory() growth / N in a fresh namespace, plus the
 *           Slab growth of the kernel objects behind its descriptors.
 */
void bench_memory(struct bench_result *rk, struct bench_result *ru)
{
	static struct bench_ksnap s0, s1, s1b, s2;
	struct usock_netns *ns = NULL;
	int *kfd, *ufd, nk = 0, nu = 0, n, i;
	size_t m0 = 0, m1 = 0;
	char brk[160];

	n = bench_mem_fit(bench_mem_n, 2, rk, ru);
	if (n < 0)
		return;
	bench_mem_n = n;
	kfd = calloc((size_t)n, sizeof(int));
	ufd = calloc((size_t)n, sizeof(int));
	if (!kfd || !ufd) {
		bench_set_err(rk, "malloc", ENOMEM);
		bench_set_err(ru, "malloc", ENOMEM);
		goto out;
	}
	bench_watchdog_arm("the memory case", 120);

	bench_ksnap_take(&s0);
	nk = open_idle(&bench_kernel, kfd, n, rk);
	bench_ksnap_take(&s1);
	if (nk == n) {
		rk->ok = true;
		rk->val[0] = (double)(s1.slab_kb - s0.slab_kb) * 1024 / n;
		bench_slab_breakdown(&s0, &s1, n, brk, sizeof(brk));
		snprintf(rk->note, sizeof(rk->note),
			 "kernel %.0f B/socket = Slab growth (sock, file, inode, dentry, LSM)\n"
			 "    slab objects: %s\n"
			 "    sockstat UDP inuse %+ld, mem %+ld pages (mem counts buffers only)",
			 rk->val[0], brk[0] ? brk : "/proc/slabinfo unreadable",
			 s1.udp_inuse - s0.udp_inuse, s1.udp_mem - s0.udp_mem);
	}

	ns = bench_mem_ns("bench-mem", &m0, &s1b, ru);
	if (!ns)
		goto out;
	nu = open_idle(&bench_usock, ufd, n, ru);
	m1 = usock_netns_memory(ns);
	bench_ksnap_take(&s2);
	if (nu == n)
		bench_mem_usock(ru, m0, m1, &s1b, &s2, n, "socket", "");
out:
	for (i = 0; i < nu; i++)
		usock_close(ufd[i]);
	if (ns) {
		usock_netns_set(NULL);
		usock_netns_free(ns);
	}
	for (i = 0; i < nk; i++)
		close(kfd[i]);
	free(kfd);
	free(ufd);
	bench_watchdog_off();
}

