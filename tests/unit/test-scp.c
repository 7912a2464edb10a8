/*
 * The scp engine in memory: a source and a sink joined back to back on a
 * temporary directory (files, trees, -p, names with spaces, errors the
 * source reports), the sink fed hostile records (every refusal OpenSSH's
 * client makes, and that nothing lands outside the target), and the
 * server's command-line parser.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/scp.h"
#include "tap.h"

#define H(x) do { \
	if ((x) != 0) { \
		printf("Bail out! %s\n", #x); \
		exit(1); \
	} \
} while (0)

static char base[256];

/* Run an engine; its failures are checked through scp_failed(). */
static void
proc(struct scp *e)
{
	if (scp_process(e) != 0)
		return;
}
static char messages[4096];

static void
on_message(int fatal, const char *text, void *ctx)
{
	(void)ctx;
	snprintf(messages + strlen(messages), sizeof(messages) - strlen(messages),
	    "%s%s\n", fatal ? "F:" : "", text);
}

static char *
P(const char *rel)
{
	static char bufs[8][512];
	static int i;
	char *p = bufs[i++ % 8];

	snprintf(p, 512, "%s/%s", base, rel);
	return p;
}

static void
put_file(const char *rel, const char *text, mode_t mode)
{
	int fd = open(P(rel), O_WRONLY | O_CREAT | O_TRUNC, mode);

	H(fd < 0);
	H(write(fd, text, strlen(text)) != (ssize_t)strlen(text));
	H(fchmod(fd, mode));
	close(fd);
}

static int
file_is(const char *rel, const char *text)
{
	static char got[400000];
	ssize_t n;
	int fd = open(P(rel), O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, got, sizeof(got));
	close(fd);
	return n == (ssize_t)strlen(text) && memcmp(got, text, (size_t)n) == 0;
}

static int
exists(const char *rel)
{
	struct stat sb;

	return lstat(P(rel), &sb) == 0;
}

/* Move bytes between two engines until both are done. */
static void
join(struct scp *a, struct scp *b)
{
	struct scp *e[2] = { a, b };
	int i, rounds, moved;
	size_t n;

	for (rounds = 0; rounds < 100000; rounds++) {
		moved = 0;
		for (i = 0; i < 2; i++) {
			struct buf *out;

			proc(e[i]);
			out = scp_output(e[i]);
			n = buf_len(out);
			if (n > scp_input_space(e[1 - i]))
				n = scp_input_space(e[1 - i]);
			if (n > 0) {
				H(scp_input(e[1 - i], buf_ptr(out), n));
				H(buf_consume(out, n));
				moved = 1;
			}
			if (scp_done(e[i]) && buf_len(out) == 0)
				scp_input_eof(e[1 - i]);
		}
		if (scp_done(a) && scp_done(b))
			return;
		if (!moved && rounds > 10) {
			/* Let EOFs propagate once more, then give up. */
			proc(a);
			proc(b);
			if (scp_done(a) && scp_done(b))
				return;
			if (rounds > 20)
				break;
		}
	}
	printf("# engines stuck\n");
}

static void
copy(const char *const *paths, const char *target, int recursive,
    int preserve, int *src_errs, int *sink_errs, int *failed)
{
	struct scp_config sc, kc;
	struct scp *src, *sink;

	memset(&sc, 0, sizeof(sc));
	sc.role = SCP_SOURCE;
	sc.recursive = recursive;
	sc.preserve = preserve;
	sc.paths = paths;
	sc.fs = scp_fs_local();
	sc.remote = 1;
	kc = sc;
	kc.role = SCP_SINK;
	kc.paths = NULL;
	kc.target = target;
	kc.remote = 0;
	kc.umask = 022;
	kc.message = on_message;
	H(scp_new(&sc, &src));
	H(scp_new(&kc, &sink));
	join(src, sink);
	*src_errs = (int)scp_errors(src);
	*sink_errs = (int)scp_errors(sink);
	*failed = scp_failed(src) || scp_failed(sink);
	scp_free(src);
	scp_free(sink);
}

