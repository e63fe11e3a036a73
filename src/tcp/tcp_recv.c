/* SPDX-License-Identifier: MIT */
/*
 * tcp_recv.c - tcp_recvmsg: reading the stream, urgent data, window updates after reading
 *
 * Theory of operation.  tcp_in.c leaves in-order segments on sk->rcvq,
 * each with its TCP_SKB_CB seq/end_seq (a SYN or FIN counts one) and
 * charged to sk->rmem in meta.truesize.  The reader owns tp->copied_seq:
 * it copies from the packet holding copied_seq (its offset is copied_seq -
 * seq, less one for a SYN), frees packets it has read to the end (their
 * charge goes back), and steps over a FIN, which ends the read (EOF once
 * nothing was copied).  MSG_PEEK walks the same queue with a private
 * sequence number, starting SO_PEEK_OFF bytes in when that is on, and
 * frees nothing.  The urgent byte (tp->urg_data, at
 * tp->urg_seq) stays in the queue: a read stops right before it, and
 * unless SO_OOBINLINE the next read skips it, as tcp_recvmsg_locked does;
 * recv(MSG_OOB) takes it from urg_data (tcp_recv_urg).
 *
 * After reading, tcp_cleanup_rbuf decides whether the reader freed enough
 * room for an ACK announcing the larger window (or owes one the receive
 * path postponed), and tcp_rcv_space_adjust grows SO_RCVBUF once per RTT
 * when the reader keeps up (DRS).  Everything runs with the namespace lock
 * held; sk_wait drops it while asleep, so every condition is read again
 * after waking and no packet pointer is kept across a sleep.
 *
 * Limits: no TCP_REPAIR queues, no receive zero-copy.  The receiver's RTT
 * estimate of DRS is the smoothed RTT (tcp_sock keeps no rcv_rtt_est).
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "buf/pkt.h"
#include "ip/ip4_errq.h"
#include "sock/sock.h"
#include "tcp/tcp.h"

#ifndef TCP_CM_INQ
#define TCP_CM_INQ 36
#endif

/* SOCK_DONE: the peer's FIN was taken in (tcp_fin); a read then says EOF before any error. */
static inline bool sock_done(const struct tcp_sock *tp)
{
	return tp->done;
}

/* A FIN not yet read counts in rcv_nxt - copied_seq: it is the last packet queued. */
static inline bool fin_queued(const struct tcp_sock *tp)
{
	const struct pkt *t = tp->sk.rcvq.tail;

	return t && (TCP_SKB_CB(t)->tcp_flags & TCP_HDR_FIN);
}

/*
 * tcp_inq - bytes a read could return now (SIOCINQ / FIONREAD): up to the
 * urgent mark when one is ahead and not inline; a FIN is not a byte.
 * Return: the count (0 while connecting).
 */
int tcp_inq(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	int answ;

	if (TCPF(sk->state) & (TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV)))
		return 0;
	if ((sk->flags & SKF_OOBINLINE) || !tp->urg_data ||
	    tcp_before(tp->urg_seq, tp->copied_seq) || !tcp_before(tp->urg_seq, tp->rcv_nxt)) {
		answ = (int)(tp->rcv_nxt - tp->copied_seq);
		if (answ && fin_queued(tp))
			answ--;
	} else {
		answ = (int)(tp->urg_seq - tp->copied_seq);
	}
	return answ;
}

/* tcp_inq_hint: the TCP_INQ value; after a FIN, 1 so the reader goes on to see EOF. */
static int inq_hint(const struct tcp_sock *tp)
{
	int inq = (int)(tp->rcv_nxt - tp->copied_seq);

	if (inq < 0)
		inq = 0;
	if (inq == 0 && sock_done(tp))
		inq = 1;
	return inq;
}

/* sock_rcvlowat: bytes a blocking read waits for (MSG_WAITALL: all of them). */
static inline size_t rcvlowat(const struct sock *sk, bool waitall, size_t len)
{
	size_t v = waitall ? len : ((size_t)sk->rcvlowat < len ? (size_t)sk->rcvlowat : len);

	return v ? v : 1;
}

