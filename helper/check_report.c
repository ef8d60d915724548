/* check_report: the results of `dpdkmp check` as a table, as TAP (one test per secondary and
 * class) or as one JSON document. It only prints: the counts that decide the exit status are
 * the same summary the caller uses. */
#include <stdbool.h>
#include <stdio.h>

#include "check_internal.h"
#include "json.h"

static const char *const class_names[CLS_N] = { "hugepages", "rundir", "exe", "libs" };
static const char *const class_files[CLS_N] = { "hugepage files", "runtime files",
						"executable", "libraries and plugins" };
static const char *const exe_kind_names[] = { "unknown", "primary", "loaded", "other" };
static const char *const exe_kind_text[] = {
	"unknown program", "the primary's executable",
	"another executable, loaded by dpdkmp", "another executable, not run by dpdkmp",
};

static const char *identity_text(const struct check_ctx *c, char *buf, size_t len)
{
	if (!c->procmap_why[0])
		snprintf(buf, len, "GNU build IDs read with PROCMAP_QUERY (device and inode for "
			 "files without one)");
	else
		snprintf(buf, len, "device and inode; PROCMAP_QUERY %s", c->procmap_why);
	return buf;
}

static const char *target_result(const struct target *t)
{
	return t->gone[0] ? "gone" : t->ndiff ? "different" : "equal";
}

static void cell(const struct target *t, enum check_class k, char *buf, size_t len)
{
	const struct class_result *r = &t->res[k];

	if (t->gone[0])
		snprintf(buf, len, "-");
	else if (r->differ)
		snprintf(buf, len, "DIFF %u/%u", r->differ, r->files + r->extra);
	else if (!r->files)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "ok %u", r->files);
}

/* "LABEL FILE: WHAT", then the two /proc/PID/maps lines below it. */
static void print_mm(FILE *f, const char *indent, const char *label, const struct mismatch *m)
{
	fprintf(f, "%s%s%s: %s", indent, label, m->file, m->what);
	if (m->more)
		fprintf(f, " (and %u more range%s)", m->more, m->more == 1 ? "" : "s");
	fputc('\n', f);
	if (m->info && !m->sline[0])
		return;
	if (!m->info || m->pline[0])
		fprintf(f, "%s    primary:   %s\n", indent, m->pline[0] ? m->pline : "(nothing mapped)");
	fprintf(f, "%s    secondary: %s\n", indent, m->sline[0] ? m->sline : "(nothing mapped)");
}

static void header_lines(const struct check_ctx *c, const char *lead)
{
	char idt[256];

	printf("%sdpdkmp check: file prefix '%s', primary pid %d (%s)\n", lead, c->prefix,
	       (int)c->primary, c->primary_exe);
	printf("%s  runtime dir %s, hugetlbfs", lead, c->rundir);
	for (size_t i = 0; i < c->nhugemnt; i++)
		printf(" %s", c->hugemnt[i]);
	printf("%s, plugins", c->nhugemnt ? "" : " (none mounted)");
	for (size_t i = 0; i < c->nplugin_src; i++)
		printf(" %s", c->plugin_src[i]);
	printf("%s\n", c->nplugin_src ? "" : " (none)");
	printf("%s  file identity: %s\n", lead, identity_text(c, idt, sizeof(idt)));
}

void check_report_summary(const struct check_ctx *c, unsigned int *eq, unsigned int *diff,
			  unsigned int *gone, unsigned int *bid, unsigned int *ino)
{
	*eq = *diff = *gone = *bid = *ino = 0;
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		if (t->gone[0])
			(*gone)++;
		else if (t->ndiff)
			(*diff)++;
		else
			(*eq)++;
		for (int k = 0; k < CLS_N; k++) {
			*bid += t->res[k].build_id;
			*ino += t->res[k].dev_inode;
		}
	}
}

void check_report_human(const struct check_ctx *c)
{
	unsigned int eq, diff, gone, bid, ino;
	char cells[CLS_N][32];

	header_lines(c, "");
	printf("%-8s %-18s %-11s %-12s %-12s %-12s %-12s %s\n", "PID", "PROGRAM", "FROM",
	       "HUGEPAGES", "RUNDIR", "EXE", "LIBS", "RESULT");
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		for (int k = 0; k < CLS_N; k++)
			cell(t, (enum check_class)k, cells[k], sizeof(cells[k]));
		printf("%-8d %-18.18s %-11s %-12s %-12s %-12s %-12s %s\n", (int)t->pid, t->program,
		       t->source, cells[0], cells[1], cells[2], cells[3], target_result(t));
	}
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		if (t->gone[0]) {
			printf("\npid %d (%s): not compared: %s\n", (int)t->pid, t->program, t->gone);
			continue;
		}
		if (!t->ndiff && !c->verbose)
			continue;
		printf("\npid %d (%s, %s):\n", (int)t->pid, t->program, exe_kind_text[t->exe]);
		for (int k = 0; k < CLS_N; k++)
			for (size_t j = 0; j < t->nmm; j++)
				if (t->mm[j].cls == (enum check_class)k && (!t->mm[j].info || c->verbose)) {
					char label[32];

					snprintf(label, sizeof(label), "%s%s ",
						 t->mm[j].info ? "" : "DIFF ", class_names[k]);
					print_mm(stdout, "  ", label, &t->mm[j]);
				}
	}
	check_report_summary(c, &eq, &diff, &gone, &bid, &ino);
	printf("\n%zu secondar%s: %u equal, %u different", c->nt, c->nt == 1 ? "y" : "ies", eq,
	       diff);
	if (gone)
		printf(", %u exited before the check", gone);
	printf("; files proven the same by build ID: %u, by device and inode: %u\n", bid, ino);
}

