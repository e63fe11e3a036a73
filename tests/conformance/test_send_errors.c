/* SPDX-License-Identifier: MIT */
/*
 * test_send_errors.c - the errors of the send family over UDP/IPv4 (R-ERR-*)
 *
 * Every scenario runs on the kernel and on usock (see sockapi.h); expected
 * values are the kernel's (Linux 6.18).  Scenarios close every socket they
 * open: the usock run fails a test whose packet buffers are not back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include "sockapi.h"
#include "conf_util.h"

/*
 * R-ERR-EACCES-BCAST: a broadcast destination (lo's 127.255.255.255) without
 * SO_BROADCAST is EACCES for sendto, sendmsg and connect; with it the
 * datagram goes.  255.255.255.255 with only lo has no route at all
 * (ENETUNREACH comes first).  The subnet broadcast across a link is in
 * test_twohost.c.
 */
CONFORMANCE(send_errors, eacces_broadcast_without_so_broadcast)
{
	struct sockaddr_in bc = sin4("127.255.255.255", 1234), lb = sin4("255.255.255.255", 1234);
	struct sockaddr_in any;
	struct iovec iov = { "b", 1 };
	struct msghdr m = { .msg_name = &bc, .msg_namelen = sizeof(bc), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	int r, s, c, one = 1;

	r = bound_udp(api, "0.0.0.0", 1234, &any);
	s = conf_udp(api);
	CONF_ERR(api->sendto(s, "b", 1, 0, (struct sockaddr *)&bc, sizeof(bc)), EACCES);
	CONF_ERR(api->sendmsg(s, &m, 0), EACCES);
	CONF_ERR(api->sendto(s, "b", 1, 0, (struct sockaddr *)&lb, sizeof(lb)), ENETUNREACH);
	c = conf_udp(api);
	CONF_ERR(api->connect(c, (struct sockaddr *)&bc, sizeof(bc)), EACCES);
	conf_expect_none(api, r);
	cr_assert(api->setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) == 0);
	CONF_RET(api->sendto(s, "b", 1, 0, (struct sockaddr *)&bc, sizeof(bc)), 1);
	conf_expect_dgram(api, r, "b", 1);
	CONF_ERR(api->sendto(s, "b", 1, 0, (struct sockaddr *)&lb, sizeof(lb)), ENETUNREACH);
	api->close(c);
	api->close(s);
	api->close(r);
}

/*
 * R-ERR-EAGAIN-PORT: with ip_local_port_range narrowed to two ports (this
 * test's namespace only) and both taken, an unbound socket that must
 * autobind fails: sendto and connect EAGAIN, bind to port 0 EADDRINUSE.
 * Freeing one port lets the send autobind to it.
 */
