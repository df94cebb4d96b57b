#include "conf/configure_args.h"

#include <vector>

namespace lunet::conf {

namespace {

using K = NginxModuleKind;

// nginx 1.27's auto/options. Default modules first (what `--without-` turns
// off), then the optional ones (what `--with-` turns on).
constexpr NginxModule kNginxModules[] = {
    {"http", K::kDefault},
    {"http-cache", K::kDefault},
    {"pcre", K::kDefault},
    {"http_charset_module", K::kDefault},
    {"http_gzip_module", K::kDefault},
    {"http_ssi_module", K::kDefault},
    {"http_userid_module", K::kDefault},
    {"http_access_module", K::kDefault},
    {"http_auth_basic_module", K::kDefault},
    {"http_mirror_module", K::kDefault},
    {"http_autoindex_module", K::kDefault},
    {"http_geo_module", K::kDefault},
    {"http_map_module", K::kDefault},
    {"http_split_clients_module", K::kDefault},
    {"http_referer_module", K::kDefault},
    {"http_rewrite_module", K::kDefault},
    {"http_proxy_module", K::kDefault},
    {"http_fastcgi_module", K::kDefault},
    {"http_uwsgi_module", K::kDefault},
    {"http_scgi_module", K::kDefault},
    {"http_grpc_module", K::kDefault},
    {"http_memcached_module", K::kDefault},
    {"http_limit_conn_module", K::kDefault},
    {"http_limit_req_module", K::kDefault},
    {"http_empty_gif_module", K::kDefault},
    {"http_browser_module", K::kDefault},
    {"http_upstream_hash_module", K::kDefault},
    {"http_upstream_ip_hash_module", K::kDefault},
    {"http_upstream_least_conn_module", K::kDefault},
    {"http_upstream_random_module", K::kDefault},
    {"http_upstream_keepalive_module", K::kDefault},
    {"http_upstream_zone_module", K::kDefault},
    {"threads", K::kOptional},
    {"file-aio", K::kOptional},
    {"pcre-jit", K::kOptional},
    {"http_ssl_module", K::kOptional},
    {"http_v2_module", K::kOptional},
    {"http_v3_module", K::kOptional},
    {"http_realip_module", K::kOptional},
    {"http_addition_module", K::kOptional},
    {"http_xslt_module", K::kOptional},
    {"http_image_filter_module", K::kOptional},
    {"http_geoip_module", K::kOptional},
    {"http_sub_module", K::kOptional},
    {"http_dav_module", K::kOptional},
    {"http_flv_module", K::kOptional},
    {"http_mp4_module", K::kOptional},
    {"http_gunzip_module", K::kOptional},
    {"http_gzip_static_module", K::kOptional},
    {"http_auth_request_module", K::kOptional},
    {"http_random_index_module", K::kOptional},
    {"http_secure_link_module", K::kOptional},
    {"http_degradation_module", K::kOptional},
    {"http_slice_module", K::kOptional},
    {"http_stub_status_module", K::kOptional},
    {"http_perl_module", K::kOptional},
    {"mail", K::kOptional},
    {"mail_ssl_module", K::kOptional},
    {"stream", K::kOptional},
    {"stream_ssl_module", K::kOptional},
    {"stream_realip_module", K::kOptional},
    {"stream_geoip_module", K::kOptional},
    {"stream_ssl_preread_module", K::kOptional},
};

// Calls fn(name) for each space-separated word of a module's list.
template <class F>
void eachName(std::string_view list, F fn) {
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && list[i] == ' ') i++;
    size_t j = i;
    while (j < list.size() && list[j] != ' ') j++;
    if (j > i) fn(list.substr(i, j - i));
    i = j;
  }
}

}  // namespace

std::span<const NginxModule> standardNginxModules() { return kNginxModules; }

bool provides(std::span<const Module* const> modules, std::string_view name) {
  bool found = false;
  for (const Module* m : modules) {
    eachName(m->nginxModules, [&](std::string_view n) { found = found || n == name; });
  }
  return found;
}

std::string configureArguments(std::span<const Module* const> modules, std::string_view prefix) {
  std::string out = "--prefix=";
  out += prefix;
  for (const NginxModule& nm : kNginxModules) {
    if (nm.kind == K::kOptional && provides(modules, nm.name)) {
      out += " --with-";
      out += nm.name;
    }
  }
  for (const NginxModule& nm : kNginxModules) {
    if (nm.kind == K::kDefault && !provides(modules, nm.name)) {
      out += " --without-";
      out += nm.name;
    }
  }
  return out;
}

std::vector<std::string> unknownNginxModules(std::span<const Module* const> modules) {
  std::vector<std::string> bad;
  for (const Module* m : modules) {
    eachName(m->nginxModules, [&](std::string_view n) {
      for (const NginxModule& nm : kNginxModules) {
        if (nm.name == n) return;
      }
      bad.emplace_back(n);
    });
  }
  return bad;
}

}  // namespace lunet::conf
