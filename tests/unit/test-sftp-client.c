/*
 * The SFTP client engine in memory: against the server engine of
 * lib/sftp-server.c with bytes pumped between them (transfers of many
 * sizes, trees, resume with matching and differing prefixes, atomic
 * mode, verification), and against hand-made replies for the checks a
 * hostile server must fail (unknown and duplicate ids, long DATA, bad
 * READDIR names, wrong reply types, bad framing).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-server.h"
#include "tap.h"

#define H(x) do { \
	if ((x) != 0) { \
		printf("Bail out! %s\n", #x); \
		exit(1); \
	} \
} while (0)

static char root[256];
static struct sftp_server *S;
static struct sftp_client *C;
static unsigned int max_chunk = 1 << 30;
static unsigned int round_trips;

/* Move bytes both ways once; returns how many moved. */
static size_t
pump_once(void)
{
	struct buf *co = sftp_client_output(C), *so = sftp_server_output(S);
	size_t n, moved = 0;

	round_trips++;
	n = buf_len(co);
	if (n > sftp_server_input_space(S))
		n = sftp_server_input_space(S);
	if (n > max_chunk)
		n = max_chunk;
	if (n > 0) {
		H(sftp_server_input(S, buf_ptr(co), n));
		H(buf_consume(co, n));
		moved += n;
	}
	H(sftp_server_process(S));
	n = buf_len(so);
	if (n > max_chunk)
		n = max_chunk;
	if (n > 0) {
		if (sftp_client_input(C, buf_ptr(so), n) != 0)
			return 0;
		H(buf_consume(so, n));
		moved += n;
	}
	return moved;
}

static int
run_xfer(struct sftp_xfer *x)
{
	int r;

	for (;;) {
		if ((r = sftp_xfer_step(x)) != 0)
			return r;
		if (sftp_xfer_done(x))
			return 0;
		if (pump_once() == 0 && sftp_client_inflight(C) == 0 &&
		    buf_len(sftp_client_output(C)) == 0) {
			/* Nothing moves: the scheduler must not stall. */
			if ((r = sftp_xfer_step(x)) != 0)
				return r;
			if (sftp_xfer_done(x))
				return 0;
			if (buf_len(sftp_client_output(C)) == 0)
				return -200;
		}
	}
}

static void
session_start(void)
{
	struct sftp_server_opts o;

	memset(&o, 0, sizeof(o));
	o.root = root;
	o.start_dir = "/";
	H((S = sftp_server_new(&o)) == NULL);
	H((C = sftp_client_new()) == NULL);
	while (!sftp_client_ready(C))
		H(pump_once() == 0);
}

static void
session_end(void)
{
	sftp_client_free(C);
	sftp_server_free(S);
	C = NULL;
	S = NULL;
}

static int
limits_cb(void *arg, const struct sftp_client_reply *rep)
{
	int *done = arg;

	*done = 1;
	if (rep->type == SSH_FXP_EXTENDED_REPLY)
		return sftp_client_set_limits(C, rep->data, rep->len);
	return 0;
}

static void
write_file(const char *path, size_t len, unsigned int seed)
{
	uint8_t *p;
	size_t i;
	int fd;

	H((p = malloc(len + 1)) == NULL);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
	H((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0);
	H(write(fd, p, len) != (ssize_t)len);
	close(fd);
	free(p);
}

/* A whole file in memory (NULL when it cannot be read). */
static uint8_t *
slurp(const char *path, size_t *lenp)
{
	struct stat st;
	uint8_t *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || (p = malloc((size_t)st.st_size + 1)) ==
	    NULL) {
		close(fd);
		return NULL;
	}
	if (read(fd, p, (size_t)st.st_size) != st.st_size) {
		free(p);
		p = NULL;
	}
	close(fd);
	*lenp = (size_t)st.st_size;
	return p;
}

static int
same_file(const char *a, const char *b)
{
	uint8_t *pa, *pb;
	size_t la = 0, lb = 0;
	int same;

	pa = slurp(a, &la);
	pb = slurp(b, &lb);
	same = pa != NULL && pb != NULL && la == lb &&
	    memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return same;
}

static const char *tree_a, *tree_b;
static int tree_diffs, tree_files;

