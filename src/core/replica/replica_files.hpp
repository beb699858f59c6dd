// Files beside a replica, written so that a crash leaves the old content or
// the new one, never a mix: the new content goes to a temporary file in the
// same directory, is synced, then renamed over the old.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aiolibsql::replica {

// A file being replaced. Not thread-safe. Destroyed before commit(), it
// leaves the old file as it was.
class AtomicFile {
 public:
  // Throws DbError (OperationalError) when the temporary file cannot be made.
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // False when the write failed (errno says why); commit() then throws.
  bool append(std::string_view bytes) noexcept;
  bool failed() const noexcept { return failure_ != 0; }
  // Syncs the new content and puts it in place. Throws DbError
  // (OperationalError), naming the failure, when a write or this fails.
  void commit();

 private:
  std::string path_;
  std::string temporary_;
  int fd_ = -1;
  int failure_ = 0;
};

// Replaces `path` with `content` as AtomicFile does.
void write_file_atomically(const std::string& path, std::string_view content);
// The whole file; nothing when it does not exist.
std::optional<std::string> read_file_if_exists(const std::string& path);

}  // namespace aiolibsql::replica
