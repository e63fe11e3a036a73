/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - TCP over IPv4: the objects and the contract between tcp/ files
 *
 * Theory of operation.  Every field and every function here means what its
 * namesake means in Linux (struct tcp_sock, inet_connection_sock, the
 * functions of net/ipv4/tcp*.c): when in doubt, the kernel's meaning is the
 * contract.  Sequence numbers are host order; "before/after" compare modulo
 * 2^32 (tcp_before/tcp_after).  Times: timers run on the namespace clock in
 * ns (netns_now); RTTs and the RTO are kept in microseconds (srtt_us, rto_us)
 * as Linux keeps srtt_us; the timestamp option ticks in milliseconds
 * (tcp_ts_now) as Linux's TCP_TS_HZ=1000.
 *
 * Locking: the namespace lock covers all of TCP.  Blocking calls wait with
 * sk_wait (which drops it) and re-check state afterwards.
 *
 * Packets.  A write-queue packet (struct pkt) holds only payload, with
 * PKT_HEADROOM free in front; its TCP_SKB_CB gives seq/end_seq (SYN and FIN
 * count one each) and the flags to send.  Unsent packets sit on
 * tp->write_queue, sent-but-unacked ones on tp->rtx_queue (sorted by seq),
 * so the scoreboard (sacked bits) is per packet as in the kernel.  Sending
 * transmits a clone (pkt_clone_range: a fresh header block and views of the
 * payload), never the queued packet itself.  A received segment reaches
 * the state machine as (sk, pk, th): pk->data at the payload (the header
 * pulled off), pk->tot_len its length, th the parsed header (wire/tcp.h),
 * TCP_SKB_CB(pk) filled by tcp_v4_rcv.  A function handed pk consumes it.
 *
 * Memory: the write queue is charged to tp->wmem_queued (sk_wmem_queued),
 * in truesize, against sk->sndbuf; received data to sk->rmem against
 * sk->rcvbuf.  Sockets come from the namespace's TCP object cache, request
 * and TIME_WAIT objects from caches in struct tcp_table: nothing is
 * malloc'd once a socket exists.
 *
 * Files (each owns the functions listed under its name below):
 *   tcp.c        socket calls: create, bind, connect, listen, accept, close, shutdown, poll, ioctl
 *   tcp_send.c   tcp_sendmsg, Fast Open on the client, waiting for memory
 *   tcp_recv.c   tcp_recvmsg, urgent data reading, window updates after reading
 *   tcp_opt.c    TCP and IP socket options, TCP_INFO, the tcp sysctls
 *   tcp_cubic.c  congestion control: CUBIC (RFC 9438) with HyStart, and Reno
 *   tcp_in.c     segment arrival: demux, state machine, data and out-of-order queues
 *   tcp_ack.c    ACK processing: RTT, RTO, SACK scoreboard, loss recovery (RFC 6675 + PRR)
 *   tcp_recovery.c  loss detection: RACK-TLP (RFC 8985), the dupthresh walk, NewReno
 *   tcp_out.c    segment building and transmission, Nagle/cork, retransmission, probes
 *   tcp_timer.c  retransmit/probe, delayed ACK, keepalive and FIN_WAIT2 timers
 *   tcp_hash.c   tables, ports, ISNs, request socks, SYN cookies, TIME_WAIT, Fast Open cookies
 */
#ifndef USOCK_TCP_TCP_H
#define USOCK_TCP_TCP_H

#include <netinet/tcp.h>	/* TCP_ESTABLISHED ... TCP_CLOSING, TCP_* option names, struct tcp_info */
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/timer.h"
#include "ip/ip4.h"
#include "sock/sock.h"
#include "wire/tcp.h"

struct netns;
struct netdev;
struct pkt;

/* TCP states are sk->state, with glibc's values (== the kernel's):
 * TCP_ESTABLISHED 1, SYN_SENT 2, SYN_RECV 3, FIN_WAIT1 4, FIN_WAIT2 5,
 * TIME_WAIT 6, CLOSE 7, CLOSE_WAIT 8, LAST_ACK 9, LISTEN 10, CLOSING 11.
 * A fresh socket is TCP_CLOSE. */
#define TCPF(s) (1u << (s))

/* ---- sequence arithmetic ---- */
static inline bool tcp_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tcp_after(uint32_t a, uint32_t b) { return tcp_before(b, a); }
/* a in [lo, hi] */
static inline bool tcp_between(uint32_t a, uint32_t lo, uint32_t hi) { return hi - lo >= a - lo; }

/* ---- constants (Linux's, include/net/tcp.h) ---- */
#define TCP_RTO_MIN_US 200000u
#define TCP_RTO_MAX_US 120000000u
#define TCP_TIMEOUT_INIT_US 1000000u
#define TCP_TIMEOUT_FALLBACK_US 3000000u	/* RFC 6298 2.1: SYN-ACK lost */
#define TCP_DELACK_MIN_US 40000u
#define TCP_DELACK_MAX_US 200000u
#define TCP_ATO_MIN_US 40000u
#define TCP_TIMEWAIT_LEN_NS 60000000000ull
#define TCP_FIN_TIMEOUT_S 60
#define TCP_KEEPALIVE_TIME_S 7200
#define TCP_KEEPALIVE_INTVL_S 75
#define TCP_KEEPALIVE_PROBES 9
#define TCP_SYN_RETRIES 6
#define TCP_SYNACK_RETRIES 5
#define TCP_RETRIES1 3
#define TCP_RETRIES2 15
#define TCP_ORPHAN_RETRIES 0		/* 0 means 8 (tcp_orphan_retries) */
#define TCP_INIT_CWND 10
#define TCP_INFINITE_SSTHRESH 0x7fffffffu
#define TCP_MIN_MSS 88u
#define TCP_MAX_WSCALE 14
#define TCP_MAX_WINDOW 65535u
#define TCP_MAX_QUICKACKS 16
#define TCP_RESOURCE_PROBE_INTERVAL_US 500000u
#define TCP_MIN_SND_MSS 48
#define TCP_MAX_SYN_BACKLOG 4096	/* per listener SYN queue bound with syncookies */
#define TCP_FASTOPEN_KEY_LEN 16

/* icsk_pending: what the retransmit timer is armed for (ICSK_TIME_*) */
enum { TCP_TIME_NONE, TCP_TIME_RETRANS, TCP_TIME_PROBE0, TCP_TIME_LOSS_PROBE, TCP_TIME_REO };

/* icsk_ca_state: glibc's enum tcp_ca_state (TCP_CA_Open, _Disorder, _CWR, _Recovery, _Loss) */

