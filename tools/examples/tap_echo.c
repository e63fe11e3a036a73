/* SPDX-License-Identifier: MIT */
/*
 * tap_echo.c - a usock host on a TAP device, for the kernel to talk to
 *
 * usage: tap_echo TAPNAME ADDR/PLEN SECONDS
 * Makes a usock namespace, attaches the kernel TAP device TAPNAME (created
 * in the caller's network namespace) as eth0, gives it ADDR/PLEN, answers
 * pings (usock's ICMP) and echoes UDP datagrams on port 7 for SECONDS, then
 * exits.  Needs CAP_NET_ADMIN.  Example in the README.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <usock.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s TAPNAME ADDR/PLEN SECONDS\n", argv[0]);
		return 2;
	}
	struct usock_netns *ns = usock_netns_new("tap", 0);
	char cmd[128];
	if (!ns || usock_link_tap(ns, "eth0", argv[1]) < 0) {
		perror("usock_link_tap");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "addr add %s dev eth0", argv[2]);
	if (usock_ip(ns, cmd, NULL, 0) < 0 || usock_ip(ns, "link set eth0 up", NULL, 0) < 0) {
		perror("usock_ip");
		return 1;
	}
	usock_netns_set(ns);
	int fd = usock_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7)};
	if (fd < 0 || usock_bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("bind");
		return 1;
	}
	printf("usock: %s on %s, echoing UDP port 7 for %s s\n", argv[2], argv[1], argv[3]);
	fflush(stdout);
	time_t end = time(NULL) + atoi(argv[3]);
	while (time(NULL) < end) {
		struct pollfd p = {fd, POLLIN, 0};
		if (usock_poll(&p, 1, 200) <= 0)
			continue;
		char buf[2048];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = usock_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		char f[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &from.sin_addr, f, sizeof(f));
		printf("usock: echo %zd bytes to %s:%u\n", n, f, ntohs(from.sin_port));
		fflush(stdout);
		usock_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	char neigh[512];
	usock_ip(ns, "neigh show", neigh, sizeof(neigh));
	printf("usock: ip neigh show\n%s", neigh);
	usock_close(fd);
	return 0;
}
