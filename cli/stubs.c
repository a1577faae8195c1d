/* Temporary: commands not written yet. */
#include "cli/cli.h"
#define STUB(f) int f(struct cli *c, int argc, char **argv) { (void)argc; (void)argv; cli_err(c, "not implemented yet"); return CLI_FAIL; }
STUB(cmd_bench)
