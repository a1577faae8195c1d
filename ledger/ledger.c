/* Opening and closing the store, genesis, the tip and validator sets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ledger/internal.h"
#include "wire/error.h"

static const char *const reject_names[LOY_REJ_MAX + 1] = {
    [LOY_REJ_OK] = "ok",
    [LOY_REJ_MALFORMED] = "malformed",
    [LOY_REJ_WRONG_CHAIN] = "wrong_chain",
    [LOY_REJ_BAD_SIGNATURE] = "bad_signature",
    [LOY_REJ_BAD_NONCE] = "bad_nonce",
    [LOY_REJ_NOT_AUTHORIZED] = "not_authorized",
    [LOY_REJ_ALREADY_REGISTERED] = "already_registered",
    [LOY_REJ_UNKNOWN_CUSTOMER] = "unknown_customer",
    [LOY_REJ_UNKNOWN_MEMBER] = "unknown_member",
    [LOY_REJ_UNKNOWN_TERMINAL] = "unknown_terminal",
    [LOY_REJ_DUPLICATE_REFERENCE] = "duplicate_reference",
    [LOY_REJ_ZERO_AMOUNT] = "zero_amount",
    [LOY_REJ_OVERFLOW] = "overflow",
    [LOY_REJ_INSUFFICIENT_POINTS] = "insufficient_points",
    [LOY_REJ_NO_RULE] = "no_rule",
    [LOY_REJ_BELOW_MINIMUM] = "below_minimum",
    [LOY_REJ_OUTSIDE_WINDOW] = "outside_window",
    [LOY_REJ_NO_POINTS] = "no_points",
    [LOY_REJ_UNKNOWN_PARTNERSHIP] = "unknown_partnership",
    [LOY_REJ_NOT_PARTNER] = "not_partner",
    [LOY_REJ_PARTNERSHIP_EXISTS] = "partnership_exists",
    [LOY_REJ_ALREADY_PARTNER] = "already_partner",
    [LOY_REJ_UNKNOWN_ISSUE] = "unknown_issue",
    [LOY_REJ_ALREADY_REVERSED] = "already_reversed",
    [LOY_REJ_POINTS_SPENT] = "points_spent",
    [LOY_REJ_UNKNOWN_COUPON] = "unknown_coupon",
    [LOY_REJ_COUPON_USED] = "coupon_used",
    [LOY_REJ_NOT_HOLDER] = "not_holder",
    [LOY_REJ_OUTSIDE_GEOFENCE] = "outside_geofence",
    [LOY_REJ_WRONG_SITE] = "wrong_site",
    [LOY_REJ_COUPON_LIMIT] = "coupon_limit",
    [LOY_REJ_UNKNOWN_PROPOSAL] = "unknown_proposal",
    [LOY_REJ_ALREADY_VOTED] = "already_voted",
    [LOY_REJ_PROPOSAL_CLOSED] = "proposal_closed",
    [LOY_REJ_MEMBER_EXISTS] = "member_exists",
    [LOY_REJ_UNKNOWN_SETTLEMENT] = "unknown_settlement",
    [LOY_REJ_SETTLEMENT_MISMATCH] = "settlement_mismatch",
    [LOY_REJ_EXCEEDS_POSITION] = "exceeds_position",
    [LOY_REJ_INVALID_PARAM] = "invalid_param",
    [LOY_REJ_TOO_MANY_VALIDATORS] = "too_many_validators",
    [LOY_REJ_TERMINAL_EXISTS] = "terminal_exists",
    [LOY_REJ_MISSING_REFERENCE] = "missing_reference",
};

const char *loy_reject_name(unsigned code)
{
	if (code > LOY_REJ_MAX || !reject_names[code])
		return "unknown";
	return reject_names[code];
}

/* LMDB maps data.mdb and trusts it: a file cut short makes a later read
 * fault (SIGBUS). Refuse a file that ends before its last used page. */
