/*
 * test_disk.c - the backing store of a virtio-blk disk (vmm-worker/disk.c):
 * an image written in place, a clone that leaves its image untouched and
 * nothing behind, and the files a disk may never be.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm-worker/disk.h"

#define IMAGE_SIZE	(1 << 20)

struct fixture {
	char dir[64];
	char image[96];
};

/* A 1 MiB image whose byte i is i * 7 mod 251, alone in a new directory. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	unsigned char *buf = malloc(IMAGE_SIZE);
	int fd;

	if (!f || !buf)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-disk-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->image, sizeof(f->image), "%s/image.raw", f->dir);
	for (size_t i = 0; i < IMAGE_SIZE; i++)
		buf[i] = (unsigned char)(i * 7 % 251);
	fd = open(f->image, O_CREAT | O_WRONLY | O_EXCL, 0644);
	if (fd < 0 || write(fd, buf, IMAGE_SIZE) != IMAGE_SIZE || close(fd))
		return -1;
	free(buf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->image);
	rmdir(f->dir);
	free(f);
	return 0;
}

static size_t dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void image_byte(const char *path, off_t off, unsigned char *out)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, out, 1, off), 1);
	close(fd);
}

static void disk_poke(struct disk *dk, uint64_t off, unsigned char v)
{
	unsigned char sector[DISK_SECTOR];
	struct iovec iov = { sector, sizeof(sector) };

	memset(sector, v, sizeof(sector));
	assert_int_equal(disk_write(dk, &iov, 1, off), 0);
}

static unsigned char disk_peek(struct disk *dk, uint64_t off)
{
	unsigned char sector[DISK_SECTOR];
	struct iovec iov = { sector, sizeof(sector) };

	assert_int_equal(disk_read(dk, &iov, 1, off), 0);
	return sector[0];
}

/* A writable image without clone is the user's file: writes land in it. */
static void test_image_written_in_place(void **state)
{
	struct fixture *f = *state;
	struct job_disk jd = { .path = f->image };
	struct disk dk;
	struct verr e = { "" };
	unsigned char b;

	if (disk_open(&dk, &jd, NULL, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(dk.size, IMAGE_SIZE);
	disk_poke(&dk, 4096, 0xab);
	disk_close(&dk);
	image_byte(f->image, 4096, &b);
	assert_int_equal(b, 0xab);
}

/*
 * A clone reads the image's bytes, keeps its own writes, leaves the image
 * as it was and adds no file to its directory, open or closed.
 */
static void test_clone_leaves_image_untouched(void **state)
{
	struct fixture *f = *state;
	struct job_disk jd = { .path = f->image, .clone = true };
	struct disk dk;
	struct verr e = { "" };
	unsigned char b;

	if (disk_open(&dk, &jd, NULL, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(dk.size, IMAGE_SIZE);
	assert_int_equal(dir_entries(f->dir), 1);
	assert_int_equal(disk_peek(&dk, 8192), 8192 * 7 % 251);
	assert_int_equal(disk_peek(&dk, IMAGE_SIZE - DISK_SECTOR),
			 (IMAGE_SIZE - DISK_SECTOR) * 7 % 251);
	disk_poke(&dk, 8192, 0xcd);
	assert_int_equal(disk_peek(&dk, 8192), 0xcd);
	assert_int_equal(disk_flush(&dk), 0);
	disk_close(&dk);
	image_byte(f->image, 8192, &b);
	assert_int_equal(b, 8192 * 7 % 251);
	assert_int_equal(dir_entries(f->dir), 1);
}

/* Two clones of one image do not see each other's writes. */
static void test_clones_are_private(void **state)
{
	struct fixture *f = *state;
	struct job_disk jd = { .path = f->image, .clone = true };
	struct disk a, b;
	struct verr e = { "" };

	if (disk_open(&a, &jd, NULL, &e) || disk_open(&b, &jd, NULL, &e))
		fail_msg("%s", e.msg);
	disk_poke(&a, 0, 0x11);
	disk_poke(&b, 0, 0x22);
	assert_int_equal(disk_peek(&a, 0), 0x11);
	assert_int_equal(disk_peek(&b, 0), 0x22);
	disk_close(&a);
	disk_close(&b);
}

/* The result database stays refused when it is only the clone's source. */
static void test_clone_of_protected_file_refused(void **state)
{
	struct fixture *f = *state;
	struct job_disk jd = { .path = f->image, .clone = true };
	struct job_file_id id;
	struct disk_guard g = { &id, 1 };
	struct disk dk;
	struct verr e = { "" };
	struct stat st;

	assert_int_equal(stat(f->image, &st), 0);
	id = (struct job_file_id){ (uint64_t)st.st_dev, (uint64_t)st.st_ino };
	assert_int_equal(disk_open(&dk, &jd, &g, &e), -EPERM);
	assert_non_null(strstr(e.msg, "is the result database"));
	assert_int_equal(dir_entries(f->dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_image_written_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_leaves_image_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clones_are_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_of_protected_file_refused, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
