/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_send.c - send on TCP/IPv4 sockets that are not (or no longer) connected
 *
 * EPIPE and SIGPIPE before a connection exists, after shutdown and after the
 * peer's reset; sendto()'s address on a stream socket; ECONNRESET and the
 * order in which recv and send report it.  Every scenario runs on the
 * kernel and on usock (see sockapi.h); expected values are the kernel's
 * (Linux 6.18), all on lo of the test's own namespace.  Scenarios close
 * every socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT

/* Assert the revents poll reports for fd right now, asked for everything. */
static void assert_poll(const struct sockapi *api, int fd, short want)
{
	short got = conf_tcp_poll(api, fd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP, 0);

	cr_assert_eq(got, want, "%s: poll revents %#x, want %#x", api->name, got, want);
}

/*
 * Send one byte on fd from a child process whose SIGPIPE is at its default
 * action, so that the signal's effect is seen whole (the process ends).  A
 * child, not Criterion's .signal, so that a skipped usock run is a skip.
 * The child shares the socket: make this the last use of fd.  Return:
 * -signal when the child was killed, else the send's errno (0: it sent).
 */
static int send_in_child(const struct sockapi *api, int fd, int flags)
{
	sigset_t set;
	pid_t pid;
	int st;

	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		_exit(api->send(fd, "x", 1, flags) < 0 ? errno : 0);
	}
	cr_assert(waitpid(pid, &st, 0) == pid);
	return WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
}

/* ---- never connected ------------------------------------------------------ */

/*
 * R-SEND-1 R-NOTE-EPIPE-BUG R-ERR-EPIPE: send() on a TCP socket that was
 * never connected is EPIPE (not the documented ENOTCONN: sk_stream_wait_connect
 * finds neither SYN_SENT nor SYN_RECV), and sk_stream_error raises SIGPIPE,
 * whose default action ends the process; with MSG_NOSIGNAL it lives.
 */
CONFORMANCE(tcp_send, unconnected_send_sigpipe_kills, .timeout = 10)
{
	int s = conf_tcp_socket(api, 0);

	cr_assert_eq(send_in_child(api, s, MSG_NOSIGNAL), EPIPE);
	cr_assert_eq(send_in_child(api, s, 0), -SIGPIPE,
		     "%s: send on an unconnected TCP socket did not die of SIGPIPE", api->name);
	api->close(s);
}

/*
 * R-SEND-1 R-SEND-2 R-SEND-3 R-NOTE-EPIPE-BUG R-ERR-EPIPE R-FLAG-NOSIGNAL:
 * every send call on a never-connected TCP socket, and on a listening one,
 * is EPIPE with one SIGPIPE each; MSG_NOSIGNAL keeps the EPIPE and drops
 * the signal.  A zero-length send and MSG_OOB are no exception (the state
 * is checked before the length or the flags).  recv says ENOTCONN, so the
 * two directions disagree.
 */
CONFORMANCE(tcp_send, unconnected_send_is_epipe, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a = sin4("127.0.0.1", PORT), la;
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };
	char b[4];
	int s, l;

	conf_count_signal(SIGPIPE, false, &old);
	s = conf_tcp_socket(api, 0);
	FAILS(api->send(s, "x", 1, 0), EPIPE);
	cr_assert_eq(conf_signals(), 1, "%s: %d SIGPIPE", api->name, conf_signals());
	FAILS(api->write(s, "x", 1), EPIPE);
	FAILS(api->writev(s, &iov, 1), EPIPE);
	FAILS(api->sendto(s, "x", 1, 0, NULL, 0), EPIPE);
	FAILS(api->sendmsg(s, &m, 0), EPIPE);
	FAILS(api->sendmmsg(s, &mm, 1, 0), EPIPE);
	FAILS(api->send(s, "", 0, 0), EPIPE);
	FAILS(api->send(s, "x", 1, MSG_OOB), EPIPE);
	FAILS(api->send(s, "x", 1, MSG_DONTWAIT), EPIPE);
	cr_assert_eq(conf_signals(), 9, "%s: %d SIGPIPE, want 9", api->name, conf_signals());

	FAILS(api->send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
	FAILS(api->sendto(s, "x", 1, MSG_NOSIGNAL, SA(&a), sizeof(a)), EPIPE);
	FAILS(api->sendmsg(s, &m, MSG_NOSIGNAL), EPIPE);
	FAILS(api->sendmmsg(s, &mm, 1, MSG_NOSIGNAL), EPIPE);
	FAILS(api->send(s, "x", 1, MSG_NOSIGNAL | MSG_OOB), EPIPE);
	cr_assert_eq(conf_signals(), 9, "%s: SIGPIPE despite MSG_NOSIGNAL", api->name);

	FAILS(api->recv(s, b, sizeof(b), 0), ENOTCONN);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT), ENOTCONN);
	FAILS(api->read(s, b, sizeof(b)), ENOTCONN);

	l = conf_tcp_lo_listener(api, &la);
	FAILS(api->send(l, "x", 1, MSG_NOSIGNAL), EPIPE);
	FAILS(api->send(l, "x", 1, 0), EPIPE);
	cr_assert_eq(conf_signals(), 10, "%s: %d SIGPIPE, want 10", api->name, conf_signals());
	sigaction(SIGPIPE, &old, NULL);
	api->close(l);
	api->close(s);
}