static int check_file_size(MDB_env *env, const char *path, char *errmsg,
			   size_t errlen)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fs;
	char file[4096];
	unsigned long long need;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &st) != 0)
		return 0;
	if ((size_t)snprintf(file, sizeof file, "%s/data.mdb", path) >=
		sizeof file ||
	    stat(file, &fs) != 0)
		return 0;
	need = ((unsigned long long)info.me_last_pgno + 1) * st.ms_psize;
	if ((unsigned long long)fs.st_size >= need)
		return 0;
	if (errmsg && errlen)
		snprintf(
		    errmsg, errlen,
		    "%s: data.mdb is truncated (%lld bytes, but its pages "
		    "run to %llu): the store is damaged; move the data "
		    "directory away and let the node resync from its peers",
		    path, (long long)fs.st_size, need);
	return LOY_ECORRUPT;
}

/* The tip block must still match the tip record, and the records at both
 * ends of every table must pass their tags: a damaged store is refused at
 * open rather than served. (Every other record is checked when read.) */
static int check_tip(struct loy_ledger *l, MDB_txn *txn, char *why, size_t n)
{
	struct ldg_txn t = {.l = l, .txn = txn};
	MDB_val v, vb;
	struct loy_block b;
	uint8_t key[8], hash[LOY_HASH_SIZE], root[LOY_HASH_SIZE];
	const uint8_t *p;
	uint64_t height;
	int ok, rc;

	if (!l->have_genesis)
		return 0;
	rc = ldg_check_ends(&t);
	if (rc == 0)
		rc = ldg_get(&t, LDB_META, "tip", 3, &v);
	if (rc == LOY_ENOTFOUND)
		return 0;
	if (rc != 0) {
		snprintf(why, n, "%s",
			 loy_ledger_damage(l) ? loy_ledger_damage(l)
					      : loy_strerror(rc));
		return rc;
	}
	if (v.mv_size != 80) {
		snprintf(why, n, "damaged tip record");
		return LOY_ECORRUPT;
	}
	p = v.mv_data;
	height = be64get(p);
	if (height == 0)
		return 0;
	be64put(key, height);
	rc = ldg_get(&t, LDB_BLOCKS, key, 8, &vb);
	if (rc != 0 && rc != LOY_ENOTFOUND && loy_ledger_damage(l)) {
		snprintf(why, n, "%s", loy_ledger_damage(l));
		return LOY_ECORRUPT;
	}
	if (rc != 0 || loy_block_decode(&b, vb.mv_data, vb.mv_size) != 0) {
		snprintf(
		    why, n,
		    "the tip block %llu is missing or does not decode: "
		    "the store is damaged; move the data directory away and "
		    "let the node resync from its peers",
		    (unsigned long long)height);
		return LOY_ECORRUPT;
	}
	loy_tx_root(root, b.txs, b.tx_count);
	ok = loy_block_header_hash(&b.header, hash) == 0 &&
	     memcmp(hash, p + 8, LOY_HASH_SIZE) == 0 &&
	     memcmp(root, b.header.tx_root, LOY_HASH_SIZE) == 0 &&
	     memcmp(b.header.state_root, p + 40, LOY_HASH_SIZE) == 0 &&
	     b.header.height == height;
	loy_block_free(&b);
	if (!ok) {
		snprintf(
		    why, n,
		    "the tip block %llu does not match its hash, "
		    "transaction root or state root: the store is damaged; "
		    "move the data directory away and let the node resync "
		    "from its peers",
		    (unsigned long long)height);
		return LOY_ECORRUPT;
	}
	return 0;
}

/* The store format marker: schema u32 and its tag (a schema 1 store has
 * no tags at all, so its 4-byte marker is read without one). */
