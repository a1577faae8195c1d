/* Internal to the chaos program (chaos.c, chaos_checks.c): shared state and
 * helpers. */
#ifndef LOY_TESTS_CHAOS_H
#define LOY_TESTS_CHAOS_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger/query_kinds.h"
#include "tests/integration/itest.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/tx.h"

#define NODES 4
#define HASH  32

#define CHECK(cond, ...) IT_CHECK(&tally, cond, __VA_ARGS__)

enum damage {
	D_FLIP_MIDDLE,
	D_FLIP_LAST_PAGE,
	D_FLIP_OLD_BLOCK, /* a byte of a block record below the tip */
	D_FLIP_ACCOUNT,   /* a byte of a customer's balance */
	D_TRUNCATE,
	D_COUNT
};

extern struct it_cluster cl;
extern struct it_tally tally;
extern struct it_acked ack;
extern bool faulted[IT_MAX_NODES];
extern bool started_before;

/* chaos.c */
int block_at(int i, long h, char hash[65], char root[65], char **out);
bool exited(int i, int *status);
void hex_bin(uint8_t *out, const char *hex, size_t n);
const char *last_line(char *buf);
long log_size(int i);
void log_tail(int i, char *buf, size_t len);
long max_height_except(int skip);
uint64_t now_ms(void);
double recover(int i);
double resync(int i);
int rng_below(int n);
int run_loyctl_audit(int i, char *msg, size_t msg_len);
void sleep_ms(int ms);
void start_reason(int i, long off, char *out, size_t len);
bool up(int i);
bool wait_answers(int i, int timeout_ms);
void wipe_data(int i);

/* chaos_checks.c: storage faults and the final checks */
extern int storage_reopen_ok, storage_consistent, storage_runs;
extern size_t lost, duplicated, misplaced;
extern const char *const damage_name[];
void audits(void);
void final_checks(void);
void storage_damage(int i, enum damage d, char *verdict, size_t vlen);
void storage_kill_during_commits(int count);

/* Command-line options (chaos.c). */
struct chaos_opt {
	int cycles;
	uint64_t seed;
	bool short_run;
	bool no_damage; /* skip the flipped-byte/truncation trials */
	const char *loyd, *loyctl;
	int storage_kills;
	int hold_ms, stop_ms; /* how long a node stays perturbed */
	int load_threads, batch, pause_ms, submit_timeout_ms;
	size_t max_txs;
	int recover_timeout_ms;
};
extern struct chaos_opt opt;

/* chaos.c */
int submit_regs(int i, uint32_t count, int timeout_ms);
void bin_hex(char *out, const uint8_t *in, size_t n);
bool load_running(void);
/* chaos_nodes.c */
int leader_index(void);

#endif
