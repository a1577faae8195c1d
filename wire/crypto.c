/* libsodium behind the project's crypto API: nothing else calls libsodium. */
#include "wire/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/error.h"

static const char *const domain_names[LOY_DOMAIN_COUNT] = {
    [LOY_DOMAIN_TX] = "tx",
    [LOY_DOMAIN_VOTE] = "vote",
    [LOY_DOMAIN_PROPOSAL] = "proposal",
    [LOY_DOMAIN_VIEW_CHANGE] = "view-change",
    [LOY_DOMAIN_NEW_VIEW] = "new-view",
    [LOY_DOMAIN_HANDSHAKE] = "handshake",
    [LOY_DOMAIN_CLIENT_AUTH] = "client-auth",
};

int loy_crypto_init(void)
{
	return sodium_init() < 0 ? LOY_EINVAL : 0;
}

void loy_hash(uint8_t out[LOY_HASH_SIZE], const void *data, size_t len)
{
	crypto_generichash(out, LOY_HASH_SIZE, data, len, NULL, 0);
}

static void put_u64le(uint8_t b[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

void loy_hash2(uint8_t out[LOY_HASH_SIZE], const void *a, size_t alen,
	       const void *b, size_t blen)
{
	crypto_generichash_state st;
	uint8_t n[8];

	crypto_generichash_init(&st, NULL, 0, LOY_HASH_SIZE);
	put_u64le(n, alen);
	crypto_generichash_update(&st, n, sizeof n);
	crypto_generichash_update(&st, a, alen);
	put_u64le(n, blen);
	crypto_generichash_update(&st, n, sizeof n);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, LOY_HASH_SIZE);
}

/* Inputs up to this size (every state record) take SipHash, on a stack
 * copy; longer ones (blocks, certificates) BLAKE2b, streamed. */
#define STORE_TAG_SHORT 1024

void loy_store_tag(uint8_t out[LOY_STORE_TAG_SIZE], const char *table,
		   const void *key, size_t klen, const void *val, size_t vlen)
{
	static const uint8_t tag_key[crypto_shorthash_siphash24_KEYBYTES] =
	    "loy/store/v1";
	size_t tlen = strnlen(table, 255), hlen = 1 + tlen + 2;
	uint8_t hdr[1 + 255 + 2];

	hdr[0] = (uint8_t)tlen;
	memcpy(hdr + 1, table, tlen);
	hdr[1 + tlen] = (uint8_t)(klen >> 8);
	hdr[2 + tlen] = (uint8_t)klen;
	if (hlen + klen + vlen <= STORE_TAG_SHORT) {
		uint8_t in[STORE_TAG_SHORT];
		memcpy(in, hdr, hlen);
		if (klen)
			memcpy(in + hlen, key, klen);
		if (vlen)
			memcpy(in + hlen + klen, val, vlen);
		crypto_shorthash_siphash24(out, in, hlen + klen + vlen,
					   tag_key);
	} else {
		crypto_generichash_blake2b_state st;
		uint8_t h[crypto_generichash_blake2b_BYTES_MIN];
		crypto_generichash_blake2b_init_salt_personal(
		    &st, NULL, 0, sizeof h, NULL, tag_key);
		crypto_generichash_blake2b_update(&st, hdr, hlen);
		crypto_generichash_blake2b_update(&st, key, klen);
		crypto_generichash_blake2b_update(&st, val, vlen);
		crypto_generichash_blake2b_final(&st, h, sizeof h);
		memcpy(out, h, LOY_STORE_TAG_SIZE);
	}
}

void loy_sign_digest(uint8_t out[LOY_HASH_SIZE], enum loy_domain domain,
		     const char *chain_id, const void *msg, size_t len)
{
	crypto_generichash_state st;
	const char *name = "invalid";
	size_t clen = strnlen(chain_id, LOY_CHAIN_ID_MAX);
	uint8_t clen8 = (uint8_t)clen;

	if (domain > 0 && domain < LOY_DOMAIN_COUNT)
		name = domain_names[domain];
	crypto_generichash_init(&st, NULL, 0, LOY_HASH_SIZE);
	crypto_generichash_update(&st, (const uint8_t *)"loy/v1/", 7);
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name) + 1);
	crypto_generichash_update(&st, &clen8, 1);
	crypto_generichash_update(&st, (const uint8_t *)chain_id, clen);
	crypto_generichash_update(&st, msg, len);
	crypto_generichash_final(&st, out, LOY_HASH_SIZE);
}

void loy_sign(uint8_t sig[LOY_SIG_SIZE], enum loy_domain domain,
	      const char *chain_id, const void *msg, size_t len,
	      const uint8_t sk[LOY_SECKEY_SIZE])
{
	uint8_t d[LOY_HASH_SIZE];

	loy_sign_digest(d, domain, chain_id, msg, len);
	crypto_sign_detached(sig, NULL, d, sizeof d, sk);
}

