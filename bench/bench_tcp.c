/* SPDX-License-Identifier: MIT */
/*
 * bench_tcp.c - cases 7-10: TCP bulk, 1-byte transactions, connections/s, idle memory
 *
 * Theory of operation.  Every case runs over 127.0.0.1 on one stack at a
 * time, through struct bench_stack, so the kernel and usock execute the same
 * calls.  Cases 7-9 use two threads on the CPUs main() picked, and the main
 * thread reads their counters at the start and the end of the window, as the
 * UDP cases do.  Every blocking call is bounded by SO_RCVTIMEO/SO_SNDTIMEO
 * (BENCH_TCP_TIMEO_US, which also bounds a blocking connect()), every
 * accept() is preceded by a poll() with a timeout, and threads are joined
 * with a deadline; a thread that does not stop is left behind with its
 * sockets and buffers, leaked on purpose, and bench_hung says so.  A failing
 * call makes the stack's column "n/a" with the errno: until usock links TCP,
 * its socket(AF_INET, SOCK_STREAM) gives EPROTONOSUPPORT and that is what
 * the table shows.
 *
 * Case 9 closes the client with SO_LINGER {1, 0}, so the close sends RST and
 * neither end enters TIME_WAIT: the kernel does not run out of ephemeral
 * ports, and both stacks do the same work.  Case 10 keeps the kernel's
 * connections open while usock's are made (see bench_mem.c for why) and
 * tears both down with RST.  Owns nothing past one call of a case.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "usock.h"
#include "bench.h"

#define ACCEPT_WAIT_MS	2000		/* longest wait for a connection to be acceptable */
#define POLL_MS		10		/* longest single wait in a server loop */
#define RR_NO_ANSWER_S	1.0		/* case 8: an answer later than this is a failure */
#define CONN_BACKLOG	128		/* case 9, well above BENCH_TCP_WINDOW */
#define MEM_CONNS	1000		/* case 10: idle connections per stack */

int bench_tcp_mem_n = MEM_CONNS;

/* ---- helpers ------------------------------------------------------------- */

static bool transient(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/*
 * Bound every blocking call on @fd: recv and accept by SO_RCVTIMEO, send and
 * connect by SO_SNDTIMEO (a timed-out blocking connect gives EINPROGRESS).
 * Return: 0, or -1 with @r's error set.
 */
static int tcp_timeouts(const struct bench_stack *st, int fd, struct bench_result *r)
{
	return bench_set_timeouts(st, fd, BENCH_TCP_TIMEO_US, r);
}

/*
 * A listening socket on 127.0.0.1 port 0, non-blocking when @nonblock; its
 * address in @sa.  Return: the fd, or -1 with @r's error set.
 */
static int tcp_listener(const struct bench_stack *st, struct sockaddr_in *sa, int backlog,
			bool nonblock, struct bench_result *r)
{
	socklen_t len = sizeof(*sa);
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = st->socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		bench_set_err(r, "socket(SOCK_STREAM)", errno);
		return -1;
	}
	if (st->bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0) {
		bench_set_err(r, "bind", errno);
		goto fail;
	}
	if (st->listen(fd, backlog) < 0) {
		bench_set_err(r, "listen", errno);
		goto fail;
	}
	if (st->getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
		bench_set_err(r, "getsockname", errno);
		goto fail;
	}
	/* a blocking accept is preceded by poll(), and bounded besides */
	if (!nonblock && tcp_timeouts(st, fd, r) < 0)
		goto fail;
	return fd;
fail:
	st->close(fd);
	return -1;
}

/*
 * One connection to listener @lfd at @sa: a client socket with bounded
 * calls, connected, and the server's end accepted (after a bounded poll).
 * Return: 0 with *@cli and *@srv set, or -1 with @r's error set and
 * nothing left open.
 */
static int tcp_connect_accept(const struct bench_stack *st, int lfd,
			      const struct sockaddr_in *sa, int *cli, int *srv,
			      struct bench_result *r)
{
	int c, s, p;

