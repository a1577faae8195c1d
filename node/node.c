/* The node's life cycle and the consensus driver: every consensus update is
 * carried out here, in a fixed order (persist, commit, send, build, check,
 * fetch, timer), and every finished piece of I/O comes back as an event. */
#include "node/internal.h"
#include "node/unsynced.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "ledger/genesis_json.h"
#include "wire/error.h"

uint64_t loy_node_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- thread pool jobs --- */

static void job_run(uv_work_t *req)
{
	struct loy_job *j = req->data;
	j->run(j);
}

static void maybe_finish(struct loy_node *n);

bool loy_node_halt_if_damaged(struct loy_node *n)
{
	const char *d = n->ledger ? loy_ledger_damage(n->ledger) : NULL;

	if (d == NULL)
		return false;
	if (!n->damage_logged) {
		n->damage_logged = true;
		LOG_ERR(&n->log, "ledger",
			"%s; halting: this node signs and serves nothing more",
			d);
	}
	loy_node_stop(n, 1);
	return true;
}

static void worker_after(void *data)
{
	struct loy_node *n = data;

	/* a ledger job (check, build, apply) may have met damage */
	loy_node_halt_if_damaged(n);
	if (n->stopping)
		maybe_finish(n);
}

/* Nice value added to the signature threads: at 10 a thread weighs about
 * a tenth of a normal one when both want the CPU. */
#define VERIFIER_NICE 10

void loy_node_ledger_job(struct loy_node *n, struct loy_job *j)
{
	j->node = n;
	loy_worker_submit(&n->worker, j);
}

void loy_node_verify_job(struct loy_node *n, struct loy_job *j)
{
	j->node = n;
	loy_worker_submit(&n->verifier, j);
}

static void pool_job_done(uv_work_t *req, int status)
{
	struct loy_job *j = req->data;
	struct loy_node *n = j->node;

	(void)status;
	n->pool_jobs--;
	j->done(j); /* a query answers its client first */
	loy_node_halt_if_damaged(n);
	if (n->stopping)
		maybe_finish(n);
}

void loy_node_pool_job(struct loy_node *n, struct loy_job *j)
{
	j->node = n;
	j->req.data = j;
	n->pool_jobs++;
	if (uv_queue_work(n->loop, &j->req, job_run, pool_job_done) != 0) {
		n->pool_jobs--;
		j->run(j);
		j->done(j);
	}
}

/* --- the consensus driver --- */

static void on_timer(uv_timer_t *t)
{
	struct loy_node *n = t->data;
	struct loy_cons_event ev = {.type = LOY_CONS_TICK};

	n->timer_at = UINT64_MAX;
	loy_node_cons_event(n, &ev);
}

/* A short peak of private memory between two samples goes unseen; one
 * read of /proc/self/status costs tens of microseconds. */
#define MEM_SAMPLE_MS 200

static void on_mem_timer(uv_timer_t *t)
{
	loy_node_mem_sample(t->data);
}

static void arm_timer(struct loy_node *n, uint64_t at, uint64_t now)
{
	if (at == UINT64_MAX) {
		uv_timer_stop(&n->timer);
		n->timer_at = UINT64_MAX;
		return;
	}
	if (at == n->timer_at)
		return;
	n->timer_at = at;
	uv_timer_start(&n->timer, on_timer, at > now ? at - now : 0, 0);
}

