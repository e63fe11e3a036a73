/* SPDX-License-Identifier: MIT */
/*
 * interop_lib.h - usock facing the kernel's stack over a TAP device
 *
 * Every interop test runs in its own Criterion process with the same
 * topology, built by interop_setup() and removed by interop_teardown():
 *
 *   kernel netns "ui<pid>"                 usock namespace "u" (real time)
 *   tapu0 198.18.0.1/24  <== TAP fd ==>    eth0 198.18.0.2/24, pcap to ix.pcap
 *
 * The TAP device is created by usock_link_tap() from a thread that has
 * setns() into ui<pid>, so it lives there and nowhere else: the kernel
 * side can reach only usock, and usock only the kernel namespace.  All
 * addresses are in 198.18.0.0/15 (RFC 2544 benchmarking).  IPv6 is off on
 * tapu0 so that the capture holds only what the tests send.
 */
#ifndef USOCK_TESTS_INTEROP_LIB_H
#define USOCK_TESTS_INTEROP_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define IX_KADDR "198.18.0.1"	/* the kernel's tapu0 */
#define IX_UADDR "198.18.0.2"	/* usock's eth0 */
#define IX_TAP "tapu0"
#define IX_DEV "eth0"
#define IX_KPORT 5001		/* the kernel's UDP socket */
#define IX_UPORT 5002		/* usock's */
#define IX_TCP_PORT0 5010	/* TCP tests listen on IX_TCP_PORT0..+9: test bytes, */
#define IX_TCP_PORTS "5010-5019"	/* never dissected as a protocol */
#define IX_STR_(x) #x
#define IX_STR(x) IX_STR_(x)

struct usock_netns;

struct interop {
	char kns[32];			/* kernel netns name, "ui<pid>" */
	int knsfd;			/* fd of /run/netns/<kns> */
	int selffd;			/* fd of the netns the test started in */
	struct usock_netns *uns;	/* usock's side */
	char pcap[64];			/* usock's capture of eth0 */
	uint8_t kmac[6];		/* tapu0's MAC */
	uint8_t umac[6];		/* eth0's MAC */
};

extern struct interop ix;

/* interop_setup / interop_teardown - Criterion .init / .fini of every test. */
void interop_setup(void);
void interop_teardown(void);
/* interop_clean_stale - delete the ui<pid>/uk<pid> namespaces of test processes that died. */
void interop_clean_stale(void);

/*
 * interop_run - run argv (no shell) with a deadline; its stdout and stderr
 * go to out (NUL-terminated, truncated to outlen; out may be NULL).  A child
 * still running at the deadline is killed.
 * Return: the exit status (0..255), 124 on timeout, -1 if it could not run.
 */
int interop_run(char *const argv[], char *out, size_t outlen, int timeout_ms);
/*
 * interop_run_lines - interop_run with stdout handed to line(arg, text) one
 * line at a time (without its '\n'; lines over 4 KiB are cut), for output
 * too large to hold; stderr goes to err (NUL-terminated, may be NULL).
 * Return: as interop_run.
 */
int interop_run_lines(char *const argv[], void (*line)(void *arg, char *line), void *arg,
		      char *err, size_t errlen, int timeout_ms);
/* interop_kip - `ip -n <kns> ARGS...` (NULL-terminated). Return: as interop_run. */
int interop_kip(char *out, size_t outlen, ...);

/*
 * interop_kernel_udp - a kernel UDP socket made inside the kernel netns,
 * bound to 198.18.0.1:port, with SO_RCVBUFFORCE/SO_SNDBUFFORCE of bufsz.
 * Return: the fd (asserts on failure).
 */
int interop_kernel_udp(uint16_t port, int bufsz);
/* interop_usock_udp - the same on usock's side at 198.18.0.2:port. */
int interop_usock_udp(uint16_t port, int bufsz);

/* The test batch: 64 datagrams, payload i built by conf_fill(seed IX_SEED+i). */
#define IX_BATCH 64
#define IX_MAXDGRAM 65507
#define IX_SEED 0x5eed
extern const uint32_t interop_batch_len[IX_BATCH];
/* interop_frames_for - Ethernet frames for one UDP payload of len at MTU 1500. */
unsigned interop_frames_for(uint32_t len);
/* interop_batch_frames - frames for the whole batch. */
unsigned interop_batch_frames(void);