void check_report_tap(const struct check_ctx *c)
{
	unsigned int n = 0, eq, diff, gone, bid, ino;

	printf("TAP version 13\n1..%zu\n", c->nt * CLS_N);
	header_lines(c, "# ");
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		printf("# pid %d (%s, from %s): %s\n", (int)t->pid, t->program, t->source,
		       t->gone[0] ? "not compared" : exe_kind_text[t->exe]);
		for (int k = 0; k < CLS_N; k++) {
			const struct class_result *r = &t->res[k];

			n++;
			if (t->gone[0]) {
				printf("ok %u - pid %d (%s) %s # SKIP %s\n", n, (int)t->pid, t->program,
				       class_names[k], t->gone);
				continue;
			}
			if (!r->files && !r->differ) {
				printf("ok %u - pid %d (%s) %s # SKIP the primary maps no %s\n", n,
				       (int)t->pid, t->program, class_names[k], class_files[k]);
				continue;
			}
			if (r->differ)
				printf("not ok %u - pid %d (%s) %s: %u of %u %s differ\n", n, (int)t->pid,
				       t->program, class_names[k], r->differ, r->files + r->extra,
				       class_files[k]);
			else
				printf("ok %u - pid %d (%s) %s: %u %s mapped alike (%u mappings)%s\n", n,
				       (int)t->pid, t->program, class_names[k], r->files,
				       class_files[k], r->ranges,
				       r->own ? ", plus the secondary's own" : "");
			for (size_t j = 0; j < t->nmm; j++)
				if (t->mm[j].cls == (enum check_class)k && (!t->mm[j].info || c->verbose))
					print_mm(stdout, "#   ", "", &t->mm[j]);
		}
	}
	check_report_summary(c, &eq, &diff, &gone, &bid, &ino);
	printf("# %zu secondaries: %u equal, %u different, %u gone; files proven the same by build "
	       "ID: %u, by device and inode: %u\n", c->nt, eq, diff, gone, bid, ino);
}

static void json_line(const char *l)
{
	if (l[0])
		json_str(l);
	else
		printf("null");
}

void check_report_json(const struct check_ctx *c)
{
	unsigned int eq, diff, gone, bid, ino;
	char idt[256];

	check_report_summary(c, &eq, &diff, &gone, &bid, &ino);
	printf("{\"file_prefix\":");
	json_str(c->prefix);
	printf(",\"primary_pid\":%d,\"zygote_pid\":%d,\"primary_exe\":", (int)c->primary,
	       (int)c->zygote);
	json_str(c->primary_exe);
	printf(",\"runtime_dir\":");
	json_str(c->rundir);
	printf(",\"hugetlbfs\":[");
	for (size_t i = 0; i < c->nhugemnt; i++) {
		printf("%s", i ? "," : "");
		json_str(c->hugemnt[i]);
	}
	printf("],\"plugins\":[");
	for (size_t i = 0; i < c->nplugin_src; i++) {
		printf("%s", i ? "," : "");
		json_str(c->plugin_src[i]);
	}
	printf("],\"identity\":\"%s\",\"identity_detail\":",
	       c->procmap_why[0] ? "dev-inode" : "build-id");
	json_str(identity_text(c, idt, sizeof(idt)));
	printf(",\"result\":\"%s\",\"equal\":%u,\"different\":%u,\"gone\":%u,\"secondaries\":[",
	       diff ? "different" : "equal", eq, diff, gone);
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		printf("%s{\"pid\":%d,\"program\":", i ? "," : "", (int)t->pid);
		json_str(t->program);
		printf(",\"from\":\"%s\",\"executable\":\"%s\",\"result\":\"%s\"", t->source,
		       exe_kind_names[t->exe], target_result(t));
		if (t->gone[0]) {
			printf(",\"reason\":");
			json_str(t->gone);
		}
		printf(",\"attempts\":%u,\"classes\":{", t->attempts);
		for (int k = 0; k < CLS_N; k++) {
			const struct class_result *r = &t->res[k];
			bool firstm = true;

			printf("%s\"%s\":{\"result\":\"%s\",\"files\":%u,\"mappings\":%u,\"differ\":%u,"
			       "\"secondary_own\":%u,\"secondary_extra\":%u,\"by_build_id\":%u,"
			       "\"by_dev_inode\":%u,"
			       "\"mismatches\":[", k ? "," : "", class_names[k],
			       t->gone[0] ? "gone" : r->differ ? "different" : !r->files ? "none" :
			       "equal", r->files, r->ranges, r->differ, r->own, r->extra, r->build_id,
			       r->dev_inode);
			for (size_t j = 0; j < t->nmm; j++) {
				const struct mismatch *m = &t->mm[j];

				if (m->cls != (enum check_class)k || m->info)
					continue;
				printf("%s{\"file\":", firstm ? "" : ",");
				json_str(m->file);
				printf(",\"what\":");
				json_str(m->what);
				printf(",\"primary\":");
				json_line(m->pline);
				printf(",\"secondary\":");
				json_line(m->sline);
				printf(",\"more_ranges\":%u}", m->more);
				firstm = false;
			}
			printf("]");
			if (c->verbose) {
				firstm = true;
				printf(",\"notes\":[");
				for (size_t j = 0; j < t->nmm; j++) {
					const struct mismatch *m = &t->mm[j];

					if (m->cls != (enum check_class)k || !m->info)
						continue;
					printf("%s{\"file\":", firstm ? "" : ",");
					json_str(m->file);
					printf(",\"what\":");
					json_str(m->what);
					printf("}");
					firstm = false;
				}
				printf("]");
			}
			printf("}");
		}
		printf("}}");
	}
	printf("]}\n");
}