void loy_node_cons_event(struct loy_node *n, struct loy_cons_event *ev)
{
	struct loy_cons_update up;
	int rv;

	if (n->stopping || n->cons == NULL)
		return;
	/* the core may sign in response to anything: never after the store
	 * was found damaged, whatever part of the node found it */
	if (loy_node_halt_if_damaged(n))
		return;
	ev->now_ms = loy_node_now_ms();
	if (ev->type != LOY_CONS_UNREACHABLE) {
		(void)loy_node_reach_ping(n, ev->now_ms);
		loy_node_reach_refresh(n, ev->now_ms);
		if (n->stopping || n->cons == NULL)
			return;
	}
	rv = loy_cons_step(n->cons, ev, &up);
	if (rv != 0)
		LOG_WARN(&n->log, "consensus", "step: %s", loy_strerror(rv));
	/* 1. persist before anything it covers is sent (the core holds those
	 *    messages back until PERSISTED) */
	if (up.flags & LOY_CONS_UPDATE_PERSIST)
		loy_node_persist_request(n, up.persist, up.persist_seq);
	/* 2. apply a committed block */
	if (up.flags & LOY_CONS_UPDATE_COMMIT)
		loy_node_commit(n, &up);
	/* 3. send */
	for (uint32_t i = 0; i < up.n_sends; i++) {
		const struct loy_cons_send *s = &up.sends[i];
		if (s->broadcast)
			loy_peer_net_broadcast(n->net, LOY_CHAN_CONSENSUS,
					       s->data, s->len);
		else
			(void)loy_peer_net_send(
			    n->net, s->to, LOY_CHAN_CONSENSUS, s->data, s->len);
	}
	/* 4. build, check, fetch */
	if (up.flags & LOY_CONS_UPDATE_BUILD)
		loy_node_build(n, &up);
	for (uint32_t i = 0; i < up.n_checks; i++)
		loy_node_check(n, &up.checks[i]);
	if (up.flags & LOY_CONS_UPDATE_FETCH)
		loy_node_fetch(n, up.fetch.from_height, up.fetch.peer);
	for (uint32_t i = 0; i < up.n_evidence; i++) {
		char who[9];
		loy_log_short(who, up.evidence[i].validator);
		LOG_WARN(
		    &n->log, "consensus",
		    "evidence: validator %s signed two conflicting messages "
		    "(kind %u) at height %llu view %llu; not counted",
		    who, up.evidence[i].kind,
		    (unsigned long long)up.evidence[i].height,
		    (unsigned long long)up.evidence[i].view);
	}
	/* 5. timer: the core's deadline, or a down peer's grace ending */
	{
		uint64_t at = loy_node_reach_next(n, ev->now_ms);
		if (n->reach.ping_at < at)
			at = n->reach.ping_at;
		arm_timer(n, up.timer_ms < at ? up.timer_ms : at, ev->now_ms);
	}
	/* 6. work the core put off until the above was under way */
	if (up.flags & LOY_CONS_UPDATE_AGAIN) {
		struct loy_cons_event tick = {.type = LOY_CONS_TICK};
		loy_node_cons_event(n, &tick);
	}
}

/* --- peer links --- */

static void on_peer_up(void *data, const uint8_t key[LOY_PUBKEY_SIZE])
{
	struct loy_node *n = data;
	char who[9];

	loy_log_short(who, key);
	LOG_INFO(&n->log, "peer", "link to %s up", who);
	loy_reach_link(&n->reach, key, true, loy_node_now_ms());
	{
		struct loy_cons_event ev = {.type = LOY_CONS_PEER_UP};
		ev.peer_up.key = key;
		loy_node_cons_event(n, &ev);
	}
	/* Gossip sent while the link was down is lost: hand the peer what
	 * is pending here, so any leader can propose it. */
	loy_node_push_mempool(n, key);
}

static void on_peer_down(void *data, const uint8_t key[LOY_PUBKEY_SIZE])
{
	struct loy_node *n = data;
	char who[9];

	loy_log_short(who, key);
	LOG_INFO(&n->log, "peer", "link to %s down", who);
	loy_reach_link(&n->reach, key, false, loy_node_now_ms());
	{
		struct loy_cons_event ev = {.type = LOY_CONS_PEER_UP};
		ev.peer_up.key = key;
		loy_node_cons_event(n, &ev);
	}
}

static void on_peer_message(void *data, const uint8_t key[LOY_PUBKEY_SIZE],
			    uint8_t channel, const uint8_t *msg, size_t len)
{
	struct loy_node *n = data;

	if (n->stopping)
		return;
	loy_reach_heard(&n->reach, key, loy_node_now_ms());
	switch (channel) {
	case LOY_CHAN_CONSENSUS: {
		struct loy_cons_event ev = {.type = LOY_CONS_RECEIVE};
		ev.receive.data = msg;
		ev.receive.len = len;
		loy_node_cons_event(n, &ev);
		break;
	}
	case LOY_CHAN_TXS:
		loy_node_on_gossip(n, key, msg, len);
		break;
	case LOY_CHAN_SYNC_REQ:
		loy_node_on_sync_request(n, key, msg, len);
		break;
	case LOY_CHAN_SYNC_RESP:
		loy_node_on_sync_response(n, key, msg, len);
		break;
	default:
		break;
	}
}

