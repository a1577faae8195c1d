/* Unit tests for the crypto module: signatures, domains, IDs, key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wire/crypto.h"
#include "wire/error.h"

static void seeded(uint8_t pk[32], uint8_t sk[64], uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof seed);
	loy_keypair_from_seed(pk, sk, seed);
}

static void test_sign_verify_and_domains(void **state)
{
	uint8_t pk[32], sk[64], sig[64];
	(void)state;
	seeded(pk, sk, 1);
	loy_sign(sig, LOY_DOMAIN_TX, "test-chain", "hello", 5, sk);
	assert_int_equal(
	    loy_verify(sig, LOY_DOMAIN_TX, "test-chain", "hello", 5, pk), 0);
	/* another domain, chain or message must not verify */
	assert_int_equal(
	    loy_verify(sig, LOY_DOMAIN_VOTE, "test-chain", "hello", 5, pk),
	    LOY_EBADSIG);
	assert_int_equal(
	    loy_verify(sig, LOY_DOMAIN_TX, "other-chain", "hello", 5, pk),
	    LOY_EBADSIG);
	assert_int_equal(
	    loy_verify(sig, LOY_DOMAIN_TX, "test-chain", "hellp", 5, pk),
	    LOY_EBADSIG);
	sig[10] ^= 1;
	assert_int_equal(
	    loy_verify(sig, LOY_DOMAIN_TX, "test-chain", "hello", 5, pk),
	    LOY_EBADSIG);
}

static void test_chain_id_prefix_is_length_delimited(void **state)
{
	uint8_t a[32], b[32];
	(void)state;
	/* chain "ab" + msg "c" must differ from chain "a" + msg "bc" */
	loy_sign_digest(a, LOY_DOMAIN_TX, "ab", "c", 1);
	loy_sign_digest(b, LOY_DOMAIN_TX, "a", "bc", 2);
	assert_memory_not_equal(a, b, 32);
}

