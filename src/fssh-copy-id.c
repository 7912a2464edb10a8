/*
 * fssh-copy-id: install public keys in a remote ~/.ssh/authorized_keys,
 * as OpenSSH's ssh-copy-id does, with the same command line, messages
 * and exit statuses (0 success, also when every key was present; 1 for
 * any failure).  It connects with Ferry's in-process client
 * (prog-client.h: passwords on the terminal or through SSH_ASKPASS,
 * keys, the agent), and does everything over SFTP, never running a
 * remote command, so sftp-only accounts work too: -s is accepted for
 * compatibility and changes only the command suggested at the end.
 *
 * Which keys: -i FILE (".pub" added unless present), else the agent's
 * keys, else the newest ~/.ssh/id*.pub (not *-cert.pub).  Which are
 * present is decided from the remote file by key type and blob (see
 * copyid.h); -f adds them all; -n only says what would be added.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/agent.h"
#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/sftp-session.h"
#include "copyid.h"
#include "prog.h"
#include "prog-client.h"

#define CI_EXIT_FAIL	1
#define CI_PATH_MAX	4096
#define CI_PUB_MAX	(1024U * 1024)

/* The command line, as ssh-copy-id takes it. */
static struct {
	int force;		/* -f */
	int dry_run;		/* -n */
	int sftp;		/* -s */
	int seen_i;
	char *id_file;		/* -i: the .pub file */
	const char *config;	/* -F */
	struct buf *suggest;	/* the command suggested at the end */
	struct {
		int opt;	/* 'p', 'o', 'F' */
		const char *arg;
	} pass[PROG_CLIENT_MAX_OPTIONS];	/* in command-line order */
	size_t npass;
} ci;

static struct copyid_key ci_keys[COPYID_KEYS_MAX];
static size_t ci_nkeys;

static void __attribute__((noreturn))
ci_usage(void)
{
	fprintf(stderr, "Usage: %s [-h|-?|-f|-n|-s] [-i [identity_file]] "
	    "[-p port] [-F alternative ssh_config file] "
	    "[[-o <ssh -o options>] ...] [user@]hostname\n", prog_name());
	fprintf(stderr, "\t-f: force mode -- copy keys without trying to "
	    "check if they are already installed\n");
	fprintf(stderr, "\t-n: dry run    -- no keys are actually copied\n");
	fprintf(stderr, "\t-s: use sftp   -- accepted for compatibility: "
	    "keys are always installed over sftp\n");
	fprintf(stderr, "\t-h|-?: print this help\n");
	prog_exit(CI_EXIT_FAIL);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
ci_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ERROR: ", prog_name());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	prog_exit(CI_EXIT_FAIL);
}

/* Append " -opt 'arg'" (no option when opt is 0), quoted for a shell. */
static void
ci_suggest(int opt, const char *arg)
{
	const char *p;
	int r = 0;

	if (opt != 0 && (r = buf_put(ci.suggest, " -", 2)) == 0)
		r = buf_put_u8(ci.suggest, (uint8_t)opt);
	if (r == 0)
		r = buf_put(ci.suggest, " '", 2);
	for (p = arg; r == 0 && *p != '\0'; p++)
		r = *p == '\'' ? buf_put(ci.suggest, "'\\''", 4) :
		    buf_put_u8(ci.suggest, (uint8_t)*p);
	if (r == 0)
		r = buf_put_u8(ci.suggest, '\'');
	if (r != 0)
		fatal_r(r, "command line");
}

/* ~/.ssh/id*.pub with the newest modification time, or NULL. */
static char *
ci_default_id_file(void)
{
	char dir[CI_PATH_MAX], path[CI_PATH_MAX], *best = NULL;
	struct passwd *pw;
	struct dirent *de;
	struct stat st;
	const char *home = getenv("HOME");
	struct timespec newest = { 0, 0 };
	size_t len;
	DIR *d;

	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || (size_t)snprintf(dir, sizeof(dir), "%s/.ssh",
	    home) >= sizeof(dir) || (d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "id", 2) != 0 || len < 6 ||
		    strcmp(de->d_name + len - 4, ".pub") != 0 ||
		    (len >= 9 &&
		    strcmp(de->d_name + len - 9, "-cert.pub") == 0))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || stat(path, &st) != 0)
			continue;
		if (best != NULL && (st.st_mtim.tv_sec < newest.tv_sec ||
		    (st.st_mtim.tv_sec == newest.tv_sec &&
		    st.st_mtim.tv_nsec <= newest.tv_nsec)))
			continue;
		free(best);
		if ((best = strdup(path)) == NULL)
			fatal("out of memory");
		newest = st.st_mtim;
	}
	closedir(d);
	return best;
}

