/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_recv.c - unit tests of tcp_recv.c and tcp_send.c against stubbed neighbours
 *
 * One connection's receive queue is filled by hand (as tcp_in.c would) and
 * read with tcp_recvmsg; sends go through tcp_sendmsg onto the write queue,
 * where the charge, the packet boundaries and the push calls are checked.
 * Everything the two files call in other tcp/ files and in sock.c is a stub
 * here that records what it was asked; packets come from real pools, and
 * every test ends with the pools full again (a leak fails it).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "buf/pkt.h"
#include "core/arena.h"
#include "sock/sock.h"
#include "tcp/tcp.h"

/*
 * The files under test are compiled into this test (included below) with
 * every function they define, and every one they call in other tcp/ files
 * and in sock.c, renamed: the unit-test binary also links libusock.a, whose
 * real ones must neither clash with these nor be replaced by them.
 */
#define tcp_sendmsg ut_tcp_sendmsg
#define tcp_check_space ut_tcp_check_space
#define tcp_stream_alloc_pkt ut_tcp_stream_alloc_pkt
#define tcp_wmem_charge ut_tcp_wmem_charge
#define tcp_wmem_free_pkt ut_tcp_wmem_free_pkt
#define tcp_stream_error ut_tcp_stream_error
#define tcp_recvmsg ut_tcp_recvmsg
#define tcp_cleanup_rbuf ut_tcp_cleanup_rbuf
#define tcp_inq ut_tcp_inq
#define tcp_rcv_space_adjust ut_tcp_rcv_space_adjust

#define tcp_compute_window stub_tcp_compute_window
#define tcp_send_ack stub_tcp_send_ack
#define tcp_win_from_space stub_tcp_win_from_space
#define sk_wake stub_sk_wake
#define sk_wait stub_sk_wait
#define sock_sigpipe stub_sock_sigpipe
#define netns_random stub_netns_random
#define sock_cmsg_send stub_sock_cmsg_send
#define tcp_stream_connect stub_tcp_stream_connect
#define tcp_connect stub_tcp_connect
#define tcp_set_state stub_tcp_set_state
#define tcp_cwnd_restart stub_tcp_cwnd_restart
#define tcp_send_mss stub_tcp_send_mss
#define tcp_push stub_tcp_push
#define tcp_push_one stub_tcp_push_one
#define __tcp_push_pending_frames stub_tcp_push_pending_frames
#define tcp_queue_skb stub_tcp_queue_skb
#define sk_copy_from_iov stub_sk_copy_from_iov
#define sk_copy_pkt_to_iov stub_sk_copy_pkt_to_iov
#define sk_put_cmsg stub_sk_put_cmsg

/* ---- the stubs: they record what they were asked ---- */

static struct {
	int acks, wakes, sigpipes, pushes, push_ones, push_pending, waits, connects, tcp_connects;
	int last_push_flags, last_push_nonagle;
	uint32_t window;		/* tcp_compute_window's answer */
	unsigned mss, goal;		/* tcp_send_mss's answer */
	int (*on_wait)(struct sock *sk, int64_t *timeo);
	int cmsg_level, cmsg_type, cmsg_val;
} st;

