/*
 * test_known_hosts.c - the pieces of the SSH transport that need no
 * server: SHA-1 and HMAC-SHA1 (hashed host names), base64, fingerprints as
 * ssh-keygen prints them, known_hosts lookup, verdicts and appending, the
 * server greeting parser and private key file probing.  The keys and
 * hashes below were made with OpenSSH 9.2's ssh-keygen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/base64.h"
#include "orchestrator/known_hosts.h"
#include "orchestrator/sha1.h"
#include "orchestrator/ssh_wire.h"

#define ED1 "AAAAC3NzaC1lZDI1NTE5AAAAIH7xEnwl3a+1fkkWk/zSGLa3en281XndYSNTvzes18RQ"
#define ED1_FP "SHA256:tVzLiqNkqdGx3/TkruU+d09x1TsqVgtAFcPIOLdD52I"
#define ED3 "AAAAC3NzaC1lZDI1NTE5AAAAIFVE3AblPk6g/QSyPxmX1s8sMbORuXrPLtIXtG0M5dga"
#define EC2 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBL4lT/eP4Jg7VsQmt+il4mcE8" \
	    "AWBizainVTcypY6MJsu0BTp/HVO2tV+snIYDZjuoDIFcrQ+/DRz6M9gjB7r2fo="
#define EC2_FP "SHA256:jJZsJ2muZc9uHUoUn9u5Y0QJDbZEvxTmegIsUGnnkEA"
#define RSA4 "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC8kZDyspACtM1Xdhba0uuK8bPKMxPuNFrk0M8Z1FNmo77" \
	     "Ro/6EXbou37pxQAgeY6MEAnAQ37zSRRk/zRQ9VqPQIhF3DSYe8K8tEvf62NNIXleoHW1wTpctUylB" \
	     "Q4+9HHxJFnIUyrFQGaozylCCiw2+jAAf/Eardv5TR7nzmebWPw=="
/* ssh-keygen -H of "[127.0.0.2]:2201 ssh-ed25519 ED1" */
#define HASHED_2201 "|1|Uj+Q9zQuSS/sX9mAqOEnFea7kLI=|xXWE7Ocu2P08sFFc3/CbaX9LJk4="

static char tmpdir[] = "/tmp/vmorch-kh.XXXXXX";

