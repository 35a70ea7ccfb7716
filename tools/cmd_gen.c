/* cmd_gen: `ratel gen`, a deterministic sample generator. */
#include "tools/cli.h"

int rt_cmd_gen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return RT_EXIT_FAILED;
}
