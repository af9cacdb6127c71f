#include "lib/clients/net_addresses.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

json_t *net_host_addresses(const char *host, const char *port)
{
	json_t *out = json_array();
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL, *a;

	if (getaddrinfo(host, port, &hints, &res) != 0) {
		json_array_append_new(out, json_string(host));
		return out;
	}
	for (a = res; a; a = a->ai_next) {
		char ip[INET6_ADDRSTRLEN] = "";
		const void *p = a->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
							 : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		if (inet_ntop(a->ai_family, p, ip, sizeof(ip)))
			json_array_append_new(out, json_string(ip));
	}
	freeaddrinfo(res);
	return out;
}
