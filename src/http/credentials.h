// HTTP Basic credentials of a request (nginx's ngx_http_auth_basic_user):
// used by $remote_user and the auth_basic module.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/request.h"

namespace lunet::http {

// Parses `Authorization: Basic BASE64(user:password)` into r's arena.
// False when the header is missing or malformed or the user is empty.
bool basicCredentials(Request& r, std::string_view* user, std::string_view* password) noexcept;

// nginx's ngx_decode_base64 / ngx_decode_base64url: no padding needed,
// stops at '='; false on a byte outside the alphabet or a length that
// cannot be base64. `out` needs (in.size() + 3) / 4 * 3 bytes.
bool decodeBase64(std::string_view in, char* out, size_t* outLen, bool url) noexcept;
// Standard base64 with padding; `out` needs (in.size() + 2) / 3 * 4 bytes.
size_t encodeBase64(std::string_view in, char* out) noexcept;

}  // namespace lunet::http
