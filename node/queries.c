/* Client queries answered from the ledger on the thread pool (read-only
 * LMDB transactions never block the writer), as JSON. */
#include "node/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/query.h"
#include "ledger/query_kinds.h"
#include "ledger/txjson.h"
#include "wire/client.h"
#include "wire/error.h"
#include "wire/tx.h"

#include "node/json_fmt.h"

typedef void (*reply_fn)(void *data, uint64_t request_id, int code,
			 const char *msg, json_t *payload);

struct query_job {
	struct loy_job job;
	uint64_t request_id;
	struct loy_client_request q;
	uint64_t now_ms;
	int code;
	char msg[LOY_ERRMSG_MAX];
	json_t *payload;
	reply_fn reply;
	void *data;
};

/* Argument getters: fail the job with a clear message on a bad argument. */
static int arg_id(struct query_job *j, uint32_t i, uint8_t id[LOY_ID_SIZE])
{
	const struct loy_client_arg *a = &j->q.query.args[i];
	if (i >= j->q.query.arg_count || a->type != LOY_ARG_BIN ||
	    a->len != LOY_ID_SIZE) {
		snprintf(j->msg, sizeof j->msg,
			 "argument %u must be a 20-byte ID", i + 1);
		return LOY_EINVAL;
	}
	memcpy(id, a->data, LOY_ID_SIZE);
	return 0;
}

static int arg_hash(struct query_job *j, uint32_t i, uint8_t h[LOY_HASH_SIZE])
{
	const struct loy_client_arg *a = &j->q.query.args[i];
	if (i >= j->q.query.arg_count || a->type != LOY_ARG_BIN ||
	    a->len != LOY_HASH_SIZE) {
		snprintf(j->msg, sizeof j->msg,
			 "argument %u must be a 32-byte hash", i + 1);
		return LOY_EINVAL;
	}
	memcpy(h, a->data, LOY_HASH_SIZE);
	return 0;
}

static uint64_t arg_u64(struct query_job *j, uint32_t i, uint64_t dflt)
{
	const struct loy_client_arg *a = &j->q.query.args[i];
	if (i >= j->q.query.arg_count || a->type != LOY_ARG_UINT)
		return dflt;
	return a->u;
}

static int arg_geo(struct query_job *j, uint32_t i, struct loy_geo *g)
{
	int64_t v[2];
	for (uint32_t k = 0; k < 2; k++) {
		const struct loy_client_arg *a = &j->q.query.args[i + k];
		if (i + k >= j->q.query.arg_count)
			return LOY_ENOTFOUND;
		if (a->type == LOY_ARG_UINT && a->u <= 180000000)
			v[k] = (int64_t)a->u;
		else if (a->type == LOY_ARG_INT && a->i >= -180000000)
			v[k] = a->i;
		else {
			snprintf(j->msg, sizeof j->msg,
				 "latitude/longitude must be micro-degrees");
			return LOY_EINVAL;
		}
	}
	if (v[0] < -90000000 || v[0] > 90000000) {
		snprintf(j->msg, sizeof j->msg, "latitude out of range");
		return LOY_EINVAL;
	}
	g->lat_udeg = (int32_t)v[0];
	g->lon_udeg = (int32_t)v[1];
	return 0;
}

static const char *account_type(uint8_t t)
{
	switch (t) {
	case LOY_ACCOUNT_CUSTOMER:
		return "customer";
	case LOY_ACCOUNT_MEMBER:
		return "member";
	case LOY_ACCOUNT_TERMINAL:
		return "terminal";
	default:
		return "none";
	}
}

static json_t *rule_json(const struct loy_rule_info *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "rate_num",
			 u64_json(r->rate_num), "rate_den",
			 u64_json(r->rate_den), "bonus", u64_json(r->bonus),
			 "min_purchase", u64_json(r->min_purchase),
			 "valid_from_ms", u64_json(r->valid_from_ms),
			 "valid_until_ms", u64_json(r->valid_until_ms));
}

static json_t *settlement_json(const struct loy_settlement *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "member", id_json(s->member));
	json_object_set_new(o, "issued", u64_json(s->issued));
	json_object_set_new(o, "reversed", u64_json(s->reversed));
	json_object_set_new(o, "redeemed_at", u64_json(s->redeemed_at));
	json_object_set_new(o, "coupon_owed", u64_json(s->coupon_owed));
	json_object_set_new(o, "coupon_at", u64_json(s->coupon_at));
	json_object_set_new(o, "commission_paid", u64_json(s->commission_paid));
	json_object_set_new(o, "commission_earned",
			    u64_json(s->commission_earned));
	json_object_set_new(o, "paid", u64_json(s->paid));
	json_object_set_new(o, "received", u64_json(s->received));
	json_object_set_new(o, "outstanding", u64_json(s->outstanding));
	json_object_set_new(o, "payable", u64_json(s->owes));
	json_object_set_new(o, "receivable", u64_json(s->owed));
	json_object_set_new(o, "net", json_integer(s->net));
	return o;
}