/*
 * tcp_cleanup_rbuf - after a read of `copied` bytes: ACK now if an ACK the
 * receive path scheduled should not wait any longer (more than one
 * segment unacknowledged, or the reader emptied the queue of a pushed
 * small segment while not in ping-pong mode), or if the window we could
 * offer is at least twice what is left of the one offered (and that was
 * at most half the clamp).  Nothing for a reader that shut down
 * receiving: more data is useless.
 */
void tcp_cleanup_rbuf(struct tcp_sock *tp, int copied)
{
	struct sock *sk = &tp->sk;
	bool time_to_ack = false;

	if (tp->ack.pending & ICSK_ACK_SCHED) {
		if (tp->rcv_nxt - tp->rcv_wup > tp->ack.rcv_mss ||
		    (copied > 0 &&
		     ((tp->ack.pending & ICSK_ACK_PUSHED2) ||
		      ((tp->ack.pending & ICSK_ACK_PUSHED) && !tp->ack.pingpong)) &&
		     !sk->rmem))
			time_to_ack = true;
	}
	if (copied > 0 && !time_to_ack && !(sk->shutdown & RCV_SHUTDOWN)) {
		uint32_t now = tcp_receive_window(tp);

		/* __tcp_select_window is not free: only when the window is small */
		if (2ull * now <= tp->window_clamp) {
			uint32_t nw = tcp_compute_window(tp);

			if (nw && nw >= 2ull * now)
				time_to_ack = true;
		}
	}
	if (time_to_ack) {
		tcp_mstamp_refresh(tp);
		tcp_send_ack(tp);
	}
}

/* tcp_space_from_win: the buffer whose window (tcp_win_from_space) is win. */
static uint64_t space_from_win(const struct sock *sk, uint64_t win)
{
	int w = tcp_win_from_space(sk, 1 << 20);

	return w > 0 ? (win << 20) / (uint64_t)w : win;
}

/*
 * tcp_rcvbuf_grow: the reader took newval bytes in the last RTT; the
 * buffer is sized for twice that (DRS is one RTT late) plus the growth a
 * slow-starting sender could add, plus the out-of-order span, up to
 * tcp_rmem[2], unless SO_RCVBUF fixed it; the window clamp follows.
 */
static void rcvbuf_grow(struct tcp_sock *tp, uint32_t newval)
{
	struct sock *sk = &tp->sk;
	uint32_t oldval = tp->rcvq_space;
	uint64_t rcvwin, rcvbuf, cap;

	tp->rcvq_space = newval;
	if (!tcp_sys(sk)->moderate_rcvbuf || (sk->flags & SKF_RCVBUF_LOCK))
		return;
	rcvwin = (uint64_t)newval << 1;
	if (oldval && newval > oldval)
		rcvwin += (rcvwin * (newval - oldval) / oldval) << 1;
	if (tp->ofo_queue.tail)
		rcvwin += TCP_SKB_CB(tp->ofo_queue.tail)->end_seq - tp->rcv_nxt;
	cap = tcp_sys(sk)->rmem[2] > 0 ? (uint64_t)tcp_sys(sk)->rmem[2] : 0;
	rcvbuf = space_from_win(sk, rcvwin);
	if (rcvbuf > cap)
		rcvbuf = cap;
	if (rcvbuf > (uint64_t)sk->rcvbuf) {
		sk->rcvbuf = (int)rcvbuf;
		tp->window_clamp = (uint32_t)tcp_win_from_space(sk, (int)rcvbuf);
	}
}

/*
 * tcp_rcv_space_adjust - receive buffer autotuning (DRS), once per RTT:
 * when the bytes read in the last RTT (less what is still queued) beat
 * the previous measure, grow the buffer for them.  Uses the cached
 * tcp_mstamp, as the kernel does, rather than reading the clock.
 */
