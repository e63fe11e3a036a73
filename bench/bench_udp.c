/* SPDX-License-Identifier: MIT */
/*
 * bench_udp.c - cases 1-5: UDP floods at the receiver's count, and the 1-byte ping-pong
 *
 * Theory of operation.  A flood is one sender thread (sendmmsg, a fixed
 * batch, MSG_DONTWAIT) and one receiver thread (recvmmsg batch 64,
 * MSG_DONTWAIT, poll() when empty), on the two CPUs main() picked; the main
 * thread reads the receiver's counters at the start and the end of the
 * window.  The ping-pong is two threads each in a blocking recvfrom() with
 * SO_RCVTIMEO, answering with sendto().  Every wait is bounded (POLL_MS,
 * SO_RCVTIMEO, joins with a deadline); a thread that does not stop is left
 * behind with its sockets and buffers, which are then leaked on purpose, and
 * bench_hung says so.  Owns nothing past one call of bench_flood() or
 * bench_pingpong().
 */
#include <errno.h>
#include <netinet/in.h>
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
#include <time.h>

#include "usock.h"
#include "bench.h"

#define RX_BUFSZ	2048		/* room per received datagram */
#define POLL_MS		10		/* longest single wait in a flood thread */

/*
 * Ask for the same receive buffer on both stacks: SO_RCVBUFFORCE (root may
 * pass rmem_max), else SO_RCVBUF.  A stack that takes neither still runs;
 * the effective size printed at the end shows it.
 */
static void set_rcvbuf(const struct bench_stack *st, int fd, struct bench_result *r)
{
	int v = BENCH_RCVBUF;
	socklen_t len = sizeof(v);

	if (st->setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		st->setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (st->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) < 0)
		v = -1;
	r->rcvbuf = v;
}

/* ---- cases 1-4: one sender thread floods one receiver thread ------------- */

struct flood {
	const struct bench_stack *st;
	int tx, rx;
	unsigned batch;
	atomic_bool stop_tx, stop_rx;
	struct bench_tfail f;
	/* one writer each: apart, so the two threads do not share a cache line */
	_Alignas(64) _Atomic uint64_t sent;
	_Alignas(64) _Atomic uint64_t rcvd;
	_Atomic uint64_t rbytes;
	struct mmsghdr *txvec;
	struct iovec txiov;
	struct mmsghdr rxvec[BENCH_RX_BATCH];
	struct iovec rxiov[BENCH_RX_BATCH];
	_Alignas(64) char *txbuf;
	char *rxbuf;
};

/*
 * The sender: full batches as fast as the stack takes them.  MSG_DONTWAIT so
 * that a stack that never makes room cannot hold the thread past its stop.
 */
static void *flood_tx(void *arg)
{
	struct flood *fl = arg;
	uint64_t sent = 0;

	while (!atomic_load_explicit(&fl->stop_tx, memory_order_relaxed)) {
		int n = fl->st->sendmmsg(fl->tx, fl->txvec, fl->batch, MSG_DONTWAIT);
		int e = errno;

		if (n > 0) {
			sent += (unsigned)n;
			atomic_store_explicit(&fl->sent, sent, memory_order_relaxed);
			continue;
		}
		if (n == 0) {
			bench_tfail_msg(&fl->f, "sendmmsg returned 0");
			break;
		}
		if (e == EINTR)
			continue;
		if (e == ENOBUFS) {
			sched_yield();
			continue;
		}
		if (e != EAGAIN && e != EWOULDBLOCK) {
			bench_tfail_set(&fl->f, "sendmmsg", e);
			break;
		}
		if (bench_wait_fd(fl->st, fl->tx, POLLOUT, POLL_MS) < 0 && errno != EINTR) {
			bench_tfail_set(&fl->f, "poll(POLLOUT)", errno);
			break;
		}
	}
	return NULL;
}

/*
 * The receiver: recvmmsg without waiting, poll() only when the queue is
 * empty (as an event loop would).  Once told to stop it drains until the
 * queue stays empty for one wait, so that drops are what was really lost.
 */
static void *flood_rx(void *arg)
{
	struct flood *fl = arg;
	uint64_t rcvd = 0, bytes = 0;
	double drain_end = 0;

	for (;;) {
		int n = fl->st->recvmmsg(fl->rx, fl->rxvec, BENCH_RX_BATCH, MSG_DONTWAIT, NULL);
		int e = errno, i, p;

		if (n > 0) {
			for (i = 0; i < n; i++)
				bytes += fl->rxvec[i].msg_len;
			rcvd += (unsigned)n;
			atomic_store_explicit(&fl->rcvd, rcvd, memory_order_relaxed);
			atomic_store_explicit(&fl->rbytes, bytes, memory_order_relaxed);
			continue;
		}
		if (n == 0) {
			bench_tfail_msg(&fl->f, "recvmmsg returned 0");
			break;
		}
		if (e == EINTR)
			continue;
		if (e != EAGAIN && e != EWOULDBLOCK) {
			bench_tfail_set(&fl->f, "recvmmsg", e);
			break;
		}
		p = bench_wait_fd(fl->st, fl->rx, POLLIN, POLL_MS);
		if (p < 0 && errno != EINTR) {
			bench_tfail_set(&fl->f, "poll(POLLIN)", errno);
			break;
		}
		if (atomic_load_explicit(&fl->stop_rx, memory_order_relaxed)) {
			if (drain_end == 0)
				drain_end = bench_now_s() + 1.0;
			if (p == 0 || bench_now_s() > drain_end)
				break;
		}
	}
	return NULL;
}

