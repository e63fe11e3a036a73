/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the kernel and usock side by side in one process: UDP and TCP rates, RTT, memory
 *
 * Theory of operation.  Every case is written once against struct
 * bench_stack, a table of the socket calls it needs, and run with the
 * kernel's calls (libc) and with usock's (usock_*), the two alternating, and
 * starting with usock on odd runs when --runs asks for several.  One row per
 * figure: kernel, usock, and the ratio "how many times better usock is"
 * (rates usock/kernel; times and bytes kernel/usock), next to the target the
 * design sets where it sets one.  Cases 1-5 live in bench_udp.c, case 6 in
 * bench_mem.c, cases 7-10 (TCP) in bench_tcp.c, and what they run alike
 * (thread pairs, the measured window, latency samples, memory set-up) in
 * bench_common.c; this file holds the call tables, the low-level helpers
 * (threads, failures, the watchdog), the table and main().
 *
 * Nothing can hang the run for long: the cases bound every wait, and an
 * alarm() ends the process if the main thread itself is stuck in a call.  A
 * call that fails makes that stack's column "n/a" with the errno name; the
 * other stack still runs.  Owns the results of every run until they are
 * printed (a static table, NCASES x 2 x MAX_RUNS).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "usock.h"
#include "bench.h"

#define NCASES		10
#define MAX_RUNS	20

/*
 * glibc declares some of these with a transparent union for the address, so
 * its functions do not convert to the plain pointer types of bench.h; these
 * wrappers cost one direct call, the same for every case.
 */
static int k_socket(int d, int t, int p) { return socket(d, t, p); }
static int k_bind(int fd, const struct sockaddr *a, socklen_t l) { return bind(fd, a, l); }
static int k_connect(int fd, const struct sockaddr *a, socklen_t l) { return connect(fd, a, l); }
static int k_getsockname(int fd, struct sockaddr *a, socklen_t *l) { return getsockname(fd, a, l); }
static int k_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int f)
{
	return sendmmsg(fd, v, n, f);
}
static int k_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t)
{
	return recvmmsg(fd, v, n, f, t);
}
static ssize_t k_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
			socklen_t l)
{
	return sendto(fd, b, n, f, a, l);
}
static ssize_t k_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
	return recvfrom(fd, b, n, f, a, l);
}
static int k_close(int fd) { return close(fd); }
static int k_setsockopt(int fd, int lv, int nm, const void *v, socklen_t l)
{
	return setsockopt(fd, lv, nm, v, l);
}
static int k_getsockopt(int fd, int lv, int nm, void *v, socklen_t *l)
{
	return getsockopt(fd, lv, nm, v, l);
}
static int k_poll(struct pollfd *p, nfds_t n, int ms) { return poll(p, n, ms); }
static int k_listen(int fd, int backlog) { return listen(fd, backlog); }
static int k_accept4(int fd, struct sockaddr *a, socklen_t *l, int f)
{
	return accept4(fd, a, l, f);
}
static ssize_t k_send(int fd, const void *b, size_t n, int f) { return send(fd, b, n, f); }
static ssize_t k_recv(int fd, void *b, size_t n, int f) { return recv(fd, b, n, f); }

const struct bench_stack bench_kernel = {
	.name = "kernel",
	.socket = k_socket,
	.bind = k_bind,
	.connect = k_connect,
	.getsockname = k_getsockname,
	.sendmmsg = k_sendmmsg,
	.recvmmsg = k_recvmmsg,
	.sendto = k_sendto,
	.recvfrom = k_recvfrom,
	.close = k_close,
	.setsockopt = k_setsockopt,
	.getsockopt = k_getsockopt,
	.poll = k_poll,
	.listen = k_listen,
	.accept4 = k_accept4,
	.send = k_send,
	.recv = k_recv,
};