static int
tree_cmp_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	char other[1024];

	(void)ftw;
	snprintf(other, sizeof(other), "%s%s", tree_b,
	    path + strlen(tree_a));
	tree_files++;
	(void)st;
	if (flag == FTW_F && !same_file(path, other))
		tree_diffs++;
	else if (flag == FTW_D && access(other, F_OK) != 0)
		tree_diffs++;
	return 0;
}

/* Whether every file under a is the same under b, and as many of them. */
static int
same_tree(const char *a, const char *b)
{
	int n;

	tree_a = a;
	tree_b = b;
	tree_diffs = tree_files = 0;
	H(nftw(a, tree_cmp_one, 16, FTW_PHYS));
	n = tree_files;
	tree_a = b;
	tree_b = a;
	tree_files = 0;
	H(nftw(b, tree_cmp_one, 16, FTW_PHYS));
	return tree_diffs == 0 && n == tree_files;
}

static void
copy_file(const char *src, const char *dst)
{
	uint8_t *p;
	size_t len;
	int fd;

	H((p = slurp(src, &len)) == NULL);
	H((fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0);
	H(write(fd, p, len) != (ssize_t)len);
	close(fd);
	free(p);
}

static char *
rp(const char *name)
{
	static char p[2][512];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", root, name);
	return p[k];
}

static int
xfer_one(int upload, unsigned int flags, const char *src, const char *dst)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;
	int r;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	H((x = sftp_xfer_new(C, &o)) == NULL);
	if (upload)
		H(sftp_xfer_put(x, src, dst));
	else
		H(sftp_xfer_get(x, src, dst));
	r = run_xfer(x);
	if (r == 0 && sftp_xfer_failures(x) != 0)
		r = -100;
	sftp_xfer_free(x);
	return r;
}

static void
test_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 32767, 32768, 255 * 1024 - 1,
	    255 * 1024, 255 * 1024 + 1, 3 * 1000 * 1000 + 17 };
	char name[64], back[600];
	struct buf *b;
	size_t i;
	int done = 0;

	/* limits@openssh.com sets the request size. */
	is_int(sftp_client_rw_size(C), SFTP_CLIENT_DEFAULT_RW,
	    "32 KiB requests before limits");
	H(sftp_client_begin(C, SSH_FXP_EXTENDED, "limits@openssh.com", &b));
	H(sftp_client_end(C, 0, limits_cb, &done, NULL));
	while (!done)
		H(pump_once() == 0);
	is_int(sftp_client_rw_size(C), SFTP_MAX_RW,
	    "255 KiB requests after limits@openssh.com");
	ok(sftp_client_has_ext(C, "check-file-name", NULL, NULL),
	    "server's extensions are recorded");
	ok(!sftp_client_has_ext(C, "statvfs@openssh.com", "1", NULL),
	    "extension version is compared");

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "src-%zu", sizes[i]);
		write_file(rp(name), sizes[i], (unsigned int)i);
		snprintf(back, sizeof(back), "%s/back-%zu", root, sizes[i]);
		is_int(xfer_one(0, 0, name, back), 0, "get of %zu bytes",
		    sizes[i]);
		ok(same_file(rp(name), back), "get of %zu bytes intact",
		    sizes[i]);
		snprintf(name, sizeof(name), "up-%zu", sizes[i]);
		is_int(xfer_one(1, SFTP_XFER_VERIFY, back, name), 0,
		    "put of %zu bytes with verification", sizes[i]);
		ok(same_file(rp(name), back), "put of %zu bytes intact",
		    sizes[i]);
	}
}

static void
test_tree(void)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;
	char p[600], cmd[1400];
	int i;

	snprintf(p, sizeof(p), "%s/tree", root);
	H(mkdir(p, 0755));
	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "%s/tree/d%d", root, i % 7);
		(void)mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/tree/d%d/f%d", root, i % 7, i);
		write_file(p, (size_t)(i * 37), (unsigned int)i);
	}
	memset(&o, 0, sizeof(o));
	o.flags = SFTP_XFER_RECURSE | SFTP_XFER_PRESERVE;
	H((x = sftp_xfer_new(C, &o)) == NULL);
	snprintf(p, sizeof(p), "%s/tree-back", root);
	H(sftp_xfer_get(x, "tree", p));
	round_trips = 0;
	is_int(run_xfer(x), 0, "get -r of 300 files in 7 directories");
	/* One by one: about 4 round trips per file.  Pipelined: batches. */
	ok(round_trips < 60, "get -r took %u round trips for 300 files",
	    round_trips);
	is_int(sftp_xfer_failures(x), 0, "no file failed");
	sftp_xfer_free(x);
	snprintf(cmd, sizeof(cmd), "%s/tree", root);
	ok(same_tree(cmd, p), "tree arrives intact");

	H((x = sftp_xfer_new(C, &o)) == NULL);
	H(sftp_xfer_put(x, p, "tree-up"));
	round_trips = 0;
	is_int(run_xfer(x), 0, "put -r of the tree");
	ok(round_trips < 60, "put -r took %u round trips for 300 files",
	    round_trips);
	sftp_xfer_free(x);
	snprintf(cmd, sizeof(cmd), "%s/tree", root);
	ok(same_tree(cmd, rp("tree-up")), "uploaded tree intact");

	/* A file is not a directory without -r. */
	is_int(xfer_one(0, 0, "tree", p), -100, "get of a directory without "
	    "-r fails");
}