static void test_id_roundtrip_and_checksum(void **state)
{
	uint8_t pk[32], sk[64], id[LOY_ID_SIZE], back[LOY_ID_SIZE];
	char s[LOY_ID_STR_SIZE];
	(void)state;
	seeded(pk, sk, 7);
	loy_id_from_pubkey(id, pk);
	loy_id_format(s, id);
	assert_int_equal(strlen(s), LOY_ID_STR_SIZE - 1);
	assert_int_equal(loy_id_parse(back, s), 0);
	assert_memory_equal(id, back, LOY_ID_SIZE);
	/* upper case is the same ID */
	for (char *p = s; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(loy_id_parse(back, s), 0);
	/* every single-character typo is caught */
	loy_id_format(s, id);
	for (size_t i = 3; i < strlen(s); i++) {
		char saved = s[i];
		s[i] = saved == 'a' ? 'b' : 'a';
		assert_int_equal(loy_id_parse(back, s), LOY_ECHECKSUM);
		s[i] = saved;
	}
	assert_int_equal(loy_id_parse(back, "loyabc"), LOY_EINVAL);
	s[10] = '1'; /* not in the alphabet */
	assert_int_equal(loy_id_parse(back, s), LOY_EINVAL);
}

static void test_keyfile_roundtrip(void **state)
{
	uint8_t pk[32], sk[64], sk2[64], pk2[32];
	char path[] = "/tmp/loy-test-keyXXXXXX";
	int fd = mkstemp(path);
	struct stat st;
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	seeded(pk, sk, 3);
	assert_int_equal(
	    loy_keyfile_write(path, sk, "pin 1234", loy_kdf_cost_min()), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* never overwrites */
	assert_int_equal(loy_keyfile_write(path, sk, "x", loy_kdf_cost_min()),
			 LOY_EIO);
	assert_int_equal(loy_keyfile_read(path, "pin 1234", 0, sk2), 0);
	assert_memory_equal(sk, sk2, 64);
	assert_int_equal(loy_keyfile_pubkey(path, pk2), 0);
	assert_memory_equal(pk, pk2, 32);
	assert_int_equal(loy_keyfile_read(path, "pin 1235", 0, sk2),
			 LOY_EPASSPHRASE);
	chmod(path, 0644);
	assert_int_equal(loy_keyfile_read(path, "pin 1234", 0, sk2),
			 LOY_EKEYPERM);
	assert_int_equal(loy_keyfile_read(path, "pin 1234", 1, sk2), 0);
	unlink(path);
}

static void test_keyfile_rejects_damage(void **state)
{
	uint8_t pk[32], sk[64], sk2[64], buf[256];
	char path[] = "/tmp/loy-test-keyXXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	size_t n;
	(void)state;
	close(fd);
	unlink(path);
	seeded(pk, sk, 4);
	assert_int_equal(loy_keyfile_write(path, sk, "pw", loy_kdf_cost_min()),
			 0);
	f = fopen(path, "rb");
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	/* flip a ciphertext byte: authentication fails */
	buf[n - 1] ^= 1;
	f = fopen(path, "wb");
	fwrite(buf, 1, n, f);
	fclose(f);
	assert_int_equal(loy_keyfile_read(path, "pw", 0, sk2), LOY_EPASSPHRASE);
	/* absurd cost (hostile file): refused before hashing */
	buf[n - 1] ^= 1;
	memset(buf + 48, 0xff, 8);
	f = fopen(path, "wb");
	fwrite(buf, 1, n, f);
	fclose(f);
	assert_int_equal(loy_keyfile_read(path, "pw", 0, sk2), LOY_EMALFORMED);
	/* truncated */
	f = fopen(path, "wb");
	fwrite(buf, 1, n / 2, f);
	fclose(f);
	assert_int_equal(loy_keyfile_read(path, "pw", 0, sk2), LOY_EMALFORMED);
	unlink(path);
	assert_int_equal(loy_keyfile_read(path, "pw", 0, sk2), LOY_EIO);
}

/* The store tag binds table, key and value: one flipped bit anywhere, or
 * a byte moved across the key/value seam, changes it; long values (the
 * BLAKE2b path) too. */
static void test_store_tag(void **state)
{
	uint8_t key[20], val[2000], t0[LOY_STORE_TAG_SIZE],
	    t[LOY_STORE_TAG_SIZE];
	(void)state;
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof val; i++)
		val[i] = (uint8_t)(i * 13);
	for (size_t vlen = 0; vlen <= sizeof val; vlen += 1000) {
		loy_store_tag(t0, "accounts", key, sizeof key, val, vlen);
		loy_store_tag(t, "accounts", key, sizeof key, val, vlen);
		assert_memory_equal(t, t0, sizeof t);
		loy_store_tag(t, "account", key, sizeof key, val, vlen);
		assert_memory_not_equal(t, t0, sizeof t);
		key[3] ^= 0x10;
		loy_store_tag(t, "accounts", key, sizeof key, val, vlen);
		assert_memory_not_equal(t, t0, sizeof t);
		key[3] ^= 0x10;
		if (vlen > 0) {
			val[vlen / 2] ^= 0x01;
			loy_store_tag(t, "accounts", key, sizeof key, val,
				      vlen);
			assert_memory_not_equal(t, t0, sizeof t);
			val[vlen / 2] ^= 0x01;
		}
	}
	/* "ab" + "c" is not "a" + "bc" */
	loy_store_tag(t0, "x", "ab", 2, "c", 1);
	loy_store_tag(t, "x", "a", 1, "bc", 2);
	assert_memory_not_equal(t, t0, sizeof t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_verify_and_domains),
	    cmocka_unit_test(test_chain_id_prefix_is_length_delimited),
	    cmocka_unit_test(test_id_roundtrip_and_checksum),
	    cmocka_unit_test(test_keyfile_roundtrip),
	    cmocka_unit_test(test_keyfile_rejects_damage),
	    cmocka_unit_test(test_store_tag),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