static void
test_roundtrip(void)
{
	const char *one[2], *tree[2], *missing[3];
	struct stat sb;
	struct timeval tv[2];
	char big[300000 + 1];
	int se, ke, f, fd;
	size_t i;

	H(mkdir(P("src"), 0755));
	H(mkdir(P("src/sub dir"), 0750));
	H(mkdir(P("dst"), 0755));
	put_file("src/a file", "hello world\n", 0640);
	put_file("src/sub dir/b", "bee", 0604);
	put_file("src/empty", "", 0600);
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\0';
	put_file("src/big", big, 0644);
	memset(tv, 0, sizeof(tv));
	tv[0].tv_sec = 1000000000;
	tv[1].tv_sec = 1234567890;
	H(utimes(P("src/a file"), tv));

	one[0] = P("src/a file");
	one[1] = NULL;
	copy(one, P("dst"), 0, 0, &se, &ke, &f);
	ok(se == 0 && ke == 0 && !f, "single file: no errors");
	ok(file_is("dst/a file", "hello world\n"), "single file: content");

	/* Onto a file name that does not exist yet: that name is used. */
	copy(one, P("dst/renamed"), 0, 0, &se, &ke, &f);
	ok(file_is("dst/renamed", "hello world\n"), "target file name");

	/* Overwriting a longer file truncates it. */
	put_file("dst/long", "a much longer text than before\n", 0644);
	copy(one, P("dst/long"), 0, 0, &se, &ke, &f);
	ok(file_is("dst/long", "hello world\n"), "overwrite truncates");

	tree[0] = P("src");
	tree[1] = NULL;
	copy(tree, P("dst"), 1, 1, &se, &ke, &f);
	ok(se == 0 && ke == 0 && !f, "-r -p: no errors");
	if (se || ke || f)
		printf("# %s", messages);
	ok(file_is("dst/src/a file", "hello world\n") &&
	    file_is("dst/src/sub dir/b", "bee") &&
	    file_is("dst/src/empty", "") && file_is("dst/src/big", big),
	    "-r: every file arrives");
	ok(stat(P("dst/src/a file"), &sb) == 0 && sb.st_mtime == 1234567890,
	    "-p: times kept");
	ok(stat(P("dst/src/a file"), &sb) == 0 && (sb.st_mode & 07777) == 0640,
	    "-p: file mode kept");
	ok(stat(P("dst/src/sub dir"), &sb) == 0 && (sb.st_mode & 07777) == 0750,
	    "-p: directory mode kept");

	/* A directory without -r, and a missing file: errors, the rest goes. */
	missing[0] = P("src/nope");
	missing[1] = P("src/sub dir");
	missing[2] = NULL;
	messages[0] = '\0';
	copy(missing, P("dst"), 0, 0, &se, &ke, &f);
	ok(se == 2 && !f, "source counts two errors (%d)", se);
	ok(ke == 2 && strstr(messages, "nope: No such file") != NULL &&
	    strstr(messages, "not a regular file") != NULL,
	    "sink shows the source's errors");

	/* The sink cannot create the file: the source skips it. */
	H(mkdir(P("ro"), 0555));
	if (geteuid() != 0) {
		copy(one, P("ro"), 0, 0, &se, &ke, &f);
		ok(se == 1 && ke == 1 && !f && !exists("ro/a file"),
		    "unwritable target: one error each side");
	} else
		tap_skip("root writes anywhere");
	/* -d: the target must be a directory. */
	fd = open(P("dst/plain"), O_WRONLY | O_CREAT, 0644);
	close(fd);
	{
		struct scp_config kc;
		struct scp *sink;

		memset(&kc, 0, sizeof(kc));
		kc.role = SCP_SINK;
		kc.target = P("dst/plain");
		kc.target_dir = 1;
		kc.fs = scp_fs_local();
		H(scp_new(&kc, &sink));
		ok(scp_failed(sink) && buf_len(scp_output(sink)) > 0 &&
		    buf_ptr(scp_output(sink))[0] == 1,
		    "-d on a file: error before the first NUL");
		scp_free(sink);
	}
}

