/*
 * test_virtqueue.c - the split virtqueue alone (virtio 1.2 §2.7): popping,
 * chain walking with its hostile-guest bounds, indirect tables, used ring
 * publication and notification suppression, over a fake guest RAM.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm-worker/virtqueue.h"

#define MEM_SIZE  (1u << 20)
#define QN	  8
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA  0x3000
#define ITAB_GPA  0x4000

struct fx {
	struct guest_mem mem;
	struct vq q;
	struct vq_chain c;
	uint16_t avail_idx;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->mem.host = aligned_alloc(4096, MEM_SIZE);
	memset(f->mem.host, 0, MEM_SIZE);
	f->mem.size = MEM_SIZE;
	vq_reset(&f->q, &f->mem);
	f->q.num = QN;
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	f->q.indirect = true;
	assert_int_equal(vq_start(&f->q), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	free(f->mem.host);
	free(f);
	return 0;
}

static void desc(struct fx *f, uint64_t table, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = f->mem.host + table + 16ULL * i;
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t fl = htole16(flags), n = htole16(next);

	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	memcpy(p + 12, &fl, 2);
	memcpy(p + 14, &n, 2);
}

static void set_avail_idx(struct fx *f, uint16_t idx)
{
	uint16_t v = htole16(idx);

	memcpy(f->mem.host + AVAIL_GPA + 2, &v, 2);
}

static void publish(struct fx *f, uint16_t head)
{
	uint16_t h = htole16(head);

	memcpy(f->mem.host + AVAIL_GPA + 4 + 2 * (f->avail_idx % QN), &h, 2);
	set_avail_idx(f, ++f->avail_idx);
}

static uint16_t rd16(struct fx *f, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, f->mem.host + gpa, 2);
	return le16toh(v);
}

static uint32_t rd32(struct fx *f, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, f->mem.host + gpa, 4);
	return le32toh(v);
}

static void wr16(struct fx *f, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(f->mem.host + gpa, &v, 2);
}

/* An empty ring pops nothing. */
static void test_pop_empty(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	assert_int_equal(vq_pop(&f->q, &h), 0);
}

/* Heads come out in avail order; unpop puts the last one back. */
static void test_pop_order_and_unpop(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	publish(f, 5);
	publish(f, 2);
	assert_int_equal(vq_pop(&f->q, &h), 1);
	assert_int_equal(h, 5);
	assert_int_equal(vq_pop(&f->q, &h), 1);
	assert_int_equal(h, 2);
	vq_unpop(&f->q);
	assert_int_equal(vq_pop(&f->q, &h), 1);
	assert_int_equal(h, 2);
	assert_int_equal(vq_pop(&f->q, &h), 0);
}

/* A three-descriptor chain becomes three segments with their directions. */
static void test_chain_direct(void **state)
{
	struct fx *f = *state;

	desc(f, DESC_GPA, 3, 0x10000, 16, VIRTQ_DESC_F_NEXT, 6);
	desc(f, DESC_GPA, 6, 0x20000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	desc(f, DESC_GPA, 0, 0x30000, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(vq_chain_read(&f->q, 3, &f->c), 0);
	assert_int_equal(f->c.nseg, 3);
	assert_int_equal(f->c.seg[0].gpa, 0x10000);
	assert_false(f->c.seg[0].writable);
	assert_int_equal(f->c.seg[1].len, 4096);
	assert_true(f->c.seg[1].writable);
	assert_int_equal(f->c.seg[2].gpa, 0x30000);
}

/* A loop in the table ends as -ELOOP, not a hang. */
static void test_chain_loop(void **state)
{
	struct fx *f = *state;

	desc(f, DESC_GPA, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, DESC_GPA, 1, 0x10000, 16, VIRTQ_DESC_F_NEXT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -ELOOP);
	desc(f, DESC_GPA, 2, 0x10000, 16, VIRTQ_DESC_F_NEXT, 2);	/* self loop */
	assert_int_equal(vq_chain_read(&f->q, 2, &f->c), -ELOOP);
}

/* A chain using every descriptor once is fine. */
static void test_chain_of_queue_size(void **state)
{
	struct fx *f = *state;

	for (uint16_t i = 0; i < QN; i++)
		desc(f, DESC_GPA, i, 0x10000, 16,
		     i + 1 < QN ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), 0);
	assert_int_equal(f->c.nseg, QN);
}

/* next (or head) beyond the table is malformed. */
static void test_chain_index_out_of_range(void **state)
{
	struct fx *f = *state;

	desc(f, DESC_GPA, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, QN);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EINVAL);
	assert_int_equal(vq_chain_read(&f->q, 0xffff, &f->c), -EINVAL);
}

