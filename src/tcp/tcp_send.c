/* SPDX-License-Identifier: MIT */
/*
 * tcp_send.c - tcp_sendmsg: queueing user data, Fast Open on the client, waiting for memory
 *
 * Theory of operation.  A send appends the caller's bytes to the write
 * queue (tp->write_queue) the way tcp_sendmsg_locked does: first into the
 * room left in the tail packet (up to size_goal bytes, unless MSG_EOR
 * closed it), then into new packets from tcp_stream_alloc_pkt, and hands
 * them to tcp_out.c (tcp_push / tcp_push_one / __tcp_push_pending_frames),
 * which decides with Nagle, cork and the windows what leaves now.  This file
 * owns nothing but the charge: every write-queue packet carries in
 * meta.truesize what the kernel would charge for it (SKB_TRUESIZE of an
 * empty fclone skb with MAX_TCP_HEADER of head room, plus every payload
 * byte copied in), and tp->wmem_queued is the sum over the write and
 * retransmit queues, so SO_SNDBUF stops a writer at the same byte as on
 * Linux whatever the pool block behind the bytes is.  A packet's payload
 * is a chain of pool pieces: the first from tcp_stream_alloc_pkt, more
 * appended when a small write's block is full, growing geometrically so a
 * packet has few pieces.  A piece is only written past its end while no
 * view shares it (refcnt 1).
 *
 * Waiting follows sk_stream_wait_connect and sk_stream_wait_memory: the
 * namespace lock is dropped in sk_wait, every condition is read again after
 * it.  Client Fast Open (MSG_FASTOPEN, or the first write after a
 * TCP_FASTOPEN_CONNECT connect that deferred its SYN) fills
 * tp->fastopen_req for tcp_connect (tcp_out.c puts the data in the SYN) and
 * runs the connect through tcp_stream_connect (tcp.c), which owns the
 * socket-level connect state behind EALREADY / EISCONN / EINPROGRESS; the
 * request lives for this call only (tcp_free_fastopen_req at its end).
 *
 * Limits: MSG_ZEROCOPY is a plain copy with no completion notification;
 * TCP_REPAIR queues and SO_TIMESTAMPING on send are not kept.
 * The kernel's SOCK_NOSPACE bit has no home here, so tcp_check_space acts
 * as if a writer had always found the socket full (see there).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "buf/pkt.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"

/* net.ipv4.tcp_fastopen bit: client side enabled (TFO_CLIENT_ENABLE) */
#define TCP_TFO_CLIENT_ENABLE 1

/*
 * MAX_TCP_HEADER of the reference kernel (L1_CACHE_ALIGN(128 + MAX_HEADER)):
 * 256, which makes its skb small-head cache 576 bytes, the size
 * pkt_kernel_truesize assumes too.  An empty write-queue skb
 * (tcp_stream_alloc_skb) is charged SKB_TRUESIZE of that head: 832.
 */
#define TCP_MAX_TCP_HEADER 256u
#define TCP_SKB_EMPTY_TRUESIZE (pkt_kernel_truesize(TCP_MAX_TCP_HEADER))
/* SOCK_MIN_SNDBUF: 2 * (2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff))) */
#define TCP_SOCK_MIN_SNDBUF (2 * (2048 + 256))
/* SKB_TRUESIZE(1): below it nothing is left in the host's queues */
#define TCP_SKB_TRUESIZE_1 (1u + 256u + 320u)
/* the piece size a packet's payload starts from when it grows by small writes */
#define TCP_PIECE_MAX (PKT_CLASS_LARGE - PKT_HEADROOM)

static inline struct sock *tsk(struct tcp_sock *tp) { return &tp->sk; }

/* ---- memory ---- */

/* tcp_notsent_lowat: TCP_NOTSENT_LOWAT, else the sysctl. */
static inline uint32_t notsent_lowat(const struct tcp_sock *tp)
{
	return tp->notsent_lowat ? tp->notsent_lowat : tcp_sys(&tp->sk)->notsent_lowat;
}

/*
 * __sk_stream_memory_free with tcp_stream_memory_free: room under
 * SO_SNDBUF, and the unsent bytes (doubled when deciding to wake a writer)
 * under TCP_NOTSENT_LOWAT.
 */
