/* SPDX-License-Identifier: MIT */
/*
 * test_recv.c - the UDP/IPv4 receive family: recv, recvfrom, recvmsg,
 * recvmmsg, read, readv; flags, truncation, timeouts and receive-queue
 * drops, kernel and usock side by side
 *
 * Expected values were read from the kernel (Linux 6.18, x86_64, HZ=250).
 * Timing checks use CLOCK_MONOTONIC with generous upper bounds; the lower
 * bounds are what the scenario is about (a call must not return early).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sockapi.h"
#include "conf_util.h"

/* The usual pair: rx bound to 127.0.0.1:5000, tx bound to 127.0.0.1:6000. */
struct pair {
	int rx, tx;
};

static struct pair mkpair(const struct sockapi *api)
{
	struct pair p;

	p.rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	p.tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	return p;
}

static void closepair(const struct sockapi *api, struct pair p)
{
	OK(api->close(p.rx));
	OK(api->close(p.tx));
}

/* Send len bytes of msg from tx to rx's 127.0.0.1:5000. */
static void put(const struct sockapi *api, struct pair p, const void *msg, size_t len)
{
	conf_send(api, p.tx, "127.0.0.1", 5000, msg, len);
}

static void put_str(const struct sockapi *api, struct pair p, const char *msg)
{
	put(api, p, msg, strlen(msg));
}

/* ---- the family ----------------------------------------------------------- */

CONFORMANCE(udp_recv, each_call_reads_one_datagram)
{
	struct pair p = mkpair(api);
	char b[64], b2[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct iovec iov[2] = { { b, 3 }, { b2, sizeof(b2) } };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = iov,
			    .msg_iovlen = 1 };

	put_str(api, p, "one");
	put_str(api, p, "two!");
	put_str(api, p, "three");
	put_str(api, p, "four");
	put_str(api, p, "fivefive");
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), 0)), 3);
	cr_assert_arr_eq(b, "one", 3);
	memset(&from, 0, sizeof(from));
	cr_assert_eq(OK(api->recvfrom(p.rx, b, sizeof(b), 0, SA(&from), &fl)), 4);
	cr_assert_arr_eq(b, "two!", 4);
	cr_assert_eq(fl, sizeof(from));
	cr_assert_eq(from.sin_family, AF_INET);
	cr_assert_eq(from.sin_port, htons(6000));
	cr_assert_eq(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	iov[0].iov_len = sizeof(b);
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, 0)), 5);
	cr_assert_arr_eq(b, "three", 5);
	cr_assert_eq(m.msg_namelen, sizeof(from));
	cr_assert_eq(from.sin_port, htons(6000));
	cr_assert_eq(OK(api->read(p.rx, b, sizeof(b))), 4);
	cr_assert_arr_eq(b, "four", 4);
	/* readv scatters one datagram over the vector. */
	iov[0].iov_len = 3;
	cr_assert_eq(OK(api->readv(p.rx, iov, 2)), 8);
	cr_assert_arr_eq(b, "fiv", 3);
	cr_assert_arr_eq(b2, "efive", 5);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	closepair(api, p);
}

CONFORMANCE(udp_recv, peek_then_read)
{
	struct pair p = mkpair(api);
	char b[64];
	struct iovec iov = { b, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	put_str(api, p, "peekaboo");
	put_str(api, p, "next");
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), MSG_PEEK)), 8);
	cr_assert_arr_eq(b, "peekaboo", 8);
	/* A short peek truncates (MSG_TRUNC in msg_flags) but consumes nothing. */
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, MSG_PEEK)), 4);
	cr_assert_eq(m.msg_flags, MSG_TRUNC);
	cr_assert_arr_eq(b, "peek", 4);
	memset(b, 0, sizeof(b));
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), 0)), 8);
	cr_assert_arr_eq(b, "peekaboo", 8);
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), 0)), 4);
	cr_assert_arr_eq(b, "next", 4);
	closepair(api, p);
}

/* SO_PEEK_OFF as getsockopt reads it. */
static int peek_off(const struct sockapi *api, int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	OK(api->getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, &l));
	return v;
}