static uint32_t tcp_compute_window(struct tcp_sock *tp) { return st.window; }
static void tcp_send_ack(struct tcp_sock *tp) { st.acks++; }
static int tcp_win_from_space(const struct sock *sk, int space) { return space / 2; }
static void sk_wake(struct sock *sk, uint32_t ev) { st.wakes++; }
static void sock_sigpipe(void) { st.sigpipes++; }
static uint64_t netns_random(struct netns *ns) { return 4; }
static int sock_cmsg_send(struct sock *sk, const struct cmsghdr *c, struct sockcm *cm) { return 0; }
static int tcp_stream_connect(struct tcp_sock *tp, const struct sockaddr *uaddr, socklen_t len,
			      int flags, bool is_sendmsg)
{
	st.connects++;
	if (tp->defer_connect) {
		/* tcp_send.c ran tcp_connect: the SYN took the data */
		tp->fastopen_req.copied = (ssize_t)tp->fastopen_req.size;
		return -EINPROGRESS;
	}
	if (tp->sk.state == TCP_CLOSE && uaddr) {
		if (flags & O_NONBLOCK) {
			/* a cookie was cached: the SYN carries the data */
			tp->sk.state = TCP_SYN_SENT;
			tp->fastopen_req.copied = (ssize_t)tp->fastopen_req.size;
			return -EINPROGRESS;
		}
		/* no cookie: the SYN asked for one, the handshake finished */
		tp->sk.state = TCP_ESTABLISHED;
		return 0;
	}
	return tp->sk.state == TCP_SYN_SENT ? -EALREADY : -EISCONN;
}
static int tcp_connect(struct tcp_sock *tp)
{
	st.tcp_connects++;
	return 0;
}
static void tcp_set_state(struct tcp_sock *tp, int state) { tp->sk.state = (uint8_t)state; }
static void tcp_cwnd_restart(struct tcp_sock *tp, uint32_t delta_us) {}
static unsigned tcp_send_mss(struct tcp_sock *tp, unsigned *size_goal, int flags)
{
	*size_goal = st.goal;
	return st.mss;
}
static void tcp_push(struct tcp_sock *tp, int flags, unsigned mss_now, int nonagle,
		     unsigned size_goal)
{
	st.pushes++;
	st.last_push_flags = flags;
	st.last_push_nonagle = nonagle;
}
static void tcp_push_one(struct tcp_sock *tp, unsigned mss_now) { st.push_ones++; }
static void __tcp_push_pending_frames(struct tcp_sock *tp, unsigned cur_mss, int nonagle)
{
	st.push_pending++;
}
static void tcp_queue_skb(struct tcp_sock *tp, struct pkt *pk)
{
	TCP_SKB_CB(pk)->seq = TCP_SKB_CB(pk)->end_seq = tp->write_seq;
	pkt_queue_push(&tp->write_queue, pk);
}

/* sk_wait: a timeout at once, unless the test scripts what happens meanwhile */
static int sk_wait(struct sock *sk, uint32_t events, int64_t *timeo)
{
	st.waits++;
	if (st.on_wait)
		return st.on_wait(sk, timeo);
	*timeo = 0;
	return -EAGAIN;
}

static int sk_copy_from_iov(const struct sk_msg *m, size_t off, void *dst, size_t len)
{
	uint8_t *d = dst;

	for (size_t i = 0; i < m->iovlen && len; i++) {
		size_t il = m->iov[i].iov_len, n;

		if (off >= il) {
			off -= il;
			continue;
		}
		n = il - off < len ? il - off : len;
		memcpy(d, (const uint8_t *)m->iov[i].iov_base + off, n);
		d += n;
		len -= n;
		off = 0;
	}
	return 0;
}

static int sk_copy_pkt_to_iov(const struct sk_msg *m, const struct pkt *pk, size_t off,
			      size_t len)
{
	uint8_t tmp[4096];
	size_t io = m->iov_off;

	cr_assert(len <= sizeof(tmp));
	cr_assert_eq(pkt_copy_out(pk, off, tmp, len), len);
	cr_assert(m->iovlen == 1 && io + len <= m->iov[0].iov_len);
	memcpy((uint8_t *)m->iov[0].iov_base + io, tmp, len);
	return 0;
}

static int sk_put_cmsg(struct sk_msg *m, int level, int type, const void *data, size_t len)
{
	st.cmsg_level = level;
	st.cmsg_type = type;
	memcpy(&st.cmsg_val, data, len < sizeof(int) ? len : sizeof(int));
	return 0;
}

#include "tcp/tcp_send.c"
#include "tcp/tcp_recv.c"

/* ---- a connection to play with ---- */

static struct arena *ar;
static struct netns ns;
static struct tcp_table tbl;
static struct tcp_sock conn;
#define TP (&conn)
#define SK (&conn.sk)

