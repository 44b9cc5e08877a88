/*
 * simd-crypto: the Armv8 cryptographic extension as compiled code uses it (ACLE intrinsics, the
 * shape of Linux's aes-ce, sha1-ce and sha2-ce drivers), checked against plain C versions of
 * the same algorithms and against the standards' vectors: AES-128 (FIPS-197 C.1) encryption and
 * decryption, then CTR over 1 KiB; SHA-1 and SHA-256 (FIPS-180-4 "abc", and 1000 bytes);
 * carry-less 64x64 multiplies (PMULL/PMULL2, as GHASH and CRC folding use them) and PMUL.
 */
#include "rt.h"
#include <arm_neon.h>

#pragma GCC target("+crypto")

#define MSG ((u8 *)(TEST_BASE + 0x1000))
#define OUT1 ((u8 *)(TEST_BASE + 0x2000))
#define OUT2 ((u8 *)(TEST_BASE + 0x3000))

static void print_bytes(const char *label, const u8 *p, int n)
{
    printf("%s", label);
    for (int i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static int same(const u8 *a, const u8 *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* ---- AES: plain C (FIPS-197) ------------------------------------------------------------- */

static u8 sbox[256], inv_sbox[256];

static u8 gmul(u8 a, u8 b)
{
    u8 r = 0;
    for (int k = 0; k < 8; k++) {
        if (b & 1)
            r ^= a;
        a = (u8)((a << 1) ^ (a & 0x80 ? 0x1b : 0));
        b >>= 1;
    }
    return r;
}

static void make_sbox(void)
{
    for (int x = 0; x < 256; x++) {
        u8 inv = 0;
        for (int y = 1; y < 256 && x; y++)
            if (gmul((u8)x, (u8)y) == 1) {
                inv = (u8)y;
                break;
            }
        u8 s = inv;
        for (int k = 1; k <= 4; k++)
            s ^= (u8)((inv << k) | (inv >> (8 - k)));
        sbox[x] = s ^ 0x63;
        inv_sbox[s ^ 0x63] = (u8)x;
    }
}

static void expand_key(const u8 key[16], u8 rk[176])
{
    u8 rcon = 1;
    for (int i = 0; i < 16; i++)
        rk[i] = key[i];
    for (int i = 16; i < 176; i += 4) {
        u8 t[4] = { rk[i - 4], rk[i - 3], rk[i - 2], rk[i - 1] };
        if (i % 16 == 0) {
            u8 t0 = t[0];
            t[0] = sbox[t[1]] ^ rcon;
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[t0];
            rcon = gmul(rcon, 2);
        }
        for (int k = 0; k < 4; k++)
            rk[i + k] = rk[i - 16 + k] ^ t[k];
    }
}

static void c_aes_encrypt(const u8 rk[176], const u8 in[16], u8 out[16])
{
    u8 s[16], t[16];
    for (int i = 0; i < 16; i++)
        s[i] = in[i] ^ rk[i];
    for (int r = 1; r <= 10; r++) {
        for (int c = 0; c < 4; c++)
            for (int row = 0; row < 4; row++)
                t[row + 4 * c] = sbox[s[row + 4 * ((c + row) & 3)]];
        for (int c = 0; c < 4; c++) {
            u8 *col = t + 4 * c;
            u8 a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
            if (r < 10) {
                col[0] = gmul(a0, 2) ^ gmul(a1, 3) ^ a2 ^ a3;
                col[1] = a0 ^ gmul(a1, 2) ^ gmul(a2, 3) ^ a3;
                col[2] = a0 ^ a1 ^ gmul(a2, 2) ^ gmul(a3, 3);
                col[3] = gmul(a0, 3) ^ a1 ^ a2 ^ gmul(a3, 2);
            }
        }
        for (int i = 0; i < 16; i++)
            s[i] = t[i] ^ rk[16 * r + i];
    }
    for (int i = 0; i < 16; i++)
        out[i] = s[i];
}

/* ---- AES with AESE/AESMC and AESD/AESIMC -------------------------------------------------- */

static uint8x16_t ce_encrypt(const u8 rk[176], uint8x16_t b)
{
    for (int r = 0; r < 9; r++)
        b = vaesmcq_u8(vaeseq_u8(b, vld1q_u8(rk + 16 * r)));
    b = vaeseq_u8(b, vld1q_u8(rk + 144));
    return veorq_u8(b, vld1q_u8(rk + 160));
}

static uint8x16_t ce_decrypt(const u8 rk[176], uint8x16_t b)
{
    /* The equivalent inverse cipher: round keys 9..1 through InvMixColumns. */
    b = vaesimcq_u8(vaesdq_u8(b, vld1q_u8(rk + 160)));
    for (int r = 9; r > 1; r--)
        b = vaesimcq_u8(vaesdq_u8(b, vaesimcq_u8(vld1q_u8(rk + 16 * r))));
    b = vaesdq_u8(b, vaesimcq_u8(vld1q_u8(rk + 16)));
    return veorq_u8(b, vld1q_u8(rk));
}

static void test_aes(void)
{
    static const u8 key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const u8 pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    u8 rk[176], c_ct[16], ce_ct[16], ce_pt[16];
    make_sbox();
    expand_key(key, rk);
    c_aes_encrypt(rk, pt, c_ct);
    vst1q_u8(ce_ct, ce_encrypt(rk, vld1q_u8(pt)));
    vst1q_u8(ce_pt, ce_decrypt(rk, vld1q_u8(ce_ct)));
    print_bytes("aes-128 C:    ", c_ct, 16);
    print_bytes("aes-128 AESE: ", ce_ct, 16);
    print_bytes("aes-128 AESD: ", ce_pt, 16);
    printf("aes-128 FIPS-197 C.1 %s, decrypts %s\n", same(ce_ct, c_ct, 16) ? "match" : "DIFFER", same(ce_pt, pt, 16) ? "back" : "WRONG");

    /* CTR mode over 1 KiB: both versions, then a digest-like fold of the output. */
    u8 ctr[16] = { 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff };
    for (int i = 0; i < 1024; i++)
        MSG[i] = (u8)(i * 7 + 3);
    for (int blk = 0; blk < 64; blk++) {
        u8 ks[16];
        c_aes_encrypt(rk, ctr, ks);
        for (int i = 0; i < 16; i++)
            OUT1[16 * blk + i] = MSG[16 * blk + i] ^ ks[i];
        vst1q_u8(OUT2 + 16 * blk, veorq_u8(vld1q_u8(MSG + 16 * blk), ce_encrypt(rk, vld1q_u8(ctr))));
        for (int i = 15; i >= 0 && ++ctr[i] == 0; i--)
            ;
    }
    u64 fold = 0;
    for (int i = 0; i < 1024; i++)
        fold = (fold ^ OUT2[i]) * 0x100000001b3UL;
    printf("aes-ctr 1 KiB: %s, fold %016lx\n", same(OUT1, OUT2, 1024) ? "C and AESE agree" : "C and AESE DIFFER", fold);
}

/* ---- SHA-256 ----------------------------------------------------------------------------- */

static const u32 K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
    0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
    0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
    0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
    0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static u32 ror32(u32 x, int k) { return (x >> k) | (x << (32 - k)); }
static u32 rol32(u32 x, int k) { return (x << k) | (x >> (32 - k)); }
static u32 be32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }

static void c_sha256_block(u32 h[8], const u8 *p)
{
    u32 w[64], v[8];
    for (int t = 0; t < 64; t++) {
        if (t < 16)
            w[t] = be32(p + 4 * t);
        else {
            u32 s0 = ror32(w[t - 15], 7) ^ ror32(w[t - 15], 18) ^ (w[t - 15] >> 3);
            u32 s1 = ror32(w[t - 2], 17) ^ ror32(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
    }
    for (int i = 0; i < 8; i++)
        v[i] = h[i];
    for (int t = 0; t < 64; t++) {
        u32 t1 = v[7] + (ror32(v[4], 6) ^ ror32(v[4], 11) ^ ror32(v[4], 25)) + ((v[4] & v[5]) ^ (~v[4] & v[6])) + K256[t] + w[t];
        u32 t2 = (ror32(v[0], 2) ^ ror32(v[0], 13) ^ ror32(v[0], 22)) + ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
        for (int i = 7; i > 0; i--)
            v[i] = v[i - 1];
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += v[i];
}

static void ce_sha256_block(u32 h[8], const u8 *p)
{
    uint32x4_t abcd = vld1q_u32(h), efgh = vld1q_u32(h + 4);
    uint32x4_t w[4];
    for (int i = 0; i < 4; i++)
        w[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));
    uint32x4_t abcd0 = abcd, efgh0 = efgh;
    for (int q = 0; q < 16; q++) {
        uint32x4_t wk = vaddq_u32(w[q & 3], vld1q_u32(K256 + 4 * q));
        uint32x4_t prev = abcd;
        abcd = vsha256hq_u32(abcd, efgh, wk);
        efgh = vsha256h2q_u32(efgh, prev, wk);
        if (q < 12)
            w[q & 3] = vsha256su1q_u32(vsha256su0q_u32(w[q & 3], w[(q + 1) & 3]), w[(q + 2) & 3], w[(q + 3) & 3]);
    }
    vst1q_u32(h, vaddq_u32(abcd, abcd0));
    vst1q_u32(h + 4, vaddq_u32(efgh, efgh0));
}

/* ---- SHA-1 ------------------------------------------------------------------------------- */

static void c_sha1_block(u32 h[5], const u8 *p)
{
    u32 w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++)
        w[t] = t < 16 ? be32(p + 4 * t) : rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    for (int t = 0; t < 80; t++) {
        u32 f, k;
        if (t < 20)
            f = (b & c) | (~b & d), k = 0x5a827999;
        else if (t < 40)
            f = b ^ c ^ d, k = 0x6ed9eba1;
        else if (t < 60)
            f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
        else
            f = b ^ c ^ d, k = 0xca62c1d6;
        u32 tmp = rol32(a, 5) + f + e + k + w[t];
        e = d, d = c, c = rol32(b, 30), b = a, a = tmp;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void ce_sha1_block(u32 h[5], const u8 *p)
{
    static const u32 K1[4] = { 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6 };
    uint32x4_t abcd = vld1q_u32(h), abcd0 = abcd, w[4];
    u32 e = h[4];
    for (int i = 0; i < 4; i++)
        w[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));
    for (int q = 0; q < 20; q++) {
        uint32x4_t wk = vaddq_u32(w[q & 3], vdupq_n_u32(K1[q / 5]));
        u32 next_e = vsha1h_u32(vgetq_lane_u32(abcd, 0));
        if (q < 5)
            abcd = vsha1cq_u32(abcd, e, wk);
        else if (q < 10 || q >= 15)
            abcd = vsha1pq_u32(abcd, e, wk);
        else
            abcd = vsha1mq_u32(abcd, e, wk);
        e = next_e;
        if (q < 16)
            w[q & 3] = vsha1su1q_u32(vsha1su0q_u32(w[q & 3], w[(q + 1) & 3], w[(q + 2) & 3]), w[(q + 3) & 3]);
    }
    vst1q_u32(h, vaddq_u32(abcd, abcd0));
    h[4] += e;
}

/* Pads `len` bytes at MSG (with room after them) and hashes them with `block`. */
static void hash(void (*block)(u32 *, const u8 *), u32 *h, size_t len)
{
    size_t total = (len + 9 + 63) & ~63UL;
    for (size_t i = len; i < total; i++)
        MSG[i] = 0;
    MSG[len] = 0x80;
    for (int i = 0; i < 8; i++)
        MSG[total - 1 - i] = (u8)((len * 8) >> (8 * i));
    for (size_t off = 0; off < total; off += 64)
        block(h, MSG + off);
}

static void print_words(const char *label, const u32 *h, int n)
{
    printf("%s", label);
    for (int i = 0; i < n; i++)
        printf("%08x", h[i]);
    printf("\n");
}

static void test_sha(void)
{
    static const u32 iv256[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    static const u32 iv1[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
    static const size_t lengths[2] = { 3, 1000 };
    for (int k = 0; k < 2; k++) {
        u32 c[8], ce[8], c1[5], ce1[5];
        for (int run = 0; run < 4; run++) {
            for (size_t i = 0; i < lengths[k]; i++)
                MSG[i] = k == 0 ? (u8)("abc"[i]) : (u8)(i * 13 + (i >> 5));
            u32 *out = run == 0 ? c : run == 1 ? ce : run == 2 ? c1 : ce1;
            const u32 *iv = run < 2 ? iv256 : iv1;
            for (int i = 0; i < (run < 2 ? 8 : 5); i++)
                out[i] = iv[i];
            hash(run == 0 ? c_sha256_block : run == 1 ? ce_sha256_block : run == 2 ? c_sha1_block : ce_sha1_block, out, lengths[k]);
        }
        printf("message of %lu bytes:\n", lengths[k]);
        print_words("  sha256 SHA256H: ", ce, 8);
        printf("  sha256 C %s\n", same((u8 *)c, (u8 *)ce, 32) ? "agrees" : "DIFFERS");
        print_words("  sha1 SHA1C/P/M: ", ce1, 5);
        printf("  sha1 C %s\n", same((u8 *)c1, (u8 *)ce1, 20) ? "agrees" : "DIFFERS");
    }
}

/* ---- polynomial multiplies --------------------------------------------------------------- */

static void c_clmul64(u64 a, u64 b, u64 *lo, u64 *hi)
{
    u64 l = 0, h = 0;
    for (int k = 0; k < 64; k++)
        if ((b >> k) & 1) {
            l ^= a << k;
            h ^= k ? a >> (64 - k) : 0;
        }
    *lo = l, *hi = h;
}

static void test_pmull(void)
{
    u64 x = 0x9e3779b97f4a7c15UL, bad = 0, fold = 0;
    for (int i = 0; i < 32; i++) {
        u64 a = x, b = x * 0xbf58476d1ce4e5b9UL ^ (x >> 31);
        x = b + 0x94d049bb133111ebUL;
        poly128_t p = vmull_p64(a, b);
        uint64x2_t pv = vreinterpretq_u64_p128(p);
        poly128_t p2 = vmull_high_p64(vreinterpretq_p64_u64(vcombine_u64(vcreate_u64(b), vcreate_u64(a))),
                                      vreinterpretq_p64_u64(vcombine_u64(vcreate_u64(a), vcreate_u64(b))));
        uint64x2_t pv2 = vreinterpretq_u64_p128(p2);
        u64 lo, hi;
        c_clmul64(a, b, &lo, &hi);
        if (vgetq_lane_u64(pv, 0) != lo || vgetq_lane_u64(pv, 1) != hi || vgetq_lane_u64(pv2, 0) != lo || vgetq_lane_u64(pv2, 1) != hi)
            bad++;
        fold = (fold ^ lo ^ (hi << 1)) * 0x100000001b3UL;
        if (i < 2)
            printf("pmull %016lx * %016lx = %016lx%016lx\n", a, b, hi, lo);
    }
    printf("pmull/pmull2 32 products: %lu differ from C, fold %016lx\n", bad, fold);
    poly8x16_t a8 = vreinterpretq_p8_u64(vcombine_u64(vcreate_u64(0x0123456789abcdefUL), vcreate_u64(0xfedcba9876543210UL)));
    poly8x16_t p8 = vmulq_p8(a8, vreinterpretq_p8_u8(vdupq_n_u8(0x1d)));
    poly16x8_t l8 = vmull_p8(vget_low_p8(a8), vget_high_p8(a8));
    printf("pmul  %016lx%016lx\n", vgetq_lane_u64(vreinterpretq_u64_p8(p8), 1), vgetq_lane_u64(vreinterpretq_u64_p8(p8), 0));
    printf("pmull %016lx%016lx\n", vgetq_lane_u64(vreinterpretq_u64_p16(l8), 1), vgetq_lane_u64(vreinterpretq_u64_p16(l8), 0));
}

int main(void)
{
    puts("simd-crypto: AES, SHA-1, SHA-256 and PMULL instructions against plain C\n");
    test_aes();
    test_sha();
    test_pmull();
    return 0;
}