/* An indirect table is walked like a chain of its own. */
static void test_indirect_chain(void **state)
{
	struct fx *f = *state;

	desc(f, ITAB_GPA, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 2);
	desc(f, ITAB_GPA, 2, 0x20000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(f, ITAB_GPA, 1, 0x30000, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(f, DESC_GPA, 4, ITAB_GPA, 48, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 4, &f->c), 0);
	assert_int_equal(f->c.nseg, 3);
	assert_int_equal(f->c.seg[1].gpa, 0x20000);
	assert_int_equal(f->c.seg[2].gpa, 0x30000);
}

/* Indirect tables: nested, not negotiated, odd length, too long, outside
 * RAM, INDIRECT with NEXT, and a loop inside the table. */
static void test_indirect_malformed(void **state)
{
	struct fx *f = *state;

	desc(f, ITAB_GPA, 0, ITAB_GPA + 0x100, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc(f, DESC_GPA, 0, ITAB_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EINVAL);

	desc(f, ITAB_GPA, 0, 0x10000, 16, 0, 0);
	f->q.indirect = false;
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EINVAL);
	f->q.indirect = true;
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), 0);

	desc(f, DESC_GPA, 0, ITAB_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EINVAL);
	desc(f, DESC_GPA, 0, ITAB_GPA, 16 * (QN + 1), VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EINVAL);
	desc(f, DESC_GPA, 0, MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EFAULT);
	desc(f, DESC_GPA, 0, ITAB_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -EINVAL);

	desc(f, ITAB_GPA, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, ITAB_GPA, 1, 0x10000, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(f, DESC_GPA, 0, ITAB_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -ELOOP);
}