static void setup(void)
{
	memset(&st, 0, sizeof(st));
	st.mss = 1000;
	st.goal = 1000;
	st.window = 0;
	ar = arena_new((size_t)64 << 20);
	cr_assert_not_null(ar);
	ns.pools = pkt_pools_new(ar, 256, 64, 8);
	cr_assert_not_null(ns.pools);
	ns.tcp = &tbl;
	ns.clock.virt = true;
	ns.clock.vnow = 1000000000ull;
	memset(&tbl.sys, 0, sizeof(tbl.sys));
	tbl.sys.fastopen = 1;
	tbl.sys.notsent_lowat = UINT32_MAX;
	tbl.sys.wmem[2] = 4 << 20;
	tbl.sys.rmem[2] = 6 << 20;
	memset(&conn, 0, sizeof(conn));
	SK->ns = &ns;
	SK->state = TCP_ESTABLISHED;
	SK->sndbuf = 16384;
	SK->rcvbuf = 131072;
	SK->rcvlowat = 1;
	SK->peek_off = -1;	/* SO_PEEK_OFF off, as sock_alloc leaves it */
	SK->rcvtimeo_ns = -1;
	SK->sndtimeo_ns = -1;
	TP->rcv_nxt = TP->copied_seq = TP->rcv_wup = 1000;
	TP->write_seq = TP->snd_nxt = TP->snd_una = TP->pushed_seq = 5000;
	TP->snd_cwnd = 10;
	TP->window_clamp = 65535;
	TP->max_window = 65535;
	pkt_queue_init(&SK->rcvq);
	pkt_queue_init(&TP->write_queue);
}

/*
 * Everything queued goes back, then every block must be home: done at the
 * end of each test body (UNIT_TEST), since Criterion 2.4 only warns about a
 * failed assertion in .fini.
 */
static void expect_no_leak(void)
{
	struct pkt *pk;

	while ((pk = pkt_queue_pop(&SK->rcvq)))
		pkt_free(pk);
	while ((pk = pkt_queue_pop(&TP->write_queue)))
		pkt_free(pk);
	cr_assert(pkt_pools_full(ns.pools), "packets leaked");
}

static void teardown(void)
{
	arena_destroy(ar);
}

TestSuite(tcp_recv_unit, .init = setup, .fini = teardown);
TestSuite(tcp_send_unit, .init = setup, .fini = teardown);

#define UNIT_TEST(suite, name)                   \
	static void suite##_##name(void);        \
	Test(suite, name)                        \
	{                                        \
		suite##_##name();                \
		expect_no_leak();                \
	}                                        \
	static void suite##_##name(void)

/* Queue data as tcp_in.c would: in order at rcv_nxt, charged; fin adds a FIN. */
static void arrive(const char *data, size_t n, bool fin)
{
	struct pkt *pk = pkt_alloc(ns.pools, n);

	cr_assert_not_null(pk);
	memcpy(pkt_put(pk, n), data, n);
	TCP_SKB_CB(pk)->seq = TP->rcv_nxt;
	TCP_SKB_CB(pk)->end_seq = TP->rcv_nxt + (uint32_t)n + fin;
	TCP_SKB_CB(pk)->tcp_flags = TCP_HDR_ACK | (fin ? TCP_HDR_FIN : 0);
	pk->meta.truesize = pkt_kernel_truesize((uint32_t)n);
	SK->rmem += pk->meta.truesize;
	pkt_queue_push(&SK->rcvq, pk);
	TP->rcv_nxt = TCP_SKB_CB(pk)->end_seq;
	if (fin) {
		/* what tcp_fin does */
		SK->shutdown |= RCV_SHUTDOWN;
		SK->state = TCP_CLOSE_WAIT;
		TP->done = true;
	}
}

/* Mark the byte at offset i of the stream from copied_seq urgent, as tcp_urg does. */
static void urgent_at(uint32_t seq, char c)
{
	TP->urg_seq = seq;
	TP->urg_data = TCP_URG_VALID | (uint8_t)c;
}

static char rbuf[4096];
static ssize_t wr(const char *data, size_t n, int flags);

static ssize_t rd(size_t n, int flags)
{
	struct iovec iov = { rbuf, n };
	struct sk_msg m;

	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.len = n;
	memset(rbuf, 0, sizeof(rbuf));
	return tcp_recvmsg(SK, &m, flags | MSG_DONTWAIT);
}

static ssize_t wr(const char *data, size_t n, int flags)
{
	struct iovec iov = { (void *)data, n };
	struct sk_msg m;

	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.len = n;
	return tcp_sendmsg(SK, &m, flags);
}

/* ---- receive ---- */