CONFORMANCE(send_errors, eagain_no_ephemeral_port)
{
	struct sockaddr_in ra, a, any0 = sin4("0.0.0.0", 0);
	socklen_t l = sizeof(a);
	int r, p1, p2, s;

	cr_assert(conf_sysctl(api, "", "net.ipv4.ip_local_port_range", "40000 40001") == 0,
		  "%s: sysctl: %s", api->name, strerror(errno));
	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	p1 = bound_udp(api, "0.0.0.0", 40000, NULL);
	p2 = bound_udp(api, "127.0.0.1", 40001, NULL);
	s = conf_udp(api);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), EAGAIN);
	CONF_ERR(api->connect(s, (struct sockaddr *)&ra, sizeof(ra)), EAGAIN);
	CONF_ERR(api->bind(s, (struct sockaddr *)&any0, sizeof(any0)), EADDRINUSE);
	conf_expect_none(api, r);
	api->close(p2);
	CONF_RET(api->sendto(s, "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), 1);
	conf_expect_dgram(api, r, "x", 1);
	CONF_RET(api->getsockname(s, (struct sockaddr *)&a, &l), 0);
	cr_assert_eq(ntohs(a.sin_port), 40001, "%s: autobound to %u", api->name,
		     ntohs(a.sin_port));
	api->close(s);
	api->close(p1);
	api->close(r);
}

/* R-ERR-EBADF: -1, a closed descriptor, a number never opened. */
CONFORMANCE(send_errors, ebadf)
{
	struct sockaddr_in ra = sin4("127.0.0.1", 1234);
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };
	int fds[3], closed;

	closed = conf_udp(api);
	api->close(closed);
	fds[0] = -1;
	fds[1] = closed;
	fds[2] = INT_MAX;
	for (int i = 0; i < 3; i++) {
		CONF_ERR(api->send(fds[i], "x", 1, 0), EBADF);
		CONF_ERR(api->sendto(fds[i], "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), EBADF);
		CONF_ERR(api->sendmsg(fds[i], &m, 0), EBADF);
		CONF_ERR(api->sendmmsg(fds[i], &mm, 1, 0), EBADF);
		CONF_ERR(api->write(fds[i], "x", 1), EBADF);
	}
}

/* R-ERR-ENOTSOCK: open descriptors that are not sockets: a pipe, a regular file. */
CONFORMANCE(send_errors, enotsock)
{
	struct sockaddr_in ra = sin4("127.0.0.1", 1234);
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };
	FILE *f = tmpfile();
	int p[2], fds[2];

	cr_assert(pipe(p) == 0 && f);
	fds[0] = p[1];
	fds[1] = fileno(f);
	for (int i = 0; i < 2; i++) {
		CONF_ERR(api->send(fds[i], "x", 1, 0), ENOTSOCK);
		CONF_ERR(api->sendto(fds[i], "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra)),
			 ENOTSOCK);
		CONF_ERR(api->sendmsg(fds[i], &m, 0), ENOTSOCK);
		CONF_ERR(api->sendmmsg(fds[i], &mm, 1, 0), ENOTSOCK);
	}
	close(p[0]);
	close(p[1]);
	fclose(f);
}

/*
 * R-ERR-EFAULT: each user pointer on its own, NULL and a PROT_NONE page:
 * the call fails EFAULT, nothing is sent, nothing crashes, and the socket
 * still works.  The kernel's order matters too: send() on an unconnected
 * socket is EDESTADDRREQ before the buffer is read; a zero-length iovec or
 * a zero controllen is never read, so a bad pointer there is fine;
 * msg_control is copied whole even when shorter than a header.
 */
CONFORMANCE(send_errors, efault_each_pointer)
{
	void *bad = conf_bad_ptr();
	struct sockaddr_in ra;
	struct iovec iov = { "x", 1 }, badbase = { bad, 1 }, zero = { bad, 0 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 }, t;
	struct mmsghdr mm = { .msg_hdr = m };
	int r, s, c;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	mm.msg_hdr = m;
	s = conf_udp(api);
	c = conf_udp(api);
	cr_assert(api->connect(c, (struct sockaddr *)&ra, sizeof(ra)) == 0);
	/* buffer */
	CONF_ERR(api->sendto(s, NULL, 1, 0, (struct sockaddr *)&ra, sizeof(ra)), EFAULT);
	CONF_ERR(api->sendto(s, bad, 1, 0, (struct sockaddr *)&ra, sizeof(ra)), EFAULT);
	CONF_ERR(api->send(c, bad, 1, 0), EFAULT);
	CONF_ERR(api->write(c, bad, 1), EFAULT);
	CONF_ERR(api->send(s, bad, 1, 0), EDESTADDRREQ);
	/* address */
	CONF_ERR(api->sendto(s, "x", 1, 0, bad, sizeof(ra)), EFAULT);
	t = m;
	t.msg_name = bad;
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	/* msghdr */
	CONF_ERR(api->sendmsg(s, NULL, 0), EFAULT);
	CONF_ERR(api->sendmsg(s, bad, 0), EFAULT);
	/* iovec array */
	t = m;
	t.msg_iov = bad;
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	t.msg_iov = NULL;
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	CONF_ERR(api->writev(c, bad, 1), EFAULT);
	/* iov_base */
	t = m;
	t.msg_iov = &badbase;
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	CONF_ERR(api->writev(c, &badbase, 1), EFAULT);
	/* control */
	t = m;
	t.msg_control = bad;
	t.msg_controllen = CMSG_SPACE(sizeof(int));
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	t.msg_controllen = 8;
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	t.msg_control = NULL;
	t.msg_controllen = 64;
	CONF_ERR(api->sendmsg(s, &t, 0), EFAULT);
	/* msgvec */
	CONF_ERR(api->sendmmsg(s, NULL, 1, 0), EFAULT);
	CONF_ERR(api->sendmmsg(s, bad, 1, 0), EFAULT);
	mm.msg_hdr.msg_iov = &badbase;
	CONF_ERR(api->sendmmsg(s, &mm, 1, 0), EFAULT);
	conf_expect_none(api, r);

	/* Never read, so never a fault: each sends a datagram. */
	t = m;
	t.msg_iov = &zero;
	CONF_RET(api->sendmsg(s, &t, 0), 0);
	conf_expect_dgram(api, r, "", 0);
	t = m;
	t.msg_control = bad;
	t.msg_controllen = 0;
	CONF_RET(api->sendmsg(s, &t, 0), 1);
	conf_expect_dgram(api, r, "x", 1);
	CONF_RET(api->sendto(s, bad, 0, 0, (struct sockaddr *)&ra, sizeof(ra)), 0);
	conf_expect_dgram(api, r, "", 0);
	/* And the sockets still work. */
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	CONF_RET(api->send(c, "y", 1, 0), 1);
	conf_expect_dgram(api, r, "x", 1);
	conf_expect_dgram(api, r, "y", 1);
	api->close(c);
	api->close(s);
	api->close(r);
}

/* ---- EINTR: a blocked send and a signal ---------------------------------- */

/* A stalled sender whose send buffer is full: the next send blocks. */
static int full_sender(const struct sockapi *api, struct sockaddr_in *dst, char *buf)
{
	int s = conf_stalled_sender(api, dst);

	for (int i = 0; i < 2; i++)
		CONF_RET(api->sendto(s, buf, 2000, 0, (struct sockaddr *)dst, sizeof(*dst)), 2000);
	return s;
}

/*
 * R-ERR-EINTR: without SA_RESTART a signal ends a blocked send with EINTR
 * (sock_wait_for_wmem's -ERESTARTSYS becomes EINTR); nothing of it is sent.
 */
CONFORMANCE(send_errors, eintr_without_sa_restart, .timeout = 30)
{
	static char buf[2000];
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct sockaddr_in dst;
	int s;

	conf_count_signal(SIGUSR1, false, NULL);
	s = full_sender(api, &dst, buf);
	conf_later_start(&it);
	CONF_ERR(api->sendto(s, buf, 2000, 0, (struct sockaddr *)&dst, sizeof(dst)), EINTR);
	cr_assert(atomic_load(&it.started) && conf_signals() == 1);
	conf_later_join(&it);
	/* Still full: the interrupted datagram took no room. */
	CONF_ERR(api->sendto(s, buf, 2000, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof(dst)),
		 EAGAIN);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-ERR-EINTR: with SA_RESTART and no SO_SNDTIMEO the interrupted send is
 * restarted: the handler runs, the call does not return EINTR and goes on
 * blocking until room is made (ARP gives up as time passes), then returns
 * the full count.
 */
CONFORMANCE(send_errors, eintr_sa_restart_restarts, .timeout = 30)
{
	static char buf[2000];
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1,
				   .pass_ms = 1500 };
	struct sockaddr_in dst;
	int s;

	conf_count_signal(SIGUSR1, true, NULL);
	s = full_sender(api, &dst, buf);
	conf_later_start(&it);
	CONF_RET(api->sendto(s, buf, 2000, 0, (struct sockaddr *)&dst, sizeof(dst)), 2000);
	cr_assert(atomic_load(&it.started) && conf_signals() == 1,
		  "%s: returned before the signal (hits %d)", api->name, conf_signals());
	conf_later_join(&it);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-ERR-EINTR: with SA_RESTART but a send timeout (SO_SNDTIMEO, here 10 s,
 * longer than the test) the call is not restarted: EINTR, as sock_intr_errno
 * says for a finite timeout.
 */
CONFORMANCE(send_errors, eintr_sa_restart_with_sndtimeo, .timeout = 30)
{
	static char buf[2000];
	struct timeval tv = { 10, 0 };
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct sockaddr_in dst;
	int s;

	conf_count_signal(SIGUSR1, true, NULL);
	s = full_sender(api, &dst, buf);
	cr_assert(api->setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0);
	conf_later_start(&it);
	CONF_ERR(api->sendto(s, buf, 2000, 0, (struct sockaddr *)&dst, sizeof(dst)), EINTR);
	cr_assert(conf_signals() == 1);
	conf_later_join(&it);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-ERR-EINTR R-MMSG-8: sendmmsg interrupted while blocked on its third
 * entry returns the two it sent (the EINTR is lost); interrupted on its
 * first entry it is -1 EINTR.
 */
CONFORMANCE(send_errors, eintr_sendmmsg, .timeout = 30)
{
	static char buf[2000];
	struct iovec iov = { buf, sizeof(buf) };
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct sockaddr_in dst;
	struct mmsghdr mv[3];
	int s;

	conf_count_signal(SIGUSR1, false, NULL);
	s = conf_stalled_sender(api, &dst);
	memset(mv, 0, sizeof(mv));
	for (int i = 0; i < 3; i++) {
		mv[i].msg_hdr.msg_name = &dst;
		mv[i].msg_hdr.msg_namelen = sizeof(dst);
		mv[i].msg_hdr.msg_iov = &iov;
		mv[i].msg_hdr.msg_iovlen = 1;
	}
	conf_later_start(&it);
	CONF_RET(api->sendmmsg(s, mv, 3, 0), 2);
	cr_assert(conf_signals() == 1);
	conf_later_join(&it);
	conf_later_start(&it);
	CONF_ERR(api->sendmmsg(s, mv, 3, 0), EINTR);
	cr_assert(conf_signals() == 2);
	conf_later_join(&it);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-ERR-EINVAL: the invalid arguments of the generic layer: sendto's addrlen
 * above sizeof(sockaddr_storage) (move_addr_to_kernel), while sendmsg
 * clamps an oversized msg_namelen instead; writev with more than
 * UIO_MAXIOV iovecs.  The rest of UDP's EINVALs (short addrlen, port 0,
 * bad control messages) are in test_send.c.  No flag is EINVAL on UDP:
 * the kernel ignores the flags it has no use for (tested here), so there is
 * no bad-flags EINVAL to match.
 */
CONFORMANCE(send_errors, einval_lengths_and_ignored_flags)
{
	static struct iovec many[1025];
	static char ss[sizeof(struct sockaddr_storage) + 8];
	struct sockaddr_in ra;
	struct iovec iov = { "n", 1 };
	struct msghdr m = { .msg_name = ss, .msg_namelen = sizeof(ss), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	static const int ignored[] = { MSG_PEEK, MSG_TRUNC, MSG_WAITALL, MSG_ERRQUEUE,
				       MSG_CMSG_CLOEXEC, MSG_WAITFORONE, MSG_FASTOPEN,
				       MSG_ZEROCOPY, MSG_BATCH, MSG_CTRUNC, MSG_RST };
	int r, s, c;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	memcpy(ss, &ra, sizeof(ra));
	s = conf_udp(api);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)ss, sizeof(ss)), EINVAL);
	CONF_RET(api->sendto(s, "x", 1, 0, (struct sockaddr *)ss,
			     sizeof(struct sockaddr_storage)), 1);
	conf_expect_dgram(api, r, "x", 1);
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	conf_expect_dgram(api, r, "n", 1);
	c = conf_udp(api);
	cr_assert(api->connect(c, (struct sockaddr *)&ra, sizeof(ra)) == 0);
	for (int i = 0; i < 1025; i++) {
		many[i].iov_base = "v";
		many[i].iov_len = 1;
	}
	CONF_ERR(api->writev(c, many, 1025), EINVAL);
	conf_expect_none(api, r);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		CONF_RET(api->sendto(s, "f", 1, ignored[i], (struct sockaddr *)&ra, sizeof(ra)), 1);
		conf_expect_dgram(api, r, "f", 1);
	}
	api->close(c);
	api->close(s);
	api->close(r);
}

/*
 * R-ERR-EMSGSIZE R-SEND-8: UDP over IPv4 carries at most 65507 bytes
 * (65535 - 20 - 8); 65508, as one buffer or gathered, is EMSGSIZE and
 * nothing is sent; so is a msg_iovlen above UIO_MAXIOV (1024 is fine).
 */
CONFORMANCE(send_errors, emsgsize)
{
	static uint8_t big[65508];
	static struct iovec many[1025];
	struct sockaddr_in ra;
	struct iovec two[2] = { { big, 60000 }, { big + 60000, 5508 } };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = two,
			    .msg_iovlen = 2 };
	int r, s, rb = 1 << 20;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	api->setsockopt(r, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	s = conf_udp(api);
	conf_fill(big, sizeof(big), 5);
	CONF_ERR(api->sendto(s, big, 65508, 0, (struct sockaddr *)&ra, sizeof(ra)), EMSGSIZE);
	CONF_ERR(api->sendmsg(s, &m, 0), EMSGSIZE);
	CONF_ERR(api->sendto(s, big, 1 << 20, 0, (struct sockaddr *)&ra, sizeof(ra)), EMSGSIZE);
	conf_expect_none(api, r);
	CONF_RET(api->sendto(s, big, 65507, 0, (struct sockaddr *)&ra, sizeof(ra)), 65507);
	conf_expect_dgram(api, r, big, 65507);
	two[1].iov_len = 5507;
	CONF_RET(api->sendmsg(s, &m, 0), 65507);
	conf_expect_dgram(api, r, big, 65507);

	for (int i = 0; i < 1025; i++) {
		many[i].iov_base = big + i;
		many[i].iov_len = 1;
	}
	m.msg_iov = many;
	m.msg_iovlen = 1025;
	CONF_ERR(api->sendmsg(s, &m, 0), EMSGSIZE);
	conf_expect_none(api, r);
	m.msg_iovlen = 1024;
	CONF_RET(api->sendmsg(s, &m, 0), 1024);
	conf_expect_dgram(api, r, big, 1024);
	api->close(s);
	api->close(r);
}

/*
 * R-ERR-ENOBUFS R-NOTE-OPTMEM R-SEND-7: a control buffer is copied into
 * socket option memory (sock_kmalloc): msg_controllen of optmem_max or
 * more is ENOBUFS before a byte is read, one less is read (zeros: EINVAL);
 * the limit follows net.core.optmem_max of the namespace; a control buffer
 * that fits the kernel's on-stack 36 bytes never meets the limit.
 *
 * R-ERR-ENOMEM: no kernel path reachable from a test gives ENOMEM for a
 * UDP send: the allocations on the way (this control copy, the skb, the
 * iovec array above 8 entries) fail as ENOBUFS or EAGAIN here, or as
 * ENOMEM only when the machine is out of memory.  Nothing to match.
 */
CONFORMANCE(send_errors, enobufs_control_above_optmem_max)
{
	char val[64];
	struct sockaddr_in ra;
	struct iovec iov = { "c", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	size_t optmem, n;
	char *ctl;
	int r, s;

	cr_assert(conf_sysctl_get(api, "", "net.core.optmem_max", val, sizeof(val)) == 0);
	optmem = strtoul(val, NULL, 10);
	cr_assert(optmem >= 4096, "%s: optmem_max %zu", api->name, optmem);
	ctl = calloc(1, optmem + 64);
	cr_assert(ctl);
	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	m.msg_control = ctl;
	m.msg_controllen = optmem;
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);
	m.msg_controllen = optmem + 1;
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);
	m.msg_controllen = (size_t)INT_MAX + 1;
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);
	m.msg_controllen = optmem - 1;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	n = (optmem - 1) / CMSG_SPACE(sizeof(int));
	m.msg_controllen = conf_ttl_cmsgs(ctl, n, 33);
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	conf_expect_dgram(api, r, "c", 1);
	m.msg_controllen = conf_ttl_cmsgs(ctl, n + 1, 33);
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);

	/* A smaller optmem_max moves the limit. */
	cr_assert(conf_sysctl(api, "", "net.core.optmem_max", "100") == 0);
	m.msg_controllen = conf_ttl_cmsgs(ctl, 4, 33);	/* 96 */
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	conf_expect_dgram(api, r, "c", 1);
	m.msg_controllen = conf_ttl_cmsgs(ctl, 5, 33);	/* 120 */
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);
	cr_assert(conf_sysctl(api, "", "net.core.optmem_max", "10") == 0);
	m.msg_controllen = conf_ttl_cmsgs(ctl, 1, 33);	/* 24: on the stack */
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	conf_expect_dgram(api, r, "c", 1);
	m.msg_controllen = conf_ttl_cmsgs(ctl, 2, 33);	/* 48 */
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);
	conf_expect_none(api, r);
	free(ctl);
	api->close(s);
	api->close(r);
}