const struct bench_stack bench_usock = {
	.name = "usock",
	.socket = usock_socket,
	.bind = usock_bind,
	.connect = usock_connect,
	.getsockname = usock_getsockname,
	.sendmmsg = usock_sendmmsg,
	.recvmmsg = usock_recvmmsg,
	.sendto = usock_sendto,
	.recvfrom = usock_recvfrom,
	.close = usock_close,
	.setsockopt = usock_setsockopt,
	.getsockopt = usock_getsockopt,
	.poll = usock_poll,
	.listen = usock_listen,
	.accept4 = usock_accept4,
	.send = usock_send,
	.recv = usock_recv,
};

static const struct bench_case cases[NCASES] = {
	{ 1, "udp 64B batch 1", 1, 64 },
	{ 2, "udp 64B batch 64", 64, 64 },
	{ 3, "udp 64B batch 1024", 1024, 64 },
	{ 4, "udp 1400B batch 64", 64, 1400 },
	{ 5, "udp 1B ping-pong", 0, 1 },
	{ 6, "idle socket memory", 0, 0 },
	{ 7, "tcp bulk 64 KiB sends", 0, BENCH_TCP_WRITE },
	{ 8, "tcp 1B request/response", 0, 1 },
	{ 9, "tcp connect/accept/close", 0, 0 },
	{ 10, "idle tcp connection memory", 0, 0 },
};

enum fmt { F_RATE, F_GBPS, F_US, F_BYTES };

/* One printed line: which figure of which case, and which way is better. */
struct row {
	int cid;
	const char *label;
	int vi;
	bool lower_better;
	enum fmt fmt;
	double target;		/* ratio usock must reach, 0: none */
	const char *ttext;
};

static const struct row rows[] = {
	{ 1, "1 udp 64B batch 1 (msg/s)", 0, false, F_RATE, 0, "" },
	{ 2, "2 udp 64B batch 64 (msg/s)", 0, false, F_RATE, 10, ">= 10x" },
	{ 3, "3 udp 64B batch 1024 (msg/s)", 0, false, F_RATE, 0, "" },
	{ 4, "4 udp 1400B batch 64 (msg/s)", 0, false, F_RATE, 0, "" },
	{ 4, "4 udp 1400B batch 64 (Gbit/s)", 1, false, F_GBPS, 0, "" },
	{ 5, "5 udp 1B ping-pong p50 (us/RTT)", 0, true, F_US, 5, ">= 5x (RTT<=1/5)" },
	{ 5, "5 udp 1B ping-pong p99 (us/RTT)", 1, true, F_US, 0, "" },
	{ 5, "5 udp 1B ping-pong (RTT/s)", 2, false, F_RATE, 0, "" },
	{ 6, "6 idle bound UDP socket (B)", 0, true, F_BYTES, 0, "" },
	{ 7, "7 tcp bulk 64KiB sends (Gbit/s)", 0, false, F_GBPS, 3, ">= 3x" },
	{ 8, "8 tcp 1B req/resp (trans/s)", 0, false, F_RATE, 5, ">= 5x" },
	{ 8, "8 tcp 1B req/resp p50 (us)", 1, true, F_US, 0, "" },
	{ 8, "8 tcp 1B req/resp p99 (us)", 2, true, F_US, 0, "" },
	{ 9, "9 tcp connect+accept+close (/s)", 0, false, F_RATE, 0, "" },
	{ 10, "10 idle TCP connection (B)", 0, true, F_BYTES, 0, "" },
};

double bench_seconds = 1.0;
double bench_warmup = 0.2;
int bench_cpu[2] = { -1, -1 };
bool bench_hung;
static int g_runs = 1;

/* ---- helpers the cases share --------------------------------------------- */

