/* The C form of examples/embed: a C program embeds a Lunet server over
 * lunet/lunet.h, asks it for /hello with its own libuv TCP client, checks the
 * answer, stops it and exits 0 on success.
 *
 *   lunet_embed_example_c [PORT]      (default 18482)
 */
#include <lunet/lunet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static char response[4096];
static size_t response_len;
static lunet_server_t *server;
static uv_tcp_t client;
static uv_connect_t connect_req;
static uv_write_t write_req;
static int stopped;
static const char request[] = "GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n";

static void on_stopped(void *arg) {
  (void)arg;
  stopped = 1;
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = uv_buf_init(response + response_len, (unsigned)(sizeof(response) - 1 - response_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  if (n > 0) {
    response_len += (size_t)n;
    return;
  }
  uv_close((uv_handle_t *)s, NULL);
  lunet_server_stop(server, on_stopped, NULL);
}

static void on_connect(uv_connect_t *c, int status) {
  (void)c;
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    uv_close((uv_handle_t *)&client, NULL);
    lunet_server_stop(server, on_stopped, NULL);
    return;
  }
  uv_buf_t b = uv_buf_init((char *)request, (unsigned)strlen(request));
  uv_write(&write_req, (uv_stream_t *)&client, &b, 1, NULL);
  uv_read_start((uv_stream_t *)&client, on_alloc, on_read);
}

static void on_log(void *data, int level, const char *line, size_t len) {
  (void)data;
  (void)level;
  fwrite(line, 1, len, stderr);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  int port = argc > 1 ? atoi(argv[1]) : 18482;
  char prefix[] = "/tmp/lunet_embed_c_XXXXXX";
  if (mkdtemp(prefix) == NULL) return 1;
  char path[256], config[1024], err[512], cmd[300];
  snprintf(path, sizeof path, "%s/", prefix);
  snprintf(cmd, sizeof cmd, "mkdir -p %s/logs %s/conf", prefix, prefix);
  if (system(cmd) != 0) return 1;
  snprintf(config, sizeof config,
           "events {}\n"
           "http {\n"
           "  server {\n"
           "    listen 127.0.0.1:%d;\n"
           "    location /hello { content_by_lua_block { ngx.say(require('greet')('C')) } }\n"
           "  }\n"
           "}\n",
           port);

  lunet_options_t *o = lunet_options_new(path);
  lunet_options_set_log(o, 5, on_log, NULL);
  lunet_options_add_lua_source(o, "greet", "return function(who) return 'hello, ' .. who end");
  server = lunet_server_from_string(config, o, err, sizeof err);
  lunet_options_free(o);
  if (server == NULL) {
    fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  uv_loop_t *loop = uv_default_loop();
  if (lunet_server_start(server, loop, err, sizeof err) != 0) {
    fprintf(stderr, "start: %s\n", err);
    return 1;
  }
  uv_tcp_init(loop, &client);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&addr, on_connect);
  uv_run(loop, UV_RUN_DEFAULT);
  int running = lunet_server_running(server);
  lunet_server_free(server);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  snprintf(cmd, sizeof cmd, "rm -rf %s", prefix);
  if (system(cmd) != 0) return 1;

  response[response_len] = '\0';
  const char *body = strstr(response, "\r\n\r\n");
  int ok = stopped && !running && strncmp(response, "HTTP/1.1 200", 12) == 0 && body != NULL &&
           strcmp(body + 4, "hello, C\n") == 0;
  printf("GET /hello -> %s%s\n", body ? body + 4 : "(nothing)", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