UNIT_TEST(tcp_recv_unit, reads_across_packets_and_frees_them)
{
	arrive("hello", 5, false);
	arrive("world", 5, false);
	cr_assert_eq(tcp_inq(TP), 10);
	cr_assert_eq(rd(3, 0), 3);
	cr_assert_str_eq(rbuf, "hel");
	cr_assert_eq(SK->rcvq.count, 2);
	cr_assert_eq(rd(100, 0), 7);
	cr_assert_str_eq(rbuf, "loworld");
	cr_assert_eq(SK->rcvq.count, 0);
	cr_assert_eq(SK->rmem, 0);
	cr_assert_eq(TP->copied_seq, TP->rcv_nxt);
	cr_assert_eq(rd(10, 0), -EAGAIN);
}

UNIT_TEST(tcp_recv_unit, peek_and_trunc)
{
	arrive("abc", 3, false);
	arrive("def", 3, false);
	cr_assert_eq(rd(100, MSG_PEEK), 6);
	cr_assert_str_eq(rbuf, "abcdef");
	cr_assert_eq(rd(2, MSG_PEEK), 2);
	cr_assert_str_eq(rbuf, "ab");
	cr_assert_eq(SK->rcvq.count, 2);
	cr_assert_eq(rd(4, MSG_TRUNC), 4);
	cr_assert_str_eq(rbuf, "");
	cr_assert_eq(rd(100, 0), 2);
	cr_assert_str_eq(rbuf, "ef");
}

UNIT_TEST(tcp_recv_unit, fin_after_data_then_eof)
{
	arrive("xy", 2, true);
	cr_assert_eq(tcp_inq(TP), 2, "the FIN is not a byte");
	cr_assert_eq(rd(100, 0), 2);
	cr_assert_eq(TP->copied_seq, TP->rcv_nxt, "the FIN was stepped over");
	cr_assert_eq(SK->rcvq.count, 0);
	cr_assert_eq(rd(100, 0), 0);
	cr_assert_eq(rd(100, 0), 0);
}

UNIT_TEST(tcp_recv_unit, states_and_errors)
{
	SK->state = TCP_LISTEN;
	cr_assert_eq(rd(10, 0), -ENOTCONN);
	SK->state = TCP_CLOSE;
	cr_assert_eq(rd(10, 0), -ENOTCONN);
	cr_assert_eq(rd(10, MSG_OOB), -EINVAL);
	SK->state = TCP_SYN_SENT;
	cr_assert_eq(rd(10, 0), -EAGAIN);
	/* a reset: the error once, then EOF */
	SK->state = TCP_CLOSE;
	SK->err = ECONNRESET;
	SK->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	cr_assert_eq(rd(10, 0), -ECONNRESET);
	cr_assert_eq(rd(10, 0), 0);
	cr_assert_eq(rd(10, MSG_ERRQUEUE), -EAGAIN);
}

/* Linux: a reset after the peer's FIN is EPIPE, and recv says EOF first */
UNIT_TEST(tcp_recv_unit, reset_after_fin_reads_eof_keeps_epipe)
{
	arrive("", 0, true);
	cr_assert_eq(rd(10, 0), 0);
	SK->state = TCP_CLOSE;
	SK->err = EPIPE;
	cr_assert_eq(rd(10, 0), 0);
	cr_assert_eq(SK->err, EPIPE);
	cr_assert_eq(tcp_inq(TP), 0);
	cr_assert_eq(rd(10, MSG_OOB), -EINVAL);
	cr_assert_eq(wr("x", 1, MSG_NOSIGNAL), -EPIPE);
	cr_assert_eq(SK->err, 0);
	cr_assert_eq(st.sigpipes, 0);
}

UNIT_TEST(tcp_recv_unit, data_before_reset_comes_first)
{
	arrive("xyz", 3, false);
	SK->state = TCP_CLOSE;
	SK->err = ECONNRESET;
	SK->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	cr_assert_eq(rd(10, 0), 3);
	cr_assert_eq(rd(10, 0), -ECONNRESET);
	cr_assert_eq(rd(10, 0), 0);
}

/* test_tcp_oob.c urgent_byte_and_mark: "ab" "XYZ"(OOB) "cd" */
UNIT_TEST(tcp_recv_unit, urgent_byte_and_mark)
{
	uint32_t base = TP->rcv_nxt;

	arrive("abXYZcd", 7, false);
	urgent_at(base + 4, 'Z');
	cr_assert_eq(tcp_inq(TP), 4, "inq stops at the mark");
	cr_assert_eq(rd(4, MSG_OOB | MSG_PEEK), 1);
	cr_assert_eq(rbuf[0], 'Z');
	cr_assert_eq(rd(64, 0), 4);
	cr_assert_str_eq(rbuf, "abXY");
	cr_assert_eq(TP->copied_seq, TP->urg_seq, "at the mark");
	cr_assert_eq(rd(4, MSG_OOB), 1);
	cr_assert_eq(rbuf[0], 'Z');
	cr_assert_eq(rd(4, MSG_OOB), -EINVAL);
	cr_assert_eq(rd(64, 0), 2);
	cr_assert_str_eq(rbuf, "cd");
	cr_assert_eq(TP->urg_data, 0);
	cr_assert_eq(SK->rcvq.count, 0);
}

