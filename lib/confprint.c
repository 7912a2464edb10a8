/*
 * Defaults and printing helpers shared by the ssh_config and sshd_config
 * printers: see confprint.h for each contract.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "confprint.h"

void
confprint_default_int(int *p, int v)
{
	if (*p == CONFPRINT_UNSET)
		*p = v;
}

int
confprint_default_list(struct config_strv *l, const char *const *defs)
{
	int r;

	if (l->n > 0)
		return 0;
	for (; *defs != NULL; defs++)
		if ((r = config_strv_add(l, *defs, SIZE_MAX)) != 0)
			return r;
	return 0;
}

int
confprint_default_algs(char **specp, const char *kind, int server,
    const char *kw)
{
	char *out;
	int r;

	if ((r = config_assemble_algs(kind, server, *specp, &out)) != 0) {
		if (kw != NULL && r != FERR_ALLOC)
			log_error("Bad %s list '%s'", kw, *specp != NULL ?
			    *specp : "");
		return r;
	}
	free(*specp);
	*specp = out;
	return 0;
}

int
confprint_lines(struct buf *b, const char *kw, const struct config_strv *l)
{
	size_t i;
	int r;

	for (i = 0; i < l->n; i++)
		if ((r = buf_putf(b, "%s %s\n", kw, l->v[i])) != 0)
			return r;
	return 0;
}

int
confprint_oneline(struct buf *b, const char *kw, const struct config_strv *l)
{
	size_t i;
	int r;

	if ((r = buf_putf(b, "%s", kw)) != 0)
		return r;
	for (i = 0; i < l->n; i++)
		if ((r = buf_putf(b, " %s", l->v[i])) != 0)
			return r;
	return buf_put(b, "\n", 1);
}

const char *
confprint_yn(int v)
{
	return v ? "yes" : "no";
}
