/* Hard limits on every message from outside; decoders check them before
 * allocating. Changing one is a protocol change. */
#ifndef LOY_WIRE_LIMITS_H
#define LOY_WIRE_LIMITS_H

#define LOY_WIRE_VERSION 1

#define LOY_MAX_FRAME             (8u << 20) /* one peer or client frame */
#define LOY_MAX_TX_BYTES          16384u     /* one encoded transaction */
#define LOY_MAX_BLOCK_TXS         8192u      /* transactions in one block */
#define LOY_MAX_BLOCK_BYTES       (6u << 20) /* one encoded block */
#define LOY_MAX_VALIDATORS        64u        /* validators in one set */
#define LOY_MAX_SYNC_BLOCKS       64u        /* blocks in one sync response */
#define LOY_MAX_SUBMIT_BATCH      1024u /* transactions in one client submit */
#define LOY_MAX_COUPONS_PER_ISSUE 1000u /* coupons in one coupon.issue */
#define LOY_MAX_REDEEM_SITES      16u   /* members a coupon is valid at */

#define LOY_REF_MAX    64u  /* client reference, bytes */
#define LOY_MEMO_MAX   128u /* reason / memo, bytes */
#define LOY_NAME_MAX   64u  /* company or partnership name, bytes */
#define LOY_ADDR_MAX   128u /* host:port, bytes */
#define LOY_CODE_MAX   64u  /* bearer coupon secret code, bytes */
#define LOY_ERRMSG_MAX 256u /* rejection message in a client response */

#endif
