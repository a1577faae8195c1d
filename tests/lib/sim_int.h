/* Internal to tests/lib/: the simulated cluster's state, shared by sim.c
 * (queue, network, updates, checks), sim_byz.c and sim_run.c. */
#ifndef LOY_TESTS_SIM_INT_H
#define LOY_TESTS_SIM_INT_H

#include <stdint.h>

#include "tests/lib/sim.h"
#include "tests/lib/sim_ledger.h"
#include "wire/consensus_msg.h"

#define SIM_MAX_NODES    16
#define SIM_T0           10000 /* virtual clock start, ms (skews stay positive) */
#define SIM_REPLAY_SLOTS 32
#define SIM_MAX_STEPS    2000000u
#define SIM_CERT_SLOTS   256

enum {
	SIM_EV_DELIVER = 1,
	SIM_EV_TIMER,
	SIM_EV_PERSIST,
	SIM_EV_BUILT,
	SIM_EV_CHECKED,
	SIM_EV_FETCH,
	SIM_EV_TXS,
	SIM_EV_RESTART,
	SIM_EV_FAULT,
};

struct sim_fetch_item {
	struct loy_buf block;
	struct loy_cert cert;
};

struct sim_ev {
	uint64_t at, seq;
	int type;
	uint32_t node, epoch;
	uint64_t a, b;
	struct loy_buf buf;
	uint8_t hash[LOY_HASH_SIZE];
	struct loy_cons_persist *rec;
	struct loy_buf rec_block;
	struct sim_fetch_item *fetch;
	uint32_t n_fetch;
};

/* What an honest node signed, to catch it signing twice. */
struct sim_signed {
	uint8_t kind;
	uint64_t height, view;
	uint8_t digest[LOY_HASH_SIZE];
};

struct sim_node {
	uint32_t id;
	char name[16];
	uint8_t pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
	unsigned byz; /* SIM_* Byzantine behaviours, 0 when honest */
	int honest;   /* checked: not Byzantine and not a twin */
	struct loy_cons *core;
	int down;
	uint32_t epoch;
	int64_t skew;
	int group;
	uint64_t persist_at;
	uint64_t timer_gen;
	/* durable */
	int has_rec;
	struct loy_cons_persist rec;
	struct loy_buf rec_block;
	struct sim_ledger led;
	/* checks and Byzantine memory */
	struct sim_signed *log;
	uint32_t n_log, cap_log;
	struct loy_buf replay[SIM_REPLAY_SLOTS];
	uint32_t n_replay;
};

struct sim {
	struct sim_opts o;
	struct sim_result *r;
	uint64_t rng, now, seq;
	int oom;
	struct sim_ev **heap;
	uint32_t n_heap, cap_heap;
	struct sim_node nodes[SIM_MAX_NODES];
	uint32_t n_nodes;
	struct sim_tx txs[SIM_MAX_TXS];
	uint32_t n_txs;
	struct loy_cons_config cfg;
	/* network */
	uint32_t p_drop, p_dup; /* percent */
	uint64_t jitter;
	int partition;
	uint8_t cut[SIM_MAX_NODES][SIM_MAX_NODES];
	/* checks */
	int healed;
	uint64_t heal_at, heal_height;
	uint8_t (*final)[LOY_HASH_SIZE];
	uint8_t *has_final;
	uint64_t cap_final;
	uint8_t cert_seen[SIM_CERT_SLOTS][LOY_HASH_SIZE];
	uint32_t admin_tx[2]; /* admit/remove txs that must become final */
	uint32_t n_admin;
};

uint64_t sim_rand(struct sim *s);
uint64_t sim_range(struct sim *s, uint64_t lo, uint64_t hi);
int sim_chance(struct sim *s, uint32_t percent);
void sim_fail(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct sim_ev *sim_ev_new(struct sim *s, int type, uint32_t node, uint64_t at);
void sim_push(struct sim *s, struct sim_ev *e);
void sim_ev_free(struct sim_ev *e);
uint64_t sim_local(const struct sim *s, const struct sim_node *nd);
int sim_link_ok(const struct sim *s, uint32_t from, uint32_t to);
void sim_deliver(struct sim *s, uint32_t from, uint32_t to, const uint8_t *data,
		 size_t len);
void sim_route(struct sim *s, uint32_t from, int broadcast, const uint8_t *pk,
	       const uint8_t *data, size_t len);
void sim_tick(struct sim *s, struct sim_node *nd);
int sim_start_node(struct sim *s, struct sim_node *nd);
void sim_crash(struct sim *s, struct sim_node *nd);
int sim_loop(struct sim *s);

/* sim_byz.c */
void sim_byz_send(struct sim *s, struct sim_node *nd,
		  const struct loy_cons_send *m);
void sim_byz_remember(struct sim *s, struct sim_node *nd, const uint8_t *data,
		      size_t len);
void sim_byz_replay(struct sim *s, struct sim_node *nd);
void sim_log_signed(struct sim *s, struct sim_node *nd, const uint8_t *data,
		    size_t len);

/* sim_run.c */
void sim_fault_episode(struct sim *s, struct sim_ev *e);

#endif
