/* SPDX-License-Identifier: MIT */
/*
 * tcp_hello.c - a TCP server and client over usock's loopback, in one process
 *
 * The server listens on 127.0.0.1:7000; the client connects, sends a
 * request with MSG_MORE and the rest without, and reads the answer; both
 * print what they got and what TCP_INFO says of the connection.  With
 * USOCK_PCAP=file.pcap the segments can be read back with tshark.  Every
 * call is the POSIX one with the usock_ prefix.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "usock.h"

static int lfd;

static void *server(void *arg)
{
	char buf[64];
	int s = usock_accept(lfd, NULL, NULL);
	ssize_t n;

	(void)arg;
	if (s < 0) {
		perror("accept");
		return NULL;
	}
	n = usock_recv(s, buf, 13, MSG_WAITALL);	/* "hello, server" */
	if (n > 0) {
		buf[n] = 0;
		printf("server got %zd bytes: \"%s\"\n", n, buf);
		usock_send(s, "hello, client", 13, 0);
	}
	usock_close(s);
	return NULL;
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7000)};
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	pthread_t t;
	char buf[64];
	ssize_t n;
	int c;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = usock_socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || usock_bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    usock_listen(lfd, 8)) {
		perror("listen");
		return 1;
	}
	pthread_create(&t, NULL, server, NULL);
	c = usock_socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || usock_connect(c, (struct sockaddr *)&a, sizeof(a))) {
		perror("connect");
		return 1;
	}
	usock_send(c, "hello, ", 7, MSG_MORE);	/* held: one segment for both */
	usock_send(c, "server", 6, 0);
	n = usock_recv(c, buf, 13, MSG_WAITALL);	/* "hello, client" */
	if (n > 0) {
		buf[n] = 0;
		printf("client got %zd bytes: \"%s\"\n", n, buf);
	}
	if (usock_getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
		printf("client TCP_INFO: state %u, rtt %u us, snd_cwnd %u, snd_mss %u, total_retrans %u\n",
		       ti.tcpi_state, ti.tcpi_rtt, ti.tcpi_snd_cwnd, ti.tcpi_snd_mss,
		       ti.tcpi_total_retrans);
	n = usock_recv(c, buf, sizeof(buf), 0);
	printf("client recv after the server closed: %zd (EOF)\n", n);
	usock_close(c);
	pthread_join(t, NULL);
	usock_close(lfd);
	return 0;
}
