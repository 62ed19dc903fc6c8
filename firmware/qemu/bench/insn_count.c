/* Exact guest instruction counts between two marker addresses, for microtrain's bench.
 *
 * Arguments: start=0xADDR,stop=0xADDR (the first instruction of the firmware's
 * `bench_start` and `bench_stop` marker functions). Each executed translation block
 * adds its instruction count while counting is on; reaching `start` turns counting on,
 * reaching `stop` turns it off and prints the region's count on stderr as
 * `region <n>`. The marker functions are never inlined, so each begins a block.
 * profile=FILE writes the counted instructions per translation block (its address, in
 * hex, and the count) at exit; region=K (1-based) profiles only the K-th counted region
 * (`bench/profile` attributes the blocks to functions).
 *
 * No QEMU headers: the few API functions used are declared here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct { int dummy; } qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                                 enum qemu_plugin_cb_flags flags, void *userdata);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#ifndef PLUGIN_API_VERSION
#define PLUGIN_API_VERSION 1
#endif
__attribute__((visibility("default"))) int qemu_plugin_version = PLUGIN_API_VERSION;

static uint64_t start_addr, stop_addr;
static const char *profile_path;
static uint64_t profile_region; /* 0: every region */
#define PROF_SLOTS 65536
static uint64_t prof_addr[PROF_SLOTS], prof_count[PROF_SLOTS];

static void prof_add(uint64_t addr, uint64_t n) {
    uint64_t h = (addr * 0x9E3779B97F4A7C15ull) >> 48;
    for (uint64_t i = 0; i < PROF_SLOTS; i++) {
        uint64_t s = (h + i) & (PROF_SLOTS - 1);
        if (prof_addr[s] == addr || prof_count[s] == 0) {
            prof_addr[s] = addr;
            prof_count[s] += n;
            return;
        }
    }
}
static int counting;
static uint64_t count, total, regions;

/* userdata: n_insns in bits 0..15, marker kind in 16..17, block address from bit 18. */
static void tb_exec(unsigned int vcpu, void *udata) {
    uint64_t u = (uint64_t)(uintptr_t)udata;
    uint64_t n = u & 0xffffu;
    unsigned kind = (unsigned)((u >> 16) & 3);
    uint64_t addr = u >> 18;
    (void)vcpu;
    if (kind == 1) {
        counting = 1;
        count = 0;
    } else if (kind == 2) {
        if (counting) {
            fprintf(stderr, "region %llu\n", (unsigned long long)count);
            regions++;
        }
        counting = 0;
    }
    total += n;
    if (counting) {
        count += n;
        if (profile_path && (profile_region == 0 || profile_region == regions + 1)) prof_add(addr, n);
    }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    uint64_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t va = qemu_plugin_tb_vaddr(tb);
    uint64_t kind = va == start_addr ? 1 : va == stop_addr ? 2 : 0;
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)((n & 0xffff) | (kind << 16) | (va << 18)));
}

static void at_exit(qemu_plugin_id_t id, void *p) {
    (void)id; (void)p;
    fprintf(stderr, "total %llu regions %llu\n", (unsigned long long)total, (unsigned long long)regions);
    if (profile_path) {
        FILE *f = fopen(profile_path, "w");
        if (f) {
            for (uint64_t i = 0; i < PROF_SLOTS; i++)
                if (prof_count[i]) fprintf(f, "%llx %llu\n", (unsigned long long)prof_addr[i], (unsigned long long)prof_count[i]);
            fclose(f);
        }
    }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                                int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "start=", 6) == 0) start_addr = strtoull(argv[i] + 6, NULL, 0) & ~1ull;
        else if (strncmp(argv[i], "stop=", 5) == 0) stop_addr = strtoull(argv[i] + 5, NULL, 0) & ~1ull;
        else if (strncmp(argv[i], "profile=", 8) == 0) profile_path = argv[i] + 8;
        else if (strncmp(argv[i], "region=", 7) == 0) profile_region = strtoull(argv[i] + 7, NULL, 0);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