/* -i, or the default file: remember the .pub file to read. */
static void
ci_use_id_file(const char *file)
{
	size_t len;

	if (file == NULL || *file == '\0')
		ci_error("no ID file found");
	free(ci.id_file);
	len = strlen(file);
	if (len >= 4 && strcmp(file + len - 4, ".pub") == 0)
		ci.id_file = strdup(file);
	else if (asprintf(&ci.id_file, "%s.pub", file) == -1)
		ci.id_file = NULL;
	if (ci.id_file == NULL)
		fatal("out of memory");
}

/* Read the keys of ci.id_file. */
static void
ci_load_id_file(void)
{
	unsigned long bad = 0;
	struct buf *b = NULL;
	int r;

	if ((r = key_read_file(ci.id_file, CI_PUB_MAX, &b)) != 0) {
		fprintf(stderr, "\n%s: ERROR: failed to open ID file '%s': "
		    "%s\n", prog_name(), ci.id_file, r == FERR_SYSTEM ?
		    strerror(errno) : err_str(r));
		prog_exit(CI_EXIT_FAIL);
	}
	fprintf(stderr, "%s: INFO: Source of key(s) to be installed: "
	    "\"%s\"\n", prog_name(), ci.id_file);
	r = copyid_keys_from_text(buf_ptr(b), buf_len(b), ci_keys,
	    COPYID_KEYS_MAX, &ci_nkeys, &bad);
	buf_free(b);
	if (r != 0 && bad != 0)
		ci_error("%s:%lu: not a public key: %s", ci.id_file, bad,
		    err_str(r));
	if (r != 0)
		ci_error("%s: %s", ci.id_file, err_str(r));
}

/* The agent's keys, when SSH_AUTH_SOCK leads to an agent holding some. */
static void
ci_load_agent(void)
{
	struct agent_identities *ids = NULL;
	struct agent *ag = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	size_t i;
	int r;

	if (sock == NULL || *sock == '\0' ||
	    agent_connect(sock, AGENT_TIMEOUT_DEFAULT, &ag) != 0)
		return;
	if (agent_list(ag, &ids) == 0) {
		for (i = 0; i < ids->n && ci_nkeys < COPYID_KEYS_MAX; i++) {
			r = copyid_key_from_blob(ids->ids[i].blob,
			    ids->ids[i].bloblen, ids->ids[i].comment,
			    &ci_keys[ci_nkeys]);
			if (r == 0)
				ci_nkeys++;
			else
				log_info("agent key %zu skipped: %s", i + 1,
				    err_str(r));
		}
		agent_identities_free(ids);
	}
	agent_close(ag);
}

/* Connect, open SFTP and install; the plan and result for the report. */
static void
ci_install(const char *dest, struct prog_client_opts *opts,
    struct copyid_plan *plan, struct copyid_result *res)
{
	struct prog_client_params pp;
	struct prog_client *pc = NULL;
	struct sftp_session *ss = NULL;
	const char *why;
	unsigned int flags;
	int r;

	memset(&pp, 0, sizeof(pp));
	pp.destination = dest;
	pp.config_file = ci.config;
	pp.options = opts->lines;
	pp.jump_program = "fssh";
	pp.argv0 = prog_name();
	if (prog_client_resolve(&pp, &pc) != 0)
		prog_exit(CI_EXIT_FAIL);
	if (prog_client_connect(pc) != 0) {
		prog_client_free(pc);
		ci_error("could not log in to %s", dest);
	}
	if ((r = sftp_session_open_client(pc->cl, NULL, NULL, &ss)) != 0) {
		why = ss != NULL ? sftp_session_error(ss) : err_str(r);
		fprintf(stderr, "%s: ERROR: sftp: %s\n", prog_name(),
		    why != NULL && *why != '\0' ? why : err_str(r));
		sftp_session_close(ss);
		prog_client_free(pc);
		prog_exit(CI_EXIT_FAIL);
	}
	flags = (ci.force ? COPYID_FORCE : 0) |
	    (ci.dry_run ? COPYID_DRY_RUN : 0);
	r = copyid_install(ss, ci_keys, ci_nkeys, flags, plan, res);
	sftp_session_close(ss);
	prog_client_free(pc);
	if (r != 0)
		ci_error("%s", res->msg);
}