static const char *tmp(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static size_t blob(const char *b64, uint8_t *out)
{
	long n = base64_decode(b64, strlen(b64), out);

	assert_true(n > 0);
	return (size_t)n;
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* ---- SHA-1, HMAC-SHA1, base64 ---- */

/* FIPS 180-4 examples, and a million 'a' across many blocks. */
static void test_sha1_known_answers(void **state)
{
	uint8_t d[SHA1_LEN];
	char h[41];
	struct sha1 s;
	char *a = malloc(1000000);

	sha1_init(&s);
	sha1_update(&s, "abc", 3);
	sha1_final(&s, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");

	sha1_init(&s);
	sha1_update(&s, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	sha1_final(&s, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

	assert_non_null(a);
	memset(a, 'a', 1000000);
	sha1_init(&s);
	sha1_update(&s, a, 1000000);
	sha1_final(&s, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
}

/* RFC 2202 cases 1, 2 and 6 (a key longer than a block). */
static void test_hmac_sha1_rfc2202(void **state)
{
	uint8_t key[80], d[SHA1_LEN];
	char h[41];
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";

	memset(key, 0x0b, 20);
	hmac_sha1(key, 20, "Hi There", 8, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "b617318655057264e28bc0b6fb378c8ef146be00");

	hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");

	memset(key, 0xaa, 80);
	hmac_sha1(key, 80, m6, strlen(m6), d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

/* RFC 4648 §10 vectors, with and without padding; bad input refused. */
static void test_base64_round_trips_and_refuses_garbage(void **state)
{
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
					   "Zm9vYmE=", "Zm9vYmFy" };
	char out[16];
	uint8_t d[16];

	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(base64_encode("foobar", i, out, true), strlen(enc[i]));
		assert_string_equal(out, enc[i]);
		assert_int_equal(base64_decode(enc[i], strlen(enc[i]), d), (long)i);
		assert_memory_equal(d, "foobar", i);
	}
	base64_encode("fo", 2, out, false);
	assert_string_equal(out, "Zm8");
	assert_int_equal(base64_decode("Zm8", 3, d), 2);
	assert_int_equal(base64_decode("Zm 8", 4, d), -1);	/* whitespace */
	assert_int_equal(base64_decode("Zm9=", 4, d), -1);	/* bits left over */
	assert_int_equal(base64_decode("Z", 1, d), -1);		/* a lone character */
	assert_int_equal(base64_decode("Zg=", 3, d), -1);	/* half padded */
	assert_int_equal(base64_decode("Zm*v", 4, d), -1);
}

/* ---- fingerprints and key types ---- */

/* The SHA256: fingerprint is exactly what ssh-keygen -lf -E sha256 prints. */
static void test_fingerprint_matches_ssh_keygen(void **state)
{
	uint8_t b[512];
	char fp[SSH_FP_MAX], type[SSH_KEYTYPE_MAX];
	size_t n;

	n = blob(ED1, b);
	ssh_fingerprint(b, n, fp);
	assert_string_equal(fp, ED1_FP);
	assert_true(ssh_blob_keytype(b, n, type));
	assert_string_equal(type, "ssh-ed25519");

	n = blob(EC2, b);
	ssh_fingerprint(b, n, fp);
	assert_string_equal(fp, EC2_FP);
	assert_true(ssh_blob_keytype(b, n, type));
	assert_string_equal(type, "ecdsa-sha2-nistp256");

	/* A blob whose first string runs past its end is no key. */
	assert_false(ssh_blob_keytype((const uint8_t *)"\0\0\0\x20ssh", 7, type));
	assert_true(ssh_keytype_is_rsa("ssh-rsa"));
	assert_true(ssh_keytype_is_rsa("rsa-sha2-512"));
	assert_false(ssh_keytype_is_rsa("ssh-ed25519"));
}

/* ---- host names and patterns ---- */

static bool field_matches(const char *field, const char *name)
{
	return kh_host_field_matches(field, strlen(field), name);
}

static void test_host_names_and_patterns(void **state)
{
	char name[64];

	kh_host_name("kvm01", 22, name, sizeof(name));
	assert_string_equal(name, "kvm01");
	kh_host_name("kvm01", 0, name, sizeof(name));
	assert_string_equal(name, "kvm01");
	kh_host_name("192.0.2.10", 2222, name, sizeof(name));
	assert_string_equal(name, "[192.0.2.10]:2222");

	assert_true(field_matches("kvm01,192.0.2.10", "192.0.2.10"));
	assert_true(field_matches("KVM01", "kvm01"));
	assert_true(field_matches("*.lab.example", "kvm07.lab.example"));
	assert_false(field_matches("*.lab.example", "lab.example"));
	assert_true(field_matches("kvm0?", "kvm07"));
	assert_false(field_matches("kvm0?", "kvm107"));
	assert_true(field_matches("[10.0.0.?]:2222", "[10.0.0.5]:2222"));
	assert_false(field_matches("[10.0.0.?]:2222", "[10.0.0.5]:22"));
	/* A negated pattern that matches wins over any positive one. */
	assert_false(field_matches("*.lab.example,!bad.lab.example", "bad.lab.example"));
	assert_true(field_matches("*.lab.example,!bad.lab.example", "ok.lab.example"));
	assert_false(field_matches("!kvm01", "kvm02"));
}

/* A hashed name matches its host and port only. */
static void test_hashed_name_matches_its_host_only(void **state)
{
	assert_true(field_matches(HASHED_2201, "[127.0.0.2]:2201"));
	assert_false(field_matches(HASHED_2201, "[127.0.0.2]:2202"));
	assert_false(field_matches(HASHED_2201, "127.0.0.2"));
	assert_false(field_matches("|1|notbase64!|xXWE7Ocu2P08sFFc3/CbaX9LJk4=",
				   "[127.0.0.2]:2201"));
	assert_false(field_matches("|1|Uj+Q9zQuSS/sX9mAqOEnFea7kLI=", "[127.0.0.2]:2201"));
}

/* ---- lookup and verdicts ---- */

#define SAMPLE \
	"# comment\n"							/* 1 */ \
	"\n"								/* 2 */ \
	"garbage that is no key line\n"					/* 3 */ \
	"@cert-authority * ssh-ed25519 " ED3 "\n"			/* 4 */ \
	HASHED_2201 " ssh-ed25519 " ED1 "\n"				/* 5 */ \
	"[127.0.0.2]:2201 ecdsa-sha2-nistp256 " EC2 " a comment\n"	/* 6 */ \
	"[127.0.0.2]:2201 ssh-ed25519 " EC2 "\n"			/* 7: type lies */ \
	"[127.0.0.2]:2201 ssh-rsa " RSA4 "\r\n"				/* 8 */ \
	"@revoked [127.0.0.2]:2201 ssh-ed25519 " ED3 "\n"		/* 9 */ \
	"127.0.0.2 ssh-ed25519 " ED3 "\n"				/* 10: port 22 */ \
	"[127.0.0.2]:2201 ssh-ed25519\n"				/* 11: no key */ \
	"@bogus [127.0.0.2]:2201 ssh-ed25519 " ED3
static const char sample[] = SAMPLE;	/* the last line, 12, has no newline */

/* Only the key lines naming the host, with their line numbers. */
static void test_lookup_collects_lines_for_host(void **state)
{
	struct kh_set set;
	struct verr e = { "" };

	write_file(tmp("sample"), sample);
	assert_int_equal(kh_lookup(tmp("sample"), "[127.0.0.2]:2201", &set, &e), 0);
	assert_int_equal(set.n, 4);
	assert_int_equal(set.e[0].line, 5);
	assert_string_equal(set.e[0].type, "ssh-ed25519");
	assert_false(set.e[0].revoked);
	assert_int_equal(set.e[1].line, 6);
	assert_string_equal(set.e[1].type, "ecdsa-sha2-nistp256");
	assert_int_equal(set.e[2].line, 8);
	assert_string_equal(set.e[2].type, "ssh-rsa");
	assert_int_equal(set.e[3].line, 9);
	assert_true(set.e[3].revoked);
	kh_set_release(&set);

	/* A missing file is an empty one. */
	assert_int_equal(kh_lookup(tmp("absent"), "x", &set, &e), 0);
	assert_int_equal(set.n, 0);
}

static void test_verdicts(void **state)
{
	struct kh_set set;
	struct verr e = { "" };
	uint8_t ed1[128], ed3[128], ec2[256];
	size_t n1 = blob(ED1, ed1), n3 = blob(ED3, ed3), n2 = blob(EC2, ec2);
	unsigned line;

	write_file(tmp("sample"), sample);
	assert_int_equal(kh_lookup(tmp("sample"), "[127.0.0.2]:2201", &set, &e), 0);
	assert_int_equal(kh_set_check(&set, "ssh-ed25519", ed1, n1, &line), KH_MATCH);
	assert_int_equal(line, 5);
	assert_int_equal(kh_set_check(&set, "ecdsa-sha2-nistp256", ec2, n2, &line), KH_MATCH);
	assert_int_equal(line, 6);
	/* The revoked key is refused though no other line would take it. */
	assert_int_equal(kh_set_check(&set, "ssh-ed25519", ed3, n3, &line), KH_REVOKED);
	assert_int_equal(line, 9);
	kh_set_release(&set);

	write_file(tmp("one"), "[h]:2 ssh-ed25519 " ED1 "\n");
	assert_int_equal(kh_lookup(tmp("one"), "[h]:2", &set, &e), 0);
	assert_int_equal(kh_set_check(&set, "ssh-ed25519", ed3, n3, &line), KH_CHANGED);
	assert_int_equal(line, 1);
	/* A key of a type the file does not list for the host is new, not changed. */
	assert_int_equal(kh_set_check(&set, "ecdsa-sha2-nistp256", ec2, n2, &line), KH_UNKNOWN);
	assert_int_equal(line, 0);
	kh_set_release(&set);
}

/* The handshake offers only the types known_hosts lists for the host. */
static void test_hostkey_pref_pins_known_types(void **state)
{
	struct kh_set set;
	struct verr e = { "" };
	char pref[256];

	write_file(tmp("sample"), sample);
	assert_int_equal(kh_lookup(tmp("sample"), "[127.0.0.2]:2201", &set, &e), 0);
	kh_set_hostkey_pref(&set, pref, sizeof(pref));
	assert_string_equal(pref, "ssh-ed25519,ecdsa-sha2-nistp256");
	kh_set_release(&set);

	write_file(tmp("rsa"), "kvm01 ssh-rsa " RSA4 "\n");
	assert_int_equal(kh_lookup(tmp("rsa"), "kvm01", &set, &e), 0);
	assert_int_equal(set.n, 1);
	kh_set_hostkey_pref(&set, pref, sizeof(pref));
	assert_string_equal(pref, "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
			    "ecdsa-sha2-nistp521");
	kh_set_release(&set);
}

/* accept-new adds one line at the end and changes no other byte. */
static void test_append_adds_one_line(void **state)
{
	uint8_t ed1[128], ed3[128];
	size_t n1 = blob(ED1, ed1), n3 = blob(ED3, ed3);
	enum kh_verdict v;
	struct verr e = { "" };
	unsigned line;
	char *text;

	write_file(tmp("app"), sample);
	assert_int_equal(kh_append(tmp("app"), "[10.1.1.1]:2222", "ssh-ed25519", ed1, n1,
				   &v, &line, &e), 0);
	assert_int_equal(v, KH_UNKNOWN);
	assert_int_equal(line, 13);
	text = read_file(tmp("app"));
	assert_string_equal(text, SAMPLE "\n[10.1.1.1]:2222 ssh-ed25519 " ED1 "\n");
	free(text);

	/* Again: already there, nothing added. */
	assert_int_equal(kh_append(tmp("app"), "[10.1.1.1]:2222", "ssh-ed25519", ed1, n1,
				   &v, &line, &e), 0);
	assert_int_equal(v, KH_MATCH);
	assert_int_equal(line, 13);
	/* Another key of the same type: changed, nothing added. */
	assert_int_equal(kh_append(tmp("app"), "[10.1.1.1]:2222", "ssh-ed25519", ed3, n3,
				   &v, &line, &e), 0);
	assert_int_equal(v, KH_CHANGED);
	text = read_file(tmp("app"));
	assert_string_equal(text, SAMPLE "\n[10.1.1.1]:2222 ssh-ed25519 " ED1 "\n");
	free(text);

	/* A missing file is created, mode 0600. */
	{
		struct stat st;

		assert_int_equal(kh_append(tmp("new"), "kvm01", "ssh-ed25519", ed1, n1, &v,
					   &line, &e), 0);
		assert_int_equal(line, 1);
		text = read_file(tmp("new"));
		assert_string_equal(text, "kvm01 ssh-ed25519 " ED1 "\n");
		free(text);
		assert_int_equal(stat(tmp("new"), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
}

static void test_policy_names(void **state)
{
	enum kh_policy p;

	assert_int_equal(kh_policy_parse("accept-new", &p), 0);
	assert_int_equal(p, KH_ACCEPT_NEW);
	assert_string_equal(kh_policy_name(p), "accept-new");
	assert_int_equal(kh_policy_parse("strict", &p), 0);
	assert_int_equal(p, KH_STRICT);
	assert_int_equal(kh_policy_parse("off", &p), 0);
	assert_int_equal(p, KH_OFF);
	assert_int_equal(kh_policy_parse("yes", &p), -EINVAL);
}

/* ---- the server's greeting ---- */

static size_t put_str(uint8_t *p, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	p[0] = (uint8_t)(n >> 24), p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8), p[3] = (uint8_t)n;
	memcpy(p + 4, s, n);
	return 4 + n;
}

/* Banner, then a KEXINIT packet: the two lists vmorch explains failures
   with.  *@type_at gets the offset of the packet's message type. */
static size_t make_greeting(uint8_t *buf, size_t *type_at)
{
	static const char banner[] = "hello from a pre-banner line\r\n"
				     "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
	uint8_t payload[512];
	size_t pl = 0, off, plen;

	payload[pl++] = 20;
	memset(payload + pl, 0xab, 16);
	pl += 16;
	pl += put_str(payload + pl, "curve25519-sha256,diffie-hellman-group14-sha256");
	pl += put_str(payload + pl, "rsa-sha2-512,rsa-sha2-256");
	for (int i = 0; i < 8; i++)
		pl += put_str(payload + pl, "x");
	payload[pl++] = 0;
	memset(payload + pl, 0, 4);
	pl += 4;

	memcpy(buf, banner, sizeof(banner) - 1);
	off = sizeof(banner) - 1;
	plen = pl + 1 + 4;		/* padding length byte + 4 bytes of padding */
	buf[off] = 0, buf[off + 1] = 0, buf[off + 2] = (uint8_t)(plen >> 8);
	buf[off + 3] = (uint8_t)plen;
	buf[off + 4] = 4;
	memcpy(buf + off + 5, payload, pl);
	memset(buf + off + 5 + pl, 0, 4);
	*type_at = off + 5;
	return off + 4 + plen;
}

static void test_server_hello_parse(void **state)
{
	uint8_t buf[1024];
	size_t type_at, n = make_greeting(buf, &type_at);
	struct ssh_server_hello h;
	char *lines;

	assert_int_equal(ssh_server_hello_parse(buf, n, &h), 0);
	assert_string_equal(h.version, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
	assert_string_equal(h.kex, "curve25519-sha256,diffie-hellman-group14-sha256");
	assert_string_equal(h.hostkey, "rsa-sha2-512,rsa-sha2-256");
	/* Cut anywhere before the end: not enough yet. */
	for (size_t cut = 0; cut < n; cut += 7)
		assert_int_equal(ssh_server_hello_parse(buf, cut, &h), -ENODATA);
	/* A first packet that is not a KEXINIT. */
	buf[type_at] = 21;
	assert_int_equal(ssh_server_hello_parse(buf, n, &h), -EPROTO);
	/* An absurd packet length. */
	buf[type_at] = 20;
	buf[type_at - 5] = 0x7f;
	assert_int_equal(ssh_server_hello_parse(buf, n, &h), -EPROTO);
	/* 9000 bytes of lines and no "SSH-" line: not an SSH server. */
	lines = malloc(9001);
	assert_non_null(lines);
	for (int i = 0; i < 9000; i += 2)
		memcpy(lines + i, "x\n", 2);
	assert_int_equal(ssh_server_hello_parse((const uint8_t *)lines, 9000, &h), -EPROTO);
	free(lines);
}

/* ---- private key files ---- */

static bool have_keygen(void)
{
	return system("command -v ssh-keygen >/dev/null 2>&1") == 0;
}

static void keygen(const char *args, const char *name)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -f %s %s.pub; ssh-keygen -q %s -C t -f %s", tmp(name),
		 tmp(name), args, tmp(name));
	assert_int_equal(system(cmd), 0);
}

/* The key type and whether it needs a passphrase, for each format. */
static void test_keyfile_probe(void **state)
{
	char type[SSH_KEYTYPE_MAX];
	bool enc;
	struct verr e = { "" };
	char want[300];

	if (!have_keygen()) {
		if (getenv("CI"))
			fail_msg("ssh-keygen is missing and CI is set");
		skip();
	}
	keygen("-t ed25519 -N ''", "ed");
	assert_int_equal(ssh_keyfile_probe(tmp("ed"), type, &enc, &e), 0);
	assert_string_equal(type, "ssh-ed25519");
	assert_false(enc);

	keygen("-t ed25519 -N secret", "ed_enc");
	assert_int_equal(ssh_keyfile_probe(tmp("ed_enc"), type, &enc, &e), 0);
	assert_string_equal(type, "ssh-ed25519");
	assert_true(enc);

	keygen("-t ecdsa -b 384 -N ''", "ec");
	assert_int_equal(ssh_keyfile_probe(tmp("ec"), type, &enc, &e), 0);
	assert_string_equal(type, "ecdsa-sha2-nistp384");

	keygen("-t rsa -b 1024 -m PEM -N ''", "rsa_pem");
	assert_int_equal(ssh_keyfile_probe(tmp("rsa_pem"), type, &enc, &e), 0);
	assert_string_equal(type, "ssh-rsa");
	assert_false(enc);

	assert_int_equal(ssh_keyfile_probe(tmp("ed.pub"), type, &enc, &e), -EINVAL);
	snprintf(want, sizeof(want), "identity file %s is not a private key (a .pub file?)",
		 tmp("ed.pub"));
	assert_string_equal(e.msg, want);

	assert_int_equal(ssh_keyfile_probe(tmp("missing"), type, &enc, &e), -ENOENT);
	snprintf(want, sizeof(want), "identity file %s: No such file or directory",
		 tmp("missing"));
	assert_string_equal(e.msg, want);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_known_answers),
		cmocka_unit_test(test_hmac_sha1_rfc2202),
		cmocka_unit_test(test_base64_round_trips_and_refuses_garbage),
		cmocka_unit_test(test_fingerprint_matches_ssh_keygen),
		cmocka_unit_test(test_host_names_and_patterns),
		cmocka_unit_test(test_hashed_name_matches_its_host_only),
		cmocka_unit_test(test_lookup_collects_lines_for_host),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_hostkey_pref_pins_known_types),
		cmocka_unit_test(test_append_adds_one_line),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_server_hello_parse),
		cmocka_unit_test(test_keyfile_probe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
