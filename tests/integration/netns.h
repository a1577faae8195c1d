/* Network namespaces for the process harness: one namespace per node, each
 * joined to a bridge in the root namespace by a veth pair, so that a test can
 * cut a node off for real (ip link set <host end> down). Needs root with
 * CAP_NET_ADMIN and CAP_SYS_ADMIN; callers probe with it_netns_available and
 * fall back to something else when it says no.
 *
 * Every name carries the pid of the process that made it: the bridge
 * loybr<pid>, the namespaces loy<pid>-<i>, the host ends of the veth pairs
 * loyh<pid>-<i> (the namespace end is eth0 inside). The subnet is
 * 10.x.y.0/24, picked from the pid among those no route or address uses
 * yet; node i is 10.x.y.i and the bridge 10.x.y.254. */
#ifndef LOY_ITEST_NETNS_H
#define LOY_ITEST_NETNS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define IT_NETNS_MAX 8

struct it_netns {
	int n;           /* nodes, 1..IT_NETNS_MAX */
	pid_t pid;       /* in every name */
	char ip[64];     /* path of the ip program */
	char subnet[20]; /* "10.x.y.0/24" */
	char bridge[16]; /* loybr<pid> */
	char bridge_addr[24];
	char name[IT_NETNS_MAX][24]; /* namespace of node i+1 */
	char veth[IT_NETNS_MAX][16]; /* its host end, a port of the bridge */
	char addr[IT_NETNS_MAX][16]; /* node i+1's address, 10.x.y.(i+1) */
	char cidr[IT_NETNS_MAX][20]; /* the same with /24 */
	int ns_fd[IT_NETNS_MAX];     /* open namespaces, -1 when none */
	int root_fd;                 /* the namespace we started in */
	volatile sig_atomic_t live;  /* set up and not yet torn down */
};

/* Whether network namespaces can be used here: we are root, the ip program
 * exists, and a probe namespace can be added and deleted. When not, why
 * says why in a few words. */
bool it_netns_available(char *why, size_t why_size);

/* Removes what earlier runs left behind: namespaces, links and bridges named
 * as above whose pid is no longer running (or is ours: a run that died
 * before us under the same pid). Processes still inside such a namespace
 * are orphans of that run and are killed. Call before it_netns_setup. */
void it_netns_clean_stale(void);

/* Creates the bridge, n namespaces (loopback up) and n veth pairs, all up.
 * On failure returns -1 with the reason in err and has removed whatever it
 * had made. On success the caller must call it_netns_teardown. */
int it_netns_setup(struct it_netns *ns, int n, char *err, size_t err_size);

/* Node i's (1-based) link to the bridge: down cuts the node off from its
 * peers and from clients in the root namespace; up heals it. Returns 0, or
 * -1 with ip's complaint on stderr. */
int it_netns_link(const struct it_netns *ns, int i, bool up);

/* Moves the calling thread into node i's namespace. For a child between
 * fork and exec: what it executes runs in that namespace. Returns 0 or
 * -1. */
int it_netns_enter(const struct it_netns *ns, int i);

/* A new socket (as socket(AF_INET, type, 0)) that lives in node i's
 * namespace, so it reaches the node even while its link is cut; the
 * calling thread is back in the root namespace on return. Caller closes
 * it. Returns the fd or -1. */
int it_netns_socket(const struct it_netns *ns, int i, int type);

/* Deletes the veth pairs, namespaces and the bridge of this run. Kill the
 * processes inside first. Uses only fork, exec and waitpid on names made
 * at setup, so a signal handler may call it; a second call does nothing. */
void it_netns_teardown(struct it_netns *ns);

#endif
