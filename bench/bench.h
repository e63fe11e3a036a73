/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what the benchmark's files share: the call table, a run's result, the knobs
 *
 * Every case is written once against struct bench_stack and run with the
 * kernel's calls (bench_kernel) and with usock's (bench_usock).  Only bench/
 * includes this; it is no part of the library.
 */
#ifndef USOCK_BENCH_H
#define USOCK_BENCH_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <time.h>

#define BENCH_NVAL	3		/* figures per case */
#define BENCH_RX_BATCH	64		/* recvmmsg batch of every flood receiver */
#define BENCH_RCVBUF	(4 << 20)	/* SO_RCVBUF(FORCE) asked for on both stacks */
#define BENCH_PP_TIMEO_US 100000	/* ping-pong SO_RCVTIMEO / SO_SNDTIMEO */
#define BENCH_TCP_TIMEO_US 100000	/* every blocking TCP call's SO_RCVTIMEO / SO_SNDTIMEO */
#define BENCH_TCP_WRITE	(64 << 10)	/* case 7: bytes per send() */
#define BENCH_TCP_READ	(256 << 10)	/* case 7: the receiver's recv() buffer */
#define BENCH_TCP_WINDOW 16		/* case 9: connections the client may run ahead */

/* The calls a case may make, with the POSIX signatures. */
struct bench_stack {
	const char *name;
	int (*socket)(int domain, int type, int proto);
	int (*bind)(int fd, const struct sockaddr *a, socklen_t len);
	int (*connect)(int fd, const struct sockaddr *a, socklen_t len);
	int (*getsockname)(int fd, struct sockaddr *a, socklen_t *len);
	int (*sendmmsg)(int fd, struct mmsghdr *v, unsigned int n, int flags);
	int (*recvmmsg)(int fd, struct mmsghdr *v, unsigned int n, int flags,
			struct timespec *tmo);
	ssize_t (*sendto)(int fd, const void *b, size_t n, int flags,
			  const struct sockaddr *a, socklen_t len);
	ssize_t (*recvfrom)(int fd, void *b, size_t n, int flags,
			    struct sockaddr *a, socklen_t *len);
	int (*close)(int fd);
	int (*setsockopt)(int fd, int lvl, int name, const void *v, socklen_t len);
	int (*getsockopt)(int fd, int lvl, int name, void *v, socklen_t *len);
	int (*poll)(struct pollfd *p, nfds_t n, int ms);
	int (*listen)(int fd, int backlog);
	int (*accept4)(int fd, struct sockaddr *a, socklen_t *len, int flags);
	ssize_t (*send)(int fd, const void *b, size_t n, int flags);
	ssize_t (*recv)(int fd, void *b, size_t n, int flags);
};

extern const struct bench_stack bench_kernel;
extern const struct bench_stack bench_usock;

/* What one run of one case on one stack gave. */
struct bench_result {
	bool ok;
	char err[96];		/* "call: ENAME" when !ok */
	double val[BENCH_NVAL];	/* the case's figures, see rows[] in bench.c */
	double loss;		/* flood: % of sent not received; ping-pong: lost round trips */
	bool has_loss;
	int rcvbuf;		/* effective SO_RCVBUF of the receiver, -1 unknown */
	char note[400];		/* memory case: what was counted */
};

struct bench_case {
	int id;
	const char *what;
	unsigned batch;		/* flood: sendmmsg batch */
	size_t size;		/* flood: payload bytes */
};

/* Knobs, set once by main() before any case runs. */
extern double bench_seconds;	/* measured window per case per stack */
extern double bench_warmup;	/* unmeasured lead-in */
extern int bench_cpu[2];	/* sender/pinger, receiver/ponger; -1: not pinned */
extern bool bench_hung;		/* a thread was left behind, stuck in a call */
extern int bench_mem_n;		/* idle sockets per stack in case 6 */
extern int bench_tcp_mem_n;	/* idle connections per stack in case 10 */

/* System-wide kernel counters the memory cases difference (bench_mem.c). */
#define BENCH_SLAB_MAX 512
struct bench_ksnap {
	long slab_kb;		/* /proc/meminfo Slab */
	long udp_inuse;		/* /proc/net/sockstat UDP inuse */
	long udp_mem;		/* ... UDP mem, pages of socket buffers */
	long tcp_inuse;		/* ... TCP inuse */
	long tcp_alloc;		/* ... TCP alloc */
	long tcp_mem;		/* ... TCP mem, pages charged to tcp_memory_allocated */
	long rss_kb;		/* our VmRSS */
	int ncache;
	struct {
		char name[64];
		long long bytes;	/* active objects * object size */
	} cache[BENCH_SLAB_MAX];
};

