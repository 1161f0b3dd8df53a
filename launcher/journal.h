// SPDX-License-Identifier: MIT
// The launch journal: what each device and PF was before vflaunch changed it, to give it back.
// One text file per launch, at a path its caller chooses, replaced atomically on every save:
//   vflaunch-journal 1
//   sriov 0000:03:00.0 numvfs=4 autoprobe=1 state=applied
//   device 0000:03:10.6 driver=ixgbevf override= state=recorded
//   vfnet 0000:03:10.6 mac=00:00:00:00:00:00 vlan=0 qos=0 spoofchk=1 trust=0 link=0 max_rate=0
//         min_rate=0 state=recorded                            (one line in the file)
// A line is KIND ADDR, then every field of that kind (its row in the kind table) and state,
// each exactly once, in any order. Values are %XX-escaped outside [A-Za-z0-9._:+-], so no
// value can forge a field or a line; name values must be kernel driver names (vfio_driver_ok)
// or empty, MAC values "aa:bb:cc:dd:ee:ff" in lower case, in the file as in memory. Reading is strict and bounded (JOURNAL_MAXSIZE, regular
// files only, never through a symlink); writing honours the latch of sysfs_forbid_writes().
#ifndef VFLAUNCH_JOURNAL_H
#define VFLAUNCH_JOURNAL_H

#include <stddef.h>
#include "vfio.h"

#define JOURNAL_PATHLEN 512
#define JOURNAL_MAXSIZE (1 << 20) /* bytes: larger files are refused unread, and never written */

/* A kind of record: a row of the kind table in journal.c, which says its fields and how to
 * give it back. A new kind (VF MAC/VLAN, say) is one row, its fields and its restore. */
enum journal_kind { JOURNAL_DEVICE, JOURNAL_SRIOV, JOURNAL_VFNET, JOURNAL_NKINDS };

#define JOURNAL_MACLEN 18        /* "aa:bb:cc:dd:ee:ff" and its NUL */

/* recorded: the original is known, the change may or may not have happened (a crash);
 * applied: the change was made (written by older versions; read, and treated as recorded);
 * restored: given back and read back equal; gone: the device or PF no longer exists, so
 * there is nothing to give back. restored and gone are closed: no restore touches them. */
enum journal_state {
	JOURNAL_STATE_RECORDED,
	JOURNAL_STATE_APPLIED,
	JOURNAL_STATE_RESTORED,
	JOURNAL_STATE_GONE,
	JOURNAL_NSTATES
};

/* What giving one entry back did, read back from sysfs, never assumed. */
enum journal_outcome {
	JOURNAL_RESTORED,            /* writes were made; the read-back equals the record */
	JOURNAL_UNCHANGED,           /* it already equalled the record: nothing written */
	JOURNAL_GONE,                /* the device or PF does not exist: nothing written */
	JOURNAL_FAILED               /* a step failed or the read-back differs; entry stays open */
};

struct journal_entry {
	enum journal_kind kind;
	enum journal_state state;
	char addr[VFIO_ADDRLEN];     /* the device, or the PF */
	/* Values, each used by the kinds whose table row lists it: */
	char driver[VFIO_NAMELEN];   /* device: original driver, "" none */
	char override[VFIO_NAMELEN]; /* device: original driver_override, "" none */
	int numvfs;                  /* sriov: original sriov_numvfs */
	int autoprobe;               /* sriov: original sriov_drivers_autoprobe, -1 unknown */
	/* vfnet (addr is the VF; vfnet.c finds its PF and index): its admin state on the PF */
	char mac[JOURNAL_MACLEN];    /* lower case */
	int vlan, qos;               /* 0..4095, 0..7 */
	int spoofchk, trust;         /* 0, 1, -1 not reported by the driver (left alone) */
	int link;                    /* 0 auto, 1 enable, 2 disable (IFLA_VF_LINK_STATE_*) */
	int max_rate, min_rate;      /* Mb/s, 0 no limit */
};

enum journal_field_type {
	JOURNAL_NAME,                /* char[VFIO_NAMELEN]: a kernel driver name, or "" (none) */
	JOURNAL_INT,                 /* int, in lo..hi */
	JOURNAL_MAC                  /* char[JOURNAL_MACLEN]: "aa:bb:cc:dd:ee:ff", never empty */
};

/* One field of a kind: its key (in the file and in Lua) and where its value lives. */
struct journal_field {
	const char *key;             /* "driver" */
	enum journal_field_type type;
	size_t offset;               /* of the value in struct journal_entry */
	int lo, hi;                  /* JOURNAL_INT: the range */
	int optional;                /* JOURNAL_INT: a caller may leave it out, meaning lo */
};

struct journal_kind_info {
	const char *name;            /* "device", in the file and in Lua */
	const struct journal_field *fields;
	size_t nfields;
	/* Give e back, then read the state back and compare (journal_restore_entry). */
	enum journal_outcome (*restore)(const char *root, const struct journal_entry *e,
	                                char *why, size_t whylen);
};