/* --- start and stop --- */

static int ensure_dir(const char *path, char *err, size_t err_size)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, err_size, "%s: not a directory", path);
			return LOY_EINVAL;
		}
		return 0;
	}
	if (mkdir(path, 0700) != 0) {
		snprintf(err, err_size, "%s: cannot create: %s", path,
			 strerror(errno));
		return LOY_EIO;
	}
	return 0;
}

static int open_ledger(struct loy_node *n, char *err, size_t err_size)
{
	uint64_t height;
	uint8_t hash[LOY_HASH_SIZE], root[LOY_HASH_SIZE];
	int rv;

	rv = loy_ledger_open(n->cfg.data_dir, LOY_LEDGER_GROUP,
			     n->cfg.map_size_mb << 20, &n->ledger, err,
			     err_size);
	if (rv != 0)
		return rv;
	if (loy_ledger_open_note(n->ledger))
		LOG_WARN(&n->log, "ledger", "%s",
			 loy_ledger_open_note(n->ledger));
	if (loy_ledger_tip(n->ledger, &height, hash, root, NULL) ==
	    LOY_ENOTFOUND) {
		rv = loy_ledger_init_genesis(n->ledger, &n->genesis);
		if (rv != 0) {
			snprintf(err, err_size, "genesis: %s",
				 loy_ledger_errmsg(n->ledger));
			return rv;
		}
		LOG_INFO(&n->log, "ledger",
			 "created chain %s from genesis (%u members)",
			 n->genesis.chain_id, n->genesis.member_count);
	} else if (strcmp(loy_ledger_chain_id(n->ledger),
			  n->genesis.chain_id) != 0) {
		snprintf(
		    err, err_size,
		    "%s holds chain \"%s\" but the genesis file is for \"%s\"",
		    n->cfg.data_dir, loy_ledger_chain_id(n->ledger),
		    n->genesis.chain_id);
		return LOY_EINVAL;
	} else {
		/* blocks committed into a group that the last run did not
		 * get to flush to data.mdb */
		uint32_t replayed = 0;
		rv = loy_ledger_replay_log(n->ledger, &replayed);
		if (rv != 0) {
			snprintf(err, err_size, "%s",
				 loy_ledger_errmsg(n->ledger));
			return rv;
		}
		if (replayed > 0)
			LOG_INFO(
			    &n->log, "ledger",
			    "applied %u committed blocks from %s/blocks.wal",
			    replayed, n->cfg.data_dir);
	}
	rv = loy_ledger_tip(n->ledger, &n->tip_height, n->tip_hash, n->tip_root,
			    NULL);
	if (rv != 0) {
		snprintf(err, err_size, "ledger: cannot read the tip: %s",
			 loy_ledger_damage(n->ledger)
			     ? loy_ledger_damage(n->ledger)
			     : loy_strerror(rv));
		return rv;
	}
	/* Written by loyd before caught-up blocks joined the group (they were
	 * committed to data.mdb without fsync): fine after a process crash
	 * (same boot), not after a machine crash. */
	rv = loy_unsynced_check(n->cfg.data_dir, err, err_size);
	if (rv == 1) {
		if (loy_ledger_sync(n->ledger) != 0 ||
		    loy_unsynced_clear(n->cfg.data_dir, err, err_size) != 0) {
			snprintf(err, err_size, "ledger: cannot flush %s",
				 n->cfg.data_dir);
			return LOY_EIO;
		}
		rv = 0;
	}
	return rv;
}

/* Reads the validator set of a height from the ledger. */
int loy_node_valset(struct loy_node *n, uint64_t height, struct loy_valset *vs);
int loy_node_valset(struct loy_node *n, uint64_t height, struct loy_valset *vs)
{
	memset(vs, 0, sizeof *vs);
	return loy_ledger_validators(n->ledger, height, vs->keys, &vs->n);
}

