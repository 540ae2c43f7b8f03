/* libFuzzer harness: result CSVs, read back by resume (csv_resume, the .part.csv of a killed
 * run) and by the table tools (csv_read). The first input byte is the checkpoint's epoch. */
#include "fuzz_util.h"

#include "base/err.h"
#include "io/csv.h"

#define FUZZ_CSV_HEADER "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,img_per_s,peak_mb"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[512], out[600];
    fuzz_write(path, sizeof path, "csv/in.part.csv", data + 1, size - 1);
    snprintf(out, sizeof out, "%s/csv/out.csv", fuzz_dir());
    struct kd_err e;
    struct csv c;
    int rc = csv_resume(&c, out, FUZZ_CSV_HEADER, path, data[0], &e);
    if (rc == 0) {
        if (c.n_rows < 0 || c.len > c.cap)
            abort();
        csv_row(&c, "99,0,0,0,0,0,0,0,0");
        if (csv_write(&c, NULL, &e))
            abort();
    } else if (rc >= 0 || !e.msg[0] || !e.file[0]) {
        fprintf(stderr, "fuzz_csv: resume failed without a message naming the file\n");
        abort();
    }
    csv_free(&c);
    struct csv_table t;
    if (csv_read(&t, path, &e) == 0) {
        for (long i = 0; i < (long)t.n_rows * t.n_cols; i++)
            if (!t.cells[i])
                abort();
        csv_col(&t, "epoch");
        csv_table_free(&t);
    } else if (!e.msg[0] || !e.file[0]) {
        fprintf(stderr, "fuzz_csv: read failed without a message naming the file\n");
        abort();
    }
    return 0;
}