static struct flood *flood_new(const struct bench_stack *st, const struct bench_case *c)
{
	struct flood *fl = calloc(1, sizeof(*fl));
	unsigned i;

	if (!fl)
		return NULL;
	fl->st = st;
	fl->tx = fl->rx = -1;
	fl->batch = c->batch;
	fl->txvec = calloc(c->batch, sizeof(*fl->txvec));
	fl->txbuf = malloc(c->size);
	fl->rxbuf = malloc((size_t)BENCH_RX_BATCH * RX_BUFSZ);
	if (!fl->txvec || !fl->txbuf || !fl->rxbuf) {
		free(fl->txvec);
		free(fl->txbuf);
		free(fl->rxbuf);
		free(fl);
		return NULL;
	}
	memset(fl->txbuf, 'u', c->size);
	memset(fl->rxbuf, 0, (size_t)BENCH_RX_BATCH * RX_BUFSZ);
	/* Every message of a batch sends the same bytes: sendmmsg only reads. */
	fl->txiov.iov_base = fl->txbuf;
	fl->txiov.iov_len = c->size;
	for (i = 0; i < c->batch; i++) {
		fl->txvec[i].msg_hdr.msg_iov = &fl->txiov;
		fl->txvec[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < BENCH_RX_BATCH; i++) {
		fl->rxiov[i].iov_base = fl->rxbuf + (size_t)i * RX_BUFSZ;
		fl->rxiov[i].iov_len = RX_BUFSZ;
		fl->rxvec[i].msg_hdr.msg_iov = &fl->rxiov[i];
		fl->rxvec[i].msg_hdr.msg_iovlen = 1;
	}
	return fl;
}

static void flood_free(struct flood *fl)
{
	if (fl->tx >= 0)
		fl->st->close(fl->tx);
	if (fl->rx >= 0)
		fl->st->close(fl->rx);
	free(fl->txvec);
	free(fl->txbuf);
	free(fl->rxbuf);
	free(fl);
}

/*
 * Cases 1-4.  val[0] msg/s and val[1] Gbit/s of payload, both received in
 * the measured window; loss = % of all sent datagrams never received.
 */
void bench_flood(const struct bench_stack *st, const struct bench_case *c,
		 struct bench_result *r)
{
	_Atomic uint64_t *ctr[2];
	struct bench_pair tp = { 0 };
	struct sockaddr_in sa;
	uint64_t d[2], sent, rcvd;
	struct flood *fl;
	double secs;

	fl = flood_new(st, c);
	if (!fl) {
		bench_set_err(r, "malloc", ENOMEM);
		return;
	}
	ctr[0] = &fl->rcvd;
	ctr[1] = &fl->rbytes;
	bench_watchdog_arm("socket set-up", 10);
	fl->rx = bench_udp_bound(st, &sa, r);
	if (fl->rx < 0)
		goto out;
	set_rcvbuf(st, fl->rx, r);
	fl->tx = st->socket(AF_INET, SOCK_DGRAM, 0);
	if (fl->tx < 0) {
		bench_set_err(r, "socket", errno);
		goto out;
	}
	if (st->connect(fl->tx, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		bench_set_err(r, "connect", errno);
		goto out;
	}

	bench_watchdog_arm(c->what, bench_warmup + bench_seconds + 4 * BENCH_JOIN_GRACE + 5);
	if (bench_pair_start(&tp, flood_tx, flood_rx, fl, r) < 0)
		goto stop;
	if (!bench_window(&fl->f, ctr, d, 2, &secs))
		goto stop;
	r->val[0] = (double)d[0] / secs;
	r->val[1] = (double)d[1] * 8 / secs / 1e9;
	r->ok = true;
stop:
	bench_pair_join(&tp, 0, &fl->stop_tx, BENCH_JOIN_GRACE, &fl->f, "sender");
	bench_pair_join(&tp, 1, &fl->stop_rx, 2 * BENCH_JOIN_GRACE, &fl->f, "receiver");
	if (!bench_tfail_take(&fl->f, r) && r->ok) {
		sent = atomic_load(&fl->sent);
		rcvd = atomic_load(&fl->rcvd);
		r->has_loss = true;
		r->loss = sent ? 100.0 * (double)(sent > rcvd ? sent - rcvd : 0) / (double)sent : 0;
	}
out:
	bench_watchdog_off();
	if (!tp.leak)
		flood_free(fl);
}

/* ---- case 5: 1-byte ping-pong between two blocking threads --------------- */

struct pingpong {
	const struct bench_stack *st;
	int a, b;
	atomic_bool stop;
	struct bench_tfail f;
	struct bench_lat lat;
};

/* One round trip from a.  Return: 0 done, 1 lost (timed out), -1 failed. */
static int pp_roundtrip(void *arg, uint8_t seq)
{
	struct pingpong *pp = arg;
	const struct bench_stack *st = pp->st;
	uint8_t in[64];
	ssize_t n;

	if (st->sendto(pp->a, &seq, 1, 0, NULL, 0) != 1) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			return 1;
		bench_tfail_set(&pp->f, "sendto", errno);
		return -1;
	}
	for (;;) {
		n = st->recvfrom(pp->a, in, sizeof(in), 0, NULL, NULL);
		if (n == 1 && in[0] == seq)
			return 0;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n < 0 && errno != EINTR) {
			bench_tfail_set(&pp->f, "recvfrom", errno);
			return -1;
		}
		/* a late answer to a round trip already counted lost */
		if (bench_now_ns() > pp->lat.deadline)
			return 1;
	}
}

