/* The running boot's id, from /proc, and the marker files that hold it. */
#include "wire/boot_id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BOOT_ID "/proc/sys/kernel/random/boot_id"

void loy_boot_id(char out[LOY_BOOT_ID_SIZE])
{
	FILE *f = fopen(BOOT_ID, "r");
	int ok = f != NULL && fgets(out, LOY_BOOT_ID_SIZE, f) != NULL;

	if (f)
		fclose(f);
	if (!ok)
		snprintf(out, LOY_BOOT_ID_SIZE, "unknown");
	out[strcspn(out, "\r\n")] = '\0';
}

int loy_same_boot(const char *id)
{
	char mine[LOY_BOOT_ID_SIZE];

	loy_boot_id(mine);
	return strcmp(mine, "unknown") != 0 && strcmp(mine, id) == 0;
}

int loy_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rv;

	if (fd < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

int loy_boot_mark(const char *dir, const char *name)
{
	char path[1100], id[LOY_BOOT_ID_SIZE];
	int fd, ok;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	loy_boot_id(id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && dprintf(fd, "%s\n", id) > 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	return ok && loy_sync_dir(dir) == 0 ? 0 : -1;
}

int loy_boot_mark_read(const char *dir, const char *name,
		       char id[LOY_BOOT_ID_SIZE])
{
	char path[1100];
	FILE *f;

	id[0] = '\0';
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	if (fgets(id, LOY_BOOT_ID_SIZE, f) == NULL)
		id[0] = '\0';
	fclose(f);
	id[strcspn(id, "\r\n")] = '\0';
	return 1;
}

int loy_boot_unmark(const char *dir, const char *name)
{
	char path[1100];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		return -1;
	return loy_sync_dir(dir);
}