static json_t *coupon_ref_json(const struct loy_coupon_ref *c)
{
	return json_pack("{s:o, s:I, s:o, s:o, s:o, s:b}", "batch",
			 hex_json(c->batch, LOY_HASH_SIZE), "index",
			 (json_int_t)c->index, "value", u64_json(c->value),
			 "valid_from_ms", u64_json(c->valid_from_ms),
			 "valid_until_ms", u64_json(c->valid_until_ms),
			 "bearer", c->bearer);
}

static int q_members(struct query_job *j, struct loy_ledger *l)
{
	struct loy_member_info *m = calloc(256, sizeof *m);
	uint32_t n = 0;
	int rv;

	if (m == NULL)
		return LOY_ENOMEM;
	rv = loy_ledger_members(l, m, 256, &n);
	if (rv == 0) {
		json_t *arr = json_array();
		for (uint32_t i = 0; i < n; i++)
			json_array_append_new(
			    arr,
			    json_pack("{s:o, s:s, s:o, s:s, s:b, s:o, s:o}",
				      "id", id_json(m[i].id), "name", m[i].name,
				      "validator_key",
				      hex_json(m[i].pubkey, LOY_PUBKEY_SIZE),
				      "address", m[i].address, "active",
				      m[i].active, "admitted",
				      u64_json(m[i].admitted), "removed",
				      u64_json(m[i].removed)));
		j->payload = json_pack("{s:o}", "members", arr);
	}
	free(m);
	return rv;
}

static int q_settlement(struct query_job *j, struct loy_ledger *l)
{
	struct loy_settlement s;
	uint8_t id[LOY_ID_SIZE];
	int rv;

	if (j->q.query.arg_count >= 1) {
		if ((rv = arg_id(j, 0, id)) != 0)
			return rv;
		if ((rv = loy_ledger_settlement(l, id, &s)) != 0)
			return rv;
		j->payload =
		    json_pack("{s:[o]}", "settlement", settlement_json(&s));
		return 0;
	}
	{
		struct loy_member_info *m = calloc(256, sizeof *m);
		uint32_t n = 0;
		json_t *arr = json_array();
		if (m == NULL)
			return LOY_ENOMEM;
		rv = loy_ledger_members(l, m, 256, &n);
		for (uint32_t i = 0; rv == 0 && i < n; i++) {
			rv = loy_ledger_settlement(l, m[i].id, &s);
			if (rv == LOY_ENOTFOUND) {
				rv = 0;
				continue;
			}
			if (rv == 0) {
				json_t *o = settlement_json(&s);
				json_object_set_new(o, "name",
						    json_string(m[i].name));
				json_array_append_new(arr, o);
			}
		}
		free(m);
		if (rv != 0) {
			json_decref(arr);
			return rv;
		}
		j->payload = json_pack("{s:o}", "settlement", arr);
		return 0;
	}
}

static int q_block(struct query_job *j, struct loy_ledger *l)
{
	struct loy_buf b = {0}, c = {0};
	struct loy_block blk;
	json_t *txs;
	int rv = loy_ledger_block(l, arg_u64(j, 0, 0), &b, &c);

	if (rv != 0)
		return rv;
	rv = loy_block_decode(&blk, b.data, b.len);
	if (rv == 0) {
		const struct loy_block_header *h = &blk.header;
		uint8_t hash[LOY_HASH_SIZE];
		struct loy_cert cert;
		if (loy_block_header_hash(h, hash) != 0)
			memset(hash, 0, sizeof hash);
		txs = json_array();
		for (uint32_t i = 0; i < blk.tx_count; i++) {
			uint8_t th[LOY_HASH_SIZE];
			loy_tx_hash(th, blk.txs[i].data, blk.txs[i].len);
			json_array_append_new(txs, hex_json(th, LOY_HASH_SIZE));
		}
		j->payload = json_pack(
		    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "height", u64_json(h->height), "hash",
		    hex_json(hash, LOY_HASH_SIZE), "view", u64_json(h->view),
		    "time_ms", u64_json(h->time_ms), "prev_hash",
		    hex_json(h->prev_hash, LOY_HASH_SIZE), "tx_root",
		    hex_json(h->tx_root, LOY_HASH_SIZE), "state_root",
		    hex_json(h->state_root, LOY_HASH_SIZE), "proposer",
		    hex_json(h->proposer, LOY_PUBKEY_SIZE), "txs", txs, "bytes",
		    u64_json(b.len));
		if (loy_cert_decode(&cert, c.data, c.len) == 0)
			json_object_set_new(j->payload, "commit_signatures",
					    json_integer(cert.sig_count));
		loy_block_free(&blk);
	}
	loy_buf_free(&b);
	loy_buf_free(&c);
	return rv;
}

