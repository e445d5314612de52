/* Runs the networks of the staticnet-nostd static library from C: a
 * program with no Rust standard library and no Rust allocator in it.
 *
 *   cargo rustc -p staticnet-nostd --lib --crate-type staticlib -- -C panic=abort
 *   cc nostd/smoke.c target/debug/libstaticnet_nostd.a -o target/debug/nostd-smoke
 *   target/debug/nostd-smoke
 *
 * Exits with 1 if a result is out of range. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

float staticnet_nostd_tiny(uint64_t seed, float x, float y);
size_t staticnet_nostd_classify(uint64_t seed, const double *image, double *probability);
float staticnet_nostd_train_xor(uint64_t seed, uint32_t epochs, float rate, float *outputs);
size_t staticnet_nostd_summary_chars(void);

/* The precompiled `core` keeps unwind tables that name this symbol; with
 * panic=abort nothing ever calls it. */
void rust_eh_personality(void) {}

int main(void) {
    int failures = 0;

    float y = staticnet_nostd_tiny(7, 0.5f, -1.0f);
    printf("tiny(0.5, -1) = %.7f\n", y);
    failures += !(y > 0.0f && y < 1.0f) || y != staticnet_nostd_tiny(7, 0.5f, -1.0f);

    double image[36];
    for (int i = 0; i < 36; i++) image[i] = (i % 7) / 6.0;
    double p = 0.0;
    size_t class = staticnet_nostd_classify(3, image, &p);
    printf("glyph class %zu with probability %.4f\n", class, p);
    failures += !(class < 3 && p >= 1.0 / 3.0 && p <= 1.0);

    float outputs[4];
    float loss = staticnet_nostd_train_xor(8, 2000, 0.5f, outputs);
    printf("xor after 2000 epochs: loss %.4f, outputs %.3f %.3f %.3f %.3f\n", loss,
           outputs[0], outputs[1], outputs[2], outputs[3]);
    failures += !(loss < 0.05f && outputs[0] < 0.5f && outputs[1] > 0.5f &&
                  outputs[2] > 0.5f && outputs[3] < 0.5f);

    size_t chars = staticnet_nostd_summary_chars();
    printf("summary table: %zu characters\n", chars);
    failures += chars < 100;

    if (failures) printf("%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
