/*
 * Keyed pseudonyms over an Arrow string column: HMAC-SHA256 of each normalised value.
 *
 * The inner and outer SHA-256 states after the key pads are computed once per key; a value
 * of up to 55 bytes then costs exactly two compressions (SHA256_Transform, which OpenSSL runs
 * on SHA-NI when the CPU has it). Normalisation (strip ASCII whitespace, upper-case ASCII
 * letters) happens here so the column is read once. The reference definition is
 * bastide/pseudonym/scheme.py; tests require both to agree on every value.
 *
 * Built by bastide/pseudonym/native_build.py and loaded with ctypes: Python passes raw
 * Arrow buffer addresses, so there is no Python C-API dependency.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Transform: no EVP equivalent for one block */
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define BASTIDE_HMAC_ABI 1

typedef struct {
    SHA256_CTX inner; /* state after absorbing key ^ ipad */
    SHA256_CTX outer; /* state after absorbing key ^ opad */
} hmac_state;

int bastide_hmac_abi(void) { return BASTIDE_HMAC_ABI; }

size_t bastide_hmac_state_size(void) { return sizeof(hmac_state); }

void bastide_hmac_init(hmac_state *st, const uint8_t *key, size_t keylen) {
    uint8_t k[64] = {0}, pad[64];
    if (keylen > 64)
        SHA256(key, keylen, k);
    else
        memcpy(k, key, keylen);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    SHA256_Init(&st->inner);
    SHA256_Update(&st->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&st->outer);
    SHA256_Update(&st->outer, pad, 64);
}

static inline int is_space(uint8_t c) { return c == ' ' || (c >= 9 && c <= 13); }

static inline uint8_t ascii_upper(uint8_t c) {
    return (uint8_t)(c - (((unsigned)(c - 'a') < 26u) << 5));
}

static inline void state_digest(const SHA256_CTX *c, uint8_t d[32]) {
    for (int j = 0; j < 8; j++) {
        uint32_t w = __builtin_bswap32(c->h[j]);
        memcpy(d + 4 * j, &w, 4);
    }
}

/* HMAC-SHA256 of upper(p[0:len]) under the precomputed state. */
static void hmac_upper(const hmac_state *st, const uint8_t *p, int64_t len, uint8_t d[32]) {
    SHA256_CTX c = st->inner;
    uint8_t blk[64];
    if (len <= 55) { /* message, 0x80 and the 64-bit length fit in one block */
        memset(blk, 0, sizeof blk);
        for (int64_t j = 0; j < len; j++) blk[j] = ascii_upper(p[j]);
        blk[len] = 0x80;
        uint64_t bits = __builtin_bswap64((uint64_t)(64 + len) * 8);
        memcpy(blk + 56, &bits, 8);
        SHA256_Transform(&c, blk);
        state_digest(&c, d);
    } else {
        for (int64_t s = 0; s < len; s += 64) {
            int64_t m = len - s < 64 ? len - s : 64;
            for (int64_t j = 0; j < m; j++) blk[j] = ascii_upper(p[s + j]);
            SHA256_Update(&c, blk, (size_t)m);
        }
        SHA256_Final(d, &c);
    }
    memset(blk, 0, sizeof blk);
    memcpy(blk, d, 32);
    blk[32] = 0x80;
    blk[62] = 0x03; /* (64 + 32) * 8 = 768 bits, big-endian */
    c = st->outer;
    SHA256_Transform(&c, blk);
    state_digest(&c, d);
}

/*
 * Rows [0, n) of a string column. offsets points at the column's first offset (int32, or
 * int64 when wide); validity is the column's bitmap (NULL: no nulls) read from bit
 * validity_offset. For each row writes out_valid[i] (0: null in, or blank after
 * normalisation), the first 16 digest bytes as 32 lower-case hex chars into out_hex (if not
 * NULL) and the first 8 bytes big-endian masked to 63 bits into out_id (if not NULL).
 * Returns the number of non-null results.
 */
int64_t bastide_hmac_run(const hmac_state *st, int64_t n, const void *offsets, int wide,
                         const uint8_t *data, const uint8_t *validity, int64_t validity_offset,
                         char *out_hex, int64_t *out_id, uint8_t *out_valid) {
    static const char HEX[] = "0123456789abcdef";
    const int32_t *off32 = (const int32_t *)offsets;
    const int64_t *off64 = (const int64_t *)offsets;
    uint8_t d[32];
    int64_t valid_count = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t s = wide ? off64[i] : off32[i];
        int64_t e = wide ? off64[i + 1] : off32[i + 1];
        int64_t bit = validity_offset + i;
        int present = validity == NULL || ((validity[bit >> 3] >> (bit & 7)) & 1);
        while (s < e && is_space(data[s])) s++;
        while (e > s && is_space(data[e - 1])) e--;
        if (!present || s == e) {
            out_valid[i] = 0;
            if (out_hex) memset(out_hex + 32 * i, '0', 32);
            if (out_id) out_id[i] = 0;
            continue;
        }
        hmac_upper(st, data + s, e - s, d);
        out_valid[i] = 1;
        valid_count++;
        if (out_hex) {
            char *h = out_hex + 32 * i;
            for (int j = 0; j < 16; j++) {
                h[2 * j] = HEX[d[j] >> 4];
                h[2 * j + 1] = HEX[d[j] & 15];
            }
        }
        if (out_id) {
            uint64_t v;
            memcpy(&v, d, 8);
            out_id[i] = (int64_t)(__builtin_bswap64(v) & 0x7fffffffffffffffULL);
        }
    }
    return valid_count;
}
