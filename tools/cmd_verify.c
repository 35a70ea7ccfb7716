/* cmd_verify: `ratel verify OUT_DIR`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/verify.h"
#include "tools/cli.h"

int rt_cmd_verify(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: ratel verify OUT_DIR\n\nRe-checks every output checksum against the "
             "manifest, the record counts, and the\naccounting invariants (balanced journal, "
             "receivables = invoice totals, gap-free numbers),\nthe UBL and HTML documents "
             "(one per invoice and credit note), the FEC file's rules\nand totals, and the "
             "itemised usage detail.");
        return RT_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') return rt_cli_usage_error("verify", "needs OUT_DIR");
    rt_diags d;
    rt_verify_stats st;
    rt_diags_init(&d);
    rt_status s = rt_verify_outdir(argv[1], &d, &st);
    int rc;
    if (s == RT_OK) {
        printf("%s: OK (%" PRIu64 " files, %" PRIu64 " invoices, %" PRIu64
               " journal entries in %" PRIu64 " lines, all balanced; %" PRIu64
               " documents, %" PRIu64 " FEC entries, %" PRIu64 " detailed events)\n",
               argv[1], st.files_checked, st.invoices, st.journal_entries, st.journal_lines,
               st.documents, st.fec_entries, st.detail_events);
        rc = RT_EXIT_OK;
    } else {
        rt_cli_diags(&d);
        fprintf(stderr, "ratel: %s: %zu problem(s)\n", argv[1], rt_diags_total(&d));
        rc = rt_cli_exit_for(s);
    }
    rt_diags_free(&d);
    return rc;
}