static int start_consensus(struct loy_node *n, char *err, size_t err_size)
{
	struct loy_cons_config cc;
	struct loy_cons_start st;
	struct loy_persist_copy rec;
	uint64_t time_ms;
	int rv, have_rec;

	loy_cons_config_default(&cc);
	snprintf(cc.chain_id, sizeof cc.chain_id, "%s", n->genesis.chain_id);
	memcpy(cc.sk, n->sk, sizeof cc.sk);
	cc.max_block_txs = (uint32_t)n->cfg.block_max_txs;
	cc.max_block_bytes = (uint32_t)n->cfg.block_max_bytes;
	cc.batch_ms = n->cfg.batch_ms;
	cc.view_timeout_ms = n->cfg.view_timeout_ms;

	memset(&st, 0, sizeof st);
	rv = loy_ledger_tip(n->ledger, &st.committed_height, st.last_hash, NULL,
			    &time_ms);
	if (rv != 0) {
		snprintf(err, err_size, "ledger: cannot read the tip: %s",
			 loy_ledger_damage(n->ledger)
			     ? loy_ledger_damage(n->ledger)
			     : loy_strerror(rv));
		return rv == LOY_ECORRUPT ? rv : LOY_EIO;
	}
	st.last_time_ms = time_ms;
	rv = loy_node_valset(n, st.committed_height + 1, &st.valset);
	if (rv != 0) {
		snprintf(err, err_size,
			 "ledger: no validator set for height %llu: %s",
			 (unsigned long long)st.committed_height + 1,
			 loy_ledger_damage(n->ledger)
			     ? loy_ledger_damage(n->ledger)
			     : loy_strerror(rv));
		return rv;
	}
	n->valset = st.valset;
	{
		char path[LOY_PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/consensus.state",
			 n->cfg.data_dir);
		st.restarted = access(path, F_OK) == 0;
	}
	rv = loy_persist_open(n->cfg.data_dir, &n->persist_file, &rec, err,
			      err_size);
	if (rv != 0 && rv != LOY_ENOTFOUND)
		return rv;
	have_rec = rv == 0;
	st.persist = have_rec ? &rec.rec : NULL;
	st.pending_txs = (uint32_t)loy_mempool_count(n->mempool);
	st.now_ms = loy_node_now_ms();
	rv = loy_cons_new(&n->cons, &cc, &st);
	loy_wipe(cc.sk, sizeof cc.sk);
	if (have_rec)
		loy_persist_copy_free(&rec);
	if (rv != 0) {
		snprintf(err, err_size, "consensus: cannot start: %s",
			 loy_strerror(rv));
		return rv;
	}
	return 0;
}

static int start_peers(struct loy_node *n, char *err, size_t err_size)
{
	struct loy_peer_net_config *pc = calloc(1, sizeof *pc);
	struct loy_peer_net_cb cb = {n, on_peer_up, on_peer_down,
				     on_peer_message};
	int rv;

	if (pc == NULL)
		return LOY_ENOMEM;
	snprintf(pc->chain_id, sizeof pc->chain_id, "%s", n->genesis.chain_id);
	memcpy(pc->sk, n->sk, sizeof pc->sk);
	snprintf(pc->listen, sizeof pc->listen, "%s", n->cfg.peer_listen);
	/* the members as the ledger knows them now (admissions and removals
	 * since genesis included) */
	pc->n_peers = loy_node_member_peers(n, pc->peers, LOY_MAX_VALIDATORS);
	pc->max_frame = LOY_MAX_FRAME;
	pc->max_queued = 256u << 20;
	pc->reconnect_min_ms = 100;
	pc->reconnect_max_ms = 5000;
	rv = loy_peer_net_start(n->loop, pc, &cb, &n->net, err, err_size);
	loy_wipe(pc->sk, sizeof pc->sk);
	free(pc);
	return rv;
}

void loy_node_isolate(struct loy_node *n, int on)
{
	struct loy_peer_addr *peers = calloc(LOY_MAX_VALIDATORS, sizeof *peers);
	uint32_t np;

	if (peers == NULL || n->net == NULL) {
		free(peers);
		return;
	}
	np = loy_node_member_peers(n, peers, LOY_MAX_VALIDATORS);
	for (uint32_t i = 0; i < np; i++)
		loy_peer_net_block(n->net, peers[i].key, on);
	free(peers);
	if (on)
		LOG_WARN(&n->log, "fault",
			 "isolated: dropping every frame to and from %u peers",
			 np);
	else
		LOG_WARN(&n->log, "fault",
			 "healed: frames to and from peers flow again");
}