/*
 * R-ERR-ENOTCONN: where Linux says it for UDP: getpeername and shutdown on
 * a socket with no peer (never connected, or dissolved by AF_UNSPEC).
 * send() itself is EDESTADDRREQ (test_send.c).
 */
CONFORMANCE(send_errors, enotconn_udp)
{
	struct sockaddr_in ra, peer, un = { .sin_family = AF_UNSPEC };
	socklen_t l = sizeof(peer);
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	CONF_ERR(api->getpeername(s, (struct sockaddr *)&peer, &l), ENOTCONN);
	CONF_RET(api->connect(s, (struct sockaddr *)&ra, sizeof(ra)), 0);
	l = sizeof(peer);
	CONF_RET(api->getpeername(s, (struct sockaddr *)&peer, &l), 0);
	CONF_RET(api->connect(s, (struct sockaddr *)&un, sizeof(un)), 0);
	l = sizeof(peer);
	CONF_ERR(api->getpeername(s, (struct sockaddr *)&peer, &l), ENOTCONN);
	CONF_ERR(api->shutdown(s, SHUT_RD), ENOTCONN);
	api->close(s);
	api->close(r);
}

/* R-ERR-EOPNOTSUPP R-FLAG-OOB: MSG_OOB on UDP, through every send call. */
CONFORMANCE(send_errors, eopnotsupp_msg_oob)
{
	struct sockaddr_in ra;
	struct iovec iov = { "o", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct mmsghdr mm;
	int r, s, c;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	mm.msg_hdr = m;
	mm.msg_len = 0;
	s = conf_udp(api);
	c = conf_udp(api);
	cr_assert(api->connect(c, (struct sockaddr *)&ra, sizeof(ra)) == 0);
	CONF_ERR(api->sendto(s, "o", 1, MSG_OOB, (struct sockaddr *)&ra, sizeof(ra)), EOPNOTSUPP);
	CONF_ERR(api->sendmsg(s, &m, MSG_OOB), EOPNOTSUPP);
	CONF_ERR(api->sendmmsg(s, &mm, 1, MSG_OOB), EOPNOTSUPP);
	CONF_ERR(api->send(c, "o", 1, MSG_OOB), EOPNOTSUPP);
	CONF_ERR(api->send(c, "o", 1, MSG_OOB | MSG_DONTWAIT), EOPNOTSUPP);
	conf_expect_none(api, r);
	api->close(c);
	api->close(s);
	api->close(r);
}

/*
 * R-ERR-EPIPE R-NOTE-EPIPE-BUG (UDP angle): after shutdown(SHUT_WR) every
 * send on a UDP socket is EPIPE (sock_alloc_send_pskb checks
 * SEND_SHUTDOWN), with no SIGPIPE (UDP never raises it; the counting
 * handler proves it).  On an unconnected socket shutdown itself says
 * ENOTCONN, yet it has shut the socket down all the same: EPIPE follows.
 * SHUT_RD leaves sending alone.
 */
CONFORMANCE(send_errors, epipe_after_shut_wr)
{
	struct sigaction old;
	struct sockaddr_in ra;
	struct iovec iov = { "p", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct mmsghdr mm;
	int r, c, u, d;

	conf_count_signal(SIGPIPE, false, &old);
	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	mm.msg_hdr = m;
	c = conf_udp(api);
	cr_assert(api->connect(c, (struct sockaddr *)&ra, sizeof(ra)) == 0);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	CONF_ERR(api->send(c, "p", 1, 0), EPIPE);
	CONF_ERR(api->send(c, "p", 1, MSG_NOSIGNAL), EPIPE);
	CONF_ERR(api->write(c, "p", 1), EPIPE);
	CONF_ERR(api->sendto(c, "p", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), EPIPE);
	CONF_ERR(api->sendmsg(c, &m, 0), EPIPE);
	CONF_ERR(api->sendmmsg(c, &mm, 1, 0), EPIPE);

	u = conf_udp(api);
	CONF_ERR(api->shutdown(u, SHUT_WR), ENOTCONN);
	CONF_ERR(api->sendto(u, "p", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), EPIPE);

	d = conf_udp(api);
	cr_assert(api->connect(d, (struct sockaddr *)&ra, sizeof(ra)) == 0);
	CONF_RET(api->shutdown(d, SHUT_RD), 0);
	CONF_RET(api->send(d, "d", 1, 0), 1);
	conf_expect_dgram(api, r, "d", 1);
	conf_expect_none(api, r);
	cr_assert_eq(conf_signals(), 0, "%s: SIGPIPE raised for UDP", api->name);
	sigaction(SIGPIPE, &old, NULL);
	api->close(d);
	api->close(u);
	api->close(c);
	api->close(r);
}
