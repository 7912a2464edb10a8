/*
 * known_hosts files in OpenSSH's format (sshd(8), SSH_KNOWN_HOSTS FILE
 * FORMAT): reading, the host key decision of a client, adding entries,
 * and the line-level access fssh-keygen -F/-R/-H needs.
 *
 * A line is blank, a comment ("#" after optional whitespace) or an entry:
 *
 *	[@cert-authority|@revoked] hosts keytype base64 [comment]
 *
 * hosts is a comma-separated list of patterns ("*" any run of
 * characters, "?" one character, a leading "!" negates: a host matching
 * a negated pattern never matches the line) or a single hashed name
 * "|1|base64(salt)|base64(HMAC-SHA1(key = salt, host name))".  A host on
 * a port other than 22 is written "[host]:port".  Plain patterns compare
 * case-insensitively; hashed names are exact.
 *
 * All functions returning int return 0 or a negative FERR_* code unless
 * stated otherwise.
 */
#ifndef FERRY_KNOWNHOSTS_H
#define FERRY_KNOWNHOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct key;

/* Largest known_hosts file read: 16 MiB. */
#define KNOWNHOSTS_FILE_MAX	(16U * 1024 * 1024)
/* Salt and hash of a hashed host name (SHA-1 sized). */
#define KNOWNHOSTS_SALT_LEN	20

enum knownhosts_marker {
	KNOWNHOSTS_MARKER_NONE = 0,
	KNOWNHOSTS_MARKER_CA,		/* @cert-authority */
	KNOWNHOSTS_MARKER_REVOKED,	/* @revoked */
};

/* What a line of a file is. */
enum knownhosts_line_kind {
	KNOWNHOSTS_LINE_ENTRY = 0,	/* a host entry */
	KNOWNHOSTS_LINE_SKIP,		/* blank or comment */
	KNOWNHOSTS_LINE_INVALID,	/* malformed: ignored for decisions */
};

/*
 * One parsed entry.  key is NULL when the key type is one OpenSSH knows
 * but Ferry does not support (ssh-dss, security keys, certificates):
 * such lines are valid but never match.  comment is "" when absent.
 */
struct knownhosts_entry {
	enum knownhosts_marker marker;
	char *hosts;		/* the hosts field as written */
	int hashed;		/* hosts is a |1|salt|hash name */
	char *keytype;		/* the key type word */
	struct key *key;
	char *comment;
};

/*
 * Parse one line (without or with its trailing newline).  For an entry,
 * *entp gets a new entry to free with knownhosts_entry_free and
 * *kindp KNOWNHOSTS_LINE_ENTRY; for a blank or comment line *entp is
 * NULL and *kindp KNOWNHOSTS_LINE_SKIP; a malformed line returns
 * FERR_FORMAT (or FERR_KEY_* from the key parser) with *kindp
 * KNOWNHOSTS_LINE_INVALID.  FERR_ALLOC is an error, not a kind.
 */
int knownhosts_parse_line(const char *line, struct knownhosts_entry **entp,
    enum knownhosts_line_kind *kindp) FERRY_WUR;
void knownhosts_entry_free(struct knownhosts_entry *ent);

/*
 * Whether name matches the entry's hosts field: 1 or 0.  name is
 * compared as given (callers lowercase host names first).
 */
int knownhosts_entry_matches(const struct knownhosts_entry *ent,
    const char *name);

/*
 * Pattern matching, also used for authorized_keys from="".
 * knownhosts_match_pattern: 1 when s matches the single pattern pat
 * ("*", "?"; case-insensitive), else 0.  knownhosts_match_list: 1 when
 * s matches a positive pattern of the comma-separated list and no
 * negated one, -1 when it matches a negated one, 0 otherwise.
 */
int knownhosts_match_pattern(const char *s, const char *pat);
int knownhosts_match_list(const char *s, const char *list);