	c = st->socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0) {
		bench_set_err(r, "socket(SOCK_STREAM)", errno);
		return -1;
	}
	if (tcp_timeouts(st, c, r) < 0)
		goto fail;
	if (st->connect(c, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		/* EINPROGRESS here means SO_SNDTIMEO ran out */
		bench_set_err(r, "connect", errno);
		goto fail;
	}
	p = bench_wait_fd(st, lfd, POLLIN, ACCEPT_WAIT_MS);
	if (p <= 0) {
		bench_set_err(r, "poll(listener)", p ? errno : ETIMEDOUT);
		goto fail;
	}
	s = st->accept4(lfd, NULL, NULL, 0);
	if (s < 0) {
		bench_set_err(r, "accept4", errno);
		goto fail;
	}
	*cli = c;
	*srv = s;
	return 0;
fail:
	st->close(c);
	return -1;
}

/*
 * A connected pair through a listener closed again at once, both ends with
 * bounded calls.  Return: 0, or -1 with @r's error set.
 */
static int tcp_pair(const struct bench_stack *st, int *cli, int *srv, struct bench_result *r)
{
	struct sockaddr_in sa;
	int lfd, rc;

	lfd = tcp_listener(st, &sa, 1, false, r);
	if (lfd < 0)
		return -1;
	rc = tcp_connect_accept(st, lfd, &sa, cli, srv, r);
	st->close(lfd);
	if (rc < 0)
		return -1;
	if (tcp_timeouts(st, *srv, r) < 0) {
		st->close(*cli);
		st->close(*srv);
		return -1;
	}
	return 0;
}

/* SO_LINGER {1, 0}: close() then sends RST and leaves no TIME_WAIT.  Return: 0 or -1. */
static int linger_zero(const struct bench_stack *st, int fd)
{
	struct linger lg = { 1, 0 };

	return st->setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* ---- case 7: bulk throughput, 64 KiB sends ------------------------------- */

struct bulk {
	const struct bench_stack *st;
	int tx, rx;
	atomic_bool stop;
	struct bench_tfail f;
	_Alignas(64) _Atomic uint64_t rbytes;	/* the receiver's, read by main */
	char *txbuf, *rxbuf;
};

/* The sender: 64 KiB per send() until told to stop; a partial send just goes on. */
static void *bulk_tx(void *arg)
{
	struct bulk *b = arg;

	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		ssize_t n = b->st->send(b->tx, b->txbuf, BENCH_TCP_WRITE, MSG_NOSIGNAL);

		if (n > 0)
			continue;
		if (n == 0) {
			bench_tfail_msg(&b->f, "send returned 0");
			break;
		}
		if (!transient(errno)) {
			bench_tfail_set(&b->f, "send", errno);
			break;
		}
	}
	return NULL;
}

/* The receiver: one large buffer, whatever recv() hands back is counted. */
static void *bulk_rx(void *arg)
{
	struct bulk *b = arg;
	uint64_t bytes = 0;

	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		ssize_t n = b->st->recv(b->rx, b->rxbuf, BENCH_TCP_READ, 0);

		if (n > 0) {
			bytes += (uint64_t)n;
			atomic_store_explicit(&b->rbytes, bytes, memory_order_relaxed);
			continue;
		}
		if (n == 0) {
			bench_tfail_msg(&b->f, "recv: end of stream before the end");
			break;
		}
		if (!transient(errno)) {
			bench_tfail_set(&b->f, "recv", errno);
			break;
		}
	}
	return NULL;
}

/* Case 7.  val[0] Gbit/s of payload received in the measured window. */
void bench_tcp_bulk(const struct bench_stack *st, const struct bench_case *c,
		    struct bench_result *r)
{
	struct bench_pair tp = { 0 };
	_Atomic uint64_t *ctr[1];
	struct bulk *b;
	uint64_t d;
	double secs;

	b = calloc(1, sizeof(*b));
	if (!b) {
		bench_set_err(r, "malloc", ENOMEM);
		return;
	}
	b->st = st;
	b->tx = b->rx = -1;
	ctr[0] = &b->rbytes;
	b->txbuf = malloc(BENCH_TCP_WRITE);
	b->rxbuf = malloc(BENCH_TCP_READ);
	if (!b->txbuf || !b->rxbuf) {
		bench_set_err(r, "malloc", ENOMEM);
		goto out;
	}
	/* fault the pages in now, not inside the window */
	memset(b->txbuf, 'u', BENCH_TCP_WRITE);
	memset(b->rxbuf, 0, BENCH_TCP_READ);