/* bench_errname - "ENOSYS" for ENOSYS; never NULL. */
const char *bench_errname(int e);
/* bench_set_err - mark @r failed in @call with errno @e. */
void bench_set_err(struct bench_result *r, const char *call, int e);
/* bench_watchdog_arm - end the process if the main thread is still in this stretch after @secs. */
void bench_watchdog_arm(const char *what, double secs);
void bench_watchdog_off(void);
/* bench_udp_bound - a UDP socket bound to 127.0.0.1:0.  Return: fd, or -1 with @r's error set. */
int bench_udp_bound(const struct bench_stack *st, struct sockaddr_in *sa,
		    struct bench_result *r);

/* bench_ksnap_take - read the counters of struct bench_ksnap (slabinfo if readable). */
void bench_ksnap_take(struct bench_ksnap *s);
/* bench_slab_breakdown - per-cache growth from @a to @b per @n, "UDP 1344 + ... = N B". */
void bench_slab_breakdown(const struct bench_ksnap *a, const struct bench_ksnap *b, int n,
			  char *out, size_t len);
/* bench_raise_nofile - make room for @need descriptors.  Return: the soft limit now. */
long bench_raise_nofile(long need);

/*
 * A thread's first failure, readable by the main thread once @failed is set;
 * the claim makes the second failing thread keep quiet.
 */
struct bench_tfail {
	atomic_int claim;
	atomic_bool failed;
	char err[96];
};

#define BENCH_JOIN_GRACE 3.0	/* seconds a thread gets to stop once told */

double bench_now_s(void);
uint64_t bench_now_ns(void);
void bench_tfail_set(struct bench_tfail *t, const char *call, int e);
void bench_tfail_msg(struct bench_tfail *t, const char *msg);
/* bench_sleep_until - sleep to @t (monotonic s).  Return: false if @f failed first. */
bool bench_sleep_until(double t, struct bench_tfail *f);
/* bench_start_thread - @fn pinned to @cpu (-1: anywhere).  Return: 0 or a positive errno. */
int bench_start_thread(pthread_t *t, int cpu, void *(*fn)(void *), void *arg);
/* bench_join_within - join @t within @secs.  Return: false (and bench_hung) if it did not stop. */
bool bench_join_within(pthread_t t, double secs);
int bench_wait_fd(const struct bench_stack *st, int fd, short ev, int ms);

/* ---- bench_common.c: what the cases run alike ---- */

#define BENCH_LAT_MAX	(16u << 20)	/* latency samples per window (64 MiB) */

int bench_set_timeouts(const struct bench_stack *st, int fd, long usec, struct bench_result *r);

/* Two threads: [0] on bench_cpu[0] (sender, client), [1] on bench_cpu[1]. */
struct bench_pair {
	pthread_t t[2];
	bool have[2];
	bool leak;		/* a thread was left behind: free nothing it uses */
};

int bench_pair_start(struct bench_pair *p, void *(*fn0)(void *), void *(*fn1)(void *),
		     void *arg, struct bench_result *r);
bool bench_pair_join(struct bench_pair *p, int i, atomic_bool *stop, double secs,
		     struct bench_tfail *f, const char *who);
bool bench_window(struct bench_tfail *f, _Atomic uint64_t *const *c, uint64_t *d, int nc,
		  double *secs);
bool bench_tfail_take(struct bench_tfail *f, struct bench_result *r);

/* One timed exchange after another (ping-pong, request/response). */
struct bench_lat {
	uint32_t *ns;		/* one sample per completed exchange */
	size_t max, n;
	uint64_t lost;		/* exchanges that timed out */
	double elapsed;		/* seconds of the timed phase */
	uint64_t deadline;	/* end of the current phase, monotonic ns */
};

int bench_lat_init(struct bench_lat *l, struct bench_result *r);
void bench_lat_run(struct bench_lat *l, atomic_bool *stop, int (*once)(void *, uint8_t),
		   void *arg);
void bench_lat_pcts(struct bench_lat *l, double *p50, double *p99);

struct usock_netns;
int bench_mem_fit(int n, int per, struct bench_result *rk, struct bench_result *ru);
struct usock_netns *bench_mem_ns(const char *name, size_t *m0, struct bench_ksnap *s,
				 struct bench_result *ru);
void bench_mem_usock(struct bench_result *ru, size_t m0, size_t m1, const struct bench_ksnap *a,
		     const struct bench_ksnap *b, int n, const char *unit, const char *fds);

/* The cases: each fills @r (ok, or err naming the call and errno that failed). */
void bench_flood(const struct bench_stack *st, const struct bench_case *c,
		 struct bench_result *r);
void bench_pingpong(const struct bench_stack *st, const struct bench_case *c,
		    struct bench_result *r);
void bench_memory(struct bench_result *rk, struct bench_result *ru);
void bench_tcp_bulk(const struct bench_stack *st, const struct bench_case *c,
		    struct bench_result *r);
void bench_tcp_rr(const struct bench_stack *st, const struct bench_case *c,
		  struct bench_result *r);
void bench_tcp_conn(const struct bench_stack *st, const struct bench_case *c,
		    struct bench_result *r);
void bench_tcp_memory(struct bench_result *rk, struct bench_result *ru);

#endif /* USOCK_BENCH_H */
