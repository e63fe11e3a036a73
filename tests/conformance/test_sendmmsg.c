/* SPDX-License-Identifier: MIT */
/*
 * test_sendmmsg.c - sendmmsg(2) over UDP/IPv4: the R-MMSG-* rules
 *
 * Every scenario runs on the kernel and on usock (see sockapi.h); expected
 * values are the kernel's (Linux 6.18).  Scenarios close every socket they
 * open: the usock run fails a test whose packet buffers are not back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include "sockapi.h"
#include "conf_util.h"

#define UNTOUCHED 777u

/* Point entry m at one iovec and (optionally) a destination; mark msg_len. */
static void mm_set(struct mmsghdr *m, struct iovec *iov, size_t iovlen, struct sockaddr_in *to)
{
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = iovlen;
	if (to) {
		m->msg_hdr.msg_name = to;
		m->msg_hdr.msg_namelen = sizeof(*to);
	}
	m->msg_len = UNTOUCHED;
}

/*
 * R-MMSG-1 R-MMSG-2 R-MMSG-3: each entry goes as sendmsg() would send it:
 * its own destination, its own gather list, its own ancillary data; each
 * msg_len is that entry's byte count and the return is the entry count.
 */
CONFORMANCE(sendmmsg, each_entry_is_a_sendmsg)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl, rctl;
	struct iovec iov[4] = { { "alpha", 5 }, { "be", 2 }, { "ta", 2 }, { "gamma", 5 } };
	struct sockaddr_in r1a, r2a;
	struct mmsghdr mv[3];
	struct cmsghdr *c = &ctl.align;
	char data[16];
	struct iovec riov = { data, sizeof(data) };
	struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1 };
	int r1, r2, s, ttl = 9, one = 1, got = -1;

	r1 = bound_udp(api, "127.0.0.1", 1234, &r1a);
	r2 = bound_udp(api, "127.0.0.1", 1235, &r2a);
	cr_assert(api->setsockopt(r1, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) == 0);
	s = conf_udp(api);
	mm_set(&mv[0], &iov[0], 1, &r1a);
	mm_set(&mv[1], &iov[1], 2, &r2a);
	mm_set(&mv[2], &iov[3], 1, &r1a);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_TTL;
	memcpy(CMSG_DATA(c), &ttl, sizeof(ttl));
	mv[2].msg_hdr.msg_control = ctl.b;
	mv[2].msg_hdr.msg_controllen = sizeof(ctl.b);

	CONF_RET(api->sendmmsg(s, mv, 3, 0), 3);
	cr_assert(mv[0].msg_len == 5 && mv[1].msg_len == 4 && mv[2].msg_len == 5,
		  "%s: msg_len %u %u %u", api->name, mv[0].msg_len, mv[1].msg_len,
		  mv[2].msg_len);
	conf_expect_dgram(api, r2, "beta", 4);
	/* r1: "alpha" with the default TTL, then "gamma" with TTL 9. */
	for (int i = 0; i < 2; i++) {
		struct pollfd p = { .fd = r1, .events = POLLIN };

		rm.msg_control = rctl.b;
		rm.msg_controllen = sizeof(rctl.b);
		cr_assert(api->poll(&p, 1, 1000) == 1);
		CONF_RET(api->recvmsg(r1, &rm, MSG_DONTWAIT), 5);
		cr_assert(memcmp(data, i ? "gamma" : "alpha", 5) == 0, "%s: order", api->name);
		c = CMSG_FIRSTHDR(&rm);
		cr_assert(c && c->cmsg_type == IP_TTL);
		memcpy(&got, CMSG_DATA(c), sizeof(got));
		cr_assert_eq(got, i ? 9 : 64, "%s: TTL of message %d", api->name, i);
	}
	conf_expect_none(api, r1);
	conf_expect_none(api, r2);
	api->close(s);
	api->close(r2);
	api->close(r1);
}

/*
 * R-MMSG-4: flags apply to every entry.  MSG_MORE on all three: the three
 * are appended into one pending datagram (each msg_len its own bytes),
 * finished by the next plain send.  MSG_OOB: the first entry already fails.
 */
