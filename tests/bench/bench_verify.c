/* This machine's Ed25519 verification limit: loy_verify calls per second on
 * one core and on all cores, as JSON on stdout (the cluster benchmark's
 * yardstick). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire/crypto.h"

#define MSGS 64

struct worker {
	uint8_t pk[LOY_PUBKEY_SIZE];
	uint8_t sig[MSGS][LOY_SIG_SIZE];
	uint8_t msg[MSGS][160];
	uint32_t count;
	int bad;
	pthread_t thread;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	for (uint32_t i = 0; i < w->count; i++)
		if (loy_verify(w->sig[i % MSGS], LOY_DOMAIN_TX, "bench",
			       w->msg[i % MSGS], sizeof w->msg[0], w->pk) != 0)
			w->bad = 1;
	return NULL;
}

static double rate(struct worker *w, uint32_t threads, uint32_t per_thread)
{
	double t0 = now();
	for (uint32_t i = 0; i < threads; i++) {
		w[i].count = per_thread;
		pthread_create(&w[i].thread, NULL, run, &w[i]);
	}
	for (uint32_t i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	return (double)threads * per_thread / (now() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t n = ncpu > 0 && ncpu < 256 ? (uint32_t)ncpu : 1;
	struct worker *w = calloc(n, sizeof *w);
	double one[5], all[5];

	if (w == NULL || loy_crypto_init() != 0)
		return 1;
	for (uint32_t t = 0; t < n; t++) {
		uint8_t sk[LOY_SECKEY_SIZE];
		loy_keypair(w[t].pk, sk);
		for (int m = 0; m < MSGS; m++) {
			memset(w[t].msg[m], m + (int)t, sizeof w[t].msg[m]);
			loy_sign(w[t].sig[m], LOY_DOMAIN_TX, "bench",
				 w[t].msg[m], sizeof w[t].msg[m], sk);
		}
	}
	for (int r = 0; r < 5; r++) {
		one[r] = rate(w, 1, 4000);
		all[r] = rate(w, n, 4000);
	}
	qsort(one, 5, sizeof one[0], cmp);
	qsort(all, 5, sizeof all[0], cmp);
	for (uint32_t t = 0; t < n; t++)
		if (w[t].bad)
			return 1;
	printf("{\"cores\": %u, \"verify_per_s_one_core\": %.0f, "
	       "\"verify_per_s_all_cores\": %.0f}\n",
	       n, one[2], all[2]);
	free(w);
	return 0;
}
