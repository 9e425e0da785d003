// sh: the Quire shell.
//
// Reads commands from standard input, printing the prompt "$ " before each
// one, or from the file named by its first argument, without prompts; one
// line at a time.  The language:
//
//   cmd arg...            run a program (found as given, else in /)
//   cmd < in > out        redirect input, output (>> appends)
//   a | b | c             a pipeline
//   a ; b                 one after the other
//   a &                   in the background (not waited for)
//   ( a ; b ) > out       a group run in a subshell
//   'x y'  "x y"  \x      quoting; # starts a comment
//   cd dir, exit [n]      built in
//
// A line is turned into a tree in three steps: the tokenizer splits it into
// words and operators, the parser builds nodes bottom-up (command, pipeline,
// sequence), and the runner walks the tree.  All storage is static and is
// reused for every line.

#include "user/user.h"

#define MAXLINE   1024
#define MAXTOKENS (MAXLINE + 1)     // every character could be an operator
#define MAXNODES  256
#define MAXREDIRS 128
#define ARGSLOTS  (2 * MAXLINE)     // argv pointers plus NULL terminators

// ---------------------------------------------------------------- tokens

enum tok { T_WORD, T_PIPE, T_SEMI, T_AMP, T_LT, T_GT, T_GTGT, T_LPAREN,
           T_RPAREN, T_END };

static const char *const tokname[] = {
  [T_WORD] = "word", [T_PIPE] = "|", [T_SEMI] = ";", [T_AMP] = "&",
  [T_LT] = "<", [T_GT] = ">", [T_GTGT] = ">>", [T_LPAREN] = "(",
  [T_RPAREN] = ")", [T_END] = "newline",
};

struct token {
  enum tok type;
  char *word;          // T_WORD only: unquoted text in wordbuf
};

static struct token tokens[MAXTOKENS];
static int ntokens;
static char wordbuf[2 * MAXLINE];   // words, each NUL-terminated

static int
is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_special(char c)
{
  return c == '|' || c == ';' || c == '&' || c == '<' || c == '>' ||
         c == '(' || c == ')';
}

// Split line into tokens.  Returns 0, or -1 after printing an error.
static int
tokenize(const char *line)
{
  const char *p = line;
  char *w = wordbuf;

  ntokens = 0;
  for (;;) {
    while (is_blank(*p))
      p++;
    if (*p == '\0' || *p == '#')
      break;

    struct token *t = &tokens[ntokens++];
    if (is_special(*p)) {
      switch (*p++) {
      case '|': t->type = T_PIPE; break;
      case ';': t->type = T_SEMI; break;
      case '&': t->type = T_AMP; break;
      case '<': t->type = T_LT; break;
      case '(': t->type = T_LPAREN; break;
      case ')': t->type = T_RPAREN; break;
      case '>':
        t->type = T_GT;
        if (*p == '>') {
          t->type = T_GTGT;
          p++;
        }
        break;
      }
      continue;
    }

    // A word runs until a blank or operator outside quotes.
    t->type = T_WORD;
    t->word = w;
    while (*p != '\0' && !is_blank(*p) && !is_special(*p)) {
      if (*p == '\'' || *p == '"') {
        char q = *p++;
        while (*p != '\0' && *p != q)
          *w++ = *p++;
        if (*p != q) {
          fprintf(2, "sh: unterminated %c quote\n", q);
          return -1;
        }
        p++;
      } else if (*p == '\\' && p[1] != '\0') {
        *w++ = p[1];
        p += 2;
      } else {
        *w++ = *p++;
      }
    }
    *w++ = '\0';
  }
  tokens[ntokens].type = T_END;
  return 0;
}

// ---------------------------------------------------------------- tree

enum ntype { N_EXEC, N_PIPE, N_SEQ, N_BACK, N_GROUP };

struct redir {
  enum tok kind;       // T_LT, T_GT or T_GTGT
  char *file;
  struct redir *next;
};

struct node {
  enum ntype type;
  struct node *left;   // PIPE, SEQ: first part; BACK, GROUP: the body
  struct node *right;  // PIPE, SEQ: second part
  char **argv;         // EXEC: NULL-terminated
  struct redir *redirs;  // EXEC, GROUP: in the order written
};

static struct node nodes[MAXNODES];
static int nnodes;
static struct redir redirs[MAXREDIRS];
static int nredirs;
static char *argslots[ARGSLOTS];
static int nargslots;

static int pos;        // parser position in tokens[]
static int parse_error;

static struct node *
newnode(enum ntype type, struct node *left, struct node *right)
{
  if (nnodes == MAXNODES) {
    fprintf(2, "sh: command too complex\n");
    parse_error = 1;
    return NULL;
  }
  struct node *n = &nodes[nnodes++];
  memset(n, 0, sizeof(*n));
  n->type = type;
  n->left = left;
  n->right = right;
  return n;
}

static void
syntax_error(void)
{
  if (!parse_error) {
    struct token *t = &tokens[pos];
    fprintf(2, "sh: syntax error near '%s'\n",
            t->type == T_WORD ? t->word : tokname[t->type]);
  }
  parse_error = 1;
}

