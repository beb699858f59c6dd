#include "replica_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "error.hpp"

namespace aiolibsql::replica {

namespace {

[[noreturn]] void io_failure(const std::string& what, const std::string& path, int error) {
  throw DbError(Error{ErrorKind::Operational, -1, what + " " + path + ": " + std::strerror(error)});
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  const auto directory = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  temporary_ =
      (directory / (".tmp." + target.filename().string() + "." + std::to_string(std::random_device{}()))).string();
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) io_failure("cannot create", temporary_, errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
  }
}

bool AtomicFile::append(std::string_view bytes) noexcept {
  while (failure_ == 0 && !bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno != EINTR) failure_ = errno;
      continue;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return failure_ == 0;
}

void AtomicFile::commit() {
  if (failure_ == 0 && ::fsync(fd_) != 0) failure_ = errno;
  ::close(fd_);
  fd_ = -1;
  if (failure_ == 0 && ::rename(temporary_.c_str(), path_.c_str()) != 0) failure_ = errno;
  if (failure_ != 0) {
    ::unlink(temporary_.c_str());
    io_failure("cannot write", path_, failure_);
  }
}

void write_file_atomically(const std::string& path, std::string_view content) {
  AtomicFile file(path);
  file.append(content);
  file.commit();
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    io_failure("cannot read", path, errno);
  }
  std::ostringstream content;
  content << file.rdbuf();
  return std::move(content).str();
}

}  // namespace aiolibsql::replica
