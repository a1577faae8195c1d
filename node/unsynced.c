/* The data_dir/unsynced marker: this boot's id (wire/boot_id.h). */
#include "node/unsynced.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/boot_id.h"
#include "wire/error.h"

#define NAME "unsynced"

int loy_unsynced_check(const char *dir, char *err, size_t err_size)
{
	char theirs[LOY_BOOT_ID_SIZE];
	int rv = loy_boot_mark_read(dir, NAME, theirs);

	if (rv == 0)
		return 0;
	if (rv < 0) {
		snprintf(err, err_size, "%s/" NAME ": %s", dir,
			 strerror(errno));
		return LOY_EIO;
	}
	if (loy_same_boot(theirs))
		return 1;
	snprintf(err, err_size,
		 "%s/" NAME ": the machine stopped while this node was "
		 "catching up without waiting for the disk, so data.mdb may "
		 "be incomplete or damaged; move the data directory away and "
		 "let the node resync from its peers",
		 dir);
	return LOY_ECORRUPT;
}

int loy_unsynced_mark(const char *dir, char *err, size_t err_size)
{
	if (loy_boot_mark(dir, NAME) == 0)
		return 0;
	snprintf(err, err_size, "%s/" NAME ": %s", dir, strerror(errno));
	return LOY_EIO;
}

int loy_unsynced_clear(const char *dir, char *err, size_t err_size)
{
	if (loy_boot_unmark(dir, NAME) == 0)
		return 0;
	snprintf(err, err_size, "%s/" NAME ": %s", dir, strerror(errno));
	return LOY_EIO;
}
