/*
 * Test driver for the configuration parsers, used by the config-*.sh
 * regress scripts to compare Ferry with OpenSSH:
 *
 *   config-dump ssh [-F file] [-o option]... host    like ssh -G
 *   config-dump sshd -f file [-o option]... [-C spec] [-t]
 *                                                    like sshd -T / -t
 *
 * Messages go to stderr; the exit status is 0, or 255 on errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "ferry/sshdconf.h"

static void
dump_log(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static int
dump_out(struct buf *b)
{
	return fwrite(buf_ptr(b), 1, buf_len(b), stdout) == buf_len(b) ?
	    0 : 255;
}

static int
dump_ssh(int argc, char **argv)
{
	struct sshconf_env env;
	struct sshconf *c;
	struct buf *b;
	const char *file = NULL;
	int ch, r;

	if ((c = sshconf_new()) == NULL || (b = buf_new()) == NULL)
		return 255;
	while ((ch = getopt(argc, argv, "F:o:")) != -1) {
		switch (ch) {
		case 'F':
			file = optarg;
			break;
		case 'o':
			if (sshconf_env_init(&env, "") != 0 ||
			    sshconf_option(c, &env, optarg) != 0)
				return 255;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	if (sshconf_env_init(&env, argv[optind]) != 0)
		return 255;
	if ((r = sshconf_load(c, &env, file)) != 0 ||
	    (r = sshconf_fill_defaults(c, &env)) != 0 ||
	    (r = sshconf_dump(c, &env, b)) != 0) {
		fprintf(stderr, "config-dump: %s\n", err_str(r));
		return 255;
	}
	r = dump_out(b);
	buf_free(b);
	sshconf_free(c);
	return r;
}

static int
dump_sshd(int argc, char **argv)
{
	struct sshdconf *c = NULL, *eff = NULL;
	struct sshdconf_conn conn;
	struct buf *b;
	const char *file = NULL, *spec = NULL;
	char **opts = NULL;
	int ch, r, test = 0, nopts = 0;

	if ((b = buf_new()) == NULL ||
	    (opts = calloc((size_t)argc, sizeof(*opts))) == NULL)
		return 255;
	while ((ch = getopt(argc, argv, "f:o:C:t")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'o':
			opts[nopts++] = optarg;
			break;
		case 'C':
			spec = optarg;
			break;
		case 't':
			test = 1;
			break;
		default:
			return 2;
		}
	}
	if (file == NULL || optind != argc)
		return 2;
	r = sshdconf_load(file, (const char *const *)opts, (size_t)nopts, &c);
	if (r != 0) {
		fprintf(stderr, "config-dump: %s\n", err_str(r));
		return 255;
	}
	if (test)
		return 0;
	if (spec != NULL) {
		if ((r = sshdconf_conn_parse(spec, &conn)) != 0 ||
		    (r = sshdconf_match(c, &conn, &eff)) != 0) {
			fprintf(stderr, "config-dump: %s\n", err_str(r));
			return 255;
		}
		sshdconf_conn_clear(&conn);
	}
	if ((r = sshdconf_dump(eff != NULL ? eff : c, b)) != 0)
		return 255;
	r = dump_out(b);
	sshdconf_free(eff);
	sshdconf_free(c);
	buf_free(b);
	free(opts);
	return r;
}

int
main(int argc, char **argv)
{
	log_set_handler(dump_log, NULL);
	log_set_level(LOGL_INFO);
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "ssh") == 0)
		return dump_ssh(argc - 1, argv + 1);
	if (strcmp(argv[1], "sshd") == 0)
		return dump_sshd(argc - 1, argv + 1);
	return 2;
}