static bool mem_free(const struct tcp_sock *tp, int wake)
{
	uint32_t notsent = tp->write_seq - tp->snd_nxt;

	if ((int)tp->wmem_queued >= tp->sk.sndbuf)
		return false;
	return ((uint64_t)notsent << wake) < notsent_lowat(tp);
}

/*
 * __sk_stream_is_writeable: the free space is at least half of what is
 * queued (sk_stream_wspace >= sk_stream_min_wspace), and memory is free.
 * This is the POLLOUT rule test_tcp_flow.c pollout_threshold checks.
 */
static bool stream_is_writeable(const struct tcp_sock *tp, int wake)
{
	int64_t wspace = (int64_t)tp->sk.sndbuf - tp->wmem_queued;

	return wspace >= (int64_t)(tp->wmem_queued >> 1) && mem_free(tp, wake);
}

/* sk_stream_write_space: wake writers and pollers once writeable. */
static void write_space(struct tcp_sock *tp)
{
	if (stream_is_writeable(tp, 1))
		sk_wake(tsk(tp), POLLOUT | POLLWRNORM | POLLWRBAND);
}

/*
 * sk_stream_moderate_sndbuf: an allocation failed, so the send buffer
 * shrinks to half of what is queued (never under SOCK_MIN_SNDBUF) unless
 * the user set SO_SNDBUF.
 */
static void moderate_sndbuf(struct tcp_sock *tp)
{
	struct sock *sk = tsk(tp);
	int val;

	if (sk->flags & SKF_SNDBUF_LOCK)
		return;
	val = (int)(tp->wmem_queued >> 1);
	if (val > sk->sndbuf)
		val = sk->sndbuf;
	sk->sndbuf = val > TCP_SOCK_MIN_SNDBUF ? val : TCP_SOCK_MIN_SNDBUF;
}

void tcp_wmem_charge(struct tcp_sock *tp, struct pkt *pk)
{
	tp->wmem_queued += pk->meta.truesize;
}

void tcp_wmem_free_pkt(struct tcp_sock *tp, struct pkt *pk)
{
	uint32_t ts = pk->meta.truesize;

	tp->wmem_queued = tp->wmem_queued > ts ? tp->wmem_queued - ts : 0;
	pkt_free(pk);
}

/*
 * tcp_stream_alloc_pkt - a write-queue packet with room for size payload
 * bytes (the pool class that fits; at most one large block), charged to
 * wmem_queued as tcp_stream_alloc_skb charges an empty skb.  Its control
 * block is zero; the caller sets seq/end_seq/flags and queues it.
 * Return: the packet, or NULL when the pools are exhausted (the send
 * buffer is then moderated as sk_stream_moderate_sndbuf does; the caller
 * waits for memory or fails with ENOBUFS).
 */
struct pkt *tcp_stream_alloc_pkt(struct tcp_sock *tp, size_t size)
{
	struct pkt *pk;

	if (size > TCP_PIECE_MAX)
		size = TCP_PIECE_MAX;
	pk = pkt_alloc(tsk(tp)->ns->pools, size);
	if (!pk) {
		moderate_sndbuf(tp);
		return NULL;
	}
	/* pkt_alloc zeroed meta, the control block with it */
	pk->meta.truesize = TCP_SKB_EMPTY_TRUESIZE;
	tcp_wmem_charge(tp, pk);
	return pk;
}

/*
 * tcp_stream_error - sk_stream_error: an EPIPE becomes the pending error
 * if there is one, and a plain EPIPE raises SIGPIPE (at the public edge)
 * unless MSG_NOSIGNAL.  Return: the error to give the caller.
 */
int tcp_stream_error(struct sock *sk, int flags, int err)
{
	if (err == -EPIPE) {
		int e = sk_sock_error(sk);

		err = e ? e : -EPIPE;
	}
	if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
		sock_sigpipe();
	return err;
}

/*
 * tcp_sndbuf_expand: a send buffer for twice the congestion window of
 * worst-case (one per MSS) skbs, as CUBIC asks, up to tcp_wmem[2].
 */
