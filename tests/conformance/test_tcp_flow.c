/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_flow.c - a TCP sender whose peer does not read: EAGAIN, POLLOUT, EINTR
 *
 * The client gets a small send buffer (SO_SNDBUF 4096, doubled to 8192)
 * and the listener a small receive buffer (inherited by the accepted
 * socket), so a peer that never reads fills both within a few KB: the
 * peer holds (and has acknowledged) what its window allowed, the window
 * closes, and the rest waits unsent in the send queue (12288 bytes in all
 * on Linux 6.18: 4096 at the peer, 8192 queued, charged 9024).  Every
 * scenario runs on the kernel and on usock (see sockapi.h), on lo;
 * expected values are the kernel's (Linux 6.18).  Scenarios close every
 * socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PATTERN_LEN (1 << 20)

/* The bytes every scenario sends, in order, so the receiver can check each one. */
static uint8_t pattern[PATTERN_LEN];

/*
 * A connected pair on lo: *c with SO_SNDBUF 4096 (blocking), *s the
 * accepted peer with SO_RCVBUF 4096 (set on the listener, inherited).
 */
static void small_pair(const struct sockapi *api, int *c, int *s)
{
	conf_fill(pattern, sizeof(pattern), 7);
	api->close(conf_tcp_small_pair(api, c, s));
}

static bool pollout(const struct sockapi *api, int fd)
{
	return conf_tcp_poll(api, fd, POLLOUT, 0) & POLLOUT;
}

/*
 * Send the pattern from offset *sent with MSG_DONTWAIT until EAGAIN; pause
 * 250 ms, longer than a delayed ACK (TCP_DELACK_MAX, 200 ms) whose
 * acknowledgement frees room, and go on, until a round's first send is
 * EAGAIN: the send buffer is full for good.  Every send before that must
 * queue something.
 */
static void fill(const struct sockapi *api, int c, size_t *sent)
{
	ssize_t r;
	int ok;

	for (int round = 0; round < 50; round++) {
		for (ok = 0;; ok++) {
			cr_assert(ok < 1000 && *sent + 65536 <= PATTERN_LEN,
				  "%s: the send buffer never fills", api->name);
			errno = 0;
			r = api->send(c, pattern + *sent, 65536, MSG_DONTWAIT);
			if (r < 0)
				break;
			cr_assert(r > 0);
			*sent += (size_t)r;
		}
		cr_assert_eq(errno, EAGAIN, "%s: send: %s", api->name, strerror(errno));
		if (ok == 0 && round > 0)
			return;
		api->sleep_ms(250);
	}
	cr_assert_fail("%s: the send buffer keeps draining", api->name);
}

/*
 * Receive up to n bytes that are already there (MSG_DONTWAIT, waiting up
 * to 1 s for the first) and check them against the pattern at *got.
 * Return: the bytes read.
 */
static size_t drain(const struct sockapi *api, int s, size_t n, size_t *got)
{
	static uint8_t buf[65536];
	ssize_t r;

	cr_assert(n <= sizeof(buf));
	conf_tcp_poll(api, s, POLLIN, 1000);
	r = api->recv(s, buf, n, MSG_DONTWAIT);
	cr_assert(r > 0, "%s: recv after %zu bytes: %zd (%s)", api->name, *got, r,
		  strerror(errno));
	cr_assert(memcmp(buf, pattern + *got, (size_t)r) == 0, "%s: byte stream differs at %zu",
		  api->name, *got);
	*got += (size_t)r;
	return (size_t)r;
}

/* Read everything sent (total bytes) from s, checking the pattern. */
static void drain_all(const struct sockapi *api, int s, size_t *got, size_t total)
{
	while (*got < total)
		drain(api, s, total - *got < 65536 ? total - *got : 65536, got);
}

/* SO_MEMINFO's view of the send side: bytes charged to the socket and its limit. */
static void wmem(const struct sockapi *api, int fd, uint32_t *queued, uint32_t *sndbuf)
{
	uint32_t m[SK_MEMINFO_VARS];
	socklen_t l = sizeof(m);

	OK(api->getsockopt(fd, SOL_SOCKET, SO_MEMINFO, m, &l));
	cr_assert_eq(l, sizeof(m));
	*queued = m[SK_MEMINFO_WMEM_QUEUED];
	*sndbuf = m[SK_MEMINFO_SNDBUF];
}