static void
truncate_copy(const char *src, const char *dst, off_t len, int corrupt)
{
	int fd;

	copy_file(src, dst);
	H(truncate(dst, len));
	if (corrupt && len > 0) {
		H((fd = open(dst, O_WRONLY)) < 0);
		H(pwrite(fd, "X", 1, len / 2) != 1);
		close(fd);
	}
}

static void
test_resume(void)
{
	static const off_t cuts[] = { 0, 1, 1024, 1024 * 1024,
	    3 * 1000 * 1000 + 16, 3 * 1000 * 1000 + 17 };
	char *src, dst[600];
	size_t i;

	src = strdup(rp("src-3000017"));
	snprintf(dst, sizeof(dst), "%s/resume", root);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		truncate_copy(src, dst, cuts[i], 0);
		is_int(xfer_one(0, SFTP_XFER_RESUME, "src-3000017", dst), 0,
		    "reget at %lld", (long long)cuts[i]);
		ok(same_file(src, dst), "reget at %lld intact",
		    (long long)cuts[i]);
		truncate_copy(src, rp("resume-up"), cuts[i], 0);
		is_int(xfer_one(1, SFTP_XFER_RESUME, src, "resume-up"), 0,
		    "reput at %lld", (long long)cuts[i]);
		ok(same_file(src, rp("resume-up")), "reput at %lld intact",
		    (long long)cuts[i]);
		if (cuts[i] < 2)
			continue;
		/* A prefix that differs from the source is detected. */
		truncate_copy(src, dst, cuts[i], 1);
		is_int(xfer_one(0, SFTP_XFER_RESUME, "src-3000017", dst), -100,
		    "reget over a changed prefix at %lld fails",
		    (long long)cuts[i]);
		is_int(xfer_one(0, SFTP_XFER_RESUME | SFTP_XFER_RESTART,
		    "src-3000017", dst), 0, "... and starts over when allowed");
		ok(same_file(src, dst), "... intact");
		truncate_copy(src, rp("resume-up"), cuts[i], 1);
		is_int(xfer_one(1, SFTP_XFER_RESUME, src, "resume-up"), -100,
		    "reput over a changed prefix at %lld fails",
		    (long long)cuts[i]);
	}
	/* A destination longer than the source is refused. */
	write_file(dst, 3 * 1000 * 1000 + 18, 0);
	is_int(xfer_one(0, SFTP_XFER_RESUME, "src-3000017", dst), -100,
	    "reget onto a longer file fails");
	free(src);
}

static void
test_atomic(void)
{
	char dst[600], part[700];
	struct stat st;

	snprintf(dst, sizeof(dst), "%s/atomic", root);
	snprintf(part, sizeof(part), "%s%s", dst, SFTP_XFER_PART_SUFFIX);
	is_int(xfer_one(0, SFTP_XFER_ATOMIC, "src-32768", dst), 0,
	    "atomic get");
	ok(same_file(rp("src-32768"), dst) && stat(part, &st) != 0,
	    "atomic get renamed into place");
	/* Resume continues from the temporary file. */
	truncate_copy(rp("src-3000017"), part, 100000, 0);
	is_int(xfer_one(0, SFTP_XFER_ATOMIC | SFTP_XFER_RESUME, "src-3000017",
	    dst), 0, "atomic reget from the temporary file");
	ok(same_file(rp("src-3000017"), dst) && stat(part, &st) != 0,
	    "atomic reget intact");
	is_int(xfer_one(1, SFTP_XFER_ATOMIC, rp("src-1"), "atomic-up"), 0,
	    "atomic put");
	ok(same_file(rp("src-1"), rp("atomic-up")) &&
	    stat(rp("atomic-up" SFTP_XFER_PART_SUFFIX), &st) != 0,
	    "atomic put renamed into place");
}

