// SPDX-License-Identifier: MIT
// libFuzzer target: the journal parser. Whatever it accepts must be a journal vflaunch could
// have written (canonical addresses, known kinds and states, values in range, one entry per
// device or PF), and must survive save -> load unchanged; whatever it refuses must come with a
// message and leave no entries behind.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#define FUZZ_NAME "fuzz_journal"
#include "fuzzlib.h"

/* journal_parse: the text in memory, exactly what journal_load hands it after its checks. */
static int load_input(struct journal *j, const uint8_t *data, size_t size, char *err, size_t errlen)
{
	return journal_parse(j, (const char *)data, size, "fuzz-input", err, errlen);
}

static int same_entry(const struct journal_entry *a, const struct journal_entry *b)
{
	return a->kind == b->kind && a->state == b->state && !strcmp(a->addr, b->addr) &&
	       !strcmp(a->driver, b->driver) && !strcmp(a->override, b->override) &&
	       a->numvfs == b->numvfs && a->autoprobe == b->autoprobe && !strcmp(a->mac, b->mac) &&
	       a->vlan == b->vlan && a->qos == b->qos && a->spoofchk == b->spoofchk &&
	       a->trust == b->trust && a->link == b->link && a->max_rate == b->max_rate &&
	       a->min_rate == b->min_rate;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal j, k;
	char err[512] = "", out[PATH_MAX];
	int rc;

	fuzz_begin(data, size);
	rc = load_input(&j, data, size, err, sizeof err);
	if (rc < 0) {
		fuzz_check(err[0] != '\0', "refused without a message");
		fuzz_check(j.entries == NULL && j.count == 0, "refused but entries left behind");
		return 0;
	}
	if (!fuzz_check(rc == 0, "result neither 0 nor negative"))
		return 0;
	for (size_t i = 0; i < j.count; i++) {
		const struct journal_entry *e = &j.entries[i];
		fuzz_check(vfio_addr_ok(e->addr), "accepted a non-canonical address");
		fuzz_check(e->kind == JOURNAL_DEVICE || e->kind == JOURNAL_SRIOV || e->kind == JOURNAL_VFNET,
		           "accepted an unknown kind");
		fuzz_check((unsigned)e->state < JOURNAL_NSTATES, "accepted an unknown state");
		fuzz_check(memchr(e->driver, '\0', sizeof e->driver) && memchr(e->override, '\0', sizeof e->override),
		      "unterminated name");
		if (e->kind == JOURNAL_SRIOV)
			fuzz_check(e->numvfs >= 0 && e->numvfs <= 65535 && e->autoprobe >= -1 && e->autoprobe <= 1,
			      "accepted an SR-IOV value out of range");
		if (e->kind == JOURNAL_VFNET)
			fuzz_check(strlen(e->mac) == 17 && e->vlan >= 0 && e->vlan <= 4095 && e->qos >= 0 &&
			           e->qos <= 7 && e->link >= 0 && e->link <= 2 && e->max_rate >= 0 &&
			           e->min_rate >= 0, "accepted a vfnet value out of range");
		for (size_t m = 0; m < i; m++)
			fuzz_check(j.entries[m].kind != e->kind || strcmp(j.entries[m].addr, e->addr),
			      "accepted one device twice");
	}
	/* Save it where it can be read back: what was accepted is written and read the same. */
	fuzz_path(out, sizeof out, "out.journal");
	if ((size_t)snprintf(j.path, sizeof j.path, "%s", out) >= sizeof j.path)
		abort();
	if (fuzz_check(journal_save(&j, err, sizeof err) == 0, "an accepted journal cannot be saved") &&
	    fuzz_check(journal_load(&k, out, err, sizeof err) == 0, "a saved journal does not load back")) {
		if (fuzz_check(k.count == j.count, "round trip changed the number of entries"))
			for (size_t i = 0; i < j.count; i++)
				fuzz_check(same_entry(&j.entries[i], &k.entries[i]), "round trip changed an entry");
		journal_free(&k);
	}
	journal_free(&j);
	return 0;
}
