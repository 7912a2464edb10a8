/*
 * HostCertificate: each file holds one OpenSSH host certificate line
 * ("ssh-ed25519-cert-v01@openssh.com base64 [comment]", as ssh-keygen
 * -s writes it to *-cert.pub).  A certificate is served with the host
 * key whose public half it certifies; the transport then offers its
 * *-cert-v01@openssh.com algorithm before the plain ones.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "ferry/transport.h"
#include "fsshd-hostcert.h"

/* As many certificates as host keys at most make sense; cap the list. */
#define FSSHD_MAX_HOSTCERTS	16
/* A certificate line is a few KiB at most (RSA 16384 with RSA CA). */
#define FSSHD_HOSTCERT_FILE_MAX	(64U * 1024)

static struct key_cert *fsshd_hostcerts[FSSHD_MAX_HOSTCERTS];
static size_t fsshd_nhostcerts;

void
fsshd_hostcert_free(void)
{
	size_t i;

	for (i = 0; i < fsshd_nhostcerts; i++)
		key_cert_free(fsshd_hostcerts[i]);
	fsshd_nhostcerts = 0;
}

/*
 * The first line of text that is not blank or a comment: its line
 * number in *linep and an allocated copy in *linecp (NULL if none).
 */
static int
fsshd_hostcert_first_line(const struct buf *b, unsigned long *linep,
    char **linecp)
{
	const char *p = (const char *)buf_ptr(b), *e, *end = p + buf_len(b);
	unsigned long n = 0;
	size_t len;

	*linecp = NULL;
	for (; p < end; p = e + 1) {
		n++;
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' ' ||
		    p[len - 1] == '\t'))
			len--;
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len == 0 || *p == '#')
			continue;
		if (memchr(p, '\0', len) != NULL)
			return FERR_FORMAT;
		if ((*linecp = strndup(p, len)) == NULL)
			return FERR_ALLOC;
		*linep = n;
		return 0;
	}
	return FERR_FORMAT;
}

/* Load the certificate at path: 0, or 1 after logging why not. */
static int
fsshd_hostcert_load_one(const char *path, struct key *const *hostkeys,
    size_t nhostkeys, struct key_cert **certp)
{
	struct buf *b = NULL;
	struct key_cert *cert = NULL;
	unsigned long line = 1;
	char *text = NULL, *fp = NULL;
	size_t i;
	int r, bad = 1;

	*certp = NULL;
	if ((r = key_read_file(path, FSSHD_HOSTCERT_FILE_MAX, &b)) != 0) {
		log_error("%s: HostCertificate: %s", path, r == FERR_SYSTEM ?
		    strerror(errno) : err_str(r));
		goto out;
	}
	if ((r = fsshd_hostcert_first_line(b, &line, &text)) != 0 ||
	    (r = key_cert_parse_line(text, &cert)) != 0) {
		log_error("%s line %lu: HostCertificate: not a valid "
		    "certificate: %s", path, line, err_str(r));
		goto out;
	}
	if (cert->type != KEY_CERT_HOST) {
		log_error("%s line %lu: HostCertificate: a user certificate, "
		    "not a host certificate (ssh-keygen -s ca -h)", path, line);
		goto out;
	}
	for (i = 0; i < nhostkeys; i++)
		if (key_equal_public(hostkeys[i], cert->key))
			break;
	if (i == nhostkeys) {
		if (key_fingerprint(cert->key, KEY_FP_SHA256, &fp) != 0)
			fp = NULL;
		log_error("%s line %lu: HostCertificate: the certified key %s "
		    "%s is not one of the host keys", path, line,
		    key_type_short(key_get_type(cert->key)),
		    fp != NULL ? fp : "?");
		goto out;
	}
	log_debug("host certificate %s: %s ID \"%s\" serial %llu for host "
	    "key %zu", path, cert->type_name, cert->key_id,
	    (unsigned long long)cert->serial, i + 1);
	*certp = cert;
	cert = NULL;
	bad = 0;
 out:
	key_cert_free(cert);
	free(text);
	free(fp);
	buf_free(b);
	return bad;
}

int
fsshd_hostcert_load(const struct sshdconf *conf,
    struct key *const *hostkeys, size_t nhostkeys)
{
	const struct sshdconf_list *l = &conf->host_certificates;
	struct key_cert *cert;
	size_t i;
	int errors = 0;

	fsshd_hostcert_free();
	for (i = 0; i < l->n; i++) {
		if (fsshd_nhostcerts == FSSHD_MAX_HOSTCERTS) {
			log_error("%s: HostCertificate: more than %d "
			    "certificates", l->v[i], FSSHD_MAX_HOSTCERTS);
			errors++;
			break;
		}
		if (fsshd_hostcert_load_one(l->v[i], hostkeys, nhostkeys,
		    &cert) != 0)
			errors++;
		else
			fsshd_hostcerts[fsshd_nhostcerts++] = cert;
	}
	return errors;
}

void
fsshd_hostcert_config(struct transport_config *tc)
{
	tc->hostcerts = (const struct key_cert *const *)fsshd_hostcerts;
	tc->nhostcerts = fsshd_nhostcerts;
}

int
fsshd_hostcert_check(const struct sshdconf *conf, const char *const *paths,
    size_t npaths)
{
	struct key *keys[FSSHD_MAX_HOSTCERTS] = { NULL };
	struct buf *b;
	size_t i, n = 0;
	int r, errors = 0;

	if (conf->host_certificates.n == 0)
		return 0;
	for (i = 0; i < npaths && n < FSSHD_MAX_HOSTCERTS; i++) {
		b = NULL;
		if ((r = key_read_file(paths[i], 0, &b)) != 0 ||
		    (r = key_parse_private_public(b, &keys[n])) != 0) {
			log_error("host key %s: %s", paths[i], r == FERR_SYSTEM ?
			    strerror(errno) : err_str(r));
			errors++;
		} else
			n++;
		buf_free(b);
	}
	errors += fsshd_hostcert_load(conf, keys, n);
	fsshd_hostcert_free();
	for (i = 0; i < n; i++)
		key_free(keys[i]);
	return errors;
}