/*
 * R-SEND-10 R-ERR-EAGAIN R-FLAG-DONTWAIT: a non-blocking send larger than
 * the free room queues what fits and returns that count (0 < count <
 * len); sends go on queueing until the buffer is full, then EAGAIN, and
 * POLLOUT is clear and stays clear while the peer does not read.  The same
 * EAGAIN comes through O_NONBLOCK for send, write, sendmsg and sendmmsg
 * (which returns -1: no message sent).  Everything queued arrives intact
 * once the peer reads.  (On Linux 6.18 the first send(65536) of a fresh
 * connection queues 6144 bytes, then 2048 at a time: sends are cut to
 * half the peer's window, tcp_bound_to_half_wnd.)
 */
CONFORMANCE(tcp_flow, nonblocking_send_fills_then_eagain, .timeout = 20)
{
	struct iovec iov = { pattern, 1000 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };
	size_t sent = 0, got = 0;
	ssize_t r;
	int c, s, fl;

	small_pair(api, &c, &s);
	r = OK(api->send(c, pattern, 65536, MSG_DONTWAIT));
	cr_assert(r > 0 && r < 65536, "%s: first send queued %zd", api->name, r);
	sent = (size_t)r;
	fill(api, c, &sent);
	cr_assert(sent < 65536, "%s: %zu bytes queued with 8 KB buffers", api->name, sent);
	cr_assert(!pollout(api, c), "%s: POLLOUT on a full socket", api->name);
	FAILS(api->send(c, pattern + sent, 1, MSG_DONTWAIT), EAGAIN);
	api->sleep_ms(100);
	cr_assert(!pollout(api, c), "%s: POLLOUT came back with no reader", api->name);

	fl = OK(api->fcntl(c, F_GETFL, 0));
	OK(api->fcntl(c, F_SETFL, fl | O_NONBLOCK));
	FAILS(api->send(c, pattern + sent, 1000, 0), EAGAIN);
	FAILS(api->write(c, pattern + sent, 1000), EAGAIN);
	iov.iov_base = pattern + sent;
	m.msg_iov = &iov;
	mm.msg_hdr = m;
	FAILS(api->sendmsg(c, &m, 0), EAGAIN);
	FAILS(api->sendmmsg(c, &mm, 1, 0), EAGAIN);
	OK(api->fcntl(c, F_SETFL, fl));

	drain_all(api, s, &got, sent);
	cr_assert(pollout(api, c), "%s: no POLLOUT once the peer read everything", api->name);
	CONF_RET(api->send(c, pattern + sent, 100, MSG_DONTWAIT), 100);
	sent += 100;
	drain_all(api, s, &got, sent);
	api->close(s);
	api->close(c);
}

/*
 * R-SEND-10 R-NOTE-SELECT: while the peer reads a full connection back to
 * empty, 1 KB at a time, POLLOUT follows tcp_poll's rule exactly: set when
 * the free send space is at least half of what is queued and something is
 * free (sk_stream_wspace >= sk_stream_min_wspace, __sk_stream_memory_free),
 * i.e. once the queue is down to about two thirds of the buffer.  Queued
 * and limit are read from SO_MEMINFO (SK_MEMINFO_WMEM_QUEUED, _SNDBUF: the
 * kernel charges each buffer's true size, not just payload).  It is clear
 * at the start and set before the end.
 */
