// mkdir: create directories.

#include "user/user.h"

int
main(int argc, char *argv[])
{
  exit(each_arg(argc, argv, "mkdir dir...", mkdir));
}
