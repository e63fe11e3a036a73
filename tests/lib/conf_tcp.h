/* SPDX-License-Identifier: MIT */
/*
 * conf_tcp.h - the helpers the TCP conformance scenario files share
 *
 * Sockets and connected pairs (on lo, or between the two hosts of
 * conf_topo_pair), waiting with poll, the int and TCP_INFO getters, reading
 * an expected byte stream, and the wire: the TCP segments a capture saw,
 * and hand-made ones put on the link (api->inject).  Every helper asserts
 * with Criterion and names the stack (api->name) in its message, as the
 * scenarios do; none closes a socket it did not open.  Shorthands for the
 * flags and poll bits come first, as conf_util.h's OK and FAILS do.
 */
#ifndef USOCK_TESTS_CONF_TCP_H
#define USOCK_TESTS_CONF_TCP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockapi.h"

/* The port of the lo helpers (conf_tcp_lo_listener, conf_tcp_pair). */
#define CONF_TCP_PORT 5000

/* TCP header flags (as on the wire). */
#define TH_FIN_ 0x01
#define TH_SYN_ 0x02
#define TH_RST_ 0x04
#define TH_PSH_ 0x08
#define TH_ACK_ 0x10
#define TH_URG_ 0x20

/* Every event bit a TCP socket can report when asked (POLLERR/POLLHUP/POLLNVAL always are). */
#define POLL_EV                                                                          \
	(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLRDBAND | POLLWRNORM |     \
	 POLLWRBAND)
#define P_IN (POLLIN | POLLRDNORM)
#define P_OUT (POLLOUT | POLLWRNORM)
#define P_EOF (POLLIN | POLLRDNORM | POLLRDHUP)

/*
 * ASSERT_POLL - assert fd's revents, asked for every bit (POLL_EV), are
 * exactly want; what names the state in the message.
 */
#define ASSERT_POLL(api, fd, want, what)                                                 \
	do {                                                                             \
		char g_[96], w_[96];                                                     \
		short got_ = conf_tcp_poll(api, fd, POLL_EV, 0);                         \
		cr_assert_eq(got_, (short)(want), "%s: %s: poll %s, want %s", (api)->name, \
			     what, conf_tcp_evstr(got_, g_, sizeof(g_)),                 \
			     conf_tcp_evstr((short)(want), w_, sizeof(w_)));             \
	} while (0)