/* tp->nonagle bits (TCP_NAGLE_*) */
#define TCP_NAGLE_OFF 1		/* TCP_NODELAY */
#define TCP_NAGLE_CORK 2	/* TCP_CORK */
#define TCP_NAGLE_PUSH 4	/* push now whatever Nagle says */

/* tp->ack.pending bits (inet_csk_ack_state_t) */
#define ICSK_ACK_SCHED 1
#define ICSK_ACK_TIMER 2
#define ICSK_ACK_PUSHED 4
#define ICSK_ACK_PUSHED2 8
#define ICSK_ACK_NOW 16
#define ICSK_ACK_NOMEM 32

/* urg_data (tp->urg_data): the urgent byte and its state */
#define TCP_URG_VALID 0x0100
#define TCP_URG_NOTYET 0x0200
#define TCP_URG_READ 0x0400

/* TCP_SKB_CB(pk)->sacked */
#define TCPCB_SACKED_ACKED 0x01
#define TCPCB_SACKED_RETRANS 0x02
#define TCPCB_LOST 0x04
#define TCPCB_TAGBITS 0x07
#define TCPCB_REPAIRED 0x10
#define TCPCB_EVER_RETRANS 0x80

/* ack flags from tcp_ack (FLAG_* in tcp_input.c) */
#define TCP_FLAG_DATA 0x01
#define TCP_FLAG_WIN_UPDATE 0x02
#define TCP_FLAG_DATA_ACKED 0x04
#define TCP_FLAG_RETRANS_DATA_ACKED 0x08
#define TCP_FLAG_SYN_ACKED 0x10
#define TCP_FLAG_DATA_SACKED 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_LOST_RETRANS 0x80
#define TCP_FLAG_SLOWPATH 0x100
#define TCP_FLAG_ORIG_SACK_ACKED 0x200
#define TCP_FLAG_SND_UNA_ADVANCED 0x400
#define TCP_FLAG_DSACKING_ACK 0x800
#define TCP_FLAG_SET_XMIT_TIMER 0x1000
#define TCP_FLAG_SACK_RENEGING 0x2000
#define TCP_FLAG_UPDATE_TS_RECENT 0x4000
#define TCP_FLAG_NO_CHALLENGE_ACK 0x8000
#define TCP_FLAG_ACK_MAYBE 0x10000

/* The per-packet control block, in pkt->meta.cb (skb->cb's tcp_skb_cb). */
struct tcp_skb_cb {
	uint32_t seq;		/* first sequence number */
	uint32_t end_seq;	/* seq + SYN + FIN + payload length */
	uint32_t ack_seq;	/* received segments: the ACK field; sent ones: tp->delivered at
				 * their last transmission (Linux's tx.delivered) */
	uint16_t tcp_flags;	/* TCP_HDR_* to send / as received */
	uint8_t sacked;		/* TCPCB_* scoreboard bits */
	uint8_t eor;		/* MSG_EOR: do not append to this packet */
	uint64_t tx_us;		/* last (re)transmission, tcp_mstamp us (skb_mstamp) */
	uint64_t first_tx_us;	/* first transmission (rate sample / RACK) */
};
_Static_assert(sizeof(struct tcp_skb_cb) <= PKT_CB_SIZE, "tcp_skb_cb fits pkt cb");
#define TCP_SKB_CB(pk) ((struct tcp_skb_cb *)(void *)(pk)->meta.cb)

/*
 * Hash-table membership shared by sockets, request socks and TIME_WAIT
 * socks (the kernel's sock_common): the 4-tuple in network order and what
 * kind of object it is.  For a tcp_sock the addresses mirror sk->saddr etc.
 */
enum { TCP_HK_SOCK = 1, TCP_HK_REQ, TCP_HK_TW };
struct tcp_hnode {
	struct tcp_hnode *next;		/* ehash or lhash chain */
	struct tcp_hnode *bnext;	/* bind (port owner) chain: sockets and TIME_WAIT */
	uint8_t kind;
	bool hashed;			/* on an ehash/lhash chain */
	bool bound;			/* on a bind chain */
	uint32_t saddr, daddr;		/* local, remote (network order) */
	uint16_t sport, dport;		/* local, remote (network order) */
	int bound_dev_if;
};

/* Congestion control private state (struct bictcp + HyStart). */
struct tcp_cubic {
	uint32_t cnt;
	uint32_t last_max_cwnd;
	uint32_t last_cwnd;
	uint32_t last_time;		/* ms */
	uint32_t bic_origin_point;
	uint32_t bic_K;
	uint32_t delay_min;		/* us */
	uint32_t epoch_start;		/* ms, 0: none */
	uint32_t ack_cnt;
	uint32_t tcp_cwnd;
	uint16_t unused;
	uint8_t sample_cnt;
	uint8_t found;
	uint32_t round_start;		/* ms */
	uint32_t end_seq;
	uint32_t last_ack;		/* ms */
	uint32_t curr_rtt;		/* us */
	bool reno;			/* TCP_CONGESTION "reno" */
	bool set_by_user;		/* chosen by setsockopt (TCP_CONG_NON_RESTRICTED's ca_setsockopt): children inherit it */
};

/* Client-side Fast Open request in progress (tcp_fastopen_request). */
struct tcp_fastopen_request {
	bool active;
	uint8_t cookie_len;		/* 0: ask for one */
	uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX];
	const struct sk_msg *msg;	/* the caller's data (valid during the sendmsg call) */
	size_t size;
	ssize_t copied;			/* bytes put in the SYN */
	int flags;
};

struct tcp_sock {
	struct sock sk;			/* first: generic layer */
	struct tcp_hnode hn;		/* ehash (connections) or lhash (listener) */

	/* ---- sequence space (RFC 9293 names as Linux spells them) ---- */
	uint32_t snd_una, snd_nxt, snd_wl1, snd_wnd, max_window, snd_up;
	uint32_t write_seq;		/* tail of the data written by the user */
	uint32_t pushed_seq;		/* last pushed seq (forced_push) */
	uint32_t rcv_nxt, copied_seq, rcv_wup, rcv_wnd, rcv_ssthresh, window_clamp;
	uint32_t urg_seq;
	uint16_t urg_data;		/* TCP_URG_* | the byte */
	bool urg_pending;		/* snd: urgent data to send (tp->urg_mode via snd_up) */
	uint32_t snd_isn, rcv_isn;
	uint32_t tsoffset;		/* added to our TSval (secure_tcp_ts_off) */

