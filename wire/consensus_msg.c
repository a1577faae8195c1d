/* Codecs and signatures for the consensus messages of consensus_msg.h. */
#include "wire/consensus_msg.h"

#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/error.h"

#define SIGN_BYTES_MAX 64

static int kind_ok(uint64_t k)
{
	return k >= LOY_CMSG_PROPOSE && k <= LOY_CMSG_STATUS;
}

static uint32_t field_count(uint8_t kind)
{
	switch (kind) {
	case LOY_CMSG_STATUS:
		return 7;
	case LOY_CMSG_VIEW_CHANGE:
	case LOY_CMSG_NEW_VIEW:
		return 9;
	default:
		return 8;
	}
}

void loy_cmsg_free(struct loy_cmsg *m)
{
	loy_buf_free(&m->block);
	free(m->prepared);
	m->prepared = NULL;
	if (m->vcs != NULL) {
		for (uint32_t i = 0; i < m->vc_count; i++)
			loy_cmsg_free(&m->vcs[i]);
		free(m->vcs);
	}
	memset(m, 0, sizeof *m);
}

static int cmsg_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_cmsg *m = in;
	struct loy_buf tmp = {0};
	int rv;

	if (!kind_ok(m->kind))
		return LOY_EKIND;
	loy_w_array(w, field_count(m->kind));
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, m->kind);
	loy_w_str(w, m->chain_id);
	loy_w_u64(w, m->height);
	loy_w_u64(w, m->view);
	loy_w_bin(w, m->sender, LOY_PUBKEY_SIZE);
	switch (m->kind) {
	case LOY_CMSG_STATUS:
		loy_w_bin(w, m->hash, LOY_HASH_SIZE);
		break;
	case LOY_CMSG_PREPARE:
	case LOY_CMSG_COMMIT:
		loy_w_bin(w, m->hash, LOY_HASH_SIZE);
		loy_w_bin(w, m->sig, LOY_SIG_SIZE);
		break;
	case LOY_CMSG_PROPOSE:
		loy_w_bin(w, m->block.data, m->block.len);
		loy_w_bin(w, m->sig, LOY_SIG_SIZE);
		break;
	case LOY_CMSG_VIEW_CHANGE:
		if (m->prepared != NULL) {
			rv = loy_cert_encode(m->prepared, &tmp);
			if (rv != 0)
				return rv;
		}
		loy_w_bin(w, tmp.data, tmp.len);
		loy_buf_free(&tmp);
		loy_w_bin(w, m->block.data, m->block.len);
		loy_w_bin(w, m->sig, LOY_SIG_SIZE);
		break;
	case LOY_CMSG_NEW_VIEW:
		if (m->vc_count > LOY_MAX_VALIDATORS)
			return LOY_ETOOBIG;
		loy_w_array(w, m->vc_count);
		for (uint32_t i = 0; i < m->vc_count; i++) {
			if (m->vcs[i].kind != LOY_CMSG_VIEW_CHANGE)
				return LOY_EKIND;
			rv = loy_cmsg_encode(&m->vcs[i], &tmp);
			if (rv != 0)
				return rv;
			loy_w_bin(w, tmp.data, tmp.len);
			loy_buf_free(&tmp);
		}
		loy_w_bin(w, m->block.data, m->block.len);
		loy_w_bin(w, m->sig, LOY_SIG_SIZE);
		break;
	}
	return w->err;
}

static void read_block(struct loy_r *r, struct loy_cmsg *m, int may_be_empty)
{
	size_t len;
	const uint8_t *p = loy_r_bin_view(r, LOY_MAX_BLOCK_BYTES, &len);

	if (r->err != 0)
		return;
	if (len == 0) {
		if (!may_be_empty)
			loy_r_fail(r, LOY_EMALFORMED);
		return;
	}
	if (loy_buf_copy(&m->block, p, len) != 0)
		loy_r_fail(r, LOY_ENOMEM);
}

static void read_prepared(struct loy_r *r, struct loy_cmsg *m)
{
	size_t len;
	const uint8_t *p = loy_r_bin_view(r, LOY_CMSG_MAX_CERT_BYTES, &len);
	int rv;

	if (r->err != 0 || len == 0)
		return;
	m->prepared = malloc(sizeof *m->prepared);
	if (m->prepared == NULL) {
		loy_r_fail(r, LOY_ENOMEM);
		return;
	}
	rv = loy_cert_decode(m->prepared, p, len);
	if (rv == 0 &&
	    (m->prepared->type != LOY_VOTE_PREPARE ||
	     m->prepared->height != m->height || m->prepared->view >= m->view ||
	     strcmp(m->prepared->chain_id, m->chain_id) != 0))
		rv = LOY_EINVAL;
	if (rv != 0)
		loy_r_fail(r, rv);
}