UNIT_TEST(tcp_recv_unit, lone_urgent_byte_is_dropped_by_a_normal_read)
{
	uint32_t base = TP->rcv_nxt;

	arrive("X", 1, false);
	urgent_at(base, 'X');
	cr_assert_eq(rd(4, 0), -EAGAIN);
	cr_assert_eq(TP->urg_data, 0);
	cr_assert_eq(rd(4, MSG_OOB), -EINVAL);
	arrive("q", 1, false);
	cr_assert_eq(rd(4, 0), 1);
	cr_assert_str_eq(rbuf, "q");
}

UNIT_TEST(tcp_recv_unit, oobinline_keeps_the_byte)
{
	uint32_t base = TP->rcv_nxt;

	SK->flags |= SKF_OOBINLINE;
	arrive("abXcd", 5, false);
	urgent_at(base + 2, 'X');
	cr_assert_eq(rd(4, MSG_OOB), -EINVAL);
	cr_assert_eq(rd(64, 0), 2);
	cr_assert_str_eq(rbuf, "ab");
	cr_assert_eq(rd(64, 0), 3);
	cr_assert_str_eq(rbuf, "Xcd");
}

UNIT_TEST(tcp_recv_unit, urgent_not_yet_arrived_is_eagain)
{
	TP->urg_seq = TP->rcv_nxt + 10;
	TP->urg_data = TCP_URG_NOTYET;
	cr_assert_eq(rd(4, MSG_OOB), -EAGAIN);
}

UNIT_TEST(tcp_recv_unit, window_update_ack_after_reading)
{
	char big[3000];

	memset(big, 'a', sizeof(big));
	TP->rcv_wnd = 3000;
	TP->rcv_wup = TP->rcv_nxt;
	arrive(big, sizeof(big), false);	/* what is left of the window: 0 */
	st.window = 4000;
	cr_assert_eq(rd(sizeof(big), 0), 3000);
	cr_assert_eq(st.acks, 1, "the window opened: ACK");
	/* offered afresh: 3000 left after these 10; 4000 is not twice that */
	TP->rcv_wup = TP->rcv_nxt;
	arrive(big, 10, false);
	cr_assert_eq(rd(10, 0), 10);
	cr_assert_eq(st.acks, 1, "no much larger window: no ACK");
}

UNIT_TEST(tcp_recv_unit, waitall_waits_and_inq_cmsg)
{
	TP->recvmsg_inq = true;
	arrive("abcdef", 6, false);
	cr_assert_eq(rd(4, MSG_WAITALL), 4);
	cr_assert_eq(st.cmsg_level, SOL_TCP);
	cr_assert_eq(st.cmsg_type, TCP_CM_INQ);
	cr_assert_eq(st.cmsg_val, 2);
	/* DONTWAIT with WAITALL: what there is */
	cr_assert_eq(rd(10, MSG_WAITALL), 2);
}

static int deliver_on_wait(struct sock *s, int64_t *timeo)
{
	arrive("late", 4, false);
	return 0;
}

UNIT_TEST(tcp_recv_unit, blocking_read_wakes_with_data)
{
	struct iovec iov = { rbuf, 8 };
	struct sk_msg m;

	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.len = 8;
	st.on_wait = deliver_on_wait;
	cr_assert_eq(tcp_recvmsg(SK, &m, 0), 4);
	cr_assert_eq(st.waits, 1);
	cr_assert(memcmp(rbuf, "late", 4) == 0);
}

/* ---- send ---- */