/*
 * R-SEND-4 R-SEND-1: sendto() with an address on an unconnected TCP socket
 * does not connect (only MSG_FASTOPEN does, test_tcp_fastopen.c): it is
 * EPIPE with SIGPIPE, as send(); the listener named sees no connection.
 */
CONFORMANCE(tcp_send, sendto_unconnected_is_epipe, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	int s, l;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	s = conf_tcp_socket(api, 0);
	FAILS(api->sendto(s, "x", 1, 0, SA(&a), sizeof(a)), EPIPE);
	FAILS(api->sendmsg(s, &m, 0), EPIPE);
	cr_assert_eq(conf_signals(), 2, "%s: %d SIGPIPE, want 2", api->name, conf_signals());
	FAILS(api->sendto(s, "x", 1, MSG_NOSIGNAL, SA(&a), sizeof(a)), EPIPE);
	cr_assert_eq(conf_signals(), 2);
	cr_assert_eq(conf_tcp_poll(api, l, POLLIN, 50), 0, "%s: a connection came", api->name);
	sigaction(SIGPIPE, &old, NULL);
	api->close(s);
	api->close(l);
}

/*
 * R-SEND-4 R-SEND-3 R-SEND-6: on a connected TCP socket sendto() ignores the
 * address (another port, a 3-byte length, an AF_INET6 address, NULL with a
 * length) and sends to the peer: no EISCONN.  The address is still copied
 * in first (move_addr_to_kernel): a length above sizeof(struct
 * sockaddr_storage) is EINVAL and an unreadable one EFAULT, nothing sent.
 * sendmsg's msg_name is ignored likewise.
 */
