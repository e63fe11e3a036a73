/* SPDX-License-Identifier: MIT */
/*
 * test_tap_tcp.c - the kernel's TCP against usock's, over the TAP device
 *
 * The topology of interop_lib.h: kernel netns ui<pid> (tapu0 198.18.0.1)
 * facing usock's eth0 (198.18.0.2), real time, usock's capture of eth0 in
 * ix.pcap.  Each test uses ix_kside and ix_uside only (interop_lib.h), so
 * with USOCK_INTEROP_PEER=kernel the same test runs kernel against kernel
 * (`USOCK_INTEROP_PEER=kernel build/tests/interop --filter 'tap_tcp/[a-z]*'`).
 *
 * Bulk: one connection carries 64 MiB each way at once, full duplex, from
 * non-blocking sockets driven by poll (R-SEND-10's partial writes and
 * writability), one thread per end; then each end shuts down its sending
 * half and reads to EOF.  Bytes are a pseudo-random stream of the offset
 * (splitmix64 of the 8-byte word index and a per-direction seed), compared
 * chunk by chunk as they arrive, so a fault is reported at its first byte.
 * Loss, when injected, is 1 %: on the kernel's side of the TAP both ways
 * (interop_kernel_loss: not seeded, the kernel here has no netem), or by
 * usock's netem on eth0 (seed 7: usock's own frames, after its capture).
 *
 * Fast Open: the second connection's SYN carries data with the cookie the
 * first one obtained; the server reads it; the capture shows it.
 *
 * Every capture is judged by interop_tcp_check.  What is an error: a
 * malformed frame or expert error, any bad or unverified checksum (but
 * Linux's 0xffff for a TCP checksum of 0, see interop_tcp.c), any
 * frame that is neither ARP nor this TCP, a gap in what usock sent (its
 * capture is taken before any loss, so "previous segment not captured" on
 * a usock frame means usock skipped bytes), usock acknowledging bytes the
 * capture never saw arrive, data beyond the peer's advertised window, a
 * usock receive window whose right edge moves left, and RST.  Expected
 * under loss, and only counted: retransmissions (any kind), out-of-order,
 * duplicate ACKs, and gaps in the kernel's frames (dropped before usock).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <criterion/criterion.h>

#include "sockapi.h"
#include "usock.h"

#include "interop_lib.h"

#define BULK_PORT IX_TCP_PORT0
#define TFO_PORT (IX_TCP_PORT0 + 1)
#define BULK_BYTES (64ull << 20)
#define BULK_MS 60000		/* a pump's deadline; a lossless run takes seconds */
#define STEP_MS 10000		/* connect, accept, a short read */
#define SEED_C2S 0xc25eed01ull
#define SEED_S2C 0x52ceed02ull
#define TFO_LEN 1000		/* fits a SYN at MSS 1460 with the cookie */

TestSuite(tap_tcp, .init = interop_tcp_setup, .fini = interop_tcp_teardown, .timeout = 180);

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* ---- the byte stream ---- */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* stream_fill - bytes [off, off+len) of the stream of seed: byte i is byte i%8 of word i/8. */
static void stream_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t w = splitmix64(seed ^ ((off + i) / 8 * 0x100000001b3ull));
		unsigned k = (unsigned)((off + i) % 8);

		for (; k < 8 && i < len; k++, i++)
			buf[i] = (uint8_t)(w >> (8 * k));
	}
}

/* ---- connections ---- */

static const char *api_err(void)
{
	return strerror(errno);
}

/* A listener of side s on its address:port; TCP_FASTOPEN with qlen when qlen > 0. */
static int listener(const struct interop_side *s, uint16_t port, int qlen)
{
	struct sockaddr_in a = sin4(s->addr, port);
	int l = interop_socket(s, SOCK_STREAM), one = 1;

	cr_assert(l >= 0, "%s: socket(AF_INET, SOCK_STREAM): %s", s->name, api_err());
	cr_assert(s->api->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0,
		  "%s: SO_REUSEADDR: %s", s->name, api_err());
	cr_assert(s->api->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0, "%s: bind %s:%u: %s",
		  s->name, s->addr, port, api_err());
	if (qlen > 0)
		cr_assert(s->api->setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)) == 0,
			  "%s: TCP_FASTOPEN on the listener: %s", s->name, api_err());
	cr_assert(s->api->listen(l, 16) == 0, "%s: listen: %s", s->name, api_err());
	return l;
}

