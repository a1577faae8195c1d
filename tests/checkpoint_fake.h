/* Test helpers that stage a machine crash during an asynchronous flush:
 * data_dir/checkpoint and data.mdb's meta pages, in the formats
 * ledger/checkpoint.c reads (two 512-byte records: magic, sequence,
 * txnid, boot id, BLAKE2b-16; LMDB 0.9's meta pages 0 and 1). */
#ifndef LOY_TESTS_CHECKPOINT_FAKE_H
#define LOY_TESTS_CHECKPOINT_FAKE_H

#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wire/boot_id.h"

#define CKPT_FAKE_SLOT 512
#define CKPT_FAKE_BODY (8 + 8 + 8 + LOY_BOOT_ID_SIZE)
#define CKPT_FAKE_BOOT "an-earlier-boot"

static inline void ckpt_fake_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Rewrites the boot id of every valid record of dir/checkpoint, as if an
 * earlier boot wrote them. Returns how many it rewrote, -1 on error. */
static inline int ckpt_fake_earlier_boot(const char *dir)
{
	char p[600];
	int fd, changed = 0;

	snprintf(p, sizeof p, "%s/checkpoint", dir);
	fd = open(p, O_RDWR);
	if (fd < 0)
		return -1;
	for (int k = 0; k < 2; k++) {
		uint8_t b[CKPT_FAKE_BODY + 16];
		if (pread(fd, b, sizeof b, k * CKPT_FAKE_SLOT) !=
			(ssize_t)sizeof b ||
		    memcmp(b, "LOYCKPT1", 8) != 0)
			continue;
		memset(b + 24, 0, LOY_BOOT_ID_SIZE);
		memcpy(b + 24, CKPT_FAKE_BOOT, sizeof CKPT_FAKE_BOOT - 1);
		crypto_generichash(b + CKPT_FAKE_BODY, 16, b, CKPT_FAKE_BODY,
				   NULL, 0);
		if (pwrite(fd, b, sizeof b, k * CKPT_FAKE_SLOT) !=
		    (ssize_t)sizeof b) {
			close(fd);
			return -1;
		}
		changed++;
	}
	close(fd);
	return changed;
}

/* The txnid of dir/checkpoint's newest record (0 when none), and of
 * data.mdb's newest meta page (0 when unreadable). */
static inline uint64_t ckpt_fake_durable(const char *dir)
{
	char p[600];
	uint8_t b[CKPT_FAKE_BODY + 16];
	uint64_t best = 0, seq_best = 0;
	int fd;

	snprintf(p, sizeof p, "%s/checkpoint", dir);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return 0;
	for (int k = 0; k < 2; k++) {
		uint64_t seq = 0, txnid = 0;
		if (pread(fd, b, sizeof b, k * CKPT_FAKE_SLOT) !=
			(ssize_t)sizeof b ||
		    memcmp(b, "LOYCKPT1", 8) != 0)
			continue;
		for (int i = 0; i < 8; i++) {
			seq = seq << 8 | b[8 + i];
			txnid = txnid << 8 | b[16 + i];
		}
		if (seq >= seq_best) {
			seq_best = seq;
			best = txnid;
		}
	}
	close(fd);
	return best;
}

static inline uint64_t ckpt_fake_newest_txn(const char *dir)
{
	char p[600];
	uint8_t m[152];
	uint64_t t, best = 0;
	uint32_t psize = 4096;
	int fd;

	snprintf(p, sizeof p, "%s/data.mdb", dir);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return 0;
	for (int k = 0; k < 2; k++) {
		if (pread(fd, m, sizeof m, (off_t)k * psize) !=
		    (ssize_t)sizeof m)
			break;
		if (k == 0)
			memcpy(&psize, m + 16 + 24, 4);
		memcpy(&t, m + 144, 8);
		if (t > best)
			best = t;
	}
	close(fd);
	return best;
}

/* The machine stopped before data.mdb's newest transaction reached the
 * disk: dir/checkpoint names the older one (written by an earlier boot),
 * and data.mdb loses the pages appended after the older tree's last page.
 * Returns 0 or -1. */
static inline int ckpt_fake_crash_before_sync(const char *dir)
{
	char p[600];
	uint8_t m[2][152], b[CKPT_FAKE_BODY + 16];
	uint64_t t[2], last;
	uint32_t psize;
	int fd, older, ok;

	snprintf(p, sizeof p, "%s/data.mdb", dir);
	fd = open(p, O_RDWR);
	if (fd < 0 || pread(fd, m[0], sizeof m[0], 0) != (ssize_t)sizeof m[0])
		return -1;
	memcpy(&psize, m[0] + 16 + 24, 4);
	if (pread(fd, m[1], sizeof m[1], psize) != (ssize_t)sizeof m[1])
		return -1;
	memcpy(&t[0], m[0] + 144, 8);
	memcpy(&t[1], m[1] + 144, 8);
	older = t[0] < t[1] ? 0 : 1;
	memcpy(&last, m[older] + 136, 8);
	ok = ftruncate(fd, (off_t)(last + 1) * psize) == 0;
	close(fd);
	if (!ok)
		return -1;
	memset(b, 0, sizeof b);
	memcpy(b, "LOYCKPT1", 8);
	ckpt_fake_be64(b + 8, 1ull << 40);
	ckpt_fake_be64(b + 16, t[older]);
	memcpy(b + 24, CKPT_FAKE_BOOT, sizeof CKPT_FAKE_BOOT - 1);
	crypto_generichash(b + CKPT_FAKE_BODY, 16, b, CKPT_FAKE_BODY, NULL, 0);
	snprintf(p, sizeof p, "%s/checkpoint", dir);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ok = pwrite(fd, b, sizeof b, 0) == (ssize_t)sizeof b;
	close(fd);
	return ok ? 0 : -1;
}

#endif
