/* Network namespaces joined by a bridge, for cutting a node's links for real;
 * driven through the ip program. */
#include "tests/integration/netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_DIR "/var/run/netns"
#define MAX_ARGS  16

extern char **environ;

static bool find_ip(char *out, size_t size)
{
	static const char *const where[] = {"/usr/sbin/ip", "/sbin/ip",
					    "/usr/bin/ip", "/bin/ip"};

	for (size_t k = 0; k < sizeof where / sizeof where[0]; k++)
		if (access(where[k], X_OK) == 0) {
			snprintf(out, size, "%s", where[k]);
			return true;
		}
	return false;
}

/* Runs `ip ARGS...` (NULL-terminated) with stdout discarded; its stderr goes
 * to err when err is not NULL, else nowhere. Only pipe, fork, dup2, execve,
 * read and waitpid: safe in a signal handler. Returns ip's exit status, or
 * -1 when it could not run. */
static int run_ip(const char *ip, char *err, size_t err_size, ...)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0, fds[2] = {-1, -1}, status = 0, devnull;
	size_t got = 0;
	va_list ap;
	pid_t pid;

	argv[argc++] = (char *)"ip";
	va_start(ap, err_size);
	while (argc <= MAX_ARGS && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (err != NULL && err_size > 0) {
		err[0] = '\0';
		if (pipe2(fds, O_CLOEXEC) != 0)
			return -1;
	}
	pid = fork();
	if (pid < 0) {
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		return -1;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(fds[1] >= 0 ? fds[1] : devnull, 2);
		}
		execve(ip, argv, environ);
		_exit(127);
	}
	if (fds[0] >= 0) {
		ssize_t r;
		close(fds[1]);
		while ((r = read(fds[0], err + got, err_size - 1 - got)) > 0 ||
		       (r < 0 && errno == EINTR))
			if (r > 0)
				got += (size_t)r;
		err[got] = '\0';
		while (got > 0 && (err[got - 1] == '\n' || err[got - 1] == ' '))
			err[--got] = '\0';
		close(fds[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool it_netns_available(char *why, size_t why_size)
{
	char ip[64], name[32], err[256];

	if (geteuid() != 0) {
		snprintf(why, why_size, "not running as root");
		return false;
	}
	if (!find_ip(ip, sizeof ip)) {
		snprintf(why, why_size, "no ip program");
		return false;
	}
	/* index 0 is never a node's: a probe left by a crash is stale too */
	snprintf(name, sizeof name, "loy%d-0", (int)getpid());
	if (run_ip(ip, err, sizeof err, "netns", "add", name, NULL) != 0) {
		snprintf(why, why_size, "ip netns add failed: %s", err);
		return false;
	}
	if (run_ip(ip, err, sizeof err, "netns", "delete", name, NULL) != 0) {
		snprintf(why, why_size, "ip netns delete failed: %s", err);
		return false;
	}
	return true;
}

/* --- stale leftovers --- */

/* The pid in one of our names ("<prefix><pid>" or "<prefix><pid>-<i>"), or
 * 0 when the name is not one of ours. */
static pid_t owner_of(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	const char *p = name + pl;
	char *end;
	long pid;

	if (strncmp(name, prefix, pl) != 0 || *p < '1' || *p > '9')
		return 0;
	pid = strtol(p, &end, 10);
	if (*end == '-') {
		const char *d = end + 1;
		if (*d == '\0')
			return 0;
		for (; *d; d++)
			if (*d < '0' || *d > '9')
				return 0;
	} else if (*end != '\0') {
		return 0;
	}
	return pid > 0 && pid < INT32_MAX ? (pid_t)pid : 0;
}

static bool owner_gone(pid_t pid)
{
	return pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH);
}

/* SIGKILL to every process whose network namespace is the one at path. */
static void kill_inside(const char *path)
{
	struct stat ns, st;
	struct dirent *e;
	DIR *d;

	if (stat(path, &ns) != 0 || (d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[300];
		long pid = strtol(e->d_name, NULL, 10);
		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
		if (stat(p, &st) == 0 && st.st_ino == ns.st_ino &&
		    st.st_dev == ns.st_dev) {
			fprintf(stderr,
				"netns: killing pid %ld, left in stale "
				"namespace %s\n",
				pid, path);
			kill((pid_t)pid, SIGKILL);
		}
	}
	closedir(d);
}

void it_netns_clean_stale(void)
{
	struct if_nameindex *ifs, *f;
	struct dirent *e;
	char ip[64];
	DIR *d;

	if (!find_ip(ip, sizeof ip))
		return;
	if ((d = opendir(NETNS_DIR)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char path[300];
			pid_t pid = owner_of(e->d_name, "loy");
			if (pid == 0 || !owner_gone(pid))
				continue;
			snprintf(path, sizeof path, NETNS_DIR "/%s", e->d_name);
			kill_inside(path);
			fprintf(stderr, "netns: removing stale namespace %s\n",
				e->d_name);
			run_ip(ip, NULL, 0, "netns", "delete", e->d_name, NULL);
		}
		closedir(d);
	}
	ifs = if_nameindex();
	for (f = ifs; f && f->if_index != 0; f++) {
		pid_t pid = owner_of(f->if_name, "loyh");
		if (pid == 0)
			pid = owner_of(f->if_name, "loybr");
		if (pid == 0 || !owner_gone(pid))
			continue;
		fprintf(stderr, "netns: removing stale link %s\n", f->if_name);
		run_ip(ip, NULL, 0, "link", "delete", f->if_name, NULL);
	}
	if (ifs)
		if_freenameindex(ifs);
}

/* --- setup --- */

/* Whether 10.x.y.0/24 overlaps an address or a route (other than the
 * default one) of the root namespace: another run's bridge shows up in
 * both. */
static bool subnet_used(unsigned x, unsigned y)
{
	uint32_t net = 10u << 24 | x << 16 | y << 8, mask = 0xffffff00u;
	struct ifaddrs *ifa, *a;
	bool used = false;
	char line[256];
	FILE *f;

	if (getifaddrs(&ifa) == 0) {
		for (a = ifa; a && !used; a = a->ifa_next) {
			uint32_t v, m = mask;
			if (a->ifa_addr == NULL ||
			    a->ifa_addr->sa_family != AF_INET)
				continue;
			v = ntohl(((struct sockaddr_in *)(void *)a->ifa_addr)
				      ->sin_addr.s_addr);
			if (a->ifa_netmask != NULL)
				m &= ntohl(((struct sockaddr_in *)(void *)
						a->ifa_netmask)
					       ->sin_addr.s_addr);
			used = (v & m) == (net & m);
		}
		freeifaddrs(ifa);
	}
	/* /proc/net/route: Iface Destination Gateway Flags ... Mask, the
	 * addresses in hex as stored (network order) */
	f = fopen("/proc/net/route", "r");
	while (f && !used && fgets(line, sizeof line, f) != NULL) {
		char ifname[64];
		unsigned dst, gw, flags, refcnt, use, metric, rmask;
		uint32_t m;
		if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dst, &gw,
			   &flags, &refcnt, &use, &metric, &rmask) != 8)
			continue;
		m = ntohl(rmask) & mask;
		if (ntohl(rmask) != 0)
			used = (ntohl(dst) & m) == (net & m);
	}
	if (f)
		fclose(f);
	return used;
}

static int pick_subnet(struct it_netns *ns)
{
	/* 10.150.0.0 to 10.249.255.0: clear of the low 10.x ranges container
	 * runtimes and VPNs tend to take */
	for (unsigned t = 0; t < 2000; t++) {
		unsigned v = ((unsigned)ns->pid + t * 7919u) % (100u * 256u);
		unsigned x = 150 + v / 256, y = v % 256;
		if (subnet_used(x, y))
			continue;
		snprintf(ns->subnet, sizeof ns->subnet, "10.%u.%u.0/24", x, y);
		snprintf(ns->bridge_addr, sizeof ns->bridge_addr,
			 "10.%u.%u.254/24", x, y);
		for (int i = 0; i < ns->n; i++) {
			snprintf(ns->addr[i], sizeof ns->addr[i],
				 "10.%hhu.%hhu.%hhu", (uint8_t)x, (uint8_t)y,
				 (uint8_t)(i + 1));
			snprintf(ns->cidr[i], sizeof ns->cidr[i], "%s/24",
				 ns->addr[i]);
		}
		return 0;
	}
	return -1;
}

/* Runs one setup step; on failure says which, with ip's words. */
#define STEP(what, ...)                                                        \
	do {                                                                   \
		char e_[256];                                                  \
		if (run_ip(ns->ip, e_, sizeof e_, __VA_ARGS__, NULL) != 0) {   \
			snprintf(err, err_size, "%s: %s", what, e_);           \
			goto fail;                                             \
		}                                                              \
	} while (0)

int it_netns_setup(struct it_netns *ns, int n, char *err, size_t err_size)
{
	char path[300];

	memset(ns, 0, sizeof *ns);
	ns->root_fd = -1;
	for (int i = 0; i < IT_NETNS_MAX; i++)
		ns->ns_fd[i] = -1;
	if (n < 1 || n > IT_NETNS_MAX) {
		snprintf(err, err_size, "netns: %d nodes (1 to %d)", n,
			 IT_NETNS_MAX);
		return -1;
	}
	ns->n = n;
	ns->pid = getpid();
	if (!find_ip(ns->ip, sizeof ns->ip)) {
		snprintf(err, err_size, "netns: no ip program");
		return -1;
	}
	if (pick_subnet(ns) != 0) {
		snprintf(err, err_size, "netns: no free 10.x.y.0/24 subnet");
		return -1;
	}
	ns->root_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns->root_fd < 0) {
		snprintf(err, err_size, "netns: open our own namespace: %s",
			 strerror(errno));
		return -1;
	}
	snprintf(ns->bridge, sizeof ns->bridge, "loybr%d", (int)ns->pid);
	for (int i = 0; i < n; i++) {
		snprintf(ns->name[i], sizeof ns->name[i], "loy%d-%d",
			 (int)ns->pid, i + 1);
		snprintf(ns->veth[i], sizeof ns->veth[i], "loyh%d-%d",
			 (int)ns->pid, i + 1);
	}
	/* from here on teardown removes whatever exists of these names */
	ns->live = 1;
	STEP("netns: add bridge", "link", "add", ns->bridge, "type", "bridge",
	     "forward_delay", "0");
	STEP("netns: address the bridge", "addr", "add", ns->bridge_addr, "dev",
	     ns->bridge);
	STEP("netns: bridge up", "link", "set", ns->bridge, "up");
	for (int i = 0; i < n; i++) {
		STEP("netns: add namespace", "netns", "add", ns->name[i]);
		STEP("netns: add veth pair", "link", "add", ns->veth[i], "type",
		     "veth", "peer", "name", "eth0", "netns", ns->name[i]);
		STEP("netns: attach veth", "link", "set", ns->veth[i], "master",
		     ns->bridge, "up");
		STEP("netns: loopback up", "-n", ns->name[i], "link", "set",
		     "lo", "up");
		STEP("netns: address the node", "-n", ns->name[i], "addr",
		     "add", ns->cidr[i], "dev", "eth0");
		STEP("netns: node link up", "-n", ns->name[i], "link", "set",
		     "eth0", "up");
		snprintf(path, sizeof path, NETNS_DIR "/%s", ns->name[i]);
		ns->ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns->ns_fd[i] < 0) {
			snprintf(err, err_size, "netns: open %s: %s", path,
				 strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	it_netns_teardown(ns);
	return -1;
}

#undef STEP

int it_netns_link(const struct it_netns *ns, int i, bool up)
{
	char err[256];

	if (!ns->live || i < 1 || i > ns->n)
		return -1;
	if (run_ip(ns->ip, err, sizeof err, "link", "set", ns->veth[i - 1],
		   up ? "up" : "down", NULL) != 0) {
		fprintf(stderr, "netns: ip link set %s %s: %s\n",
			ns->veth[i - 1], up ? "up" : "down", err);
		return -1;
	}
	return 0;
}

int it_netns_enter(const struct it_netns *ns, int i)
{
	if (!ns->live || i < 1 || i > ns->n || ns->ns_fd[i - 1] < 0)
		return -1;
	return setns(ns->ns_fd[i - 1], CLONE_NEWNET) == 0 ? 0 : -1;
}

int it_netns_socket(const struct it_netns *ns, int i, int type)
{
	int fd;

	if (it_netns_enter(ns, i) != 0)
		return -1;
	fd = socket(AF_INET, type, 0);
	/* a thread left in the node's namespace would send the rest of the
	 * test's traffic around the cut: there is no carrying on from that */
	if (setns(ns->root_fd, CLONE_NEWNET) != 0)
		abort();
	return fd;
}

void it_netns_teardown(struct it_netns *ns)
{
	if (!ns->live)
		return;
	ns->live = 0;
	/* deleting the host end of a pair deletes the pair */
	for (int i = 0; i < ns->n; i++)
		if (ns->veth[i][0])
			run_ip(ns->ip, NULL, 0, "link", "delete", ns->veth[i],
			       NULL);
	for (int i = 0; i < ns->n; i++) {
		if (ns->ns_fd[i] >= 0)
			close(ns->ns_fd[i]);
		ns->ns_fd[i] = -1;
		if (ns->name[i][0])
			run_ip(ns->ip, NULL, 0, "netns", "delete", ns->name[i],
			       NULL);
	}
	if (ns->bridge[0])
		run_ip(ns->ip, NULL, 0, "link", "delete", ns->bridge, NULL);
	if (ns->root_fd >= 0)
		close(ns->root_fd);
	ns->root_fd = -1;
}