/*
 * Feed a sink records (the first NUL of the source is implied: the sink
 * does not wait for one).  Returns the sink's failed state; *errsp its
 * error count.
 */
static int
sink_run(const char *target, const void *in, size_t len, int recursive,
    int preserve, const char *const *patterns, int relaxed, int *errsp,
    char *out, size_t outsize)
{
	struct scp_config kc;
	struct scp *sink;
	int failed;

	memset(&kc, 0, sizeof(kc));
	kc.role = SCP_SINK;
	kc.recursive = recursive;
	kc.preserve = preserve;
	kc.patterns = patterns;
	kc.relaxed = relaxed;
	kc.target = target;
	kc.umask = 022;
	kc.fs = scp_fs_local();
	kc.message = on_message;
	H(scp_new(&kc, &sink));
	H(scp_input(sink, in, len));
	scp_input_eof(sink);
	proc(sink);
	failed = scp_failed(sink);
	if (errsp != NULL)
		*errsp = (int)scp_errors(sink);
	if (out != NULL) {
		size_t n = buf_len(scp_output(sink));

		if (n >= outsize)
			n = outsize - 1;
		memcpy(out, buf_ptr(scp_output(sink)), n);
		out[n] = '\0';
	}
	scp_free(sink);
	return failed;
}

static void
test_hostile(void)
{
	static const struct {
		const char *what;
		const char *rec;
	} refused[] = {
		{ "name with ../", "C0644 1 ../evil\nX\0" },
		{ "name ..", "C0644 1 ..\nX\0" },
		{ "name .", "D0755 0 .\nE\n" },
		{ "empty name", "C0644 1 \nX\0" },
		{ "empty directory name (CVE-2018-20685)", "D0777 0 \nE\n" },
		{ "absolute name", "C0644 1 /tmp/evil\nX\0" },
		{ "name with /", "C0644 1 a/b\nX\0" },
		{ "directory with /", "D0755 0 x/y\nE\n" },
		{ "3-digit mode", "C644 1 a\nX\0" },
		{ "non-octal mode", "C0648 1 a\nX\0" },
		{ "mode not delimited", "C06440 1 a\nX\0" },
		{ "size with sign", "C0644 -1 a\nX\0" },
		{ "size overflow", "C0644 99999999999999999999 a\n" },
		{ "size not delimited", "C0644 1a a\n" },
		{ "time usec too big", "T1 1000000 1 0\n" },
		{ "time trailing", "T1 0 1 0 x\n" },
		{ "time sign", "T-1 0 1 0\n" },
		{ "unknown record", "Q\n" },
		{ "newline record", "\n" },
		{ "E at the top", "E\n" },
		{ "truncated data", "C0644 10 a\nXY" },
		{ "no newline", "C0644 1 a" },
	};
	const char *pats[] = { "want*", NULL };
	char out[256], rec[SCP_LINE_MAX + 64];
	struct stat before, after;
	size_t i;
	int errs, failed;

	H(mkdir(P("t"), 0750));
	H(stat(P("t"), &before));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		messages[0] = '\0';
		failed = sink_run(P("t"), refused[i].rec,
		    strlen(refused[i].rec) + (strchr(refused[i].rec, 'X') ?
		    1 : 0), 1, 1, NULL, 0, &errs, NULL, 0);
		ok(failed, "refused: %s", refused[i].what);
	}
	ok(!exists("evil") && !exists("t/evil") && !exists("../evil") &&
	    !exists("t/x") && !exists("t/tmp"),
	    "nothing written");
	H(stat(P("t"), &after));
	ok(before.st_mode == after.st_mode, "target directory mode unchanged");

	/* A directory without -r. */
	ok(sink_run(P("t"), "D0755 0 d\nE\n", 12, 0, 0, NULL, 0, NULL, NULL, 0),
	    "directory without -r refused");
	ok(!exists("t/d"), "no directory made");
	/* Unrequested names. */
	ok(sink_run(P("t"), "C0644 1 other\nX", 16, 0, 0, pats, 0, NULL,
	    out, sizeof(out)), "name not matching the request refused");
	ok(out[0] == 0 && strstr(out + 1, "does not match") != NULL,
	    "peer told why");
	ok(!exists("t/other"), "unrequested file not written");
	ok(!sink_run(P("t"), "C0644 1 wanted\nX\0", 17, 0, 0, pats, 0, &errs,
	    NULL, 0) && errs == 0 && file_is("t/wanted", "X"),
	    "matching name accepted");
	ok(!sink_run(P("t"), "C0644 1 other\nX\0", 16, 0, 0, pats, 1, &errs,
	    NULL, 0) && file_is("t/other", "X"), "-T accepts any name");
	/* A line over the cap. */
	memset(rec, 'a', sizeof(rec));
	memcpy(rec, "C0644 1 ", 8);
	rec[sizeof(rec) - 1] = '\n';
	ok(sink_run(P("t"), rec, sizeof(rec), 0, 0, NULL, 0, NULL, NULL, 0),
	    "over-long record refused");
	ok(sink_run(P("t"), "C0644 1 a\0b\nX\0", 15, 0, 0, NULL, 0, NULL, NULL,
	    0), "NUL inside a record refused");
	/* Nesting bound. */
	{
		struct buf *b = buf_new();

		H(b == NULL);
		for (i = 0; i < SCP_DEPTH_MAX + 2; i++)
			H(buf_putf(b, "D0755 0 n\n"));
		ok(sink_run(P("t"), buf_ptr(b), buf_len(b), 1, 0, NULL, 0, NULL,
		    NULL, 0), "directories nesting too deep refused");
		buf_free(b);
	}
	/* Messages from the source: \1 counts, \2 ends. */
	ok(!sink_run(P("t"), "\001scp: x: gone\n", 14, 0, 0, NULL, 0, &errs,
	    NULL, 0) && errs == 1, "\\1 line: an error, not fatal");
	ok(sink_run(P("t"), "\002scp: bad\n", 10, 0, 0, NULL, 0, NULL, NULL, 0),
	    "\\2 line: fatal");
	/* Times and modes from the records. */
	ok(!sink_run(P("t"), "T1234567890 0 1000000000 0\nC0604 2 tm\nhi\0",
	    41, 0, 1, NULL, 0, &errs, NULL, 0) && errs == 0,
	    "T then C accepted");
	ok(stat(P("t/tm"), &after) == 0 && after.st_mtime == 1234567890 &&
	    (after.st_mode & 07777) == 0604, "T and mode applied with -p");
	ok(!sink_run(P("t"), "C4755 2 um\nhi\0", 14, 0, 0, NULL, 0, &errs,
	    NULL, 0) && stat(P("t/um"), &after) == 0 &&
	    (after.st_mode & 07777) == 04755, "mode umasked without -p");
	/* A file onto a directory: an error answer, then the stream goes on. */
	H(mkdir(P("t/isdir"), 0755));
	ok(!sink_run(P("t"), "C0644 1 isdir\n", 14, 0, 0, NULL, 0, &errs,
	    out, sizeof(out)) && errs == 1 && out[0] == 0 && out[1] == 1,
	    "file onto a directory: \\1 answer");
}