static int check_schema(struct loy_ledger *l, MDB_txn *txn, bool rdonly,
			char *why, size_t n)
{
	struct ldg_txn t = {.l = l, .txn = txn};
	MDB_val k = {6, "schema"}, v;
	uint8_t b[4];
	int mrc = mdb_get(txn, l->dbi[LDB_META], &k, &v), rc;

	if (mrc == MDB_NOTFOUND) {
		MDB_stat st;
		/* a fresh store gets the marker; one that has records but no
		 * marker is not ours, or lost it */
		if (mdb_stat(txn, l->dbi[LDB_META], &st) == 0 &&
		    st.ms_entries > 0) {
			snprintf(why, n,
				 "data.mdb damaged: the store has no format "
				 "marker; " LDG_DAMAGE_FIX);
			return LOY_ECORRUPT;
		}
		if (rdonly)
			return 0;
		be32put(b, LDG_SCHEMA);
		return ldg_put(&t, LDB_META, "schema", 6, b, 4);
	}
	if (mrc != 0) {
		rc = ldg_read_err(l, LDB_META, "schema", 6, mrc);
		snprintf(why, n, "%s",
			 loy_ledger_damage(l) ? loy_ledger_damage(l)
					      : mdb_strerror(mrc));
		return rc;
	}
	if (v.mv_size == 4) {
		snprintf(why, n,
			 "the store has format %u (written by an older loyd, "
			 "without integrity tags); this loyd needs format "
			 "%u: move the data directory away and let the node "
			 "resync from its peers",
			 be32get(v.mv_data), LDG_SCHEMA);
		return LOY_ECORRUPT;
	}
	rc = ldg_get(&t, LDB_META, "schema", 6, &v);
	if (rc != 0) {
		snprintf(why, n, "%s",
			 loy_ledger_damage(l) ? loy_ledger_damage(l)
					      : loy_strerror(rc));
		return rc;
	}
	if (v.mv_size != 4 || be32get(v.mv_data) != LDG_SCHEMA) {
		snprintf(why, n,
			 "the store has format %u; this loyd needs format %u: "
			 "move the data directory away and let the node "
			 "resync from its peers",
			 v.mv_size == 4 ? be32get(v.mv_data) : 0, LDG_SCHEMA);
		return LOY_ECORRUPT;
	}
	return 0;
}

static void set_err(char *errmsg, size_t errlen, const char *path,
		    const char *detail)
{
	if (errmsg && errlen)
		snprintf(errmsg, errlen, "ledger: open %s: %s", path, detail);
}

int loy_ledger_open(const char *path, unsigned flags, uint64_t mapsize,
		    struct loy_ledger **out, char *errmsg, size_t errlen)
{
	struct loy_ledger *l;
	MDB_txn *txn;
	unsigned envflags = MDB_NOTLS;
	int rc, mrc;

