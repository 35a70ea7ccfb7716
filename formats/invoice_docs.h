/* invoice_docs: the documents of a run: e-invoices and printable invoices, as two archives.
 *
 * Owns ubl.tar.zst (one UBL 2.1 Invoice or CreditNote per member, "<number>.xml") and
 * html.tar.zst (one printable HTML page per member, "<number>.html"): POSIX ustar archives in
 * invoice order, zstd-compressed as one frame per group of RT_DOC_GROUP documents. Groups are
 * rendered and compressed in parallel and written in order, so the bytes do not depend on the
 * thread count, and a run writes two files however many customers it bills (a file per
 * document costs a file creation each, which dominates at a million customers). What each
 * document holds is invoice_ubl's and invoice_html's. */
#ifndef RT_INVOICE_DOCS_H
#define RT_INVOICE_DOCS_H

#include "engine/run.h"

enum { RT_DOC_GROUP = 64 };

#define RT_DOCS_UBL "ubl.tar.zst"
#define RT_DOCS_HTML "html.tar.zst"

/* Write both archives into out_dir with up to `threads` threads and append them to files
 * (rows = documents). With res->spread (a distributed run) the groups are rendered by every
 * process; out_dir NULL: a process other than rank 0, which writes and lists nothing. RT_EIO, RT_ENOMEM, RT_EZSTD, RT_ELIMIT (a number too long for a member
 * name). */
rt_status rt_invoice_docs_write(const char *out_dir, const rt_run_result *res, unsigned threads,
                                rt_output_list *files, rt_error *err);

#endif