const char *bench_errname(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

void bench_set_err(struct bench_result *r, const char *call, int e)
{
	r->ok = false;
	snprintf(r->err, sizeof(r->err), "%s: %s", call, bench_errname(e));
}

static const char *g_watch_what = "";
static char g_watch_case[48];	/* "case N on STACK", set by main() before each run */

static void watchdog_fire(int sig)
{
	static const char m1[] = "\nbench: stuck in ";
	static const char m2[] = " (a call did not return); giving up\n";
	ssize_t rc;

	(void)sig;
	rc = write(2, m1, sizeof(m1) - 1);
	rc = write(2, g_watch_what, strlen(g_watch_what));
	rc = write(2, ", ", 2);
	rc = write(2, g_watch_case, strlen(g_watch_case));
	rc = write(2, m2, sizeof(m2) - 1);
	(void)rc;
	_exit(3);
}

/* Arm the last-resort alarm for a stretch the main thread itself may hang in. */
void bench_watchdog_arm(const char *what, double secs)
{
	g_watch_what = what;
	alarm((unsigned)secs + 1);
}

void bench_watchdog_off(void)
{
	alarm(0);
}

/*
 * A UDP socket bound to 127.0.0.1 port 0; its address in @sa.
 * Return: the fd, or -1 with @r's error set.
 */
int bench_udp_bound(const struct bench_stack *st, struct sockaddr_in *sa,
		    struct bench_result *r)
{
	socklen_t len = sizeof(*sa);
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = st->socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		bench_set_err(r, "socket", errno);
		return -1;
	}
	if (st->bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0) {
		bench_set_err(r, "bind", errno);
		goto fail;
	}
	if (st->getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
		bench_set_err(r, "getsockname", errno);
		goto fail;
	}
	return fd;
fail:
	st->close(fd);
	return -1;
}

/* ---- threads: start, stop, report ---------------------------------------- */

/* Monotonic seconds.  Return: the time. */
double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Monotonic nanoseconds.  Return: the time. */
uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Record "call: ENAME" in @t unless a failure is already there. */
void bench_tfail_set(struct bench_tfail *t, const char *call, int e)
{
	if (atomic_exchange(&t->claim, 1) == 0) {
		snprintf(t->err, sizeof(t->err), "%s: %s", call, bench_errname(e));
		atomic_store(&t->failed, true);
	}
}

/* Record @msg in @t unless a failure is already there. */
void bench_tfail_msg(struct bench_tfail *t, const char *msg)
{
	if (atomic_exchange(&t->claim, 1) == 0) {
		snprintf(t->err, sizeof(t->err), "%s", msg);
		atomic_store(&t->failed, true);
	}
}

/*
 * Sleep until @t (monotonic seconds) unless @f reports a failure first.
 * Return: true at @t, false on the failure.
 */
