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

/*
 * interop_run - run argv (no shell) with a deadline; its stdout and stderr
 * go to out (NUL-terminated, truncated to outlen; out may be NULL).  A child
 * still running at the deadline is killed.
 * Return: the exit status (0..255), 124 on timeout, -1 if it could not run.
 */
int interop_run(char *const argv[], char *out, size_t outlen, int timeout_ms);
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

/* interop_finish - end of a test body: every usock packet buffer is back in its pool. */
void interop_finish(void);

#endif