CONFORMANCE(tcp_flow, pollout_threshold, .timeout = 20)
{
	size_t sent = 0, got = 0;
	uint32_t q1, b1, q2, b2;
	int c, s, checked = 0, seen_clear = 0, seen_set = 0;
	bool out, rule;

	small_pair(api, &c, &s);
	fill(api, c, &sent);
	while (got < sent) {
		drain(api, s, 1024, &got);
		api->sleep_ms(2);
		wmem(api, c, &q1, &b1);
		out = pollout(api, c);
		wmem(api, c, &q2, &b2);
		if (q1 != q2 || b1 != b2)
			continue;
		rule = (int64_t)b1 - q1 >= (int64_t)(q1 >> 1) && q1 < b1;
		cr_assert_eq(out, rule, "%s: POLLOUT %d with %u of %u queued", api->name, out, q1,
			     b1);
		checked++;
		seen_clear += !out;
		seen_set += out;
	}
	cr_assert(checked > 0 && seen_clear > 0 && seen_set > 0,
		  "%s: %d checks, %d clear, %d set", api->name, checked, seen_clear, seen_set);
	cr_assert(pollout(api, c));
	api->close(s);
	api->close(c);
}

/* ---- a blocked send and a signal ------------------------------------------ */

/*
 * struct reader - a thread that, after delay_ms, reads the pattern from fd
 * until want bytes came (or 2 s pass with none), while the scenario's own
 * thread is blocked in send.  It asserts nothing (Criterion asserts belong
 * to the test's thread): bad counts what did not match the pattern.
 */
struct reader {
	const struct sockapi *api;
	int fd;
	unsigned delay_ms;
	size_t want, got;
	atomic_int started;
	int bad;
	pthread_t th;
};

