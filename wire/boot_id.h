/* The kernel's id of the running boot, and marker files that hold it.
 *
 * A marker written before some data goes to disk without waiting for it
 * tells the next start what happened: no marker, nothing was at risk; this
 * boot's id, the process crashed but the kernel still holds the data; an
 * earlier boot's id, the machine stopped and the data may be lost or half
 * on disk. */
#ifndef LOY_WIRE_BOOT_ID_H
#define LOY_WIRE_BOOT_ID_H

#define LOY_BOOT_ID_SIZE 64

/* Writes the boot id, or "unknown" where the kernel does not say (then no
 * marker counts as this boot's). */
void loy_boot_id(char out[LOY_BOOT_ID_SIZE]);

/* Whether id (as written earlier by loy_boot_id) is this boot's. */
int loy_same_boot(const char *id);

/* dir/name holding this boot's id, written with fsync of the file and of
 * dir. Returns 0, or -1 with errno. */
int loy_boot_mark(const char *dir, const char *name);

/* Reads dir/name into id: 1 when there is one, 0 when there is none, -1 with
 * errno when it cannot be read. */
int loy_boot_mark_read(const char *dir, const char *name,
		       char id[LOY_BOOT_ID_SIZE]);

/* fsync of directory dir, so that a file created or removed in it stays
 * so. Returns 0, or -1 with errno. */
int loy_sync_dir(const char *dir);

/* Removes dir/name (no error when absent) and fsyncs dir. Returns 0, or -1
 * with errno. */
int loy_boot_unmark(const char *dir, const char *name);

#endif
