// Base64 (RFC 4648, standard alphabet) for Hrana's JSON blobs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aiolibsql::hrana {

// Appends the padded encoding of `bytes` to `out`.
void append_base64(std::string& out, std::string_view bytes);

// The bytes `text` encodes, padded or not; nothing if it is not base64.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace aiolibsql::hrana