static void set_peek_off(const struct sockapi *api, int fd, int v)
{
	OK(api->setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v)));
}

/* recvmsg into b[len] with flags; *mf gets msg_flags. */
static ssize_t recv_flags(const struct sockapi *api, int fd, char *b, size_t len, int flags,
			  int *mf)
{
	struct iovec iov = { b, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r = api->recvmsg(fd, &m, flags);

	*mf = m.msg_flags;
	return r;
}

/*
 * SO_PEEK_OFF on UDP: -1 (off) until set, negative values stored as given
 * and meaning off.  With an offset, MSG_PEEK reads the queued payload as
 * one stream of bytes: whole datagrams before the offset are stepped over,
 * a peek starts inside a datagram and the offset moves past what it
 * returned.  Quirks of udp_recvmsg/__skb_try_recv_from_queue: a peek that
 * reads a datagram's tail to its end still flags MSG_TRUNC; an empty
 * datagram is found once and passed over by later peeks at that offset; a
 * read moves the offset back by what it returned, not by the datagram it
 * removed (2 for a 3-byte datagram read into 2 bytes), and by the full
 * length with MSG_TRUNC.
 */
CONFORMANCE(udp_recv, peek_off)
{
	struct pair p = mkpair(api);
	char b[16];
	int mf;

	CONF_RET(peek_off(api, p.rx), -1);
	set_peek_off(api, p.rx, -7);
	CONF_RET(peek_off(api, p.rx), -7);
	put_str(api, p, "abc");
	put_str(api, p, "defgh");
	put(api, p, "", 0);
	put_str(api, p, "ij");
	/* off: every peek starts at the head */
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 3);
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 3);
	CONF_RET(peek_off(api, p.rx), -7);

	set_peek_off(api, p.rx, 0);
	CONF_RET(recv_flags(api, p.rx, b, 2, MSG_PEEK, &mf), 2);
	cr_assert_arr_eq(b, "ab", 2);
	CONF_RET(mf, MSG_TRUNC);
	CONF_RET(peek_off(api, p.rx), 2);
	CONF_RET(recv_flags(api, p.rx, b, 1, MSG_PEEK, &mf), 1);
	cr_assert_eq(b[0], 'c');
	CONF_RET(mf, MSG_TRUNC);
	CONF_RET(peek_off(api, p.rx), 3);
	CONF_RET(recv_flags(api, p.rx, b, sizeof(b), MSG_PEEK, &mf), 5);
	cr_assert_arr_eq(b, "defgh", 5);
	CONF_RET(mf, 0);
	CONF_RET(peek_off(api, p.rx), 8);
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 0);
	CONF_RET(peek_off(api, p.rx), 8);
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 2);
	cr_assert_arr_eq(b, "ij", 2);
	CONF_RET(peek_off(api, p.rx), 10);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), EAGAIN);

	/* reading "abc" into 2 bytes: back by 2, so the offset now lies past "ij" */
	CONF_RET(recv_flags(api, p.rx, b, 2, 0, &mf), 2);
	cr_assert_arr_eq(b, "ab", 2);
	CONF_RET(mf, MSG_TRUNC);
	CONF_RET(peek_off(api, p.rx), 8);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), EAGAIN);

	set_peek_off(api, p.rx, 1);
	CONF_RET(recv_flags(api, p.rx, b, sizeof(b), MSG_PEEK, &mf), 4);
	cr_assert_arr_eq(b, "efgh", 4);
	CONF_RET(mf, 0);
	CONF_RET(peek_off(api, p.rx), 5);
	/* MSG_TRUNC returns the datagram's length, and that is what the offset loses */
	CONF_RET(api->recv(p.rx, b, 2, MSG_TRUNC), 5);
	CONF_RET(peek_off(api, p.rx), 0);
	/* the empty datagram, peeked already, is passed over at offset 0 */
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 2);
	cr_assert_arr_eq(b, "ij", 2);
	CONF_RET(peek_off(api, p.rx), 2);
	CONF_RET(api->recv(p.rx, b, sizeof(b), 0), 0);
	CONF_RET(peek_off(api, p.rx), 2);
	CONF_RET(api->recv(p.rx, b, sizeof(b), 0), 2);
	cr_assert_arr_eq(b, "ij", 2);
	CONF_RET(peek_off(api, p.rx), 0);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	closepair(api, p);
}