	*out = NULL;
	l = calloc(1, sizeof *l);
	if (!l) {
		set_err(errmsg, errlen, path, "out of memory");
		return LOY_ENOMEM;
	}
	l->flags = flags;
	l->group.log_fd = -1;
	l->group.spare_fd = -1;
	l->ckpt.fd = -1;
	pthread_mutex_init(&l->hist.lock, NULL);
	pthread_mutex_init(&l->ckpt.lock, NULL);
	l->path = strdup(path);
	if (l->path == NULL) {
		free(l);
		set_err(errmsg, errlen, path, "out of memory");
		return LOY_ENOMEM;
	}
	if (flags & LOY_LEDGER_RDONLY)
		envflags |= MDB_RDONLY;
	if (flags & LOY_LEDGER_NOSYNC)
		envflags |= MDB_NOSYNC;
	mrc = mdb_env_create(&l->env);
	if (mrc != 0)
		goto fail_env;
	if (!mapsize)
		mapsize = LOY_LEDGER_MAPSIZE_DEFAULT;
	mrc = mdb_env_set_mapsize(l->env, (size_t)mapsize);
	if (mrc == 0)
		mrc = mdb_env_set_maxdbs(l->env, LDB_COUNT + 2);
	if (mrc == 0)
		mrc = mdb_env_set_maxreaders(l->env, 256);
	if (mrc == 0) {
		char why[512];
		rc = ldg_ckpt_open(l, (flags & LOY_LEDGER_RDONLY) != 0, why,
				   sizeof why);
		if (rc != 0) {
			set_err(errmsg, errlen, path, why);
			goto fail;
		}
		mrc = mdb_env_open(l->env, path, envflags, 0600);
	}
	if (mrc != 0)
		goto fail_open;
	rc = check_file_size(l->env, path, errmsg, errlen);
	if (rc != 0)
		goto fail;
	mrc = mdb_txn_begin(l->env, NULL,
			    (flags & LOY_LEDGER_RDONLY) ? MDB_RDONLY : 0, &txn);
	if (mrc != 0)
		goto fail_open;
	for (int i = 0; i < LDB_COUNT; i++) {
		unsigned f = (flags & LOY_LEDGER_RDONLY) ? 0 : MDB_CREATE;
		mrc = mdb_dbi_open(txn, ldg_db_names[i], f, &l->dbi[i]);
		if (mrc != 0) {
			mdb_txn_abort(txn);
			goto fail_open;
		}
	}
	{
		char why[512];
		rc = check_schema(l, txn, (flags & LOY_LEDGER_RDONLY) != 0, why,
				  sizeof why);
		if (rc == 0) {
			rc = ldg_load_params(l, txn);
			if (rc == LOY_ENOTFOUND)
				rc = 0;
			else if (rc != 0)
				snprintf(why, sizeof why, "%s",
					 loy_ledger_damage(l)
					     ? loy_ledger_damage(l)
					     : "damaged chain parameters");
		}
		if (rc == 0)
			rc = check_tip(l, txn, why, sizeof why);
		if (rc != 0) {
			mdb_txn_abort(txn);
			set_err(errmsg, errlen, path, why);
			goto fail;
		}
	}
	mrc = mdb_txn_commit(txn);
	if (mrc != 0)
		goto fail_open;
	if (!(flags & LOY_LEDGER_RDONLY) && ldg_ckpt_opened(l) != 0) {
		set_err(errmsg, errlen, path, l->errmsg);
		rc = LOY_EIO;
		goto fail;
	}
	*out = l;
	return 0;

fail_open:
	rc = ldg_mdb_err(mrc);
	if (rc == LOY_ENOTFOUND || mrc == EACCES || mrc == ENOENT)
		rc = LOY_EIO;
	if (rc == LOY_ECORRUPT && errmsg && errlen)
		snprintf(
		    errmsg, errlen,
		    "ledger: open %s: data.mdb damaged: %s; " LDG_DAMAGE_FIX,
		    path, mdb_strerror(mrc));
	else
		set_err(errmsg, errlen, path, mdb_strerror(mrc));
	goto fail;
fail_env:
	rc = LOY_ENOMEM;
	set_err(errmsg, errlen, path, mdb_strerror(mrc));
fail:
	ldg_ckpt_close(l);
	if (l->env)
		mdb_env_close(l->env);
	pthread_mutex_destroy(&l->hist.lock);
	pthread_mutex_destroy(&l->ckpt.lock);
	free(l->path);
	free(l);
	return rc;
}

void loy_ledger_close(struct loy_ledger *l)
{
	if (!l)
		return;
	ldg_stage_drop(l);
	if (l->group.txn != NULL) {
		/* On the writer thread it is committed; elsewhere it is
		 * dropped and the block log still holds its blocks. */
		if (ldg_reads_group(l)) {
			if (loy_ledger_flush(l) != 0)
				l->group.txn = NULL; /* the log has it */
		} else
			mdb_txn_abort(l->group.txn);
		l->group.txn = NULL;
	}
	/* an asynchronous flush whose sync has not run yet: on failure the
	 * block log still holds its blocks */
	if (!(l->flags & LOY_LEDGER_RDONLY) && loy_ledger_checkpoint(l) != 0)
		l->errmsg[0] = '\0';
	ldg_log_close(l);
	ldg_ckpt_close(l);
	ldg_hist_close(l);
	pthread_mutex_destroy(&l->hist.lock);
	pthread_mutex_destroy(&l->ckpt.lock);
	mdb_env_close(l->env);
	ldg_wc_free(l->wc);
	free(l->path);
	free(l);
}