	/* ---- MSS, options agreed ---- */
	uint16_t mss_cache;		/* current effective send MSS */
	uint16_t advmss;		/* MSS we advertise */
	uint16_t user_mss;		/* TCP_MAXSEG */
	uint16_t mss_clamp;		/* rx_opt.mss_clamp: peer's MSS (min user_mss) */
	uint32_t pmtu_cookie;		/* MTU the MSS was computed for */
	uint8_t snd_wscale, rcv_wscale;
	bool wscale_ok, sack_ok, tstamp_ok;
	bool saw_tstamp;		/* this segment had a timestamp (rx_opt) */
	uint32_t rcv_tsval, rcv_tsecr;
	uint32_t ts_recent;		/* RFC 7323 TS.Recent */
	uint64_t ts_recent_stamp;	/* when ts_recent was set, s (get_seconds) */
	uint8_t num_sacks;		/* SACK blocks to send */
	bool dsack;			/* selective_acks[0] is reported as D-SACK */
	struct tcp_sack_block duplicate_sack[1];
	struct tcp_sack_block selective_acks[TCP_MAX_SACKS];

	/* ---- congestion and loss state ---- */
	uint32_t snd_cwnd, snd_ssthresh, snd_cwnd_cnt, snd_cwnd_clamp;
	uint64_t snd_cwnd_stamp;	/* us */
	uint32_t prior_cwnd, prior_ssthresh;
	uint32_t prr_delivered, prr_out;
	uint32_t high_seq;		/* snd_nxt at the start of recovery/loss */
	uint32_t undo_marker;
	int undo_retrans;
	uint32_t packets_out, retrans_out, sacked_out, lost_out;
	uint32_t reordering;		/* dupthresh (tcp_reordering, default 3) */
	uint32_t delivered;
	uint32_t app_limited;
	uint32_t max_packets_out;
	uint64_t retrans_stamp_us;	/* first retransmission of the head (0: none) */
	uint64_t rcv_tstamp_us;		/* last ACK received */
	uint64_t lsndtime_us;		/* last data sent */
	uint64_t tcp_mstamp;		/* us, refreshed per event (tcp_mstamp_refresh) */
	uint32_t tlp_high_seq;
	uint8_t ca_state;		/* TCP_CA_Open ... TCP_CA_Loss */
	bool is_cwnd_limited;
	struct tcp_cubic ca;

	/* ---- RACK-TLP and scoreboard hints (tcp_recovery.c, tcp_ack.c) ---- */
	struct {
		uint64_t mstamp;	/* tx time (us) of the most recently sent packet (s)acked */
		uint32_t rtt_us;	/* RACK.rtt: the RTT that packet measured */
		uint32_t end_seq;	/* its end_seq: orders packets sent at the same time */
		uint32_t last_delivered;	/* delivered when reo_wnd was last widened */
		uint8_t reo_wnd_steps;	/* reo_wnd in min_rtt/4 steps, 1..255 */
		uint8_t reo_wnd_persist;	/* recoveries to keep a widened reo_wnd */
		bool dsack_seen;	/* a D-SACK asks to widen reo_wnd */
		bool advanced;		/* mstamp moved since the last loss walk */
	} rack;
	uint32_t reord_seen;		/* reordering events (tcpi_reord_seen) */
	bool tlp_retrans;		/* the loss probe in flight resent old data */
	uint32_t highest_sack_seq;	/* end of the highest SACKed packet (valid while sacked_out) */
	uint32_t lost_cnt_hint;		/* SACKed packets before lost_skb_hint */

	/* ---- RTT (us) ---- */
	uint32_t srtt_us;		/* smoothed RTT << 3 */
	uint32_t mdev_us;		/* << 2 */
	uint32_t mdev_max_us, rttvar_us;
	uint32_t rtt_seq;
	uint32_t rtt_min_us;		/* windowed min (simple: min over the connection) */
	uint32_t rto_us;		/* icsk_rto */
	uint32_t rto_min_us;

	/* ---- inet_connection_sock ---- */
	uint8_t retransmits;		/* icsk_retransmits */
	uint8_t probes_out;		/* icsk_probes_out */
	uint8_t backoff;		/* icsk_backoff */
	uint8_t pending;		/* TCP_TIME_* of rtx_timer */
	uint64_t timeout_ns;		/* icsk_timeout */
	uint64_t probes_tstamp_us;	/* icsk_probes_tstamp */
	uint8_t syn_retries;		/* icsk_syn_retries (TCP_SYNCNT; 0: sysctl) */
	struct {
		uint8_t pending;	/* ICSK_ACK_SCHED | TIMER | PUSHED | PUSHED2 | NOW */
		uint8_t quick;
		bool pingpong;
		uint32_t ato_us;
		uint64_t timeout_ns;
		uint64_t lrcvtime_us;
		uint16_t last_seg_size;
		uint16_t rcv_mss;
	} ack;
	uint32_t user_timeout_ms;	/* TCP_USER_TIMEOUT */
	int keepalive_time_s, keepalive_intvl_s, keepalive_probes;	/* 0: sysctl */
	int linger2_s;			/* TCP_LINGER2 (0: sysctl fin_timeout; <0: none) */
	int defer_accept;		/* TCP_DEFER_ACCEPT, in retransmits */
	bool syn_data, syn_fastopen, syn_data_acked, syn_fastopen_ch;
	bool fastopen_connect, fastopen_no_cookie;
	bool thin_lto, recvmsg_inq, save_syn;
	uint8_t nonagle;		/* TCP_NAGLE_* */
	bool autocorking;
	uint32_t notsent_lowat;
	bool repair;

	/* ---- queues ---- */
	struct pkt_queue write_queue;	/* unsent (sk_write_queue from tcp_send_head) */
	struct pkt_queue rtx_queue;	/* sent, not yet fully acked; by seq */
	struct pkt_queue ofo_queue;	/* out of order, sorted by seq, no overlaps kept */
	uint32_t wmem_queued;		/* sk_wmem_queued: truesize on write+rtx queues */
	struct pkt *lost_skb_hint;	/* walks of the scoreboard resume here (may be NULL) */
	uint32_t rcvq_space;		/* rcvq_space.space for autotuning */
	uint32_t rcvq_space_seq;
	uint64_t rcvq_space_time_us;

	/* ---- timers (on the namespace timer base) ---- */
	struct timer rtx_timer;		/* RTO / probe0 / loss probe */
	struct timer delack_timer;
	struct timer keepalive_timer;	/* keepalive, FIN_WAIT2, SYN-SENT is rtx */

	/* ---- listener ---- */
	int max_ack_backlog;		/* listen(backlog) clamped to somaxconn */
	int ack_backlog;		/* children in the accept queue */
	int syn_qlen;			/* request socks pending */
	struct tcp_sock *accept_head, *accept_tail;	/* established children, FIFO */
	struct tcp_sock *acc_next;	/* link in the parent's accept queue */
	struct tcp_sock *parent;	/* listener while queued for accept */
	int fastopen_max_qlen;		/* TCP_FASTOPEN on a listener (0: off) */
	int fastopen_qlen;
	struct tcp_request_sock *fastopen_rsk;	/* child of a Fast Open SYN, until its handshake ends */

