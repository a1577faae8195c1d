/* Temporary: commands not written yet. */
#include "cli/cli.h"
#define STUB(f) int f(struct cli *c, int argc, char **argv) { (void)argc; (void)argv; cli_err(c, "not implemented yet"); return CLI_FAIL; }
STUB(cmd_status) STUB(cmd_balance) STUB(cmd_history) STUB(cmd_tx) STUB(cmd_block) STUB(cmd_members)
STUB(cmd_settlement) STUB(cmd_report) STUB(cmd_totals) STUB(cmd_customer) STUB(cmd_member) STUB(cmd_terminal)
STUB(cmd_rule) STUB(cmd_partnership) STUB(cmd_reward) STUB(cmd_redeem) STUB(cmd_transfer) STUB(cmd_settle)
STUB(cmd_coupon) STUB(cmd_watch) STUB(cmd_sign) STUB(cmd_submit) STUB(cmd_audit) STUB(cmd_export) STUB(cmd_bench)