/* The window: -R fixes it; adaptive windows stay within the budget. */
static void
test_window(void)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;
	unsigned int max_inflight = 0, max_window = 0;
	int r;

	memset(&o, 0, sizeof(o));
	o.max_requests = 3;
	H((x = sftp_xfer_new(C, &o)) == NULL);
	H(sftp_xfer_get(x, "src-3000017", rp("win")));
	is_int(sftp_xfer_window(x), 3, "-R fixes the window");
	for (;;) {
		H(sftp_xfer_step(x));
		if (sftp_client_inflight(C) > max_inflight)
			max_inflight = sftp_client_inflight(C);
		if (sftp_xfer_done(x))
			break;
		H(pump_once() == 0);
	}
	ok(max_inflight <= 3, "at most 3 requests in flight (saw %u)",
	    max_inflight);
	ok(same_file(rp("src-3000017"), rp("win")), "... file intact");
	sftp_xfer_free(x);

	memset(&o, 0, sizeof(o));
	o.mem_budget = 32 * SFTP_MAX_RW;
	H((x = sftp_xfer_new(C, &o)) == NULL);
	H(sftp_xfer_get(x, "src-3000017", rp("win2")));
	H(sftp_xfer_get(x, "src-261121", rp("win3")));
	is_int(sftp_xfer_window(x), 16, "the adaptive window starts at 16");
	for (r = 0; r == 0;) {
		H(sftp_xfer_step(x));
		if (sftp_xfer_window(x) > max_window)
			max_window = sftp_xfer_window(x);
		if (sftp_client_inflight(C) > max_inflight)
			max_inflight = sftp_client_inflight(C);
		if (sftp_xfer_done(x))
			break;
		H(pump_once() == 0);
	}
	ok(max_window >= 16 && max_window <= 32,
	    "the window stays within the memory budget (max %u)", max_window);
	ok(max_inflight <= max_window + 2,
	    "requests in flight follow the window (max %u)", max_inflight);
	ok(same_file(rp("src-3000017"), rp("win2")) &&
	    same_file(rp("src-261121"), rp("win3")), "two files at once");
	sftp_xfer_free(x);
}

/*
 * A simulated long link between the engines, on a fake clock: each way,
 * bytes enter at most at `link_rate` bytes per second and come out
 * LINK_RTT_NS / 2 later.  The transfer's window reads the same clock.
 */
#define LINK_RTT_NS	(100ULL * 1000 * 1000)
#define LINK_STEP_NS	(LINK_RTT_NS / 50)
#define LINK_SEGS	256
struct link_dir {
	struct buf *b;			/* bytes on the wire, in order */
	uint64_t due[LINK_SEGS];	/* when each segment comes out */
	size_t len[LINK_SEGS];
	size_t head, n;
};
static uint64_t link_ns;
static double link_rate;

static uint64_t
link_clock(void *ctx)
{
	(void)ctx;
	return link_ns;
}

/* Put up to one step's worth of src on the wire. */
static void
link_enter(struct link_dir *d, struct buf *src)
{
	size_t n = buf_len(src), max = (size_t)(link_rate *
	    (double)LINK_STEP_NS / 1e9), i;

	if (n > max)
		n = max;
	if (n == 0)
		return;
	H(d->n == LINK_SEGS);
	i = (d->head + d->n) % LINK_SEGS;
	d->due[i] = link_ns + LINK_RTT_NS / 2;
	d->len[i] = n;
	d->n++;
	H(buf_put(d->b, buf_ptr(src), n));
	H(buf_consume(src, n));
}

/* How much of the wire has arrived (up to max). */
static size_t
link_arrived(const struct link_dir *d, size_t max)
{
	size_t n = 0, k;

	for (k = 0; k < d->n && n < max; k++) {
		if (d->due[(d->head + k) % LINK_SEGS] > link_ns)
			break;
		n += d->len[(d->head + k) % LINK_SEGS];
	}
	return n < max ? n : max;
}

