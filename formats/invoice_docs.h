/* invoice_docs: the per-document files of a run: ubl/<number>.xml and html/<number>.html.
 *
 * Owns writing one UBL document and one HTML page per invoice and credit note into their
 * subdirectories of the output directory (rendered in parallel, each file independent, so
 * the bytes do not depend on the thread count), making them durable before the run commits,
 * and remembering each file's size and XXH64 for the manifest, which lists every one of them.
 * What each document holds is invoice_ubl's and invoice_html's. */
#ifndef RT_INVOICE_DOCS_H
#define RT_INVOICE_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/run.h"

typedef struct rt_doc_file {
    uint64_t bytes;
    uint64_t xxh64;
} rt_doc_file;

/* One kind of document: a subdirectory, a file extension, and one file per invoice of the
 * run, in invoice order, named by rt_doc_file_name(number, ext). */
typedef struct rt_doc_set {
    const char *dir; /* "ubl", "html" */
    const char *ext; /* ".xml", ".html" */
    rt_doc_file *files;
    size_t count;
} rt_doc_set;

enum { RT_DOC_SETS = 2 }; /* UBL, HTML */

/* Write both sets into out_dir with up to `threads` threads (0: one). sets[0] is UBL and
 * sets[1] HTML; their file arrays are allocated here (free with rt_doc_sets_free).
 * RT_EIO, RT_ENOMEM, RT_ELIMIT (an invoice number too long for a file name). */
rt_status rt_invoice_docs_write(const char *out_dir, const rt_run_result *res, unsigned threads,
                                rt_doc_set sets[RT_DOC_SETS], rt_error *err);
void rt_doc_sets_free(rt_doc_set sets[RT_DOC_SETS]);

#endif