static int q_tx(struct query_job *j, struct loy_ledger *l)
{
	uint8_t h[LOY_HASH_SIZE];
	struct loy_tx_status st;
	struct loy_buf b = {0};
	struct loy_block blk;
	int rv;

	if ((rv = arg_hash(j, 0, h)) != 0)
		return rv;
	if ((rv = loy_ledger_tx(l, h, &st)) != 0)
		return rv;
	j->payload = json_object();
	/* the transaction's own fields, from its block */
	if (loy_ledger_block(l, st.height, &b, NULL) == 0 &&
	    loy_block_decode(&blk, b.data, b.len) == 0) {
		struct loy_tx tx;
		if (st.position < blk.tx_count &&
		    loy_tx_decode(&tx, blk.txs[st.position].data,
				  blk.txs[st.position].len) == 0) {
			json_decref(j->payload);
			j->payload = loy_tx_json(&tx);
			loy_tx_free(&tx);
		}
		loy_block_free(&blk);
	}
	loy_buf_free(&b);
	json_object_set_new(j->payload, "hash", hex_json(h, LOY_HASH_SIZE));
	json_object_set_new(j->payload, "height", u64_json(st.height));
	json_object_set_new(j->payload, "position", json_integer(st.position));
	json_object_set_new(j->payload, "code", json_integer(st.code));
	json_object_set_new(j->payload, "result",
			    json_string(loy_reject_name(st.code)));
	if (st.code)
		json_object_set_new(j->payload, "message", json_string(st.msg));
	return 0;
}

static int q_history(struct query_job *j, struct loy_ledger *l)
{
	uint8_t id[LOY_ID_SIZE];
	uint64_t cursor = arg_u64(j, 1, 0), limit = arg_u64(j, 2, 20);
	struct loy_history_item *items;
	uint32_t n = 0;
	int rv;

	if ((rv = arg_id(j, 0, id)) != 0)
		return rv;
	if (limit == 0 || limit > 1000)
		limit = 1000;
	items = calloc(limit, sizeof *items);
	if (items == NULL)
		return LOY_ENOMEM;
	rv = loy_ledger_history(l, id, &cursor, items, (uint32_t)limit, &n);
	if (rv == 0 || rv == LOY_ENOTFOUND) {
		json_t *arr = json_array();
		for (uint32_t i = 0; i < n; i++) {
			const char *kind = loy_tx_kind_name(items[i].kind);
			json_array_append_new(
			    arr,
			    json_pack("{s:o, s:I, s:o, s:s, s:I, s:s, s:I}",
				      "height", u64_json(items[i].height),
				      "position", (json_int_t)items[i].position,
				      "tx",
				      hex_json(items[i].hash, LOY_HASH_SIZE),
				      "kind", kind ? kind : "?", "code",
				      (json_int_t)items[i].code, "result",
				      loy_reject_name(items[i].code), "delta",
				      (json_int_t)items[i].delta));
		}
		j->payload = json_pack("{s:o, s:o}", "items", arr,
				       "next_cursor", u64_json(cursor));
		rv = 0;
	}
	free(items);
	return rv;
}

static int q_coupons(struct query_job *j, struct loy_ledger *l, int near_only)
{
	struct loy_coupon_ref *refs = calloc(256, sizeof *refs);
	struct loy_geo g;
	uint8_t id[LOY_ID_SIZE];
	uint32_t n = 0;
	int rv, has_geo;

	if (refs == NULL)
		return LOY_ENOMEM;
	if (near_only) {
		rv = arg_geo(j, 0, &g);
		if (rv == LOY_ENOTFOUND) {
			snprintf(j->msg, sizeof j->msg,
				 "a location is required");
			rv = LOY_EINVAL;
		}
		if (rv == 0)
			rv = loy_ledger_coupons_near(l, g, j->now_ms, refs, 256,
						     &n);
	} else {
		rv = arg_id(j, 0, id);
		has_geo = rv == 0 ? arg_geo(j, 1, &g) : rv;
		if (rv == 0 && has_geo != 0 && has_geo != LOY_ENOTFOUND)
			rv = has_geo;
		if (rv == 0)
			rv = loy_ledger_customer_coupons(
			    l, id, j->now_ms, has_geo == 0 ? &g : NULL, refs,
			    256, &n);
	}
	if (rv == 0 || rv == LOY_ENOTFOUND) {
		json_t *arr = json_array();
		for (uint32_t i = 0; i < n; i++)
			json_array_append_new(arr, coupon_ref_json(&refs[i]));
		j->payload = json_pack("{s:o}", "coupons", arr);
		rv = 0;
	}
	free(refs);
	return rv;
}