bool ldg_reads_group(const struct loy_ledger *l)
{
	return atomic_load(&((struct loy_ledger *)l)->writer_known) &&
	       pthread_equal(pthread_self(), l->writer);
}

int ldg_rbegin(struct loy_ledger *l, struct ldg_txn *t)
{
	t->l = l;
	t->ws = NULL;
	t->wc = NULL;
	t->borrowed = false;
	if (ldg_reads_group(l) && l->group.txn != NULL && l->group.blocks > 0) {
		ldg_stage_drop(l);
		t->txn = l->group.txn;
		t->borrowed = true;
		return 0;
	}
	return ldg_mdb_err(mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t->txn));
}

void ldg_rend(struct ldg_txn *t)
{
	if (!t->borrowed && t->txn != NULL)
		mdb_txn_abort(t->txn);
	t->txn = NULL;
}

int ldg_commit(struct loy_ledger *l, MDB_txn *txn, bool nosync, bool *durable)
{
	int mrc;

	/* an asynchronous flush first reaches the disk (checkpoint.c) */
	if (ldg_ckpt_before_commit(l) != 0) {
		mdb_txn_abort(txn);
		return EIO;
	}
	if (nosync && !(l->flags & LOY_LEDGER_NOSYNC) &&
	    mdb_env_set_flags(l->env, MDB_NOSYNC, 1) == 0) {
		mrc = mdb_txn_commit(txn);
		(void)mdb_env_set_flags(l->env, MDB_NOSYNC, 0);
	} else {
		nosync = false;
		mrc = mdb_txn_commit(txn);
	}
	if (durable)
		*durable = !nosync;
	if (mrc == 0 && ldg_ckpt_after_commit(l, !nosync) != 0)
		return EIO;
	return mrc;
}

/* Commits the group, durably unless nosync; only a durable commit empties
 * the block log (nosync is only asked for groups with none of its blocks in
 * it, but the log may still hold blocks of an earlier group whose durable
 * commit failed). */
static int group_commit(struct loy_ledger *l, bool nosync, bool *durable)
{
	bool synced = true;
	int mrc;

	if (l->group.txn == NULL)
		return 0;
	ldg_stage_drop(l);
	mrc = ldg_commit(l, l->group.txn, nosync, &synced);
	l->group.txn = NULL;
	l->group.blocks = 0;
	l->group.txs = 0;
	l->group.unlogged = false;
	l->group.logged = 0;
	if (mrc != 0)
		return ldg_fail(l, ldg_mdb_err(mrc), "ledger: flush: %s",
				mdb_strerror(mrc));
	if (durable)
		*durable = synced;
	if (synced)
		ldg_log_reset(l);
	return 0;
}

int loy_ledger_flush(struct loy_ledger *l)
{
	return group_commit(l, false, NULL);
}

int ldg_group_commit(struct loy_ledger *l, bool nosync)
{
	bool durable;
	return group_commit(l, nosync, &durable);
}

bool loy_ledger_group_unlogged_only(const struct loy_ledger *l)
{
	return l->group.txn != NULL && l->group.blocks > 0 &&
	       l->group.unlogged && l->group.logged == 0;
}

int loy_ledger_flush_unsynced(struct loy_ledger *l, bool *durable)
{
	*durable = true;
	return group_commit(l, loy_ledger_group_unlogged_only(l), durable);
}

void loy_ledger_group_size(const struct loy_ledger *l, uint32_t *blocks,
			   uint32_t *txs, uint64_t *writes)
{
	*blocks = l->group.txn ? l->group.blocks : 0;
	*txs = l->group.txn ? l->group.txs : 0;
	if (writes)
		*writes = l->group.txn ? l->writes - l->group.writes0 : 0;
}

const char *loy_ledger_errmsg(const struct loy_ledger *l)
{
	return l->errmsg;
}

bool loy_ledger_halted(const struct loy_ledger *l)
{
	return l->halted;
}