CONFORMANCE(sendmmsg, flags_apply_to_every_entry)
{
	struct iovec iov[3] = { { "ab", 2 }, { "cd", 2 }, { "e", 1 } };
	struct sockaddr_in ra;
	struct mmsghdr mv[3];
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	for (int i = 0; i < 3; i++)
		mm_set(&mv[i], &iov[i], 1, &ra);
	CONF_RET(api->sendmmsg(s, mv, 3, MSG_MORE), 3);
	cr_assert(mv[0].msg_len == 2 && mv[1].msg_len == 2 && mv[2].msg_len == 1);
	conf_expect_none(api, r);
	CONF_RET(api->sendto(s, "!", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), 1);
	conf_expect_dgram(api, r, "abcde!", 6);

	for (int i = 0; i < 3; i++)
		mm_set(&mv[i], &iov[i], 1, &ra);
	CONF_ERR(api->sendmmsg(s, mv, 3, MSG_OOB), EOPNOTSUPP);
	cr_assert(mv[0].msg_len == UNTOUCHED, "%s: failed entry's msg_len written", api->name);
	CONF_RET(api->sendmmsg(s, mv, 3, MSG_DONTWAIT | MSG_CONFIRM), 3);
	conf_expect_dgram(api, r, "ab", 2);
	conf_expect_dgram(api, r, "cd", 2);
	conf_expect_dgram(api, r, "e", 1);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/*
 * R-MMSG-5 R-MMSG-6 R-MMSG-7: with the send buffer filling (datagrams wait
 * for ARP, see conf_stalled_sender: two 2000-byte datagrams fit), a
 * non-blocking call sends what fits and returns at once, by MSG_DONTWAIT or
 * by O_NONBLOCK; with nothing sendable it is -1 EAGAIN; called again with
 * the rest once there is room, it goes on; a blocking call blocks until all
 * are sent.
 */
CONFORMANCE(sendmmsg, nonblocking_partial_then_rest, .timeout = 30)
{
	static char buf[2000];
	struct iovec iov = { buf, sizeof(buf) };
	struct sockaddr_in dst;
	struct mmsghdr mv[5];
	struct conf_later tp = { .api = api, .delay_ms = 100, .pass_ms = 1500 };
	int s, fl;

	s = conf_stalled_sender(api, &dst);
	for (int i = 0; i < 5; i++)
		mm_set(&mv[i], &iov, 1, &dst);
	CONF_RET(api->sendmmsg(s, mv, 5, MSG_DONTWAIT), 2);
	cr_assert(mv[0].msg_len == 2000 && mv[1].msg_len == 2000);
	for (int i = 2; i < 5; i++)
		cr_assert(mv[i].msg_len == UNTOUCHED, "%s: entry %d touched", api->name, i);
	fl = api->fcntl(s, F_GETFL, 0);
	cr_assert(fl >= 0 && !(fl & O_NONBLOCK));
	cr_assert(api->fcntl(s, F_SETFL, fl | O_NONBLOCK) == 0);
	CONF_ERR(api->sendmmsg(s, mv + 2, 3, 0), EAGAIN);
	cr_assert(mv[2].msg_len == UNTOUCHED);

	/* ARP gives up, the buffer empties: the rest goes, as far as it fits. */
	api->sleep_ms(1500);
	CONF_RET(api->sendmmsg(s, mv + 2, 3, 0), 2);
	cr_assert(mv[2].msg_len == 2000 && mv[3].msg_len == 2000 && mv[4].msg_len == UNTOUCHED);

	/* Blocking: the third entry waits for room, then all three are sent. */
	api->sleep_ms(1500);
	cr_assert(api->fcntl(s, F_SETFL, fl) == 0);
	for (int i = 0; i < 3; i++)
		mm_set(&mv[i], &iov, 1, &dst);
	conf_later_start(&tp);
	CONF_RET(api->sendmmsg(s, mv, 3, 0), 3);
	cr_assert(atomic_load(&tp.started), "%s: blocking sendmmsg did not wait", api->name);
	cr_assert(mv[2].msg_len == 2000);
	conf_later_join(&tp);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-MMSG-7 R-MMSG-8: -1 with errno only when the first entry fails (with
 * that entry's sendmsg error); a later failure returns the count sent, the
 * error is lost (not even left in SO_ERROR), the failed entry and those
 * after it keep their msg_len; a retry from the failed entry reports it.
 */
CONFORMANCE(sendmmsg, error_after_first_is_lost)
{
	static char big[65508];
	struct iovec ok1 = { "one", 3 }, ok3 = { "three", 5 }, toobig = { big, sizeof(big) };
	struct iovec bad = { conf_bad_ptr(), 4 };
	struct sockaddr_in ra;
	struct mmsghdr mv[3];
	socklen_t l = sizeof(int);
	int r, s, err = -1;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	mm_set(&mv[0], &ok1, 1, &ra);
	mm_set(&mv[1], &toobig, 1, &ra);
	mm_set(&mv[2], &ok3, 1, &ra);
	CONF_RET(api->sendmmsg(s, mv, 3, 0), 1);
	cr_assert(mv[0].msg_len == 3 && mv[1].msg_len == UNTOUCHED &&
		  mv[2].msg_len == UNTOUCHED, "%s: msg_len %u %u %u", api->name, mv[0].msg_len,
		  mv[1].msg_len, mv[2].msg_len);
	cr_assert(api->getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l) == 0);
	cr_assert_eq(err, 0, "%s: the lost error surfaced in SO_ERROR", api->name);
	conf_expect_dgram(api, r, "one", 3);
	conf_expect_none(api, r);
	/* The retry from the failed entry reports its error; then the rest goes. */
	CONF_ERR(api->sendmmsg(s, mv + 1, 2, 0), EMSGSIZE);
	CONF_RET(api->sendmmsg(s, mv + 2, 1, 0), 1);
	conf_expect_dgram(api, r, "three", 5);

	/* The same with a fault in the second entry, and errors of a first entry. */
	mm_set(&mv[1], &bad, 1, &ra);
	CONF_RET(api->sendmmsg(s, mv, 3, 0), 1);
	conf_expect_dgram(api, r, "one", 3);
	CONF_ERR(api->sendmmsg(s, mv + 1, 2, 0), EFAULT);
	mm_set(&mv[0], &toobig, 1, &ra);
	CONF_ERR(api->sendmmsg(s, mv, 3, 0), EMSGSIZE);
	mm_set(&mv[0], &ok1, 1, &ra);
	mv[0].msg_hdr.msg_namelen = 3;
	CONF_ERR(api->sendmmsg(s, mv, 3, 0), EINVAL);
	cr_assert(mv[0].msg_len == UNTOUCHED);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/*
 * R-MMSG-9: vlen 0 returns 0 without touching msgvec (NULL is fine); vlen
 * above UIO_MAXIOV is clamped to 1024: the 1024 entries sit right before a
 * PROT_NONE page, so an implementation that reads entry 1024 faults instead
 * of returning 1024.
 */
CONFORMANCE(sendmmsg, vlen_zero_and_clamped, .timeout = 30)
{
	const size_t len = 1024 * sizeof(struct mmsghdr);
	static uint16_t idx[1024];
	static struct iovec iov[1024];
	struct sockaddr_in ra;
	struct mmsghdr *mv;
	uint16_t got, last = 0;
	uint8_t *area;
	int r, s, n = 0, big = 4 << 20;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	api->setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	s = conf_udp(api);
	CONF_RET(api->sendmmsg(s, NULL, 0, 0), 0);
	CONF_RET(api->sendmmsg(s, conf_bad_ptr(), 0, 0), 0);

	area = mmap(NULL, len + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(area != MAP_FAILED);
	cr_assert(mprotect(area + len, 4096, PROT_NONE) == 0);
	mv = (struct mmsghdr *)area;
	for (int i = 0; i < 1024; i++) {
		idx[i] = (uint16_t)i;
		iov[i].iov_base = &idx[i];
		iov[i].iov_len = sizeof(idx[i]);
		mm_set(&mv[i], &iov[i], 1, &ra);
	}
	CONF_RET(api->sendmmsg(s, mv, 2000, 0), 1024);
	cr_assert(mv[1023].msg_len == 2, "%s: last entry's msg_len %u", api->name,
		  mv[1023].msg_len);
	/* Whatever the receive buffer kept: in order, none beyond entry 1023. */
	while (conf_recv_wait(api, r, &got, sizeof(got), 0, 20, NULL) == sizeof(got)) {
		cr_assert(got < 1024 && (n == 0 || got > last), "%s: index %u after %u",
			  api->name, got, last);
		last = got;
		n++;
	}
	cr_assert(n > 0);
	for (int i = 0; i < 1024; i++)
		mv[i].msg_len = UNTOUCHED;
	CONF_RET(api->sendmmsg(s, mv, UINT_MAX, MSG_DONTWAIT), 1024);
	conf_drain(api, r);
	munmap(area, len + 4096);
	api->close(s);
	api->close(r);
}

/*
 * R-MMSG-10: the EXAMPLES program of sendmmsg(2): a UDP socket connected to
 * 127.0.0.1:1234, "one"+"two" from two iovecs and "three", one call; it
 * prints "2 messages sent" and the receiver gets exactly those datagrams.
 */
CONFORMANCE(sendmmsg, manual_page_example)
{
	struct iovec msg1[2], msg2;
	struct mmsghdr msg[2];
	struct sockaddr_in addr, ra;
	char line[64];
	int retval, sockfd, r;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	sockfd = api->socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(sockfd != -1);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(1234);
	cr_assert(api->connect(sockfd, (struct sockaddr *)&addr, sizeof(addr)) != -1);

	memset(msg1, 0, sizeof(msg1));
	msg1[0].iov_base = "one";
	msg1[0].iov_len = 3;
	msg1[1].iov_base = "two";
	msg1[1].iov_len = 3;
	memset(&msg2, 0, sizeof(msg2));
	msg2.iov_base = "three";
	msg2.iov_len = 5;
	memset(msg, 0, sizeof(msg));
	msg[0].msg_hdr.msg_iov = msg1;
	msg[0].msg_hdr.msg_iovlen = 2;
	msg[1].msg_hdr.msg_iov = &msg2;
	msg[1].msg_hdr.msg_iovlen = 1;

	retval = api->sendmmsg(sockfd, msg, 2, 0);
	cr_assert(retval != -1, "%s: sendmmsg: %s", api->name, strerror(errno));
	snprintf(line, sizeof(line), "%d messages sent\n", retval);
	cr_assert_str_eq(line, "2 messages sent\n");
	cr_assert(msg[0].msg_len == 6 && msg[1].msg_len == 5);
	conf_expect_dgram(api, r, "onetwo", 6);
	conf_expect_dgram(api, r, "three", 5);
	conf_expect_none(api, r);
	api->close(sockfd);
	api->close(r);
}
