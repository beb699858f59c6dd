#include "grpc_web.hpp"

#include <charconv>

#include "error.hpp"

namespace aiolibsql::replica {

namespace {

constexpr std::size_t kFramePrefix = 5;
constexpr unsigned char kTrailersFlag = 0x80;

[[noreturn]] void garbage(const std::string& why) {
  throw DbError(Error{ErrorKind::Operational, -1, "the primary's gRPC-web answer is damaged: " + why});
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Trailers are HTTP/1 header lines: "name: value\r\n".
void read_trailers(std::string_view block, GrpcAnswer& answer) {
  while (!block.empty()) {
    const std::size_t end = block.find('\n');
    const std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view{} : block.substr(end + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (same_name(name, "grpc-status")) {
      std::uint32_t status = 0;
      const auto [last, error] = std::from_chars(value.data(), value.data() + value.size(), status);
      if (error != std::errc() || last != value.data() + value.size()) garbage("its status is not a number");
      answer.status = status;
    } else if (same_name(name, "grpc-message")) {
      answer.message = std::string(value);
    }
  }
}

}  // namespace

std::string grpc_web_frame(std::string_view message) {
  std::string frame;
  frame.reserve(kFramePrefix + message.size());
  const auto size = static_cast<std::uint32_t>(message.size());
  frame.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((size >> shift) & 0xff));
  frame.append(message);
  return frame;
}

GrpcAnswer decode_grpc_web(std::string_view body, std::string_view header_trailers) {
  GrpcAnswer answer;
  bool trailers_seen = false;
  while (!body.empty()) {
    if (trailers_seen) garbage("it goes on after its trailers");
    if (body.size() < kFramePrefix) garbage("a frame is cut short");
    const auto flag = static_cast<unsigned char>(body[0]);
    std::uint32_t size = 0;
    for (std::size_t i = 1; i < kFramePrefix; ++i) size = (size << 8) | static_cast<unsigned char>(body[i]);
    if (body.size() - kFramePrefix < size) garbage("a frame is cut short");
    const std::string_view payload = body.substr(kFramePrefix, size);
    body.remove_prefix(kFramePrefix + size);
    if ((flag & kTrailersFlag) != 0) {
      read_trailers(payload, answer);
      trailers_seen = true;
    } else if (flag == 0) {
      answer.messages.emplace_back(payload);
    } else {
      garbage("a frame is compressed or of an unknown kind");
    }
  }
  if (!trailers_seen) read_trailers(header_trailers, answer);
  return answer;
}

}  // namespace aiolibsql::replica
