/* The data_dir/unsynced marker: this boot's id, written and removed with
 * fsync of the file and of the directory. */
#include "node/unsynced.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wire/error.h"

#define NAME    "unsynced"
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

static int boot_id(char out[64])
{
	FILE *f = fopen(BOOT_ID, "r");
	int ok = f != NULL && fgets(out, 64, f) != NULL;

	if (f)
		fclose(f);
	if (!ok)
		snprintf(out, 64, "unknown");
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rv;

	if (fd < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

int loy_unsynced_check(const char *dir, char *err, size_t err_size)
{
	char path[1100], mine[64], theirs[64] = "";
	FILE *f;

	snprintf(path, sizeof path, "%s/" NAME, dir);
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return LOY_EIO;
	}
	if (fgets(theirs, sizeof theirs, f) == NULL)
		theirs[0] = '\0';
	fclose(f);
	theirs[strcspn(theirs, "\r\n")] = '\0';
	boot_id(mine);
	if (strcmp(mine, theirs) == 0 && strcmp(mine, "unknown") != 0)
		return 1;
	snprintf(err, err_size,
		 "%s: the machine stopped while this node was catching up "
		 "without waiting for the disk, so data.mdb may be incomplete "
		 "or damaged; move the data directory away and let the node "
		 "resync from its peers",
		 path);
	return LOY_ECORRUPT;
}

int loy_unsynced_mark(const char *dir, char *err, size_t err_size)
{
	char path[1100], id[64];
	int fd, ok;

	snprintf(path, sizeof path, "%s/" NAME, dir);
	boot_id(id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && dprintf(fd, "%s\n", id) > 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || sync_dir(dir) != 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return LOY_EIO;
	}
	return 0;
}

int loy_unsynced_clear(const char *dir, char *err, size_t err_size)
{
	char path[1100];

	snprintf(path, sizeof path, "%s/" NAME, dir);
	if ((unlink(path) != 0 && errno != ENOENT) || sync_dir(dir) != 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return LOY_EIO;
	}
	return 0;
}
