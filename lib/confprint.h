/*
 * Defaults and printing helpers shared by the ssh_config and sshd_config
 * printers (sshconf-print.c for `ssh -G`, sshdconf-print.c for
 * `sshd -T`).  Internal to the library.
 */
#ifndef FERRY_CONFPRINT_H
#define FERRY_CONFPRINT_H

#include "ferry/buf.h"
#include "config-util.h"

/* The unset number of both readers (SSHCONF_UNSET, SSHDCONF_UNSET). */
#define CONFPRINT_UNSET		(-2147483647 - 1)

/* Set *p to v when it is still CONFPRINT_UNSET. */
void confprint_default_int(int *p, int v);

/*
 * Fill an empty list with the NULL-terminated defs (a list with entries
 * stays as it is): 0 or FERR_ALLOC.
 */
int confprint_default_list(struct config_strv *l, const char *const *defs);

/*
 * Replace *specp (NULL: none written) by the algorithm list it makes
 * for kind from a server's defaults when server is not 0, else from a
 * client's (config_assemble_algs()).  On an error *specp is unchanged;
 * when the list is bad (not out of memory) and kw is not NULL, "Bad KW
 * list" is logged.
 */
int confprint_default_algs(char **specp, const char *kind, int server,
    const char *kw);

/* Append "KW VALUE\n" for each entry of l. */
int confprint_lines(struct buf *b, const char *kw,
    const struct config_strv *l);

/* Append "KW V1 V2 ...\n" (the keyword alone for an empty list). */
int confprint_oneline(struct buf *b, const char *kw,
    const struct config_strv *l);

/* "yes" for non-zero, else "no". */
const char *confprint_yn(int v);

#endif /* FERRY_CONFPRINT_H */
