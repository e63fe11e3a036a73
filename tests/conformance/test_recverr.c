/* SPDX-License-Identifier: MIT */
/*
 * test_recverr.c - IP_RECVERR: ICMP errors as socket errors and on the error queue
 *
 * Over loopback, to a port nobody listens on: the ICMP port unreachable
 * comes back at once.  Without IP_RECVERR an unconnected socket never hears
 * of it; with it, the error is queued (recvmsg MSG_ERRQUEUE: the datagram's
 * payload, the destination as msg_name, a sock_extended_err with the
 * offender) and also set as the socket's pending error.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>

#include "conf_util.h"
#include "sockapi.h"

/* R-SEND-9 (a delivery failure is not the send's error): the error comes later, by IP_RECVERR */
CONFORMANCE(recverr, unconnected_port_unreachable_queued)
{
	struct sockaddr_in closed = sin4("127.0.0.1", 9), from, off;
	struct sock_extended_err ee;
	char buf[64];
	int s = conf_udp(api), one = 1, flags = 0;

	/* without IP_RECVERR: nothing, ever */
	CONF_RET(api->sendto(s, "abc", 3, 0, SA(&closed), sizeof(closed)), 3);
	CONF_ERR(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CONF_ERR(conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags), EAGAIN);

	OK(api->setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof(one)));
	CONF_RET(api->sendto(s, "hello", 5, 0, SA(&closed), sizeof(closed)), 5);
	/* the pending error is reported by the next call, and cleared */
	int e = 0;
	socklen_t el = sizeof(e);
	OK(api->getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el));
	cr_assert_eq(e, ECONNREFUSED, "%s: SO_ERROR %d", api->name, e);
	/* the queued error: the datagram's payload, the destination, the ICMP */
	ssize_t n = conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags);
	cr_assert_eq(n, 5, "%s: %zd bytes from the error queue (%s)", api->name, n,
		     strerror(errno));
	cr_assert(memcmp(buf, "hello", 5) == 0);
	cr_assert(flags & MSG_ERRQUEUE);
	conf_assert_addr(&from, "127.0.0.1", 9);
	conf_assert_icmp_err(api, &ee, &off, ECONNREFUSED, 3, 3, "127.0.0.1");
	/* empty again */
	CONF_ERR(conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags), EAGAIN);
	api->close(s);
}

/* Two errors queue in order; the pending error follows the queue. */
CONFORMANCE(recverr, two_errors_in_order_truncated)
{
	struct sockaddr_in a = sin4("127.0.0.1", 9), b = sin4("127.0.0.1", 11), from, off;
	struct sock_extended_err ee;
	char buf[64];
	int s = conf_udp(api), one = 1, flags = 0;

	OK(api->setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof(one)));
	CONF_RET(api->sendto(s, "first", 5, 0, SA(&a), sizeof(a)), 5);
	/* the first error is pending: the next send reports it and sends nothing */
	CONF_ERR(api->sendto(s, "second", 6, 0, SA(&b), sizeof(b)), ECONNREFUSED);
	CONF_RET(api->sendto(s, "second", 6, 0, SA(&b), sizeof(b)), 6);
	/* a short buffer: MSG_TRUNC, and the length copied */
	ssize_t n = conf_read_err(api, s, buf, 3, &from, &ee, &off, &flags);
	cr_assert_eq(n, 3, "%s: %zd", api->name, n);
	cr_assert(flags & MSG_TRUNC);
	cr_assert(memcmp(buf, "fir", 3) == 0);
	conf_assert_addr(&from, "127.0.0.1", 9);
	n = conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags);
	cr_assert_eq(n, 6);
	cr_assert(memcmp(buf, "second", 6) == 0);
	conf_assert_addr(&from, "127.0.0.1", 11);
	CONF_ERR(conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags), EAGAIN);
	/* draining the queue clears the pending error (sock_dequeue_err_skb) */
	int e = -1;
	socklen_t el = sizeof(e);
	OK(api->getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el));
	cr_assert_eq(e, 0, "%s: SO_ERROR %d", api->name, e);
	api->close(s);
}

/* A connected socket with IP_RECVERR: the error is both the next call's and queued. */
CONFORMANCE(recverr, connected_error_then_queue)
{
	struct sockaddr_in closed = sin4("127.0.0.1", 9), from, off;
	struct sock_extended_err ee;
	char buf[64];
	int s = conf_udp_connected(api, &closed), one = 1, flags = 0;

	OK(api->setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof(one)));
	CONF_RET(api->send(s, "x", 1, 0), 1);
	CONF_ERR(api->send(s, "y", 1, 0), ECONNREFUSED);
	ssize_t n = conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags);
	cr_assert_eq(n, 1);
	cr_assert_eq(buf[0], 'x');
	cr_assert_eq(ee.ee_errno, ECONNREFUSED);
	/* the refused send put nothing on the wire: no second error */
	CONF_ERR(conf_read_err(api, s, buf, sizeof(buf), &from, &ee, &off, &flags), EAGAIN);
	api->close(s);
}