/*
 * MSG_PEEK|MSG_TRUNC at an offset: the call returns the datagram's whole
 * length, and that, not the bytes copied from the offset, is what the
 * offset moves by (udp_recvmsg hands skb_consume_udp the return value).
 */
CONFORMANCE(udp_recv, peek_off_trunc)
{
	struct pair p = mkpair(api);
	char b[16];

	put_str(api, p, "abc");
	put_str(api, p, "defgh");
	set_peek_off(api, p.rx, 1);
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK | MSG_TRUNC), 3);
	cr_assert_arr_eq(b, "bc", 2);
	CONF_RET(peek_off(api, p.rx), 4);
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 4);
	cr_assert_arr_eq(b, "efgh", 4);
	CONF_RET(peek_off(api, p.rx), 8);
	closepair(api, p);
}

/*
 * A peek at an offset beyond what is queued waits, like any read on an
 * empty queue, until a datagram arrives that holds the offset.
 */
CONFORMANCE(udp_recv, peek_off_waits, .timeout = 10)
{
	struct pair p = mkpair(api);
	char b[16];

	put_str(api, p, "abc");
	set_peek_off(api, p.rx, 3);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	struct timeval tv = { .tv_usec = 200000 };
	OK(api->setsockopt(p.rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_PEEK), EAGAIN);
	put_str(api, p, "xy");
	CONF_RET(api->recv(p.rx, b, sizeof(b), MSG_PEEK), 2);
	cr_assert_arr_eq(b, "xy", 2);
	CONF_RET(peek_off(api, p.rx), 5);
	closepair(api, p);
}

CONFORMANCE(udp_recv, msg_trunc_returns_real_length)
{
	struct pair p = mkpair(api);
	char b[64];
	struct iovec iov = { b, 5 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	put_str(api, p, "hello world");
	/* The length-probe idiom: peek with no buffer at all. */
	cr_assert_eq(OK(api->recv(p.rx, NULL, 0, MSG_PEEK | MSG_TRUNC)), 11);
	cr_assert_eq(OK(api->recv(p.rx, b, 5, MSG_PEEK | MSG_TRUNC)), 11);
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, MSG_TRUNC)), 11);
	cr_assert_arr_eq(b, "hello", 5);
	cr_assert_eq(m.msg_flags, MSG_TRUNC);
	/* Not truncated: MSG_TRUNC returns the length as usual, no flag. */
	put_str(api, p, "abc");
	iov.iov_len = sizeof(b);
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, MSG_TRUNC)), 3);
	cr_assert_eq(m.msg_flags, 0);
	closepair(api, p);
}

CONFORMANCE(udp_recv, short_buffer_truncates_silently)
{
	struct pair p = mkpair(api);
	char b[64];
	struct iovec iov = { b, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	put_str(api, p, "hello world");
	put_str(api, p, "second");
	put_str(api, p, "third");
	/* recv says 4; the rest of the datagram is gone. */
	cr_assert_eq(OK(api->recv(p.rx, b, 4, 0)), 4);
	cr_assert_arr_eq(b, "hell", 4);
	m.msg_flags = 0x5555;	/* output only: overwritten */
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, 0)), 4);
	cr_assert_arr_eq(b, "seco", 4);
	cr_assert_eq(m.msg_flags, MSG_TRUNC);
	/* No buffer at all: 0, flagged, and the datagram is consumed. */
	m.msg_iovlen = 0;
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, 0)), 0);
	cr_assert_eq(m.msg_flags, MSG_TRUNC);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	closepair(api, p);
}

CONFORMANCE(udp_recv, zero_length_reads)
{
	struct pair p = mkpair(api);
	char b[16];
	struct iovec iov = { b, 0 };

	put_str(api, p, "keep");
	/*
	 * read() and readv() of 0 bytes return 0 before reaching UDP
	 * (sock_read_iter): the datagram stays queued...
	 */
	cr_assert_eq(OK(api->read(p.rx, b, 0)), 0);
	cr_assert_eq(OK(api->readv(p.rx, &iov, 1)), 0);
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), MSG_PEEK)), 4);
	/* ...while recv() of 0 bytes goes through udp_recvmsg and consumes it. */
	cr_assert_eq(OK(api->recv(p.rx, b, 0, 0)), 0);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	closepair(api, p);
}