static void
link_taken(struct link_dir *d, size_t n)
{
	H(buf_consume(d->b, n));
	while (n > 0) {
		if (n < d->len[d->head]) {
			d->len[d->head] -= n;
			break;
		}
		n -= d->len[d->head];
		d->head = (d->head + 1) % LINK_SEGS;
		d->n--;
	}
}

/*
 * Run x over the link at rate bytes/s; returns the largest window seen,
 * *at6: the window six round trips after the start.
 */
static unsigned int
link_run(struct sftp_xfer *x, double rate, unsigned int *at6)
{
	struct link_dir up, down;
	unsigned int most = 0;
	uint64_t start;
	size_t n;

	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	H((up.b = buf_new()) == NULL);
	H((down.b = buf_new()) == NULL);
	link_rate = rate;
	start = link_ns;
	*at6 = 0;
	for (;;) {
		H(sftp_xfer_step(x));
		if (sftp_xfer_window(x) > most)
			most = sftp_xfer_window(x);
		if (*at6 == 0 && link_ns - start >= 6 * LINK_RTT_NS)
			*at6 = sftp_xfer_window(x);
		if (sftp_xfer_done(x))
			break;
		H(link_ns - start > 600 * LINK_RTT_NS);	/* stuck */
		link_ns += LINK_STEP_NS;
		link_enter(&up, sftp_client_output(C));
		n = link_arrived(&up, sftp_server_input_space(S));
		if (n > 0) {
			H(sftp_server_input(S, buf_ptr(up.b), n));
			link_taken(&up, n);
		}
		H(sftp_server_process(S));
		link_enter(&down, sftp_server_output(S));
		if ((n = link_arrived(&down, SIZE_MAX)) > 0) {
			H(sftp_client_input(C, buf_ptr(down.b), n));
			link_taken(&down, n);
		}
	}
	buf_free(up.b);
	buf_free(down.b);
	return most;
}

/*
 * The adaptive window on a long link: it grows while the pipe is full,
 * ends within twice the bandwidth-delay product, and never passes
 * SFTP_XFER_FLIGHT_MAX, both ways.
 */
static void
test_window_link(void)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;
	unsigned int most, at6, bdp, up;

	link_ns = 1000000000ULL;
	write_file(rp("link-src"), 16 * 1024 * 1024, 5);
	/* 20 MB/s, 100 ms: a BDP of 2 MB, 61 requests of 32 KiB. */
	bdp = (unsigned int)(20e6 * 0.1 / 32768);
	for (up = 0; up < 2; up++) {
		memset(&o, 0, sizeof(o));
		o.req_size = 32768;
		o.clock = link_clock;
		H((x = sftp_xfer_new(C, &o)) == NULL);
		if (up)
			H(sftp_xfer_put(x, rp("link-src"), "link-up"));
		else
			H(sftp_xfer_get(x, "link-src", rp("link-down")));
		most = link_run(x, 20e6, &at6);
		ok(at6 >= bdp, "%s: after 6 round trips the window covers the "
		    "BDP (%u requests, BDP %u)", up ? "put" : "get", at6, bdp);
		ok(most <= 2 * bdp + bdp / 10, "%s: the window stays within "
		    "twice the BDP (largest %u, BDP %u)", up ? "put" : "get",
		    most, bdp);
		ok(same_file(rp("link-src"), rp(up ? "link-up" : "link-down")),
		    "%s over the link intact", up ? "put" : "get");
		sftp_xfer_free(x);
	}
	/* 1 GB/s, 100 ms: only SFTP_XFER_FLIGHT_MAX holds it. */
	write_file(rp("link-big"), 40 * 1024 * 1024, 6);
	memset(&o, 0, sizeof(o));
	o.clock = link_clock;
	H((x = sftp_xfer_new(C, &o)) == NULL);
	H(sftp_xfer_get(x, "link-big", rp("link-big2")));
	most = link_run(x, 1e9, &at6);
	is_int(most, SFTP_XFER_FLIGHT_MAX / SFTP_MAX_RW, "a fast long link "
	    "grows the window to 16 MiB in flight and no further");
	ok(same_file(rp("link-big"), rp("link-big2")), "... file intact");
	sftp_xfer_free(x);
	unlink(rp("link-big"));
	unlink(rp("link-big2"));
}

