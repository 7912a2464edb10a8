/*
 * fsshd's HostCertificate: OpenSSH host certificates (ssh-keygen -s ca
 * -h) served with the host keys they certify.
 */
#ifndef FSSHD_HOSTCERT_H
#define FSSHD_HOSTCERT_H

#include <stddef.h>

struct key;
struct sshdconf;
struct transport_config;

/*
 * Load every HostCertificate of conf and pair each with the host key
 * (of the nhostkeys at hostkeys) whose public half it certifies, as sshd
 * does.  Each problem (an unreadable or malformed file, a user
 * certificate, a certificate for no host key) is logged with the file
 * and line; the return value is how many there were (0: all loaded).
 * The certificates are kept for fsshd_hostcert_config until
 * fsshd_hostcert_free.  Loading again replaces them.
 */
int fsshd_hostcert_load(const struct sshdconf *conf,
    struct key *const *hostkeys, size_t nhostkeys);

/*
 * Check the HostCertificate lines against the host key files at paths
 * (as fsshd_hostcert_load, loading the keys for the purpose and keeping
 * nothing); the number of problems.
 */
int fsshd_hostcert_check(const struct sshdconf *conf,
    const char *const *paths, size_t npaths);

/* Put the loaded certificates into a server's transport configuration. */
void fsshd_hostcert_config(struct transport_config *tc);

void fsshd_hostcert_free(void);

#endif /* FSSHD_HOSTCERT_H */