void tcp_rcv_space_adjust(struct tcp_sock *tp)
{
	int64_t time, copied, inq;

	if (!tp->srtt_us)
		return;
	if (!tp->rcvq_space_time_us)
		goto new_measure;	/* tcp_init_buffer_space has not run */
	time = (int64_t)(tp->tcp_mstamp - tp->rcvq_space_time_us);
	if (time < (int64_t)(tp->srtt_us >> 3))
		return;
	copied = (int32_t)(tp->copied_seq - tp->rcvq_space_seq);
	inq = (int32_t)(tp->rcv_nxt - tp->copied_seq);
	copied -= inq;
	if (copied > (int64_t)tp->rcvq_space)
		rcvbuf_grow(tp, (uint32_t)copied);
new_measure:
	tp->rcvq_space_seq = tp->copied_seq;
	tp->rcvq_space_time_us = tp->tcp_mstamp;
}

/* A wait "forever" no call outlives (31 years): see wait_data. */
#define TCP_WAIT_HORIZON_NS 1000000000000000000ll

/*
 * sk_wait_data; for a read that already copied bytes any signal must end it,
 * SA_RESTART or not, since the count is returned and never restarted.
 * sk_wait's endless wait is a read() that SA_RESTART resumes unseen; its
 * timed wait (ppoll) is never resumed, so an endless wait becomes a timed
 * one with a horizon no call reaches.  *timeo stays endless.
 */
static int wait_data(struct sock *sk, int64_t *timeo, bool progress)
{
	int64_t t = TCP_WAIT_HORIZON_NS;
	int r;

	if (!progress || *timeo >= 0)
		return sk_wait(sk, POLLIN | POLLRDNORM, timeo);
	r = sk_wait(sk, POLLIN | POLLRDNORM, &t);
	return r == -EAGAIN ? 0 : r;
}

/* Copy n bytes of a plain buffer to the message's iov at iov_off (one-piece view). */
static int copy_buf_to_iov(struct sk_msg *m, void *buf, size_t n)
{
	struct pkt v;

	memset(&v, 0, sizeof(v));
	v.data = buf;
	v.len = (uint32_t)n;
	v.tot_len = (uint32_t)n;
	return sk_copy_pkt_to_iov(m, &v, 0, n);
}

/*
 * tcp_recv_urg - recv(MSG_OOB): the urgent byte, once (MSG_PEEK leaves
 * it), never blocking.  Return: 1 (0 with MSG_TRUNC flagged for an empty
 * buffer); -EINVAL with SO_OOBINLINE, no urgent data or the byte already
 * read; -ENOTCONN on a closed socket that never got a FIN; 0 at EOF;
 * -EAGAIN when the byte has not arrived yet; -EFAULT.
 */
static ssize_t recv_urg(struct tcp_sock *tp, struct sk_msg *m, int flags)
{
	struct sock *sk = &tp->sk;

	if ((sk->flags & SKF_OOBINLINE) || !tp->urg_data || tp->urg_data == TCP_URG_READ)
		return -EINVAL;
	if (sk->state == TCP_CLOSE && !sock_done(tp))
		return -ENOTCONN;
	if (tp->urg_data & TCP_URG_VALID) {
		char c = (char)(tp->urg_data & 0xff);
		ssize_t len = 0;

		if (!(flags & MSG_PEEK))
			tp->urg_data = TCP_URG_READ;
		m->msg_flags |= MSG_OOB;
		if (m->len > 0) {
			if (!(flags & MSG_TRUNC) && copy_buf_to_iov(m, &c, 1))
				return -EFAULT;
			len = 1;
		} else {
			m->msg_flags |= MSG_TRUNC;
		}
		return len;
	}
	if (sk->state == TCP_CLOSE || (sk->shutdown & RCV_SHUTDOWN))
		return 0;
	/* BSD: a MSG_OOB read never blocks */
	return -EAGAIN;
}


