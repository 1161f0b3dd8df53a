// SPDX-License-Identifier: MIT
// vflaunch: run a Lua site script that describes a QEMU guest's PCIe topology, validate it,
// and exec QEMU (or print, draw, or rehearse it). The CLI and the exit codes live here.
#include <getopt.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "journal.h"
#include "run.h"
#include "simhost.h"

#ifndef VFLAUNCH_VERSION
#define VFLAUNCH_VERSION "dev"
#endif

enum { EXIT_OK = 0, EXIT_SCRIPT = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
"usage: vflaunch [OPTIONS] SCRIPT [ARG...]   run a site script; ARG... reach it as `arg`\n"
"       vflaunch --list [--vfs] [--json]      the host's PCI devices\n"
"       vflaunch --restore [JOURNAL]          give devices back to the drivers they had\n"
"       vflaunch --simulate=help              the simulated hosts\n"
"\n"
"  -n, --dry-run          validate and print the QEMU command, one option per line, shell-quoted;\n"
"                         touch nothing on the host, exec nothing\n"
"  -t, --tree             print the guest's PCIe tree and bus budget\n"
"      --json             print the plan as JSON (argv, devices, ports, buses)\n"
"      --simulate[=NAME]  use an embedded simulated host instead of /sys (default: " SIMHOST_DEFAULT ",\n"
"                         a dual-port 82599 with 63 VFs per port in domain 0002); implies --dry-run\n"
"                         unless --rehearse is given\n"
"      --sysfs DIR        read the PCI sysfs tree under DIR instead of /sys\n"
"      --rehearse         boot the planned guest under QEMU (TCG) with an emulated stand-in in the\n"
"                         place of each passthrough device and compare what it enumerates to the plan\n"
"      --rehearse-kernel FILE, --rehearse-initrd FILE\n"
"                         the guest to rehearse with (default: $VFLAUNCH_REHEARSE_KERNEL and\n"
"                         $VFLAUNCH_REHEARSE_INITRD, then the script's kernel and initrd)\n"
"      --timeout SECONDS  give up on a rehearsal guest after this long (default 600)\n"
"      --qemu PATH        the QEMU binary (default: the script's, then qemu-system-aarch64)\n"
"      --bind-group       bind every member of the devices' IOMMU groups, not only the devices\n"
"      --force            bind devices the host is using (an interface that is up, a mount)\n"
"      --restore-on-exit  run QEMU as a child, forward SIGINT/SIGTERM/SIGHUP to it, and give\n"
"                         every device back to its driver when it exits (status: QEMU's)\n"
"      --restore [JOURNAL]  give back what a journal records (default: the newest one in\n"
"                         /run/vflaunch, or $VFLAUNCH_JOURNAL_DIR)\n"
"      --list             list the host's PCI devices (with --vfs: SR-IOV PFs and VFs only)\n"
"  -v, --verbose          say more (with --rehearse: show the guest's console)\n"
"  -q, --quiet            say only what is asked for and errors\n"
"  -h, --help             this text\n"
"  -V, --version          the version\n"
"\n"
"exit status: 0 ok; 1 script or validation error (or a rehearsal that did not match the plan);\n"
"2 usage; 3 host check or host change failed (anything changed was given back);\n"
"126 QEMU could not be executed; 127 QEMU not found.\n";

enum {
	OPT_JSON = 256, OPT_SIMULATE, OPT_SYSFS, OPT_REHEARSE, OPT_RKERNEL, OPT_RINITRD,
	OPT_TIMEOUT, OPT_QEMU, OPT_LIST, OPT_VFS, OPT_BIND_GROUP, OPT_FORCE, OPT_RESTORE,
	OPT_RESTORE_ON_EXIT,
};

static const struct option long_options[] = {
	{ "dry-run",          no_argument,       NULL, 'n' },
	{ "tree",             no_argument,       NULL, 't' },
	{ "json",             no_argument,       NULL, OPT_JSON },
	{ "simulate",         optional_argument, NULL, OPT_SIMULATE },
	{ "sysfs",            required_argument, NULL, OPT_SYSFS },
	{ "rehearse",         no_argument,       NULL, OPT_REHEARSE },
	{ "rehearse-kernel",  required_argument, NULL, OPT_RKERNEL },
	{ "rehearse-initrd",  required_argument, NULL, OPT_RINITRD },
	{ "timeout",          required_argument, NULL, OPT_TIMEOUT },
	{ "qemu",             required_argument, NULL, OPT_QEMU },
	{ "list",             no_argument,       NULL, OPT_LIST },
	{ "vfs",              no_argument,       NULL, OPT_VFS },
	{ "bind-group",       no_argument,       NULL, OPT_BIND_GROUP },
	{ "force",            no_argument,       NULL, OPT_FORCE },
	{ "restore",          no_argument,       NULL, OPT_RESTORE },
	{ "restore-on-exit",  no_argument,       NULL, OPT_RESTORE_ON_EXIT },
	{ "verbose",          no_argument,       NULL, 'v' },
	{ "quiet",            no_argument,       NULL, 'q' },
	{ "help",             no_argument,       NULL, 'h' },
	{ "version",          no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

struct options {
	int dry_run, tree, json, rehearse, list, vfs, verbose, quiet;
	int bind_group, force, restore, restore_on_exit;
	const char *journal;    /* --restore JOURNAL */
	long timeout;
	const char *simulate;   /* simulated host name, NULL for the real /sys */
	const char *sysfs;      /* sysfs root */
	const char *qemu, *rehearse_kernel, *rehearse_initrd;
	int script;             /* index of SCRIPT in argv, 0 when none */
};

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "vflaunch: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry 'vflaunch --help'.\n");
	return EXIT_USAGE;
}

/* Parse argv into o. -1 to go on, else the exit status to return at once. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	o->sysfs = "/sys";
	o->timeout = 600;
	opterr = 0;
	/* "+": stop at SCRIPT, so the script's own options reach it untouched. */
	while ((c = getopt_long(argc, argv, "+ntvqhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'n': o->dry_run = 1; break;
		case 't': o->tree = 1; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_SIMULATE: o->simulate = optarg ? optarg : SIMHOST_DEFAULT; break;
		case OPT_SYSFS: o->sysfs = optarg; break;
		case OPT_REHEARSE: o->rehearse = 1; break;
		case OPT_RKERNEL: o->rehearse_kernel = optarg; break;
		case OPT_RINITRD: o->rehearse_initrd = optarg; break;
		case OPT_TIMEOUT:
			o->timeout = strtol(optarg, &end, 10);
			if (*end || end == optarg || o->timeout <= 0 || o->timeout > 86400)
				return usage_error("--timeout wants seconds from 1 to 86400, not '%s'", optarg);
			break;
		case OPT_QEMU: o->qemu = optarg; break;
		case OPT_LIST: o->list = 1; break;
		case OPT_VFS: o->vfs = 1; break;
		case OPT_BIND_GROUP: o->bind_group = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_RESTORE: o->restore = 1; break;
		case OPT_RESTORE_ON_EXIT: o->restore_on_exit = 1; break;
		case 'v': o->verbose = 1; break;
		case 'q': o->quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': printf("vflaunch %s (%s)\n", VFLAUNCH_VERSION, LUA_RELEASE); return EXIT_OK;
		default:
			if (optopt && optopt < 256)
				return usage_error("unknown option '-%c'", (char[]){ (char)optopt, 0 });
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (o->simulate && !strcmp(o->simulate, "help"))
		return -1; /* main lists the hosts; no script is needed */
	if (o->verbose && o->quiet)
		return usage_error("%s", "-v and -q contradict each other");
	if (o->restore) {
		if (optind < argc)
			o->journal = argv[optind++];
		if (optind < argc)
			return usage_error("--restore takes one JOURNAL, not '%s' too", argv[optind]);
		return -1;
	}
	if (o->list) {
		if (optind < argc)
			return usage_error("--list takes no script ('%s')", argv[optind]);
		return -1;
	}
	if (o->vfs)
		return usage_error("%s", "--vfs goes with --list");
	if (optind >= argc)
		return usage_error("%s", "no SCRIPT given");
	if (o->restore_on_exit && (o->dry_run || o->simulate || o->rehearse))
		return usage_error("%s", "--restore-on-exit goes with a launch on the real host");
	if (o->rehearse && o->dry_run)
		return usage_error("%s", "--rehearse boots the guest; --dry-run boots nothing: choose one");
	o->script = optind;
	return -1;
}

/* The options as the Lua driver sees them. */
static void push_options(lua_State *L, const struct options *o, int argc, char **argv)
{
	lua_createtable(L, 0, 20);
#define FLAG(name) (lua_pushboolean(L, o->name), lua_setfield(L, -2, #name))
#define STR(name) (lua_pushstring(L, o->name), lua_setfield(L, -2, #name))
	FLAG(dry_run); FLAG(tree); FLAG(json); FLAG(rehearse); FLAG(list); FLAG(vfs);
	FLAG(verbose); FLAG(quiet); FLAG(bind_group); FLAG(force); FLAG(restore);
	FLAG(restore_on_exit);
	STR(journal); STR(simulate); STR(sysfs); STR(qemu); STR(rehearse_kernel); STR(rehearse_initrd);
#undef FLAG
#undef STR
	lua_pushinteger(L, o->timeout);
	lua_setfield(L, -2, "timeout");
	/* argv as lua(1) gives it: arg[0] the script, arg[1..] its arguments, vflaunch and
	 * its options at negative indices. */
	lua_createtable(L, argc, 1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - o->script);
	}
	lua_setfield(L, -2, "arg");
	lua_pushinteger(L, argc - o->script - 1);
	lua_setfield(L, -2, "nargs");
}

/* Copy the argv the driver asked to exec out of the Lua state, which is closed before exec. */
static char **take_argv(lua_State *L, int idx)
{
	lua_Integer n;

	lua_getfield(L, idx, "argv");
	idx = lua_gettop(L);
	n = luaL_len(L, idx);
	char **v = calloc((size_t)n + 1, sizeof(*v));

	for (lua_Integer i = 1; v && i <= n; i++) {
		lua_rawgeti(L, idx, i);
		v[i - 1] = strdup(lua_tostring(L, -1));
		lua_pop(L, 1);
		if (!v[i - 1]) {
			for (lua_Integer j = 1; j < i; j++)
				free(v[j - 1]);
			free(v);
			return NULL;
		}
	}
	lua_pop(L, 1);
	return v;
}

/* Give back what the journal of this launch records. 0, or -1 after saying what failed. */
static int give_back(const char *journal, const char *root, const char *when)
{
	struct journal j;
	char err[512];
	int rc = 0;

	if (journal_load(&j, journal, err, sizeof(err)) < 0 ||
	    journal_restore(root, &j, err, sizeof(err)) < 0) {
		fprintf(stderr, "vflaunch: %s, giving the devices back failed: %s; run "
			"'vflaunch --restore %s'\n", when, err, journal);
		rc = -1;
	}
	journal_free(&j);
	return rc;
}

/* --restore-on-exit: QEMU runs as our child; when it ends, every device the journal records
 * goes back to its driver. The exit status is QEMU's. */
static int launch_and_restore(char **argv, const char *journal, const char *root)
{
	int status = run_supervised(argv);

	if (give_back(journal, root, "after QEMU exited") < 0)
		return status ? status : 3;
	fprintf(stderr, "vflaunch: QEMU exited (status %d); devices given back to their drivers "
		"(journal %s)\n", status, journal);
	return status;
}

static void on_signal(int sig)
{
	run_stop_signal = sig;
}

int main(int argc, char **argv)
{
	struct options o;
	char simdir[4096] = "";
	char **exec_argv = NULL;
	char journal[4096] = "";
	lua_State *L;
	int status;

	status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;
	if (o.simulate) {
		const struct simhost *h;
		int err;

		if (!strcmp(o.simulate, "help")) {
			simhost_list(stdout);
			return EXIT_OK;
		}
		h = simhost_find(o.simulate);
		if (!h) {
			fprintf(stderr, "vflaunch: no simulated host '%s'; these exist:\n", o.simulate);
			simhost_list(stderr);
			return EXIT_USAGE;
		}
		err = simhost_materialize(h, simdir, sizeof(simdir));
		if (err < 0) {
			fprintf(stderr, "vflaunch: cannot build simulated host '%s': %s\n",
				o.simulate, strerror(-err));
			return EXIT_SCRIPT;
		}
		o.sysfs = simdir;
		/* The tree is removed on the way out: a signal ends the run, not the process. */
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
	}

	L = host_new();
	if (!L) {
		status = EXIT_SCRIPT;
		goto out;
	}
	lua_getglobal(L, "require");
	lua_pushstring(L, "vflaunch.driver");
	status = host_pcall(L, 1, 1, o.verbose);
	if (status == 0) {
		lua_getfield(L, -1, "main");
		push_options(L, &o, argc, argv);
		status = host_pcall(L, 1, 1, o.verbose);
	}
	if (status == 0 && lua_type(L, -1) == LUA_TTABLE) {
		if (lua_getfield(L, -1, "journal") == LUA_TSTRING)
			snprintf(journal, sizeof(journal), "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		exec_argv = take_argv(L, lua_gettop(L));
		if (!exec_argv) {
			fprintf(stderr, "vflaunch: out of memory\n");
			status = EXIT_SCRIPT;
		}
	} else if (status == 0) {
		status = (int)lua_tointeger(L, -1);
	}
	lua_close(L);
	if (exec_argv && !simdir[0]) {
		if (o.restore_on_exit && journal[0])
			return launch_and_restore(exec_argv, journal, o.sysfs);
		status = run_exec(exec_argv); /* returns only on failure */
		/* The devices were bound for a QEMU that will not run: nothing stays half changed. */
		if (journal[0] && give_back(journal, o.sysfs, "QEMU could not be executed") == 0)
			fprintf(stderr, "vflaunch: every device was given back to its driver\n");
		return status;
	}
	for (int i = 0; exec_argv && exec_argv[i]; i++)
		free(exec_argv[i]);
	free(exec_argv);
out:
	if (simdir[0])
		rmtree(simdir);
	if (run_stop_signal)
		return 128 + run_stop_signal;
	return status;
}