/*
 * interop_recv_batch_kernel / interop_recv_batch_usock - receive the batch with
 * recvmmsg (and poll between batches, within ms), comparing each with the
 * batch in order, byte for byte.  The peer must be from.
 * Return: the number received before the first mismatch or the deadline
 * (asserts with a precise message on a mismatch).
 */
int interop_recv_batch_kernel(int fd, int ms, const struct sockaddr_in *from);
int interop_recv_batch_usock(int fd, int ms, const struct sockaddr_in *from);
/* interop_send_batch_kernel / _usock - sendmmsg the batch to dst (asserts all 64 go). */
void interop_send_batch_kernel(int fd, const struct sockaddr_in *dst);
void interop_send_batch_usock(int fd, const struct sockaddr_in *dst);

/*
 * What the capture holds, by kind, from one pass of tshark's dissection
 * with IP and UDP checksum validation on (ICMP's is always checked).
 */
struct interop_pcap_stats {
	unsigned frames;
	unsigned arp_req_k, arp_rep_k;	/* ARP request / reply sent by the kernel */
	unsigned arp_req_u, arp_rep_u;	/* ... by usock */
	unsigned arp_probe_u;		/* usock's requests unicast to the kernel's MAC */
	unsigned arp_bad;		/* ARP whose sender MAC is not its Ethernet source */
	unsigned icmp_req, icmp_rep;	/* echo request (kernel->usock) / reply */
	unsigned udp_k2u, udp_u2k;	/* IPv4 frames of UDP (fragments included) by direction */
	unsigned other;			/* anything else */
	unsigned csum_good;		/* checksum fields tshark verified good */
	unsigned csum_bad;		/* ... found bad */
	unsigned flagged;		/* frames matching the malformed/expert filter */
	char report[2048];		/* the first flagged/other frames, for messages */
};
/*
 * interop_pcap_check - dissect path with tshark and fill st.
 * Return: 0, or -1 if tshark could not run (st->report says why).
 */
int interop_pcap_check(const char *path, struct interop_pcap_stats *st);

/*
 * interop_finish - end of a test body: every usock packet buffer is back in
 * its pool (waiting up to 5 s: a TCP close may still be retransmitting its
 * FIN).  A no-op in kernel-peer mode.
 */
void interop_finish(void);

/*
 * ---- TCP: the two sides, the kernel-peer mode, loss, the TCP judge ----
 *
 * A TCP test talks to its two ends through struct interop_side, never to
 * usock directly, so that the same body runs in kernel-peer mode
 * (USOCK_INTEROP_PEER=kernel in the environment): the "usock" side is then
 * a second kernel namespace uk<pid> whose TAP device eth0 (198.18.0.2) is
 * joined to tapu0 by a forwarding thread of the test, which writes ix.pcap
 * as usock would (every frame, before usock's own netem drops it).  That
 * proves the test itself, kernel against kernel, before usock is there.
 */
struct sockapi;
struct interop_side {
	const char *name;		/* "kernel", "usock", "kernel-peer" */
	const struct sockapi *api;
	const char *addr;		/* IX_KADDR or IX_UADDR */
	int nsfd;			/* kernel: new sockets are made in this netns; usock: -1 */
};
extern struct interop_side ix_kside, ix_uside;

/* interop_tcp_setup / _teardown - .init/.fini of TCP suites: interop_setup or the peer mode. */
void interop_tcp_setup(void);
void interop_tcp_teardown(void);
/* interop_peer_kernel - true in kernel-peer mode. */
bool interop_peer_kernel(void);
/* interop_side_enter - a thread that calls side's API first enters its namespace (usock). */
void interop_side_enter(const struct interop_side *s);
/*
 * interop_socket - socket(AF_INET, type, 0) on side s (in its namespace).
 * Return: the fd, or -1 with errno (the caller asserts, naming the side).
 */
int interop_socket(const struct interop_side *s, int type);
/*
 * interop_sysctl - write a namespace setting by its full name
 * ("net.ipv4.tcp_fastopen") on side s: /proc/sys inside the kernel netns,
 * usock_sysctl for usock.  Return: 0, or -1 with errno.
 */