const char *loy_ledger_chain_id(const struct loy_ledger *l)
{
	return l->chain_id;
}

static int genesis_check(const struct loy_genesis *g, char *why, size_t n)
{
	size_t cl = strnlen(g->chain_id, sizeof g->chain_id);
	if (cl == 0 || cl > LOY_CHAIN_ID_MAX)
		return snprintf(why, n, "bad chain id"), LOY_EINVAL;
	if (g->commission_bps > 10000)
		return snprintf(why, n, "commission over 10000 bps"),
		       LOY_EINVAL;
	if (g->member_count == 0 || g->member_count > LOY_MAX_VALIDATORS)
		return snprintf(why, n, "member count %u out of range",
				g->member_count),
		       LOY_EINVAL;
	for (uint32_t i = 0; i < g->member_count; i++) {
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(g->members[i].pubkey, g->members[j].pubkey,
				    LOY_PUBKEY_SIZE))
				return snprintf(why, n,
						"member %u repeats a key", i),
				       LOY_EINVAL;
		if (!g->members[i].name[0])
			return snprintf(why, n, "member %u has no name", i),
			       LOY_EINVAL;
	}
	return 0;
}

int loy_ledger_init_genesis(struct loy_ledger *l, const struct loy_genesis *g)
{
	struct ldg_ws ws;
	struct ldg_txn t = {.l = l, .ws = &ws};
	uint8_t zero[LOY_HASH_SIZE] = {0}, root[LOY_HASH_SIZE];
	uint8_t gh[LOY_HASH_SIZE], params[LOY_CHAIN_ID_MAX + 1 + 8 + 4 + 8];
	uint8_t tip[8 + 32 + 32 + 8];
	char why[128];
	int rc, mrc;

	if (l->flags & LOY_LEDGER_RDONLY)
		return ldg_fail(l, LOY_ESTATE, "ledger: genesis: read-only");
	if (l->have_genesis)
		return ldg_fail(l, LOY_ESTATE,
				"ledger: genesis: store already initialised");
	rc = genesis_check(g, why, sizeof why);
	if (rc != 0)
		return ldg_fail(l, rc, "ledger: genesis: %s", why);
	ldg_ws_init(&ws);
	mrc = mdb_txn_begin(l->env, NULL, 0, &t.txn);
	if (mrc != 0) {
		ldg_ws_free(&ws);
		return ldg_fail(l, ldg_mdb_err(mrc), "ledger: genesis: %s",
				mdb_strerror(mrc));
	}
	memset(params, 0, sizeof params);
	memcpy(params, g->chain_id, strnlen(g->chain_id, LOY_CHAIN_ID_MAX));
	be64put(params + LOY_CHAIN_ID_MAX + 1, g->time_ms);
	be32put(params + LOY_CHAIN_ID_MAX + 9, g->commission_bps);
	be64put(params + LOY_CHAIN_ID_MAX + 13, g->point_value);
	rc = ldg_put(&t, LDB_PARAMS, "genesis", 7, params, sizeof params);
	for (uint32_t i = 0; rc == 0 && i < g->member_count; i++) {
		const struct loy_genesis_member *gm = &g->members[i];
		struct ldg_member m = {.active = 1};
		struct ldg_account a = {.type = LDG_MEMBER, .active = 1};
		uint8_t id[LOY_ID_SIZE];
		memcpy(m.pubkey, gm->pubkey, LOY_PUBKEY_SIZE);
		snprintf(m.name, sizeof m.name, "%s", gm->name);
		snprintf(m.address, sizeof m.address, "%s", gm->address);
		memcpy(a.pubkey, gm->pubkey, LOY_PUBKEY_SIZE);
		loy_id_from_pubkey(id, gm->pubkey);
		rc = ldg_member_put(&t, id, &m);
		if (rc == 0)
			rc = ldg_account_put(&t, id, &a);
	}
	if (rc == 0) {
		struct ldg_totals tt = {0};
		rc = ldg_totals_put(&t, &tt);
	}
	if (rc == 0)
		rc = ldg_valset_write(&t, 0);
	if (rc == 0)
		rc = ldg_state_root(&ws, 0, zero, root);
	if (rc != 0)
		goto abort;
	loy_hash2(gh, "loy/genesis/v1", 14, root, sizeof root);
	be64put(tip, 0);
	memcpy(tip + 8, gh, 32);
	memcpy(tip + 40, root, 32);
	be64put(tip + 72, g->time_ms);
	rc = ldg_put(&t, LDB_META, "tip", 3, tip, sizeof tip);
	if (rc == 0)
		rc = ldg_put(&t, LDB_META, "genesis_hash", 12, gh, sizeof gh);
	if (rc != 0)
		goto abort;
	mrc = mdb_txn_commit(t.txn);
	ldg_ws_free(&ws);
	if (mrc != 0)
		return ldg_fail(l, ldg_mdb_err(mrc),
				"ledger: genesis: commit: %s",
				mdb_strerror(mrc));
	snprintf(l->chain_id, sizeof l->chain_id, "%s", g->chain_id);
	l->commission_bps = g->commission_bps;
	l->point_value = g->point_value;
	memcpy(l->genesis_hash, gh, sizeof gh);
	l->have_genesis = true;
	return 0;

abort:
	mdb_txn_abort(t.txn);
	ldg_ws_free(&ws);
	return ldg_fail(l, rc, "ledger: genesis: %s", loy_strerror(rc));
}