/* The pinger: the timed loop of bench_lat_run over pp_roundtrip. */
static void *pp_ping(void *arg)
{
	struct pingpong *pp = arg;

	bench_lat_run(&pp->lat, &pp->stop, pp_roundtrip, pp);
	return NULL;
}

static void *pp_pong(void *arg)
{
	struct pingpong *pp = arg;
	const struct bench_stack *st = pp->st;
	uint8_t buf[64];
	ssize_t n;

	while (!atomic_load_explicit(&pp->stop, memory_order_relaxed)) {
		n = st->recvfrom(pp->b, buf, sizeof(buf), 0, NULL, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			bench_tfail_set(&pp->f, "recvfrom", errno);
			break;
		}
		if (st->sendto(pp->b, buf, (size_t)n, 0, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
			bench_tfail_set(&pp->f, "sendto", errno);
			break;
		}
	}
	return NULL;
}

/*
 * Case 5.  val[0] median and val[1] p99 round trip in microseconds (nearest
 * rank, completed round trips only), val[2] round trips per second;
 * loss = round trips that timed out.
 */
void bench_pingpong(const struct bench_stack *st, const struct bench_case *c,
		    struct bench_result *r)
{
	struct bench_pair tp = { 0 };
	struct sockaddr_in sa, sb;
	struct pingpong *pp;
	int rc = -1;

	pp = calloc(1, sizeof(*pp));
	if (!pp) {
		bench_set_err(r, "malloc", ENOMEM);
		return;
	}
	pp->st = st;
	pp->a = pp->b = -1;
	if (bench_lat_init(&pp->lat, r) < 0)
		goto out;

	bench_watchdog_arm("socket set-up", 10);
	pp->a = bench_udp_bound(st, &sa, r);
	if (pp->a < 0)
		goto out;
	pp->b = bench_udp_bound(st, &sb, r);
	if (pp->b < 0)
		goto out;
	if (st->connect(pp->a, (struct sockaddr *)&sb, sizeof(sb)) < 0 ||
	    st->connect(pp->b, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		bench_set_err(r, "connect", errno);
		goto out;
	}
	/* a lost datagram costs 100 ms, not forever */
	if (bench_set_timeouts(st, pp->a, BENCH_PP_TIMEO_US, r) < 0 ||
	    bench_set_timeouts(st, pp->b, BENCH_PP_TIMEO_US, r) < 0)
		goto out;

	bench_watchdog_arm(c->what, bench_warmup + bench_seconds + 3 * BENCH_JOIN_GRACE + 5);
	rc = bench_pair_start(&tp, pp_ping, pp_pong, pp, r);
	if (rc == 0)
		bench_pair_join(&tp, 0, NULL, bench_warmup + bench_seconds + BENCH_JOIN_GRACE,
				&pp->f, "pinger");
	bench_pair_join(&tp, 1, &pp->stop, BENCH_JOIN_GRACE, &pp->f, "ponger");
	if (bench_tfail_take(&pp->f, r)) {
		/* the thread's error is the result */
	} else if (rc == 0 && !pp->lat.n) {
		snprintf(r->err, sizeof(r->err), "no round trip completed");
	} else if (rc == 0) {
		bench_lat_pcts(&pp->lat, &r->val[0], &r->val[1]);
		r->val[2] = (double)pp->lat.n / pp->lat.elapsed;
		r->loss = (double)pp->lat.lost;
		r->has_loss = true;
		r->ok = true;
	}
out:
	bench_watchdog_off();
	if (tp.leak)
		return;
	if (pp->a >= 0)
		st->close(pp->a);
	if (pp->b >= 0)
		st->close(pp->b);
	free(pp->lat.ns);
	free(pp);
}
