/* fuzz_gl_fec: the FEC checker `ratel verify` runs over any file must never crash, and must
 * accept only what follows the rules: an accepted input has a header and balanced sums. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/status.h"
#include "formats/gl_fec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the minor units (0-3) the amounts must carry. */
    unsigned minor = size ? data[0] % 4 : 2;
    const char *text = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    rt_diags d;
    rt_fec_summary sum;
    rt_diags_init(&d);
    rt_status st = rt_gl_fec_check("123456789FEC20261031.txt", text, len, minor, &sum, &d);
    if (st == RT_OK && (d.count != 0 || sum.debit_minor != sum.credit_minor)) abort();
    if (st != RT_OK && rt_diags_total(&d) == 0) abort();
    rt_diags_free(&d);
    return 0;
}