static void set_nonblock(const struct interop_side *s, int fd)
{
	int fl = s->api->fcntl(fd, F_GETFL, 0);

	cr_assert(fl >= 0 && s->api->fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0,
		  "%s: O_NONBLOCK: %s", s->name, api_err());
}

/* wait_for - poll fd of side s for ev within ms. Return: revents (0 on timeout). */
static short wait_for(const struct interop_side *s, int fd, short ev, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct pollfd p = { .fd = fd, .events = ev };

	for (;;) {
		uint64_t t = now_ms();
		int r;

		if (t >= end)
			return 0;
		r = s->api->poll(&p, 1, (int)(end - t));
		if (r > 0)
			return p.revents;
		cr_assert(r == 0 || errno == EINTR, "%s: poll: %s", s->name, api_err());
	}
}

/* A non-blocking socket of side s connected to dst within STEP_MS. */
static int connect_to(const struct interop_side *s, const struct sockaddr_in *dst)
{
	int fd = interop_socket(s, SOCK_STREAM), err = 0, r;
	socklen_t len = sizeof(err);

	cr_assert(fd >= 0, "%s: socket(AF_INET, SOCK_STREAM): %s", s->name, api_err());
	set_nonblock(s, fd);
	r = s->api->connect(fd, (const struct sockaddr *)dst, sizeof(*dst));
	cr_assert(r == 0 || errno == EINPROGRESS, "%s: connect: %s", s->name, api_err());
	if (r != 0)
		cr_assert(wait_for(s, fd, POLLOUT, STEP_MS) & POLLOUT,
			  "%s: connect to %s:%u not done in %d ms", s->name,
			  inet_ntoa(dst->sin_addr), ntohs(dst->sin_port), STEP_MS);
	cr_assert(s->api->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0,
		  "%s: connect: SO_ERROR %d (%s)", s->name, err, strerror(err));
	return fd;
}

/* Accept one connection on l within STEP_MS; it must come from want. */
static int accept_from(const struct interop_side *s, int l, const struct sockaddr_in *want)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int fd;

	cr_assert(wait_for(s, l, POLLIN, STEP_MS) & POLLIN, "%s: nothing to accept in %d ms",
		  s->name, STEP_MS);
	fd = s->api->accept4(l, (struct sockaddr *)&peer, &len, 0);
	cr_assert(fd >= 0, "%s: accept: %s", s->name, api_err());
	cr_assert(len == sizeof(peer) && peer.sin_addr.s_addr == want->sin_addr.s_addr &&
			  peer.sin_port == want->sin_port,
		  "%s: accepted %s:%u, want %s:%u", s->name, inet_ntoa(peer.sin_addr),
		  ntohs(peer.sin_port), inet_ntoa(want->sin_addr), ntohs(want->sin_port));
	return fd;
}

static struct sockaddr_in local_of(const struct interop_side *s, int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	cr_assert(s->api->getsockname(fd, (struct sockaddr *)&a, &len) == 0, "%s: getsockname: %s",
		  s->name, api_err());
	return a;
}

/* TCP_INFO of fd, or false (usock may not give it: the caller only logs then). */
static bool tcp_info_of(const struct interop_side *s, int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return s->api->getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0;
}

/* ---- the pump: one end of a full-duplex bulk transfer ---- */

#define TXBUF (256u << 10)
#define RXBUF (64u << 10)

struct pump {
	const struct interop_side *side;
	int fd;
	uint64_t tx_seed, rx_seed, total, deadline;
	uint64_t sent, rcvd;
	bool shut, eof;
	char msg[320];		/* why it stopped early; "" when all went well */
};

static atomic_bool pump_abort;