static int q_report(struct query_job *j, struct loy_ledger *l)
{
	uint8_t id[LOY_ID_SIZE];
	uint64_t from = arg_u64(j, 1, 0), to = arg_u64(j, 2, UINT32_MAX);
	struct loy_daily *d;
	uint32_t n = 0;
	int rv;

	if ((rv = arg_id(j, 0, id)) != 0)
		return rv;
	if (to > UINT32_MAX)
		to = UINT32_MAX;
	d = calloc(1000, sizeof *d);
	if (d == NULL)
		return LOY_ENOMEM;
	rv = loy_ledger_daily(l, id, (uint32_t)from, (uint32_t)to, d, 1000, &n);
	if (rv == 0 || rv == LOY_ENOTFOUND) {
		json_t *arr = json_array();
		for (uint32_t i = 0; i < n; i++)
			json_array_append_new(
			    arr,
			    json_pack("{s:I, s:o, s:o, s:I, s:I, s:o}", "day",
				      (json_int_t)d[i].day, "issued",
				      u64_json(d[i].issued), "redeemed",
				      u64_json(d[i].redeemed),
				      "active_customers",
				      (json_int_t)d[i].active_customers, "txs",
				      (json_int_t)d[i].txs, "outstanding",
				      u64_json(d[i].outstanding)));
		j->payload =
		    json_pack("{s:o, s:o}", "member", id_json(id), "days", arr);
		rv = 0;
	}
	free(d);
	return rv;
}

