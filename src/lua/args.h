// URI escaping and query-string helpers shared by ngx.escape_uri,
// ngx.encode_args/decode_args and ngx.req.get_uri_args/get_post_args.
#pragma once

#include <lua.hpp>
#include <string_view>

namespace lunet::lua {

// Appends `s` %XX-escaped. component: escape all but [A-Za-z0-9-._~]
// (ngx.escape_uri type 2); otherwise only what nginx's URI table escapes.
void escapeUri(luaL_Buffer* b, std::string_view s, bool component);
// Decodes %XX (and '+' to ' ' when plusAsSpace); bad escapes kept as is.
void unescapeUri(luaL_Buffer* b, std::string_view s, bool plusAsSpace);
// Decodes into dst (room for s.size() bytes); returns the length.
size_t unescapeUriTo(char* dst, std::string_view s, bool plusAsSpace) noexcept;
// Pushes a table of the decoded arguments of `query` (at most max, 0: all).
// Returns the number of arguments left out because of max.
int pushDecodedArgs(lua_State* L, std::string_view query, int max);
// Pushes the table at idx (absolute index) encoded as a query string;
// raises on bad keys/values (the caller must hold no C++ objects).
void encodeArgs(lua_State* L, int idx);

}  // namespace lunet::lua