/* Cancelling drains outstanding requests and keeps the partial file. */
static void
test_cancel(void)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;
	struct stat st;
	int i;

	memset(&o, 0, sizeof(o));
	o.max_requests = 2;
	o.max_files = 1;
	H((x = sftp_xfer_new(C, &o)) == NULL);
	H(sftp_xfer_get(x, "src-3000017", rp("cancelled")));
	H(sftp_xfer_get(x, "src-1", rp("never")));
	for (i = 0; i < 4; i++) {
		H(sftp_xfer_step(x));
		H(pump_once() == 0);
	}
	sftp_xfer_cancel(x);
	while (!sftp_xfer_done(x)) {
		H(sftp_xfer_step(x));
		if (sftp_xfer_done(x))
			break;
		H(pump_once() == 0);
	}
	is_int(sftp_client_inflight(C), 0, "cancel: every request answered");
	ok(stat(rp("never"), &st) != 0, "cancel: queued files never start");
	ok(sftp_xfer_failures(x) >= 1, "cancel: the transfer counts as failed");
	ok(stat(rp("cancelled"), &st) == 0 && st.st_size > 0 &&
	    st.st_size < 3000017, "cancel: the partial file stays for resume");
	sftp_xfer_free(x);
	is_int(xfer_one(0, SFTP_XFER_RESUME, "src-3000017", rp("cancelled")),
	    0, "cancel: resumed afterwards");
	ok(same_file(rp("src-3000017"), rp("cancelled")), "... intact");
}

/* ---- Hand-made replies ---- */

static int
count_cb(void *arg, const struct sftp_client_reply *rep)
{
	int *n = arg;

	(void)rep;
	(*n)++;
	return 0;
}

static struct sftp_client *
fake_start(void)
{
	static const uint8_t version[] = { 0, 0, 0, 5, SSH_FXP_VERSION,
	    0, 0, 0, 3 };
	struct sftp_client *c;

	H((c = sftp_client_new()) == NULL);
	buf_reset(sftp_client_output(c));
	H(sftp_client_input(c, version, sizeof(version)));
	return c;
}

/*
 * VERSION whose extension data is any bytes: AsyncSSH sends vendor-id
 * (three strings and a uint64, so NULs); the extensions after it count.
 * A data string cut short is still refused.
 */
static void
test_version_exts(void)
{
	struct sftp_client *c;
	struct buf *v, *vend, *f;
	const char *data;
	int r;

	H((v = buf_new()) == NULL || (vend = buf_new()) == NULL ||
	    (f = buf_new()) == NULL);
	H(buf_put_cstring(vend, "Test"));
	H(buf_put_cstring(vend, "Fake"));
	H(buf_put_cstring(vend, "1.0"));
	H(buf_put_u64(vend, 7));
	H(buf_put_u8(v, SSH_FXP_VERSION));
	H(buf_put_u32(v, 3));
	H(buf_put_cstring(v, "vendor-id"));
	H(buf_put_stringb(v, vend));
	H(buf_put_cstring(v, "statvfs@openssh.com"));
	H(buf_put_cstring(v, "2"));
	H(buf_put_stringb(f, v));
	H((c = sftp_client_new()) == NULL);
	r = sftp_client_input(c, buf_ptr(f), buf_len(f));
	ok(r == 0 && sftp_client_ready(c),
	    "VERSION with binary extension data (vendor-id) is accepted");
	ok(sftp_client_has_ext(c, "vendor-id", NULL, &data) &&
	    sftp_client_has_ext(c, "statvfs@openssh.com", "2", NULL) &&
	    !sftp_client_has_ext(c, "vendor-id", "Test", NULL),
	    "and its extensions are recorded, binary data compared by bytes");
	sftp_client_free(c);

	/* The same with the last data string one byte short. */
	buf_reset(f);
	H(buf_put_u32(f, (uint32_t)buf_len(v) - 1));
	H(buf_put(f, buf_ptr(v), buf_len(v) - 1));
	H((c = sftp_client_new()) == NULL);
	r = sftp_client_input(c, buf_ptr(f), buf_len(f));
	ok(r != 0 || sftp_client_error(c) != 0,
	    "a VERSION extension cut short is refused");
	sftp_client_free(c);
	buf_free(v);
	buf_free(vend);
	buf_free(f);
}

static int
fake_reply(struct sftp_client *c, const struct buf *body)
{
	struct buf *f = buf_new();
	int r;

	H(f == NULL);
	H(buf_put_stringb(f, body));
	r = sftp_client_input(c, buf_ptr(f), buf_len(f));
	buf_free(f);
	return r;
}