int loy_node_start(uv_loop_t *loop, const struct loy_node_params *p,
		   struct loy_node **out, char *err, size_t err_size)
{
	struct loy_node *n = calloc(1, sizeof *n);
	struct loy_mempool_limits ml;
	struct loy_cons_event ev = {.type = LOY_CONS_TICK};
	char idstr[LOY_ID_STR_SIZE];
	uint8_t id[LOY_ID_SIZE];
	int rv;

	if (n == NULL)
		return LOY_ENOMEM;
	n->loop = loop;
	n->cfg = *p->cfg;
	n->on_stopped = p->on_stopped;
	n->stop_data = p->data;
	n->timer_at = UINT64_MAX;
	loy_log_init(&n->log, n->cfg.name, n->cfg.log_level);

	rv = loy_keyfile_read(n->cfg.key_file, p->passphrase, 0, n->sk);
	if (rv != 0) {
		snprintf(err, err_size, "%s: %s", n->cfg.key_file,
			 rv == LOY_EIO ? strerror(errno) : loy_strerror(rv));
		goto fail;
	}
	loy_seckey_pubkey(n->pk, n->sk);
	rv = loy_genesis_load(&n->genesis, n->cfg.genesis, err, err_size);
	if (rv != 0)
		goto fail;
	rv = ensure_dir(n->cfg.data_dir, err, err_size);
	if (rv != 0)
		goto fail;
	rv = open_ledger(n, err, err_size);
	if (rv != 0)
		goto fail;
	n->test_hold_sync = getenv("LOYD_TEST_HOLD_SYNC") != NULL;
	if (n->test_hold_sync)
		LOG_WARN(&n->log, "node",
			 "test failpoint LOYD_TEST_HOLD_SYNC: asynchronous "
			 "flushes reach the disk only at the next commit");
	ml.max_txs = n->cfg.mempool_max_txs;
	ml.max_bytes = (size_t)n->cfg.mempool_max_txs * 1024u;
	ml.max_per_signer = n->cfg.mempool_max_per_signer;
	rv = loy_mempool_new(&n->mempool, &ml);
	if (rv == 0)
		rv = loy_vcache_init(&n->verified, 1u << 18);
	if (rv != 0) {
		snprintf(err, err_size, "mempool: out of memory");
		goto fail;
	}
	loy_reach_init(&n->reach, loy_node_now_ms());
	loy_timing_init(&n->timing);
	loy_serve_limit_init(&n->serving, SERVE_PER_PEER);
	loy_serve_limit_init(&n->asked, ASKED_PER_PEER);
	loy_serve_limit_init(&n->gossiping, GOSSIP_KIB_PER_PEER);
	rv = start_consensus(n, err, err_size);
	if (rv != 0)
		goto fail;
	uv_timer_init(loop, &n->timer);
	n->timer.data = n;
	n->open_handles++;
	uv_timer_init(loop, &n->group_timer);
	n->group_timer.data = n;
	n->open_handles++;
	uv_timer_init(loop, &n->mem_timer);
	n->mem_timer.data = n;
	n->open_handles++;
	loy_node_mem_sample(n);
	uv_timer_start(&n->mem_timer, on_mem_timer, MEM_SAMPLE_MS,
		       MEM_SAMPLE_MS);
	n->visible_height = n->tip_height;
	rv = loy_worker_start(loop, &n->worker, "loyd-ledger");
	if (rv != 0) {
		snprintf(err, err_size, "cannot start the ledger thread: %s",
			 uv_strerror(rv));
		rv = LOY_ENOMEM;
		goto fail_timer;
	}
	n->worker.after = worker_after;
	n->worker.data = n;
	n->worker_started = true;
	rv = loy_worker_start_pool(loop, &n->verifier, "loyd-verify",
				   (unsigned)uv_available_parallelism(),
				   VERIFIER_NICE);
	if (rv != 0) {
		snprintf(err, err_size,
			 "cannot start the signature threads: %s",
			 uv_strerror(rv));
		rv = LOY_ENOMEM;
		goto fail_timer;
	}
	n->verifier.after = worker_after;
	n->verifier.data = n;
	n->verifier_started = true;
	rv = start_peers(n, err, err_size);
	if (rv != 0)
		goto fail_timer;
	rv = loy_client_api_start(n, &n->api, err, err_size);
	if (rv != 0)
		goto fail_timer;

