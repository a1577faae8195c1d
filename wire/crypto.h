/* The one wrapper around libsodium: hashing, domain-separated Ed25519,
 * loyalty IDs and passphrase-protected key files. */
#ifndef LOY_WIRE_CRYPTO_H
#define LOY_WIRE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define LOY_HASH_SIZE      32
#define LOY_PUBKEY_SIZE    32
#define LOY_SECKEY_SIZE    64 /* libsodium's seed || public key form */
#define LOY_SEED_SIZE      32
#define LOY_SIG_SIZE       64
#define LOY_ID_SIZE        20
#define LOY_ID_STR_SIZE    44 /* "loy" + 40 base32 chars + NUL */
#define LOY_CHAIN_ID_MAX   32
#define LOY_X25519_SIZE    32
#define LOY_STORE_TAG_SIZE 8

#define LOY_MUST_USE __attribute__((warn_unused_result))

/* What a signature is for. Each domain has its own fixed prefix, so a
 * signature made for one kind of message never verifies as another. */
enum loy_domain {
	LOY_DOMAIN_TX = 1,
	LOY_DOMAIN_VOTE,
	LOY_DOMAIN_PROPOSAL,
	LOY_DOMAIN_VIEW_CHANGE,
	LOY_DOMAIN_NEW_VIEW,
	LOY_DOMAIN_HANDSHAKE,
	LOY_DOMAIN_CLIENT_AUTH,
	LOY_DOMAIN_COUNT
};

/* Initialises libsodium; call once before anything else here. Returns 0 or
 * LOY_EINVAL if libsodium cannot start. Safe to call more than once. */
int loy_crypto_init(void) LOY_MUST_USE;

/* BLAKE2b-256 of len bytes. */
void loy_hash(uint8_t out[LOY_HASH_SIZE], const void *data, size_t len);

/* BLAKE2b-256 of two byte strings, each prefixed by its 8-byte length so
 * that (a, b) pairs cannot collide by moving bytes across the seam. */
void loy_hash2(uint8_t out[LOY_HASH_SIZE], const void *a, size_t alen,
	       const void *b, size_t blen);

/* The integrity tag the ledger stores beside every record, over
 * len(table) (1 byte) || table || len(key) (2 bytes, big-endian) || key ||
 * value: SipHash-2-4 (libsodium's crypto_shorthash, 64 bits) keyed with the
 * constant "loy/store/v1" when that input is at most 1 KiB (every state
 * record: a fraction of BLAKE2b's fixed cost per call), else the first 8
 * bytes of BLAKE2b-128 personalised "loy/store/v1" (blocks). It detects a
 * damaged record (a flipped bit, a torn page, a record under the wrong key;
 * a random change slips through with probability 2^-64); the key is public,
 * so it is no authenticator (anyone who can write the file can recompute
 * it), and it is never part of a hash that goes on the chain or the wire.
 * table is NUL-terminated, at most 255 bytes; klen at most 65535. */
void loy_store_tag(uint8_t out[LOY_STORE_TAG_SIZE], const char *table,
		   const void *key, size_t klen, const void *val, size_t vlen);

/* The 32-byte digest that is actually signed: BLAKE2b-256 over
 * "loy/v1/<domain>\0" || len(chain_id) || chain_id || msg. Exposed so
 * auditors and tests can reproduce it. chain_id must be at most
 * LOY_CHAIN_ID_MAX bytes and NUL-terminated. */
void loy_sign_digest(uint8_t out[LOY_HASH_SIZE], enum loy_domain domain,
		     const char *chain_id, const void *msg, size_t len);

/* Signs msg for a domain and chain with a 64-byte secret key. */
void loy_sign(uint8_t sig[LOY_SIG_SIZE], enum loy_domain domain,
	      const char *chain_id, const void *msg, size_t len,
	      const uint8_t sk[LOY_SECKEY_SIZE]);

/* Returns 0 when sig is a valid signature by pk over msg in that domain and
 * chain, LOY_EBADSIG otherwise. */
int loy_verify(const uint8_t sig[LOY_SIG_SIZE], enum loy_domain domain,
	       const char *chain_id, const void *msg, size_t len,
	       const uint8_t pk[LOY_PUBKEY_SIZE]) LOY_MUST_USE;

/* A new random key pair. */
void loy_keypair(uint8_t pk[LOY_PUBKEY_SIZE], uint8_t sk[LOY_SECKEY_SIZE]);

/* The key pair of a 32-byte seed (deterministic: tests, golden vectors). */
void loy_keypair_from_seed(uint8_t pk[LOY_PUBKEY_SIZE],
			   uint8_t sk[LOY_SECKEY_SIZE],
			   const uint8_t seed[LOY_SEED_SIZE]);

/* The public key inside a 64-byte secret key. */
void loy_seckey_pubkey(uint8_t pk[LOY_PUBKEY_SIZE],
		       const uint8_t sk[LOY_SECKEY_SIZE]);

/* Loyalty ID: the first 20 bytes of BLAKE2b-256("loy/id/v1" || pk). */
void loy_id_from_pubkey(uint8_t id[LOY_ID_SIZE],
			const uint8_t pk[LOY_PUBKEY_SIZE]);

/* Printable ID: "loy" + lower-case base32 of (id || 5-byte checksum), 43
 * characters. out must hold LOY_ID_STR_SIZE bytes. */
void loy_id_format(char out[LOY_ID_STR_SIZE], const uint8_t id[LOY_ID_SIZE]);

/* Parses a printable ID (case-insensitive). Returns 0, LOY_EINVAL for a
 * wrong length or character, or LOY_ECHECKSUM for a mistyped ID. */
int loy_id_parse(uint8_t id[LOY_ID_SIZE], const char *str) LOY_MUST_USE;

/* Constant-time comparison for secrets: 0 when equal. */
int loy_secret_equal(const void *a, const void *b, size_t len);

/* Wipes a secret from memory in a way the compiler cannot drop. */
void loy_wipe(void *p, size_t len);

/* Cost of the passphrase hash for key files. */
struct loy_kdf_cost {
	uint64_t ops;
	uint64_t mem;
};
/* libsodium's "moderate" cost: for files written by people. */
struct loy_kdf_cost loy_kdf_cost_default(void);
/* The smallest cost libsodium allows: for tests only. */
struct loy_kdf_cost loy_kdf_cost_min(void);

/* Writes sk to path encrypted with passphrase (crypto_pwhash argon2id +
 * crypto_secretbox), mode 0600, refusing to overwrite an existing file.
 * Returns 0, LOY_EIO (errno kept) or LOY_ENOMEM. */
int loy_keyfile_write(const char *path, const uint8_t sk[LOY_SECKEY_SIZE],
		      const char *passphrase,
		      struct loy_kdf_cost cost) LOY_MUST_USE;

/* Reads and decrypts a key file. Refuses a file readable by group or others
 * with LOY_EKEYPERM unless allow_loose_perms is set. Returns 0,
 * LOY_EIO, LOY_EKEYPERM, LOY_EMALFORMED (not a key file, or a cost outside
 * the accepted range) or LOY_EPASSPHRASE. sk is wiped on failure. */
int loy_keyfile_read(const char *path, const char *passphrase,
		     int allow_loose_perms,
		     uint8_t sk[LOY_SECKEY_SIZE]) LOY_MUST_USE;

/* Reads only the public key of a key file (no passphrase needed). */
int loy_keyfile_pubkey(const char *path,
		       uint8_t pk[LOY_PUBKEY_SIZE]) LOY_MUST_USE;

#endif