static int
is_redir(enum tok t)
{
  return t == T_LT || t == T_GT || t == T_GTGT;
}

// Parse redirections at the current position and append them to *list.
static void
parse_redirs(struct redir **list)
{
  while (!parse_error && is_redir(tokens[pos].type)) {
    enum tok kind = tokens[pos++].type;
    if (tokens[pos].type != T_WORD || nredirs == MAXREDIRS) {
      syntax_error();
      return;
    }
    struct redir *r = &redirs[nredirs++];
    r->kind = kind;
    r->file = tokens[pos++].word;
    r->next = NULL;
    while (*list != NULL)
      list = &(*list)->next;
    *list = r;
  }
}

static struct node *parse_sequence(void);

// command := '(' sequence ')' redirs  |  (word | redir)+
static struct node *
parse_command(void)
{
  if (tokens[pos].type == T_LPAREN) {
    pos++;
    struct node *body = parse_sequence();
    if (parse_error)
      return NULL;
    if (body == NULL || tokens[pos].type != T_RPAREN) {
      syntax_error();
      return NULL;
    }
    pos++;
    struct node *g = newnode(N_GROUP, body, NULL);
    if (g != NULL)
      parse_redirs(&g->redirs);
    return g;
  }

  struct node *n = newnode(N_EXEC, NULL, NULL);
  if (n == NULL)
    return NULL;
  // Words are consecutive in tokens[] only between redirections, so
  // collect them into the shared argv pool as they come.
  n->argv = &argslots[nargslots];
  int argc = 0;
  for (;;) {
    enum tok t = tokens[pos].type;
    if (t == T_WORD) {
      argslots[nargslots++] = tokens[pos++].word;
      argc++;
    } else if (is_redir(t)) {
      parse_redirs(&n->redirs);
      if (parse_error)
        return NULL;
    } else {
      break;
    }
  }
  argslots[nargslots++] = NULL;
  if (argc == 0 && n->redirs == NULL) {
    syntax_error();
    return NULL;
  }
  return n;
}

// pipeline := command ('|' command)*
static struct node *
parse_pipeline(void)
{
  struct node *n = parse_command();

  while (!parse_error && tokens[pos].type == T_PIPE) {
    pos++;
    struct node *right = parse_command();
    if (parse_error)
      return NULL;
    n = newnode(N_PIPE, n, right);
  }
  return parse_error ? NULL : n;
}

// sequence := pipeline ((';' | '&') pipeline?)*   -- may be empty
static struct node *
parse_sequence(void)
{
  struct node *seq = NULL;

  while (!parse_error) {
    enum tok t = tokens[pos].type;
    if (t == T_END || t == T_RPAREN)
      break;
    struct node *n = parse_pipeline();
    if (parse_error)
      return NULL;
    t = tokens[pos].type;
    if (t == T_AMP) {
      n = newnode(N_BACK, n, NULL);
      pos++;
    } else if (t == T_SEMI) {
      pos++;
    } else if (t != T_END && t != T_RPAREN) {
      syntax_error();
      return NULL;
    }
    seq = (seq == NULL) ? n : newnode(N_SEQ, seq, n);
  }
  return parse_error ? NULL : seq;
}

static struct node *
parse(const char *line)
{
  nnodes = nredirs = nargslots = pos = parse_error = 0;
  if (tokenize(line) < 0)
    return NULL;
  struct node *n = parse_sequence();
  if (!parse_error && tokens[pos].type != T_END)
    syntax_error();      // a ')' with no '('
  return parse_error ? NULL : n;
}

// ---------------------------------------------------------------- running

static int run(struct node *n);
static void become(struct node *n) __attribute__((noreturn));

// Wait for the child pid and return its exit status.  Background children
// that finish meanwhile are collected along the way.
static int
waitfor(int pid)
{
  int status;

  for (;;) {
    int w = wait(&status);
    if (w == pid)
      return status;
    if (w < 0)
      return 1;
  }
}

static int
forkchild(void)
{
  int pid = fork();
  if (pid < 0)
    fprintf(2, "sh: fork: %s\n", strerror(errno));
  return pid;
}

// Apply redirections to this process.  Returns -1 after printing an error.
static int
apply_redirs(struct redir *r)
{
  for (; r != NULL; r = r->next) {
    int flags, target;
    if (r->kind == T_LT) {
      flags = O_RDONLY;
      target = 0;
    } else {
      flags = O_WRONLY | O_CREATE | (r->kind == T_GTGT ? O_APPEND : O_TRUNC);
      target = 1;
    }
    int fd = open(r->file, flags);
    if (fd < 0) {
      fprintf(2, "sh: %s: %s\n", r->file, strerror(errno));
      return -1;
    }
    if (fd != target) {
      if (dup2(fd, target) < 0) {
        fprintf(2, "sh: %s: %s\n", r->file, strerror(errno));
        return -1;
      }
      close(fd);
    }
  }
  return 0;
}