CONFORMANCE(udp_recv, waitall_returns_one_datagram)
{
	struct pair p = mkpair(api);
	char b[100];
	double t0;

	put_str(api, p, "12345");
	put_str(api, p, "678");
	/* MSG_WAITALL means nothing to a datagram socket: one datagram, at once. */
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), MSG_WAITALL)), 5);
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), MSG_WAITALL)), 3);
	cr_assert_lt(conf_now_ms() - t0, 1000);
	closepair(api, p);
}

CONFORMANCE(udp_recv, zero_length_datagram)
{
	struct pair p = mkpair(api);
	char b[16];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct pollfd pf = { .fd = p.rx, .events = POLLIN };

	put(api, p, "", 0);
	put(api, p, "", 0);
	cr_assert_eq(OK(api->poll(&pf, 1, 0)), 1);
	cr_assert_eq(pf.revents, POLLIN);
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), 0)), 0);
	cr_assert_eq(OK(api->recvfrom(p.rx, b, sizeof(b), 0, SA(&from), &fl)), 0);
	cr_assert_eq(from.sin_port, htons(6000));
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	closepair(api, p);
}

CONFORMANCE(udp_recv, dontwait_on_empty_queue)
{
	struct pair p = mkpair(api);
	int unbound = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	int nb = OK(api->socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	char b[16];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	FAILS(api->recvfrom(p.rx, b, sizeof(b), MSG_DONTWAIT, NULL, NULL), EAGAIN);
	FAILS(api->recvmsg(p.rx, &m, MSG_DONTWAIT), EAGAIN);
	/* The flag is per call: the file stays blocking. */
	cr_assert_eq(OK(api->fcntl(p.rx, F_GETFL, 0)), O_RDWR);
	/* Never bound: nothing can arrive, still EAGAIN (no autobind on receive). */
	FAILS(api->recv(unbound, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	FAILS(api->recv(nb, b, sizeof(b), 0), EAGAIN);
	FAILS(api->read(nb, b, sizeof(b)), EAGAIN);
	OK(api->close(unbound));
	OK(api->close(nb));
	closepair(api, p);
}

/* ---- names ------------------------------------------------------------------ */

CONFORMANCE(udp_recv, recvfrom_address)
{
	struct pair p = mkpair(api);
	unsigned char name[32];
	socklen_t fl = 3;
	char b[16];

	put_str(api, p, "a");
	put_str(api, p, "b");
	put_str(api, p, "c");
	/* A short address buffer gets the first bytes and the full length. */
	memset(name, 0xee, sizeof(name));
	cr_assert_eq(OK(api->recvfrom(p.rx, b, sizeof(b), 0, SA(name), &fl)), 1);
	cr_assert_eq(fl, sizeof(struct sockaddr_in));
	cr_assert_eq(name[0] | name[1] << 8, AF_INET);
	cr_assert_eq(name[2], 6000 >> 8);
	cr_assert_eq(name[3], 0xee);
	/* No address wanted. */
	cr_assert_eq(OK(api->recvfrom(p.rx, b, sizeof(b), 0, NULL, NULL)), 1);
	cr_assert_eq(b[0], 'b');
	/*
	 * An address without a length pointer faults only after the datagram
	 * was taken off the queue: EFAULT, and "c" is gone.
	 */
	FAILS(api->recvfrom(p.rx, b, sizeof(b), 0, SA(name), NULL), EFAULT);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	closepair(api, p);
}

CONFORMANCE(udp_recv, recvmsg_namelen)
{
	struct pair p = mkpair(api);
	struct sockaddr_storage ss;
	char b[16];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_name = &ss, .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned char *raw = (unsigned char *)&ss;

	put_str(api, p, "1");
	put_str(api, p, "2");
	put_str(api, p, "3");
	m.msg_namelen = sizeof(ss);
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, 0)), 1);
	cr_assert_eq(m.msg_namelen, sizeof(struct sockaddr_in));
	cr_assert_eq(((struct sockaddr_in *)&ss)->sin_port, htons(6000));
	/* Too short: truncated copy, the true length reported back. */
	memset(&ss, 0xee, sizeof(ss));
	m.msg_namelen = 4;
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, 0)), 1);
	cr_assert_eq(m.msg_namelen, sizeof(struct sockaddr_in));
	cr_assert_eq(raw[0] | raw[1] << 8, AF_INET);
	cr_assert_eq(raw[2] << 8 | raw[3], 6000);
	cr_assert_eq(raw[4], 0xee);
	/* No name buffer: msg_namelen is left exactly as it was. */
	m.msg_name = NULL;
	m.msg_namelen = 77;
	cr_assert_eq(OK(api->recvmsg(p.rx, &m, 0)), 1);
	cr_assert_eq(m.msg_namelen, 77);
	closepair(api, p);
}

