/* liblunet's C API: the calls of lunet/server.h for C programs and for other
 * languages' foreign-function interfaces (Rust, Go, Python ctypes).
 *
 *   lunet_options_t *o = lunet_options_new("/srv/app/");
 *   char err[512];
 *   lunet_server_t *s = lunet_server_from_string(conf_text, o, err, sizeof err);
 *   lunet_options_free(o);
 *   if (!s) { fprintf(stderr, "%s\n", err); return 1; }
 *   if (lunet_server_start(s, uv_default_loop(), err, sizeof err) != 0) { ... }
 *   ...
 *   lunet_server_stop(s, on_stopped, arg);
 *   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
 *   lunet_server_free(s);
 *
 * Semantics, threading and what the library does not do (signals, forks,
 * stdout/stderr) are those of lunet/server.h; see docs/embedding.md.
 */
#ifndef LUNET_LUNET_H
#define LUNET_LUNET_H

#include <stddef.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

typedef struct lunet_server_s lunet_server_t;
typedef struct lunet_options_s lunet_options_t;

/* nginx's levels: 1 emerg, 2 alert, 3 crit, 4 error, 5 warn, 6 notice,
 * 7 info, 8 debug. */
typedef void (*lunet_log_fn)(void *data, int level, const char *line, size_t len);

/* Options for building a server; `prefix` must end in '/'. */
lunet_options_t *lunet_options_new(const char *prefix);
void lunet_options_free(lunet_options_t *o);
/* The file name a string config is given in messages (default
 * "embedded.conf", under PREFIX/conf/). */
void lunet_options_set_name(lunet_options_t *o, const char *name);
/* Error-log lines up to `level` also go to fn(data, ...). */
void lunet_options_set_log(lunet_options_t *o, int level, lunet_log_fn fn, void *data);
/* A Lua module `require(name)` finds: a C opener or a Lua source. */
void lunet_options_add_lua_module(lunet_options_t *o, const char *name,
                                  int (*opener)(struct lua_State *));
void lunet_options_add_lua_source(lunet_options_t *o, const char *name, const char *source);

/* Load a configuration. NULL on failure, with nginx's message in err
 * (truncated to errlen - 1 bytes, always NUL-terminated when errlen > 0). */
lunet_server_t *lunet_server_from_string(const char *config, const lunet_options_t *o, char *err,
                                         size_t errlen);
lunet_server_t *lunet_server_from_file(const char *path, const lunet_options_t *o, char *err,
                                       size_t errlen);
/* 0, or -1 with the reason in err. */
int lunet_server_start(lunet_server_t *s, uv_loop_t *loop, char *err, size_t errlen);
/* Graceful stop; done(arg) runs from the loop once it completed (done may
 * be NULL). */
void lunet_server_stop(lunet_server_t *s, void (*done)(void *arg), void *arg);
int lunet_server_running(const lunet_server_t *s);
/* Frees the server (stopping it first if it still runs). */
void lunet_server_free(lunet_server_t *s);

#ifdef __cplusplus
}
#endif

#endif /* LUNET_LUNET_H */