bool bench_sleep_until(double t, struct bench_tfail *f)
{
	for (;;) {
		double left = t - bench_now_s();
		struct timespec ts;

		if (atomic_load(&f->failed))
			return false;
		if (left <= 0)
			return true;
		if (left > 0.01)
			left = 0.01;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* Start @fn pinned to @cpu (-1: anywhere).  Return: 0 or a positive errno. */
int bench_start_thread(pthread_t *t, int cpu, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	pthread_attr_init(&attr);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

/* Join @t within @secs.  Return: false when the thread did not stop. */
bool bench_join_within(pthread_t t, double secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)secs;
	ts.tv_nsec += (long)((secs - (time_t)secs) * 1e9);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(t, NULL, &ts) == 0)
		return true;
	bench_hung = true;
	return false;
}

/* Poll one descriptor of @st for @ev.  Return: poll()'s result, errno set on -1. */
int bench_wait_fd(const struct bench_stack *st, int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return st->poll(&p, 1, ms);
}

/* ---- the table ----------------------------------------------------------- */

static struct bench_result res[NCASES][2][MAX_RUNS];

static void fmt_val(char *b, size_t n, enum fmt f, double v)
{
	switch (f) {
	case F_RATE:
		if (v >= 1e9)
			snprintf(b, n, "%.2f G", v / 1e9);
		else if (v >= 1e6)
			snprintf(b, n, "%.2f M", v / 1e6);
		else if (v >= 1e3)
			snprintf(b, n, "%.1f k", v / 1e3);
		else
			snprintf(b, n, "%.0f", v);
		break;
	case F_GBPS:
		snprintf(b, n, "%.3f", v);
		break;
	case F_US:
		snprintf(b, n, v >= 100 ? "%.0f" : "%.2f", v);
		break;
	case F_BYTES:
		snprintf(b, n, "%.0f", v);
		break;
	}
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The median of one figure over the runs of one stack, and its spread
 * ((max - min) / median, %).  Return: false if any run failed.
 */
static bool summarize(int ci, int s, int nruns, int vi, double *med, double *spread)
{
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < nruns; i++) {
		if (!res[ci][s][i].ok)
			return false;
		v[i] = vi < 0 ? res[ci][s][i].loss : res[ci][s][i].val[vi];
	}
	qsort(v, (size_t)nruns, sizeof(v[0]), cmp_dbl);
	*med = nruns % 2 ? v[nruns / 2] : (v[nruns / 2 - 1] + v[nruns / 2]) / 2;
	*spread = *med > 0 ? 100 * (v[nruns - 1] - v[0]) / *med : 0;
	return true;
}

/*
 * The first failed run's error as the cell shows it: the errno name of
 * "call: ENAME", "hung" for a thread that did not stop, else "error".
 */
static const char *na_cell(int ci, int s, int nruns, char *b, size_t n)
{
	const char *e = "error", *err, *p;
	int i;

	for (i = 0; i < nruns; i++) {
		if (res[ci][s][i].ok)
			continue;
		err = res[ci][s][i].err;
		p = strrchr(err, ' ');
		if (strstr(err, "did not stop"))
			e = "hung";
		else if (p && p[1] == 'E' && strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
			 strlen(p + 1))
			e = p + 1;
		break;
	}
	snprintf(b, n, "n/a %.15s", e);
	return b;
}

/* One aligned table line, without trailing blanks. */
static void print_line(const char *label, const char *k, const char *u, const char *ratio,
		       const char *target, const char *note)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "%-33s %-19s %-19s %-8s %-24s %s", label, k, u,
		     ratio, target, note);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = 0;
	puts(line);
}

static void print_rows(int ci, int nruns)
{
	char kc[32], uc[32], rc[32], tc[48], note[160], tmp[64];
	double km, ks, um, us, ratio;
	bool kok, uok;
	size_t i, o;
	int s;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *rw = &rows[i];

		if (rw->cid != cases[ci].id)
			continue;
		kok = summarize(ci, 0, nruns, rw->vi, &km, &ks);
		uok = summarize(ci, 1, nruns, rw->vi, &um, &us);
		if (kok)
			fmt_val(kc, sizeof(kc), rw->fmt, km);
		else
			na_cell(ci, 0, nruns, kc, sizeof(kc));
		if (uok)
			fmt_val(uc, sizeof(uc), rw->fmt, um);
		else
			na_cell(ci, 1, nruns, uc, sizeof(uc));
		snprintf(rc, sizeof(rc), "-");
		snprintf(tc, sizeof(tc), "%s", rw->ttext);
		if (kok && uok && km > 0 && um > 0) {
			ratio = rw->lower_better ? km / um : um / km;
			snprintf(rc, sizeof(rc), ratio < 10 ? "%.2fx" : "%.1fx", ratio);
			if (rw->target > 0)
				snprintf(tc, sizeof(tc), "%s %s", rw->ttext,
					 ratio >= rw->target ? "met" : "MISSED");
		}

		/* notes: losses on a case's first row, run-to-run spread on every row */
		o = 0;
		note[0] = 0;
		if (rw->vi == 0 && cases[ci].id <= 5) {
			bool pct = cases[ci].id <= 4;

			o += (size_t)snprintf(note + o, sizeof(note) - o, "%s",
					      pct ? "drops" : "lost");
			for (s = 0; s < 2; s++) {
				double m, sp;

				if (summarize(ci, s, nruns, -1, &m, &sp))
					snprintf(tmp, sizeof(tmp), pct ? "%.1f%%" : "%.0f", m);
				else
					snprintf(tmp, sizeof(tmp), "-");
				o += (size_t)snprintf(note + o, sizeof(note) - o, " %c %s",
						      s ? 'u' : 'k', tmp);
			}
		}
		if (nruns > 1 && (kok || uok) && o < sizeof(note)) {
			o += (size_t)snprintf(note + o, sizeof(note) - o, "%sspread", o ? "; " : "");
			if (kok && o < sizeof(note))
				o += (size_t)snprintf(note + o, sizeof(note) - o, " k %.1f%%", ks);
			if (uok && o < sizeof(note))
				snprintf(note + o, sizeof(note) - o, " u %.1f%%", us);
		}
		print_line(rw->label, kc, uc, rc, tc, note);
	}
	fflush(stdout);
}

