#ifndef SAMPLE_H
#define SAMPLE_H

#ifdef __cplusplus
extern "C" {
#endif
/* Open a store at path. */
struct store *store_open(const char *path, int flags);
int store_close(struct store *s);
char **store_keys(const struct store *s);
int (*store_hook)(int event);

#ifdef __cplusplus
}
#endif

#endif