int loy_ledger_genesis_hash(struct loy_ledger *l, uint8_t out[LOY_HASH_SIZE])
{
	if (!l->have_genesis)
		return LOY_ENOTFOUND;
	memcpy(out, l->genesis_hash, LOY_HASH_SIZE);
	return 0;
}

int loy_ledger_tip(struct loy_ledger *l, uint64_t *height,
		   uint8_t hash[LOY_HASH_SIZE],
		   uint8_t state_root[LOY_HASH_SIZE], uint64_t *time_ms)
{
	struct ldg_txn t = {.l = l};
	MDB_val v;
	int rc;

	if (ldg_reads_group(l) && l->group.txn != NULL && l->group.blocks > 0) {
		/* the group's tip, kept: its transaction may have a child */
		if (height)
			*height = l->group.height;
		if (hash)
			memcpy(hash, l->group.hash, 32);
		if (state_root)
			memcpy(state_root, l->group.root, 32);
		if (time_ms)
			*time_ms = l->group.time_ms;
		return 0;
	}
	rc = ldg_rbegin(l, &t);
	if (rc != 0)
		return rc;
	rc = ldg_get(&t, LDB_META, "tip", 3, &v);
	if (rc == 0 && v.mv_size != 80)
		rc = ldg_damaged(l, LDB_META, "tip", 3, "has the wrong size");
	if (rc != 0) {
		ldg_rend(&t);
		return rc;
	}
	const uint8_t *p = v.mv_data;
	if (height)
		*height = be64get(p);
	if (hash)
		memcpy(hash, p + 8, 32);
	if (state_root)
		memcpy(state_root, p + 40, 32);
	if (time_ms)
		*time_ms = be64get(p + 72);
	ldg_rend(&t);
	return 0;
}

const char *loy_ledger_damage(const struct loy_ledger *l)
{
	/* the cast: atomic_load takes a non-const pointer in C11 */
	if (atomic_load((atomic_int *)&l->damage_state) != 2)
		return NULL;
	return l->damage;
}

/* LMDB's free-page list, which no read ever looks at: the next write
 * takes its pages. A damaged page number there hands out a page past the
 * file (the write fails with EFBIG long after the node started) or one in
 * use (silent damage). Each entry (key: the freeing transaction's id) is a
 * count and then that many page numbers, strictly descending, between the
 * two meta pages and the last page in use; this is the layout LMDB's
 * mdb_stat -f reads. */