static void read_vcs(struct loy_r *r, struct loy_cmsg *m)
{
	struct loy_r sub;

	loy_r_array(r, &sub, 1, LOY_MAX_VALIDATORS);
	if (r->err != 0)
		return;
	m->vcs = calloc(sub.n, sizeof *m->vcs);
	if (m->vcs == NULL) {
		loy_r_fail(r, LOY_ENOMEM);
		return;
	}
	m->vc_count = sub.n;
	for (uint32_t i = 0; i < sub.n; i++) {
		size_t len;
		const uint8_t *p = loy_r_bin_view(&sub, LOY_MAX_FRAME, &len);
		struct loy_cmsg *vc = &m->vcs[i];
		int rv;

		if (sub.err != 0)
			break;
		rv = loy_cmsg_decode(vc, p, len);
		if (rv == 0 &&
		    (vc->kind != LOY_CMSG_VIEW_CHANGE || vc->block.len != 0 ||
		     vc->height != m->height || vc->view != m->view ||
		     strcmp(vc->chain_id, m->chain_id) != 0))
			rv = LOY_EINVAL;
		if (rv != 0) {
			loy_r_fail(&sub, rv);
			break;
		}
	}
	if (sub.err != 0)
		loy_r_fail(r, sub.err);
	else
		loy_r_end(&sub);
}

static int cmsg_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_cmsg *m = out;
	struct loy_r r;
	uint64_t kind;

	loy_r_open(&r, root, 7, 9);
	if (loy_r_u64(&r, 0, UINT64_MAX) != LOY_WIRE_VERSION && r.err == 0)
		return LOY_EVERSION;
	kind = loy_r_u64(&r, 0, UINT64_MAX);
	if (r.err != 0)
		return r.err;
	if (!kind_ok(kind))
		return LOY_EKIND;
	m->kind = (uint8_t)kind;
	if (r.n != field_count(m->kind))
		return LOY_EMALFORMED;
	loy_r_str(&r, m->chain_id, sizeof m->chain_id);
	m->height = loy_r_u64(&r, 0, UINT64_MAX);
	m->view = loy_r_u64(&r, 0, UINT64_MAX);
	loy_r_bin_fixed(&r, m->sender, LOY_PUBKEY_SIZE);
	switch (m->kind) {
	case LOY_CMSG_STATUS:
		loy_r_bin_fixed(&r, m->hash, LOY_HASH_SIZE);
		break;
	case LOY_CMSG_PREPARE:
	case LOY_CMSG_COMMIT:
		loy_r_bin_fixed(&r, m->hash, LOY_HASH_SIZE);
		loy_r_bin_fixed(&r, m->sig, LOY_SIG_SIZE);
		break;
	case LOY_CMSG_PROPOSE:
		read_block(&r, m, 0);
		loy_r_bin_fixed(&r, m->sig, LOY_SIG_SIZE);
		break;
	case LOY_CMSG_VIEW_CHANGE:
		if (m->view == 0)
			loy_r_fail(&r, LOY_ERANGE);
		read_prepared(&r, m);
		read_block(&r, m, 1);
		/* a prepared block travels only with its certificate */
		if (r.err == 0 && m->block.len != 0 && m->prepared == NULL)
			loy_r_fail(&r, LOY_EMALFORMED);
		loy_r_bin_fixed(&r, m->sig, LOY_SIG_SIZE);
		break;
	case LOY_CMSG_NEW_VIEW:
		if (m->view == 0)
			loy_r_fail(&r, LOY_ERANGE);
		read_vcs(&r, m);
		read_block(&r, m, 0);
		loy_r_bin_fixed(&r, m->sig, LOY_SIG_SIZE);
		break;
	}
	return loy_r_end(&r);
}

static void cmsg_free_cb(void *out)
{
	loy_cmsg_free(out);
}

