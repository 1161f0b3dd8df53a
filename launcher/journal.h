// SPDX-License-Identifier: MIT
// The launch journal: what each device and PF was before vflaunch changed it, to give it back.
// One text file per launch under /run/vflaunch/, replaced atomically on every change:
//   vflaunch-journal 1
//   sriov 0000:03:00.0 numvfs=4 autoprobe=1 state=applied
//   device 0000:03:10.6 driver=ixgbevf override= state=recorded
// Values are %XX-escaped outside [A-Za-z0-9._:+-], so no driver name can forge a field.
#ifndef VFLAUNCH_JOURNAL_H
#define VFLAUNCH_JOURNAL_H

#include <stddef.h>
#include "vfio.h"

#define JOURNAL_DIR "/run/vflaunch"
#define JOURNAL_PATHLEN 512

enum journal_kind { JOURNAL_DEVICE, JOURNAL_SRIOV };

/* recorded: the original is known, the change may or may not have happened (a crash);
 * applied: the change was made; restored: given back, a later restore skips it. */
enum journal_state { JOURNAL_RECORDED, JOURNAL_APPLIED, JOURNAL_RESTORED };

struct journal_entry {
	enum journal_kind kind;
	enum journal_state state;
	char addr[VFIO_ADDRLEN];     /* the device, or the PF */
	char driver[VFIO_NAMELEN];   /* device: original driver, "" none */
	char override[VFIO_NAMELEN]; /* device: original driver_override, "" none */
	int numvfs;                  /* sriov: original sriov_numvfs */
	int autoprobe;               /* sriov: original sriov_drivers_autoprobe, -1 unknown */
};

struct journal {
	char path[JOURNAL_PATHLEN];
	struct journal_entry *entries; /* in the order the changes were made */
	size_t count, cap;
};

/* A new, empty journal file in dir (created 0700 when missing), named by time and pid so
 * names sort by age. Written at once: its existence says a launch began. */
int journal_create(struct journal *j, const char *dir, char *err, size_t errlen);
/* Read a journal file. Unknown versions, malformed lines and bad escapes are refused. */
int journal_load(struct journal *j, const char *path, char *err, size_t errlen);
/* Write the whole journal: temp file, fsync, rename, fsync of the directory. */
int journal_save(const struct journal *j, char *err, size_t errlen);
void journal_free(struct journal *j);

/* Append in memory (call journal_save before changing anything). A device or PF already in
 * the journal keeps its first record: that one is the original. 0, 1 when already there,
 * -EINVAL for a bad address or an over-long value, -ENOMEM. */
int journal_add(struct journal *j, const struct journal_entry *e);
int journal_mark(struct journal *j, size_t index, enum journal_state state);

/* Give back everything not yet restored, newest first (VFs before their PF's count), mark
 * and save as it goes. Keeps going past a failure; returns the first one. A device that no
 * longer exists (its VFs were removed) counts as given back. Running it twice writes
 * nothing the second time. */
int journal_restore(const char *root, struct journal *j, char *err, size_t errlen);

/* The newest journal in dir (by name) into path: 0, -ENOENT when there is none. */
int journal_latest(const char *dir, char *path, size_t size);

const char *journal_state_name(enum journal_state s);
int journal_state_parse(const char *name);   /* enum value, or -1 */

#endif
