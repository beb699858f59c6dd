// Bytes that must not linger in memory: an encryption key.
#pragma once

#include <string>
#include <string_view>

namespace aiolibsql {

// Holds a secret and overwrites it when destroyed or replaced, so copies of
// an encryption key do not outlive their use. Never printed.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string bytes) : bytes_(std::move(bytes)) {}
  Secret(const Secret& other) : bytes_(other.bytes_) {}
  Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.wipe(); }
  Secret& operator=(Secret other) noexcept {
    wipe();
    bytes_.swap(other.bytes_);
    return *this;
  }
  ~Secret() { wipe(); }

  std::string_view bytes() const noexcept { return bytes_; }
  bool empty() const noexcept { return bytes_.empty(); }

 private:
  void wipe() noexcept {
    // The whole buffer, since a moved-from short string keeps its old bytes;
    // through a volatile pointer, so the compiler cannot drop the stores.
    bytes_.resize(bytes_.capacity());
    volatile char* data = bytes_.data();
    for (std::size_t i = 0; i < bytes_.size(); ++i) data[i] = 0;
    bytes_.clear();
  }

  std::string bytes_;
};

}  // namespace aiolibsql
