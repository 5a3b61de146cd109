/* Writes crypto_secretstream_xchacha20poly1305 vectors made by libsodium
 * itself, for secretstream_test.go: line 1 the key, line 2 the header, then
 * one line per message: tag, associated data, plaintext, ciphertext (hex,
 * "-" for empty). Messages vary in length (0 to 300 bytes), carry associated
 * data on some, and use every tag, REKEY included, so the rekeying and the
 * inonce update are exercised. An explicit crypto_secretstream_..._rekey()
 * call after message 5 covers the rekey path without a tag. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

static void hex(const unsigned char *b, size_t n) {
	if (n == 0) { fputs("-", stdout); return; }
	for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(int argc, char **argv) {
	if (sodium_init() < 0) return 1;
	int count = argc > 1 ? atoi(argv[1]) : 40;
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
	hex(key, sizeof key); putchar('\n');
	hex(header, sizeof header); putchar('\n');
	static const unsigned char tags[] = {
		crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, crypto_secretstream_xchacha20poly1305_TAG_PUSH,
		crypto_secretstream_xchacha20poly1305_TAG_REKEY, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE};
	for (int i = 0; i < count; i++) {
		size_t mlen = (size_t)((i * 37) % 301), adlen = (i % 3 == 0) ? (size_t)(i % 20) : 0;
		unsigned char m[301], ad[20], c[301 + crypto_secretstream_xchacha20poly1305_ABYTES];
		randombytes_buf(m, mlen);
		randombytes_buf(ad, adlen);
		unsigned char tag = i == count - 1 ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : tags[i % 4];
		unsigned long long clen;
		crypto_secretstream_xchacha20poly1305_push(&st, c, &clen, m, mlen, adlen ? ad : NULL, adlen, tag);
		printf("%d ", tag); hex(ad, adlen); putchar(' '); hex(m, mlen); putchar(' '); hex(c, (size_t)clen); putchar('\n');
		if (i == 5) crypto_secretstream_xchacha20poly1305_rekey(&st), puts("rekey");
	}
	return 0;
}
