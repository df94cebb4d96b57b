/// Lunet's version and the nginx release whose behaviour it follows.
#pragma once

#define LUNET_VERSION "0.1.0"
/// Version reported as `nginx version:` and by ngx.config.nginx_version.
#define LUNET_NGINX_VERSION "1.27.0"
#define LUNET_NGINX_VERSION_NUM 1027000
/// The lua-nginx-module release whose API Lunet provides (ngx.config.ngx_lua_version).
#define LUNET_NGX_LUA_VERSION_NUM 10026