static void sndbuf_expand(struct tcp_sock *tp)
{
	struct sock *sk = tsk(tp);
	uint32_t mss = tp->mss_clamp > tp->mss_cache ? tp->mss_clamp : tp->mss_cache;
	uint32_t per_mss = mss + TCP_MAX_TCP_HEADER + 320u, p2 = 1, nr_segs;
	uint64_t sndmem;
	int cap = tcp_sys(sk)->wmem[2];

	while (p2 < per_mss)
		p2 <<= 1;
	per_mss = p2 + 256u;
	nr_segs = tp->snd_cwnd > TCP_INIT_CWND ? tp->snd_cwnd : TCP_INIT_CWND;
	if (nr_segs < tp->reordering + 1)
		nr_segs = tp->reordering + 1;
	sndmem = 2ull * nr_segs * per_mss;
	if ((uint64_t)sk->sndbuf < sndmem)
		sk->sndbuf = sndmem < (uint64_t)cap ? (int)sndmem : cap;
}

/* tcp_should_expand_sndbuf (there is no global TCP memory pressure here). */
static bool should_expand_sndbuf(const struct tcp_sock *tp)
{
	if (tp->sk.flags & SKF_SNDBUF_LOCK)
		return false;
	return tcp_packets_in_flight(tp) < tp->snd_cwnd;
}

/*
 * tcp_check_space - after ACKs freed write memory (tcp_check_space ->
 * tcp_new_space -> sk_stream_write_space): grow the send buffer while
 * cwnd is not full, and wake writers once the socket is writeable.  The
 * kernel does this only when SOCK_NOSPACE says a writer found it full;
 * with no such bit here it is done on every call, which wakes nobody when
 * nobody waits and grows the buffer only where cwnd outgrew its initial
 * ten segments.
 */
void tcp_check_space(struct tcp_sock *tp)
{
	if (tsk(tp)->state == TCP_LISTEN)
		return;
	if (should_expand_sndbuf(tp)) {
		sndbuf_expand(tp);
		tp->snd_cwnd_stamp = tp->tcp_mstamp;
	}
	write_space(tp);
}

/* ---- write-queue helpers ---- */

/* tcp_mark_push: the packet gets PSH, and forced_push counts from here. */
static inline void mark_push(struct tcp_sock *tp, struct pkt *pk)
{
	TCP_SKB_CB(pk)->tcp_flags |= TCP_HDR_PSH;
	tp->pushed_seq = tp->write_seq;
}

/* forced_push: more than half the largest window written since the last PSH. */
static inline bool forced_push(const struct tcp_sock *tp)
{
	return tcp_after(tp->write_seq, tp->pushed_seq + (tp->max_window >> 1));
}

/* tcp_mark_urg: the urgent pointer follows the end of an MSG_OOB write. */
static inline void mark_urg(struct tcp_sock *tp, int flags)
{
	if (flags & MSG_OOB)
		tp->snd_up = tp->write_seq;
}

/* tcp_push with the urgent mark this file owns set first. */
static void push(struct tcp_sock *tp, int flags, unsigned mss, int nonagle, unsigned size_goal)
{
	mark_urg(tp, flags);
	tcp_push(tp, flags, mss, nonagle, size_goal);
}

/*
 * tcp_skb_can_collapse_to: more bytes may join the tail packet unless
 * MSG_EOR closed it; a SYN or FIN packet never takes data here.
 */
static inline bool can_collapse_to(const struct pkt *pk)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	return !cb->eor && !(cb->tcp_flags & (TCP_HDR_SYN | TCP_HDR_FIN));
}

static inline bool queues_empty(const struct tcp_sock *tp)
{
	return !tp->write_queue.head && !tp->rtx_queue.head;
}

/*
 * tcp_slow_start_after_idle_check: the first packet after an idle period
 * longer than the RTO restarts the congestion window (RFC 2861).
 */
static void slow_start_after_idle_check(struct tcp_sock *tp)
{
	uint64_t now, delta;

	if (!tcp_sys(tsk(tp))->slow_start_after_idle || tp->packets_out)
		return;
	now = tcp_clock_us(tsk(tp)->ns);
	delta = now - tp->lsndtime_us;
	if (now > tp->lsndtime_us && delta > tp->rto_us)
		tcp_cwnd_restart(tp, delta > UINT32_MAX ? UINT32_MAX : (uint32_t)delta);
}

