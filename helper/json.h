/* json: the little JSON the CLI writes (`status --json`, `check --json`). */
#ifndef DPDKMP_JSON_H
#define DPDKMP_JSON_H

/* Writes s to stdout as a JSON string, quotes included. */
void json_str(const char *s);

#endif