	/* ---- counters (tcp_info) ---- */
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_in, segs_out, data_segs_in, data_segs_out;
	uint32_t total_retrans, rcv_ooopack, dsack_dups;
	uint32_t last_data_recv_ms, last_ack_recv_ms;

	uint32_t last_oow_ack_time;	/* ms of the last out-of-window dup ACK (0: never) */
	uint8_t ss_state;		/* socket->state: TCP_SS_* (tcp.c) */
	bool defer_connect;		/* TCP_FASTOPEN_CONNECT put the SYN off until the first write */
	uint32_t disconnects;		/* sk_disconnects */
	uint32_t snd_sml;		/* end_seq of the last sub-MSS segment sent (Minshall) */
	uint32_t cwnd_usage_seq;	/* tcp_cwnd_validate */
	bool done;			/* SOCK_DONE: the peer's FIN was received or the connection ended */
	struct tcp_fastopen_request fastopen_req;
	bool orphan;			/* descriptor closed; lives until CLOSE (SOCK_DEAD) */
	bool dead_linger_rst;		/* linger 0: close sends RST */
	struct rt4_result dst;		/* cached route (sk_dst_cache) */
	uint32_t dst_genid;
	uint16_t inet_id;
};

_Static_assert(sizeof(struct tcp_sock) <= SOCK_OBJ_SIZE_LARGE, "tcp_sock fits its cache");
static inline struct tcp_sock *tcp_sk(struct sock *sk) { return (struct tcp_sock *)sk; }

/* A SYN that arrived for a listener (tcp_request_sock). */
struct tcp_request_sock {
	struct tcp_hnode hn;		/* in ehash while the handshake is pending */
	struct tcp_sock *listener;
	uint32_t snt_isn, rcv_isn;
	uint32_t rcv_nxt;		/* rcv_isn + 1 (+ Fast Open data) */
	uint32_t snt_synack_us;		/* for the first RTT sample */
	uint32_t ts_recent, ts_off;
	uint32_t rsk_rcv_wnd, rsk_window_clamp;
	uint16_t mss;			/* peer's MSS (clamped) */
	uint8_t snd_wscale, rcv_wscale;
	bool wscale_ok, sack_ok, tstamp_ok;
	uint8_t num_retrans, num_timeout;
	bool acked;			/* a bare ACK came while deferring (TCP_DEFER_ACCEPT) */
	bool tfo;			/* Fast Open: a child already exists */
	struct tcp_sock *tfo_child;
	struct timer timer;		/* SYN-ACK retransmission (reqsk_timer_handler) */
};

/* A connection in TIME_WAIT (or FIN_WAIT2 after close: tw_substate). */
struct tcp_tw_sock {
	struct tcp_hnode hn;
	uint8_t tw_substate;		/* TCP_TIME_WAIT or TCP_FIN_WAIT2 */
	uint32_t rcv_nxt, snd_nxt;
	uint32_t rcv_wnd;
	uint8_t rcv_wscale;
	bool tstamp_ok;
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_stamp;
	uint16_t num;			/* local port (host order), for the bind chain */
	bool reuseaddr;
	struct timer timer;
};

/* TIME_WAIT processing verdicts (tcp_timewait_state_process) */
enum { TCP_TW_SUCCESS, TCP_TW_RST, TCP_TW_ACK, TCP_TW_SYN };

/* The tcp sysctls (/proc/sys/net/ipv4/tcp_*), per namespace, host defaults. */
struct tcp_sysctl {
	int wmem[3], rmem[3];
	int syn_retries, synack_retries, retries1, retries2, orphan_retries;
	int fin_timeout;
	int keepalive_time, keepalive_intvl, keepalive_probes;
	int timestamps, sack, window_scaling, dsack;
	int fastopen;			/* bit 0 client, 1 server, 0x200 server without cookie ... */
	int syncookies;			/* 1: when the queue overflows (default), 2: always */
	int max_syn_backlog;
	int abort_on_overflow;
	int tw_reuse;
	int rfc1337;
	int adv_win_scale;
	int app_win;
	int moderate_rcvbuf;
	int slow_start_after_idle;
	int autocorking;
	unsigned notsent_lowat;
	int min_snd_mss, base_mss, mtu_probing;
	int challenge_ack_limit;
	int invalid_ratelimit;		/* ms */
	int reordering;
	int early_retrans, recovery;
	int thin_linear_timeouts;
	int retrans_collapse;
	int min_rtt_wlen;
	int delack_seg;			/* unused by Linux 6.x, kept 1 */
	int rto_min_us;			/* 200 ms (ip route rto_min is per route in Linux) */
	int syn_linear_timeouts;
	char congestion_control[16];	/* "cubic" */
};

#define TCP_EHASH_SIZE 16384
#define TCP_LHASH_SIZE 512
#define TCP_BHASH_SIZE 16384
#define TCP_MAX_REQ 65536
#define TCP_MAX_TW 65536

/* A namespace's TCP (ns->tcp). */
struct tcp_table {
	struct tcp_hnode *ehash[TCP_EHASH_SIZE];	/* connections, request socks, TIME_WAIT */
	struct tcp_hnode *lhash[TCP_LHASH_SIZE];	/* listeners by port */
	struct tcp_hnode *bhash[TCP_BHASH_SIZE];	/* port owners (inet_bind_bucket) by port */
	struct arena_cache req_cache, tw_cache;
	uint32_t ehash_count, tw_count, orphan_count;
	uint64_t secret[4];		/* ISN / port / cookie keys (net_secret) */
	uint64_t fastopen_key[2];	/* TCP_FASTOPEN_KEY */
	uint32_t hash_connect_perturb[256];	/* RFC 6056 alg 3 table (table_perturb) */
	uint64_t challenge_stamp_s;	/* global challenge ACK limit (tcp_send_challenge_ack) */
	uint32_t challenge_count;
	uint64_t last_syncookie_overflow_s;
	/* Fast Open client cookie cache (tcp_metrics' tcp_fastopen_cache): by peer */
	struct {
		uint32_t daddr;
		uint16_t mss;
		uint8_t len;
		uint8_t cookie[TCP_FASTOPEN_COOKIE_MAX];
		uint64_t syn_loss_stamp;
	} tfo_cache[64];
	unsigned tfo_next;
	struct tcp_sysctl sys;
	/* MIB counters a test or TCP_INFO-ish tool may read (tcp_mib / linux_mib subset) */
	struct {
		uint64_t active_opens, passive_opens, attempt_fails, estab_resets;
		uint64_t in_segs, out_segs, retrans_segs, in_errs, out_rsts;
		uint64_t syncookies_sent, syncookies_recv, syncookies_failed;
		uint64_t listen_overflows, listen_drops;
		uint64_t challenge_acks, tfo_active, tfo_passive, tfo_cookie_reqs;
	} mib;
};