static int verify_free_list(struct loy_ledger *l, MDB_txn *txn)
{
	MDB_envinfo info;
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = 0;

	if (mdb_env_info(l->env, &info) != 0 ||
	    mdb_cursor_open(txn, 0 /* LMDB's FREE_DBI */, &c) != 0)
		return LOY_EIO;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t n, id = 0, prev = SIZE_MAX;
		if (k.mv_size == sizeof id)
			memcpy(&id, k.mv_data, sizeof id);
		if (k.mv_size != sizeof id || v.mv_size < sizeof n) {
			rc = ldg_damaged_free(l, id, "has a malformed entry");
			break;
		}
		memcpy(&n, v.mv_data, sizeof n);
		if (n > v.mv_size / sizeof n - 1 ||
		    v.mv_size != (n + 1) * sizeof n) {
			rc = ldg_damaged_free(
			    l, id, "counts more pages than it holds");
			break;
		}
		for (size_t i = 1; i <= n && rc == 0; i++) {
			size_t pg;
			memcpy(&pg, (const uint8_t *)v.mv_data + i * sizeof pg,
			       sizeof pg);
			if (pg < 2 || pg > info.me_last_pgno)
				rc = ldg_damaged_free(
				    l, id, "names a page outside the file");
			else if (pg >= prev)
				rc = ldg_damaged_free(l, id, "is out of order");
			prev = pg;
		}
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = ldg_read_err(l, LDB_META, NULL, 0, mrc);
	return rc;
}

int loy_ledger_verify_store(struct loy_ledger *l, char *errmsg, size_t errlen)
{
	struct ldg_txn t = {.l = l};
	int rc = ldg_mdb_err(mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t.txn));

	for (int i = 0; rc == 0 && i < LDB_COUNT; i++) {
		enum ldb db = (enum ldb)i;
		MDB_cursor *c;
		MDB_val k, v;
		MDB_val prev = {0, NULL};
		MDB_stat st;
		size_t n = 0;
		rc = ldg_cursor_open(&t, db, &c);
		if (rc != 0)
			break;
		for (rc = ldg_cursor_get(&t, db, c, &k, &v, MDB_FIRST); rc == 0;
		     rc = ldg_cursor_get(&t, db, c, &k, &v, MDB_NEXT)) {
			/* a damaged node pointer shows a record in the wrong
			 * place (its tag is fine): keys must rise strictly */
			if (n > 0 &&
			    ldg_key_cmp(&prev, k.mv_data, k.mv_size) >= 0) {
				rc =
				    ldg_damaged(l, db, k.mv_data, k.mv_size,
						"is out of order in its table");
				break;
			}
			prev = k;
			n++;
		}
		mdb_cursor_close(c);
		if (rc == LOY_ENOTFOUND)
			rc = 0;
		/* a damaged page header can hide records whose tags are fine;
		 * LMDB's own count of the table tells */
		if (rc == 0 && mdb_stat(t.txn, l->dbi[db], &st) == 0 &&
		    st.ms_entries != n)
			rc = ldg_damaged_count(l, db, st.ms_entries, n);
	}
	if (rc == 0)
		rc = verify_free_list(l, t.txn);
	if (t.txn)
		mdb_txn_abort(t.txn);
	if (rc != 0 && errmsg && errlen)
		snprintf(errmsg, errlen, "%s",
			 loy_ledger_damage(l) ? loy_ledger_damage(l)
					      : loy_strerror(rc));
	return rc;
}

int loy_ledger_validators(struct loy_ledger *l, uint64_t height,
			  uint8_t keys[][LOY_PUBKEY_SIZE], uint32_t *n)
{
	uint64_t tip;
	int rc = loy_ledger_tip(l, &tip, NULL, NULL, NULL);
	if (rc != 0)
		return rc;
	if (height > tip + 1)
		return LOY_ENOTFOUND;
	struct ldg_txn t;
	rc = ldg_rbegin(l, &t);
	if (rc != 0)
		return rc;
	rc = ldg_valset_read(&t, height, keys, n);
	ldg_rend(&t);
	return rc;
}