/* tcp_skb_entail: a new empty packet at write_seq goes to the tail of the write queue. */
static void entail(struct tcp_sock *tp, struct pkt *pk)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	cb->seq = cb->end_seq = tp->write_seq;
	cb->tcp_flags = TCP_HDR_ACK;
	cb->eor = 0;
	cb->sacked = 0;
	tcp_queue_skb(tp, pk);
	cb->tcp_flags = TCP_HDR_ACK;
	if (tp->nonagle & TCP_NAGLE_PUSH)
		tp->nonagle &= ~TCP_NAGLE_PUSH;
	slow_start_after_idle_check(tp);
}

/*
 * tcp_remove_empty_skb: a packet queued for data that never came (the copy
 * faulted) leaves again, so the write queue never ends in an empty packet
 * and POLLOUT can come back.  Rare: the walk to the predecessor is fine.
 */
static void remove_empty_tail(struct tcp_sock *tp)
{
	struct pkt_queue *q = &tp->write_queue;
	struct pkt *tail = q->tail, *prev = NULL;

	if (!tail || TCP_SKB_CB(tail)->seq != TCP_SKB_CB(tail)->end_seq)
		return;
	if (q->head != tail)
		for (prev = q->head; prev->next != tail; prev = prev->next)
			;
	if (prev)
		prev->next = NULL;
	else
		q->head = NULL;
	q->tail = prev;
	q->count--;
	q->bytes -= tail->meta.truesize;
	tail->next = NULL;
	tcp_wmem_free_pkt(tp, tail);
}

static inline struct pkt *last_piece(struct pkt *pk)
{
	while (pk->frag)
		pk = pk->frag;
	return pk;
}

/* Free bytes after the last piece's data that only this packet sees. */
static inline size_t writable_tailroom(const struct pkt *last)
{
	if (!last->cap || last->shared || last->refcnt != 1)
		return 0;
	return last->cap - (size_t)(last->data - last->buf) - last->len;
}

/*
 * Copy up to copy bytes of the message at off into the end of pk: into
 * the last piece's room, or into a new piece (sized to what is left of
 * the message and of the packet, at least as large as the packet so far)
 * chained to it.  Charges what was copied (skb_copy_to_page_nocache).
 * Return: bytes copied (> 0), -ENOBUFS (no block: wait for memory),
 * -EFAULT.
 */
static ssize_t copy_to_tail(struct tcp_sock *tp, struct pkt *pk, const struct sk_msg *m,
			    size_t off, size_t copy, size_t left, unsigned size_goal)
{
	struct pkt *last = last_piece(pk), *piece = NULL;
	size_t room = writable_tailroom(last);
	uint8_t *dst;

	if (room) {
		dst = last->data + last->len;
	} else {
		size_t want = size_goal > pk->tot_len ? size_goal - pk->tot_len : copy;
		size_t grow = left > pk->tot_len ? left : pk->tot_len;

		if (want > grow)
			want = grow;
		if (want < copy)
			want = copy;
		piece = pkt_alloc(tsk(tp)->ns->pools, want > TCP_PIECE_MAX ? TCP_PIECE_MAX : want);
		if (!piece) {
			moderate_sndbuf(tp);	/* as sk_page_frag_refill failing */
			return -ENOBUFS;
		}
		dst = piece->data;
		room = pkt_tailroom(piece);
	}
	if (copy > room)
		copy = room;
	if (sk_copy_from_iov(m, off, dst, copy)) {
		pkt_free(piece);
		return -EFAULT;
	}
	if (piece) {
		piece->len = (uint32_t)copy;
		piece->tot_len = (uint32_t)copy;
		pkt_append(pk, piece);
	} else {
		pkt_put(pk, copy);
	}
	pk->meta.truesize += (uint32_t)copy;
	tp->wmem_queued += (uint32_t)copy;
	tp->write_queue.bytes += (uint32_t)copy;	/* pk is its tail: keep the sum */
	return (ssize_t)copy;
}

/* ---- waiting ---- */

/* A wait "forever" no call outlives (31 years), for wait_progress. */
#define TCP_WAIT_HORIZON_NS 1000000000000000000ll

/*
 * sk_wait for a send that already queued bytes: any signal must end it,
 * SA_RESTART or not, since the count is returned and never restarted
 * (sk_stream_wait_memory's sock_intr_errno is dropped for it).  sk_wait's
 * endless wait is a read() that SA_RESTART resumes unseen; its timed wait
 * (ppoll) is never resumed, so an endless wait becomes a timed one with a
 * horizon no call reaches.  *timeo stays endless.
 */