static int run_query(struct query_job *j, struct loy_ledger *l)
{
	uint8_t id[LOY_ID_SIZE], h[LOY_HASH_SIZE];
	int rv;

	switch (j->q.query.kind) {
	case LOY_Q_ACCOUNT: {
		struct loy_account_info a;
		if ((rv = arg_id(j, 0, id)) != 0)
			return rv;
		if ((rv = loy_ledger_account(l, id, &a)) != 0)
			return rv;
		j->payload = json_pack(
		    "{s:o, s:s, s:b, s:o, s:o, s:o, s:o}", "id", id_json(id),
		    "type", account_type(a.type), "active", a.active, "balance",
		    u64_json(a.balance), "nonce", u64_json(a.nonce), "created",
		    u64_json(a.created), "public_key",
		    hex_json(a.pubkey, LOY_PUBKEY_SIZE));
		if (a.type == LOY_ACCOUNT_TERMINAL)
			json_object_set_new(j->payload, "member",
					    id_json(a.member));
		return 0;
	}
	case LOY_Q_NONCE: {
		uint64_t nonce = 0;
		if ((rv = arg_id(j, 0, id)) != 0)
			return rv;
		rv = loy_ledger_nonce(l, id, &nonce);
		if (rv != 0 && rv != LOY_ENOTFOUND)
			return rv;
		j->payload = json_pack("{s:o}", "nonce", u64_json(nonce));
		return 0;
	}
	case LOY_Q_TX:
		return q_tx(j, l);
	case LOY_Q_BLOCK:
		return q_block(j, l);
	case LOY_Q_HISTORY:
		return q_history(j, l);
	case LOY_Q_MEMBERS:
		return q_members(j, l);
	case LOY_Q_SETTLEMENT:
		return q_settlement(j, l);
	case LOY_Q_COUPON_BATCH: {
		struct loy_coupon_batch_status s;
		if ((rv = arg_hash(j, 0, h)) != 0)
			return rv;
		if ((rv = loy_ledger_coupon_batch(l, h, j->now_ms, &s)) != 0)
			return rv;
		j->payload = json_pack(
		    "{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
		    "batch", hex_json(h, LOY_HASH_SIZE), "issuer",
		    id_json(s.issuer), "value", u64_json(s.value),
		    "valid_from_ms", u64_json(s.valid_from_ms),
		    "valid_until_ms", u64_json(s.valid_until_ms), "issued",
		    (json_int_t)s.issued, "redeemed", (json_int_t)s.redeemed,
		    "expired_unused", (json_int_t)s.expired_unused, "remaining",
		    (json_int_t)s.remaining, "per_customer_limit",
		    (json_int_t)s.per_customer_limit);
		if (s.has_geofence)
			json_object_set_new(
			    j->payload, "geofence",
			    json_pack("{s:I, s:I, s:I}", "lat_udeg",
				      (json_int_t)s.center.lat_udeg, "lon_udeg",
				      (json_int_t)s.center.lon_udeg, "radius_m",
				      (json_int_t)s.radius_m));
		return 0;
	}
	case LOY_Q_COUPONS:
		return q_coupons(j, l, 0);
	case LOY_Q_COUPONS_NEAR:
		return q_coupons(j, l, 1);
	case LOY_Q_PARTNERSHIP: {
		struct loy_partnership_info p;
		char name[LOY_NAME_MAX + 1];
		const struct loy_client_arg *a = &j->q.query.args[0];
		json_t *members;
		if (j->q.query.arg_count < 1 || a->type != LOY_ARG_STR ||
		    a->len > LOY_NAME_MAX) {
			snprintf(j->msg, sizeof j->msg,
				 "a partnership name is required");
			return LOY_EINVAL;
		}
		memcpy(name, a->data, a->len);
		name[a->len] = '\0';
		if ((rv = loy_ledger_partnership(l, name, &p)) != 0)
			return rv;
		members = json_array();
		for (uint32_t i = 0; i < p.member_count; i++)
			json_array_append_new(members, id_json(p.members[i]));
		j->payload = json_pack("{s:s, s:o, s:o, s:o, s:o, s:I}", "name",
				       name, "creator", id_json(p.creator),
				       "terms", rule_json(&p.terms), "created",
				       u64_json(p.created), "members", members,
				       "pending", (json_int_t)p.pending_count);
		return 0;
	}
	case LOY_Q_REPORT:
		return q_report(j, l);
	case LOY_Q_TOTALS: {
		struct loy_totals t;
		if ((rv = loy_ledger_totals(l, &t)) != 0)
			return rv;
		j->payload = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
				       "issued", u64_json(t.issued), "reversed",
				       u64_json(t.reversed), "redeemed",
				       u64_json(t.redeemed), "coupon_redeemed",
				       u64_json(t.coupon_redeemed), "customers",
				       u64_json(t.customers), "outstanding",
				       u64_json(t.outstanding));
		return 0;
	}
	case LOY_Q_RULE: {
		struct loy_rule_info r;
		if ((rv = arg_id(j, 0, id)) != 0)
			return rv;
		if ((rv = loy_ledger_rule(l, id, &r)) != 0)
			return rv;
		j->payload = rule_json(&r);
		return 0;
	}
	default:
		snprintf(j->msg, sizeof j->msg, "unknown query kind %u",
			 j->q.query.kind);
		return LOY_EKIND;
	}
}

static void query_run(struct loy_job *job)
{
	struct query_job *j = (struct query_job *)job;

	j->code = run_query(j, job->node->ledger);
	if (j->code != 0) {
		const char *d = loy_ledger_damage(job->node->ledger);
		json_decref(j->payload);
		j->payload = NULL;
		/* a damaged record: the client hears why, then the node halts
		 * (in the job's completion) */
		if (j->code == LOY_ECORRUPT && d)
			snprintf(j->msg, sizeof j->msg, "%s", d);
		else if (j->msg[0] == '\0')
			snprintf(j->msg, sizeof j->msg, "%s",
				 loy_strerror(j->code));
	}
}

static void query_done(struct loy_job *job)
{
	struct query_job *j = (struct query_job *)job;

	j->reply(j->data, j->request_id, j->code, j->msg, j->payload);
	json_decref(j->payload);
	free(j);
}

void loy_node_query(struct loy_node *n, uint64_t request_id,
		    const struct loy_client_request *q, reply_fn reply,
		    void *data);
void loy_node_query(struct loy_node *n, uint64_t request_id,
		    const struct loy_client_request *q, reply_fn reply,
		    void *data)
{
	struct query_job *j = calloc(1, sizeof *j);

	if (j == NULL) {
		reply(data, request_id, LOY_ENOMEM, "out of memory", NULL);
		return;
	}
	j->request_id = request_id;
	j->q.kind = q->kind;
	j->q.query = q->query; /* args are inline: a plain copy */
	j->now_ms = loy_node_now_ms();
	j->reply = reply;
	j->data = data;
	j->job.run = query_run;
	j->job.done = query_done;
	loy_node_pool_job(n, &j->job);
}