	bench_watchdog_arm("connection set-up", 10);
	if (tcp_pair(st, &b->tx, &b->rx, r) < 0)
		goto out;

	bench_watchdog_arm(c->what, bench_warmup + bench_seconds + 2 * BENCH_JOIN_GRACE + 5);
	if (bench_pair_start(&tp, bulk_tx, bulk_rx, b, r) < 0)
		goto stop;
	if (!bench_window(&b->f, ctr, &d, 1, &secs))
		goto stop;
	r->val[0] = (double)d * 8 / secs / 1e9;
	r->ok = true;
stop:
	bench_pair_join(&tp, 0, &b->stop, BENCH_JOIN_GRACE, &b->f, "sender");
	bench_pair_join(&tp, 1, &b->stop, BENCH_JOIN_GRACE, &b->f, "receiver");
	bench_tfail_take(&b->f, r);
out:
	bench_watchdog_off();
	if (tp.leak)
		return;
	if (b->tx >= 0)
		st->close(b->tx);
	if (b->rx >= 0)
		st->close(b->rx);
	free(b->txbuf);
	free(b->rxbuf);
	free(b);
}

/* ---- case 8: 1-byte request/response ------------------------------------- */

struct rr {
	const struct bench_stack *st;
	int cli, srv;
	atomic_bool stop;
	struct bench_tfail f;
	struct bench_lat lat;
};

/* One transaction from the client.  Return: 0 done, -1 failed (recorded). */
static int rr_once(void *arg, uint8_t seq)
{
	struct rr *rr = arg;
	const struct bench_stack *st = rr->st;
	double give_up = 0;
	uint8_t in;
	ssize_t n;

	for (;;) {
		n = st->send(rr->cli, &seq, 1, MSG_NOSIGNAL);
		if (n == 1)
			break;
		if (n < 0 && transient(errno))
			continue;
		if (n < 0)
			bench_tfail_set(&rr->f, "send", errno);
		else
			bench_tfail_msg(&rr->f, "send returned 0");
		return -1;
	}
	for (;;) {
		n = st->recv(rr->cli, &in, 1, 0);
		if (n == 1) {
			if (in == seq)
				return 0;
			bench_tfail_msg(&rr->f, "recv: answer out of order");
			return -1;
		}
		if (n == 0) {
			bench_tfail_msg(&rr->f, "recv: server closed");
			return -1;
		}
		if (!transient(errno)) {
			bench_tfail_set(&rr->f, "recv", errno);
			return -1;
		}
		/* TCP loses nothing: a timeout is a stall, failed only once it is long */
		if (give_up == 0)
			give_up = bench_now_s() + RR_NO_ANSWER_S;
		else if (bench_now_s() > give_up) {
			bench_tfail_msg(&rr->f, "recv: no answer within 1 s");
			return -1;
		}
	}
}

/* The client: the timed loop of bench_lat_run over rr_once. */
static void *rr_client(void *arg)
{
	struct rr *rr = arg;

	bench_lat_run(&rr->lat, &rr->stop, rr_once, rr);
	return NULL;
}