	loy_id_from_pubkey(id, n->pk);
	loy_id_format(idstr, id);
	LOG_INFO(&n->log, "node",
		 "started: chain %s, member %s, height %llu, peers on %s, "
		 "clients on %s",
		 n->genesis.chain_id, idstr, (unsigned long long)n->tip_height,
		 n->cfg.peer_listen, n->cfg.client_listen);
	*out = n;
	loy_node_cons_event(n, &ev);
	return 0;

fail_timer:
	/* Handles are open: close them through the normal path (the caller
	 * keeps running the loop; on_stopped is not called for a failed
	 * start). */
	n->on_stopped = NULL;
	loy_node_stop(n, 1);
	return rv ? rv : LOY_EIO;
fail:
	loy_wipe(n->sk, sizeof n->sk);
	if (n->cons)
		loy_cons_free(n->cons);
	if (n->mempool)
		loy_mempool_free(n->mempool);
	loy_vcache_free(&n->verified);
	if (n->ledger)
		loy_ledger_close(n->ledger);
	free(n);
	return rv ? rv : LOY_EIO;
}

static void handle_closed(uv_handle_t *h)
{
	struct loy_node *n = h->data;
	n->open_handles--;
	maybe_finish(n);
}

static void sub_closed(void *data)
{
	struct loy_node *n = data;
	n->open_handles--;
	maybe_finish(n);
}

static void maybe_finish(struct loy_node *n)
{
	void (*done)(void *, int);
	void *data;
	int code;

	if (n->persist_busy || n->pool_jobs > 0)
		return;
	if (n->verifier_started) {
		if (n->verifier.pending > 0)
			return;
		n->verifier_started = false;
		n->open_handles++;
		loy_worker_stop(&n->verifier, handle_closed, n);
		return;
	}
	if (n->worker_started) {
		/* the ledger's queued jobs finish first; then its thread ends
		 */
		if (n->worker.pending > 0)
			return;
		if (!n->final_flush) {
			/* the ledger's group to data.mdb, so that the next
			 * start has no block log to apply */
			n->final_flush = true;
			n->flush_queued = false;
			loy_node_flush_soon(n);
			if (n->worker.pending > 0)
				return;
		}
		n->worker_started = false;
		n->open_handles++;
		loy_worker_stop(&n->worker, handle_closed, n);
		return;
	}
	if (n->open_handles > 0)
		return;
	done = n->on_stopped;
	data = n->stop_data;
	code = n->exit_code;
	if (n->persist_pending)
		loy_persist_copy_free(&n->persist_next);
	loy_persist_close(n->persist_file);
	loy_node_staged_free(n->staged);
	loy_cons_free(n->cons);
	loy_mempool_free(n->mempool);
	loy_vcache_free(&n->verified);
	loy_ledger_close(n->ledger);
	loy_wipe(n->sk, sizeof n->sk);
	LOG_INFO(&n->log, "node", "stopped");
	free(n);
	if (done)
		done(data, code);
}

void loy_node_stop(struct loy_node *n, int exit_code)
{
	if (n->stopping) {
		if (exit_code > n->exit_code)
			n->exit_code = exit_code;
		return;
	}
	LOG_INFO(&n->log, "node", "stopping");
	n->stopping = true;
	n->exit_code = exit_code;
	uv_timer_stop(&n->timer);
	uv_close((uv_handle_t *)&n->timer, handle_closed);
	uv_timer_stop(&n->group_timer);
	uv_close((uv_handle_t *)&n->group_timer, handle_closed);
	uv_timer_stop(&n->mem_timer);
	uv_close((uv_handle_t *)&n->mem_timer, handle_closed);
	if (n->net) {
		n->open_handles++;
		loy_peer_net_close(n->net, sub_closed, n);
		n->net = NULL;
	}
	if (n->api) {
		n->open_handles++;
		loy_client_api_close(n->api, sub_closed, n);
		n->api = NULL;
	}
}