/* Compare what arrived with the stream at offset p->rcvd. Return: false on a mismatch. */
static bool pump_check(struct pump *p, const uint8_t *got, size_t n, uint8_t *want)
{
	if (p->rcvd + n > p->total) {
		snprintf(p->msg, sizeof(p->msg), "%s: %zu bytes more than the %llu sent",
			 p->side->name, (size_t)(p->rcvd + n - p->total),
			 (unsigned long long)p->total);
		return false;
	}
	stream_fill(p->rx_seed, p->rcvd, want, n);
	if (memcmp(got, want, n) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i]) {
			size_t diff = 0;

			for (size_t k = i; k < n; k++)
				diff += got[k] != want[k];
			snprintf(p->msg, sizeof(p->msg),
				 "%s: byte %llu of the stream is %#04x, want %#04x (%zu of the next "
				 "%zu bytes differ)",
				 p->side->name, (unsigned long long)(p->rcvd + i), got[i], want[i],
				 diff, n - i);
			break;
		}
	return false;
}

/* Read until EAGAIN or EOF. Return: false on an error (p->msg says it). */
static bool pump_rx(struct pump *p, uint8_t *rbuf, uint8_t *want)
{
	const struct sockapi *api = p->side->api;

	for (;;) {
		ssize_t n = api->recv(p->fd, rbuf, RXBUF, 0);

		if (n > 0) {
			if (!pump_check(p, rbuf, (size_t)n, want))
				return false;
			p->rcvd += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			p->eof = true;
			if (p->rcvd != p->total) {
				snprintf(p->msg, sizeof(p->msg), "%s: EOF after %llu of %llu bytes",
					 p->side->name, (unsigned long long)p->rcvd,
					 (unsigned long long)p->total);
				return false;
			}
			return true;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (errno == EINTR)
			continue;
		snprintf(p->msg, sizeof(p->msg), "%s: recv after %llu bytes: %s", p->side->name,
			 (unsigned long long)p->rcvd, strerror(errno));
		return false;
	}
}

/*
 * Write until EAGAIN or the end, then shut the sending half down.  Writes
 * take turns over a few sizes, so that partial writes, coalescing and
 * large copies all happen.  Return: false on an error.
 */
static bool pump_tx(struct pump *p, uint8_t *tbuf, uint64_t *tbase, unsigned *turn)
{
	static const size_t sizes[] = { 65536, 1448, 100000, 7, 32768, 1, 200000, 4096 };
	const struct sockapi *api = p->side->api;

	while (p->sent < p->total) {
		size_t len = sizes[*turn % (sizeof(sizes) / sizeof(sizes[0]))];
		uint64_t in_buf = *tbase + TXBUF - p->sent;
		ssize_t n;

		if (in_buf == 0) {
			*tbase = p->sent;
			stream_fill(p->tx_seed, *tbase, tbuf, TXBUF);
			in_buf = TXBUF;
		}
		if (len > in_buf)
			len = (size_t)in_buf;
		if (len > p->total - p->sent)
			len = (size_t)(p->total - p->sent);
		n = api->send(p->fd, tbuf + (p->sent - *tbase), len, MSG_NOSIGNAL);
		if (n > 0) {
			p->sent += (uint64_t)n;
			(*turn)++;
			continue;
		}
		if (n == 0) {
			snprintf(p->msg, sizeof(p->msg), "%s: send returned 0", p->side->name);
			return false;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (errno == EINTR)
			continue;
		snprintf(p->msg, sizeof(p->msg), "%s: send after %llu bytes: %s", p->side->name,
			 (unsigned long long)p->sent, strerror(errno));
		return false;
	}
	if (!p->shut) {
		if (api->shutdown(p->fd, SHUT_WR) != 0) {
			snprintf(p->msg, sizeof(p->msg), "%s: shutdown(SHUT_WR): %s", p->side->name,
				 strerror(errno));
			return false;
		}
		p->shut = true;
	}
	return true;
}

static void *pump_main(void *arg)
{
	struct pump *p = arg;
	const struct sockapi *api = p->side->api;
	uint8_t *tbuf = malloc(TXBUF), *rbuf = malloc(RXBUF), *want = malloc(RXBUF);
	uint64_t tbase = 0;
	unsigned turn = 0;

	interop_side_enter(p->side);
	if (!tbuf || !rbuf || !want) {
		snprintf(p->msg, sizeof(p->msg), "malloc");
		goto out;
	}
	stream_fill(p->tx_seed, 0, tbuf, TXBUF);
	while (!(p->shut && p->eof)) {
		struct pollfd pf = { .fd = p->fd };
		int r;

		if (atomic_load(&pump_abort)) {
			snprintf(p->msg, sizeof(p->msg), "%s: stopped, the other end failed",
				 p->side->name);
			break;
		}
		if (now_ms() >= p->deadline) {
			snprintf(p->msg, sizeof(p->msg),
				 "%s: deadline (%d ms): sent %llu, received %llu of %llu bytes",
				 p->side->name, BULK_MS, (unsigned long long)p->sent,
				 (unsigned long long)p->rcvd, (unsigned long long)p->total);
			break;
		}
		pf.events = (short)((p->eof ? 0 : POLLIN) | (p->shut ? 0 : POLLOUT));
		r = api->poll(&pf, 1, 100);
		if (r < 0 && errno != EINTR) {
			snprintf(p->msg, sizeof(p->msg), "%s: poll: %s", p->side->name,
				 strerror(errno));
			break;
		}
		if (r <= 0)
			continue;
		if (pf.revents & POLLNVAL) {
			snprintf(p->msg, sizeof(p->msg), "%s: poll: POLLNVAL", p->side->name);
			break;
		}
		if (!p->eof && (pf.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pump_rx(p, rbuf, want))
			break;
		if (!p->shut && (pf.revents & (POLLOUT | POLLERR | POLLHUP)) &&
		    !pump_tx(p, tbuf, &tbase, &turn))
			break;
	}
out:
	if (p->msg[0])
		atomic_store(&pump_abort, true);
	free(tbuf);
	free(rbuf);
	free(want);
	return NULL;
}

/* Run the two ends of a connection (a: client, b: server) in two threads; assert both went well. */
static double pump_pair(struct pump *a, struct pump *b)
{
	pthread_t ta, tb;
	uint64_t t0 = now_ms();

	atomic_store(&pump_abort, false);
	a->deadline = b->deadline = t0 + BULK_MS;
	cr_assert(pthread_create(&ta, NULL, pump_main, a) == 0, "pthread_create");
	cr_assert(pthread_create(&tb, NULL, pump_main, b) == 0, "pthread_create");
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	cr_assert(!a->msg[0] && !b->msg[0], "bulk transfer failed:\n  %s\n  %s",
		  a->msg[0] ? a->msg : "(this end was fine)", b->msg[0] ? b->msg : "(this end was fine)");
	cr_assert(a->sent == a->total && b->rcvd == a->total && b->sent == b->total &&
			  a->rcvd == b->total,
		  "bulk: sent %llu/%llu, received %llu/%llu", (unsigned long long)a->sent,
		  (unsigned long long)b->sent, (unsigned long long)a->rcvd,
		  (unsigned long long)b->rcvd);
	return (double)(now_ms() - t0) / 1000.0;
}

/* ---- the judge's verdicts ---- */

#define BY(st, side, name) ((side) == &ix_uside ? (st)->name##_u : (st)->name##_k)

/* What must hold in every capture of these tests; conns is the number of connections. */
static void judge_clean(struct interop_tcp_stats *st, unsigned conns)
{
	char sum[1536];

	cr_assert(interop_tcp_check(ix.pcap, st) == 0, "tshark: %s", st->report);
	interop_tcp_summary(st, sum, sizeof(sum));
	cr_log_info("capture: %s", sum);
	cr_assert(st->bad == 0, "%u malformed frames or expert errors:\n%s\n%s", st->bad,
		  st->report, sum);
	cr_assert(st->csum_bad == 0 && st->csum_unverified == 0,
		  "checksums: %u bad, %u unverified:\n%s", st->csum_bad, st->csum_unverified,
		  st->report);
	cr_assert(st->other == 0, "%u frames neither ARP nor our TCP:\n%s", st->other, st->report);
	cr_assert(st->conns == conns, "%u connections in the capture, want %u", st->conns, conns);
	cr_assert(st->lost_u == 0, "usock skipped bytes: %u gaps in what it sent:\n%s", st->lost_u,
		  st->report);
	cr_assert(st->acklost_u == 0, "usock acknowledged bytes it never got (%u):\n%s",
		  st->acklost_u, st->report);
	cr_assert(st->acklost_k == 0,
		  "the kernel acknowledged bytes missing from usock's capture (%u):\n%s",
		  st->acklost_k, st->report);
	cr_assert(st->beyond_u == 0, "usock sent beyond the kernel's window (%u):\n%s",
		  st->beyond_u, st->report);
	cr_assert(st->shrink_u == 0, "usock shrank its window (%u):\n%s", st->shrink_u,
		  st->report);
	/* the kernel breaking these would mean the judge is wrong, not usock */
	cr_assert(st->beyond_k == 0 && st->shrink_k == 0,
		  "the judge faults the kernel (beyond %u, shrink %u):\n%s", st->beyond_k,
		  st->shrink_k, st->report);
	cr_assert(st->rst_k == 0 && st->rst_u == 0, "RST sent: kernel %u, usock %u", st->rst_k,
		  st->rst_u);
}

/* ---- bulk ---- */

enum loss { LOSS_NONE, LOSS_KERNEL, LOSS_USOCK };

static void log_info(const struct interop_side *s, int fd, const char *role)
{
	struct tcp_info ti;

	if (tcp_info_of(s, fd, &ti))
		cr_log_info("%s (%s): rtt %u us, cwnd %u, total_retrans %u", role, s->name,
			    ti.tcpi_rtt, ti.tcpi_snd_cwnd, ti.tcpi_total_retrans);
	else
		cr_log_info("%s (%s): no TCP_INFO: %s", role, s->name, strerror(errno));
}

/*
 * bulk - cli connects to srv; 64 MiB each way at once, byte-exact, with
 * the loss asked for; then the capture is judged.
 */
static void bulk(const struct interop_side *srv, const struct interop_side *cli, enum loss loss)
{
	struct sockaddr_in dst = sin4(srv->addr, BULK_PORT), from;
	struct pump pc = { .side = cli, .tx_seed = SEED_C2S, .rx_seed = SEED_S2C,
			   .total = BULK_BYTES };
	struct pump ps = { .side = srv, .tx_seed = SEED_S2C, .rx_seed = SEED_C2S,
			   .total = BULK_BYTES };
	struct interop_tcp_stats st;
	unsigned long lin = 0, leg = 0, lu = 0;
	double secs;
	int l;

	if (loss == LOSS_USOCK) {
		int r = interop_usock_netem("loss 1% seed 7");

		cr_assert(r == 0, "usock netem: %s", strerror(-r));
	} else if (loss == LOSS_KERNEL) {
		interop_kernel_loss(100);
	}
	l = listener(srv, BULK_PORT, 0);
	pc.fd = connect_to(cli, &dst);
	from = local_of(cli, pc.fd);
	ps.fd = accept_from(srv, l, &from);
	cr_assert(srv->api->close(l) == 0, "%s: close listener: %s", srv->name, api_err());
	set_nonblock(srv, ps.fd);

	secs = pump_pair(&pc, &ps);
	cr_log_info("bulk %s client -> %s server: 2 x %llu bytes in %.2f s (%.0f Mbit/s each way)",
		    cli->name, srv->name, BULK_BYTES, secs,
		    secs > 0 ? (double)BULK_BYTES * 8 / secs / 1e6 : 0.0);
	log_info(cli, pc.fd, "client");
	log_info(srv, ps.fd, "server");
	if (loss == LOSS_KERNEL) {
		interop_kernel_loss_stats(&lin, &leg);
		interop_kernel_loss_off();
		cr_log_info("kernel-side loss: %lu frames from usock, %lu from the kernel", lin, leg);
		cr_assert(lin > 0 && leg > 0, "no loss happened (in %lu, out %lu)", lin, leg);
	} else if (loss == LOSS_USOCK) {
		lu = interop_usock_netem_lost();
		interop_usock_netem_off();
		cr_log_info("usock netem lost %lu frames", lu);
		cr_assert(lu > 0, "usock's netem lost nothing");
	}
	cr_assert(cli->api->close(pc.fd) == 0, "%s: close: %s", cli->name, api_err());
	cr_assert(srv->api->close(ps.fd) == 0, "%s: close: %s", srv->name, api_err());

	judge_clean(&st, 1);
	cr_assert(st.bytes_k >= BULK_BYTES && st.bytes_u >= BULK_BYTES,
		  "payload in the capture: kernel %llu, usock %llu bytes", st.bytes_k, st.bytes_u);
	/* usock's lost data segments come back only by its retransmissions */
	if (lin > 20 || lu > 20)
		cr_assert(st.retrans_u > 0, "usock lost %lu frames and retransmitted nothing",
			  lin + lu);
	interop_finish();
}

/*
 * R-SEND-10 on a stream, against the kernel (partial non-blocking writes,
 * poll's writability): the kernel connects to a usock listener; 64 MiB
 * each way at once, byte-exact, no loss.
 */
Test(tap_tcp, bulk_kernel_client)
{
	bulk(&ix_uside, &ix_kside, LOSS_NONE);
}

/* The same with usock connecting to a kernel listener. */
Test(tap_tcp, bulk_usock_client)
{
	bulk(&ix_kside, &ix_uside, LOSS_NONE);
}

/* Kernel client, 1 % of the TCP frames lost each way on the kernel's side of the link. */
Test(tap_tcp, bulk_kernel_client_kernel_loss)
{
	bulk(&ix_uside, &ix_kside, LOSS_KERNEL);
}

/* usock client, 1 % lost each way on the kernel's side. */
Test(tap_tcp, bulk_usock_client_kernel_loss)
{
	bulk(&ix_kside, &ix_uside, LOSS_KERNEL);
}

/* Kernel client, usock's netem losing 1 % of usock's frames (seed 7). */
Test(tap_tcp, bulk_kernel_client_usock_netem)
{
	bulk(&ix_uside, &ix_kside, LOSS_USOCK);
}

/* usock client, usock's netem losing 1 % of usock's frames (seed 7). */
Test(tap_tcp, bulk_usock_client_usock_netem)
{
	bulk(&ix_kside, &ix_uside, LOSS_USOCK);
}

/* ---- Fast Open ---- */

/* Read exactly n bytes equal to want from fd of side s within STEP_MS. */
static void recv_exact(const struct interop_side *s, int fd, const uint8_t *want, size_t n)
{
	uint8_t buf[4096];
	size_t got = 0;

	cr_assert(n <= sizeof(buf), "recv_exact: %zu bytes", n);
	while (got < n) {
		ssize_t r;

		cr_assert(wait_for(s, fd, POLLIN, STEP_MS) & (POLLIN | POLLHUP | POLLERR),
			  "%s: %zu of %zu bytes in %d ms", s->name, got, n, STEP_MS);
		r = s->api->recv(fd, buf + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		cr_assert(r > 0, "%s: recv after %zu of %zu bytes: %s", s->name, got, n,
			  r == 0 ? "EOF" : api_err());
		got += (size_t)r;
	}
	cr_assert(memcmp(buf, want, n) == 0, "%s: the %zu bytes differ from what was sent",
		  s->name, n);
}

/*
 * One Fast Open connection: cli sends msg with sendto(MSG_FASTOPEN) (a
 * blocking socket, SO_SNDTIMEO bounding the handshake), srv accepts and
 * reads it, answers "ok" and both close.  Return: the client's and the
 * server's tcpi_options (0 when TCP_INFO is not given).
 */
static void tfo_round(const struct interop_side *srv, const struct interop_side *cli, int l,
		      const uint8_t *msg, uint8_t opts[2])
{
	struct sockaddr_in dst = sin4(srv->addr, TFO_PORT), from;
	struct timeval tv = { .tv_sec = STEP_MS / 1000 };
	struct tcp_info ti;
	int c, s;
	ssize_t n;

	c = interop_socket(cli, SOCK_STREAM);
	cr_assert(c >= 0, "%s: socket(AF_INET, SOCK_STREAM): %s", cli->name, api_err());
	cr_assert(cli->api->setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0,
		  "%s: SO_SNDTIMEO: %s", cli->name, api_err());
	n = cli->api->sendto(c, msg, TFO_LEN, MSG_FASTOPEN, (struct sockaddr *)&dst, sizeof(dst));
	cr_assert(n == TFO_LEN, "%s: sendto(MSG_FASTOPEN): %zd (%s)", cli->name, n,
		  n < 0 ? api_err() : "short");
	from = local_of(cli, c);
	s = accept_from(srv, l, &from);
	recv_exact(srv, s, msg, TFO_LEN);
	cr_assert(srv->api->send(s, "ok", 2, MSG_NOSIGNAL) == 2, "%s: send: %s", srv->name,
		  api_err());
	recv_exact(cli, c, (const uint8_t *)"ok", 2);
	opts[0] = tcp_info_of(cli, c, &ti) ? ti.tcpi_options : 0;
	opts[1] = tcp_info_of(srv, s, &ti) ? ti.tcpi_options : 0;
	cr_assert(cli->api->close(c) == 0, "%s: close: %s", cli->name, api_err());
	cr_assert(srv->api->close(s) == 0, "%s: close: %s", srv->name, api_err());
}

static void tfo_sysctl(const struct interop_side *s)
{
	cr_assert(interop_sysctl(s, "net.ipv4.tcp_fastopen", "3") == 0,
		  "%s: net.ipv4.tcp_fastopen=3: %s", s->name, api_err());
}

/*
 * fastopen - cli's first connection asks srv for a cookie (its data goes
 * after the handshake), the second puts its data in the SYN with the
 * cookie, srv accepts it with the SYN.  The kernel's own word
 * (TCPI_OPT_SYN_DATA: "SYN-ACK acked data in SYN sent or rcvd") and the
 * capture must agree.
 */
static void fastopen(const struct interop_side *srv, const struct interop_side *cli)
{
	struct interop_tcp_stats st;
	uint8_t msg[2][TFO_LEN], opts[2][2];
	const struct interop_side *ks = srv == &ix_kside ? srv : cli;
	int l, kpos = ks == cli ? 0 : 1;

	conf_fill(msg[0], TFO_LEN, IX_SEED + 100);
	conf_fill(msg[1], TFO_LEN, IX_SEED + 101);
	tfo_sysctl(&ix_kside);
	tfo_sysctl(&ix_uside);
	l = listener(srv, TFO_PORT, 16);
	tfo_round(srv, cli, l, msg[0], opts[0]);
	tfo_round(srv, cli, l, msg[1], opts[1]);
	cr_assert(srv->api->close(l) == 0, "%s: close listener: %s", srv->name, api_err());
	cr_log_info("tcpi_options: first %#x/%#x, second %#x/%#x (client/server)", opts[0][0],
		    opts[0][1], opts[1][0], opts[1][1]);
	cr_assert(!(opts[0][kpos] & TCPI_OPT_SYN_DATA),
		  "kernel %s: the first connection had no cookie, yet SYN data was acked",
		  kpos ? "server" : "client");
	cr_assert(opts[1][kpos] & TCPI_OPT_SYN_DATA,
		  "kernel %s: the second connection's SYN data was not acked (tcpi_options %#x)",
		  kpos ? "server" : "client", opts[1][kpos]);

	judge_clean(&st, 2);
	cr_assert(BY(&st, cli, tfo_req) >= 1, "%s's first SYN did not ask for a cookie:\n%s",
		  cli->name, st.report);
	cr_assert(BY(&st, srv, tfo_cookie) >= 1, "%s's SYN-ACK gave no cookie", srv->name);
	cr_assert(BY(&st, cli, tfo_cookie) >= 1, "%s's second SYN carried no cookie", cli->name);
	cr_assert(BY(&st, cli, syndata) >= 1, "%s's second SYN carried no data", cli->name);
	cr_assert(BY(&st, srv, syndata) == 0, "%s's SYN-ACK carried data", srv->name);
	cr_assert(BY(&st, srv, tfo_ack) >= 1 && BY(&st, srv, tfo_ignored) == 0,
		  "%s's SYN-ACK did not accept the SYN's data (accepted %u, ignored %u)", srv->name,
		  BY(&st, srv, tfo_ack), BY(&st, srv, tfo_ignored));
	interop_finish();
}

/* MSG_FASTOPEN from a usock client to a kernel TCP_FASTOPEN listener. */
Test(tap_tcp, fastopen_usock_client)
{
	fastopen(&ix_kside, &ix_uside);
}

/* A kernel MSG_FASTOPEN client against a usock TCP_FASTOPEN listener. */
Test(tap_tcp, fastopen_kernel_client)
{
	fastopen(&ix_uside, &ix_kside);
}
