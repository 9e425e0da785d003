// errno, strerror and perror.
//
// The system-call stubs (usys.S) store the error number of a failed call in
// errno.  strerror turns a number into a short English message; the table
// covers every number that kernel/uapi/errno.h defines.

#include "user/user.h"

int errno;

// Indexed by error number; a gap in errno.h leaves a NULL entry.
static const char *const messages[] = {
  [0]            = "success",
  [EPERM]        = "operation not permitted",
  [ENOENT]       = "no such file or directory",
  [ESRCH]        = "no such process",
  [EINTR]        = "interrupted",
  [EIO]          = "input/output error",
  [ENXIO]        = "no such device or address",
  [E2BIG]        = "argument list too long",
  [ENOEXEC]      = "exec format error",
  [EBADF]        = "bad file descriptor",
  [ECHILD]       = "no child processes",
  [EAGAIN]       = "resource temporarily unavailable",
  [ENOMEM]       = "out of memory",
  [EACCES]       = "permission denied",
  [EFAULT]       = "bad address",
  [EBUSY]        = "device or resource busy",
  [EEXIST]       = "file exists",
  [EXDEV]        = "cross-device link",
  [ENODEV]       = "no such device",
  [ENOTDIR]      = "not a directory",
  [EISDIR]       = "is a directory",
  [EINVAL]       = "invalid argument",
  [ENFILE]       = "too many open files in system",
  [EMFILE]       = "too many open files",
  [ENOTTY]       = "not a terminal",
  [EFBIG]        = "file too large",
  [ENOSPC]       = "no space left on device",
  [ESPIPE]       = "illegal seek",
  [EROFS]        = "read-only file system",
  [EMLINK]       = "too many links",
  [EPIPE]        = "broken pipe",
  [ERANGE]       = "result out of range",
  [ENAMETOOLONG] = "file name too long",
  [ENOSYS]       = "function not implemented",
  [ENOTEMPTY]    = "directory not empty",
  [ELOOP]        = "too many levels of symbolic links",
};

#define NMESSAGES (sizeof(messages) / sizeof(messages[0]))

const char *
strerror(int err)
{
  // For numbers without a message the text has to be built; one static
  // buffer is enough for a single-threaded program that prints the result
  // before asking again.
  static char unknown[32];

  if (err >= 0 && (size_t)err < NMESSAGES && messages[err] != NULL)
    return messages[err];
  snprintf(unknown, sizeof(unknown), "unknown error %d", err);
  return unknown;
}

void
perror(const char *prefix)
{
  // Read errno before printing anything: the write itself could change it.
  int err = errno;

  if (prefix != NULL && prefix[0] != '\0')
    fprintf(2, "%s: %s\n", prefix, strerror(err));
  else
    fprintf(2, "%s\n", strerror(err));
}