static void print_header(void)
{
	struct utsname u;
	double load = -1;
	cpu_set_t set;
	FILE *f;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = -1;
		fclose(f);
	}
	printf("usock bench: the kernel and usock side by side in one process, UDP and TCP over"
	       " 127.0.0.1\n");
	printf("machine: nproc %d (%ld online), %s %s %s\n", n,
	       sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine);
	if (load >= 0)
		printf("load: %.2f (1-min average before the run%s)\n", load,
		       load >= 0.5 ? "; other work competes for the CPUs, expect noise" : "");
	if (bench_cpu[1] >= 0)
		printf("threads: sender/pinger on CPU %d, receiver/ponger on CPU %d\n",
		       bench_cpu[0], bench_cpu[1]);
	else
		printf("threads: not pinned (only one CPU allowed)\n");
	printf("each case: %.2f s warm-up, then %.2f s measured, per stack; %d run(s),"
	       " kernel and usock alternating%s\n", bench_warmup, bench_seconds, g_runs,
	       g_runs > 1 ? "; figures are medians" : "");
	printf("ratio: how many times faster (memory: smaller) usock is; rates and Gbit/s:"
	       " usock/kernel;\n  us and bytes: kernel/usock; below 1x usock is behind\n\n");
	print_line("case", "kernel", "usock", "ratio", "target", "notes");
}

/* The memory cases: run once, both stacks in one go (bench_mem.c, bench_tcp.c). */
static bool is_mem_case(int ci)
{
	return cases[ci].id == 6 || cases[ci].id == 10;
}

/* Runs made of case index @ci: a memory case runs once. */
static int runs_of(int ci)
{
	return is_mem_case(ci) ? 1 : g_runs;
}

/* The first failure of case index @ci on stack @s, or NULL. */
static const char *first_err(int ci, int s)
{
	int r;

	for (r = 0; r < runs_of(ci); r++)
		if (!res[ci][s][r].ok)
			return res[ci][s][r].err;
	return NULL;
}

/* One line per stack and message, listing the cases it hit: "usock case 1 2: socket: ENOSYS". */
static void print_failures(const bool *want)
{
	bool done[NCASES][2] = { { false } };
	const char *e, *e2;
	int ci, cj, s;

	for (s = 0; s < 2; s++)
		for (ci = 0; ci < NCASES; ci++) {
			e = want[ci] && !done[ci][s] ? first_err(ci, s) : NULL;
			if (!e)
				continue;
			printf("n/a: %s case", s ? "usock" : "kernel");
			for (cj = ci; cj < NCASES; cj++) {
				e2 = want[cj] ? first_err(cj, s) : NULL;
				if (e2 && !strcmp(e, e2)) {
					printf(" %d", cases[cj].id);
					done[cj][s] = true;
				}
			}
			printf(": %s\n", e);
		}
}

