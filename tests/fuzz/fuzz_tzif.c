/* fuzz_tzif: the TZif parser (engine/timezone) on arbitrary bytes; a file it accepts must
 * answer offset and next-change questions without crashing, and next changes must move
 * forward. */
#include <stddef.h>
#include <stdint.h>

#include "engine/timezone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_tz tz;
    char why[160];
    if (rt_tz_parse(data, size, &tz, why, sizeof why) != RT_OK) return 0;
    static const rt_time_s probes[] = {INT64_C(-2208988800), 0, INT64_C(1792890000),
                                       INT64_C(4102444800), INT64_C(253402300799)};
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        int32_t off = rt_tz_offset_s(&tz, probes[i]);
        RT_ASSERT(off > -26 * 3600 && off < 26 * 3600);
        rt_time_s next = rt_tz_next_change(&tz, probes[i]);
        RT_ASSERT(next > probes[i]);
    }
    rt_tz_free(&tz);
    return 0;
}