static struct buf *
body(uint8_t type, uint32_t id)
{
	struct buf *b = buf_new();

	H(b == NULL);
	H(buf_put_u8(b, type));
	H(buf_put_u32(b, id));
	return b;
}

static void
test_hostile(void)
{
	struct sftp_client *c;
	struct buf *b;
	uint8_t h[4] = { 1, 2, 3, 4 };
	uint32_t id1, id2;
	int n = 0;

	/* Out of order replies reach their own callbacks. */
	c = fake_start();
	H(sftp_client_path(c, SSH_FXP_STAT, "a", count_cb, &n));
	H(sftp_client_path(c, SSH_FXP_STAT, "b", count_cb, &n));
	is_int(sftp_client_inflight(c), 2, "two requests in flight");
	b = body(SSH_FXP_STATUS, 2);
	H(buf_put_u32(b, SSH_FX_NO_SUCH_FILE));
	is_int(fake_reply(c, b), 0, "reply to the second request first");
	buf_free(b);
	b = body(SSH_FXP_ATTRS, 1);
	H(buf_put_u32(b, 0));
	is_int(fake_reply(c, b), 0, "then to the first");
	is_int(n, 2, "both callbacks ran");
	/* A duplicate reply ends the session. */
	is_int(fake_reply(c, b), FERR_PROTOCOL, "duplicate id refused");
	is_int(sftp_client_error(c), FERR_PROTOCOL, "session over");
	is_int(sftp_client_path(c, SSH_FXP_STAT, "x", NULL, NULL),
	    FERR_CONN_CLOSED, "no requests after a protocol error");
	buf_free(b);
	sftp_client_free(c);

	c = fake_start();
	b = body(SSH_FXP_STATUS, 77);
	H(buf_put_u32(b, 0));
	is_int(fake_reply(c, b), FERR_PROTOCOL, "unknown id refused");
	buf_free(b);
	sftp_client_free(c);

	/* DATA longer than the READ asked for. */
	c = fake_start();
	H(sftp_client_read(c, h, 4, 0, 10, count_cb, &n));
	H(sftp_client_read(c, h, 4, 10, 10, count_cb, &n));
	b = body(SSH_FXP_DATA, 2);
	H(buf_put_string(b, "0123456789", 10));
	is_int(fake_reply(c, b), 0, "DATA of the requested length");
	buf_free(b);
	b = body(SSH_FXP_DATA, 1);
	H(buf_put_string(b, "0123456789A", 11));
	is_int(fake_reply(c, b), FERR_PROTOCOL, "longer DATA refused");
	ok(strstr(sftp_client_error_msg(c), "11 bytes") != NULL,
	    "the error says why");
	buf_free(b);
	sftp_client_free(c);

	/* READDIR names with '/' or empty. */
	c = fake_start();
	H(sftp_client_handle(c, SSH_FXP_READDIR, h, 4, count_cb, &n));
	H(sftp_client_handle(c, SSH_FXP_READDIR, h, 4, count_cb, &n));
	b = body(SSH_FXP_NAME, 1);
	H(buf_put_u32(b, 2));
	H(buf_put_cstring(b, ".."));
	H(buf_put_cstring(b, "drwx ..."));
	H(buf_put_u32(b, 0));
	H(buf_put_cstring(b, "ok"));
	H(buf_put_cstring(b, "-rw ok"));
	H(buf_put_u32(b, 0));
	is_int(fake_reply(c, b), 0, "plain names accepted");
	buf_free(b);
	b = body(SSH_FXP_NAME, 2);
	H(buf_put_u32(b, 1));
	H(buf_put_cstring(b, "../../etc/passwd"));
	H(buf_put_cstring(b, "x"));
	H(buf_put_u32(b, 0));
	is_int(fake_reply(c, b), FERR_PROTOCOL, "a name with '/' refused");
	buf_free(b);
	sftp_client_free(c);

	/* A reply type the request cannot have. */
	c = fake_start();
	H(sftp_client_path(c, SSH_FXP_REMOVE, "a", count_cb, &n));
	b = body(SSH_FXP_HANDLE, 1);
	H(buf_put_string(b, h, 4));
	is_int(fake_reply(c, b), FERR_PROTOCOL, "HANDLE to REMOVE refused");
	buf_free(b);
	sftp_client_free(c);

	/* Trailing bytes, oversized frames. */
	c = fake_start();
	H(sftp_client_path(c, SSH_FXP_REMOVE, "a", count_cb, &n));
	b = body(SSH_FXP_STATUS, 1);
	H(buf_put_u32(b, 0));
	H(buf_put_cstring(b, "m"));
	H(buf_put_cstring(b, ""));
	H(buf_put_u8(b, 0));
	is_int(fake_reply(c, b), FERR_PROTOCOL, "trailing data refused");
	buf_free(b);
	sftp_client_free(c);
	c = fake_start();
	{
		static const uint8_t big[] = { 0, 0x10, 0, 0, 101 };

		is_int(sftp_client_input(c, big, sizeof(big)), FERR_PROTOCOL,
		    "a 1 MiB frame refused");
	}
	sftp_client_free(c);

	/* EOF fails what is outstanding. */
	c = fake_start();
	id1 = id2 = 0;
	H(sftp_client_path(c, SSH_FXP_STAT, "a", count_cb, &n));
	n = 0;
	sftp_client_eof(c);
	is_int(n, 1, "EOF calls outstanding callbacks");
	is_int(sftp_client_error(c), FERR_CONN_CLOSED, "EOF ends the session");
	(void)id1;
	(void)id2;
	sftp_client_free(c);
}

