/* Reads the store in a child so that a crash of LMDB on a damaged page is
 * the child's, reported by the parent. */
#include "node/store_check.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "wire/error.h"

#define EXIT_DAMAGED 3

/* The child: its findings go to the parent through a pipe. */
static void child(int fd, const char *dir, uint64_t map_size)
{
	struct loy_ledger *l = NULL;
	char msg[1024] = "";
	int rv;

	rv = loy_ledger_open(dir, LOY_LEDGER_RDONLY, map_size, &l, msg,
			     sizeof msg);
	if (rv == 0)
		rv = loy_ledger_verify_store(l, msg, sizeof msg);
	if (l)
		loy_ledger_close(l);
	if (rv != 0 && write(fd, msg, strlen(msg)) < 0)
		rv = LOY_EIO;
	_exit(rv == 0 ? 0 : rv == LOY_ECORRUPT ? EXIT_DAMAGED : 1);
}

int loy_store_check(const char *dir, uint64_t map_size, char *err,
		    size_t err_size)
{
	char path[1100], msg[1024];
	struct stat st;
	ssize_t got = 0, r;
	int fds[2], status = 0;
	pid_t pid;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (stat(path, &st) != 0 && errno == ENOENT)
		return 0; /* a new node */
	if (pipe(fds) != 0) {
		snprintf(err, err_size, "store check: pipe: %s",
			 strerror(errno));
		return LOY_EIO;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		snprintf(err, err_size, "store check: fork: %s",
			 strerror(errno));
		return LOY_EIO;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], dir, map_size);
	}
	close(fds[1]);
	while ((size_t)got < sizeof msg - 1 &&
	       (r = read(fds[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0)
		got += r;
	msg[got > 0 ? got : 0] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		snprintf(err, err_size,
			 "%s is damaged: reading it crashed (signal %d, %s); "
			 "move the data directory away and let the node "
			 "resync from its peers",
			 path, WTERMSIG(status), strsignal(WTERMSIG(status)));
		return LOY_ECORRUPT;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, err_size, "%s",
		 msg[0] ? msg : "store check failed without a reason");
	return WIFEXITED(status) && WEXITSTATUS(status) == EXIT_DAMAGED
		   ? LOY_ECORRUPT
		   : LOY_EIO;
}