static int wait_progress(struct sock *sk, uint32_t events, int64_t *timeo, bool progress)
{
	int64_t t = TCP_WAIT_HORIZON_NS;
	int r;

	if (!progress || *timeo >= 0)
		return sk_wait(sk, events, timeo);
	r = sk_wait(sk, events, &t);
	return r == -EAGAIN ? 0 : r;
}

/*
 * sk_stream_wait_connect - a send before the connection is up waits for
 * the handshake; anything but SYN_SENT/SYN_RECV is EPIPE (which is why a
 * send on a never-connected socket is EPIPE, not ENOTCONN).
 * Return: 0 once ESTABLISHED or CLOSE_WAIT, the pending error, -EPIPE,
 * -EAGAIN (no time left), -EINTR.
 */
static int wait_connect(struct tcp_sock *tp, int64_t *timeo)
{
	struct sock *sk = tsk(tp);
	bool intr = false;

	for (;;) {
		int err = sk_sock_error(sk), r;

		if (err)
			return err;
		if (!(TCPF(sk->state) & (TCPF(TCP_SYN_SENT) | TCPF(TCP_SYN_RECV))))
			return -EPIPE;
		if (!*timeo)
			return -EAGAIN;
		if (intr)
			return -EINTR;
		r = sk_wait(sk, POLLOUT | POLLIN, timeo);
		if (r == -EINTR)
			intr = true;
		else if (r < 0 && r != -EAGAIN)
			return r;
		/* sk_wait_event's condition, read on waking */
		if (!sk->err && (TCPF(sk->state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT))))
			return 0;
	}
}

/*
 * sk_stream_wait_memory - wait until the send buffer has room.  When it
 * has room already (a pool block was what failed) sleep a random 2..201 ms
 * first, as the kernel's vm_wait does, so the pools can refill.
 * progress: bytes were queued already, so any signal ends the wait.
 * Return: 0, -EPIPE (error or SEND_SHUTDOWN), -EAGAIN (time is up),
 * -EINTR.
 */
static int wait_memory(struct tcp_sock *tp, int64_t *timeo, bool progress)
{
	struct sock *sk = tsk(tp);
	int64_t cur = *timeo, vm_wait = 0;
	bool intr = false;

	if (mem_free(tp, 0))
		cur = vm_wait = (int64_t)(netns_random(sk->ns) % 200 + 2) * 1000000;
	for (;;) {
		int r;

		if (sk->err || (sk->shutdown & SEND_SHUTDOWN))
			return -EPIPE;
		if (!*timeo)
			return -EAGAIN;
		if (intr)
			return -EINTR;
		if (mem_free(tp, 0) && !vm_wait)
			return 0;
		r = vm_wait ? sk_wait(sk, POLLOUT, &cur) : wait_progress(sk, POLLOUT, &cur, progress);
		if (r == -EINTR)
			intr = true;
		else if (r < 0 && r != -EAGAIN)
			return r;
		if (vm_wait) {
			int64_t slept = vm_wait - cur;

			cur = *timeo;
			if (cur >= 0 && (cur -= slept) < 0)
				cur = 0;
			vm_wait = 0;
		}
		*timeo = cur;
	}
}

/* ---- Fast Open (client) ---- */

/*
 * A TCP_FASTOPEN_CONNECT connect that found a cookie returned at once and
 * left the SYN, with data, for the first write (DEFER_CONNECT).
 */
static inline bool defer_connect_pending(const struct tcp_sock *tp)
{
	return tp->defer_connect;
}

static void free_fastopen_req(struct tcp_sock *tp)
{
	tp->fastopen_req.active = false;
	tp->fastopen_req.msg = NULL;
	tp->fastopen_req.size = 0;
	tp->fastopen_req.copied = 0;
}

/*
 * tcp_sendmsg_fastopen - connect with the data in the SYN: the request is
 * left in tp->fastopen_req for tcp_connect, the connect itself is
 * tcp_stream_connect's (blocking unless MSG_DONTWAIT).  *copied_syn gets the
 * bytes that went into the SYN.
 * Return: 0 (connected), -EINPROGRESS, -EOPNOTSUPP (client Fast Open off,
 * or AF_UNSPEC), -EALREADY, -EISCONN, -EINVAL, -ECONNREFUSED ...
 */
