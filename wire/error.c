/* Messages for the project error codes. */
#include "wire/error.h"

static const char *const messages[LOY_ERR_COUNT] = {
    [LOY_OK] = "success",
    [LOY_ENOMEM] = "out of memory",
    [LOY_EMALFORMED] = "malformed message",
    [LOY_ETOOBIG] = "size, count or depth over its limit",
    [LOY_ENONCANON] = "non-canonical encoding",
    [LOY_EVERSION] = "unknown message version",
    [LOY_EKIND] = "unknown or unexpected message kind",
    [LOY_ERANGE] = "field out of range",
    [LOY_ETRAILING] = "trailing bytes after message",
    [LOY_EBADSIG] = "signature does not verify",
    [LOY_ECHECKSUM] = "ID checksum mismatch (mistyped ID?)",
    [LOY_EIO] = "input/output error",
    [LOY_EKEYPERM] = "key file is readable by group or others (chmod 600 it)",
    [LOY_EPASSPHRASE] = "wrong passphrase or damaged key file",
    [LOY_EINVAL] = "invalid argument",
    [LOY_ENOTFOUND] = "not found",
    [LOY_ECORRUPT] = "stored data is corrupt",
    [LOY_EREJECTED] = "transaction rejected",
    [LOY_ESTATE] = "operation not allowed in the current state",
};

const char *loy_strerror(int code)
{
	if (code < 0 || code >= LOY_ERR_COUNT || messages[code] == 0)
		return "unknown error";
	return messages[code];
}