/* ASSERT_STATE - assert fd's tcpi_state (TCP_INFO) is want, e.g. TCP_FIN_WAIT2. */
#define ASSERT_STATE(api, fd, want)                                                      \
	do {                                                                             \
		int st_ = conf_tcp_state(api, fd);                                       \
		cr_assert_eq(st_, (want), "%s: %s: tcpi_state %d, want %d (%s)",         \
			     (api)->name, #fd, st_, (int)(want), #want);                 \
	} while (0)

/* ---- sockets and pairs ---- */

/* conf_tcp_socket - a fresh AF_INET/SOCK_STREAM socket, flags (SOCK_NONBLOCK...) or'd in. */
int conf_tcp_socket(const struct sockapi *api, int flags);
/*
 * conf_tcp_listener - a blocking socket listening on ip:port with backlog:
 * SO_REUSEADDR first if reuse, SO_RCVBUF rcvbuf if > 0 (the sockets it
 * accepts inherit it).  Return: its fd.
 */
int conf_tcp_listener(const struct sockapi *api, const char *ip, uint16_t port, int backlog,
		      bool reuse, int rcvbuf);
/* conf_tcp_lo_listener - listening on 127.0.0.1:CONF_TCP_PORT, backlog 8; *a gets that address. */
int conf_tcp_lo_listener(const struct sockapi *api, struct sockaddr_in *a);
/* conf_tcp_client - a fresh blocking socket (SO_RCVBUF rcvbuf if > 0) connected to ip:port. */
int conf_tcp_client(const struct sockapi *api, const char *ip, uint16_t port, int rcvbuf);
/* conf_tcp_pair_on - connect a fresh blocking socket (*c) to listener l at *a, accept it (*s). */
void conf_tcp_pair_on(const struct sockapi *api, int l, const struct sockaddr_in *a, int *c,
		      int *s);
/*
 * conf_tcp_lo_pair - a conf_tcp_lo_listener and a connected pair through
 * it: *c the client, *s the accepted peer, both blocking.  Return: the
 * listener, still open.  conf_tcp_pair - the same with the listener closed.
 */
int conf_tcp_lo_pair(const struct sockapi *api, int *c, int *s);
void conf_tcp_pair(const struct sockapi *api, int *c, int *s);
/*
 * conf_tcp_small_pair - a pair on lo that a peer not reading fills within
 * a few KB: the client *c with SO_SNDBUF 4096, the accepted peer *s with
 * SO_RCVBUF 4096 (set on the listener, inherited), both blocking.
 * Return: the listener (127.0.0.1:CONF_TCP_PORT, backlog 1), still open.
 */
int conf_tcp_small_pair(const struct sockapi *api, int *c, int *s);
/*
 * conf_tcp_connect_ab - a connection between the hosts of conf_topo_pair
 * (already built): a listener on B 198.18.0.2:port (SO_RCVBUF srv_rcvbuf if
 * > 0, closed again), a client from A (SO_RCVBUF cli_rcvbuf if > 0); both
 * sockets blocking.  *c is A's, *s is B's.  Returns in A.
 */
void conf_tcp_connect_ab(const struct sockapi *api, uint16_t port, int cli_rcvbuf,
			 int srv_rcvbuf, int *c, int *s);
/*
 * conf_tcp_two_hosts - build conf_topo_pair and conf_tcp_connect_ab to
 * port 80; *cap (if not NULL) captures B's veth1 from after the handshake.
 * Returns in A.
 */
void conf_tcp_two_hosts(const struct sockapi *api, int *c, int *s, int *cap, int cli_rcvbuf,
			int srv_rcvbuf);

/* ---- poll ---- */

/* conf_tcp_poll - one poll of fd for events, timeout ms (0: right now). Return: revents. */
short conf_tcp_poll(const struct sockapi *api, int fd, short events, int ms);
/*
 * conf_tcp_wait - wait up to ms of the stack's time for one of events on
 * fd, polling with zero timeout between api->sleep_ms(5) steps (virtual
 * time moves only then).  Return: revents (without the wanted bit on
 * timeout).
 */
short conf_tcp_wait(const struct sockapi *api, int fd, short events, unsigned ms);
/* conf_tcp_evstr - the names of ev's bits ("IN|OUT", "0") into buf, for messages. Return: buf. */
const char *conf_tcp_evstr(short ev, char *buf, size_t len);

/* ---- options ---- */

/* conf_tcp_get_int - an int option of fd, asserted to succeed with optlen sizeof(int). */
int conf_tcp_get_int(const struct sockapi *api, int fd, int lvl, int name);
/* conf_tcp_set_int - set an int option. Return: setsockopt's result (not asserted). */
int conf_tcp_set_int(const struct sockapi *api, int fd, int lvl, int name, int v);
/* conf_tcp_so_error - SO_ERROR of fd (reading it clears it). */
int conf_tcp_so_error(const struct sockapi *api, int fd);
/* conf_tcp_state - tcpi_state of fd's TCP_INFO (TCP_ESTABLISHED...). */
int conf_tcp_state(const struct sockapi *api, int fd);
/* conf_tcp_info - fd's whole TCP_INFO, asserted to come with optlen sizeof(struct tcp_info). */
struct tcp_info conf_tcp_info(const struct sockapi *api, int fd);

/* ---- the byte stream ---- */

/*
 * conf_tcp_expect - read exactly n bytes (at most 4096) from fd, arrived
 * or arriving within 1 s each, and assert they are want.
 */
void conf_tcp_expect(const struct sockapi *api, int fd, const void *want, size_t n);
/*
 * conf_tcp_fill - send on fd with MSG_DONTWAIT until its send buffer stays
 * full: two rounds in a row, each after more than a delayed ACK (250 ms),
 * queue nothing.  Return: the bytes queued.
 */
size_t conf_tcp_fill(const struct sockapi *api, int fd);
/*
 * conf_tcp_expect_str - read from fd (within 1 s each) until the string
 * want has come, and assert what came is exactly it: no more (of what had
 * arrived by then), no other.  At most 64 bytes.
 */
void conf_tcp_expect_str(const struct sockapi *api, int fd, const char *want);

/* ---- the wire ---- */

/* One captured TCP segment. */
struct conf_tcp_seg {
	uint8_t smac[6], dmac[6];
	uint8_t saddr[4], daddr[4];
	bool from_a;		/* saddr is A's, 198.18.0.1 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;		/* as on the wire (unscaled) */
	uint16_t urp;
	size_t len;		/* payload bytes */
	int mss;		/* the MSS option, -1 if none */
	int wscale;		/* the window scale option, -1 if none */
	uint8_t data[64];	/* the payload's first bytes */
};

/*
 * conf_tcp_take - the TCP segments among the frames capture cap (of
 * api->capture_start) saw since the last take, in order, up to max into
 * out (out may be NULL when max is 0: a take that only skips).
 * conf_tcp_take_if - only those keep says yes to.  SEGDUMP=1 in the
 * environment prints every segment, to compare the stacks by eye.
 * Return: how many there were (kept), even beyond max.
 */
int conf_tcp_take(const struct sockapi *api, int cap, struct conf_tcp_seg *out, int max);
int conf_tcp_take_if(const struct sockapi *api, int cap, struct conf_tcp_seg *out, int max,
		     bool (*keep)(const struct conf_tcp_seg *g));
/* conf_tcp_from_a - is g from A (a keep for conf_tcp_take_if)? */
bool conf_tcp_from_a(const struct conf_tcp_seg *g);
/*
 * conf_tcp_inject - put on the link a TCP segment without options that
 * looks like the next one of the flow tmpl belongs to (same MACs,
 * addresses and ports), with flags, seq, ack, window 502 and payload (a
 * string of at most 64 bytes, or NULL).  It leaves the host of conf_topo_pair
 * tmpl came from, out of its veth end (api->inject), so it crosses the
 * link and any capture as a real one would, and arrives at the host tmpl
 * is addressed to.  The caller stays in its current host.
 */
void conf_tcp_inject(const struct sockapi *api, const struct conf_tcp_seg *tmpl, uint8_t flags,
		     uint32_t seq, uint32_t ack, const char *payload);

#endif