/* The server: echo each byte back, until told to stop or the client goes away. */
static void *rr_server(void *arg)
{
	struct rr *rr = arg;
	const struct bench_stack *st = rr->st;
	uint8_t buf[64];
	ssize_t n;

	while (!atomic_load_explicit(&rr->stop, memory_order_relaxed)) {
		n = st->recv(rr->srv, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (transient(errno))
				continue;
			bench_tfail_set(&rr->f, "recv", errno);
			break;
		}
		while (st->send(rr->srv, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
			if (!transient(errno)) {
				bench_tfail_set(&rr->f, "send", errno);
				return NULL;
			}
			if (atomic_load(&rr->stop))
				return NULL;
		}
	}
	return NULL;
}

/*
 * Case 8.  val[0] transactions per second, val[1] median and val[2] p99 of
 * one transaction in microseconds (nearest rank).
 */
void bench_tcp_rr(const struct bench_stack *st, const struct bench_case *c,
		  struct bench_result *r)
{
	struct bench_pair tp = { 0 };
	int one = 1, rc = -1;
	struct rr *rr;

	rr = calloc(1, sizeof(*rr));
	if (!rr) {
		bench_set_err(r, "malloc", ENOMEM);
		return;
	}
	rr->st = st;
	rr->cli = rr->srv = -1;
	if (bench_lat_init(&rr->lat, r) < 0)
		goto out;

	bench_watchdog_arm("connection set-up", 10);
	if (tcp_pair(st, &rr->cli, &rr->srv, r) < 0)
		goto out;
	if (st->setsockopt(rr->cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    st->setsockopt(rr->srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		bench_set_err(r, "setsockopt(TCP_NODELAY)", errno);
		goto out;
	}

	bench_watchdog_arm(c->what, bench_warmup + bench_seconds + RR_NO_ANSWER_S +
			   3 * BENCH_JOIN_GRACE + 5);
	rc = bench_pair_start(&tp, rr_client, rr_server, rr, r);
	if (rc == 0)
		bench_pair_join(&tp, 0, NULL, bench_warmup + bench_seconds + RR_NO_ANSWER_S +
				BENCH_JOIN_GRACE, &rr->f, "client");
	bench_pair_join(&tp, 1, &rr->stop, BENCH_JOIN_GRACE, &rr->f, "server");
	if (bench_tfail_take(&rr->f, r)) {
		/* the thread's error is the result */
	} else if (rc == 0 && (!rr->lat.n || rr->lat.elapsed <= 0)) {
		snprintf(r->err, sizeof(r->err), "no transaction completed");
	} else if (rc == 0) {
		r->val[0] = (double)rr->lat.n / rr->lat.elapsed;
		bench_lat_pcts(&rr->lat, &r->val[1], &r->val[2]);
		r->ok = true;
	}
out:
	bench_watchdog_off();
	if (tp.leak)
		return;
	if (rr->cli >= 0)
		st->close(rr->cli);
	if (rr->srv >= 0)
		st->close(rr->srv);
	free(rr->lat.ns);
	free(rr);
}

/* ---- case 9: connection set-up and tear-down ----------------------------- */

struct conn {
	const struct bench_stack *st;
	int lfd;
	struct sockaddr_in sa;
	atomic_bool stop_cli, stop_srv;
	struct bench_tfail f;
	/* one writer each: apart, so the two threads do not share a cache line */
	_Alignas(64) _Atomic uint64_t made;	/* client: connected and closed */
	_Alignas(64) _Atomic uint64_t done;	/* server: accepted and closed */
};

/*
 * The client: socket, SO_LINGER {1, 0}, bounded connect, close; at most
 * BENCH_TCP_WINDOW connections ahead of the server, so the accept queue
 * never overflows (a dropped SYN would cost the kernel a 1 s retry).
 */
static void *conn_client(void *arg)
{
	struct conn *cn = arg;
	const struct bench_stack *st = cn->st;
	struct timeval tv = { 0, BENCH_TCP_TIMEO_US };
	uint64_t made = 0;
	int fd;

	while (!atomic_load_explicit(&cn->stop_cli, memory_order_relaxed)) {
		if (made - atomic_load_explicit(&cn->done, memory_order_relaxed) >=
		    BENCH_TCP_WINDOW) {
			if (atomic_load(&cn->f.failed))
				break;
			sched_yield();
			continue;
		}
		fd = st->socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			bench_tfail_set(&cn->f, "socket(SOCK_STREAM)", errno);
			break;
		}
		if (linger_zero(st, fd) < 0) {
			bench_tfail_set(&cn->f, "setsockopt(SO_LINGER)", errno);
			st->close(fd);
			break;
		}
		if (st->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			bench_tfail_set(&cn->f, "setsockopt(SO_SNDTIMEO)", errno);
			st->close(fd);
			break;
		}
		if (st->connect(fd, (struct sockaddr *)&cn->sa, sizeof(cn->sa)) < 0) {
			bench_tfail_set(&cn->f, "connect", errno);
			st->close(fd);
			break;
		}
		if (st->close(fd) < 0) {
			bench_tfail_set(&cn->f, "close", errno);
			break;
		}
		atomic_store_explicit(&cn->made, ++made, memory_order_release);
	}
	return NULL;
}

/*
 * The server: poll the non-blocking listener, accept4, close.  Once told to
 * stop it still takes what the client made, for at most a second.
 */
static void *conn_server(void *arg)
{
	struct conn *cn = arg;
	const struct bench_stack *st = cn->st;
	double drain_end = 0;
	uint64_t done = 0;
	int fd;

	for (;;) {
		if (atomic_load_explicit(&cn->stop_srv, memory_order_relaxed)) {
			if (done >= atomic_load(&cn->made))
				break;
			if (drain_end == 0)
				drain_end = bench_now_s() + 1.0;
			else if (bench_now_s() > drain_end)
				break;
		}
		fd = st->accept4(cn->lfd, NULL, NULL, 0);
		if (fd >= 0) {
			if (st->close(fd) < 0) {
				bench_tfail_set(&cn->f, "close(accepted)", errno);
				break;
			}
			atomic_store_explicit(&cn->done, ++done, memory_order_relaxed);
			continue;
		}
		/* accept(2) may report a connection reset before it was taken: it is over too */
		if (errno == ECONNABORTED) {
			atomic_store_explicit(&cn->done, ++done, memory_order_relaxed);
			continue;
		}
		if (!transient(errno)) {
			bench_tfail_set(&cn->f, "accept4", errno);
			break;
		}
		if (bench_wait_fd(st, cn->lfd, POLLIN, POLL_MS) < 0 && errno != EINTR) {
			bench_tfail_set(&cn->f, "poll(listener)", errno);
			break;
		}
	}
	return NULL;
}

/* Case 9.  val[0] connections per second, counted by the server's closes. */
void bench_tcp_conn(const struct bench_stack *st, const struct bench_case *c,
		    struct bench_result *r)
{
	struct bench_pair tp = { 0 };
	_Atomic uint64_t *ctr[1];
	struct conn *cn;
	uint64_t d;
	double secs;

	cn = calloc(1, sizeof(*cn));
	if (!cn) {
		bench_set_err(r, "malloc", ENOMEM);
		return;
	}
	cn->st = st;
	ctr[0] = &cn->done;
	bench_watchdog_arm("listener set-up", 10);
	cn->lfd = tcp_listener(st, &cn->sa, CONN_BACKLOG, true, r);
	if (cn->lfd < 0)
		goto out;

	bench_watchdog_arm(c->what, bench_warmup + bench_seconds + 3 * BENCH_JOIN_GRACE + 5);
	if (bench_pair_start(&tp, conn_client, conn_server, cn, r) < 0)
		goto stop;
	if (!bench_window(&cn->f, ctr, &d, 1, &secs))
		goto stop;
	r->val[0] = (double)d / secs;
	r->ok = true;
stop:
	bench_pair_join(&tp, 0, &cn->stop_cli, BENCH_JOIN_GRACE, &cn->f, "client");
	bench_pair_join(&tp, 1, &cn->stop_srv, BENCH_JOIN_GRACE, &cn->f, "server");
	bench_tfail_take(&cn->f, r);
out:
	bench_watchdog_off();
	if (tp.leak)
		return;
	if (cn->lfd >= 0)
		st->close(cn->lfd);
	free(cn);
}

/* ---- case 10: memory per idle established connection --------------------- */

/*
 * Make @n connections on @st, the client ends in @cli and the accepted ends
 * in @srv, through one listener left in *@lfd.  Return: how many pairs are
 * open; on a failure @r holds the error.
 */
static int open_conns(const struct bench_stack *st, int *cli, int *srv, int n, int *lfd,
		      struct bench_result *r)
{
	struct sockaddr_in sa;
	int i;

	*lfd = tcp_listener(st, &sa, CONN_BACKLOG, false, r);
	if (*lfd < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (tcp_connect_accept(st, *lfd, &sa, &cli[i], &srv[i], r) < 0)
			break;
	return i;
}

/* Tear @n pairs and the listener down with RST, so nothing lingers in TIME_WAIT. */
static void close_conns(const struct bench_stack *st, int *cli, int *srv, int n, int lfd)
{
	int i;

	for (i = 0; i < n; i++) {
		linger_zero(st, cli[i]);
		st->close(cli[i]);
		linger_zero(st, srv[i]);
		st->close(srv[i]);
	}
	if (lfd >= 0)
		st->close(lfd);
}

/* Let deferred work (RCU frees of request socks, a stack's own threads) finish. */
static void settle(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * Case 10, both stacks in one go.  The kernel's connections stay open while
 * usock's are made, so neither reuses slab pages the other just freed.
 *   kernel: (/proc/meminfo Slab growth + /proc/net/sockstat TCP "mem" growth
 *           in pages) / N; Slab holds both socks, files, inodes, dentries and
 *           LSM blobs, "mem" the buffer memory charged to TCP.
 *   usock:  usock_netns_memory() growth / N in a fresh namespace, plus the
 *           Slab growth of the kernel objects behind its descriptors.
 */
void bench_tcp_memory(struct bench_result *rk, struct bench_result *ru)
{
	static struct bench_ksnap s0, s1, s1b, s2;
	struct usock_netns *ns = NULL;
	int *kc = NULL, *ks = NULL, *uc = NULL, *us = NULL;
	int nk = 0, nu = 0, klfd = -1, ulfd = -1, n;
	long page = sysconf(_SC_PAGESIZE);
	size_t m0 = 0, m1 = 0;
	char brk[160];

	/* two ends per connection per stack, both stacks open at once */
	n = bench_mem_fit(bench_tcp_mem_n, 4, rk, ru);
	if (n < 0)
		return;
	bench_tcp_mem_n = n;
	kc = calloc((size_t)n, sizeof(int));
	ks = calloc((size_t)n, sizeof(int));
	uc = calloc((size_t)n, sizeof(int));
	us = calloc((size_t)n, sizeof(int));
	if (!kc || !ks || !uc || !us) {
		bench_set_err(rk, "malloc", ENOMEM);
		bench_set_err(ru, "malloc", ENOMEM);
		goto out;
	}
	bench_watchdog_arm("the TCP memory case", 120);

	settle();
	bench_ksnap_take(&s0);
	nk = open_conns(&bench_kernel, kc, ks, n, &klfd, rk);
	settle();
	bench_ksnap_take(&s1);
	if (nk == n) {
		double slab = (double)(s1.slab_kb - s0.slab_kb) * 1024 / n;
		double mem = (double)(s1.tcp_mem - s0.tcp_mem) * page / n;

		rk->ok = true;
		rk->val[0] = slab + mem;
		bench_slab_breakdown(&s0, &s1, n, brk, sizeof(brk));
		snprintf(rk->note, sizeof(rk->note),
			 "kernel %.0f B/connection = Slab %.0f (2 socks, files, inodes, dentries,"
			 " LSM) + sockstat TCP mem %.0f\n"
			 "    slab objects: %s\n"
			 "    sockstat TCP inuse %+ld, alloc %+ld, mem %+ld pages of %ld B"
			 " (mem is buffers charged to TCP)",
			 rk->val[0], slab, mem, brk[0] ? brk : "/proc/slabinfo unreadable",
			 s1.tcp_inuse - s0.tcp_inuse, s1.tcp_alloc - s0.tcp_alloc,
			 s1.tcp_mem - s0.tcp_mem, page);
	}

	ns = bench_mem_ns("bench-tcp-mem", &m0, &s1b, ru);
	if (!ns)
		goto out;
	nu = open_conns(&bench_usock, uc, us, n, &ulfd, ru);
	settle();
	m1 = usock_netns_memory(ns);
	bench_ksnap_take(&s2);
	if (nu == n)
		bench_mem_usock(ru, m0, m1, &s1b, &s2, n, "connection", "2 ");
out:
	if (ns) {
		close_conns(&bench_usock, uc, us, nu, ulfd);
		usock_netns_set(NULL);
		usock_netns_free(ns);
	}
	close_conns(&bench_kernel, kc, ks, nk, klfd);
	free(kc);
	free(ks);
	free(uc);
	free(us);
	bench_watchdog_off();
}
