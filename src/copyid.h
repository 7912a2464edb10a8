/*
 * fssh-copy-id's parts: public keys to install (struct copyid_key),
 * the pure merge of those keys into authorized_keys text
 * (copyid-merge.c), and the installation over an SFTP session
 * (copyid-remote.c).
 *
 * Keys are compared by type name and public key blob, byte for byte:
 * options, comments and line endings do not matter.  Any key type
 * OpenSSH knows may be installed (security keys too); the types Ferry
 * supports are also checked to be valid keys.
 *
 * All functions returning int return 0 or a negative FERR_* code.
 */
#ifndef FERRY_COPYID_H
#define FERRY_COPYID_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

/* Most keys installed at once, and the longest key line accepted. */
#define COPYID_KEYS_MAX		256
#define COPYID_LINE_MAX		(64U * 1024)

/* One public key to install. */
struct copyid_key {
	char *line;		/* "type base64 [comment]", no newline */
	char *type;		/* the key type name */
	uint8_t *blob;		/* the public key blob */
	size_t bloblen;
};

/*
 * Parse a public key line ("type base64 [comment]", surrounding blanks
 * and a final CR/LF allowed; no options) into k, which the caller
 * clears with copyid_key_clear.  The type must be one OpenSSH knows
 * (key_type_name_known), the blob must name that same type, and a type
 * Ferry supports must hold a valid key: else FERR_FORMAT, FERR_KEY_*.
 * k->line is the line normalised: single spaces between the fields.
 */
int copyid_key_parse(const char *line, struct copyid_key *k) FERRY_WUR;

/*
 * The same from a blob and a comment (NULL or "" for none), as an
 * agent lists keys.
 */
int copyid_key_from_blob(const uint8_t *blob, size_t len,
    const char *comment, struct copyid_key *k) FERRY_WUR;

/* Free what k holds and zero it (a zeroed k is allowed). */
void copyid_key_clear(struct copyid_key *k);

/*
 * The keys of a public key file's text (len bytes at p): one per line;
 * blank lines and '#' comments are skipped; any other line that is
 * not a key is FERR_FORMAT with *badlinep (may be NULL) set to its
 * 1-based number.  Keys are appended to keys[*nkeysp..max-1] (more is
 * FERR_NO_SPACE).  On error the keys added so far stay for the caller
 * to clear.
 */
int copyid_keys_from_text(const uint8_t *p, size_t len,
    struct copyid_key *keys, size_t max, size_t *nkeysp,
    unsigned long *badlinep) FERRY_WUR;

/*
 * Whether one line of authorized_keys (a C string, without its line
 * ending) authorises k: it carries k's type and blob, with any options
 * except cert-authority (a CA line authorises certificates, not the key
 * itself).  1 or 0; malformed lines give 0.
 */
int copyid_line_has_key(const char *line, const struct copyid_key *k);

/* What copyid_merge decided. */
struct copyid_plan {
	size_t nadd;		/* keys to add */
	unsigned char *add;	/* per key: 1 when it is to be added */
	struct buf *text;	/* the whole new file */
	size_t keep;		/* its first keep bytes are the old file */
};

/*
 * Merge: which of keys[0..nkeys-1] the authorized_keys text old
 * (oldlen bytes, may be NULL when 0) lacks, and the new text: the old
 * bytes unchanged (malformed lines, comments, options, NUL bytes and
 * all), then, when keys are added, a line ending if the old text lacks
 * a final one, then one line per added key.  New lines end in CR LF
 * when the old text's first line does, else in LF.  With force set,
 * every key is added whether present or not.  A key listed twice in
 * keys is added once.  The appended part is text from offset keep, so
 * a caller may append it instead of rewriting.  Release the plan with
 * copyid_plan_clear.
 */
int copyid_merge(const uint8_t *old, size_t oldlen,
    const struct copyid_key *keys, size_t nkeys, int force,
    struct copyid_plan *plan) FERRY_WUR;
void copyid_plan_clear(struct copyid_plan *plan);

struct sftp_session;

/* The file installed, relative to the SFTP start directory (home). */
#define COPYID_DIR		".ssh"
#define COPYID_FILE		".ssh/authorized_keys"

/* How copyid_install wrote the file. */
enum copyid_how {
	COPYID_NOTHING = 0,	/* nothing to add, or a dry run */
	COPYID_CREATED,		/* a new file (temporary, renamed) */
	COPYID_REPLACED,	/* new text renamed over the old file */
	COPYID_APPENDED,	/* the new lines appended in place */
};

struct copyid_result {
	enum copyid_how how;
	int made_dir;		/* .ssh was created (mode 0700) */
	int existed;		/* authorized_keys existed */
	char msg[512];		/* why it failed: "what: reason" */
};

#define COPYID_FORCE	0x01	/* add keys whether present or not */
#define COPYID_DRY_RUN	0x02	/* decide, change nothing */

/*
 * Install keys over the SFTP session s: read COPYID_FILE (when
 * COPYID_DIR exists), merge (copyid_merge; *plan gets the result, for
 * the caller to report and release), and unless COPYID_DRY_RUN or
 * nothing is to be added, create COPYID_DIR with mode 0700 if missing
 * and write the file:
 *
 * - a new file is written under a temporary name in COPYID_DIR with
 *   mode 0600 and renamed into place (never over a file that appeared
 *   meanwhile, unless by posix-rename);
 * - an existing regular file owned by the user is replaced the same
 *   way, with its mode, when the server offers posix-rename@openssh.com
 *   (an atomic replace: readers see the old or the new file, never a
 *   partial one, and the old file stays intact until the new one is
 *   complete);
 * - otherwise (no posix-rename, a symbolic link, a file owned by
 *   another user, whose owner and links a rename would change, or when
 *   the server refuses the temporary file or the rename) the new lines
 *   are appended in place, after checking the file still has the size
 *   it was read at; the existing bytes are never rewritten.
 *
 * Before a rename the file is checked to be still as it was read
 * (size and time; absent for a new file), so that another writer's
 * change is not lost: FERR_FORMAT then, nothing changed.
 * fsync@openssh.com is used before a rename or after an append when
 * offered.  Returns 0, or a negative code with res->msg explaining:
 * FERR_PERMISSION when the server refused a request (res->msg has the
 * operation, the path and the server's reason), FERR_FORMAT when
 * COPYID_DIR or COPYID_FILE is not what it must be (not a directory,
 * not a regular file, changed while being updated), FERR_NO_SPACE for
 * a file above AUTHKEYS_FILE_MAX, or the session's code when it ended.
 */
int copyid_install(struct sftp_session *s, const struct copyid_key *keys,
    size_t nkeys, unsigned int flags, struct copyid_plan *plan,
    struct copyid_result *res) FERRY_WUR;

#endif /* FERRY_COPYID_H */
