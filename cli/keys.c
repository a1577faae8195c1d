/* loyctl keygen and id, and the passphrase and key loading every signing
 * command uses. Private keys never reach the output. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "ledger/txjson.h"
#include "wire/error.h"

static int read_first_line(const char *path, char *out, size_t outsz)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	if (fgets(out, (int)outsz, f) == NULL)
		out[0] = '\0';
	fclose(f);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

static int prompt_tty(const char *prompt, char *out, size_t outsz)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, noecho;
	int rv = -1;

	if (tty == NULL)
		return -1;
	fprintf(tty, "%s", prompt);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
		if (fgets(out, (int)outsz, tty) != NULL) {
			out[strcspn(out, "\r\n")] = '\0';
			rv = 0;
		}
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		fprintf(tty, "\n");
	}
	fclose(tty);
	return rv;
}

int cli_passphrase(struct cli *c, const char *prompt, bool confirm, char *out,
		   size_t outsz)
{
	const char *env = getenv("LOYCTL_PASSPHRASE");

	if (c->passphrase_file) {
		if (read_first_line(c->passphrase_file, out, outsz) != 0) {
			cli_err(c, "cannot read passphrase file %s: %s",
				c->passphrase_file, strerror(errno));
			return CLI_FAIL;
		}
		return 0;
	}
	if (env) {
		if (cli_copy_field(out, outsz, env) != 0) {
			cli_err(c, "LOYCTL_PASSPHRASE is too long");
			return CLI_FAIL;
		}
		return 0;
	}
	if (!isatty(STDIN_FILENO) || prompt_tty(prompt, out, outsz) != 0) {
		cli_err(c, "no passphrase: use --passphrase-file FILE or "
			   "LOYCTL_PASSPHRASE "
			   "(or run on a terminal to be asked)");
		return CLI_USAGE;
	}
	if (confirm) {
		char again[256];
		int same;
		if (prompt_tty("Repeat the passphrase: ", again,
			       sizeof again) != 0) {
			loy_wipe(out, outsz);
			return CLI_FAIL;
		}
		same = strcmp(again, out) == 0;
		loy_wipe(again, sizeof again);
		if (!same) {
			loy_wipe(out, outsz);
			cli_err(c, "the passphrases differ");
			return CLI_FAIL;
		}
	}
	return 0;
}

int cli_load_key(struct cli *c)
{
	char pass[256];
	int rv;

	if (c->have_key)
		return 0;
	if (c->key_file == NULL)
		c->key_file = getenv("LOYCTL_KEY");
	if (c->key_file == NULL) {
		cli_err(
		    c,
		    "this command signs: give --key FILE (or set LOYCTL_KEY)");
		return CLI_USAGE;
	}
	rv = cli_passphrase(c, "Passphrase for the key: ", false, pass,
			    sizeof pass);
	if (rv != 0)
		return rv;
	rv = loy_keyfile_read(c->key_file, pass, 0, c->sk);
	loy_wipe(pass, sizeof pass);
	if (rv == LOY_EKEYPERM) {
		cli_err(c,
			"%s is readable by group or others; refusing it (chmod "
			"600 %s)",
			c->key_file, c->key_file);
		return CLI_FAIL;
	}
	if (rv != 0) {
		cli_err(c, "%s: %s", c->key_file,
			rv == LOY_EIO ? strerror(errno) : loy_strerror(rv));
		return CLI_FAIL;
	}
	c->have_key = true;
	return 0;
}

static void print_identity(struct cli *c, const char *path,
			   const uint8_t pk[LOY_PUBKEY_SIZE], bool created)
{
	uint8_t id[LOY_ID_SIZE];
	char ids[LOY_ID_STR_SIZE], hex[2 * LOY_PUBKEY_SIZE + 1];

	loy_id_from_pubkey(id, pk);
	loy_id_format(ids, id);
	loy_hex(hex, pk, LOY_PUBKEY_SIZE);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "id", ids,
				      "public_key", hex, "file", path);
		cli_print_json(c, o);
		json_decref(o);
		return;
	}
	if (created)
		fprintf(c->err, "wrote %s (mode 0600)\n", path);
	fprintf(c->out, "%s\n", ids);
	if (created)
		fprintf(c->out, "public key %s\n", hex);
}

static const struct cli_usage keygen_usage = {
    "loyctl keygen --out FILE [--kdf-cost default|min]",
    "Creates a new Ed25519 key pair and writes it to FILE (mode 0600), "
    "encrypted\n"
    "with a passphrase (--passphrase-file, LOYCTL_PASSPHRASE, or asked twice "
    "on\n"
    "the terminal). Prints the loyalty ID and the public key. Never "
    "overwrites.",
    "  --out FILE          the key file to create (also accepted as the first "
    "word)\n"
    "  --kdf-cost COST     'default' (moderate) or 'min' (tests and dev "
    "only)\n",
    "  loyctl keygen --out alice.key\n"
    "  LOYCTL_PASSPHRASE=dev loyctl keygen --out t.key --kdf-cost min --json\n",
};

int cmd_keygen(struct cli *c, int argc, char **argv)
{
	const char *out = NULL, *cost_s = NULL, *pos[1];
	const struct cli_opt opts[] = {{"out", OPT_STR, &out},
				       {"kdf-cost", OPT_STR, &cost_s},
				       {NULL, 0, NULL}};
	struct loy_kdf_cost cost = loy_kdf_cost_default();
	uint8_t pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
	char pass[256];
	struct stat st;
	int np = 0, rv;

	rv = cli_parse(c, argc, argv, opts, pos, 1, &np, &keygen_usage);
	if (rv)
		return rv;
	if (out == NULL && np == 1)
		out = pos[0];
	if (out == NULL)
		return cli_usage_error(c, &keygen_usage,
				       "keygen needs --out FILE");
	if (cost_s && strcmp(cost_s, "min") == 0)
		cost = loy_kdf_cost_min();
	else if (cost_s && strcmp(cost_s, "default") != 0)
		return cli_usage_error(c, &keygen_usage,
				       "--kdf-cost is 'default' or 'min'");
	if (stat(out, &st) == 0) {
		cli_err(c,
			"%s already exists; refusing to overwrite a key file",
			out);
		return CLI_FAIL;
	}
	rv = cli_passphrase(c, "Passphrase for the new key: ", true, pass,
			    sizeof pass);
	if (rv)
		return rv;
	if (pass[0] == '\0') {
		cli_err(c, "an empty passphrase is not allowed");
		return CLI_FAIL;
	}
	loy_keypair(pk, sk);
	rv = loy_keyfile_write(out, sk, pass, cost);
	loy_wipe(sk, sizeof sk);
	loy_wipe(pass, sizeof pass);
	if (rv != 0) {
		cli_err(c, "cannot write %s: %s", out,
			rv == LOY_EIO ? strerror(errno) : loy_strerror(rv));
		return CLI_FAIL;
	}
	print_identity(c, out, pk, true);
	return CLI_OK;
}

static const struct cli_usage id_usage = {
    "loyctl id FILE",
    "Prints the loyalty ID (and with --json the public key) of a key file.\n"
    "Needs no passphrase: only the public part is read.",
    NULL,
    "  loyctl id alice.key\n",
};

int cmd_id(struct cli *c, int argc, char **argv)
{
	const char *pos[1] = {NULL};
	const struct cli_opt opts[] = {{NULL, 0, NULL}};
	uint8_t pk[LOY_PUBKEY_SIZE];
	int np = 0, rv;

	rv = cli_parse(c, argc, argv, opts, pos, 1, &np, &id_usage);
	if (rv)
		return rv;
	if (np == 0)
		pos[0] = c->key_file ? c->key_file : getenv("LOYCTL_KEY");
	if (pos[0] == NULL)
		return cli_usage_error(c, &id_usage, "id needs a key file");
	rv = loy_keyfile_pubkey(pos[0], pk);
	if (rv != 0) {
		cli_err(c, "%s: %s", pos[0],
			rv == LOY_EIO ? strerror(errno) : loy_strerror(rv));
		return CLI_FAIL;
	}
	print_identity(c, pos[0], pk, false);
	return CLI_OK;
}
