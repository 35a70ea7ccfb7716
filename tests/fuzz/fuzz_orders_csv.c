/* fuzz_orders_csv: the order file parser never crashes, and every data row it sees is either
 * an order line or a reject (read = lines + rejects). */
#include <stdint.h>
#include <stdlib.h>

#include "formats/orders_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_order_book ob;
    rt_error err;
    rt_order_book_init(&ob);
    rt_status st = rt_orders_csv_parse((const char *)data, size, 0, &ob, &err);
    if (st == RT_OK && ob.read != ob.count + ob.reject_count) abort();
    for (size_t i = 0; i < ob.count; i++)
        if (ob.lines[i].action >= RT_ORDER_ACTION_COUNT_ || !ob.lines[i].order_id) abort();
    rt_order_book_free(&ob);
    return 0;
}