static void print_footer(const bool *want)
{
	int s, ci, rb[2] = { -1, -1 };
	char rbs[2][16] = { "n/a", "n/a" };

	printf("\n");
	print_failures(want);
	for (s = 0; s < 2; s++)
		for (ci = 0; ci < 4; ci++)
			if (want[ci] && res[ci][s][0].ok && rb[s] < 0)
				rb[s] = res[ci][s][0].rcvbuf;
	for (s = 0; s < 2; s++)
		if (rb[s] >= 0)
			snprintf(rbs[s], sizeof(rbs[s]), "%d", rb[s]);
	if (want[0] || want[1] || want[2] || want[3])
		printf("cases 1-4: counted at the receiver (recvmmsg batch %d); drops = sent - received"
		       " over the whole run,\n  after draining; SO_RCVBUF asked %d (FORCE if allowed),"
		       " got: kernel %s, usock %s\n",
		       BENCH_RX_BATCH, BENCH_RCVBUF, rbs[0], rbs[1]);
	if (want[4])
		printf("case 5: blocking recvfrom + sendto, SO_RCVTIMEO %d ms; p50/p99 over completed"
		       " round trips\n  (lost = timed out, left out of the percentiles)\n",
		       BENCH_PP_TIMEO_US / 1000);
	if (want[5]) {
		printf("case 6: N = %d idle sockets bound to 127.0.0.1:0 per stack, both sets open at"
		       " once; the counters\n  are system-wide, so other activity on the machine"
		       " is noise\n", bench_mem_n);
		if (res[5][0][0].ok)
			printf("  %s\n", res[5][0][0].note);
		if (res[5][1][0].ok)
			printf("  %s\n", res[5][1][0].note);
	}
	if (want[6])
		printf("case 7: one connection, blocking send() of %d KiB per call, a receiver thread in"
		       " blocking recv()\n  with a %d KiB buffer; Gbit/s of payload received in the"
		       " window; buffers at each stack's defaults\n",
		       BENCH_TCP_WRITE >> 10, BENCH_TCP_READ >> 10);
	if (want[7])
		printf("case 8: one connection, TCP_NODELAY both ends, blocking send + recv of 1 byte;"
		       " latency = one\n  transaction (send to answer), p50/p99 by nearest rank\n");
	if (want[8])
		printf("case 9: client thread: socket, SO_LINGER {1, 0}, connect, close (RST: no"
		       " TIME_WAIT on either\n  side, no port exhaustion); server thread: poll, accept4,"
		       " close; same on both stacks;\n  counted when the server has closed its end;"
		       " the client runs at most %d ahead\n", BENCH_TCP_WINDOW);
	if (want[9]) {
		printf("case 10: N = %d idle established connections per stack (both ends and the"
		       " listener in the\n  same stack), both sets open at once; figure = growth"
		       " / N, so one connection = two sockets\n", bench_tcp_mem_n);
		if (res[9][0][0].ok)
			printf("  %s\n", res[9][0][0].note);
		if (res[9][1][0].ok)
			printf("  %s\n", res[9][1][0].note);
	}
	if (want[6] || want[7] || want[8])
		printf("cases 7-9: every blocking call bounded by SO_RCVTIMEO/SO_SNDTIMEO %d ms; usock"
		       " TCP in the default\n  namespace\n", BENCH_TCP_TIMEO_US / 1000);
	if (bench_hung)
		printf("warning: a thread did not stop and was left running; figures after it"
		       " may be disturbed\n");
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench [--quick] [--case N[,N...]]... [--runs R]\n"
		"  --quick     0.2 s per case per stack (CI smoke run)\n"
		"  --case N    run only case N (1-10); may repeat or list: --case 1,5\n"
		"  --runs R    run each of cases 1-5 and 7-9 R times per stack (1-%d); print medians\n"
		"  USOCK_BENCH_SECONDS=S  measured seconds per case per stack (default 1.0)\n"
		"cases: 1-3 udp 64B sendmmsg batch 1/64/1024, 4 udp 1400B batch 64,\n"
		"       5 udp 1B ping-pong RTT, 6 memory per idle bound UDP socket,\n"
		"       7 tcp bulk 64 KiB sends, 8 tcp 1B request/response, 9 tcp connections/s,\n"
		"       10 memory per idle established TCP connection\n",
		MAX_RUNS);
}