UNIT_TEST(tcp_send_unit, unconnected_is_epipe_with_sigpipe)
{
	SK->state = TCP_CLOSE;
	cr_assert_eq(wr("x", 1, 0), -EPIPE);
	cr_assert_eq(st.sigpipes, 1);
	cr_assert_eq(wr("x", 1, MSG_NOSIGNAL), -EPIPE);
	cr_assert_eq(wr("", 0, MSG_OOB), -EPIPE);
	cr_assert_eq(st.sigpipes, 2);
	SK->state = TCP_LISTEN;
	cr_assert_eq(wr("x", 1, MSG_DONTWAIT), -EPIPE);
	/* a pending error first, without a signal */
	SK->state = TCP_CLOSE;
	SK->err = ECONNRESET;
	cr_assert_eq(wr("x", 1, 0), -ECONNRESET);
	cr_assert_eq(st.sigpipes, 3);
	cr_assert_eq(wr("x", 1, 0), -EPIPE);
	cr_assert_eq(st.sigpipes, 4);
}

UNIT_TEST(tcp_send_unit, queues_charges_and_appends)
{
	struct pkt *pk;

	cr_assert_eq(wr("hello", 5, 0), 5);
	pk = TP->write_queue.head;
	cr_assert_not_null(pk);
	cr_assert_eq(pk->tot_len, 5);
	cr_assert_eq(pk->meta.truesize, 832 + 5);
	cr_assert_eq(TP->wmem_queued, 832 + 5);
	cr_assert_eq(TP->write_seq, 5005);
	cr_assert_eq(TCP_SKB_CB(pk)->end_seq, 5005);
	cr_assert_eq(st.pushes, 1);
	cr_assert_eq(wr("world", 5, MSG_MORE), 5);
	cr_assert_eq(TP->write_queue.count, 1, "appended to the tail");
	cr_assert_eq(pk->tot_len, 10);
	cr_assert_eq(TP->wmem_queued, 832 + 10);
	cr_assert_eq(st.last_push_flags & MSG_MORE, MSG_MORE);
	cr_assert_eq(wr("!", 1, MSG_EOR), 1);
	cr_assert(TCP_SKB_CB(pk)->eor);
	cr_assert_eq(wr("?", 1, 0), 1);
	cr_assert_eq(TP->write_queue.count, 2, "MSG_EOR closed the packet");
	cr_assert_eq(SK->sndbuf, 16384);
	cr_assert_eq(rd(1, 0), -EAGAIN);
}

UNIT_TEST(tcp_send_unit, size_goal_and_fill_to_eagain)
{
	static char big[20000];
	ssize_t r;
	uint32_t seq = 5000;

	memset(big, 'z', sizeof(big));
	SK->sndbuf = 8192;
	r = wr(big, sizeof(big), MSG_DONTWAIT);
	/* packets of 1000 + 832 until 8192 is reached: 5 of them */
	cr_assert_eq(r, 5000, "queued %zd", r);
	cr_assert_eq(TP->write_queue.count, 5);
	for (struct pkt *pk = TP->write_queue.head; pk; pk = pk->next) {
		cr_assert_eq(pk->tot_len, 1000);
		cr_assert_eq(TCP_SKB_CB(pk)->seq, seq);
		seq += 1000;
	}
	cr_assert_eq(TP->wmem_queued, 5 * 1832);
	cr_assert_eq(wr(big, 10, MSG_DONTWAIT), -EAGAIN);
	cr_assert_eq(st.sigpipes, 0);
	/* blocking with a send timeout that ends: EAGAIN after waiting */
	cr_assert_eq(wr(big, 10, 0), -EAGAIN);
	cr_assert(st.waits >= 1);
}

UNIT_TEST(tcp_send_unit, full_packets_leave_and_forced_push)
{
	static char big[5000];

	memset(big, 'p', sizeof(big));
	cr_assert_eq(wr(big, 2500, 0), 2500);
	cr_assert_eq(st.push_ones, 1, "a full packet at the send head goes at once");
	cr_assert_eq(st.push_pending, 0);
	TP->max_window = 2000;
	cr_assert_eq(wr(big, 3000, 0), 3000);
	cr_assert(st.push_pending >= 1, "more than half the window unpushed: forced push");
	cr_assert(TCP_SKB_CB(TP->write_queue.head->next->next)->tcp_flags & TCP_HDR_PSH);
}

