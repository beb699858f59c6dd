// Appends JSON text to a string. Writing JSON needs no parser: this only
// escapes strings and formats numbers so they read back exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aiolibsql::hrana {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // An object's member name; its value comes next.
  void key(std::string_view name);

  void string(std::string_view text);
  // A string whose characters `fill` appends straight to the output, for
  // text that never needs escaping (base64), without a copy in between.
  template <class Fill>
  void unescaped_string(Fill&& fill) {
    separate();
    out_ += '"';
    fill(out_);
    out_ += '"';
  }
  void integer(std::int64_t value);
  // The shortest decimal form that reads back as the same double; the value
  // must be finite (JSON has no infinities or NaN).
  void finite_number(double value);
  void boolean(bool value);
  void null();

 private:
  void open(char bracket);
  void close(char bracket);
  // A comma before every element of an array or object but the first.
  void separate();

  std::string& out_;
  bool first_in_container_ = true;
  bool after_key_ = false;
};

}  // namespace aiolibsql::hrana