int loy_verify(const uint8_t sig[LOY_SIG_SIZE], enum loy_domain domain,
	       const char *chain_id, const void *msg, size_t len,
	       const uint8_t pk[LOY_PUBKEY_SIZE])
{
	uint8_t d[LOY_HASH_SIZE];

	loy_sign_digest(d, domain, chain_id, msg, len);
	return crypto_sign_verify_detached(sig, d, sizeof d, pk) == 0
		   ? 0
		   : LOY_EBADSIG;
}

void loy_keypair(uint8_t pk[LOY_PUBKEY_SIZE], uint8_t sk[LOY_SECKEY_SIZE])
{
	crypto_sign_keypair(pk, sk);
}

void loy_keypair_from_seed(uint8_t pk[LOY_PUBKEY_SIZE],
			   uint8_t sk[LOY_SECKEY_SIZE],
			   const uint8_t seed[LOY_SEED_SIZE])
{
	crypto_sign_seed_keypair(pk, sk, seed);
}

void loy_seckey_pubkey(uint8_t pk[LOY_PUBKEY_SIZE],
		       const uint8_t sk[LOY_SECKEY_SIZE])
{
	crypto_sign_ed25519_sk_to_pk(pk, sk);
}

void loy_id_from_pubkey(uint8_t id[LOY_ID_SIZE],
			const uint8_t pk[LOY_PUBKEY_SIZE])
{
	uint8_t h[LOY_HASH_SIZE];

	loy_hash2(h, "loy/id/v1", 9, pk, LOY_PUBKEY_SIZE);
	memcpy(id, h, LOY_ID_SIZE);
}

/* RFC 4648 base32 alphabet, lower case: no 0/1/8/9 to confuse with O/I/B/g. */
static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
#define ID_CHECK_SIZE 5
#define ID_RAW_SIZE   (LOY_ID_SIZE + ID_CHECK_SIZE) /* 25 bytes = 40 chars */

static void id_checksum(uint8_t out[ID_CHECK_SIZE],
			const uint8_t id[LOY_ID_SIZE])
{
	uint8_t h[LOY_HASH_SIZE];

	loy_hash2(h, "loy/idcheck/v1", 14, id, LOY_ID_SIZE);
	memcpy(out, h, ID_CHECK_SIZE);
}

void loy_id_format(char out[LOY_ID_STR_SIZE], const uint8_t id[LOY_ID_SIZE])
{
	uint8_t raw[ID_RAW_SIZE];
	size_t o = 3;
	unsigned acc = 0, bits = 0;

	memcpy(raw, id, LOY_ID_SIZE);
	id_checksum(raw + LOY_ID_SIZE, id);
	memcpy(out, "loy", 3);
	for (size_t i = 0; i < ID_RAW_SIZE; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32[(acc >> bits) & 31];
		}
	}
	out[o] = '\0';
}

static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int loy_id_parse(uint8_t id[LOY_ID_SIZE], const char *str)
{
	uint8_t raw[ID_RAW_SIZE], check[ID_CHECK_SIZE];
	size_t o = 0;
	unsigned acc = 0, bits = 0;

	if (strlen(str) != LOY_ID_STR_SIZE - 1 ||
	    strncasecmp(str, "loy", 3) != 0)
		return LOY_EINVAL;
	for (const char *p = str + 3; *p; p++) {
		int v = b32_value(*p);
		if (v < 0)
			return LOY_EINVAL;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
		}
	}
	id_checksum(check, raw);
	if (sodium_memcmp(check, raw + LOY_ID_SIZE, ID_CHECK_SIZE) != 0)
		return LOY_ECHECKSUM;
	memcpy(id, raw, LOY_ID_SIZE);
	return 0;
}

int loy_secret_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len);
}

void loy_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

