// Feeds arbitrary bytes to the Hrana decoders as a server's answer. With the
// first byte's high bit set, the rest is a cursor body, fed in pieces of
// (low 7 bits + 1) bytes. Otherwise the first byte says how many requests a
// pipeline answer is read against (0 to 3), the next bytes which ones, and
// the rest is the body. The only acceptable
// outcomes are a decoded response or DbError; anything else (a crash, a
// sanitizer report, another exception escaping) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "decode.hpp"

namespace {

using aiolibsql::DbError;
using aiolibsql::hrana::RequestType;

constexpr int kRequestTypes = static_cast<int>(RequestType::Close) + 1;

void decode_as_cursor(std::string_view body, std::size_t piece) {
  aiolibsql::hrana::CursorDecoder decoder;
  try {
    for (std::size_t at = 0; at < body.size(); at += piece) decoder.feed(body.substr(at, piece));
    decoder.finish();
  } catch (const DbError&) {
    // Refusing what is not a cursor is the decoder's job.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] & 0x80) {
    decode_as_cursor(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), (data[0] & 0x7f) + 1u);
    return 0;
  }
  const std::size_t count = data[0] & 0x3;
  if (size < 1 + count) return 0;
  std::vector<RequestType> sent;
  for (std::size_t i = 1; i <= count; ++i) sent.push_back(static_cast<RequestType>(data[i] % kRequestTypes));
  const std::string_view body(reinterpret_cast<const char*>(data + 1 + count), size - 1 - count);
  static aiolibsql::hrana::ResponseDecoder decoder;
  try {
    decoder.decode_pipeline(body, sent);
  } catch (const DbError&) {
    // Refusing what is not Hrana is the decoder's job.
  }
  decoder.decode_error_body(body);
  return 0;
}