static void
ci_report(const struct copyid_plan *plan, const char *dest)
{
	size_t i;

	if (plan->nadd == 0) {
		fprintf(stderr, "\n%s: WARNING: All keys were skipped because "
		    "they already exist on the remote system.\n", prog_name());
		fprintf(stderr, "\t\t(if you think this is a mistake, you may "
		    "want to use -f option)\n\n");
		return;
	}
	if (ci.dry_run) {
		printf("=-=-=-=-=-=-=-=\n");
		printf("Would have added the following key(s):\n\n");
		for (i = 0; i < ci_nkeys; i++)
			if (plan->add[i])
				printf("%s\n", ci_keys[i].line);
		printf("=-=-=-=-=-=-=-=\n");
		return;
	}
	/* The options as given; fsftp spells the port option -P. */
	for (i = 0; i < ci.npass; i++)
		ci_suggest(ci.sftp && ci.pass[i].opt == 'p' ? 'P' :
		    ci.pass[i].opt, ci.pass[i].arg);
	ci_suggest(0, dest);
	printf("\nNumber of key(s) added: %zu\n\n", plan->nadd);
	printf("Now try logging into the machine, with:   \"%s%.*s\"\n",
	    ci.sftp ? "fsftp" : "fssh", (int)buf_len(ci.suggest),
	    (const char *)buf_ptr(ci.suggest));
	printf("and check to make sure that only the key(s) you wanted were "
	    "added.\n\n");
}

/* -f -n: every key, without connecting. */
static void
ci_plan_all(struct copyid_plan *plan)
{
	int r;

	if ((r = copyid_merge(NULL, 0, ci_keys, ci_nkeys, 1, plan)) != 0)
		fatal_r(r, "keys");
}

int
main(int argc, char **argv)
{
	struct prog_client_opts opts;
	struct copyid_plan plan;
	struct copyid_result res;
	char *def;
	size_t i;
	int ch;

	prog_init(argv[0]);
	umask(077);
	memset(&opts, 0, sizeof(opts));
	if ((ci.suggest = buf_new()) == NULL)
		fatal("out of memory");
	/*
	 * As ssh-copy-id runs ssh -a -x (the client core sets up no other
	 * forwarding, so there is none to clear).
	 */
	prog_client_opt(&opts, "ForwardAgent", "no");
	prog_client_opt(&opts, "ForwardX11", "no");
	prog_client_opt(&opts, "PermitLocalCommand", "no");
	ci_load_agent();
	while ((ch = getopt(argc, argv, "i:o:p:F:fnsh?")) != -1) {
		switch (ch) {
		case 'i':
			if (ci.seen_i) {
				fprintf(stderr, "\n%s: ERROR: -i option must "
				    "not be specified more than once\n\n",
				    prog_name());
				ci_usage();
			}
			ci.seen_i = 1;
			def = NULL;
			if (*optarg == '\0')
				def = ci_default_id_file();
			ci_use_id_file(*optarg != '\0' ? optarg : def);
			free(def);
			break;
		case 'o':
		case 'p':
		case 'F':
			if (ch == 'o')
				prog_client_opt(&opts, NULL, optarg);
			else if (ch == 'p')
				prog_client_opt(&opts, "Port", optarg);
			else
				ci.config = optarg;
			if (ci.npass >= PROG_CLIENT_MAX_OPTIONS)
				ci_usage();
			ci.pass[ci.npass].opt = ch;
			ci.pass[ci.npass++].arg = optarg;
			break;
		case 'f':
			ci.force = 1;
			break;
		case 'n':
			ci.dry_run = 1;
			break;
		case 's':
			ci.sftp = 1;
			break;
		case 'h':
		case '?':
		default:
			ci_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ci_usage();
	if (argc != 1) {
		fprintf(stderr, "%s: ERROR: Too many arguments.  Expecting a "
		    "target hostname, got:", prog_name());
		for (i = 0; i < (size_t)argc; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "\n\n");
		ci_usage();
	}
	if (ci.id_file != NULL) {
		/* -i: its keys only, not the agent's. */
		for (i = 0; i < ci_nkeys; i++)
			copyid_key_clear(&ci_keys[i]);
		ci_nkeys = 0;
	} else if (ci_nkeys == 0 && (def = ci_default_id_file()) != NULL) {
		ci_use_id_file(def);
		free(def);
	}
	if (ci.id_file != NULL)
		ci_load_id_file();
	if (ci_nkeys == 0)
		ci_error("No identities found");
	memset(&res, 0, sizeof(res));
	if (ci.force && ci.dry_run)
		ci_plan_all(&plan);
	else
		ci_install(argv[0], &opts, &plan, &res);
	ci_report(&plan, argv[0]);
	copyid_plan_clear(&plan);
	for (i = 0; i < ci_nkeys; i++)
		copyid_key_clear(&ci_keys[i]);
	free(ci.id_file);
	buf_free(ci.suggest);
	prog_client_opts_free(&opts);
	prog_exit(0);
}