static inline struct tcp_table *tcp_table(struct netns *ns) { return ns->tcp; }
static inline struct tcp_sysctl *tcp_sys(const struct sock *sk) { return &sk->ns->tcp->sys; }

/* tcp_ts_now - the timestamp option clock (ms since the namespace clock's epoch). */
static inline uint32_t tcp_ts_now(const struct netns *ns) { return (uint32_t)(netns_now(ns) / 1000000u); }
/* tcp_clock_us - the namespace clock in us (tcp_clock_us). */
static inline uint64_t tcp_clock_us(const struct netns *ns) { return netns_now(ns) / 1000u; }
static inline void tcp_mstamp_refresh(struct tcp_sock *tp) { tp->tcp_mstamp = tcp_clock_us(tp->sk.ns); }

/* usecs_to_jiffies then back: the kernel keeps timeouts in whole jiffies, rounded up. */
#define TCP_JIFFY_US (1000000u / USOCK_HZ)
static inline uint64_t tcp_jiffy_round_us(uint64_t us)
{
	return (us + TCP_JIFFY_US - 1) / TCP_JIFFY_US * TCP_JIFFY_US;
}

static inline uint32_t tcp_packets_in_flight(const struct tcp_sock *tp)
{
	return tp->packets_out - (tp->sacked_out + tp->lost_out) + tp->retrans_out;
}
static inline uint32_t tcp_wnd_end(const struct tcp_sock *tp) { return tp->snd_una + tp->snd_wnd; }
static inline struct pkt *tcp_send_head(const struct tcp_sock *tp) { return tp->write_queue.head; }
static inline bool tcp_in_initial_slowstart(const struct tcp_sock *tp)
{
	return tp->snd_ssthresh >= TCP_INFINITE_SSTHRESH;
}
static inline bool tcp_in_slow_start(const struct tcp_sock *tp) { return tp->snd_cwnd < tp->snd_ssthresh; }
/* tcp_receive_window - what is left of the window we advertised. */
static inline uint32_t tcp_receive_window(const struct tcp_sock *tp)
{
	int32_t w = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);
	return w < 0 ? 0 : (uint32_t)w;
}
/* tcp_space - free receive buffer as window (tcp_space with adv_win_scale 1). */
int tcp_win_from_space(const struct sock *sk, int space);
static inline int tcp_space(const struct sock *sk)
{
	return tcp_win_from_space(sk, sk->rcvbuf - (int)sk->rmem);
}
static inline int tcp_full_space(const struct sock *sk) { return tcp_win_from_space(sk, sk->rcvbuf); }
/* sk_stream_memory_free - room on the write queue (__sk_stream_memory_free without notsent_lowat). */
static inline bool tcp_stream_memory_free(const struct tcp_sock *tp)
{
	return (int)tp->wmem_queued < tp->sk.sndbuf;
}

/* ================= tcp.c: socket calls ================= */
extern const struct proto_ops tcp_ops;
int tcp_create(struct netns *ns, struct sock **out, int type, int protocol);
/* tcp_init_sock - the defaults of a new socket or child (tcp_init_sock). */
void tcp_init_sock(struct tcp_sock *tp);
/* tcp_set_state - change state with the kernel's side effects: hash/unhash, port release on CLOSE, counters. */
void tcp_set_state(struct tcp_sock *tp, int state);
/* tcp_done - the connection is over (tcp_done): CLOSE, timers off, wake everyone, free an orphan. */
void tcp_done(struct tcp_sock *tp);
/* tcp_write_queue_purge / tcp_clear_queues - drop unsent and unacked data, release their charge. */
void tcp_write_queue_purge(struct tcp_sock *tp);
/* tcp_state_wake - wake pollers/waiters after a state change (sk_state_change). */
void tcp_state_change(struct tcp_sock *tp);
/* tcp_orphan_put - drop the reference the connection held after close() once it reaches CLOSE. */
void tcp_orphan_put(struct tcp_sock *tp);
/*
 * tcp_v4_connect_setup - route, source address, port (tcp_hash_connect),
 * ISN and timestamp offset for an active open (tcp_v4_connect without
 * sending).  Return: 0, -ENETUNREACH, -EADDRNOTAVAIL, -EACCES ...
 */
int tcp_v4_connect_setup(struct tcp_sock *tp, uint32_t daddr, uint16_t dport);
/* tcp_route - (re)validate the cached route to the peer. Return: 0, -errno. */
int tcp_route(struct tcp_sock *tp);

/* socket->state of a TCP socket (tp->ss_state) */
enum { TCP_SS_UNCONNECTED = 0, TCP_SS_CONNECTING, TCP_SS_CONNECTED, TCP_SS_DISCONNECTING };
/*
 * tcp_stream_connect - __inet_stream_connect: the connect op and Fast
 * Open's connect (uaddr may be NULL; flags O_NONBLOCK or 0; is_sendmsg
 * gives EINPROGRESS rather than EISCONN for a deferred connect).
 */
int tcp_stream_connect(struct tcp_sock *tp, const struct sockaddr *uaddr, socklen_t len, int flags,
		       bool is_sendmsg);
/* tcp_disconnect - back to CLOSE, RST if needed (tcp_disconnect). Return: 0. */
int tcp_disconnect(struct tcp_sock *tp, int flags);

/* ================= tcp_send.c ================= */
ssize_t tcp_sendmsg(struct sock *sk, struct sk_msg *m, int flags);
/* tcp_check_space - after ACKs freed write memory: wake writers (tcp_check_space / sk_stream_write_space). */
void tcp_check_space(struct tcp_sock *tp);
/* tcp_stream_alloc_pkt - a write-queue packet with room for size payload bytes, charged (sk_stream_alloc_skb). NULL: no memory. */
struct pkt *tcp_stream_alloc_pkt(struct tcp_sock *tp, size_t size);
/* tcp_charge / tcp_uncharge - move truesize bytes on or off wmem_queued. */
void tcp_wmem_charge(struct tcp_sock *tp, struct pkt *pk);
void tcp_wmem_free_pkt(struct tcp_sock *tp, struct pkt *pk);	/* uncharge + free */
/* sk_stream_error - EPIPE raises SIGPIPE at the public edge unless MSG_NOSIGNAL. Return: err. */
int tcp_stream_error(struct sock *sk, int flags, int err);