struct loy_kdf_cost loy_kdf_cost_default(void)
{
	return (struct loy_kdf_cost){crypto_pwhash_OPSLIMIT_MODERATE,
				     crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

struct loy_kdf_cost loy_kdf_cost_min(void)
{
	return (struct loy_kdf_cost){crypto_pwhash_OPSLIMIT_MIN,
				     crypto_pwhash_MEMLIMIT_MIN};
}

/* Key file layout (all integers little-endian):
 *   magic "LOYKEY01" | pubkey 32 | ops u64 | mem u64 | salt 16 |
 *   nonce 24 | secretbox(seed 32) 48
 * The public key is in clear so the ID can be shown without the passphrase;
 * after decryption it must match the key derived from the seed. */
#define KF_MAGIC "LOYKEY01"
#define KF_SIZE                                                                \
	(8 + 32 + 8 + 8 + crypto_pwhash_SALTBYTES +                            \
	 crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32)
#define KF_MAX_OPS crypto_pwhash_OPSLIMIT_SENSITIVE
#define KF_MAX_MEM ((uint64_t)1 << 30)

static uint64_t get_u64le(const uint8_t b[8])
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static int derive_key(uint8_t key[crypto_secretbox_KEYBYTES],
		      const char *passphrase, const uint8_t *salt, uint64_t ops,
		      uint64_t mem)
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase,
			  strlen(passphrase), salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return LOY_ENOMEM;
	return 0;
}

int loy_keyfile_write(const char *path, const uint8_t sk[LOY_SECKEY_SIZE],
		      const char *passphrase, struct loy_kdf_cost cost)
{
	uint8_t buf[KF_SIZE], key[crypto_secretbox_KEYBYTES];
	uint8_t *p = buf, *salt, *nonce;
	int rv, fd;
	ssize_t n;

	memcpy(p, KF_MAGIC, 8), p += 8;
	loy_seckey_pubkey(p, sk), p += 32;
	put_u64le(p, cost.ops), p += 8;
	put_u64le(p, cost.mem), p += 8;
	salt = p, p += crypto_pwhash_SALTBYTES;
	nonce = p, p += crypto_secretbox_NONCEBYTES;
	randombytes_buf(salt, crypto_pwhash_SALTBYTES);
	randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
	rv = derive_key(key, passphrase, salt, cost.ops, cost.mem);
	if (rv != 0)
		goto out;
	crypto_secretbox_easy(p, sk, LOY_SEED_SIZE, nonce, key);

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rv = LOY_EIO;
		goto out;
	}
	n = write(fd, buf, sizeof buf);
	if (n != (ssize_t)sizeof buf || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlink(path);
		errno = e;
		rv = LOY_EIO;
		goto out;
	}
	rv = close(fd) == 0 ? 0 : LOY_EIO;
out:
	loy_wipe(key, sizeof key);
	loy_wipe(buf, sizeof buf);
	return rv;
}

static int read_keyfile_bytes(const char *path, uint8_t buf[KF_SIZE],
			      int check_perms)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return LOY_EIO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return LOY_EIO;
	}
	if (check_perms && (st.st_mode & 077) != 0) {
		close(fd);
		return LOY_EKEYPERM;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)KF_SIZE) {
		close(fd);
		return LOY_EMALFORMED;
	}
	n = read(fd, buf, KF_SIZE);
	close(fd);
	if (n != (ssize_t)KF_SIZE)
		return LOY_EIO;
	if (memcmp(buf, KF_MAGIC, 8) != 0)
		return LOY_EMALFORMED;
	return 0;
}

int loy_keyfile_read(const char *path, const char *passphrase,
		     int allow_loose_perms, uint8_t sk[LOY_SECKEY_SIZE])
{
	uint8_t buf[KF_SIZE], key[crypto_secretbox_KEYBYTES];
	uint8_t seed[LOY_SEED_SIZE], pk[LOY_PUBKEY_SIZE];
	uint64_t ops, mem;
	const uint8_t *salt, *nonce, *box;
	int rv;

	loy_wipe(sk, LOY_SECKEY_SIZE);
	rv = read_keyfile_bytes(path, buf, !allow_loose_perms);
	if (rv != 0)
		return rv;
	ops = get_u64le(buf + 40);
	mem = get_u64le(buf + 48);
	salt = buf + 56;
	nonce = salt + crypto_pwhash_SALTBYTES;
	box = nonce + crypto_secretbox_NONCEBYTES;
	/* The cost comes from the file: bound it so a hostile file cannot make
	 * us spin for hours or allocate all memory. */
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > KF_MAX_OPS ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > KF_MAX_MEM) {
		rv = LOY_EMALFORMED;
		goto out;
	}
	rv = derive_key(key, passphrase, salt, ops, mem);
	if (rv != 0)
		goto out;
	if (crypto_secretbox_open_easy(
		seed, box, LOY_SEED_SIZE + crypto_secretbox_MACBYTES, nonce,
		key) != 0) {
		rv = LOY_EPASSPHRASE;
		goto out;
	}
	loy_keypair_from_seed(pk, sk, seed);
	if (sodium_memcmp(pk, buf + 8, LOY_PUBKEY_SIZE) != 0) {
		loy_wipe(sk, LOY_SECKEY_SIZE);
		rv = LOY_EPASSPHRASE;
	}
out:
	loy_wipe(seed, sizeof seed);
	loy_wipe(key, sizeof key);
	loy_wipe(buf, sizeof buf);
	return rv;
}

int loy_keyfile_pubkey(const char *path, uint8_t pk[LOY_PUBKEY_SIZE])
{
	uint8_t buf[KF_SIZE];
	int rv = read_keyfile_bytes(path, buf, 0);

	if (rv == 0)
		memcpy(pk, buf + 8, LOY_PUBKEY_SIZE);
	loy_wipe(buf, sizeof buf);
	return rv;
}