/* A sink that answers with an error, then a fatal error. */
static void
test_source_answers(void)
{
	const char *paths[3];
	struct scp_config sc;
	struct scp *src;
	struct buf *out;

	put_file("s1", "one", 0644);
	put_file("s2", "two", 0644);
	paths[0] = P("s1");
	paths[1] = P("s2");
	paths[2] = NULL;
	memset(&sc, 0, sizeof(sc));
	sc.role = SCP_SOURCE;
	sc.paths = paths;
	sc.fs = scp_fs_local();
	sc.message = on_message;
	H(scp_new(&sc, &src));
	out = scp_output(src);
	ok(scp_process(src) == 0 && buf_len(out) == 0, "source waits for NUL");
	H(scp_input(src, "", 1));
	H(scp_process(src));
	ok(buf_len(out) == 11 && memcmp(buf_ptr(out), "C0644 3 s1\n", 11) == 0,
	    "first record");
	H(buf_consume(out, buf_len(out)));
	H(scp_input(src, "\001scp: no room\n", 14));
	H(scp_process(src));
	ok(scp_errors(src) == 1 && buf_len(out) == 11 &&
	    memcmp(buf_ptr(out), "C0644 3 s2\n", 11) == 0,
	    "error answer: file skipped, next sent");
	H(buf_consume(out, buf_len(out)));
	H(scp_input(src, "\002scp: stop\n", 11));
	ok(scp_process(src) != 0 && scp_failed(src), "fatal answer ends it");
	scp_free(src);

	/* A sink that never answers ends as lost. */
	H(scp_new(&sc, &src));
	scp_input_eof(src);
	ok(scp_process(src) == FERR_EOF, "EOF while waiting: lost connection");
	scp_free(src);
}

