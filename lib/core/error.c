#include "lib/core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void err_clear(struct drctl_error *err)
{
	memset(err, 0, sizeof(*err));
}

int err_is_set(const struct drctl_error *err)
{
	return err->code != 0;
}

static void copy_or_empty(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int err_vset(struct drctl_error *err, int code, const char *subject,
		    const char *hint, const char *fmt, va_list ap)
{
	if (err == NULL || err->code != 0)
		return -1;
	err->code = code ? code : EXIT_FAILED;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	copy_or_empty(err->subject, sizeof(err->subject), subject);
	copy_or_empty(err->hint, sizeof(err->hint), hint);
	return -1;
}

int err_set(struct drctl_error *err, int code, const char *subject,
	    const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, subject, hint, fmt, ap);
	va_end(ap);
	return -1;
}

int err_set_errno(struct drctl_error *err, int code, int errnum,
		  const char *subject, const char *hint, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL || err->code != 0)
		return -1;
	va_start(ap, fmt);
	err_vset(err, code, subject, hint, fmt, ap);
	va_end(ap);
	len = strlen(err->message);
	snprintf(err->message + len, sizeof(err->message) - len, ": %s",
		 strerror(errnum));
	return -1;
}

void err_hint(struct drctl_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

void err_prefix(struct drctl_error *err, const char *fmt, ...)
{
	char prefix[256], old[sizeof(err->message)];
	va_list ap;

	if (err->code == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	/* Long messages are cut, never overrun; the cut is acceptable. */
	if (snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old) >= (int)sizeof(err->message))
		err->message[sizeof(err->message) - 1] = '\0';
}

const char *err_openssl_reason(void)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown OpenSSL error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}