CONFORMANCE(tcp_send, sendto_connected_ignores_address, .timeout = 10)
{
	static char big[sizeof(struct sockaddr_storage) + 1];
	struct sockaddr_in a, other = sin4("127.0.0.1", PORT + 1);
	struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_port = htons(PORT) };
	struct iovec iov = { "m", 1 };
	struct msghdr m = { .msg_name = &other, .msg_namelen = sizeof(other), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	int l, c, s;

	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(api->sendto(c, "a", 1, 0, SA(&other), sizeof(other)), 1);
	CONF_RET(api->sendto(c, "b", 1, 0, SA(&a), 3), 1);
	CONF_RET(api->sendto(c, "c", 1, 0, SA(&six), sizeof(six)), 1);
	CONF_RET(api->sendto(c, "d", 1, 0, NULL, sizeof(a)), 1);
	CONF_RET(api->sendmsg(c, &m, 0), 1);
	memcpy(big, &a, sizeof(a));
	FAILS(api->sendto(c, "X", 1, 0, SA(big), sizeof(big)), EINVAL);
	FAILS(api->sendto(c, "X", 1, 0, conf_bad_ptr(), sizeof(a)), EFAULT);
	CONF_RET(api->sendto(c, "e", 1, 0, SA(big), sizeof(struct sockaddr_storage)), 1);
	conf_tcp_expect(api, s, "abcdme", 6);
	CONF_RET(api->send(s, "back", 4, 0), 4);
	conf_tcp_expect(api, c, "back", 4);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- EPIPE after the connection ended -------------------------------------- */

/*
 * The peer closes (FIN): the first send still succeeds (the socket is in
 * CLOSE_WAIT and may send), the orphaned peer answers it with RST, and the
 * RST of a CLOSE_WAIT socket is recorded as EPIPE (tcp_reset).  Return: the
 * connected socket, with the reset already received.
 */
static int reset_after_peer_close(const struct sockapi *api, int l, const struct sockaddr_in *a)
{
	char b[4];
	int c, s;

	conf_tcp_pair_on(api, l, a, &c, &s);
	api->close(s);
	cr_assert(conf_tcp_poll(api, c, POLLRDHUP, 1000) & POLLRDHUP, "%s: no FIN", api->name);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->send(c, "a", 1, 0), 1);
	cr_assert(conf_tcp_poll(api, c, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	return c;
}

/*
 * R-FLAG-NOSIGNAL R-ERR-EPIPE: write once to a peer that closed, it answers
 * RST, write again: EPIPE with SIGPIPE, whose default action ends the
 * process.
 */
CONFORMANCE(tcp_send, epipe_after_reset_sigpipe_kills, .timeout = 10)
{
	struct sockaddr_in a;
	int l = conf_tcp_lo_listener(api, &a), c = reset_after_peer_close(api, l, &a);

	cr_assert_eq(send_in_child(api, c, 0), -SIGPIPE,
		     "%s: send after the peer's RST did not die of SIGPIPE", api->name);
	api->close(c);
	api->close(l);
}

/*
 * R-FLAG-NOSIGNAL R-ERR-EPIPE: after the peer's RST (see
 * reset_after_peer_close) poll says IN|OUT|ERR|HUP|RDHUP; every send is
 * EPIPE (first from the pending error, then from the closed state), with a
 * SIGPIPE each unless MSG_NOSIGNAL; recv reads the EOF.
 */
CONFORMANCE(tcp_send, epipe_after_reset_nosignal, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	char b[4];
	int l, c;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	c = reset_after_peer_close(api, l, &a);
	assert_poll(api, c, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	FAILS(api->send(c, "b", 1, MSG_NOSIGNAL), EPIPE);
	FAILS(api->send(c, "b", 1, MSG_NOSIGNAL), EPIPE);
	cr_assert_eq(conf_signals(), 0, "%s: SIGPIPE despite MSG_NOSIGNAL", api->name);
	FAILS(api->send(c, "b", 1, 0), EPIPE);
	FAILS(api->write(c, "b", 1), EPIPE);
	cr_assert_eq(conf_signals(), 2, "%s: %d SIGPIPE, want 2", api->name, conf_signals());
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	sigaction(SIGPIPE, &old, NULL);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-EPIPE: the reset's error is EPIPE in SO_ERROR too; reading it
 * clears it and the socket's closed state keeps sending EPIPE.
 */
CONFORMANCE(tcp_send, epipe_after_reset_so_error, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	int l, c;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	c = reset_after_peer_close(api, l, &a);
	CONF_RET(conf_tcp_so_error(api, c), EPIPE);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	assert_poll(api, c, POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	FAILS(api->send(c, "b", 1, 0), EPIPE);
	cr_assert_eq(conf_signals(), 1);
	sigaction(SIGPIPE, &old, NULL);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-EPIPE R-FLAG-NOSIGNAL: after shutdown(SHUT_WR) of the local side
 * every send is EPIPE with SIGPIPE (without MSG_NOSIGNAL); the peer reads
 * EOF and may still send, and this side still receives (a half close).
 * SHUT_RD leaves sending alone.  shutdown of a never-connected TCP socket
 * is ENOTCONN.
 */
CONFORMANCE(tcp_send, epipe_after_shut_wr, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	char b[4];
	int l, c, s, u;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(api->send(c, "w", 1, 0), 1);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	FAILS(api->send(c, "x", 1, 0), EPIPE);
	cr_assert_eq(conf_signals(), 1, "%s: %d SIGPIPE, want 1", api->name, conf_signals());
	FAILS(api->send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	FAILS(api->send(c, "", 0, MSG_NOSIGNAL), EPIPE);
	cr_assert_eq(conf_signals(), 1, "%s: SIGPIPE despite MSG_NOSIGNAL", api->name);
	FAILS(api->write(c, "x", 1), EPIPE);
	cr_assert_eq(conf_signals(), 2);
	conf_tcp_expect(api, s, "w", 1);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	CONF_RET(api->send(s, "rev", 3, 0), 3);
	conf_tcp_expect(api, c, "rev", 3);
	assert_poll(api, c, POLLOUT);
	api->close(s);
	api->close(c);

	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	CONF_RET(api->send(c, "d", 1, 0), 1);
	conf_tcp_expect(api, s, "d", 1);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);

	u = conf_tcp_socket(api, 0);
	FAILS(api->shutdown(u, SHUT_WR), ENOTCONN);
	FAILS(api->shutdown(u, SHUT_RDWR), ENOTCONN);
	cr_assert_eq(conf_signals(), 2);
	sigaction(SIGPIPE, &old, NULL);
	api->close(u);
	api->close(s);
	api->close(c);
	api->close(l);
}

/* ---- ECONNRESET ------------------------------------------------------------ */

/*
 * Make s reset its connection to c: SO_LINGER {1, 0} then close (an abortive
 * close: RST at once, tcp_close).  Waits until c has the RST.
 */
static void abort_peer(const struct sockapi *api, int c, int s)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	OK(api->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->close(s));
	cr_assert(conf_tcp_poll(api, c, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
}

/*
 * R-ERR-ECONNRESET: the peer aborts (SO_LINGER {1, 0}) with nothing unread:
 * poll says IN|OUT|ERR|HUP|RDHUP; the first recv is ECONNRESET, once (the
 * error is consumed); then recv reads EOF and send is EPIPE with SIGPIPE
 * (the socket is closed; the reset itself raised no signal).
 */
CONFORMANCE(tcp_send, econnreset_recv_first, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	char b[4];
	int l, c, s;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	abort_peer(api, c, s);
	assert_poll(api, c, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	FAILS(api->recv(c, b, sizeof(b), 0), ECONNRESET);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(c, b, sizeof(b), MSG_DONTWAIT), 0);
	cr_assert_eq(conf_signals(), 0);
	FAILS(api->send(c, "x", 1, 0), EPIPE);
	cr_assert_eq(conf_signals(), 1, "%s: %d SIGPIPE, want 1", api->name, conf_signals());
	assert_poll(api, c, POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	sigaction(SIGPIPE, &old, NULL);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-ECONNRESET R-ERR-EPIPE: the same reset met by send first: that send
 * is ECONNRESET with no SIGPIPE (sk_stream_error raises it for EPIPE only);
 * the next is EPIPE with SIGPIPE; recv reads EOF.  Read through SO_ERROR
 * the reset is ECONNRESET and then gone: recv reads EOF at once.
 */
CONFORMANCE(tcp_send, econnreset_send_first, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	char b[4];
	int l, c, s;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	abort_peer(api, c, s);
	FAILS(api->send(c, "x", 1, 0), ECONNRESET);
	cr_assert_eq(conf_signals(), 0, "%s: SIGPIPE with ECONNRESET", api->name);
	FAILS(api->send(c, "x", 1, 0), EPIPE);
	cr_assert_eq(conf_signals(), 1);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	api->close(c);

	conf_tcp_pair_on(api, l, &a, &c, &s);
	abort_peer(api, c, s);
	CONF_RET(conf_tcp_so_error(api, c), ECONNRESET);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	FAILS(api->send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	cr_assert_eq(conf_signals(), 1);
	sigaction(SIGPIPE, &old, NULL);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-ECONNRESET: a plain close() with data still unread in the closing
 * socket's receive queue is abortive too (tcp_close sends RST, not FIN):
 * the other side's recv is ECONNRESET.
 */
CONFORMANCE(tcp_send, econnreset_close_with_unread_data, .timeout = 10)
{
	struct sockaddr_in a;
	char b[4];
	int l, c, s;

	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(api->send(c, "abc", 3, 0), 3);
	cr_assert(conf_tcp_poll(api, s, POLLIN, 1000) & POLLIN);
	OK(api->close(s));
	cr_assert(conf_tcp_poll(api, c, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	assert_poll(api, c, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	FAILS(api->recv(c, b, sizeof(b), 0), ECONNRESET);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-ECONNRESET: data that arrived before the RST stays readable: recv
 * returns it first, then ECONNRESET, then EOF.  A send meets the reset
 * before the data is read (ECONNRESET) and the data is still there.
 */
CONFORMANCE(tcp_send, econnreset_after_queued_data, .timeout = 10)
{
	struct sigaction old;
	struct sockaddr_in a;
	char b[8];
	int l, c, s;

	conf_count_signal(SIGPIPE, false, &old);
	l = conf_tcp_lo_listener(api, &a);
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(api->send(s, "xyz", 3, 0), 3);
	cr_assert(conf_tcp_poll(api, c, POLLIN, 1000) & POLLIN);
	abort_peer(api, c, s);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 3);
	cr_assert(memcmp(b, "xyz", 3) == 0);
	FAILS(api->recv(c, b, sizeof(b), 0), ECONNRESET);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	api->close(c);

	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(api->send(s, "xyz", 3, 0), 3);
	cr_assert(conf_tcp_poll(api, c, POLLIN, 1000) & POLLIN);
	abort_peer(api, c, s);
	FAILS(api->send(c, "q", 1, 0), ECONNRESET);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 3);
	cr_assert(memcmp(b, "xyz", 3) == 0);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	cr_assert_eq(conf_signals(), 0);
	sigaction(SIGPIPE, &old, NULL);
	api->close(c);
	api->close(l);
}