static void
test_command(void)
{
	struct scp_command *c;

	ok(scp_command_parse("scp -t -- /x", "/h", &c) == 0 &&
	    c->role == SCP_SINK && c->npaths == 1 &&
	    strcmp(c->paths[0], "/x") == 0, "scp -t -- path");
	scp_command_free(c);
	ok(scp_command_parse("scp -v -r -p -d -t 'a b'", "/h", &c) == 0 &&
	    c->recursive && c->preserve && c->target_dir && c->verbose &&
	    strcmp(c->paths[0], "a b") == 0, "flags and a quoted name");
	scp_command_free(c);
	ok(scp_command_parse("scp -f \"x\\\"y\" z\\ w '$(id)'", "/h", &c) == 0 &&
	    c->role == SCP_SOURCE && c->npaths == 3 &&
	    strcmp(c->paths[0], "x\"y") == 0 &&
	    strcmp(c->paths[1], "z w") == 0 &&
	    strcmp(c->paths[2], "$(id)") == 0, "quotes and backslashes");
	scp_command_free(c);
	ok(scp_command_parse("scp -t ~/d", "/home/u", &c) == 0 &&
	    strcmp(c->paths[0], "/home/u/d") == 0, "~ is the home");
	scp_command_free(c);
	ok(scp_command_parse("scp -t a;touch x", "/h", &c) == FERR_FORMAT,
	    "; refused");
	ok(scp_command_parse("scp -t $(id)", "/h", &c) == FERR_FORMAT,
	    "$() refused");
	ok(scp_command_parse("scp -t `id`", "/h", &c) == FERR_FORMAT,
	    "backticks refused");
	ok(scp_command_parse("scp -t \"$(id)\"", "/h", &c) == FERR_FORMAT,
	    "$ in double quotes refused");
	ok(scp_command_parse("scp -t a >b", "/h", &c) == FERR_FORMAT,
	    "redirection refused");
	ok(scp_command_parse("scp -x -t a", "/h", &c) == FERR_FORMAT,
	    "unknown flag refused");
	ok(scp_command_parse("scp -t a b", "/h", &c) == FERR_FORMAT,
	    "-t with two paths refused");
	ok(scp_command_parse("scp -t -f a", "/h", &c) == FERR_FORMAT,
	    "-t and -f refused");
	ok(scp_command_parse("scp -r a", "/h", &c) == FERR_FORMAT,
	    "no -t/-f refused");
	ok(scp_command_parse("ls -t a", "/h", &c) == FERR_FORMAT,
	    "other programs refused");
	ok(scp_command_parse("scp -t 'a", "/h", &c) == FERR_FORMAT,
	    "open quote refused");
	H(chdir(base));
	put_file("g1.txt", "1", 0644);
	put_file("g2.txt", "2", 0644);
	ok(scp_command_parse("scp -f g*.txt 'g*.txt'", "/h", &c) == 0 &&
	    c->npaths == 3 && strcmp(c->paths[0], "g1.txt") == 0 &&
	    strcmp(c->paths[1], "g2.txt") == 0 &&
	    strcmp(c->paths[2], "g*.txt") == 0, "-f globs unquoted words only");
	scp_command_free(c);
	ok(scp_command_parse("scp -f g{2,1}.txt '{g1,g2}.txt'", "/h", &c) ==
	    0 && c->npaths == 3 && strcmp(c->paths[0], "g2.txt") == 0 &&
	    strcmp(c->paths[1], "g1.txt") == 0 &&
	    strcmp(c->paths[2], "{g1,g2}.txt") == 0,
	    "-f expands unquoted braces only, in their order");
	scp_command_free(c);
	ok(scp_command_parse("scp -f {g,x}\\{1,2}.txt", "/h", &c) == 0 &&
	    c->npaths == 2 && strcmp(c->paths[0], "g{1,2}.txt") == 0 &&
	    strcmp(c->paths[1], "x{1,2}.txt") == 0,
	    "an escaped brace group stays literal");
	scp_command_free(c);
	ok(scp_command_parse("scp -f 'n{o'{x,y}", "/h", &c) == 0 &&
	    c->npaths == 2 && strcmp(c->paths[0], "n{ox") == 0 &&
	    strcmp(c->paths[1], "n{oy") == 0,
	    "a brace matching nothing stays, unescaped");
	scp_command_free(c);
	ok(scp_command_parse("scp -t {a,b}", "/h", &c) == FERR_FORMAT,
	    "-t with an unquoted brace refused");
	ok(scp_command_parse("scp -t '{a,b}'", "/h", &c) == 0 &&
	    strcmp(c->paths[0], "{a,b}") == 0, "-t with a quoted brace");
	scp_command_free(c);
}

