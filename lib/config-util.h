/*
 * Helpers shared by the ssh_config and sshd_config parsers: OpenSSH's
 * line tokeniser (keyword, optional '=', quoted arguments, '#' comments),
 * pattern lists, time and size values, keyword-value tables, %-token
 * expansion and string vectors.  Internal to the library.
 */
#ifndef FERRY_CONFIG_UTIL_H
#define FERRY_CONFIG_UTIL_H

#include <stddef.h>

#include "ferry/buf.h"

/* Nesting limit of Include, as OpenSSH's (16). */
#define CONFIG_MAX_DEPTH	16
/* Largest configuration file read (also the fuzzers' bound). */
#define CONFIG_MAX_FILE		(4 * 1024 * 1024)

/* A growable vector of strings; {NULL, 0} is empty. */
struct config_strv {
	char	**v;
	size_t	  n;
};

/* A name and its value, for keyword arguments such as yes/no/ask. */
struct config_enum {
	const char	*name;
	int		 value;
};

/* A %-token and its expansion, for config_expand(). */
struct config_token {
	char		 key;
	const char	*value;
};

/*
 * Read a whole file (at most CONFIG_MAX_FILE bytes) into a new buffer.
 * FERR_SYSTEM with errno set when it cannot be opened or read.  When
 * check_perm is set the file must belong to uid or root and must not be
 * writable by group or others (OpenSSH's check on ~/.ssh/config):
 * FERR_PERMISSION otherwise.
 */
int config_read_file(const char *path, int check_perm, unsigned int uid,
    struct buf **bp);

/*
 * Take the next line (without its newline) out of b: *linep gets an
 * allocated copy; FERR_EOF when b is empty.  A NUL byte inside a line
 * makes the line FERR_FORMAT (the line is still consumed).
 */
int config_next_line(struct buf *b, char **linep);

/*
 * Split a configuration line in place as OpenSSH does: trailing white
 * space is dropped, the keyword ends at white space or '=', and the
 * arguments start after white space with at most one '='.  Returns 1
 * for a blank or comment line, 0 with *kwp and *restp set (rest may be
 * empty), or FERR_CONFIG.
 */
int config_split_line(char *line, char **kwp, char **restp);

/*
 * Split arguments into words: white space separates, single and double
 * quotes group, a backslash escapes a quote, a backslash or (outside
 * quotes) a space, and a '#' at the start of a word ends the line.
 * FERR_CONFIG for an unterminated quote.  Free with config_strv_free().
 */
int config_argv_split(const char *s, struct config_strv *out);

void config_strv_free(struct config_strv *v);
/* Append a copy of s; FERR_NUMBER_RANGE when max entries are reached. */
int config_strv_add(struct config_strv *v, const char *s, size_t max);
/* Replace dst by a deep copy of src. */
int config_strv_copy(struct config_strv *dst, const struct config_strv *src);

/* Glob-style match of s against one pattern ('*' and '?'). */
int config_match_pattern(const char *s, const char *pattern);

/*
 * Match s against a comma-separated pattern list where "!pat" negates:
 * 1 for a match, 0 for none, -1 when a negated pattern matched.  With
 * dolower the patterns are lowercased first (s must already be).
 */
int config_match_list(const char *s, const char *list, int dolower);

/*
 * Match an address (text form) against a list whose entries are CIDR
 * blocks ("10.0.0.0/8", "::1/128") or wildcard patterns, '!' negating
 * as above: 1, 0 or -1; FERR_CONFIG for a malformed CIDR entry.
 */
int config_match_addr_list(const char *addr, const char *list);

/*
 * OpenSSH time format: "90", "1h30m", "2d" (s, m, h, d, w suffixes,
 * any case).  Seconds, or -1 for an invalid or overflowing value.
 */
long long config_convtime(const char *s);

/*
 * A byte count with optional B, K, M, G or T suffix (powers of 1024)
 * and optional fraction ("1.5G").  0 or FERR_CONFIG.
 */
int config_scan_scaled(const char *s, unsigned long long *vp);

/* Look up name (case-insensitive); 0 and *vp set, or FERR_CONFIG. */
int config_enum_value(const struct config_enum *tab, const char *name,
    int *vp);
/* The first name for value, or "UNKNOWN". */
const char *config_enum_name(const struct config_enum *tab, int value);

/*
 * Expand %-tokens of s using tokens[0..n-1] ("%%" is '%').  An unknown
 * or truncated token is FERR_CONFIG.  *outp is allocated.
 */
int config_expand(const char *s, const struct config_token *tokens,
    size_t n, char **outp);

/*
 * Replace a leading "~/" (or a lone "~") by home.  "~user/" is looked up
 * in the password database.  *outp is allocated.
 */
int config_tilde(const char *s, const char *home, char **outp);

/*
 * Expand an Include argument: make a relative path relative to dir,
 * expand ~ with home, and glob it.  The sorted matches are appended to
 * out (none when nothing matches).
 */
int config_include_glob(const char *arg, const char *dir, const char *home,
    struct config_strv *out);

/*
 * Check an algorithm list as written in a configuration file (plain, or
 * with a leading '+', '-' or '^') against the transport's algorithms of
 * kind ("kex", "cipher", "mac", "key").  0 or FERR_CONFIG.
 */
int config_check_algs(const char *kind, const char *spec);

/*
 * The algorithm list spec (NULL: none written) makes from the defaults
 * (a server's when server is not 0, else a client's) and the supported
 * algorithms of kind: *outp gets it allocated (NULL on an error).  0,
 * FERR_CONFIG or FERR_ALLOC.
 */
int config_assemble_algs(const char *kind, int server, const char *spec,
    char **outp);

/* Lowercase s in place and return it. */
char *config_lower(char *s);

#endif /* FERRY_CONFIG_UTIL_H */