static const struct loy_codec cmsg_codec = {
    .limits = {LOY_MAX_FRAME, 3, 16 + LOY_MAX_VALIDATORS},
    .out_size = sizeof(struct loy_cmsg),
    .decode = cmsg_decode_cb,
    .encode = cmsg_encode_cb,
    .free_fn = cmsg_free_cb,
};

int loy_cmsg_encode(const struct loy_cmsg *m, struct loy_buf *out)
{
	return loy_encode_with(&cmsg_codec, m, out);
}

int loy_cmsg_decode(struct loy_cmsg *m, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&cmsg_codec, data, len, m);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* kind || height || view || (block_hash | has_prepared || pview || phash) */
static size_t sign_bytes(const struct loy_cmsg *m,
			 const uint8_t block_hash[LOY_HASH_SIZE],
			 uint8_t out[SIGN_BYTES_MAX], enum loy_domain *domain)
{
	size_t n = 0;

	out[n++] = m->kind;
	put_u64(out + n, m->height);
	n += 8;
	put_u64(out + n, m->view);
	n += 8;
	if (m->kind == LOY_CMSG_VIEW_CHANGE) {
		*domain = LOY_DOMAIN_VIEW_CHANGE;
		out[n++] = m->prepared != NULL;
		put_u64(out + n, m->prepared ? m->prepared->view : 0);
		n += 8;
		if (m->prepared)
			memcpy(out + n, m->prepared->block_hash, LOY_HASH_SIZE);
		else
			memset(out + n, 0, LOY_HASH_SIZE);
		n += LOY_HASH_SIZE;
		return n;
	}
	*domain = m->kind == LOY_CMSG_NEW_VIEW ? LOY_DOMAIN_NEW_VIEW
					       : LOY_DOMAIN_PROPOSAL;
	memcpy(out + n, block_hash, LOY_HASH_SIZE);
	return n + LOY_HASH_SIZE;
}

static int signable(const struct loy_cmsg *m)
{
	return m->kind == LOY_CMSG_PROPOSE || m->kind == LOY_CMSG_VIEW_CHANGE ||
	       m->kind == LOY_CMSG_NEW_VIEW;
}

int loy_cmsg_sign(struct loy_cmsg *m, const uint8_t block_hash[LOY_HASH_SIZE],
		  const uint8_t sk[LOY_SECKEY_SIZE])
{
	uint8_t b[SIGN_BYTES_MAX];
	enum loy_domain d;
	size_t n;

	if (!signable(m))
		return LOY_EKIND;
	loy_seckey_pubkey(m->sender, sk);
	n = sign_bytes(m, block_hash, b, &d);
	loy_sign(m->sig, d, m->chain_id, b, n, sk);
	return 0;
}

int loy_cmsg_verify(const struct loy_cmsg *m,
		    const uint8_t block_hash[LOY_HASH_SIZE])
{
	uint8_t b[SIGN_BYTES_MAX];
	enum loy_domain d;
	size_t n;

	if (!signable(m))
		return LOY_EKIND;
	n = sign_bytes(m, block_hash, b, &d);
	return loy_verify(m->sig, d, m->chain_id, b, n, m->sender);
}

void loy_cmsg_to_vote(const struct loy_cmsg *m, struct loy_vote *v)
{
	memset(v, 0, sizeof *v);
	v->type =
	    m->kind == LOY_CMSG_COMMIT ? LOY_VOTE_COMMIT : LOY_VOTE_PREPARE;
	memcpy(v->chain_id, m->chain_id, sizeof v->chain_id);
	v->height = m->height;
	v->view = m->view;
	memcpy(v->block_hash, m->hash, LOY_HASH_SIZE);
	memcpy(v->validator, m->sender, LOY_PUBKEY_SIZE);
	memcpy(v->sig, m->sig, LOY_SIG_SIZE);
}

void loy_cmsg_from_vote(struct loy_cmsg *m, const struct loy_vote *v)
{
	memset(m, 0, sizeof *m);
	m->kind =
	    v->type == LOY_VOTE_COMMIT ? LOY_CMSG_COMMIT : LOY_CMSG_PREPARE;
	memcpy(m->chain_id, v->chain_id, sizeof m->chain_id);
	m->height = v->height;
	m->view = v->view;
	memcpy(m->hash, v->block_hash, LOY_HASH_SIZE);
	memcpy(m->sender, v->validator, LOY_PUBKEY_SIZE);
	memcpy(m->sig, v->sig, LOY_SIG_SIZE);
}