static void
test_brace(void)
{
	static const struct {
		const char *pat, *want;
	} t[] = {
		{ "a{b,c}d", "abd acd" },
		{ "{a,b}{1,2}", "a1 a2 b1 b2" },
		{ "x{a,{b,c}y}z", "xaz xbyz xcyz" },
		{ "{,a}", " a" },
		{ "{a}", "{a}" },
		{ "a\\{b,c}", "a\\{b,c}" },
		{ "{a\\,b,c}", "a\\,b c" },
		{ "{a,b", "{a,b" },
		{ "}{a,b}{", "}a{ }b{" },
		{ "", "" },
	};
	char **w = NULL, got[128];
	size_t n, i, j, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = 0;
		w = NULL;
		got[0] = '\0';
		ok(scp_brace_expand(t[i].pat, 100, &w, &n) == 0, "expand %s",
		    t[i].pat);
		for (j = 0; j < n; j++) {
			len = strlen(got);
			snprintf(got + len, sizeof(got) - len, "%s%s",
			    j > 0 ? " " : "", w[j]);
			free(w[j]);
		}
		free(w);
		is_mem(got, strlen(got), t[i].want, strlen(t[i].want), "%s",
		    t[i].pat);
	}
	n = 0;
	w = NULL;
	ok(scp_brace_expand("{a,b}{a,b}{a,b}", 7, &w, &n) == FERR_NO_SPACE,
	    "more words than allowed: FERR_NO_SPACE");
	for (j = 0; j < n; j++)
		free(w[j]);
	free(w);
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)chmod(path, 0700);
	return remove(path);
}

int
main(void)
{
	char tmpl[] = "/tmp/test-scp-XXXXXX";
	char *d;

	if ((d = mkdtemp(tmpl)) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(base, sizeof(base), "%s", d);
	umask(022);
	test_roundtrip();
	test_hostile();
	test_source_answers();
	test_command();
	test_brace();
	H(chdir("/"));
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
