#include "json_writer.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>

namespace aiolibsql::hrana {

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_in_container_) out_ += ',';
  first_in_container_ = false;
}

void JsonWriter::open(char bracket) {
  separate();
  out_ += bracket;
  first_in_container_ = true;
}

void JsonWriter::close(char bracket) {
  out_ += bracket;
  first_in_container_ = false;
}

void JsonWriter::key(std::string_view name) {
  string(name);
  out_ += ':';
  after_key_ = true;
}

void JsonWriter::string(std::string_view text) {
  separate();
  static constexpr char kHex[] = "0123456789abcdef";
  out_.reserve(out_.size() + text.size() + 2);
  out_ += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out_ += "\\u00";
          out_ += kHex[byte >> 4];
          out_ += kHex[byte & 0xf];
        } else {
          out_ += c;
        }
    }
  }
  out_ += '"';
}

void JsonWriter::integer(std::int64_t value) {
  separate();
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out_.append(digits, end);
}

void JsonWriter::finite_number(double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("JSON has no representation for a non-finite number");
  separate();
  char digits[32];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out_.append(digits, end);
  // Shortest form writes 1.0 as "1" and -0.0 as "-0", which a server may
  // read as the integer zero and lose the sign: keep the number a float.
  if (std::string_view(digits, end).find_first_of(".e") == std::string_view::npos) out_ += ".0";
}

void JsonWriter::boolean(bool value) {
  separate();
  out_ += value ? "true" : "false";
}

void JsonWriter::null() {
  separate();
  out_ += "null";
}

}  // namespace aiolibsql::hrana