/* ---- recvmmsg ---------------------------------------------------------------- */

struct mm {
	struct mmsghdr v[8];
	struct iovec iov[8];
	struct sockaddr_in name[8];
	char buf[8][32];
};

static void mm_init(struct mm *mm)
{
	memset(mm, 0, sizeof(*mm));
	for (int i = 0; i < 8; i++) {
		mm->iov[i] = (struct iovec){ mm->buf[i], sizeof(mm->buf[i]) };
		mm->v[i].msg_hdr.msg_iov = &mm->iov[i];
		mm->v[i].msg_hdr.msg_iovlen = 1;
		mm->v[i].msg_hdr.msg_name = &mm->name[i];
		mm->v[i].msg_hdr.msg_namelen = sizeof(mm->name[i]);
		mm->v[i].msg_len = 0xdead;
	}
}

CONFORMANCE(udp_recv, recvmmsg_waitforone)
{
	struct pair p = mkpair(api);
	struct mm mm;
	double t0;

	mm_init(&mm);
	put_str(api, p, "a");
	put_str(api, p, "bb");
	put_str(api, p, "ccc");
	/* Blocking socket, vlen 5, three queued: three, without waiting for more. */
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 5, MSG_WAITFORONE, NULL)), 3);
	cr_assert_lt(conf_now_ms() - t0, 1000);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(mm.v[i].msg_len, (unsigned)i + 1);
		cr_assert_eq(mm.buf[i][0], 'a' + i);
		cr_assert_eq(mm.v[i].msg_hdr.msg_namelen, sizeof(struct sockaddr_in));
		cr_assert_eq(mm.name[i].sin_port, htons(6000));
	}
	/* Entries beyond the count are untouched. */
	cr_assert_eq(mm.v[3].msg_len, 0xdead);
	closepair(api, p);
}

CONFORMANCE(udp_recv, recvmmsg_waitforone_blocks_for_first)
{
	struct pair p = mkpair(api);
	struct conf_later l = { .api = api, .delay_ms = 150, .fd = p.tx, .msg = "late",
				  .to = sin4("127.0.0.1", 5000) };
	struct mm mm;
	double t0;

	mm_init(&mm);
	conf_later_start(&l);
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 4, MSG_WAITFORONE, NULL)), 1);
	cr_assert_geq(conf_now_ms() - t0, 100);
	cr_assert_eq(mm.v[0].msg_len, 4);
	conf_later_join(&l);
	closepair(api, p);
}

CONFORMANCE(udp_recv, recvmmsg_nonblocking_partial)
{
	struct pair p = mkpair(api);
	struct mm mm;

	mm_init(&mm);
	put_str(api, p, "x");
	put_str(api, p, "y");
	/* The EAGAIN that ends the batch is swallowed: the count is returned. */
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 4, MSG_DONTWAIT, NULL)), 2);
	FAILS(api->recvmmsg(p.rx, mm.v, 4, MSG_DONTWAIT, NULL), EAGAIN);
	OK(api->fcntl(p.rx, F_SETFL, O_NONBLOCK));
	put_str(api, p, "z");
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 4, 0, NULL)), 1);
	FAILS(api->recvmmsg(p.rx, mm.v, 4, 0, NULL), EAGAIN);
	closepair(api, p);
}