/* ================= tcp_recv.c ================= */
ssize_t tcp_recvmsg(struct sock *sk, struct sk_msg *m, int flags);
/* tcp_cleanup_rbuf - after reading `copied` bytes: send a window update if it grew enough. */
void tcp_cleanup_rbuf(struct tcp_sock *tp, int copied);
/* tcp_inq - bytes readable (tcp_inq / SIOCINQ semantics). */
int tcp_inq(struct tcp_sock *tp);
/* tcp_rcv_space_adjust - receive buffer autotuning (DRS), after reading. */
void tcp_rcv_space_adjust(struct tcp_sock *tp);

/* ================= tcp_opt.c ================= */
int tcp_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len);
int tcp_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len);
void tcp_get_info(struct tcp_sock *tp, struct tcp_info *info);
void tcp_sol_changed(struct sock *sk, int name);
/* tcp_sysctl_defaults - Linux's defaults, then the host's values (/proc/sys/net/ipv4/tcp_*). */
void tcp_sysctl_defaults(struct tcp_sysctl *s);
/* tcp_sysctl_lookup - the int behind "ipv4.tcp_NAME" (usock_sysctl); NULL if unknown. */
int *tcp_sysctl_lookup(struct tcp_sysctl *s, const char *name, int *nvals);
/* keepalive parameters with the sysctl fallbacks (keepalive_time_when etc.), seconds */
int tcp_keepalive_time(const struct tcp_sock *tp);
int tcp_keepalive_intvl(const struct tcp_sock *tp);
int tcp_keepalive_probes(const struct tcp_sock *tp);
/* tcp_set_keepalive - SO_KEEPALIVE on/off (tcp_set_keepalive). */
void tcp_set_keepalive(struct tcp_sock *tp, bool on);

/* ================= tcp_cubic.c ================= */
void tcp_ca_init(struct tcp_sock *tp);
/* tcp_ca_cong_avoid - grow cwnd for `acked` newly acked packets (tcp_cong_avoid). */
void tcp_ca_cong_avoid(struct tcp_sock *tp, uint32_t ack, uint32_t acked);
/* tcp_ca_ssthresh - ssthresh after a loss (ca_ops->ssthresh). */
uint32_t tcp_ca_ssthresh(struct tcp_sock *tp);
/* tcp_ca_undo_cwnd - cwnd to restore on undo. */
uint32_t tcp_ca_undo_cwnd(struct tcp_sock *tp);
/* tcp_ca_set_state - ca_state change notice (bictcp_state: reset on Loss). */
void tcp_ca_set_state(struct tcp_sock *tp, uint8_t new_state);
/* tcp_ca_event - CA_EVENT_* (tx start after idle, cwnd restart). */
enum { TCP_CA_EVENT_TX_START, TCP_CA_EVENT_CWND_RESTART, TCP_CA_EVENT_COMPLETE_CWR, TCP_CA_EVENT_LOSS };
void tcp_ca_event(struct tcp_sock *tp, int ev);
/* tcp_ca_acked - per-ACK sample (pkts_acked): packets acked, rtt_us (<0: none). HyStart lives here. */
void tcp_ca_acked(struct tcp_sock *tp, uint32_t pkts_acked, int32_t rtt_us);
/* tcp_ca_name / tcp_ca_set - TCP_CONGESTION: "cubic" (default) or "reno". Return: 0, -ENOENT. */
const char *tcp_ca_name(const struct tcp_sock *tp);
int tcp_ca_set(struct tcp_sock *tp, const char *name);
/* tcp_pacing_rate - bytes/s as the kernel's sk_pacing_rate would be (TCP_INFO, HyStart). */
uint64_t tcp_pacing_rate(const struct tcp_sock *tp);
/* helpers shared with Reno: */
uint32_t tcp_slow_start(struct tcp_sock *tp, uint32_t acked);
void tcp_cong_avoid_ai(struct tcp_sock *tp, uint32_t w, uint32_t acked);
bool tcp_is_cwnd_limited(const struct tcp_sock *tp);

/* ================= tcp_in.c ================= */
/* tcp_v4_rcv - a segment for this host (data at the TCP header, meta filled); consumes pk. */
void tcp_v4_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk);
/* tcp_backlog_rcv - a segment parked while its socket was owned (ops->backlog_rcv); consumes pk. */
void tcp_backlog_rcv(struct sock *sk, struct pkt *pk);
/* tcp_v4_err - an ICMP error quoting a segment we sent (tcp_v4_err). */
void tcp_v4_err(struct netns *ns, const struct pkt *icmp, uint32_t saddr, uint32_t daddr,
		uint16_t sport, uint16_t dport, uint32_t seq, uint8_t type, uint8_t code,
		uint32_t info);
/* tcp_rcv_state_process - every state but ESTABLISHED fast path, TIME_WAIT and LISTEN's SYN; consumes pk. */
void tcp_rcv_state_process(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th);
/* tcp_rcv_established - ESTABLISHED (and the data states); consumes pk. */
void tcp_rcv_established(struct tcp_sock *tp, struct pkt *pk, const struct tcp_repr *th);
/* tcp_reset - a valid RST arrived: errno by state, then tcp_done (tcp_reset). */
void tcp_reset(struct tcp_sock *tp);
/* tcp_init_transfer - the handshake finished (tcp_init_transfer): cwnd, buffers, space. */
void tcp_init_transfer(struct tcp_sock *tp);
/* tcp_init_buffer_space - window clamp and rcv_ssthresh from the buffers (tcp_init_buffer_space). */
void tcp_init_buffer_space(struct tcp_sock *tp);
/* tcp_parse_rx_opts - take the options of a received segment into tp (saw_tstamp etc.). */
void tcp_parse_rx_opts(struct tcp_sock *tp, const struct tcp_repr *th, bool syn);
/* tcp_enter_quickack_mode / tcp_incr_quickack */
void tcp_enter_quickack_mode(struct tcp_sock *tp, unsigned max_quickacks);
/* tcp_fast_path_on - not used: usock has one path; kept out. */

/* ================= tcp_ack.c ================= */
/*
 * tcp_ack - process the ACK field and options of a segment (tcp_ack):
 * advances snd_una, frees acked packets, updates the send window, RTT, cwnd
 * and the scoreboard, enters and leaves recovery, rearms the RTO.
 * Return: >0 TCP_FLAG_* of what happened; 0 an old duplicate; <0 the ACK
 * is ahead of snd_nxt (-1: caller sends an ACK if not a SYN) or invalid.
 */
