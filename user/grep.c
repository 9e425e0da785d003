// grep: print the lines that match a simple regular expression.
//
//   grep pattern [file...]
//
// The pattern language is the small classic one:
//   c    any other character matches itself
//   .    matches any one character
//   x*   zero or more of x (x is a character or .)
//   ^    at the start of the pattern: the match must begin the line
//   $    at the end of the pattern: the match must end the line
//
// The pattern is first translated into a list of items (one per character
// or "any", each possibly starred); matching then walks that list against
// the line, and a starred item first takes as many characters as it can
// and gives them back one at a time until the rest of the list matches.
//
// Exit status: 0 if some line matched, 1 if none did or on error.

#include "user/user.h"

#define MAXITEMS 256
#define ANY      (-1)

struct item {
  int ch;        // the character to match, or ANY
  int star;      // followed by '*'
};

static struct item items[MAXITEMS];
static int nitems;
static int at_start;   // pattern began with ^
static int at_end;     // pattern ended with $

static int
compile(const char *pat)
{
  const char *p = pat;
  int len = strlen(pat);

  if (*p == '^') {
    at_start = 1;
    p++;
  }
  // A final '$' anchors, unless it is the only thing after '^'... which
  // still anchors: "^$" matches empty lines.
  const char *stop = pat + len;
  if (stop > p && stop[-1] == '$') {
    at_end = 1;
    stop--;
  }
  for (; p < stop; p++) {
    if (*p == '*' && nitems > 0 && !items[nitems - 1].star) {
      items[nitems - 1].star = 1;
      continue;
    }
    // A '*' with nothing before it is an ordinary character.
    if (nitems == MAXITEMS)
      return -1;
    items[nitems].ch = (*p == '.') ? ANY : (uchar)*p;
    items[nitems].star = 0;
    nitems++;
  }
  return 0;
}

static int
item_ok(const struct item *it, char c)
{
  return it->ch == ANY || it->ch == (uchar)c;
}

// Do items[i..] match the text s..end, starting exactly at s?
static int
match_here(int i, const char *s, const char *end)
{
  for (; i < nitems; i++) {
    const struct item *it = &items[i];
    if (it->star) {
      // Longest run first, then shorter ones.
      const char *t = s;
      while (t < end && item_ok(it, *t))
        t++;
      for (;;) {
        if (match_here(i + 1, t, end))
          return 1;
        if (t == s)
          return 0;
        t--;
      }
    }
    if (s == end || !item_ok(it, *s))
      return 0;
    s++;
  }
  return !at_end || s == end;
}

static int
match_line(const char *s, const char *end)
{
  if (at_start)
    return match_here(0, s, end);
  // Try every start position, including the empty tail (for patterns
  // such as "x*" or "$" that can match nothing).
  for (const char *p = s;; p++) {
    if (match_here(0, p, end))
      return 1;
    if (p == end)
      return 0;
  }
}

static char buf[4096];
static int matched;
static int show_names;   // more than one file: prefix lines with the name

// Print each matching line of fd (name: 0 for standard input).
static int
grep_fd(int fd, const char *name)
{
  int have = 0;      // bytes in buf not yet consumed
  int n;

  do {
    n = read(fd, buf + have, sizeof(buf) - have);
    if (n < 0) {
      fprintf(2, "grep: %s: %s\n", name ? name : "standard input", strerror(errno));
      return -1;
    }
    have += n;
    char *line = buf;
    char *bufend = buf + have;
    for (;;) {
      char *nl = line;
      while (nl < bufend && *nl != '\n')
        nl++;
      if (nl == bufend) {
        // No newline: an incomplete line, unless the buffer is full (an
        // over-long line is cut into buffer-sized pieces) or input ended.
        if (!(line == buf && have == (int)sizeof(buf)) && !(n == 0 && line < bufend))
          break;
      }
      if (match_line(line, nl)) {
        matched = 1;
        if (show_names)
          printf("%s:%.*s\n", name, (int)(nl - line), line);
        else
          printf("%.*s\n", (int)(nl - line), line);
      }
      line = (nl < bufend) ? nl + 1 : nl;
      if (line >= bufend)
        break;
    }
    // Move the incomplete tail to the front for the next read.
    have = bufend - line;
    memmove(buf, line, have);
  } while (n > 0);
  return 0;
}

int
main(int argc, char *argv[])
{
  if (argc < 2) {
    fprintf(2, "usage: grep pattern [file...]\n");
    exit(1);
  }
  if (compile(argv[1]) < 0) {
    fprintf(2, "grep: pattern too long\n");
    exit(1);
  }
  show_names = argc > 3;
  int status = each_file(argc, argv, 2, grep_fd);
  exit(status || !matched ? 1 : 0);
}