/* tcp_eat_recv_skb: a packet read to its end leaves the queue and gives its charge back. */
static void eat_pkt(struct sock *sk, struct pkt *pk)
{
	struct pkt_queue *q = &sk->rcvq;

	if (q->head == pk) {
		pkt_queue_pop(q);
	} else {
		struct pkt *prev = q->head;

		while (prev && prev->next != pk)
			prev = prev->next;
		if (!prev)
			return;
		prev->next = pk->next;
		if (q->tail == pk)
			q->tail = prev;
		q->count--;
		q->bytes -= pk->meta.truesize;
		pk->next = NULL;
	}
	sk->rmem = sk->rmem > pk->meta.truesize ? sk->rmem - pk->meta.truesize : 0;
	pkt_free(pk);
}

/* tcp_recv_timestamp: SO_TIMESTAMP / SO_TIMESTAMPNS of the last packet read from. */
static void put_timestamp(struct sock *sk, struct sk_msg *m, uint64_t t)
{
	if (!t || !(sk->flags & SKF_TIMESTAMP))
		return;
	if (sk->flags & SKF_TIMESTAMPNS) {
		struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

		sk_put_cmsg(m, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &ts, sizeof(ts));
	} else {
		struct timeval tv = { (time_t)(t / 1000000000ull),
				      (suseconds_t)((t % 1000000000ull) / 1000) };

		sk_put_cmsg(m, SOL_SOCKET, SO_TIMESTAMP_OLD, &tv, sizeof(tv));
	}
}

/*
 * tcp_recvmsg_locked: the copy loop.  *tstamp gets the receive time of the
 * last packet read from.  Return: bytes read (0 at EOF or after a FIN), or
 * the error when nothing was: the pending one, -ENOTCONN, -EAGAIN, -EINTR,
 * -EFAULT.
 */
static ssize_t recvmsg_locked(struct tcp_sock *tp, struct sk_msg *m, int flags, uint64_t *tstamp)
{
	struct sock *sk = &tp->sk;
	bool peek = flags & MSG_PEEK, sigpend = false;
	/* SO_PEEK_OFF: a peek starts that far past copied_seq (Linux 6.10 on) */
	int po = sk_peek_offset(sk, flags);
	uint32_t peek_offset = po > 0 ? (uint32_t)po : 0;
	uint32_t peek_seq = tp->copied_seq + peek_offset, urg_hole = 0;
	uint32_t *seq = peek ? &peek_seq : &tp->copied_seq;
	int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo_ns;
	size_t len = m->len, target = rcvlowat(sk, flags & MSG_WAITALL, m->len > INT32_MAX ? INT32_MAX : m->len);
	ssize_t copied = 0;
	struct pkt *hint = NULL;

	do {
		struct pkt *pk;
		uint32_t offset = 0;
		size_t used;

		/* at the urgent mark: a read that has data stops before it */
		if (tp->urg_data && tp->urg_seq == *seq) {
			if (copied)
				break;
			if (sigpend) {
				copied = timeo ? -EINTR : -EAGAIN;
				break;
			}
		}

		/* the packet holding *seq (a peek goes on from the last one it read) */
		for (pk = hint ? hint : sk->rcvq.head; pk; ) {
			struct pkt *next = pk->next;

			if (tcp_before(*seq, TCP_SKB_CB(pk)->seq)) {
				pk = NULL;	/* a hole: cannot happen in an in-order queue */
				break;
			}
			offset = *seq - TCP_SKB_CB(pk)->seq;
			if (TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_SYN)
				offset--;
			if (offset < pk->tot_len)
				goto found_ok;
			if (TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_FIN)
				goto found_fin;
			/* read already: only a peek may find it still queued */
			if (!peek)
				eat_pkt(sk, pk);
			pk = next;
		}
		hint = NULL;

		if (copied >= (ssize_t)target)
			break;
		if (copied) {
			if (!timeo || sk->err || sk->state == TCP_CLOSE ||
			    (sk->shutdown & RCV_SHUTDOWN) || sigpend)
				break;
		} else {
			if (sock_done(tp))
				break;
			if (sk->err) {
				copied = sk_sock_error(sk);
				break;
			}
			if (sk->shutdown & RCV_SHUTDOWN)
				break;
			if (sk->state == TCP_CLOSE) {
				/* never connected */
				copied = -ENOTCONN;
				break;
			}
			if (!timeo) {
				copied = -EAGAIN;
				break;
			}
			if (sigpend) {
				copied = -EINTR;
				break;
			}
		}

		tcp_cleanup_rbuf(tp, (int)copied);
		{
			int r = wait_data(sk, &timeo, copied > 0);

			if (r == -EINTR)
				sigpend = true;
			else if (r < 0 && r != -EAGAIN)
				return copied ? copied : r;
		}
		/* another reader may have taken bytes a peek was looking at */
		if (peek && peek_seq - peek_offset - (uint32_t)copied - urg_hole != tp->copied_seq)
			peek_seq = tp->copied_seq + peek_offset;
		continue;

found_ok:
		used = pk->tot_len - offset;
		if (len < used)
			used = len;
		if (tp->urg_data) {
			uint32_t urg_offset = tp->urg_seq - *seq;

			if (urg_offset < used) {
				if (!urg_offset) {
					if (!(sk->flags & SKF_OOBINLINE)) {
						/* the urgent byte is not part of the stream */
						(*seq)++;
						urg_hole++;
						offset++;
						used--;
						if (!used)
							goto skip_copy;
					}
				} else {
					used = urg_offset;
				}
			}
		}
		if (!(flags & MSG_TRUNC)) {
			if (sk_copy_pkt_to_iov(m, pk, offset, used)) {
				if (!copied)
					copied = -EFAULT;
				break;
			}
			m->iov_off += used;
		}
		*seq += (uint32_t)used;
		copied += (ssize_t)used;
		len -= used;
		if (peek)
			sk_peek_offset_fwd(sk, (int)used);
		else
			sk_peek_offset_bwd(sk, (int)used);
		tcp_rcv_space_adjust(tp);
skip_copy:
		if (tp->urg_data && tcp_after(tp->copied_seq, tp->urg_seq))
			tp->urg_data = 0;
		*tstamp = pk->meta.tstamp_ns;
		if (used + offset < pk->tot_len) {
			hint = peek ? pk : NULL;
			continue;
		}
		if (TCP_SKB_CB(pk)->tcp_flags & TCP_HDR_FIN)
			goto found_fin;
		hint = peek ? pk->next : NULL;
		if (!peek)
			eat_pkt(sk, pk);
		continue;

found_fin:
		/* the FIN takes one sequence number and ends this read */
		(*seq)++;
		if (!peek)
			eat_pkt(sk, pk);
		break;
	} while (len > 0);

	tcp_cleanup_rbuf(tp, (int)(copied > INT32_MAX ? INT32_MAX : copied));
	return copied;
}

