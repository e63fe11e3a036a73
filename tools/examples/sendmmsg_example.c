/* SPDX-License-Identifier: MIT */
/*
 * sendmmsg_example.c - the EXAMPLES program of sendmmsg(2), over usock
 *
 * What the manual page's program does, with the usock_ prefix: a UDP socket
 * connected to 127.0.0.1:1234 sends two datagrams in one sendmmsg() call,
 * "onetwo" gathered from two iovecs and "three", and prints how many were
 * sent (R-MMSG-10).  A receiver bound to 127.0.0.1:1234 in the same (default)
 * namespace then prints the two datagrams it got.  The loopback traffic is
 * captured to the pcap file named by the first argument, if any.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usock.h>

static void die(const char *what)
{
	perror(what);
	exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	if (argc > 1 && usock_pcap_open(usock_netns_default(), "lo", argv[1]) < 0)
		die("usock_pcap_open()");

	/* the receiver, so that the datagrams have somewhere to go */
	int rx = usock_socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0)
		die("socket() for the receiver");
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(1234)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (usock_bind(rx, (struct sockaddr *)&to, sizeof(to)) < 0)
		die("bind()");

	/* the manual page's sender */
	int fd = usock_socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket()");
	if (usock_connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
		die("connect()");
	struct iovec first[2] = {{"one", 3}, {"two", 3}};
	struct iovec second = {"three", 5};
	struct mmsghdr msgs[2];
	memset(msgs, 0, sizeof(msgs));
	msgs[0].msg_hdr.msg_iov = first;
	msgs[0].msg_hdr.msg_iovlen = 2;
	msgs[1].msg_hdr.msg_iov = &second;
	msgs[1].msg_hdr.msg_iovlen = 1;
	int n = usock_sendmmsg(fd, msgs, 2, 0);
	if (n < 0)
		perror("sendmmsg()");
	else
		printf("%d messages sent\n", n);

	/* what arrived */
	char buf[2][64];
	struct iovec riov[2] = {{buf[0], sizeof(buf[0])}, {buf[1], sizeof(buf[1])}};
	struct mmsghdr in[2];
	memset(in, 0, sizeof(in));
	for (int i = 0; i < 2; i++) {
		in[i].msg_hdr.msg_iov = &riov[i];
		in[i].msg_hdr.msg_iovlen = 1;
	}
	int got = usock_recvmmsg(rx, in, 2, MSG_DONTWAIT, NULL);
	if (got < 0)
		die("recvmmsg()");
	for (int i = 0; i < got; i++)
		printf("received datagram %d: \"%.*s\" (%u bytes)\n", i + 1, (int)in[i].msg_len,
		       buf[i], in[i].msg_len);
	usock_close(fd);
	usock_close(rx);
	return got == 2 && n == 2 ? EXIT_SUCCESS : EXIT_FAILURE;
}