CONFORMANCE(udp_recv, recvmmsg_vlen_zero)
{
	struct pair p = mkpair(api);
	struct mm mm;

	mm_init(&mm);
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 0, 0, NULL)), 0);
	put_str(api, p, "stay");
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 0, MSG_DONTWAIT, NULL)), 0);
	/* Nothing was consumed. */
	cr_assert_eq(OK(api->recv(p.rx, mm.buf[0], 32, MSG_DONTWAIT)), 4);
	closepair(api, p);
}

CONFORMANCE(udp_recv, recvmmsg_timeout_only_between_datagrams)
{
	struct pair p = mkpair(api);
	struct conf_later l = { .api = api, .delay_ms = 300, .fd = p.tx, .msg = "second",
				  .to = sin4("127.0.0.1", 5000) };
	struct timespec to = { 0, 50 * 1000000 };
	struct mm mm;
	double t0, dt;

	mm_init(&mm);
	put_str(api, p, "first");
	conf_later_start(&l);
	/*
	 * The kernel's documented bug: the timeout is checked only after each
	 * datagram, so with one queued and vlen 2 the call blocks for the
	 * second well past the 50 ms it was given.
	 */
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 2, 0, &to)), 2);
	dt = conf_now_ms() - t0;
	cr_assert_geq(dt, 250, "%s: returned after %.0f ms", api->name, dt);
	cr_assert_eq(mm.v[1].msg_len, 6);
	/* The time left is written back: none. */
	cr_assert(to.tv_sec == 0 && to.tv_nsec == 0, "%s: left %ld.%09ld", api->name,
		  (long)to.tv_sec, to.tv_nsec);
	conf_later_join(&l);
	closepair(api, p);
}

CONFORMANCE(udp_recv, recvmmsg_timeout_written_back)
{
	struct pair p = mkpair(api);
	struct timespec to = { 10, 0 }, bad = { 0, 1000000000 }, neg = { -1, 0 };
	struct mm mm;

	mm_init(&mm);
	put_str(api, p, "a");
	put_str(api, p, "b");
	cr_assert_eq(OK(api->recvmmsg(p.rx, mm.v, 2, 0, &to)), 2);
	/* What is left of the 10 s: less, but not much less. */
	cr_assert(to.tv_sec == 9 && to.tv_nsec > 0, "%s: left %ld.%09ld", api->name,
		  (long)to.tv_sec, to.tv_nsec);
	FAILS(api->recvmmsg(p.rx, mm.v, 2, MSG_DONTWAIT, &bad), EINVAL);
	FAILS(api->recvmmsg(p.rx, mm.v, 2, MSG_DONTWAIT, &neg), EINVAL);
	closepair(api, p);
}

/* ---- error queue and timeouts ------------------------------------------------ */

CONFORMANCE(udp_recv, errqueue_empty)
{
	struct pair p = mkpair(api);
	char b[16];
	double t0 = conf_now_ms();

	/* Never blocks, even without MSG_DONTWAIT. */
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_ERRQUEUE), EAGAIN);
	FAILS(api->recv(p.rx, b, sizeof(b), MSG_ERRQUEUE | MSG_DONTWAIT), EAGAIN);
	cr_assert_lt(conf_now_ms() - t0, 1000);
	closepair(api, p);
}

CONFORMANCE(udp_recv, rcvtimeo_expires)
{
	struct pair p = mkpair(api);
	struct timeval tv = { 0, 100000 };
	struct mm mm;
	char b[16];
	double t0, dt;

	mm_init(&mm);
	OK(api->setsockopt(p.rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t0 = conf_now_ms();
	FAILS(api->recv(p.rx, b, sizeof(b), 0), EAGAIN);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 90 && dt < 1000, "%s: recv gave up after %.0f ms", api->name, dt);
	t0 = conf_now_ms();
	FAILS(api->recvmmsg(p.rx, mm.v, 2, 0, NULL), EAGAIN);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 90 && dt < 1000, "%s: recvmmsg gave up after %.0f ms", api->name, dt);
	/* Data queued in time is returned at once. */
	put_str(api, p, "ok");
	cr_assert_eq(OK(api->recv(p.rx, b, sizeof(b), 0)), 2);
	closepair(api, p);
}