static bool parse_cases(const char *arg, bool *want)
{
	char *end;
	long v;

	do {
		v = strtol(arg, &end, 10);
		if (end == arg || v < 1 || v > NCASES || (*end && *end != ','))
			return false;
		want[v - 1] = true;
		arg = *end ? end + 1 : end;
	} while (*arg);
	return true;
}

static void pick_cpus(void)
{
	cpu_set_t set;
	int i, k = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (i = 0; i < CPU_SETSIZE && k < 2; i++)
		if (CPU_ISSET(i, &set))
			bench_cpu[k++] = i;
	if (k < 2)
		bench_cpu[0] = bench_cpu[1] = -1;
}

int main(int argc, char **argv)
{
	const struct bench_stack *stacks[2] = { &bench_kernel, &bench_usock };
	bool want[NCASES] = { false }, any = false, quick = false;
	const char *env = getenv("USOCK_BENCH_SECONDS");
	int i, ci, run, s;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
			if (!parse_cases(argv[++i], want))
				goto bad;
			any = true;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			g_runs = atoi(argv[++i]);
			if (g_runs < 1 || g_runs > MAX_RUNS)
				goto bad;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			goto bad;
		}
	}
	if (!any)
		for (ci = 0; ci < NCASES; ci++)
			want[ci] = true;
	if (env && *env) {
		char *end;
		double v = strtod(env, &end);

		if (*end || !(v >= 0.01 && v <= 600)) {
			fprintf(stderr, "bench: USOCK_BENCH_SECONDS must be 0.01..600, not \"%s\"\n",
				env);
			return 2;
		}
		bench_seconds = v;
	}
	if (quick)
		bench_seconds = 0.2;
	bench_warmup = bench_seconds * 0.2;
	if (bench_warmup < 0.05)
		bench_warmup = 0.05;
	if (bench_warmup > 0.5)
		bench_warmup = 0.5;

	/* line by line, so that what was printed survives the watchdog's _exit() */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, watchdog_fire);
	signal(SIGPIPE, SIG_IGN);
	pick_cpus();
	print_header();

	for (ci = 0; ci < NCASES; ci++) {
		if (!want[ci])
			continue;
		if (is_mem_case(ci)) {
			snprintf(g_watch_case, sizeof(g_watch_case), "case %d", cases[ci].id);
			if (cases[ci].id == 6)
				bench_memory(&res[ci][0][0], &res[ci][1][0]);
			else
				bench_tcp_memory(&res[ci][0][0], &res[ci][1][0]);
			print_rows(ci, 1);
			continue;
		}
		for (run = 0; run < g_runs; run++)
			for (s = 0; s < 2; s++) {
				/* odd runs start with usock, so drift does not favour one */
				int st = run % 2 ? 1 - s : s;
				struct bench_result *r = &res[ci][st][run];

				snprintf(g_watch_case, sizeof(g_watch_case), "case %d on %s",
					 cases[ci].id, stacks[st]->name);
				memset(r, 0, sizeof(*r));
				r->rcvbuf = -1;
				switch (cases[ci].id) {
				case 5:
					bench_pingpong(stacks[st], &cases[ci], r);
					break;
				case 7:
					bench_tcp_bulk(stacks[st], &cases[ci], r);
					break;
				case 8:
					bench_tcp_rr(stacks[st], &cases[ci], r);
					break;
				case 9:
					bench_tcp_conn(stacks[st], &cases[ci], r);
					break;
				default:
					bench_flood(stacks[st], &cases[ci], r);
				}
			}
		print_rows(ci, g_runs);
	}
	print_footer(want);
	return 0;
bad:
	usage(stderr);
	return 2;
}