/* Direct descriptors then an indirect one may not exceed the queue size. */
static void test_chain_total_bounded_by_queue_size(void **state)
{
	struct fx *f = *state;

	for (uint16_t i = 0; i < QN; i++)
		desc(f, ITAB_GPA, i, 0x10000, 16,
		     i + 1 < QN ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	desc(f, DESC_GPA, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, DESC_GPA, 1, ITAB_GPA, 16 * QN, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(vq_chain_read(&f->q, 0, &f->c), -ELOOP);
}

/* avail.idx exactly num ahead is fine; num + 1 ahead poisons, reported once. */
static void test_avail_idx_poison(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	set_avail_idx(f, QN);
	assert_int_equal(vq_pop(&f->q, &h), 1);
	for (int i = 1; i < QN; i++)
		assert_int_equal(vq_pop(&f->q, &h), 1);
	assert_int_equal(vq_pop(&f->q, &h), 0);
	set_avail_idx(f, (uint16_t)(QN + QN + 1));
	assert_int_equal(vq_pop(&f->q, &h), -EOVERFLOW);
	assert_true(f->q.poisoned);
	assert_int_equal(vq_pop(&f->q, &h), 0);
	assert_false(vq_enable_notify(&f->q));
	set_avail_idx(f, QN + 1);		/* even a sane value: still dead */
	assert_int_equal(vq_pop(&f->q, &h), 0);
	assert_int_equal(vq_start(&f->q), 0);	/* the reset path */
	set_avail_idx(f, 1);
	assert_int_equal(vq_pop(&f->q, &h), 1);
}

/* An index that wrapped around 65535 is not mistaken for a jump. */
static void test_avail_idx_wraps(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	f->q.last_avail = f->q.shadow_avail = 0xfffe;
	set_avail_idx(f, 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vq_pop(&f->q, &h), 1);
	assert_int_equal(vq_pop(&f->q, &h), 0);
}

/* A used element is written before used.idx moves. */
static void test_push_used(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vq_push_used(&f->q, 7, 4097), 0);
	assert_int_equal(rd16(f, USED_GPA + 2), 1);
	assert_int_equal(rd32(f, USED_GPA + 4), 7);
	assert_int_equal(rd32(f, USED_GPA + 8), 4097);
}

/* Without EVENT_IDX: interrupt unless NO_INTERRUPT, and never for nothing. */
static void test_need_interrupt_flags(void **state)
{
	struct fx *f = *state;

	assert_false(vq_need_interrupt(&f->q));
	vq_push_used(&f->q, 0, 1);
	assert_true(vq_need_interrupt(&f->q));
	assert_false(vq_need_interrupt(&f->q));
	wr16(f, AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq_push_used(&f->q, 0, 1);
	assert_false(vq_need_interrupt(&f->q));
}

/* With EVENT_IDX: interrupt exactly when used_event is crossed (§2.7.7.2). */
static void test_need_interrupt_event_idx(void **state)
{
	struct fx *f = *state;
	uint64_t used_event = AVAIL_GPA + 4 + 2 * QN;

	f->q.event_idx = true;
	wr16(f, used_event, 3);
	vq_push_used(&f->q, 0, 1);	/* used 1 */
	vq_push_used(&f->q, 0, 1);	/* used 2 */
	assert_false(vq_need_interrupt(&f->q));
	vq_push_used(&f->q, 0, 1);	/* used 3 */
	assert_false(vq_need_interrupt(&f->q));
	vq_push_used(&f->q, 0, 1);	/* used 4: entry #3 is now used */
	assert_true(vq_need_interrupt(&f->q));
	vq_push_used(&f->q, 0, 1);
	assert_false(vq_need_interrupt(&f->q));
}

/* enable_notify publishes avail_event and reports requests that raced in. */
static void test_enable_notify(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	f->q.event_idx = true;
	publish(f, 1);
	assert_int_equal(vq_pop(&f->q, &h), 1);
	assert_false(vq_enable_notify(&f->q));
	assert_int_equal(rd16(f, USED_GPA + 4 + 8 * QN), 1);
	publish(f, 2);
	assert_true(vq_enable_notify(&f->q));
}

/* Ring validation: size, alignment, placement. */
static void test_validate(void **state)
{
	struct fx *f = *state;
	struct vq q = f->q;

	q.num = 6;
	assert_int_equal(vq_validate(&q), -EINVAL);
	q.num = 512;
	assert_int_equal(vq_validate(&q), -EINVAL);
	q.num = QN;
	q.used_gpa = USED_GPA + 2;
	assert_int_equal(vq_validate(&q), -EINVAL);
	q.used_gpa = MEM_SIZE - 8;
	assert_int_equal(vq_validate(&q), -EFAULT);
	q.used_gpa = USED_GPA;
	q.desc_gpa = UINT64_MAX - 15;
	assert_int_equal(vq_validate(&q), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_pop_empty),
		T(test_pop_order_and_unpop),
		T(test_chain_direct),
		T(test_chain_loop),
		T(test_chain_of_queue_size),
		T(test_chain_index_out_of_range),
		T(test_indirect_chain),
		T(test_indirect_malformed),
		T(test_chain_total_bounded_by_queue_size),
		T(test_avail_idx_poison),
		T(test_avail_idx_wraps),
		T(test_push_used),
		T(test_need_interrupt_flags),
		T(test_need_interrupt_event_idx),
		T(test_enable_notify),
		T(test_validate),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