static int sendmsg_fastopen(struct tcp_sock *tp, struct sk_msg *m, int flags, size_t *copied_syn)
{
	struct sock *sk = tsk(tp);
	const struct sockaddr *ua = m->has_addr ? (const struct sockaddr *)&m->addr : NULL;
	socklen_t alen = m->has_addr ? m->addrlen : 0;
	int err;

	if (!(tcp_sys(sk)->fastopen & TCP_TFO_CLIENT_ENABLE) ||
	    (ua && alen >= sizeof(sa_family_t) && ua->sa_family == AF_UNSPEC))
		return -EOPNOTSUPP;
	if (tp->fastopen_req.active)
		return -EALREADY;	/* another Fast Open is in progress */
	free_fastopen_req(tp);
	tp->fastopen_req.active = true;
	tp->fastopen_req.msg = m;
	tp->fastopen_req.size = m->len;
	tp->fastopen_req.flags = flags;

	if (defer_connect_pending(tp)) {
		err = tcp_connect(tp);
		/* the failure path of tcp_v4_connect */
		if (err) {
			tcp_set_state(tp, TCP_CLOSE);
			sk->dport = 0;
		}
	}
	err = tcp_stream_connect(tp, ua, alen, (flags & MSG_DONTWAIT) ? O_NONBLOCK : 0, true);
	/* a reset or timeout may have dropped the request already */
	if (tp->fastopen_req.active) {
		*copied_syn = tp->fastopen_req.copied > 0 ? (size_t)tp->fastopen_req.copied : 0;
		free_fastopen_req(tp);
		tp->defer_connect = false;
	}
	return err;
}

/* ---- sendmsg ---- */

/* tcp_send_mss, never with a zero goal: a packet must take at least a byte. */
static unsigned send_mss(struct tcp_sock *tp, unsigned *size_goal, int flags)
{
	unsigned mss = tcp_send_mss(tp, size_goal, flags);

	if (!*size_goal)
		*size_goal = mss ? mss : 1;
	return mss;
}

/*
 * The SOL_SOCKET control messages of a stream send (sock_cmsg_send):
 * checked, their values unused by TCP.  Return: 0, -EINVAL, -EPERM.
 */
static int send_cmsgs(struct sock *sk, const struct sk_msg *m)
{
	struct sockcm cm = { 0 };
	size_t off = 0;

	while (m->controllen >= sizeof(struct cmsghdr) &&
	       off + sizeof(struct cmsghdr) <= m->controllen) {
		const struct cmsghdr *c = (const struct cmsghdr *)(const void *)(m->control + off);
		int r;

		if (c->cmsg_len < sizeof(struct cmsghdr) || c->cmsg_len > m->controllen - off)
			return -EINVAL;
		if (c->cmsg_level == SOL_SOCKET && (r = sock_cmsg_send(sk, c, &cm)) != 0)
			return r;
		off += CMSG_ALIGN(c->cmsg_len);
	}
	return 0;
}

/*
 * tcp_rate_check_app_limited: less than a packet to send, nothing in the
 * host's queues, cwnd not full, every loss retransmitted: the rate samples
 * that follow are application limited.
 */
static void rate_check_app_limited(struct tcp_sock *tp)
{
	uint32_t inflight = tcp_packets_in_flight(tp);

	if (tp->write_seq - tp->snd_nxt < tp->mss_cache && tp->sk.wmem < TCP_SKB_TRUESIZE_1 &&
	    inflight < tp->snd_cwnd && tp->lost_out <= tp->retrans_out)
		tp->app_limited = (tp->delivered + inflight) ? tp->delivered + inflight : 1;
}

/*
 * tcp_sendmsg - tcp_sendmsg_locked: queue the message on the write queue
 * and push it.  A connected socket ignores a destination address.  Blocks
 * (SO_SNDTIMEO) for the handshake and for send-buffer room unless
 * MSG_DONTWAIT; what was queued before an error, a timeout or a signal is
 * the return value.  MSG_MORE corks this call's tail, MSG_EOR closes the
 * last packet to later data, MSG_OOB makes the last byte urgent.
 * Return: bytes queued (and put in a Fast Open SYN); -EPIPE (never
 * connected, shut down, reset after FIN; SIGPIPE unless MSG_NOSIGNAL), the
 * pending error (-ECONNRESET ...), -EAGAIN, -EINTR, -EFAULT, -EINVAL, -EPERM
 * (control messages), Fast Open's errors.
 */