struct journal {
	char path[JOURNAL_PATHLEN];  /* "" for a journal parsed from memory */
	struct journal_entry *entries; /* in the order the changes were made */
	size_t count, cap;
};

const struct journal_kind_info *journal_kind_info(enum journal_kind kind); /* NULL: none */
int journal_kind_parse(const char *name);      /* enum value, or -1 */
const char *journal_state_name(enum journal_state s);
int journal_state_parse(const char *name);     /* enum value, or -1 */
const char *journal_outcome_name(enum journal_outcome o); /* "restored", "unchanged", ... */

/* Entries field by field, for callers that build them from other data (the Lua binding).
 * journal_entry_init: kind and address (-EINVAL when either is bad), names "", optional
 * ints at lo. The setters check the value (a driver name or ""; a MAC address, stored in lower
 * case; an int in range): 0 or -EINVAL, leaving the field as it was. journal_set_name and
 * journal_get_name serve both string types (JOURNAL_NAME, JOURNAL_MAC). f must be one of the
 * kind's fields. */
int journal_entry_init(struct journal_entry *e, enum journal_kind kind, const char *addr);
int journal_set_name(struct journal_entry *e, const struct journal_field *f, const char *value);
int journal_set_int(struct journal_entry *e, const struct journal_field *f, long long value);
const char *journal_get_name(const struct journal_entry *e, const struct journal_field *f);
int journal_get_int(const struct journal_entry *e, const struct journal_field *f);

/* Parse a journal from memory (len bytes, not NUL-terminated; at most JOURNAL_MAXSIZE).
 * Unknown versions, kinds and keys, malformed or repeated lines, bad escapes, names that are
 * not driver names, a missing final newline and NUL bytes are refused with "label:LINE: why"
 * in err and -EINVAL (-EFBIG when too large, -ENOMEM). j->path is left "". */
int journal_parse(struct journal *j, const char *text, size_t len, const char *label,
                  char *err, size_t errlen);
/* Read and parse the file at path: opened O_NOFOLLOW|O_NONBLOCK (a symlink is -ELOOP with a
 * message saying so), only a regular file (-EINVAL: a FIFO or /dev/zero is refused at once),
 * at most JOURNAL_MAXSIZE bytes (-EFBIG, unread). */
int journal_load(struct journal *j, const char *path, char *err, size_t errlen);
/* A new journal holding no entry at exactly path: O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, the
 * header written and synced, and the directory too. Nothing else is created or chosen: the
 * caller owns the directory (its owner and mode) and the name. -EEXIST when path exists
 * (a symlink included); -EROFS when host writes are forbidden. */
int journal_create(struct journal *j, const char *path, char *err, size_t errlen);
/* Write the whole journal: temp file (O_NOFOLLOW), fsync, rename, fsync of the directory.
 * -EFBIG when it would exceed JOURNAL_MAXSIZE; -EROFS when host writes are forbidden. */
int journal_save(const struct journal *j, char *err, size_t errlen);
void journal_free(struct journal *j);

/* Append in memory (call journal_save before changing anything). A device or PF already in
 * the journal keeps its first record: that one is the original. 0 added, 1 when already
 * there, -EINVAL for a bad kind, state, address or value, -ENOMEM. */
int journal_add(struct journal *j, const struct journal_entry *e);
int journal_mark(struct journal *j, size_t index, enum journal_state state);
/* Drop entry index (its record moved to another launch's journal). 0 or -EINVAL. */
int journal_forget(struct journal *j, size_t index);
int journal_entry_open(const struct journal_entry *e);  /* 1 unless restored or gone */
size_t journal_open_count(const struct journal *j);

/* Give entry i back: run its kind's restore, which reads the state back from sysfs (device:
 * the driver link and driver_override; sriov: sriov_numvfs and sriov_drivers_autoprobe; vfnet:
 * the VF's values over rtnetlink, or the simulated kernel under a tree's root: vfnet.c) and
 * compares it with the record. The entry is marked in memory only (the caller saves once):
 * restored for JOURNAL_RESTORED and JOURNAL_UNCHANGED, gone for JOURNAL_GONE; JOURNAL_FAILED
 * leaves it open, with why saying which step failed or where the device is now
 * ("0002:81:10.0 is on vfio-pci, not ixgbevf"); why is "" otherwise. An entry already closed
 * is not touched again: UNCHANGED when restored, GONE when gone, nothing read or written.
 * An index out of range is JOURNAL_FAILED. Callers go newest first: VFs before the count of
 * their PF. */
enum journal_outcome journal_restore_entry(const char *root, struct journal *j, size_t i,
                                           char *why, size_t whylen);

/* Every open entry, newest first, through journal_restore_entry, then one save when a mark
 * changed. Keeps going past a failure: -EIO for the first entry that failed ("restore ADDR:
 * why"), or the save's -errno with err saying that every entry was given back but the marks
 * could not be saved. For callers that do not go entry by entry (main.c until it does). */
int journal_restore(const char *root, struct journal *j, char *err, size_t errlen);

#endif
