// rm: remove files (and empty directories, which unlink also removes).

#include "user/user.h"

int
main(int argc, char *argv[])
{
  exit(each_arg(argc, argv, "rm file...", unlink));
}