static void
test_vis(void)
{
	char *v = sftp_client_vis("a\033[2Jb\n\x7f");

	ok(v != NULL && strcmp(v, "a\\033[2Jb\\012\\177") == 0,
	    "control characters become octal escapes");
	free(v);
	v = sftp_client_vis("caf\xc3\xa9");
	ok(v != NULL && strcmp(v, "caf\xc3\xa9") == 0, "UTF-8 left alone");
	free(v);
}

static int
cleanup_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static void
cleanup(void)
{
	if (root[0] != '\0')
		(void)nftw(root, cleanup_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A check-file reply: "sha256" and exactly one 32-byte digest; another
 * algorithm, a short digest, a second digest or trailing bytes refused.
 */
static void
test_checkfile_digest(void)
{
	static const struct {
		const char *alg;
		size_t dlen;
		int want;
		const char *what;
	} cases[] = {
		{ "sha256", 32, 0, "one sha256 digest" },
		{ "sha1", 32, FERR_FORMAT, "another algorithm" },
		{ "sha256", 31, FERR_FORMAT, "a short digest" },
		{ "sha256", 33, FERR_FORMAT, "a trailing byte" },
		{ "sha256", 64, FERR_FORMAT, "two digests" },
	};
	uint8_t d[64], out[SFTP_CHECKFILE_SHA256_LEN];
	struct buf *b;
	size_t i;

	for (i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((b = buf_new()) == NULL ||
		    buf_put_cstring(b, cases[i].alg) != 0 ||
		    buf_put(b, d, cases[i].dlen) != 0)
			abort();
		memset(out, 0xff, sizeof(out));
		is_int(sftp_client_checkfile_digest(buf_ptr(b), buf_len(b),
		    out), cases[i].want, "check-file reply: %s", cases[i].what);
		buf_free(b);
	}
	if ((b = buf_new()) == NULL || buf_put_cstring(b, "sha256") != 0 ||
	    buf_put(b, d, 32) != 0)
		abort();
	ok(sftp_client_checkfile_digest(buf_ptr(b), buf_len(b), out) == 0 &&
	    memcmp(out, d, 32) == 0, "check-file reply: the digest is copied");
	buf_free(b);
}

int
main(void)
{
	char tmpl[] = "/tmp/test-sftp-client.XXXXXX";

	H(mkdtemp(tmpl) == NULL);
	snprintf(root, sizeof(root), "%s", tmpl);
	atexit(cleanup);
	session_start();
	test_sizes();
	test_tree();
	test_resume();
	test_atomic();
	test_window();
	test_window_link();
	test_cancel();
	session_end();
	/* The same with tiny chunks: replies arrive in pieces. */
	session_start();
	max_chunk = 7;
	is_int(xfer_one(0, 0, "src-32768", rp("small-pieces")), 0,
	    "get with replies in 7-byte pieces");
	ok(same_file(rp("src-32768"), rp("small-pieces")), "intact");
	max_chunk = 1 << 30;
	session_end();
	test_hostile();
	test_vis();
	test_version_exts();
	test_checkfile_digest();
	return tap_done();
}
