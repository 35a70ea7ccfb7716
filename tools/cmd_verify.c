/* cmd_verify: `ratel verify OUT_DIR`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/verify.h"
#include "tools/cli.h"

int rt_cmd_verify(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: ratel verify OUT_DIR [--book BOOK_DIR]\n\nRe-checks every output checksum "
             "against the manifest, the record counts, and the\naccounting invariants (balanced "
             "journal, receivables = invoice totals, gap-free numbers).\nWith --book, also checks "
             "that the run is committed in that book's registry with\nthis very manifest. The "
             "UBL and HTML documents (one per invoice and credit note),\nthe FEC file's rules "
             "and totals, and the itemised usage detail are checked too.");
        return RT_EXIT_OK;
    }
    const char *dir = NULL, *book = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--book") == 0 && i + 1 < argc)
            book = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else
            return rt_cli_usage_error("verify", "unexpected argument '%s'", argv[i]);
    }
    if (!dir) return rt_cli_usage_error("verify", "needs OUT_DIR");
    rt_diags d;
    rt_verify_stats st;
    rt_diags_init(&d);
    rt_status s = rt_verify_outdir(dir, &d, &st);
    if (book && s != RT_ENOMEM) {
        rt_status r = rt_verify_registry(dir, book, &d);
        if (s == RT_OK) s = r;
    }
    int rc;
    if (s == RT_OK) {
        printf("%s: OK (%" PRIu64 " files, %" PRIu64 " invoices, %" PRIu64
               " journal entries in %" PRIu64 " lines, all balanced; %" PRIu64
               " documents, %" PRIu64 " FEC entries, %" PRIu64 " detailed events%s)\n",
               dir, st.files_checked, st.invoices, st.journal_entries, st.journal_lines,
               st.documents, st.fec_entries, st.detail_events,
               book ? "; committed in the registry" : "");
        rc = RT_EXIT_OK;
    } else {
        rt_cli_diags(&d);
        fprintf(stderr, "ratel: %s: %zu problem(s)\n", dir, rt_diags_total(&d));
        rc = rt_cli_exit_for(s);
    }
    rt_diags_free(&d);
    return rc;
}