static void *reader_run(void *arg)
{
	static uint8_t buf[65536];
	struct reader *rd = arg;
	struct timespec ts = { rd->delay_ms / 1000, (long)(rd->delay_ms % 1000) * 1000000L };
	struct pollfd p = { .fd = rd->fd, .events = POLLIN };
	ssize_t r;

	nanosleep(&ts, NULL);
	atomic_store(&rd->started, 1);
	while (rd->got < rd->want && rd->api->poll(&p, 1, 2000) > 0) {
		r = rd->api->recv(rd->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			break;
		if (rd->got + (size_t)r > PATTERN_LEN ||
		    memcmp(buf, pattern + rd->got, (size_t)r) != 0)
			rd->bad++;
		rd->got += (size_t)r;
	}
	return NULL;
}

static void reader_start(struct reader *rd)
{
	atomic_store(&rd->started, 0);
	cr_assert(pthread_create(&rd->th, NULL, reader_run, rd) == 0);
}

/*
 * R-ERR-EINTR: a blocking send that finds the buffer full and has queued
 * nothing is ended by a signal without SA_RESTART: -1 EINTR
 * (sk_stream_wait_memory); the buffer is as full as before and the peer
 * gets exactly what was queued before the call.
 */
CONFORMANCE(tcp_flow, eintr_full_buffer, .timeout = 20)
{
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	size_t sent = 0, got = 0;
	int c, s;

	conf_count_signal(SIGUSR1, false, NULL);
	small_pair(api, &c, &s);
	fill(api, c, &sent);
	conf_later_start(&it);
	FAILS(api->send(c, pattern + sent, 1000, 0), EINTR);
	cr_assert(atomic_load(&it.started) && conf_signals() == 1);
	conf_later_join(&it);
	FAILS(api->send(c, pattern + sent, 1000, MSG_DONTWAIT), EAGAIN);
	drain_all(api, s, &got, sent);
	api->sleep_ms(50);
	FAILS(api->recv(s, pattern, 1, MSG_DONTWAIT), EAGAIN);
	api->close(s);
	api->close(c);
}

/*
 * R-ERR-EINTR R-SEND-11: a blocking send of 256 KB into an empty 8 KB
 * buffer queues part of it and blocks; a signal then makes it return the
 * count queued (0 < count < len), with or without SA_RESTART (a partial
 * write is never restarted): the signal loses no byte and adds none.
 */
CONFORMANCE(tcp_flow, eintr_after_partial_send_returns_count, .timeout = 20)
{
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	size_t sent = 0, got = 0;
	ssize_t r;
	int c, s;

	small_pair(api, &c, &s);
	for (int restart = 0; restart < 2; restart++) {
		conf_count_signal(SIGUSR1, restart, NULL);
		conf_later_start(&it);
		r = OK(api->send(c, pattern + sent, 262144, 0));
		cr_assert(r > 0 && r < 262144, "%s: interrupted send returned %zd", api->name, r);
		cr_assert(atomic_load(&it.started) && conf_signals() == 1);
		conf_later_join(&it);
		sent += (size_t)r;
		drain_all(api, s, &got, sent);
		api->sleep_ms(50);
		FAILS(api->recv(s, pattern, 1, MSG_DONTWAIT), EAGAIN);
	}
	api->close(s);
	api->close(c);
}

/*
 * R-ERR-EINTR: with SA_RESTART and no SO_SNDTIMEO a send interrupted
 * before queueing anything is restarted: the handler runs, the call goes
 * on blocking until the peer reads (400 ms later) and returns the full
 * count.
 */
CONFORMANCE(tcp_flow, eintr_sa_restart_restarts, .timeout = 20)
{
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct reader rd = { .api = api, .delay_ms = 400 };
	size_t sent = 0;
	int c, s;

	conf_count_signal(SIGUSR1, true, NULL);
	small_pair(api, &c, &s);
	fill(api, c, &sent);
	rd.fd = s;
	rd.want = sent + 1000;
	conf_later_start(&it);
	reader_start(&rd);
	CONF_RET(api->send(c, pattern + sent, 1000, 0), 1000);
	cr_assert(atomic_load(&rd.started), "%s: send returned before the peer read",
		  api->name);
	cr_assert_eq(conf_signals(), 1);
	conf_later_join(&it);
	pthread_join(rd.th, NULL);
	cr_assert_eq(rd.got, sent + 1000, "%s: peer read %zu of %zu", api->name, rd.got,
		     sent + 1000);
	cr_assert_eq(rd.bad, 0, "%s: byte stream differs", api->name);
	api->close(s);
	api->close(c);
}

/*
 * R-ERR-EINTR: SA_RESTART does not restart a send with a send timeout
 * (SO_SNDTIMEO 10 s, longer than the test): EINTR (sock_intr_errno).
 */
CONFORMANCE(tcp_flow, eintr_sa_restart_with_sndtimeo, .timeout = 20)
{
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct timeval tv = { 10, 0 };
	size_t sent = 0, got = 0;
	int c, s;

	conf_count_signal(SIGUSR1, true, NULL);
	small_pair(api, &c, &s);
	OK(api->setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	fill(api, c, &sent);
	conf_later_start(&it);
	FAILS(api->send(c, pattern + sent, 1000, 0), EINTR);
	cr_assert_eq(conf_signals(), 1);
	conf_later_join(&it);
	drain_all(api, s, &got, sent);
	api->close(s);
	api->close(c);
}

/*
 * R-ERR-EAGAIN R-SEND-10: SO_SNDTIMEO (200 ms) bounds a blocking send: on
 * a full buffer with nothing queued it is -1 EAGAIN after the timeout; a
 * 256 KB send into an empty buffer returns the count it queued when the
 * timeout ends it.
 */
CONFORMANCE(tcp_flow, sndtimeo_expiry, .timeout = 20)
{
	struct timeval tv = { 0, 200000 };
	size_t sent = 0, got = 0;
	double t0, dt;
	ssize_t r;
	int c, s;

	small_pair(api, &c, &s);
	OK(api->setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	fill(api, c, &sent);
	t0 = conf_now_ms();
	FAILS(api->send(c, pattern + sent, 1000, 0), EAGAIN);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 150 && dt < 2000, "%s: EAGAIN after %.0f ms", api->name, dt);
	drain_all(api, s, &got, sent);
	api->sleep_ms(250);

	t0 = conf_now_ms();
	r = OK(api->send(c, pattern + sent, 262144, 0));
	dt = conf_now_ms() - t0;
	cr_assert(r > 0 && r < 262144, "%s: timed-out send returned %zd", api->name, r);
	cr_assert(dt >= 150 && dt < 2000, "%s: returned after %.0f ms", api->name, dt);
	sent += (size_t)r;
	drain_all(api, s, &got, sent);
	api->close(s);
	api->close(c);
}
