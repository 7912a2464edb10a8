/*
 * authorized_keys files in OpenSSH's format (sshd(8), AUTHORIZED_KEYS
 * FILE FORMAT): a line is blank, a comment, or
 *
 *	[options] keytype base64 [comment]
 *
 * where options is a comma-separated list without spaces outside double
 * quotes (a quote inside a value is written \").  Option names compare
 * case-insensitively.  Understood options: restrict; command="";
 * from="" (host name and address patterns, CIDR blocks, "!" negation);
 * environment="NAME=value" (repeatable); expiry-time="YYYYMMDD[HHMM[SS]]"
 * with an optional "Z" for UTC (local time otherwise; the earliest of
 * several wins); principals="" (with cert-authority); cert-authority;
 * permitopen="host:port" and permitlisten="[host:]port" (repeatable;
 * port "*" for any); tunnel="n"; no-pty, no-port-forwarding,
 * no-agent-forwarding, no-X11-forwarding, no-user-rc and the positive
 * pty, port-forwarding, agent-forwarding, X11-forwarding, user-rc that
 * undo restrict (options apply in order); no-touch-required and
 * verify-required for security keys.
 *
 * All functions returning int return 0 or a negative FERR_* code unless
 * stated otherwise.
 */
#ifndef FERRY_AUTHKEYS_H
#define FERRY_AUTHKEYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ferry/buf.h"

struct key;

/* Largest authorized_keys file read: 4 MiB; most values per option. */
#define AUTHKEYS_FILE_MAX	(4U * 1024 * 1024)
#define AUTHKEYS_LIST_MAX	1024

/*
 * What a key line allows.  The permit_* flags start at 1 (0 after
 * restrict or a no-* option); strings are NULL when absent; the lists
 * hold n* strings each.
 */
struct authkeys_opts {
	int permit_pty;
	int permit_port_forwarding;
	int permit_agent_forwarding;
	int permit_x11_forwarding;
	int permit_user_rc;
	int restricted;			/* restrict was given */
	int cert_authority;
	int no_require_user_presence;	/* no-touch-required */
	int require_verify;		/* verify-required */
	char *force_command;		/* command="" */
	char *from;			/* from="" pattern list */
	char *principals;		/* principals="" */
	uint64_t valid_before;		/* expiry-time: 0 for none */
	int tunnel;			/* tunnel="n": -1 for none */
	char **env;			/* "NAME=value" */
	size_t nenv;
	char **permitopen;		/* "host:port" */
	size_t npermitopen;
	char **permitlisten;		/* "[host:]port" */
	size_t npermitlisten;
};

/* A fresh set of options as for a line without any; NULL if no memory. */
struct authkeys_opts *authkeys_opts_new(void);
void authkeys_opts_free(struct authkeys_opts *opts);

/*
 * Parse the options at the start of s, up to the first unquoted space
 * or tab.  *optsp gets the options (free with authkeys_opts_free),
 * *restp (may be NULL) points past the options and the blanks after
 * them.  On error (FERR_FORMAT) *errstrp (may be NULL) gets a static
 * explanation ("unknown option", "unterminated quote", ...).
 */
int authkeys_parse_options(const char *s, struct authkeys_opts **optsp,
    const char **restp, const char **errstrp) FERRY_WUR;

/* A parsed line: the options and the key (never NULL). */
struct authkeys_entry {
	struct authkeys_opts *opts;
	struct key *key;
};

/*
 * Parse one line.  A blank or comment line returns 0 with *entp NULL.
 * A line whose key type OpenSSH knows but Ferry does not support
 * returns FERR_KEY_TYPE_UNKNOWN (skip it quietly); anything else
 * malformed is FERR_FORMAT or a key error, with *errstrp (may be NULL)
 * explaining.
 */
int authkeys_parse_line(const char *line, struct authkeys_entry **entp,
    const char **errstrp) FERRY_WUR;
void authkeys_entry_free(struct authkeys_entry *ent);

/*
 * Check a from="" pattern list for a client: addr is its address
 * (required), host its resolved name or NULL.  Address entries may be
 * CIDR blocks ("192.0.2.0/24", "2001:db8::/32"; host bits must be zero)
 * or wildcard patterns; name entries are wildcard patterns compared
 * without regard to case.  1 when allowed, 0 when nothing matched, -1
 * when a negated entry matched or the list is malformed (an empty entry,
 * a bad CIDR block).
 */
int authkeys_match_from(const char *patterns, const char *addr,
    const char *host);

/* The client and moment a key is offered at. */
struct authkeys_client {
	const char *addr;	/* numeric address, required */
	const char *host;	/* resolved name, or NULL */
	time_t now;
};

/*
 * The decision.  allowed is 1 when a line allows the key: opts are its
 * options for the server to enforce (owned by the decision) and file
 * and line locate it.  Otherwise allowed is 0 and reason says why
 * ("no matching key" or why the last matching line refused it: expired,
 * source address, ...); file and line then locate that line, if any.
 */
struct authkeys_decision {
	int allowed;
	struct authkeys_opts *opts;
	char *file;
	unsigned long line;
	char reason[256];
};

/*
 * Decide whether key may log in: files (nfiles paths; missing ones are
 * skipped) are searched in order for a line with the key whose options
 * allow the client now (from="", expiry-time); lines that refuse it are
 * passed over.  cert-authority lines are not consulted for plain keys.
 * Malformed lines are logged (LOGL_INFO, "file:line: reason") and
 * skipped, never fatal.  An unreadable file or another error returns a
 * negative code with allowed 0.  Release d with authkeys_decision_clear.
 */
int authkeys_check(const char *const *files, size_t nfiles,
    const struct key *key, const struct authkeys_client *client,
    struct authkeys_decision *d) FERRY_WUR;

/*
 * The same over text in memory (the unconsumed bytes of b, not
 * consumed); name labels log messages and d->file.
 */
int authkeys_check_buf(const struct buf *b, const char *name,
    const struct key *key, const struct authkeys_client *client,
    struct authkeys_decision *d) FERRY_WUR;
void authkeys_decision_clear(struct authkeys_decision *d);

#endif /* FERRY_AUTHKEYS_H */
