/* SPDX-License-Identifier: MIT */
/*
 * conf_util.h - the small helpers every conformance scenario file shares
 *
 * Shorthands (OK, FAILS, SA) and the socket, address, sending, timing,
 * thread and signal helpers that the scenario files once each defined for
 * themselves.  Every helper asserts with Criterion and names the stack
 * (api->name) in its message, as the scenarios do; none closes a socket it
 * did not open.
 */
#ifndef USOCK_TESTS_CONF_UTIL_H
#define USOCK_TESTS_CONF_UTIL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "sockapi.h"

/* OK(expr) - assert expr did not fail (>= 0); yields its value (CONF_OK). */
#define OK(expr) CONF_OK_(expr, #expr)
/* FAILS(expr, err) - assert expr returned -1 with errno err (CONF_ERR). */
#define FAILS(expr, err) CONF_ERR_(expr, #expr, err)
#define SA(p) ((struct sockaddr *)(p))

/* conf_udp - a fresh AF_INET/SOCK_DGRAM socket (asserted).  Return: its fd. */
int conf_udp(const struct sockapi *api);
/* conf_udp_connected - conf_udp() connected to *to (asserted).  Return: its fd. */
int conf_udp_connected(const struct sockapi *api, const struct sockaddr_in *to);

/*
 * conf_local_of / conf_peer_of - getsockname / getpeername of fd, asserted
 * to succeed with a full AF_INET address.  Return: the address.
 */
struct sockaddr_in conf_local_of(const struct sockapi *api, int fd);
struct sockaddr_in conf_peer_of(const struct sockapi *api, int fd);
/* conf_assert_ip - assert a is the dotted quad ip. */
void conf_assert_ip(struct in_addr a, const char *ip);
/* conf_assert_addr - assert *a is ip:port (port in host order). */
void conf_assert_addr(const struct sockaddr_in *a, const char *ip, uint16_t port);

/*
 * conf_send - sendto(fd, buf, len, 0) to ip:port, asserted to send all len
 * bytes.  conf_send_str - the same for the string msg (without its NUL).
 */
void conf_send(const struct sockapi *api, int fd, const char *ip, uint16_t port, const void *buf,
	       size_t len);
void conf_send_str(const struct sockapi *api, int fd, const char *ip, uint16_t port,
		   const char *msg);

/*
 * conf_read_err - recvmsg(MSG_ERRQUEUE | MSG_DONTWAIT) of one error into
 * buf[n], asserting it carries an IP_RECVERR control message: *from gets
 * msg_name, *ee and *offender the extended error, *flags msg_flags.
 * Return: the payload length, or -1 (errno set) when nothing was read.
 */
struct sock_extended_err;
ssize_t conf_read_err(const struct sockapi *api, int fd, char *buf, size_t n,
		      struct sockaddr_in *from, struct sock_extended_err *ee,
		      struct sockaddr_in *offender, int *flags);

/*
 * conf_assert_icmp_err - assert an error-queue entry is an ICMP error
 * (SO_EE_ORIGIN_ICMP) of this errno, type and code, ee_info and ee_data 0,
 * sent by offender_ip.
 */
void conf_assert_icmp_err(const struct sockapi *api, const struct sock_extended_err *ee,
			  const struct sockaddr_in *offender, int err, int type, int code,
			  const char *offender_ip);

/* conf_ttl_cmsgs - n IP_TTL control messages of value ttl into buf.  Return: their length. */
size_t conf_ttl_cmsgs(void *buf, size_t n, int ttl);

/* conf_now_ms - CLOCK_MONOTONIC in milliseconds (for timing a call). */
double conf_now_ms(void);

/*
 * struct conf_later - a thread that acts while the scenario's own thread is
 * blocked in a call.  After delay_ms of real time it sets started, then,
 * each only when asked for: sends sig to the thread that started it, sends
 * msg from fd to `to` (sendto, unchecked), and lets pass_ms of the stack's
 * time pass (api->sleep_ms).  Fill in the fields (a designated initializer
 * leaves the rest 0), conf_later_start, and conf_later_join before the
 * scenario returns; a joined conf_later may be started again.
 */
struct conf_later {
	const struct sockapi *api;
	unsigned delay_ms;
	int sig;
	int fd;
	const char *msg;
	struct sockaddr_in to;
	unsigned pass_ms;
	atomic_int started;
	pthread_t target, th;
};
void conf_later_start(struct conf_later *l);
void conf_later_join(struct conf_later *l);

/*
 * conf_count_signal - count every sig from now on (count reset to 0), with
 * SA_RESTART when restart; *old (if not NULL) gets the previous action.
 * conf_signals - Return: the signals counted since.
 */
void conf_count_signal(int sig, bool restart, struct sigaction *old);
int conf_signals(void);

#endif