UNIT_TEST(tcp_send_unit, oob_marks_the_urgent_pointer)
{
	cr_assert_eq(wr("ab", 2, 0), 2);
	cr_assert_eq(TP->snd_up, 0);
	cr_assert_eq(wr("xyz", 3, MSG_OOB), 3);
	cr_assert_eq(TP->snd_up, 5005);
	cr_assert_eq(wr("", 0, MSG_OOB), 0);
	cr_assert_eq(TP->snd_up, 5005);
}

UNIT_TEST(tcp_send_unit, shutdown_is_epipe_and_fastopen_errors)
{
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	struct iovec iov = { "x", 1 };
	struct sk_msg m;

	SK->shutdown = SEND_SHUTDOWN;
	cr_assert_eq(wr("x", 1, MSG_NOSIGNAL), -EPIPE);
	cr_assert_eq(st.sigpipes, 0);
	SK->shutdown = 0;
	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.len = 1;
	memcpy(&m.addr, &un, sizeof(un));
	m.addrlen = sizeof(un);
	m.has_addr = true;
	cr_assert_eq(tcp_sendmsg(SK, &m, MSG_FASTOPEN), -EOPNOTSUPP);
	m.has_addr = false;
	cr_assert_eq(tcp_sendmsg(SK, &m, MSG_FASTOPEN), -EISCONN);
	tbl.sys.fastopen = 0;
	cr_assert_eq(tcp_sendmsg(SK, &m, MSG_FASTOPEN), -EOPNOTSUPP);
	cr_assert(!TP->fastopen_req.active);
}

UNIT_TEST(tcp_send_unit, check_space_wakes_when_writeable)
{
	TP->wmem_queued = 12000;
	SK->sndbuf = 16384;
	SK->flags |= SKF_SNDBUF_LOCK;
	tcp_check_space(TP);
	cr_assert_eq(st.wakes, 0, "4384 free < 6000 half queued");
	TP->wmem_queued = 10000;
	tcp_check_space(TP);
	cr_assert_eq(st.wakes, 1);
	TP->wmem_queued = 0;
}

static ssize_t wr_to(const char *data, size_t n, int flags, bool addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct iovec iov = { (void *)data, n };
	struct sk_msg m;

	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.len = n;
	if (addr) {
		memcpy(&m.addr, &a, sizeof(a));
		m.addrlen = sizeof(a);
		m.has_addr = true;
	}
	return tcp_sendmsg(SK, &m, flags);
}

UNIT_TEST(tcp_send_unit, fastopen_connects_and_sends)
{
	SK->state = TCP_CLOSE;
	/* non-blocking with a cookie: the bytes went in the SYN */
	cr_assert_eq(wr_to("hello", 5, MSG_FASTOPEN | MSG_DONTWAIT, true), 5);
	cr_assert_eq(st.connects, 1);
	cr_assert(!TP->fastopen_req.active, "the request lives for the call only");
	cr_assert_eq(TP->write_queue.count, 0);
	/* a second one while connecting: the connect's EALREADY */
	cr_assert_eq(wr_to("again", 5, MSG_FASTOPEN | MSG_DONTWAIT, true), -EALREADY);
	/* blocking without a cookie: connected first, then queued as a send */
	SK->state = TCP_CLOSE;
	cr_assert_eq(wr_to("hello", 5, MSG_FASTOPEN, true), 5);
	cr_assert_eq(TP->write_queue.count, 1);
	cr_assert_eq(TP->write_queue.head->tot_len, 5);
	/* a request still held (TCP_FASTOPEN_CONNECT asking for a cookie) */
	SK->state = TCP_CLOSE;
	TP->fastopen_req.active = true;
	cr_assert_eq(wr_to("x", 1, MSG_FASTOPEN, true), -EALREADY);
	TP->fastopen_req.active = false;
	cr_assert_eq(st.sigpipes, 0);
}

UNIT_TEST(tcp_send_unit, deferred_connect_sends_syn_on_first_write)
{
	SK->state = TCP_SYN_SENT;
	TP->fastopen_connect = true;
	TP->defer_connect = true;
	cr_assert_eq(wr_to("abc", 3, MSG_DONTWAIT, false), 3);
	cr_assert_eq(st.tcp_connects, 1);
	cr_assert(!TP->defer_connect);
	cr_assert(!TP->fastopen_req.active);
	/* later writes wait for the handshake like any other */
	cr_assert_eq(wr_to("d", 1, MSG_DONTWAIT, false), -EAGAIN);
	cr_assert_eq(st.tcp_connects, 1);
}