ssize_t tcp_sendmsg(struct sock *sk, struct sk_msg *m, int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	size_t copied = 0, copied_syn = 0, off;
	unsigned mss_now = 0, size_goal = 0;
	int64_t timeo;
	int err, cmsg_err = 0;

	if (m->controllen)
		cmsg_err = send_cmsgs(sk, m);	/* reported after Fast Open, as the kernel */

	if ((flags & MSG_FASTOPEN || defer_connect_pending(tp)) && !tp->repair) {
		err = sendmsg_fastopen(tp, m, flags, &copied_syn);
		if (err == -EINPROGRESS && copied_syn > 0)
			return (ssize_t)copied_syn;
		if (err)
			goto out_err;
	}

	timeo = (flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo_ns;
	rate_check_app_limited(tp);

	/* Wait for the connection, except a passive Fast Open child that may send in SYN_RECV. */
	if ((TCPF(sk->state) & ~(TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT))) &&
	    !(sk->state == TCP_SYN_RECV && tp->fastopen_rsk)) {
		err = wait_connect(tp, &timeo);
		if (err)
			goto do_error;
	}
	if (cmsg_err) {
		err = cmsg_err;
		goto out_err;
	}

	off = copied_syn;
	mss_now = send_mss(tp, &size_goal, flags);
	err = -EPIPE;
	if (sk->err || (sk->shutdown & SEND_SHUTDOWN))
		goto do_error;

	while (off < m->len) {
		struct pkt *pk = tp->write_queue.tail;
		size_t left = m->len - off, copy = 0;
		ssize_t n;

		if (pk)
			copy = size_goal > pk->tot_len ? size_goal - pk->tot_len : 0;
		if (!copy || !can_collapse_to(pk)) {
			if (!mem_free(tp, 0))
				goto wait_for_space;
			pk = tcp_stream_alloc_pkt(tp, size_goal < left ? size_goal : left);
			if (!pk)
				goto wait_for_space;
			entail(tp, pk);
			copy = size_goal;
		}
		if (copy > left)
			copy = left;
		n = copy_to_tail(tp, pk, m, off, copy, left, size_goal);
		if (n == -ENOBUFS)
			goto wait_for_space;
		if (n < 0) {
			err = (int)n;
			goto do_error;
		}
		if (!copied)
			TCP_SKB_CB(pk)->tcp_flags &= ~TCP_HDR_PSH;
		tp->write_seq += (uint32_t)n;
		TCP_SKB_CB(pk)->end_seq += (uint32_t)n;
		copied += (size_t)n;
		off += (size_t)n;
		if (off == m->len) {
			if (flags & MSG_EOR)
				TCP_SKB_CB(pk)->eor = 1;
			goto out;
		}
		if (pk->tot_len < size_goal || (flags & MSG_OOB) || tp->repair)
			continue;
		if (forced_push(tp)) {
			mark_push(tp, pk);
			__tcp_push_pending_frames(tp, mss_now, TCP_NAGLE_PUSH);
		} else if (pk == tcp_send_head(tp)) {
			tcp_push_one(tp, mss_now);
		}
		continue;

wait_for_space:
		remove_empty_tail(tp);
		if (copied)
			push(tp, flags & ~MSG_MORE, mss_now, TCP_NAGLE_PUSH, size_goal);
		err = wait_memory(tp, &timeo, copied > 0);
		if (err)
			goto do_error;
		mss_now = send_mss(tp, &size_goal, flags);
	}

out:
	if (copied)
		push(tp, flags, mss_now, tp->nonagle, size_goal);
	return (ssize_t)(copied + copied_syn);

do_error:
	remove_empty_tail(tp);
	if (copied + copied_syn)
		goto out;
out_err:
	err = tcp_stream_error(sk, flags, err);
	/* an edge-triggered poller must see POLLOUT again (tcp_sendmsg_locked) */
	if (err == -EAGAIN && queues_empty(tp))
		write_space(tp);
	return err;
}