int interop_sysctl(const struct interop_side *s, const char *name, const char *val);

/*
 * interop_kernel_loss - drop bp/10000 of the IPv4 TCP frames crossing tapu0,
 * each way, in the kernel netns (netem is not in every kernel: a classic
 * BPF filter on clsact draws SKF_AD_RANDOM and sends the losers to a veth
 * pair that discards them; see interop_tcp.c).  Not seeded.
 * interop_kernel_loss_stats gives the frames dropped so far (ingress: sent
 * by usock, egress: by the kernel).  interop_kernel_loss_off removes it.
 */
void interop_kernel_loss(unsigned bp);
void interop_kernel_loss_stats(unsigned long *in, unsigned long *eg);
void interop_kernel_loss_off(void);
/*
 * interop_usock_netem - `qdisc add dev eth0 root netem <opts>` on usock's
 * side (only "loss P% [seed N]" in kernel-peer mode, by the forwarder).
 * Return: 0, or -errno.
 * interop_usock_netem_lost - frames netem dropped so far.
 */
int interop_usock_netem(const char *opts);
unsigned long interop_usock_netem_lost(void);
void interop_usock_netem_off(void);

/*
 * What tshark's TCP analysis of the capture says, by the side that sent
 * each frame (_k: the kernel, _u: usock), with IPv4 and TCP checksum
 * validation on.  Besides Wireshark's flags, the judge follows every
 * connection itself: data beyond the right edge of the window the peer
 * advertised (ack + scaled window, the largest seen so far), and an
 * advertised right edge moving left (Linux never shrinks its window:
 * tcp_select_window).
 */
struct interop_tcp_stats {
	unsigned frames, arp, other;	/* other: neither ARP nor TCP between the two */
	unsigned tcp_k, tcp_u;		/* TCP segments */
	unsigned long long bytes_k, bytes_u;	/* TCP payload bytes, retransmissions included */
	unsigned csum_good, csum_bad, csum_unverified;	/* IPv4 and TCP, together */
	unsigned csum_ffff;		/* TCP 0xffff for 0 (Linux's; counted good) */
	unsigned bad;			/* malformed, or an expert note of severity error */
	unsigned retrans_k, retrans_u;	/* retransmission, fast or spurious */
	unsigned spurious_k, spurious_u;
	unsigned ooo_k, ooo_u;		/* out-of-order */
	unsigned dupack_k, dupack_u;
	unsigned lost_k, lost_u;	/* "previous segment(s) not captured" */
	unsigned acklost_k, acklost_u;	/* "ACKed segment that wasn't captured" */
	unsigned zerowin_k, zerowin_u;
	unsigned beyond_k, beyond_u;	/* data beyond the peer's window */
	unsigned shrink_k, shrink_u;	/* own advertised right edge moved left */
	unsigned rst_k, rst_u;
	unsigned syn_k, syn_u;		/* SYN sent (SYN-ACK included) */
	unsigned syndata_k, syndata_u;	/* SYN carrying data (Fast Open) */
	unsigned tfo_req_k, tfo_req_u;	/* SYN asking for a Fast Open cookie */
	unsigned tfo_cookie_k, tfo_cookie_u;	/* SYN or SYN-ACK carrying a cookie */
	unsigned tfo_ack_k, tfo_ack_u;	/* SYN-ACK accepting the SYN's data */
	unsigned tfo_ignored_k, tfo_ignored_u;	/* SYN-ACK not accepting it */
	unsigned conns;			/* connections seen (SYN without ACK) */
	char report[4096];		/* the first frames of interest, for messages */
};
/*
 * interop_tcp_check - one tshark pass over path (streamed: a bulk capture
 * holds hundreds of thousands of frames) and fill st.
 * Return: 0, or -1 if tshark could not run (st->report says why).
 */
int interop_tcp_check(const char *path, struct interop_tcp_stats *st);
/* interop_tcp_summary - one line of st's counters, for logs and messages. */
void interop_tcp_summary(const struct interop_tcp_stats *st, char *out, size_t outlen);

#endif