CONFORMANCE(udp_recv, rcvtimeo_negative_means_no_wait)
{
	struct pair p = mkpair(api);
	struct timeval tv = { -1, 0 };
	char b[16];
	double t0;

	/*
	 * sock_set_timeout turns a negative time into 0 jiffies, which the
	 * receive path reads as "do not wait" (unlike 0.0, "wait forever").
	 */
	OK(api->setsockopt(p.rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t0 = conf_now_ms();
	FAILS(api->recv(p.rx, b, sizeof(b), 0), EAGAIN);
	cr_assert_lt(conf_now_ms() - t0, 50);
	closepair(api, p);
}

CONFORMANCE(udp_recv, rcvtimeo_invalid_edom)
{
	struct pair p = mkpair(api);
	struct timeval big = { 0, 1000000 }, neg = { 0, -1 };

	FAILS(api->setsockopt(p.rx, SOL_SOCKET, SO_RCVTIMEO, &big, sizeof(big)), EDOM);
	FAILS(api->setsockopt(p.rx, SOL_SOCKET, SO_RCVTIMEO, &neg, sizeof(neg)), EDOM);
	closepair(api, p);
}

/* ---- receive-queue drops --------------------------------------------------- */

/*
 * Receive-buffer accounting.  __udp_enqueue_schedule_skb (6.18) charges each
 * datagram its skb->truesize and drops it when rmem + truesize > rcvbuf,
 * unless the queue is empty (the first datagram always gets in).  Loopback
 * truesize on this build, measured by the payload at which the count steps:
 *   payload    0..197  ->  832   (256-byte small head + 576 of sk_buff/shinfo)
 *   payload  198..645  -> 1280   (1 KiB kmalloc head + 256)
 *   payload  646..1669 -> 2304   (2 KiB head + 256)
 *   payload 1670..~3700 -> 4352  (4 KiB head + 256)
 * Datagrams kept out of 300 sent without reading (SO_RCVBUF set, reported):
 *                      payload:   1     64   1000   1472
 *   set     1 (2304)             2      2      1      1
 *   set  2048 (4096)             4      4      1      1
 *   set  4096 (8192)             9      9      3      3
 *   set 65536 (131072)         157    157     56     56
 * usock must keep exactly as many.
 */
static void drop_counts(const struct sockapi *api, int rcvbuf, const int want[4])
{
	static const int sizes[4] = { 1, 64, 1000, 1472 };
	static char payload[1472];

	for (int i = 0; i < 4; i++) {
		struct pair p = mkpair(api);
		int got;

		OK(api->setsockopt(p.rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
		for (int n = 0; n < 300; n++)
			put(api, p, payload, (size_t)sizes[i]);
		/* Let any deferred softirq work finish before counting. */
		api->sleep_ms(20);
		got = conf_drain(api, p.rx);
		cr_assert_eq(got, want[i], "%s: SO_RCVBUF %d, payload %d: kept %d, want %d",
			     api->name, rcvbuf, sizes[i], got, want[i]);
		/* Drained, the queue takes datagrams again. */
		put(api, p, payload, (size_t)sizes[i]);
		cr_assert_eq(conf_drain(api, p.rx), 1);
		closepair(api, p);
	}
}

CONFORMANCE(udp_recv, rcvbuf_min_drop_count)
{
	static const int want[4] = { 2, 2, 1, 1 };

	drop_counts(api, 1, want);
}

CONFORMANCE(udp_recv, rcvbuf_2048_drop_count)
{
	static const int want[4] = { 4, 4, 1, 1 };

	drop_counts(api, 2048, want);
}

CONFORMANCE(udp_recv, rcvbuf_4096_drop_count)
{
	static const int want[4] = { 9, 9, 3, 3 };

	drop_counts(api, 4096, want);
}

CONFORMANCE(udp_recv, rcvbuf_65536_drop_count)
{
	static const int want[4] = { 157, 157, 56, 56 };

	drop_counts(api, 65536, want);
}