/*
 * The name a host is looked up and stored under: alias when not NULL
 * (OpenSSH's HostKeyAlias, used as is), else host for port 0 or 22,
 * else "[host]:port"; lowercased.  *namep gets an allocated string.
 */
int knownhosts_lookup_name(const char *host, unsigned int port,
    const char *alias, char **namep) FERRY_WUR;

/*
 * Append the hashed form "|1|salt|hash" of name to out, with the
 * KNOWNHOSTS_SALT_LEN bytes at salt, or a fresh random salt when salt is
 * NULL.
 */
int knownhosts_hash_name(const char *name, const uint8_t *salt,
    struct buf *out) FERRY_WUR;

/*
 * Call cb for every line of text (the unconsumed bytes of b, not
 * consumed), numbered from 1: raw is the line without its newline, ent
 * the parsed entry (NULL unless kind is KNOWNHOSTS_LINE_ENTRY; owned by
 * the caller of cb).  A non-zero return of cb stops the walk and is
 * returned.  A NUL byte makes its line invalid.
 */
typedef int knownhosts_cb(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx);
int knownhosts_foreach_buf(const struct buf *b, knownhosts_cb *cb,
    void *ctx) FERRY_WUR;

/*
 * The same over a file (at most KNOWNHOSTS_FILE_MAX bytes); FERR_SYSTEM
 * with errno set when it cannot be read.
 */
int knownhosts_foreach(const char *path, knownhosts_cb *cb, void *ctx)
    FERRY_WUR;

/* The client's decision about a host key. */
enum knownhosts_status {
	KNOWNHOSTS_ERROR = 0,	/* verification failed: refuse */
	KNOWNHOSTS_MATCH,	/* the key is known for this host */
	KNOWNHOSTS_MISMATCH,	/* another key of this type is known */
	KNOWNHOSTS_REVOKED,	/* the key is marked @revoked */
	KNOWNHOSTS_UNKNOWN,	/* no key of this type is known */
};

/*
 * Details for the caller's messages.  file and line locate the entry
 * that decided (the matching, conflicting or revoking line; NULL and 0
 * for UNKNOWN), known_fp is the SHA256 fingerprint of that entry's key
 * and offered_fp that of the offered key.  other_types counts entries
 * for the host with keys of other types (worth a note when UNKNOWN).
 */
struct knownhosts_result {
	enum knownhosts_status status;
	char *file;
	unsigned long line;
	char *known_fp;
	char *offered_fp;
	unsigned int other_types;
};

/*
 * Decide whether key is acceptable for the host: files (nfiles paths,
 * user files first, then global ones; missing files are skipped) are
 * searched for entries matching the lookup name of host, port and alias
 * (see knownhosts_lookup_name).  A @revoked entry with the key wins;
 * then an entry with the key (MATCH); then one with another key of the
 * same type (MISMATCH); else UNKNOWN.  @cert-authority entries are not
 * consulted here.  Any error (an unreadable file, memory) returns a
 * negative code with status KNOWNHOSTS_ERROR: never MATCH.  Malformed
 * lines are skipped with a debug message.  Release res with
 * knownhosts_result_clear.
 */
int knownhosts_check(const char *const *files, size_t nfiles,
    const char *host, unsigned int port, const char *alias,
    const struct key *key, struct knownhosts_result *res) FERRY_WUR;
void knownhosts_result_clear(struct knownhosts_result *res);

/*
 * Add an entry "name keytype base64" for key (its comment is not
 * written) to the file at path, hashed when hash is set.  name is a
 * lookup name (knownhosts_lookup_name).  The file is created (mode
 * 0644 less the umask) when missing; otherwise its contents are copied
 * to a temporary file with the new line (after a newline when the file
 * lacked a final one) and renamed over it, under an exclusive lock, so
 * readers see the old or the new file and concurrent adders lose
 * nothing.  The file's mode is kept.
 */
int knownhosts_add(const char *path, const char *name,
    const struct key *key, int hash) FERRY_WUR;

#endif /* FERRY_KNOWNHOSTS_H */
