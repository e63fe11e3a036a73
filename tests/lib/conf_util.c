/* SPDX-License-Identifier: MIT */
/*
 * conf_util.c - the helpers the conformance scenario files share (conf_util.h)
 *
 * Theory of operation.  Stateless but for the signal counter of
 * conf_count_signal, a process-wide atomic: Criterion runs every test in its
 * own process, so a count never leaks from one scenario into another, and
 * one counter serves whichever signal the running scenario counts.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "conf_util.h"

int conf_udp(const struct sockapi *api)
{
	int fd = api->socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert(fd >= 0, "%s: socket: %s", api->name, strerror(errno));
	return fd;
}

int conf_udp_connected(const struct sockapi *api, const struct sockaddr_in *to)
{
	int fd = conf_udp(api);

	cr_assert(api->connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0,
		  "%s: connect: %s", api->name, strerror(errno));
	return fd;
}

/* getsockname or getpeername into a poisoned buffer; the answer must be a whole sockaddr_in. */
static struct sockaddr_in name_of(const struct sockapi *api, int fd, bool peer)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	memset(&a, 0xee, sizeof(a));
	if (peer)
		OK(api->getpeername(fd, SA(&a), &l));
	else
		OK(api->getsockname(fd, SA(&a), &l));
	cr_assert_eq(l, sizeof(a));
	cr_assert_eq(a.sin_family, AF_INET);
	return a;
}

struct sockaddr_in conf_local_of(const struct sockapi *api, int fd)
{
	return name_of(api, fd, false);
}

struct sockaddr_in conf_peer_of(const struct sockapi *api, int fd)
{
	return name_of(api, fd, true);
}

void conf_assert_ip(struct in_addr a, const char *ip)
{
	char got[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, got, sizeof(got));
	cr_assert_str_eq(got, ip);
}

void conf_assert_addr(const struct sockaddr_in *a, const char *ip, uint16_t port)
{
	conf_assert_ip(a->sin_addr, ip);
	cr_assert_eq(ntohs(a->sin_port), port, "port %u, want %u", ntohs(a->sin_port), port);
}

void conf_send(const struct sockapi *api, int fd, const char *ip, uint16_t port, const void *buf,
	       size_t len)
{
	struct sockaddr_in d = sin4(ip, port);

	cr_assert_eq(OK(api->sendto(fd, buf, len, 0, SA(&d), sizeof(d))), (long)len);
}

void conf_send_str(const struct sockapi *api, int fd, const char *ip, uint16_t port,
		   const char *msg)
{
	conf_send(api, fd, ip, port, msg, strlen(msg));
}

size_t conf_ttl_cmsgs(void *buf, size_t n, int ttl)
{
	struct cmsghdr *c;
	size_t off = 0;

	for (size_t i = 0; i < n; i++, off += CMSG_SPACE(sizeof(int))) {
		c = (struct cmsghdr *)((char *)buf + off);
		memset(c, 0, CMSG_SPACE(sizeof(int)));
		c->cmsg_len = CMSG_LEN(sizeof(int));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_TTL;
		memcpy(CMSG_DATA(c), &ttl, sizeof(int));
	}
	return off;
}

double conf_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *later_run(void *arg)
{
	struct conf_later *l = arg;
	struct timespec ts = { l->delay_ms / 1000, (long)(l->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	atomic_store(&l->started, 1);
	if (l->sig)
		pthread_kill(l->target, l->sig);
	if (l->msg)
		l->api->sendto(l->fd, l->msg, strlen(l->msg), 0, (struct sockaddr *)&l->to,
			       sizeof(l->to));
	if (l->pass_ms)
		l->api->sleep_ms(l->pass_ms);
	return NULL;
}

void conf_later_start(struct conf_later *l)
{
	l->target = pthread_self();
	atomic_store(&l->started, 0);
	cr_assert(pthread_create(&l->th, NULL, later_run, l) == 0);
}

void conf_later_join(struct conf_later *l)
{
	pthread_join(l->th, NULL);
}

static atomic_int signals_seen;

static void count_one(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

void conf_count_signal(int sig, bool restart, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_one;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	cr_assert(sigaction(sig, &sa, old) == 0);
	atomic_store(&signals_seen, 0);
}

int conf_signals(void)
{
	return atomic_load(&signals_seen);
}

ssize_t conf_read_err(const struct sockapi *api, int fd, char *buf, size_t n,
		      struct sockaddr_in *from, struct sock_extended_err *ee,
		      struct sockaddr_in *offender, int *flags)
{
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, n};
	struct msghdr m = {.msg_name = from, .msg_namelen = sizeof(*from), .msg_iov = &iov,
			   .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	memset(from, 0, sizeof(*from));
	ssize_t r = api->recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (r < 0)
		return r;
	*flags = m.msg_flags;
	bool seen = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) {
			memcpy(ee, CMSG_DATA(c), sizeof(*ee));
			memcpy(offender, (char *)CMSG_DATA(c) + sizeof(*ee), sizeof(*offender));
			seen = true;
		}
	}
	cr_assert(seen, "%s: no IP_RECVERR control message", api->name);
	return r;
}

void conf_assert_icmp_err(const struct sockapi *api, const struct sock_extended_err *ee,
			  const struct sockaddr_in *offender, int err, int type, int code,
			  const char *offender_ip)
{
	cr_assert(ee->ee_errno == (uint32_t)err && ee->ee_origin == SO_EE_ORIGIN_ICMP &&
			  ee->ee_type == type && ee->ee_code == code && ee->ee_info == 0 &&
			  ee->ee_data == 0,
		  "%s: error %u origin %u type %u code %u info %u data %u, want %d ICMP %d/%d",
		  api->name, ee->ee_errno, ee->ee_origin, ee->ee_type, ee->ee_code, ee->ee_info,
		  ee->ee_data, err, type, code);
	cr_assert_eq(offender->sin_family, AF_INET, "%s: offender family", api->name);
	conf_assert_ip(offender->sin_addr, offender_ip);
}