// Builtins that change the shell itself.  Returns 1 if argv was one.
static int
builtin(char **argv, int *status)
{
  if (argv[0] == NULL)
    return 0;
  if (strcmp(argv[0], "cd") == 0) {
    const char *dir = argv[1] ? argv[1] : "/";
    if (argv[1] && argv[2]) {
      fprintf(2, "sh: cd: too many arguments\n");
      *status = 1;
    } else if (chdir(dir) < 0) {
      fprintf(2, "sh: cd: %s: %s\n", dir, strerror(errno));
      *status = 1;
    } else {
      *status = 0;
    }
    return 1;
  }
  if (strcmp(argv[0], "exit") == 0) {
    exit(argv[1] ? atoi(argv[1]) : 0);
  }
  return 0;
}

// Replace this process with the program argv names.
static void
run_program(char **argv)
{
  const char *name = argv[0];

  exec(name, argv);
  // A bare name not found here is looked for in the root directory, where
  // all the programs live, so they work from any directory.
  if (errno == ENOENT && strchr(name, '/') == NULL) {
    char path[128];
    if (snprintf(path, sizeof(path), "/%s", name) < (int)sizeof(path))
      exec(path, argv);
  }
  if (errno == ENOENT)
    fprintf(2, "sh: %s: not found\n", name);
  else
    fprintf(2, "sh: %s: %s\n", name, strerror(errno));
  exit(errno == ENOENT ? 127 : 126);
}

// Run n in this process and exit with its status; may fork helpers.
static void
become(struct node *n)
{
  int status = 0;

  switch (n->type) {
  case N_EXEC:
    if (apply_redirs(n->redirs) < 0)
      exit(1);
    if (n->argv[0] == NULL)        // only redirections: "> file"
      exit(0);
    if (builtin(n->argv, &status))
      exit(status);
    run_program(n->argv);
    break;

  case N_PIPE: {
    int p[2];
    if (pipe(p) < 0) {
      fprintf(2, "sh: pipe: %s\n", strerror(errno));
      exit(1);
    }
    int left = forkchild();
    if (left == 0) {
      dup2(p[1], 1);
      close(p[0]);
      close(p[1]);
      become(n->left);
    }
    int right = forkchild();
    if (right == 0) {
      dup2(p[0], 0);
      close(p[0]);
      close(p[1]);
      become(n->right);
    }
    // Both ends must be closed here, or the reader never sees end of file.
    close(p[0]);
    close(p[1]);
    if (left > 0)
      waitfor(left);
    status = right > 0 ? waitfor(right) : 1;
    break;
  }

  case N_GROUP:
    if (apply_redirs(n->redirs) < 0)
      exit(1);
    status = run(n->left);
    break;

  case N_SEQ:
  case N_BACK:
    status = run(n);
    break;
  }
  exit(status);
}

// Run n from the shell (or a subshell) and return its status.  Sequences,
// background jobs and builtins are handled here, so that "cd dir; ls"
// changes the shell's own directory; everything else runs in a child.
static int
run(struct node *n)
{
  int status = 0;

  switch (n->type) {
  case N_SEQ:
    run(n->left);
    return run(n->right);

  case N_BACK: {
    int pid = forkchild();
    if (pid == 0)
      become(n->left);
    return pid < 0 ? 1 : 0;
  }

  case N_EXEC:
    if (n->redirs == NULL && builtin(n->argv, &status))
      return status;
    break;

  default:
    break;
  }

  int pid = forkchild();
  if (pid < 0)
    return 1;
  if (pid == 0)
    become(n);
  return waitfor(pid);
}

// ---------------------------------------------------------------- main

// Read one line into buf.  Returns its length, or -1 at end of input with
// nothing read.  A line too long for buf is reported and skipped.
static int
readline(char *buf, int max)
{
  int len = 0, toolong = 0;
  char c;

  for (;;) {
    int n = read(0, &c, 1);
    if (n <= 0) {
      if (len == 0 && !toolong)
        return -1;
      break;
    }
    if (c == '\n')
      break;
    if (len + 1 < max)
      buf[len++] = c;
    else
      toolong = 1;
  }
  buf[len] = '\0';
  if (toolong) {
    fprintf(2, "sh: line too long\n");
    buf[0] = '\0';
    return 0;
  }
  return len;
}

int
main(int argc, char *argv[])
{
  static char line[MAXLINE];
  int status = 0;

  int prompt = 1;
  if (argc > 1) {
    // A script: make it standard input, and don't prompt, since nobody is
    // typing (and a "$ " in the output would look like our caller's shell
    // asking for the next command).
    prompt = 0;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "sh: %s: %s\n", argv[1], strerror(errno));
      exit(1);
    }
    dup2(fd, 0);
    close(fd);
  }

  for (;;) {
    if (prompt)
      write(2, "$ ", 2);
    if (readline(line, sizeof(line)) < 0)
      break;
    struct node *n = parse(line);
    if (n != NULL)
      status = run(n);
    else if (parse_error)
      status = 2;
  }
  exit(status);
}