/*
 * tcp_recvmsg - read the stream (tcp_recvmsg): up to m->len bytes, waiting
 * (SO_RCVTIMEO, unless MSG_DONTWAIT) for SO_RCVLOWAT of them, all of them
 * with MSG_WAITALL.  MSG_PEEK leaves them queued, MSG_TRUNC drops them
 * without copying, MSG_OOB reads the urgent byte, MSG_ERRQUEUE the error
 * queue.  The address is not reported (UNIX98: ignored on a connected
 * socket).  With TCP_INQ a TCP_CM_INQ cmsg tells what is left.
 * Return: bytes read, 0 at EOF; -ENOTCONN (listening or never connected),
 * the pending error (reported once), -EAGAIN, -EINTR, -EINVAL (MSG_OOB),
 * -EFAULT.
 */
ssize_t tcp_recvmsg(struct sock *sk, struct sk_msg *m, int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t tstamp = 0;
	ssize_t r;

	if (flags & MSG_ERRQUEUE)
		return ip4_recv_error(sk, m);
	if (sk->state == TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB)
		r = recv_urg(tp, m, flags);
	else
		r = recvmsg_locked(tp, m, flags, &tstamp);
	if (r >= 0) {
		put_timestamp(sk, m, tstamp);
		if (tp->recvmsg_inq) {
			int inq = inq_hint(tp);

			sk_put_cmsg(m, SOL_TCP, TCP_CM_INQ, &inq, sizeof(inq));
		}
	}
	return r;
}
