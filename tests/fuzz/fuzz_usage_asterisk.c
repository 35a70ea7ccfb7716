/* fuzz_usage_asterisk: any bytes as Asterisk cdr-csv and as FreeSWITCH cdr_csv records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/usage_asterisk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int flavor = RT_CDR_ASTERISK; flavor <= RT_CDR_FREESWITCH; flavor++) {
        rt_cdr_opts o;
        rt_cdr_opts_init(&o, (rt_cdr_flavor)flavor);
        if (size > 0 && data[0] == 'P') rt_cdr_opts_set_product(&o, "VOICE");
        rt_event_batch b;
        rt_event_batch_init(&b);
        rt_usage_cdr_parse_buffer((const char *)data, size, &o, &b);
        /* Every record is an event or a reject, and events are whole. */
        if (b.count + b.reject_count != b.records) abort();
        for (size_t i = 0; i < b.count; i++)
            if (b.events[i].account_len == 0 || b.events[i].product_len == 0 ||
                b.events[i].event_id_len == 0)
                abort();
        rt_event_batch_free(&b);
    }
    return 0;
}
