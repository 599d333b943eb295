/* conninfo.h — PostgreSQL connection strings in logs and error messages.
 *
 * A user's --db / HPT_DB (a libpq URL or key=value string, passed to libpq
 * unchanged, sslmode and all) may hold a password, and libpq quotes the
 * whole string in some of its errors ("invalid percent-encoded token ...
 * in URI: \"postgresql://u:secret@...\""). Any text that can contain a
 * connection string goes through hpt_conninfo_mask before it is printed.
 */
#ifndef HPT_CONNINFO_H
#define HPT_CONNINFO_H

#include <stddef.h>

/* Copies `text` into `buffer` (`size` bytes, always NUL-terminated,
 * truncated if need be) with every password replaced by "***": the value
 * of `password=` (key=value strings, quoted or not, and URL query
 * parameters) and the `:pass` of a URL's `user:pass@`. Text without a
 * password is copied unchanged. Cannot fail. */
void hpt_conninfo_mask(const char *text, char *buffer, size_t size);

#endif
