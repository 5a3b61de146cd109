/* Seals a plain-text Ente Auth export the way Ente Auth does (its
 * export_widget / CryptoUtil: crypto_pwhash Argon2id over a random salt,
 * then one crypto_secretstream_xchacha20poly1305 message tagged FINAL),
 * with the real libsodium, and prints the encrypted export's JSON.
 * Used only by TestGenerateMoreFixtures -update (fixtures_new_test.go).
 * Usage: ente_export PASSWORD OPSLIMIT MEMLIMIT < plain.txt */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *b64(const unsigned char *b, size_t n) {
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(len);
	return sodium_bin2base64(out, len, b, n, sodium_base64_VARIANT_ORIGINAL);
}

int main(int argc, char **argv) {
	if (argc != 4 || sodium_init() < 0) return 1;
	unsigned long long ops = strtoull(argv[2], NULL, 10);
	size_t mem = strtoull(argv[3], NULL, 10);
	static unsigned char plain[1 << 20];
	size_t n = fread(plain, 1, sizeof plain, stdin);
	unsigned char salt[crypto_pwhash_SALTBYTES], key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	randombytes_buf(salt, sizeof salt);
	if (crypto_pwhash(key, sizeof key, argv[1], strlen(argv[1]), salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) return 2;
	unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
	unsigned char *c = malloc(n + crypto_secretstream_xchacha20poly1305_ABYTES);
	unsigned long long clen;
	crypto_secretstream_xchacha20poly1305_push(&st, c, &clen, plain, n, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	printf("{\n  \"version\": 1,\n  \"kdfParams\": {\n    \"memLimit\": %zu,\n    \"opsLimit\": %llu,\n    \"salt\": \"%s\"\n  },\n"
	       "  \"encryptedData\": \"%s\",\n  \"encryptionNonce\": \"%s\"\n}\n",
	       mem, ops, b64(salt, sizeof salt), b64(c, (size_t)clen), b64(header, sizeof header));
	return 0;
}