int tcp_ack(struct tcp_sock *tp, const struct pkt *pk, const struct tcp_repr *th, int flag);
/* tcp_rtt_estimator / tcp_set_rto (RFC 6298 with Linux's mdev_max). */
void tcp_rtt_estimator(struct tcp_sock *tp, int32_t mrtt_us);
void tcp_set_rto(struct tcp_sock *tp);
/* tcp_enter_loss - the RTO fired: mark everything lost, cwnd 1 (tcp_enter_loss). */
void tcp_enter_loss(struct tcp_sock *tp);
/* tcp_clear_retrans - zero the scoreboard counters (tcp_clear_retrans). */
void tcp_clear_retrans(struct tcp_sock *tp);
/* tcp_synack_rtt_meas / first RTT sample from the handshake */
void tcp_synack_rtt_meas(struct tcp_sock *tp, uint32_t rtt_us);
/* tcp_init_cwnd - initial cwnd (TCP_INIT_CWND, route may clamp). */
uint32_t tcp_init_cwnd(const struct tcp_sock *tp);
/* tcp_rearm_rto - arm or stop the RTO after the queue changed (tcp_rearm_rto). */
void tcp_rearm_rto(struct tcp_sock *tp);
/* tcp_schedule_loss_probe - arm TLP; advancing_rto: the RTO is being re-armed from now. */
bool tcp_schedule_loss_probe(struct tcp_sock *tp, bool advancing_rto);
/* tcp_initialize_rcv_mss - first guess at the peer's MSS, for delayed ACKs and windows. */
void tcp_initialize_rcv_mss(struct tcp_sock *tp);
/* tcp_cwnd_restart - after idle (tcp_cwnd_restart, RFC 2861). */
void tcp_cwnd_restart(struct tcp_sock *tp, uint32_t delta_us);

/* ================= tcp_recovery.c ================= */
/* tcp_rack_reo_timeout - the RACK reordering timer fired: mark and resend what expired (tcp_rack_reo_timeout). */
void tcp_rack_reo_timeout(struct tcp_sock *tp);

/* ================= tcp_out.c ================= */
/*
 * tcp_transmit_skb - send a clone of the queued packet pk with header and
 * options built for now (clone_it false: pk itself is consumed, for ACKs,
 * RSTs and other one-off segments).  Return: 0, -errno from IP (-ENOBUFS ...).
 */
int tcp_transmit_skb(struct tcp_sock *tp, struct pkt *pk, bool clone_it);
/* tcp_write_xmit - send what cwnd, rwnd, Nagle and cork allow. Return: true if nothing could be sent while packets wait. */
bool tcp_write_xmit(struct tcp_sock *tp, unsigned mss_now, int nonagle, int push_one);
/* __tcp_push_pending_frames / tcp_push - push, arming the probe timer if stuck. */
void tcp_push_pending_frames(struct tcp_sock *tp);
void __tcp_push_pending_frames(struct tcp_sock *tp, unsigned cur_mss, int nonagle);
void tcp_push(struct tcp_sock *tp, int flags, unsigned mss_now, int nonagle, unsigned size_goal);
void tcp_push_one(struct tcp_sock *tp, unsigned mss_now);
/* tcp_current_mss - the MSS for the next segment (options included). */
unsigned tcp_current_mss(struct tcp_sock *tp);
/* tcp_sync_mss - set mss_cache from a path MTU. Return: mss_cache. */
unsigned tcp_sync_mss(struct tcp_sock *tp, uint32_t pmtu);
unsigned tcp_mtu_to_mss(struct tcp_sock *tp, uint32_t pmtu);
/* tcp_size_goal - bytes per write-queue packet (tcp_send_mss size_goal, no TSO: the MSS). */
unsigned tcp_send_mss(struct tcp_sock *tp, unsigned *size_goal, int flags);
/* tcp_select_initial_window - rcv_wnd, window_clamp, rcv_wscale for a SYN or SYN-ACK. */
void tcp_select_initial_window(const struct sock *sk, int space, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *window_clamp, bool wscale_ok, uint8_t *rcv_wscale,
			       uint32_t init_rcv_wnd);
/* tcp_compute_window - the window we would advertise now (__tcp_select_window). */
uint32_t tcp_compute_window(struct tcp_sock *tp);
/* tcp_select_window - the window field of the next segment (tcp_select_window), updates rcv_wnd/rcv_wup. */
uint16_t tcp_select_window(struct tcp_sock *tp);
/* tcp_send_ack / tcp_send_delayed_ack / tcp_send_challenge_ack */
void tcp_send_ack(struct tcp_sock *tp);
void tcp_send_delayed_ack(struct tcp_sock *tp);
void tcp_send_challenge_ack(struct tcp_sock *tp);
/* tcp_send_fin - queue (or send) FIN (tcp_send_fin). */
void tcp_send_fin(struct tcp_sock *tp);
/* tcp_send_active_reset - RST with our snd_nxt (tcp_send_active_reset). */
void tcp_send_active_reset(struct tcp_sock *tp);
/*
 * tcp_v4_send_reset - stateless RST in reply to segment (ip saddr/daddr in
 * pk->meta, th its header, seg_len its payload length) as tcp_v4_send_reset:
 * never for a RST.  Does not consume pk.
 */
void tcp_v4_send_reset(struct netns *ns, const struct pkt *pk, const struct tcp_repr *th,
		       uint32_t seg_len);
/*
 * tcp_v4_send_ack - stateless ACK (TIME_WAIT, request socks, SYN-cookie
 * challenge): addresses and ports as seen by us (local first).
 */
void tcp_v4_send_ack(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
		     uint16_t dport, uint32_t seq, uint32_t ack, uint32_t win, uint32_t tsval,
		     uint32_t tsecr, int oif, uint8_t tos);
/* tcp_connect - build and send the SYN (with Fast Open data/cookie), arm the RTO (tcp_connect). Return: 0, -errno. */
int tcp_connect(struct tcp_sock *tp);
/* tcp_send_synack_req - SYN-ACK for a request sock (tcp_v4_send_synack). Return: 0, -errno. */
int tcp_send_synack_req(struct tcp_request_sock *req, const uint8_t *tfo_cookie, uint8_t tfo_len);
/* tcp_retransmit_skb - retransmit the rtx packet pk (tcp_retransmit_skb). Return: 0, -errno. */
int tcp_retransmit_skb(struct tcp_sock *tp, struct pkt *pk, int segs);
/* tcp_xmit_retransmit_queue - retransmit packets marked lost, as cwnd allows. */
void tcp_xmit_retransmit_queue(struct tcp_sock *tp);
/* tcp_send_probe0 - zero window probe and its timer (tcp_send_probe0). */
void tcp_send_probe0(struct tcp_sock *tp);
/* tcp_write_wakeup - send new data if the window allows, else a probe with old seq. Return: 0 sent, <0. */
int tcp_write_wakeup(struct tcp_sock *tp);
/* tcp_send_loss_probe - tail loss probe (RFC 8985 TLP). */
void tcp_send_loss_probe(struct tcp_sock *tp);
/* tcp_fragment - split packet pk of queue q at len bytes. Return: 0, -ENOBUFS. */
int tcp_fragment(struct tcp_sock *tp, struct pkt_queue *q, struct pkt *pk, uint32_t len,
		 unsigned mss_now);
