/* Project error codes and their messages: one table for every module. */
#ifndef LOY_WIRE_ERROR_H
#define LOY_WIRE_ERROR_H

/* Functions return 0 on success or one of these (all positive). Foreign
 * codes (errno, libuv, LMDB) are translated at the module boundary. */
enum loy_err {
	LOY_OK = 0,
	LOY_ENOMEM,      /* out of memory */
	LOY_EMALFORMED,  /* bytes are not a well-formed message */
	LOY_ETOOBIG,     /* a size, count or depth is over its limit */
	LOY_ENONCANON,   /* valid content, but not its one canonical encoding */
	LOY_EVERSION,    /* unknown message version */
	LOY_EKIND,       /* unknown or unexpected message kind */
	LOY_ERANGE,      /* an integer or field is out of its allowed range */
	LOY_ETRAILING,   /* bytes left after the message */
	LOY_EBADSIG,     /* a signature does not verify */
	LOY_ECHECKSUM,   /* a printable ID with a wrong checksum */
	LOY_EIO,         /* a file or device operation failed */
	LOY_EKEYPERM,    /* a key file is readable by group or others */
	LOY_EPASSPHRASE, /* wrong passphrase or damaged key file */
	LOY_EINVAL,      /* invalid argument */
	LOY_ENOTFOUND,   /* no such record */
	LOY_ECORRUPT,    /* stored data fails its checks */
	LOY_EREJECTED,   /* a transaction was rejected by the state machine */
	LOY_ESTATE,      /* the object is in a state that forbids this call */
	LOY_ERR_COUNT
};

/* Returns a static, human-readable message for a code; never NULL. */
const char *loy_strerror(int code);

#endif