/* tcp_queue_skb - append a new packet to the write queue (seq from write_seq). */
void tcp_queue_skb(struct tcp_sock *tp, struct pkt *pk);
/* tcp_event_new_data_sent - pk moved from write_queue to rtx_queue (snd_nxt, packets_out, RTO). */
void tcp_event_new_data_sent(struct tcp_sock *tp, struct pkt *pk);
/* tcp_mark_push / forced_push */
bool tcp_nagle_test(const struct tcp_sock *tp, const struct pkt *pk, unsigned cur_mss, int nonagle);

/* ================= tcp_timer.c ================= */
void tcp_init_xmit_timers(struct tcp_sock *tp);
void tcp_clear_xmit_timers(struct tcp_sock *tp);
/* tcp_reset_xmit_timer - arm rtx_timer for what (TCP_TIME_*) after when_us, capped at max_us. */
void tcp_reset_xmit_timer(struct tcp_sock *tp, int what, uint64_t when_us, uint64_t max_us);
void tcp_clear_xmit_timer(struct tcp_sock *tp, int what);
void tcp_reset_delack_timer(struct tcp_sock *tp, uint64_t expires_ns);
void tcp_reset_keepalive_timer(struct tcp_sock *tp, uint64_t len_us);
void tcp_delete_keepalive_timer(struct tcp_sock *tp);
/* tcp_probe0_base / tcp_probe0_when (us) */
uint64_t tcp_probe0_when(const struct tcp_sock *tp, uint64_t max_us);
/* tcp_clamp_probe0_to_user_timeout - cap a probe0 interval by TCP_USER_TIMEOUT (us). */
uint64_t tcp_clamp_probe0_to_user_timeout(const struct tcp_sock *tp, uint64_t when_us);
/* tcp_check_probe_timer - arm probe0 if packets wait and nothing is in flight. */
void tcp_check_probe_timer(struct tcp_sock *tp);
/* tcp_fin_time - FIN_WAIT2 lifetime after close, us (tcp_fin_time). */
uint64_t tcp_fin_time(const struct tcp_sock *tp);
/* tcp_model_timeout / retransmits_timed_out */
bool tcp_retransmits_timed_out(struct tcp_sock *tp, unsigned boundary, uint32_t timeout_ms);

/* ================= tcp_hash.c ================= */
int tcp_init(struct netns *ns);
/* tcp_get_port - bind to port snum (0: pick one) with inet_csk_get_port's conflict rules. Return: 0, -EADDRINUSE. */
int tcp_get_port(struct tcp_sock *tp, uint16_t snum);
/* tcp_put_port - release the port (inet_put_port). */
void tcp_put_port(struct tcp_sock *tp);
/* tcp_hash / tcp_unhash - enter or leave ehash (connections) or lhash (LISTEN). */
void tcp_hash(struct tcp_sock *tp);
void tcp_unhash(struct tcp_sock *tp);
/* tcp_hash_connect - pick an ephemeral port if unbound (RFC 6056 alg 3) with a unique 4-tuple, and hash. Return: 0, -EADDRNOTAVAIL. */
int tcp_hash_connect(struct tcp_sock *tp);
/*
 * tcp_lookup - the object a segment from (saddr, sport) to (daddr, dport)
 * belongs to: an ehash entry (socket, request sock or TIME_WAIT) exactly
 * matching, else a listener (SO_REUSEPORT groups by flow hash), else NULL.
 */
struct tcp_hnode *tcp_lookup(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
			     uint16_t dport, int dif);
/* tcp_lookup_listener - the listener path of tcp_lookup alone (a SYN that hit TIME_WAIT). */
struct tcp_sock *tcp_lookup_listener(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
				     uint16_t dport, int dif);
/* tcp_syncookie_seq / tcp_syncookie_check - the SYN cookie arithmetic (cookie_v4_init_sequence / __cookie_v4_check). */
uint32_t tcp_syncookie_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint16_t *mss);
int tcp_syncookie_check(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t cookie);
/* tcp_secure_seq / tcp_secure_ts_off - RFC 6528 ISN and the timestamp offset. */
uint32_t tcp_secure_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport);
uint32_t tcp_secure_ts_off(struct netns *ns, uint32_t saddr, uint32_t daddr);
/*
 * tcp_conn_request - a SYN for listener lp (tcp_conn_request): request
 * sock or SYN cookie, Fast Open, SYN-ACK.  Consumes pk.
 */
void tcp_conn_request(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th);
/*
 * tcp_check_req - a segment for request sock req (tcp_check_req): on the
 * handshake's ACK create the child (tcp_create_openreq_child), queue it for
 * accept, and return it (it then processes pk via tcp_rcv_state_process: the
 * caller does that).  Return: the child, or NULL (pk consumed then).
 */
struct tcp_sock *tcp_check_req(struct tcp_request_sock *req, struct pkt *pk, const struct tcp_repr *th);
/* tcp_cookie_check - a bare ACK for a listener may be a SYN cookie's: child or NULL (pk not consumed). */
struct tcp_sock *tcp_cookie_check(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th);
void tcp_reqsk_free(struct tcp_request_sock *req);
/* tcp_accept_queue_add / pop - the listener's accept queue. */
void tcp_accept_queue_add(struct tcp_sock *lp, struct tcp_sock *child);
struct tcp_sock *tcp_accept_queue_pop(struct tcp_sock *lp);
/* tcp_listen_stop - a listener closes: reset queued children, free request socks. */
void tcp_listen_stop(struct tcp_sock *lp);
/* tcp_time_wait - move tp into TIME_WAIT (or FIN_WAIT2 substate) for timeo ns, then tcp_done it (tcp_time_wait). */
void tcp_time_wait(struct tcp_sock *tp, int state, uint64_t timeo_ns);
/* tcp_timewait_state_process - a segment for a TIME_WAIT sock. Consumes nothing; returns the verdict. */
int tcp_timewait_state_process(struct tcp_tw_sock *tw, struct pkt *pk, const struct tcp_repr *th);
void tcp_tw_kill(struct tcp_tw_sock *tw);
/* Fast Open: server cookie for a peer; client cookie cache. */
void tcp_fastopen_cookie_gen(struct netns *ns, uint32_t saddr, uint32_t daddr, uint8_t out[8]);
bool tcp_fastopen_cache_get(struct netns *ns, uint32_t daddr, uint16_t *mss, uint8_t *cookie, uint8_t *len);
void tcp_fastopen_cache_set(struct netns *ns, uint32_t daddr, uint16_t mss, const uint8_t *cookie,
			    uint8_t len, bool syn_lost);
/* tcp_v4_mtu_reduced etc. live in tcp_in.c */

#endif
